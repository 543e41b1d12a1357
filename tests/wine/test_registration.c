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
        cmocka_unit_test(test_exports_and_class_factory),
    };
    int failures;

    test_install_crash_handler();
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    failures = cmocka_run_group_tests(tests, NULL, NULL);
    CoUninitialize();
    return failures;
}
