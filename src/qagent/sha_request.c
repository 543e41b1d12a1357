/*
 * INapSystemHealthAgentRequest: the object an SHA's GetSoHRequest / ProcessSoHResponse callbacks receive
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "nap_hresults.h"
#include "napagent_rpc.h"
#include "nap_trace.h"

NAP_TRACE_CHANNEL(qagent);

/* SoHs are kept as their TLV bytes: validated once when they come in, and
 * what the agent wants back. */
struct sha_request
{
    INapSystemHealthAgentRequest INapSystemHealthAgentRequest_iface;
    LONG refs;
    IUnknown *volatile ftm;       /* the free-threaded marshaler, aggregated at the first QI for IMarshal */
    SystemHealthEntityId id;
    CorrelationId correlation;

    SRWLOCK lock;                  /* guards the fields below */
    struct soh_buffer soh;         /* size 0: no SoH (none cached, none set) */
    BOOL soh_set;                  /* the SHA called SetSoHRequest */
    BOOL cache;
    BOOL has_response;
    BYTE flags;
    struct soh_buffer response;
};

static inline struct sha_request *impl_from_INapSystemHealthAgentRequest(INapSystemHealthAgentRequest *iface)
{
    return CONTAINING_RECORD(iface, struct sha_request, INapSystemHealthAgentRequest_iface);
}

static HRESULT WINAPI request_QueryInterface(INapSystemHealthAgentRequest *iface, REFIID riid, void **out)
{
    static const IID *const iids[] = { &IID_IUnknown, &IID_INapSystemHealthAgentRequest, NULL };

    /* An SHA's apartment uses it directly (docs/decisions.md, "Apartments"). */
    return com_query_interface_ftm(iface, iids, &impl_from_INapSystemHealthAgentRequest(iface)->ftm, riid, out);
}

static ULONG WINAPI request_AddRef(INapSystemHealthAgentRequest *iface)
{
    return com_addref(iface, &impl_from_INapSystemHealthAgentRequest(iface)->refs);
}

static ULONG WINAPI request_Release(INapSystemHealthAgentRequest *iface)
{
    struct sha_request *request = impl_from_INapSystemHealthAgentRequest(iface);
    ULONG refs = com_release(iface, &request->refs);

    if (!refs)
    {
        com_ftm_release(request->ftm);
        HeapFree(GetProcessHeap(), 0, request);
        com_server_object_destroyed();
    }
    return refs;
}

static HRESULT WINAPI request_GetCorrelationId(INapSystemHealthAgentRequest *iface, CorrelationId *out)
{
    struct sha_request *request = impl_from_INapSystemHealthAgentRequest(iface);

    TRACE("%p, %p\n", iface, out);
    if (!out) return E_POINTER;
    *out = request->correlation;
    return S_OK;
}

/* The same text as the connection's (docs/decisions.md). */
static HRESULT WINAPI request_GetStringCorrelationId(INapSystemHealthAgentRequest *iface, StringCorrelationId **out)
{
    struct sha_request *request = impl_from_INapSystemHealthAgentRequest(iface);

    TRACE("%p, %p\n", iface, out);
    if (!out) return E_POINTER;
    *out = NULL;
    return correlation_string(&request->correlation, out);
}

static HRESULT WINAPI request_SetSoHRequest(INapSystemHealthAgentRequest *iface, const SoHRequest *soh, BOOL cache)
{
    struct sha_request *request = impl_from_INapSystemHealthAgentRequest(iface);
    BYTE tlvs[maxNetworkSoHSize];
    UINT16 size;
    HRESULT hr;

    TRACE("%p, %p, %d\n", iface, soh, cache);
    if (!soh) return E_POINTER;
    if (FAILED(hr = soh_struct_to_tlvs(soh, TRUE, tlvs, sizeof(tlvs), &size)))
    {
        WARN("%p: the SoH does not validate: 0x%08lx\n", iface, hr);
        return hr;
    }
    /* The System-Health-Id is how the agent files the SoH: it must be ours. */
    if (size < 8 || (UINT32)((tlvs[4] << 24) | (tlvs[5] << 16) | (tlvs[6] << 8) | tlvs[7]) != request->id)
    {
        WARN("%p: the SoH is not SHA %u's\n", iface, request->id);
        return NAP_E_INVALID_PACKET;
    }

    AcquireSRWLockExclusive(&request->lock);
    memcpy(request->soh.data, tlvs, size);
    request->soh.size = size;
    request->soh_set = TRUE;
    request->cache = !!cache;
    ReleaseSRWLockExclusive(&request->lock);
    return S_OK;
}

