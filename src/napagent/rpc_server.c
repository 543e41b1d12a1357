/*
 * The agent's RPC endpoint and the manager routines every session shares
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"
#include <rpcdcep.h>
#include "agent_endpoint.h"

static WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];

RPC_STATUS agent_rpc_start(void)
{
    RPC_STATUS status;

    /* A name of our own (agent_endpoint.h says why); ncalrpc is reachable
     * from this machine only: local callers only. */
    wsprintfW(endpoint, L"napagent-%lu", GetCurrentProcessId());
    status = RpcServerUseProtseqEpW((RPC_WSTR)NAPAGENT_PROTSEQ, RPC_C_PROTSEQ_MAX_REQS_DEFAULT,
                                    (RPC_WSTR)endpoint, NULL);
    if (status != RPC_S_OK && status != RPC_S_DUPLICATE_ENDPOINT) return status;
    status = RpcServerRegisterIfEx(NapAgentRpc_v2_0_s_ifspec, NULL, NULL, RPC_IF_AUTOLISTEN,
                                   RPC_C_LISTEN_MAX_CALLS_DEFAULT, NULL);
    if (status != RPC_S_OK) return status;
    if (!agent_endpoint_publish(endpoint)) return RPC_S_CANT_CREATE_ENDPOINT;
    agent_log(AGENT_LOG_INFO, "listening on %ls:%ls", NAPAGENT_PROTSEQ, endpoint);
    return RPC_S_OK;
}

void agent_rpc_stop(void)
{
    agent_endpoint_withdraw(endpoint);
    RpcServerUnregisterIf(NapAgentRpc_v2_0_s_ifspec, NULL, FALSE);
}

/* A session's context handle carries its cookie, not a pointer: a session
 * closed otherwise (replaced, ended, its client's death) is freed at once,
 * and the handle's close or rundown later finds nothing to close. */
static UINT64 handle_cookie(NAPAGENT_SESSION_HANDLE handle)
{
    return (UINT64)(ULONG_PTR)handle;
}

/* The client that held this context handle exited, was killed or crashed. */
void __RPC_USER NAPAGENT_SESSION_HANDLE_rundown(NAPAGENT_SESSION_HANDLE session)
{
    if (session) session_end(handle_cookie(session));
}

HRESULT __cdecl NapAgentPing(handle_t binding, UINT16 size, const BYTE *data, NAPAGENT_BLOB *echo)
{
    (void)binding;
    echo->size = 0;
    if (!(echo->data = MIDL_user_allocate(size ? size : 1))) return E_OUTOFMEMORY;
    memcpy(echo->data, data, size);
    echo->size = size;
    return S_OK;
}

/* Trust the transport over the caller's word for who is calling.  NULL
 * means "this call": passing the binding handle to Wine's
 * I_RpcBindingInqLocalClientPID faults (docs/wine.md). */
static DWORD caller_pid(UINT32 claimed)
{
    unsigned long pid;

    if (I_RpcBindingInqLocalClientPID(NULL, &pid) == RPC_S_OK) return pid;
    agent_log(AGENT_LOG_WARNING, "cannot ask the transport for the caller's pid; it says %u", claimed);
    return claimed;
}

HRESULT __cdecl NapAgentOpenSession(handle_t binding, UINT32 kind, UINT32 id, UINT32 process_id,
                                    UINT64 previous_cookie, UINT64 *cookie, NAPAGENT_SESSION_HANDLE *handle)
{
    const struct session_kind *ops = kind == NAPAGENT_KIND_EC ? &ec_kind : kind == NAPAGENT_KIND_SHA ? &sha_kind : NULL;
    HRESULT hr;

    (void)binding;
    *handle = NULL;
    *cookie = 0;
    if (!ops) return E_INVALIDARG;
    if (SUCCEEDED(hr = session_open(ops, id, caller_pid(process_id), previous_cookie, cookie)))
        *handle = (NAPAGENT_SESSION_HANDLE)(ULONG_PTR)*cookie;
    return hr;
}

HRESULT __cdecl NapAgentCloseSession(NAPAGENT_SESSION_HANDLE *handle)
{
    if (!*handle) return NAP_E_NOT_INITIALIZED;
    session_end(handle_cookie(*handle));
    *handle = NULL;
    return S_OK;
}

HRESULT __cdecl NapAgentEndSession(handle_t binding, UINT64 cookie)
{
    (void)binding;
    return session_end(cookie);
}

HRESULT __cdecl NapAgentCallbackGone(handle_t binding, UINT64 cookie)
{
    struct session *session;

    (void)binding;
    if (!(session = session_find(cookie, NAPAGENT_KIND_EC)) && !(session = session_find(cookie, NAPAGENT_KIND_SHA)))
        return NAP_E_NOT_INITIALIZED;
    session_close(session, TRUE);
    session_put(session);
    return S_OK;
}

HRESULT __cdecl NapAgentWaitEvents(handle_t binding, UINT32 process_id, NAPAGENT_EVENTS_SEEN *seen,
                                   UINT16 cookie_count, const UINT64 *cookies, UINT32 timeout_ms, UINT16 *event_count,
                                   NAPAGENT_EVENT **events)
{
    (void)binding;
    return sessions_wait_events(caller_pid(process_id), seen, cookies, cookie_count, timeout_ms, event_count, events);
}
