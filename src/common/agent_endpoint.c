/*
 * Finding the running NapAgent's ncalrpc endpoint, and binding to it
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_endpoint.h"

static BOOL process_alive(DWORD pid)
{
    HANDLE process = OpenProcess(SYNCHRONIZE, FALSE, pid);
    BOOL alive;

    if (!process) return FALSE;
    alive = WaitForSingleObject(process, 0) == WAIT_TIMEOUT;
    CloseHandle(process);
    return alive;
}

BOOL agent_endpoint_find(WCHAR *endpoint, DWORD size)
{
    DWORD pid = 0, bytes = sizeof(pid);

    if (RegGetValueW(HKEY_LOCAL_MACHINE, NAPAGENT_RUNTIME_KEY, L"ProcessId", RRF_RT_REG_DWORD, NULL, &pid, &bytes))
        return FALSE;
    bytes = size * sizeof(WCHAR);
    if (RegGetValueW(HKEY_LOCAL_MACHINE, NAPAGENT_RUNTIME_KEY, L"Endpoint", RRF_RT_REG_SZ, NULL, endpoint, &bytes))
        return FALSE;
    /* A killed agent leaves its key behind: never connect to a dead one. */
    return process_alive(pid);
}

BOOL agent_endpoint_publish(const WCHAR *endpoint)
{
    DWORD pid = GetCurrentProcessId();
    HKEY key;
    LSTATUS status;

    status = RegCreateKeyExW(HKEY_LOCAL_MACHINE, NAPAGENT_RUNTIME_KEY, 0, NULL, REG_OPTION_VOLATILE,
                             KEY_SET_VALUE, NULL, &key, NULL);
    if (status) return FALSE;
    /* Endpoint first: a reader that sees the new pid also sees its endpoint. */
    status = RegSetValueExW(key, L"Endpoint", 0, REG_SZ, (const BYTE *)endpoint,
                            (DWORD)((lstrlenW(endpoint) + 1) * sizeof(WCHAR)));
    if (!status) status = RegSetValueExW(key, L"ProcessId", 0, REG_DWORD, (const BYTE *)&pid, sizeof(pid));
    RegCloseKey(key);
    return !status;
}

void agent_endpoint_withdraw(const WCHAR *endpoint)
{
    WCHAR current[NAPAGENT_ENDPOINT_MAX];
    DWORD bytes = sizeof(current);

    /* Only our own: a newer agent may have taken over already. */
    if (RegGetValueW(HKEY_LOCAL_MACHINE, NAPAGENT_RUNTIME_KEY, L"Endpoint", RRF_RT_REG_SZ, NULL, current, &bytes)
        || lstrcmpW(current, endpoint))
        return;
    RegDeleteKeyExW(HKEY_LOCAL_MACHINE, NAPAGENT_RUNTIME_KEY, 0, 0);
}

RPC_STATUS agent_endpoint_bind_to(RPC_BINDING_HANDLE *binding, WCHAR *endpoint, DWORD size)
{
    WCHAR name[NAPAGENT_ENDPOINT_MAX];
    RPC_WSTR string_binding = NULL;
    RPC_STATUS status;

    *binding = NULL;
    if (!agent_endpoint_find(name, ARRAYSIZE(name))) return RPC_S_SERVER_UNAVAILABLE;
    if (endpoint) lstrcpynW(endpoint, name, size);
    status = RpcStringBindingComposeW(NULL, (RPC_WSTR)NAPAGENT_PROTSEQ, NULL, (RPC_WSTR)name, NULL, &string_binding);
    if (status != RPC_S_OK) return status;
    status = RpcBindingFromStringBindingW(string_binding, binding);
    RpcStringFreeW(&string_binding);
    return status;
}

RPC_STATUS agent_endpoint_bind(RPC_BINDING_HANDLE *binding)
{
    return agent_endpoint_bind_to(binding, NULL, 0);
}
