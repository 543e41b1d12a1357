/*
 * One long poll per process for the events of every EC session in it
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "event_pump.h"
#include "napagent_rpc.h"
#include "agent_endpoint.h"
#include "rpc_guard.h"
#include "module_thread.h"

/* Why one poll per process and not one per session: under Wine every reply is
 * a separate pipe write and wake-up in the agent, so telling 20 ECs of one
 * process that the SoH changed cost 20 replies one after the other.  One poll
 * carries them all in one reply, and each session's own thread runs its
 * callback (bench_fanout, docs/benchmarks.md). */

/* How long one poll waits in the agent before it answers "no event". */
#define PUMP_POLL_MS 5000
/* Pauses while the agent is not there: short first, then 5 a second. */
#define PUMP_RETRY_FIRST_MS 5
#define PUMP_RETRY_MAX_MS 200
/* Events that came for a session whose bind reply has not reached its
 * binding yet (the agent may answer the poll first): kept this long. */
#define STRAY_COUNT 16
#define STRAY_KEEP_MS 10000

struct stray
{
    UINT64 cookie;
    UINT32 pending;
    ULONGLONG at;
};

struct poll_call
{
    RPC_BINDING_HANDLE binding;
    UINT16 cookie_count;
    UINT64 cookies[NAPAGENT_MAX_POLLED_COOKIES];
    UINT16 event_count;
    NAPAGENT_EC_EVENT *events;
};

static SRWLOCK pump_lock = SRWLOCK_INIT;
/* Every mailbox's waiter sleeps on this one: a reply carrying events for 20
 * sessions wakes them with one call (a futex under Wine), where 20 kernel
 * events would cost 20 wineserver round trips. */
static CONDITION_VARIABLE mail_cv = CONDITION_VARIABLE_INIT;
static struct event_mailbox *watched[NAPAGENT_MAX_POLLED_COOKIES];
static unsigned int watched_count;
static BOOL pump_running;
static struct stray strays[STRAY_COUNT];
/* The running pump's; a pump that is ending no longer touches it. */
static struct poll_call pump_call;

void event_mailbox_init(struct event_mailbox *mailbox)
{
    mailbox->cookie = 0;
    mailbox->pending = 0;
    mailbox->woken = FALSE;
}

void event_mailbox_destroy(struct event_mailbox *mailbox)
{
    event_pump_unwatch(mailbox);
}

void event_mailbox_wake(struct event_mailbox *mailbox)
{
    AcquireSRWLockExclusive(&pump_lock);
    mailbox->woken = TRUE;
    WakeAllConditionVariable(&mail_cv);
    ReleaseSRWLockExclusive(&pump_lock);
}

UINT32 event_mailbox_wait(struct event_mailbox *mailbox, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    UINT32 pending;

    AcquireSRWLockExclusive(&pump_lock);
    while (!mailbox->pending && !mailbox->woken)
    {
        ULONGLONG now = GetTickCount64();
        if (now >= deadline) break;
        SleepConditionVariableSRW(&mail_cv, &pump_lock, (DWORD)(deadline - now), 0);
    }
    pending = mailbox->pending;
    mailbox->pending = 0;
    mailbox->woken = FALSE;
    ReleaseSRWLockExclusive(&pump_lock);
    return pending;
}

/* Caller holds pump_lock. */
static void forget(unsigned int index)
{
    watched[index]->cookie = 0;
    watched[index] = watched[--watched_count];
}

/* Caller holds pump_lock, and wakes mail_cv after. */
static void post(struct event_mailbox *mailbox, UINT32 event)
{
    mailbox->pending |= EVENT_BIT(event);
}

/* Caller holds pump_lock: the events of a session no mailbox watches yet. */
static void keep_stray(UINT64 cookie, UINT32 event, ULONGLONG now)
{
    unsigned int i, slot = 0;

    for (i = 0; i < STRAY_COUNT; i++)
    {
        if (strays[i].cookie == cookie) break;
        /* An empty slot, else the oldest. */
        if (strays[slot].cookie && (!strays[i].cookie || strays[i].at < strays[slot].at)) slot = i;
    }
    if (i == STRAY_COUNT)
    {
        i = slot;
        strays[i].cookie = cookie;
        strays[i].pending = 0;
    }
    strays[i].pending |= EVENT_BIT(event);
    strays[i].at = now;
}

/* Caller holds pump_lock. */
static UINT32 claim_strays(UINT64 cookie, ULONGLONG now)
{
    UINT32 pending = 0;
    unsigned int i;

    for (i = 0; i < STRAY_COUNT; i++)
    {
        if (!strays[i].cookie || now - strays[i].at > STRAY_KEEP_MS) strays[i].cookie = 0;
        else if (strays[i].cookie == cookie)
        {
            pending |= strays[i].pending;
            strays[i].cookie = 0;
        }
    }
    return pending;
}

