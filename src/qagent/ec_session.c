/*
 * One EC session with the agent, and the thread that runs the EC's callbacks
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "agent_link.h"
#include "event_pump.h"
#include "module_thread.h"

/* The process's event pump (event_pump.c) fetches the session's events; the
 * thread waits for them this long before it looks at its link again. */
#define EVENT_WAIT_MS 5000
/* Pauses between attempts to reach an agent that is gone: short at first, so
 * callbacks resume quickly after a restart, then no busier than 5 a second. */
#define EVENT_RETRY_FIRST_MS 5
#define EVENT_RETRY_MAX_MS 200

struct ec_session
{
    LONG refs;
    struct session_link *link;
    DWORD timeout_ms;
    /* Held while a callback runs, so that Uninitialize from another thread
     * waits for it before dropping the callback. */
    CRITICAL_SECTION callback_cs;
    INapEnforcementClientCallback *callback;   /* NULL once dropped */
    struct connection_quota *quota;            /* the binding's: connections released */
    struct event_mailbox mailbox;
    HANDLE thread;
    DWORD thread_id;
    volatile LONG stopping;
    volatile LONG dropped;
};

void ec_session_addref(struct ec_session *session)
{
    InterlockedIncrement(&session->refs);
}

static void drop_callback(struct ec_session *session)
{
    INapEnforcementClientCallback *callback;

    EnterCriticalSection(&session->callback_cs);
    callback = session->callback;
    session->callback = NULL;
    LeaveCriticalSection(&session->callback_cs);
    if (callback) INapEnforcementClientCallback_Release(callback);
}

void ec_session_release(struct ec_session *session)
{
    if (InterlockedDecrement(&session->refs)) return;
    session_link_free(session->link);
    drop_callback(session);
    if (session->quota) connection_quota_release(session->quota);
    if (session->thread) CloseHandle(session->thread);
    event_mailbox_destroy(&session->mailbox);
    DeleteCriticalSection(&session->callback_cs);
    HeapFree(GetProcessHeap(), 0, session);
    com_server_object_destroyed();
}

struct session_link *ec_session_link(struct ec_session *session)
{
    return session->link;
}

BOOL ec_session_dropped(struct ec_session *session)
{
    return session->dropped != 0;
}

/* An EC callback may answer RPC_S_SERVER_UNAVAILABLE bare or as an HRESULT. */
static BOOL callback_says_gone(HRESULT hr)
{
    return hr == RPC_S_SERVER_UNAVAILABLE || hr == HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE);
}

static void drop_session(struct ec_session *session)
{
    InterlockedExchange(&session->dropped, 1);
    agent_link_callback_gone(session->link);
}

/* The agent owns what GetConnections returns: the array, the struct and one
 * reference per connection (docs/decisions.md). */
static void free_connections(Connections *connections)
{
    UINT16 i;

    if (!connections) return;
    for (i = 0; i < connections->count && connections->connections; i++)
        if (connections->connections[i]) INapEnforcementClientConnection_Release(connections->connections[i]);
    CoTaskMemFree(connections->connections);
    CoTaskMemFree(connections);
}

/* Caller holds callback_cs. */
static void answer_get_connections(struct ec_session *session)
{
    NAPAGENT_CONNECTION_FACTS facts[NAPAGENT_MAX_CONNECTIONS];
    Connections *connections = NULL;
    UINT16 i, count = 0;
    HRESULT hr;

    hr = INapEnforcementClientCallback_GetConnections(session->callback, &connections);
    if (callback_says_gone(hr))
    {
        free_connections(connections);
        drop_session(session);
        return;
    }
    if (SUCCEEDED(hr) && connections && connections->connections)
    {
        for (i = 0; i < connections->count && count < NAPAGENT_MAX_CONNECTIONS; i++)
        {
            INapEnforcementClientConnection *connection = connections->connections[i];
            if (connection && SUCCEEDED(connection_read_facts(connection, &facts[count]))) count++;
        }
    }
    free_connections(connections);
    /* A failed callback answers "no connections up", which is also what it says. */
    agent_link_answer_connections(session->link, count, facts);
}

void ec_session_report_gone(struct ec_session *session)
{
    NAPAGENT_CONNECTION_FACTS gone[NAPAGENT_MAX_GONE];
    UINT16 count = connection_quota_take_gone(session->quota, gone, ARRAYSIZE(gone));

    /* If the agent does not hear it, it re-learns the live connections
     * (GetConnections) when it comes back: nothing to keep. */
    if (count) agent_link_connections_gone(session->link, count, gone);
}

/* A connection object ended, on whichever thread released it: the event
 * thread tells the agent, so that it stops counting at once. */
static void wake_for_gone(void *context)
{
    struct ec_session *session = context;

    event_mailbox_wake(&session->mailbox);
}

