/*
 * Starting the NapAgent service on demand
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_AGENT_SERVICE_H
#define NAP_AGENT_SERVICE_H

#include <windows.h>

#define NAPAGENT_SERVICE_NAME L"napagent"

/* Asks the service control manager to start the agent.  TRUE if the service
 * is installed and is now starting or already running. */
BOOL agent_service_start(void);

#endif