/* The SoH the request holds: the one the SHA set, else the one the agent cached. */
static HRESULT WINAPI request_GetSoHRequest(INapSystemHealthAgentRequest *iface, SoHRequest **out)
{
    struct sha_request *request = impl_from_INapSystemHealthAgentRequest(iface);
    HRESULT hr;

    TRACE("%p, %p\n", iface, out);
    if (!out) return E_POINTER;
    *out = NULL;
    AcquireSRWLockShared(&request->lock);
    if (!request->soh.size) hr = NAP_E_NO_CACHED_SOH;
    else hr = soh_struct_from_tlvs(request->soh.data, request->soh.size, TRUE, out);
    ReleaseSRWLockShared(&request->lock);
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

/* Only a request made for ProcessSoHResponse has a response: any other call
 * is out of sequence, which E_UNEXPECTED says. */
static HRESULT WINAPI request_GetSoHResponse(INapSystemHealthAgentRequest *iface, SoHResponse **out, UINT8 *flags)
{
    struct sha_request *request = impl_from_INapSystemHealthAgentRequest(iface);
    HRESULT hr;

    TRACE("%p, %p, %p\n", iface, out, flags);
    if (!out || !flags) return E_POINTER;
    *out = NULL;
    AcquireSRWLockShared(&request->lock);
    if (!request->has_response) hr = E_UNEXPECTED;
    else if (SUCCEEDED(hr = soh_struct_from_tlvs(request->response.data, request->response.size, FALSE, out)))
        *flags = request->flags;
    ReleaseSRWLockShared(&request->lock);
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

static HRESULT WINAPI request_GetCacheSoHFlag(INapSystemHealthAgentRequest *iface, BOOL *cache)
{
    struct sha_request *request = impl_from_INapSystemHealthAgentRequest(iface);

    TRACE("%p, %p\n", iface, cache);
    if (!cache) return E_POINTER;
    AcquireSRWLockShared(&request->lock);
    *cache = request->cache;
    ReleaseSRWLockShared(&request->lock);
    return S_OK;
}

static const INapSystemHealthAgentRequestVtbl request_vtbl =
{
    request_QueryInterface,
    request_AddRef,
    request_Release,
    request_GetCorrelationId,
    request_GetStringCorrelationId,
    request_SetSoHRequest,
    request_GetSoHRequest,
    request_GetSoHResponse,
    request_GetCacheSoHFlag,
};

HRESULT sha_request_create(SystemHealthEntityId id, const CorrelationId *correlation, struct sha_request **out)
{
    struct sha_request *request;

    *out = NULL;
    if (!(request = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*request)))) return E_OUTOFMEMORY;
    request->INapSystemHealthAgentRequest_iface.lpVtbl = &request_vtbl;
    request->refs = 1;
    request->id = id;
    request->correlation = *correlation;
    InitializeSRWLock(&request->lock);
    com_server_object_created();
    *out = request;
    return S_OK;
}

INapSystemHealthAgentRequest *sha_request_iface(struct sha_request *request)
{
    return &request->INapSystemHealthAgentRequest_iface;
}

HRESULT sha_request_preload(struct sha_request *request, const BYTE *tlvs, UINT16 size)
{
    SoH *check;
    HRESULT hr;

    if (size > sizeof(request->soh.data)) return NAP_E_INVALID_PACKET;
    /* A cache entry the codec refuses would only make GetSoHRequest fail later. */
    if (FAILED(hr = soh_struct_from_tlvs(tlvs, size, TRUE, &check))) return hr;
    soh_struct_free(check);
    AcquireSRWLockExclusive(&request->lock);
    memcpy(request->soh.data, tlvs, size);
    request->soh.size = size;
    ReleaseSRWLockExclusive(&request->lock);
    return S_OK;
}

HRESULT sha_request_set_response(struct sha_request *request, const BYTE *tlvs, UINT16 size, BYTE flags)
{
    SoH *check;
    HRESULT hr;

    if (size > sizeof(request->response.data)) return NAP_E_INVALID_PACKET;
    if (FAILED(hr = soh_struct_from_tlvs(tlvs, size, FALSE, &check))) return hr;
    soh_struct_free(check);
    AcquireSRWLockExclusive(&request->lock);
    memcpy(request->response.data, tlvs, size);
    request->response.size = size;
    request->flags = flags;
    request->has_response = TRUE;
    ReleaseSRWLockExclusive(&request->lock);
    return S_OK;
}

void sha_request_result(struct sha_request *request, BYTE *tlvs, UINT16 cap, UINT16 *size, BOOL *cache)
{
    AcquireSRWLockShared(&request->lock);
    *size = request->soh_set && request->soh.size <= cap ? request->soh.size : 0;
    memcpy(tlvs, request->soh.data, *size);
    *cache = request->soh_set && request->cache;
    ReleaseSRWLockShared(&request->lock);
}
