/*
 * The agent's table of open sessions, EC and SHA alike: cookies, events, client deaths
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"
#include <ntsecapi.h>

/* Every EC and every SHA may be bound at once. */
#define MAX_SESSIONS (maxEnforcerCount + maxSystemHealthEntityCount)
/* The longest one long poll may wait; the client asks again after it. */
#define MAX_WAIT_MS 60000
/* Events waiting for a client that does not fetch them: past this the oldest go. */
#define MAX_QUEUED_EVENTS 64

/* Queued until the client's process acknowledges it (sessions_wait_events). */
struct queued_event
{
    struct queued_event *next;
    BOOL sent;                         /* in a reply already, maybe one the client never took */
    NAPAGENT_EVENT event;              /* soh / other data: HeapAlloc */
};

struct session
{
    LONG refs;                         /* the table's while it is in it, and each caller's */
    BOOL closed;
    BOOL ready;                        /* its kind's `opened` succeeded: lookups may find it */
    const struct session_kind *kind;
    UINT32 id;                         /* the EC's or SHA's NapComponentId */
    DWORD pid;
    UINT64 cookie;
    void *data;                        /* the kind's */
    HANDLE process;                    /* the client's, to notice its death at once */
    HANDLE process_wait;               /* holds no reference: unregistered before the table's goes */
    struct queued_event *head, *tail;
    unsigned int queued;
};

static CRITICAL_SECTION sessions_cs;
/* Woken whenever a session gets an event or closes: the per-process long
 * polls (sessions_wait_events) look again at the sessions they serve. */
static CONDITION_VARIABLE events_cv;
static struct session *sessions[MAX_SESSIONS];
/* Where the numbers of requests to SHAs start: at random, so that an answer
 * an SHA gives a previous agent (the callback ran while it restarted) never
 * matches a request of this one. */
static UINT32 next_request_id;
/* Events are numbered in the order they are queued (event.seq), and the
 * numbers are this agent process's: a poll's acknowledgement names the
 * agent it is for, so one meant for a previous agent drops nothing. */
static UINT64 agent_instance, last_event_seq;

void sessions_init(void)
{
    InitializeCriticalSection(&sessions_cs);
    InitializeConditionVariable(&events_cv);
    RtlGenRandom(&next_request_id, sizeof(next_request_id));
    while (!agent_instance) RtlGenRandom(&agent_instance, sizeof(agent_instance));
}

static void free_event(struct queued_event *queued)
{
    HeapFree(GetProcessHeap(), 0, queued->event.soh.data);
    HeapFree(GetProcessHeap(), 0, queued->event.other.data);
    HeapFree(GetProcessHeap(), 0, queued);
}

static void session_release(struct session *session)
{
    struct queued_event *queued;

    if (InterlockedDecrement(&session->refs)) return;
    while ((queued = session->head))
    {
        session->head = queued->next;
        free_event(queued);
    }
    if (session->process) CloseHandle(session->process);
    if (session->data) session->kind->free_data(session->data);
    HeapFree(GetProcessHeap(), 0, session);
}

void session_addref(struct session *session)
{
    InterlockedIncrement(&session->refs);
}

void session_put(struct session *session)
{
    session_release(session);
}

UINT32 session_id(const struct session *session)
{
    return session->id;
}

BOOL session_closed(const struct session *session)
{
    return session->closed;
}

void *session_data(const struct session *session)
{
    return session->data;
}

void session_set_data(struct session *session, void *data)
{
    session->data = data;
}

/* Takes the session out of the table; TRUE if this call did (the caller then
 * tells its kind, without the lock). */
static BOOL take_out(struct session *session)
{
    unsigned int i;

    EnterCriticalSection(&sessions_cs);
    if (session->closed)
    {
        LeaveCriticalSection(&sessions_cs);
        return FALSE;
    }
    session->closed = TRUE;
    for (i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i] == session) sessions[i] = NULL;
    LeaveCriticalSection(&sessions_cs);
    WakeAllConditionVariable(&events_cv);
    return TRUE;
}

/* The table's reference goes with the session's place in the table: whoever
 * took it out drops it, once.  The process watch holds no reference, so it
 * is unregistered first, waiting for a callback already running, unless
 * the caller is that callback. */
