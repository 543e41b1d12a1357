/*
 * The system's isolation as the agent computes it: one call for the DLLs' getters and the notifier
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_AGENT_ISOLATION_H
#define NAP_AGENT_ISOLATION_H

#include <windows.h>
#include "napagent_rpc.h"

struct agent_session;

/* NapAgentGetSystemIsolation through agent_call: in the session (NULL: none),
 * starting the installed service first when no agent runs if may_start_agent
 * (management does; a binding's session is open, and the notifier only
 * watches).  *isolation is zeroed first; its failure_url is MIDL-allocated,
 * the caller's to free whatever the result. */
HRESULT agent_get_system_isolation(struct agent_session *session, BOOL may_start_agent,
                                   NAPAGENT_SYSTEM_ISOLATION *isolation);

#endif
