/*
 * NapSystemHealthAgentBinding: the object a system health agent binds through
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

/* The same rules as the EC binding (binding_state.c, docs/decisions.md). */
struct sha_binding
{
    INapSystemHealthAgentBinding2 INapSystemHealthAgentBinding2_iface;
    LONG refs;
    IUnknown *volatile ftm;       /* the free-threaded marshaler, aggregated at the first QI for IMarshal */

    struct binding_state state;   /* initialised, the session, calls in flight */
    LONG64 call_seq;              /* numbers NotifySoHChange / FlushCache in the order the SHA calls */
};

static inline struct sha_binding *impl_from_INapSystemHealthAgentBinding2(INapSystemHealthAgentBinding2 *iface)
{
    return CONTAINING_RECORD(iface, struct sha_binding, INapSystemHealthAgentBinding2_iface);
}

/* NotifySoHChange and FlushCache carry the binding's number for the call:
 * the agent ignores one older than the newest it applied (a call the
 * binding gave up on that came late). */
struct numbered_args
{
    UINT64 call_seq;
};

AGENT_METHOD(notify_method, struct numbered_args, NapAgentShaNotifySoHChange, (agent, cookie, args->call_seq));
AGENT_METHOD(flush_method, struct numbered_args, NapAgentShaFlushCache, (agent, cookie, args->call_seq));

static HRESULT WINAPI sha_binding_QueryInterface(INapSystemHealthAgentBinding2 *iface, REFIID riid, void **out)
{
    static const IID *const iids[] =
        { &IID_IUnknown, &IID_INapSystemHealthAgentBinding, &IID_INapSystemHealthAgentBinding2, NULL };

    /* Any apartment calls the binding directly (docs/decisions.md, "Apartments"). */
    return com_query_interface_ftm(iface, iids, &impl_from_INapSystemHealthAgentBinding2(iface)->ftm, riid, out);
}

static ULONG WINAPI sha_binding_AddRef(INapSystemHealthAgentBinding2 *iface)
{
    return com_addref(iface, &impl_from_INapSystemHealthAgentBinding2(iface)->refs);
}

static ULONG WINAPI sha_binding_Release(INapSystemHealthAgentBinding2 *iface)
{
    struct sha_binding *binding = impl_from_INapSystemHealthAgentBinding2(iface);
    ULONG refs = com_release(iface, &binding->refs);

    if (!refs)
    {
        binding_state_destroy(&binding->state);
        com_ftm_release(binding->ftm);
        HeapFree(GetProcessHeap(), 0, binding);
        com_server_object_destroyed();
    }
    return refs;
}

struct start_context
{
    SystemHealthEntityId id;
    INapSystemHealthAgentCallback *callback;
};

static HRESULT start_session(void *context, struct session **session)
{
    struct start_context *start = context;

    return sha_session_start(start->id, start->callback, session);
}

/* The SHA page writes ERROR_ALREADY_INITIALIZED bare; like the EC binding we
 * return it as an HRESULT, the only form a COM method can return sensibly. */
static HRESULT WINAPI sha_binding_Initialize(INapSystemHealthAgentBinding2 *iface, SystemHealthEntityId id,
                                             INapSystemHealthAgentCallback *callback)
{
    struct sha_binding *binding = impl_from_INapSystemHealthAgentBinding2(iface);
    struct start_context start = { id, callback };
    HRESULT hr;

    TRACE("%p, %u, %p\n", iface, id, callback);
    hr = callback ? binding_state_initialize(&binding->state, start_session, &start) : E_INVALIDARG;
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

static HRESULT WINAPI sha_binding_Uninitialize(INapSystemHealthAgentBinding2 *iface)
{
    HRESULT hr = binding_state_uninitialize(&impl_from_INapSystemHealthAgentBinding2(iface)->state);

    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

/* NotifySoHChange and FlushCache: the page of FlushCache lists no
 * NAP_E_NOT_INITIALIZED; we return it as every other method does. */
static HRESULT numbered_call(struct sha_binding *binding, const struct agent_method *method)
{
    struct numbered_args args;
    struct session *session;
    HRESULT hr;

    if (FAILED(hr = binding_state_begin_call(&binding->state, &session))) return hr;
    args.call_seq = (UINT64)InterlockedIncrement64(&binding->call_seq);
    hr = agent_call(&session->agent, method, &args);
    binding_state_end_call(&binding->state, session);
    return hr;
}

static HRESULT WINAPI sha_binding_NotifySoHChange(INapSystemHealthAgentBinding2 *iface)
{
    /* The agent only queues the change: it fetches the SoH with a callback later. */
    HRESULT hr = numbered_call(impl_from_INapSystemHealthAgentBinding2(iface), &notify_method);

    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

static HRESULT WINAPI sha_binding_FlushCache(INapSystemHealthAgentBinding2 *iface)
{
    HRESULT hr = numbered_call(impl_from_INapSystemHealthAgentBinding2(iface), &flush_method);

    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

/* Not initialised comes first, then NULL pointers: the EC binding's order. */
static HRESULT get_isolation(INapSystemHealthAgentBinding2 *iface, BOOL extended, void **out, BOOL *unknown)
{
    struct sha_binding *binding = impl_from_INapSystemHealthAgentBinding2(iface);
    struct session *session;
    HRESULT hr;

    TRACE("%p, %p, %p\n", iface, out, unknown);
    if (out) *out = NULL;
    if (FAILED(hr = binding_state_begin_call(&binding->state, &session))) return hr;
    if (!out || !unknown) hr = E_POINTER;
    else hr = system_isolation_get(&session->agent, extended, out, unknown);
    binding_state_end_call(&binding->state, session);
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

static HRESULT WINAPI sha_binding_GetSystemIsolationInfo(INapSystemHealthAgentBinding2 *iface,
                                                         IsolationInfo **out, BOOL *unknown)
{
    return get_isolation(iface, FALSE, (void **)out, unknown);
}

static HRESULT WINAPI sha_binding_GetSystemIsolationInfoEx(INapSystemHealthAgentBinding2 *iface,
                                                           IsolationInfoEx **out, BOOL *unknown)
{
    return get_isolation(iface, TRUE, (void **)out, unknown);
}

static const INapSystemHealthAgentBinding2Vtbl sha_binding_vtbl =
{
    sha_binding_QueryInterface,
    sha_binding_AddRef,
    sha_binding_Release,
    sha_binding_Initialize,
    sha_binding_Uninitialize,
    sha_binding_NotifySoHChange,
    sha_binding_GetSystemIsolationInfo,
    sha_binding_FlushCache,
    sha_binding_GetSystemIsolationInfoEx,
};

HRESULT sha_binding_create(REFIID riid, void **out)
{
    struct sha_binding *binding;
    HRESULT hr;

    if (!(binding = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*binding)))) return E_OUTOFMEMORY;
    binding->INapSystemHealthAgentBinding2_iface.lpVtbl = &sha_binding_vtbl;
    binding->refs = 1;
    binding_state_init(&binding->state);
    com_server_object_created();

    hr = INapSystemHealthAgentBinding2_QueryInterface(&binding->INapSystemHealthAgentBinding2_iface, riid, out);
    INapSystemHealthAgentBinding2_Release(&binding->INapSystemHealthAgentBinding2_iface);
    return hr;
}
