/*
 * An SHA's SoH as the SoH struct of the NAP interfaces and as its TLVs on the wire
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "nap_hresults.h"
#include "soh_attr.h"

/* docs/decisions.md "qutil.dll": SoHAttribute.value holds the TLV value's
 * network-order bytes and size their length, so converting is copying with
 * a 4-byte type/length header per attribute.  The codec's rules decide what
 * a valid SoH is, the same rules qutil.dll's constructor applies. */

static HRESULT validate(const BYTE *tlvs, size_t size, BOOL is_request)
{
    return soh_sha_validate(tlvs, size, is_request) == SOH_OK ? S_OK : NAP_E_INVALID_PACKET;
}

HRESULT soh_struct_to_tlvs(const SoH *soh, BOOL is_request, BYTE *out, UINT16 cap, UINT16 *size)
{
    size_t len = 0;
    UINT16 i;

    *size = 0;
    if (!soh) return E_POINTER;
    if (!soh->count || soh->count > maxSoHAttributeCount || !soh->attributes) return NAP_E_INVALID_PACKET;
    for (i = 0; i < soh->count; i++)
    {
        const SoHAttribute *attr = &soh->attributes[i];

        if (attr->type > SOH_TLV_TYPE_MASK || attr->size > maxSoHAttributeSize) return NAP_E_INVALID_PACKET;
        if (attr->size && !attr->value) return NAP_E_INVALID_PACKET;
        if (len + 4 + attr->size > cap) return NAP_E_INVALID_PACKET;
        out[len] = attr->type >> 8;
        out[len + 1] = attr->type & 0xff;
        out[len + 2] = attr->size >> 8;
        out[len + 3] = attr->size & 0xff;
        if (attr->size) memcpy(out + len + 4, attr->value, attr->size);
        len += 4 + attr->size;
    }
    if (FAILED(validate(out, len, is_request))) return NAP_E_INVALID_PACKET;
    *size = (UINT16)len;
    return S_OK;
}

void soh_struct_free(SoH *soh)
{
    UINT16 i;

    if (!soh) return;
    for (i = 0; soh->attributes && i < soh->count; i++) CoTaskMemFree(soh->attributes[i].value);
    CoTaskMemFree(soh->attributes);
    CoTaskMemFree(soh);
}

static UINT16 count_tlvs(const BYTE *tlvs, UINT16 size)
{
    UINT16 count = 0, pos = 0;

    while (pos < size)
    {
        pos += 4 + ((tlvs[pos + 2] << 8) | tlvs[pos + 3]);
        count++;
    }
    return count;
}

/* One CoTaskMem block per value, as FreeSoH expects: the attribute array and
 * the struct are blocks of their own. */
HRESULT soh_struct_from_tlvs(const BYTE *tlvs, UINT16 size, BOOL is_request, SoH **out)
{
    UINT16 i, pos = 0;
    SoH *soh;

    *out = NULL;
    if (FAILED(validate(tlvs, size, is_request))) return NAP_E_INVALID_PACKET;
    if (!(soh = CoTaskMemAlloc(sizeof(*soh)))) return E_OUTOFMEMORY;
    soh->count = count_tlvs(tlvs, size);
    if (!(soh->attributes = CoTaskMemAlloc(soh->count * sizeof(*soh->attributes))))
    {
        CoTaskMemFree(soh);
        return E_OUTOFMEMORY;
    }
    ZeroMemory(soh->attributes, soh->count * sizeof(*soh->attributes));
    for (i = 0; i < soh->count; i++)
    {
        SoHAttribute *attr = &soh->attributes[i];

        attr->type = ((tlvs[pos] << 8) | tlvs[pos + 1]) & SOH_TLV_TYPE_MASK;
        attr->size = (tlvs[pos + 2] << 8) | tlvs[pos + 3];
        /* A zero-length value still gets a block: callers may free it unconditionally. */
        if (!(attr->value = CoTaskMemAlloc(attr->size ? attr->size : 1)))
        {
            soh_struct_free(soh);
            return E_OUTOFMEMORY;
        }
        memcpy(attr->value, tlvs + pos + 4, attr->size);
        pos += 4 + attr->size;
    }
    *out = soh;
    return S_OK;
}
