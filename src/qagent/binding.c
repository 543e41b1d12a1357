/*
 * NapEnforcementClientBinding: the object an enforcement client binds through
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "agent_link.h"
#include "nap_hresults.h"
#include "binding_state.h"

struct binding
{
    INapEnforcementClientBinding INapEnforcementClientBinding_iface;
    LONG refs;

    struct binding_state state;   /* initialised, the ec_session, calls in flight */
    EnforcementEntityId id;
    struct connection_quota *quota;
};

static inline struct binding *impl_from_INapEnforcementClientBinding(INapEnforcementClientBinding *iface)
{
    return CONTAINING_RECORD(iface, struct binding, INapEnforcementClientBinding_iface);
}

static void session_addref(void *session)
{
    ec_session_addref(session);
}

static void session_release(void *session)
{
    ec_session_release(session);
}

static BOOL session_dropped(void *session)
{
    return ec_session_dropped(session);
}

static HRESULT session_stop(void *session)
{
    return ec_session_stop(session);
}

static const struct session_ops session_ops = { session_addref, session_release, session_dropped, session_stop };

static HRESULT begin_call(struct binding *binding, struct ec_session **session)
{
    return binding_state_begin_call(&binding->state, (void **)session);
}

static void end_call(struct binding *binding, struct ec_session *session)
{
    binding_state_end_call(&binding->state, session);
}

