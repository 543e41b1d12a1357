/*
 * NapSystemHealthAgentBinding and the request object, alone and end to end with a real agent and EC
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
#include "NapSystemHealthAgent.h"
/* No library of the tests defines the SHA GUIDs (qagent.dll does). */
#include "NapSystemHealthAgent_i.c"
#include "napagent_rpc.h"
#include "nap_hresults.h"
#include "callback_sink.h"
#include "soh.h"

#define EC_ID            0x000137A0u
#define SHA_ID           0x000137A1u
#define SHA_ID2          0x000137A2u
#define SHA_UNREGISTERED 0x000137AFu
#define CALL_TIMEOUT_MS  400
#define WAIT_MS          5000
#define SHA_FIXUP        0x1        /* shaFixup */

static HANDLE agent;
static void (WINAPI *pFreeSoH)(SoH *soh);
static void (WINAPI *pFreeIsolationInfo)(IsolationInfo *info);
static void (WINAPI *pFreeIsolationInfoEx)(IsolationInfoEx *info);

/* ---- SoHs as TLV bytes and as SoH structs ---- */

static UINT16 put_tlv(BYTE *out, UINT16 type, UINT32 value)
{
    BYTE tlv[8] = { type >> 8, type & 0xff, 0, 4, value >> 24, value >> 16, value >> 8, value };

    memcpy(out, tlv, sizeof(tlv));
    return sizeof(tlv);
}

/* System-Health-Id, then ComplianceResultCodes with one code that tells SoHs apart. */
static UINT16 make_soh(BYTE *out, UINT32 id, UINT32 marker)
{
    UINT16 size = put_tlv(out, 2, id);

    return size + put_tlv(out + size, 4, marker);
}

/* A struct whose values point into tlvs (no allocation). */
static void soh_view(const BYTE *tlvs, UINT16 size, SoH *soh, SoHAttribute *attrs)
{
    UINT16 pos = 0;

    soh->count = 0;
    soh->attributes = attrs;
    while (pos + 4 <= size)
    {
        SoHAttribute *attr = &attrs[soh->count++];
        attr->type = (tlvs[pos] << 8) | tlvs[pos + 1];
        attr->size = (tlvs[pos + 2] << 8) | tlvs[pos + 3];
        attr->value = (BYTE *)tlvs + pos + 4;
        pos += 4 + attr->size;
    }
}

static UINT16 soh_bytes(const SoH *soh, BYTE *out)
{
    UINT16 i, size = 0;

    for (i = 0; i < soh->count; i++)
    {
        out[size] = soh->attributes[i].type >> 8;
        out[size + 1] = soh->attributes[i].type & 0xff;
        out[size + 2] = soh->attributes[i].size >> 8;
        out[size + 3] = soh->attributes[i].size & 0xff;
        memcpy(out + size + 4, soh->attributes[i].value, soh->attributes[i].size);
        size += 4 + soh->attributes[i].size;
    }
    return size;
}

/* ---- a test SHA ---- */

/* What the request object said inside the last GetSoHRequest. */
struct request_probe
{
    HRESULT correlation_hr, correlation_null_hr, string_hr, cached_hr, response_hr, cache_before_hr;
    HRESULT set_null_hr, set_empty_hr, set_bad_hr, set_other_hr, set_hr, get_after_hr, cache_after_hr;
    CorrelationId correlation;
    WCHAR string[64];
    UINT16 string_length;
    UINT16 cached_size;
    BYTE cached[256];
    BOOL cache_before, cache_after;
    BOOL get_after_matches;
};

struct test_sha
{
    INapSystemHealthAgentCallback INapSystemHealthAgentCallback_iface;
    LONG refs;
    volatile LONG get_soh_count, process_count, isolation_count, fixup_count, compare_count, orphaned_count;
    /* GetSoHRequest: sets soh (if soh_size) with cache, returns get_soh_result. */
    HRESULT get_soh_result;
    UINT16 soh_size;
    BYTE soh[256];
    BOOL cache;
    DWORD delay_ms;
    volatile LONG in_callback, callback_done;
    struct request_probe probe;
    /* ProcessSoHResponse */
    HRESULT process_result, response_hr;
    UINT8 response_flags;
    UINT16 response_size;
    BYTE response[512];
    CorrelationId response_correlation;
    /* GetFixupInfo: InProgress fixup_in_progress times, then Success. */
    LONG fixup_in_progress;
    /* CompareSoHRequests: waits for compare_gate first when it is set. */
    HANDLE compare_gate;
    HRESULT compare_result;
    BOOL compare_equal;
    UINT16 compare_lhs_count, compare_rhs_count;
    CorrelationId orphaned;
    /* Re-entrancy: Uninitialize `binding` from inside GetSoHRequest. */
    INapSystemHealthAgentBinding2 *binding;
    HRESULT uninitialize_result, notify_inside_result;
    HRESULT response_null_flags_hr;
};

