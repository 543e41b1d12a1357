/*
 * STA clients, as on Windows: callbacks in the client's apartment, objects marshalled between apartments and processes
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "NapEnforcementClient.h"
#include "NapSystemHealthAgent.h"
#include "NapSystemHealthAgent_i.c"
#include "NapManagement.h"
#include "NapManagement_i.c"
#include "napagent_rpc.h"
#include "nap_hresults.h"
#include "callback_sink.h"
#include "ec_exchange.h"
#include "sta_objects.h"
#include "soh.h"

/* The main thread is an STA, as an ATL or VB6 program's is; its message
 * loop is sta_pump_until.  MTA work (another client, a worker an STA EC
 * hands its binding to) runs on threads of its own. */

#define EC_STA      0x00013A01u /* the STA's EC */
#define EC_MTA      0x00013A02u /* another client, in the MTA */
#define SHA_STA     0x00013A11u /* the STA's SHA */
#define CALL_TIMEOUT_MS 1000     /* ClientCallTimeoutMs: the bound on Uninitialize's wait */
#define SHA_TIMEOUT_MS  300
#define WAIT_MS         10000
#define SHA_FIXUP       0x1      /* shaFixup */

static HANDLE agent;

/* ---- threads ---- */

struct mta_call
{
    void (*fn)(void *arg);
    void *arg;
};

static DWORD WINAPI mta_main(void *param)
{
    struct mta_call *call = param;

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    call->fn(call->arg);
    CoUninitialize();
    return 0;
}

static BOOL thread_ended(void *thread)
{
    return WaitForSingleObject(thread, 0) == WAIT_OBJECT_0;
}

/* Runs fn on a thread of the MTA while this STA keeps its message loop going. */
static void run_in_mta(void (*fn)(void *arg), void *arg)
{
    struct mta_call call = { fn, arg };
    HANDLE thread = CreateThread(NULL, 0, mta_main, &call, 0, NULL);

    assert_non_null(thread);
    assert_true(sta_pump_until(thread_ended, thread, 30000));
    CloseHandle(thread);
}

/* A COM call waits in this STA's queue (the courier's, into a gate here). */
static BOOL call_waiting(void)
{
    DWORD start = GetTickCount();

    while (!(HIWORD(GetQueueStatus(QS_POSTMESSAGE)) & QS_POSTMESSAGE))
    {
        if (GetTickCount() - start > WAIT_MS) return FALSE;
        Sleep(5);
    }
    return TRUE;
}

struct count_wait
{
    volatile LONG *count;
    LONG target;
};

static BOOL count_reached(void *arg)
{
    struct count_wait *wait = arg;

    return *wait->count >= wait->target;
}

/* Pumps until *count reaches target. */
static BOOL pump_count(volatile LONG *count, LONG target)
{
    struct count_wait wait = { count, target };

    return sta_pump_until(count_reached, &wait, WAIT_MS);
}

/* ---- bindings ---- */

static INapEnforcementClientBinding *create_ec_binding(void)
{
    INapEnforcementClientBinding *binding = NULL;

    assert_int_equal(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&binding), S_OK);
    return binding;
}

static INapEnforcementClientConnection *new_connection(INapEnforcementClientBinding *binding, GUID *id)
{
    INapEnforcementClientConnection *connection = NULL;

    assert_int_equal(INapEnforcementClientBinding_CreateConnection(binding, &connection), S_OK);
    CoCreateGuid(id);
    assert_int_equal(INapEnforcementClientConnection_SetConnectionId(connection, id), S_OK);
    return connection;
}

static INapEnforcementClientBinding *bind_sta_ec(struct sta_ec *ec)
{
    INapEnforcementClientBinding *binding = create_ec_binding();

    sta_ec_init(ec);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_STA, &ec->INapEnforcementClientCallback_iface),
                     S_OK);
    /* Held once, by the gate in this apartment. */
    assert_int_equal(ec->refs, 2);
    return binding;
}

static INapSystemHealthAgentBinding2 *bind_sta_sha(struct sta_sha *sha, UINT32 marker, BOOL cache)
{
    INapSystemHealthAgentBinding2 *binding = NULL;

    assert_int_equal(CoCreateInstance(&CLSID_NapSystemHealthAgentBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapSystemHealthAgentBinding2, (void **)&binding), S_OK);
    sta_sha_init(sha, SHA_STA, marker);
    sha->cache = cache;
    assert_int_equal(INapSystemHealthAgentBinding2_Initialize(binding, SHA_STA,
                                                              &sha->INapSystemHealthAgentCallback_iface), S_OK);
    /* The agent asks a new SHA for its SoH, quietly: here, on this thread. */
    assert_true(pump_count(&sha->get_soh_count, 1));
    return binding;
}

/* ---- another client, in the MTA ---- */

struct mta_ec
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    HRESULT hr;
    DWORD ms;                          /* how long the last step took */
    BYTE entry[256];                   /* the STA SHA's entry in the last request */
    UINT16 entry_size;
};

