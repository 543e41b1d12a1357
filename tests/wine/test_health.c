/*
 * Health agents and enforcement clients together, end to end through a real agent
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include "NapEnforcementClient.h"
/* The SHA interfaces' GUIDs are defined here (selectany), not by a library. */
#include <initguid.h>
#include "NapSystemHealthAgent.h"
#include "napagent_rpc.h"
#include "nap_hresults.h"
#include "callback_sink.h"
#include "ec_exchange.h"
#include "soh.h"
#include "soh_attr.h"

#define EC_ID       0x000137D0u
#define SHA_ID      0x000137D1u
#define CHILD_SHA   0x000137D2u
#define NONCOMPLIANT ((HRESULT)0xC0FF0002)
#define READY_EVENT L"opennap-test-health-ready"

/* A test SHA: its SoH says healthy or not; it records what the agent asks. */
struct sha_sink
{
    INapSystemHealthAgentCallback INapSystemHealthAgentCallback_iface;
    LONG refs;
    UINT32 id;
    volatile LONG healthy;
    BOOL cache;
    HRESULT get_soh_result;            /* what GetSoHRequest answers */
    volatile LONG get_soh_count, process_count, fixup_count, compare_count, isolation_count, orphaned_count;
    UINT8 last_flags;
    HRESULT last_verdict;              /* ComplianceResultCodes of the last SoHR */
    CorrelationId last_orphaned;
    CorrelationId orphaned[64];        /* every id NotifyOrphanedSoHRequest named, in order */
    CorrelationId last_get_soh;        /* GetCorrelationId inside the last GetSoHRequest */
    CorrelationId get_soh_ids[64];     /* ... inside every GetSoHRequest, in order */
    volatile LONG busy_ms;             /* ProcessSoHResponse takes this long */
    LONG fixup_steps;                  /* GetFixupInfo answers in progress this often, then success */
};

static inline struct sha_sink *impl_from_callback(INapSystemHealthAgentCallback *iface)
{
    return CONTAINING_RECORD(iface, struct sha_sink, INapSystemHealthAgentCallback_iface);
}

static HRESULT WINAPI sha_QueryInterface(INapSystemHealthAgentCallback *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_INapSystemHealthAgentCallback))
    {
        *out = iface;
        INapSystemHealthAgentCallback_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI sha_AddRef(INapSystemHealthAgentCallback *iface)
{
    return InterlockedIncrement(&impl_from_callback(iface)->refs);
}

static ULONG WINAPI sha_Release(INapSystemHealthAgentCallback *iface)
{
    return InterlockedDecrement(&impl_from_callback(iface)->refs);
}

static HRESULT WINAPI sha_GetSoHRequest(INapSystemHealthAgentCallback *iface, INapSystemHealthAgentRequest *request)
{
    struct sha_sink *sink = impl_from_callback(iface);
    UINT32 code = sink->healthy ? 0 : (UINT32)NONCOMPLIANT;
    BYTE id[4] = { (BYTE)(sink->id >> 24), (BYTE)(sink->id >> 16), (BYTE)(sink->id >> 8), (BYTE)sink->id };
    BYTE codes[4] = { (BYTE)(code >> 24), (BYTE)(code >> 16), (BYTE)(code >> 8), (BYTE)code };
    SoHAttribute attributes[2] = { { SOH_ATTR_SYSTEM_HEALTH_ID, 4, id }, { SOH_ATTR_COMPLIANCE_RESULT_CODES, 4, codes } };
    SoHRequest soh = { 2, attributes };

    LONG calls;

    INapSystemHealthAgentRequest_GetCorrelationId(request, &sink->last_get_soh);
    calls = InterlockedIncrement(&sink->get_soh_count);
    if (calls <= (LONG)ARRAYSIZE(sink->get_soh_ids)) sink->get_soh_ids[calls - 1] = sink->last_get_soh;
    if (FAILED(sink->get_soh_result)) return sink->get_soh_result;
    return INapSystemHealthAgentRequest_SetSoHRequest(request, &soh, sink->cache);
}

static HRESULT WINAPI sha_ProcessSoHResponse(INapSystemHealthAgentCallback *iface, INapSystemHealthAgentRequest *request)
{
    struct sha_sink *sink = impl_from_callback(iface);
    SoHResponse *soh = NULL;
    UINT8 flags = 0;
    UINT16 i;

    if (SUCCEEDED(INapSystemHealthAgentRequest_GetSoHResponse(request, &soh, &flags)) && soh)
    {
        for (i = 0; i < soh->count; i++)
            if (soh->attributes[i].type == SOH_ATTR_COMPLIANCE_RESULT_CODES && soh->attributes[i].size >= 4)
            {
                const BYTE *v = soh->attributes[i].value;
                sink->last_verdict = (HRESULT)((UINT32)v[0] << 24 | (UINT32)v[1] << 16 | (UINT32)v[2] << 8 | v[3]);
            }
        for (i = 0; i < soh->count; i++) CoTaskMemFree(soh->attributes[i].value);
        CoTaskMemFree(soh->attributes);
        CoTaskMemFree(soh);
    }
    sink->last_flags = flags;
    InterlockedIncrement(&sink->process_count);
    if (sink->busy_ms) Sleep(sink->busy_ms);
    return S_OK;
}

static HRESULT WINAPI sha_NotifySystemIsolationStateChange(INapSystemHealthAgentCallback *iface)
{
    InterlockedIncrement(&impl_from_callback(iface)->isolation_count);
    return S_OK;
}

static HRESULT WINAPI sha_GetFixupInfo(INapSystemHealthAgentCallback *iface, FixupInfo **info)
{
    struct sha_sink *sink = impl_from_callback(iface);
    LONG polls = InterlockedIncrement(&sink->fixup_count);

    if (!(*info = CoTaskMemAlloc(sizeof(**info)))) return E_OUTOFMEMORY;
    memset(*info, 0, sizeof(**info));
    (*info)->state = polls > sink->fixup_steps ? fixupStateSuccess : fixupStateInProgress;
    (*info)->percentage = polls > sink->fixup_steps ? 100 : 50;
    /* The fix-up worked: the next SoH is healthy. */
    if ((*info)->state == fixupStateSuccess) InterlockedExchange(&sink->healthy, 1);
    return S_OK;
}

static HRESULT WINAPI sha_CompareSoHRequests(INapSystemHealthAgentCallback *iface, const SoHRequest *a,
                                             const SoHRequest *b, BOOL *equal)
{
    (void)a; (void)b; (void)equal;
    InterlockedIncrement(&impl_from_callback(iface)->compare_count);
    return E_NOTIMPL; /* the agent compares bytes */
}

static HRESULT WINAPI sha_NotifyOrphanedSoHRequest(INapSystemHealthAgentCallback *iface, const CorrelationId *id)
{
    struct sha_sink *sink = impl_from_callback(iface);

    sink->last_orphaned = *id;
    if (sink->orphaned_count < (LONG)ARRAYSIZE(sink->orphaned)) sink->orphaned[sink->orphaned_count] = *id;
    InterlockedIncrement(&sink->orphaned_count);
    return S_OK;
}

static const INapSystemHealthAgentCallbackVtbl sha_vtbl =
{
    sha_QueryInterface, sha_AddRef, sha_Release, sha_GetSoHRequest, sha_ProcessSoHResponse,
    sha_NotifySystemIsolationStateChange, sha_GetFixupInfo, sha_CompareSoHRequests, sha_NotifyOrphanedSoHRequest,
};

static void sha_sink_init(struct sha_sink *sink, UINT32 id, BOOL healthy)
{
    memset(sink, 0, sizeof(*sink));
    sink->INapSystemHealthAgentCallback_iface.lpVtbl = &sha_vtbl;
    sink->refs = 1;
    sink->id = id;
    sink->healthy = healthy;
    sink->cache = TRUE;
    sink->fixup_steps = 2;
}

static HRESULT bind_sha(struct sha_sink *sink, INapSystemHealthAgentBinding **binding)
{
    HRESULT hr = CoCreateInstance(&CLSID_NapSystemHealthAgentBinding, NULL, CLSCTX_INPROC_SERVER,
                                  &IID_INapSystemHealthAgentBinding, (void **)binding);

    if (FAILED(hr)) return hr;
    return INapSystemHealthAgentBinding_Initialize(*binding, sink->id, &sink->INapSystemHealthAgentCallback_iface);
}

static BOOL counter_reaches(volatile LONG *counter, LONG value, DWORD timeout_ms)
{
    DWORD start = GetTickCount();

    while (*counter < value)
    {
        if (GetTickCount() - start >= timeout_ms) return FALSE;
        Sleep(5);
    }
    return TRUE;
}

static HANDLE agent;

static int setup(void **state)
{
    (void)state;
    if (test_register_qagent() != 0) return -1;
    if (!(agent = test_start_agent())) return -1;
    /* Only our SHAs: every registered one gets an entry in the SSoH. */
    if (FAILED(test_unregister_all_shas())) return -1;
    if (FAILED(test_register_ec(EC_ID, TRUE))) return -1;
    if (FAILED(test_register_sha(SHA_ID)) || FAILED(test_register_sha(CHILD_SHA))) return -1;
    if (FAILED(test_set_setting(NAPAGENT_SETTING_FIXUP_POLL_MS, 50))) return -1;
    if (FAILED(test_set_setting(NAPAGENT_SETTING_SHA_TIMEOUT_MS, 1000))) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_unregister_sha(SHA_ID);
    test_unregister_sha(CHILD_SHA);
    test_set_setting(NAPAGENT_SETTING_FIXUP_POLL_MS, 1000);
    test_set_setting(NAPAGENT_SETTING_SHA_TIMEOUT_MS, 5000);
    test_kill_agent(agent);
    test_reset_prefix(NULL); /* the settings and registrations, even after a failed test */
    return 0;
}

/* An EC with one connection, as test_recovery.c binds one. */
struct ec
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    struct callback_sink sink;
};