static inline struct test_sha *impl_from_callback(INapSystemHealthAgentCallback *iface)
{
    return CONTAINING_RECORD(iface, struct test_sha, INapSystemHealthAgentCallback_iface);
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

static void probe_request(struct test_sha *sha, INapSystemHealthAgentRequest *request)
{
    struct request_probe *p = &sha->probe;
    BYTE bad[16], other[16], check[256];
    SoHAttribute attrs[4], bad_attrs[4], other_attrs[4];
    SoH soh, bad_soh, other_soh, empty = { 0, NULL };
    StringCorrelationId *string = NULL;
    SoHRequest *cached = NULL;
    SoHResponse *response = (SoHResponse *)1;
    UINT8 flags;

    memset(p, 0, sizeof(*p));
    p->correlation_hr = INapSystemHealthAgentRequest_GetCorrelationId(request, &p->correlation);
    p->correlation_null_hr = INapSystemHealthAgentRequest_GetCorrelationId(request, NULL);
    if (SUCCEEDED(p->string_hr = INapSystemHealthAgentRequest_GetStringCorrelationId(request, &string)))
    {
        p->string_length = string->length;
        lstrcpynW(p->string, string->string, ARRAYSIZE(p->string));
        CoTaskMemFree(string->string);
        CoTaskMemFree(string);
    }
    if (SUCCEEDED(p->cached_hr = INapSystemHealthAgentRequest_GetSoHRequest(request, &cached)))
    {
        p->cached_size = soh_bytes(cached, p->cached);
        pFreeSoH(cached);
    }
    p->response_hr = INapSystemHealthAgentRequest_GetSoHResponse(request, &response, &flags);
    p->cache_before_hr = INapSystemHealthAgentRequest_GetCacheSoHFlag(request, &p->cache_before);

    p->set_null_hr = INapSystemHealthAgentRequest_SetSoHRequest(request, NULL, TRUE);
    p->set_empty_hr = INapSystemHealthAgentRequest_SetSoHRequest(request, &empty, TRUE);
    /* Codes first, System-Health-Id second: malformed. */
    put_tlv(bad, 4, 1);
    put_tlv(bad + 8, 2, SHA_ID);
    soh_view(bad, 16, &bad_soh, bad_attrs);
    p->set_bad_hr = INapSystemHealthAgentRequest_SetSoHRequest(request, &bad_soh, TRUE);
    soh_view(other, make_soh(other, SHA_ID2 + 100, 1), &other_soh, other_attrs);
    p->set_other_hr = INapSystemHealthAgentRequest_SetSoHRequest(request, &other_soh, TRUE);

    if (!sha->soh_size) return;
    soh_view(sha->soh, sha->soh_size, &soh, attrs);
    p->set_hr = INapSystemHealthAgentRequest_SetSoHRequest(request, &soh, sha->cache);
    /* A deep copy: scribbling over our struct changes nothing. */
    attrs[1].size = 0;
    if (SUCCEEDED(p->get_after_hr = INapSystemHealthAgentRequest_GetSoHRequest(request, &cached)))
    {
        p->get_after_matches = soh_bytes(cached, check) == sha->soh_size && !memcmp(check, sha->soh, sha->soh_size);
        pFreeSoH(cached);
    }
    p->cache_after_hr = INapSystemHealthAgentRequest_GetCacheSoHFlag(request, &p->cache_after);
}

static HRESULT WINAPI sha_GetSoHRequest(INapSystemHealthAgentCallback *iface, INapSystemHealthAgentRequest *request)
{
    struct test_sha *sha = impl_from_callback(iface);

    InterlockedExchange(&sha->in_callback, 1);
    if (sha->delay_ms) Sleep(sha->delay_ms);
    probe_request(sha, request);
    if (sha->binding)
    {
        sha->notify_inside_result = INapSystemHealthAgentBinding2_NotifySoHChange(sha->binding);
        sha->uninitialize_result = INapSystemHealthAgentBinding2_Uninitialize(sha->binding);
        sha->binding = NULL;
    }
    InterlockedExchange(&sha->callback_done, 1);
    InterlockedIncrement(&sha->get_soh_count);
    return sha->get_soh_result;
}

static HRESULT WINAPI sha_ProcessSoHResponse(INapSystemHealthAgentCallback *iface,
                                             INapSystemHealthAgentRequest *request)
{
    struct test_sha *sha = impl_from_callback(iface);
    SoHResponse *response = NULL;

    INapSystemHealthAgentRequest_GetCorrelationId(request, &sha->response_correlation);
    sha->response_null_flags_hr = INapSystemHealthAgentRequest_GetSoHResponse(request, &response, NULL);
    if (SUCCEEDED(sha->response_hr = INapSystemHealthAgentRequest_GetSoHResponse(request, &response,
                                                                               &sha->response_flags)))
    {
        sha->response_size = soh_bytes(response, sha->response);
        pFreeSoH(response);
    }
    InterlockedIncrement(&sha->process_count);
    return sha->process_result;
}

static HRESULT WINAPI sha_NotifySystemIsolationStateChange(INapSystemHealthAgentCallback *iface)
{
    InterlockedIncrement(&impl_from_callback(iface)->isolation_count);
    return S_OK;
}

static HRESULT WINAPI sha_GetFixupInfo(INapSystemHealthAgentCallback *iface, FixupInfo **out)
{
    struct test_sha *sha = impl_from_callback(iface);
    FixupInfo *info = CoTaskMemAlloc(sizeof(*info));
    LONG count = InterlockedIncrement(&sha->fixup_count);

    info->state = count <= sha->fixup_in_progress ? fixupStateInProgress : fixupStateSuccess;
    info->percentage = info->state == fixupStateSuccess ? 100 : 50;
    info->fixupMsgId = 7;
    info->resultCodes.count = 1;
    info->resultCodes.results = CoTaskMemAlloc(sizeof(HRESULT));
    info->resultCodes.results[0] = S_OK;
    *out = info;
    return S_OK;
}

static HRESULT WINAPI sha_CompareSoHRequests(INapSystemHealthAgentCallback *iface, const SoHRequest *lhs,
                                             const SoHRequest *rhs, BOOL *equal)
{
    struct test_sha *sha = impl_from_callback(iface);

    if (sha->compare_gate) WaitForSingleObject(sha->compare_gate, WAIT_MS);
    sha->compare_lhs_count = lhs ? lhs->count : 0;
    sha->compare_rhs_count = rhs ? rhs->count : 0;
    *equal = sha->compare_equal;
    InterlockedIncrement(&sha->compare_count);
    return sha->compare_result;
}

static HRESULT WINAPI sha_NotifyOrphanedSoHRequest(INapSystemHealthAgentCallback *iface, const CorrelationId *id)
{
    struct test_sha *sha = impl_from_callback(iface);

    sha->orphaned = *id;
    InterlockedIncrement(&sha->orphaned_count);
    return S_OK;
}

static const INapSystemHealthAgentCallbackVtbl sha_vtbl =
{
    sha_QueryInterface,
    sha_AddRef,
    sha_Release,
    sha_GetSoHRequest,
    sha_ProcessSoHResponse,
    sha_NotifySystemIsolationStateChange,
    sha_GetFixupInfo,
    sha_CompareSoHRequests,
    sha_NotifyOrphanedSoHRequest,
};

static void test_sha_init(struct test_sha *sha, UINT32 id, UINT32 marker)
{
    memset(sha, 0, sizeof(*sha));
    sha->INapSystemHealthAgentCallback_iface.lpVtbl = &sha_vtbl;
    sha->refs = 1;
    sha->compare_result = E_NOTIMPL;
    sha->soh_size = make_soh(sha->soh, id, marker);
    sha->cache = TRUE;
}

struct counter_wait
{
    volatile LONG *counter;
    LONG target;
};

static BOOL counter_reached(void *arg)
{
    struct counter_wait *wait = arg;

    return *wait->counter >= wait->target;
}

static BOOL wait_count(volatile LONG *counter, LONG target)
{
    struct counter_wait wait = { counter, target };

    return test_wait_for(counter_reached, &wait, WAIT_MS);
}

static BOOL refs_back(void *arg)
{
    return ((struct test_sha *)arg)->refs == 1;
}

/* The agent keeps an SoH for later use in memory, then in Shas\<id>\CachedSoH,
 * under one lock: once the value reads back, a request made now carries it. */
struct cached_wait
{
    UINT32 id;
    const BYTE *soh;
    DWORD size;
};

static BOOL cached_soh_is(void *arg)
{
    const struct cached_wait *wait = arg;
    WCHAR key[96];
    BYTE value[64];
    DWORD size = sizeof(value);

    swprintf(key, ARRAYSIZE(key), L"System\\CurrentControlSet\\Control\\NapAgent\\Shas\\%u", wait->id);
    return !RegGetValueW(HKEY_LOCAL_MACHINE, key, L"CachedSoH", RRF_RT_REG_BINARY, NULL, value, &size)
           && size == wait->size && !memcmp(value, wait->soh, size);
}

static BOOL wait_cached_soh(UINT32 id, const BYTE *soh, DWORD size)
{
    struct cached_wait wait = { id, soh, size };

    return test_wait_for(cached_soh_is, &wait, WAIT_MS);
}

static INapSystemHealthAgentBinding2 *create_binding(void)
{
    INapSystemHealthAgentBinding2 *binding = NULL;

    assert_int_equal(CoCreateInstance(&CLSID_NapSystemHealthAgentBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapSystemHealthAgentBinding2, (void **)&binding), S_OK);
    return binding;
}

static INapSystemHealthAgentBinding2 *bind_sha(UINT32 id, struct test_sha *sha)
{
    INapSystemHealthAgentBinding2 *binding = create_binding();

    assert_int_equal(INapSystemHealthAgentBinding2_Initialize(binding, id, &sha->INapSystemHealthAgentCallback_iface),
                     S_OK);
    return binding;
}

static void unbind_sha(INapSystemHealthAgentBinding2 *binding, struct test_sha *sha)
{
    assert_int_equal(INapSystemHealthAgentBinding2_Uninitialize(binding), S_OK);
    assert_int_equal(INapSystemHealthAgentBinding2_Release(binding), 0);
    assert_int_equal(sha->refs, 1);
}

/* ---- the EC side ---- */

struct ec
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
};

