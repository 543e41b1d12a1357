/*
 * The agent's table of bound enforcement clients, their connections and events
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"
#include "NapTypes.h"
#include <ntsecapi.h>

/* The longest one long poll may wait; the client asks again after it. */
#define MAX_WAIT_MS 60000

struct agent_connection
{
    BOOL used;
    GUID id;
    UINT32 max_size;
    BOOL has_request;                 /* GetSoHRequest ran at least once */
    BOOL outstanding;                 /* the newest request awaits its response */
    NAPAGENT_CORRELATION correlation; /* of the newest request */
    UINT64 last_seq;                  /* the binding's number of the newest call applied */
    struct health_content sent;       /* what the newest request said of the health */
    BOOL decided;
    BOOL probation_told;              /* the EC heard that its probation ended */
    struct connection_decision decision;
};

struct session
{
    LONG refs;
    BOOL closed;
    UINT32 ec_id;
    DWORD pid;
    UINT64 cookie;
    HANDLE process;                   /* the client's, to notice its death at once */
    HANDLE process_wait;
    BOOL pending_soh_change;
    BOOL pending_get_connections;
    BOOL change_outstanding;          /* NotifySoHChange sent, no GetSoHRequest since */
    ULONGLONG retry_due;              /* GetTickCount64() of the next retry, 0 = none */
    BOOL rebound;                     /* bound again after the EC lost an agent */
    struct health_content baseline;   /* the health the EC knows of while it has sent no request */
    unsigned int downed_next;         /* ring of connections the EC said are down */
    GUID downed[NAPAGENT_MAX_CONNECTIONS];
    UINT32 answer_seq;                /* bumped by every AnswerConnections */
    UINT16 answered_count;
    NAPAGENT_CONNECTION_FACTS answered[NAPAGENT_MAX_CONNECTIONS];
    struct agent_connection connections[NAPAGENT_MAX_CONNECTIONS];
};

static CRITICAL_SECTION sessions_cs;
static CONDITION_VARIABLE answers_cv;
/* Woken whenever any session has a new event or closes: the per-process long
 * polls (sessions_wait_events) look again at the sessions they serve. */
static CONDITION_VARIABLE events_cv;
static struct session *sessions[NAPAGENT_MAX_ECS];
static UINT32 health_generation = 1;
static struct health_content last_health;
/* The system's isolation over every connection, and when it last changed. */
static NAPAGENT_SYSTEM_ISOLATION system_isolation = { .state = isolationStateNotRestricted };
static WCHAR system_failure_url[SOH_MAX_URL + 1];
static CONDITION_VARIABLE isolation_cv;
static UINT32 soh_change_count;
static ULONGLONG last_timestamp;

BOOL health_content_equal(const struct health_content *a, const struct health_content *b)
{
    UINT16 i;

    if (a->count != b->count) return FALSE;
    for (i = 0; i < a->count; i++)
        if (a->entries[i].sha_id != b->entries[i].sha_id || a->entries[i].key != b->entries[i].key) return FALSE;
    return TRUE;
}

void sessions_init(void)
{
    InitializeCriticalSection(&sessions_cs);
    InitializeConditionVariable(&answers_cv);
    InitializeConditionVariable(&events_cv);
    InitializeConditionVariable(&isolation_cv);
    exchange_init();
    sha_sessions_init();
    timer_init();
}

static void session_release(struct session *session)
{
    if (InterlockedDecrement(&session->refs)) return;
    if (session->process) CloseHandle(session->process);
    HeapFree(GetProcessHeap(), 0, session);
}

/* Caller holds sessions_cs.  The most restrictive decision over every
 * connection; connections with no decision yet only raise the flag. */
static void recompute_system_isolation(void)
{
    const struct connection_decision *worst = NULL;
    BOOL unknown = FALSE;
    unsigned int i, j;

    for (i = 0; i < NAPAGENT_MAX_ECS; i++)
    {
        if (!sessions[i]) continue;
        for (j = 0; j < NAPAGENT_MAX_CONNECTIONS; j++)
        {
            const struct agent_connection *connection = &sessions[i]->connections[j];
            if (!connection->used) continue;
            if (!connection->decided) unknown = TRUE;
            else if (!worst || connection->decision.state > worst->state
                     || (connection->decision.state == worst->state
                         && CompareFileTime(&connection->decision.prob_end_time, &worst->prob_end_time) < 0))
                worst = &connection->decision;
        }
    }
    {
        UINT32 state = worst ? worst->state : isolationStateNotRestricted;
        UINT32 extended = worst ? worst->extended_state : extendedIsolationStateNoData;
        FILETIME prob_end = worst ? worst->prob_end_time : (FILETIME){ 0, 0 };
        const WCHAR *url = worst ? worst->failure_url : L"";

        if (state == system_isolation.state && extended == system_isolation.extended_state
            && !CompareFileTime(&prob_end, &system_isolation.prob_end_time) && !lstrcmpW(url, system_failure_url))
        {
            system_isolation.unknown_connections = unknown;
            return;
        }
        system_isolation.state = state;
        system_isolation.extended_state = extended;
        system_isolation.prob_end_time = prob_end;
        system_isolation.unknown_connections = unknown;
        lstrcpynW(system_failure_url, url, ARRAYSIZE(system_failure_url));
    }
    system_isolation.generation++;
    WakeAllConditionVariable(&isolation_cv);
    agent_log("system isolation state now %u", system_isolation.state);
    sha_sessions_isolation_changed();
}

