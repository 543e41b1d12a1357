/*
 * NapClientManagement (INapClientManagement2): every method and its HRESULTs against the real agent
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include "malloc_spy.h"
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include "NapEnforcementClient.h"
#include "NapManagement.h"
#include "NapManagement_i.c"
#include "NapUtil.h"
#include "napagent_rpc.h"
#include "nap_hresults.h"
#include "callback_sink.h"
#include "soh.h"

#define EC_ID       0x00013A00u   /* registered through the management object */
#define BOUND_EC_ID 0x00013A01u   /* bound through NapEnforcementClientBinding */
#define SHA_ID      0x00013B00u
#define LIMIT_FIRST 0x00013C00u   /* 21 ids for the limit tests */
#define FAILURE_URL "http://fix.example/remediate"

static HANDLE agent;

/* ---- qutil.dll's Free* exports, through GetProcAddress ---- */

static struct
{
    HMODULE module;
    __typeof__(FreeCountedString) *FreeCountedString;
    __typeof__(FreeIsolationInfo) *FreeIsolationInfo;
    __typeof__(FreeIsolationInfoEx) *FreeIsolationInfoEx;
    __typeof__(FreeNapComponentRegistrationInfoArray) *FreeNapComponentRegistrationInfoArray;
} qutil;

static BOOL load_qutil(void)
{
    WCHAR path[MAX_PATH];

    test_bin_path(L"qutil.dll", path, MAX_PATH);
    if (!(qutil.module = LoadLibraryW(path))) return FALSE;
    qutil.FreeCountedString = (void *)GetProcAddress(qutil.module, "FreeCountedString");
    qutil.FreeIsolationInfo = (void *)GetProcAddress(qutil.module, "FreeIsolationInfo");
    qutil.FreeIsolationInfoEx = (void *)GetProcAddress(qutil.module, "FreeIsolationInfoEx");
    qutil.FreeNapComponentRegistrationInfoArray =
        (void *)GetProcAddress(qutil.module, "FreeNapComponentRegistrationInfoArray");
    return qutil.FreeCountedString && qutil.FreeIsolationInfo && qutil.FreeIsolationInfoEx
           && qutil.FreeNapComponentRegistrationInfoArray;
}

/* FreeNapComponentRegistrationInfoArray takes the address of the array
 * pointer GetRegistered* filled (alloc.c says why), and NULLs it. */
static void free_registrations(UINT16 count, NapComponentRegistrationInfo *array)
{
    qutil.FreeNapComponentRegistrationInfoArray(count, &array);
    assert_null(array);
}

/* ---- the task allocator, watched (malloc_spy.c) ---- */

static void spy_begin(void)
{
    assert_int_equal(malloc_spy_begin(0), S_OK);
}

/* Everything handed out since spy_begin was freed by qutil's Free*, and only that. */
static void spy_end(void)
{
    unsigned int live = malloc_spy_live();
    LONG unknown = malloc_spy_counts().unknown_frees;

    assert_int_equal(malloc_spy_end(), S_OK);
    assert_int_equal(live, 0);
    assert_int_equal(unknown, 0);
}

/* ---- helpers ---- */

static INapClientManagement2 *create_management(void)
{
    INapClientManagement2 *management = NULL;

    assert_int_equal(CoCreateInstance(&CLSID_NapClientManagement, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapClientManagement2, (void **)&management), S_OK);
    assert_non_null(management);
    return management;
}

static void set_counted(CountedString *string, const WCHAR *text)
{
    string->length = (UINT16)wcslen(text);
    string->string = (WCHAR *)text;
}

static void fill_registration(NapComponentRegistrationInfo *info, UINT32 id, const WCHAR *name)
{
    static const GUID info_clsid = { 0x11111111, 0x2222, 0x3333, { 0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 } };

    memset(info, 0, sizeof(*info));
    info->id = id;
    set_counted(&info->friendlyName, name);
    set_counted(&info->description, L"a test component");
    set_counted(&info->version, L"1.2.3");
    set_counted(&info->vendorName, L"The open NAP client authors");
    info->infoClsid = info_clsid;
    info->componentType = ComponentTypeEnforcementClientSoH;
}

