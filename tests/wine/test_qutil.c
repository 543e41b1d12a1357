/*
 * qutil.dll: registration, the Alloc and Free exports, INapSoHConstructor and INapSoHProcessor
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include "malloc_spy.h"
#include <string.h>
#include <wchar.h>
#include <objbase.h>
#include "NapTypes.h"
#include "NapEnforcementClient.h"
/* Only NapProtocol's GUIDs are defined here: napclient has the others. */
#include <initguid.h>
#include "NapProtocol.h"
#include "NapUtil.h"
#include "nap_hresults.h"
#include "soh_attr.h"

#define CONSTRUCTOR_KEY L"CLSID\\{E8140D53-6535-46A5-B8A1-DA6C571DA9B9}"
#define PROCESSOR_KEY L"CLSID\\{AA160628-8775-46E3-837C-F7A2AE66E2F5}"
#define SAMPLE_SHA_ID 0x000137F0u
#define ALREADY_INITIALIZED HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED)
#define NOT_FOUND HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)

/* ---- the exports, through GetProcAddress ---- */

static struct
{
    HMODULE module;
    __typeof__(AllocConnections) *AllocConnections;
    __typeof__(AllocCountedString) *AllocCountedString;
    __typeof__(AllocFixupInfo) *AllocFixupInfo;
    __typeof__(FreeConnections) *FreeConnections;
    __typeof__(FreeCountedString) *FreeCountedString;
    __typeof__(FreeFixupInfo) *FreeFixupInfo;
    __typeof__(FreeIsolationInfo) *FreeIsolationInfo;
    __typeof__(FreeIsolationInfoEx) *FreeIsolationInfoEx;
    __typeof__(FreeNapComponentRegistrationInfoArray) *FreeNapComponentRegistrationInfoArray;
    __typeof__(FreeNetworkSoH) *FreeNetworkSoH;
    __typeof__(FreePrivateData) *FreePrivateData;
    __typeof__(FreeSoH) *FreeSoH;
    __typeof__(FreeSoHAttributeValue) *FreeSoHAttributeValue;
    __typeof__(FreeSystemHealthAgentState) *FreeSystemHealthAgentState;
    HRESULT (WINAPI *DllGetClassObject)(REFCLSID, REFIID, void **);
    HRESULT (WINAPI *DllCanUnloadNow)(void);
} qutil;

#define LOAD(name) assert_non_null(qutil.name = (void *)GetProcAddress(qutil.module, #name))

static void load_qutil(void)
{
    WCHAR path[MAX_PATH];

    test_bin_path(L"qutil.dll", path, MAX_PATH);
    assert_non_null(qutil.module = LoadLibraryW(path));
    LOAD(AllocConnections);
    LOAD(AllocCountedString);
    LOAD(AllocFixupInfo);
    LOAD(FreeConnections);
    LOAD(FreeCountedString);
    LOAD(FreeFixupInfo);
    LOAD(FreeIsolationInfo);
    LOAD(FreeIsolationInfoEx);
    LOAD(FreeNapComponentRegistrationInfoArray);
    LOAD(FreeNetworkSoH);
    LOAD(FreePrivateData);
    LOAD(FreeSoH);
    LOAD(FreeSoHAttributeValue);
    LOAD(FreeSystemHealthAgentState);
    LOAD(DllGetClassObject);
    LOAD(DllCanUnloadNow);
    /* The agent notifier (tests/wine/test_notifier.c tests what it does). */
    assert_non_null(GetProcAddress(qutil.module, "InitializeNapAgentNotifier"));
    assert_non_null(GetProcAddress(qutil.module, "UninitializeNapAgentNotifier"));
}

/* ---- the task allocator, watched (malloc_spy.c) ---- */

static void spy_begin(void)
{
    assert_int_equal(malloc_spy_begin(0), S_OK);
}

/* Every block allocated since spy_begin has been freed, and nothing else. */
static void spy_end(void)
{
    unsigned int live = malloc_spy_live();
    LONG unknown = malloc_spy_counts().unknown_frees;

    assert_int_equal(malloc_spy_end(), S_OK);
    assert_int_equal(live, 0);
    assert_int_equal(unknown, 0);
}

static void *spy_dup(const void *data, SIZE_T size)
{
    void *block = CoTaskMemAlloc(size);

    assert_non_null(block);
    memcpy(block, data, size);
    return block;
}

/* ---- a connection that counts its references ---- */

struct dummy_connection
{
    IUnknown IUnknown_iface;
    LONG refcount;
};

static inline struct dummy_connection *impl_from_IUnknown(IUnknown *iface)
{
    return CONTAINING_RECORD(iface, struct dummy_connection, IUnknown_iface);
}

