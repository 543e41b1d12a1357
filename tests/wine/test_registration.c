/*
 * qagent.dll as a COM server: regsvr32 registration, its exports, the class factory
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <wchar.h>
#include "NapEnforcementClient.h"

#define BINDING_KEY L"CLSID\\{9443B89B-6564-496A-B19C-6C6D22709045}"
/* The CLSIDs qagent.dll and qutil.dll serve their proxies and stubs under. */
#define QAGENT_PROXIES L"{B9060585-2CD5-4D16-99DD-4A16495D8764}"
#define QUTIL_PROXIES  L"{C7702A22-5EAB-4CA3-877F-CF676E8E8970}"

/* Every NAP interface that crosses an apartment or a process on Windows. */
static const struct
{
    const WCHAR *iid, *name, *proxies;
    DWORD methods;
}
interfaces[] =
{
    { L"{92B93223-7487-42D9-9A91-5B8507720384}", L"INapEnforcementClientBinding", QAGENT_PROXIES, 10 },
    { L"{F5A0B90A-83A1-4F76-BA3F-025418682814}", L"INapEnforcementClientCallback", QAGENT_PROXIES, 5 },
    { L"{FB3A3505-DDB1-468A-B307-F328A57419D8}", L"INapEnforcementClientConnection", QAGENT_PROXIES, 23 },
    { L"{BD244906-70DD-4690-BEEA-648653393500}", L"INapEnforcementClientConnection2", QAGENT_PROXIES, 27 },
    { L"{A6894F43-9CC7-44C9-A23F-19DBF36BAD28}", L"INapSystemHealthAgentBinding", QAGENT_PROXIES, 8 },
    { L"{1140C38E-5100-4EA1-8D43-87D326724028}", L"INapSystemHealthAgentBinding2", QAGENT_PROXIES, 9 },
    { L"{F1072A57-214F-4EE2-8377-14EF140CD9F3}", L"INapSystemHealthAgentCallback", QAGENT_PROXIES, 9 },
    { L"{860D8FD9-0219-43EA-AE7F-59611F4CC16A}", L"AsyncINapSystemHealthAgentCallback", QAGENT_PROXIES, 15 },
    { L"{5B360A69-212D-440D-B398-7EEFD497853A}", L"INapSystemHealthAgentRequest", QAGENT_PROXIES, 9 },
    { L"{432A1DA5-3888-4B9A-A734-CFF1E448C5B9}", L"INapClientManagement", QAGENT_PROXIES, 11 },
    { L"{07A1127B-18CC-422A-B988-E892600FCC74}", L"INapClientManagement2", QAGENT_PROXIES, 12 },
    { L"{35298344-96A6-45E7-9B6B-62ECC6E09920}", L"INapSoHConstructor", QUTIL_PROXIES, 7 },
    { L"{FB2FA8B0-2CD5-457D-ABA8-4376F63EA1C0}", L"INapSoHProcessor", QUTIL_PROXIES, 7 },
};

static BOOL read_string(const WCHAR *subkey, const WCHAR *name, WCHAR *value, DWORD size)
{
    DWORD bytes = size * sizeof(WCHAR);

    return !RegGetValueW(HKEY_CLASSES_ROOT, subkey, name, RRF_RT_REG_SZ, NULL, value, &bytes);
}

static BOOL key_exists(const WCHAR *subkey)
{
    HKEY key;

    if (RegOpenKeyExW(HKEY_CLASSES_ROOT, subkey, 0, KEY_READ, &key)) return FALSE;
    RegCloseKey(key);
    return TRUE;
}

static BOOL subkey_default(const WCHAR *key, const WCHAR *subkey, WCHAR *value, DWORD size)
{
    WCHAR path[128];

    swprintf(path, ARRAYSIZE(path), L"%ls\\%ls", key, subkey);
    return read_string(path, NULL, value, size);
}

