/*
 * The bound on every call qagent.dll and napctl make to the agent
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "call_timeout.h"
#include "agent_settings.h"

/* docs/decisions.md: the agent's Parameters\ClientCallTimeoutMs, 5000 ms when
 * missing or not a REG_DWORD, and clamped to its range (src/common/
 * agent_settings.c) whoever wrote it: 0xFFFFFFFF must not turn the bound on
 * a hung agent off. */
DWORD read_call_timeout(void)
{
    return agent_setting_read(AGENT_SETTING_CLIENT_TIMEOUT_MS);
}
