/*
 * The connection object: the INapEnforcementClientConnection2 property bag
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/* Lets the vtable below live in read-only memory. */
#include <string.h>
#include "qagent_private.h"

/* Every property has a small documented upper bound, so the object embeds
 * buffers of the maximum size: a Set never allocates and so can never fail
 * half-way, and only the Get side has allocation failures to handle. */
struct soh_buffer
{
    UINT16 size;
    BYTE data[maxNetworkSoHSize];
};

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

/* Out-parameter helpers: each returns one fresh CoTaskMem block that the
 * caller owns, or NULL data for an empty blob so that Free* helpers written
 * as "free data, then struct" work for every result. */
static HRESULT copy_bytes_out(const BYTE *src, UINT16 size, BYTE **dst)
{
    *dst = NULL;
    if (!size) return S_OK;
    if (!(*dst = CoTaskMemAlloc(size))) return E_OUTOFMEMORY;
    memcpy(*dst, src, size);
    return S_OK;
}

static HRESULT copy_string_out(const WCHAR *src, UINT16 length, CountedString *dst)
{
    dst->length = 0;
    if (!(dst->string = CoTaskMemAlloc((length + 1) * sizeof(WCHAR)))) return E_OUTOFMEMORY;
    memcpy(dst->string, src, length * sizeof(WCHAR));
    dst->string[length] = 0;
    dst->length = length;
    return S_OK;
}

static HRESULT get_soh(struct connection *conn, const struct soh_buffer *buffer, NetworkSoH **out)
{
    NetworkSoH *soh;
    HRESULT hr;

    if (!out) return E_POINTER;
    *out = NULL;
    if (!(soh = CoTaskMemAlloc(sizeof(*soh)))) return E_OUTOFMEMORY;

    EnterCriticalSection(&conn->cs);
    soh->size = buffer->size;
    hr = copy_bytes_out(buffer->data, buffer->size, &soh->data);
    LeaveCriticalSection(&conn->cs);

    if (FAILED(hr))
    {
        CoTaskMemFree(soh);
        return hr;
    }
    *out = soh;
    return S_OK;
}

static HRESULT get_private(struct connection *conn, const struct private_buffer *buffer, PrivateData **out)
{
    PrivateData *data;
    HRESULT hr;

    if (!out) return E_POINTER;
    *out = NULL;
    if (!(data = CoTaskMemAlloc(sizeof(*data)))) return E_OUTOFMEMORY;

    EnterCriticalSection(&conn->cs);
    data->size = buffer->size;
    hr = copy_bytes_out(buffer->data, buffer->size, &data->data);
    LeaveCriticalSection(&conn->cs);

    if (FAILED(hr))
    {
        CoTaskMemFree(data);
        return hr;
    }
    *out = data;
    return S_OK;
}

/* A zero size is allowed and clears the data; only the agent (private
 * data) or only the EC (enforcer data) interprets the bytes. */
static HRESULT set_private(struct connection *conn, struct private_buffer *buffer, const PrivateData *data)
{
    if (!data) return E_POINTER;
    if (data->size > maxPrivateDataSize) return E_INVALIDARG;
    if (data->size && !data->data) return E_INVALIDARG;

    EnterCriticalSection(&conn->cs);
    if (data->size) memcpy(buffer->data, data->data, data->size);
    buffer->size = data->size;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

static HRESULT check_isolation(IsolationState state, const CountedString *url)
{
    if (state < isolationStateNotRestricted || state > isolationStateRestrictedAccess) return E_INVALIDARG;
    if (url->length > maxStringLength) return E_INVALIDARG;
    if (url->length && !url->string) return E_INVALIDARG;
    return S_OK;
}

/* Called with cs held. */
static void store_isolation(struct connection *conn, IsolationState state, const ProbationTime *prob_end_time,
                            const CountedString *url)
{
    conn->isolation_state = state;
    conn->prob_end_time = *prob_end_time;
    if (url->length) memcpy(conn->url, url->string, url->length * sizeof(WCHAR));
    conn->url[url->length] = 0;
    conn->url_length = url->length;
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
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    if (!out) return E_POINTER;

    if (IsEqualIID(riid, &IID_IUnknown) ||
        IsEqualIID(riid, &IID_INapEnforcementClientConnection) ||
        IsEqualIID(riid, &IID_INapEnforcementClientConnection2))
    {
        *out = &conn->INapEnforcementClientConnection2_iface;
        INapEnforcementClientConnection2_AddRef(iface);
        return S_OK;
    }
    /* Any apartment uses it directly; another process through the proxy
     * (docs/decisions.md, "Apartments"). */
    if (IsEqualIID(riid, &IID_IMarshal)) return com_ftm_query((IUnknown *)iface, &conn->ftm, riid, out);

    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI connection_AddRef(INapEnforcementClientConnection2 *iface)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    return InterlockedIncrement(&conn->refs);
}

static ULONG WINAPI connection_Release(INapEnforcementClientConnection2 *iface)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    ULONG refs = InterlockedDecrement(&conn->refs);

    if (!refs) connection_destroy(conn);
    return refs;
}

