/*
 * One EC session with the agent, and the thread that runs the EC's callbacks
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "agent_link.h"

/* How long one long poll waits in the agent before it answers "no event". */
#define EVENT_POLL_MS 5000
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
    if (session->thread) CloseHandle(session->thread);
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

static void run_event(struct ec_session *session, UINT32 event)
{
    HRESULT hr;

    EnterCriticalSection(&session->callback_cs);
    if (session->callback && !session->stopping)
    {
        switch (event)
        {
        case NAPAGENT_EVENT_SOH_CHANGE:
            hr = INapEnforcementClientCallback_NotifySoHChange(session->callback);
            if (callback_says_gone(hr)) drop_session(session);
            break;
        case NAPAGENT_EVENT_GET_CONNECTIONS:
            answer_get_connections(session);
            break;
        default:
            break;
        }
    }
    LeaveCriticalSection(&session->callback_cs);
}

static DWORD WINAPI event_thread(void *arg)
{
    struct ec_session *session = arg;
    HRESULT init = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    DWORD retry_ms = EVENT_RETRY_FIRST_MS;

    while (!session->stopping && !session->dropped)
    {
        UINT32 event;
        HRESULT hr = agent_link_wait_event(session->link, EVENT_POLL_MS, &event);

        if (session->stopping) break;
        if (FAILED(hr))
        {
            /* The agent is gone or hung: try again, the binding rebinds when it is back. */
            Sleep(retry_ms);
            retry_ms = min(retry_ms * 2, EVENT_RETRY_MAX_MS);
            continue;
        }
        retry_ms = EVENT_RETRY_FIRST_MS;
        if (event == NAPAGENT_EVENT_CLOSED) break;
        run_event(session, event);
    }
    /* Uninitialize from inside a callback left the callback to us. */
    drop_callback(session);
    if (SUCCEEDED(init)) CoUninitialize();
    ec_session_release(session);
    return 0;
}

HRESULT ec_session_start(EnforcementEntityId id, INapEnforcementClientCallback *callback, struct ec_session **out)
{
    struct ec_session *session;
    HRESULT hr;

    *out = NULL;
    if (!(session = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*session)))) return E_OUTOFMEMORY;
    session->refs = 1;
    session->timeout_ms = read_call_timeout();
    InitializeCriticalSection(&session->callback_cs);
    com_server_object_created();
    hr = agent_link_bind(id, session->timeout_ms, &session->link);
    if (FAILED(hr))
    {
        ec_session_release(session);
        return hr;
    }
    session->callback = callback;
    INapEnforcementClientCallback_AddRef(callback);

    ec_session_addref(session); /* the event thread's */
    session->thread = CreateThread(NULL, 0, event_thread, session, 0, &session->thread_id);
    if (!session->thread)
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        ec_session_release(session);
        ec_session_release(session);
        return hr;
    }
    *out = session;
    return S_OK;
}

HRESULT ec_session_stop(struct ec_session *session)
{
    HRESULT hr;

    InterlockedExchange(&session->stopping, 1);
    /* Unbinding wakes the event thread's long poll with NAPAGENT_EVENT_CLOSED. */
    hr = session_link_unbind(session->link);
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
