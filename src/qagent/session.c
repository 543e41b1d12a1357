/*
 * One bound EC or SHA: its session in the agent and the thread that runs its callbacks
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "session.h"
#include "callback_gate.h"
#include "courier.h"
#include "agent_call.h"
#include "module_thread.h"
#include "nap_trace.h"

NAP_TRACE_CHANNEL(qagent);

/* The process's event pump (event_pump.c) fetches the session's events; the
 * thread waits for them this long before it looks at its session again. */
#define EVENT_WAIT_MS 5000
/* Pauses between attempts to reach an agent that is gone: short at first,
 * so callbacks resume quickly after a restart, then no busier than 5 a second. */
#define EVENT_RETRY_FIRST_MS 5
#define EVENT_RETRY_MAX_MS 200
/* How often Uninitialize from another thread looks whether a callback ended. */
#define CALLBACK_POLL_MS 5

void session_addref(struct session *session)
{
    InterlockedIncrement(&session->refs);
}

/* Waits for a callback in flight on the session's thread until the
 * deadline, then no callback runs any more: the direct one is released here,
 * a gated one by its gate, in its apartment.  FALSE if the callback was
 * still running then: the callback thread drops it once it has returned. */
static BOOL drop_callback(struct session *session, ULONGLONG deadline)
{
    struct courier *courier;
    IUnknown *callback;

    if (session->gate) callback_gate_close(session->gate);
    /* A callback may block for as long as it likes (the SDK lets an EC do
     * its exchange in NotifySoHChange): never wait for it past the bound. */
    while (!TryEnterCriticalSection(&session->callback_cs))
    {
        if (GetTickCount64() >= deadline) return FALSE;
        Sleep(CALLBACK_POLL_MS);
    }
    callback = session->callback;
    session->callback = NULL;
    courier = session->courier;
    session->courier = NULL;
    LeaveCriticalSection(&session->callback_cs);
    if (callback) IUnknown_Release(callback);
    if (courier) courier_stop(courier);
    return TRUE;
}

void session_release(struct session *session)
{
    if (InterlockedDecrement(&session->refs)) return;
    agent_session_close(&session->agent, agent_call_deadline(&session->agent));
    agent_session_free(&session->agent);
    /* No callback runs now: the callback thread held a reference. */
    drop_callback(session, ~(ULONGLONG)0);
    if (session->thread) CloseHandle(session->thread);
    event_mailbox_destroy(&session->mailbox);
    if (session->context && session->type->free_context) session->type->free_context(session->context);
    if (session->gate) callback_gate_free(session->gate);
    DeleteCriticalSection(&session->callback_cs);
    HeapFree(GetProcessHeap(), 0, session);
    com_server_object_destroyed();
}

BOOL session_dropped(struct session *session)
{
    return session->dropped || agent_session_dropped(&session->agent);
}

static HRESULT gone_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *args)
{
    (void)args;
    return NapAgentCallbackGone(agent, cookie);
}

static const struct agent_method gone_method = { .name = "NapAgentCallbackGone", .stub = gone_stub, .args_size = 0 };

BOOL session_callback_gone(struct session *session, HRESULT hr)
{
    if (hr != RPC_S_SERVER_UNAVAILABLE && hr != HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE)) return FALSE;
    WARN("%s: the callback answered 0x%08lx: the agent drops it\n", agent_session_name(&session->agent), hr);
    InterlockedExchange(&session->dropped, 1);
    agent_call(&session->agent, &gone_method, NULL);
    /* No opening it again behind the client's back. */
    agent_session_drop(&session->agent);
    return TRUE;
}

/* Caller holds nothing; takes the event.  Runs its callback here under the
 * callback lock, or hands it to the courier of a gated callback. */
static void run_event(struct session *session, struct mailbox_event *event)
{
    EnterCriticalSection(&session->callback_cs);
    if (session->stopping || session->dropped) ;
    else if (session->callback) session->type->run_event(session, session->callback, &event->event);
    else if (session->courier)
    {
        courier_post(session->courier, event);
        event = NULL;
    }
    LeaveCriticalSection(&session->callback_cs);
    mailbox_event_free(event);
}

/* On the courier, in order, while the gate's apartment takes them. */
static void run_gated_event(void *context, IUnknown *callback, const NAPAGENT_EVENT *event)
{
    struct session *session = context;

    if (!session->stopping && !session->dropped) session->type->run_event(session, callback, event);
}

static void courier_done(void *context)
{
    session_release(context);
}

/* One turn of the callback thread: the session open and watched, then one
 * event run.  FALSE when the session is over. */
static BOOL serve(struct session *session, UINT64 *watched, DWORD *retry_ms)
{
    struct mailbox_event *event;
    UINT64 cookie;

    /* Opens it again first if the agent lost it. */
    if (FAILED(agent_session_ready(&session->agent, agent_call_deadline(&session->agent), &cookie))
        || (cookie != *watched && FAILED(event_pump_watch(&session->mailbox, cookie))))
    {
        /* The agent is gone or hung: try again; events wait in the mailbox. */
        if (agent_session_closed(&session->agent)) return FALSE;
        event_mailbox_wait(&session->mailbox, *retry_ms, FALSE);
        *retry_ms = min(*retry_ms * 2, EVENT_RETRY_MAX_MS);
        return TRUE;
    }
    *retry_ms = EVENT_RETRY_FIRST_MS;
    *watched = cookie;
    event = event_mailbox_wait(&session->mailbox, EVENT_WAIT_MS, TRUE);
    if (session->stopping)
    {
        mailbox_event_free(event);
        return FALSE;
    }
    if (session->type->idle) session->type->idle(session);
    if (event && event->event.type == NAPAGENT_EVENT_CLOSED)
    {
        /* Closed by us: the end.  Otherwise the agent lost it: open it again. */
        *watched = 0;
        agent_session_lost(&session->agent, cookie);
    }
    else if (event)
    {
        run_event(session, event);
        event = NULL;
    }
    mailbox_event_free(event);
    return !agent_session_closed(&session->agent);
}

