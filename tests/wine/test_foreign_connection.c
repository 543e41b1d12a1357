/*
 * The binding with a connection object the EC implemented itself
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <string.h>
#include "NapEnforcementClient.h"
#include "nap_hresults.h"
#include "callback_sink.h"
#include "soh.h"
#include "napagent_rpc.h"

#define EC_ID 0x000137F6u

/* An EC's own INapEnforcementClientConnection (v1 only): it keeps its
 * properties in a connection from CreateConnection but shows the binding a
 * different object, so the binding can only use the public interface.  It
 * counts the calls the binding makes and may lie about its maximum size. */
struct foreign_connection
{
    INapEnforcementClientConnection INapEnforcementClientConnection_iface;
    LONG refs;
    INapEnforcementClientConnection *inner;
    ProtocolMaxSize max_size;
    LONG set_request_calls, set_isolation_calls, set_correlation_calls, set_flags_calls;
    HANDLE block;                      /* when set, GetMaxSize waits for it: an EC's object that hangs */
    HANDLE blocked;                    /* set when GetMaxSize starts waiting */
};

static inline struct foreign_connection *impl_from(INapEnforcementClientConnection *iface)
{
    return CONTAINING_RECORD(iface, struct foreign_connection, INapEnforcementClientConnection_iface);
}

