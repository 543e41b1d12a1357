/*
 * What the agent keeps of each registered system health agent: its SoH, what stands in for it, the answers it owes
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"
#include "NapTypes.h"
#include "soh_attr.h"
#include <ntsecapi.h>

#define NO_DEADLINE (~0ull)
/* A health content key with this bit names an SHA's own SoH (its serial);
 * without it, the substitute (failure category << 32 | error code). */
#define KEY_OWN_SOH (1ull << 63)

/* What the agent knows of one registered SHA, bound or not. */
struct sha_record
{
    BOOL used;
    UINT32 id;
    struct session *session;           /* its open session (a reference), NULL while not bound */
    UINT64 last_seq;                   /* of the session's newest NotifySoHChange / FlushCache applied */
    BYTE *soh;                         /* its latest SoH (TLVs), NULL if it has none */
    UINT16 soh_size;
    BOOL cache;                        /* it asked for that SoH to be kept for later (cacheSohForLaterUse) */
    BOOL persisted;                    /* that SoH is in the store, for the next agent */
    UINT64 soh_serial;                 /* names the SoH's health content (KEY_OWN_SOH) */
    UINT8 failure_category;            /* no SoH: what the substitute says */
    HRESULT failure;
    UINT32 epoch;                      /* bumped by FlushCache: older fetches keep nothing */
    BOOL slow;                         /* missed a request's deadline: requests do not wait for it */
    /* The fetch that is not for a request (bind, NotifySoHChange, fix-up); 0: none. */
    UINT32 soh_request;
    BOOL soh_is_change;                /* a change to tell ECs about, not a quiet refill */
    BOOL soh_again;                    /* the SHA said "changed" while a fetch was out */
    UINT32 soh_epoch;
    ULONGLONG soh_deadline;
    UINT32 compare_request;
    ULONGLONG compare_deadline;
    BYTE *candidate;                   /* the new SoH, while CompareSoHRequests runs */
    UINT16 candidate_size;
    BOOL candidate_cache;
    UINT32 fixup_request;
    ULONGLONG fixup_deadline;
    ULONGLONG next_fixup_poll;         /* NO_DEADLINE: no fix-up in progress */
};

/* One GetSoHRequest asked of an SHA for one EC request being built. */
struct request_fetch
{
    struct request_fetch *next;
    UINT32 sha_id;
    UINT32 request_id;
    UINT32 epoch;                      /* the record's when asked: a flush since wins */
    struct session *session;           /* the SHA's session asked (a reference): a new one will not answer */
    BOOL answered;
};

static CRITICAL_SECTION sha_cs;
/* Woken when an SHA answers a request's fetch. */
static CONDITION_VARIABLE fetch_cv;
static struct request_fetch *fetches;
static struct sha_record records[maxSystemHealthEntityCount];
static BOOL registrations_stale = TRUE;
static UINT32 registered_ids[maxSystemHealthEntityCount];
static UINT32 registered_count;
static UINT64 next_soh_serial = 1;
/* Told when what an SSoH says of the health may have changed (the EC
 * sessions compare it with what each EC sent): set once at start, so that
 * this file needs nothing of theirs. */
static void (*health_changed)(void);

static DWORD sha_timeout(void)
{
    return store_get_setting(L"ShaTimeoutMs", DEFAULT_SHA_TIMEOUT_MS);
}

/* An EC's request waits for SHAs at most this long: well inside the bound
 * its binding puts on the call, so that a slow SHA costs the EC an entry
 * that says so, never the whole request. */
static DWORD request_fetch_timeout(void)
{
    return min(sha_timeout(), store_get_setting(L"ClientCallTimeoutMs", DEFAULT_CLIENT_TIMEOUT_MS) / 2);
}

static struct sha_record *find_record(UINT32 id)
{
    unsigned int i;

    for (i = 0; i < maxSystemHealthEntityCount; i++)
        if (records[i].used && records[i].id == id) return &records[i];
    return NULL;
}

static struct sha_record *get_record(UINT32 id)
{
    struct sha_record *record = find_record(id);
    unsigned int i;

