/*
 * Finding the NapAgent, starting its installed service when none runs, as Windows' Initialize does
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_service.h"
#include "agent_endpoint.h"

/* How often the wait looks for the agent's endpoint. */
#define POLL_MS 10

static BOOL agent_listening(void)
{
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];

    return agent_endpoint_find(endpoint, ARRAYSIZE(endpoint));
}

static HRESULT open_service(SC_HANDLE *service)
{
    SC_HANDLE manager;
    HRESULT hr;

    if (!(manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT))) return HRESULT_FROM_WIN32(GetLastError());
    *service = OpenServiceW(manager, NAPAGENT_SERVICE_NAME, SERVICE_START | SERVICE_QUERY_STATUS);
    hr = *service ? S_OK : HRESULT_FROM_WIN32(GetLastError());
    CloseServiceHandle(manager);
    return hr;
}

/* S_OK when the SCM starts it; S_FALSE when it says it runs already (it may
 * be running without its agent: still starting, or stopping). */
static HRESULT start_service(SC_HANDLE service)
{
    if (StartServiceW(service, 0, NULL)) return S_OK;
    if (GetLastError() == ERROR_SERVICE_ALREADY_RUNNING) return S_FALSE;
    return HRESULT_FROM_WIN32(GetLastError());
}

static BOOL service_stopped(SC_HANDLE service)
{
    SERVICE_STATUS status;

    return QueryServiceStatus(service, &status) && status.dwCurrentState == SERVICE_STOPPED;
}

/* Waits for the agent to publish its endpoint.  A service that stops stops
 * the wait, unless the SCM said it was running when we asked: then it was
 * stopping (or its agent was killed), and it is started once more. */
static HRESULT wait_for_agent(SC_HANDLE service, BOOL may_restart)
{
    ULONGLONG deadline = GetTickCount64() + AGENT_START_TIMEOUT_MS;
    HRESULT hr;

    for (;;)
    {
        if (agent_listening()) return S_OK;
        if (GetTickCount64() >= deadline) return RPC_E_TIMEOUT;
        if (service_stopped(service))
        {
            if (!may_restart) return HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE);
            if (FAILED(hr = start_service(service))) return hr;
            may_restart = FALSE;
        }
        Sleep(POLL_MS);
    }
}

HRESULT agent_service_ensure_running(void)
{
    SC_HANDLE service;
    HRESULT hr;

    if (agent_listening()) return S_OK;
    if (FAILED(hr = open_service(&service))) return hr;
    if (SUCCEEDED(hr = start_service(service))) hr = wait_for_agent(service, hr == S_FALSE);
    CloseServiceHandle(service);
    return hr;
}