static void bind_ec(struct ec *ec)
{
    GUID guid;

    callback_sink_init(&ec->sink);
    assert_int_equal(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&ec->binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(ec->binding, EC_ID,
                                                             &ec->sink.INapEnforcementClientCallback_iface), S_OK);
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(ec->binding, &ec->connection), S_OK);
    CoCreateGuid(&guid);
    INapEnforcementClientConnection_SetConnectionId(ec->connection, &guid);
    ec->sink.connection_count = 1;
    ec->sink.connections[0] = ec->connection;
}

static void unbind_ec(struct ec *ec)
{
    INapEnforcementClientConnection_Release(ec->connection);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(ec->binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(ec->binding), 0);
}

/* The EC's next request, and the report entry of SHA `id` in it (size 0: none). */
static void ec_request_entry(struct ec *ec, UINT32 id, BYTE *entry, UINT16 *size)
{
    NetworkSoHRequest *request = NULL;
    struct soh_request decoded;
    BOOL retrigger;
    UINT16 i;

    *size = 0;
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(ec->binding, ec->connection, &retrigger), S_OK);
    assert_int_equal(INapEnforcementClientConnection_GetSoHRequest(ec->connection, &request), S_OK);
    assert_int_equal(soh_decode_request(request->data, request->size, &decoded), SOH_OK);
    for (i = 0; i < decoded.entry_count; i++)
    {
        if (decoded.entries[i].shv_id != id) continue;
        memcpy(entry, decoded.entries[i].tlvs, decoded.entries[i].len);
        *size = decoded.entries[i].len;
    }
    CoTaskMemFree(request->data);
    CoTaskMemFree(request);
}