static void bind_ec(struct ec *ec)
{
    GUID id;

    callback_sink_init(&ec->sink);
    assert_int_equal(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&ec->binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(ec->binding, EC_ID,
                                                             &ec->sink.INapEnforcementClientCallback_iface), S_OK);
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(ec->binding, &ec->connection), S_OK);
    CoCreateGuid(&id);
    INapEnforcementClientConnection_SetConnectionId(ec->connection, &id);
}

static void unbind_ec(struct ec *ec)
{
    INapEnforcementClientConnection_Release(ec->connection);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(ec->binding), S_OK);
    INapEnforcementClientBinding_Release(ec->binding);
}

/* The request a connection holds, decoded; `request_bytes` keeps what the entries point into. */
static void held_request(INapEnforcementClientConnection *connection, struct soh_request *request,
                         BYTE *request_bytes)
{
    NetworkSoHRequest *soh;

    assert_int_equal(INapEnforcementClientConnection_GetSoHRequest(connection, &soh), S_OK);
    memcpy(request_bytes, soh->data, soh->size);
    assert_int_equal(soh_decode_request(request_bytes, soh->size, request), SOH_OK);
    CoTaskMemFree(soh->data);
    CoTaskMemFree(soh);
}

/* The EC's current request, decoded. */
static void get_request(struct ec *ec, struct soh_request *request, BYTE *request_bytes)
{
    BOOL retrigger;

    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(ec->binding, ec->connection, &retrigger), S_OK);
    held_request(ec->connection, request, request_bytes);
}

/* Another connection of the EC, with an id of its own. */
static INapEnforcementClientConnection *new_connection(struct ec *ec)
{
    INapEnforcementClientConnection *connection;
    GUID id;

    assert_int_equal(INapEnforcementClientBinding_CreateConnection(ec->binding, &connection), S_OK);
    CoCreateGuid(&id);
    INapEnforcementClientConnection_SetConnectionId(connection, &id);
    return connection;
}

/* The entry for `id` in a request: its compliance code, or the substitute's
 * failure category and error code. */
