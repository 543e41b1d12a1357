/*
 * The agent's system health agents: bound sessions, their SoHs, their events
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"
#include "NapTypes.h"
#include "soh_attr.h"
#include <ntsecapi.h>

/* The longest one long poll may wait; the SHA's binding asks again after it. */
#define MAX_WAIT_MS 60000
/* Events waiting for an SHA that does not fetch them: past this the oldest go. */
#define MAX_QUEUED_EVENTS 64
#define NO_DEADLINE (~0ull)
/* A health content key with this bit names an SHA's own SoH (its serial);
 * without it, the substitute (failure category << 32 | error code). */
#define KEY_OWN_SOH (1ull << 63)

struct queued_event
{
    struct queued_event *next;
    NAPAGENT_SHA_EVENT event;          /* soh / other data: HeapAlloc */
};

/* What the agent knows of one registered SHA, bound or not. */
struct sha_record
{
    BOOL used;
    UINT32 id;
    struct sha_session *session;       /* NULL while not bound */
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

struct sha_session
{
    LONG refs;
    BOOL closed;
    UINT32 sha_id;
    DWORD pid;
    UINT64 cookie;
    UINT64 last_seq;                   /* of the newest NotifySoHChange / FlushCache applied */
    HANDLE process;
    HANDLE process_wait;
    CONDITION_VARIABLE event_cv;
    struct queued_event *head, *tail;
    unsigned int queued;
};

/* One GetSoHRequest asked of an SHA for one EC request being built. */
struct request_fetch
{
    struct request_fetch *next;
    UINT32 sha_id;
    UINT32 request_id;
    UINT32 epoch;                      /* the record's when asked: a flush since wins */
    BOOL answered;
};

static CRITICAL_SECTION sha_cs;
/* Woken when an SHA answers a request's fetch. */
static CONDITION_VARIABLE fetch_cv;
static struct request_fetch *fetches;
static struct sha_record records[NAPAGENT_MAX_SHAS];
static BOOL registrations_stale = TRUE;
static UINT32 registered_ids[NAPAGENT_MAX_SHAS];
static UINT32 registered_count;
static UINT32 next_request_id = 1;
static UINT64 next_soh_serial = 1;

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

static void free_event(struct queued_event *queued)
{
    HeapFree(GetProcessHeap(), 0, queued->event.soh.data);
    HeapFree(GetProcessHeap(), 0, queued->event.other.data);
    HeapFree(GetProcessHeap(), 0, queued);
}

static BOOL copy_blob(NAPAGENT_BLOB *to, const BYTE *data, UINT16 size)
{
    to->size = 0;
    to->data = NULL;
    if (!size) return TRUE;
    if (!(to->data = HeapAlloc(GetProcessHeap(), 0, size))) return FALSE;
    memcpy(to->data, data, size);
    to->size = size;
    return TRUE;
}

static struct sha_record *find_record(UINT32 id)
{
    unsigned int i;

    for (i = 0; i < NAPAGENT_MAX_SHAS; i++)
        if (records[i].used && records[i].id == id) return &records[i];
    return NULL;
}

static struct sha_record *get_record(UINT32 id)
{
    struct sha_record *record = find_record(id);
    unsigned int i;

    for (i = 0; !record && i < NAPAGENT_MAX_SHAS; i++)
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

/* Caller holds sha_cs.  Queues an event for the SHA; returns its request id. */
static UINT32 post_event(struct sha_record *record, UINT32 type, const NAPAGENT_CORRELATION *correlation,
                         BYTE flags, const BYTE *soh, UINT16 soh_size, const BYTE *other, UINT16 other_size)
{
    struct sha_session *session = record->session;
    struct queued_event *queued;

    if (!session || session->closed) return 0;
    if (!(queued = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*queued)))) return 0;
    queued->event.type = type;
    if (!next_request_id) next_request_id = 1; /* 0 means "no request" */
    queued->event.request_id = next_request_id++;
    if (correlation) queued->event.correlation = *correlation;
    queued->event.flags = flags;
    if (!copy_blob(&queued->event.soh, soh, soh_size) || !copy_blob(&queued->event.other, other, other_size))
    {
        free_event(queued);
        return 0;
    }
    if (session->queued == MAX_QUEUED_EVENTS)
    {
        struct queued_event *oldest = session->head;
        agent_log("SHA %u does not fetch its events: dropping the oldest", record->id);
        session->head = oldest->next;
        if (!session->head) session->tail = NULL;
        session->queued--;
        free_event(oldest);
    }
    if (session->tail) session->tail->next = queued;
    else session->head = queued;
    session->tail = queued;
    session->queued++;
    WakeAllConditionVariable(&session->event_cv);
    return queued->event.request_id;
}