static HRESULT WINAPI binding_QueryInterface(INapEnforcementClientBinding *iface, REFIID riid, void **out)
{
    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_INapEnforcementClientBinding))
    {
        *out = iface;
        INapEnforcementClientBinding_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI binding_AddRef(INapEnforcementClientBinding *iface)
{
    struct binding *binding = impl_from_INapEnforcementClientBinding(iface);

    return InterlockedIncrement(&binding->refs);
}

static ULONG WINAPI binding_Release(INapEnforcementClientBinding *iface)
{
    struct binding *binding = impl_from_INapEnforcementClientBinding(iface);
    ULONG refs = InterlockedDecrement(&binding->refs);

    if (!refs)
    {
        binding_state_destroy(&binding->state);
        connection_quota_release(binding->quota);
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
static HRESULT start_session(void *context, void **session)
{
    struct start_context *start = context;
    HRESULT hr = ec_session_start(start->id, start->callback, start->binding->quota, (struct ec_session **)session);

    if (SUCCEEDED(hr)) start->binding->id = start->id;
    return hr;
}

static HRESULT WINAPI binding_Initialize(INapEnforcementClientBinding *iface, EnforcementEntityId id,
                                         INapEnforcementClientCallback *callback)
{
    struct start_context start = { impl_from_INapEnforcementClientBinding(iface), id, callback };

    if (!callback) return E_INVALIDARG;
    return binding_state_initialize(&start.binding->state, start_session, &start);
}

static HRESULT WINAPI binding_Uninitialize(INapEnforcementClientBinding *iface)
{
    return binding_state_uninitialize(&impl_from_INapEnforcementClientBinding(iface)->state);
}

static HRESULT WINAPI binding_CreateConnection(INapEnforcementClientBinding *iface,
                                               INapEnforcementClientConnection **connection)
{
    struct binding *binding = impl_from_INapEnforcementClientBinding(iface);
    struct ec_session *session;
    HRESULT hr;

    if (!connection) return E_POINTER;
    *connection = NULL;
    if (FAILED(hr = begin_call(binding, &session))) return hr;
    /* No RPC of its own, but like every binding method it reports a lost agent. */
    if (FAILED(hr = session_link_check(ec_session_link(session)))) ;
    /* docs/decisions.md: the 21st live connection is refused as a resource limit. */
    else if (!connection_quota_take(binding->quota, maxConnectionCountPerEnforcer)) hr = E_OUTOFMEMORY;
    else if (FAILED(hr = connection_create(binding->id, binding->quota, connection)))
        connection_quota_give_back(binding->quota, &GUID_NULL);
    end_call(binding, session);
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
static HRESULT store_request(INapEnforcementClientConnection *connection, const NAPAGENT_BLOB *request,
                             const NAPAGENT_CORRELATION *correlation, BYTE flags)
{
    NetworkSoHRequest soh = { request->size, request->data };
    CorrelationId id = { correlation->conn_id, correlation->time_stamp };
    HRESULT hr;

    if (FAILED(hr = INapEnforcementClientConnection_SetSoHRequest(connection, &soh))) return hr;
    if (FAILED(hr = INapEnforcementClientConnection_SetCorrelationId(connection, id))) return hr;
    return INapEnforcementClientConnection_SetFlags(connection, flags);
}

static HRESULT WINAPI binding_GetSoHRequest(INapEnforcementClientBinding *iface,
                                            INapEnforcementClientConnection *connection, BOOL *retrigger)
{
    struct binding *binding = impl_from_INapEnforcementClientBinding(iface);
    NAPAGENT_CONNECTION_FACTS facts;
    NAPAGENT_CORRELATION correlation;
    NAPAGENT_BLOB request;
    struct ec_session *session;
    BYTE flags = 0;
    BOOL hint = FALSE;
    HRESULT hr;

    if (FAILED(hr = begin_call(binding, &session))) return hr;
    if (!connection) hr = E_INVALIDARG;
    else if (!retrigger) hr = E_POINTER;
    else if (SUCCEEDED(hr = read_facts(binding, connection, &facts)))
    {
        /* Released connections stop counting before this one is added. */
        ec_session_report_gone(session);
        hr = agent_link_get_soh_request(ec_session_link(session), &facts, &correlation, &flags, &hint, &request);
        if (SUCCEEDED(hr)) hr = store_request(connection, &request, &correlation, flags);
        if (SUCCEEDED(hr)) *retrigger = hint;
        agent_link_free_blob(&request);
    }
    end_call(binding, session);
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
        return S_OK;
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

static HRESULT WINAPI binding_ProcessSoHResponse(INapEnforcementClientBinding *iface,
                                                 INapEnforcementClientConnection *connection)
{
    struct binding *binding = impl_from_INapEnforcementClientBinding(iface);
    NAPAGENT_CONNECTION_FACTS facts;
    NAPAGENT_ISOLATION isolation;
    NetworkSoHResponse *response = NULL;
    struct ec_session *session;
    HRESULT hr;

    if (FAILED(hr = begin_call(binding, &session))) return hr;
    if (!connection) hr = E_INVALIDARG;
    else if (SUCCEEDED(hr = read_facts(binding, connection, &facts))
             && SUCCEEDED(hr = INapEnforcementClientConnection_GetSoHResponse(connection, &response)))
    {
        hr = agent_link_process_soh_response(ec_session_link(session), &facts, response ? response->data : NULL,
                                             response ? response->size : 0, &isolation);
        if (SUCCEEDED(hr)) hr = store_isolation(connection, &isolation);
        agent_link_free_isolation(&isolation);
        if (response) CoTaskMemFree(response->data);
        CoTaskMemFree(response);
    }
    end_call(binding, session);
    return hr;
}

static HRESULT WINAPI binding_NotifyConnectionStateDown(INapEnforcementClientBinding *iface,
                                                        INapEnforcementClientConnection *connection)
{
    struct binding *binding = impl_from_INapEnforcementClientBinding(iface);
    NAPAGENT_CONNECTION_FACTS facts;
    struct ec_session *session;
    HRESULT hr;

    if (FAILED(hr = begin_call(binding, &session))) return hr;
    if (!connection) hr = E_INVALIDARG;
    else if (SUCCEEDED(hr = read_facts(binding, connection, &facts)))
        hr = agent_link_connection_down(ec_session_link(session), &facts);
    end_call(binding, session);
    return hr;
}

static HRESULT WINAPI binding_NotifySoHChangeFailure(INapEnforcementClientBinding *iface)
{
    struct binding *binding = impl_from_INapEnforcementClientBinding(iface);
    struct ec_session *session;
    HRESULT hr;

    if (FAILED(hr = begin_call(binding, &session))) return hr;
    hr = agent_link_soh_change_failure(ec_session_link(session));
    end_call(binding, session);
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
    binding_state_init(&binding->state, &session_ops);
    com_server_object_created();

    hr = INapEnforcementClientBinding_QueryInterface(&binding->INapEnforcementClientBinding_iface, riid, out);
    INapEnforcementClientBinding_Release(&binding->INapEnforcementClientBinding_iface);
    return hr;
}
