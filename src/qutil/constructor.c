/*
 * INapSoHConstructor: builds one SHA's (or SHV's) SoH attribute by attribute
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include "qutil_private.h"
#include "soh_attr.h"
#include "nap_trace.h"

NAP_TRACE_CHANNEL(qutil);

/* The packet is kept as GetSoH returns it: SoHAttribute.value holds the
 * network-order bytes of the TLV value and size their number (our reading
 * of docs/decisions.md (SoHAttribute.value): the header types value as BYTE *). */
struct soh_constructor
{
    INapSoHConstructor INapSoHConstructor_iface;
    LONG refcount;
    SRWLOCK lock;        /* threading(both): calls may come from any thread */
    BOOL initialized;
    UINT16 count;
    SoHAttribute attributes[maxSoHAttributeCount];
};

static inline struct soh_constructor *impl_from_INapSoHConstructor(INapSoHConstructor *iface)
{
    return CONTAINING_RECORD(iface, struct soh_constructor, INapSoHConstructor_iface);
}

static HRESULT WINAPI constructor_QueryInterface(INapSoHConstructor *iface, REFIID riid, void **out)
{
    static const IID *const iids[] = { &IID_IUnknown, &IID_INapSoHConstructor, NULL };

    return com_query_interface(iface, iids, riid, out);
}

static ULONG WINAPI constructor_AddRef(INapSoHConstructor *iface)
{
    return com_addref(iface, &impl_from_INapSoHConstructor(iface)->refcount);
}

static ULONG WINAPI constructor_Release(INapSoHConstructor *iface)
{
    struct soh_constructor *constructor = impl_from_INapSoHConstructor(iface);
    ULONG refcount = com_release(iface, &constructor->refcount);
    UINT16 i;

    if (!refcount)
    {
        for (i = 0; i < constructor->count; i++) CoTaskMemFree(constructor->attributes[i].value);
        free(constructor);
        com_server_object_destroyed();
    }
    return refcount;
}

/* Appends an already validated value; the caller holds the lock. */
static HRESULT append_value(struct soh_constructor *constructor, UINT16 type, const SoHAttributeValue *value)
{
    SoHAttribute *attr;
    HRESULT hr;

    /* The System-Health-Id counts: maxSoHAttributeCount is per SoH. */
    if (constructor->count >= maxSoHAttributeCount) return E_INVALIDARG;
    attr = &constructor->attributes[constructor->count];
    if (FAILED(hr = soh_value_to_wire(type, value, &attr->value, &attr->size))) return hr;
    attr->type = type;
    constructor->count++;
    return S_OK;
}

/* A second Initialize answers HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED),
 * as the enforcement-client binding does: one object builds one packet. */
static HRESULT WINAPI constructor_Initialize(INapSoHConstructor *iface, SystemHealthEntityId id, BOOL isRequest)
{
    struct soh_constructor *constructor = impl_from_INapSoHConstructor(iface);
    SoHAttributeValue value;
    HRESULT hr;

    TRACE("%p, %u, %d\n", iface, id, isRequest);
    /* isRequest changes no byte of the packet: only Validate's rules differ. */
    (void)isRequest;
    value.idVal = id;
    AcquireSRWLockExclusive(&constructor->lock);
    if (constructor->initialized) hr = HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED);
    else if (SUCCEEDED(hr = append_value(constructor, sohAttributeTypeSystemHealthId, &value)))
        constructor->initialized = TRUE;
    ReleaseSRWLockExclusive(&constructor->lock);
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

/* Types 0 and 1 are unassigned and above 0x3fff the M/R flag bits begin;
 * every other type but the System-Health-Id (which Initialize wrote) may be
 * appended, a type the enum does not name as an octet string.  Packet-level
 * rules (one fix-up server list in a response, a result TLV) are Validate's. */
static BOOL appendable_type(SoHAttributeType type)
{
    return type > sohAttributeTypeSystemHealthId && (UINT32)type <= SOH_TLV_TYPE_MASK;
}

static HRESULT WINAPI constructor_AppendAttribute(INapSoHConstructor *iface, SoHAttributeType type,
                                                  const SoHAttributeValue *value)
{
    struct soh_constructor *constructor = impl_from_INapSoHConstructor(iface);
    HRESULT hr;

    TRACE("%p, %u, %p\n", iface, type, value);
    AcquireSRWLockExclusive(&constructor->lock);
    if (!constructor->initialized) hr = NAP_E_NOT_INITIALIZED;
    else if (!value) hr = E_POINTER;
    else if (!appendable_type(type)) hr = E_INVALIDARG;
    else hr = append_value(constructor, (UINT16)type, value);
    ReleaseSRWLockExclusive(&constructor->lock);
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

/* Returns the packet as it is so far; GetSoH does not validate (Validate
 * does), so an SHA may inspect an incomplete packet. */
static HRESULT WINAPI constructor_GetSoH(INapSoHConstructor *iface, SoH **soh)
{
    struct soh_constructor *constructor = impl_from_INapSoHConstructor(iface);
    HRESULT hr;

    TRACE("%p, %p\n", iface, soh);
    AcquireSRWLockShared(&constructor->lock);
    if (!constructor->initialized) hr = NAP_E_NOT_INITIALIZED;
    else if (!soh) hr = E_POINTER;
    else hr = soh_struct_copy(constructor->attributes, constructor->count, soh);
    ReleaseSRWLockShared(&constructor->lock);
    return hr;
}

/* Needs no state of the object, but like the other methods it is refused
 * before Initialize. */
static HRESULT WINAPI constructor_Validate(INapSoHConstructor *iface, const SoH *soh, BOOL isRequest)
{
    struct soh_constructor *constructor = impl_from_INapSoHConstructor(iface);
    BOOL initialized;
    HRESULT hr;

    TRACE("%p, %p, %d\n", iface, soh, isRequest);
    AcquireSRWLockShared(&constructor->lock);
    initialized = constructor->initialized;
    ReleaseSRWLockShared(&constructor->lock);
    if (!initialized) return NAP_E_NOT_INITIALIZED;
    if (!soh) return E_POINTER;
    hr = soh_struct_validate(soh, isRequest);
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

static const INapSoHConstructorVtbl constructor_vtbl =
{
    constructor_QueryInterface,
    constructor_AddRef,
    constructor_Release,
    constructor_Initialize,
    constructor_AppendAttribute,
    constructor_GetSoH,
    constructor_Validate,
};

HRESULT soh_constructor_create(REFIID riid, void **out)
{
    struct soh_constructor *constructor;
    HRESULT hr;

    if (!(constructor = calloc(1, sizeof(*constructor)))) return E_OUTOFMEMORY;
    constructor->INapSoHConstructor_iface.lpVtbl = &constructor_vtbl;
    constructor->refcount = 1;
    InitializeSRWLock(&constructor->lock);
    com_server_object_created();
    hr = INapSoHConstructor_QueryInterface(&constructor->INapSoHConstructor_iface, riid, out);
    INapSoHConstructor_Release(&constructor->INapSoHConstructor_iface);
    return hr;
}
