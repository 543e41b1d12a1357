/*
 * The napagent service as the tests drive it: installed, stopped, started, removed
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "service_control.h"
#include "test_support.h"

#define SERVICE_NAME L"napagent"
#define PROGRAM_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 10000

static SC_HANDLE open_service(DWORD access)
{
    SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT), service;

    if (!manager) return NULL;
    service = OpenServiceW(manager, SERVICE_NAME, access);
    CloseServiceHandle(manager);
    return service;
}

DWORD test_service_state(void)
{
    SC_HANDLE service = open_service(SERVICE_QUERY_STATUS);
    SERVICE_STATUS status = { 0 };

    if (!service) return 0;
    if (!QueryServiceStatus(service, &status)) status.dwCurrentState = 0;
    CloseServiceHandle(service);
    return status.dwCurrentState;
}

static BOOL state_is(void *wanted)
{
    return test_service_state() == *(DWORD *)wanted;
}

BOOL test_service_wait_state(DWORD state, DWORD timeout_ms)
{
    return test_wait_for(state_is, &state, timeout_ms);
}

BOOL test_service_stop(void)
{
    SC_HANDLE service = open_service(SERVICE_STOP);
    SERVICE_STATUS status;

    if (!service) return FALSE;
    ControlService(service, SERVICE_CONTROL_STOP, &status);
    CloseServiceHandle(service);
    return test_service_wait_state(SERVICE_STOPPED, STOP_TIMEOUT_MS);
}

BOOL test_service_set_start_type(DWORD start_type)
{
    SC_HANDLE service = open_service(SERVICE_CHANGE_CONFIG);
    BOOL changed;

    if (!service) return FALSE;
    changed = ChangeServiceConfigW(service, SERVICE_NO_CHANGE, start_type, SERVICE_NO_CHANGE, NULL, NULL, NULL,
                                   NULL, NULL, NULL, NULL);
    CloseServiceHandle(service);
    return changed;
}

BOOL test_service_uninstall(void)
{
    /* --uninstall stops a running service itself, and waits for it. */
    if (test_run_program(L"napagent.exe", L"--uninstall", PROGRAM_TIMEOUT_MS) != 0) return FALSE;
    return test_service_state() == 0;
}

BOOL test_service_install(void)
{
    if (!test_service_uninstall()) return FALSE;
    if (test_run_program(L"napagent.exe", L"--install", PROGRAM_TIMEOUT_MS) != 0) return FALSE;
    return test_service_state() == SERVICE_STOPPED;
}