/* Caller holds sessions_cs.  SHAs hear that no answer will come for a request. */
static void orphan_request(struct agent_connection *connection)
{
    if (!connection->outstanding) return;
    connection->outstanding = FALSE;
    sha_sessions_orphaned(&connection->correlation);
}

/* Caller holds sessions_cs. */
static void session_close(struct session *session)
{
    unsigned int i;

    if (session->closed) return;
    session->closed = TRUE;
    for (i = 0; i < NAPAGENT_MAX_CONNECTIONS; i++)
        if (session->connections[i].used) orphan_request(&session->connections[i]);
    for (i = 0; i < NAPAGENT_MAX_ECS; i++)
        if (sessions[i] == session) sessions[i] = NULL;
    recompute_system_isolation();
    WakeAllConditionVariable(&events_cv);
    WakeAllConditionVariable(&answers_cv);
    agent_log("EC %u (pid %lu) unbound", session->ec_id, session->pid);
}

void sessions_shutdown(void)
{
    unsigned int i;

    EnterCriticalSection(&sessions_cs);
    for (i = 0; i < NAPAGENT_MAX_ECS; i++)
        if (sessions[i]) session_close(sessions[i]);
    LeaveCriticalSection(&sessions_cs);
    timer_shutdown();
    sha_sessions_shutdown();
}

static struct session *find_bound(UINT32 ec_id)
{
    unsigned int i;

    for (i = 0; i < NAPAGENT_MAX_ECS; i++)
        if (sessions[i] && sessions[i]->ec_id == ec_id) return sessions[i];
    return NULL;
}

static UINT32 count_connections(const struct session *session)
{
    UINT32 i, count = 0;

    for (i = 0; i < NAPAGENT_MAX_CONNECTIONS; i++)
        if (session->connections[i].used) count++;
    return count;
}

static UINT64 new_cookie(void)
{
    UINT64 cookie = 0;

    /* The cookie lets a caller read the session's events: make it unguessable. */
    while (!cookie) RtlGenRandom(&cookie, sizeof(cookie));
    return cookie;
}

/* The client process ended.  Its context handle's rundown would free the slot
 * too, but only after the client's long poll times out (Wine runs the rundown
 * once no call is in flight), so the agent watches the process itself. */
static void CALLBACK client_process_ended(void *context, BOOLEAN timed_out)
{
    struct session *session = context;

    (void)timed_out;
    EnterCriticalSection(&sessions_cs);
    if (!session->closed) agent_log("EC %u: client process %lu ended", session->ec_id, session->pid);
    session_close(session);
    LeaveCriticalSection(&sessions_cs);
}

static void watch_client_process(struct session *session)
{
    session->process = OpenProcess(SYNCHRONIZE, FALSE, session->pid);
    if (!session->process) return;
    if (!RegisterWaitForSingleObject(&session->process_wait, session->process, client_process_ended, session,
                                     INFINITE, WT_EXECUTEONLYONCE))
        session->process_wait = NULL;
}

/* Blocks until a running client_process_ended has returned; call without sessions_cs. */
static void unwatch_client_process(struct session *session)
{
    if (session->process_wait) UnregisterWaitEx(session->process_wait, INVALID_HANDLE_VALUE);
    session->process_wait = NULL;
}