static HRESULT WINAPI dummy_QueryInterface(IUnknown *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown))
    {
        *out = iface;
        IUnknown_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI dummy_AddRef(IUnknown *iface)
{
    return InterlockedIncrement(&impl_from_IUnknown(iface)->refcount);
}

static ULONG WINAPI dummy_Release(IUnknown *iface)
{
    return InterlockedDecrement(&impl_from_IUnknown(iface)->refcount);
}

static const IUnknownVtbl dummy_vtbl = { dummy_QueryInterface, dummy_AddRef, dummy_Release };

/* FreeConnections only calls IUnknown's slots, which every connection has. */
static INapEnforcementClientConnection *dummy_as_connection(struct dummy_connection *dummy)
{
    return (INapEnforcementClientConnection *)&dummy->IUnknown_iface;
}

/* ---- registration ---- */

static int run_regsvr32(const WCHAR *options)
{
    return test_regsvr32_dll(L"qutil.dll", options);
}

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

static void check_class_registered(const WCHAR *key, const WCHAR *name)
{
    WCHAR value[MAX_PATH], expected[MAX_PATH], server[MAX_PATH];

    test_bin_path(L"qutil.dll", expected, MAX_PATH);
    swprintf(server, MAX_PATH, L"%ls\\InprocServer32", key);
    assert_true(read_string(key, NULL, value, MAX_PATH));
    assert_int_equal(wcscmp(value, name), 0);
    assert_true(read_string(server, NULL, value, MAX_PATH));
    assert_int_equal(_wcsicmp(value, expected), 0);
    assert_true(read_string(server, L"ThreadingModel", value, MAX_PATH));
    assert_int_equal(wcscmp(value, L"Both"), 0);
}

static INapSoHConstructor *create_constructor(void)
{
    INapSoHConstructor *constructor = NULL;

    assert_int_equal(CoCreateInstance(&CLSID_NapSoHConstructor, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapSoHConstructor, (void **)&constructor), S_OK);
    assert_non_null(constructor);
    return constructor;
}

static INapSoHProcessor *create_processor(void)
{
    INapSoHProcessor *processor = NULL;

    assert_int_equal(CoCreateInstance(&CLSID_NapSoHProcessor, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapSoHProcessor, (void **)&processor), S_OK);
    assert_non_null(processor);
    return processor;
}

static void test_register_and_create(void **state)
{
    IUnknown *unknown = (void *)1;
    INapSoHConstructor *constructor;
    INapSoHProcessor *processor;

    (void)state;
    assert_int_equal(run_regsvr32(L"/s"), 0);
    check_class_registered(CONSTRUCTOR_KEY, L"NapSoHConstructor");
    check_class_registered(PROCESSOR_KEY, L"NapSoHProcessor");

    /* /u removes exactly what registration wrote, and may be repeated. */
    assert_int_equal(run_regsvr32(L"/u /s"), 0);
    assert_false(key_exists(CONSTRUCTOR_KEY));
    assert_false(key_exists(PROCESSOR_KEY));
    assert_int_equal(CoCreateInstance(&CLSID_NapSoHConstructor, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_IUnknown, (void **)&unknown), REGDB_E_CLASSNOTREG);
    assert_null(unknown);
    assert_int_equal(run_regsvr32(L"/u /s"), 0);

    assert_int_equal(run_regsvr32(L"/s"), 0);
    assert_int_equal(run_regsvr32(L"/s"), 0);
    check_class_registered(CONSTRUCTOR_KEY, L"NapSoHConstructor");
    check_class_registered(PROCESSOR_KEY, L"NapSoHProcessor");

    constructor = create_constructor();
    assert_int_equal(INapSoHConstructor_QueryInterface(constructor, &IID_IUnknown, (void **)&unknown), S_OK);
    assert_ptr_equal(unknown, constructor);
    IUnknown_Release(unknown);
    assert_int_equal(INapSoHConstructor_QueryInterface(constructor, &IID_INapSoHProcessor, (void **)&unknown),
                     E_NOINTERFACE);
    assert_null(unknown);
    assert_int_equal(INapSoHConstructor_Release(constructor), 0);

    processor = create_processor();
    assert_int_equal(INapSoHProcessor_QueryInterface(processor, &IID_INapSoHConstructor, (void **)&unknown),
                     E_NOINTERFACE);
    assert_int_equal(INapSoHProcessor_AddRef(processor), 2);
    assert_int_equal(INapSoHProcessor_Release(processor), 1);
    assert_int_equal(INapSoHProcessor_Release(processor), 0);
}

static void test_class_factory(void **state)
{
    IClassFactory *factory = (void *)1;
    IUnknown *object = (void *)1;

    (void)state;
    assert_int_equal(qutil.DllGetClassObject(&IID_IUnknown, &IID_IClassFactory, (void **)&factory),
                     CLASS_E_CLASSNOTAVAILABLE);
    assert_null(factory);
    assert_int_equal(qutil.DllGetClassObject(&CLSID_NapSoHProcessor, &IID_IClassFactory, NULL), E_POINTER);
    assert_int_equal(qutil.DllCanUnloadNow(), S_OK);
    assert_int_equal(qutil.DllGetClassObject(&CLSID_NapSoHConstructor, &IID_IClassFactory, (void **)&factory), S_OK);
    assert_int_equal(IClassFactory_CreateInstance(factory, (IUnknown *)factory, &IID_IUnknown, (void **)&object),
                     CLASS_E_NOAGGREGATION);
    assert_null(object);
    assert_int_equal(IClassFactory_CreateInstance(factory, NULL, &IID_IDispatch, (void **)&object), E_NOINTERFACE);
    assert_null(object);
    assert_int_equal(IClassFactory_CreateInstance(factory, NULL, &IID_INapSoHConstructor, (void **)&object), S_OK);
    IClassFactory_Release(factory);
    assert_int_equal(qutil.DllCanUnloadNow(), S_FALSE);
    IUnknown_Release(object);
    assert_int_equal(qutil.DllCanUnloadNow(), S_OK);

    assert_int_equal(qutil.DllGetClassObject(&CLSID_NapSoHProcessor, &IID_IClassFactory, (void **)&factory), S_OK);
    assert_int_equal(IClassFactory_LockServer(factory, TRUE), S_OK);
    IClassFactory_Release(factory);
    assert_int_equal(qutil.DllCanUnloadNow(), S_FALSE);
    assert_int_equal(qutil.DllGetClassObject(&CLSID_NapSoHProcessor, &IID_IClassFactory, (void **)&factory), S_OK);
    assert_int_equal(IClassFactory_LockServer(factory, FALSE), S_OK);
    IClassFactory_Release(factory);
    assert_int_equal(qutil.DllCanUnloadNow(), S_OK);
}

/* ---- Alloc* / Free* ---- */

static void test_alloc_counted_string(void **state)
{
    CountedString *string = (void *)1;
    WCHAR longest[maxStringLength + 2];

    (void)state;
    wmemset(longest, L'x', maxStringLength + 1);
    longest[maxStringLength + 1] = 0;

    spy_begin();
    assert_int_equal(qutil.AllocCountedString(NULL, L"x"), E_INVALIDARG);
    assert_int_equal(qutil.AllocCountedString(&string, NULL), E_INVALIDARG);
    assert_null(string);
    string = (void *)1;
    assert_int_equal(qutil.AllocCountedString(&string, longest), E_INVALIDARG);
    assert_null(string);
    assert_int_equal(malloc_spy_counts().allocs, 0);

    longest[maxStringLength] = 0;
    assert_int_equal(qutil.AllocCountedString(&string, longest), S_OK);
    assert_int_equal(malloc_spy_counts().allocs, 2); /* the struct and the string */
    assert_int_equal(string->length, maxStringLength);
    assert_int_equal(string->string[maxStringLength], 0);
    assert_int_equal(wcscmp(string->string, longest), 0);
    assert_ptr_not_equal(string->string, longest);
    qutil.FreeCountedString(string);
    assert_int_equal(malloc_spy_live(), 0);

    assert_int_equal(qutil.AllocCountedString(&string, L""), S_OK);
    assert_int_equal(string->length, 0);
    assert_int_equal(string->string[0], 0);
    /* The SDK sample frees the struct alone and keeps the string. */
    {
        WCHAR *kept = string->string;

        CoTaskMemFree(string);
        assert_int_equal(malloc_spy_live(), 1);
        CoTaskMemFree(kept);
    }
    qutil.FreeCountedString(NULL);
    spy_end();
}

static void test_alloc_connections(void **state)
{
    struct dummy_connection one = { { &dummy_vtbl }, 1 }, two = { { &dummy_vtbl }, 3 };
    Connections *connections = (void *)1;
    UINT16 i;

    (void)state;
    spy_begin();
    assert_int_equal(qutil.AllocConnections(NULL, 1), E_INVALIDARG);
    assert_int_equal(qutil.AllocConnections(&connections, maxConnectionCountPerEnforcer + 1), E_INVALIDARG);
    assert_null(connections);
    assert_int_equal(malloc_spy_counts().allocs, 0);

    assert_int_equal(qutil.AllocConnections(&connections, 0), S_OK);
    assert_int_equal(connections->count, 0);
    assert_null(connections->connections);
    assert_int_equal(malloc_spy_counts().allocs, 1);
    qutil.FreeConnections(connections);

    assert_int_equal(qutil.AllocConnections(&connections, maxConnectionCountPerEnforcer), S_OK);
    assert_int_equal(malloc_spy_counts().allocs, 3); /* the struct and, separately, the pointer array */
    assert_int_equal(connections->count, maxConnectionCountPerEnforcer);
    for (i = 0; i < connections->count; i++) assert_null(connections->connections[i]);
    /* The holder owns one reference per pointer; NULL slots are skipped. */
    connections->connections[0] = dummy_as_connection(&one);
    connections->connections[5] = dummy_as_connection(&two);
    connections->connections[maxConnectionCountPerEnforcer - 1] = dummy_as_connection(&two);
    qutil.FreeConnections(connections);
    assert_int_equal(one.refcount, 0);
    assert_int_equal(two.refcount, 1);
    qutil.FreeConnections(NULL);
    spy_end();
}

static void test_alloc_fixup_info(void **state)
{
    FixupInfo *info = (void *)1;
    UINT16 i;

    (void)state;
    spy_begin();
    assert_int_equal(qutil.AllocFixupInfo(NULL, 1), E_INVALIDARG);
    assert_int_equal(qutil.AllocFixupInfo(&info, maxDwordCountPerSoHAttribute + 1), E_INVALIDARG);
    assert_null(info);

    assert_int_equal(qutil.AllocFixupInfo(&info, 0), S_OK);
    assert_int_equal(info->resultCodes.count, 0);
    assert_null(info->resultCodes.results);
    assert_int_equal(info->state, fixupStateSuccess);
    assert_int_equal(info->percentage, 0);
    assert_int_equal(info->fixupMsgId, 0);
    qutil.FreeFixupInfo(info);

    assert_int_equal(qutil.AllocFixupInfo(&info, maxDwordCountPerSoHAttribute), S_OK);
    assert_int_equal(info->resultCodes.count, maxDwordCountPerSoHAttribute);
    for (i = 0; i < info->resultCodes.count; i++) assert_int_equal(info->resultCodes.results[i], 0);
    assert_int_equal(malloc_spy_live(), 2);
    qutil.FreeFixupInfo(info);
    qutil.FreeFixupInfo(NULL);
    spy_end();
}

static CountedString counted(const WCHAR *text)
{
    CountedString string = { (UINT16)wcslen(text), spy_dup(text, (wcslen(text) + 1) * sizeof(WCHAR)) };

    return string;
}

/* Each Free* frees every embedded block and the struct, also when the
 * embedded pointers are NULL, and accepts NULL. */
static void test_free_functions(void **state)
{
    static const BYTE bytes[] = { 1, 2, 3 };
    static const HRESULT codes[] = { S_OK, E_FAIL };
    SystemHealthAgentState *sha;
    IsolationInfoEx *info_ex;
    IsolationInfo *info;
    NetworkSoH *network;
    PrivateData *data;
    SoH *soh;

    (void)state;
    spy_begin();
    info = CoTaskMemAlloc(sizeof(*info));
    memset(info, 0, sizeof(*info));
    info->failureUrl = counted(L"http://fix.example/");
    qutil.FreeIsolationInfo(info);
    info = CoTaskMemAlloc(sizeof(*info));
    memset(info, 0, sizeof(*info));
    qutil.FreeIsolationInfo(info);

    info_ex = CoTaskMemAlloc(sizeof(*info_ex));
    memset(info_ex, 0, sizeof(*info_ex));
    info_ex->failureUrl = counted(L"u");
    qutil.FreeIsolationInfoEx(info_ex);

    network = CoTaskMemAlloc(sizeof(*network));
    network->size = sizeof(bytes);
    network->data = spy_dup(bytes, sizeof(bytes));
    qutil.FreeNetworkSoH(network);

    data = CoTaskMemAlloc(sizeof(*data));
    data->size = sizeof(bytes);
    data->data = spy_dup(bytes, sizeof(bytes));
    qutil.FreePrivateData(data);

    soh = CoTaskMemAlloc(sizeof(*soh));
    soh->count = 3;
    soh->attributes = CoTaskMemAlloc(3 * sizeof(SoHAttribute));
    soh->attributes[0] = (SoHAttribute){ 2, 3, spy_dup(bytes, 3) };
    soh->attributes[1] = (SoHAttribute){ 6, 0, NULL };
    soh->attributes[2] = (SoHAttribute){ 4, 3, spy_dup(bytes, 3) };
    qutil.FreeSoH(soh);
    soh = CoTaskMemAlloc(sizeof(*soh));
    soh->count = 0;
    soh->attributes = NULL;
    qutil.FreeSoH(soh);

    sha = CoTaskMemAlloc(sizeof(*sha));
    memset(sha, 0, sizeof(*sha));
    sha->shaResultCodes.count = 2;
    sha->shaResultCodes.results = spy_dup(codes, sizeof(codes));
    sha->fixupInfo.resultCodes.count = 1;
    sha->fixupInfo.resultCodes.results = spy_dup(codes, sizeof(codes[0]));
    qutil.FreeSystemHealthAgentState(sha);

    assert_int_equal(malloc_spy_counts().allocs, malloc_spy_counts().frees);

    qutil.FreeIsolationInfo(NULL);
    qutil.FreeIsolationInfoEx(NULL);
    qutil.FreeNetworkSoH(NULL);
    qutil.FreePrivateData(NULL);
    qutil.FreeSoH(NULL);
    qutil.FreeSystemHealthAgentState(NULL);
    spy_end();
}

/* Reference open question 7: info is the address of the caller's array
 * pointer, as GetRegistered* fill it: (count, &array) frees every string,
 * the array, and NULLs the pointer. */
static void test_free_registration_array(void **state)
{
    NapComponentRegistrationInfo *array;

    (void)state;
    spy_begin();
    array = CoTaskMemAlloc(2 * sizeof(*array));
    memset(array, 0, 2 * sizeof(*array));
    array[0].friendlyName = counted(L"SHA");
    array[0].description = counted(L"a health agent");
    array[0].version = counted(L"1.0");
    array[0].vendorName = counted(L"us");
    array[1].friendlyName = counted(L"other");
    assert_int_equal(malloc_spy_live(), 6);
    qutil.FreeNapComponentRegistrationInfoArray(2, &array);
    assert_null(array);
    assert_int_equal(malloc_spy_live(), 0);

    /* NULL *info (what GetRegistered* return when nothing is registered, or
     * a second call) and NULL info: nothing is freed, whatever the count. */
    qutil.FreeNapComponentRegistrationInfoArray(2, &array);
    qutil.FreeNapComponentRegistrationInfoArray(0, &array);
    qutil.FreeNapComponentRegistrationInfoArray(3, NULL);
    assert_null(array);
    spy_end();
}

/* FreeSoHAttributeValue frees the member's block and the union's. */
static void free_value_check(SoHAttributeType type, SoHAttributeValue *value, BOOL has_block)
{
    unsigned int before = malloc_spy_live();

    qutil.FreeSoHAttributeValue(type, value);
    assert_int_equal(malloc_spy_live(), before - (has_block ? 2 : 1));
}

static SoHAttributeValue *new_value(void)
{
    SoHAttributeValue *value = CoTaskMemAlloc(sizeof(*value));

    memset(value, 0, sizeof(*value));
    return value;
}

static void test_free_soh_attribute_value(void **state)
{
    SoHAttributeValue *value;

    (void)state;
    spy_begin();
    value = new_value();
    value->v4AddressesVal.count = 1;
    value->v4AddressesVal.addresses = CoTaskMemAlloc(sizeof(Ipv4Address));
    free_value_check(sohAttributeTypeIpv4FixupServers, value, TRUE);
    value = new_value();
    value->v6AddressesVal.count = 1;
    value->v6AddressesVal.addresses = CoTaskMemAlloc(sizeof(Ipv6Address));
    free_value_check(sohAttributeTypeIpv6FixupServers, value, TRUE);
    value = new_value();
    value->codesVal.count = 1;
    value->codesVal.results = CoTaskMemAlloc(sizeof(HRESULT));
    free_value_check(sohAttributeTypeComplianceResultCodes, value, TRUE);
    value = new_value();
    value->codesVal.results = CoTaskMemAlloc(sizeof(HRESULT));
    free_value_check(sohAttributeTypeErrorCodes, value, TRUE);
    value = new_value();
    value->vendorSpecificVal.size = 1;
    value->vendorSpecificVal.vendorSpecificData = CoTaskMemAlloc(1);
    free_value_check(sohAttributeTypeVendorSpecific, value, TRUE);
    value = new_value();
    value->octetStringVal.size = 1;
    value->octetStringVal.data = CoTaskMemAlloc(1);
    free_value_check(sohAttributeTypeProductName, value, TRUE);
    value = new_value();
    value->octetStringVal.data = CoTaskMemAlloc(1);
    free_value_check((SoHAttributeType)200, value, TRUE); /* unknown: an octet string */

    /* Members without a pointer: only the union is freed (idVal etc.
     * overlay the pointer fields, which must not be taken for blocks). */
    value = new_value();
    value->idVal = 0x12345678;
    free_value_check(sohAttributeTypeSystemHealthId, value, FALSE);
    value = new_value();
    value->dateTimeVal.dwLowDateTime = 0x11111111;
    value->dateTimeVal.dwHighDateTime = 0x22222222;
    free_value_check(sohAttributeTypeTimeOfLastUpdate, value, FALSE);
    value = new_value();
    value->uint8Val = 0xff;
    free_value_check(sohAttributeTypeFailureCategory, value, FALSE);

    value = new_value();
    free_value_check(sohAttributeTypeClientId, value, FALSE); /* NULL data */
    qutil.FreeSoHAttributeValue(sohAttributeTypeClientId, NULL);
    spy_end();
}

/* ---- INapSoHConstructor ---- */

/* The SoH struct's attributes as the TLV run that goes on the wire. */
static size_t serialise(const SoH *soh, BYTE *out, size_t cap)
{
    size_t pos = 0;
    UINT16 i;

    for (i = 0; i < soh->count; i++)
    {
        const SoHAttribute *attr = &soh->attributes[i];

        assert_true(pos + 4 + attr->size <= cap);
        out[pos++] = (BYTE)(attr->type >> 8);
        out[pos++] = (BYTE)attr->type;
        out[pos++] = (BYTE)(attr->size >> 8);
        out[pos++] = (BYTE)attr->size;
        memcpy(out + pos, attr->value, attr->size);
        pos += attr->size;
    }
    return pos;
}

static HRESULT append_codes(INapSoHConstructor *constructor, SoHAttributeType type, const HRESULT *codes, UINT16 count)
{
    SoHAttributeValue value = { 0 };

    value.codesVal.count = count;
    value.codesVal.results = (HRESULT *)codes;
    return INapSoHConstructor_AppendAttribute(constructor, type, &value);
}

static HRESULT append_uint8(INapSoHConstructor *constructor, SoHAttributeType type, UINT8 byte)
{
    SoHAttributeValue value = { 0 };

    value.uint8Val = byte;
    return INapSoHConstructor_AppendAttribute(constructor, type, &value);
}

static HRESULT append_octets(INapSoHConstructor *constructor, SoHAttributeType type, const void *data, UINT16 size)
{
    SoHAttributeValue value = { 0 };

    value.octetStringVal.size = size;
    value.octetStringVal.data = (BYTE *)data;
    return INapSoHConstructor_AppendAttribute(constructor, type, &value);
}

static HRESULT append_vendor(INapSoHConstructor *constructor, UINT32 vendor, const void *data, UINT16 size)
{
    SoHAttributeValue value = { 0 };

    value.vendorSpecificVal.vendorId = vendor;
    value.vendorSpecificVal.size = size;
    value.vendorSpecificVal.vendorSpecificData = (BYTE *)data;
    return INapSoHConstructor_AppendAttribute(constructor, sohAttributeTypeVendorSpecific, &value);
}

static void test_constructor_errors(void **state)
{
    static BYTE big[SOH_MAX_ATTRIBUTE_SIZE + 1];
    static const HRESULT ok[] = { S_OK };
    INapSoHConstructor *constructor = create_constructor();
    SoHAttributeValue value = { 0 };
    SoH *soh = (void *)1;
    SoH empty = { 0 };
    UINT16 i;

    (void)state;
    spy_begin();
    assert_int_equal(append_codes(constructor, sohAttributeTypeComplianceResultCodes, ok, 1), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapSoHConstructor_GetSoH(constructor, &soh), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapSoHConstructor_Validate(constructor, &empty, TRUE), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapSoHConstructor_Validate(constructor, NULL, TRUE), NAP_E_NOT_INITIALIZED);

    assert_int_equal(INapSoHConstructor_Initialize(constructor, SAMPLE_SHA_ID, TRUE), S_OK);
    assert_int_equal(INapSoHConstructor_Initialize(constructor, SAMPLE_SHA_ID, TRUE), ALREADY_INITIALIZED);
    assert_int_equal(INapSoHConstructor_Initialize(constructor, 1, FALSE), ALREADY_INITIALIZED);

    assert_int_equal(INapSoHConstructor_AppendAttribute(constructor, sohAttributeTypeComplianceResultCodes, NULL),
                     E_POINTER);
    assert_int_equal(INapSoHConstructor_GetSoH(constructor, NULL), E_POINTER);
    assert_int_equal(INapSoHConstructor_Validate(constructor, NULL, TRUE), E_POINTER);

    /* Initialize wrote the System-Health-Id; no second one. */
    value.idVal = SAMPLE_SHA_ID;
    assert_int_equal(INapSoHConstructor_AppendAttribute(constructor, sohAttributeTypeSystemHealthId, &value),
                     E_INVALIDARG);
    assert_int_equal(INapSoHConstructor_AppendAttribute(constructor, (SoHAttributeType)0, &value), E_INVALIDARG);
    assert_int_equal(INapSoHConstructor_AppendAttribute(constructor, (SoHAttributeType)1, &value), E_INVALIDARG);
    assert_int_equal(INapSoHConstructor_AppendAttribute(constructor, (SoHAttributeType)0x4000, &value), E_INVALIDARG);
    assert_int_equal(INapSoHConstructor_AppendAttribute(constructor, (SoHAttributeType)0x8004, &value), E_INVALIDARG);

    /* Values the codec refuses. */
    memset(&value, 0, sizeof(value));
    assert_int_equal(INapSoHConstructor_AppendAttribute(constructor, sohAttributeTypeIpv4FixupServers, &value),
                     E_INVALIDARG);
    assert_int_equal(INapSoHConstructor_AppendAttribute(constructor, sohAttributeTypeIpv6FixupServers, &value),
                     E_INVALIDARG);
    value.v4AddressesVal.count = 1; /* and no addresses */
    assert_int_equal(INapSoHConstructor_AppendAttribute(constructor, sohAttributeTypeIpv4FixupServers, &value),
                     E_INVALIDARG);
    assert_int_equal(append_codes(constructor, sohAttributeTypeComplianceResultCodes, NULL, 1), E_INVALIDARG);
    assert_int_equal(append_codes(constructor, sohAttributeTypeErrorCodes, (HRESULT *)big, SOH_MAX_CODE_COUNT + 1),
                     E_INVALIDARG);
    assert_int_equal(append_uint8(constructor, sohAttributeTypeFailureCategory, 6), E_INVALIDARG);
    assert_int_equal(append_uint8(constructor, sohAttributeTypeExtendedIsolationState, 4), E_INVALIDARG);
    assert_int_equal(append_vendor(constructor, 0x01000137, NULL, 0), E_INVALIDARG);
    assert_int_equal(append_vendor(constructor, 311, big, SOH_MAX_VENDOR_DATA + 1), E_INVALIDARG);
    assert_int_equal(append_octets(constructor, sohAttributeTypeClientId, big, SOH_MAX_ATTRIBUTE_SIZE + 1),
                     E_INVALIDARG);
    assert_int_equal(append_octets(constructor, sohAttributeTypeClientId, NULL, 1), E_INVALIDARG);

    /* Limits themselves are fine; nothing refused was kept. */
    assert_int_equal(append_vendor(constructor, 311, big, SOH_MAX_VENDOR_DATA), S_OK);
    assert_int_equal(append_octets(constructor, (SoHAttributeType)0x3fff, big, SOH_MAX_ATTRIBUTE_SIZE), S_OK);
    assert_int_equal(INapSoHConstructor_GetSoH(constructor, &soh), S_OK);
    assert_int_equal(soh->count, 3);
    assert_int_equal(soh->attributes[1].size, SOH_MAX_ATTRIBUTE_SIZE);
    assert_int_equal(soh->attributes[2].type, 0x3fff);
    qutil.FreeSoH(soh);

    /* maxSoHAttributeCount counts the System-Health-Id too. */
    for (i = 3; i < maxSoHAttributeCount; i++)
        assert_int_equal(append_uint8(constructor, sohAttributeTypeHealthClass, (UINT8)i), S_OK);
    assert_int_equal(append_uint8(constructor, sohAttributeTypeHealthClass, 0), E_INVALIDARG);
    assert_int_equal(INapSoHConstructor_GetSoH(constructor, &soh), S_OK);
    assert_int_equal(soh->count, maxSoHAttributeCount);
    qutil.FreeSoH(soh);
    assert_int_equal(INapSoHConstructor_Release(constructor), 0);
    spy_end();
}

/* Reference 15.9: the report entry of SHA 0x000137F0 with
 * ComplianceResultCodes = S_OK. */
static const BYTE example_entry[] =
{
    0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x37, 0xf0,
    0x00, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
};

static void test_constructor_known_example(void **state)
{
    static const HRESULT ok[] = { S_OK };
    INapSoHConstructor *constructor = create_constructor();
    BYTE wire[64];
    size_t len;
    SoH *soh;

    (void)state;
    spy_begin();
    assert_int_equal(INapSoHConstructor_Initialize(constructor, SAMPLE_SHA_ID, TRUE), S_OK);
    assert_int_equal(append_codes(constructor, sohAttributeTypeComplianceResultCodes, ok, 1), S_OK);
    assert_int_equal(INapSoHConstructor_GetSoH(constructor, &soh), S_OK);
    /* the constructor's two values; GetSoH's struct, array and two values */
    assert_int_equal(malloc_spy_live(), 2 + 4);
    assert_int_equal(soh->count, 2);
    assert_int_equal(soh->attributes[0].type, sohAttributeTypeSystemHealthId);
    assert_int_equal(soh->attributes[0].size, 4);
    assert_memory_equal(soh->attributes[0].value, example_entry + 4, 4);
    assert_int_equal(soh->attributes[1].type, sohAttributeTypeComplianceResultCodes);
    assert_int_equal(soh->attributes[1].size, 4);
    len = serialise(soh, wire, sizeof(wire));
    assert_int_equal(len, sizeof(example_entry));
    assert_memory_equal(wire, example_entry, sizeof(example_entry));
    assert_int_equal(soh_sha_validate(wire, len, 1), SOH_OK);
    assert_int_equal(soh_sha_validate(wire, len, 0), SOH_OK);
    assert_int_equal(INapSoHConstructor_Validate(constructor, soh, TRUE), S_OK);
    assert_int_equal(INapSoHConstructor_Validate(constructor, soh, FALSE), S_OK);
    qutil.FreeSoH(soh);
    assert_int_equal(INapSoHConstructor_Release(constructor), 0);
    spy_end();
}

/* Host-order values in the union, network order in SoHAttribute.value. */
static void test_constructor_byte_order(void **state)
{
    static const HRESULT codes[] = { NAP_E_NOT_INITIALIZED, 0x01020304 };
    static const BYTE codes_wire[] = { 0x80, 0x27, 0x00, 0x07, 0x01, 0x02, 0x03, 0x04 };
    static const BYTE time_wire[] = { 0x01, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x78 };
    static const BYTE vendor_wire[] = { 0x00, 0x00, 0x01, 0x37, 0xaa, 0xbb };
    static const BYTE ipv4[] = { 192, 168, 0, 1, 10, 0, 0, 2 };
    INapSoHConstructor *constructor = create_constructor();
    SoHAttributeValue value = { 0 };
    SoH *soh;

    (void)state;
    spy_begin();
    assert_int_equal(INapSoHConstructor_Initialize(constructor, 0x00013780, FALSE), S_OK);
    assert_int_equal(append_codes(constructor, sohAttributeTypeComplianceResultCodes, codes, 2), S_OK);
    value.dateTimeVal.dwHighDateTime = 0x01d2c3b4;
    value.dateTimeVal.dwLowDateTime = 0xa5968778;
    assert_int_equal(INapSoHConstructor_AppendAttribute(constructor, sohAttributeTypeSoHGenerationTime, &value), S_OK);
    assert_int_equal(append_vendor(constructor, 311, vendor_wire + 4, 2), S_OK);
    memset(&value, 0, sizeof(value));
    value.v4AddressesVal.count = 2;
    value.v4AddressesVal.addresses = (Ipv4Address *)ipv4;
    assert_int_equal(INapSoHConstructor_AppendAttribute(constructor, sohAttributeTypeIpv4FixupServers, &value), S_OK);
    assert_int_equal(append_uint8(constructor, sohAttributeTypeFailureCategory, failureCategoryClientComponent), S_OK);
    assert_int_equal(append_codes(constructor, sohAttributeTypeErrorCodes, NULL, 0), S_OK);

    assert_int_equal(INapSoHConstructor_GetSoH(constructor, &soh), S_OK);
    assert_int_equal(soh->count, 7);
    assert_memory_equal(soh->attributes[0].value, "\x00\x01\x37\x80", 4);
    assert_int_equal(soh->attributes[1].size, sizeof(codes_wire));
    assert_memory_equal(soh->attributes[1].value, codes_wire, sizeof(codes_wire));
    assert_int_equal(soh->attributes[2].size, sizeof(time_wire));
    assert_memory_equal(soh->attributes[2].value, time_wire, sizeof(time_wire));
    assert_int_equal(soh->attributes[3].size, sizeof(vendor_wire));
    assert_memory_equal(soh->attributes[3].value, vendor_wire, sizeof(vendor_wire));
    assert_int_equal(soh->attributes[4].size, sizeof(ipv4));
    assert_memory_equal(soh->attributes[4].value, ipv4, sizeof(ipv4));
    assert_int_equal(soh->attributes[5].size, 1);
    assert_int_equal(soh->attributes[5].value[0], 2);
    assert_int_equal(soh->attributes[6].size, 0);
    assert_null(soh->attributes[6].value);
    assert_int_equal(INapSoHConstructor_Validate(constructor, soh, FALSE), S_OK);
    qutil.FreeSoH(soh);
    assert_int_equal(INapSoHConstructor_Release(constructor), 0);
    spy_end();
}

static BYTE id_bytes[] = { 0x00, 0x01, 0x37, 0xf0 };
static BYTE ok_bytes[] = { 0, 0, 0, 0 };
static BYTE ipv4_bytes[] = { 10, 0, 0, 1 };
static BYTE bad_category[] = { 9 };

static void test_constructor_validate(void **state)
{
    SoHAttribute attrs[maxSoHAttributeCount + 1];
    INapSoHConstructor *constructor = create_constructor();
    SoH soh = { 0, attrs };
    UINT16 i;

    (void)state;
    assert_int_equal(INapSoHConstructor_Initialize(constructor, SAMPLE_SHA_ID, TRUE), S_OK);
    spy_begin();
    attrs[0] = (SoHAttribute){ sohAttributeTypeSystemHealthId, 4, id_bytes };
    attrs[1] = (SoHAttribute){ sohAttributeTypeComplianceResultCodes, 4, ok_bytes };
    attrs[2] = (SoHAttribute){ sohAttributeTypeIpv4FixupServers, 4, ipv4_bytes };
    attrs[3] = (SoHAttribute){ sohAttributeTypeIpv4FixupServers, 4, ipv4_bytes };

    soh.count = 1; /* a request needs no result TLV, a response does */
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, TRUE), S_OK);
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, FALSE), NAP_E_INVALID_PACKET);
    soh.count = 2;
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, FALSE), S_OK);
    soh.count = 4; /* at most one fix-up server list, in a response */
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, TRUE), S_OK);
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, FALSE), NAP_E_INVALID_PACKET);

    soh.count = 0;
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, TRUE), NAP_E_INVALID_PACKET);
    soh.count = 2;
    soh.attributes = NULL;
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, TRUE), NAP_E_INVALID_PACKET);
    soh.attributes = attrs;
    /* System-Health-Id first, and only there */
    soh.attributes = attrs + 1;
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, TRUE), NAP_E_INVALID_PACKET);
    soh.attributes = attrs;
    attrs[1] = attrs[0];
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, TRUE), NAP_E_INVALID_PACKET);
    /* values are checked by type */
    attrs[1] = (SoHAttribute){ sohAttributeTypeFailureCategory, 1, bad_category };
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, TRUE), NAP_E_INVALID_PACKET);
    attrs[1] = (SoHAttribute){ sohAttributeTypeComplianceResultCodes, 3, ok_bytes };
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, TRUE), NAP_E_INVALID_PACKET);
    attrs[1] = (SoHAttribute){ sohAttributeTypeComplianceResultCodes, 4, NULL };
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, TRUE), NAP_E_INVALID_PACKET);
    attrs[0] = (SoHAttribute){ sohAttributeTypeSystemHealthId, 3, id_bytes };
    attrs[1] = (SoHAttribute){ sohAttributeTypeComplianceResultCodes, 4, ok_bytes };
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, TRUE), NAP_E_INVALID_PACKET);
    attrs[0] = (SoHAttribute){ sohAttributeTypeSystemHealthId, 4, id_bytes };

    /* at most maxSoHAttributeCount attributes */
    for (i = 2; i <= maxSoHAttributeCount; i++) attrs[i] = (SoHAttribute){ sohAttributeTypeClientId, 0, NULL };
    soh.count = maxSoHAttributeCount;
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, FALSE), S_OK);
    soh.count = maxSoHAttributeCount + 1;
    assert_int_equal(INapSoHConstructor_Validate(constructor, &soh, FALSE), NAP_E_INVALID_PACKET);
    spy_end();
    assert_int_equal(INapSoHConstructor_Release(constructor), 0);
}

