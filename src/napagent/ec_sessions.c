/*
 * What the agent keeps of each bound enforcement client: connections, requests, decisions, retries
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"
#include "NapTypes.h"

/* The longest NapAgentQueryConnections may wait for the EC's answer. */
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

/* One bound EC; lives as long as its session object. */
struct ec_state
{
    struct session *session;
    BOOL closed;
    BOOL change_outstanding;          /* NotifySoHChange sent, no GetSoHRequest since */
    ULONGLONG retry_due;              /* GetTickCount64() of the next retry, 0 = none */
    BOOL rebound;                     /* bound again after the EC lost an agent */
    unsigned int downed_next;         /* ring of connections the EC said are down */
    GUID downed[maxConnectionCountPerEnforcer];
    UINT32 answer_seq;                /* bumped by every AnswerConnections */
    UINT16 answered_count;
    NAPAGENT_CONNECTION_FACTS answered[maxConnectionCountPerEnforcer];
    struct health_content baseline;   /* the health the EC knows of while it has sent no request */
    struct agent_connection connections[maxConnectionCountPerEnforcer];
};

static CRITICAL_SECTION ec_cs;
static CONDITION_VARIABLE answers_cv;
static struct ec_state *bound[maxEnforcerCount];
static UINT32 health_generation = 1, soh_change_count;
static struct health_content last_health;
static ULONGLONG last_timestamp;

void ec_init(void)
{
    InitializeCriticalSection(&ec_cs);
    InitializeConditionVariable(&answers_cv);
}

static void lock_ecs(void)
{
    EnterCriticalSection(&ec_cs);
}

static void unlock_ecs(void)
{
    LeaveCriticalSection(&ec_cs);
}

BOOL health_content_equal(const struct health_content *a, const struct health_content *b)
{
    UINT16 i;

    if (a->count != b->count) return FALSE;
    for (i = 0; i < a->count; i++)
        if (a->entries[i].sha_id != b->entries[i].sha_id || a->entries[i].key != b->entries[i].key) return FALSE;
    return TRUE;
}

/* NULL while the EC side has made none (a lookup finds a session only once
 * it has; the callers still say NAP_E_NOT_INITIALIZED rather than fault). */
static struct ec_state *state_of(struct session *session)
{
    return session_data(session);
}

/* Caller holds ec_cs.  The most restrictive decision over every connection;
 * connections with no decision yet only make the state partly unknown. */
static void update_isolation(void)
{
    const struct connection_decision *worst = NULL;
    BOOL unknown = FALSE;
    unsigned int i, j;

    for (i = 0; i < maxEnforcerCount; i++)
    {
        if (!bound[i]) continue;
        for (j = 0; j < maxConnectionCountPerEnforcer; j++)
        {
            const struct agent_connection *connection = &bound[i]->connections[j];
            if (!connection->used) continue;
            if (!connection->decided) unknown = TRUE;
            else if (!worst || isolation_worse(&connection->decision, worst)) worst = &connection->decision;
        }
    }
    isolation_update(worst, unknown);
}

/* Caller holds ec_cs.  SHAs hear that no answer will come for a request. */
static void orphan_request(struct agent_connection *connection)
{
    if (!connection->outstanding) return;
    connection->outstanding = FALSE;
    sha_orphaned(&connection->correlation);
}

/* Caller holds ec_cs.  The EC is to run NotifySoHChange. */
static void tell_soh_change(struct ec_state *state)
{
    if (session_post(state->session, NAPAGENT_EVENT_SOH_CHANGE, NULL, 0, NULL, 0, NULL, 0))
        state->change_outstanding = TRUE;
}

static HRESULT ec_admit(UINT32 id)
{
    struct component *component = HeapAlloc(GetProcessHeap(), 0, sizeof(*component));
    HRESULT hr;

    if (!component) return E_OUTOFMEMORY;
    hr = store_get(NAPAGENT_KIND_EC, id, component);
    if (SUCCEEDED(hr) && !store_ec_enabled(component)) hr = NAP_E_ENTITY_DISABLED;
    HeapFree(GetProcessHeap(), 0, component);
    if (FAILED(hr)) agent_log(AGENT_LOG_INFO, "EC %u refused: 0x%08lx", id, hr);
    return hr;
}