    for (i = 0; !record && i < maxSystemHealthEntityCount; i++)
    {
        if (records[i].used) continue;
        record = &records[i];
        ZeroMemory(record, sizeof(*record));
        record->used = TRUE;
        record->id = id;
        record->next_fixup_poll = NO_DEADLINE;
    }
    return record;
}

/* The correlation id of a fetch that is for no EC's request (at bind, after
 * NotifySoHChange, after a fix-up): one of its own, a new GUID and the time
 * of the fetch (docs/decisions.md). */
static void fetch_correlation(NAPAGENT_CORRELATION *correlation)
{
    UuidCreate(&correlation->conn_id);
    GetSystemTimeAsFileTime(&correlation->time_stamp);
}

/* Caller holds sha_cs.  Queues an event for the SHA; returns its request id (0: not bound). */
static UINT32 post_event(struct sha_record *record, UINT32 type, const NAPAGENT_CORRELATION *correlation,
                         BYTE flags, const BYTE *soh, UINT16 soh_size, const BYTE *other, UINT16 other_size)
{
    if (!record->session) return 0;
    return session_post(record->session, type, correlation, flags, soh, soh_size, other, other_size);
}

/* Caller holds sha_cs.  Asks the SHA for its SoH for a request, pre-loading
 * the SoH it asked the agent to keep. */
static UINT32 post_get_soh(struct sha_record *record, const NAPAGENT_CORRELATION *correlation)
{
    BOOL preload = record->soh && record->cache;

    return post_event(record, NAPAGENT_EVENT_GET_SOH_REQUEST, correlation, 0, preload ? record->soh : NULL,
                      preload ? record->soh_size : 0, NULL, 0);
}

/* Caller holds sha_cs.  Asks the SHA for its SoH for no request in particular. */
static void request_soh(struct sha_record *record, BOOL is_change)
{
    NAPAGENT_CORRELATION correlation;

    if (record->soh_request)
    {
        /* The answer on its way may predate the change: ask once more after it. */
        record->soh_again |= is_change;
        return;
    }
    fetch_correlation(&correlation);
    if (!(record->soh_request = post_get_soh(record, &correlation))) return;
    record->soh_is_change = is_change;
    record->soh_epoch = record->epoch;
    record->soh_deadline = GetTickCount64() + sha_timeout();
    timer_kick();
}

static BYTE *copy_soh(const BYTE *soh, UINT16 size)
{
    BYTE *copy = HeapAlloc(GetProcessHeap(), 0, size);

    if (copy) memcpy(copy, soh, size);
    return copy;
}

/* Keeps the store's copy in step with what the agent keeps for later use. */
static void persist_soh(struct sha_record *record)
{
    BOOL keep = record->soh && record->cache;

    if (!keep && !record->persisted) return;
    if (SUCCEEDED(store_set_sha_soh(record->id, keep ? record->soh : NULL, keep ? record->soh_size : 0)))
        record->persisted = keep;
}

/* Takes ownership of soh (HeapAlloc or NULL).  same_content: the SHA said
 * it means what the previous one meant (CompareSoHRequests), so ECs have
 * nothing new to hear. */
static void set_soh(struct sha_record *record, BYTE *soh, UINT16 size, BOOL cache, BOOL same_content)
{
    HeapFree(GetProcessHeap(), 0, record->soh);
    record->soh = soh;
    record->soh_size = size;
    record->cache = cache;
    record->failure = S_OK;
    if (soh && !same_content) record->soh_serial = next_soh_serial++;
    persist_soh(record);
}

static void set_failure(struct sha_record *record, UINT8 category, HRESULT code)
{
    /* A cached SoH still stands in for an SHA that cannot answer now. */
    if (record->soh && record->cache) return;
    set_soh(record, NULL, 0, FALSE, FALSE);
    record->failure_category = category;
    record->failure = code;
}

/* Caller holds sha_cs.  Its session ended: what was asked of it is given up. */
static void unbind_record(struct sha_record *record)
{
    session_put(record->session);
    record->session = NULL;
    record->soh_request = record->compare_request = record->fixup_request = 0;
    record->soh_again = record->slow = FALSE;
    record->next_fixup_poll = NO_DEADLINE;
    HeapFree(GetProcessHeap(), 0, record->candidate);
    record->candidate = NULL;
    /* Kept only if the SHA asked for it to be cached. */
    if (!record->cache) set_soh(record, NULL, 0, FALSE, FALSE);
    /* A request waiting for this SHA's answer waits no longer. */
    WakeAllConditionVariable(&fetch_cv);
}