/* ---- INapSoHProcessor ---- */

static void test_processor_errors(void **state)
{
    static BYTE client_id[] = { 'c', 'l' };
    SoHAttribute attrs[4] =
    {
        { sohAttributeTypeSystemHealthId, 4, id_bytes },
        { sohAttributeTypeClientId, sizeof(client_id), client_id },
        { sohAttributeTypeComplianceResultCodes, 4, ok_bytes },
        { sohAttributeTypeClientId, 0, NULL },
    };
    INapSoHProcessor *processor = create_processor();
    SoH soh = { 4, attrs }, bad = { 1, attrs + 1 };
    SoHAttributeValue *value = (void *)1;
    SystemHealthEntityId id = 0;
    SoHAttributeType type;
    UINT16 count, location;

    (void)state;
    spy_begin();
    assert_int_equal(INapSoHProcessor_GetNumberOfAttributes(processor, &count), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 0, sohAttributeTypeClientId, &location),
                     NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapSoHProcessor_GetAttribute(processor, 0, &type, &value), NAP_E_NOT_INITIALIZED);

    assert_int_equal(INapSoHProcessor_Initialize(processor, NULL, TRUE, &id), E_POINTER);
    assert_int_equal(INapSoHProcessor_Initialize(processor, &soh, TRUE, NULL), E_POINTER);
    /* A bad packet leaves the object uninitialised. */
    assert_int_equal(INapSoHProcessor_Initialize(processor, &bad, TRUE, &id), NAP_E_INVALID_PACKET);
    assert_int_equal(INapSoHProcessor_GetNumberOfAttributes(processor, &count), NAP_E_NOT_INITIALIZED);
    soh.count = 2; /* a response without a result TLV */
    assert_int_equal(INapSoHProcessor_Initialize(processor, &soh, FALSE, &id), NAP_E_INVALID_PACKET);
    soh.count = 4;
    assert_int_equal(malloc_spy_live(), 0);

    assert_int_equal(INapSoHProcessor_Initialize(processor, &soh, FALSE, &id), S_OK);
    assert_int_equal(id, SAMPLE_SHA_ID);
    assert_int_equal(INapSoHProcessor_Initialize(processor, &soh, FALSE, &id), ALREADY_INITIALIZED);
    /* The processor keeps its own copy. */
    client_id[0] = 'X';
    attrs[3].type = sohAttributeTypeProductName;

    assert_int_equal(INapSoHProcessor_GetNumberOfAttributes(processor, NULL), E_POINTER);
    assert_int_equal(INapSoHProcessor_GetNumberOfAttributes(processor, &count), S_OK);
    assert_int_equal(count, 4);

    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 0, sohAttributeTypeClientId, NULL), E_POINTER);
    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 4, sohAttributeTypeClientId, &location),
                     E_INVALIDARG);
    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 0xffff, sohAttributeTypeClientId, &location),
                     E_INVALIDARG);
    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 0, sohAttributeTypeSystemHealthId, &location), S_OK);
    assert_int_equal(location, 0);
    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 0, sohAttributeTypeClientId, &location), S_OK);
    assert_int_equal(location, 1);
    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 1, sohAttributeTypeClientId, &location), S_OK);
    assert_int_equal(location, 1);
    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 2, sohAttributeTypeClientId, &location), S_OK);
    assert_int_equal(location, 3);
    location = 77;
    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 3, sohAttributeTypeComplianceResultCodes,
                                                        &location), NOT_FOUND);
    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 0, sohAttributeTypeProductName, &location),
                     NOT_FOUND);
    assert_int_equal(location, 77);

    assert_int_equal(INapSoHProcessor_GetAttribute(processor, 0, NULL, &value), E_POINTER);
    assert_int_equal(INapSoHProcessor_GetAttribute(processor, 0, &type, NULL), E_POINTER);
    assert_int_equal(INapSoHProcessor_GetAttribute(processor, 4, &type, &value), E_INVALIDARG);
    assert_null(value);
    assert_int_equal(INapSoHProcessor_GetAttribute(processor, 1, &type, &value), S_OK);
    assert_int_equal(type, sohAttributeTypeClientId);
    assert_int_equal(value->octetStringVal.size, 2);
    assert_memory_equal(value->octetStringVal.data, "cl", 2);
    qutil.FreeSoHAttributeValue(type, value);
    assert_int_equal(INapSoHProcessor_GetAttribute(processor, 3, &type, &value), S_OK);
    assert_int_equal(type, sohAttributeTypeClientId);
    assert_int_equal(value->octetStringVal.size, 0);
    assert_null(value->octetStringVal.data);
    qutil.FreeSoHAttributeValue(type, value);
    client_id[0] = 'c';

    assert_int_equal(INapSoHProcessor_Release(processor), 0);
    spy_end();
}

