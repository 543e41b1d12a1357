/*
 * The manager routines of the agent's enforcement-client sessions
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"

#define WITH_EC(binding, cookie, call) WITH_SESSION(NAPAGENT_KIND_EC, binding, cookie, call)

HRESULT __cdecl NapAgentEcGetSoHRequest(handle_t binding, UINT64 cookie, const NAPAGENT_CONNECTION_FACTS *facts,
                                        NAPAGENT_CORRELATION *correlation, BYTE *flags, BOOL *retrigger,
                                        NAPAGENT_BLOB *request)
{
    ZeroMemory(correlation, sizeof(*correlation));
    *flags = 0;
    *retrigger = FALSE;
    WITH_EC(binding, cookie, ec_get_soh_request(session, facts, correlation, flags, retrigger, request));
}

HRESULT __cdecl NapAgentEcProcessSoHResponse(handle_t binding, UINT64 cookie, const NAPAGENT_CONNECTION_FACTS *facts,
                                             UINT16 size, const BYTE *response, NAPAGENT_ISOLATION *isolation)
{
    WITH_EC(binding, cookie, ec_process_soh_response(session, facts, response, size, isolation));
}

HRESULT __cdecl NapAgentEcConnectionDown(handle_t binding, UINT64 cookie, const NAPAGENT_CONNECTION_FACTS *facts)
{
    WITH_EC(binding, cookie, ec_connection_down(session, facts));
}

HRESULT __cdecl NapAgentEcConnectionsGone(handle_t binding, UINT64 cookie, UINT16 count,
                                          const NAPAGENT_CONNECTION_FACTS *gone)
{
    WITH_EC(binding, cookie, ec_connections_gone(session, count, gone));
}

HRESULT __cdecl NapAgentEcSoHChangeFailure(handle_t binding, UINT64 cookie)
{
    WITH_EC(binding, cookie, ec_soh_change_failure(session));
}

HRESULT __cdecl NapAgentEcAnswerConnections(handle_t binding, UINT64 cookie, UINT16 count,
                                            const NAPAGENT_CONNECTION_FACTS *connections)
{
    WITH_EC(binding, cookie, ec_answer_connections(session, count, connections));
}
