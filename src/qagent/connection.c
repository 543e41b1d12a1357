/*
 * The connection object: the INapEnforcementClientConnection2 property bag
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stddef.h>
#include <string.h>
#include "qagent_private.h"
#include "nap_trace.h"

NAP_TRACE_CHANNEL(qagent);

/* Every property has a small documented upper bound, so the object embeds
 * buffers of the maximum size: a Set never allocates and so can never fail
 * half-way, and only the Get side has allocation failures to handle. */
struct private_buffer
{
    UINT16 size;
    BYTE data[maxPrivateDataSize];
};

struct connection
{
    INapEnforcementClientConnection2 INapEnforcementClientConnection2_iface;
    LONG refs;
    IUnknown *volatile ftm;       /* the free-threaded marshaler, aggregated at the first QI for IMarshal */
    struct connection_quota *quota;

    /* The EC and the binding's event thread both use the object, so every
     * property below is only touched with cs held. */
    CRITICAL_SECTION cs;
    EnforcementEntityId id;
    ProtocolMaxSize max_size;
    UINT8 flags;
    ConnectionId connection_id;
    CorrelationId correlation_id;
    struct soh_buffer request;
    struct soh_buffer response;
    IsolationState isolation_state;
    ExtendedIsolationState extended_state;
    ProbationTime prob_end_time;
    UINT16 url_length;
    WCHAR url[maxStringLength + 1];
    struct private_buffer private_data;
    struct private_buffer enforcer_data;
    SystemHealthEntityCount shv_count;
    SystemHealthEntityId shvs[maxSystemHealthEntityCount];
};

static inline struct connection *impl_from_INapEnforcementClientConnection2(INapEnforcementClientConnection2 *iface)
{
    return CONTAINING_RECORD(iface, struct connection, INapEnforcementClientConnection2_iface);
}