/* M and R flag bits are ignored on receipt; unknown types are octet strings. */
static void test_processor_flags_and_unknown_types(void **state)
{
    static BYTE future[] = { 1, 2, 3 };
    SoHAttribute attrs[] =
    {
        { 0x8000 | sohAttributeTypeSystemHealthId, 4, id_bytes },
        { 0xc000 | sohAttributeTypeComplianceResultCodes, 4, ok_bytes },
        { 0x123, sizeof(future), future },
    };
    INapSoHProcessor *processor = create_processor();
    SoH soh = { ARRAYSIZE(attrs), attrs };
    SoHAttributeValue *value;
    SystemHealthEntityId id;
    SoHAttributeType type;
    UINT16 location;

    (void)state;
    spy_begin();
    assert_int_equal(INapSoHProcessor_Initialize(processor, &soh, FALSE, &id), S_OK);
    assert_int_equal(id, SAMPLE_SHA_ID);
    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 0, sohAttributeTypeComplianceResultCodes,
                                                        &location), S_OK);
    assert_int_equal(location, 1);
    assert_int_equal(INapSoHProcessor_GetAttribute(processor, 1, &type, &value), S_OK);
    assert_int_equal(type, sohAttributeTypeComplianceResultCodes);
    assert_int_equal(value->codesVal.count, 1);
    assert_int_equal(value->codesVal.results[0], S_OK);
    qutil.FreeSoHAttributeValue(type, value);
    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 0, (SoHAttributeType)0x123, &location), S_OK);
    assert_int_equal(location, 2);
    assert_int_equal(INapSoHProcessor_GetAttribute(processor, 2, &type, &value), S_OK);
    assert_int_equal(type, 0x123);
    assert_int_equal(value->octetStringVal.size, sizeof(future));
    assert_memory_equal(value->octetStringVal.data, future, sizeof(future));
    qutil.FreeSoHAttributeValue(type, value);
    assert_int_equal(INapSoHProcessor_Release(processor), 0);
    spy_end();
}

