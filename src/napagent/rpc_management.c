/*
 * The agent's management manager routines: EC and SHA registrations, client info, system isolation
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"

/* What GetNapClientInfo reports; Windows takes these from qagentrt.dll's
 * resources, we have no localised strings. */
#define CLIENT_NAME             L"Network Access Protection Agent"
#define CLIENT_DESCRIPTION      L"Open NAP client: enforcement and health agents for Wine"
#define CLIENT_PROTOCOL_VERSION L"1.0"

static HRESULT copy_string(WCHAR *to, const WCHAR *from)
{
    if (!from) from = L"";
    if (lstrlenW(from) > STORE_MAX_STRING) return E_INVALIDARG;
    lstrcpyW(to, from);
    return S_OK;
}

/* The store's record of what a caller asked to register.  The date is not
 * copied: the store stamps the registration itself. */
static HRESULT registration_from_info(const NAPAGENT_EC_INFO *info, struct ec_registration **out)
{
    struct ec_registration *registration;
    HRESULT hr;

    *out = NULL;
    if (!(registration = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*registration)))) return E_OUTOFMEMORY;
    registration->id = info->id;
    registration->info_clsid = info->info_clsid;
    registration->config_clsid = info->config_clsid;
    registration->component_type = info->component_type;
    if (SUCCEEDED(hr = copy_string(registration->friendly_name, info->friendly_name))
        && SUCCEEDED(hr = copy_string(registration->description, info->description))
        && SUCCEEDED(hr = copy_string(registration->version, info->version))
        && SUCCEEDED(hr = copy_string(registration->vendor_name, info->vendor_name)))
    {
        *out = registration;
        return S_OK;
    }
    HeapFree(GetProcessHeap(), 0, registration);
    return hr;
}

static WCHAR *dup_string(const WCHAR *from)
{
    WCHAR *to = MIDL_user_allocate((lstrlenW(from) + 1) * sizeof(WCHAR));

    if (to) lstrcpyW(to, from);
    return to;
}

/* The parts of an answer's entry that ECs and SHAs share. */
static HRESULT fill_common_info(NAPAGENT_EC_INFO *info, const struct ec_registration *registration)
{
    info->id = registration->id;
    info->info_clsid = registration->info_clsid;
    info->config_clsid = registration->config_clsid;
    info->registration_date = registration->registration_date;
    info->component_type = registration->component_type;
    info->friendly_name = dup_string(registration->friendly_name);
    info->description = dup_string(registration->description);
    info->version = dup_string(registration->version);
    info->vendor_name = dup_string(registration->vendor_name);
    if (!info->friendly_name || !info->description || !info->version || !info->vendor_name) return E_OUTOFMEMORY;
    return S_OK;
}

static HRESULT fill_ec_info(NAPAGENT_EC_INFO *info, const struct ec_registration *registration)
{
    info->enabled = store_ec_enabled(registration);
    info->bound = sessions_ec_bound(registration->id, &info->connection_count);
    return fill_common_info(info, registration);
}