static HRESULT ec_opened(struct session *session, BOOL rebound)
{
    struct ec_state *state = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*state));
    unsigned int slot;

    if (!state) return E_OUTOFMEMORY;
    state->session = session;
    state->rebound = rebound;
    lock_ecs();
    for (slot = 0; slot < maxEnforcerCount && bound[slot]; slot++);
    if (slot == maxEnforcerCount)
    {
        unlock_ecs();
        HeapFree(GetProcessHeap(), 0, state);
        return E_OUTOFMEMORY;
    }
    sha_current_content(&state->baseline);
    bound[slot] = state;
    session_set_data(session, state);
    /* Coming back (this agent restarted, or the transport broke): learn the
     * EC's connections again and let it redo its exchanges. */
    if (rebound)
    {
        session_post(session, NAPAGENT_EVENT_GET_CONNECTIONS, NULL, 0, NULL, 0, NULL, 0);
        tell_soh_change(state);
    }
    unlock_ecs();
    return S_OK;
}

static void ec_closed(struct session *session, BOOL callback_gone)
{
    struct ec_state *state = state_of(session);
    unsigned int i;

    (void)callback_gone;
    if (!state) return;
    lock_ecs();
    state->closed = TRUE;
    for (i = 0; i < maxConnectionCountPerEnforcer; i++)
        if (state->connections[i].used) orphan_request(&state->connections[i]);
    for (i = 0; i < maxEnforcerCount; i++)
        if (bound[i] == state) bound[i] = NULL;
    update_isolation();
    WakeAllConditionVariable(&answers_cv);
    unlock_ecs();
}

static void ec_free(void *data)
{
    HeapFree(GetProcessHeap(), 0, data);
}

const struct session_kind ec_kind = { NAPAGENT_KIND_EC, ec_admit, ec_opened, ec_closed, ec_free };

static struct agent_connection *find_connection(struct ec_state *state, const GUID *id)
{
    unsigned int i;

    for (i = 0; i < maxConnectionCountPerEnforcer; i++)
        if (state->connections[i].used && IsEqualGUID(&state->connections[i].id, id)) return &state->connections[i];
    return NULL;
}

static BOOL correlation_is_set(const NAPAGENT_CORRELATION *correlation)
{
    static const NAPAGENT_CORRELATION zero;

    return memcmp(correlation, &zero, sizeof(zero)) != 0;
}

static BOOL was_downed(const struct ec_state *state, const GUID *id)
{
    unsigned int i;

    for (i = 0; i < maxConnectionCountPerEnforcer; i++)
        if (IsEqualGUID(&state->downed[i], id)) return TRUE;
    return FALSE;
}

/* After a rebind, a connection this agent does not know but whose request an
 * earlier agent built: take the EC's word for the request outstanding. */
static BOOL may_adopt(const struct ec_state *state, const NAPAGENT_CONNECTION_FACTS *facts)
{
    return state->rebound && correlation_is_set(&facts->correlation) && !was_downed(state, &facts->connection_id);
}

static void adopt_request(struct agent_connection *connection, const NAPAGENT_CONNECTION_FACTS *facts)
{
    if (connection->has_request) return;
    connection->has_request = TRUE;
    connection->outstanding = TRUE;
    connection->correlation = facts->correlation;
}

static struct agent_connection *add_connection(struct ec_state *state, const GUID *id, UINT32 max_size)
{
    unsigned int i;