/* A property read or written whole, under the lock. */
static HRESULT read_property(struct connection *conn, const void *property, void *out, size_t size)
{
    if (!out) return E_POINTER;
    EnterCriticalSection(&conn->cs);
    memcpy(out, property, size);
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

static HRESULT write_property(struct connection *conn, void *property, const void *value, size_t size)
{
    EnterCriticalSection(&conn->cs);
    memcpy(property, value, size);
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

/* Stores count bytes (0: none) as a buffer's contents. */
static void store_bytes(struct connection *conn, BYTE *data, UINT16 *size, const BYTE *bytes, UINT16 count)
{
    EnterCriticalSection(&conn->cs);
    if (count) memcpy(data, bytes, count);
    *size = count;
    LeaveCriticalSection(&conn->cs);
}

/* NetworkSoH and PrivateData are the same pair, {UINT16 size; BYTE *data}:
 * handed out as one CoTaskMem block for the pair and one for the bytes, or
 * NULL data when empty, so that Free* helpers written as "free data, then
 * struct" work for every result. */
_Static_assert(sizeof(NetworkSoH) == sizeof(PrivateData) && offsetof(NetworkSoH, size) == offsetof(PrivateData, size)
               && offsetof(NetworkSoH, data) == offsetof(PrivateData, data), "one layout");

static HRESULT get_bytes(struct connection *conn, const BYTE *data, const UINT16 *size, NetworkSoH **out)
{
    NetworkSoH *blob;
    HRESULT hr = S_OK;

    if (!out) return E_POINTER;
    *out = NULL;
    if (!(blob = CoTaskMemAlloc(sizeof(*blob)))) return E_OUTOFMEMORY;

    EnterCriticalSection(&conn->cs);
    blob->size = *size;
    blob->data = NULL;
    if (blob->size && (blob->data = CoTaskMemAlloc(blob->size))) memcpy(blob->data, data, blob->size);
    else if (blob->size) hr = E_OUTOFMEMORY;
    LeaveCriticalSection(&conn->cs);

    if (FAILED(hr))
    {
        CoTaskMemFree(blob);
        return hr;
    }
    *out = blob;
    return S_OK;
}

/* A zero size is allowed and clears the data; only the agent (private
 * data) or only the EC (enforcer data) interprets the bytes. */
static HRESULT set_private(struct connection *conn, struct private_buffer *buffer, const PrivateData *data)
{
    if (!data) return E_POINTER;
    if (data->size > maxPrivateDataSize) return E_INVALIDARG;
    if (data->size && !data->data) return E_INVALIDARG;
    store_bytes(conn, buffer->data, &buffer->size, data->data, data->size);
    return S_OK;
}

/* SetIsolationInfo, and with the extended state SetIsolationInfoEx: a v1
 * caller knows nothing of the extended state, so it is kept. */
static HRESULT set_isolation(struct connection *conn, IsolationState state, const ExtendedIsolationState *extended,
                             const ProbationTime *prob_end_time, const CountedString *url)
{
    if (state < isolationStateNotRestricted || state > isolationStateRestrictedAccess) return E_INVALIDARG;
    if (url->length > maxStringLength) return E_INVALIDARG;
    if (url->length && !url->string) return E_INVALIDARG;
    if (extended && (*extended < extendedIsolationStateNoData || *extended > extendedIsolationStateUnknown))
        return E_INVALIDARG;

    EnterCriticalSection(&conn->cs);
    conn->isolation_state = state;
    conn->prob_end_time = *prob_end_time;
    if (url->length) memcpy(conn->url, url->string, url->length * sizeof(WCHAR));
    conn->url[url->length] = 0;
    conn->url_length = url->length;
    if (extended) conn->extended_state = *extended;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

/* GetIsolationInfo, and extended GetIsolationInfoEx. */
static HRESULT get_isolation(struct connection *conn, BOOL extended, void **out)
{
    struct isolation_facts facts;
    HRESULT hr;

    if (!out) return E_POINTER;
    *out = NULL;
    EnterCriticalSection(&conn->cs);
    facts.state = conn->isolation_state;
    facts.extended_state = conn->extended_state;
    facts.prob_end_time = conn->prob_end_time;
    facts.url = conn->url;
    facts.url_length = conn->url_length;
    hr = isolation_info_make(&facts, extended, out);
    LeaveCriticalSection(&conn->cs);
    return hr;
}

static void connection_destroy(struct connection *conn)
{
    com_ftm_release(conn->ftm);
    DeleteCriticalSection(&conn->cs);
    if (conn->quota)
    {
        connection_quota_give_back(conn->quota, &conn->connection_id);
        connection_quota_release(conn->quota);
    }
    HeapFree(GetProcessHeap(), 0, conn);
    com_server_object_destroyed();
}

static HRESULT WINAPI connection_QueryInterface(INapEnforcementClientConnection2 *iface, REFIID riid, void **out)
{
    static const IID *const iids[] =
        { &IID_IUnknown, &IID_INapEnforcementClientConnection, &IID_INapEnforcementClientConnection2, NULL };

    /* Any apartment uses it directly; another process through the proxy
     * (docs/decisions.md, "Apartments"). */
    return com_query_interface_ftm(iface, iids, &impl_from_INapEnforcementClientConnection2(iface)->ftm, riid, out);
}

static ULONG WINAPI connection_AddRef(INapEnforcementClientConnection2 *iface)
{
    return com_addref(iface, &impl_from_INapEnforcementClientConnection2(iface)->refs);
}

static ULONG WINAPI connection_Release(INapEnforcementClientConnection2 *iface)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    ULONG refs = com_release(iface, &conn->refs);

    if (!refs) connection_destroy(conn);
    return refs;
}

static HRESULT WINAPI connection_Initialize(INapEnforcementClientConnection2 *iface, EnforcementEntityId id)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    TRACE("%p, %u\n", iface, id);
    /* The agent sets the owner at creation; a second call simply
     * overwrites it, there is no "already initialised" state to report. */
    return write_property(conn, &conn->id, &id, sizeof(id));
}

static HRESULT WINAPI connection_SetMaxSize(INapEnforcementClientConnection2 *iface, ProtocolMaxSize size)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    TRACE("%p, %u\n", iface, size);
    if (size < minProtocolMaxSize || size > maxProtocolMaxSize) return E_INVALIDARG;
    return write_property(conn, &conn->max_size, &size, sizeof(size));
}

static HRESULT WINAPI connection_GetMaxSize(INapEnforcementClientConnection2 *iface, ProtocolMaxSize *size)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    TRACE("%p, %p\n", iface, size);
    return read_property(conn, &conn->max_size, size, sizeof(*size));
}

static HRESULT WINAPI connection_SetFlags(INapEnforcementClientConnection2 *iface, UINT8 flags)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    TRACE("%p, %#x\n", iface, flags);
    /* Only freshSoHRequest has a meaning, but every other value is
     * documented as "based on a cached request", so all are accepted. */
    return write_property(conn, &conn->flags, &flags, sizeof(flags));
}

static HRESULT WINAPI connection_GetFlags(INapEnforcementClientConnection2 *iface, UINT8 *flags)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    TRACE("%p, %p\n", iface, flags);
    return read_property(conn, &conn->flags, flags, sizeof(*flags));
}

static HRESULT WINAPI connection_SetConnectionId(INapEnforcementClientConnection2 *iface, const ConnectionId *id)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    TRACE("%p, %s\n", iface, nap_dbgstr_guid(id));
    if (!id) return E_POINTER;
    return write_property(conn, &conn->connection_id, id, sizeof(*id));
}

