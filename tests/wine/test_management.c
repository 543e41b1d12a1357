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
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "NapEnforcementClient.h"
#include "NapManagement.h"
#include "NapManagement_i.c"
#include "NapUtil.h"
#include "napagent_rpc.h"
#include "agent_settings.h"
#include "nap_hresults.h"
#include "callback_sink.h"
#include "service_control.h"
#include "soh.h"

#define EC_ID       0x00013A00u   /* registered through the management object */
#define BOUND_EC_ID 0x00013A01u   /* bound through NapEnforcementClientBinding */
#define SHA_ID      0x00013B00u
#define LIMIT_FIRST 0x00013C00u   /* 21 ids for the limit tests */
#define FAILURE_URL "http://fix.example/remediate"
/* How long a management call may take when no agent runs and no service is
 * installed: it must fail at once, not wait for a start. */
#define NOT_INSTALLED_MS 2000
/* A service start measured here takes well under a second; the client waits up to 15 s. */
#define SERVICE_RUNNING_MS 5000

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
    /* An SHA's componentType is ignored (docs/nap-facts.md, Management): read back as 0. */
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

/* ---- what someone wrote straight into the registry ---- */

#define AGENT_KEY      L"System\\CurrentControlSet\\Control\\NapAgent"  /* the agent's state */
#define PARAMETERS_KEY AGENT_KEY L"\\Parameters"
#define INVALID_ID     0x00013D00u  /* two ids whose keys do not read back */
/* Ranges from src/common/agent_settings.c, as docs/registry-layout.md gives them. */
#define CLIENT_TIMEOUT_MAX_MS  10000
#define RETRY_INTERVAL_MIN_MS  10
#define RETRY_INTERVAL_MAX_MS  86400000
#define LOG_MIN_BYTES          4096
#define LOG_LINE_MAX           2048

static void set_parameter(const WCHAR *name, DWORD type, const void *data, DWORD size)
{
    assert_int_equal(RegSetKeyValueW(HKEY_LOCAL_MACHINE, PARAMETERS_KEY, name, type, data, size), ERROR_SUCCESS);
}

static void set_dword_parameter(const WCHAR *name, DWORD value)
{
    set_parameter(name, REG_DWORD, &value, sizeof(value));
}

static void delete_parameter(const WCHAR *name)
{
    RegDeleteKeyValueW(HKEY_LOCAL_MACHINE, PARAMETERS_KEY, name);
}

/* Sub-keys of a store that are no registration: names that are no id (one
 * with a leading zero among them), and two ids whose values do not read back. */
static const WCHAR *const invalid_names[] = { L"junk", L"0", L"99999999999", L"012345" };

static void create_invalid_keys(const WCHAR *store)
{
    static const DWORD not_a_string = 1;
    WCHAR name[16];
    HKEY root, key;
    unsigned int i;

    assert_int_equal(RegCreateKeyExW(HKEY_LOCAL_MACHINE, store, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &root, NULL), 0);
    for (i = 0; i < ARRAYSIZE(invalid_names); i++)
    {
        assert_int_equal(RegCreateKeyExW(root, invalid_names[i], 0, NULL, 0, KEY_ALL_ACCESS, NULL, &key, NULL), 0);
        RegCloseKey(key);
    }
    swprintf(name, ARRAYSIZE(name), L"%u", INVALID_ID);
    assert_int_equal(RegSetKeyValueW(root, name, L"FriendlyName", REG_DWORD, &not_a_string, sizeof(DWORD)), 0);
    swprintf(name, ARRAYSIZE(name), L"%u", INVALID_ID + 1);
    assert_int_equal(RegSetKeyValueW(root, name, L"InfoClsid", REG_SZ, L"not a GUID", sizeof(L"not a GUID")), 0);
    RegCloseKey(root);
}