static void drop_table_ref(struct session *session, BOOL from_watch)
{
    if (session->process_wait) UnregisterWaitEx(session->process_wait, from_watch ? NULL : INVALID_HANDLE_VALUE);
    session->process_wait = NULL;
    session_release(session);
}

/* Caller holds a reference, or is the process watch. */
static void close_session(struct session *session, BOOL callback_gone, BOOL from_watch)
{
    if (!take_out(session)) return;
    session->kind->closed(session, callback_gone);
    agent_log(AGENT_LOG_INFO, "%s %u (pid %lu) %s", session->kind->kind == NAPAGENT_KIND_EC ? "EC" : "SHA", session->id,
              session->pid, callback_gone ? "dropped: its callback answered RPC_S_SERVER_UNAVAILABLE" : "unbound");
    drop_table_ref(session, from_watch);
}

void session_close(struct session *session, BOOL callback_gone)
{
    close_session(session, callback_gone, FALSE);
}

void sessions_shutdown(void)
{
    struct session *open[MAX_SESSIONS];
    unsigned int i, count = 0;

    EnterCriticalSection(&sessions_cs);
    for (i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i])
        {
            InterlockedIncrement(&sessions[i]->refs);
            open[count++] = sessions[i];
        }
    LeaveCriticalSection(&sessions_cs);
    for (i = 0; i < count; i++)
    {
        session_close(open[i], FALSE);
        session_release(open[i]);
    }
}

/* The client process ended.  Its context handle's rundown would close the
 * session too, but only after the client's long poll times out (Wine runs
 * the rundown once no call is in flight), so the agent watches the process
 * itself (docs/wine.md, "Client death by process watch"). */
static void CALLBACK client_process_ended(void *context, BOOLEAN timed_out)
{
    struct session *session = context;

    (void)timed_out;
    close_session(session, FALSE, TRUE);
}

/* Caller holds sessions_cs, so that a close (this watch's callback too)
 * finds process_wait set. */
static void watch_client_process(struct session *session)
{
    session->process = OpenProcess(SYNCHRONIZE, FALSE, session->pid);
    if (!session->process) return;
    if (!RegisterWaitForSingleObject(&session->process_wait, session->process, client_process_ended, session,
                                     INFINITE, WT_EXECUTEONLYONCE))
        session->process_wait = NULL;
}

/* Caller holds sessions_cs.  Ready or not: one session per component. */
static struct session *find_open(UINT32 kind, UINT32 id)
{
    unsigned int i;

    for (i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i] && sessions[i]->kind->kind == kind && sessions[i]->id == id) return sessions[i];
    return NULL;
}

/* Caller holds sessions_cs. */
static struct session *find_cookie(UINT64 cookie)
{
    unsigned int i;

    for (i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i] && sessions[i]->ready && sessions[i]->cookie == cookie) return sessions[i];
    return NULL;
}

static struct session *new_session(const struct session_kind *kind, UINT32 id, DWORD pid)
{
    struct session *session = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*session));

    if (!session) return NULL;
    session->refs = 1; /* the open's own */
    session->kind = kind;
    session->id = id;
    session->pid = pid;
    /* The cookie lets a caller act for the session: make it unguessable. */
    while (!session->cookie) RtlGenRandom(&session->cookie, sizeof(session->cookie));
    return session;
}

/* Puts the session in the table (with the table's reference) unless the
 * component may not open one or its id is open; a rebind with the old
 * cookie replaces that one: *replaced, out of the table, its reference the
 * caller's to drop.  The registration is checked under the table's lock, as
 * sessions_unregister checks the table: neither slips in between. */