/* Caller holds sha_cs.  Asks the SHA for its SoH for a request, pre-loading
 * the SoH it asked the agent to keep. */
static UINT32 post_get_soh(struct sha_record *record, const NAPAGENT_CORRELATION *correlation)
{
    BOOL preload = record->soh && record->cache;

    return post_event(record, NAPAGENT_SHA_EVENT_GET_SOH_REQUEST, correlation, 0, preload ? record->soh : NULL,
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

static void release_session(struct sha_session *session)
{
    struct queued_event *queued;

    if (InterlockedDecrement(&session->refs)) return;
    while ((queued = session->head))
    {
        session->head = queued->next;
        free_event(queued);
    }
    if (session->process) CloseHandle(session->process);
    HeapFree(GetProcessHeap(), 0, session);
}

/* Caller holds sha_cs. */
static void close_session(struct sha_session *session)
{
    struct sha_record *record;

    if (session->closed) return;
    session->closed = TRUE;
    if ((record = find_record(session->sha_id)) && record->session == session)
    {
        record->session = NULL;
        record->soh_request = record->compare_request = record->fixup_request = 0;
        record->soh_again = record->slow = FALSE;
        record->next_fixup_poll = NO_DEADLINE;
        HeapFree(GetProcessHeap(), 0, record->candidate);
        record->candidate = NULL;
        /* Kept only if the SHA asked for it to be cached. */
        if (!record->cache) set_soh(record, NULL, 0, FALSE, FALSE);
    }
    WakeAllConditionVariable(&session->event_cv);
    /* A request waiting for this SHA's answer waits no longer. */
    WakeAllConditionVariable(&fetch_cv);
    agent_log("SHA %u (pid %lu) unbound", session->sha_id, session->pid);
}

static void CALLBACK client_process_ended(void *context, BOOLEAN timed_out)
{
    struct sha_session *session = context;

    (void)timed_out;
    EnterCriticalSection(&sha_cs);
    close_session(session);
    LeaveCriticalSection(&sha_cs);
}

/* Caller holds sha_cs.  The SoHs the previous agent kept for later use. */
static void load_cached_sohs(void)
{
    BYTE soh[NAPAGENT_MAX_SOH];
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
        agent_log("SHA %u: SoH kept for later use by the previous agent loaded", record->id);
    }
}

static void refresh_registrations(void);

void sha_sessions_init(void)
{
    InitializeCriticalSection(&sha_cs);
    InitializeConditionVariable(&fetch_cv);
    EnterCriticalSection(&sha_cs);
    refresh_registrations();
    load_cached_sohs();
    LeaveCriticalSection(&sha_cs);
}

HRESULT sha_sessions_bind(UINT32 sha_id, DWORD pid, UINT64 previous_cookie, UINT64 *cookie, struct sha_session **out)
{
    struct ec_registration *registration;
    struct sha_session *session = NULL;
    struct sha_record *record;
    HRESULT hr;

    *out = NULL;
    if (!(registration = HeapAlloc(GetProcessHeap(), 0, sizeof(*registration)))) return E_OUTOFMEMORY;
    hr = store_get_sha(sha_id, registration);
    HeapFree(GetProcessHeap(), 0, registration);
    if (FAILED(hr)) return hr;

    EnterCriticalSection(&sha_cs);
    record = get_record(sha_id);
    if (record && record->session && previous_cookie && record->session->cookie == previous_cookie)
        close_session(record->session);
    if (!record) hr = E_OUTOFMEMORY;
    else if (record->session) hr = HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED);
    else if (!(session = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*session)))) hr = E_OUTOFMEMORY;
    else
    {
        session->refs = 1; /* the context handle's */
        session->sha_id = sha_id;
        session->pid = pid;
        while (!session->cookie) RtlGenRandom(&session->cookie, sizeof(session->cookie));
        InitializeConditionVariable(&session->event_cv);
        if ((session->process = OpenProcess(SYNCHRONIZE, FALSE, pid))
            && !RegisterWaitForSingleObject(&session->process_wait, session->process, client_process_ended,
                                            session, INFINITE, WT_EXECUTEONLYONCE))
            session->process_wait = NULL;
        record->session = session;
        *cookie = session->cookie;
        *out = session;
        /* Binding is no SoH change: fill the agent's view quietly. */
        request_soh(record, FALSE);
        agent_log("SHA %u (pid %lu) %s", sha_id, pid, previous_cookie ? "bound again" : "bound");
    }
    LeaveCriticalSection(&sha_cs);
    return hr;
}