static void mta_ec_bind(void *arg)
{
    struct mta_ec *ec = arg;
    GUID id;

    callback_sink_init(&ec->sink);
    ec->hr = CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                              &IID_INapEnforcementClientBinding, (void **)&ec->binding);
    if (SUCCEEDED(ec->hr))
        ec->hr = INapEnforcementClientBinding_Initialize(ec->binding, EC_MTA, &ec->sink.INapEnforcementClientCallback_iface);
    if (SUCCEEDED(ec->hr)) ec->hr = INapEnforcementClientBinding_CreateConnection(ec->binding, &ec->connection);
    CoCreateGuid(&id);
    if (SUCCEEDED(ec->hr)) ec->hr = INapEnforcementClientConnection_SetConnectionId(ec->connection, &id);
}

static void mta_ec_unbind(void *arg)
{
    struct mta_ec *ec = arg;

    INapEnforcementClientConnection_Release(ec->connection);
    ec->hr = INapEnforcementClientBinding_Uninitialize(ec->binding);
    INapEnforcementClientBinding_Release(ec->binding);
}

/* GetSoHRequest, keeping the STA SHA's report entry. */
static void mta_ec_request(void *arg)
{
    struct mta_ec *ec = arg;
    NetworkSoHRequest *request = NULL;
    struct soh_request decoded;
    DWORD start = GetTickCount();
    BOOL retrigger;
    UINT16 i;

    ec->entry_size = 0;
    ec->hr = INapEnforcementClientBinding_GetSoHRequest(ec->binding, ec->connection, &retrigger);
    ec->ms = GetTickCount() - start;
    if (FAILED(ec->hr) || FAILED(INapEnforcementClientConnection_GetSoHRequest(ec->connection, &request))) return;
    if (soh_decode_request(request->data, request->size, &decoded) == SOH_OK)
        for (i = 0; i < decoded.entry_count; i++)
            if (decoded.entries[i].shv_id == SHA_STA && decoded.entries[i].len <= sizeof(ec->entry))
            {
                memcpy(ec->entry, decoded.entries[i].tlvs, decoded.entries[i].len);
                ec->entry_size = decoded.entries[i].len;
            }
    CoTaskMemFree(request->data);
    CoTaskMemFree(request);
}

/* The server's answer: restricted, fix-up asked for, one entry for the STA SHA. */
static void mta_ec_answer_fixup(void *arg)
{
    struct mta_ec *ec = arg;
    NetworkSoHRequest *request = NULL;
    struct soh_request decoded;
    struct soh_response response;
    BYTE entry[64], bytes[512];
    UINT32 code = 0xC0FFEE;
    NetworkSoHResponse soh;
    size_t entry_size, size;

    if (FAILED(ec->hr = INapEnforcementClientConnection_GetSoHRequest(ec->connection, &request))) return;
    ec->hr = soh_decode_request(request->data, request->size, &decoded) == SOH_OK ? S_OK : E_FAIL;
    CoTaskMemFree(request->data);
    CoTaskMemFree(request);
    memset(&response, 0, sizeof(response));
    response.with_mode_header = response.has_correlation = 1;
    response.correlation = decoded.correlation;
    response.quarantine.state = isolationStateRestrictedAccess;
    response.quarantine.fixup = 1;
    response.quarantine.prob_time = SOH_PROB_TIME_NONE;
    soh_encode_simple_entry(SHA_STA, &code, 1, 0, entry, sizeof(entry), &entry_size);
    response.entry_count = 1;
    response.entries[0].shv_id = SHA_STA;
    response.entries[0].tlvs = entry;
    response.entries[0].len = (uint16_t)entry_size;
    if (SUCCEEDED(ec->hr) && soh_encode_response(&response, bytes, sizeof(bytes), &size) != SOH_OK) ec->hr = E_FAIL;
    soh.size = (UINT16)size;
    soh.data = bytes;
    if (SUCCEEDED(ec->hr)) ec->hr = INapEnforcementClientConnection_SetSoHResponse(ec->connection, &soh);
    if (SUCCEEDED(ec->hr)) ec->hr = INapEnforcementClientBinding_ProcessSoHResponse(ec->binding, ec->connection);
}

static void mta_ec_down(void *arg)
{
    struct mta_ec *ec = arg;

    ec->hr = INapEnforcementClientBinding_NotifyConnectionStateDown(ec->binding, ec->connection);
}

/* The entry is the SHA's own SoH: its id and its marker code. */
static BOOL entry_is_soh(const struct mta_ec *ec, UINT32 marker)
{
    const BYTE expect[8] = { 0, 4, 0, 4, marker >> 24, marker >> 16, marker >> 8, marker };

    return ec->entry_size == 16 && !memcmp(ec->entry + 8, expect, sizeof(expect));
}

/* ---- tests ---- */

struct query_call
{
    HRESULT hr;
    UINT32 count, max_size;
    GUID first_id;
};

static void query_connections(void *arg)
{
    struct query_call *call = arg;

    call->hr = test_query_connections(EC_STA, &call->count, &call->first_id, &call->max_size);
}

/* NotifySoHChange and GetConnections run on the STA, through its message
 * loop; so do the calls on the EC's own connections, and their Release. */