/* What Microsoft's SDK SHA and SHV do: GetAttribute, then
 * FreeSoHAttributeValue and nothing else.  Every block GetAttribute handed
 * out is gone after it, for each kind of value the union holds. */
static void test_get_attribute_then_free_value(void **state)
{
    static BYTE codes[] = { 0x80, 0x27, 0x00, 0x0e, 0, 0, 0, 0 };
    static BYTE category[] = { failureCategoryNone };
    static BYTE time[] = { 0x01, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x78 };
    static BYTE ipv4[] = { 10, 0, 0, 1, 10, 0, 0, 2 };
    static BYTE ipv6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
    static BYTE vendor[] = { 0x00, 0x00, 0x01, 0x37, 0xde, 0xad };
    static BYTE product[] = { 'a', 'b', 'c' };
    static BYTE future[] = { 1, 2, 3 };
    SoHAttribute attrs[] =
    {
        { sohAttributeTypeSystemHealthId, 4, id_bytes },            /* idVal */
        { sohAttributeTypeComplianceResultCodes, 4, ok_bytes },     /* codesVal */
        { sohAttributeTypeErrorCodes, sizeof(codes), codes },       /* codesVal, two codes */
        { sohAttributeTypeFailureCategory, 1, category },           /* uint8Val */
        { sohAttributeTypeTimeOfLastUpdate, sizeof(time), time },   /* dateTimeVal */
        { sohAttributeTypeIpv4FixupServers, sizeof(ipv4), ipv4 },   /* v4AddressesVal */
        { sohAttributeTypeIpv6FixupServers, sizeof(ipv6), ipv6 },   /* v6AddressesVal */
        { sohAttributeTypeVendorSpecific, sizeof(vendor), vendor }, /* vendorSpecificVal */
        { sohAttributeTypeProductName, sizeof(product), product },  /* octetStringVal */
        { sohAttributeTypeClientId, 0, NULL },                      /* octetStringVal, empty */
        { 0x123, sizeof(future), future },                          /* unknown: octetStringVal */
    };
    INapSoHProcessor *processor = create_processor();
    SoH soh = { ARRAYSIZE(attrs), attrs };
    SoHAttributeValue *value;
    SystemHealthEntityId id;
    SoHAttributeType type;
    unsigned int before, leaks = 0;
    UINT16 i;

    (void)state;
    assert_int_equal(INapSoHProcessor_Initialize(processor, &soh, FALSE, &id), S_OK);
    spy_begin();
    for (i = 0; i < ARRAYSIZE(attrs); i++)
    {
        before = malloc_spy_live();
        assert_int_equal(INapSoHProcessor_GetAttribute(processor, i, &type, &value), S_OK);
        assert_int_equal(type, attrs[i].type);
        assert_true(malloc_spy_live() > before);
        qutil.FreeSoHAttributeValue(type, value);
        if (malloc_spy_live() == before) continue;
        print_error("attribute %u (type 0x%x): %u CoTaskMem block(s) left\n", i, type, malloc_spy_live() - before);
        leaks++;
    }
    assert_int_equal(leaks, 0);
    spy_end();
    assert_int_equal(INapSoHProcessor_Release(processor), 0);
}

