/*
 * NapEnforcementClientBinding against a real napagent.exe: every method and HRESULT
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <string.h>
#include <wchar.h>
#include "NapEnforcementClient.h"
#include "napagent_rpc.h"
#include "nap_hresults.h"
#include "callback_sink.h"
#include "soh.h"

#define EC_ID          0x000137F1u /* registered and enabled */
#define EC_ID_OTHER    0x000137F3u /* registered and enabled, for a second binding */
#define EC_ID_DISABLED 0x000137F2u /* registered, disabled */
#define EC_ID_THIRD    0x000137F6u /* registered and enabled, for a third binding */
#define EC_ID_UNKNOWN  0x000137FEu /* never registered */
#define SHA_ID_RETRIGGER 0x000137FDu /* an SHA registered for a while, never bound */
#define ALREADY_INITIALIZED HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED)

static HANDLE agent;

static int setup_agent(void **state)
{
    (void)state;
    if (test_register_qagent() != 0) return -1;
    if (!(agent = test_start_agent())) return -1;
    test_unregister_ec(EC_ID_UNKNOWN);
    if (FAILED(test_register_ec(EC_ID, TRUE))) return -1;
    if (FAILED(test_register_ec(EC_ID_OTHER, TRUE))) return -1;
    if (FAILED(test_register_ec(EC_ID_THIRD, TRUE))) return -1;
    if (FAILED(test_register_ec(EC_ID_DISABLED, FALSE))) return -1;
    if (FAILED(test_set_retry_interval(200))) return -1;
    return 0;
}

static int teardown_agent(void **state)
{
    (void)state;
    test_set_retry_interval(30000);
    test_kill_agent(agent);
    test_reset_prefix(NULL); /* the policy values and settings, even after a failed test */
    return 0;
}

static INapEnforcementClientBinding *create_binding(void)
{
    INapEnforcementClientBinding *binding = NULL;
    HRESULT hr = CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                  &IID_INapEnforcementClientBinding, (void **)&binding);

    assert_int_equal(hr, S_OK);
    assert_non_null(binding);
    return binding;
}

static INapEnforcementClientBinding *bound_binding(struct callback_sink *sink, UINT32 id)
{
    INapEnforcementClientBinding *binding = create_binding();

    callback_sink_init(sink);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, id, &sink->INapEnforcementClientCallback_iface),
                     S_OK);
    return binding;
}

static void release_binding(INapEnforcementClientBinding *binding)
{
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
}

static INapEnforcementClientConnection *new_connection(INapEnforcementClientBinding *binding)
{
    INapEnforcementClientConnection *connection = NULL;
    GUID id;

    assert_int_equal(INapEnforcementClientBinding_CreateConnection(binding, &connection), S_OK);
    assert_non_null(connection);
    CoCreateGuid(&id);
    assert_int_equal(INapEnforcementClientConnection_SetConnectionId(connection, &id), S_OK);
    return connection;
}

/* The request the agent wrote onto the connection, decoded. */
static void read_request(INapEnforcementClientConnection *connection, struct soh_request *request,
                         BYTE *bytes, UINT16 *size)
{
    NetworkSoHRequest *soh = NULL;

    assert_int_equal(INapEnforcementClientConnection_GetSoHRequest(connection, &soh), S_OK);
    assert_non_null(soh);
    assert_true(soh->size >= minNetworkSoHSize && soh->size <= maxNetworkSoHSize);
    memcpy(bytes, soh->data, soh->size);
    *size = soh->size;
    CoTaskMemFree(soh->data);
    CoTaskMemFree(soh);
    assert_int_equal(soh_decode_request(bytes, *size, request), SOH_OK);
}

