/*
 * NapClientManagement: registrations and the client's state, read from and written to the agent
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "NapManagement.h"
#include "napagent_rpc.h"
#include "agent_endpoint.h"
#include "agent_service.h"
#include "call_runner.h"
#include "nap_hresults.h"

/* The object keeps no state: each call binds afresh to whichever agent runs
 * now, so that a restarted agent is found without any rebinding logic, and
 * starts the installed service first when no agent runs, as the bindings'
 * Initialize does: installers register SHAs and ECs while the demand-start
 * service is stopped. */
struct management
{
    INapClientManagement2 INapClientManagement2_iface;
    LONG refs;
};

static inline struct management *impl_from_INapClientManagement2(INapClientManagement2 *iface)
{
    return CONTAINING_RECORD(iface, struct management, INapClientManagement2_iface);
}

/* Everything a call needs or returns lives in its job, never on the
 * caller's stack: a caller that timed out has returned while a worker may
 * still be in the call. */
struct mgmt_job
{
    struct call_job job;
    RPC_BINDING_HANDLE binding;
    UINT32 id;
    NAPAGENT_EC_INFO info;                      /* register: strings point into `strings` */
    WCHAR strings[4][maxStringLength + 1];
    UINT32 count;                               /* list */
    NAPAGENT_EC_INFO *list;
    NAPAGENT_CLIENT_INFO client;
    NAPAGENT_SYSTEM_ISOLATION isolation;
};

static void free_ec_info_strings(NAPAGENT_EC_INFO *info)
{
    MIDL_user_free(info->friendly_name);
    MIDL_user_free(info->description);
    MIDL_user_free(info->version);
    MIDL_user_free(info->vendor_name);
}

/* Runs on whichever thread lets go of the job last: frees what the stub
 * returned and nobody took. */
static void destroy_job(struct call_job *base)
{
    struct mgmt_job *job = CONTAINING_RECORD(base, struct mgmt_job, job);
    UINT32 i;

    if (job->list)
    {
        for (i = 0; i < job->count; i++) free_ec_info_strings(&job->list[i]);
        MIDL_user_free(job->list);
    }
    MIDL_user_free(job->client.name);
    MIDL_user_free(job->client.description);
    MIDL_user_free(job->client.protocol_version);
    MIDL_user_free(job->isolation.failure_url);
    if (job->binding) RpcBindingFree(&job->binding);
    call_job_free(base);
}

static struct mgmt_job *new_job(rpc_guarded_fn call)
{
    return call_job_create(sizeof(struct mgmt_job), call, destroy_job);
}

/* One bounded call to the agent, started first if its service is installed
 * and stopped (agent_service.c, bounded): its HRESULT, RPC_E_DISCONNECTED
 * when no agent runs nor could be started, or it went away, RPC_E_TIMEOUT
 * when it did not answer within the call timeout.  The caller still
 * releases the job. */
static HRESULT run_job(struct mgmt_job *job)
{
    HRESULT hr;

    if (FAILED(agent_service_ensure_running())) return RPC_E_DISCONNECTED;
    /* The agent went away meanwhile: say so without touching a pipe. */
    if (agent_endpoint_bind(&job->binding) != RPC_S_OK) return RPC_E_DISCONNECTED;
    if (FAILED(hr = call_runner_run(&job->job, read_call_timeout()))) return hr;
    if (job->job.exception_code && rpc_code_means_disconnected(job->job.exception_code)) return RPC_E_DISCONNECTED;
    return job->job.hr;
}

/* Allocations handed to the caller */

/* A CoTaskMem copy of `length` characters of text, NUL-terminated; an empty
 * string is still a buffer, so that the caller may print it. */
static HRESULT counted_string_set(CountedString *out, const WCHAR *text, UINT16 length)
{
    out->length = 0;
    if (!(out->string = CoTaskMemAlloc((length + 1) * sizeof(WCHAR)))) return E_OUTOFMEMORY;
    if (length) memcpy(out->string, text, length * sizeof(WCHAR));
    out->string[length] = 0;
    out->length = length;
    return S_OK;
}

/* The agent's strings are at most maxStringLength long; a longer one is cut. */
static UINT16 agent_string_length(const WCHAR *text)
{
    int length = text ? lstrlenW(text) : 0;

    return (UINT16)min(length, maxStringLength);
}

