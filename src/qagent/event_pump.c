/*
 * One long poll per process for the events of every session (EC and SHA) in it
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "event_pump.h"
#include "agent_call.h"
#include "module_thread.h"
#include "nap_trace.h"

NAP_TRACE_USE_MODULE_CHANNEL();

/* Why one poll per process and not one per session: under Wine every reply
 * is a separate pipe write and wake-up in the agent, so telling 20 ECs of
 * one process that the SoH changed cost 20 replies one after the other.  One
 * poll carries them all in one reply, and each session's own thread runs its
 * callback (bench_fanout, docs/benchmarks.md). */

/* How long one poll waits in the agent before it answers "no event"; the
 * call's bound is this plus the usual call bound. */
#define PUMP_POLL_MS 5000
/* Pauses while the agent is not there: short first, then 5 a second. */
#define PUMP_RETRY_FIRST_MS 5
#define PUMP_RETRY_MAX_MS 200
/* Events that came for a session whose open has not reached its binding
 * yet (the agent may answer the poll first): kept this long. */
#define STRAY_MAX 64
#define STRAY_KEEP_MS 10000

struct stray
{
    struct mailbox_event *event;
    ULONGLONG at;
};

static SRWLOCK pump_lock = SRWLOCK_INIT;
/* Every mailbox's waiter sleeps on this one: a reply carrying events for 20
 * sessions wakes them with one call (a futex under Wine), where 20 kernel
 * events would cost 20 wineserver round trips. */
static CONDITION_VARIABLE mail_cv = CONDITION_VARIABLE_INIT;
static struct event_mailbox *watched[NAPAGENT_MAX_POLLED_COOKIES];
static unsigned int watched_count;
static BOOL pump_running;
static struct stray strays[STRAY_MAX];
/* What the process received in time, the acknowledgement each poll carries:
 * the agent keeps every event until a poll acknowledges it, so a reply that
 * comes after the poll's bound (a hung agent) is dropped here and its events
 * come again in the next reply (docs/decisions.md, "Events").  Kept across
 * pumps: the agent keeps a process's events whoever polls for them. */
static NAPAGENT_EVENTS_SEEN pump_seen;

void mailbox_event_free(struct mailbox_event *event)
{
    if (!event) return;
    MIDL_user_free(event->event.soh.data);
    MIDL_user_free(event->event.other.data);
    HeapFree(GetProcessHeap(), 0, event);
}

void event_mailbox_init(struct event_mailbox *mailbox)
{
    ZeroMemory(mailbox, sizeof(*mailbox));
}

void event_mailbox_destroy(struct event_mailbox *mailbox)
{
    struct mailbox_event *event;

    event_pump_unwatch(mailbox);
    while ((event = mailbox->head))
    {
        mailbox->head = event->next;
        mailbox_event_free(event);
    }
}

void event_mailbox_wake(struct event_mailbox *mailbox)
{
    AcquireSRWLockExclusive(&pump_lock);
    mailbox->woken = TRUE;
    ReleaseSRWLockExclusive(&pump_lock);
    WakeAllConditionVariable(&mail_cv);
}

struct mailbox_event *event_mailbox_wait(struct event_mailbox *mailbox, DWORD timeout_ms, BOOL take)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    struct mailbox_event *event = NULL;

    AcquireSRWLockExclusive(&pump_lock);
    while ((!take || !mailbox->head) && !mailbox->woken)
    {
        ULONGLONG now = GetTickCount64();
        if (now >= deadline) break;
        SleepConditionVariableSRW(&mail_cv, &pump_lock, (DWORD)(deadline - now), 0);
    }
    if (take && (event = mailbox->head))
    {
        mailbox->head = event->next;
        if (!mailbox->head) mailbox->tail = NULL;
        event->next = NULL;
    }
    mailbox->woken = FALSE;
    ReleaseSRWLockExclusive(&pump_lock);
    return event;
}

/* Caller holds pump_lock.  An event whose repeat says nothing new (an EC's
 * NotifySoHChange or GetConnections, an SHA's isolation change) waiting
 * already runs once.  Every other event is a call of its own, to answer or
 * to hear: an SHA's GetSoHRequest for each EC request, each orphaned
 * request, each fix-up poll (the agent's session_post merges the same). */
static BOOL already_there(const struct event_mailbox *mailbox, const NAPAGENT_EVENT *event)
{
    const struct mailbox_event *queued;

    if (event->type != NAPAGENT_EVENT_SOH_CHANGE && event->type != NAPAGENT_EVENT_GET_CONNECTIONS
        && event->type != NAPAGENT_EVENT_ISOLATION_CHANGED)
        return FALSE;
    for (queued = mailbox->head; queued; queued = queued->next)
        if (queued->event.type == event->type) return TRUE;
    return FALSE;
}