/* Caller holds sha_cs.  The SoHs the previous agent kept for later use. */
static void load_cached_sohs(void)
{
    BYTE soh[maxNetworkSoHSize];
    struct sha_record *record;
    UINT16 size;
    UINT32 i;

    for (i = 0; i < registered_count; i++)
    {
        BYTE *copy;
        if (store_get_sha_soh(registered_ids[i], soh, sizeof(soh), &size) != S_OK || !size) continue;
        /* A value someone else wrote: only a valid SoH of this SHA counts. */
        if (soh_sha_validate(soh, size, 1) != SOH_OK || size < 8
            || (UINT32)(soh[4] << 24 | soh[5] << 16 | soh[6] << 8 | soh[7]) != registered_ids[i])
            continue;
        if (!(record = get_record(registered_ids[i])) || !(copy = copy_soh(soh, size))) continue;
        record->soh = copy;
        record->soh_size = size;
        record->cache = record->persisted = TRUE;
        record->soh_serial = next_soh_serial++;
        agent_log(AGENT_LOG_INFO, "SHA %u: SoH kept for later use by the previous agent loaded", record->id);
    }
}

static void refresh_registrations(void);

void sha_init(void (*on_health_changed)(void))
{
    health_changed = on_health_changed;
    InitializeCriticalSection(&sha_cs);
    InitializeConditionVariable(&fetch_cv);
    EnterCriticalSection(&sha_cs);
    refresh_registrations();
    load_cached_sohs();
    LeaveCriticalSection(&sha_cs);
}

static HRESULT sha_admit(UINT32 id)
{
    struct component *component = HeapAlloc(GetProcessHeap(), 0, sizeof(*component));
    HRESULT hr;

    if (!component) return E_OUTOFMEMORY;
    hr = store_get(NAPAGENT_KIND_SHA, id, component);
    HeapFree(GetProcessHeap(), 0, component);
    return hr;
}

static HRESULT sha_opened(struct session *session, BOOL rebound)
{
    struct sha_record *record;
    HRESULT hr = S_OK;

    (void)rebound;
    EnterCriticalSection(&sha_cs);
    if (!(record = get_record(session_id(session)))) hr = E_OUTOFMEMORY;
    else
    {
        /* Its previous session closed, and its `closed` has not run yet:
         * give that one up now, so that nothing it was asked holds this one. */
        if (record->session) unbind_record(record);
        session_addref(session);
        record->session = session;
        record->last_seq = 0;
        /* Binding is no SoH change: fill the agent's view quietly. */
        request_soh(record, FALSE);
    }
    LeaveCriticalSection(&sha_cs);
    return hr;
}

static void sha_closed(struct session *session, BOOL callback_gone)
{
    struct sha_record *record;

    EnterCriticalSection(&sha_cs);
    if ((record = find_record(session_id(session))) && record->session == session)
    {
        /* RPC_S_SERVER_UNAVAILABLE from a callback flushes its cache entry too. */
        if (callback_gone) record->cache = FALSE;
        unbind_record(record);
    }
    LeaveCriticalSection(&sha_cs);
}

static void sha_free(void *data)
{
    (void)data;
}

const struct session_kind sha_kind = { NAPAGENT_KIND_SHA, sha_admit, sha_opened, sha_closed, sha_free };

void sha_registrations_changed(void)
{
    EnterCriticalSection(&sha_cs);
    registrations_stale = TRUE;
    LeaveCriticalSection(&sha_cs);
}

void sha_forget(UINT32 sha_id)
{
    struct sha_record *record;

    EnterCriticalSection(&sha_cs);
    /* Nothing it set stands in for it any more, here or in the store. */
    if ((record = find_record(sha_id)) && !record->session)
    {
        HeapFree(GetProcessHeap(), 0, record->soh);
        record->used = FALSE;
    }
    registrations_stale = TRUE;
    LeaveCriticalSection(&sha_cs);
}