HRESULT sessions_bind(UINT32 ec_id, DWORD pid, UINT64 previous_cookie, UINT64 *cookie, struct session **out)
{
    struct ec_registration *registration;
    struct session *session = NULL, *bound;
    unsigned int slot;
    HRESULT hr;

    *out = NULL;
    if (!(registration = HeapAlloc(GetProcessHeap(), 0, sizeof(*registration)))) return E_OUTOFMEMORY;
    hr = store_get_ec(ec_id, registration);
    if (SUCCEEDED(hr) && !store_ec_enabled(registration)) hr = NAP_E_ENTITY_DISABLED;
    HeapFree(GetProcessHeap(), 0, registration);
    if (FAILED(hr))
    {
        agent_log("EC %u (pid %lu) refused: 0x%08lx", ec_id, pid, hr);
        return hr;
    }

    EnterCriticalSection(&sessions_cs);
    /* The same binding after a transport failure: its old session is dead to it. */
    if ((bound = find_bound(ec_id)) && previous_cookie && bound->cookie == previous_cookie)
    {
        agent_log("EC %u (pid %lu) rebinds: replacing its old session", ec_id, pid);
        session_close(bound);
    }
    for (slot = 0; slot < NAPAGENT_MAX_ECS && sessions[slot]; slot++);
    if (find_bound(ec_id)) hr = HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED);
    else if (slot == NAPAGENT_MAX_ECS) hr = E_OUTOFMEMORY;
    else if (!(session = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*session)))) hr = E_OUTOFMEMORY;
    else
    {
        session->refs = 1; /* the context handle's */
        session->ec_id = ec_id;
        session->pid = pid;
        session->cookie = new_cookie();
        /* Coming back (this agent restarted, or the link broke): learn the
         * EC's connections again and let it redo its exchanges. */
        session->rebound = previous_cookie != 0;
        session->pending_get_connections = session->rebound;
        session->pending_soh_change = session->rebound;
        sha_sessions_current_content(&session->baseline);
        watch_client_process(session);
        sessions[slot] = session;
        if (session->rebound) WakeAllConditionVariable(&events_cv);
        *cookie = session->cookie;
        *out = session;
        agent_log("EC %u (pid %lu) %s", ec_id, pid, previous_cookie ? "bound again" : "bound");
    }
    LeaveCriticalSection(&sessions_cs);
    return hr;
}

void sessions_unbind(struct session *session)
{
    EnterCriticalSection(&sessions_cs);
    session_close(session);
    LeaveCriticalSection(&sessions_cs);
    unwatch_client_process(session);
    session_release(session);
}

HRESULT sessions_callback_gone(struct session *session)
{
    EnterCriticalSection(&sessions_cs);
    agent_log("EC %u: callback answered RPC_S_SERVER_UNAVAILABLE, dropping it", session->ec_id);
    session_close(session);
    LeaveCriticalSection(&sessions_cs);
    return S_OK;
}

static struct agent_connection *find_connection(struct session *session, const GUID *id)
{
    unsigned int i;

    for (i = 0; i < NAPAGENT_MAX_CONNECTIONS; i++)
        if (session->connections[i].used && IsEqualGUID(&session->connections[i].id, id))
            return &session->connections[i];
    return NULL;
}

static BOOL correlation_is_set(const NAPAGENT_CORRELATION *correlation)
{
    static const NAPAGENT_CORRELATION zero;

    return memcmp(correlation, &zero, sizeof(zero)) != 0;
}

static BOOL was_downed(const struct session *session, const GUID *id)
{
    unsigned int i;

    for (i = 0; i < NAPAGENT_MAX_CONNECTIONS; i++)
        if (IsEqualGUID(&session->downed[i], id)) return TRUE;
    return FALSE;
}

/* After a rebind, a connection this agent does not know but whose request an
 * earlier agent built: take the EC's word for the request outstanding. */
static BOOL may_adopt(const struct session *session, const NAPAGENT_CONNECTION_FACTS *facts)
{
    return session->rebound && correlation_is_set(&facts->correlation)
           && !was_downed(session, &facts->connection_id);
}

static void adopt_request(struct agent_connection *connection, const NAPAGENT_CONNECTION_FACTS *facts)
{
    if (connection->has_request) return;
    connection->has_request = TRUE;
    connection->outstanding = TRUE;
    connection->correlation = facts->correlation;
}

static struct agent_connection *add_connection(struct session *session, const GUID *id, UINT32 max_size)
{
    unsigned int i;

    for (i = 0; i < NAPAGENT_MAX_CONNECTIONS; i++)
    {
        struct agent_connection *connection = &session->connections[i];
        if (connection->used) continue;
        ZeroMemory(connection, sizeof(*connection));
        connection->used = TRUE;
        connection->id = *id;
        connection->max_size = max_size;
        return connection;
    }
    return NULL;
}

/* Correlation ids must differ from one request to the next, even within one
 * FILETIME tick. Caller holds sessions_cs. */
static FILETIME next_timestamp(void)
{
    FILETIME now;
    ULARGE_INTEGER value;

    GetSystemTimeAsFileTime(&now);
    value.LowPart = now.dwLowDateTime;
    value.HighPart = now.dwHighDateTime;
    if (value.QuadPart <= last_timestamp) value.QuadPart = last_timestamp + 1;
    last_timestamp = value.QuadPart;
    now.dwLowDateTime = value.LowPart;
    now.dwHighDateTime = value.HighPart;
    return now;
}

static BOOL probation_expired(const struct agent_connection *connection)
{
    FILETIME now;

    if (!connection->decided || connection->decision.state != isolationStateInProbation) return FALSE;
    GetSystemTimeAsFileTime(&now);
    return CompareFileTime(&connection->decision.prob_end_time, &now) <= 0;
}

/* Caller holds sessions_cs.  The binding numbers its calls in the order the
 * EC makes them: a call on this connection older than the newest one applied
 * is one the binding gave up on that reached us late.  It changes nothing. */