/* Answers the connection's current request as a NAP server would. */
static void answer(INapEnforcementClientConnection *connection, uint8_t state, const char *url,
                   const struct soh_correlation *correlation)
{
    struct soh_request request;
    struct soh_response response;
    BYTE request_bytes[4000], bytes[4000];
    NetworkSoHResponse soh;
    UINT16 request_size;
    size_t size;

    read_request(connection, &request, request_bytes, &request_size);
    memset(&response, 0, sizeof(response));
    response.with_mode_header = 1;
    response.has_correlation = 1;
    response.correlation = correlation ? *correlation : request.correlation;
    response.quarantine.state = state;
    response.quarantine.ext_state = state == 3 ? 2 : 0;
    response.quarantine.fixup = state == 3;
    response.quarantine.prob_time = SOH_PROB_TIME_NONE;
    response.quarantine.url_len = (uint16_t)strlen(url);
    memcpy(response.quarantine.url, url, response.quarantine.url_len);
    response.has_installed_shvs = 1;
    response.shv_count = 2;
    response.shvs[0] = 0x000137F0;
    response.shvs[1] = 0x00013780;
    assert_int_equal(soh_encode_response(&response, bytes, sizeof(bytes), &size), SOH_OK);
    soh.size = (UINT16)size;
    soh.data = bytes;
    assert_int_equal(INapEnforcementClientConnection_SetSoHResponse(connection, &soh), S_OK);
}

static void test_create_and_query_interface(void **state)
{
    INapEnforcementClientBinding *binding = create_binding();
    IUnknown *unknown = NULL;
    void *other = (void *)0xdeadbeef;

    (void)state;
    assert_int_equal(INapEnforcementClientBinding_QueryInterface(binding, &IID_IUnknown, (void **)&unknown), S_OK);
    assert_ptr_equal(unknown, binding);
    assert_int_equal(IUnknown_Release(unknown), 1);
    assert_int_equal(INapEnforcementClientBinding_QueryInterface(binding, &IID_IDispatch, &other), E_NOINTERFACE);
    assert_null(other);
    assert_int_equal(INapEnforcementClientBinding_QueryInterface(binding, &IID_IUnknown, NULL), E_POINTER);
    assert_int_equal(INapEnforcementClientBinding_AddRef(binding), 2);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 1);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
}

static void test_calls_before_initialize(void **state)
{
    INapEnforcementClientBinding *binding = create_binding();
    INapEnforcementClientConnection *connection = (void *)0xdeadbeef;
    BOOL retrigger;

    (void)state;
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(binding, &connection), NAP_E_NOT_INITIALIZED);
    assert_null(connection);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, NULL, &retrigger), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, NULL), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapEnforcementClientBinding_NotifyConnectionStateDown(binding, NULL), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapEnforcementClientBinding_NotifySoHChangeFailure(binding), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
}

static void test_initialize_errors(void **state)
{
    INapEnforcementClientBinding *binding = create_binding(), *second = create_binding();
    struct callback_sink sink, other;
    INapEnforcementClientCallback *callback = &sink.INapEnforcementClientCallback_iface;

    (void)state;
    callback_sink_init(&sink);
    callback_sink_init(&other);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, NULL), E_INVALIDARG);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID_UNKNOWN, callback), NAP_E_NOT_REGISTERED);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID_DISABLED, callback), NAP_E_ENTITY_DISABLED);
    assert_int_equal(callback_sink_refs(&sink), 1);

    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, callback), S_OK);
    assert_int_equal(callback_sink_refs(&sink), 2); /* the binding keeps the callback */
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, callback), ALREADY_INITIALIZED);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID_OTHER, callback), ALREADY_INITIALIZED);
    /* The id is bound system-wide: another binding object cannot take it. */
    assert_int_equal(INapEnforcementClientBinding_Initialize(second, EC_ID, &other.INapEnforcementClientCallback_iface),
                     ALREADY_INITIALIZED);
    assert_int_equal(callback_sink_refs(&other), 1);

    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(callback_sink_refs(&sink), 1);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), NAP_E_NOT_INITIALIZED);
    /* Free again: the other binding may take it, and this one may bind again. */
    assert_int_equal(INapEnforcementClientBinding_Initialize(second, EC_ID, &other.INapEnforcementClientCallback_iface),
                     S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID_OTHER, callback), S_OK);
    release_binding(second);
    release_binding(binding);
    assert_int_equal(callback_sink_refs(&sink), 1);
    assert_int_equal(callback_sink_refs(&other), 1);
}