/* The entry for id in a list, or NULL. */
static const NapComponentRegistrationInfo *find_registration(const NapComponentRegistrationInfo *array, UINT16 count,
                                                             UINT32 id)
{
    UINT16 i;

    for (i = 0; i < count; i++)
        if (array[i].id == id) return &array[i];
    return NULL;
}

static void check_counted(const CountedString *string, const WCHAR *text)
{
    assert_non_null(string->string);
    assert_int_equal(string->length, wcslen(text));
    assert_int_equal(string->string[string->length], 0);
    assert_int_equal(wcscmp(string->string, text), 0);
}

/* Unregisters every SHA (none of the test's SHAs is ever bound). */
static void unregister_all_shas(INapClientManagement2 *management)
{
    NapComponentRegistrationInfo *array = NULL;
    UINT16 count = 0, i;

    assert_int_equal(INapClientManagement2_GetRegisteredSystemHealthAgents(management, &count, &array), S_OK);
    for (i = 0; i < count; i++)
        assert_int_equal(INapClientManagement2_UnregisterSystemHealthAgent(management, array[i].id), S_OK);
    free_registrations(count, array);
}

/* ---- the tests ---- */

static void test_interfaces(void **state)
{
    INapClientManagement2 *management = create_management();
    INapClientManagement *v1 = NULL;
    IUnknown *unknown = NULL;
    void *other = (void *)1;

    (void)state;
    assert_int_equal(INapClientManagement2_QueryInterface(management, &IID_INapClientManagement, (void **)&v1), S_OK);
    assert_ptr_equal(v1, management);
    assert_int_equal(INapClientManagement2_QueryInterface(management, &IID_IUnknown, (void **)&unknown), S_OK);
    assert_ptr_equal(unknown, management);
    assert_int_equal(INapClientManagement2_QueryInterface(management, &IID_INapEnforcementClientBinding, &other),
                     E_NOINTERFACE);
    assert_null(other);
    assert_int_equal(INapClientManagement2_QueryInterface(management, &IID_IUnknown, NULL), E_POINTER);
    IUnknown_Release(unknown);
    INapClientManagement_Release(v1);
    assert_int_equal(INapClientManagement2_Release(management), 0);
}

static void test_client_info(void **state)
{
    INapClientManagement2 *management = create_management();
    CountedString *name, *description, *version;
    BOOL enabled = TRUE;

    (void)state;
    assert_int_equal(test_unregister_all_ecs(), S_OK);

    spy_begin();
    assert_int_equal(INapClientManagement2_GetNapClientInfo(management, &enabled, &name, &description, &version), S_OK);
    /* Two blocks each: the struct and its string. */
    assert_int_equal(malloc_spy_live(), 6);
    assert_false(enabled);
    check_counted(name, L"Network Access Protection Agent");
    check_counted(description, L"Open NAP client: enforcement and health agents for Wine");
    check_counted(version, L"1.0");
    qutil.FreeCountedString(name);
    qutil.FreeCountedString(description);
    qutil.FreeCountedString(version);
    spy_end();

    /* A registered but disabled EC does not enable NAP; an enabled one does. */
    assert_int_equal(test_register_ec(EC_ID, FALSE), S_OK);
    assert_int_equal(INapClientManagement2_GetNapClientInfo(management, &enabled, &name, &description, &version), S_OK);
    assert_false(enabled);
    qutil.FreeCountedString(name);
    qutil.FreeCountedString(description);
    qutil.FreeCountedString(version);
    assert_int_equal(test_register_ec(EC_ID, TRUE), S_OK);
    assert_int_equal(INapClientManagement2_GetNapClientInfo(management, &enabled, &name, &description, &version), S_OK);
    assert_true(enabled);
    qutil.FreeCountedString(name);
    qutil.FreeCountedString(description);
    qutil.FreeCountedString(version);
    assert_int_equal(test_unregister_ec(EC_ID), S_OK);

    assert_int_equal(INapClientManagement2_GetNapClientInfo(management, NULL, &name, &description, &version), E_POINTER);
    assert_int_equal(INapClientManagement2_GetNapClientInfo(management, &enabled, NULL, &description, &version), E_POINTER);
    assert_int_equal(INapClientManagement2_GetNapClientInfo(management, &enabled, &name, NULL, &version), E_POINTER);
    assert_int_equal(INapClientManagement2_GetNapClientInfo(management, &enabled, &name, &description, NULL), E_POINTER);
    INapClientManagement2_Release(management);
}