static HRESULT insert(struct session *session, UINT64 previous_cookie, struct session **replaced)
{
    struct session *open;
    unsigned int slot;
    HRESULT hr;

    *replaced = NULL;
    EnterCriticalSection(&sessions_cs);
    if (FAILED(hr = session->kind->admit(session->id))) goto done;
    if ((open = find_open(session->kind->kind, session->id)) && previous_cookie && open->cookie == previous_cookie)
    {
        /* The same binding after a transport failure: its old session is dead to it. */
        *replaced = open;
        open->closed = TRUE;
        for (slot = 0; slot < MAX_SESSIONS; slot++)
            if (sessions[slot] == open) sessions[slot] = NULL;
        open = NULL;
    }
    for (slot = 0; slot < MAX_SESSIONS && sessions[slot]; slot++);
    if (open) hr = HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED);
    else if (slot == MAX_SESSIONS) hr = E_OUTOFMEMORY;
    else
    {
        sessions[slot] = session;
        InterlockedIncrement(&session->refs);
    }
done:
    LeaveCriticalSection(&sessions_cs);
    return hr;
}

static void close_replaced(struct session *replaced)
{
    /* Polls that name its cookie hear CLOSED. */
    WakeAllConditionVariable(&events_cv);
    agent_log(AGENT_LOG_INFO, "%u (pid %lu) opens again: replacing its old session", replaced->id, replaced->pid);
    replaced->kind->closed(replaced, FALSE);
    drop_table_ref(replaced, FALSE);
}

/* Lookups find the session from now on, unless it closed while its kind
 * opened it (the agent stops).  Its client's death closes it. */
static BOOL make_ready(struct session *session)
{
    BOOL open;

    EnterCriticalSection(&sessions_cs);
    if ((open = !session->closed))
    {
        watch_client_process(session);
        session->ready = TRUE;
    }
    LeaveCriticalSection(&sessions_cs);
    return open;
}

/* The session is in the table, not yet ready: its kind makes its state. */
static HRESULT finish_open(struct session *session, BOOL rebound)
{
    HRESULT hr;

    if (FAILED(hr = session->kind->opened(session, rebound)))
    {
        if (take_out(session)) drop_table_ref(session, FALSE);
        return hr;
    }
    if (make_ready(session)) return S_OK;
    /* Whoever closed it told the kind before the state was complete: again. */
    session->kind->closed(session, FALSE);
    return NAP_E_NOT_INITIALIZED;
}

HRESULT session_open(const struct session_kind *kind, UINT32 id, DWORD pid, UINT64 previous_cookie, UINT64 *cookie)
{
    struct session *session, *replaced;
    HRESULT hr;

    *cookie = 0;
    if (!(session = new_session(kind, id, pid))) return E_OUTOFMEMORY;
    hr = insert(session, previous_cookie, &replaced);
    if (replaced) close_replaced(replaced);
    if (SUCCEEDED(hr) && SUCCEEDED(hr = finish_open(session, previous_cookie != 0)))
    {
        *cookie = session->cookie;
        agent_log(AGENT_LOG_INFO, "%s %u (pid %lu) %s", kind->kind == NAPAGENT_KIND_EC ? "EC" : "SHA", id, pid,
                  previous_cookie ? "bound again" : "bound");
    }
    session_release(session);
    return hr;
}

static struct session *find_locked(BOOL (*match)(const struct session *, const void *), const void *what)
{
    struct session *session = NULL;
    unsigned int i;

    EnterCriticalSection(&sessions_cs);
    for (i = 0; i < MAX_SESSIONS && !session; i++)
        if (sessions[i] && sessions[i]->ready && match(sessions[i], what)) session = sessions[i];
    if (session) InterlockedIncrement(&session->refs);
    LeaveCriticalSection(&sessions_cs);
    return session;
}

struct cookie_match { UINT64 cookie; UINT32 kind; };

static BOOL matches_cookie(const struct session *session, const void *what)
{
    const struct cookie_match *match = what;

    return session->cookie == match->cookie && session->kind->kind == match->kind;
}

struct session *session_find(UINT64 cookie, UINT32 kind)
{
    struct cookie_match match = { cookie, kind };

    return find_locked(matches_cookie, &match);
}

struct id_match { UINT32 kind; UINT32 id; };

static BOOL matches_id(const struct session *session, const void *what)
{
    const struct id_match *match = what;

    return session->kind->kind == match->kind && session->id == match->id;
}

struct session *session_find_id(UINT32 kind, UINT32 id)
{
    struct id_match match = { kind, id };

    return find_locked(matches_id, &match);
}