static HRESULT counted_string_from_agent(CountedString *out, const WCHAR *text)
{
    return counted_string_set(out, text ? text : L"", agent_string_length(text));
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
static HRESULT registration_from_agent(NapComponentRegistrationInfo *out, const NAPAGENT_EC_INFO *info)
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
static HRESULT registrations_from_agent(const NAPAGENT_EC_INFO *list, UINT32 count, UINT16 *out_count,
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
    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_INapClientManagement)
        || IsEqualIID(riid, &IID_INapClientManagement2))
    {
        *out = iface;
        INapClientManagement2_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI management_AddRef(INapClientManagement2 *iface)
{
    struct management *management = impl_from_INapClientManagement2(iface);

    return InterlockedIncrement(&management->refs);
}

static ULONG WINAPI management_Release(INapClientManagement2 *iface)
{
    struct management *management = impl_from_INapClientManagement2(iface);
    ULONG refs = InterlockedDecrement(&management->refs);

    if (!refs)
    {
        HeapFree(GetProcessHeap(), 0, management);
        com_server_object_destroyed();
    }
    return refs;
}

/* GetNapClientInfo */

static HRESULT client_info_thunk(void *arg)
{
    struct mgmt_job *job = arg;

    return NapAgentGetClientInfo(job->binding, &job->client);
}

static HRESULT WINAPI management_GetNapClientInfo(INapClientManagement2 *iface, BOOL *enabled, CountedString **name,
                                                  CountedString **description, CountedString **version)
{
    struct mgmt_job *job;
    HRESULT hr;

    (void)iface;
    if (!enabled || !name || !description || !version) return E_POINTER;
    *enabled = FALSE;
    *name = *description = *version = NULL;
    if (!(job = new_job(client_info_thunk))) return E_OUTOFMEMORY;
    if (SUCCEEDED(hr = run_job(job))
        && SUCCEEDED(hr = counted_string_alloc(job->client.name, name))
        && SUCCEEDED(hr = counted_string_alloc(job->client.description, description))
        && SUCCEEDED(hr = counted_string_alloc(job->client.protocol_version, version)))
        *enabled = job->client.nap_enabled;
    call_job_release(&job->job);
    if (FAILED(hr))
    {
        counted_string_free(*name);
        counted_string_free(*description);
        *name = *description = NULL;
    }
    return hr;
}

/* GetSystemIsolationInfo(Ex) */

static HRESULT isolation_thunk(void *arg)
{
    struct mgmt_job *job = arg;

    return NapAgentGetSystemIsolation(job->binding, &job->isolation);
}

/* The agent's view of the system, or why there is none; the caller releases the job. */
static HRESULT get_system_isolation(struct mgmt_job **out)
{
    if (!(*out = new_job(isolation_thunk))) return E_OUTOFMEMORY;
    return run_job(*out);
}

static HRESULT WINAPI management_GetSystemIsolationInfo(INapClientManagement2 *iface, IsolationInfo **out,
                                                        BOOL *unknown_connections)
{
    IsolationInfo *info = NULL;
    struct mgmt_job *job;
    HRESULT hr;

    (void)iface;
    if (!out || !unknown_connections) return E_POINTER;
    *out = NULL;
    *unknown_connections = FALSE;
    if (!(info = CoTaskMemAlloc(sizeof(*info)))) return E_OUTOFMEMORY;
    ZeroMemory(info, sizeof(*info));
    if (SUCCEEDED(hr = get_system_isolation(&job))
        && SUCCEEDED(hr = counted_string_from_agent(&info->failureUrl, job->isolation.failure_url)))
    {
        info->isolationState = job->isolation.state;
        info->probEndTime = job->isolation.prob_end_time;
        *unknown_connections = job->isolation.unknown_connections;
        *out = info;
        info = NULL;
    }
    if (job) call_job_release(&job->job);
    CoTaskMemFree(info);
    return hr;
}

static HRESULT WINAPI management_GetSystemIsolationInfoEx(INapClientManagement2 *iface, IsolationInfoEx **out,
                                                          BOOL *unknown_connections)
{
    IsolationInfoEx *info = NULL;
    struct mgmt_job *job;
    HRESULT hr;

    (void)iface;
    if (!out || !unknown_connections) return E_POINTER;
    *out = NULL;
    *unknown_connections = FALSE;
    if (!(info = CoTaskMemAlloc(sizeof(*info)))) return E_OUTOFMEMORY;
    ZeroMemory(info, sizeof(*info));
    if (SUCCEEDED(hr = get_system_isolation(&job))
        && SUCCEEDED(hr = counted_string_from_agent(&info->failureUrl, job->isolation.failure_url)))
    {
        info->isolationState = job->isolation.state;
        info->extendedIsolationState = job->isolation.extended_state;
        info->probEndTime = job->isolation.prob_end_time;
        *unknown_connections = job->isolation.unknown_connections;
        *out = info;
        info = NULL;
    }
    if (job) call_job_release(&job->job);
    CoTaskMemFree(info);
    return hr;
}

/* Register*, Unregister* */

static HRESULT register_ec_thunk(void *arg)
{
    struct mgmt_job *job = arg;

    return NapAgentRegisterEc(job->binding, &job->info);
}

static HRESULT register_sha_thunk(void *arg)
{
    struct mgmt_job *job = arg;

    return NapAgentRegisterSha(job->binding, &job->info);
}

/* The caller's CountedString, checked and copied into the job: exactly
 * `length` characters, whatever follows them. */
static HRESULT copy_in_string(const CountedString *from, WCHAR *to, WCHAR **field)
{
    if (from->length > maxStringLength) return E_INVALIDARG;
    if (from->length && !from->string) return E_INVALIDARG;
    if (from->length) memcpy(to, from->string, from->length * sizeof(WCHAR));
    to[from->length] = 0;
    *field = to;
    return S_OK;
}

static HRESULT register_component(const NapComponentRegistrationInfo *info, rpc_guarded_fn call, BOOL is_sha)
{
    struct mgmt_job *job;
    HRESULT hr;

    if (!info) return E_POINTER;
    if (!info->id) return E_INVALIDARG;
    if (!(job = new_job(call))) return E_OUTOFMEMORY;
    job->info.id = info->id;
    job->info.info_clsid = info->infoClsid;
    job->info.config_clsid = info->configClsid;
    /* registrationDate is ignored: the agent stamps the registration.  An
     * SHA's componentType is ignored too (reference §7). */
    job->info.component_type = is_sha ? 0 : info->componentType;
    if (SUCCEEDED(hr = copy_in_string(&info->friendlyName, job->strings[0], &job->info.friendly_name))
        && SUCCEEDED(hr = copy_in_string(&info->description, job->strings[1], &job->info.description))
        && SUCCEEDED(hr = copy_in_string(&info->version, job->strings[2], &job->info.version))
        && SUCCEEDED(hr = copy_in_string(&info->vendorName, job->strings[3], &job->info.vendor_name)))
        hr = run_job(job);
    call_job_release(&job->job);
    return hr;
}

static HRESULT unregister_ec_thunk(void *arg)
{
    struct mgmt_job *job = arg;

    return NapAgentUnregisterEc(job->binding, job->id);
}

static HRESULT unregister_sha_thunk(void *arg)
{
    struct mgmt_job *job = arg;

    return NapAgentUnregisterSha(job->binding, job->id);
}

static HRESULT unregister_component(UINT32 id, rpc_guarded_fn call)
{
    struct mgmt_job *job;
    HRESULT hr;

    if (!(job = new_job(call))) return E_OUTOFMEMORY;
    job->id = id;
    hr = run_job(job);
    call_job_release(&job->job);
    return hr;
}

static HRESULT WINAPI management_RegisterSystemHealthAgent(INapClientManagement2 *iface,
                                                           const NapComponentRegistrationInfo *agent)
{
    (void)iface;
    return register_component(agent, register_sha_thunk, TRUE);
}

static HRESULT WINAPI management_UnregisterSystemHealthAgent(INapClientManagement2 *iface, SystemHealthEntityId id)
{
    (void)iface;
    return unregister_component(id, unregister_sha_thunk);
}

static HRESULT WINAPI management_RegisterEnforcementClient(INapClientManagement2 *iface,
                                                           const NapComponentRegistrationInfo *enforcer)
{
    (void)iface;
    return register_component(enforcer, register_ec_thunk, FALSE);
}

static HRESULT WINAPI management_UnregisterEnforcementClient(INapClientManagement2 *iface, EnforcementEntityId id)
{
    (void)iface;
    return unregister_component(id, unregister_ec_thunk);
}

/* GetRegistered* */

static HRESULT list_ecs_thunk(void *arg)
{
    struct mgmt_job *job = arg;

    return NapAgentListEcs(job->binding, &job->count, &job->list);
}

static HRESULT list_shas_thunk(void *arg)
{
    struct mgmt_job *job = arg;

    return NapAgentListShas(job->binding, &job->count, &job->list);
}

static HRESULT list_components(rpc_guarded_fn call, UINT16 *count, NapComponentRegistrationInfo **out)
{
    struct mgmt_job *job;
    HRESULT hr;

    if (!count || !out) return E_POINTER;
    *count = 0;
    *out = NULL;
    if (!(job = new_job(call))) return E_OUTOFMEMORY;
    if (SUCCEEDED(hr = run_job(job))) hr = registrations_from_agent(job->list, job->count, count, out);
    call_job_release(&job->job);
    return hr;
}

static HRESULT WINAPI management_GetRegisteredSystemHealthAgents(INapClientManagement2 *iface,
                                                                 SystemHealthEntityCount *count,
                                                                 NapComponentRegistrationInfo **agents)
{
    (void)iface;
    return list_components(list_shas_thunk, count, agents);
}

static HRESULT WINAPI management_GetRegisteredEnforcementClients(INapClientManagement2 *iface,
                                                                 EnforcementEntityCount *count,
                                                                 NapComponentRegistrationInfo **enforcers)
{
    (void)iface;
    return list_components(list_ecs_thunk, count, enforcers);
}

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
