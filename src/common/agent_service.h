/*
 * Finding the NapAgent, starting its installed service when none runs
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_AGENT_SERVICE_H
#define NAP_AGENT_SERVICE_H

#include <windows.h>

#define NAPAGENT_SERVICE_NAME L"napagent"
/* How long a client waits for a service it started to listen
 * (docs/decisions.md, "Agent on demand"). */
#define AGENT_START_TIMEOUT_MS 15000

/* What every client of the agent does before it binds: the bindings'
 * Initialize, every NapClientManagement call, every napctl verb that needs
 * the agent.  S_OK when an agent process is alive and has published its
 * endpoint.  When none is, asks the service control manager to start the
 * installed napagent service (demand-start, as Windows' Initialize does) and
 * waits up to AGENT_START_TIMEOUT_MS for the agent to publish its endpoint.
 * Otherwise why not:
 *   HRESULT_FROM_WIN32(ERROR_SERVICE_DOES_NOT_EXIST)  not installed (no wait)
 *   HRESULT_FROM_WIN32(other error)                   the SCM refused, e.g.
 *                                                     ERROR_SERVICE_DISABLED
 *   HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE)      the service stopped
 *                                                     before the agent listened
 *   RPC_E_TIMEOUT                                     not listening in time */
HRESULT agent_service_ensure_running(void);

#endif