static void test_sta_ec_callbacks(void **state)
{
    struct query_call query = { 0 };
    struct sta_connection own;
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection, *inner;
    struct sta_ec ec;
    GUID id, own_id;

    (void)state;
    binding = bind_sta_ec(&ec);
    connection = new_connection(binding, &id);
    inner = new_connection(binding, &own_id);
    sta_connection_init(&own, inner);
    ec.binding = binding;
    ec.connection = connection;
    ec.request_in_notify = TRUE;
    ec.connection_count = 2;
    ec.connections[0] = &own.INapEnforcementClientConnection_iface;
    ec.connections[1] = connection;

    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(pump_count(&ec.notify_count, 1));
    /* The binding, called from inside the callback, on the STA. */
    assert_int_equal(ec.request_in_notify_result, S_OK);

    /* The agent asks for the connections while the STA pumps. */
    run_in_mta(query_connections, &query);
    assert_int_equal(query.hr, S_OK);
    assert_int_equal(query.count, 2);
    assert_memory_equal(&query.first_id, &own_id, sizeof(GUID));
    assert_int_equal(ec.get_connections_count, 1);
    /* Its facts were read through a proxy, here; every reference went back, here. */
    sta_pump_until(NULL, NULL, 200);
    assert_true(own.calls >= 3);
    assert_int_equal(own.refs, 1);
    assert_int_equal(own.wrong_thread, 0);

    /* Uninitialize on the STA releases the callback at once, on the STA. */
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(ec.refs, 1);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    sta_pump_until(NULL, NULL, 200);
    assert_int_equal(ec.refs, 1);
    assert_int_equal(ec.wrong_thread, 0);
    assert_int_equal(INapEnforcementClientConnection_Release(&own.INapEnforcementClientConnection_iface), 0);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
}

/* The six SHA callbacks run on the STA, while an MTA EC exchanges. */
static void test_sta_sha_callbacks(void **state)
{
    INapSystemHealthAgentBinding2 *binding;
    struct sta_sha sha;
    struct mta_ec ec;
    LONG count;

    (void)state;
    binding = bind_sta_sha(&sha, 0x51, FALSE);
    assert_int_equal(sha.set_soh_result, S_OK);
    run_in_mta(mta_ec_bind, &ec);
    assert_int_equal(ec.hr, S_OK);

    /* Nothing kept for later use: the EC's request asks the SHA, here. */
    count = sha.get_soh_count;
    run_in_mta(mta_ec_request, &ec);
    assert_int_equal(ec.hr, S_OK);
    assert_int_equal(sha.get_soh_count, count + 1);
    assert_true(entry_is_soh(&ec, 0x51));

    /* Restricted with fix-up: ProcessSoHResponse, the isolation change, GetFixupInfo polled. */
    sha.fixup_in_progress = 1;
    run_in_mta(mta_ec_answer_fixup, &ec);
    assert_int_equal(ec.hr, S_OK);
    assert_true(pump_count(&sha.process_count, 1));
    assert_int_equal(sha.response_flags, SHA_FIXUP);
    assert_int_equal(sha.response_attributes, 2);
    assert_true(pump_count(&sha.isolation_count, 1));
    assert_true(pump_count(&sha.fixup_count, 2));

    /* The SoH changes: the agent fetches it and compares it with the one before. */
    sha.marker = 0x52;
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), S_OK);
    assert_true(pump_count(&sha.compare_count, 1));

    /* A request outstanding when its connection goes down is orphaned. */
    run_in_mta(mta_ec_request, &ec);
    assert_int_equal(ec.hr, S_OK);
    assert_true(entry_is_soh(&ec, 0x52));
    run_in_mta(mta_ec_down, &ec);
    assert_int_equal(ec.hr, S_OK);
    assert_true(pump_count(&sha.orphaned_count, 1));

    run_in_mta(mta_ec_unbind, &ec);
    assert_int_equal(ec.hr, S_OK);
    assert_int_equal(INapSystemHealthAgentBinding2_Uninitialize(binding), S_OK);
    assert_int_equal(sha.refs, 1);
    assert_int_equal(INapSystemHealthAgentBinding2_Release(binding), 0);
    sta_pump_until(NULL, NULL, 200);
    assert_int_equal(sha.refs, 1);
    assert_int_equal(sha.wrong_thread, 0);
}

/* An STA that stops pumping: its callback waits for it; another client of
 * the process and the agent go on.  Once it pumps, the callback runs, once. */