/* Register, read back, conflict, unregister, unknown: the same for both kinds. */
struct kind
{
    HRESULT (WINAPI *reg)(INapClientManagement2 *, const NapComponentRegistrationInfo *);
    HRESULT (WINAPI *unreg)(INapClientManagement2 *, NapComponentId);
    HRESULT (WINAPI *list)(INapClientManagement2 *, UINT16 *, NapComponentRegistrationInfo **);
    BOOL is_sha;
};

static struct kind ec_kind(INapClientManagement2 *management)
{
    struct kind kind = { management->lpVtbl->RegisterEnforcementClient, management->lpVtbl->UnregisterEnforcementClient,
                         management->lpVtbl->GetRegisteredEnforcementClients, FALSE };
    return kind;
}

static struct kind sha_kind(INapClientManagement2 *management)
{
    struct kind kind = { management->lpVtbl->RegisterSystemHealthAgent, management->lpVtbl->UnregisterSystemHealthAgent,
                         management->lpVtbl->GetRegisteredSystemHealthAgents, TRUE };
    return kind;
}

static void check_register_cycle(const struct kind *kind, UINT32 id)
{
    INapClientManagement2 *management = create_management();
    const NapComponentRegistrationInfo *found;
    NapComponentRegistrationInfo info, *array = NULL;
    FILETIME before;
    UINT16 count = 0;

    kind->unreg(management, id);
    fill_registration(&info, id, L"management test");
    /* Ignored on registration: the agent stamps its own. */
    info.registrationDate.dwLowDateTime = 1;
    GetSystemTimeAsFileTime(&before);
    assert_int_equal(kind->reg(management, &info), S_OK);
    assert_int_equal(kind->reg(management, &info), NAP_E_CONFLICTING_ID);

    spy_begin();
    assert_int_equal(kind->list(management, &count, &array), S_OK);
    assert_true(count >= 1);
    /* One array, and four strings per entry. */
    assert_int_equal(malloc_spy_live(), 1 + 4u * count);
    assert_non_null(found = find_registration(array, count, id));
    check_counted(&found->friendlyName, L"management test");
    check_counted(&found->description, L"a test component");
    check_counted(&found->version, L"1.2.3");
    check_counted(&found->vendorName, L"The open NAP client authors");
    assert_memory_equal(&found->infoClsid, &info.infoClsid, sizeof(GUID));
    assert_memory_equal(&found->configClsid, &GUID_NULL, sizeof(GUID));
    assert_true(CompareFileTime(&found->registrationDate, &before) >= 0);
    /* An SHA's componentType is ignored (reference §7): read back as 0. */
    assert_int_equal(found->componentType, kind->is_sha ? 0 : ComponentTypeEnforcementClientSoH);
    free_registrations(count, array);
    spy_end();

    assert_int_equal(kind->unreg(management, id), S_OK);
    assert_int_equal(kind->unreg(management, id), NAP_E_NOT_REGISTERED);
    assert_int_equal(kind->list(management, &count, &array), S_OK);
    assert_null(find_registration(array, count, id));
    free_registrations(count, array);
    INapClientManagement2_Release(management);
}