/* Caller holds sha_cs.  The binding numbers its calls; one older than the
 * newest applied is a call the binding gave up on that came late. */
static BOOL call_is_stale(struct sha_record *record, UINT64 call_seq)
{
    if (call_seq && call_seq < record->last_seq) return TRUE;
    record->last_seq = max(record->last_seq, call_seq);
    return FALSE;
}

/* Caller holds sha_cs.  The record of the SHA this open session is for. */
static struct sha_record *record_of(struct session *session)
{
    struct sha_record *record = find_record(session_id(session));

    return record && record->session == session ? record : NULL;
}

/* NotifySoHChange and FlushCache, numbered by the SHA's binding: applied to
 * the SHA's record unless the session is not its own or the call is stale. */
static HRESULT numbered_call(struct session *session, UINT64 call_seq, void (*apply)(struct sha_record *record))
{
    struct sha_record *record;
    HRESULT hr = S_OK;

    EnterCriticalSection(&sha_cs);
    if (!(record = record_of(session))) hr = NAP_E_NOT_INITIALIZED;
    else if (call_is_stale(record, call_seq)) hr = E_ABORT;
    else apply(record);
    LeaveCriticalSection(&sha_cs);
    return hr;
}

/* Caller holds sha_cs. */
static void soh_changed(struct sha_record *record)
{
    request_soh(record, TRUE);
}

/* Caller holds sha_cs.  The flush wins over every fetch and compare that started before it. */
static void flush_cache(struct sha_record *record)
{
    record->epoch++;
    record->soh_again = FALSE;
    record->compare_request = 0;
    HeapFree(GetProcessHeap(), 0, record->candidate);
    record->candidate = NULL;
    set_soh(record, NULL, 0, FALSE, FALSE);
    record->failure_category = failureCategoryClientCommunication;
    record->failure = NAP_E_NO_CACHED_SOH;
    agent_log(AGENT_LOG_INFO, "SHA %u: cache flushed", record->id);
}

HRESULT sha_notify_soh_change(struct session *session, UINT64 call_seq)
{
    return numbered_call(session, call_seq, soh_changed);
}

HRESULT sha_flush_cache(struct session *session, UINT64 call_seq)
{
    return numbered_call(session, call_seq, flush_cache);
}

/* A valid entry begins with its System-Health-Id TLV: type, length 4, id. */
static UINT32 soh_entry_id(const BYTE *tlvs)
{
    return (UINT32)tlvs[4] << 24 | (UINT32)tlvs[5] << 16 | (UINT32)tlvs[6] << 8 | tlvs[7];
}

/* Caller holds sha_cs.  A new SoH from the SHA.  Returns TRUE when the ECs'
 * view of the system's health is to be looked at again (a change fetch). */
static BOOL take_soh(struct sha_record *record, const BYTE *soh, UINT16 size, BOOL cache, BOOL is_change)
{
    BYTE *copy;

    if (record->soh && record->soh_size == size && !memcmp(record->soh, soh, size))
    {
        /* Byte for byte the same SoH: the same health content. */
        record->cache = cache;
        persist_soh(record);
        return is_change;
    }
    if (!(copy = copy_soh(soh, size))) return FALSE;
    if (record->soh && is_change)
    {
        /* Let the SHA say whether the difference matters (CompareSoHRequests). */
        HeapFree(GetProcessHeap(), 0, record->candidate);
        record->candidate = copy;
        record->candidate_size = size;
        record->candidate_cache = cache;
        record->compare_request = post_event(record, NAPAGENT_EVENT_COMPARE, NULL, 0, record->soh,
                                             record->soh_size, soh, size);
        record->compare_deadline = GetTickCount64() + sha_timeout();
        timer_kick();
        return FALSE;
    }
    set_soh(record, copy, size, cache, FALSE);
    return is_change;
}

/* Caller holds sha_cs.  What one answer to GetSoHRequest makes of the
 * record; returns TRUE when ECs' view is to be looked at again. */
