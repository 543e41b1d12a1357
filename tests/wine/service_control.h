/*
 * The napagent service as the tests drive it: installed, stopped, started, removed
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_SERVICE_CONTROL_H
#define NAP_SERVICE_CONTROL_H

#include <windows.h>

/* napagent.exe --install, after removing any service a failed run left
 * behind; TRUE when the service is installed and stopped.  No agent may run. */
BOOL test_service_install(void);
/* Stops the service if it runs (bounded) and removes it with napagent.exe
 * --uninstall, which also deletes the agent's key (its registrations and
 * settings); whatever state it is in.  TRUE when it is gone. */
BOOL test_service_uninstall(void);
/* Its current state (SERVICE_STOPPED, SERVICE_RUNNING ...), 0 when it cannot be queried. */
DWORD test_service_state(void);
/* Polls until the service is in `state`; FALSE after timeout_ms. */
BOOL test_service_wait_state(DWORD state, DWORD timeout_ms);
/* Asks it to stop and waits until it has (bounded). */
BOOL test_service_stop(void);
/* SERVICE_DEMAND_START, SERVICE_DISABLED ... */
BOOL test_service_set_start_type(DWORD start_type);

#endif
