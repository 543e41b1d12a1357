/*
 * INapSoHProcessor: reads the attributes of one SHA's (or SHV's) SoH
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include "qutil_private.h"
#include "soh_attr.h"
#include "nap_trace.h"

NAP_TRACE_CHANNEL(qutil);

/* The SoH given to Initialize, copied: SoHAttribute.value holds the
 * network-order bytes of each TLV value, as INapSoHConstructor::GetSoH
 * produces them. */
struct soh_processor
{
    INapSoHProcessor INapSoHProcessor_iface;
    LONG refcount;
    SRWLOCK lock;        /* threading(both); only Initialize writes */
    SoH *soh;            /* NULL until Initialize succeeded */
};

static inline struct soh_processor *impl_from_INapSoHProcessor(INapSoHProcessor *iface)
{
    return CONTAINING_RECORD(iface, struct soh_processor, INapSoHProcessor_iface);
}

static HRESULT WINAPI processor_QueryInterface(INapSoHProcessor *iface, REFIID riid, void **out)
{
    static const IID *const iids[] = { &IID_IUnknown, &IID_INapSoHProcessor, NULL };

    return com_query_interface(iface, iids, riid, out);
}

static ULONG WINAPI processor_AddRef(INapSoHProcessor *iface)
{
    return com_addref(iface, &impl_from_INapSoHProcessor(iface)->refcount);
}

static ULONG WINAPI processor_Release(INapSoHProcessor *iface)
{
    struct soh_processor *processor = impl_from_INapSoHProcessor(iface);
    ULONG refcount = com_release(iface, &processor->refcount);

    if (!refcount)
    {
        FreeSoH(processor->soh);
        free(processor);
        com_server_object_destroyed();
    }
    return refcount;
}

/* The flag bits (M, R) are ignored on receipt. */
static UINT16 attribute_type(const SoHAttribute *attr)
{
    return attr->type & SOH_TLV_TYPE_MASK;
}

/* The validated first attribute is the System-Health-Id. */
static SystemHealthEntityId sender_id(const SoH *soh)
{
    const BYTE *p = soh->attributes[0].value;

    return (UINT32)p[0] << 24 | (UINT32)p[1] << 16 | (UINT32)p[2] << 8 | p[3];
}

/* A second Initialize answers HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED)
 * and keeps the first packet; a packet that fails validation leaves the
 * object uninitialised, so Initialize may be tried again. */
static HRESULT WINAPI processor_Initialize(INapSoHProcessor *iface, const SoH *soh, BOOL isRequest,
                                           SystemHealthEntityId *id)
{
    struct soh_processor *processor = impl_from_INapSoHProcessor(iface);
    SoH *copy;
    HRESULT hr;

    TRACE("%p, %p, %d, %p\n", iface, soh, isRequest, id);
    if (!soh || !id) return E_POINTER;
    AcquireSRWLockExclusive(&processor->lock);
    if (processor->soh) hr = HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED);
    else if (SUCCEEDED(hr = soh_struct_validate(soh, isRequest))
             && SUCCEEDED(hr = soh_struct_copy(soh->attributes, soh->count, &copy)))
    {
        processor->soh = copy;
        *id = sender_id(copy);
    }
    ReleaseSRWLockExclusive(&processor->lock);
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

/* The packet never changes after Initialize, so readers only need the lock
 * to see it published. */
static const SoH *get_soh(struct soh_processor *processor)
{
    const SoH *soh;

    AcquireSRWLockShared(&processor->lock);
    soh = processor->soh;
    ReleaseSRWLockShared(&processor->lock);
    return soh;
}

static HRESULT WINAPI processor_FindNextAttribute(INapSoHProcessor *iface, UINT16 fromLocation,
                                                  SoHAttributeType type, UINT16 *attributeLocation)
{
    const SoH *soh = get_soh(impl_from_INapSoHProcessor(iface));
    UINT16 i;

    TRACE("%p, %u, %u, %p\n", iface, fromLocation, type, attributeLocation);
    if (!soh) return NAP_E_NOT_INITIALIZED;
    if (!attributeLocation) return E_POINTER;
    if (fromLocation >= soh->count) return E_INVALIDARG;
    for (i = fromLocation; i < soh->count; i++)
    {
        if ((UINT32)attribute_type(&soh->attributes[i]) != (UINT32)type) continue;
        *attributeLocation = i;
        return S_OK;
    }
    return HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND);
}

/* *value is one CoTaskMem block whose member (selected by *type) may point
 * to another: FreeSoHAttributeValue(*type, *value) frees both.  Types without a union member of their
 * own, known or not, come back as octet strings. */
static HRESULT WINAPI processor_GetAttribute(INapSoHProcessor *iface, UINT16 attributeLocation,
                                             SoHAttributeType *type, SoHAttributeValue **value)
{
    const SoH *soh = get_soh(impl_from_INapSoHProcessor(iface));
    const SoHAttribute *attr;
    HRESULT hr;

    TRACE("%p, %u, %p, %p\n", iface, attributeLocation, type, value);
    if (!soh) return NAP_E_NOT_INITIALIZED;
    if (!type || !value) return E_POINTER;
    *value = NULL;
    if (attributeLocation >= soh->count) return E_INVALIDARG;
    attr = &soh->attributes[attributeLocation];
    if (SUCCEEDED(hr = soh_value_from_wire(attribute_type(attr), attr->value, attr->size, value)))
        *type = (SoHAttributeType)attribute_type(attr);
    TRACE("%p: 0x%08lx\n", iface, hr);
    return hr;
}

static HRESULT WINAPI processor_GetNumberOfAttributes(INapSoHProcessor *iface, UINT16 *attributeCount)
{
    const SoH *soh = get_soh(impl_from_INapSoHProcessor(iface));

    TRACE("%p, %p\n", iface, attributeCount);
    if (!soh) return NAP_E_NOT_INITIALIZED;
    if (!attributeCount) return E_POINTER;
    *attributeCount = soh->count;
    return S_OK;
}

static const INapSoHProcessorVtbl processor_vtbl =
{
    processor_QueryInterface,
    processor_AddRef,
    processor_Release,
    processor_Initialize,
    processor_FindNextAttribute,
    processor_GetAttribute,
    processor_GetNumberOfAttributes,
};

HRESULT soh_processor_create(REFIID riid, void **out)
{
    struct soh_processor *processor;
    HRESULT hr;

    if (!(processor = calloc(1, sizeof(*processor)))) return E_OUTOFMEMORY;
    processor->INapSoHProcessor_iface.lpVtbl = &processor_vtbl;
    processor->refcount = 1;
    InitializeSRWLock(&processor->lock);
    com_server_object_created();
    hr = INapSoHProcessor_QueryInterface(&processor->INapSoHProcessor_iface, riid, out);
    INapSoHProcessor_Release(&processor->INapSoHProcessor_iface);
    return hr;
}
