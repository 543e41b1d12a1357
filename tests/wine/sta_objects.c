/*
 * Apartment-threaded test objects: an EC callback, an SHA callback and an EC connection bound to their STA
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sta_objects.h"

/* Every entry point: counts a call that is not on the object's own thread. */
static void check_thread(DWORD thread, volatile LONG *wrong_thread)
{
    if (GetCurrentThreadId() != thread) InterlockedIncrement(wrong_thread);
}

BOOL sta_pump_until(BOOL (*cond)(void *arg), void *arg, DWORD timeout_ms)
{
    DWORD start = GetTickCount(), elapsed;
    MSG msg;

    for (;;)
    {
        while (PeekMessageW(&msg, NULL, 0, 0, PM_REMOVE))
        {
            TranslateMessage(&msg);
            DispatchMessageW(&msg);
        }
        if (cond && cond(arg)) return TRUE;
        if ((elapsed = GetTickCount() - start) >= timeout_ms) return cond ? cond(arg) : TRUE;
        MsgWaitForMultipleObjects(0, NULL, FALSE, min(timeout_ms - elapsed, 10), QS_ALLINPUT);
    }
}

/* ---- the EC's callback ---- */

static inline struct sta_ec *impl_from_ec(INapEnforcementClientCallback *iface)
{
    return CONTAINING_RECORD(iface, struct sta_ec, INapEnforcementClientCallback_iface);
}