static BOOL keep_answer(struct sha_record *record, const NAPAGENT_SHA_ANSWER *answer, BOOL is_change)
{
    if (FAILED(answer->result))
    {
        set_failure(record, failureCategoryClientComponent, answer->result);
        return is_change;
    }
    if (!answer->soh.size)
    {
        /* The SHA set nothing: the cached SoH stands, or none. */
        if (!record->soh) set_failure(record, failureCategoryClientComponent, NAP_E_NO_CACHED_SOH);
        return is_change;
    }
    if (soh_sha_validate(answer->soh.data, answer->soh.size, 1) != SOH_OK
        || soh_entry_id(answer->soh.data) != record->id)
    {
        agent_log(AGENT_LOG_WARNING, "SHA %u: its SoH is malformed or names another SHA", record->id);
        set_failure(record, failureCategoryClientComponent, NAP_E_INVALID_PACKET);
        return is_change;
    }
    return take_soh(record, answer->soh.data, answer->soh.size, answer->cache_soh, is_change);
}

/* Caller holds sha_cs.  The answer to the fetch for no request. */
static BOOL answer_soh_request(struct sha_record *record, const NAPAGENT_SHA_ANSWER *answer)
{
    BOOL is_change = record->soh_is_change, current = record->soh_epoch == record->epoch;

    record->soh_request = 0;
    if (record->soh_again)
    {
        record->soh_again = FALSE;
        request_soh(record, TRUE);
    }
    /* A flush came after the fetch started: the flush wins. */
    return current ? keep_answer(record, answer, is_change) : FALSE;
}

/* Caller holds sha_cs.  The answer to a request's fetch. */
static BOOL answer_request_fetch(struct sha_record *record, UINT32 request_id, const NAPAGENT_SHA_ANSWER *answer)
{
    struct request_fetch *fetch;

    for (fetch = fetches; fetch; fetch = fetch->next)
        if (fetch->request_id == request_id && fetch->sha_id == record->id) break;
    if (!fetch) return FALSE;
    fetch->answered = TRUE;
    if (fetch->epoch == record->epoch) keep_answer(record, answer, FALSE);
    WakeAllConditionVariable(&fetch_cv);
    return TRUE;
}

/* Caller holds sha_cs. */
static BOOL answer_compare(struct sha_record *record, const NAPAGENT_SHA_ANSWER *answer)
{
    /* E_NOTIMPL (or any failure): the bytes differ, so they differ. */
    BOOL equal = SUCCEEDED(answer->result) && answer->equal;

    record->compare_request = 0;
    if (!record->candidate) return FALSE;
    set_soh(record, record->candidate, record->candidate_size, record->candidate_cache, equal);
    record->candidate = NULL;
    return TRUE;
}

/* Caller holds sha_cs. */
static BOOL answer_fixup(struct sha_record *record, const NAPAGENT_SHA_ANSWER *answer)
{
    record->fixup_request = 0;
    if (FAILED(answer->result) || answer->fixup.state != fixupStateInProgress)
    {
        record->next_fixup_poll = NO_DEADLINE;
        /* A finished fix-up is a health change: fetch the new SoH. */
        if (SUCCEEDED(answer->result) && answer->fixup.state == fixupStateSuccess) request_soh(record, TRUE);
        agent_log(AGENT_LOG_INFO, "SHA %u: fix-up ended in state %u", record->id, answer->fixup.state);
        return FALSE;
    }
    record->next_fixup_poll = GetTickCount64() + store_get_setting(L"FixupPollMs", DEFAULT_FIXUP_POLL_MS);
    timer_kick();
    return FALSE;
}

HRESULT sha_answer(struct session *session, UINT32 request_id, const NAPAGENT_SHA_ANSWER *answer)
{
    struct sha_record *record;
    BOOL changed = FALSE;
    HRESULT hr = S_OK;

    EnterCriticalSection(&sha_cs);
    if (!(record = record_of(session))) hr = NAP_E_NOT_INITIALIZED;
    else
    {
        /* It answers: requests may wait for it again. */
        record->slow = FALSE;
        if (request_id && request_id == record->soh_request) changed = answer_soh_request(record, answer);
        else if (request_id && request_id == record->compare_request) changed = answer_compare(record, answer);
        else if (request_id && request_id == record->fixup_request) changed = answer_fixup(record, answer);
        /* Late (timed out) or for an event that wants no answer: nothing to do. */
        else if (!request_id || !answer_request_fetch(record, request_id, answer)) hr = NAP_E_NOT_PENDING;
    }
    LeaveCriticalSection(&sha_cs);
    if (changed) health_changed();
    return hr;
}