static void test_connection_limit(void **state)
{
    INapEnforcementClientConnection *connections[maxConnectionCountPerEnforcer], *extra = (void *)1;
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);
    unsigned int i;

    (void)state;
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(binding, NULL), E_POINTER);
    for (i = 0; i < maxConnectionCountPerEnforcer; i++) connections[i] = new_connection(binding);
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(binding, &extra), E_OUTOFMEMORY);
    assert_null(extra);
    /* Releasing one frees its slot. */
    assert_int_equal(INapEnforcementClientConnection_Release(connections[0]), 0);
    connections[0] = new_connection(binding);
    for (i = 0; i < maxConnectionCountPerEnforcer; i++)
        assert_int_equal(INapEnforcementClientConnection_Release(connections[i]), 0);
    release_binding(binding);
}

static BOOL no_unknown_connections(void *unused)
{
    UINT32 system_state;
    BOOL unknown = TRUE;

    (void)unused;
    return SUCCEEDED(test_get_system_isolation(&system_state, &unknown)) && !unknown;
}

/* An EC that makes, uses and releases connections one at a time and never
 * calls NotifyConnectionStateDown: a released connection stops counting,
 * against the limit and in the system's isolation state. */
static void test_released_connections_stop_counting(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);
    INapEnforcementClientConnection *connection;
    UINT32 system_state;
    BOOL retrigger, unknown;
    unsigned int i;

    (void)state;
    for (i = 0; i < 2 * maxConnectionCountPerEnforcer + 5; i++)
    {
        connection = new_connection(binding);
        assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
        assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    }
    /* A request with no answer yet leaves the system state partly unknown... */
    connection = new_connection(binding);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_int_equal(test_get_system_isolation(&system_state, &unknown), S_OK);
    assert_true(unknown);
    /* ...until the connection is released: then at once, with no further call. */
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_true(test_wait_for(no_unknown_connections, NULL, 2000));
    release_binding(binding);
}