static void check_register_arguments(const struct kind *kind, UINT32 id)
{
    INapClientManagement2 *management = create_management();
    NapComponentRegistrationInfo info;
    static WCHAR long_name[maxStringLength + 2];
    UINT16 count;
    NapComponentRegistrationInfo *array;

    kind->unreg(management, id);
    assert_int_equal(kind->reg(management, NULL), E_POINTER);
    assert_int_equal(kind->list(management, NULL, &array), E_POINTER);
    assert_int_equal(kind->list(management, &count, NULL), E_POINTER);

    /* maxStringLength characters fit, one more does not, in every string. */
    wmemset(long_name, 'n', maxStringLength + 1);
    long_name[maxStringLength + 1] = 0;
    fill_registration(&info, id, long_name);
    assert_int_equal(kind->reg(management, &info), E_INVALIDARG);
    fill_registration(&info, id, L"x");
    set_counted(&info.description, long_name);
    assert_int_equal(kind->reg(management, &info), E_INVALIDARG);
    fill_registration(&info, id, L"x");
    set_counted(&info.version, long_name);
    assert_int_equal(kind->reg(management, &info), E_INVALIDARG);
    fill_registration(&info, id, L"x");
    set_counted(&info.vendorName, long_name);
    assert_int_equal(kind->reg(management, &info), E_INVALIDARG);
    /* A length without a buffer, and id 0. */
    fill_registration(&info, id, L"x");
    info.version.string = NULL;
    assert_int_equal(kind->reg(management, &info), E_INVALIDARG);
    fill_registration(&info, 0, L"x");
    assert_int_equal(kind->reg(management, &info), E_INVALIDARG);
    assert_int_equal(kind->unreg(management, id), NAP_E_NOT_REGISTERED);

    /* Exactly maxStringLength, and empty strings (length 0, no buffer). */
    long_name[maxStringLength] = 0;
    fill_registration(&info, id, long_name);
    info.vendorName.length = 0;
    info.vendorName.string = NULL;
    assert_int_equal(kind->reg(management, &info), S_OK);
    assert_int_equal(kind->list(management, &count, &array), S_OK);
    assert_non_null(find_registration(array, count, id));
    assert_int_equal(find_registration(array, count, id)->friendlyName.length, maxStringLength);
    check_counted(&find_registration(array, count, id)->vendorName, L"");
    free_registrations(count, array);
    assert_int_equal(kind->unreg(management, id), S_OK);
    INapClientManagement2_Release(management);
}

static void test_ec_registration(void **state)
{
    INapClientManagement2 *management = create_management();
    struct kind kind = ec_kind(management);

    (void)state;
    check_register_cycle(&kind, EC_ID);
    check_register_arguments(&kind, EC_ID);
    INapClientManagement2_Release(management);
}

static void test_sha_registration(void **state)
{
    INapClientManagement2 *management = create_management();
    struct kind kind = sha_kind(management);

    (void)state;
    check_register_cycle(&kind, SHA_ID);
    check_register_arguments(&kind, SHA_ID);
    INapClientManagement2_Release(management);
}

/* An EC and an SHA may share an id: the lists are separate. */
static void test_same_id_both_kinds(void **state)
{
    INapClientManagement2 *management = create_management();
    NapComponentRegistrationInfo info;

    (void)state;
    fill_registration(&info, SHA_ID, L"both");
    assert_int_equal(INapClientManagement2_RegisterSystemHealthAgent(management, &info), S_OK);
    assert_int_equal(INapClientManagement2_RegisterEnforcementClient(management, &info), S_OK);
    assert_int_equal(INapClientManagement2_UnregisterEnforcementClient(management, SHA_ID), S_OK);
    assert_int_equal(INapClientManagement2_UnregisterSystemHealthAgent(management, SHA_ID), S_OK);
    INapClientManagement2_Release(management);
}

