/*
 * NapSystemHealthAgentBinding: the object a system health agent binds through
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "napagent_rpc.h"
#include "nap_hresults.h"
#include "binding_state.h"

/* The same rules as the EC binding (binding_state.c, docs/decisions.md). */
struct sha_binding
{
    INapSystemHealthAgentBinding2 INapSystemHealthAgentBinding2_iface;
    LONG refs;

    struct binding_state state;   /* initialised, the sha_session, calls in flight */
    LONG64 call_seq;              /* numbers NotifySoHChange / FlushCache in the order the SHA calls */
};

static inline struct sha_binding *impl_from_INapSystemHealthAgentBinding2(INapSystemHealthAgentBinding2 *iface)
{
    return CONTAINING_RECORD(iface, struct sha_binding, INapSystemHealthAgentBinding2_iface);
}

static void session_addref(void *session)
{
    sha_session_addref(session);
}

static void session_release(void *session)
{
    sha_session_release(session);
}

static BOOL session_dropped(void *session)
{
    return sha_session_dropped(session);
}

static HRESULT session_stop(void *session)
{
    return sha_session_stop(session);
}

static const struct session_ops session_ops = { session_addref, session_release, session_dropped, session_stop };

static HRESULT begin_call(struct sha_binding *binding, struct sha_session **session)
{
    return binding_state_begin_call(&binding->state, (void **)session);
}

static void end_call(struct sha_binding *binding, struct sha_session *session)
{
    binding_state_end_call(&binding->state, session);
}