void sha_sessions_unbind(struct sha_session *session)
{
    EnterCriticalSection(&sha_cs);
    close_session(session);
    LeaveCriticalSection(&sha_cs);
    if (session->process_wait) UnregisterWaitEx(session->process_wait, INVALID_HANDLE_VALUE);
    session->process_wait = NULL;
    release_session(session);
}

HRESULT sha_sessions_callback_gone(struct sha_session *session)
{
    struct sha_record *record;

    EnterCriticalSection(&sha_cs);
    agent_log("SHA %u: callback answered RPC_S_SERVER_UNAVAILABLE, dropping it and its cache", session->sha_id);
    if ((record = find_record(session->sha_id)) && record->session == session) record->cache = FALSE;
    close_session(session);
    LeaveCriticalSection(&sha_cs);
    return S_OK;
}

BOOL sha_sessions_bound(UINT32 sha_id)
{
    struct sha_record *record;
    BOOL bound;

    EnterCriticalSection(&sha_cs);
    bound = (record = find_record(sha_id)) && record->session;
    LeaveCriticalSection(&sha_cs);
    return bound;
}

void sha_sessions_registrations_changed(void)
{
    EnterCriticalSection(&sha_cs);
    registrations_stale = TRUE;
    LeaveCriticalSection(&sha_cs);
}

HRESULT sha_sessions_unregister(UINT32 sha_id)
{
    struct sha_record *record;
    HRESULT hr;

    EnterCriticalSection(&sha_cs);
    record = find_record(sha_id);
    if (record && record->session) hr = NAP_E_STILL_BOUND;
    else if (SUCCEEDED(hr = store_unregister_sha(sha_id)) && record)
    {
        /* Nothing it set stands in for it any more, here or in the store. */
        HeapFree(GetProcessHeap(), 0, record->soh);
        record->used = FALSE;
    }
    registrations_stale = TRUE;
    LeaveCriticalSection(&sha_cs);
    return hr;
}

/* Caller holds sha_cs.  The binding numbers its calls; one older than the
 * newest applied is a call the binding gave up on that came late. */
static BOOL call_is_stale(struct sha_session *session, UINT64 call_seq)
{
    if (call_seq && call_seq < session->last_seq) return TRUE;
    session->last_seq = max(session->last_seq, call_seq);
    return FALSE;
}

HRESULT sha_sessions_notify_soh_change(struct sha_session *session, UINT64 call_seq)
{
    struct sha_record *record;
    HRESULT hr = S_OK;

    EnterCriticalSection(&sha_cs);
    if (session->closed || !(record = find_record(session->sha_id))) hr = NAP_E_NOT_INITIALIZED;
    else if (call_is_stale(session, call_seq)) hr = E_ABORT;
    else request_soh(record, TRUE);
    LeaveCriticalSection(&sha_cs);
    return hr;
}

HRESULT sha_sessions_flush_cache(struct sha_session *session, UINT64 call_seq)
{
    struct sha_record *record;
    HRESULT hr = S_OK;

    EnterCriticalSection(&sha_cs);
    if (session->closed || !(record = find_record(session->sha_id))) hr = NAP_E_NOT_INITIALIZED;
    else if (call_is_stale(session, call_seq)) hr = E_ABORT;
    else
    {
        /* The flush wins over every fetch and compare that started before it. */
        record->epoch++;
        record->soh_again = FALSE;
        record->compare_request = 0;
        HeapFree(GetProcessHeap(), 0, record->candidate);
        record->candidate = NULL;
        set_soh(record, NULL, 0, FALSE, FALSE);
        record->failure_category = failureCategoryClientCommunication;
        record->failure = NAP_E_NO_CACHED_SOH;
        agent_log("SHA %u: cache flushed", record->id);
    }
    LeaveCriticalSection(&sha_cs);
    return hr;
}

static struct sha_session *find_by_cookie(UINT64 cookie)
{
    unsigned int i;

    for (i = 0; i < NAPAGENT_MAX_SHAS; i++)
        if (records[i].used && records[i].session && records[i].session->cookie == cookie) return records[i].session;
    return NULL;
}

struct sha_session *sha_sessions_find(UINT64 cookie)
{
    struct sha_session *session;