static void delete_invalid_keys(const WCHAR *store)
{
    WCHAR name[16];
    HKEY root;
    unsigned int i;

    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, store, 0, KEY_ALL_ACCESS, &root)) return;
    for (i = 0; i < ARRAYSIZE(invalid_names); i++) RegDeleteTreeW(root, invalid_names[i]);
    swprintf(name, ARRAYSIZE(name), L"%u", INVALID_ID);
    RegDeleteTreeW(root, name);
    swprintf(name, ARRAYSIZE(name), L"%u", INVALID_ID + 1);
    RegDeleteTreeW(root, name);
    RegCloseKey(root);
}

/* Keys the list skips do not use up the 20 places: 20 registrations still
 * succeed beside 6 invalid keys, the list shows 20 and a 21st is refused. */
static void test_limit_counts_what_the_list_shows(void **state)
{
    INapClientManagement2 *management = create_management();
    struct kind ecs = ec_kind(management), shas = sha_kind(management);

    (void)state;
    assert_int_equal(test_unregister_all_ecs(), S_OK);
    unregister_all_shas(management);
    create_invalid_keys(AGENT_KEY L"\\Enforcers");
    create_invalid_keys(AGENT_KEY L"\\Shas");
    check_limit(&ecs);
    check_limit(&shas);
    delete_invalid_keys(AGENT_KEY L"\\Enforcers");
    delete_invalid_keys(AGENT_KEY L"\\Shas");
    INapClientManagement2_Release(management);
}

static DWORD retry_interval_in_use(void)
{
    NAPAGENT_STATE state;

    memset(&state, 0, sizeof(state));
    assert_int_equal(test_get_state(&state), S_OK);
    return state.retry_interval_ms;
}

/* The writer refuses what the readers would clamp, at the same bounds; a
 * value written past the writer is clamped, one of another type ignored. */
static void test_agent_settings_clamped(void **state)
{
    (void)state;
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, CLIENT_TIMEOUT_MAX_MS + 1), E_INVALIDARG);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, 9), E_INVALIDARG);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, CLIENT_TIMEOUT_MAX_MS), S_OK);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, 5000), S_OK);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_RETRY_INTERVAL_MS, RETRY_INTERVAL_MAX_MS + 1), E_INVALIDARG);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_RETRY_INTERVAL_MS, RETRY_INTERVAL_MIN_MS - 1), E_INVALIDARG);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_SHA_TIMEOUT_MS, 600001), E_INVALIDARG);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_FIXUP_POLL_MS, 3600001), E_INVALIDARG);
    assert_int_equal(test_set_setting(99, 1000), E_INVALIDARG);

    set_dword_parameter(L"SoHChangeRetryIntervalMs", 0xffffffff);
    assert_int_equal(retry_interval_in_use(), RETRY_INTERVAL_MAX_MS);
    set_dword_parameter(L"SoHChangeRetryIntervalMs", 0);
    assert_int_equal(retry_interval_in_use(), RETRY_INTERVAL_MIN_MS);
    set_parameter(L"SoHChangeRetryIntervalMs", REG_SZ, L"200", sizeof(L"200"));
    assert_int_equal(retry_interval_in_use(), 30000);
    assert_int_equal(test_set_retry_interval(30000), S_OK);
    assert_int_equal(retry_interval_in_use(), 30000);
}

static DWORD WINAPI resume_agent_later(void *done)
{
    /* A bound that does not hold fails the test rather than hanging it. */
    WaitForSingleObject(done, CLIENT_TIMEOUT_MAX_MS * 3);
    test_resume_process(agent);
    return 0;
}

/* How the issue found it: ClientCallTimeoutMs = 0xFFFFFFFF written straight
 * into the registry turned the bound off.  Clamped to its maximum, a call to
 * a hung agent still ends with RPC_E_TIMEOUT after that maximum. */