static HRESULT WINAPI connection_Initialize(INapEnforcementClientConnection2 *iface, EnforcementEntityId id)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    /* The agent sets the owner at creation; a second call simply
     * overwrites it, there is no "already initialised" state to report. */
    EnterCriticalSection(&conn->cs);
    conn->id = id;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

static HRESULT WINAPI connection_SetMaxSize(INapEnforcementClientConnection2 *iface, ProtocolMaxSize size)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    if (size < minProtocolMaxSize || size > maxProtocolMaxSize) return E_INVALIDARG;

    EnterCriticalSection(&conn->cs);
    conn->max_size = size;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

static HRESULT WINAPI connection_GetMaxSize(INapEnforcementClientConnection2 *iface, ProtocolMaxSize *size)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    if (!size) return E_POINTER;

    EnterCriticalSection(&conn->cs);
    *size = conn->max_size;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

static HRESULT WINAPI connection_SetFlags(INapEnforcementClientConnection2 *iface, UINT8 flags)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    /* Only freshSoHRequest has a meaning, but every other value is
     * documented as "based on a cached request", so all are accepted. */
    EnterCriticalSection(&conn->cs);
    conn->flags = flags;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

static HRESULT WINAPI connection_GetFlags(INapEnforcementClientConnection2 *iface, UINT8 *flags)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    if (!flags) return E_POINTER;

    EnterCriticalSection(&conn->cs);
    *flags = conn->flags;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

static HRESULT WINAPI connection_SetConnectionId(INapEnforcementClientConnection2 *iface, const ConnectionId *id)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    if (!id) return E_POINTER;

    EnterCriticalSection(&conn->cs);
    conn->connection_id = *id;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

static HRESULT WINAPI connection_GetConnectionId(INapEnforcementClientConnection2 *iface, ConnectionId **id)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    ConnectionId *copy;

    if (!id) return E_POINTER;
    *id = NULL;
    if (!(copy = CoTaskMemAlloc(sizeof(*copy)))) return E_OUTOFMEMORY;

    EnterCriticalSection(&conn->cs);
    *copy = conn->connection_id;
    LeaveCriticalSection(&conn->cs);

    *id = copy;
    return S_OK;
}

static HRESULT WINAPI connection_GetCorrelationId(INapEnforcementClientConnection2 *iface, CorrelationId *id)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    if (!id) return E_POINTER;

    EnterCriticalSection(&conn->cs);
    *id = conn->correlation_id;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

/* Appends the 64-bit FILETIME as 16 uppercase hex digits, high part first,
 * so that the text sorts like the time it stands for. */
static void format_filetime(const FILETIME *time, WCHAR *dst)
{
    static const WCHAR hex[] = L"0123456789ABCDEF";
    ULONGLONG value = ((ULONGLONG)time->dwHighDateTime << 32) | time->dwLowDateTime;
    int i;

    for (i = 15; i >= 0; i--, value >>= 4) dst[i] = hex[value & 0xf];
    dst[16] = 0;
}

static HRESULT WINAPI connection_GetStringCorrelationId(INapEnforcementClientConnection2 *iface,
                                                        StringCorrelationId **out)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    /* The format is undocumented; "{guid}-<time>" keeps both halves readable in logs. */
    WCHAR text[39 + 1 + 16 + 1];
    StringCorrelationId *str;
    CorrelationId id;
    HRESULT hr;

    if (!out) return E_POINTER;
    *out = NULL;

    EnterCriticalSection(&conn->cs);
    id = conn->correlation_id;
    LeaveCriticalSection(&conn->cs);

    StringFromGUID2(&id.connId, text, 39);
    text[38] = '-';
    format_filetime(&id.timeStamp, text + 39);

    if (!(str = CoTaskMemAlloc(sizeof(*str)))) return E_OUTOFMEMORY;
    if (FAILED(hr = copy_string_out(text, lstrlenW(text), str)))
    {
        CoTaskMemFree(str);
        return hr;
    }
    *out = str;
    return S_OK;
}

static HRESULT WINAPI connection_SetCorrelationId(INapEnforcementClientConnection2 *iface, CorrelationId id)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    EnterCriticalSection(&conn->cs);
    conn->correlation_id = id;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

static HRESULT WINAPI connection_SetSoHRequest(INapEnforcementClientConnection2 *iface, const NetworkSoHRequest *request)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    /* Declared [in, unique], yet there is nothing sensible to store for
     * NULL, and a zero-length request is documented as invalid. */
    if (!request) return E_POINTER;
    if (!request->size || !request->data) return E_INVALIDARG;
    if (request->size > maxNetworkSoHSize) return E_INVALIDARG;

    EnterCriticalSection(&conn->cs);
    memcpy(conn->request.data, request->data, request->size);
    conn->request.size = request->size;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

/* Before any request was set this returns S_OK with size 0 and NULL data:
 * "nothing yet" is a state of the bag, not an error of the call. */