static BOOL call_is_stale(struct agent_connection *connection, UINT64 call_seq)
{
    if (call_seq && call_seq < connection->last_seq) return TRUE;
    connection->last_seq = max(connection->last_seq, call_seq);
    return FALSE;
}

/* Caller holds sessions_cs.  The connection a request is for, made if new. */
static HRESULT begin_request(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts,
                             NAPAGENT_CORRELATION *correlation, struct connection_decision *current)
{
    struct agent_connection *connection;

    if (session->closed) return NAP_E_NOT_INITIALIZED;
    if (!(connection = find_connection(session, &facts->connection_id))
        && !(connection = add_connection(session, &facts->connection_id, facts->max_size)))
        return E_OUTOFMEMORY;
    if (call_is_stale(connection, facts->call_seq)) return E_ABORT;
    /* The EC owns the change now: no retry after this point. */
    session->change_outstanding = FALSE;
    session->retry_due = 0;
    /* A request still outstanding is orphaned by the new one. */
    orphan_request(connection);
    connection->max_size = facts->max_size;
    correlation->conn_id = facts->connection_id;
    correlation->time_stamp = next_timestamp();
    if (connection->decided) *current = connection->decision;
    /* A connection without a decision makes the system state partly unknown. */
    if (!connection->decided) recompute_system_isolation();
    return S_OK;
}

/* Caller holds sessions_cs.  The request is built: it is the connection's
 * outstanding one, unless a newer call on the connection came meanwhile. */
static HRESULT finish_request(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts,
                              const NAPAGENT_CORRELATION *correlation, const struct health_content *content,
                              BOOL *retrigger)
{
    struct agent_connection *connection = find_connection(session, &facts->connection_id);

    if (!connection || session->closed || connection->last_seq != facts->call_seq) return E_ABORT;
    /* docs/decisions.md: TRUE when what the request says of the health
     * differs from what the connection's previous one said. */
    *retrigger = connection->has_request
                 && (!health_content_equal(&connection->sent, content) || probation_expired(connection));
    connection->has_request = TRUE;
    connection->outstanding = TRUE;
    connection->correlation = *correlation;
    connection->sent = *content;
    return S_OK;
}

/* The request's SSoH: every registered SHA's entry, then the wire bytes. */
static HRESULT build_request(const NAPAGENT_CORRELATION *correlation, const struct connection_decision *current,
                             UINT32 max_size, NAPAGENT_BLOB *request, struct health_content *content)
{
    struct soh_entry entries[NAPAGENT_MAX_SHAS];
    BYTE *entry_bytes, *bytes;
    UINT16 entry_count;
    HRESULT hr;

    if (!(entry_bytes = HeapAlloc(GetProcessHeap(), 0, maxNetworkSoHSize))) return E_OUTOFMEMORY;
    hr = sha_sessions_report_entries(correlation, entry_bytes, maxNetworkSoHSize, entries, &entry_count, content);
    if (SUCCEEDED(hr) && !(bytes = MIDL_user_allocate(maxNetworkSoHSize))) hr = E_OUTOFMEMORY;
    if (SUCCEEDED(hr)
        && FAILED(hr = exchange_build_request(correlation, current, entries, entry_count, max_size, bytes,
                                              &request->size)))
        MIDL_user_free(bytes);
    else if (SUCCEEDED(hr)) request->data = bytes;
    HeapFree(GetProcessHeap(), 0, entry_bytes);
    return hr;
}

HRESULT sessions_get_soh_request(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts,
                                 NAPAGENT_CORRELATION *correlation, BYTE *flags, BOOL *retrigger,
                                 NAPAGENT_BLOB *request)
{
    struct connection_decision current = { .state = isolationStateNotRestricted };
    struct health_content content;
    HRESULT hr;

    request->size = 0;
    request->data = NULL;
    EnterCriticalSection(&sessions_cs);
    hr = begin_request(session, facts, correlation, &current);
    LeaveCriticalSection(&sessions_cs);
    if (FAILED(hr)) return hr;

    /* Outside the lock: the SHAs may be asked for this request. */
    if (FAILED(hr = build_request(correlation, &current, facts->max_size, request, &content))) return hr;
    *flags = freshSoHRequest;

    EnterCriticalSection(&sessions_cs);
    hr = finish_request(session, facts, correlation, &content, retrigger);
    LeaveCriticalSection(&sessions_cs);
    if (FAILED(hr))
    {
        MIDL_user_free(request->data);
        request->data = NULL;
        request->size = 0;
    }
    return hr;
}