/* ---- what a health agent does ---- */

static const HRESULT sample_codes[] = { S_OK, NAP_E_NO_CACHED_SOH };
static const BYTE sample_vendor[] = { 0xde, 0xad, 0xbe, 0xef, 0x00 };
static const BYTE sample_ipv6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const WCHAR sample_product[] = L"sample";

static SoH *build_sample_soh(BOOL is_request)
{
    INapSoHConstructor *constructor = create_constructor();
    SoHAttributeValue value = { 0 };
    SoH *soh = NULL;

    assert_int_equal(INapSoHConstructor_Initialize(constructor, SAMPLE_SHA_ID, is_request), S_OK);
    assert_int_equal(append_codes(constructor, sohAttributeTypeComplianceResultCodes, sample_codes, 2), S_OK);
    assert_int_equal(append_vendor(constructor, 311, sample_vendor, sizeof(sample_vendor)), S_OK);
    assert_int_equal(append_uint8(constructor, sohAttributeTypeFailureCategory, failureCategoryNone), S_OK);
    assert_int_equal(append_uint8(constructor, sohAttributeTypeHealthClass, healthClassAntiVirus), S_OK);
    value.dateTimeVal.dwHighDateTime = 0x01d2c3b4;
    value.dateTimeVal.dwLowDateTime = 0xa5968778;
    assert_int_equal(INapSoHConstructor_AppendAttribute(constructor, sohAttributeTypeTimeOfLastUpdate, &value), S_OK);
    memset(&value, 0, sizeof(value));
    value.v6AddressesVal.count = 1;
    value.v6AddressesVal.addresses = (Ipv6Address *)sample_ipv6;
    assert_int_equal(INapSoHConstructor_AppendAttribute(constructor, sohAttributeTypeIpv6FixupServers, &value), S_OK);
    assert_int_equal(append_octets(constructor, sohAttributeTypeProductName, sample_product, sizeof(sample_product)),
                     S_OK);
    assert_int_equal(INapSoHConstructor_GetSoH(constructor, &soh), S_OK);
    assert_int_equal(INapSoHConstructor_Validate(constructor, soh, is_request), S_OK);
    assert_int_equal(INapSoHConstructor_Release(constructor), 0);
    return soh;
}

