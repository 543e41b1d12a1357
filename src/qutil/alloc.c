/*
 * qutil.dll Alloc* / Free* exports: CoTaskMem blocks for the NAP data types
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "qutil_private.h"
#include "soh_attr.h"

/* Every block is CoTaskMem (docs/nap-facts.md, Memory ownership), and every embedded pointer is a
 * block of its own, so a caller may free a struct and keep its contents
 * (the SDK sample does this with AllocCountedString's string). */
static void *alloc_zero(SIZE_T size)
{
    void *block = CoTaskMemAlloc(size);

    if (block) memset(block, 0, size);
    return block;
}

/* count == 0 allocates no array: the pointer stays NULL. */
static HRESULT alloc_array(void **array, SIZE_T count, SIZE_T size)
{
    *array = NULL;
    if (!count) return S_OK;
    return (*array = alloc_zero(count * size)) ? S_OK : E_OUTOFMEMORY;
}

HRESULT WINAPI AllocConnections(Connections **connections, UINT16 connectionsCount)
{
    Connections *result;
    HRESULT hr;

    if (!connections) return E_INVALIDARG;
    *connections = NULL;
    if (connectionsCount > maxConnectionCountPerEnforcer) return E_INVALIDARG;
    if (!(result = alloc_zero(sizeof(*result)))) return E_OUTOFMEMORY;
    if (FAILED(hr = alloc_array((void **)&result->connections, connectionsCount, sizeof(*result->connections))))
    {
        CoTaskMemFree(result);
        return hr;
    }
    result->count = connectionsCount;
    *connections = result;
    return S_OK;
}

/* A NULL string is refused like an over-long one: CountedString has no
 * representation for "no string" other than a NULL struct. */
HRESULT WINAPI AllocCountedString(CountedString **countedString, const WCHAR *string)
{
    CountedString *result;
    size_t length;

    if (!countedString) return E_INVALIDARG;
    *countedString = NULL;
    if (!string || (length = wcslen(string)) > maxStringLength) return E_INVALIDARG;
    if (!(result = alloc_zero(sizeof(*result)))) return E_OUTOFMEMORY;
    if (!(result->string = CoTaskMemAlloc((length + 1) * sizeof(WCHAR))))
    {
        CoTaskMemFree(result);
        return E_OUTOFMEMORY;
    }
    memcpy(result->string, string, (length + 1) * sizeof(WCHAR));
    result->length = (UINT16)length;
    *countedString = result;
    return S_OK;
}

HRESULT WINAPI AllocFixupInfo(FixupInfo **fixupInfo, UINT16 countResultCodes)
{
    FixupInfo *result;
    HRESULT hr;

    if (!fixupInfo) return E_INVALIDARG;
    *fixupInfo = NULL;
    if (countResultCodes > maxDwordCountPerSoHAttribute) return E_INVALIDARG;
    if (!(result = alloc_zero(sizeof(*result)))) return E_OUTOFMEMORY;
    if (FAILED(hr = alloc_array((void **)&result->resultCodes.results, countResultCodes,
                                sizeof(*result->resultCodes.results))))
    {
        CoTaskMemFree(result);
        return hr;
    }
    result->resultCodes.count = countResultCodes;
    *fixupInfo = result;
    return S_OK;
}

/* The holder of a Connections struct owns one reference per pointer in it
 * (the SDK sample AddRefs each connection it hands over), so freeing the
 * struct releases them: docs/decisions.md "GetConnections ownership". */
VOID WINAPI FreeConnections(Connections *connections)
{
    UINT16 i;

    if (!connections) return;
    if (connections->connections)
    {
        for (i = 0; i < connections->count; i++)
            if (connections->connections[i]) INapEnforcementClientConnection_Release(connections->connections[i]);
        CoTaskMemFree(connections->connections);
    }
    CoTaskMemFree(connections);
}

VOID WINAPI FreeCountedString(CountedString *countedString)
{
    if (!countedString) return;
    CoTaskMemFree(countedString->string);
    CoTaskMemFree(countedString);
}

VOID WINAPI FreeFixupInfo(FixupInfo *fixupInfo)
{
    if (!fixupInfo) return;
    CoTaskMemFree(fixupInfo->resultCodes.results);
    CoTaskMemFree(fixupInfo);
}

