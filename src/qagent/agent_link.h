/*
 * The binding's link to the NapAgent: one EC session over ncalrpc
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_AGENT_LINK_H
#define NAP_AGENT_LINK_H

#include <windows.h>
#include "napagent_rpc.h"

struct agent_link;

/* Every function returns the agent's HRESULT, RPC_E_DISCONNECTED when the
 * agent is not there, or RPC_E_TIMEOUT when it did not answer within
 * timeout_ms; no RPC exception ever leaves this file.  A link whose agent
 * went away rebinds by itself on its next call. */
HRESULT agent_link_bind(UINT32 ec_id, DWORD timeout_ms, struct agent_link **out);
/* Tells the agent the session ends (best effort, bounded); the link stays
 * usable for nothing but agent_link_free. */
HRESULT agent_link_unbind(struct agent_link *link);
/* S_OK when the session is bound, after rebinding it if the agent was lost. */
HRESULT agent_link_check(struct agent_link *link);
void agent_link_free(struct agent_link *link);

HRESULT agent_link_get_soh_request(struct agent_link *link, const NAPAGENT_CONNECTION_FACTS *facts,
                                   NAPAGENT_CORRELATION *correlation, BYTE *flags, BOOL *retrigger,
                                   NAPAGENT_BLOB *request);
HRESULT agent_link_process_soh_response(struct agent_link *link, const NAPAGENT_CONNECTION_FACTS *facts,
                                        const BYTE *response, UINT16 size, NAPAGENT_ISOLATION *isolation);
HRESULT agent_link_connection_down(struct agent_link *link, const GUID *connection_id);
HRESULT agent_link_soh_change_failure(struct agent_link *link);
/* The long poll, made on the calling (event) thread.  Rebinds first when the
 * agent was lost; *event is NAPAGENT_EVENT_CLOSED only once the link was unbound. */
HRESULT agent_link_wait_event(struct agent_link *link, UINT32 timeout_ms, UINT32 *event);
HRESULT agent_link_answer_connections(struct agent_link *link, UINT16 count,
                                      const NAPAGENT_CONNECTION_FACTS *connections);
/* The EC's callback said RPC_S_SERVER_UNAVAILABLE: the agent drops the session
 * and the link does not rebind. */
HRESULT agent_link_callback_gone(struct agent_link *link);

/* Frees what the stubs allocated inside an answer. */
void agent_link_free_blob(NAPAGENT_BLOB *blob);
void agent_link_free_isolation(NAPAGENT_ISOLATION *isolation);

#endif