/* Answers the connection's request: quarantine `state`, fix-up asked for or
 * not, and one report entry for SHA `id` with `code`. */
static HRESULT ec_answer(struct ec *ec, UINT8 state, BOOL fixup, UINT32 id, UINT32 code, BYTE *entry, size_t *entry_size)
{
    NetworkSoHRequest *request = NULL;
    struct soh_request decoded;
    struct soh_response response;
    NetworkSoHResponse soh;
    BYTE bytes[1024];
    size_t size;

    assert_int_equal(INapEnforcementClientConnection_GetSoHRequest(ec->connection, &request), S_OK);
    assert_int_equal(soh_decode_request(request->data, request->size, &decoded), SOH_OK);
    CoTaskMemFree(request->data);
    CoTaskMemFree(request);
    memset(&response, 0, sizeof(response));
    response.with_mode_header = 1;
    response.has_correlation = 1;
    response.correlation = decoded.correlation;
    response.quarantine.state = state;
    response.quarantine.fixup = fixup;
    response.quarantine.prob_time = SOH_PROB_TIME_NONE;
    assert_int_equal(soh_encode_simple_entry(id, &code, 1, 0, entry, 256, entry_size), SOH_OK);
    response.entry_count = 1;
    response.entries[0].shv_id = id;
    response.entries[0].tlvs = entry;
    response.entries[0].len = (uint16_t)*entry_size;
    assert_int_equal(soh_encode_response(&response, bytes, sizeof(bytes), &size), SOH_OK);
    soh.size = (UINT16)size;
    soh.data = bytes;
    assert_int_equal(INapEnforcementClientConnection_SetSoHResponse(ec->connection, &soh), S_OK);
    return INapEnforcementClientBinding_ProcessSoHResponse(ec->binding, ec->connection);
}

/* ---- tests ---- */

static void test_calls_before_initialize(void **state)
{
    INapSystemHealthAgentBinding2 *binding = create_binding();
    INapSystemHealthAgentBinding *binding1;
    INapEnforcementClientBinding *ec;
    IsolationInfo *info = (IsolationInfo *)1;
    IsolationInfoEx *info_ex = (IsolationInfoEx *)1;
    BOOL unknown;

    (void)state;
    assert_int_equal(INapSystemHealthAgentBinding2_QueryInterface(binding, &IID_INapSystemHealthAgentBinding,
                                                                  (void **)&binding1), S_OK);
    assert_ptr_equal(binding1, binding);
    INapSystemHealthAgentBinding_Release(binding1);
    assert_int_equal(INapSystemHealthAgentBinding2_QueryInterface(binding, &IID_INapEnforcementClientBinding,
                                                                  (void **)&ec), E_NOINTERFACE);
    assert_int_equal(INapSystemHealthAgentBinding2_Uninitialize(binding), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapSystemHealthAgentBinding2_FlushCache(binding), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapSystemHealthAgentBinding2_GetSystemIsolationInfo(binding, &info, &unknown),
                     NAP_E_NOT_INITIALIZED);
    assert_null(info);
    assert_int_equal(INapSystemHealthAgentBinding2_GetSystemIsolationInfoEx(binding, &info_ex, &unknown),
                     NAP_E_NOT_INITIALIZED);
    assert_null(info_ex);
    assert_int_equal(INapSystemHealthAgentBinding2_Release(binding), 0);
}

static void test_initialize_errors(void **state)
{
    INapSystemHealthAgentBinding2 *binding = create_binding(), *other = create_binding();
    struct test_sha sha, sha2;

    (void)state;
    test_sha_init(&sha, SHA_ID, 1);
    test_sha_init(&sha2, SHA_ID, 2);
    assert_int_equal(INapSystemHealthAgentBinding2_Initialize(binding, SHA_ID, NULL), E_INVALIDARG);
    assert_int_equal(INapSystemHealthAgentBinding2_Initialize(binding, SHA_UNREGISTERED,
                                                              &sha.INapSystemHealthAgentCallback_iface),
                     NAP_E_NOT_REGISTERED);
    assert_int_equal(sha.refs, 1);
    assert_int_equal(INapSystemHealthAgentBinding2_Initialize(binding, SHA_ID, &sha.INapSystemHealthAgentCallback_iface),
                     S_OK);
    assert_int_equal(INapSystemHealthAgentBinding2_Initialize(binding, SHA_ID, &sha.INapSystemHealthAgentCallback_iface),
                     HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED));
    /* One session per SHA id, whichever binding asks. */
    assert_int_equal(INapSystemHealthAgentBinding2_Initialize(other, SHA_ID, &sha2.INapSystemHealthAgentCallback_iface),
                     HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED));
    assert_int_equal(sha2.refs, 1);
    assert_int_equal(INapSystemHealthAgentBinding2_Release(other), 0);
    /* The quiet fetch at bind runs GetSoHRequest. */
    assert_true(wait_count(&sha.get_soh_count, 1));
    unbind_sha(binding, &sha);
}

