/*
 * The EC binding's calls to the NapAgent, on top of the session link
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_AGENT_LINK_H
#define NAP_AGENT_LINK_H

#include <windows.h>
#include "napagent_rpc.h"
#include "session_link.h"

/* Results as session_link.h says: the agent's HRESULT, RPC_E_DISCONNECTED or RPC_E_TIMEOUT. */
HRESULT agent_link_bind(UINT32 ec_id, DWORD timeout_ms, struct session_link **out);
HRESULT agent_link_get_soh_request(struct session_link *link, const NAPAGENT_CONNECTION_FACTS *facts,
                                   NAPAGENT_CORRELATION *correlation, BYTE *flags, BOOL *retrigger,
                                   NAPAGENT_BLOB *request);
HRESULT agent_link_process_soh_response(struct session_link *link, const NAPAGENT_CONNECTION_FACTS *facts,
                                        const BYTE *response, UINT16 size, NAPAGENT_ISOLATION *isolation);
HRESULT agent_link_connection_down(struct session_link *link, const NAPAGENT_CONNECTION_FACTS *facts);
HRESULT agent_link_connections_gone(struct session_link *link, UINT16 count, const NAPAGENT_CONNECTION_FACTS *gone);
HRESULT agent_link_soh_change_failure(struct session_link *link);
HRESULT agent_link_answer_connections(struct session_link *link, UINT16 count,
                                      const NAPAGENT_CONNECTION_FACTS *connections);
/* The EC's callback said RPC_S_SERVER_UNAVAILABLE: the agent drops the session
 * and the link does not rebind. */
HRESULT agent_link_callback_gone(struct session_link *link);

/* Frees what the stubs allocated inside an answer. */
void agent_link_free_blob(NAPAGENT_BLOB *blob);
void agent_link_free_isolation(NAPAGENT_ISOLATION *isolation);

#endif