static BOOL find_entry(const struct soh_request *request, UINT32 id, HRESULT *compliance, UINT8 *category,
                       HRESULT *error)
{
    UINT16 i;

    *compliance = *error = S_OK;
    *category = 0;
    for (i = 0; i < request->entry_count; i++)
    {
        size_t offset = 0;
        uint16_t type, length;
        const uint8_t *value;

        if (request->entries[i].shv_id != id) continue;
        while (soh_entry_next_tlv(&request->entries[i], &offset, &type, &value, &length) == SOH_OK)
        {
            HRESULT code = length >= 4 ? (HRESULT)((UINT32)value[0] << 24 | (UINT32)value[1] << 16
                                                   | (UINT32)value[2] << 8 | value[3]) : S_OK;
            if (type == SOH_ATTR_COMPLIANCE_RESULT_CODES) *compliance = code;
            else if (type == SOH_ATTR_ERROR_CODES) *error = code;
            else if (type == SOH_ATTR_FAILURE_CATEGORY && length == 1) *category = value[0];
        }
        return TRUE;
    }
    return FALSE;
}

/* Answers like a NAP server: compliant SHA → not restricted, else restricted with fix-up. */
static void answer(struct ec *ec, const struct soh_request *request, BOOL compliant)
{
    BYTE entry[64], bytes[512];
    UINT32 code = compliant ? 0 : (UINT32)NONCOMPLIANT;
    struct soh_response response;
    NetworkSoHResponse soh;
    size_t entry_size, size;

    assert_int_equal(soh_encode_simple_entry(SHA_ID, &code, 1, 0, entry, sizeof(entry), &entry_size), SOH_OK);
    memset(&response, 0, sizeof(response));
    response.with_mode_header = 1;
    response.has_correlation = 1;
    response.correlation = request->correlation;
    response.quarantine.state = compliant ? 1 : 3;
    response.quarantine.fixup = !compliant;
    response.quarantine.prob_time = SOH_PROB_TIME_NONE;
    response.entry_count = 1;
    response.entries[0].shv_id = SHA_ID;
    response.entries[0].tlvs = entry;
    response.entries[0].len = (uint16_t)entry_size;
    assert_int_equal(soh_encode_response(&response, bytes, sizeof(bytes), &size), SOH_OK);
    soh.size = (UINT16)size;
    soh.data = bytes;
    assert_int_equal(INapEnforcementClientConnection_SetSoHResponse(ec->connection, &soh), S_OK);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(ec->binding, ec->connection), S_OK);
}

static void test_healthy_then_fixup_then_healthy(void **state)
{
    INapSystemHealthAgentBinding *sha_binding;
    struct sha_sink sha;
    struct soh_request request;
    BYTE bytes[4000];
    struct ec ec;
    HRESULT compliance, error;
    UINT8 category;
    UINT32 system_state;
    BOOL unknown;

    (void)state;
    sha_sink_init(&sha, SHA_ID, TRUE);
    assert_int_equal(bind_sha(&sha, &sha_binding), S_OK);
    /* The agent fetches the SHA's SoH when it binds. */
    assert_true(counter_reaches(&sha.get_soh_count, 1, 5000));
    bind_ec(&ec);

    /* Healthy: the SSoH carries the SHA's SoH; the server lets the machine in. */
    Sleep(100);
    get_request(&ec, &request, bytes);
    assert_true(find_entry(&request, SHA_ID, &compliance, &category, &error));
    assert_int_equal(compliance, S_OK);
    answer(&ec, &request, TRUE);
    assert_true(counter_reaches(&sha.process_count, 1, 5000));
    assert_int_equal(sha.last_verdict, S_OK);
    assert_int_equal(sha.last_flags, 0);
    assert_int_equal(test_get_system_isolation(&system_state, &unknown), S_OK);
    assert_int_equal(system_state, isolationStateNotRestricted);

    /* The SHA turns unhealthy and says so: the agent asks it, compares, tells the EC. */
    InterlockedExchange(&sha.healthy, 0);
    assert_int_equal(INapSystemHealthAgentBinding_NotifySoHChange(sha_binding), S_OK);
    assert_true(counter_reaches(&ec.sink.notify_count, 1, 5000));
    assert_true(sha.compare_count >= 1);
    get_request(&ec, &request, bytes);
    assert_true(find_entry(&request, SHA_ID, &compliance, &category, &error));
    assert_int_equal(compliance, NONCOMPLIANT);

    /* Restricted with fix-up: the SHA hears it with shaFixup and is polled. */
    answer(&ec, &request, FALSE);
    assert_true(counter_reaches(&sha.process_count, 2, 5000));
    assert_int_equal(sha.last_flags, shaFixup);
    assert_int_equal(sha.last_verdict, NONCOMPLIANT);
    assert_int_equal(test_get_system_isolation(&system_state, &unknown), S_OK);
    assert_int_equal(system_state, isolationStateRestrictedAccess);
    assert_true(counter_reaches(&sha.isolation_count, 1, 5000));

    /* Fix-up done: a health change, so the EC is told and the machine comes back. */
    assert_true(counter_reaches(&sha.fixup_count, 3, 5000));
    assert_true(counter_reaches(&ec.sink.notify_count, 2, 5000));
    get_request(&ec, &request, bytes);
    assert_true(find_entry(&request, SHA_ID, &compliance, &category, &error));
    assert_int_equal(compliance, S_OK);
    answer(&ec, &request, TRUE);
    assert_int_equal(test_get_system_isolation(&system_state, &unknown), S_OK);
    assert_int_equal(system_state, isolationStateNotRestricted);
    assert_true(counter_reaches(&sha.isolation_count, 2, 5000));

    unbind_ec(&ec);
    assert_int_equal(INapSystemHealthAgentBinding_Uninitialize(sha_binding), S_OK);
    assert_int_equal(INapSystemHealthAgentBinding_Release(sha_binding), 0);
    assert_int_equal(sha.refs, 1);
}

