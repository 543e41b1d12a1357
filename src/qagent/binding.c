/*
 * NapEnforcementClientBinding: the object an enforcement client binds through
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "agent_call.h"
#include "binding_state.h"
#include "session.h"
#include "nap_hresults.h"
#include "nap_trace.h"

NAP_TRACE_CHANNEL(qagent);

struct binding
{
    INapEnforcementClientBinding INapEnforcementClientBinding_iface;
    LONG refs;
    IUnknown *volatile ftm;       /* the free-threaded marshaler, aggregated at the first QI for IMarshal */

    struct binding_state state;   /* initialised, the session, calls in flight */
    EnforcementEntityId id;
    struct connection_quota *quota;
};

static inline struct binding *impl_from_INapEnforcementClientBinding(INapEnforcementClientBinding *iface)
{
    return CONTAINING_RECORD(iface, struct binding, INapEnforcementClientBinding_iface);
}

/* The binding's calls to the agent: each an args struct and a stub adapter
 * (agent_call.h).  A COM method reaches the RPC stub through agent_call,
 * rpc_guard and the adapter (docs/architecture.md). */

struct get_soh_request_args
{
    NAPAGENT_CONNECTION_FACTS facts;
    NAPAGENT_CORRELATION correlation;
    BYTE flags;
    BOOL retrigger;
    NAPAGENT_BLOB request;
};

static void get_soh_request_free(void *arg)
{
    MIDL_user_free(((struct get_soh_request_args *)arg)->request.data);
}

AGENT_METHOD(get_soh_request_method, struct get_soh_request_args, NapAgentEcGetSoHRequest,
             (agent, cookie, &args->facts, &args->correlation, &args->flags, &args->retrigger, &args->request),
             .free_out = get_soh_request_free);

struct process_soh_response_args
{
    NAPAGENT_CONNECTION_FACTS facts;
    UINT16 size;
    BYTE response[maxNetworkSoHSize];
    NAPAGENT_ISOLATION isolation;
};

static void process_soh_response_free(void *arg)
{
    MIDL_user_free(((struct process_soh_response_args *)arg)->isolation.failure_url);
}

AGENT_METHOD(process_soh_response_method, struct process_soh_response_args, NapAgentEcProcessSoHResponse,
             (agent, cookie, &args->facts, args->size, args->response, &args->isolation),
             .free_out = process_soh_response_free);

AGENT_METHOD(connection_down_method, NAPAGENT_CONNECTION_FACTS, NapAgentEcConnectionDown, (agent, cookie, args));

static HRESULT soh_change_failure_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *args)
{
    (void)args;
    return NapAgentEcSoHChangeFailure(agent, cookie);
}

static const struct agent_method soh_change_failure_method =
{
    .name = "NapAgentEcSoHChangeFailure",
    .stub = soh_change_failure_stub,
    .args_size = 0
};

/* The COM object */

static HRESULT begin_call(struct binding *binding, struct session **session)
{
    return binding_state_begin_call(&binding->state, session);
}

static void end_call(struct binding *binding, struct session *session)
{
    binding_state_end_call(&binding->state, session);
}

static HRESULT WINAPI binding_QueryInterface(INapEnforcementClientBinding *iface, REFIID riid, void **out)
{
    static const IID *const iids[] = { &IID_IUnknown, &IID_INapEnforcementClientBinding, NULL };

    /* Any apartment calls the binding directly (docs/decisions.md, "Apartments"). */
    return com_query_interface_ftm(iface, iids, &impl_from_INapEnforcementClientBinding(iface)->ftm, riid, out);
}

static ULONG WINAPI binding_AddRef(INapEnforcementClientBinding *iface)
{
    return com_addref(iface, &impl_from_INapEnforcementClientBinding(iface)->refs);
}

static ULONG WINAPI binding_Release(INapEnforcementClientBinding *iface)
{
    struct binding *binding = impl_from_INapEnforcementClientBinding(iface);
    ULONG refs = com_release(iface, &binding->refs);

    if (!refs)
    {
        binding_state_destroy(&binding->state);
        connection_quota_release(binding->quota);
        com_ftm_release(binding->ftm);
        HeapFree(GetProcessHeap(), 0, binding);
        com_server_object_destroyed();
    }
    return refs;
}

struct start_context
{
    struct binding *binding;
    EnforcementEntityId id;
    INapEnforcementClientCallback *callback;
};

/* Runs under the state's lock. */
static HRESULT start_session(void *context, struct session **session)
{
    struct start_context *start = context;
    HRESULT hr = ec_session_start(start->id, start->callback, start->binding->quota, session);

    if (SUCCEEDED(hr)) start->binding->id = start->id;
    return hr;
}