    EnterCriticalSection(&sha_cs);
    if ((session = find_by_cookie(cookie))) InterlockedIncrement(&session->refs);
    LeaveCriticalSection(&sha_cs);
    return session;
}

void sha_sessions_put(struct sha_session *session)
{
    release_session(session);
}

HRESULT sha_sessions_end(UINT64 cookie)
{
    struct sha_session *session;

    EnterCriticalSection(&sha_cs);
    if ((session = find_by_cookie(cookie))) close_session(session);
    LeaveCriticalSection(&sha_cs);
    return session ? S_OK : NAP_E_NOT_INITIALIZED;
}

/* Hands the event to the RPC stub: its buffers become MIDL allocations. */
static void move_event_out(struct queued_event *queued, NAPAGENT_SHA_EVENT *event)
{
    *event = queued->event;
    event->soh.data = event->other.data = NULL;
    if (queued->event.soh.size && (event->soh.data = MIDL_user_allocate(queued->event.soh.size)))
        memcpy(event->soh.data, queued->event.soh.data, queued->event.soh.size);
    else event->soh.size = 0;
    if (queued->event.other.size && (event->other.data = MIDL_user_allocate(queued->event.other.size)))
        memcpy(event->other.data, queued->event.other.data, queued->event.other.size);
    else event->other.size = 0;
    free_event(queued);
}

HRESULT sha_sessions_wait_event(UINT64 cookie, UINT32 timeout_ms, NAPAGENT_SHA_EVENT *event)
{
    ULONGLONG deadline = GetTickCount64() + min(timeout_ms, MAX_WAIT_MS);
    struct sha_session *session;

    ZeroMemory(event, sizeof(*event));
    EnterCriticalSection(&sha_cs);
    if (!(session = find_by_cookie(cookie)))
    {
        LeaveCriticalSection(&sha_cs);
        return NAP_E_NOT_INITIALIZED;
    }
    InterlockedIncrement(&session->refs);
    for (;;)
    {
        ULONGLONG now = GetTickCount64();

        if (session->closed)
        {
            event->type = NAPAGENT_SHA_EVENT_CLOSED;
            break;
        }
        if (session->head)
        {
            struct queued_event *queued = session->head;
            session->head = queued->next;
            if (!session->head) session->tail = NULL;
            session->queued--;
            move_event_out(queued, event);
            break;
        }
        if (now >= deadline) break;
        SleepConditionVariableCS(&session->event_cv, &sha_cs, (DWORD)(deadline - now));
    }
    LeaveCriticalSection(&sha_cs);
    release_session(session);
    return S_OK;
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
        record->compare_request = post_event(record, NAPAGENT_SHA_EVENT_COMPARE, NULL, 0, record->soh,
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
        agent_log("SHA %u: its SoH is malformed or names another SHA", record->id);
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
        agent_log("SHA %u: fix-up ended in state %u", record->id, answer->fixup.state);
        return FALSE;
    }
    record->next_fixup_poll = GetTickCount64() + store_get_setting(L"FixupPollMs", DEFAULT_FIXUP_POLL_MS);
    timer_kick();
    return FALSE;
}

HRESULT sha_sessions_answer(struct sha_session *session, UINT32 request_id, const NAPAGENT_SHA_ANSWER *answer)
{
    struct sha_record *record;
    BOOL changed = FALSE;
    HRESULT hr = S_OK;

    EnterCriticalSection(&sha_cs);
    if (session->closed || !(record = find_record(session->sha_id))) hr = NAP_E_NOT_INITIALIZED;
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
    if (changed) sessions_health_changed();
    return hr;
}

/* Caller holds sha_cs. */
static void refresh_registrations(void)
{
    struct ec_registration *list;

    if (!registrations_stale) return;
    if (!(list = HeapAlloc(GetProcessHeap(), 0, sizeof(*list) * NAPAGENT_MAX_SHAS))) return;
    if (SUCCEEDED(store_list_shas(list, NAPAGENT_MAX_SHAS, &registered_count)))
    {
        UINT32 i, j;
        for (i = 0; i < registered_count; i++) registered_ids[i] = list[i].id;
        registrations_stale = FALSE;
        /* Forget what the agent knew of SHAs that are no longer registered. */
        for (j = 0; j < NAPAGENT_MAX_SHAS; j++)
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
        list[count].answered = FALSE;
        list[count].next = fetches;
        fetches = &list[count++];
    }
    return count;
}

/* Caller holds sha_cs.  Waits until every fetch is answered (or its SHA
 * unbound) or the deadline passed, then takes them off the list. */