static void test_exchange(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);
    INapEnforcementClientConnection *connection = new_connection(binding);
    INapEnforcementClientConnection2 *connection2;
    struct soh_request request;
    BYTE bytes[4000];
    UINT16 size;
    CorrelationId correlation;
    ConnectionId *connection_id;
    IsolationInfo *info;
    IsolationInfoEx *info_ex;
    SystemHealthEntityId *shvs;
    SystemHealthEntityCount shv_count;
    BOOL retrigger = TRUE;
    UINT8 flags = 0;

    (void)state;
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, NULL), E_POINTER);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, NULL, &retrigger), E_INVALIDARG);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_false(retrigger);
    assert_int_equal(INapEnforcementClientConnection_GetFlags(connection, &flags), S_OK);
    assert_int_equal(flags, freshSoHRequest);

    /* The request is a real MS-SOH message carrying the connection's correlation id. */
    read_request(connection, &request, bytes, &size);
    assert_int_equal(INapEnforcementClientConnection_GetCorrelationId(connection, &correlation), S_OK);
    assert_int_equal(INapEnforcementClientConnection_GetConnectionId(connection, &connection_id), S_OK);
    assert_true(IsEqualGUID(&correlation.connId, connection_id));
    CoTaskMemFree(connection_id);
    assert_true(request.with_mode_header);
    assert_int_equal(request.correlation.conn_id.data1, correlation.connId.Data1);
    assert_int_equal(request.correlation.timestamp,
                     ((UINT64)correlation.timeStamp.dwHighDateTime << 32) | correlation.timeStamp.dwLowDateTime);
    assert_int_equal(request.packet_info, SOH_PACKET_INFO_REQUEST);
    assert_true(request.machine.os_major >= 5);
    assert_int_equal(request.machine.arch, 9);
    assert_true(strlen(request.machine.name) > 0);
    assert_int_equal(request.quarantine.state, isolationStateNotRestricted);

    /* Restricted, with a fix-up URL: written onto the connection, v1 and v2. */
    answer(connection, isolationStateRestrictedAccess, "http://fix.example/", NULL);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), S_OK);
    assert_int_equal(INapEnforcementClientConnection_GetIsolationInfo(connection, &info), S_OK);
    assert_int_equal(info->isolationState, isolationStateRestrictedAccess);
    assert_int_equal(info->failureUrl.length, 19);
    assert_memory_equal(info->failureUrl.string, L"http://fix.example/", 20 * sizeof(WCHAR));
    CoTaskMemFree(info->failureUrl.string);
    CoTaskMemFree(info);
    assert_int_equal(INapEnforcementClientConnection_QueryInterface(connection, &IID_INapEnforcementClientConnection2,
                                                                    (void **)&connection2), S_OK);
    assert_int_equal(INapEnforcementClientConnection2_GetIsolationInfoEx(connection2, &info_ex), S_OK);
    assert_int_equal(info_ex->isolationState, isolationStateRestrictedAccess);
    assert_int_equal(info_ex->extendedIsolationState, extendedIsolationStateInfected);
    CoTaskMemFree(info_ex->failureUrl.string);
    CoTaskMemFree(info_ex);
    assert_int_equal(INapEnforcementClientConnection2_GetInstalledShvs(connection2, &shv_count, &shvs), S_OK);
    assert_int_equal(shv_count, 2);
    assert_int_equal(shvs[0], 0x000137F0);
    assert_int_equal(shvs[1], 0x00013780);
    CoTaskMemFree(shvs);

    /* The next request reports the restricted state; a healthy answer lifts it. */
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_false(retrigger);
    read_request(connection, &request, bytes, &size);
    assert_int_equal(request.quarantine.state, isolationStateRestrictedAccess);
    answer(connection, isolationStateNotRestricted, "", NULL);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), S_OK);
    assert_int_equal(INapEnforcementClientConnection2_GetIsolationInfoEx(connection2, &info_ex), S_OK);
    assert_int_equal(info_ex->isolationState, isolationStateNotRestricted);
    assert_int_equal(info_ex->failureUrl.length, 0);
    CoTaskMemFree(info_ex->failureUrl.string);
    CoTaskMemFree(info_ex);
    INapEnforcementClientConnection2_Release(connection2);

    assert_int_equal(INapEnforcementClientBinding_NotifyConnectionStateDown(binding, connection), S_OK);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    release_binding(binding);
}

static void test_process_soh_response_errors(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);
    INapEnforcementClientConnection *connection = new_connection(binding);
    static BYTE garbage[40] = { 0x00, 0x07, 0x00, 0x24 };
    NetworkSoHResponse soh = { 0, NULL };
    struct soh_request older;
    BYTE bytes[4000];
    UINT16 size;
    BOOL retrigger;

    (void)state;
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, NULL), E_INVALIDARG);
    /* No request was ever built for this connection. */
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), E_INVALIDARG);

    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    /* A zero-length response is valid on the connection but is no SoH response. */
    assert_int_equal(INapEnforcementClientConnection_SetSoHResponse(connection, &soh), S_OK);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), NAP_E_INVALID_PACKET);
    soh.size = sizeof(garbage);
    soh.data = garbage;
    assert_int_equal(INapEnforcementClientConnection_SetSoHResponse(connection, &soh), S_OK);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), NAP_E_INVALID_PACKET);

    /* A reply to an older request is refused; the newest one's is accepted. */
    read_request(connection, &older, bytes, &size);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    answer(connection, isolationStateNotRestricted, "", &older.correlation);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), NAP_E_MISMATCHED_ID);
    answer(connection, isolationStateNotRestricted, "", NULL);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), S_OK);

    /* After the connection went down the agent forgot it. */
    assert_int_equal(INapEnforcementClientBinding_NotifyConnectionStateDown(binding, NULL), E_INVALIDARG);
    assert_int_equal(INapEnforcementClientBinding_NotifyConnectionStateDown(binding, connection), S_OK);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), E_INVALIDARG);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    release_binding(binding);
}