/* An SHA cannot be disabled and has no connections. */
static HRESULT fill_sha_info(NAPAGENT_EC_INFO *info, const struct ec_registration *registration)
{
    info->enabled = TRUE;
    info->bound = sha_sessions_bound(registration->id);
    info->connection_count = 0;
    return fill_common_info(info, registration);
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

typedef HRESULT (*list_fn)(struct ec_registration *regs, UINT32 max, UINT32 *count);
typedef HRESULT (*fill_fn)(NAPAGENT_EC_INFO *info, const struct ec_registration *registration);

/* The store's list of one kind as the stub's answer: on failure nothing is
 * handed back and everything allocated is freed. */
static HRESULT list_registrations(list_fn list, fill_fn fill, UINT32 max, UINT32 *count, NAPAGENT_EC_INFO **out)
{
    struct ec_registration *registrations;
    NAPAGENT_EC_INFO *infos = NULL;
    UINT32 i, found = 0;
    HRESULT hr;

    *count = 0;
    *out = NULL;
    if (!(registrations = HeapAlloc(GetProcessHeap(), 0, sizeof(*registrations) * max)))
        return E_OUTOFMEMORY;
    hr = list(registrations, max, &found);
    /* One spare entry: the stub is never handed a zero-sized block. */
    if (SUCCEEDED(hr) && !(infos = MIDL_user_allocate(sizeof(*infos) * (found + 1)))) hr = E_OUTOFMEMORY;
    if (SUCCEEDED(hr))
    {
        ZeroMemory(infos, sizeof(*infos) * (found + 1));
        for (i = 0; i < found && SUCCEEDED(hr); i++) hr = fill(&infos[i], &registrations[i]);
        if (FAILED(hr)) free_ec_infos(infos, found);
        else
        {
            *out = infos;
            *count = found;
        }
    }
    HeapFree(GetProcessHeap(), 0, registrations);
    return hr;
}

/* Enforcement clients */

HRESULT __cdecl NapAgentRegisterEc(handle_t binding, const NAPAGENT_EC_INFO *info)
{
    struct ec_registration *registration;
    HRESULT hr;

    (void)binding;
    if (SUCCEEDED(hr = registration_from_info(info, &registration)))
    {
        hr = store_register_ec(registration);
        HeapFree(GetProcessHeap(), 0, registration);
    }
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

HRESULT __cdecl NapAgentListEcs(handle_t binding, UINT32 *count, NAPAGENT_EC_INFO **ecs)
{
    (void)binding;
    return list_registrations(store_list_ecs, fill_ec_info, NAPAGENT_MAX_ECS, count, ecs);
}

/* System health agents */

HRESULT __cdecl NapAgentRegisterSha(handle_t binding, const NAPAGENT_EC_INFO *info)
{
    struct ec_registration *registration;
    HRESULT hr;

    (void)binding;
    if (SUCCEEDED(hr = registration_from_info(info, &registration)))
    {
        hr = store_register_sha(registration);
        HeapFree(GetProcessHeap(), 0, registration);
    }
    agent_log("register SHA %u: 0x%08lx", info->id, hr);
    /* The SSoH lists every registered SHA: the sessions must know. */
    if (SUCCEEDED(hr)) sha_sessions_registrations_changed();
    return hr;
}

HRESULT __cdecl NapAgentUnregisterSha(handle_t binding, UINT32 id)
{
    HRESULT hr;

    (void)binding;
    hr = sha_sessions_unregister(id);
    agent_log("unregister SHA %u: 0x%08lx", id, hr);
    return hr;
}

HRESULT __cdecl NapAgentListShas(handle_t binding, UINT32 *count, NAPAGENT_EC_INFO **shas)
{
    (void)binding;
    return list_registrations(store_list_shas, fill_sha_info, NAPAGENT_MAX_SHAS, count, shas);
}

/* The client as a whole */

/* NAP counts as enabled when at least one registered EC is, by its local
 * setting or by policy (read afresh, as store_ec_enabled does). */
static BOOL any_ec_enabled(void)
{
    struct ec_registration *registrations;
    UINT32 i, count = 0;
    BOOL enabled = FALSE;

    if (!(registrations = HeapAlloc(GetProcessHeap(), 0, sizeof(*registrations) * NAPAGENT_MAX_ECS)))
        return FALSE;
    if (SUCCEEDED(store_list_ecs(registrations, NAPAGENT_MAX_ECS, &count)))
        for (i = 0; i < count && !enabled; i++) enabled = store_ec_enabled(&registrations[i]);
    HeapFree(GetProcessHeap(), 0, registrations);
    return enabled;
}

HRESULT __cdecl NapAgentGetClientInfo(handle_t binding, NAPAGENT_CLIENT_INFO *info)
{
    (void)binding;
    ZeroMemory(info, sizeof(*info));
    info->nap_enabled = any_ec_enabled();
    info->name = dup_string(CLIENT_NAME);
    info->description = dup_string(CLIENT_DESCRIPTION);
    info->protocol_version = dup_string(CLIENT_PROTOCOL_VERSION);
    if (info->name && info->description && info->protocol_version) return S_OK;
    /* A failed call hands back no half answer. */
    MIDL_user_free(info->name);
    MIDL_user_free(info->description);
    MIDL_user_free(info->protocol_version);
    ZeroMemory(info, sizeof(*info));
    return E_OUTOFMEMORY;
}

HRESULT __cdecl NapAgentGetSystemIsolation(handle_t binding, NAPAGENT_SYSTEM_ISOLATION *isolation)
{
    (void)binding;
    ZeroMemory(isolation, sizeof(*isolation));
    return sessions_get_system_isolation(isolation);
}

HRESULT __cdecl NapAgentWaitIsolationChange(handle_t binding, UINT32 known_generation, UINT32 timeout_ms,
                                            UINT32 *generation)
{
    (void)binding;
    *generation = known_generation;
    return sessions_wait_isolation_change(known_generation, timeout_ms, generation);
}