static void test_call_timeout_clamped(void **state)
{
    HANDLE done = CreateEventW(NULL, TRUE, FALSE, NULL), guard;
    struct bound_ec ec;
    DWORD start, ms;
    BOOL retrigger;
    HRESULT hr;

    (void)state;
    set_dword_parameter(L"ClientCallTimeoutMs", 0xffffffff);
    bind_ec(&ec, BOUND_EC_ID); /* Initialize reads the bound */
    exchange(&ec, 0, isolationStateNotRestricted);

    assert_true(test_suspend_process(agent));
    assert_non_null(guard = CreateThread(NULL, 0, resume_agent_later, done, 0, NULL));
    start = GetTickCount();
    hr = INapEnforcementClientBinding_GetSoHRequest(ec.binding, ec.connections[0], &retrigger);
    ms = GetTickCount() - start;
    SetEvent(done);
    WaitForSingleObject(guard, INFINITE);
    CloseHandle(guard);
    CloseHandle(done);
    delete_parameter(L"ClientCallTimeoutMs");
    print_message("GetSoHRequest on a hung agent: 0x%08lx after %lu ms (clamped bound %u ms)\n", hr, ms,
                  CLIENT_TIMEOUT_MAX_MS);
    assert_int_equal(hr, RPC_E_TIMEOUT);
    assert_true(ms + 20 >= CLIENT_TIMEOUT_MAX_MS && ms < CLIENT_TIMEOUT_MAX_MS + 3000);

    exchange(&ec, 0, isolationStateNotRestricted); /* the agent answers again */
    unbind_ec(&ec);
    assert_int_equal(test_unregister_ec(BOUND_EC_ID), S_OK);
}

/* (ULONGLONG)-1 when there is no such file. */
static ULONGLONG file_size(const WCHAR *path)
{
    WIN32_FILE_ATTRIBUTE_DATA data;

    if (!GetFileAttributesExW(path, GetFileExInfoStandard, &data)) return (ULONGLONG)-1;
    return (ULONGLONG)data.nFileSizeHigh << 32 | data.nFileSizeLow;
}

/* TRUE when the file's text contains what. */
static BOOL file_contains(const WCHAR *path, const char *what)
{
    static char text[LOG_MIN_BYTES * 4 + 1];
    HANDLE file;
    DWORD read = 0;

    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                       OPEN_EXISTING, 0, NULL);
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    ReadFile(file, text, sizeof(text) - 1, &read, NULL);
    CloseHandle(file);
    text[read] = 0;
    return strstr(text, what) != NULL;
}

/* The agent's log stays bounded: past LogMaxBytes it moves to <log>.1 and
 * starts again.  The cap written here is below its minimum, which applies. */
static void test_log_is_bounded(void **state)
{
    INapClientManagement2 *management;
    NapComponentRegistrationInfo info;
    WCHAR log[MAX_PATH], old_log[MAX_PATH];
    ULONGLONG size, old_size;
    char last_line[64];
    BOOL has_last_line;
    unsigned int i;

    (void)state;
    test_bin_path(L"napagent-test.log", log, MAX_PATH);
    swprintf(old_log, ARRAYSIZE(old_log), L"%ls.1", log);
    set_dword_parameter(L"LogMaxBytes", 1);
    test_kill_agent(agent);
    assert_non_null(agent = test_start_agent()); /* the cap is read at start */

    /* Two log lines of about 80 bytes a round: some 30 KB in all. */
    management = create_management();
    fill_registration(&info, EC_ID, L"log");
    for (i = 0; i < 200; i++)
    {
        assert_int_equal(INapClientManagement2_RegisterEnforcementClient(management, &info), S_OK);
        assert_int_equal(INapClientManagement2_UnregisterEnforcementClient(management, EC_ID), S_OK);
    }
    INapClientManagement2_Release(management);
    size = file_size(log);
    old_size = file_size(old_log);
    snprintf(last_line, sizeof(last_line), "store: unregister EC %u: 0x00000000", EC_ID);
    has_last_line = file_contains(log, last_line);

    delete_parameter(L"LogMaxBytes");
    test_kill_agent(agent);
    assert_non_null(agent = test_start_agent());
    print_message("log %llu bytes, log.1 %llu bytes (cap %u)\n", size, old_size, LOG_MIN_BYTES);
    assert_true(size > 0 && size <= LOG_MIN_BYTES);
    assert_true(old_size != (ULONGLONG)-1 && old_size <= LOG_MIN_BYTES);
    /* Rotated near the cap, not at every line: the minimum applied, not 1. */
    assert_true(old_size > LOG_MIN_BYTES - LOG_LINE_MAX);
    assert_true(has_last_line);
}