/* Caller holds sessions_cs.  The request a response must answer. */
static HRESULT begin_response(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts,
                              NAPAGENT_CORRELATION *expected)
{
    struct agent_connection *connection;

    if (session->closed) return NAP_E_NOT_INITIALIZED;
    if (!(connection = find_connection(session, &facts->connection_id)) && may_adopt(session, facts))
        connection = add_connection(session, &facts->connection_id, facts->max_size);
    if (connection && may_adopt(session, facts)) adopt_request(connection, facts);
    /* docs/decisions.md: a connection no agent built a request for is E_INVALIDARG. */
    if (!connection || !connection->has_request) return E_INVALIDARG;
    /* A late call the binding gave up on, or one a newer call overtook. */
    if (call_is_stale(connection, facts->call_seq)) return NAP_E_MISMATCHED_ID;
    *expected = connection->correlation;
    return S_OK;
}

/* Caller holds sessions_cs.  The decision is the connection's, unless a
 * newer call on it came while the response was read. */
static HRESULT finish_response(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts,
                               const NAPAGENT_CORRELATION *expected, const NAPAGENT_ISOLATION *isolation)
{
    struct agent_connection *connection = find_connection(session, &facts->connection_id);

    if (!connection || connection->last_seq != facts->call_seq
        || memcmp(&connection->correlation, expected, sizeof(*expected)))
        return NAP_E_MISMATCHED_ID;
    connection->outstanding = FALSE;
    connection->decided = TRUE;
    connection->probation_told = FALSE;
    connection->decision.state = isolation->state;
    connection->decision.extended_state = isolation->extended_state;
    connection->decision.prob_end_time = isolation->prob_end_time;
    lstrcpynW(connection->decision.failure_url, isolation->failure_url ? isolation->failure_url : L"",
              ARRAYSIZE(connection->decision.failure_url));
    recompute_system_isolation();
    /* A probation end to watch for. */
    if (isolation->state == isolationStateInProbation) timer_kick();
    return S_OK;
}

HRESULT sessions_process_soh_response(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts,
                                      const BYTE *response, UINT16 size, NAPAGENT_ISOLATION *isolation)
{
    struct soh_response *parsed;
    NAPAGENT_CORRELATION expected;
    HRESULT hr;

    ZeroMemory(isolation, sizeof(*isolation));
    EnterCriticalSection(&sessions_cs);
    hr = begin_response(session, facts, &expected);
    LeaveCriticalSection(&sessions_cs);
    if (FAILED(hr)) return hr;

    if (!(parsed = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*parsed)))) return E_OUTOFMEMORY;
    if (SUCCEEDED(hr = exchange_read_response(response, size, &expected, isolation, parsed)))
    {
        EnterCriticalSection(&sessions_cs);
        hr = finish_response(session, facts, &expected, isolation);
        LeaveCriticalSection(&sessions_cs);
    }
    /* Each SHV's verdict goes to its SHA, once the response is the connection's. */
    if (SUCCEEDED(hr)) sha_sessions_deliver_response(parsed);
    HeapFree(GetProcessHeap(), 0, parsed);
    if (FAILED(hr))
    {
        agent_log("EC %u: SoH response refused: 0x%08lx", session->ec_id, hr);
        MIDL_user_free(isolation->failure_url);
        ZeroMemory(isolation, sizeof(*isolation));
        return hr;
    }
    agent_log("EC %u: SoH response processed: isolation state %u", session->ec_id, isolation->state);
    return S_OK;
}

/* Caller holds sessions_cs.  The connection stops counting; a request of
 * it still outstanding will never be answered. */
static void drop_connection(struct agent_connection *connection)
{
    orphan_request(connection);
    connection->used = FALSE;
}

HRESULT sessions_connection_down(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts)
{
    struct agent_connection *connection;
    HRESULT hr = S_OK;

    EnterCriticalSection(&sessions_cs);
    if (session->closed) hr = NAP_E_NOT_INITIALIZED;
    else if ((connection = find_connection(session, &facts->connection_id))
             && call_is_stale(connection, facts->call_seq))
        hr = E_ABORT;
    else
    {
        session->downed[session->downed_next++ % NAPAGENT_MAX_CONNECTIONS] = facts->connection_id;
        if (connection)
        {
            drop_connection(connection);
            recompute_system_isolation();
        }
    }
    LeaveCriticalSection(&sessions_cs);
    return hr;
}

HRESULT sessions_connections_gone(struct session *session, UINT16 count, const NAPAGENT_CONNECTION_FACTS *gone)
{
    struct agent_connection *connection;
    BOOL dropped = FALSE;
    HRESULT hr = S_OK;
    UINT16 i;

    if (count > NAPAGENT_MAX_GONE) return E_INVALIDARG;
    EnterCriticalSection(&sessions_cs);
    if (session->closed) hr = NAP_E_NOT_INITIALIZED;
    else
        for (i = 0; i < count; i++)
        {
            /* A connection the EC used since (the same id on a new object) is not gone. */
            if (!(connection = find_connection(session, &gone[i].connection_id))
                || call_is_stale(connection, gone[i].call_seq))
                continue;
            drop_connection(connection);
            dropped = TRUE;
        }
    if (dropped) recompute_system_isolation();
    LeaveCriticalSection(&sessions_cs);
    return hr;
}

