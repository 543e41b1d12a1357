/*
 * The agent's RPC endpoint and the manager routines of its interface
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
    status = RpcServerRegisterIfEx(NapAgentRpc_v1_0_s_ifspec, NULL, NULL, RPC_IF_AUTOLISTEN,
                                   RPC_C_LISTEN_MAX_CALLS_DEFAULT, NULL);
    if (status != RPC_S_OK) return status;
    if (!agent_endpoint_publish(endpoint)) return RPC_S_CANT_CREATE_ENDPOINT;
    agent_log("listening on %ls:%ls", NAPAGENT_PROTSEQ, endpoint);
    return RPC_S_OK;
}

void agent_rpc_stop(void)
{
    agent_endpoint_withdraw(endpoint);
    RpcServerUnregisterIf(NapAgentRpc_v1_0_s_ifspec, NULL, FALSE);
}

/* The client that held this context handle exited, was killed or crashed. */
void __RPC_USER NAPAGENT_EC_HANDLE_rundown(NAPAGENT_EC_HANDLE ec)
{
    if (ec) sessions_unbind(ec);
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

HRESULT __cdecl NapAgentEcBind(handle_t binding, UINT32 ec_id, UINT32 process_id, UINT64 previous_cookie,
                               UINT64 *cookie, NAPAGENT_EC_HANDLE *ec)
{
    struct session *session;
    unsigned long pid;
    HRESULT hr;

    *ec = NULL;
    *cookie = 0;
    /* Trust the transport over the caller's word for who is calling. */
    (void)binding; /* passing it to Wine's I_RpcBindingInqLocalClientPID faults; NULL means this call */
    if (I_RpcBindingInqLocalClientPID(NULL, &pid) != RPC_S_OK)
    {
        agent_log("cannot ask the transport for the caller's pid; it says %u", process_id);
        pid = process_id;
    }
    hr = sessions_bind(ec_id, pid, previous_cookie, cookie, &session);
    if (SUCCEEDED(hr)) *ec = session;
    return hr;
}

HRESULT __cdecl NapAgentEcUnbind(NAPAGENT_EC_HANDLE *ec)
{
    if (!*ec) return NAP_E_NOT_INITIALIZED;
    sessions_unbind(*ec);
    *ec = NULL;
    return S_OK;
}

HRESULT __cdecl NapAgentEcEnd(handle_t binding, UINT64 cookie)
{
    (void)binding;
    return sessions_end(cookie);
}

/* The session a call names, with a reference; NULL: it is gone (the agent
 * restarted, or the session was dropped), and the binding rebinds. */
#define WITH_SESSION(cookie, session, call) do { \
    if (!((session) = sessions_find(cookie))) return NAP_E_NOT_INITIALIZED; \
    hr = (call); \
    sessions_put(session); \
    return hr; } while (0)

HRESULT __cdecl NapAgentEcGetSoHRequest(handle_t binding, UINT64 cookie, const NAPAGENT_CONNECTION_FACTS *facts,
                                        NAPAGENT_CORRELATION *correlation, BYTE *flags, BOOL *retrigger,
                                        NAPAGENT_BLOB *request)
{
    struct session *session;
    HRESULT hr;

    (void)binding;
    ZeroMemory(correlation, sizeof(*correlation));
    *flags = 0;
    *retrigger = FALSE;
    WITH_SESSION(cookie, session, sessions_get_soh_request(session, facts, correlation, flags, retrigger, request));
}

HRESULT __cdecl NapAgentEcProcessSoHResponse(handle_t binding, UINT64 cookie, const NAPAGENT_CONNECTION_FACTS *facts,
                                             UINT16 size, const BYTE *response, NAPAGENT_ISOLATION *isolation)
{
    struct session *session;
    HRESULT hr;

    (void)binding;
    WITH_SESSION(cookie, session, sessions_process_soh_response(session, facts, response, size, isolation));
}

HRESULT __cdecl NapAgentEcConnectionDown(handle_t binding, UINT64 cookie, const NAPAGENT_CONNECTION_FACTS *facts)
{
    struct session *session;
    HRESULT hr;

    (void)binding;
    WITH_SESSION(cookie, session, sessions_connection_down(session, facts));
}

HRESULT __cdecl NapAgentEcConnectionsGone(handle_t binding, UINT64 cookie, UINT16 count,
                                          const NAPAGENT_CONNECTION_FACTS *gone)
{
    struct session *session;
    HRESULT hr;

    (void)binding;
    WITH_SESSION(cookie, session, sessions_connections_gone(session, count, gone));
}

HRESULT __cdecl NapAgentEcSoHChangeFailure(handle_t binding, UINT64 cookie)
{
    struct session *session;
    HRESULT hr;

    (void)binding;
    WITH_SESSION(cookie, session, sessions_soh_change_failure(session));
}

HRESULT __cdecl NapAgentEcWaitEvents(handle_t binding, UINT32 process_id, UINT16 cookie_count,
                                     const UINT64 *cookies, UINT32 timeout_ms, UINT16 *event_count,
                                     NAPAGENT_EC_EVENT **events)
{
    unsigned long pid;

    (void)binding; /* see NapAgentEcBind */
    if (I_RpcBindingInqLocalClientPID(NULL, &pid) != RPC_S_OK) pid = process_id;
    return sessions_wait_events(pid, cookies, cookie_count, timeout_ms, event_count, events);
}

HRESULT __cdecl NapAgentEcAnswerConnections(handle_t binding, UINT64 cookie, UINT16 count,
                                            const NAPAGENT_CONNECTION_FACTS *connections)
{
    struct session *session;
    HRESULT hr;

    (void)binding;
    WITH_SESSION(cookie, session, sessions_answer_connections(session, count, connections));
}

HRESULT __cdecl NapAgentEcCallbackGone(handle_t binding, UINT64 cookie)
{
    struct session *session;
    HRESULT hr;

    (void)binding;
    WITH_SESSION(cookie, session, sessions_callback_gone(session));
}

HRESULT __cdecl NapAgentGetState(handle_t binding, NAPAGENT_STATE *state)
{
    (void)binding;
    sessions_get_state(state);
    return S_OK;
}

/* The ranges are those every reader clamps to (src/common/agent_settings.c). */
HRESULT __cdecl NapAgentSetSetting(handle_t binding, UINT32 setting, UINT32 value)
{
    const struct agent_setting *entry = agent_setting_by_rpc_id(setting);

    (void)binding;
    if (!entry || !agent_setting_in_range(entry, value)) return E_INVALIDARG;
    return store_set_setting(entry->name, value);
}

HRESULT __cdecl NapAgentNotifySoHChange(handle_t binding)
{
    (void)binding;
    return sessions_notify_all();
}

HRESULT __cdecl NapAgentQueryConnections(handle_t binding, UINT32 ec_id, UINT32 timeout_ms, UINT32 *count,
                                         NAPAGENT_CONNECTION_FACTS **connections)
{
    (void)binding;
    return sessions_query_connections(ec_id, timeout_ms, count, connections);
}