/* Runs what the pump posted, in the order the agent queues it. */
static void run_events(struct ec_session *session, UINT32 pending)
{
    HRESULT hr;

    EnterCriticalSection(&session->callback_cs);
    if (session->callback && !session->stopping && (pending & EVENT_BIT(NAPAGENT_EVENT_GET_CONNECTIONS)))
        answer_get_connections(session);
    if (session->callback && !session->stopping && !session->dropped
        && (pending & EVENT_BIT(NAPAGENT_EVENT_SOH_CHANGE)))
    {
        hr = INapEnforcementClientCallback_NotifySoHChange(session->callback);
        if (callback_says_gone(hr)) drop_session(session);
    }
    LeaveCriticalSection(&session->callback_cs);
}

static DWORD WINAPI event_thread(void *arg)
{
    struct ec_session *session = arg;
    HRESULT init = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    DWORD retry_ms = EVENT_RETRY_FIRST_MS;
    void *watched_handle = NULL;
    UINT64 watched_cookie = 0;
    UINT32 carried = 0;      /* taken while retrying, run once bound again */

    while (!session->stopping && !session->dropped)
    {
        RPC_BINDING_HANDLE binding;
        UINT64 cookie;
        void *handle;
        UINT32 pending;

        /* Binds again first if the agent lost the session. */
        if (FAILED(session_link_wait_begin(session->link, &binding, &cookie, &handle))
            || (cookie != watched_cookie && FAILED(event_pump_watch(&session->mailbox, cookie))))
        {
            /* The agent is gone or hung: try again, the binding rebinds when
             * it is back.  A CLOSED meanwhile was about the session lost. */
            carried |= event_mailbox_wait(&session->mailbox, retry_ms) & ~EVENT_BIT(NAPAGENT_EVENT_CLOSED);
            retry_ms = min(retry_ms * 2, EVENT_RETRY_MAX_MS);
            continue;
        }
        retry_ms = EVENT_RETRY_FIRST_MS;
        watched_cookie = cookie;
        watched_handle = handle;
        pending = carried | event_mailbox_wait(&session->mailbox, carried ? 0 : EVENT_WAIT_MS);
        carried = 0;
        if (session->stopping) break;
        ec_session_report_gone(session);
        if (pending & EVENT_BIT(NAPAGENT_EVENT_CLOSED))
        {
            /* Closed by us: the end.  Otherwise the agent lost us: rebind. */
            watched_cookie = 0;
            if (session_link_wait_lost(session->link, watched_handle)) break;
            continue;
        }
        run_events(session, pending);
    }
    event_pump_unwatch(&session->mailbox);
    /* Uninitialize from inside a callback left the callback to us. */
    drop_callback(session);
    if (SUCCEEDED(init)) CoUninitialize();
    ec_session_release(session);
    return 0;
}

HRESULT ec_session_start(EnforcementEntityId id, INapEnforcementClientCallback *callback,
                         struct connection_quota *quota, struct ec_session **out)
{
    struct ec_session *session;
    HRESULT hr;

    *out = NULL;
    if (!(session = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*session)))) return E_OUTOFMEMORY;
    session->refs = 1;
    session->timeout_ms = read_call_timeout();
    InitializeCriticalSection(&session->callback_cs);
    com_server_object_created();
    event_mailbox_init(&session->mailbox);
    session->quota = quota;
    connection_quota_addref(quota);
    hr = agent_link_bind(id, session->timeout_ms, &session->link);
    if (FAILED(hr))
    {
        ec_session_release(session);
        return hr;
    }
    session->callback = callback;
    INapEnforcementClientCallback_AddRef(callback);

    ec_session_addref(session); /* the event thread's */
    session->thread = module_thread_start(event_thread, session, &session->thread_id);
    if (!session->thread)
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        ec_session_release(session);
        ec_session_release(session);
        return hr;
    }
    connection_quota_watch(quota, wake_for_gone, session);
    *out = session;
    return S_OK;
}

HRESULT ec_session_stop(struct ec_session *session)
{
    HRESULT hr;

    InterlockedExchange(&session->stopping, 1);
    connection_quota_watch(session->quota, NULL, NULL);
    hr = session_link_unbind(session->link);
    event_mailbox_wake(&session->mailbox);
    if (GetCurrentThreadId() != session->thread_id)
    {
        /* Waits for a callback in flight, then no callback runs any more. */
        drop_callback(session);
        /* Bounded: a thread stuck in a hung agent ends on its own later. */
        WaitForSingleObject(session->thread, session->timeout_ms);
    }
    /* From inside a callback the thread is ours: it drops the callback once
     * the callback has returned. */
    ec_session_release(session);
    return hr;
}