static void test_orphaned_request(void **state)
{
    INapSystemHealthAgentBinding *sha_binding;
    struct sha_sink sha;
    struct soh_request first, second;
    BYTE bytes[4000];
    struct ec ec;

    (void)state;
    sha_sink_init(&sha, SHA_ID, TRUE);
    assert_int_equal(bind_sha(&sha, &sha_binding), S_OK);
    bind_ec(&ec);
    get_request(&ec, &first, bytes);
    /* A newer request orphans the first. */
    get_request(&ec, &second, bytes);
    assert_true(counter_reaches(&sha.orphaned_count, 1, 5000));
    assert_int_equal(sha.last_orphaned.connId.Data1, first.correlation.conn_id.data1);
    assert_int_equal(((UINT64)sha.last_orphaned.timeStamp.dwHighDateTime << 32) | sha.last_orphaned.timeStamp.dwLowDateTime,
                     first.correlation.timestamp);
    /* So does the connection going down with one outstanding. */
    assert_int_equal(INapEnforcementClientBinding_NotifyConnectionStateDown(ec.binding, ec.connection), S_OK);
    assert_true(counter_reaches(&sha.orphaned_count, 2, 5000));
    unbind_ec(&ec);
    assert_int_equal(INapSystemHealthAgentBinding_Uninitialize(sha_binding), S_OK);
    INapSystemHealthAgentBinding_Release(sha_binding);
}

static void test_failing_sha_gets_a_substitute(void **state)
{
    INapSystemHealthAgentBinding *sha_binding;
    struct sha_sink sha;
    struct soh_request request;
    BYTE bytes[4000];
    struct ec ec;
    HRESULT compliance, error;
    UINT8 category;

    (void)state;
    sha_sink_init(&sha, SHA_ID, TRUE);
    sha.get_soh_result = E_FAIL;
    sha.cache = FALSE;
    assert_int_equal(bind_sha(&sha, &sha_binding), S_OK);
    assert_int_equal(INapSystemHealthAgentBinding_FlushCache(sha_binding), S_OK);
    assert_int_equal(INapSystemHealthAgentBinding_NotifySoHChange(sha_binding), S_OK);
    assert_true(counter_reaches(&sha.get_soh_count, 2, 5000));
    Sleep(100);
    bind_ec(&ec);
    get_request(&ec, &request, bytes);
    /* Its GetSoHRequest failed: ClientComponent + that HRESULT. */
    assert_true(find_entry(&request, SHA_ID, &compliance, &category, &error));
    assert_int_equal(category, failureCategoryClientComponent);
    assert_int_equal(error, E_FAIL);
    unbind_ec(&ec);
    assert_int_equal(INapSystemHealthAgentBinding_Uninitialize(sha_binding), S_OK);
    INapSystemHealthAgentBinding_Release(sha_binding);
}

static void test_bound_sha_cannot_be_unregistered(void **state)
{
    INapSystemHealthAgentBinding *sha_binding;
    struct sha_sink sha;

    (void)state;
    sha_sink_init(&sha, SHA_ID, TRUE);
    assert_int_equal(bind_sha(&sha, &sha_binding), S_OK);
    assert_int_equal(test_unregister_sha(SHA_ID), NAP_E_STILL_BOUND);
    assert_int_equal(INapSystemHealthAgentBinding_Uninitialize(sha_binding), S_OK);
    INapSystemHealthAgentBinding_Release(sha_binding);
    assert_int_equal(test_unregister_sha(SHA_ID), S_OK);
    assert_int_equal(test_register_sha(SHA_ID), S_OK);
}

static void test_probation_expiry(void **state)
{
    struct soh_request request;
    struct soh_response response;
    NetworkSoHResponse soh;
    BYTE bytes[4000], answer_bytes[512];
    FILETIME now;
    size_t size;
    BOOL retrigger = FALSE;
    struct ec ec;

    (void)state;
    bind_ec(&ec);
    get_request(&ec, &request, bytes);
    /* In probation for 300 ms. */
    GetSystemTimeAsFileTime(&now);
    memset(&response, 0, sizeof(response));
    response.with_mode_header = 1;
    response.has_correlation = 1;
    response.correlation = request.correlation;
    response.quarantine.state = isolationStateInProbation;
    response.quarantine.prob_time = (((UINT64)now.dwHighDateTime << 32) | now.dwLowDateTime) + 300 * 10000;
    assert_int_equal(soh_encode_response(&response, answer_bytes, sizeof(answer_bytes), &size), SOH_OK);
    soh.size = (UINT16)size;
    soh.data = answer_bytes;
    assert_int_equal(INapEnforcementClientConnection_SetSoHResponse(ec.connection, &soh), S_OK);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(ec.binding, ec.connection), S_OK);
    assert_int_equal(ec.sink.notify_count, 0);
    /* When it ends the EC is told to redo its exchange, and the hint says so. */
    assert_true(counter_reaches(&ec.sink.notify_count, 1, 5000));
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(ec.binding, ec.connection, &retrigger), S_OK);
    assert_true(retrigger);
    unbind_ec(&ec);
}

/* The SHA's first NotifySoHChange after it bound: the EC last sent the
 * substitute ("not bound"), so it hears of the change although the SoH the
 * SHA gives is the one the agent fetched quietly at bind. */
static void test_first_change_after_bind_reaches_ecs(void **state)
{
    INapSystemHealthAgentBinding *sha_binding;
    struct sha_sink sha;
    struct soh_request request;
    BYTE bytes[4000];
    struct ec ec;
    HRESULT compliance, error;
    UINT8 category;
    BOOL retrigger = TRUE;

    (void)state;
    /* Registered afresh: nothing kept from the tests before. */
    assert_int_equal(test_unregister_sha(SHA_ID), S_OK);
    assert_int_equal(test_register_sha(SHA_ID), S_OK);
    bind_ec(&ec);
    get_request(&ec, &request, bytes);
    assert_true(find_entry(&request, SHA_ID, &compliance, &category, &error));
    assert_int_equal(error, NAP_E_NOT_INITIALIZED);

    sha_sink_init(&sha, SHA_ID, TRUE);
    assert_int_equal(bind_sha(&sha, &sha_binding), S_OK);
    assert_true(counter_reaches(&sha.get_soh_count, 1, 5000));
    /* Binding alone triggers nothing. */
    Sleep(300);
    assert_int_equal(ec.sink.notify_count, 0);

    assert_int_equal(INapSystemHealthAgentBinding_NotifySoHChange(sha_binding), S_OK);
    assert_true(counter_reaches(&ec.sink.notify_count, 1, 5000));
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(ec.binding, ec.connection, &retrigger), S_OK);
    assert_true(retrigger);
    get_request(&ec, &request, bytes);
    assert_true(find_entry(&request, SHA_ID, &compliance, &category, &error));
    assert_int_equal(compliance, S_OK);
    assert_int_equal(error, S_OK);

    /* The same SoH once more: nothing the EC has not sent already. */
    assert_int_equal(INapSystemHealthAgentBinding_NotifySoHChange(sha_binding), S_OK);
    assert_true(counter_reaches(&sha.get_soh_count, 3, 5000));
    Sleep(300);
    assert_int_equal(ec.sink.notify_count, 1);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(ec.binding, ec.connection, &retrigger), S_OK);
    assert_false(retrigger);

    unbind_ec(&ec);
    assert_int_equal(INapSystemHealthAgentBinding_Uninitialize(sha_binding), S_OK);
    INapSystemHealthAgentBinding_Release(sha_binding);
}