static void test_blocked_sta_ec(void **state)
{
    INapEnforcementClientBinding *binding;
    struct sta_ec ec;
    struct mta_ec other;
    DWORD start;
    int i;

    (void)state;
    binding = bind_sta_ec(&ec);
    run_in_mta(mta_ec_bind, &other);
    assert_int_equal(other.hr, S_OK);

    /* From here on the STA does not pump. */
    for (i = 1; i <= 5; i++)
    {
        start = GetTickCount();
        assert_int_equal(test_notify_soh_change(), S_OK);
        assert_true(GetTickCount() - start < CALL_TIMEOUT_MS);
        assert_true(callback_sink_wait_notify(&other.sink, i, WAIT_MS));
    }
    assert_true(call_waiting());
    Sleep(500);
    assert_int_equal(ec.notify_count, 0);

    /* Pumping again: the change is told once more, not five times. */
    assert_true(pump_count(&ec.notify_count, 1));
    sta_pump_until(NULL, NULL, 500);
    assert_true(ec.notify_count <= 2);

    run_in_mta(mta_ec_unbind, &other);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(ec.refs, 1);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(ec.wrong_thread, 0);
}

/* An STA SHA that does not pump holds up no EC: the agent gives up on it
 * after its SHA timeout and sends the substitute. */
static void test_blocked_sta_sha(void **state)
{
    INapSystemHealthAgentBinding2 *binding;
    struct sta_sha sha;
    struct mta_ec ec;
    HANDLE thread;
    struct mta_call call = { mta_ec_request, &ec };
    LONG count;

    (void)state;
    binding = bind_sta_sha(&sha, 0x61, FALSE);
    run_in_mta(mta_ec_bind, &ec);
    assert_int_equal(ec.hr, S_OK);

    /* The STA does not pump while the EC asks. */
    count = sha.get_soh_count;
    assert_non_null(thread = CreateThread(NULL, 0, mta_main, &call, 0, NULL));
    assert_int_equal(WaitForSingleObject(thread, WAIT_MS), WAIT_OBJECT_0);
    CloseHandle(thread);
    assert_int_equal(ec.hr, S_OK);
    assert_true(ec.ms < SHA_TIMEOUT_MS + 700);
    assert_false(entry_is_soh(&ec, 0x61));
    assert_int_equal(sha.get_soh_count, count);

    /* The SHA gets the question late, here; the agent no longer waits for it. */
    assert_true(pump_count(&sha.get_soh_count, count + 1));
    run_in_mta(mta_ec_unbind, &ec);
    assert_int_equal(INapSystemHealthAgentBinding2_Uninitialize(binding), S_OK);
    assert_int_equal(sha.refs, 1);
    assert_int_equal(INapSystemHealthAgentBinding2_Release(binding), 0);
    assert_int_equal(sha.wrong_thread, 0);
}

/* Uninitialize from the STA while a callback waits in its queue: it does not
 * wait for the callback, which never runs; the callback is released at once. */
static void test_uninitialize_from_sta_while_callback_waits(void **state)
{
    INapEnforcementClientBinding *binding;
    struct sta_ec ec;
    DWORD start, ms;

    (void)state;
    binding = bind_sta_ec(&ec);
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(call_waiting());

    start = GetTickCount();
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    ms = GetTickCount() - start;
    print_message("Uninitialize from the STA with a callback waiting: %lu ms\n", ms);
    assert_true(ms < CALL_TIMEOUT_MS / 2);
    assert_int_equal(ec.refs, 1);

    /* The call that waited is refused by the gate: no callback after Uninitialize. */
    sta_pump_until(NULL, NULL, 500);
    assert_int_equal(ec.notify_count, 0);
    assert_int_equal(ec.refs, 1);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(ec.wrong_thread, 0);
}

struct uninitialize_call
{
    INapEnforcementClientBinding *binding;
    HRESULT hr;
    DWORD ms;
};

static void uninitialize_binding(void *arg)
{
    struct uninitialize_call *call = arg;
    DWORD start = GetTickCount();

    call->hr = INapEnforcementClientBinding_Uninitialize(call->binding);
    call->ms = GetTickCount() - start;
}

/* Uninitialize from another thread while the STA does not pump: it waits
 * for the STA at most the call bound, and returns; the callback waiting
 * never runs, and the STA releases its callback when it pumps again. */
static void test_uninitialize_from_worker_while_sta_blocked(void **state)
{
    struct uninitialize_call call = { 0 };
    struct mta_call mta = { uninitialize_binding, &call };
    struct sta_ec ec;
    HANDLE thread;

    (void)state;
    call.binding = bind_sta_ec(&ec);
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(call_waiting());

    assert_non_null(thread = CreateThread(NULL, 0, mta_main, &mta, 0, NULL));
    assert_int_equal(WaitForSingleObject(thread, CALL_TIMEOUT_MS * 3), WAIT_OBJECT_0);
    CloseHandle(thread);
    print_message("Uninitialize from the MTA, the STA blocked: %lu ms\n", call.ms);
    assert_int_equal(call.hr, S_OK);
    assert_true(call.ms >= CALL_TIMEOUT_MS - 50 && call.ms < CALL_TIMEOUT_MS * 2);
    assert_int_equal(ec.refs, 2);

    assert_true(sta_pump_until(NULL, NULL, 500));
    assert_int_equal(ec.notify_count, 0);
    assert_int_equal(ec.refs, 1);
    assert_int_equal(INapEnforcementClientBinding_Release(call.binding), 0);
    assert_int_equal(ec.wrong_thread, 0);
}