static void check_limit(const struct kind *kind)
{
    INapClientManagement2 *management = create_management();
    NapComponentRegistrationInfo info, *array = NULL;
    UINT16 count = 0;
    UINT32 i;

    for (i = 0; i < 20; i++)
    {
        fill_registration(&info, LIMIT_FIRST + i, L"limit");
        assert_int_equal(kind->reg(management, &info), S_OK);
    }
    fill_registration(&info, LIMIT_FIRST + 20, L"limit");
    assert_int_equal(kind->reg(management, &info), E_OUTOFMEMORY);
    assert_int_equal(kind->list(management, &count, &array), S_OK);
    assert_int_equal(count, 20);
    free_registrations(count, array);
    for (i = 0; i < 20; i++) assert_int_equal(kind->unreg(management, LIMIT_FIRST + i), S_OK);
    /* Nothing registered: count 0 and no array. */
    array = (void *)1;
    assert_int_equal(kind->list(management, &count, &array), S_OK);
    assert_int_equal(count, 0);
    assert_null(array);
    INapClientManagement2_Release(management);
}

static void test_sha_limit(void **state)
{
    INapClientManagement2 *management = create_management();
    struct kind kind = sha_kind(management);

    (void)state;
    unregister_all_shas(management);
    check_limit(&kind);
    INapClientManagement2_Release(management);
}

static void test_ec_limit(void **state)
{
    INapClientManagement2 *management = create_management();
    struct kind kind = ec_kind(management);

    (void)state;
    assert_int_equal(test_unregister_all_ecs(), S_OK);
    check_limit(&kind);
    INapClientManagement2_Release(management);
}

/* ---- a bound EC: still-bound, and the system isolation after exchanges ---- */

struct bound_ec
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connections[2];
};

static void bind_ec(struct bound_ec *ec, UINT32 id)
{
    unsigned int i;
    GUID guid;

    callback_sink_init(&ec->sink);
    assert_int_equal(test_register_ec(id, TRUE), S_OK);
    assert_int_equal(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&ec->binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(ec->binding, id, &ec->sink.INapEnforcementClientCallback_iface),
                     S_OK);
    for (i = 0; i < ARRAYSIZE(ec->connections); i++)
    {
        assert_int_equal(INapEnforcementClientBinding_CreateConnection(ec->binding, &ec->connections[i]), S_OK);
        CoCreateGuid(&guid);
        INapEnforcementClientConnection_SetConnectionId(ec->connections[i], &guid);
        ec->sink.connections[i] = ec->connections[i];
    }
    ec->sink.connection_count = ARRAYSIZE(ec->connections);
}

static void unbind_ec(struct bound_ec *ec)
{
    unsigned int i;

    assert_int_equal(INapEnforcementClientBinding_Uninitialize(ec->binding), S_OK);
    for (i = 0; i < ARRAYSIZE(ec->connections); i++) INapEnforcementClientConnection_Release(ec->connections[i]);
    INapEnforcementClientBinding_Release(ec->binding);
}

/* Answers the connection's current request with `state` and a failure URL. */
static void answer(INapEnforcementClientConnection *connection, UINT8 state)
{
    NetworkSoHRequest *request = NULL;
    struct soh_request decoded;
    struct soh_response response;
    NetworkSoHResponse soh;
    BYTE bytes[512];
    size_t size;

    assert_int_equal(INapEnforcementClientConnection_GetSoHRequest(connection, &request), S_OK);
    assert_int_equal(soh_decode_request(request->data, request->size, &decoded), SOH_OK);
    CoTaskMemFree(request->data);
    CoTaskMemFree(request);
    memset(&response, 0, sizeof(response));
    response.with_mode_header = 1;
    response.has_correlation = 1;
    response.correlation = decoded.correlation;
    response.quarantine.state = state;
    response.quarantine.prob_time = SOH_PROB_TIME_NONE;
    response.quarantine.url_len = sizeof(FAILURE_URL) - 1;
    memcpy(response.quarantine.url, FAILURE_URL, sizeof(FAILURE_URL) - 1);
    assert_int_equal(soh_encode_response(&response, bytes, sizeof(bytes), &size), SOH_OK);
    soh.size = (UINT16)size;
    soh.data = bytes;
    assert_int_equal(INapEnforcementClientConnection_SetSoHResponse(connection, &soh), S_OK);
}

