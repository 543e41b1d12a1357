/*
 * The bound on every call qagent.dll and napctl make to the agent
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "call_timeout.h"

/* docs/decisions.md: the bound on every call to the agent, unless the agent's
 * Parameters\ClientCallTimeoutMs says otherwise. */
#define DEFAULT_CALL_TIMEOUT_MS 5000

DWORD read_call_timeout(void)
{
    DWORD value = DEFAULT_CALL_TIMEOUT_MS, size = sizeof(value);

    if (RegGetValueW(HKEY_LOCAL_MACHINE, L"System\\CurrentControlSet\\Services\\napagent\\Parameters",
                     L"ClientCallTimeoutMs", RRF_RT_REG_DWORD, NULL, &value, &size) || value < 10)
        return DEFAULT_CALL_TIMEOUT_MS;
    return value;
}