static HRESULT WINAPI foreign_QueryInterface(INapEnforcementClientConnection *iface, REFIID riid, void **out)
{
    /* Deliberately no INapEnforcementClientConnection2. */
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_INapEnforcementClientConnection))
    {
        *out = iface;
        INapEnforcementClientConnection_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI foreign_AddRef(INapEnforcementClientConnection *iface)
{
    return InterlockedIncrement(&impl_from(iface)->refs);
}

static ULONG WINAPI foreign_Release(INapEnforcementClientConnection *iface)
{
    struct foreign_connection *connection = impl_from(iface);
    ULONG refs = InterlockedDecrement(&connection->refs);

    if (!refs) INapEnforcementClientConnection_Release(connection->inner);
    return refs;
}

static HRESULT WINAPI foreign_Initialize(INapEnforcementClientConnection *iface, EnforcementEntityId id)
{
    return INapEnforcementClientConnection_Initialize(impl_from(iface)->inner, id);
}

static HRESULT WINAPI foreign_SetMaxSize(INapEnforcementClientConnection *iface, ProtocolMaxSize size)
{
    impl_from(iface)->max_size = size;
    return S_OK;
}

static HRESULT WINAPI foreign_GetMaxSize(INapEnforcementClientConnection *iface, ProtocolMaxSize *size)
{
    struct foreign_connection *connection = impl_from(iface);

    if (connection->block)
    {
        SetEvent(connection->blocked);
        WaitForSingleObject(connection->block, 10000);
    }
    *size = connection->max_size;
    return S_OK;
}

static HRESULT WINAPI foreign_SetFlags(INapEnforcementClientConnection *iface, UINT8 flags)
{
    InterlockedIncrement(&impl_from(iface)->set_flags_calls);
    return INapEnforcementClientConnection_SetFlags(impl_from(iface)->inner, flags);
}

static HRESULT WINAPI foreign_GetFlags(INapEnforcementClientConnection *iface, UINT8 *flags)
{
    return INapEnforcementClientConnection_GetFlags(impl_from(iface)->inner, flags);
}

static HRESULT WINAPI foreign_SetConnectionId(INapEnforcementClientConnection *iface, const ConnectionId *id)
{
    return INapEnforcementClientConnection_SetConnectionId(impl_from(iface)->inner, id);
}

static HRESULT WINAPI foreign_GetConnectionId(INapEnforcementClientConnection *iface, ConnectionId **id)
{
    return INapEnforcementClientConnection_GetConnectionId(impl_from(iface)->inner, id);
}

static HRESULT WINAPI foreign_GetCorrelationId(INapEnforcementClientConnection *iface, CorrelationId *id)
{
    return INapEnforcementClientConnection_GetCorrelationId(impl_from(iface)->inner, id);
}

static HRESULT WINAPI foreign_GetStringCorrelationId(INapEnforcementClientConnection *iface, StringCorrelationId **id)
{
    return INapEnforcementClientConnection_GetStringCorrelationId(impl_from(iface)->inner, id);
}

static HRESULT WINAPI foreign_SetCorrelationId(INapEnforcementClientConnection *iface, CorrelationId id)
{
    InterlockedIncrement(&impl_from(iface)->set_correlation_calls);
    return INapEnforcementClientConnection_SetCorrelationId(impl_from(iface)->inner, id);
}

static HRESULT WINAPI foreign_SetSoHRequest(INapEnforcementClientConnection *iface, const NetworkSoHRequest *soh)
{
    InterlockedIncrement(&impl_from(iface)->set_request_calls);
    return INapEnforcementClientConnection_SetSoHRequest(impl_from(iface)->inner, soh);
}

static HRESULT WINAPI foreign_GetSoHRequest(INapEnforcementClientConnection *iface, NetworkSoHRequest **soh)
{
    return INapEnforcementClientConnection_GetSoHRequest(impl_from(iface)->inner, soh);
}

static HRESULT WINAPI foreign_SetSoHResponse(INapEnforcementClientConnection *iface, const NetworkSoHResponse *soh)
{
    return INapEnforcementClientConnection_SetSoHResponse(impl_from(iface)->inner, soh);
}

static HRESULT WINAPI foreign_GetSoHResponse(INapEnforcementClientConnection *iface, NetworkSoHResponse **soh)
{
    return INapEnforcementClientConnection_GetSoHResponse(impl_from(iface)->inner, soh);
}

static HRESULT WINAPI foreign_SetIsolationInfo(INapEnforcementClientConnection *iface, const IsolationInfo *info)
{
    InterlockedIncrement(&impl_from(iface)->set_isolation_calls);
    return INapEnforcementClientConnection_SetIsolationInfo(impl_from(iface)->inner, info);
}

static HRESULT WINAPI foreign_GetIsolationInfo(INapEnforcementClientConnection *iface, IsolationInfo **info)
{
    return INapEnforcementClientConnection_GetIsolationInfo(impl_from(iface)->inner, info);
}

static HRESULT WINAPI foreign_SetPrivateData(INapEnforcementClientConnection *iface, const PrivateData *data)
{
    return INapEnforcementClientConnection_SetPrivateData(impl_from(iface)->inner, data);
}

static HRESULT WINAPI foreign_GetPrivateData(INapEnforcementClientConnection *iface, PrivateData **data)
{
    return INapEnforcementClientConnection_GetPrivateData(impl_from(iface)->inner, data);
}

static HRESULT WINAPI foreign_SetEnforcerPrivateData(INapEnforcementClientConnection *iface, const PrivateData *data)
{
    return INapEnforcementClientConnection_SetEnforcerPrivateData(impl_from(iface)->inner, data);
}

static HRESULT WINAPI foreign_GetEnforcerPrivateData(INapEnforcementClientConnection *iface, PrivateData **data)
{
    return INapEnforcementClientConnection_GetEnforcerPrivateData(impl_from(iface)->inner, data);
}

static const INapEnforcementClientConnectionVtbl foreign_vtbl =
{
    foreign_QueryInterface, foreign_AddRef, foreign_Release,
    foreign_Initialize, foreign_SetMaxSize, foreign_GetMaxSize, foreign_SetFlags, foreign_GetFlags,
    foreign_SetConnectionId, foreign_GetConnectionId, foreign_GetCorrelationId, foreign_GetStringCorrelationId,
    foreign_SetCorrelationId, foreign_SetSoHRequest, foreign_GetSoHRequest, foreign_SetSoHResponse,
    foreign_GetSoHResponse, foreign_SetIsolationInfo, foreign_GetIsolationInfo, foreign_SetPrivateData,
    foreign_GetPrivateData, foreign_SetEnforcerPrivateData, foreign_GetEnforcerPrivateData,
};

static HANDLE agent;

static int setup(void **state)
{
    (void)state;
    if (test_register_qagent() != 0) return -1;
    if (!(agent = test_start_agent())) return -1;
    return FAILED(test_register_ec(EC_ID, TRUE)) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    test_kill_agent(agent);
    return 0;
}

static void init_foreign(struct foreign_connection *connection, INapEnforcementClientBinding *binding)
{
    GUID id;

    memset(connection, 0, sizeof(*connection));
    connection->INapEnforcementClientConnection_iface.lpVtbl = &foreign_vtbl;
    connection->refs = 1;
    connection->max_size = defaultProtocolMaxSize;
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(binding, &connection->inner), S_OK);
    CoCreateGuid(&id);
    assert_int_equal(INapEnforcementClientConnection_SetConnectionId(connection->inner, &id), S_OK);
}