static void check_attribute(INapSoHProcessor *processor, SoHAttributeType wanted, UINT16 expected_location)
{
    SoHAttributeValue *value;
    SoHAttributeType type;
    UINT16 location;

    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 0, wanted, &location), S_OK);
    assert_int_equal(location, expected_location);
    assert_int_equal(INapSoHProcessor_GetAttribute(processor, location, &type, &value), S_OK);
    assert_int_equal(type, wanted);
    switch (type)
    {
    case sohAttributeTypeSystemHealthId:
        assert_int_equal(value->idVal, SAMPLE_SHA_ID);
        break;
    case sohAttributeTypeComplianceResultCodes:
        assert_int_equal(value->codesVal.count, 2);
        assert_memory_equal(value->codesVal.results, sample_codes, sizeof(sample_codes));
        break;
    case sohAttributeTypeVendorSpecific:
        assert_int_equal(value->vendorSpecificVal.vendorId, 311);
        assert_int_equal(value->vendorSpecificVal.size, sizeof(sample_vendor));
        assert_memory_equal(value->vendorSpecificVal.vendorSpecificData, sample_vendor, sizeof(sample_vendor));
        break;
    case sohAttributeTypeFailureCategory:
        assert_int_equal(value->uint8Val, failureCategoryNone);
        break;
    case sohAttributeTypeHealthClass:
        assert_int_equal(value->uint8Val, healthClassAntiVirus);
        break;
    case sohAttributeTypeTimeOfLastUpdate:
        assert_int_equal(value->dateTimeVal.dwHighDateTime, 0x01d2c3b4);
        assert_int_equal(value->dateTimeVal.dwLowDateTime, 0xa5968778);
        break;
    case sohAttributeTypeIpv6FixupServers:
        assert_int_equal(value->v6AddressesVal.count, 1);
        assert_memory_equal(value->v6AddressesVal.addresses, sample_ipv6, 16);
        break;
    case sohAttributeTypeProductName:
        assert_int_equal(value->octetStringVal.size, sizeof(sample_product));
        assert_memory_equal(value->octetStringVal.data, sample_product, sizeof(sample_product));
        break;
    default:
        fail_msg("unexpected type %d", type);
    }
    qutil.FreeSoHAttributeValue(type, value);
}