static void test_request_object(void **state)
{
    INapSystemHealthAgentBinding2 *binding;
    struct request_probe *p;
    struct test_sha sha;
    LONG count;

    (void)state;
    test_sha_init(&sha, SHA_ID, 0x11);
    binding = bind_sha(SHA_ID, &sha);
    assert_true(wait_count(&sha.get_soh_count, 1));
    /* The next request carries the SoH cached above (set with cache = TRUE),
     * once the agent has it: the answer leaves after the callback returns. */
    assert_true(wait_cached_soh(SHA_ID, sha.soh, sha.soh_size));
    sha.soh_size = make_soh(sha.soh, SHA_ID, 0x12);
    sha.cache = FALSE;
    count = sha.get_soh_count;
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), S_OK);
    assert_true(wait_count(&sha.get_soh_count, count + 1));
    p = &sha.probe;
    assert_int_equal(p->correlation_hr, S_OK);
    assert_int_equal(p->correlation_null_hr, E_POINTER);
    assert_int_equal(p->string_hr, S_OK);
    assert_int_equal(p->string_length, 55);
    assert_int_equal(lstrlenW(p->string), 55);
    assert_true(p->string[0] == '{' && p->string[37] == '}' && p->string[38] == '-');
    assert_int_equal(p->cached_hr, S_OK);
    {
        BYTE expect[16];
        assert_int_equal(p->cached_size, make_soh(expect, SHA_ID, 0x11));
        assert_memory_equal(p->cached, expect, sizeof(expect));
    }
    assert_int_equal(p->response_hr, E_UNEXPECTED);
    assert_int_equal(p->cache_before_hr, S_OK);
    assert_false(p->cache_before);
    assert_int_equal(p->set_null_hr, E_POINTER);
    assert_int_equal(p->set_empty_hr, NAP_E_INVALID_PACKET);
    assert_int_equal(p->set_bad_hr, NAP_E_INVALID_PACKET);
    assert_int_equal(p->set_other_hr, NAP_E_INVALID_PACKET);
    assert_int_equal(p->set_hr, S_OK);
    assert_int_equal(p->get_after_hr, S_OK);
    assert_true(p->get_after_matches);
    assert_int_equal(p->cache_after_hr, S_OK);
    assert_false(p->cache_after);

    /* FlushCache empties the agent's cache: the next request has nothing pre-loaded.
     * (The last SoH was set without caching, so the cached one is still 0x11 until flushed.) */
    assert_int_equal(INapSystemHealthAgentBinding2_FlushCache(binding), S_OK);
    count = sha.get_soh_count;
    sha.soh_size = 0;
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), S_OK);
    assert_true(wait_count(&sha.get_soh_count, count + 1));
    assert_int_equal(sha.probe.cached_hr, NAP_E_NO_CACHED_SOH);
    unbind_sha(binding, &sha);
}

