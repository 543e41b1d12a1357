/*
 * The system's isolation as the agent computes it: one call for the DLLs' getters and the notifier
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "agent_isolation.h"
#include "agent_call.h"

static void isolation_free(void *isolation)
{
    MIDL_user_free(((NAPAGENT_SYSTEM_ISOLATION *)isolation)->failure_url);
}

AGENT_METHOD(isolation_method, NAPAGENT_SYSTEM_ISOLATION, NapAgentGetSystemIsolation, (agent, args),
             .free_out = isolation_free);
AGENT_METHOD(isolation_starting_method, NAPAGENT_SYSTEM_ISOLATION, NapAgentGetSystemIsolation, (agent, args),
             .free_out = isolation_free, .may_start_agent = TRUE);

HRESULT agent_get_system_isolation(struct agent_session *session, BOOL may_start_agent,
                                   NAPAGENT_SYSTEM_ISOLATION *isolation)
{
    memset(isolation, 0, sizeof(*isolation));
    return agent_call(session, may_start_agent ? &isolation_starting_method : &isolation_method, isolation);
}
