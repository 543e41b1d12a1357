/*
 * The agent's RPC endpoint and the manager routines of its interface
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"
#include <rpcdcep.h>
#include "agent_endpoint.h"

static WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];

RPC_STATUS agent_rpc_start(void)
{
    RPC_STATUS status;

    /* A name of our own (agent_endpoint.h says why); ncalrpc is reachable
     * from this machine only: local callers only. */
    wsprintfW(endpoint, L"napagent-%lu", GetCurrentProcessId());
    status = RpcServerUseProtseqEpW((RPC_WSTR)NAPAGENT_PROTSEQ, RPC_C_PROTSEQ_MAX_REQS_DEFAULT,
                                    (RPC_WSTR)endpoint, NULL);
    if (status != RPC_S_OK && status != RPC_S_DUPLICATE_ENDPOINT) return status;
    status = RpcServerRegisterIfEx(NapAgentRpc_v1_0_s_ifspec, NULL, NULL, RPC_IF_AUTOLISTEN,
                                   RPC_C_LISTEN_MAX_CALLS_DEFAULT, NULL);
    if (status != RPC_S_OK) return status;
    if (!agent_endpoint_publish(endpoint)) return RPC_S_CANT_CREATE_ENDPOINT;
    agent_log("listening on %ls:%ls", NAPAGENT_PROTSEQ, endpoint);
    return RPC_S_OK;
}

void agent_rpc_stop(void)
{
    agent_endpoint_withdraw(endpoint);
    RpcServerUnregisterIf(NapAgentRpc_v1_0_s_ifspec, NULL, FALSE);
}

/* The client that held this context handle exited, was killed or crashed. */
void __RPC_USER NAPAGENT_EC_HANDLE_rundown(NAPAGENT_EC_HANDLE ec)
{
    if (ec) sessions_unbind(ec);
}

HRESULT __cdecl NapAgentPing(handle_t binding, UINT16 size, const BYTE *data, NAPAGENT_BLOB *echo)
{
    (void)binding;
    echo->size = 0;
    if (!(echo->data = MIDL_user_allocate(size ? size : 1))) return E_OUTOFMEMORY;
    memcpy(echo->data, data, size);
    echo->size = size;
    return S_OK;
}

HRESULT __cdecl NapAgentEcBind(handle_t binding, UINT32 ec_id, UINT32 process_id, UINT64 previous_cookie,
                               UINT64 *cookie, NAPAGENT_EC_HANDLE *ec)
{
    struct session *session;
    unsigned long pid;
    HRESULT hr;

    *ec = NULL;
    *cookie = 0;
    /* Trust the transport over the caller's word for who is calling. */
    (void)binding; /* passing it to Wine's I_RpcBindingInqLocalClientPID faults; NULL means this call */
    if (I_RpcBindingInqLocalClientPID(NULL, &pid) != RPC_S_OK)
    {
        agent_log("cannot ask the transport for the caller's pid; it says %u", process_id);
        pid = process_id;
    }
    hr = sessions_bind(ec_id, pid, previous_cookie, cookie, &session);
    if (SUCCEEDED(hr)) *ec = session;
    return hr;
}

HRESULT __cdecl NapAgentEcUnbind(NAPAGENT_EC_HANDLE *ec)
{
    if (!*ec) return NAP_E_NOT_INITIALIZED;
    sessions_unbind(*ec);
    *ec = NULL;
    return S_OK;
}

HRESULT __cdecl NapAgentEcGetSoHRequest(NAPAGENT_EC_HANDLE ec, const NAPAGENT_CONNECTION_FACTS *facts,
                                        NAPAGENT_CORRELATION *correlation, BYTE *flags, BOOL *retrigger,
                                        NAPAGENT_BLOB *request)
{
    ZeroMemory(correlation, sizeof(*correlation));
    *flags = 0;
    *retrigger = FALSE;
    return sessions_get_soh_request(ec, facts, correlation, flags, retrigger, request);
}

HRESULT __cdecl NapAgentEcProcessSoHResponse(NAPAGENT_EC_HANDLE ec, const NAPAGENT_CONNECTION_FACTS *facts,
                                             UINT16 size, const BYTE *response, NAPAGENT_ISOLATION *isolation)
{
    return sessions_process_soh_response(ec, facts, response, size, isolation);
}

HRESULT __cdecl NapAgentEcConnectionDown(NAPAGENT_EC_HANDLE ec, const GUID *connection_id)
{
    return sessions_connection_down(ec, connection_id);
}

HRESULT __cdecl NapAgentEcSoHChangeFailure(NAPAGENT_EC_HANDLE ec)
{
    return sessions_soh_change_failure(ec);
}

HRESULT __cdecl NapAgentEcWaitEvent(handle_t binding, UINT64 cookie, UINT32 timeout_ms, UINT32 *event)
{
    (void)binding;
    return sessions_wait_event(cookie, timeout_ms, event);
}

HRESULT __cdecl NapAgentEcAnswerConnections(NAPAGENT_EC_HANDLE ec, UINT16 count,
                                            const NAPAGENT_CONNECTION_FACTS *connections)
{
    return sessions_answer_connections(ec, count, connections);
}

HRESULT __cdecl NapAgentEcCallbackGone(NAPAGENT_EC_HANDLE ec)
{
    return sessions_callback_gone(ec);
}

static HRESULT copy_string(WCHAR *to, const WCHAR *from)
{
    if (!from) from = L"";
    if (lstrlenW(from) > STORE_MAX_STRING) return E_INVALIDARG;
    lstrcpyW(to, from);
    return S_OK;
}