static HRESULT WINAPI connection_GetConnectionId(INapEnforcementClientConnection2 *iface, ConnectionId **id)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    ConnectionId *copy;

    TRACE("%p, %p\n", iface, id);
    if (!id) return E_POINTER;
    *id = NULL;
    if (!(copy = CoTaskMemAlloc(sizeof(*copy)))) return E_OUTOFMEMORY;
    read_property(conn, &conn->connection_id, copy, sizeof(*copy));
    *id = copy;
    return S_OK;
}

static HRESULT WINAPI connection_GetCorrelationId(INapEnforcementClientConnection2 *iface, CorrelationId *id)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    TRACE("%p, %p\n", iface, id);
    return read_property(conn, &conn->correlation_id, id, sizeof(*id));
}

static HRESULT WINAPI connection_GetStringCorrelationId(INapEnforcementClientConnection2 *iface,
                                                        StringCorrelationId **out)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    CorrelationId id;

    TRACE("%p, %p\n", iface, out);
    if (!out) return E_POINTER;
    *out = NULL;
    read_property(conn, &conn->correlation_id, &id, sizeof(id));
    return correlation_string(&id, out);
}

static HRESULT WINAPI connection_SetCorrelationId(INapEnforcementClientConnection2 *iface, CorrelationId id)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    TRACE("%p, %s\n", iface, nap_dbgstr_guid(&id.connId));
    return write_property(conn, &conn->correlation_id, &id, sizeof(id));
}

static HRESULT WINAPI connection_SetSoHRequest(INapEnforcementClientConnection2 *iface, const NetworkSoHRequest *request)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    TRACE("%p, %p\n", iface, request);
    /* Declared [in, unique], yet there is nothing sensible to store for
     * NULL, and a zero-length request is documented as invalid. */
    if (!request) return E_POINTER;
    if (!request->size || !request->data) return E_INVALIDARG;
    if (request->size > maxNetworkSoHSize) return E_INVALIDARG;
    store_bytes(conn, conn->request.data, &conn->request.size, request->data, request->size);
    return S_OK;
}

/* Before any request was set this returns S_OK with size 0 and NULL data:
 * "nothing yet" is a state of the bag, not an error of the call. */
static HRESULT WINAPI connection_GetSoHRequest(INapEnforcementClientConnection2 *iface, NetworkSoHRequest **request)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    TRACE("%p, %p\n", iface, request);
    return get_bytes(conn, conn->request.data, &conn->request.size, request);
}

static HRESULT WINAPI connection_SetSoHResponse(INapEnforcementClientConnection2 *iface,
                                                const NetworkSoHResponse *response)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    TRACE("%p, %p\n", iface, response);
    /* Unlike a request, a zero-length response is documented as valid. */
    if (!response) return E_POINTER;
    if (response->size > maxNetworkSoHSize) return E_INVALIDARG;
    if (response->size && !response->data) return E_INVALIDARG;
    store_bytes(conn, conn->response.data, &conn->response.size, response->data, response->size);
    return S_OK;
}

static HRESULT WINAPI connection_GetSoHResponse(INapEnforcementClientConnection2 *iface,
                                                NetworkSoHResponse **response)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    TRACE("%p, %p\n", iface, response);
    return get_bytes(conn, conn->response.data, &conn->response.size, response);
}

static HRESULT WINAPI connection_SetIsolationInfo(INapEnforcementClientConnection2 *iface, const IsolationInfo *info)
{
    TRACE("%p, %p\n", iface, info);
    if (!info) return E_POINTER;
    return set_isolation(impl_from_INapEnforcementClientConnection2(iface), info->isolationState, NULL,
                         &info->probEndTime, &info->failureUrl);
}

static HRESULT WINAPI connection_GetIsolationInfo(INapEnforcementClientConnection2 *iface, IsolationInfo **out)
{
    TRACE("%p, %p\n", iface, out);
    return get_isolation(impl_from_INapEnforcementClientConnection2(iface), FALSE, (void **)out);
}

/* SetPrivateData and GetPrivateData (the agent's bytes), SetEnforcerPrivateData
 * and GetEnforcerPrivateData (the EC's): the same pair on another buffer. */
#define PRIVATE_DATA_METHODS(name, buffer) \
    static HRESULT WINAPI connection_Set##name(INapEnforcementClientConnection2 *iface, const PrivateData *data) \
    { \
        struct connection *conn = impl_from_INapEnforcementClientConnection2(iface); \
        \
        TRACE("%p, %p\n", iface, data); \
        return set_private(conn, &conn->buffer, data); \
    } \
    static HRESULT WINAPI connection_Get##name(INapEnforcementClientConnection2 *iface, PrivateData **data) \
    { \
        struct connection *conn = impl_from_INapEnforcementClientConnection2(iface); \
        \
        TRACE("%p, %p\n", iface, data); \
        return get_bytes(conn, conn->buffer.data, &conn->buffer.size, (NetworkSoH **)data); \
    }