static void test_exchange(void **state)
{
    INapSystemHealthAgentBinding2 *binding;
    BYTE entry[512], expect[16], answer_entry[256];
    size_t answer_size;
    UINT16 size;
    struct test_sha sha;
    struct ec ec;
    LONG count, notified, isolation;

    (void)state;
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_FIXUP_POLL_MS, 50), S_OK);
    test_sha_init(&sha, SHA_ID, 0x21);
    binding = bind_sha(SHA_ID, &sha);
    assert_true(wait_count(&sha.get_soh_count, 1));
    bind_ec(&ec);

    /* NotifySoHChange returns at once; the agent fetches the SoH, and tells the EC. */
    sha.soh_size = make_soh(sha.soh, SHA_ID, 0x22);
    count = sha.get_soh_count;
    notified = ec.sink.notify_count;
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), S_OK);
    assert_true(wait_count(&sha.get_soh_count, count + 1));
    assert_true(callback_sink_wait_notify(&ec.sink, notified + 1, WAIT_MS));
    /* The agent compared old and new: E_NOTIMPL, so it compared bytes. */
    assert_true(sha.compare_count >= 1);
    assert_int_equal(sha.compare_lhs_count, 2);
    assert_int_equal(sha.compare_rhs_count, 2);

    ec_request_entry(&ec, SHA_ID, entry, &size);
    assert_int_equal(size, make_soh(expect, SHA_ID, 0x22));
    assert_memory_equal(entry, expect, size);

    /* The SoHR's entry goes back to the SHA, with shaFixup; then the agent polls GetFixupInfo. */
    sha.fixup_in_progress = 2;
    isolation = sha.isolation_count;
    count = sha.get_soh_count;
    assert_int_equal(ec_answer(&ec, isolationStateRestrictedAccess, TRUE, SHA_ID, 0xC0FFEE, answer_entry,
                               &answer_size), S_OK);
    assert_true(wait_count(&sha.process_count, 1));
    assert_int_equal(sha.response_hr, S_OK);
    assert_int_equal(sha.response_null_flags_hr, E_POINTER);
    {
        CorrelationId correlation;

        assert_int_equal(INapEnforcementClientConnection_GetCorrelationId(ec.connection, &correlation), S_OK);
        assert_memory_equal(&sha.response_correlation, &correlation, sizeof(correlation));
    }
    assert_int_equal(sha.response_flags, SHA_FIXUP);
    assert_int_equal(sha.response_size, answer_size);
    assert_memory_equal(sha.response, answer_entry, answer_size);
    /* Restricted now: the system isolation changed. */
    assert_true(wait_count(&sha.isolation_count, isolation + 1));
    /* InProgress twice, then Success, which makes the agent fetch the SoH again. */
    assert_true(wait_count(&sha.fixup_count, 3));
    assert_true(wait_count(&sha.get_soh_count, count + 1));
    Sleep(200);
    assert_int_equal(sha.fixup_count, 3);

    {
        IsolationInfo *info = NULL;
        IsolationInfoEx *info_ex = NULL;
        UINT32 expect_state;
        BOOL unknown = 2, expect_unknown;

        assert_int_equal(INapSystemHealthAgentBinding2_GetSystemIsolationInfo(binding, NULL, &unknown), E_POINTER);
        assert_int_equal(INapSystemHealthAgentBinding2_GetSystemIsolationInfo(binding, &info, NULL), E_POINTER);
        assert_int_equal(INapSystemHealthAgentBinding2_GetSystemIsolationInfo(binding, &info, &unknown), S_OK);
        assert_int_equal(test_get_system_isolation(&expect_state, &expect_unknown), S_OK);
        assert_int_equal(info->isolationState, isolationStateRestrictedAccess);
        assert_int_equal(info->isolationState, expect_state);
        assert_int_equal(unknown, expect_unknown);
        assert_non_null(info->failureUrl.string);
        assert_int_equal(info->failureUrl.length, lstrlenW(info->failureUrl.string));
        pFreeIsolationInfo(info);
        assert_int_equal(INapSystemHealthAgentBinding2_GetSystemIsolationInfoEx(binding, &info_ex, &unknown), S_OK);
        assert_int_equal(info_ex->isolationState, isolationStateRestrictedAccess);
        assert_non_null(info_ex->failureUrl.string);
        pFreeIsolationInfoEx(info_ex);
    }

    /* Back to not restricted: the SHA hears of it again. */
    isolation = sha.isolation_count;
    ec_request_entry(&ec, SHA_ID, entry, &size);
    assert_int_equal(ec_answer(&ec, isolationStateNotRestricted, FALSE, SHA_ID, 0, answer_entry, &answer_size), S_OK);
    assert_true(wait_count(&sha.process_count, 2));
    assert_int_equal(sha.response_flags, 0);
    assert_true(wait_count(&sha.isolation_count, isolation + 1));

    /* A request outstanding when its connection goes down is orphaned. */
    {
        CorrelationId correlation;

        ec_request_entry(&ec, SHA_ID, entry, &size);
        assert_int_equal(INapEnforcementClientConnection_GetCorrelationId(ec.connection, &correlation), S_OK);
        count = sha.orphaned_count;
        assert_int_equal(INapEnforcementClientBinding_NotifyConnectionStateDown(ec.binding, ec.connection), S_OK);
        assert_true(wait_count(&sha.orphaned_count, count + 1));
        assert_memory_equal(&sha.orphaned, &correlation, sizeof(correlation));
    }

    /* FlushCache: nothing is kept, so the EC's next request asks the SHA
     * afresh, for that request: the SHA sees the request's correlation id. */
    assert_int_equal(INapSystemHealthAgentBinding2_FlushCache(binding), S_OK);
    count = sha.get_soh_count;
    ec_request_entry(&ec, SHA_ID, entry, &size);
    assert_int_equal(sha.get_soh_count, count + 1);
    assert_int_equal(size, make_soh(expect, SHA_ID, 0x22));
    assert_memory_equal(entry, expect, size);
    {
        CorrelationId correlation;

        assert_int_equal(INapEnforcementClientConnection_GetCorrelationId(ec.connection, &correlation), S_OK);
        assert_memory_equal(&sha.probe.correlation, &correlation, sizeof(correlation));
    }
    /* It set that SoH to be kept: the next request does not ask again. */
    ec_request_entry(&ec, SHA_ID, entry, &size);
    assert_int_equal(sha.get_soh_count, count + 1);

    unbind_ec(&ec);
    unbind_sha(binding, &sha);
}

/* CompareSoHRequests saying equal: no exchange is started for the ECs. */
static void test_compare_equal(void **state)
{
    INapSystemHealthAgentBinding2 *binding;
    struct test_sha sha;
    struct ec ec;
    LONG count, compares, notified;

    (void)state;
    test_sha_init(&sha, SHA_ID, 0x31);
    binding = bind_sha(SHA_ID, &sha);
    assert_true(wait_count(&sha.get_soh_count, 1));
    bind_ec(&ec);
    Sleep(100);
    sha.compare_result = S_OK;
    sha.compare_equal = TRUE;
    sha.soh_size = make_soh(sha.soh, SHA_ID, 0x32);
    count = sha.get_soh_count;
    compares = sha.compare_count;
    notified = ec.sink.notify_count;
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), S_OK);
    assert_true(wait_count(&sha.get_soh_count, count + 1));
    assert_true(wait_count(&sha.compare_count, compares + 1));
    Sleep(300);
    assert_int_equal(ec.sink.notify_count, notified);
    unbind_ec(&ec);
    unbind_sha(binding, &sha);
}