static DWORD WINAPI callback_thread(void *arg)
{
    struct session *session = arg;
    HRESULT init = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    DWORD retry_ms = EVENT_RETRY_FIRST_MS;
    UINT64 watched = 0;

    while (!session->stopping && !session->dropped && serve(session, &watched, &retry_ms));
    event_pump_unwatch(&session->mailbox);
    /* Uninitialize from inside a callback, or from another thread that
     * could not wait for the callback, left the callback to us. */
    drop_callback(session, ~(ULONGLONG)0);
    if (SUCCEEDED(init)) CoUninitialize();
    session_release(session);
    return 0;
}

/* The callback called directly, or through its gate by a courier of its own. */
static HRESULT attach_callback(struct session *session, IUnknown *callback, REFIID iid, IStream *stream)
{
    HRESULT hr;

    if (!session->gate)
    {
        session->callback = callback;
        IUnknown_AddRef(callback);
        return S_OK;
    }
    session_addref(session); /* the courier's */
    if (FAILED(hr = courier_start(stream, iid, run_gated_event, courier_done, session, &session->courier)))
        session_release(session);
    return hr;
}

HRESULT session_start(const struct session_type *type, UINT32 id, IUnknown *callback, REFIID iid, void *context,
                      struct session **out)
{
    struct session *session;
    IStream *stream = NULL;
    HRESULT hr;

    *out = NULL;
    if (!(session = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*session))))
    {
        if (context && type->free_context) type->free_context(context);
        return E_OUTOFMEMORY;
    }
    session->refs = 1;
    session->type = type;
    session->context = context;
    InitializeCriticalSection(&session->callback_cs);
    event_mailbox_init(&session->mailbox);
    com_server_object_created();
    /* Where the callback lives is learnt here, on Initialize's thread. */
    if (FAILED(hr = callback_gate_open(callback, iid, &session->gate, &stream))
        || FAILED(hr = agent_session_open(&session->agent, type->kind, id))
        || FAILED(hr = attach_callback(session, callback, iid, stream)))
    {
        /* A stream no courier took goes here, in the gate's apartment. */
        if (stream && !session->courier) callback_gate_discard(stream);
        session_release(session);
        return hr;
    }
    session_addref(session); /* the callback thread's */
    /* The thread keeps qagent.dll loaded until it has left it. */
    if (!(session->thread = module_thread_start(callback_thread, session, &session->thread_id)))
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        drop_callback(session, ~(ULONGLONG)0);
        session_release(session);
        session_release(session);
        return hr;
    }
    *out = session;
    return S_OK;
}

/* A gated callback: the session's thread never runs it, so it is not waited
 * for; the gate is, for the callback running in its apartment, at most the
 * call bound and not past the deadline (the apartment may not pump:
 * docs/decisions.md, "Apartments").  From inside that callback it is
 * released once the callback returns; on the apartment's thread outside
 * one, it was released by the close. */
static void stop_gated(struct session *session, ULONGLONG deadline)
{
    BOOL inside = callback_gate_inside(session->gate);
    ULONGLONG until = min(deadline, agent_call_deadline(&session->agent)), now;

    drop_callback(session, ~(ULONGLONG)0);
    if (inside) return;
    now = GetTickCount64();
    if (!callback_gate_wait_released(session->gate, now < until ? (DWORD)(until - now) : 0))
        WARN("%s: the callback's apartment did not answer in time\n", agent_session_name(&session->agent));
}

HRESULT session_stop(struct session *session, ULONGLONG deadline)
{
    ULONGLONG now;
    HRESULT hr;

    InterlockedExchange(&session->stopping, 1);
    /* No callback starts in the client's apartment from now on. */
    if (session->gate) callback_gate_close(session->gate);
    if (session->type->stopping) session->type->stopping(session);
    hr = agent_session_close(&session->agent, min(deadline, agent_call_deadline(&session->agent)));
    event_mailbox_wake(&session->mailbox);
    if (session->gate) stop_gated(session, deadline);
    else if (GetCurrentThreadId() != session->thread_id)
    {
        /* A callback in flight: waited for, at most one call bound (and
         * not past the deadline); past that the callback thread drops it,
         * and ends, once the callback has returned: no use waiting for it.
         * A thread stuck in a hung agent ends on its own later. */
        if (drop_callback(session, min(deadline, agent_call_deadline(&session->agent)))
            && (now = GetTickCount64()) < deadline)
            WaitForSingleObject(session->thread, (DWORD)(deadline - now));
    }
    /* From inside a callback the thread is ours: it drops the callback once
     * the callback has returned. */
    session_release(session);
    return hr;
}