static BOOL correlation_is_zero(const CorrelationId *id)
{
    static const CorrelationId zero;

    return !memcmp(id, &zero, sizeof(zero));
}

static BOOL same_correlation(const CorrelationId *id, const struct soh_correlation *wire)
{
    return id->connId.Data1 == wire->conn_id.data1 && id->connId.Data2 == wire->conn_id.data2
           && id->connId.Data3 == wire->conn_id.data3 && !memcmp(id->connId.Data4, wire->conn_id.data4, 8)
           && (((UINT64)id->timeStamp.dwHighDateTime << 32) | id->timeStamp.dwLowDateTime) == wire->timestamp;
}

/* GetCorrelationId inside GetSoHRequest: the id of the request the SoH goes
 * in when the SHA is asked for one request (it keeps no SoH for later use);
 * an id of the fetch's own, never zero, when it is asked for none. */
static void test_correlation_id_in_get_soh_request(void **state)
{
    INapSystemHealthAgentBinding *sha_binding;
    struct sha_sink sha;
    struct soh_request request;
    CorrelationId at_bind;
    BYTE bytes[4000];
    struct ec ec;
    HRESULT compliance, error;
    UINT8 category;

    (void)state;
    sha_sink_init(&sha, SHA_ID, TRUE);
    sha.cache = FALSE;
    assert_int_equal(bind_sha(&sha, &sha_binding), S_OK);
    assert_true(counter_reaches(&sha.get_soh_count, 1, 5000));
    at_bind = sha.last_get_soh;
    assert_false(correlation_is_zero(&at_bind));

    bind_ec(&ec);
    get_request(&ec, &request, bytes);
    /* Asked for this request, and its SoH is in it. */
    assert_int_equal(sha.get_soh_count, 2);
    assert_true(same_correlation(&sha.last_get_soh, &request.correlation));
    assert_false(same_correlation(&at_bind, &request.correlation));
    assert_true(find_entry(&request, SHA_ID, &compliance, &category, &error));
    assert_int_equal(compliance, S_OK);
    /* Its SoHR comes back under the same id. */
    answer(&ec, &request, TRUE);
    assert_true(counter_reaches(&sha.process_count, 1, 5000));

    unbind_ec(&ec);
    assert_int_equal(INapSystemHealthAgentBinding_Uninitialize(sha_binding), S_OK);
    INapSystemHealthAgentBinding_Release(sha_binding);
}

#define LATE_CONNECTIONS 16
#define LATE_TIMEOUT_MS 400

struct late_call
{
    struct ec *ec;
    INapEnforcementClientConnection *connection;
    HRESULT hr;
    CorrelationId live;                /* the live request's id */
};

static DWORD WINAPI late_request_thread(void *arg)
{
    struct late_call *call = arg;
    BOOL retrigger;

    call->hr = INapEnforcementClientBinding_GetSoHRequest(call->ec->binding, call->connection, &retrigger);
    return 0;
}

/* GetSoHRequest, the server's answer, ProcessSoHResponse; again, as an EC
 * would, when a call ran past the (short) bound on this loaded machine: that
 * call is one more late call the next one must win over. */
static DWORD WINAPI live_exchange_thread(void *arg)
{
    struct late_call *call = arg;
    unsigned int attempt;
    BOOL retrigger;
    HRESULT hr = RPC_E_TIMEOUT;

    for (attempt = 0; attempt < 10 && hr == RPC_E_TIMEOUT; attempt++)
    {
        hr = INapEnforcementClientBinding_GetSoHRequest(call->ec->binding, call->connection, &retrigger);
        if (SUCCEEDED(hr)) hr = INapEnforcementClientConnection_GetCorrelationId(call->connection, &call->live);
        if (SUCCEEDED(hr)) hr = ec_answer_request(call->connection, NULL);
        if (SUCCEEDED(hr)) hr = INapEnforcementClientBinding_ProcessSoHResponse(call->ec->binding, call->connection);
    }
    call->hr = hr;
    return 0;
}

/* Runs `thread` for every call at once and waits for them all. */
static void run_all(LPTHREAD_START_ROUTINE thread, struct late_call *calls, unsigned int count)
{
    HANDLE threads[LATE_CONNECTIONS];
    unsigned int i;

    for (i = 0; i < count; i++) assert_non_null(threads[i] = CreateThread(NULL, 0, thread, &calls[i], 0, NULL));
    for (i = 0; i < count; i++)
    {
        assert_int_equal(WaitForSingleObject(threads[i], 10000), WAIT_OBJECT_0);
        CloseHandle(threads[i]);
    }
}

/* Requests the binding gave up on (the agent hung past the call bound) that
 * reach the agent after it resumes never replace the EC's newer request:
 * each connection's next exchange is accepted, and no SHA hears that the
 * live request was orphaned. */