static BOOL agent_has_connections(void *arg)
{
    NAPAGENT_STATE state;

    return SUCCEEDED(test_get_state(&state)) && state.connection_count == *(UINT32 *)arg;
}

static void test_connection_state_down(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);
    INapEnforcementClientConnection *first = new_connection(binding), *second = new_connection(binding);
    UINT32 expected;
    BOOL retrigger;

    (void)state;
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, first, &retrigger), S_OK);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, second, &retrigger), S_OK);
    expected = 2;
    assert_true(agent_has_connections(&expected));
    assert_int_equal(INapEnforcementClientBinding_NotifyConnectionStateDown(binding, first), S_OK);
    expected = 1;
    assert_true(agent_has_connections(&expected));
    /* Telling it twice is harmless. */
    assert_int_equal(INapEnforcementClientBinding_NotifyConnectionStateDown(binding, first), S_OK);
    assert_int_equal(INapEnforcementClientConnection_Release(first), 0);
    assert_int_equal(INapEnforcementClientConnection_Release(second), 0);
    release_binding(binding);
    expected = 0;
    assert_true(test_wait_for(agent_has_connections, &expected, 2000));
}

static void test_retrigger_hint(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);
    INapEnforcementClientConnection *connection = new_connection(binding);
    BOOL retrigger = TRUE;

    (void)state;
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_false(retrigger);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_false(retrigger);
    /* NotifySoHChange alone changes nothing in the health the request reports. */
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(callback_sink_wait_notify(&sink, 1, 5000));
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_false(retrigger);
    /* A newly registered SHA gives the SSoH a new entry: the health content differs. */
    assert_int_equal(test_register_sha(SHA_ID_RETRIGGER), S_OK);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_true(retrigger);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_false(retrigger);
    assert_int_equal(test_unregister_sha(SHA_ID_RETRIGGER), S_OK);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_true(retrigger);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    release_binding(binding);
}

static void test_notify_runs_on_binding_thread(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);
    INapEnforcementClientConnection *connection = new_connection(binding);

    (void)state;
    sink.binding = binding;
    sink.connection = connection;
    sink.request_in_notify = TRUE;
    sink.request_in_notify_result = E_FAIL;
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(callback_sink_wait_notify(&sink, 1, 5000));
    assert_int_not_equal(sink.notify_thread_id, GetCurrentThreadId());
    /* GetSoHRequest from inside NotifySoHChange works: no lock is held. */
    assert_int_equal(sink.request_in_notify_result, S_OK);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    release_binding(binding);
}

/* One event poll serves every binding of a process (src/qagent/event_pump.c):
 * each binding still hears NotifySoHChange on a thread of its own, a slow
 * EC does not hold up the others, and a binding that ended hears nothing. */