HRESULT sessions_soh_change_failure(struct session *session)
{
    HRESULT hr = S_OK;
    DWORD interval;

    interval = store_get_setting(L"SoHChangeRetryIntervalMs", DEFAULT_RETRY_INTERVAL_MS);
    EnterCriticalSection(&sessions_cs);
    if (session->closed) hr = NAP_E_NOT_INITIALIZED;
    else if (session->change_outstanding)
    {
        session->retry_due = GetTickCount64() + interval;
        WakeAllConditionVariable(&events_cv);
        agent_log("EC %u: SoH change failed, retry in %lu ms", session->ec_id, interval);
    }
    LeaveCriticalSection(&sessions_cs);
    return hr;
}

static struct session *find_by_cookie(UINT64 cookie)
{
    unsigned int i;

    for (i = 0; i < NAPAGENT_MAX_ECS; i++)
        if (sessions[i] && sessions[i]->cookie == cookie) return sessions[i];
    return NULL;
}

/* Caller holds sessions_cs.  Returns NAPAGENT_EVENT_NONE when nothing is due. */
static UINT32 take_event(struct session *session, ULONGLONG now)
{
    if (session->closed) return NAPAGENT_EVENT_CLOSED;
    if (session->retry_due && now >= session->retry_due)
    {
        session->retry_due = 0;
        session->pending_soh_change = TRUE;
    }
    if (session->pending_get_connections)
    {
        session->pending_get_connections = FALSE;
        return NAPAGENT_EVENT_GET_CONNECTIONS;
    }
    if (session->pending_soh_change)
    {
        session->pending_soh_change = FALSE;
        session->change_outstanding = TRUE;
        return NAPAGENT_EVENT_SOH_CHANGE;
    }
    return NAPAGENT_EVENT_NONE;
}

/* Caller holds sessions_cs.  Appends what is due for the polling process:
 * CLOSED for each cookie it holds that names no session, then every event of
 * its sessions.  *next: the earliest retry due, for the wait. */
static UINT16 collect_events(DWORD pid, const UINT64 *cookies, UINT16 cookie_count, NAPAGENT_EC_EVENT *events,
                             ULONGLONG now, ULONGLONG *next)
{
    UINT16 count = 0, i;
    UINT32 event;

    for (i = 0; i < cookie_count; i++)
        if (!find_by_cookie(cookies[i]))
        {
            events[count].cookie = cookies[i];
            events[count++].event = NAPAGENT_EVENT_CLOSED;
        }
    for (i = 0; i < NAPAGENT_MAX_ECS; i++)
    {
        struct session *session = sessions[i];
        if (!session || session->pid != pid) continue;
        while ((event = take_event(session, now)) != NAPAGENT_EVENT_NONE)
        {
            events[count].cookie = session->cookie;
            events[count++].event = event;
        }
        if (session->retry_due && session->retry_due < *next) *next = session->retry_due;
    }
    return count;
}

HRESULT sessions_wait_events(DWORD pid, const UINT64 *cookies, UINT16 cookie_count, UINT32 timeout_ms,
                             UINT16 *event_count, NAPAGENT_EC_EVENT **events)
{
    ULONGLONG deadline = GetTickCount64() + min(timeout_ms, MAX_WAIT_MS);
    NAPAGENT_EC_EVENT *found;

    *event_count = 0;
    *events = NULL;
    if (cookie_count > NAPAGENT_MAX_POLLED_COOKIES) return E_INVALIDARG;
    /* At most: a CLOSED per cookie, and two events (GET_CONNECTIONS, SOH_CHANGE) per session. */
    if (!(found = MIDL_user_allocate(sizeof(*found) * (cookie_count + 2 * NAPAGENT_MAX_ECS)))) return E_OUTOFMEMORY;
    EnterCriticalSection(&sessions_cs);
    for (;;)
    {
        ULONGLONG now = GetTickCount64(), next = deadline;

        if ((*event_count = collect_events(pid, cookies, cookie_count, found, now, &next)) || now >= deadline) break;
        SleepConditionVariableCS(&events_cv, &sessions_cs, (DWORD)(max(next, now + 1) - now));
    }
    LeaveCriticalSection(&sessions_cs);
    *events = found;
    return S_OK;
}

struct session *sessions_find(UINT64 cookie)
{
    struct session *session;

    EnterCriticalSection(&sessions_cs);
    if ((session = find_by_cookie(cookie))) InterlockedIncrement(&session->refs);
    LeaveCriticalSection(&sessions_cs);
    return session;
}

void sessions_put(struct session *session)
{
    session_release(session);
}

HRESULT sessions_end(UINT64 cookie)
{
    struct session *session;

    EnterCriticalSection(&sessions_cs);
    if ((session = find_by_cookie(cookie))) session_close(session);
    LeaveCriticalSection(&sessions_cs);
    return session ? S_OK : NAP_E_NOT_INITIALIZED;
}

