/*
 * The manager routines of the agent's system-health-agent sessions
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"
#include <rpcdcep.h>

/* The SHA that held this context handle exited, was killed or crashed. */
void __RPC_USER NAPAGENT_SHA_HANDLE_rundown(NAPAGENT_SHA_HANDLE sha)
{
    if (sha) sha_sessions_unbind(sha);
}

HRESULT __cdecl NapAgentShaBind(handle_t binding, UINT32 sha_id, UINT32 process_id, UINT64 previous_cookie,
                                UINT64 *cookie, NAPAGENT_SHA_HANDLE *sha)
{
    struct sha_session *session;
    unsigned long pid;
    HRESULT hr;

    (void)binding; /* see NapAgentEcBind: NULL means this call */
    *sha = NULL;
    *cookie = 0;
    if (I_RpcBindingInqLocalClientPID(NULL, &pid) != RPC_S_OK) pid = process_id;
    hr = sha_sessions_bind(sha_id, pid, previous_cookie, cookie, &session);
    if (SUCCEEDED(hr)) *sha = session;
    return hr;
}

HRESULT __cdecl NapAgentShaUnbind(NAPAGENT_SHA_HANDLE *sha)
{
    if (!*sha) return NAP_E_NOT_INITIALIZED;
    sha_sessions_unbind(*sha);
    *sha = NULL;
    return S_OK;
}

HRESULT __cdecl NapAgentShaEnd(handle_t binding, UINT64 cookie)
{
    (void)binding;
    return sha_sessions_end(cookie);
}

/* See WITH_SESSION in rpc_server.c. */
#define WITH_SHA_SESSION(cookie, session, call) do { \
    if (!((session) = sha_sessions_find(cookie))) return NAP_E_NOT_INITIALIZED; \
    hr = (call); \
    sha_sessions_put(session); \
    return hr; } while (0)

HRESULT __cdecl NapAgentShaNotifySoHChange(handle_t binding, UINT64 cookie, UINT64 call_seq)
{
    struct sha_session *session;
    HRESULT hr;

    (void)binding;
    WITH_SHA_SESSION(cookie, session, sha_sessions_notify_soh_change(session, call_seq));
}

HRESULT __cdecl NapAgentShaFlushCache(handle_t binding, UINT64 cookie, UINT64 call_seq)
{
    struct sha_session *session;
    HRESULT hr;

    (void)binding;
    WITH_SHA_SESSION(cookie, session, sha_sessions_flush_cache(session, call_seq));
}

HRESULT __cdecl NapAgentShaWaitEvent(handle_t binding, UINT64 cookie, UINT32 timeout_ms, NAPAGENT_SHA_EVENT *event)
{
    (void)binding;
    return sha_sessions_wait_event(cookie, timeout_ms, event);
}

HRESULT __cdecl NapAgentShaAnswer(handle_t binding, UINT64 cookie, UINT32 request_id,
                                  const NAPAGENT_SHA_ANSWER *answer)
{
    struct sha_session *session;
    HRESULT hr;

    (void)binding;
    WITH_SHA_SESSION(cookie, session, sha_sessions_answer(session, request_id, answer));
}

HRESULT __cdecl NapAgentShaCallbackGone(handle_t binding, UINT64 cookie)
{
    struct sha_session *session;
    HRESULT hr;

    (void)binding;
    WITH_SHA_SESSION(cookie, session, sha_sessions_callback_gone(session));
}