/* FlushCache while the SHA's CompareSoHRequests for a new SoH runs: the
 * flush wins, the new SoH is not kept, so the EC's next request asks the
 * SHA afresh with nothing pre-loaded. */
static void test_flush_wins_over_compare_in_flight(void **state)
{
    INapSystemHealthAgentBinding2 *binding;
    BYTE entry[512], expect[16];
    struct test_sha sha;
    UINT16 size;
    struct ec ec;
    LONG count;

    (void)state;
    test_sha_init(&sha, SHA_ID, 0x51);
    binding = bind_sha(SHA_ID, &sha);
    assert_true(wait_count(&sha.get_soh_count, 1));
    bind_ec(&ec);

    sha.compare_gate = CreateEventW(NULL, TRUE, FALSE, NULL);
    sha.compare_result = S_OK;
    sha.compare_equal = FALSE;
    sha.soh_size = make_soh(sha.soh, SHA_ID, 0x52);
    count = sha.get_soh_count;
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), S_OK);
    assert_true(wait_count(&sha.get_soh_count, count + 1));
    /* The compare is on its way or running; the flush comes after it started. */
    Sleep(100);
    assert_int_equal(INapSystemHealthAgentBinding2_FlushCache(binding), S_OK);
    SetEvent(sha.compare_gate);
    assert_true(wait_count(&sha.compare_count, 1));
    Sleep(200);

    count = sha.get_soh_count;
    sha.soh_size = make_soh(sha.soh, SHA_ID, 0x53);
    ec_request_entry(&ec, SHA_ID, entry, &size);
    assert_int_equal(sha.get_soh_count, count + 1);
    assert_int_equal(sha.probe.cached_hr, NAP_E_NO_CACHED_SOH);
    assert_int_equal(size, make_soh(expect, SHA_ID, 0x53));
    assert_memory_equal(entry, expect, size);

    unbind_ec(&ec);
    unbind_sha(binding, &sha);
    CloseHandle(sha.compare_gate);
}

static void test_callback_says_gone(void **state)
{
    static const HRESULT gone[] = { HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE), RPC_S_SERVER_UNAVAILABLE };
    INapSystemHealthAgentBinding2 *binding = create_binding();
    struct test_sha sha;
    unsigned int i;
    LONG count;

    (void)state;
    test_sha_init(&sha, SHA_ID2, 0x41);
    for (i = 0; i < ARRAYSIZE(gone); i++)
    {
        sha.get_soh_result = gone[i];
        count = sha.get_soh_count;
        assert_int_equal(INapSystemHealthAgentBinding2_Initialize(binding, SHA_ID2,
                                                                  &sha.INapSystemHealthAgentCallback_iface), S_OK);
        assert_true(wait_count(&sha.get_soh_count, count + 1));
        /* Dropped: every method says not initialised, and the callback is let go. */
        assert_true(test_wait_for(refs_back, &sha, WAIT_MS));
        assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), NAP_E_NOT_INITIALIZED);
        assert_int_equal(INapSystemHealthAgentBinding2_FlushCache(binding), NAP_E_NOT_INITIALIZED);
    }
    /* Initialize may be called again. */
    sha.get_soh_result = S_OK;
    assert_int_equal(INapSystemHealthAgentBinding2_Initialize(binding, SHA_ID2,
                                                              &sha.INapSystemHealthAgentCallback_iface), S_OK);
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), S_OK);
    unbind_sha(binding, &sha);
}

static DWORD WINAPI notify_thread(void *arg)
{
    return INapSystemHealthAgentBinding2_NotifySoHChange((INapSystemHealthAgentBinding2 *)arg);
}

static BOOL in_callback(void *arg)
{
    return ((struct test_sha *)arg)->in_callback != 0;
}

/* Uninitialize waits for a callback in flight, then lets the callback go. */
static void test_uninitialize_waits_for_callback(void **state)
{
    INapSystemHealthAgentBinding2 *binding;
    struct test_sha sha;

    (void)state;
    test_sha_init(&sha, SHA_ID, 0x51);
    binding = bind_sha(SHA_ID, &sha);
    assert_true(wait_count(&sha.get_soh_count, 1));
    sha.in_callback = sha.callback_done = 0;
    sha.delay_ms = 500;
    CloseHandle(CreateThread(NULL, 0, notify_thread, binding, 0, NULL));
    assert_true(test_wait_for(in_callback, &sha, WAIT_MS));
    assert_int_equal(INapSystemHealthAgentBinding2_Uninitialize(binding), S_OK);
    assert_int_equal(sha.callback_done, 1);
    assert_int_equal(sha.refs, 1);
    assert_int_equal(INapSystemHealthAgentBinding2_Uninitialize(binding), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapSystemHealthAgentBinding2_Release(binding), 0);

    /* A final Release without Uninitialize unbinds too. */
    sha.delay_ms = 0;
    binding = bind_sha(SHA_ID, &sha);
    assert_int_equal(INapSystemHealthAgentBinding2_Release(binding), 0);
    assert_int_equal(sha.refs, 1);
}

/* Uninitialize from inside a callback neither deadlocks nor drops the
 * callback while it runs; calls made inside it before that work. */