/* Caller holds sha_cs. */
static void refresh_registrations(void)
{
    struct component *list;

    if (!registrations_stale) return;
    if (!(list = HeapAlloc(GetProcessHeap(), 0, sizeof(*list) * maxSystemHealthEntityCount))) return;
    if (SUCCEEDED(store_list(NAPAGENT_KIND_SHA, list, maxSystemHealthEntityCount, &registered_count)))
    {
        UINT32 i, j;
        for (i = 0; i < registered_count; i++) registered_ids[i] = list[i].id;
        registrations_stale = FALSE;
        /* Forget what the agent knew of SHAs that are no longer registered. */
        for (j = 0; j < maxSystemHealthEntityCount; j++)
        {
            BOOL registered = FALSE;
            if (!records[j].used || records[j].session) continue;
            for (i = 0; i < registered_count; i++) registered |= registered_ids[i] == records[j].id;
            if (registered) continue;
            HeapFree(GetProcessHeap(), 0, records[j].soh);
            records[j].used = FALSE;
        }
    }
    HeapFree(GetProcessHeap(), 0, list);
}

/* An SHA a request asks afresh: bound, and no SoH it asked the agent to keep. */
static BOOL needs_fetch(const struct sha_record *record)
{
    return record && record->session && !(record->soh && record->cache);
}

/* What one SHA's entry in an SSoH is: its SoH, or the substitute the
 * reference prescribes, with the key naming its health content.  missed:
 * the SHA was to be asked for this request and gave no answer in time. */
struct entry_view
{
    const BYTE *soh;
    UINT16 size;
    UINT8 category;
    HRESULT code;
    UINT64 key;
};

static void view_entry(const struct sha_record *record, BOOL missed, struct entry_view *view)
{
    view->soh = NULL;
    view->size = 0;
    if (!missed && record && record->soh)
    {
        view->soh = record->soh;
        view->size = record->soh_size;
        view->key = KEY_OWN_SOH | record->soh_serial;
        return;
    }
    /* Too slow; registered but not bound; bound with no SoH (flushed, or
     * not yet); or its GetSoHRequest failed. */
    if (missed || (record && record->session && record->failure == S_OK))
    {
        view->category = failureCategoryClientCommunication;
        view->code = NAP_E_NO_CACHED_SOH;
    }
    else if (!record || !record->session)
    {
        view->category = failureCategoryClientComponent;
        view->code = NAP_E_NOT_INITIALIZED;
    }
    else
    {
        view->category = record->failure_category;
        view->code = record->failure;
    }
    view->key = (UINT64)view->category << 32 | (UINT32)view->code;
}

static HRESULT write_entry(UINT32 id, const struct entry_view *view, BYTE *out, size_t cap, UINT16 *size)
{
    if (!view->soh) return exchange_substitute_soh(id, view->category, view->code, out, cap, size);
    if (view->size > cap) return NAP_E_MAXSIZE_TOO_SMALL;
    memcpy(out, view->soh, view->size);
    *size = view->size;
    return S_OK;
}

/* Caller holds sha_cs.  Asks every SHA that needs it for its SoH for this
 * request; fetches[] receives one per SHA asked.  An SHA that missed an
 * earlier deadline is not asked: it counts as missed at once. */
static UINT32 start_request_fetches(const NAPAGENT_CORRELATION *correlation, struct request_fetch *list)
{
    UINT32 i, count = 0;

    for (i = 0; i < registered_count; i++)
    {
        struct sha_record *record = find_record(registered_ids[i]);
        UINT32 request_id;
        if (!needs_fetch(record) || record->slow || !(request_id = post_get_soh(record, correlation))) continue;
        list[count].sha_id = record->id;
        list[count].request_id = request_id;
        list[count].epoch = record->epoch;
        list[count].session = record->session;
        session_addref(record->session);
        list[count].answered = FALSE;
        list[count].next = fetches;
        fetches = &list[count++];
    }
    return count;
}