static void set_response(INapEnforcementClientConnection *connection, const struct soh_correlation *correlation)
{
    struct soh_response response;
    NetworkSoHResponse soh;
    BYTE bytes[512];
    size_t size;

    memset(&response, 0, sizeof(response));
    response.with_mode_header = 1;
    response.has_correlation = 1;
    response.correlation = *correlation;
    response.quarantine.state = 2;
    response.quarantine.prob_time = 0x01DD000000000000ull;
    response.has_installed_shvs = 1;
    response.shv_count = 1;
    response.shvs[0] = 0x000137F0;
    assert_int_equal(soh_encode_response(&response, bytes, sizeof(bytes), &size), SOH_OK);
    soh.size = (UINT16)size;
    soh.data = bytes;
    assert_int_equal(INapEnforcementClientConnection_SetSoHResponse(connection, &soh), S_OK);
}

static void test_exchange_through_foreign_connection(void **state)
{
    INapEnforcementClientBinding *binding;
    struct callback_sink sink;
    struct foreign_connection foreign;
    INapEnforcementClientConnection *connection = &foreign.INapEnforcementClientConnection_iface;
    NetworkSoHRequest *request;
    struct soh_request decoded;
    IsolationInfo *info;
    BOOL retrigger;

    (void)state;
    callback_sink_init(&sink);
    assert_int_equal(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, &sink.INapEnforcementClientCallback_iface),
                     S_OK);
    init_foreign(&foreign, binding);

    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_int_equal(foreign.set_request_calls, 1);
    assert_int_equal(foreign.set_correlation_calls, 1);
    assert_int_equal(foreign.set_flags_calls, 1);
    assert_int_equal(INapEnforcementClientConnection_GetSoHRequest(connection, &request), S_OK);
    assert_int_equal(soh_decode_request(request->data, request->size, &decoded), SOH_OK);
    CoTaskMemFree(request->data);
    CoTaskMemFree(request);

    /* Only v1: the decision arrives through SetIsolationInfo alone. */
    set_response(connection, &decoded.correlation);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), S_OK);
    assert_int_equal(foreign.set_isolation_calls, 1);
    assert_int_equal(INapEnforcementClientConnection_GetIsolationInfo(connection, &info), S_OK);
    assert_int_equal(info->isolationState, isolationStateInProbation);
    assert_int_equal(info->probEndTime.dwHighDateTime, 0x01DD0000);
    CoTaskMemFree(info->failureUrl.string);
    CoTaskMemFree(info);

    assert_int_equal(INapEnforcementClientBinding_NotifyConnectionStateDown(binding, connection), S_OK);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
}

static void test_max_size_too_small(void **state)
{
    INapEnforcementClientBinding *binding;
    struct callback_sink sink;
    struct foreign_connection foreign;
    INapEnforcementClientConnection *connection = &foreign.INapEnforcementClientConnection_iface;
    NetworkSoHRequest *request;
    BOOL retrigger = TRUE;

    (void)state;
    callback_sink_init(&sink);
    assert_int_equal(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, &sink.INapEnforcementClientCallback_iface),
                     S_OK);
    init_foreign(&foreign, binding);

    /* Our own connection refuses a maximum under 300; an EC's own may not. */
    foreign.max_size = 100;
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), NAP_E_MAXSIZE_TOO_SMALL);
    assert_int_equal(foreign.set_request_calls, 0);
    assert_int_equal(INapEnforcementClientConnection_GetSoHRequest(connection, &request), S_OK);
    assert_int_equal(request->size, 0);
    CoTaskMemFree(request->data);
    CoTaskMemFree(request);
    /* Big enough again: the request fits. */
    foreign.max_size = minProtocolMaxSize;
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_int_equal(foreign.set_request_calls, 1);

    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
}