static HRESULT WINAPI sha_binding_QueryInterface(INapSystemHealthAgentBinding2 *iface, REFIID riid, void **out)
{
    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_INapSystemHealthAgentBinding)
        || IsEqualIID(riid, &IID_INapSystemHealthAgentBinding2))
    {
        *out = iface;
        INapSystemHealthAgentBinding2_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI sha_binding_AddRef(INapSystemHealthAgentBinding2 *iface)
{
    struct sha_binding *binding = impl_from_INapSystemHealthAgentBinding2(iface);

    return InterlockedIncrement(&binding->refs);
}

static ULONG WINAPI sha_binding_Release(INapSystemHealthAgentBinding2 *iface)
{
    struct sha_binding *binding = impl_from_INapSystemHealthAgentBinding2(iface);
    ULONG refs = InterlockedDecrement(&binding->refs);

    if (!refs)
    {
        binding_state_destroy(&binding->state);
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

static HRESULT start_session(void *context, void **session)
{
    struct start_context *start = context;

    return sha_session_start(start->id, start->callback, (struct sha_session **)session);
}

/* The SHA page writes ERROR_ALREADY_INITIALIZED bare; like the EC binding we
 * return it as an HRESULT, the only form a COM method can return sensibly. */
static HRESULT WINAPI sha_binding_Initialize(INapSystemHealthAgentBinding2 *iface, SystemHealthEntityId id,
                                             INapSystemHealthAgentCallback *callback)
{
    struct sha_binding *binding = impl_from_INapSystemHealthAgentBinding2(iface);
    struct start_context start = { id, callback };

    if (!callback) return E_INVALIDARG;
    return binding_state_initialize(&binding->state, start_session, &start);
}

static HRESULT WINAPI sha_binding_Uninitialize(INapSystemHealthAgentBinding2 *iface)
{
    return binding_state_uninitialize(&impl_from_INapSystemHealthAgentBinding2(iface)->state);
}

static HRESULT WINAPI sha_binding_NotifySoHChange(INapSystemHealthAgentBinding2 *iface)
{
    struct sha_binding *binding = impl_from_INapSystemHealthAgentBinding2(iface);
    struct sha_session *session;
    HRESULT hr;

    if (FAILED(hr = begin_call(binding, &session))) return hr;
    /* The agent only queues the change: it fetches the SoH with a callback later. */
    hr = sha_link_notify_soh_change(sha_session_link(session), (UINT64)InterlockedIncrement64(&binding->call_seq));
    end_call(binding, session);
    return hr;
}

/* The struct and its URL are two CoTaskMem blocks, as FreeIsolationInfo(Ex) frees them. */
static HRESULT copy_url(const WCHAR *url, CountedString *out)
{
    size_t length = url ? min(lstrlenW(url), maxStringLength) : 0;

    out->length = 0;
    if (!(out->string = CoTaskMemAlloc((length + 1) * sizeof(WCHAR)))) return E_OUTOFMEMORY;
    if (length) memcpy(out->string, url, length * sizeof(WCHAR));
    out->string[length] = 0;
    out->length = (UINT16)length;
    return S_OK;
}

/* Not initialised comes first, then NULL pointers: the EC binding's order. */
static HRESULT get_isolation(struct sha_binding *binding, void **out, BOOL *unknown,
                             NAPAGENT_SYSTEM_ISOLATION *isolation)
{
    struct sha_session *session;
    HRESULT hr;

    ZeroMemory(isolation, sizeof(*isolation));
    if (out) *out = NULL;
    if (FAILED(hr = begin_call(binding, &session))) return hr;
    if (!out || !unknown) hr = E_POINTER;
    else hr = sha_link_get_isolation(sha_session_link(session), isolation);
    end_call(binding, session);
    return hr;
}

static HRESULT WINAPI sha_binding_GetSystemIsolationInfo(INapSystemHealthAgentBinding2 *iface,
                                                         IsolationInfo **out, BOOL *unknown)
{
    struct sha_binding *binding = impl_from_INapSystemHealthAgentBinding2(iface);
    NAPAGENT_SYSTEM_ISOLATION isolation;
    IsolationInfo *info;
    HRESULT hr;

    if (FAILED(hr = get_isolation(binding, (void **)out, unknown, &isolation))) return hr;
    if (!(info = CoTaskMemAlloc(sizeof(*info)))) hr = E_OUTOFMEMORY;
    else if (FAILED(hr = copy_url(isolation.failure_url, &info->failureUrl))) CoTaskMemFree(info);
    else
    {
        info->isolationState = isolation.state;
        info->probEndTime = isolation.prob_end_time;
        *unknown = isolation.unknown_connections;
        *out = info;
    }
    sha_link_free_isolation(&isolation);
    return hr;
}

static HRESULT WINAPI sha_binding_FlushCache(INapSystemHealthAgentBinding2 *iface)
{
    struct sha_binding *binding = impl_from_INapSystemHealthAgentBinding2(iface);
    struct sha_session *session;
    HRESULT hr;

    /* The page lists no NAP_E_NOT_INITIALIZED; we return it as every other method does. */
    if (FAILED(hr = begin_call(binding, &session))) return hr;
    hr = sha_link_flush_cache(sha_session_link(session), (UINT64)InterlockedIncrement64(&binding->call_seq));
    end_call(binding, session);
    return hr;
}

static HRESULT WINAPI sha_binding_GetSystemIsolationInfoEx(INapSystemHealthAgentBinding2 *iface,
                                                           IsolationInfoEx **out, BOOL *unknown)
{
    struct sha_binding *binding = impl_from_INapSystemHealthAgentBinding2(iface);
    NAPAGENT_SYSTEM_ISOLATION isolation;
    IsolationInfoEx *info;
    HRESULT hr;

    if (FAILED(hr = get_isolation(binding, (void **)out, unknown, &isolation))) return hr;
    if (!(info = CoTaskMemAlloc(sizeof(*info)))) hr = E_OUTOFMEMORY;
    else if (FAILED(hr = copy_url(isolation.failure_url, &info->failureUrl))) CoTaskMemFree(info);
    else
    {
        info->isolationState = isolation.state;
        info->extendedIsolationState = isolation.extended_state;
        info->probEndTime = isolation.prob_end_time;
        *unknown = isolation.unknown_connections;
        *out = info;
    }
    sha_link_free_isolation(&isolation);
    return hr;
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
    binding_state_init(&binding->state, &session_ops);
    com_server_object_created();

    hr = INapSystemHealthAgentBinding2_QueryInterface(&binding->INapSystemHealthAgentBinding2_iface, riid, out);
    INapSystemHealthAgentBinding2_Release(&binding->INapSystemHealthAgentBinding2_iface);
    return hr;
}