/* Caller holds pump_lock; takes the event. */
static void post(struct event_mailbox *mailbox, struct mailbox_event *event)
{
    if (already_there(mailbox, &event->event))
    {
        mailbox_event_free(event);
        return;
    }
    if (mailbox->tail) mailbox->tail->next = event;
    else mailbox->head = event;
    mailbox->tail = event;
}

/* Caller holds pump_lock. */
static void forget(unsigned int index)
{
    watched[index]->cookie = 0;
    watched[index] = watched[--watched_count];
}

/* Caller holds pump_lock: an event for a session no mailbox watches yet.
 * Full: the oldest goes. */
static void keep_stray(struct mailbox_event *event, ULONGLONG now)
{
    unsigned int i, slot = 0;

    for (i = 0; i < STRAY_MAX; i++)
    {
        if (!strays[i].event) break;
        if (strays[i].at < strays[slot].at) slot = i;
    }
    if (i == STRAY_MAX)
    {
        mailbox_event_free(strays[slot].event);
        i = slot;
    }
    strays[i].event = event;
    strays[i].at = now;
}

/* Caller holds pump_lock: hands the mailbox what came for its cookie, in order. */
static void claim_strays(struct event_mailbox *mailbox, ULONGLONG now)
{
    unsigned int i, first;

    for (;;)
    {
        for (i = 0, first = STRAY_MAX; i < STRAY_MAX; i++)
        {
            if (!strays[i].event) continue;
            if (now - strays[i].at > STRAY_KEEP_MS)
            {
                mailbox_event_free(strays[i].event);
                strays[i].event = NULL;
            }
            else if (strays[i].event->event.cookie == mailbox->cookie
                     && (first == STRAY_MAX || strays[i].at < strays[first].at))
                first = i;
        }
        if (first == STRAY_MAX) return;
        post(mailbox, strays[first].event);
        strays[first].event = NULL;
    }
}

/* Takes the events of one reply; the array itself stays the caller's. */
static void deliver(NAPAGENT_EVENT *events, UINT16 count)
{
    ULONGLONG now = GetTickCount64();
    struct mailbox_event *event;
    UINT16 i;
    unsigned int k;

    AcquireSRWLockExclusive(&pump_lock);
    for (i = 0; i < count; i++)
    {
        if (!(event = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*event))))
        {
            MIDL_user_free(events[i].soh.data);
            MIDL_user_free(events[i].other.data);
            continue;
        }
        event->event = events[i];
        for (k = 0; k < watched_count && watched[k]->cookie != events[i].cookie; k++);
        if (k == watched_count)
        {
            if (events[i].type == NAPAGENT_EVENT_CLOSED) mailbox_event_free(event);
            else keep_stray(event, now);
            continue;
        }
        post(watched[k], event);
        if (events[i].type == NAPAGENT_EVENT_CLOSED) forget(k);
    }
    ReleaseSRWLockExclusive(&pump_lock);
    /* Outside the lock: each waiter takes it at once. */
    WakeAllConditionVariable(&mail_cv);
}

/* Caller holds pump_lock: tells a mailbox its session is gone. */
static void post_closed(struct event_mailbox *mailbox)
{
    struct mailbox_event *event = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*event));

    if (event)
    {
        event->event.cookie = mailbox->cookie;
        event->event.type = NAPAGENT_EVENT_CLOSED;
        post(mailbox, event);
    }
    mailbox->woken = TRUE;
}

/* The agent went away: every session opens again, each on its own thread. */
static void lose_all(void)
{
    AcquireSRWLockExclusive(&pump_lock);
    while (watched_count)
    {
        post_closed(watched[0]);
        forget(0);
    }
    ReleaseSRWLockExclusive(&pump_lock);
    WakeAllConditionVariable(&mail_cv);
}

struct wait_args
{
    NAPAGENT_EVENTS_SEEN seen;
    UINT16 cookie_count;
    UINT64 cookies[NAPAGENT_MAX_POLLED_COOKIES];
    UINT16 event_count;
    NAPAGENT_EVENT *events;
};

static HRESULT wait_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    struct wait_args *args = arg;

    (void)cookie;
    return NapAgentWaitEvents(agent, GetCurrentProcessId(), &args->seen, args->cookie_count, args->cookies,
                              PUMP_POLL_MS, &args->event_count, &args->events);
}

/* A reply nobody waits for any more: its events come again, acknowledged by nothing. */
static void wait_free(void *arg)
{
    struct wait_args *args = arg;
    UINT16 i;

    for (i = 0; args->events && i < args->event_count; i++)
    {
        MIDL_user_free(args->events[i].soh.data);
        MIDL_user_free(args->events[i].other.data);
    }
    MIDL_user_free(args->events);
    args->events = NULL;
}