HRESULT sessions_answer_connections(struct session *session, UINT16 count,
                                    const NAPAGENT_CONNECTION_FACTS *connections)
{
    struct agent_connection kept[NAPAGENT_MAX_CONNECTIONS];
    UINT16 i;

    if (count > NAPAGENT_MAX_CONNECTIONS) return E_INVALIDARG;
    EnterCriticalSection(&sessions_cs);
    if (session->closed)
    {
        LeaveCriticalSection(&sessions_cs);
        return NAP_E_NOT_INITIALIZED;
    }
    /* The answer is the whole list of connections that are up: keep what the
     * agent knew of those, forget the others. */
    ZeroMemory(kept, sizeof(kept));
    for (i = 0; i < count; i++)
    {
        struct agent_connection *known = find_connection(session, &connections[i].connection_id);
        if (known) kept[i] = *known;
        else
        {
            kept[i].used = TRUE;
            kept[i].id = connections[i].connection_id;
        }
        kept[i].max_size = connections[i].max_size;
        if (may_adopt(session, &connections[i])) adopt_request(&kept[i], &connections[i]);
    }
    for (i = 0; i < NAPAGENT_MAX_CONNECTIONS; i++)
    {
        struct agent_connection *old = &session->connections[i];
        UINT16 k;
        BOOL still_up = FALSE;
        if (!old->used) continue;
        for (k = 0; k < count; k++) still_up |= IsEqualGUID(&old->id, &connections[k].connection_id);
        if (!still_up) orphan_request(old);
    }
    memcpy(session->connections, kept, sizeof(kept));
    memcpy(session->answered, connections, count * sizeof(*connections));
    recompute_system_isolation();
    session->answered_count = count;
    session->answer_seq++;
    WakeAllConditionVariable(&answers_cv);
    LeaveCriticalSection(&sessions_cs);
    return S_OK;
}

HRESULT sessions_notify_all(void)
{
    unsigned int i;

    EnterCriticalSection(&sessions_cs);
    soh_change_count++;
    for (i = 0; i < NAPAGENT_MAX_ECS; i++)
        if (sessions[i]) sessions[i]->pending_soh_change = TRUE;
    LeaveCriticalSection(&sessions_cs);
    /* Once, and outside the lock: the polls it wakes take the lock at once. */
    WakeAllConditionVariable(&events_cv);
    agent_log("NotifySoHChange to every bound EC");
    return S_OK;
}

/* Caller holds sessions_cs.  Whether what the EC last sent (or, before its
 * first request, what it knew when it bound or was last told) says something
 * else of the health than `now`. */
static BOOL ec_sent_other_health(struct session *session, const struct health_content *now)
{
    BOOL any_request = FALSE;
    unsigned int i;

    for (i = 0; i < NAPAGENT_MAX_CONNECTIONS; i++)
    {
        const struct agent_connection *connection = &session->connections[i];
        if (!connection->used || !connection->has_request) continue;
        if (!health_content_equal(&connection->sent, now)) return TRUE;
        any_request = TRUE;
    }
    return !any_request && !health_content_equal(&session->baseline, now);
}

void sessions_health_changed(void)
{
    struct health_content *now = HeapAlloc(GetProcessHeap(), 0, sizeof(*now));
    unsigned int i, told = 0;

    if (!now) return;
    EnterCriticalSection(&sessions_cs);
    sha_sessions_current_content(now);
    if (!health_content_equal(now, &last_health)) health_generation++;
    last_health = *now;
    for (i = 0; i < NAPAGENT_MAX_ECS; i++)
    {
        if (!sessions[i] || !ec_sent_other_health(sessions[i], now)) continue;
        sessions[i]->pending_soh_change = TRUE;
        sessions[i]->baseline = *now;
        told++;
    }
    if (told) soh_change_count++;
    LeaveCriticalSection(&sessions_cs);
    HeapFree(GetProcessHeap(), 0, now);
    if (!told) return;
    WakeAllConditionVariable(&events_cv);
    agent_log("system health changed: NotifySoHChange to %u EC(s)", told);
}