static void test_late_calls_never_win(void **state)
{
    INapSystemHealthAgentBinding *sha_binding;
    struct late_call calls[LATE_CONNECTIONS];
    struct sha_sink sha;
    struct ec ec;
    unsigned int i, cycle, refused = 0;
    LONG k, orphaned;

    (void)state;
    sha_sink_init(&sha, SHA_ID, TRUE);
    assert_int_equal(bind_sha(&sha, &sha_binding), S_OK);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, LATE_TIMEOUT_MS), S_OK);
    bind_ec(&ec);
    for (i = 0; i < LATE_CONNECTIONS; i++)
    {
        GUID id;
        calls[i].ec = &ec;
        assert_int_equal(INapEnforcementClientBinding_CreateConnection(ec.binding, &calls[i].connection), S_OK);
        CoCreateGuid(&id);
        INapEnforcementClientConnection_SetConnectionId(calls[i].connection, &id);
        assert_int_equal(ec_exchange(ec.binding, calls[i].connection), S_OK);
    }

    for (cycle = 0; cycle < 3; cycle++)
    {
        /* The agent hangs for 1.5 s: every request made meanwhile is given up on. */
        assert_true(test_suspend_process(agent));
        run_all(late_request_thread, calls, LATE_CONNECTIONS);
        for (i = 0; i < LATE_CONNECTIONS; i++) assert_int_equal(calls[i].hr, RPC_E_TIMEOUT);
        Sleep(1500 - LATE_TIMEOUT_MS);
        orphaned = sha.orphaned_count;
        assert_true(test_resume_process(agent));

        /* The EC's live exchanges race the late requests into the agent. */
        run_all(live_exchange_thread, calls, LATE_CONNECTIONS);
        for (i = 0; i < LATE_CONNECTIONS; i++)
            if (FAILED(calls[i].hr))
            {
                print_message("cycle %u, connection %u: 0x%08lx\n", cycle, i, calls[i].hr);
                refused++;
            }
        Sleep(300);
        /* No SHA hears that a live request was orphaned. */
        for (k = orphaned; k < sha.orphaned_count && k < (LONG)ARRAYSIZE(sha.orphaned); k++)
            for (i = 0; i < LATE_CONNECTIONS; i++)
                assert_memory_not_equal(&sha.orphaned[k], &calls[i].live, sizeof(calls[i].live));
    }
    assert_int_equal(refused, 0);

    for (i = 0; i < LATE_CONNECTIONS; i++) INapEnforcementClientConnection_Release(calls[i].connection);
    unbind_ec(&ec);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, 5000), S_OK);
    assert_int_equal(INapSystemHealthAgentBinding_Uninitialize(sha_binding), S_OK);
    INapSystemHealthAgentBinding_Release(sha_binding);
}

#define CONCURRENT_REQUESTS 8

/* The SHA's own SoH, not a substitute, is the SHA's entry in the request. */
static BOOL carries_own_soh(const struct soh_request *request)
{
    HRESULT compliance, error;
    UINT8 category;

    return find_entry(request, SHA_ID, &compliance, &category, &error) && !category && error == S_OK
           && compliance == S_OK;
}

/* The SHA's GetSoHRequest ran for this request (under its correlation id),
 * among its calls from the first-th on. */
static BOOL sha_asked_for(const struct sha_sink *sha, LONG first, const struct soh_request *request)
{
    LONG i;

    for (i = first; i < sha->get_soh_count && i < (LONG)ARRAYSIZE(sha->get_soh_ids); i++)
        if (same_correlation(&sha->get_soh_ids[i], &request->correlation)) return TRUE;
    return FALSE;
}

/* Eight requests of one EC at once, on eight connections, with an SHA that
 * keeps no SoH for later use: the SHA is asked once for each of them, under
 * its correlation id, and each carries the SoH the SHA gave for it.  The
 * agent and the binding used to merge GET_SOH_REQUEST events, which carry no
 * payload here, so the SHA ran 2-3 times for 8 requests. */
static void test_concurrent_requests_each_ask_the_sha(void **state)
{
    struct late_call calls[CONCURRENT_REQUESTS];
    INapSystemHealthAgentBinding *sha_binding;
    struct soh_request request;
    BYTE bytes[4000];
    struct sha_sink sha;
    struct ec ec;
    unsigned int i;
    LONG before;

    (void)state;
    /* A loaded machine may take a while to run eight callbacks: the bound is not what this is about. */
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_SHA_TIMEOUT_MS, 3000), S_OK);
    sha_sink_init(&sha, SHA_ID, TRUE);
    sha.cache = FALSE;
    assert_int_equal(bind_sha(&sha, &sha_binding), S_OK);
    assert_true(counter_reaches(&sha.get_soh_count, 1, 5000));
    bind_ec(&ec);
    for (i = 0; i < CONCURRENT_REQUESTS; i++)
    {
        calls[i].ec = &ec;
        calls[i].connection = i ? new_connection(&ec) : ec.connection;
    }
    before = sha.get_soh_count;
    run_all(late_request_thread, calls, CONCURRENT_REQUESTS);
    for (i = 0; i < CONCURRENT_REQUESTS; i++)
    {
        assert_int_equal(calls[i].hr, S_OK);
        held_request(calls[i].connection, &request, bytes);
        assert_true(carries_own_soh(&request));
        assert_true(sha_asked_for(&sha, before, &request));
    }
    assert_int_equal(sha.get_soh_count - before, CONCURRENT_REQUESTS);

    for (i = 1; i < CONCURRENT_REQUESTS; i++) INapEnforcementClientConnection_Release(calls[i].connection);
    unbind_ec(&ec);
    assert_int_equal(INapSystemHealthAgentBinding_Uninitialize(sha_binding), S_OK);
    INapSystemHealthAgentBinding_Release(sha_binding);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_SHA_TIMEOUT_MS, 1000), S_OK);
}

/* The SHA is busy in ProcessSoHResponse for 600 ms while two requests, 40 ms
 * apart, ask it for its SoH: it answers both once it is free, and both carry
 * its SoH (the first may miss its deadline on a loaded machine, the second
 * never did), and it is asked again for every later request.  The second
 * request's fetch used to be merged into the first: it got the substitute,
 * and the SHA, marked slow, was never asked again. */