/* Uninitialize from inside the callback, on the STA: it does not wait for
 * the callback it runs in; the callback goes once it has returned. */
static void test_uninitialize_inside_sta_callback(void **state)
{
    INapEnforcementClientBinding *binding;
    struct sta_ec ec;

    (void)state;
    binding = bind_sta_ec(&ec);
    ec.binding = binding;
    ec.uninitialize_in_notify = TRUE;
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(pump_count(&ec.notify_count, 1));
    assert_int_equal(ec.uninitialize_in_notify_result, S_OK);
    assert_true(ec.uninitialize_in_notify_ms < CALL_TIMEOUT_MS / 2);
    assert_int_equal(ec.refs, 1);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(ec.wrong_thread, 0);
}

/* A callback that aggregates the free-threaded marshaler, bound from the STA:
 * COM would hand every apartment the object itself, so no switch to the STA. */
struct agile_ec
{
    INapEnforcementClientCallback INapEnforcementClientCallback_iface;
    LONG refs;
    IUnknown *ftm;
    volatile LONG notify_count;
    DWORD notify_thread;
};

static inline struct agile_ec *impl_from_agile(INapEnforcementClientCallback *iface)
{
    return CONTAINING_RECORD(iface, struct agile_ec, INapEnforcementClientCallback_iface);
}

static HRESULT WINAPI agile_QueryInterface(INapEnforcementClientCallback *iface, REFIID riid, void **out)
{
    struct agile_ec *ec = impl_from_agile(iface);

    if (IsEqualIID(riid, &IID_IMarshal)) return IUnknown_QueryInterface(ec->ftm, riid, out);
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_INapEnforcementClientCallback))
    {
        *out = iface;
        InterlockedIncrement(&ec->refs);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI agile_AddRef(INapEnforcementClientCallback *iface)
{
    return InterlockedIncrement(&impl_from_agile(iface)->refs);
}

static ULONG WINAPI agile_Release(INapEnforcementClientCallback *iface)
{
    return InterlockedDecrement(&impl_from_agile(iface)->refs);
}

static HRESULT WINAPI agile_NotifySoHChange(INapEnforcementClientCallback *iface)
{
    struct agile_ec *ec = impl_from_agile(iface);

    ec->notify_thread = GetCurrentThreadId();
    InterlockedIncrement(&ec->notify_count);
    return S_OK;
}

static HRESULT WINAPI agile_GetConnections(INapEnforcementClientCallback *iface, Connections **out)
{
    (void)iface;
    *out = NULL;
    return S_OK;
}

static const INapEnforcementClientCallbackVtbl agile_vtbl =
{
    agile_QueryInterface,
    agile_AddRef,
    agile_Release,
    agile_NotifySoHChange,
    agile_GetConnections,
};

static BOOL agile_notified(void *arg)
{
    return ((struct agile_ec *)arg)->notify_count > 0;
}

static void test_free_threaded_callback_from_sta(void **state)
{
    INapEnforcementClientBinding *binding = create_ec_binding();
    struct agile_ec ec = { .INapEnforcementClientCallback_iface = { &agile_vtbl }, .refs = 1 };

    (void)state;
    assert_int_equal(CoCreateFreeThreadedMarshaler((IUnknown *)&ec.INapEnforcementClientCallback_iface, &ec.ftm), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_STA, &ec.INapEnforcementClientCallback_iface),
                     S_OK);
    /* The STA does not pump: the callback runs anyway, on the session's thread. */
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(test_wait_for(agile_notified, &ec, WAIT_MS));
    assert_int_not_equal(ec.notify_thread, GetCurrentThreadId());
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(ec.refs, 1);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    IUnknown_Release(ec.ftm);
}

/* An STA EC hands its binding and connection to a worker, marshalled
 * (CoMarshalInterThreadInterfaceInStream, the GIT), and waits for it
 * without pumping: the worker's exchange needs nothing of the STA. */
struct worker_exchange
{
    IStream *binding_stream;
    DWORD connection_cookie, sha_cookie, management_cookie;
    IGlobalInterfaceTable *git;
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    INapSystemHealthAgentBinding2 *sha_binding;
    INapClientManagement *management;
    HRESULT unmarshal_hr, git_hr, exchange_hr, sha_hr, management_hr;
    BOOL same_binding, same_connection, same_sha, same_management;
};