static HRESULT WINAPI connection_GetSoHRequest(INapEnforcementClientConnection2 *iface, NetworkSoHRequest **request)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    return get_soh(conn, &conn->request, request);
}

static HRESULT WINAPI connection_SetSoHResponse(INapEnforcementClientConnection2 *iface,
                                                const NetworkSoHResponse *response)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);

    /* Unlike a request, a zero-length response is documented as valid. */
    if (!response) return E_POINTER;
    if (response->size > maxNetworkSoHSize) return E_INVALIDARG;
    if (response->size && !response->data) return E_INVALIDARG;

    EnterCriticalSection(&conn->cs);
    if (response->size) memcpy(conn->response.data, response->data, response->size);
    conn->response.size = response->size;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

static HRESULT WINAPI connection_GetSoHResponse(INapEnforcementClientConnection2 *iface,
                                                NetworkSoHResponse **response)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    return get_soh(conn, &conn->response, response);
}

static HRESULT WINAPI connection_SetIsolationInfo(INapEnforcementClientConnection2 *iface, const IsolationInfo *info)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    HRESULT hr;

    if (!info) return E_POINTER;
    if (FAILED(hr = check_isolation(info->isolationState, &info->failureUrl))) return hr;

    /* A v1 caller knows nothing of the extended state, so it is kept. */
    EnterCriticalSection(&conn->cs);
    store_isolation(conn, info->isolationState, &info->probEndTime, &info->failureUrl);
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

static HRESULT WINAPI connection_GetIsolationInfo(INapEnforcementClientConnection2 *iface, IsolationInfo **out)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    IsolationInfo *info;
    HRESULT hr;

    if (!out) return E_POINTER;
    *out = NULL;
    if (!(info = CoTaskMemAlloc(sizeof(*info)))) return E_OUTOFMEMORY;

    EnterCriticalSection(&conn->cs);
    info->isolationState = conn->isolation_state;
    info->probEndTime = conn->prob_end_time;
    hr = copy_string_out(conn->url, conn->url_length, &info->failureUrl);
    LeaveCriticalSection(&conn->cs);

    if (FAILED(hr))
    {
        CoTaskMemFree(info);
        return hr;
    }
    *out = info;
    return S_OK;
}

static HRESULT WINAPI connection_SetPrivateData(INapEnforcementClientConnection2 *iface, const PrivateData *data)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    return set_private(conn, &conn->private_data, data);
}

static HRESULT WINAPI connection_GetPrivateData(INapEnforcementClientConnection2 *iface, PrivateData **data)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    return get_private(conn, &conn->private_data, data);
}

static HRESULT WINAPI connection_SetEnforcerPrivateData(INapEnforcementClientConnection2 *iface, const PrivateData *data)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    return set_private(conn, &conn->enforcer_data, data);
}

static HRESULT WINAPI connection_GetEnforcerPrivateData(INapEnforcementClientConnection2 *iface, PrivateData **data)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    return get_private(conn, &conn->enforcer_data, data);
}

static HRESULT WINAPI connection_SetIsolationInfoEx(INapEnforcementClientConnection2 *iface, const IsolationInfoEx *info)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    HRESULT hr;

    if (!info) return E_POINTER;
    if (FAILED(hr = check_isolation(info->isolationState, &info->failureUrl))) return hr;
    if (info->extendedIsolationState < extendedIsolationStateNoData ||
        info->extendedIsolationState > extendedIsolationStateUnknown) return E_INVALIDARG;

    EnterCriticalSection(&conn->cs);
    store_isolation(conn, info->isolationState, &info->probEndTime, &info->failureUrl);
    conn->extended_state = info->extendedIsolationState;
    LeaveCriticalSection(&conn->cs);
    return S_OK;
}

static HRESULT WINAPI connection_GetIsolationInfoEx(INapEnforcementClientConnection2 *iface, IsolationInfoEx **out)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    IsolationInfoEx *info;
    HRESULT hr;

    if (!out) return E_POINTER;
    *out = NULL;
    if (!(info = CoTaskMemAlloc(sizeof(*info)))) return E_OUTOFMEMORY;

    EnterCriticalSection(&conn->cs);
    info->isolationState = conn->isolation_state;
    info->extendedIsolationState = conn->extended_state;
    info->probEndTime = conn->prob_end_time;
    hr = copy_string_out(conn->url, conn->url_length, &info->failureUrl);
    LeaveCriticalSection(&conn->cs);

    if (FAILED(hr))
    {
        CoTaskMemFree(info);
        return hr;
    }
    *out = info;
    return S_OK;
}

/* Before the agent stored a list this returns S_OK with 0 and NULL. */
static HRESULT WINAPI connection_GetInstalledShvs(INapEnforcementClientConnection2 *iface,
                                                  SystemHealthEntityCount *count, SystemHealthEntityId **ids)
{
    struct connection *conn = impl_from_INapEnforcementClientConnection2(iface);
    SystemHealthEntityId snapshot[maxSystemHealthEntityCount];
    SystemHealthEntityCount snapshot_count;

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
    return S_OK;
}