HRESULT session_end(UINT64 cookie)
{
    struct session *session;

    EnterCriticalSection(&sessions_cs);
    if ((session = find_cookie(cookie))) InterlockedIncrement(&session->refs);
    LeaveCriticalSection(&sessions_cs);
    if (!session) return NAP_E_NOT_INITIALIZED;
    session_close(session, FALSE);
    session_release(session);
    return S_OK;
}

HRESULT sessions_unregister(UINT32 kind, UINT32 id, void (*forget)(UINT32 id))
{
    HRESULT hr;

    /* Under the table's lock, so that no session of it opens meanwhile. */
    EnterCriticalSection(&sessions_cs);
    hr = find_open(kind, id) ? NAP_E_STILL_BOUND : store_unregister(kind, id);
    LeaveCriticalSection(&sessions_cs);
    if (SUCCEEDED(hr) && forget) forget(id);
    return hr;
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

/* Events whose repeat says nothing the first does not: one waiting stands
 * for both.  Every other event is one call the client makes and, for a
 * request id, one answer the agent waits for (an SHA's GetSoHRequest for
 * each EC request, NotifyOrphanedSoHRequest for each orphaned request). */
static BOOL merges(UINT32 type)
{
    return type == NAPAGENT_EVENT_SOH_CHANGE || type == NAPAGENT_EVENT_GET_CONNECTIONS
           || type == NAPAGENT_EVENT_ISOLATION_CHANGED;
}

/* Caller holds sessions_cs.  The request id of an event of this type that
 * still waits, not yet sent, and stands for a new one; 0: none.  One sent
 * already may have been acted on: it does not count. */
static UINT32 already_queued(const struct session *session, UINT32 type)
{
    const struct queued_event *queued;

    if (!merges(type)) return 0;
    for (queued = session->head; queued; queued = queued->next)
        if (!queued->sent && queued->event.type == type) return queued->event.request_id;
    return 0;
}

/* Caller holds sessions_cs. */
static void enqueue(struct session *session, struct queued_event *queued)
{
    if (session->queued == MAX_QUEUED_EVENTS)
    {
        struct queued_event *oldest = session->head;
        agent_log(AGENT_LOG_WARNING, "%u does not fetch its events: dropping the oldest", session->id);
        session->head = oldest->next;
        if (!session->head) session->tail = NULL;
        session->queued--;
        free_event(oldest);
    }
    if (session->tail) session->tail->next = queued;
    else session->head = queued;
    session->tail = queued;
    session->queued++;
}

UINT32 session_post(struct session *session, UINT32 type, const NAPAGENT_CORRELATION *correlation, BYTE flags,
                    const BYTE *soh, UINT16 soh_size, const BYTE *other, UINT16 other_size)
{
    struct queued_event *queued;
    UINT32 request_id = 0;

    if (!(queued = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*queued)))) return 0;
    queued->event.type = type;
    queued->event.cookie = session->cookie;
    if (correlation) queued->event.correlation = *correlation;
    queued->event.flags = flags;
    if (!copy_blob(&queued->event.soh, soh, soh_size) || !copy_blob(&queued->event.other, other, other_size))
    {
        free_event(queued);
        return 0;
    }
    EnterCriticalSection(&sessions_cs);
    if (!session->closed && !(request_id = already_queued(session, type)))
    {
        if (!next_request_id) next_request_id = 1; /* 0 means "no request" */
        request_id = queued->event.request_id = next_request_id++;
        queued->event.seq = ++last_event_seq;
        enqueue(session, queued);
        queued = NULL;
    }
    LeaveCriticalSection(&sessions_cs);
    /* Outside the lock: the polls it wakes take the lock at once. */
    if (!queued) WakeAllConditionVariable(&events_cv);
    else free_event(queued);
    return request_id;
}

/* Hands a copy of an event to the RPC stub: its buffers become MIDL
 * allocations; the event stays queued until it is acknowledged. */