/* The agent reads Parameters\LogLevel again at most once a second. */
#define LEVEL_READ_MS 1000

/* What the agent logged from byte `from` of its log on, as text; after a
 * rotation, the rest of <log>.1 and then the new log. */
static char *read_log_since(ULONGLONG from)
{
    WCHAR log[MAX_PATH], old_log[MAX_PATH];
    const WCHAR *parts[2];
    ULONGLONG capacity = 0, size, part_size;
    unsigned int count = 0, i;
    char *text;
    HANDLE file;
    DWORD read;

    test_bin_path(L"napagent-test.log", log, MAX_PATH);
    swprintf(old_log, ARRAYSIZE(old_log), L"%ls.1", log);
    /* A log shorter than `from` was rotated since. */
    if (file_size(log) < from) parts[count++] = old_log;
    parts[count++] = log;
    for (i = 0; i < count; i++) capacity += file_size(parts[i]) == (ULONGLONG)-1 ? 0 : file_size(parts[i]);
    assert_non_null(text = calloc(1, capacity + 1));
    for (size = 0, i = 0; i < count; i++)
    {
        file = CreateFileW(parts[i], GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, 0, NULL);
        if (file == INVALID_HANDLE_VALUE) continue;
        /* Only the first part starts at `from`; lines logged since the sizes were taken do not fit. */
        if (i) from = 0;
        part_size = min(file_size(parts[i]), from + capacity - size);
        SetFilePointer(file, (LONG)from, NULL, FILE_BEGIN);
        if (part_size > from && ReadFile(file, text + size, (DWORD)(part_size - from), &read, NULL)) size += read;
        CloseHandle(file);
    }
    text[size] = 0;
    return text;
}

/* Registers and unregisters EC_ID at one level of the agent's log; the log's lines for it. */
static char *log_of_registration(INapClientManagement2 *management)
{
    NapComponentRegistrationInfo info;
    WCHAR log[MAX_PATH];
    ULONGLONG from;

    test_bin_path(L"napagent-test.log", log, MAX_PATH);
    from = file_size(log) == (ULONGLONG)-1 ? 0 : file_size(log);
    fill_registration(&info, EC_ID, L"log level");
    assert_int_equal(INapClientManagement2_RegisterEnforcementClient(management, &info), S_OK);
    assert_int_equal(INapClientManagement2_UnregisterEnforcementClient(management, EC_ID), S_OK);
    return read_log_since(from);
}

/* Once the agent has read the level again, which of a registration's lines
 * its log keeps: the store's info line, the call's trace line. */
static void check_log_keeps(INapClientManagement2 *management, BOOL info, BOOL trace)
{
    char trace_line[64], info_line[64];
    char *text;

    snprintf(trace_line, sizeof(trace_line), "trace: NapAgentUnregister(EC %u): 0x00000000", EC_ID);
    snprintf(info_line, sizeof(info_line), "info: store: unregister EC %u: 0x00000000", EC_ID);
    Sleep(LEVEL_READ_MS + 200);
    text = log_of_registration(management);
    assert_int_equal(strstr(text, info_line) != NULL, info);
    assert_int_equal(strstr(text, trace_line) != NULL, trace);
    free(text);
}

/* Parameters\LogLevel (napctl set log-level) switches the agent's log
 * between error, warning, info (the default) and trace, without a restart:
 * each call to the agent is a trace line, seen only at trace.  A value
 * written past the writer is clamped, as every setting is. */