PRIVATE_DATA_METHODS(PrivateData, private_data)
PRIVATE_DATA_METHODS(EnforcerPrivateData, enforcer_data)

static HRESULT WINAPI connection_SetIsolationInfoEx(INapEnforcementClientConnection2 *iface, const IsolationInfoEx *info)
{
    TRACE("%p, %p\n", iface, info);
    if (!info) return E_POINTER;
    return set_isolation(impl_from_INapEnforcementClientConnection2(iface), info->isolationState,
                         &info->extendedIsolationState, &info->probEndTime, &info->failureUrl);
}

static HRESULT WINAPI connection_GetIsolationInfoEx(INapEnforcementClientConnection2 *iface, IsolationInfoEx **out)
{
    TRACE("%p, %p\n", iface, out);
    return get_isolation(impl_from_INapEnforcementClientConnection2(iface), TRUE, (void **)out);
}

/* Before the agent stored a list this returns S_OK with 0 and NULL. */
static HRESULT WINAPI connection_GetInstalledShvs(INapEnforcementClientConnection2 *iface,
                                                  SystemHealthEntityCount *count, SystemHealthEntityId **ids)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    SystemHealthEntityId snapshot[maxSystemHealthEntityCount];
    SystemHealthEntityCount snapshot_count;

    TRACE("%p, %p, %p\n", iface, count, ids);
    if (count) *count = 0;
    if (ids) *ids = NULL;
    if (!count || !ids) return E_POINTER;

    /* The list is tiny: copy it out under the lock and allocate afterwards,
     * so that the allocator is never called with cs held. */
    EnterCriticalSection(&conn->cs);
    snapshot_count = conn->shv_count;
    memcpy(snapshot, conn->shvs, snapshot_count * sizeof(*snapshot));
    LeaveCriticalSection(&conn->cs);

    if (!snapshot_count) return S_OK;
    if (!(*ids = CoTaskMemAlloc(snapshot_count * sizeof(**ids)))) return E_OUTOFMEMORY;
    memcpy(*ids, snapshot, snapshot_count * sizeof(**ids));
    *count = snapshot_count;
    return S_OK;
}

static HRESULT WINAPI connection_SetInstalledShvs(INapEnforcementClientConnection2 *iface,
                                                  SystemHealthEntityCount count, SystemHealthEntityId *ids)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    TRACE("%p, %u, %p\n", iface, count, ids);
    /* count 0 is documented as E_INVALIDARG; it is checked before ids so
     * that (0, NULL) reports the documented code rather than E_POINTER. */
    if (!count || count > maxSystemHealthEntityCount) return E_INVALIDARG;
    if (!ids) return E_POINTER;

    EnterCriticalSection(&conn->cs);
    memcpy(conn->shvs, ids, count * sizeof(*ids));
    conn->shv_count = count;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

static const INapEnforcementClientConnection2Vtbl connection_vtbl =
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
    connection_SetIsolationInfoEx,
    connection_GetIsolationInfoEx,
    connection_GetInstalledShvs,
    connection_SetInstalledShvs,
};

HRESULT connection_create(EnforcementEntityId id, struct connection_quota *quota,
                          INapEnforcementClientConnection **out)
{
    struct connection *conn;

    if (!out) return E_POINTER;
    *out = NULL;

    /* Zeroed memory already gives flags 0, GUID_NULL, a zero correlation
     * id and empty request, response, private data and SHV list. */
    if (!(conn = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*conn)))) return E_OUTOFMEMORY;

    conn->INapEnforcementClientConnection2_iface.lpVtbl = &connection_vtbl;
    conn->refs = 1;
    InitializeCriticalSection(&conn->cs);
    conn->id = id;
    conn->max_size = defaultProtocolMaxSize;
    /* Before any SoH response was processed nothing restricts the machine,
     * so report "not restricted, no extended data" rather than an error; the
     * documentation leaves this open (docs/decisions.md). */
    conn->isolation_state = isolationStateNotRestricted;
    conn->extended_state = extendedIsolationStateNoData;

    if ((conn->quota = quota)) connection_quota_addref(quota);
    com_server_object_created();

    *out = (INapEnforcementClientConnection *)&conn->INapEnforcementClientConnection2_iface;
    TRACE("EC %u: %p\n", id, *out);
    return S_OK;
}