VOID WINAPI FreeIsolationInfo(IsolationInfo *isolationInfo)
{
    if (!isolationInfo) return;
    CoTaskMemFree(isolationInfo->failureUrl.string);
    CoTaskMemFree(isolationInfo);
}

VOID WINAPI FreeIsolationInfoEx(IsolationInfoEx *isolationInfo)
{
    if (!isolationInfo) return;
    CoTaskMemFree(isolationInfo->failureUrl.string);
    CoTaskMemFree(isolationInfo);
}

/* Reference open question 7: the page describes info with the same words as
 * GetRegisteredSystemHealthAgents / GetRegisteredEnforcementClients use for
 * their NapComponentRegistrationInfo ** out-parameter, and (count, &array) is
 * the call that compiles cleanly against the header: info is the address of
 * the caller's array pointer.  Every string of the count entries, then the
 * array, are freed and *info becomes NULL, so a second call frees nothing.
 * A NULL info or a NULL *info (GetRegistered* returns no array when nothing
 * is registered) does nothing. */
VOID WINAPI FreeNapComponentRegistrationInfoArray(UINT16 count, NapComponentRegistrationInfo **info)
{
    NapComponentRegistrationInfo *array;
    UINT16 i;

    if (!info || !(array = *info)) return;
    for (i = 0; i < count; i++)
    {
        CoTaskMemFree(array[i].friendlyName.string);
        CoTaskMemFree(array[i].description.string);
        CoTaskMemFree(array[i].version.string);
        CoTaskMemFree(array[i].vendorName.string);
    }
    CoTaskMemFree(array);
    *info = NULL;
}

VOID WINAPI FreeNetworkSoH(NetworkSoH *networkSoh)
{
    if (!networkSoh) return;
    CoTaskMemFree(networkSoh->data);
    CoTaskMemFree(networkSoh);
}

VOID WINAPI FreePrivateData(PrivateData *privateData)
{
    if (!privateData) return;
    CoTaskMemFree(privateData->data);
    CoTaskMemFree(privateData);
}

VOID WINAPI FreeSoH(SoH *soh)
{
    UINT16 i;

    if (!soh) return;
    if (soh->attributes)
    {
        for (i = 0; i < soh->count; i++) CoTaskMemFree(soh->attributes[i].value);
        CoTaskMemFree(soh->attributes);
    }
    CoTaskMemFree(soh);
}

/* "Frees an SoHAttributeValue data structure", and every NAP function that
 * frees memory frees the embedded pointers too: the block the union lives in
 * (the one INapSoHProcessor::GetAttribute returned) goes with the block its
 * member selected by type points to.  Microsoft's SDK SHA and SHV call
 * FreeSoHAttributeValue alone after GetAttribute.  So value must be a
 * CoTaskMem block of its own, never a union inside a struct or on the stack.
 * Unknown types are octet strings, as everywhere else. */
VOID WINAPI FreeSoHAttributeValue(SoHAttributeType type, SoHAttributeValue *value)
{
    if (!value) return;
    switch (soh_attr_kind((uint16_t)type))
    {
    case SOH_VALUE_IPV4: CoTaskMemFree(value->v4AddressesVal.addresses); break;
    case SOH_VALUE_IPV6: CoTaskMemFree(value->v6AddressesVal.addresses); break;
    case SOH_VALUE_CODES: CoTaskMemFree(value->codesVal.results); break;
    case SOH_VALUE_VENDOR: CoTaskMemFree(value->vendorSpecificVal.vendorSpecificData); break;
    case SOH_VALUE_OCTETS: CoTaskMemFree(value->octetStringVal.data); break;
    case SOH_VALUE_ID:
    case SOH_VALUE_DATETIME:
    case SOH_VALUE_UINT8:
        break; /* no pointer inside */
    }
    CoTaskMemFree(value);
}

VOID WINAPI FreeSystemHealthAgentState(SystemHealthAgentState *state)
{
    if (!state) return;
    CoTaskMemFree(state->shaResultCodes.results);
    CoTaskMemFree(state->fixupInfo.resultCodes.results);
    CoTaskMemFree(state);
}