static void exchange(struct bound_ec *ec, unsigned int index, UINT8 state)
{
    BOOL retrigger;

    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(ec->binding, ec->connections[index], &retrigger), S_OK);
    answer(ec->connections[index], state);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(ec->binding, ec->connections[index]), S_OK);
}

static void test_ec_still_bound(void **state)
{
    INapClientManagement2 *management = create_management();
    struct bound_ec ec;

    (void)state;
    bind_ec(&ec, BOUND_EC_ID);
    assert_int_equal(INapClientManagement2_UnregisterEnforcementClient(management, BOUND_EC_ID), NAP_E_STILL_BOUND);
    unbind_ec(&ec);
    assert_int_equal(INapClientManagement2_UnregisterEnforcementClient(management, BOUND_EC_ID), S_OK);
    INapClientManagement2_Release(management);
}

static void get_isolation(INapClientManagement2 *management, IsolationState expected_state, BOOL expected_unknown,
                          const WCHAR *expected_url)
{
    IsolationInfoEx *info_ex = NULL;
    IsolationInfo *info = NULL;
    BOOL unknown = !expected_unknown;

    spy_begin();
    assert_int_equal(INapClientManagement2_GetSystemIsolationInfo(management, &info, &unknown), S_OK);
    assert_int_equal(malloc_spy_live(), 2);
    assert_int_equal(info->isolationState, expected_state);
    assert_int_equal(unknown, expected_unknown);
    check_counted(&info->failureUrl, expected_url);
    qutil.FreeIsolationInfo(info);

    unknown = !expected_unknown;
    assert_int_equal(INapClientManagement2_GetSystemIsolationInfoEx(management, &info_ex, &unknown), S_OK);
    assert_int_equal(malloc_spy_live(), 2);
    assert_int_equal(info_ex->isolationState, expected_state);
    assert_int_equal(info_ex->extendedIsolationState, extendedIsolationStateNoData);
    assert_int_equal(unknown, expected_unknown);
    check_counted(&info_ex->failureUrl, expected_url);
    qutil.FreeIsolationInfoEx(info_ex);
    spy_end();
}

static void test_system_isolation(void **state)
{
    INapClientManagement2 *management = create_management();
    IsolationInfoEx *info_ex;
    IsolationInfo *info;
    struct bound_ec ec;
    BOOL unknown, retrigger;

    (void)state;
    /* No EC bound: nothing restricts the system. */
    get_isolation(management, isolationStateNotRestricted, FALSE, L"");

    bind_ec(&ec, BOUND_EC_ID);
    exchange(&ec, 0, isolationStateRestrictedAccess);
    get_isolation(management, isolationStateRestrictedAccess, FALSE, L"" FAILURE_URL);

    /* A second connection with a request and no answer yet: its state is
     * unknown, which raises the flag and leaves the state as it was.  The
     * agent recomputes on decisions, so the first connection answers again. */
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(ec.binding, ec.connections[1], &retrigger), S_OK);
    exchange(&ec, 0, isolationStateRestrictedAccess);
    get_isolation(management, isolationStateRestrictedAccess, TRUE, L"" FAILURE_URL);

    /* Both answered, one fine, one restricted: the worst wins. */
    answer(ec.connections[1], isolationStateNotRestricted);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(ec.binding, ec.connections[1]), S_OK);
    get_isolation(management, isolationStateRestrictedAccess, FALSE, L"" FAILURE_URL);
    exchange(&ec, 0, isolationStateNotRestricted);
    get_isolation(management, isolationStateNotRestricted, FALSE, L"" FAILURE_URL);

    unbind_ec(&ec);
    get_isolation(management, isolationStateNotRestricted, FALSE, L"");
    assert_int_equal(test_unregister_ec(BOUND_EC_ID), S_OK);

    assert_int_equal(INapClientManagement2_GetSystemIsolationInfo(management, NULL, &unknown), E_POINTER);
    assert_int_equal(INapClientManagement2_GetSystemIsolationInfo(management, &info, NULL), E_POINTER);
    assert_int_equal(INapClientManagement2_GetSystemIsolationInfoEx(management, NULL, &unknown), E_POINTER);
    assert_int_equal(INapClientManagement2_GetSystemIsolationInfoEx(management, &info_ex, NULL), E_POINTER);
    INapClientManagement2_Release(management);
}