static void test_health_agent_sequences(void **state)
{
    INapSoHProcessor *processor;
    SystemHealthEntityId id = 0;
    BYTE wire[SOH_MAX_NETWORK_SIZE];
    UINT16 count, location;
    size_t len;
    SoH *soh;

    (void)state;
    processor = create_processor();
    spy_begin();
    soh = build_sample_soh(TRUE);
    len = serialise(soh, wire, sizeof(wire));
    assert_int_equal(soh_sha_validate(wire, len, 1), SOH_OK);

    /* The SHV side reads the request back. */
    assert_int_equal(INapSoHProcessor_Initialize(processor, soh, TRUE, &id), S_OK);
    qutil.FreeSoH(soh);
    assert_int_equal(id, SAMPLE_SHA_ID);
    assert_int_equal(INapSoHProcessor_GetNumberOfAttributes(processor, &count), S_OK);
    assert_int_equal(count, 8);
    check_attribute(processor, sohAttributeTypeSystemHealthId, 0);
    check_attribute(processor, sohAttributeTypeComplianceResultCodes, 1);
    check_attribute(processor, sohAttributeTypeVendorSpecific, 2);
    check_attribute(processor, sohAttributeTypeFailureCategory, 3);
    check_attribute(processor, sohAttributeTypeHealthClass, 4);
    check_attribute(processor, sohAttributeTypeTimeOfLastUpdate, 5);
    check_attribute(processor, sohAttributeTypeIpv6FixupServers, 6);
    check_attribute(processor, sohAttributeTypeProductName, 7);
    assert_int_equal(INapSoHProcessor_FindNextAttribute(processor, 0, sohAttributeTypeIpv4FixupServers, &location),
                     NOT_FOUND);
    assert_int_equal(INapSoHProcessor_Release(processor), 0);

    /* The same content as a response. */
    processor = create_processor();
    soh = build_sample_soh(FALSE);
    assert_int_equal(INapSoHProcessor_Initialize(processor, soh, FALSE, &id), S_OK);
    qutil.FreeSoH(soh);
    check_attribute(processor, sohAttributeTypeVendorSpecific, 2);
    assert_int_equal(INapSoHProcessor_Release(processor), 0);
    spy_end();
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_register_and_create),
        cmocka_unit_test(test_class_factory),
        cmocka_unit_test(test_alloc_counted_string),
        cmocka_unit_test(test_alloc_connections),
        cmocka_unit_test(test_alloc_fixup_info),
        cmocka_unit_test(test_free_functions),
        cmocka_unit_test(test_free_registration_array),
        cmocka_unit_test(test_free_soh_attribute_value),
        cmocka_unit_test(test_constructor_errors),
        cmocka_unit_test(test_constructor_known_example),
        cmocka_unit_test(test_constructor_byte_order),
        cmocka_unit_test(test_constructor_validate),
        cmocka_unit_test(test_processor_errors),
        cmocka_unit_test(test_processor_flags_and_unknown_types),
        cmocka_unit_test(test_get_attribute_then_free_value),
        cmocka_unit_test(test_health_agent_sequences),
    };
    int failures;

    test_install_crash_handler();
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    load_qutil();
    failures = cmocka_run_group_tests_name("qutil", tests, NULL, NULL);
    FreeLibrary(qutil.module);
    CoUninitialize();
    return failures;
}