static HRESULT WINAPI ec_QueryInterface(INapEnforcementClientCallback *iface, REFIID riid, void **out)
{
    struct sta_ec *ec = impl_from_ec(iface);

    check_thread(ec->thread, &ec->wrong_thread);
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_INapEnforcementClientCallback))
    {
        *out = iface;
        ec->refs++;
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI ec_AddRef(INapEnforcementClientCallback *iface)
{
    struct sta_ec *ec = impl_from_ec(iface);

    check_thread(ec->thread, &ec->wrong_thread);
    return ++ec->refs;
}

/* The object lives in the test's storage: Release only counts. */
static ULONG WINAPI ec_Release(INapEnforcementClientCallback *iface)
{
    struct sta_ec *ec = impl_from_ec(iface);

    check_thread(ec->thread, &ec->wrong_thread);
    return --ec->refs;
}

static HRESULT WINAPI ec_NotifySoHChange(INapEnforcementClientCallback *iface)
{
    struct sta_ec *ec = impl_from_ec(iface);
    BOOL retrigger;

    check_thread(ec->thread, &ec->wrong_thread);
    if (ec->request_in_notify)
        ec->request_in_notify_result = INapEnforcementClientBinding_GetSoHRequest(ec->binding, ec->connection,
                                                                                 &retrigger);
    if (ec->uninitialize_in_notify)
    {
        DWORD start = GetTickCount();

        ec->uninitialize_in_notify_result = INapEnforcementClientBinding_Uninitialize(ec->binding);
        ec->uninitialize_in_notify_ms = GetTickCount() - start;
        ec->uninitialize_in_notify = FALSE;
    }
    /* Counted last, so that a test that sees the count sees the work above. */
    InterlockedIncrement(&ec->notify_count);
    return S_OK;
}

static HRESULT WINAPI ec_GetConnections(INapEnforcementClientCallback *iface, Connections **out)
{
    struct sta_ec *ec = impl_from_ec(iface);
    Connections *list;
    UINT16 i;

    check_thread(ec->thread, &ec->wrong_thread);
    InterlockedIncrement(&ec->get_connections_count);
    *out = NULL;
    if (!(list = CoTaskMemAlloc(sizeof(*list)))) return E_OUTOFMEMORY;
    if (!(list->connections = CoTaskMemAlloc(sizeof(*list->connections) * (ec->connection_count + 1))))
    {
        CoTaskMemFree(list);
        return E_OUTOFMEMORY;
    }
    list->count = ec->connection_count;
    for (i = 0; i < ec->connection_count; i++)
    {
        list->connections[i] = ec->connections[i];
        INapEnforcementClientConnection_AddRef(ec->connections[i]);
    }
    *out = list;
    return S_OK;
}

static const INapEnforcementClientCallbackVtbl ec_vtbl =
{
    ec_QueryInterface,
    ec_AddRef,
    ec_Release,
    ec_NotifySoHChange,
    ec_GetConnections,
};

void sta_ec_init(struct sta_ec *ec)
{
    ZeroMemory(ec, sizeof(*ec));
    ec->INapEnforcementClientCallback_iface.lpVtbl = &ec_vtbl;
    ec->refs = 1;
    ec->thread = GetCurrentThreadId();
}

/* ---- the SHA's callback ---- */

static inline struct sta_sha *impl_from_sha(INapSystemHealthAgentCallback *iface)
{
    return CONTAINING_RECORD(iface, struct sta_sha, INapSystemHealthAgentCallback_iface);
}

static HRESULT WINAPI sha_QueryInterface(INapSystemHealthAgentCallback *iface, REFIID riid, void **out)
{
    struct sta_sha *sha = impl_from_sha(iface);

    check_thread(sha->thread, &sha->wrong_thread);
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_INapSystemHealthAgentCallback))
    {
        *out = iface;
        sha->refs++;
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI sha_AddRef(INapSystemHealthAgentCallback *iface)
{
    struct sta_sha *sha = impl_from_sha(iface);

    check_thread(sha->thread, &sha->wrong_thread);
    return ++sha->refs;
}

static ULONG WINAPI sha_Release(INapSystemHealthAgentCallback *iface)
{
    struct sta_sha *sha = impl_from_sha(iface);

    check_thread(sha->thread, &sha->wrong_thread);
    return --sha->refs;
}

static void put_be32(BYTE *out, UINT32 value)
{
    out[0] = value >> 24;
    out[1] = value >> 16;
    out[2] = value >> 8;
    out[3] = value;
}

static HRESULT WINAPI sha_GetSoHRequest(INapSystemHealthAgentCallback *iface, INapSystemHealthAgentRequest *request)
{
    struct sta_sha *sha = impl_from_sha(iface);
    BYTE id[4], marker[4];
    SoHAttribute attributes[2] = { { 2, 4, id }, { 4, 4, marker } };
    SoH soh = { 2, attributes };

    check_thread(sha->thread, &sha->wrong_thread);
    put_be32(id, sha->id);
    put_be32(marker, sha->marker);
    sha->set_soh_result = INapSystemHealthAgentRequest_SetSoHRequest(request, &soh, sha->cache);
    InterlockedIncrement(&sha->get_soh_count);
    return S_OK;
}

static HRESULT WINAPI sha_ProcessSoHResponse(INapSystemHealthAgentCallback *iface, INapSystemHealthAgentRequest *request)
{
    struct sta_sha *sha = impl_from_sha(iface);
    SoH *response = NULL;
    UINT16 i;

    check_thread(sha->thread, &sha->wrong_thread);
    if (SUCCEEDED(INapSystemHealthAgentRequest_GetSoHResponse(request, &response, &sha->response_flags)) && response)
    {
        sha->response_attributes = response->count;
        for (i = 0; i < response->count; i++) CoTaskMemFree(response->attributes[i].value);
        CoTaskMemFree(response->attributes);
        CoTaskMemFree(response);
    }
    InterlockedIncrement(&sha->process_count);
    return S_OK;
}

static HRESULT WINAPI sha_NotifySystemIsolationStateChange(INapSystemHealthAgentCallback *iface)
{
    struct sta_sha *sha = impl_from_sha(iface);

    check_thread(sha->thread, &sha->wrong_thread);
    InterlockedIncrement(&sha->isolation_count);
    return S_OK;
}

static HRESULT WINAPI sha_GetFixupInfo(INapSystemHealthAgentCallback *iface, FixupInfo **out)
{
    struct sta_sha *sha = impl_from_sha(iface);
    FixupInfo *info;

    check_thread(sha->thread, &sha->wrong_thread);
    InterlockedIncrement(&sha->fixup_count);
    if (!(info = CoTaskMemAlloc(sizeof(*info)))) return E_OUTOFMEMORY;
    ZeroMemory(info, sizeof(*info));
    info->state = sha->fixup_in_progress-- > 0 ? fixupStateInProgress : fixupStateSuccess;
    info->percentage = 50;
    *out = info;
    return S_OK;
}

static HRESULT WINAPI sha_CompareSoHRequests(INapSystemHealthAgentCallback *iface, const SoHRequest *lhs,
                                             const SoHRequest *rhs, BOOL *equal)
{
    struct sta_sha *sha = impl_from_sha(iface);

    check_thread(sha->thread, &sha->wrong_thread);
    InterlockedIncrement(&sha->compare_count);
    *equal = lhs->count == rhs->count && lhs->count == 2 && !memcmp(lhs->attributes[1].value, rhs->attributes[1].value, 4);
    return S_OK;
}

static HRESULT WINAPI sha_NotifyOrphanedSoHRequest(INapSystemHealthAgentCallback *iface, const CorrelationId *id)
{
    struct sta_sha *sha = impl_from_sha(iface);

    (void)id;
    check_thread(sha->thread, &sha->wrong_thread);
    InterlockedIncrement(&sha->orphaned_count);
    return S_OK;
}

static const INapSystemHealthAgentCallbackVtbl sha_vtbl =
{
    sha_QueryInterface,
    sha_AddRef,
    sha_Release,
    sha_GetSoHRequest,
    sha_ProcessSoHResponse,
    sha_NotifySystemIsolationStateChange,
    sha_GetFixupInfo,
    sha_CompareSoHRequests,
    sha_NotifyOrphanedSoHRequest,
};

void sta_sha_init(struct sta_sha *sha, UINT32 id, UINT32 marker)
{
    ZeroMemory(sha, sizeof(*sha));
    sha->INapSystemHealthAgentCallback_iface.lpVtbl = &sha_vtbl;
    sha->refs = 1;
    sha->thread = GetCurrentThreadId();
    sha->id = id;
    sha->marker = marker;
}

/* ---- the EC's own connection ---- */

static inline struct sta_connection *impl_from_connection(INapEnforcementClientConnection *iface)
{
    return CONTAINING_RECORD(iface, struct sta_connection, INapEnforcementClientConnection_iface);
}

static INapEnforcementClientConnection *enter(INapEnforcementClientConnection *iface)
{
    struct sta_connection *connection = impl_from_connection(iface);

    check_thread(connection->thread, &connection->wrong_thread);
    InterlockedIncrement(&connection->calls);
    return connection->inner;
}

static HRESULT WINAPI connection_QueryInterface(INapEnforcementClientConnection *iface, REFIID riid, void **out)
{
    struct sta_connection *connection = impl_from_connection(iface);

    check_thread(connection->thread, &connection->wrong_thread);
    /* v1 only, and no free-threaded marshaler: other apartments get a proxy. */
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_INapEnforcementClientConnection))
    {
        *out = iface;
        connection->refs++;
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI connection_AddRef(INapEnforcementClientConnection *iface)
{
    struct sta_connection *connection = impl_from_connection(iface);

    check_thread(connection->thread, &connection->wrong_thread);
    return ++connection->refs;
}

static ULONG WINAPI connection_Release(INapEnforcementClientConnection *iface)
{
    struct sta_connection *connection = impl_from_connection(iface);

    check_thread(connection->thread, &connection->wrong_thread);
    if (!--connection->refs) INapEnforcementClientConnection_Release(connection->inner);
    return connection->refs;
}

#define FORWARD(name, params, args) \
    static HRESULT WINAPI connection_##name params \
    { \
        return INapEnforcementClientConnection_##name args; \
    }

FORWARD(Initialize, (INapEnforcementClientConnection *iface, EnforcementEntityId id), (enter(iface), id))
FORWARD(SetMaxSize, (INapEnforcementClientConnection *iface, ProtocolMaxSize size), (enter(iface), size))
FORWARD(GetMaxSize, (INapEnforcementClientConnection *iface, ProtocolMaxSize *size), (enter(iface), size))
FORWARD(SetFlags, (INapEnforcementClientConnection *iface, UINT8 flags), (enter(iface), flags))
FORWARD(GetFlags, (INapEnforcementClientConnection *iface, UINT8 *flags), (enter(iface), flags))
FORWARD(SetConnectionId, (INapEnforcementClientConnection *iface, const ConnectionId *id), (enter(iface), id))
FORWARD(GetConnectionId, (INapEnforcementClientConnection *iface, ConnectionId **id), (enter(iface), id))
FORWARD(GetCorrelationId, (INapEnforcementClientConnection *iface, CorrelationId *id), (enter(iface), id))
FORWARD(GetStringCorrelationId, (INapEnforcementClientConnection *iface, StringCorrelationId **id), (enter(iface), id))
FORWARD(SetCorrelationId, (INapEnforcementClientConnection *iface, CorrelationId id), (enter(iface), id))
FORWARD(SetSoHRequest, (INapEnforcementClientConnection *iface, const NetworkSoHRequest *soh), (enter(iface), soh))
FORWARD(GetSoHRequest, (INapEnforcementClientConnection *iface, NetworkSoHRequest **soh), (enter(iface), soh))
FORWARD(SetSoHResponse, (INapEnforcementClientConnection *iface, const NetworkSoHResponse *soh), (enter(iface), soh))
FORWARD(GetSoHResponse, (INapEnforcementClientConnection *iface, NetworkSoHResponse **soh), (enter(iface), soh))
FORWARD(SetIsolationInfo, (INapEnforcementClientConnection *iface, const IsolationInfo *info), (enter(iface), info))
FORWARD(GetIsolationInfo, (INapEnforcementClientConnection *iface, IsolationInfo **info), (enter(iface), info))
FORWARD(SetPrivateData, (INapEnforcementClientConnection *iface, const PrivateData *data), (enter(iface), data))
FORWARD(GetPrivateData, (INapEnforcementClientConnection *iface, PrivateData **data), (enter(iface), data))
FORWARD(SetEnforcerPrivateData, (INapEnforcementClientConnection *iface, const PrivateData *data), (enter(iface), data))
FORWARD(GetEnforcerPrivateData, (INapEnforcementClientConnection *iface, PrivateData **data), (enter(iface), data))

static const INapEnforcementClientConnectionVtbl connection_vtbl =
{
    connection_QueryInterface,
    connection_AddRef,
    connection_Release,
    connection_Initialize,
    connection_SetMaxSize,
    connection_GetMaxSize,
    connection_SetFlags,
    connection_GetFlags,
    connection_SetConnectionId,
    connection_GetConnectionId,
    connection_GetCorrelationId,
    connection_GetStringCorrelationId,
    connection_SetCorrelationId,
    connection_SetSoHRequest,
    connection_GetSoHRequest,
    connection_SetSoHResponse,
    connection_GetSoHResponse,
    connection_SetIsolationInfo,
    connection_GetIsolationInfo,
    connection_SetPrivateData,
    connection_GetPrivateData,
    connection_SetEnforcerPrivateData,
    connection_GetEnforcerPrivateData,
};

void sta_connection_init(struct sta_connection *connection, INapEnforcementClientConnection *inner)
{
    ZeroMemory(connection, sizeof(*connection));
    connection->INapEnforcementClientConnection_iface.lpVtbl = &connection_vtbl;
    connection->refs = 1;
    connection->thread = GetCurrentThreadId();
    connection->inner = inner;
}