    for (i = 0; i < maxConnectionCountPerEnforcer; i++)
    {
        struct agent_connection *connection = &state->connections[i];
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
 * FILETIME tick.  Caller holds ec_cs. */
static FILETIME next_timestamp(void)
{
    ULARGE_INTEGER value;
    FILETIME now;

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

/* Caller holds ec_cs.  The binding numbers its calls in the order the EC
 * makes them: a call on this connection older than the newest one applied
 * is one the binding gave up on that reached us late.  It changes nothing. */
static BOOL call_is_stale(struct agent_connection *connection, UINT64 call_seq)
{
    if (call_seq && call_seq < connection->last_seq) return TRUE;
    connection->last_seq = max(connection->last_seq, call_seq);
    return FALSE;
}

/* Caller holds ec_cs.  The connection a request is for, made if new. */
static HRESULT begin_request(struct ec_state *state, const NAPAGENT_CONNECTION_FACTS *facts,
                             NAPAGENT_CORRELATION *correlation, struct connection_decision *current)
{
    struct agent_connection *connection;

    if (state->closed) return NAP_E_NOT_INITIALIZED;
    if (!(connection = find_connection(state, &facts->connection_id))
        && !(connection = add_connection(state, &facts->connection_id, facts->max_size)))
        return E_OUTOFMEMORY;
    if (call_is_stale(connection, facts->call_seq)) return E_ABORT;
    /* The EC owns the change now: no retry after this point. */
    state->change_outstanding = FALSE;
    state->retry_due = 0;
    /* A request still outstanding is orphaned by the new one. */
    orphan_request(connection);
    connection->max_size = facts->max_size;
    correlation->conn_id = facts->connection_id;
    correlation->time_stamp = next_timestamp();
    if (connection->decided) *current = connection->decision;
    /* A connection without a decision makes the system state partly unknown. */
    else update_isolation();
    return S_OK;
}

/* Caller holds ec_cs.  The request is built: it is the connection's
 * outstanding one, unless a newer call on the connection came meanwhile. */
static HRESULT finish_request(struct ec_state *state, const NAPAGENT_CONNECTION_FACTS *facts,
                              const NAPAGENT_CORRELATION *correlation, const struct health_content *content,
                              BOOL *retrigger)
{
    struct agent_connection *connection = find_connection(state, &facts->connection_id);

    if (!connection || state->closed || connection->last_seq != facts->call_seq) return E_ABORT;
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
    struct soh_entry entries[maxSystemHealthEntityCount];
    BYTE *entry_bytes, *bytes = NULL;
    UINT16 entry_count;
    HRESULT hr;

    if (!(entry_bytes = HeapAlloc(GetProcessHeap(), 0, maxNetworkSoHSize))) return E_OUTOFMEMORY;
    hr = sha_report_entries(correlation, entry_bytes, maxNetworkSoHSize, entries, &entry_count, content);
    if (SUCCEEDED(hr) && !(bytes = MIDL_user_allocate(maxNetworkSoHSize))) hr = E_OUTOFMEMORY;
    if (SUCCEEDED(hr))
        hr = exchange_build_request(correlation, current, entries, entry_count, max_size, bytes, &request->size);
    if (SUCCEEDED(hr)) request->data = bytes;
    else MIDL_user_free(bytes);
    HeapFree(GetProcessHeap(), 0, entry_bytes);
    return hr;
}

HRESULT ec_get_soh_request(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts,
                           NAPAGENT_CORRELATION *correlation, BYTE *flags, BOOL *retrigger, NAPAGENT_BLOB *request)
{
    struct connection_decision current = { .state = isolationStateNotRestricted };
    struct ec_state *state = state_of(session);
    struct health_content content;
    HRESULT hr;

    request->size = 0;
    request->data = NULL;
    if (!state) return NAP_E_NOT_INITIALIZED;
    lock_ecs();
    hr = begin_request(state, facts, correlation, &current);
    unlock_ecs();
    if (FAILED(hr)) return hr;

    /* Outside the lock: the SHAs may be asked for this request. */
    if (FAILED(hr = build_request(correlation, &current, facts->max_size, request, &content))) return hr;
    *flags = freshSoHRequest;

    lock_ecs();
    hr = finish_request(state, facts, correlation, &content, retrigger);
    unlock_ecs();
    if (FAILED(hr))
    {
        MIDL_user_free(request->data);
        request->data = NULL;
        request->size = 0;
    }
    return hr;
}

/* Caller holds ec_cs.  The request a response must answer. */
static HRESULT begin_response(struct ec_state *state, const NAPAGENT_CONNECTION_FACTS *facts,
                              NAPAGENT_CORRELATION *expected)
{
    struct agent_connection *connection;

    if (state->closed) return NAP_E_NOT_INITIALIZED;
    if (!(connection = find_connection(state, &facts->connection_id)) && may_adopt(state, facts))
        connection = add_connection(state, &facts->connection_id, facts->max_size);
    if (connection && may_adopt(state, facts)) adopt_request(connection, facts);
    /* docs/decisions.md: a connection no agent built a request for is E_INVALIDARG. */
    if (!connection || !connection->has_request) return E_INVALIDARG;
    /* A late call the binding gave up on, or one a newer call overtook. */
    if (call_is_stale(connection, facts->call_seq)) return NAP_E_MISMATCHED_ID;
    *expected = connection->correlation;
    return S_OK;
}

/* Caller holds ec_cs.  The decision is the connection's, unless a newer
 * call on it came while the response was read. */
static HRESULT finish_response(struct ec_state *state, const NAPAGENT_CONNECTION_FACTS *facts,
                               const NAPAGENT_CORRELATION *expected, const NAPAGENT_ISOLATION *isolation)
{
    struct agent_connection *connection = find_connection(state, &facts->connection_id);

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
    update_isolation();
    /* A probation end to watch for. */
    if (isolation->state == isolationStateInProbation) timer_kick();
    return S_OK;
}

HRESULT ec_process_soh_response(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts,
                                const BYTE *response, UINT16 size, NAPAGENT_ISOLATION *isolation)
{
    struct ec_state *state = state_of(session);
    struct soh_response *parsed;
    NAPAGENT_CORRELATION expected;
    HRESULT hr;

    ZeroMemory(isolation, sizeof(*isolation));
    if (!state) return NAP_E_NOT_INITIALIZED;
    lock_ecs();
    hr = begin_response(state, facts, &expected);
    unlock_ecs();
    if (FAILED(hr)) return hr;

    if (!(parsed = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*parsed)))) return E_OUTOFMEMORY;
    if (SUCCEEDED(hr = exchange_read_response(response, size, &expected, isolation, parsed)))
    {
        lock_ecs();
        hr = finish_response(state, facts, &expected, isolation);
        unlock_ecs();
    }
    /* Each SHV's verdict goes to its SHA, once the response is the connection's. */
    if (SUCCEEDED(hr)) sha_deliver_response(parsed);
    HeapFree(GetProcessHeap(), 0, parsed);
    if (FAILED(hr))
    {
        agent_log(AGENT_LOG_WARNING, "EC %u: SoH response refused: 0x%08lx", session_id(session), hr);
        MIDL_user_free(isolation->failure_url);
        ZeroMemory(isolation, sizeof(*isolation));
        return hr;
    }
    agent_log(AGENT_LOG_INFO, "EC %u: SoH response processed: isolation state %u", session_id(session), isolation->state);
    return S_OK;
}

/* Caller holds ec_cs.  The connection stops counting; a request of it still
 * outstanding will never be answered. */
static void drop_connection(struct agent_connection *connection)
{
    orphan_request(connection);
    connection->used = FALSE;
}

HRESULT ec_connection_down(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts)
{
    struct ec_state *state = state_of(session);
    struct agent_connection *connection = NULL;
    HRESULT hr = S_OK;

    if (!state) return NAP_E_NOT_INITIALIZED;
    lock_ecs();
    if (state->closed) hr = NAP_E_NOT_INITIALIZED;
    else if ((connection = find_connection(state, &facts->connection_id))
             && call_is_stale(connection, facts->call_seq))
        hr = E_ABORT;
    else
    {
        state->downed[state->downed_next++ % maxConnectionCountPerEnforcer] = facts->connection_id;
        if (connection)
        {
            drop_connection(connection);
            update_isolation();
        }
    }
    unlock_ecs();
    return hr;
}

HRESULT ec_connections_gone(struct session *session, UINT16 count, const NAPAGENT_CONNECTION_FACTS *gone)
{
    struct ec_state *state = state_of(session);
    struct agent_connection *connection;
    BOOL dropped = FALSE;
    HRESULT hr = S_OK;
    UINT16 i;

    if (count > NAPAGENT_MAX_GONE) return E_INVALIDARG;
    if (!state) return NAP_E_NOT_INITIALIZED;
    lock_ecs();
    if (state->closed) hr = NAP_E_NOT_INITIALIZED;
    else
        for (i = 0; i < count; i++)
        {
            /* A connection the EC used since (the same id on a new object) is not gone. */
            if (!(connection = find_connection(state, &gone[i].connection_id))
                || call_is_stale(connection, gone[i].call_seq))
                continue;
            drop_connection(connection);
            dropped = TRUE;
        }
    if (dropped) update_isolation();
    unlock_ecs();
    return hr;
}

HRESULT ec_soh_change_failure(struct session *session)
{
    DWORD interval = store_get_setting(L"SoHChangeRetryIntervalMs", DEFAULT_RETRY_INTERVAL_MS);
    struct ec_state *state = state_of(session);
    HRESULT hr = S_OK;

    if (!state) return NAP_E_NOT_INITIALIZED;
    lock_ecs();
    if (state->closed) hr = NAP_E_NOT_INITIALIZED;
    else if (state->change_outstanding)
    {
        state->retry_due = GetTickCount64() + interval;
        timer_kick();
        agent_log(AGENT_LOG_INFO, "EC %u: SoH change failed, retry in %lu ms", session_id(session), interval);
    }
    unlock_ecs();
    return hr;
}

HRESULT ec_answer_connections(struct session *session, UINT16 count, const NAPAGENT_CONNECTION_FACTS *connections)
{
    struct agent_connection kept[maxConnectionCountPerEnforcer];
    struct ec_state *state = state_of(session);
    UINT16 i, k;

    if (count > maxConnectionCountPerEnforcer) return E_INVALIDARG;
    if (!state) return NAP_E_NOT_INITIALIZED;
    lock_ecs();
    if (state->closed)
    {
        unlock_ecs();
        return NAP_E_NOT_INITIALIZED;
    }
    /* The answer is the whole list of connections that are up: keep what the
     * agent knew of those, forget the others. */
    ZeroMemory(kept, sizeof(kept));
    for (i = 0; i < count; i++)
    {
        struct agent_connection *known = find_connection(state, &connections[i].connection_id);
        if (known) kept[i] = *known;
        else
        {
            kept[i].used = TRUE;
            kept[i].id = connections[i].connection_id;
        }
        kept[i].max_size = connections[i].max_size;
        if (may_adopt(state, &connections[i])) adopt_request(&kept[i], &connections[i]);
    }
    for (i = 0; i < maxConnectionCountPerEnforcer; i++)
    {
        BOOL still_up = FALSE;
        if (!state->connections[i].used) continue;
        for (k = 0; k < count; k++) still_up |= IsEqualGUID(&state->connections[i].id, &connections[k].connection_id);
        if (!still_up) orphan_request(&state->connections[i]);
    }
    memcpy(state->connections, kept, sizeof(kept));
    memcpy(state->answered, connections, count * sizeof(*connections));
    update_isolation();
    state->answered_count = count;
    state->answer_seq++;
    WakeAllConditionVariable(&answers_cv);
    unlock_ecs();
    return S_OK;
}

HRESULT ec_notify_all(void)
{
    unsigned int i;

    lock_ecs();
    soh_change_count++;
    for (i = 0; i < maxEnforcerCount; i++)
        if (bound[i]) tell_soh_change(bound[i]);
    unlock_ecs();
    agent_log(AGENT_LOG_INFO, "NotifySoHChange to every bound EC");
    return S_OK;
}

/* Caller holds ec_cs.  Whether what the EC last sent (or, before its first
 * request, what it knew when it bound or was last told) says something else
 * of the health than `now`. */
static BOOL sent_other_health(const struct ec_state *state, const struct health_content *now)
{
    BOOL any_request = FALSE;
    unsigned int i;

    for (i = 0; i < maxConnectionCountPerEnforcer; i++)
    {
        const struct agent_connection *connection = &state->connections[i];
        if (!connection->used || !connection->has_request) continue;
        if (!health_content_equal(&connection->sent, now)) return TRUE;
        any_request = TRUE;
    }
    return !any_request && !health_content_equal(&state->baseline, now);
}

void ec_health_changed(void)
{
    struct health_content *now = HeapAlloc(GetProcessHeap(), 0, sizeof(*now));
    unsigned int i, told = 0;

    if (!now) return;
    lock_ecs();
    sha_current_content(now);
    if (!health_content_equal(now, &last_health)) health_generation++;
    last_health = *now;
    for (i = 0; i < maxEnforcerCount; i++)
    {
        if (!bound[i] || !sent_other_health(bound[i], now)) continue;
        tell_soh_change(bound[i]);
        bound[i]->baseline = *now;
        told++;
    }
    if (told) soh_change_count++;
    unlock_ecs();
    HeapFree(GetProcessHeap(), 0, now);
    if (told) agent_log(AGENT_LOG_INFO, "system health changed: NotifySoHChange to %u EC(s)", told);
}

/* Caller holds ec_cs. */
static struct ec_state *find_bound(UINT32 ec_id)
{
    unsigned int i;