static const struct agent_method wait_method =
{
    .name = "NapAgentWaitEvents",
    .stub = wait_stub,
    .free_out = wait_free,
    .args_size = sizeof(struct wait_args),
    .wait_ms = PUMP_POLL_MS
};

/* The cookies to poll for and what to acknowledge; FALSE (and the pump
 * ends) when none is watched. */
static BOOL collect_cookies(struct wait_args *args)
{
    unsigned int k;
    BOOL any;

    AcquireSRWLockExclusive(&pump_lock);
    args->seen = pump_seen;
    for (k = 0; k < watched_count; k++) args->cookies[k] = watched[k]->cookie;
    args->cookie_count = (UINT16)watched_count;
    if (!(any = watched_count != 0)) pump_running = FALSE;
    ReleaseSRWLockExclusive(&pump_lock);
    return any;
}

/* A reply in time: its events are the mailboxes', and acknowledged by the next poll. */
static void take_reply(struct wait_args *args)
{
    AcquireSRWLockExclusive(&pump_lock);
    pump_seen = args->seen;
    ReleaseSRWLockExclusive(&pump_lock);
    deliver(args->events, args->event_count);
    MIDL_user_free(args->events);
}

static DWORD WINAPI pump_thread(void *unused)
{
    DWORD retry_ms = PUMP_RETRY_FIRST_MS;
    struct wait_args args;
    HRESULT hr;

    (void)unused;
    while (collect_cookies(&args))
    {
        args.event_count = 0;
        args.events = NULL;
        hr = agent_call(NULL, &wait_method, &args);
        if (SUCCEEDED(hr))
        {
            retry_ms = PUMP_RETRY_FIRST_MS;
            take_reply(&args);
            continue;
        }
        /* A hung agent: ask again; a new agent would answer CLOSED. */
        if (hr == RPC_E_TIMEOUT)
        {
            WARN("NapAgentWaitEvents: no answer in time\n");
            continue;
        }
        wait_free(&args);
        /* Gone (no agent process, or the transport broke): the sessions
         * open again, each on its own thread.  Any other failure is the
         * poll's alone: the sessions are still open, so ask again later. */
        if (hr == RPC_E_DISCONNECTED)
        {
            TRACE("NapAgentWaitEvents: the agent is gone, every session opens again\n");
            lose_all();
        }
        else WARN("NapAgentWaitEvents: 0x%08lx, asking again in %lu ms\n", hr, retry_ms);
        Sleep(retry_ms);
        retry_ms = min(retry_ms * 2, PUMP_RETRY_MAX_MS);
    }
    return 0;
}

/* Caller holds pump_lock. */
static HRESULT start_pump(void)
{
    HANDLE thread;

    if (pump_running) return S_OK;
    /* The thread keeps qagent.dll loaded until it has left it. */
    if (!(thread = module_thread_start(pump_thread, NULL, NULL))) return HRESULT_FROM_WIN32(GetLastError());
    CloseHandle(thread);
    pump_running = TRUE;
    return S_OK;
}

/* Caller holds pump_lock: a CLOSED still waiting was about the session watched before. */
static void drop_old_closed(struct event_mailbox *mailbox)
{
    struct mailbox_event **link = &mailbox->head, *event;

    mailbox->tail = NULL;
    while ((event = *link))
    {
        if (event->event.type == NAPAGENT_EVENT_CLOSED)
        {
            *link = event->next;
            mailbox_event_free(event);
            continue;
        }
        mailbox->tail = event;
        link = &event->next;
    }
}

HRESULT event_pump_watch(struct event_mailbox *mailbox, UINT64 cookie)
{
    HRESULT hr;
    unsigned int k;

    AcquireSRWLockExclusive(&pump_lock);
    for (k = 0; k < watched_count && watched[k] != mailbox; k++);
    if (k == watched_count && watched_count == NAPAGENT_MAX_POLLED_COOKIES) hr = E_OUTOFMEMORY;
    else hr = start_pump();
    if (SUCCEEDED(hr))
    {
        if (k == watched_count) watched[watched_count++] = mailbox;
        if (mailbox->cookie != cookie) drop_old_closed(mailbox);
        mailbox->cookie = cookie;
        claim_strays(mailbox, GetTickCount64());
    }
    ReleaseSRWLockExclusive(&pump_lock);
    if (SUCCEEDED(hr)) WakeAllConditionVariable(&mail_cv);
    return hr;
}

void event_pump_unwatch(struct event_mailbox *mailbox)
{
    unsigned int k;

    AcquireSRWLockExclusive(&pump_lock);
    for (k = 0; k < watched_count; k++)
        if (watched[k] == mailbox)
        {
            forget(k);
            break;
        }
    ReleaseSRWLockExclusive(&pump_lock);
}
