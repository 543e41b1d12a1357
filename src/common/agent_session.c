/*
 * A client's end of one session in the NapAgent: opened, lost, opened again, closed
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_session.h"
#include "agent_call.h"
#include "call_timeout.h"
#include "napagent_rpc.h"
#include "rpc_guard.h"
#include "nap_trace.h"

NAP_TRACE_USE_MODULE_CHANNEL();

struct open_args
{
    UINT32 kind;
    UINT32 id;
    UINT64 previous_cookie;
    UINT64 cookie;
    NAPAGENT_SESSION_HANDLE handle;
};

static HRESULT open_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    struct open_args *args = arg;

    (void)cookie;
    return NapAgentOpenSession(agent, args->kind, args->id, GetCurrentProcessId(), args->previous_cookie,
                               &args->cookie, &args->handle);
}

static HRESULT close_handle_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *handle)
{
    (void)agent; (void)cookie;
    return NapAgentCloseSession(handle);
}

/* An open that finished after its caller gave up: nobody will use it. */
static void open_free(void *arg)
{
    struct open_args *args = arg;

    if (args->handle && FAILED(rpc_guarded_call(close_handle_stub, NULL, 0, &args->handle, NULL)) && args->handle)
        RpcSsDestroyClientContext(&args->handle);
}

static const struct agent_method open_method =
{
    .name = "NapAgentOpenSession",
    .stub = open_stub,
    .free_out = open_free,
    .args_size = sizeof(struct open_args),
    .no_rebind = TRUE
};
/* Initialize, as on Windows, starts the demand-start service. */
static const struct agent_method first_open_method =
{
    .name = "NapAgentOpenSession",
    .stub = open_stub,
    .free_out = open_free,
    .args_size = sizeof(struct open_args),
    .may_start_agent = TRUE,
    .no_rebind = TRUE
};

struct close_args
{
    NAPAGENT_SESSION_HANDLE handle;
};

static HRESULT close_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    return NapAgentCloseSession(&((struct close_args *)arg)->handle);
}

/* A close that failed or never finished: free the handle locally. */
static void close_free(void *arg)
{
    struct close_args *args = arg;

    if (args->handle) RpcSsDestroyClientContext(&args->handle);
}

static const struct agent_method close_method =
{
    .name = "NapAgentCloseSession",
    .stub = close_stub,
    .free_out = close_free,
    .args_size = sizeof(struct close_args),
    .no_rebind = TRUE
};

struct end_args
{
    UINT64 cookie;
};

static HRESULT end_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *args)
{
    (void)cookie;
    return NapAgentEndSession(agent, ((struct end_args *)args)->cookie);
}

static const struct agent_method end_method =
    { .name = "NapAgentEndSession", .stub = end_stub, .args_size = sizeof(struct end_args), .no_rebind = TRUE };

/* Closes the session by its cookie: an agent that does not know it has
 * nothing to close. */
static HRESULT end_session(struct agent_session *session, UINT64 cookie, ULONGLONG deadline)
{
    struct end_args args = { cookie };
    HRESULT hr = agent_call_until(session, &end_method, &args, deadline);

    return hr == RPC_E_DISCONNECTED || hr == RPC_E_TIMEOUT ? hr : S_OK;
}

const char *agent_session_name(const struct agent_session *session)
{
    return nap_dbgstr_an("%s %u", session->kind == NAPAGENT_KIND_SHA ? "SHA" : "EC", session->id);
}

/* Caller holds session->lock: keeps the forgotten handle for freeing later. */
static void retire(struct agent_session *session)
{
    if (!session->handle) return;
    if (session->retired_count == AGENT_SESSION_RETIRED)
    {
        RpcSsDestroyClientContext(&session->retired[0]);
        memmove(session->retired, session->retired + 1, sizeof(session->retired[0]) * (AGENT_SESSION_RETIRED - 1));
        session->retired_count--;
    }
    session->retired[session->retired_count++] = session->handle;
    session->handle = NULL;
}

/* Caller holds session->lock.  Waits (until the deadline) for another
 * thread's opening; S_FALSE when this thread is to open it. */
static HRESULT wait_for_opener(struct agent_session *session, ULONGLONG deadline)
{
    while (session->opening && !session->handle && !session->closed)
    {
        ULONGLONG now = GetTickCount64();
        if (now >= deadline) break;
        SleepConditionVariableSRW(&session->opened_cv, &session->lock, (DWORD)(deadline - now), 0);
    }
    if (session->closed) return NAP_E_NOT_INITIALIZED;
    if (session->handle) return S_OK;
    return session->opening ? RPC_E_TIMEOUT : S_FALSE;
}

/* The agent answered a reopen with no, and means it: the component was
 * disabled or unregistered meanwhile, or another binding (another process)
 * bound its id while the agent was away.  Asking again changes nothing. */
static BOOL refused_for_good(HRESULT hr)
{
    return hr == NAP_E_ENTITY_DISABLED || hr == NAP_E_NOT_REGISTERED
           || hr == HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED);
}

/* Caller holds session->lock: what a reopen's answer does to the session. */
static HRESULT reopen_answered(struct agent_session *session, HRESULT hr)
{
    if (!refused_for_good(hr)) return hr;
    /* An open of ours that timed out may have reached the agent after all
     * (its worker closes it as soon as it ends): ask once more first. */
    if (hr == HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED) && session->open_abandoned)
    {
        session->open_abandoned = FALSE;
        return RPC_E_DISCONNECTED;
    }
    WARN("%s: the agent refuses it (0x%08lx): dropped\n", agent_session_name(session), hr);
    session->closed = session->dropped = TRUE;
    return NAP_E_NOT_INITIALIZED;
}