    for (i = 0; i < maxEnforcerCount; i++)
        if (bound[i] && session_id(bound[i]->session) == ec_id) return bound[i];
    return NULL;
}

HRESULT ec_query_connections(UINT32 ec_id, UINT32 timeout_ms, UINT32 *count, NAPAGENT_CONNECTION_FACTS **connections)
{
    ULONGLONG deadline = GetTickCount64() + min(timeout_ms, MAX_WAIT_MS);
    struct session *session = session_find_id(NAPAGENT_KIND_EC, ec_id);
    struct ec_state *state;
    HRESULT hr = S_OK;
    UINT32 seq;

    *count = 0;
    *connections = NULL;
    if (!session) return NAP_E_NOT_INITIALIZED;
    if (!(state = state_of(session)))
    {
        session_put(session);
        return NAP_E_NOT_INITIALIZED;
    }
    lock_ecs();
    seq = state->answer_seq;
    session_post(session, NAPAGENT_EVENT_GET_CONNECTIONS, NULL, 0, NULL, 0, NULL, 0);
    while (state->answer_seq == seq && !state->closed)
    {
        ULONGLONG now = GetTickCount64();
        if (now >= deadline) break;
        SleepConditionVariableCS(&answers_cv, &ec_cs, (DWORD)(deadline - now));
    }
    if (state->answer_seq == seq) hr = state->closed ? NAP_E_NOT_INITIALIZED : HRESULT_FROM_WIN32(ERROR_TIMEOUT);
    else if (!(*connections = MIDL_user_allocate(sizeof(**connections) * (state->answered_count + 1))))
        hr = E_OUTOFMEMORY;
    else
    {
        memcpy(*connections, state->answered, sizeof(**connections) * state->answered_count);
        *count = state->answered_count;
    }
    unlock_ecs();
    session_put(session);
    return hr;
}

static UINT32 count_connections(const struct ec_state *state)
{
    UINT32 i, count = 0;

    for (i = 0; i < maxConnectionCountPerEnforcer; i++)
        if (state->connections[i].used) count++;
    return count;
}

void ec_get_state(NAPAGENT_STATE *state)
{
    unsigned int i;

    ZeroMemory(state, sizeof(*state));
    state->retry_interval_ms = store_get_setting(L"SoHChangeRetryIntervalMs", DEFAULT_RETRY_INTERVAL_MS);
    lock_ecs();
    for (i = 0; i < maxEnforcerCount; i++)
    {
        if (!bound[i]) continue;
        state->bound_ec_count++;
        state->connection_count += count_connections(bound[i]);
        if (bound[i]->retry_due) state->retries_pending++;
    }
    state->soh_change_count = soh_change_count;
    state->health_generation = health_generation;
    unlock_ecs();
}

BOOL ec_bound(UINT32 ec_id, UINT32 *connections)
{
    struct ec_state *state;

    lock_ecs();
    state = find_bound(ec_id);
    *connections = state ? count_connections(state) : 0;
    unlock_ecs();
    return state != NULL;
}

static ULONGLONG ticks_until(const FILETIME *when, const FILETIME *now, ULONGLONG now_ticks)
{
    ULARGE_INTEGER a = { .LowPart = when->dwLowDateTime, .HighPart = when->dwHighDateTime };
    ULARGE_INTEGER b = { .LowPart = now->dwLowDateTime, .HighPart = now->dwHighDateTime };

    return a.QuadPart <= b.QuadPart ? now_ticks : now_ticks + (a.QuadPart - b.QuadPart) / 10000;
}

/* Caller holds ec_cs.  Probation ends of one EC due by now; its next one. */
static ULONGLONG tick_probations(struct ec_state *state, const FILETIME *wall, ULONGLONG now)
{
    ULONGLONG next = ~0ull;
    unsigned int j;

    for (j = 0; j < maxConnectionCountPerEnforcer; j++)
    {
        struct agent_connection *connection = &state->connections[j];
        ULONGLONG due;
        if (!connection->used || !connection->decided || connection->probation_told
            || connection->decision.state != isolationStateInProbation)
            continue;
        if ((due = ticks_until(&connection->decision.prob_end_time, wall, now)) > now)
        {
            next = min(next, due);
            continue;
        }
        /* Probation is over: the EC redoes its exchange (retriggerHint is TRUE). */
        connection->probation_told = TRUE;
        tell_soh_change(state);
        agent_log(AGENT_LOG_INFO, "EC %u: probation ended", session_id(state->session));
    }
    return next;
}

ULONGLONG ec_tick(ULONGLONG now)
{
    ULONGLONG next = ~0ull;
    FILETIME wall;
    unsigned int i;

    GetSystemTimeAsFileTime(&wall);
    lock_ecs();
    for (i = 0; i < maxEnforcerCount; i++)
    {
        if (!bound[i]) continue;
        next = min(next, tick_probations(bound[i], &wall, now));
        if (!bound[i]->retry_due) continue;
        if (now < bound[i]->retry_due) next = min(next, bound[i]->retry_due);
        else
        {
            /* NotifySoHChangeFailure asked for another try. */
            bound[i]->retry_due = 0;
            tell_soh_change(bound[i]);
        }
    }
    unlock_ecs();
    return next;
}