HRESULT sessions_query_connections(UINT32 ec_id, UINT32 timeout_ms, UINT32 *count,
                                   NAPAGENT_CONNECTION_FACTS **connections)
{
    ULONGLONG deadline = GetTickCount64() + min(timeout_ms, MAX_WAIT_MS);
    struct session *session;
    HRESULT hr = S_OK;
    UINT32 seq;

    *count = 0;
    *connections = NULL;
    EnterCriticalSection(&sessions_cs);
    if (!(session = find_bound(ec_id)))
    {
        LeaveCriticalSection(&sessions_cs);
        return NAP_E_NOT_INITIALIZED;
    }
    InterlockedIncrement(&session->refs);
    seq = session->answer_seq;
    session->pending_get_connections = TRUE;
    WakeAllConditionVariable(&events_cv);
    while (session->answer_seq == seq && !session->closed)
    {
        ULONGLONG now = GetTickCount64();
        if (now >= deadline) break;
        SleepConditionVariableCS(&answers_cv, &sessions_cs, (DWORD)(deadline - now));
    }
    if (session->answer_seq == seq) hr = session->closed ? NAP_E_NOT_INITIALIZED : HRESULT_FROM_WIN32(ERROR_TIMEOUT);
    else if (!(*connections = MIDL_user_allocate(sizeof(**connections) * (session->answered_count + 1))))
        hr = E_OUTOFMEMORY;
    else
    {
        memcpy(*connections, session->answered, sizeof(**connections) * session->answered_count);
        *count = session->answered_count;
    }
    LeaveCriticalSection(&sessions_cs);
    session_release(session);
    return hr;
}

void sessions_get_state(NAPAGENT_STATE *state)
{
    unsigned int i;

    ZeroMemory(state, sizeof(*state));
    state->retry_interval_ms = store_get_setting(L"SoHChangeRetryIntervalMs", DEFAULT_RETRY_INTERVAL_MS);
    EnterCriticalSection(&sessions_cs);
    for (i = 0; i < NAPAGENT_MAX_ECS; i++)
    {
        if (!sessions[i]) continue;
        state->bound_ec_count++;
        state->connection_count += count_connections(sessions[i]);
        if (sessions[i]->retry_due) state->retries_pending++;
    }
    state->soh_change_count = soh_change_count;
    state->health_generation = health_generation;
    LeaveCriticalSection(&sessions_cs);
}

BOOL sessions_ec_bound(UINT32 ec_id, UINT32 *connections)
{
    struct session *session;

    EnterCriticalSection(&sessions_cs);
    session = find_bound(ec_id);
    *connections = session ? count_connections(session) : 0;
    LeaveCriticalSection(&sessions_cs);
    return session != NULL;
}

HRESULT sessions_get_system_isolation(NAPAGENT_SYSTEM_ISOLATION *isolation)
{
    HRESULT hr = S_OK;

    EnterCriticalSection(&sessions_cs);
    *isolation = system_isolation;
    if (!(isolation->failure_url = MIDL_user_allocate((lstrlenW(system_failure_url) + 1) * sizeof(WCHAR))))
        hr = E_OUTOFMEMORY;
    else lstrcpyW(isolation->failure_url, system_failure_url);
    LeaveCriticalSection(&sessions_cs);
    return hr;
}

HRESULT sessions_wait_isolation_change(UINT32 known, UINT32 timeout_ms, UINT32 *generation)
{
    ULONGLONG deadline = GetTickCount64() + min(timeout_ms, MAX_WAIT_MS);

    EnterCriticalSection(&sessions_cs);
    while (system_isolation.generation == known)
    {
        ULONGLONG now = GetTickCount64();
        if (now >= deadline) break;
        SleepConditionVariableCS(&isolation_cv, &sessions_cs, (DWORD)(deadline - now));
    }
    *generation = system_isolation.generation;
    LeaveCriticalSection(&sessions_cs);
    return S_OK;
}

static ULONGLONG filetime_to_ticks_from_now(const FILETIME *when, const FILETIME *now, ULONGLONG now_ticks)
{
    ULARGE_INTEGER a = { .LowPart = when->dwLowDateTime, .HighPart = when->dwHighDateTime };
    ULARGE_INTEGER b = { .LowPart = now->dwLowDateTime, .HighPart = now->dwHighDateTime };

    return a.QuadPart <= b.QuadPart ? now_ticks : now_ticks + (a.QuadPart - b.QuadPart) / 10000;
}

ULONGLONG sessions_tick(ULONGLONG now)
{
    ULONGLONG next = ~0ull;
    FILETIME wall;
    unsigned int i, j;

    GetSystemTimeAsFileTime(&wall);
    EnterCriticalSection(&sessions_cs);
    for (i = 0; i < NAPAGENT_MAX_ECS; i++)
    {
        if (!sessions[i]) continue;
        for (j = 0; j < NAPAGENT_MAX_CONNECTIONS; j++)
        {
            struct agent_connection *connection = &sessions[i]->connections[j];
            ULONGLONG due;
            if (!connection->used || !connection->decided || connection->probation_told
                || connection->decision.state != isolationStateInProbation)
                continue;
            due = filetime_to_ticks_from_now(&connection->decision.prob_end_time, &wall, now);
            if (due > now)
            {
                next = min(next, due);
                continue;
            }
            /* Probation is over: the EC redoes its exchange (retriggerHint is TRUE). */
            connection->probation_told = TRUE;
            sessions[i]->pending_soh_change = TRUE;
            WakeAllConditionVariable(&events_cv);
            agent_log("EC %u: probation ended", sessions[i]->ec_id);
        }
    }
    LeaveCriticalSection(&sessions_cs);
    return next;
}