static void test_soh_change_reaches_every_binding(void **state)
{
    struct callback_sink sinks[3];
    const UINT32 ids[3] = { EC_ID, EC_ID_OTHER, EC_ID_THIRD };
    INapEnforcementClientBinding *bindings[3];
    DWORD start;
    unsigned int i;

    (void)state;
    for (i = 0; i < 3; i++) bindings[i] = bound_binding(&sinks[i], ids[i]);
    sinks[0].sleep_in_notify_ms = 1500;
    start = GetTickCount();
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(callback_sink_wait_notify(&sinks[1], 1, 5000));
    assert_true(callback_sink_wait_notify(&sinks[2], 1, 5000));
    assert_true(GetTickCount() - start < 1000);  /* not after the slow one */
    assert_int_not_equal(sinks[1].notify_thread_id, sinks[2].notify_thread_id);
    assert_int_not_equal(sinks[1].notify_thread_id, GetCurrentThreadId());
    assert_true(callback_sink_wait_notify(&sinks[0], 1, 5000));
    assert_int_not_equal(sinks[0].notify_thread_id, sinks[1].notify_thread_id);
    sinks[0].sleep_in_notify_ms = 0;

    release_binding(bindings[1]);
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(callback_sink_wait_notify(&sinks[0], 2, 5000));
    assert_true(callback_sink_wait_notify(&sinks[2], 2, 5000));
    Sleep(100);
    assert_int_equal(sinks[1].notify_count, 1);
    release_binding(bindings[0]);
    release_binding(bindings[2]);
    for (i = 0; i < 3; i++) assert_int_equal(callback_sink_refs(&sinks[i]), 1);
}

static void test_soh_change_failure_retry(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);
    INapEnforcementClientConnection *connection = new_connection(binding);
    BOOL retrigger;

    (void)state;
    /* Nothing to retry yet: accepted, no callback. */
    assert_int_equal(INapEnforcementClientBinding_NotifySoHChangeFailure(binding), S_OK);
    Sleep(600);
    assert_int_equal(sink.notify_count, 0);

    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(callback_sink_wait_notify(&sink, 1, 5000));
    /* The EC could not act: the agent calls NotifySoHChange again (200 ms here). */
    assert_int_equal(INapEnforcementClientBinding_NotifySoHChangeFailure(binding), S_OK);
    assert_true(callback_sink_wait_notify(&sink, 2, 5000));
    assert_int_equal(INapEnforcementClientBinding_NotifySoHChangeFailure(binding), S_OK);
    assert_true(callback_sink_wait_notify(&sink, 3, 5000));

    /* Once the EC asked for the request it owns the change: no more retries. */
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_int_equal(INapEnforcementClientBinding_NotifySoHChangeFailure(binding), S_OK);
    Sleep(600);
    assert_int_equal(sink.notify_count, 3);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    release_binding(binding);
}

static void test_get_connections(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);
    INapEnforcementClientConnection *connection = new_connection(binding);
    ConnectionId *expected;
    GUID answered;
    UINT32 count = 0, max_size = 0;
    LONG refs;

    (void)state;
    assert_int_equal(INapEnforcementClientConnection_SetMaxSize(connection, 1400), S_OK);
    sink.connection_count = 1;
    sink.connections[0] = connection;
    INapEnforcementClientConnection_AddRef(connection);
    refs = INapEnforcementClientConnection_Release(connection);

    assert_int_equal(test_query_connections(EC_ID, &count, &answered, &max_size), S_OK);
    assert_int_equal(sink.get_connections_count, 1);
    assert_int_equal(count, 1);
    assert_int_equal(max_size, 1400);
    assert_int_equal(INapEnforcementClientConnection_GetConnectionId(connection, &expected), S_OK);
    assert_true(IsEqualGUID(expected, &answered));
    CoTaskMemFree(expected);
    /* The binding released the reference the callback handed over. */
    INapEnforcementClientConnection_AddRef(connection);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), refs);

    /* No connection up is a legal answer too. */
    sink.connection_count = 0;
    assert_int_equal(test_query_connections(EC_ID, &count, &answered, &max_size), S_OK);
    assert_int_equal(count, 0);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    release_binding(binding);
}

static void test_uninitialize_inside_callback(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);
    INapEnforcementClientConnection *connection = new_connection(binding);
    BOOL retrigger;

    (void)state;
    sink.binding = binding;
    sink.uninitialize_in_notify = TRUE;
    sink.uninitialize_in_notify_result = E_FAIL;
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(callback_sink_wait_notify(&sink, 1, 5000));
    assert_int_equal(sink.uninitialize_in_notify_result, S_OK);
    /* The callback keeps its reference until it has returned, then loses it. */
    assert_true(sink.refs_during_notify >= 2);
    Sleep(100);
    assert_int_equal(callback_sink_refs(&sink), 1);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
}