static void deliver(const NAPAGENT_EC_EVENT *events, UINT16 count)
{
    ULONGLONG now = GetTickCount64();
    UINT16 i;
    unsigned int k;

    AcquireSRWLockExclusive(&pump_lock);
    for (i = 0; i < count; i++)
    {
        for (k = 0; k < watched_count && watched[k]->cookie != events[i].cookie; k++);
        if (k == watched_count)
        {
            if (events[i].event != NAPAGENT_EVENT_CLOSED) keep_stray(events[i].cookie, events[i].event, now);
            continue;
        }
        post(watched[k], events[i].event);
        if (events[i].event == NAPAGENT_EVENT_CLOSED) forget(k);
    }
    ReleaseSRWLockExclusive(&pump_lock);
    /* Outside the lock: each waiter takes it at once. */
    WakeAllConditionVariable(&mail_cv);
}

/* The agent went away: every session rebinds, each on its own thread. */
static void lose_all(void)
{
    AcquireSRWLockExclusive(&pump_lock);
    while (watched_count)
    {
        post(watched[0], NAPAGENT_EVENT_CLOSED);
        forget(0);
    }
    WakeAllConditionVariable(&mail_cv);
    ReleaseSRWLockExclusive(&pump_lock);
}

static HRESULT poll_thunk(void *arg)
{
    struct poll_call *call = arg;

    return NapAgentEcWaitEvents(call->binding, GetCurrentProcessId(), call->cookie_count, call->cookies,
                                PUMP_POLL_MS, &call->event_count, &call->events);
}

/* The cookies to poll for; FALSE (and the pump ends) when none is watched. */
static BOOL collect_cookies(struct poll_call *call)
{
    unsigned int k;
    BOOL any;

    AcquireSRWLockExclusive(&pump_lock);
    for (k = 0; k < watched_count; k++) call->cookies[k] = watched[k]->cookie;
    call->cookie_count = (UINT16)watched_count;
    if (!(any = watched_count != 0)) pump_running = FALSE;
    ReleaseSRWLockExclusive(&pump_lock);
    return any;
}

/* Points *binding at the agent running now (a restarted one listens on a new endpoint). */
static BOOL bind_to_agent(RPC_BINDING_HANDLE *binding, WCHAR *endpoint, DWORD size)
{
    WCHAR now[NAPAGENT_ENDPOINT_MAX];

    if (!agent_endpoint_find(now, ARRAYSIZE(now))) return FALSE;
    if (*binding && !lstrcmpW(now, endpoint)) return TRUE;
    if (*binding) RpcBindingFree(binding);
    return agent_endpoint_bind_to(binding, endpoint, size) == RPC_S_OK;
}

static void pump(void)
{
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX] = { 0 };
    RPC_BINDING_HANDLE binding = NULL;
    DWORD retry_ms = PUMP_RETRY_FIRST_MS;
    struct poll_call *call = &pump_call;

    while (collect_cookies(call))
    {
        HRESULT hr = E_FAIL;

        call->events = NULL;
        call->event_count = 0;
        if (bind_to_agent(&binding, endpoint, ARRAYSIZE(endpoint)))
        {
            call->binding = binding;
            hr = rpc_guarded_call(poll_thunk, call, NULL);
        }
        if (SUCCEEDED(hr))
        {
            retry_ms = PUMP_RETRY_FIRST_MS;
            deliver(call->events, call->event_count);
        }
        else
        {
            /* Gone, or refusing us: the sessions find out for themselves. */
            lose_all();
            if (binding) RpcBindingFree(&binding);
            Sleep(retry_ms);
            retry_ms = min(retry_ms * 2, PUMP_RETRY_MAX_MS);
        }
        MIDL_user_free(call->events);
    }
    if (binding) RpcBindingFree(&binding);
}

/* A module thread: it keeps qagent.dll loaded under a poll still in the agent. */
static DWORD WINAPI pump_thread(void *unused)
{
    (void)unused;
    pump();
    return 0;
}

/* Caller holds pump_lock. */
static HRESULT start_pump(void)
{
    HANDLE thread;

    if (pump_running) return S_OK;
    if (!(thread = module_thread_start(pump_thread, NULL, NULL))) return HRESULT_FROM_WIN32(GetLastError());
    CloseHandle(thread);
    pump_running = TRUE;
    return S_OK;
}

HRESULT event_pump_watch(struct event_mailbox *mailbox, UINT64 cookie)
{
    UINT32 pending;
    HRESULT hr = S_OK;
    unsigned int k;

    AcquireSRWLockExclusive(&pump_lock);
    for (k = 0; k < watched_count && watched[k] != mailbox; k++);
    if (k == watched_count && watched_count == NAPAGENT_MAX_POLLED_COOKIES) hr = E_OUTOFMEMORY;
    else hr = start_pump();
    if (SUCCEEDED(hr))
    {
        if (k == watched_count) watched[watched_count++] = mailbox;
        /* A CLOSED still pending was about the session watched before. */
        if (mailbox->cookie != cookie) mailbox->pending &= ~EVENT_BIT(NAPAGENT_EVENT_CLOSED);
        mailbox->cookie = cookie;
        if ((pending = claim_strays(cookie, GetTickCount64())))
        {
            mailbox->pending |= pending;
            WakeAllConditionVariable(&mail_cv);
        }
    }
    ReleaseSRWLockExclusive(&pump_lock);
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