static void test_log_level(void **state)
{
    INapClientManagement2 *management = create_management();

    (void)state;
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_LOG_LEVEL, AGENT_LOG_TRACE + 1), E_INVALIDARG);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_LOG_LEVEL, AGENT_LOG_ERROR - 1), E_INVALIDARG);
    check_log_keeps(management, TRUE, FALSE);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_LOG_LEVEL, AGENT_LOG_TRACE), S_OK);
    check_log_keeps(management, TRUE, TRUE);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_LOG_LEVEL, AGENT_LOG_INFO), S_OK);
    check_log_keeps(management, TRUE, FALSE);
    /* 0 is below error: clamped to it, which keeps no info line. */
    set_dword_parameter(L"LogLevel", 0);
    check_log_keeps(management, FALSE, FALSE);
    delete_parameter(L"LogLevel");
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
    DWORD start;

    (void)state;
    fill_registration(&info, EC_ID, L"down");
    test_kill_agent(agent);
    agent = NULL;
    /* No agent and no service installed: every call says so at once. */
    assert_true(test_service_uninstall());
    start = GetTickCount();

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
    assert_in_range(GetTickCount() - start, 0, NOT_INSTALLED_MS);

    /* The same object works again once an agent is back. */
    assert_non_null(agent = test_start_agent());
    assert_int_equal(INapClientManagement2_GetRegisteredEnforcementClients(management, &count, &array), S_OK);
    free_registrations(count, array);
    INapClientManagement2_Release(management);
}

/* ---- the service installed and stopped: every call starts it ---- */

/* One management call that needs the agent, checked and its results freed. */
struct started_call
{
    const char *name;
    void (*call)(INapClientManagement2 *management);
};

static void call_register_sha(INapClientManagement2 *management)
{
    NapComponentRegistrationInfo info;

    fill_registration(&info, SHA_ID, L"installer's SHA");
    assert_int_equal(INapClientManagement2_RegisterSystemHealthAgent(management, &info), S_OK);
}

static void call_register_ec(INapClientManagement2 *management)
{
    NapComponentRegistrationInfo info;

    fill_registration(&info, EC_ID, L"installer's EC");
    assert_int_equal(INapClientManagement2_RegisterEnforcementClient(management, &info), S_OK);
}

/* The registrations made while the service was stopped in between are there. */
static void call_list_shas(INapClientManagement2 *management)
{
    NapComponentRegistrationInfo *array = NULL;
    UINT16 count = 0;

    assert_int_equal(INapClientManagement2_GetRegisteredSystemHealthAgents(management, &count, &array), S_OK);
    assert_non_null(find_registration(array, count, SHA_ID));
    free_registrations(count, array);
}

static void call_list_ecs(INapClientManagement2 *management)
{
    NapComponentRegistrationInfo *array = NULL;
    UINT16 count = 0;

    assert_int_equal(INapClientManagement2_GetRegisteredEnforcementClients(management, &count, &array), S_OK);
    assert_non_null(find_registration(array, count, EC_ID));
    free_registrations(count, array);
}

static void call_client_info(INapClientManagement2 *management)
{
    CountedString *name, *description, *version;
    BOOL enabled;

    assert_int_equal(INapClientManagement2_GetNapClientInfo(management, &enabled, &name, &description, &version),
                     S_OK);
    check_counted(name, L"Network Access Protection Agent");
    qutil.FreeCountedString(name);
    qutil.FreeCountedString(description);
    qutil.FreeCountedString(version);
}

static void call_isolation(INapClientManagement2 *management)
{
    IsolationInfo *info = NULL;
    BOOL unknown;

    assert_int_equal(INapClientManagement2_GetSystemIsolationInfo(management, &info, &unknown), S_OK);
    assert_int_equal(info->isolationState, isolationStateNotRestricted);
    qutil.FreeIsolationInfo(info);
}