/* ---- the agent down ---- */

static void test_agent_down(void **state)
{
    INapClientManagement2 *management = create_management();
    NapComponentRegistrationInfo info, *array = (void *)1;
    CountedString *name = (void *)1, *description = (void *)1, *version = (void *)1;
    IsolationInfoEx *info_ex = (void *)1;
    IsolationInfo *isolation = (void *)1;
    BOOL flag;
    UINT16 count = 1;

    (void)state;
    fill_registration(&info, EC_ID, L"down");
    test_kill_agent(agent);
    agent = NULL;

    assert_int_equal(INapClientManagement2_GetNapClientInfo(management, &flag, &name, &description, &version),
                     RPC_E_DISCONNECTED);
    assert_null(name);
    assert_null(description);
    assert_null(version);
    assert_int_equal(INapClientManagement2_GetSystemIsolationInfo(management, &isolation, &flag), RPC_E_DISCONNECTED);
    assert_null(isolation);
    assert_int_equal(INapClientManagement2_GetSystemIsolationInfoEx(management, &info_ex, &flag), RPC_E_DISCONNECTED);
    assert_null(info_ex);
    assert_int_equal(INapClientManagement2_RegisterSystemHealthAgent(management, &info), RPC_E_DISCONNECTED);
    assert_int_equal(INapClientManagement2_UnregisterSystemHealthAgent(management, SHA_ID), RPC_E_DISCONNECTED);
    assert_int_equal(INapClientManagement2_RegisterEnforcementClient(management, &info), RPC_E_DISCONNECTED);
    assert_int_equal(INapClientManagement2_UnregisterEnforcementClient(management, EC_ID), RPC_E_DISCONNECTED);
    assert_int_equal(INapClientManagement2_GetRegisteredSystemHealthAgents(management, &count, &array),
                     RPC_E_DISCONNECTED);
    assert_int_equal(count, 0);
    assert_null(array);
    count = 1;
    array = (void *)1;
    assert_int_equal(INapClientManagement2_GetRegisteredEnforcementClients(management, &count, &array),
                     RPC_E_DISCONNECTED);
    assert_int_equal(count, 0);
    assert_null(array);

    /* The same object works again once an agent is back. */
    assert_non_null(agent = test_start_agent());
    assert_int_equal(INapClientManagement2_GetRegisteredEnforcementClients(management, &count, &array), S_OK);
    free_registrations(count, array);
    INapClientManagement2_Release(management);
}

static int setup(void **state)
{
    (void)state;
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED))) return -1;
    if (!load_qutil()) return -1;
    if (test_register_qagent() != 0) return -1;
    if (!(agent = test_start_agent())) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_kill_agent(agent);
    CoUninitialize();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_interfaces),
        cmocka_unit_test(test_client_info),
        cmocka_unit_test(test_ec_registration),
        cmocka_unit_test(test_sha_registration),
        cmocka_unit_test(test_same_id_both_kinds),
        cmocka_unit_test(test_sha_limit),
        cmocka_unit_test(test_ec_limit),
        cmocka_unit_test(test_ec_still_bound),
        cmocka_unit_test(test_system_isolation),
        cmocka_unit_test(test_agent_down),
    };

    test_install_crash_handler();
    return cmocka_run_group_tests(tests, setup, teardown);
}