static void test_busy_sha_answers_every_request(void **state)
{
    INapSystemHealthAgentBinding *sha_binding;
    struct late_call calls[2];
    struct soh_request request;
    HANDLE threads[2];
    BYTE bytes[4000];
    struct sha_sink sha;
    struct ec ec;
    unsigned int i;
    LONG before;

    (void)state;
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_SHA_TIMEOUT_MS, 2000), S_OK);
    sha_sink_init(&sha, SHA_ID, TRUE);
    sha.cache = FALSE;
    assert_int_equal(bind_sha(&sha, &sha_binding), S_OK);
    assert_true(counter_reaches(&sha.get_soh_count, 1, 5000));
    bind_ec(&ec);
    calls[0].ec = calls[1].ec = &ec;
    calls[0].connection = ec.connection;
    calls[1].connection = new_connection(&ec);
    get_request(&ec, &request, bytes);
    sha.busy_ms = 600;
    answer(&ec, &request, TRUE);
    assert_true(counter_reaches(&sha.process_count, 1, 5000));

    before = sha.get_soh_count;
    assert_non_null(threads[0] = CreateThread(NULL, 0, late_request_thread, &calls[0], 0, NULL));
    Sleep(40);
    assert_non_null(threads[1] = CreateThread(NULL, 0, late_request_thread, &calls[1], 0, NULL));
    for (i = 0; i < 2; i++)
    {
        assert_int_equal(WaitForSingleObject(threads[i], 10000), WAIT_OBJECT_0);
        CloseHandle(threads[i]);
        assert_int_equal(calls[i].hr, S_OK);
    }
    sha.busy_ms = 0;
    held_request(calls[1].connection, &request, bytes);
    assert_true(carries_own_soh(&request));
    assert_true(sha_asked_for(&sha, before, &request));
    held_request(calls[0].connection, &request, bytes);
    if (!carries_own_soh(&request)) print_message("the first request missed its deadline\n");

    /* Whatever the SHA missed, it answered since: later requests ask it again. */
    Sleep(300);
    for (i = 0; i < 3; i++)
    {
        before = sha.get_soh_count;
        get_request(&ec, &request, bytes);
        assert_true(carries_own_soh(&request));
        assert_true(sha_asked_for(&sha, before, &request));
        Sleep(100);
    }

    INapEnforcementClientConnection_Release(calls[1].connection);
    unbind_ec(&ec);
    assert_int_equal(INapSystemHealthAgentBinding_Uninitialize(sha_binding), S_OK);
    INapSystemHealthAgentBinding_Release(sha_binding);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_SHA_TIMEOUT_MS, 1000), S_OK);
}

/* An EC with three requests outstanding, one per connection, unbinds: the
 * SHA hears NotifyOrphanedSoHRequest once for each, under its id.  The
 * ORPHANED events carry no payload and used to be merged into one or two. */
static void test_every_orphaned_request_is_told(void **state)
{
    INapEnforcementClientConnection *connections[3];
    INapSystemHealthAgentBinding *sha_binding;
    struct soh_correlation ids[3];
    struct soh_request request;
    BYTE bytes[4000];
    struct sha_sink sha;
    struct ec ec;
    unsigned int i;
    LONG k;
    BOOL retrigger, found;

    (void)state;
    sha_sink_init(&sha, SHA_ID, TRUE);
    assert_int_equal(bind_sha(&sha, &sha_binding), S_OK);
    assert_true(counter_reaches(&sha.get_soh_count, 1, 5000));
    bind_ec(&ec);
    for (i = 0; i < 3; i++)
    {
        connections[i] = i ? new_connection(&ec) : ec.connection;
        assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(ec.binding, connections[i], &retrigger), S_OK);
        held_request(connections[i], &request, bytes);
        ids[i] = request.correlation;
    }
    Sleep(100);
    assert_int_equal(sha.orphaned_count, 0);

    for (i = 1; i < 3; i++) INapEnforcementClientConnection_Release(connections[i]);
    unbind_ec(&ec);
    assert_true(counter_reaches(&sha.orphaned_count, 3, 5000));
    Sleep(300);
    assert_int_equal(sha.orphaned_count, 3);
    for (i = 0; i < 3; i++)
    {
        for (k = 0, found = FALSE; k < 3; k++) found |= same_correlation(&sha.orphaned[k], &ids[i]);
        assert_true(found);
    }
    assert_int_equal(INapSystemHealthAgentBinding_Uninitialize(sha_binding), S_OK);
    INapSystemHealthAgentBinding_Release(sha_binding);
}

#define REBIND_CYCLES 8

/* An EC's request waits for an SHA that has no SoH; the SHA's binding opens
 * its session again (as after a transport failure) meanwhile: the request
 * stops waiting at once, since the replaced session will never answer.  It
 * used to stop only when it won a race with the new session's open (five
 * times in six here), else it waited its whole bound (2 s) and marked the
 * SHA slow; hence the cycles. */
static void test_rebound_sha_ends_the_wait(void **state)
{
    /* Static: a failed assertion leaves the request's thread running. */
    static struct late_call call;
    struct test_raw_session sha;
    unsigned int cycle;
    HANDLE thread;
    struct ec ec;
    DWORD start, waited;

    (void)state;
    /* Nothing kept of the SHA: each request asks it. */
    assert_int_equal(test_unregister_sha(SHA_ID), S_OK);
    assert_int_equal(test_register_sha(SHA_ID), S_OK);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_SHA_TIMEOUT_MS, 2000), S_OK);
    /* A session no event pump serves: nothing it is asked gets an answer. */
    assert_int_equal(test_raw_open(&sha, NAPAGENT_KIND_SHA, SHA_ID), S_OK);
    bind_ec(&ec);
    call.ec = &ec;
    call.connection = ec.connection;
    for (cycle = 0; cycle < REBIND_CYCLES; cycle++)
    {
        assert_non_null(thread = CreateThread(NULL, 0, late_request_thread, &call, 0, NULL));
        /* The request waits for the SHA's answer. */
        assert_int_equal(WaitForSingleObject(thread, 150), WAIT_TIMEOUT);
        start = GetTickCount();
        assert_int_equal(test_raw_reopen(&sha), S_OK);
        assert_int_equal(WaitForSingleObject(thread, 10000), WAIT_OBJECT_0);
        waited = GetTickCount() - start;
        CloseHandle(thread);
        if (waited >= 1000) print_message("cycle %u: the request returned %lu ms after the SHA bound again\n",
                                          cycle, waited);
        assert_int_equal(call.hr, S_OK);
        assert_true(waited < 1000);
    }

    unbind_ec(&ec);
    assert_int_equal(test_raw_close(&sha), S_OK);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_SHA_TIMEOUT_MS, 1000), S_OK);
}