static void test_uninitialize_inside_callback(void **state)
{
    INapSystemHealthAgentBinding2 *binding;
    struct test_sha sha;
    LONG count;

    (void)state;
    test_sha_init(&sha, SHA_ID, 0x81);
    binding = bind_sha(SHA_ID, &sha);
    assert_true(wait_count(&sha.get_soh_count, 1));
    sha.uninitialize_result = sha.notify_inside_result = E_FAIL;
    sha.binding = binding;
    count = sha.get_soh_count;
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), S_OK);
    assert_true(wait_count(&sha.get_soh_count, count + 1));
    assert_int_equal(sha.notify_inside_result, S_OK);
    assert_int_equal(sha.uninitialize_result, S_OK);
    assert_true(test_wait_for(refs_back, &sha, WAIT_MS));
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), NAP_E_NOT_INITIALIZED);
    /* And the binding can be used again. */
    assert_int_equal(INapSystemHealthAgentBinding2_Initialize(binding, SHA_ID, &sha.INapSystemHealthAgentCallback_iface),
                     S_OK);
    unbind_sha(binding, &sha);
}

static void test_agent_restart(void **state)
{
    INapSystemHealthAgentBinding2 *binding;
    IsolationInfo *info = NULL;
    struct test_sha sha;
    BOOL unknown;
    LONG count;

    (void)state;
    test_sha_init(&sha, SHA_ID, 0x61);
    binding = bind_sha(SHA_ID, &sha);
    assert_true(wait_count(&sha.get_soh_count, 1));

    test_kill_agent(agent);
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), RPC_E_DISCONNECTED);
    assert_int_equal(INapSystemHealthAgentBinding2_FlushCache(binding), RPC_E_DISCONNECTED);
    assert_int_equal(INapSystemHealthAgentBinding2_GetSystemIsolationInfo(binding, &info, &unknown),
                     RPC_E_DISCONNECTED);
    assert_null(info);
    assert_int_equal(INapSystemHealthAgentBinding2_Initialize(binding, SHA_ID, &sha.INapSystemHealthAgentCallback_iface),
                     HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED));

    /* The agent is back: the first call rebinds by itself, and callbacks resume. */
    agent = test_start_agent();
    assert_non_null(agent);
    count = sha.get_soh_count;
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), S_OK);
    assert_true(wait_count(&sha.get_soh_count, count + 1));
    assert_int_equal(INapSystemHealthAgentBinding2_GetSystemIsolationInfo(binding, &info, &unknown), S_OK);
    pFreeIsolationInfo(info);
    unbind_sha(binding, &sha);
}

static void test_hung_agent(void **state)
{
    INapSystemHealthAgentBinding2 *binding;
    struct test_sha sha;
    DWORD start, ms;

    (void)state;
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, CALL_TIMEOUT_MS), S_OK);
    test_sha_init(&sha, SHA_ID, 0x71);
    binding = bind_sha(SHA_ID, &sha);
    assert_true(wait_count(&sha.get_soh_count, 1));
    assert_true(test_suspend_process(agent));
    start = GetTickCount();
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), RPC_E_TIMEOUT);
    ms = GetTickCount() - start;
    print_message("NotifySoHChange returned RPC_E_TIMEOUT after %lu ms (bound %u ms)\n", ms, CALL_TIMEOUT_MS);
    assert_true(ms < CALL_TIMEOUT_MS * 3);
    assert_int_equal(INapSystemHealthAgentBinding2_FlushCache(binding), RPC_E_TIMEOUT);
    assert_true(test_resume_process(agent));
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), S_OK);
    unbind_sha(binding, &sha);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, 5000), S_OK);
}

static int setup(void **state)
{
    WCHAR path[MAX_PATH];
    HMODULE qutil;

    (void)state;
    test_bin_path(L"qutil.dll", path, MAX_PATH);
    if (!(qutil = LoadLibraryW(path))) return -1;
    pFreeSoH = (void *)GetProcAddress(qutil, "FreeSoH");
    pFreeIsolationInfo = (void *)GetProcAddress(qutil, "FreeIsolationInfo");
    pFreeIsolationInfoEx = (void *)GetProcAddress(qutil, "FreeIsolationInfoEx");
    if (!pFreeSoH || !pFreeIsolationInfo || !pFreeIsolationInfoEx) return -1;
    if (test_register_qagent() != 0) return -1;
    if (!(agent = test_start_agent())) return -1;
    if (FAILED(test_register_ec(EC_ID, TRUE))) return -1;
    if (FAILED(test_register_sha(SHA_ID)) || FAILED(test_register_sha(SHA_ID2))) return -1;
    test_unregister_sha(SHA_UNREGISTERED);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, 5000);
    /* Registered SHAs show up in every EC's SoH: leave none behind for other tests. */
    test_unregister_sha(SHA_ID);
    test_unregister_sha(SHA_ID2);
    test_kill_agent(agent);
    test_reset_prefix(NULL); /* the settings and registrations, even after a failed test */
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_calls_before_initialize),
        cmocka_unit_test(test_initialize_errors),
        cmocka_unit_test(test_request_object),
        cmocka_unit_test(test_exchange),
        cmocka_unit_test(test_compare_equal),
        cmocka_unit_test(test_flush_wins_over_compare_in_flight),
        cmocka_unit_test(test_callback_says_gone),
        cmocka_unit_test(test_uninitialize_waits_for_callback),
        cmocka_unit_test(test_uninitialize_inside_callback),
        cmocka_unit_test(test_hung_agent),
        cmocka_unit_test(test_agent_restart),
    };
    int failures;

    test_install_crash_handler();
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    failures = cmocka_run_group_tests(tests, setup, teardown);
    CoUninitialize();
    return failures;
}
