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
    if (lstrlenW(from) > maxStringLength) return E_INVALIDARG;
    lstrcpyW(to, from);
    return S_OK;
}

/* The store's record of what a caller asked to register.  The date is not
 * copied: the store stamps the registration itself. */
static HRESULT registration_from_info(const NAPAGENT_COMPONENT *info, struct component **out)
{
    struct component *registration;
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
static HRESULT fill_common_info(NAPAGENT_COMPONENT *info, const struct component *registration)
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

static HRESULT fill_ec_info(NAPAGENT_COMPONENT *info, const struct component *registration)
{
    info->enabled = store_ec_enabled(registration);
    info->bound = ec_bound(registration->id, &info->connection_count);
    return fill_common_info(info, registration);
}

/* An SHA cannot be disabled and has no connections. */
static HRESULT fill_sha_info(NAPAGENT_COMPONENT *info, const struct component *registration)
{
    struct session *session = session_find_id(NAPAGENT_KIND_SHA, registration->id);

    if (session) session_put(session);
    info->enabled = TRUE;
    info->bound = session != NULL;
    info->connection_count = 0;
    return fill_common_info(info, registration);
}

static void free_ec_infos(NAPAGENT_COMPONENT *infos, UINT32 count)
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

typedef HRESULT (*fill_fn)(NAPAGENT_COMPONENT *info, const struct component *registration);

/* The store's list of one kind as the stub's answer: on failure nothing is
 * handed back and everything allocated is freed. */
static HRESULT list_registrations(UINT32 kind, fill_fn fill, UINT32 max, UINT32 *count, NAPAGENT_COMPONENT **out)
{
    struct component *registrations;
    NAPAGENT_COMPONENT *infos = NULL;
    UINT32 i, found = 0;
    HRESULT hr;

    *count = 0;
    *out = NULL;
    if (!(registrations = HeapAlloc(GetProcessHeap(), 0, sizeof(*registrations) * max)))
        return E_OUTOFMEMORY;
    hr = store_list(kind, registrations, max, &found);
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

/* Registrations, EC and SHA alike */

HRESULT __cdecl NapAgentRegister(handle_t binding, UINT32 kind, const NAPAGENT_COMPONENT *info)
{
    struct component *registration;
    HRESULT hr;

    (void)binding;
    if (kind != NAPAGENT_KIND_EC && kind != NAPAGENT_KIND_SHA) return E_INVALIDARG;
    if (SUCCEEDED(hr = registration_from_info(info, &registration)))
    {
        hr = store_register(kind, registration);
        HeapFree(GetProcessHeap(), 0, registration);
    }
    agent_log(AGENT_LOG_TRACE, "NapAgentRegister(%s %u): 0x%08lx", kind == NAPAGENT_KIND_EC ? "EC" : "SHA", info->id,
              hr);
    /* The SSoH lists every registered SHA: their table must know. */
    if (SUCCEEDED(hr) && kind == NAPAGENT_KIND_SHA) sha_registrations_changed();
    return hr;
}

HRESULT __cdecl NapAgentUnregister(handle_t binding, UINT32 kind, UINT32 id)
{
    HRESULT hr;

    (void)binding;
    if (kind != NAPAGENT_KIND_EC && kind != NAPAGENT_KIND_SHA) return E_INVALIDARG;
    hr = sessions_unregister(kind, id, kind == NAPAGENT_KIND_SHA ? sha_forget : NULL);
    agent_log(AGENT_LOG_TRACE, "NapAgentUnregister(%s %u): 0x%08lx", kind == NAPAGENT_KIND_EC ? "EC" : "SHA", id, hr);
    return hr;
}

HRESULT __cdecl NapAgentList(handle_t binding, UINT32 kind, UINT32 *count, NAPAGENT_COMPONENT **components)
{
    (void)binding;
    if (kind == NAPAGENT_KIND_EC)
        return list_registrations(kind, fill_ec_info, maxEnforcerCount, count, components);
    if (kind == NAPAGENT_KIND_SHA)
        return list_registrations(kind, fill_sha_info, maxSystemHealthEntityCount, count, components);
    *count = 0;
    *components = NULL;
    return E_INVALIDARG;
}

HRESULT __cdecl NapAgentSetEcEnabled(handle_t binding, UINT32 id, BOOL enabled)
{
    (void)binding;
    return store_set_ec_enabled(id, enabled);
}

/* The client as a whole */

/* NAP counts as enabled when at least one registered EC is, by its local
 * setting or by policy (read afresh, as store_ec_enabled does). */
static BOOL any_ec_enabled(void)
{
    struct component *registrations;
    UINT32 i, count = 0;
    BOOL enabled = FALSE;

    if (!(registrations = HeapAlloc(GetProcessHeap(), 0, sizeof(*registrations) * maxEnforcerCount)))
        return FALSE;
    if (SUCCEEDED(store_list(NAPAGENT_KIND_EC, registrations, maxEnforcerCount, &count)))
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

HRESULT __cdecl NapAgentGetState(handle_t binding, NAPAGENT_STATE *state)
{
    (void)binding;
    ec_get_state(state);
    return S_OK;
}

/* The ranges are those every reader clamps to (src/common/agent_settings.c). */
HRESULT __cdecl NapAgentSetSetting(handle_t binding, UINT32 setting, UINT32 value)
{
    const struct agent_setting *entry = agent_setting_by_rpc_id(setting);

    (void)binding;
    if (!entry || !agent_setting_in_range(entry, value)) return E_INVALIDARG;
    return store_set_setting(entry->name, value);
}

HRESULT __cdecl NapAgentNotifySoHChange(handle_t binding)
{
    (void)binding;
    return ec_notify_all();
}

HRESULT __cdecl NapAgentQueryConnections(handle_t binding, UINT32 ec_id, UINT32 timeout_ms, UINT32 *count,
                                         NAPAGENT_CONNECTION_FACTS **connections)
{
    (void)binding;
    return ec_query_connections(ec_id, timeout_ms, count, connections);
}