/* Caller holds sha_cs.  Waits until every fetch is answered (or the session
 * it was asked of is no longer the SHA's: unbound, or replaced by a rebind,
 * and no answer will come) or the deadline passed, then takes them off the
 * list. */
static void finish_request_fetches(struct request_fetch *list, UINT32 count)
{
    ULONGLONG deadline = GetTickCount64() + request_fetch_timeout();
    struct request_fetch **link;
    UINT32 i;

    for (i = 0; i < count;)
    {
        struct sha_record *record = find_record(list[i].sha_id);
        ULONGLONG now = GetTickCount64();
        if (list[i].answered || !record || record->session != list[i].session) i++;
        else if (now >= deadline) break;
        else SleepConditionVariableCS(&fetch_cv, &sha_cs, (DWORD)(deadline - now));
    }
    for (link = &fetches; *link;)
    {
        if (*link >= list && *link < list + count) *link = (*link)->next;
        else link = &(*link)->next;
    }
}

/* Caller holds sha_cs.  The fetch for this request that went unanswered
 * by the session it was asked of (one bound since owes nothing). */
static BOOL fetch_missed(const struct sha_record *record, const struct request_fetch *list, UINT32 count)
{
    UINT32 i;

    if (!needs_fetch(record)) return FALSE;
    for (i = 0; i < count; i++)
        if (list[i].sha_id == record->id) return !list[i].answered && list[i].session == record->session;
    return record->slow;
}

/* Caller holds sha_cs. */
static void release_request_fetches(struct request_fetch *list, UINT32 count)
{
    UINT32 i;

    for (i = 0; i < count; i++) session_put(list[i].session);
}

HRESULT sha_report_entries(const NAPAGENT_CORRELATION *correlation, BYTE *buffer, size_t cap,
                                    struct soh_entry *entries, UINT16 *count, struct health_content *content)
{
    struct request_fetch list[maxSystemHealthEntityCount];
    UINT32 i, fetch_count;
    size_t used = 0;
    HRESULT hr = S_OK;

    *count = 0;
    content->count = 0;
    EnterCriticalSection(&sha_cs);
    refresh_registrations();
    if ((fetch_count = start_request_fetches(correlation, list))) finish_request_fetches(list, fetch_count);
    for (i = 0; i < registered_count && SUCCEEDED(hr); i++)
    {
        struct sha_record *record = find_record(registered_ids[i]);
        BOOL missed = fetch_missed(record, list, fetch_count);
        struct entry_view view;
        UINT16 size;

        /* Too slow for this request: the next ones do not wait for it until
         * it answers something, and it is asked once more so that it will. */
        if (missed && !record->slow)
        {
            agent_log(AGENT_LOG_WARNING, "SHA %u did not answer GetSoHRequest in time for a request", record->id);
            record->slow = TRUE;
            request_soh(record, FALSE);
        }
        view_entry(record, missed, &view);
        if (FAILED(hr = write_entry(registered_ids[i], &view, buffer + used, cap - used, &size))) break;
        entries[*count].shv_id = registered_ids[i];
        entries[*count].tlvs = buffer + used;
        entries[*count].len = size;
        (*count)++;
        used += size;
        content->entries[content->count].sha_id = registered_ids[i];
        content->entries[content->count++].key = view.key;
    }
    release_request_fetches(list, fetch_count);
    LeaveCriticalSection(&sha_cs);
    return hr;
}

void sha_current_content(struct health_content *content)
{
    UINT32 i;

    content->count = 0;
    EnterCriticalSection(&sha_cs);
    refresh_registrations();
    for (i = 0; i < registered_count; i++)
    {
        struct sha_record *record = find_record(registered_ids[i]);
        struct entry_view view;

        view_entry(record, needs_fetch(record) && record->slow, &view);
        content->entries[content->count].sha_id = registered_ids[i];
        content->entries[content->count++].key = view.key;
    }
    LeaveCriticalSection(&sha_cs);
}