#define CALL_TIMEOUT_MS 400

struct call_in_flight
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    HRESULT hr;
};

static DWORD WINAPI get_soh_request_thread(void *arg)
{
    struct call_in_flight *call = arg;
    BOOL retrigger;

    call->hr = INapEnforcementClientBinding_GetSoHRequest(call->binding, call->connection, &retrigger);
    return 0;
}

static DWORD WINAPI unblock_later(void *arg)
{
    Sleep(3000);
    SetEvent(arg);
    return 0;
}

static double elapsed_ms(LARGE_INTEGER start)
{
    LARGE_INTEGER now, frequency;

    QueryPerformanceCounter(&now);
    QueryPerformanceFrequency(&frequency);
    return (now.QuadPart - start.QuadPart) * 1000.0 / frequency.QuadPart;
}

/* A binding call stuck in the EC's own connection object does not hold up
 * Uninitialize from another thread past its bound (twice the call bound);
 * the call, once the object lets it go, finds the binding uninitialised. */
static void test_uninitialize_does_not_wait_for_a_stuck_call(void **state)
{
    INapEnforcementClientBinding *binding;
    struct callback_sink sink;
    struct foreign_connection foreign;
    struct call_in_flight call;
    HANDLE thread, unblocker;
    LARGE_INTEGER start;
    double ms;

    (void)state;
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, CALL_TIMEOUT_MS), S_OK);
    callback_sink_init(&sink);
    assert_int_equal(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, &sink.INapEnforcementClientCallback_iface),
                     S_OK);
    init_foreign(&foreign, binding);
    foreign.block = CreateEventW(NULL, TRUE, FALSE, NULL);
    foreign.blocked = CreateEventW(NULL, TRUE, FALSE, NULL);
    call.binding = binding;
    call.connection = &foreign.INapEnforcementClientConnection_iface;
    call.hr = E_FAIL;
    assert_non_null(thread = CreateThread(NULL, 0, get_soh_request_thread, &call, 0, NULL));
    assert_int_equal(WaitForSingleObject(foreign.blocked, 10000), WAIT_OBJECT_0);
    /* Whatever the binding does, the object lets the call go in 3 s. */
    assert_non_null(unblocker = CreateThread(NULL, 0, unblock_later, foreign.block, 0, NULL));

    QueryPerformanceCounter(&start);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    ms = elapsed_ms(start);
    print_message("Uninitialize with a call stuck in the EC's object: %.0f ms (bound %u ms)\n", ms,
                  2 * CALL_TIMEOUT_MS);
    assert_true(ms < 2 * CALL_TIMEOUT_MS);
    assert_int_equal(WaitForSingleObject(thread, 10000), WAIT_OBJECT_0);
    assert_int_equal(call.hr, NAP_E_NOT_INITIALIZED);
    WaitForSingleObject(unblocker, INFINITE);
    CloseHandle(unblocker);
    CloseHandle(thread);
    CloseHandle(foreign.block);
    CloseHandle(foreign.blocked);
    foreign.block = NULL;
    assert_int_equal(INapEnforcementClientConnection_Release(call.connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(callback_sink_refs(&sink), 1);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, 5000), S_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_exchange_through_foreign_connection),
        cmocka_unit_test(test_max_size_too_small),
        cmocka_unit_test(test_uninitialize_does_not_wait_for_a_stuck_call),
    };
    int failures;

    test_install_crash_handler();
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    failures = cmocka_run_group_tests(tests, setup, teardown);
    CoUninitialize();
    return failures;
}