static HRESULT WINAPI binding_Initialize(INapEnforcementClientBinding *iface, EnforcementEntityId id,
                                         INapEnforcementClientCallback *callback)
{
    struct start_context start = { impl_from_INapEnforcementClientBinding(iface), id, callback };
    HRESULT hr;

    TRACE("%p, %u, %p\n", iface, id, callback);
    if (!callback) hr = E_INVALIDARG;
    else hr = binding_state_initialize(&start.binding->state, start_session, &start);
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

static HRESULT WINAPI binding_Uninitialize(INapEnforcementClientBinding *iface)
{
    HRESULT hr = binding_state_uninitialize(&impl_from_INapEnforcementClientBinding(iface)->state);

    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

static HRESULT WINAPI binding_CreateConnection(INapEnforcementClientBinding *iface,
                                               INapEnforcementClientConnection **connection)
{
    struct binding *binding = impl_from_INapEnforcementClientBinding(iface);
    struct session *session;
    UINT64 cookie;
    HRESULT hr;

    TRACE("%p, %p\n", iface, connection);
    if (!connection) return E_POINTER;
    *connection = NULL;
    if (FAILED(hr = begin_call(binding, &session))) return hr;
    /* No RPC of its own, but like every binding method it reports a lost agent. */
    if (FAILED(hr = agent_session_ready(&session->agent, agent_call_deadline(&session->agent), &cookie))) ;
    /* docs/decisions.md: the 21st live connection is refused as a resource limit. */
    else if (!connection_quota_take(binding->quota, maxConnectionCountPerEnforcer)) hr = E_OUTOFMEMORY;
    else if (FAILED(hr = connection_create(binding->id, binding->quota, connection)))
        connection_quota_give_back(binding->quota, &GUID_NULL);
    end_call(binding, session);
    TRACE("%p: 0x%08lx, %p\n", iface, hr, *connection);
    return hr;
}

/* The facts of a connection for one call, numbered in the order the EC
 * makes its calls: the agent lets no late call undo a newer one. */
static HRESULT read_facts(struct binding *binding, INapEnforcementClientConnection *connection,
                          NAPAGENT_CONNECTION_FACTS *facts)
{
    HRESULT hr = connection_read_facts(connection, facts);

    if (SUCCEEDED(hr)) facts->call_seq = connection_quota_next_seq(binding->quota);
    return hr;
}

/* Writes the agent's request, correlation id and flags onto the connection. */
static HRESULT store_request(INapEnforcementClientConnection *connection, const struct get_soh_request_args *args)
{
    NetworkSoHRequest soh = { args->request.size, args->request.data };
    CorrelationId id = { args->correlation.conn_id, args->correlation.time_stamp };
    HRESULT hr;

    if (FAILED(hr = INapEnforcementClientConnection_SetSoHRequest(connection, &soh))) return hr;
    if (FAILED(hr = INapEnforcementClientConnection_SetCorrelationId(connection, id))) return hr;
    return INapEnforcementClientConnection_SetFlags(connection, args->flags);
}

static HRESULT WINAPI binding_GetSoHRequest(INapEnforcementClientBinding *iface,
                                            INapEnforcementClientConnection *connection, BOOL *retrigger)
{
    struct binding *binding = impl_from_INapEnforcementClientBinding(iface);
    struct get_soh_request_args args = { 0 };
    struct session *session;
    ULONGLONG deadline;
    HRESULT hr;

    TRACE("%p, %p, %p\n", iface, connection, retrigger);
    if (FAILED(hr = begin_call(binding, &session))) return hr;
    /* One bound for the whole method, however many calls it makes. */
    deadline = agent_call_deadline(&session->agent);
    if (!connection) hr = E_INVALIDARG;
    else if (!retrigger) hr = E_POINTER;
    else if (SUCCEEDED(hr = read_facts(binding, connection, &args.facts)))
    {
        /* Released connections stop counting before this one is added
         * (an agent that did not hear it re-learns them: no failure here). */
        ec_session_report_gone(session, deadline);
        if (SUCCEEDED(hr = agent_call_until(&session->agent, &get_soh_request_method, &args, deadline)))
            hr = store_request(connection, &args);
        if (SUCCEEDED(hr)) *retrigger = args.retrigger;
        MIDL_user_free(args.request.data);
    }
    end_call(binding, session);
    TRACE("%p: 0x%08lx, %u bytes, retrigger %d\n", iface, hr, args.request.size, args.retrigger);
    return hr;
}

/* Writes the agent's decision onto the connection: v1 always, v2 when offered. */
static HRESULT store_isolation(INapEnforcementClientConnection *connection, const NAPAGENT_ISOLATION *isolation)
{
    const WCHAR *url = isolation->failure_url ? isolation->failure_url : L"";
    IsolationInfo info = { isolation->state, isolation->prob_end_time, { (UINT16)lstrlenW(url), (WCHAR *)url } };
    INapEnforcementClientConnection2 *connection2;
    HRESULT hr;

    if (FAILED(hr = INapEnforcementClientConnection_SetIsolationInfo(connection, &info))) return hr;
    if (FAILED(INapEnforcementClientConnection_QueryInterface(connection, &IID_INapEnforcementClientConnection2,
                                                              (void **)&connection2)))
    {
        WARN("connection %p has no INapEnforcementClientConnection2: the extended state and SHVs are not set\n",
             connection);
        return S_OK;
    }
    {
        IsolationInfoEx info_ex = { isolation->state, isolation->extended_state, isolation->prob_end_time,
                                    info.failureUrl };
        hr = INapEnforcementClientConnection2_SetIsolationInfoEx(connection2, &info_ex);
    }
    /* A zero count is refused by SetInstalledShvs: an SoHR without the list leaves it as it was. */
    if (SUCCEEDED(hr) && isolation->shv_count)
        hr = INapEnforcementClientConnection2_SetInstalledShvs(connection2, isolation->shv_count,
                                                               (SystemHealthEntityId *)isolation->shvs);
    INapEnforcementClientConnection2_Release(connection2);
    return hr;
}

/* The response the EC set on the connection, into the call's arguments.
 * Longer than any SoH: the agent would only refuse it. */
static HRESULT read_response(INapEnforcementClientConnection *connection, struct process_soh_response_args *args)
{
    NetworkSoHResponse *response = NULL;
    HRESULT hr;

    if (FAILED(hr = INapEnforcementClientConnection_GetSoHResponse(connection, &response))) return hr;
    if (response && response->size > maxNetworkSoHSize) hr = NAP_E_INVALID_PACKET;
    else if (response && response->size)
    {
        args->size = response->size;
        memcpy(args->response, response->data, response->size);
    }
    if (response) CoTaskMemFree(response->data);
    CoTaskMemFree(response);
    return hr;
}

static HRESULT WINAPI binding_ProcessSoHResponse(INapEnforcementClientBinding *iface,
                                                 INapEnforcementClientConnection *connection)
{
    struct binding *binding = impl_from_INapEnforcementClientBinding(iface);
    struct process_soh_response_args *args;
    struct session *session;
    HRESULT hr;

    TRACE("%p, %p\n", iface, connection);
    if (FAILED(hr = begin_call(binding, &session))) return hr;
    if (!connection) hr = E_INVALIDARG;
    else if (!(args = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*args)))) hr = E_OUTOFMEMORY;
    else
    {
        if (SUCCEEDED(hr = read_facts(binding, connection, &args->facts)) && SUCCEEDED(hr = read_response(connection, args))
            && SUCCEEDED(hr = agent_call(&session->agent, &process_soh_response_method, args)))
            hr = store_isolation(connection, &args->isolation);
        MIDL_user_free(args->isolation.failure_url);
        HeapFree(GetProcessHeap(), 0, args);
    }
    end_call(binding, session);
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

static HRESULT WINAPI binding_NotifyConnectionStateDown(INapEnforcementClientBinding *iface,
                                                        INapEnforcementClientConnection *connection)
{
    struct binding *binding = impl_from_INapEnforcementClientBinding(iface);
    NAPAGENT_CONNECTION_FACTS facts;
    struct session *session;
    HRESULT hr;

    TRACE("%p, %p\n", iface, connection);
    if (FAILED(hr = begin_call(binding, &session))) return hr;
    if (!connection) hr = E_INVALIDARG;
    else if (SUCCEEDED(hr = read_facts(binding, connection, &facts)))
        hr = agent_call(&session->agent, &connection_down_method, &facts);
    end_call(binding, session);
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

static HRESULT WINAPI binding_NotifySoHChangeFailure(INapEnforcementClientBinding *iface)
{
    struct binding *binding = impl_from_INapEnforcementClientBinding(iface);
    struct session *session;
    HRESULT hr;

    TRACE("%p\n", iface);
    if (FAILED(hr = begin_call(binding, &session))) return hr;
    hr = agent_call(&session->agent, &soh_change_failure_method, NULL);
    end_call(binding, session);
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

static const INapEnforcementClientBindingVtbl binding_vtbl =
{
    binding_QueryInterface,
    binding_AddRef,
    binding_Release,
    binding_Initialize,
    binding_Uninitialize,
    binding_CreateConnection,
    binding_GetSoHRequest,
    binding_ProcessSoHResponse,
    binding_NotifyConnectionStateDown,
    binding_NotifySoHChangeFailure,
};

HRESULT binding_create(REFIID riid, void **out)
{
    struct binding *binding;
    HRESULT hr;

    if (!(binding = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*binding)))) return E_OUTOFMEMORY;
    if (!(binding->quota = connection_quota_create()))
    {
        HeapFree(GetProcessHeap(), 0, binding);
        return E_OUTOFMEMORY;
    }
    binding->INapEnforcementClientBinding_iface.lpVtbl = &binding_vtbl;
    binding->refs = 1;
    binding_state_init(&binding->state);
    com_server_object_created();

    hr = INapEnforcementClientBinding_QueryInterface(&binding->INapEnforcementClientBinding_iface, riid, out);
    INapEnforcementClientBinding_Release(&binding->INapEnforcementClientBinding_iface);
    return hr;
}