static void test_release_inside_callback(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);

    (void)state;
    /* The EC drops its last reference from inside NotifySoHChange. */
    sink.binding = binding;
    sink.release_in_notify = TRUE;
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(callback_sink_wait_notify(&sink, 1, 5000));
    Sleep(100);
    assert_int_equal(callback_sink_refs(&sink), 1);
    /* The id is free again. */
    binding = bound_binding(&sink, EC_ID);
    release_binding(binding);
}

static BOOL nothing_bound(void *unused)
{
    NAPAGENT_STATE state;

    (void)unused;
    return SUCCEEDED(test_get_state(&state)) && state.bound_ec_count == 0;
}

static void test_release_without_uninitialize(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);

    (void)state;
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(callback_sink_refs(&sink), 1);
    assert_true(test_wait_for(nothing_bound, NULL, 2000));
}

static void test_callback_says_gone(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);
    INapEnforcementClientConnection *connection = (void *)1;

    (void)state;
    sink.notify_result = HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE);
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(callback_sink_wait_notify(&sink, 1, 5000));
    /* The agent dropped the enforcer; it may initialise again. */
    assert_true(test_wait_for(nothing_bound, NULL, 2000));
    Sleep(50);
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(binding, &connection), NAP_E_NOT_INITIALIZED);
    sink.notify_result = S_OK;
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, &sink.INapEnforcementClientCallback_iface),
                     S_OK);
    release_binding(binding);
    assert_int_equal(callback_sink_refs(&sink), 1);
}

/* A binding the agent dropped (its callback said RPC_S_SERVER_UNAVAILABLE)
 * initialises again: the new session, not the old one, watches its
 * connections, so a connection the EC releases stops counting at once, as
 * in test_released_connections_stop_counting. */
static void test_initialize_again_watches_released_connections(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);
    INapEnforcementClientConnection *connection;
    UINT32 system_state;
    BOOL retrigger, unknown;

    (void)state;
    sink.notify_result = HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE);
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(callback_sink_wait_notify(&sink, 1, 5000));
    assert_true(test_wait_for(nothing_bound, NULL, 2000));
    sink.notify_result = S_OK;
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, &sink.INapEnforcementClientCallback_iface),
                     S_OK);
    connection = new_connection(binding);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_int_equal(test_get_system_isolation(&system_state, &unknown), S_OK);
    assert_true(unknown);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_true(test_wait_for(no_unknown_connections, NULL, 2000));
    release_binding(binding);
    assert_int_equal(callback_sink_refs(&sink), 1);
}

#define CLIENT_CONFIG L"Software\\Policies\\Microsoft\\NetworkAccessProtection\\ClientConfig"

/* What an administrator's Group Policy writes; the agent only reads it.  In
 * the 64-bit view, where Group Policy writes it and the 64-bit agent reads
 * it: WOW64 redirects HKLM\Software\Policies for 32-bit processes. */
static void set_policy(const WCHAR *subkey, const WCHAR *name, const DWORD *value)
{
    HKEY key;

    assert_int_equal(RegCreateKeyExW(HKEY_LOCAL_MACHINE, subkey, 0, NULL, 0, KEY_WRITE | KEY_WOW64_64KEY, NULL,
                                     &key, NULL), 0);
    if (value) assert_int_equal(RegSetValueExW(key, name, 0, REG_DWORD, (const BYTE *)value, sizeof(*value)), 0);
    else RegDeleteValueW(key, name);
    RegCloseKey(key);
}