static void worker_exchange(void *arg)
{
    struct worker_exchange *work = arg;
    INapEnforcementClientBinding *binding = NULL;
    INapEnforcementClientConnection *connection = NULL;
    INapSystemHealthAgentBinding2 *sha = NULL;
    INapClientManagement *management = NULL;
    IsolationInfo *info = NULL;
    BOOL unknown;

    work->unmarshal_hr = CoGetInterfaceAndReleaseStream(work->binding_stream, &IID_INapEnforcementClientBinding,
                                                        (void **)&binding);
    work->git_hr = IGlobalInterfaceTable_GetInterfaceFromGlobal(work->git, work->connection_cookie,
                                                                &IID_INapEnforcementClientConnection,
                                                                (void **)&connection);
    if (SUCCEEDED(work->git_hr))
        work->git_hr = IGlobalInterfaceTable_GetInterfaceFromGlobal(work->git, work->sha_cookie,
                                                                    &IID_INapSystemHealthAgentBinding2, (void **)&sha);
    if (SUCCEEDED(work->git_hr))
        work->git_hr = IGlobalInterfaceTable_GetInterfaceFromGlobal(work->git, work->management_cookie,
                                                                    &IID_INapClientManagement, (void **)&management);
    work->same_binding = binding == work->binding;
    work->same_connection = connection == work->connection;
    work->same_sha = sha == work->sha_binding;
    work->same_management = management == work->management;
    if (binding && connection) work->exchange_hr = ec_exchange(binding, connection);
    if (sha) work->sha_hr = INapSystemHealthAgentBinding2_GetSystemIsolationInfo(sha, &info, &unknown);
    if (info) CoTaskMemFree(info->failureUrl.string);
    CoTaskMemFree(info);
    if (management) work->management_hr = INapClientManagement_GetSystemIsolationInfo(management, &info, &unknown);
    if (info) CoTaskMemFree(info->failureUrl.string);
    CoTaskMemFree(info);
    if (binding) INapEnforcementClientBinding_Release(binding);
    if (connection) INapEnforcementClientConnection_Release(connection);
    if (sha) INapSystemHealthAgentBinding2_Release(sha);
    if (management) INapClientManagement_Release(management);
}

static void test_bindings_to_worker(void **state)
{
    struct worker_exchange work = { 0 };
    struct mta_call call = { worker_exchange, &work };
    struct sta_ec ec;
    struct sta_sha sha;
    HANDLE thread;
    GUID id;

    (void)state;
    work.binding = bind_sta_ec(&ec);
    work.connection = new_connection(work.binding, &id);
    work.sha_binding = bind_sta_sha(&sha, 0x71, TRUE);
    assert_int_equal(CoCreateInstance(&CLSID_NapClientManagement, NULL, CLSCTX_INPROC_SERVER, &IID_INapClientManagement,
                                      (void **)&work.management), S_OK);
    assert_int_equal(CoMarshalInterThreadInterfaceInStream(&IID_INapEnforcementClientBinding,
                                                           (IUnknown *)work.binding, &work.binding_stream), S_OK);
    assert_int_equal(CoCreateInstance(&CLSID_StdGlobalInterfaceTable, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_IGlobalInterfaceTable, (void **)&work.git), S_OK);
    assert_int_equal(IGlobalInterfaceTable_RegisterInterfaceInGlobal(work.git, (IUnknown *)work.connection,
                                                                     &IID_INapEnforcementClientConnection,
                                                                     &work.connection_cookie), S_OK);
    assert_int_equal(IGlobalInterfaceTable_RegisterInterfaceInGlobal(work.git, (IUnknown *)work.sha_binding,
                                                                     &IID_INapSystemHealthAgentBinding2,
                                                                     &work.sha_cookie), S_OK);
    assert_int_equal(IGlobalInterfaceTable_RegisterInterfaceInGlobal(work.git, (IUnknown *)work.management,
                                                                     &IID_INapClientManagement,
                                                                     &work.management_cookie), S_OK);

    /* The STA waits without pumping, as a program blocked on its worker does. */
    assert_non_null(thread = CreateThread(NULL, 0, mta_main, &call, 0, NULL));
    assert_int_equal(WaitForSingleObject(thread, WAIT_MS), WAIT_OBJECT_0);
    CloseHandle(thread);
    assert_int_equal(work.unmarshal_hr, S_OK);
    assert_int_equal(work.git_hr, S_OK);
    /* Free-threaded: every apartment gets the object itself. */
    assert_true(work.same_binding);
    assert_true(work.same_connection);
    assert_true(work.same_sha);
    assert_true(work.same_management);
    assert_int_equal(work.exchange_hr, S_OK);
    assert_int_equal(work.sha_hr, S_OK);
    assert_int_equal(work.management_hr, S_OK);

    IGlobalInterfaceTable_RevokeInterfaceFromGlobal(work.git, work.connection_cookie);
    IGlobalInterfaceTable_RevokeInterfaceFromGlobal(work.git, work.sha_cookie);
    IGlobalInterfaceTable_RevokeInterfaceFromGlobal(work.git, work.management_cookie);
    IGlobalInterfaceTable_Release(work.git);
    assert_int_equal(INapClientManagement_Release(work.management), 0);
    assert_int_equal(INapEnforcementClientConnection_Release(work.connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(work.binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(work.binding), 0);
    assert_int_equal(INapSystemHealthAgentBinding2_Uninitialize(work.sha_binding), S_OK);
    assert_int_equal(INapSystemHealthAgentBinding2_Release(work.sha_binding), 0);
    assert_int_equal(ec.refs, 1);
    assert_int_equal(sha.refs, 1);
    assert_int_equal(ec.wrong_thread + sha.wrong_thread, 0);
}

/* ---- another process ---- */

static const BYTE child_private[4] = { 'k', 'i', 'd', '!' };
#define CHILD_MAX_SIZE 1234
#define CHILD_SHV      0x00013A55u

static void hex_encode(const BYTE *bytes, SIZE_T size, WCHAR *out)
{
    SIZE_T i;

    for (i = 0; i < size; i++) swprintf(out + 2 * i, 3, L"%02x", bytes[i]);
    out[2 * size] = 0;
}

/* --child-connection <objref hex> <connection id>: uses the connection
 * marshalled by the parent, through the proxy; exit status 0 when every
 * call did what it should. */
static int run_child_connection(const char *hex, const char *id_text)
{
    INapEnforcementClientConnection *connection = NULL;
    INapEnforcementClientConnection2 *connection2 = NULL;
    SystemHealthEntityId shv = CHILD_SHV;
    PrivateData data = { sizeof(child_private), (BYTE *)child_private };
    ConnectionId *id = NULL;
    WCHAR id_wide[64];
    GUID expect;
    ProtocolMaxSize size = 0;
    IStream *stream;
    size_t i, len = strlen(hex) / 2;
    int status = 0;
    BYTE byte;

    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED))) return 10;
    if (FAILED(CreateStreamOnHGlobal(NULL, TRUE, &stream))) return 11;
    for (i = 0; i < len; i++)
    {
        char digits[3] = { hex[2 * i], hex[2 * i + 1], 0 };

        byte = (BYTE)strtoul(digits, NULL, 16);
        IStream_Write(stream, &byte, 1, NULL);
    }
    IStream_Seek(stream, (LARGE_INTEGER){ { 0 } }, STREAM_SEEK_SET, NULL);
    if (FAILED(CoUnmarshalInterface(stream, &IID_INapEnforcementClientConnection, (void **)&connection))) return 12;
    IStream_Release(stream);
    swprintf(id_wide, ARRAYSIZE(id_wide), L"%hs", id_text);
    CLSIDFromString(id_wide, &expect);
    if (FAILED(INapEnforcementClientConnection_GetConnectionId(connection, &id)) || !IsEqualGUID(id, &expect)) status = 13;
    CoTaskMemFree(id);
    if (!status && (FAILED(INapEnforcementClientConnection_GetMaxSize(connection, &size)) || size != 1000)) status = 14;
    if (!status && FAILED(INapEnforcementClientConnection_SetMaxSize(connection, CHILD_MAX_SIZE))) status = 15;
    if (!status && FAILED(INapEnforcementClientConnection_SetPrivateData(connection, &data))) status = 16;
    if (!status && FAILED(INapEnforcementClientConnection_QueryInterface(connection, &IID_INapEnforcementClientConnection2,
                                                                         (void **)&connection2)))
        status = 17;
    if (!status && FAILED(INapEnforcementClientConnection2_SetInstalledShvs(connection2, 1, &shv))) status = 18;
    if (connection2) INapEnforcementClientConnection2_Release(connection2);
    INapEnforcementClientConnection_Release(connection);
    CoUninitialize();
    return status;
}