void sha_deliver_response(const struct soh_response *response)
{
    NAPAGENT_CORRELATION correlation;
    BYTE flags = response->quarantine.fixup ? shaFixup : 0;
    UINT16 i;

    correlation.conn_id.Data1 = response->correlation.conn_id.data1;
    correlation.conn_id.Data2 = response->correlation.conn_id.data2;
    correlation.conn_id.Data3 = response->correlation.conn_id.data3;
    memcpy(correlation.conn_id.Data4, response->correlation.conn_id.data4, 8);
    correlation.time_stamp.dwLowDateTime = (DWORD)response->correlation.timestamp;
    correlation.time_stamp.dwHighDateTime = (DWORD)(response->correlation.timestamp >> 32);

    EnterCriticalSection(&sha_cs);
    for (i = 0; i < response->entry_count; i++)
    {
        struct sha_record *record = find_record(response->entries[i].shv_id);
        if (!record || !record->session) continue;
        post_event(record, NAPAGENT_EVENT_PROCESS_SOH_RESPONSE, &correlation, flags,
                   response->entries[i].tlvs, response->entries[i].len, NULL, 0);
        /* Told to remediate: poll its progress until the fix-up ends. */
        if (flags & shaFixup)
        {
            record->next_fixup_poll = GetTickCount64() + store_get_setting(L"FixupPollMs", DEFAULT_FIXUP_POLL_MS);
            timer_kick();
        }
    }
    LeaveCriticalSection(&sha_cs);
}

static void post_to_all(UINT32 type, const NAPAGENT_CORRELATION *correlation)
{
    unsigned int i;

    EnterCriticalSection(&sha_cs);
    for (i = 0; i < maxSystemHealthEntityCount; i++)
        if (records[i].used && records[i].session) post_event(&records[i], type, correlation, 0, NULL, 0, NULL, 0);
    LeaveCriticalSection(&sha_cs);
}

void sha_orphaned(const NAPAGENT_CORRELATION *correlation)
{
    post_to_all(NAPAGENT_EVENT_ORPHANED, correlation);
}

void sha_isolation_changed(void)
{
    post_to_all(NAPAGENT_EVENT_ISOLATION_CHANGED, NULL);
}

/* Caller holds sha_cs.  Handles what is due for one SHA; returns its next deadline. */
static ULONGLONG tick_record(struct sha_record *record, ULONGLONG now, BOOL *changed)
{
    ULONGLONG next = NO_DEADLINE;

    if (record->soh_request && now >= record->soh_deadline)
    {
        /* Too slow: ClientCommunication + NAP_E_NO_CACHED_SOH (docs/nap-facts.md, Substitute SoHs). */
        agent_log(AGENT_LOG_WARNING, "SHA %u did not answer GetSoHRequest in time", record->id);
        *changed |= record->soh_is_change;
        record->soh_request = 0;
        set_failure(record, failureCategoryClientCommunication, NAP_E_NO_CACHED_SOH);
    }
    if (record->compare_request && now >= record->compare_deadline)
    {
        NAPAGENT_SHA_ANSWER none = { .result = E_NOTIMPL };
        *changed |= answer_compare(record, &none);
    }
    if (record->fixup_request && now >= record->fixup_deadline)
    {
        record->fixup_request = 0;
        record->next_fixup_poll = NO_DEADLINE;
    }
    if (!record->fixup_request && record->session && now >= record->next_fixup_poll)
    {
        record->fixup_request = post_event(record, NAPAGENT_EVENT_GET_FIXUP_INFO, NULL, 0, NULL, 0, NULL, 0);
        record->fixup_deadline = now + sha_timeout();
        record->next_fixup_poll = NO_DEADLINE;
    }
    if (record->soh_request) next = min(next, record->soh_deadline);
    if (record->compare_request) next = min(next, record->compare_deadline);
    if (record->fixup_request) next = min(next, record->fixup_deadline);
    return min(next, record->next_fixup_poll);
}

ULONGLONG sha_tick(ULONGLONG now)
{
    ULONGLONG next = NO_DEADLINE;
    BOOL changed = FALSE;
    unsigned int i;

    EnterCriticalSection(&sha_cs);
    for (i = 0; i < maxSystemHealthEntityCount; i++)
        if (records[i].used) next = min(next, tick_record(&records[i], now, &changed));
    LeaveCriticalSection(&sha_cs);
    if (changed) health_changed();
    return next;
}

