/*
 * The system's isolation as GetSystemIsolationInfo(Ex) hand it out, for the SHA binding and management
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "agent_isolation.h"

/* Management starts the agent, as every management call does; a binding's
 * call does not (docs/decisions.md, "Agent on demand"), even while its
 * session is not yet known to be lost with the agent. */
HRESULT system_isolation_get(struct agent_session *session, BOOL extended, void **out, BOOL *unknown)
{
    NAPAGENT_SYSTEM_ISOLATION isolation;
    struct isolation_facts facts;
    HRESULT hr;

    if (SUCCEEDED(hr = agent_get_system_isolation(session, !session, &isolation)))
    {
        facts.state = isolation.state;
        facts.extended_state = isolation.extended_state;
        facts.prob_end_time = isolation.prob_end_time;
        facts.url = isolation.failure_url;
        facts.url_length = isolation.failure_url ? min(lstrlenW(isolation.failure_url), maxStringLength) : 0;
        if (SUCCEEDED(hr = isolation_info_make(&facts, extended, out))) *unknown = isolation.unknown_connections;
    }
    MIDL_user_free(isolation.failure_url);
    return hr;
}