/* A connection marshalled to another process (as Windows' agent would get
 * it) and used there, through the proxy and stub qagent.dll registers. */
static void test_connection_to_other_process(void **state)
{
    INapEnforcementClientBinding *binding;
    struct sta_ec ec;
    INapEnforcementClientConnection *connection;
    INapEnforcementClientConnection2 *connection2;
    WCHAR args[1024], id_text[39], path[MAX_PATH], cmdline[1200];
    STARTUPINFOW si = { .cb = sizeof(si) };
    PROCESS_INFORMATION pi;
    SystemHealthEntityCount count = 0;
    SystemHealthEntityId *shvs = NULL;
    PrivateData *data = NULL;
    ProtocolMaxSize size;
    IStream *stream;
    HGLOBAL global;
    DWORD code = 1;
    GUID id;

    (void)state;
    binding = bind_sta_ec(&ec);
    connection = new_connection(binding, &id);
    assert_int_equal(INapEnforcementClientConnection_SetMaxSize(connection, 1000), S_OK);
    assert_int_equal(CreateStreamOnHGlobal(NULL, TRUE, &stream), S_OK);
    assert_int_equal(CoMarshalInterface(stream, &IID_INapEnforcementClientConnection, (IUnknown *)connection,
                                        MSHCTX_LOCAL, NULL, MSHLFLAGS_NORMAL), S_OK);
    assert_int_equal(GetHGlobalFromStream(stream, &global), S_OK);
    {
        ULARGE_INTEGER end;

        IStream_Seek(stream, (LARGE_INTEGER){ { 0 } }, STREAM_SEEK_CUR, &end);
        assert_true(end.QuadPart < 400);
        hex_encode(GlobalLock(global), (SIZE_T)end.QuadPart, args);
        GlobalUnlock(global);
    }
    StringFromGUID2(&id, id_text, ARRAYSIZE(id_text));
    test_bin_path(L"test_apartments.exe", path, MAX_PATH);
    swprintf(cmdline, ARRAYSIZE(cmdline), L"\"%ls\" --child-connection %ls %ls", path, args, id_text);
    assert_true(CreateProcessW(path, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi));
    CloseHandle(pi.hThread);
    test_adopt_child(pi.hProcess);
    /* Its calls come in through this STA's message loop. */
    assert_true(sta_pump_until(thread_ended, pi.hProcess, 30000));
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    assert_int_equal(code, 0);

    assert_int_equal(INapEnforcementClientConnection_GetMaxSize(connection, &size), S_OK);
    assert_int_equal(size, CHILD_MAX_SIZE);
    assert_int_equal(INapEnforcementClientConnection_GetPrivateData(connection, &data), S_OK);
    assert_int_equal(data->size, sizeof(child_private));
    assert_memory_equal(data->data, child_private, sizeof(child_private));
    CoTaskMemFree(data->data);
    CoTaskMemFree(data);
    assert_int_equal(INapEnforcementClientConnection_QueryInterface(connection, &IID_INapEnforcementClientConnection2,
                                                                    (void **)&connection2), S_OK);
    assert_int_equal(INapEnforcementClientConnection2_GetInstalledShvs(connection2, &count, &shvs), S_OK);
    assert_int_equal(count, 1);
    assert_int_equal(shvs[0], CHILD_SHV);
    CoTaskMemFree(shvs);
    INapEnforcementClientConnection2_Release(connection2);
    IStream_Release(stream);
    /* The child released its proxy: the stub let go of the connection. */
    sta_pump_until(NULL, NULL, 200);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(ec.wrong_thread, 0);
}

