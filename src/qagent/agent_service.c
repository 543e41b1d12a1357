/*
 * Starting the NapAgent service on demand, as Windows' Initialize does
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_service.h"

BOOL agent_service_start(void)
{
    SC_HANDLE manager, service;
    BOOL started;

    if (!(manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT))) return FALSE;
    service = OpenServiceW(manager, NAPAGENT_SERVICE_NAME, SERVICE_START);
    CloseServiceHandle(manager);
    if (!service) return FALSE;
    started = StartServiceW(service, 0, NULL) || GetLastError() == ERROR_SERVICE_ALREADY_RUNNING;
    CloseServiceHandle(service);
    return started;
}