/* HKCR\Interface\{IID}: name, ProxyStubClsid32, NumMethods; the proxies' CLSID in the DLL. */
static void check_interfaces_registered(void)
{
    WCHAR key[64], value[MAX_PATH], expected[MAX_PATH];
    unsigned int i;

    for (i = 0; i < ARRAYSIZE(interfaces); i++)
    {
        swprintf(key, ARRAYSIZE(key), L"Interface\\%ls", interfaces[i].iid);
        assert_true(read_string(key, NULL, value, MAX_PATH));
        assert_int_equal(wcscmp(value, interfaces[i].name), 0);
        assert_true(subkey_default(key, L"ProxyStubClsid32", value, MAX_PATH));
        assert_int_equal(_wcsicmp(value, interfaces[i].proxies), 0);
        assert_true(subkey_default(key, L"NumMethods", value, MAX_PATH));
        assert_int_equal(wcstoul(value, NULL, 10), interfaces[i].methods);
    }
    test_bin_path(L"qagent.dll", expected, MAX_PATH);
    assert_true(read_string(L"CLSID\\" QAGENT_PROXIES L"\\InprocServer32", NULL, value, MAX_PATH));
    assert_int_equal(_wcsicmp(value, expected), 0);
    assert_true(read_string(L"CLSID\\" QAGENT_PROXIES L"\\InprocServer32", L"ThreadingModel", value, MAX_PATH));
    assert_int_equal(wcscmp(value, L"Both"), 0);
    test_bin_path(L"qutil.dll", expected, MAX_PATH);
    assert_true(read_string(L"CLSID\\" QUTIL_PROXIES L"\\InprocServer32", NULL, value, MAX_PATH));
    assert_int_equal(_wcsicmp(value, expected), 0);
}

/* After regsvr32 /u: no interface key and no proxies' CLSID of ours is left. */
static void check_interfaces_gone(void)
{
    WCHAR key[64];
    unsigned int i;

    for (i = 0; i < ARRAYSIZE(interfaces); i++)
    {
        swprintf(key, ARRAYSIZE(key), L"Interface\\%ls", interfaces[i].iid);
        assert_false(key_exists(key));
    }
    assert_false(key_exists(L"CLSID\\" QAGENT_PROXIES));
    assert_false(key_exists(L"CLSID\\" QUTIL_PROXIES));
}

static void check_registered(void)
{
    WCHAR value[MAX_PATH], expected[MAX_PATH];

    test_bin_path(L"qagent.dll", expected, MAX_PATH);
    assert_true(read_string(BINDING_KEY, NULL, value, MAX_PATH));
    assert_string_equal((const char *)value, (const char *)L"NapEnforcementClientBinding");
    assert_true(read_string(BINDING_KEY L"\\InprocServer32", NULL, value, MAX_PATH));
    assert_int_equal(_wcsicmp(value, expected), 0);
    assert_true(read_string(BINDING_KEY L"\\InprocServer32", L"ThreadingModel", value, MAX_PATH));
    assert_int_equal(wcscmp(value, L"Both"), 0);
}

static HRESULT create_binding(INapEnforcementClientBinding **binding)
{
    *binding = NULL;
    return CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                            &IID_INapEnforcementClientBinding, (void **)binding);
}

