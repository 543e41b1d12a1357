/*
 * qutil.dll Alloc* / Free* exports: CoTaskMem blocks for the NAP data types
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stddef.h>
#include <string.h>
#include "qutil_private.h"
#include "soh_attr.h"
#include "nap_trace.h"

NAP_TRACE_CHANNEL(qutil);

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

/* Connections and FixupInfo's ResultCodes are the same pair, {UINT16 count;
 * T *array}: in a struct of its own, or inside a larger one. */
struct counted_array
{
    UINT16 count;
    void *array;
};
_Static_assert(sizeof(Connections) == sizeof(struct counted_array)
               && offsetof(Connections, count) == offsetof(struct counted_array, count)
               && offsetof(Connections, connections) == offsetof(struct counted_array, array)
               && sizeof(ResultCodes) == sizeof(struct counted_array)
               && offsetof(ResultCodes, count) == offsetof(struct counted_array, count)
               && offsetof(ResultCodes, results) == offsetof(struct counted_array, array), "one layout");

/* A zeroed struct of struct_size bytes whose pair at pair_offset holds a
 * zeroed array of count elements (none for 0); E_INVALIDARG past max. */
static HRESULT alloc_counted(void **out, SIZE_T struct_size, SIZE_T pair_offset, UINT16 count, UINT16 max,
                             SIZE_T element_size)
{
    struct counted_array *pair;
    BYTE *block;

    if (!out) return E_INVALIDARG;
    *out = NULL;
    if (count > max) return E_INVALIDARG;
    if (!(block = alloc_zero(struct_size))) return E_OUTOFMEMORY;
    pair = (struct counted_array *)(block + pair_offset);
    if (FAILED(alloc_array(&pair->array, count, element_size)))
    {
        CoTaskMemFree(block);
        return E_OUTOFMEMORY;
    }
    pair->count = count;
    *out = block;
    return S_OK;
}

HRESULT WINAPI AllocConnections(Connections **connections, UINT16 connectionsCount)
{
    TRACE("%p, %u\n", connections, connectionsCount);
    return alloc_counted((void **)connections, sizeof(Connections), 0, connectionsCount,
                         maxConnectionCountPerEnforcer, sizeof(INapEnforcementClientConnection *));
}

/* A NULL string is refused like an over-long one: CountedString has no
 * representation for "no string" other than a NULL struct. */
HRESULT WINAPI AllocCountedString(CountedString **countedString, const WCHAR *string)
{
    CountedString *result;
    size_t length;

    TRACE("%p, %s\n", countedString, nap_dbgstr_w(string));
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
    TRACE("%p, %u\n", fixupInfo, countResultCodes);
    return alloc_counted((void **)fixupInfo, sizeof(FixupInfo), offsetof(FixupInfo, resultCodes), countResultCodes,
                         maxDwordCountPerSoHAttribute, sizeof(HRESULT));
}

/* The holder of a Connections struct owns one reference per pointer in it
 * (the SDK sample AddRefs each connection it hands over), so freeing the
 * struct releases them: docs/decisions.md "GetConnections ownership". */
VOID WINAPI FreeConnections(Connections *connections)
{
    UINT16 i;

    TRACE("%p\n", connections);
    if (!connections) return;
    if (connections->connections)
    {
        for (i = 0; i < connections->count; i++)
            if (connections->connections[i]) INapEnforcementClientConnection_Release(connections->connections[i]);
        CoTaskMemFree(connections->connections);
    }
    CoTaskMemFree(connections);
}

/* The Free* functions of a struct with one embedded pointer, member: both
 * blocks go; NULL frees nothing. */
#define DEFINE_FREE_PAIR(function, type, member) \
    VOID WINAPI function(type *block) \
    { \
        TRACE("%p\n", block); \
        if (!block) return; \
        CoTaskMemFree(block->member); \
        CoTaskMemFree(block); \
    }

DEFINE_FREE_PAIR(FreeCountedString, CountedString, string)
DEFINE_FREE_PAIR(FreeFixupInfo, FixupInfo, resultCodes.results)
DEFINE_FREE_PAIR(FreeIsolationInfo, IsolationInfo, failureUrl.string)
DEFINE_FREE_PAIR(FreeIsolationInfoEx, IsolationInfoEx, failureUrl.string)
DEFINE_FREE_PAIR(FreeNetworkSoH, NetworkSoH, data)
DEFINE_FREE_PAIR(FreePrivateData, PrivateData, data)

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

    TRACE("%u, %p\n", count, info);
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

VOID WINAPI FreeSoH(SoH *soh)
{
    UINT16 i;

    TRACE("%p\n", soh);
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
    TRACE("%u, %p\n", type, value);
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
    TRACE("%p\n", state);
    if (!state) return;
    CoTaskMemFree(state->shaResultCodes.results);
    CoTaskMemFree(state->fixupInfo.resultCodes.results);
    CoTaskMemFree(state);
}