typedef HRESULT (WINAPI *get_class_object_fn)(REFCLSID, REFIID, void **);

/* Without qagent.dll's proxies registered, Initialize from an STA fails with
 * the marshalling's error: the callback is never called on another thread. */
static void test_initialize_from_sta_needs_the_proxies(void **state)
{
    INapEnforcementClientBinding *binding = NULL;
    get_class_object_fn get_class_object;
    IClassFactory *factory = NULL;
    WCHAR path[MAX_PATH];
    struct sta_ec ec;
    HMODULE module;
    HRESULT hr;

    (void)state;
    assert_int_equal(test_regsvr32(L"/u /s"), 0);
    test_bin_path(L"qagent.dll", path, MAX_PATH);
    assert_non_null(module = LoadLibraryW(path));
    get_class_object = (get_class_object_fn)(void *)GetProcAddress(module, "DllGetClassObject");
    assert_int_equal(get_class_object(&CLSID_NapEnforcementClientBinding, &IID_IClassFactory, (void **)&factory), S_OK);
    assert_int_equal(IClassFactory_CreateInstance(factory, NULL, &IID_INapEnforcementClientBinding, (void **)&binding),
                     S_OK);
    IClassFactory_Release(factory);
    sta_ec_init(&ec);
    hr = INapEnforcementClientBinding_Initialize(binding, EC_STA, &ec.INapEnforcementClientCallback_iface);
    assert_int_equal(test_regsvr32(L"/s"), 0);
    assert_int_equal(hr, E_NOINTERFACE);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(ec.refs, 1);
    assert_int_equal(ec.wrong_thread, 0);
    FreeLibrary(module);
}

static int setup(void **state)
{
    (void)state;
    if (test_register_qagent() != 0) return -1;
    if (!(agent = test_start_agent())) return -1;
    if (FAILED(test_register_ec(EC_STA, TRUE)) || FAILED(test_register_ec(EC_MTA, TRUE))) return -1;
    if (FAILED(test_register_sha(SHA_STA))) return -1;
    if (FAILED(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, CALL_TIMEOUT_MS))) return -1;
    if (FAILED(test_set_setting(NAPAGENT_SETTING_SHA_TIMEOUT_MS, SHA_TIMEOUT_MS))) return -1;
    if (FAILED(test_set_setting(NAPAGENT_SETTING_FIXUP_POLL_MS, 50))) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_unregister_sha(SHA_STA);
    test_kill_agent(agent);
    test_reset_prefix(NULL); /* the settings and registrations, even after a failed test */
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_sta_ec_callbacks),
        cmocka_unit_test(test_sta_sha_callbacks),
        cmocka_unit_test(test_blocked_sta_ec),
        cmocka_unit_test(test_blocked_sta_sha),
        cmocka_unit_test(test_uninitialize_from_sta_while_callback_waits),
        cmocka_unit_test(test_uninitialize_from_worker_while_sta_blocked),
        cmocka_unit_test(test_uninitialize_inside_sta_callback),
        cmocka_unit_test(test_free_threaded_callback_from_sta),
        cmocka_unit_test(test_bindings_to_worker),
        cmocka_unit_test(test_connection_to_other_process),
        cmocka_unit_test(test_initialize_from_sta_needs_the_proxies),
    };
    int failures;

    test_install_crash_handler();
    if (argc > 3 && !strcmp(argv[1], "--child-connection")) return run_child_connection(argv[2], argv[3]);
    CoInitializeEx(NULL, COINIT_APARTMENTTHREADED);
    failures = cmocka_run_group_tests(tests, setup, teardown);
    CoUninitialize();
    return failures;
}