static void test_register_twice_and_unregister(void **state)
{
    INapEnforcementClientBinding *binding;

    (void)state;
    assert_int_equal(test_regsvr32(L"/s"), 0);
    check_registered();
    /* Registering twice is harmless. */
    assert_int_equal(test_regsvr32(L"/s"), 0);
    check_registered();
    assert_int_equal(create_binding(&binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);

    /* /u removes exactly what registration wrote. */
    assert_int_equal(test_regsvr32(L"/u /s"), 0);
    assert_false(key_exists(BINDING_KEY));
    assert_int_equal(create_binding(&binding), REGDB_E_CLASSNOTREG);
    assert_null(binding);
    /* Unregistering what is not registered succeeds too. */
    assert_int_equal(test_regsvr32(L"/u /s"), 0);

    assert_int_equal(test_regsvr32(L"/s"), 0);
    check_registered();
}

/* The proxies and stubs: registered for every interface, found by COM, and
 * removed by /u, all of them, but not an interface key another DLL took over. */
static void test_proxy_stub_registration(void **state)
{
    static const WCHAR other[] = L"{00000000-1111-2222-3333-444444444444}";
    WCHAR key[96], value[64];
    CLSID clsid;
    HKEY hkey;

    (void)state;
    assert_int_equal(test_regsvr32(L"/s"), 0);
    assert_int_equal(test_regsvr32_dll(L"qutil.dll", L"/s"), 0);
    check_interfaces_registered();
    assert_int_equal(CoGetPSClsid(&IID_INapEnforcementClientCallback, &clsid), S_OK);
    StringFromGUID2(&clsid, value, ARRAYSIZE(value));
    assert_int_equal(_wcsicmp(value, QAGENT_PROXIES), 0);

    assert_int_equal(test_regsvr32(L"/u /s"), 0);
    assert_int_equal(test_regsvr32_dll(L"qutil.dll", L"/u /s"), 0);
    check_interfaces_gone();
    assert_int_equal(CoGetPSClsid(&IID_INapEnforcementClientCallback, &clsid), REGDB_E_IIDNOTREG);

    /* An interface whose proxy another DLL registered since is not ours to delete. */
    assert_int_equal(test_regsvr32(L"/s"), 0);
    swprintf(key, ARRAYSIZE(key), L"Interface\\%ls\\ProxyStubClsid32", interfaces[0].iid);

    assert_int_equal(RegOpenKeyExW(HKEY_CLASSES_ROOT, key, 0, KEY_WRITE, &hkey), ERROR_SUCCESS);
    assert_int_equal(RegSetValueExW(hkey, NULL, 0, REG_SZ, (const BYTE *)other, sizeof(other)), ERROR_SUCCESS);
    RegCloseKey(hkey);
    assert_int_equal(test_regsvr32(L"/u /s"), 0);
    assert_true(read_string(key, NULL, value, ARRAYSIZE(value)));
    assert_int_equal(wcscmp(value, other), 0);
    swprintf(key, ARRAYSIZE(key), L"Interface\\%ls", interfaces[0].iid);
    assert_int_equal(RegDeleteTreeW(HKEY_CLASSES_ROOT, key), ERROR_SUCCESS);
    swprintf(key, ARRAYSIZE(key), L"Interface\\%ls", interfaces[1].iid);
    assert_false(key_exists(key));

    assert_int_equal(test_regsvr32(L"/s"), 0);
    assert_int_equal(test_regsvr32_dll(L"qutil.dll", L"/s"), 0);
    check_interfaces_registered();
}

typedef HRESULT (WINAPI *get_class_object_fn)(REFCLSID, REFIID, void **);
typedef HRESULT (WINAPI *can_unload_fn)(void);

static void test_exports_and_class_factory(void **state)
{
    WCHAR path[MAX_PATH];
    HMODULE module;
    get_class_object_fn get_class_object;
    can_unload_fn can_unload;
    IClassFactory *factory = (void *)1;
    IUnknown *object = (void *)1, *outer = (IUnknown *)0x1234;
    INapEnforcementClientBinding *binding;

    (void)state;
    test_bin_path(L"qagent.dll", path, MAX_PATH);
    assert_non_null(module = LoadLibraryW(path));
    assert_non_null(GetProcAddress(module, "DllRegisterServer"));
    assert_non_null(GetProcAddress(module, "DllUnregisterServer"));
    assert_non_null(get_class_object = (get_class_object_fn)(void *)GetProcAddress(module, "DllGetClassObject"));
    assert_non_null(can_unload = (can_unload_fn)(void *)GetProcAddress(module, "DllCanUnloadNow"));

    assert_int_equal(get_class_object(&IID_IUnknown, &IID_IClassFactory, (void **)&factory), CLASS_E_CLASSNOTAVAILABLE);
    assert_null(factory);
    assert_int_equal(get_class_object(&CLSID_NapEnforcementClientBinding, &IID_IClassFactory, NULL), E_POINTER);
    assert_int_equal(get_class_object(&CLSID_NapEnforcementClientBinding, &IID_IClassFactory, (void **)&factory), S_OK);
    assert_int_equal(can_unload(), S_FALSE);

    assert_int_equal(IClassFactory_CreateInstance(factory, outer, &IID_IUnknown, (void **)&object), CLASS_E_NOAGGREGATION);
    assert_null(object);
    assert_int_equal(IClassFactory_CreateInstance(factory, NULL, &IID_IDispatch, (void **)&object), E_NOINTERFACE);
    assert_null(object);
    assert_int_equal(IClassFactory_CreateInstance(factory, NULL, &IID_INapEnforcementClientBinding, (void **)&binding),
                     S_OK);
    assert_int_equal(IClassFactory_LockServer(factory, TRUE), S_OK);
    IClassFactory_Release(factory);
    assert_int_equal(can_unload(), S_FALSE);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(can_unload(), S_FALSE); /* still locked */
    assert_int_equal(get_class_object(&CLSID_NapEnforcementClientBinding, &IID_IClassFactory, (void **)&factory), S_OK);
    assert_int_equal(IClassFactory_LockServer(factory, FALSE), S_OK);
    IClassFactory_Release(factory);
    assert_int_equal(can_unload(), S_OK);
    FreeLibrary(module);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_register_twice_and_unregister),
        cmocka_unit_test(test_proxy_stub_registration),
        cmocka_unit_test(test_exports_and_class_factory),
    };
    int failures;

    test_install_crash_handler();
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    failures = cmocka_run_group_tests(tests, NULL, NULL);
    CoUninitialize();
    return failures;
}