static void finish_request_fetches(struct request_fetch *list, UINT32 count)
{
    ULONGLONG deadline = GetTickCount64() + request_fetch_timeout();
    struct request_fetch **link;
    UINT32 i;

    for (i = 0; i < count;)
    {
        struct sha_record *record = find_record(list[i].sha_id);
        ULONGLONG now = GetTickCount64();
        if (list[i].answered || !record || !record->session) i++;
        else if (now >= deadline) break;
        else SleepConditionVariableCS(&fetch_cv, &sha_cs, (DWORD)(deadline - now));
    }
    for (link = &fetches; *link;)
    {
        if (*link >= list && *link < list + count) *link = (*link)->next;
        else link = &(*link)->next;
    }
}

/* Caller holds sha_cs.  The fetch for this request that went unanswered. */
static BOOL fetch_missed(const struct sha_record *record, const struct request_fetch *list, UINT32 count)
{
    UINT32 i;

    if (!needs_fetch(record)) return FALSE;
    for (i = 0; i < count; i++)
        if (list[i].sha_id == record->id) return !list[i].answered;
    return record->slow;
}

HRESULT sha_sessions_report_entries(const NAPAGENT_CORRELATION *correlation, BYTE *buffer, size_t cap,
                                    struct soh_entry *entries, UINT16 *count, struct health_content *content)
{
    struct request_fetch list[NAPAGENT_MAX_SHAS];
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

        /* Too slow for this request: the next ones do not wait for it. */
        if (missed && !record->slow)
        {
            agent_log("SHA %u did not answer GetSoHRequest in time for a request", record->id);
            record->slow = TRUE;
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
    LeaveCriticalSection(&sha_cs);
    return hr;
}

void sha_sessions_current_content(struct health_content *content)
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

void sha_sessions_deliver_response(const struct soh_response *response)
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
        post_event(record, NAPAGENT_SHA_EVENT_PROCESS_SOH_RESPONSE, &correlation, flags,
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
    for (i = 0; i < NAPAGENT_MAX_SHAS; i++)
        if (records[i].used && records[i].session) post_event(&records[i], type, correlation, 0, NULL, 0, NULL, 0);
    LeaveCriticalSection(&sha_cs);
}

void sha_sessions_orphaned(const NAPAGENT_CORRELATION *correlation)
{
    post_to_all(NAPAGENT_SHA_EVENT_ORPHANED, correlation);
}

void sha_sessions_isolation_changed(void)
{
    post_to_all(NAPAGENT_SHA_EVENT_ISOLATION_CHANGED, NULL);
}

/* Caller holds sha_cs.  Handles what is due for one SHA; returns its next deadline. */
static ULONGLONG tick_record(struct sha_record *record, ULONGLONG now, BOOL *changed)
{
    ULONGLONG next = NO_DEADLINE;

    if (record->soh_request && now >= record->soh_deadline)
    {
        /* Too slow: ClientCommunication + NAP_E_NO_CACHED_SOH (reference §8.2). */
        agent_log("SHA %u did not answer GetSoHRequest in time", record->id);
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
        record->fixup_request = post_event(record, NAPAGENT_SHA_EVENT_GET_FIXUP_INFO, NULL, 0, NULL, 0, NULL, 0);
        record->fixup_deadline = now + sha_timeout();
        record->next_fixup_poll = NO_DEADLINE;
    }
    if (record->soh_request) next = min(next, record->soh_deadline);
    if (record->compare_request) next = min(next, record->compare_deadline);
    if (record->fixup_request) next = min(next, record->fixup_deadline);
    return min(next, record->next_fixup_poll);
}

ULONGLONG sha_sessions_tick(ULONGLONG now)
{
    ULONGLONG next = NO_DEADLINE;
    BOOL changed = FALSE;
    unsigned int i;

    EnterCriticalSection(&sha_cs);
    for (i = 0; i < NAPAGENT_MAX_SHAS; i++)
        if (records[i].used) next = min(next, tick_record(&records[i], now, &changed));
    LeaveCriticalSection(&sha_cs);
    if (changed) sessions_health_changed();
    return next;
}

void sha_sessions_shutdown(void)
{
    unsigned int i;

    EnterCriticalSection(&sha_cs);
    for (i = 0; i < NAPAGENT_MAX_SHAS; i++)
        if (records[i].used && records[i].session) close_session(records[i].session);
    LeaveCriticalSection(&sha_cs);
}