static void call_isolation_ex(INapClientManagement2 *management)
{
    IsolationInfoEx *info = NULL;
    BOOL unknown;

    assert_int_equal(INapClientManagement2_GetSystemIsolationInfoEx(management, &info, &unknown), S_OK);
    assert_int_equal(info->isolationState, isolationStateNotRestricted);
    qutil.FreeIsolationInfoEx(info);
}

static void call_unregister_sha(INapClientManagement2 *management)
{
    assert_int_equal(INapClientManagement2_UnregisterSystemHealthAgent(management, SHA_ID), S_OK);
}

static void call_unregister_ec(INapClientManagement2 *management)
{
    assert_int_equal(INapClientManagement2_UnregisterEnforcementClient(management, EC_ID), S_OK);
}

/* The console agent makes way for the napagent service, installed and stopped. */
static int setup_service(void **state)
{
    (void)state;
    test_kill_agent(agent);
    agent = NULL;
    return test_service_install() ? 0 : -1;
}

/* Runs whether the test passed or not: the service goes (with the agent's
 * key, so nothing registered stays) and the console agent comes back. */
static int teardown_service(void **state)
{
    BOOL removed = test_service_uninstall();

    (void)state;
    agent = test_start_agent();
    return removed && agent ? 0 : -1;
}

/* An installer registers its SHA and EC while the demand-start service is
 * stopped: each call starts it, as the bindings' Initialize does. */
static void test_calls_start_the_service(void **state)
{
    static const struct started_call calls[] =
    {
        { "RegisterSystemHealthAgent", call_register_sha },
        { "RegisterEnforcementClient", call_register_ec },
        { "GetRegisteredSystemHealthAgents", call_list_shas },
        { "GetRegisteredEnforcementClients", call_list_ecs },
        { "GetNapClientInfo", call_client_info },
        { "GetSystemIsolationInfo", call_isolation },
        { "GetSystemIsolationInfoEx", call_isolation_ex },
        { "UnregisterSystemHealthAgent", call_unregister_sha },
        { "UnregisterEnforcementClient", call_unregister_ec },
    };
    INapClientManagement2 *management = create_management();
    DWORD start;
    size_t i;

    (void)state;
    for (i = 0; i < ARRAYSIZE(calls); i++)
    {
        assert_int_equal(test_service_state(), SERVICE_STOPPED);
        start = GetTickCount();
        calls[i].call(management);
        print_message("%s with the service stopped: %lu ms\n", calls[i].name, GetTickCount() - start);
        assert_true(test_service_wait_state(SERVICE_RUNNING, SERVICE_RUNNING_MS));
        assert_true(test_service_stop());
    }
    INapClientManagement2_Release(management);
}

/* A service that may not start is not waited for: the agent is not running. */
static void test_disabled_service_is_not_started(void **state)
{
    INapClientManagement2 *management = create_management();
    NapComponentRegistrationInfo info;
    DWORD start;

    (void)state;
    assert_true(test_service_set_start_type(SERVICE_DISABLED));
    fill_registration(&info, SHA_ID, L"disabled");
    start = GetTickCount();
    assert_int_equal(INapClientManagement2_RegisterSystemHealthAgent(management, &info), RPC_E_DISCONNECTED);
    assert_in_range(GetTickCount() - start, 0, NOT_INSTALLED_MS);
    assert_int_equal(test_service_state(), SERVICE_STOPPED);
    assert_true(test_service_set_start_type(SERVICE_DEMAND_START));
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
        cmocka_unit_test(test_limit_counts_what_the_list_shows),
        cmocka_unit_test(test_agent_settings_clamped),
        cmocka_unit_test(test_call_timeout_clamped),
        cmocka_unit_test(test_log_is_bounded),
        cmocka_unit_test(test_log_level),
        cmocka_unit_test(test_agent_down),
        cmocka_unit_test_setup_teardown(test_calls_start_the_service, setup_service, teardown_service),
        cmocka_unit_test_setup_teardown(test_disabled_service_is_not_started, setup_service, teardown_service),
    };

    test_install_crash_handler();
    return cmocka_run_group_tests(tests, setup, teardown);
}