static void copy_event_out(struct queued_event *queued, NAPAGENT_EVENT *event)
{
    *event = queued->event;
    event->soh.data = event->other.data = NULL;
    if (queued->event.soh.size && (event->soh.data = MIDL_user_allocate(queued->event.soh.size)))
        memcpy(event->soh.data, queued->event.soh.data, queued->event.soh.size);
    else event->soh.size = 0;
    if (queued->event.other.size && (event->other.data = MIDL_user_allocate(queued->event.other.size)))
        memcpy(event->other.data, queued->event.other.data, queued->event.other.size);
    else event->other.size = 0;
    queued->sent = TRUE;
}

/* Caller holds sessions_cs.  Drops the events of pid's sessions that the
 * process acknowledged: numbered by this agent, up to seen->seq. */
static void drop_acknowledged(DWORD pid, const NAPAGENT_EVENTS_SEEN *seen)
{
    struct queued_event *queued;
    unsigned int i;

    if (seen->agent != agent_instance) return;
    for (i = 0; i < MAX_SESSIONS; i++)
    {
        struct session *session = sessions[i];
        if (!session || session->pid != pid) continue;
        while ((queued = session->head) && queued->event.seq <= seen->seq)
        {
            session->head = queued->next;
            if (!session->head) session->tail = NULL;
            session->queued--;
            free_event(queued);
        }
    }
}

/* Caller holds sessions_cs.  Appends what is due for the polling process:
 * CLOSED for each cookie it names that no session has, then the events of
 * its sessions in the order they were queued, oldest first, up to
 * NAPAGENT_MAX_EVENTS: always the oldest ones, so that whatever a reply
 * acknowledges, every event before it was in it too.  *highest: the
 * highest seq returned, if above. */
static UINT16 collect_events(DWORD pid, const UINT64 *cookies, UINT16 cookie_count, NAPAGENT_EVENT *events,
                             UINT64 *highest)
{
    struct queued_event *next[MAX_SESSIONS];
    unsigned int i, oldest;
    UINT16 count = 0;

    for (i = 0; i < cookie_count && count < NAPAGENT_MAX_EVENTS; i++)
        if (!find_cookie(cookies[i]))
        {
            ZeroMemory(&events[count], sizeof(events[count]));
            events[count].cookie = cookies[i];
            events[count++].type = NAPAGENT_EVENT_CLOSED;
        }
    for (i = 0; i < MAX_SESSIONS; i++) next[i] = sessions[i] && sessions[i]->pid == pid ? sessions[i]->head : NULL;
    while (count < NAPAGENT_MAX_EVENTS)
    {
        for (i = 0, oldest = MAX_SESSIONS; i < MAX_SESSIONS; i++)
            if (next[i] && (oldest == MAX_SESSIONS || next[i]->event.seq < next[oldest]->event.seq)) oldest = i;
        if (oldest == MAX_SESSIONS) break;
        copy_event_out(next[oldest], &events[count++]);
        *highest = max(*highest, next[oldest]->event.seq);
        next[oldest] = next[oldest]->next;
    }
    return count;
}

HRESULT sessions_wait_events(DWORD pid, NAPAGENT_EVENTS_SEEN *seen, const UINT64 *cookies, UINT16 cookie_count,
                             UINT32 timeout_ms, UINT16 *event_count, NAPAGENT_EVENT **events)
{
    ULONGLONG deadline = GetTickCount64() + min(timeout_ms, MAX_WAIT_MS);
    UINT64 highest = seen->agent == agent_instance ? seen->seq : 0;
    NAPAGENT_EVENT *found;

    *event_count = 0;
    *events = NULL;
    if (cookie_count > NAPAGENT_MAX_POLLED_COOKIES) return E_INVALIDARG;
    if (!(found = MIDL_user_allocate(sizeof(*found) * NAPAGENT_MAX_EVENTS))) return E_OUTOFMEMORY;
    EnterCriticalSection(&sessions_cs);
    drop_acknowledged(pid, seen);
    for (;;)
    {
        ULONGLONG now = GetTickCount64();

        if ((*event_count = collect_events(pid, cookies, cookie_count, found, &highest)) || now >= deadline) break;
        SleepConditionVariableCS(&events_cv, &sessions_cs, (DWORD)(deadline - now));
    }
    LeaveCriticalSection(&sessions_cs);
    seen->agent = agent_instance;
    seen->seq = highest;
    *events = found;
    return S_OK;
}