static void test_policy_backward_compatible(void **state)
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding = bound_binding(&sink, EC_ID);
    INapEnforcementClientConnection *connection = new_connection(binding);
    static const DWORD without_header = 1, with_header = 2;
    struct soh_request request;
    BYTE bytes[4000];
    UINT16 size;
    BOOL retrigger;

    (void)state;
    /* BackwardCompatible = 1: SSoH + report entries, no mode sub-header; noticed at once. */
    set_policy(CLIENT_CONFIG, L"BackwardCompatible", &without_header);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    read_request(connection, &request, bytes, &size);
    assert_false(request.with_mode_header);
    assert_int_equal(bytes[9], 1); /* inner type */
    /* A server that answers without any correlation id is taken at its word. */
    {
        struct soh_response response;
        NetworkSoHResponse soh;
        BYTE answer_bytes[4000];
        size_t answer_size;

        memset(&response, 0, sizeof(response));
        response.quarantine.state = isolationStateNotRestricted;
        response.quarantine.prob_time = SOH_PROB_TIME_NONE;
        assert_int_equal(soh_encode_response(&response, answer_bytes, sizeof(answer_bytes), &answer_size), SOH_OK);
        soh.size = (UINT16)answer_size;
        soh.data = answer_bytes;
        assert_int_equal(INapEnforcementClientConnection_SetSoHResponse(connection, &soh), S_OK);
        assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), S_OK);
    }
    set_policy(CLIENT_CONFIG, L"BackwardCompatible", &with_header);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    read_request(connection, &request, bytes, &size);
    assert_true(request.with_mode_header);
    set_policy(CLIENT_CONFIG, L"BackwardCompatible", NULL);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    read_request(connection, &request, bytes, &size);
    assert_true(request.with_mode_header);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    release_binding(binding);
}

static void test_policy_overrides_enabled(void **state)
{
    INapEnforcementClientBinding *binding = create_binding();
    struct callback_sink sink;
    INapEnforcementClientCallback *callback = &sink.INapEnforcementClientCallback_iface;
    static const DWORD off = 0, on = 1;
    WCHAR enabled_key[128], disabled_key[128];

    (void)state;
    callback_sink_init(&sink);
    swprintf(enabled_key, ARRAYSIZE(enabled_key), CLIENT_CONFIG L"\\Qecs\\%u", EC_ID);
    swprintf(disabled_key, ARRAYSIZE(disabled_key), CLIENT_CONFIG L"\\Qecs\\%u", EC_ID_DISABLED);
    /* Policy beats the local setting both ways, without restarting the agent. */
    set_policy(enabled_key, L"Enabled", &off);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, callback), NAP_E_ENTITY_DISABLED);
    set_policy(disabled_key, L"Enabled", &on);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID_DISABLED, callback), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    set_policy(enabled_key, L"Enabled", NULL);
    set_policy(disabled_key, L"Enabled", NULL);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID_DISABLED, callback), NAP_E_ENTITY_DISABLED);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, callback), S_OK);
    release_binding(binding);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_create_and_query_interface),
        cmocka_unit_test(test_calls_before_initialize),
        cmocka_unit_test(test_initialize_errors),
        cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_released_connections_stop_counting),
        cmocka_unit_test(test_exchange),
        cmocka_unit_test(test_process_soh_response_errors),
        cmocka_unit_test(test_connection_state_down),
        cmocka_unit_test(test_retrigger_hint),
        cmocka_unit_test(test_notify_runs_on_binding_thread),
        cmocka_unit_test(test_soh_change_reaches_every_binding),
        cmocka_unit_test(test_soh_change_failure_retry),
        cmocka_unit_test(test_get_connections),
        cmocka_unit_test(test_uninitialize_inside_callback),
        cmocka_unit_test(test_release_inside_callback),
        cmocka_unit_test(test_release_without_uninitialize),
        cmocka_unit_test(test_callback_says_gone),
        cmocka_unit_test(test_initialize_again_watches_released_connections),
        cmocka_unit_test(test_policy_backward_compatible),
        cmocka_unit_test(test_policy_overrides_enabled),
    };
    int failures;

    test_install_crash_handler();
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    failures = cmocka_run_group_tests(tests, setup_agent, teardown_agent);
    CoUninitialize();
    return failures;
}