/* An open that ended after its session was closed: nobody will use it.
 * Closed on a worker, so that the caller's deadline holds against a hung
 * agent; freed locally when no worker can be had. */
static void close_orphan(NAPAGENT_SESSION_HANDLE handle)
{
    struct close_args args = { handle };

    if (FAILED(agent_call_detached(&close_method, &args))) close_free(&args);
}

/* Opens the session (again); only one thread opens at a time, the others
 * wait for it, all within their deadline. */
static HRESULT open_session(struct agent_session *session, const struct agent_method *method, ULONGLONG deadline,
                            UINT64 *cookie)
{
    struct open_args args = { session->kind, session->id, 0, 0, NULL };
    HRESULT hr;

    AcquireSRWLockExclusive(&session->lock);
    hr = wait_for_opener(session, deadline);
    *cookie = args.previous_cookie = session->cookie;
    if (hr != S_FALSE)
    {
        ReleaseSRWLockExclusive(&session->lock);
        return hr;
    }
    session->opening = TRUE;
    ReleaseSRWLockExclusive(&session->lock);

    hr = agent_call_until(session, method, &args, deadline);

    AcquireSRWLockExclusive(&session->lock);
    session->open_abandoned = hr == RPC_E_TIMEOUT || (session->open_abandoned && FAILED(hr));
    if (SUCCEEDED(hr) && !session->closed)
    {
        session->handle = args.handle;
        *cookie = session->cookie = args.cookie;
        args.handle = NULL;
    }
    else if (SUCCEEDED(hr)) hr = NAP_E_NOT_INITIALIZED; /* closed meanwhile */
    else if (method == &open_method) hr = reopen_answered(session, hr);
    session->opening = FALSE;
    WakeAllConditionVariable(&session->opened_cv);
    ReleaseSRWLockExclusive(&session->lock);
    if (args.handle) close_orphan(args.handle);
    TRACE("%s: 0x%08lx\n", agent_session_name(session), hr);
    return hr;
}

HRESULT agent_session_open(struct agent_session *session, UINT32 kind, UINT32 id)
{
    UINT64 cookie;

    ZeroMemory(session, sizeof(*session));
    session->kind = kind;
    session->id = id;
    session->timeout_ms = read_call_timeout();
    InitializeSRWLock(&session->lock);
    InitializeConditionVariable(&session->opened_cv);
    return open_session(session, &first_open_method, agent_call_deadline(session), &cookie);
}

HRESULT agent_session_ready(struct agent_session *session, ULONGLONG deadline, UINT64 *cookie)
{
    return open_session(session, &open_method, deadline, cookie);
}

void agent_session_lost(struct agent_session *session, UINT64 cookie)
{
    AcquireSRWLockExclusive(&session->lock);
    if (session->cookie == cookie) retire(session);
    ReleaseSRWLockExclusive(&session->lock);
}

void agent_session_drop(struct agent_session *session)
{
    AcquireSRWLockExclusive(&session->lock);
    session->closed = session->dropped = TRUE;
    WakeAllConditionVariable(&session->opened_cv);
    ReleaseSRWLockExclusive(&session->lock);
}

BOOL agent_session_closed(struct agent_session *session)
{
    BOOL closed;

    AcquireSRWLockShared(&session->lock);
    closed = session->closed;
    ReleaseSRWLockShared(&session->lock);
    return closed;
}

BOOL agent_session_dropped(struct agent_session *session)
{
    BOOL dropped;

    AcquireSRWLockShared(&session->lock);
    dropped = session->dropped;
    ReleaseSRWLockShared(&session->lock);
    return dropped;
}

HRESULT agent_session_close(struct agent_session *session, ULONGLONG deadline)
{
    struct close_args args;
    UINT64 cookie;
    BOOL was_closed;
    HRESULT hr;

    AcquireSRWLockExclusive(&session->lock);
    was_closed = session->closed;
    session->closed = TRUE;
    cookie = session->cookie;
    args.handle = session->handle;
    session->handle = NULL;
    WakeAllConditionVariable(&session->opened_cv);
    ReleaseSRWLockExclusive(&session->lock);
    /* Not open: the agent dropped it, or it restarted and never knew it, or
     * it is not running, which is the one case to report. */
    if (!args.handle) return was_closed || !cookie ? S_OK : end_session(session, cookie, deadline);
    /* Timed out: the call keeps the handle, and frees it when it ends. */
    if ((hr = agent_call_until(session, &close_method, &args, deadline)) == RPC_E_TIMEOUT) return hr;
    /* The context handle is unknown on the connection rpcrt4 picked (Wine may
     * split one client's connections over two server associations): close
     * the session by its cookie, and free the handle locally. */
    if (hr == RPC_E_DISCONNECTED) hr = end_session(session, cookie, deadline);
    close_free(&args);
    return hr == RPC_E_DISCONNECTED || hr == RPC_E_TIMEOUT ? hr : S_OK;
}

void agent_session_free(struct agent_session *session)
{
    unsigned int i;

    if (session->handle) RpcSsDestroyClientContext(&session->handle);
    for (i = 0; i < session->retired_count; i++) RpcSsDestroyClientContext(&session->retired[i]);
    session->retired_count = 0;
}