HRESULT __cdecl NapAgentRegisterEc(handle_t binding, const NAPAGENT_EC_INFO *info)
{
    struct ec_registration *registration;
    HRESULT hr;

    (void)binding;
    if (!(registration = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*registration)))) return E_OUTOFMEMORY;
    registration->id = info->id;
    registration->info_clsid = info->info_clsid;
    registration->config_clsid = info->config_clsid;
    registration->component_type = info->component_type;
    if (SUCCEEDED(hr = copy_string(registration->friendly_name, info->friendly_name))
        && SUCCEEDED(hr = copy_string(registration->description, info->description))
        && SUCCEEDED(hr = copy_string(registration->version, info->version))
        && SUCCEEDED(hr = copy_string(registration->vendor_name, info->vendor_name)))
        hr = store_register_ec(registration);
    HeapFree(GetProcessHeap(), 0, registration);
    agent_log("register EC %u: 0x%08lx", info->id, hr);
    return hr;
}

HRESULT __cdecl NapAgentUnregisterEc(handle_t binding, UINT32 id)
{
    UINT32 connections;

    (void)binding;
    if (sessions_ec_bound(id, &connections)) return NAP_E_STILL_BOUND;
    return store_unregister_ec(id);
}

HRESULT __cdecl NapAgentSetEcEnabled(handle_t binding, UINT32 id, BOOL enabled)
{
    (void)binding;
    return store_set_ec_enabled(id, enabled);
}

static WCHAR *dup_string(const WCHAR *from)
{
    WCHAR *to = MIDL_user_allocate((lstrlenW(from) + 1) * sizeof(WCHAR));

    if (to) lstrcpyW(to, from);
    return to;
}

static HRESULT fill_ec_info(NAPAGENT_EC_INFO *info, const struct ec_registration *registration)
{
    info->id = registration->id;
    info->info_clsid = registration->info_clsid;
    info->config_clsid = registration->config_clsid;
    info->registration_date = registration->registration_date;
    info->component_type = registration->component_type;
    info->enabled = store_ec_enabled(registration);
    info->bound = sessions_ec_bound(registration->id, &info->connection_count);
    info->friendly_name = dup_string(registration->friendly_name);
    info->description = dup_string(registration->description);
    info->version = dup_string(registration->version);
    info->vendor_name = dup_string(registration->vendor_name);
    if (!info->friendly_name || !info->description || !info->version || !info->vendor_name) return E_OUTOFMEMORY;
    return S_OK;
}

static void free_ec_infos(NAPAGENT_EC_INFO *infos, UINT32 count)
{
    UINT32 i;

    for (i = 0; i < count; i++)
    {
        MIDL_user_free(infos[i].friendly_name);
        MIDL_user_free(infos[i].description);
        MIDL_user_free(infos[i].version);
        MIDL_user_free(infos[i].vendor_name);
    }
    MIDL_user_free(infos);
}

HRESULT __cdecl NapAgentListEcs(handle_t binding, UINT32 *count, NAPAGENT_EC_INFO **ecs)
{
    struct ec_registration *registrations;
    NAPAGENT_EC_INFO *infos = NULL;
    UINT32 i, found = 0;
    HRESULT hr;

    (void)binding;
    *count = 0;
    *ecs = NULL;
    if (!(registrations = HeapAlloc(GetProcessHeap(), 0, sizeof(*registrations) * NAPAGENT_MAX_ECS)))
        return E_OUTOFMEMORY;
    hr = store_list_ecs(registrations, NAPAGENT_MAX_ECS, &found);
    if (SUCCEEDED(hr) && !(infos = MIDL_user_allocate(sizeof(*infos) * (found + 1)))) hr = E_OUTOFMEMORY;
    if (SUCCEEDED(hr))
    {
        ZeroMemory(infos, sizeof(*infos) * (found + 1));
        for (i = 0; i < found && SUCCEEDED(hr); i++) hr = fill_ec_info(&infos[i], &registrations[i]);
        if (FAILED(hr)) free_ec_infos(infos, found);
        else
        {
            *ecs = infos;
            *count = found;
        }
    }
    HeapFree(GetProcessHeap(), 0, registrations);
    return hr;
}

HRESULT __cdecl NapAgentGetState(handle_t binding, NAPAGENT_STATE *state)
{
    (void)binding;
    sessions_get_state(state);
    return S_OK;
}

HRESULT __cdecl NapAgentSetSetting(handle_t binding, UINT32 setting, UINT32 value)
{
    (void)binding;
    switch (setting)
    {
    case NAPAGENT_SETTING_RETRY_INTERVAL_MS:
        if (!value || value > 24 * 3600 * 1000) return E_INVALIDARG;
        return store_set_setting(L"SoHChangeRetryIntervalMs", value);
    case NAPAGENT_SETTING_CLIENT_TIMEOUT_MS:
        if (value < 10 || value > 600000) return E_INVALIDARG;
        return store_set_setting(L"ClientCallTimeoutMs", value);
    default:
        return E_INVALIDARG;
    }
}

HRESULT __cdecl NapAgentNotifySoHChange(handle_t binding)
{
    (void)binding;
    return sessions_notify_soh_change();
}

HRESULT __cdecl NapAgentQueryConnections(handle_t binding, UINT32 ec_id, UINT32 timeout_ms, UINT32 *count,
                                         NAPAGENT_CONNECTION_FACTS **connections)
{
    (void)binding;
    return sessions_query_connections(ec_id, timeout_ms, count, connections);
}
