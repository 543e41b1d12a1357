/*
 * NapClientManagement: registrations and the client's state, read from and written to the agent
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "NapManagement.h"
#include "agent_call.h"
#include "nap_hresults.h"
#include "nap_trace.h"

NAP_TRACE_CHANNEL(qagent);

/* The object keeps no state: each call goes to whichever agent runs now
 * (agent_call.h), starting its installed service when none does, as
 * installers register SHAs and ECs while the demand-start service is
 * stopped. */
struct management
{
    INapClientManagement2 INapClientManagement2_iface;
    LONG refs;
    IUnknown *volatile ftm;       /* the free-threaded marshaler, aggregated at the first QI for IMarshal */
};

static inline struct management *impl_from_INapClientManagement2(INapClientManagement2 *iface)
{
    return CONTAINING_RECORD(iface, struct management, INapClientManagement2_iface);
}

static void free_component_strings(NAPAGENT_COMPONENT *component)
{
    MIDL_user_free(component->friendly_name);
    MIDL_user_free(component->description);
    MIDL_user_free(component->version);
    MIDL_user_free(component->vendor_name);
}

/* The calls to the agent (agent_call.h): args structs and stub adapters. */

static void client_info_free(void *arg)
{
    NAPAGENT_CLIENT_INFO *info = arg;

    MIDL_user_free(info->name);
    MIDL_user_free(info->description);
    MIDL_user_free(info->protocol_version);
}

AGENT_METHOD(client_info_method, NAPAGENT_CLIENT_INFO, NapAgentGetClientInfo, (agent, args),
             .free_out = client_info_free, .may_start_agent = TRUE);

struct register_args
{
    UINT32 kind;
    NAPAGENT_COMPONENT component;      /* strings point into `strings` */
    WCHAR strings[4][maxStringLength + 1];
};

static HRESULT register_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    struct register_args *args = arg;

    (void)cookie;
    args->component.friendly_name = args->strings[0];
    args->component.description = args->strings[1];
    args->component.version = args->strings[2];
    args->component.vendor_name = args->strings[3];
    return NapAgentRegister(agent, args->kind, &args->component);
}

static const struct agent_method register_method =
{
    .name = "NapAgentRegister",
    .stub = register_stub,
    .args_size = sizeof(struct register_args),
    .may_start_agent = TRUE
};

struct unregister_args
{
    UINT32 kind;
    UINT32 id;
};

AGENT_METHOD(unregister_method, struct unregister_args, NapAgentUnregister, (agent, args->kind, args->id),
             .may_start_agent = TRUE);

struct list_args
{
    UINT32 kind;
    UINT32 count;
    NAPAGENT_COMPONENT *list;
};

static void list_free(void *arg)
{
    struct list_args *args = arg;
    UINT32 i;

    for (i = 0; args->list && i < args->count; i++) free_component_strings(&args->list[i]);
    MIDL_user_free(args->list);
    args->list = NULL;
}

AGENT_METHOD(list_method, struct list_args, NapAgentList, (agent, args->kind, &args->count, &args->list),
             .free_out = list_free, .may_start_agent = TRUE);

/* Allocations handed to the caller */

/* The agent's strings are at most maxStringLength long; a longer one is cut. */
static UINT16 agent_string_length(const WCHAR *text)
{
    int length = text ? lstrlenW(text) : 0;

    return (UINT16)min(length, maxStringLength);
}

static HRESULT counted_string_from_agent(CountedString *out, const WCHAR *text)
{
    return counted_string_copy(text, agent_string_length(text), out);
}

/* Two CoTaskMem blocks, as AllocCountedString makes them: FreeCountedString frees both. */
static HRESULT counted_string_alloc(const WCHAR *text, CountedString **out)
{
    CountedString *string;
    HRESULT hr;

    if (!(string = CoTaskMemAlloc(sizeof(*string)))) return E_OUTOFMEMORY;
    if (FAILED(hr = counted_string_from_agent(string, text)))
    {
        CoTaskMemFree(string);
        return hr;
    }
    *out = string;
    return S_OK;
}

static void counted_string_free(CountedString *string)
{
    if (!string) return;
    CoTaskMemFree(string->string);
    CoTaskMemFree(string);
}

static void registration_strings_free(NapComponentRegistrationInfo *info)
{
    CoTaskMemFree(info->friendlyName.string);
    CoTaskMemFree(info->description.string);
    CoTaskMemFree(info->version.string);
    CoTaskMemFree(info->vendorName.string);
}

/* On failure the strings made so far stay in *out for the caller to free. */
static HRESULT registration_from_agent(NapComponentRegistrationInfo *out, const NAPAGENT_COMPONENT *info)
{
    HRESULT hr;

    out->id = info->id;
    out->infoClsid = info->info_clsid;
    out->configClsid = info->config_clsid;
    out->registrationDate = info->registration_date;
    out->componentType = info->component_type;
    if (SUCCEEDED(hr = counted_string_from_agent(&out->friendlyName, info->friendly_name))
        && SUCCEEDED(hr = counted_string_from_agent(&out->description, info->description))
        && SUCCEEDED(hr = counted_string_from_agent(&out->version, info->version))
        && SUCCEEDED(hr = counted_string_from_agent(&out->vendorName, info->vendor_name)))
        return S_OK;
    return hr;
}

