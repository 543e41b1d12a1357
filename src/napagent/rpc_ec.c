/*
 * The manager routines of the agent's enforcement-client sessions
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"

/* The EC session a call names, with a reference for the call; NULL: it is
 * gone (the agent restarted, or the session was dropped), and the binding
 * opens a new one. */
#define WITH_EC(cookie, call) do { \
    struct session *session; \
    HRESULT hr; \
    if (!(session = session_find(cookie, NAPAGENT_KIND_EC))) return NAP_E_NOT_INITIALIZED; \
    hr = (call); \
    session_put(session); \
    return hr; } while (0)

HRESULT __cdecl NapAgentEcGetSoHRequest(handle_t binding, UINT64 cookie, const NAPAGENT_CONNECTION_FACTS *facts,
                                        NAPAGENT_CORRELATION *correlation, BYTE *flags, BOOL *retrigger,
                                        NAPAGENT_BLOB *request)
{
    (void)binding;
    ZeroMemory(correlation, sizeof(*correlation));
    *flags = 0;
    *retrigger = FALSE;
    WITH_EC(cookie, ec_get_soh_request(session, facts, correlation, flags, retrigger, request));
}

HRESULT __cdecl NapAgentEcProcessSoHResponse(handle_t binding, UINT64 cookie, const NAPAGENT_CONNECTION_FACTS *facts,
                                             UINT16 size, const BYTE *response, NAPAGENT_ISOLATION *isolation)
{
    (void)binding;
    WITH_EC(cookie, ec_process_soh_response(session, facts, response, size, isolation));
}

HRESULT __cdecl NapAgentEcConnectionDown(handle_t binding, UINT64 cookie, const NAPAGENT_CONNECTION_FACTS *facts)
{
    (void)binding;
    WITH_EC(cookie, ec_connection_down(session, facts));
}

HRESULT __cdecl NapAgentEcConnectionsGone(handle_t binding, UINT64 cookie, UINT16 count,
                                          const NAPAGENT_CONNECTION_FACTS *gone)
{
    (void)binding;
    WITH_EC(cookie, ec_connections_gone(session, count, gone));
}

HRESULT __cdecl NapAgentEcSoHChangeFailure(handle_t binding, UINT64 cookie)
{
    (void)binding;
    WITH_EC(cookie, ec_soh_change_failure(session));
}

HRESULT __cdecl NapAgentEcAnswerConnections(handle_t binding, UINT64 cookie, UINT16 count,
                                            const NAPAGENT_CONNECTION_FACTS *connections)
{
    (void)binding;
    WITH_EC(cookie, ec_answer_connections(session, count, connections));
}