/* The SoH an SHA set with cacheSohForLaterUse stands in for it after the
 * agent restarts, before it binds again; FlushCache removes it there too. */
static void test_cached_soh_survives_restart(void **state)
{
    INapSystemHealthAgentBinding *sha_binding;
    struct sha_sink sha;
    struct soh_request request;
    BYTE bytes[4000];
    struct ec ec;
    HRESULT compliance, error;
    UINT8 category;

    (void)state;
    assert_int_equal(test_unregister_sha(SHA_ID), S_OK);
    assert_int_equal(test_register_sha(SHA_ID), S_OK);
    sha_sink_init(&sha, SHA_ID, TRUE);
    assert_int_equal(bind_sha(&sha, &sha_binding), S_OK);
    assert_true(counter_reaches(&sha.get_soh_count, 1, 5000));
    Sleep(100);
    assert_int_equal(INapSystemHealthAgentBinding_Uninitialize(sha_binding), S_OK);

    test_kill_agent(agent);
    assert_non_null(agent = test_start_agent());
    bind_ec(&ec);
    get_request(&ec, &request, bytes);
    assert_true(find_entry(&request, SHA_ID, &compliance, &category, &error));
    assert_int_equal(error, S_OK);
    assert_int_equal(category, 0);
    assert_int_equal(compliance, S_OK);
    unbind_ec(&ec);

    /* Flushed: the next agent keeps nothing of it. */
    assert_int_equal(INapSystemHealthAgentBinding_Initialize(sha_binding, SHA_ID,
                                                             &sha.INapSystemHealthAgentCallback_iface), S_OK);
    assert_true(counter_reaches(&sha.get_soh_count, 2, 5000));
    assert_int_equal(INapSystemHealthAgentBinding_FlushCache(sha_binding), S_OK);
    assert_int_equal(INapSystemHealthAgentBinding_Uninitialize(sha_binding), S_OK);
    INapSystemHealthAgentBinding_Release(sha_binding);
    test_kill_agent(agent);
    assert_non_null(agent = test_start_agent());
    bind_ec(&ec);
    get_request(&ec, &request, bytes);
    assert_true(find_entry(&request, SHA_ID, &compliance, &category, &error));
    assert_int_equal(error, NAP_E_NOT_INITIALIZED);
    unbind_ec(&ec);
}

/* --child-sha: bind CHILD_SHA with an uncached healthy SoH, then wait to be killed. */
static int run_child_sha(void)
{
    HANDLE ready = OpenEventW(EVENT_MODIFY_STATE, FALSE, READY_EVENT);
    INapSystemHealthAgentBinding *binding;
    static struct sha_sink sha;

    sha_sink_init(&sha, CHILD_SHA, TRUE);
    sha.cache = FALSE;
    if (!ready || FAILED(bind_sha(&sha, &binding))) return 10;
    if (FAILED(INapSystemHealthAgentBinding_NotifySoHChange(binding))) return 11;
    while (sha.get_soh_count < 2) Sleep(5);
    SetEvent(ready);
    Sleep(INFINITE);
    return 0;
}

static BOOL child_entry_is(struct ec *ec, UINT8 want_category, HRESULT want_error, HRESULT want_compliance)
{
    struct soh_request request;
    BYTE bytes[4000];
    HRESULT compliance, error;
    UINT8 category;

    get_request(ec, &request, bytes);
    return find_entry(&request, CHILD_SHA, &compliance, &category, &error) && category == want_category
           && error == want_error && compliance == want_compliance;
}

static void test_crashed_sha_gets_a_substitute(void **state)
{
    HANDLE ready = CreateEventW(NULL, FALSE, FALSE, READY_EVENT), child;
    WCHAR path[MAX_PATH], cmdline[MAX_PATH + 16];
    STARTUPINFOW si = { .cb = sizeof(si) };
    PROCESS_INFORMATION pi;
    struct ec ec;
    DWORD start;

    (void)state;
    test_bin_path(L"test_health.exe", path, MAX_PATH);
    swprintf(cmdline, ARRAYSIZE(cmdline), L"\"%ls\" --child-sha", path);
    assert_true(CreateProcessW(path, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi));
    CloseHandle(pi.hThread);
    test_adopt_child(pi.hProcess);
    child = pi.hProcess;
    assert_int_equal(WaitForSingleObject(ready, 20000), WAIT_OBJECT_0);
    bind_ec(&ec);
    assert_true(child_entry_is(&ec, 0, S_OK, S_OK));

    /* The SHA dies: registered, not bound, nothing cached. */
    TerminateProcess(child, 9);
    WaitForSingleObject(child, 10000);
    CloseHandle(child);
    start = GetTickCount();
    while (!child_entry_is(&ec, failureCategoryClientComponent, NAP_E_NOT_INITIALIZED, S_OK))
        assert_true(GetTickCount() - start < 5000);
    unbind_ec(&ec);
    CloseHandle(ready);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_healthy_then_fixup_then_healthy),
        cmocka_unit_test(test_orphaned_request),
        cmocka_unit_test(test_failing_sha_gets_a_substitute),
        cmocka_unit_test(test_crashed_sha_gets_a_substitute),
        cmocka_unit_test(test_bound_sha_cannot_be_unregistered),
        cmocka_unit_test(test_probation_expiry),
        cmocka_unit_test(test_first_change_after_bind_reaches_ecs),
        cmocka_unit_test(test_correlation_id_in_get_soh_request),
        cmocka_unit_test(test_late_calls_never_win),
        cmocka_unit_test(test_concurrent_requests_each_ask_the_sha),
        cmocka_unit_test(test_busy_sha_answers_every_request),
        cmocka_unit_test(test_every_orphaned_request_is_told),
        cmocka_unit_test(test_rebound_sha_ends_the_wait),
        cmocka_unit_test(test_cached_soh_survives_restart),
    };
    int failures;

    test_install_crash_handler();
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (argc > 1 && !strcmp(argv[1], "--child-sha")) return run_child_sha();
    failures = cmocka_run_group_tests(tests, setup, teardown);
    CoUninitialize();
    return failures;
}