/* One CoTaskMem array, each string its own block: what qutil's
 * FreeNapComponentRegistrationInfoArray(count, &array) frees.  No
 * registrations: a NULL array. */
static HRESULT registrations_from_agent(const NAPAGENT_COMPONENT *list, UINT32 count, UINT16 *out_count,
                                        NapComponentRegistrationInfo **out)
{
    NapComponentRegistrationInfo *array;
    UINT32 i;
    HRESULT hr = S_OK;

    /* The agent never keeps more than 20 of a kind; anything past that is not ours. */
    count = min(count, maxEnforcerCount);
    if (!count) return S_OK;
    if (!(array = CoTaskMemAlloc(count * sizeof(*array)))) return E_OUTOFMEMORY;
    ZeroMemory(array, count * sizeof(*array));
    for (i = 0; i < count && SUCCEEDED(hr); i++) hr = registration_from_agent(&array[i], &list[i]);
    if (FAILED(hr))
    {
        /* The array was zeroed: entries not reached hold NULL strings. */
        for (i = 0; i < count; i++) registration_strings_free(&array[i]);
        CoTaskMemFree(array);
        return hr;
    }
    *out = array;
    *out_count = (UINT16)count;
    return S_OK;
}

/* IUnknown */

static HRESULT WINAPI management_QueryInterface(INapClientManagement2 *iface, REFIID riid, void **out)
{
    static const IID *const iids[] = { &IID_IUnknown, &IID_INapClientManagement, &IID_INapClientManagement2, NULL };

    /* Stateless: any apartment calls it directly (docs/decisions.md, "Apartments"). */
    return com_query_interface_ftm(iface, iids, &impl_from_INapClientManagement2(iface)->ftm, riid, out);
}

static ULONG WINAPI management_AddRef(INapClientManagement2 *iface)
{
    return com_addref(iface, &impl_from_INapClientManagement2(iface)->refs);
}

static ULONG WINAPI management_Release(INapClientManagement2 *iface)
{
    struct management *management = impl_from_INapClientManagement2(iface);
    ULONG refs = com_release(iface, &management->refs);

    if (!refs)
    {
        com_ftm_release(management->ftm);
        HeapFree(GetProcessHeap(), 0, management);
        com_server_object_destroyed();
    }
    return refs;
}

/* GetNapClientInfo */

static HRESULT WINAPI management_GetNapClientInfo(INapClientManagement2 *iface, BOOL *enabled, CountedString **name,
                                                  CountedString **description, CountedString **version)
{
    NAPAGENT_CLIENT_INFO info = { 0 };
    HRESULT hr;

    TRACE("%p, %p, %p, %p, %p\n", iface, enabled, name, description, version);
    if (!enabled || !name || !description || !version) return E_POINTER;
    *enabled = FALSE;
    *name = *description = *version = NULL;
    if (SUCCEEDED(hr = agent_call(NULL, &client_info_method, &info))
        && SUCCEEDED(hr = counted_string_alloc(info.name, name))
        && SUCCEEDED(hr = counted_string_alloc(info.description, description))
        && SUCCEEDED(hr = counted_string_alloc(info.protocol_version, version)))
        *enabled = info.nap_enabled;
    client_info_free(&info);
    if (FAILED(hr))
    {
        counted_string_free(*name);
        counted_string_free(*description);
        *name = *description = NULL;
    }
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

/* GetSystemIsolationInfo(Ex) */

static HRESULT get_isolation(INapClientManagement2 *iface, BOOL extended, void **out, BOOL *unknown)
{
    HRESULT hr;

    TRACE("%p, %p, %p\n", iface, out, unknown);
    if (!out || !unknown) return E_POINTER;
    *out = NULL;
    *unknown = FALSE;
    hr = system_isolation_get(NULL, extended, out, unknown);
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

static HRESULT WINAPI management_GetSystemIsolationInfo(INapClientManagement2 *iface, IsolationInfo **out,
                                                        BOOL *unknown_connections)
{
    return get_isolation(iface, FALSE, (void **)out, unknown_connections);
}

static HRESULT WINAPI management_GetSystemIsolationInfoEx(INapClientManagement2 *iface, IsolationInfoEx **out,
                                                          BOOL *unknown_connections)
{
    return get_isolation(iface, TRUE, (void **)out, unknown_connections);
}

/* Register*, Unregister* */

/* The caller's CountedString, checked and copied into the call: exactly
 * `length` characters, whatever follows them. */
static HRESULT copy_in_string(const CountedString *from, WCHAR *to)
{
    if (from->length > maxStringLength) return E_INVALIDARG;
    if (from->length && !from->string) return E_INVALIDARG;
    if (from->length) memcpy(to, from->string, from->length * sizeof(WCHAR));
    to[from->length] = 0;
    return S_OK;
}

static HRESULT register_component(UINT32 kind, const NapComponentRegistrationInfo *info)
{
    struct register_args *args;
    HRESULT hr;

    if (!info) return E_POINTER;
    TRACE("kind %u, id %u, %s\n", kind, info->id, nap_dbgstr_w(info->friendlyName.string));
    if (!info->id) return E_INVALIDARG;
    if (!(args = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*args)))) return E_OUTOFMEMORY;
    args->kind = kind;
    args->component.id = info->id;
    args->component.info_clsid = info->infoClsid;
    args->component.config_clsid = info->configClsid;
    /* registrationDate is ignored: the agent stamps the registration.  An
     * SHA's componentType is ignored too (Microsoft's RegisterSystemHealthAgent page). */
    args->component.component_type = kind == NAPAGENT_KIND_SHA ? 0 : info->componentType;
    if (SUCCEEDED(hr = copy_in_string(&info->friendlyName, args->strings[0]))
        && SUCCEEDED(hr = copy_in_string(&info->description, args->strings[1]))
        && SUCCEEDED(hr = copy_in_string(&info->version, args->strings[2]))
        && SUCCEEDED(hr = copy_in_string(&info->vendorName, args->strings[3])))
        hr = agent_call(NULL, &register_method, args);
    HeapFree(GetProcessHeap(), 0, args);
    TRACE("0x%08lx\n", hr);
    return hr;
}

