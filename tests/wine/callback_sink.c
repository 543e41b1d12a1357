/*
 * A test enforcement client's callback object that records what the agent asks
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "callback_sink.h"

static inline struct callback_sink *impl_from_INapEnforcementClientCallback(INapEnforcementClientCallback *iface)
{
    return CONTAINING_RECORD(iface, struct callback_sink, INapEnforcementClientCallback_iface);
}

static HRESULT WINAPI sink_QueryInterface(INapEnforcementClientCallback *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_INapEnforcementClientCallback))
    {
        *out = iface;
        INapEnforcementClientCallback_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI sink_AddRef(INapEnforcementClientCallback *iface)
{
    return InterlockedIncrement(&impl_from_INapEnforcementClientCallback(iface)->refs);
}

/* The sink lives in the test's storage: Release only counts. */
static ULONG WINAPI sink_Release(INapEnforcementClientCallback *iface)
{
    return InterlockedDecrement(&impl_from_INapEnforcementClientCallback(iface)->refs);
}

static HRESULT WINAPI sink_NotifySoHChange(INapEnforcementClientCallback *iface)
{
    struct callback_sink *sink = impl_from_INapEnforcementClientCallback(iface);

    sink->notify_thread_id = GetCurrentThreadId();
    sink->refs_during_notify = sink->refs;
    if (sink->request_in_notify)
    {
        BOOL retrigger;
        sink->request_in_notify_result = INapEnforcementClientBinding_GetSoHRequest(sink->binding, sink->connection,
                                                                                   &retrigger);
    }
    if (sink->uninitialize_in_notify)
        sink->uninitialize_in_notify_result = INapEnforcementClientBinding_Uninitialize(sink->binding);
    if (sink->release_in_notify)
    {
        INapEnforcementClientBinding_Release(sink->binding);
        sink->binding = NULL;
        sink->release_in_notify = FALSE;
    }
    if (sink->sleep_in_notify_ms) Sleep(sink->sleep_in_notify_ms);
    /* Counted last, so a test that sees the count also sees the work above. */
    InterlockedIncrement(&sink->notify_count);
    return sink->notify_result;
}

static HRESULT WINAPI sink_GetConnections(INapEnforcementClientCallback *iface, Connections **connections)
{
    struct callback_sink *sink = impl_from_INapEnforcementClientCallback(iface);
    Connections *list;
    UINT16 i;

    InterlockedIncrement(&sink->get_connections_count);
    if (!connections) return E_POINTER;
    *connections = NULL;
    if (!(list = CoTaskMemAlloc(sizeof(*list)))) return E_OUTOFMEMORY;
    list->count = sink->connection_count;
    list->connections = CoTaskMemAlloc(sizeof(*list->connections) * (sink->connection_count + 1));
    if (!list->connections)
    {
        CoTaskMemFree(list);
        return E_OUTOFMEMORY;
    }
    for (i = 0; i < sink->connection_count; i++)
    {
        list->connections[i] = sink->connections[i];
        INapEnforcementClientConnection_AddRef(sink->connections[i]);
    }
    *connections = list;
    return S_OK;
}

static const INapEnforcementClientCallbackVtbl sink_vtbl =
{
    sink_QueryInterface,
    sink_AddRef,
    sink_Release,
    sink_NotifySoHChange,
    sink_GetConnections,
};

void callback_sink_init(struct callback_sink *sink)
{
    ZeroMemory(sink, sizeof(*sink));
    sink->INapEnforcementClientCallback_iface.lpVtbl = &sink_vtbl;
    sink->refs = 1;
}

LONG callback_sink_refs(struct callback_sink *sink)
{
    return sink->refs;
}

BOOL callback_sink_wait_notify(struct callback_sink *sink, LONG count, DWORD timeout_ms)
{
    DWORD start = GetTickCount();

    while (sink->notify_count < count)
    {
        if (GetTickCount() - start >= timeout_ms) return FALSE;
        Sleep(2);
    }
    return TRUE;
}