static HRESULT unregister_component(UINT32 kind, UINT32 id)
{
    struct unregister_args args = { kind, id };
    HRESULT hr = agent_call(NULL, &unregister_method, &args);

    TRACE("kind %u, id %u: 0x%08lx\n", kind, id, hr);
    return hr;
}

/* GetRegistered* */

static HRESULT list_components(UINT32 kind, UINT16 *count, NapComponentRegistrationInfo **out)
{
    struct list_args args = { kind, 0, NULL };
    HRESULT hr;

    if (!count || !out) return E_POINTER;
    *count = 0;
    *out = NULL;
    if (SUCCEEDED(hr = agent_call(NULL, &list_method, &args)))
        hr = registrations_from_agent(args.list, args.count, count, out);
    list_free(&args);
    TRACE("kind %u: 0x%08lx, %u\n", kind, hr, *count);
    return hr;
}

/* RegisterSystemHealthAgent, UnregisterSystemHealthAgent and
 * GetRegisteredSystemHealthAgents, and the same three for enforcement
 * clients: one body each, the kind apart. */
#define COMPONENT_METHODS(name, names, kind, id_type, count_type) \
    static HRESULT WINAPI management_Register##name(INapClientManagement2 *iface, \
                                                    const NapComponentRegistrationInfo *info) \
    { \
        TRACE("%p, %p\n", iface, info); \
        return register_component(kind, info); \
    } \
    static HRESULT WINAPI management_Unregister##name(INapClientManagement2 *iface, id_type id) \
    { \
        TRACE("%p, %u\n", iface, id); \
        return unregister_component(kind, id); \
    } \
    static HRESULT WINAPI management_GetRegistered##names(INapClientManagement2 *iface, count_type *count, \
                                                          NapComponentRegistrationInfo **out) \
    { \
        TRACE("%p, %p, %p\n", iface, count, out); \
        return list_components(kind, count, out); \
    }

COMPONENT_METHODS(SystemHealthAgent, SystemHealthAgents, NAPAGENT_KIND_SHA, SystemHealthEntityId,
                  SystemHealthEntityCount)
COMPONENT_METHODS(EnforcementClient, EnforcementClients, NAPAGENT_KIND_EC, EnforcementEntityId,
                  EnforcementEntityCount)

static const INapClientManagement2Vtbl management_vtbl =
{
    management_QueryInterface,
    management_AddRef,
    management_Release,
    management_GetNapClientInfo,
    management_GetSystemIsolationInfo,
    management_RegisterSystemHealthAgent,
    management_UnregisterSystemHealthAgent,
    management_RegisterEnforcementClient,
    management_UnregisterEnforcementClient,
    management_GetRegisteredSystemHealthAgents,
    management_GetRegisteredEnforcementClients,
    management_GetSystemIsolationInfoEx,
};

HRESULT management_create(REFIID riid, void **out)
{
    struct management *management;
    HRESULT hr;

    if (!(management = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*management)))) return E_OUTOFMEMORY;
    management->INapClientManagement2_iface.lpVtbl = &management_vtbl;
    management->refs = 1;
    com_server_object_created();

    hr = INapClientManagement2_QueryInterface(&management->INapClientManagement2_iface, riid, out);
    INapClientManagement2_Release(&management->INapClientManagement2_iface);
    return hr;
}
