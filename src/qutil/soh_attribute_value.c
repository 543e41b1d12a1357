/*
 * SoHAttributeValue <-> the wire bytes of one TLV value, on top of the portable soh_attr codec
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include "qutil_private.h"
#include "soh_attr.h"

#define TLV_HEADER_SIZE 4
#define CODE_SIZE 4

static void put32(BYTE *p, UINT32 v)
{
    p[0] = (BYTE)(v >> 24);
    p[1] = (BYTE)(v >> 16);
    p[2] = (BYTE)(v >> 8);
    p[3] = (BYTE)v;
}

static UINT64 filetime_to_u64(const FILETIME *time)
{
    return (UINT64)time->dwHighDateTime << 32 | time->dwLowDateTime;
}

static void *memdup_cotaskmem(const void *data, SIZE_T size)
{
    void *copy = CoTaskMemAlloc(size);

    if (copy) memcpy(copy, data, size);
    return copy;
}

/* The union in the codec's terms.  Result codes are host-order HRESULTs in
 * the union but the codec keeps them in wire order, so they are converted
 * into codes_be (room for the most a TLV may hold). */
static HRESULT fill_codec_value(UINT16 type, const SoHAttributeValue *value, struct soh_attr_value *v,
                                BYTE codes_be[SOH_MAX_CODE_COUNT * CODE_SIZE])
{
    UINT16 i;

    memset(v, 0, sizeof(*v));
    v->type = type;
    v->kind = soh_attr_kind(type);
    switch (v->kind)
    {
    case SOH_VALUE_ID: v->id = value->idVal; break;
    case SOH_VALUE_DATETIME: v->datetime = filetime_to_u64(&value->dateTimeVal); break;
    case SOH_VALUE_UINT8: v->uint8 = value->uint8Val; break;
    case SOH_VALUE_IPV4:
        v->count = value->v4AddressesVal.count;
        v->data = (const uint8_t *)value->v4AddressesVal.addresses;
        break;
    case SOH_VALUE_IPV6:
        v->count = value->v6AddressesVal.count;
        v->data = (const uint8_t *)value->v6AddressesVal.addresses;
        break;
    case SOH_VALUE_CODES:
        if (value->codesVal.count > SOH_MAX_CODE_COUNT) return E_INVALIDARG;
        if (value->codesVal.count && !value->codesVal.results) return E_INVALIDARG;
        for (i = 0; i < value->codesVal.count; i++) put32(codes_be + i * CODE_SIZE, (UINT32)value->codesVal.results[i]);
        v->count = value->codesVal.count;
        v->data = v->count ? codes_be : NULL;
        break;
    case SOH_VALUE_VENDOR:
        v->vendor_id = value->vendorSpecificVal.vendorId;
        v->count = value->vendorSpecificVal.size;
        v->data = value->vendorSpecificVal.vendorSpecificData;
        break;
    case SOH_VALUE_OCTETS:
        v->count = value->octetStringVal.size;
        v->data = value->octetStringVal.data;
        break;
    }
    return S_OK;
}

HRESULT soh_value_to_wire(UINT16 type, const SoHAttributeValue *value, BYTE **bytes, UINT16 *size)
{
    BYTE codes_be[SOH_MAX_CODE_COUNT * CODE_SIZE];
    BYTE tlv[TLV_HEADER_SIZE + SOH_MAX_ATTRIBUTE_SIZE];
    struct soh_attr_value v;
    size_t len;
    HRESULT hr;

    *bytes = NULL;
    *size = 0;
    if (FAILED(hr = fill_codec_value(type, value, &v, codes_be))) return hr;
    /* The encoder applies the decoder's rules to the value; whatever it
     * refuses could not be read back. */
    if (soh_attr_encode(&v, tlv, sizeof(tlv), &len) != SOH_OK) return E_INVALIDARG;
    len -= TLV_HEADER_SIZE;
    if (len && !(*bytes = memdup_cotaskmem(tlv + TLV_HEADER_SIZE, len))) return E_OUTOFMEMORY;
    *size = (UINT16)len;
    return S_OK;
}

/* Copies the codec's view of the bytes into the union member; each pointer
 * member is a CoTaskMem block of its own (NULL when empty). */
static HRESULT fill_union(const struct soh_attr_value *v, SoHAttributeValue *value)
{
    void *copy = NULL;
    UINT16 i;

    switch (v->kind)
    {
    case SOH_VALUE_ID: value->idVal = v->id; return S_OK;
    case SOH_VALUE_UINT8: value->uint8Val = v->uint8; return S_OK;
    case SOH_VALUE_DATETIME:
        value->dateTimeVal.dwHighDateTime = (DWORD)(v->datetime >> 32);
        value->dateTimeVal.dwLowDateTime = (DWORD)v->datetime;
        return S_OK;
    case SOH_VALUE_CODES:
        if (v->count && !(copy = CoTaskMemAlloc(v->count * sizeof(HRESULT)))) return E_OUTOFMEMORY;
        for (i = 0; i < v->count; i++) ((HRESULT *)copy)[i] = (HRESULT)soh_attr_code(v, i);
        value->codesVal.count = v->count;
        value->codesVal.results = copy;
        return S_OK;
    case SOH_VALUE_IPV4:
        if (!(copy = memdup_cotaskmem(v->data, v->count * sizeof(Ipv4Address)))) return E_OUTOFMEMORY;
        value->v4AddressesVal.count = v->count;
        value->v4AddressesVal.addresses = copy;
        return S_OK;
    case SOH_VALUE_IPV6:
        if (!(copy = memdup_cotaskmem(v->data, v->count * sizeof(Ipv6Address)))) return E_OUTOFMEMORY;
        value->v6AddressesVal.count = v->count;
        value->v6AddressesVal.addresses = copy;
        return S_OK;
    case SOH_VALUE_VENDOR:
        if (v->count && !(copy = memdup_cotaskmem(v->data, v->count))) return E_OUTOFMEMORY;
        value->vendorSpecificVal.vendorId = v->vendor_id;
        value->vendorSpecificVal.size = v->count;
        value->vendorSpecificVal.vendorSpecificData = copy;
        return S_OK;
    case SOH_VALUE_OCTETS:
        if (v->count && !(copy = memdup_cotaskmem(v->data, v->count))) return E_OUTOFMEMORY;
        value->octetStringVal.size = v->count;
        value->octetStringVal.data = copy;
        return S_OK;
    }
    return E_UNEXPECTED;
}

HRESULT soh_value_from_wire(UINT16 type, const BYTE *bytes, UINT16 size, SoHAttributeValue **value)
{
    struct soh_attr_value v;
    SoHAttributeValue *result;
    HRESULT hr;

    *value = NULL;
    if (soh_attr_decode(type, bytes, size, &v) != SOH_OK) return NAP_E_INVALID_PACKET;
    if (!(result = CoTaskMemAlloc(sizeof(*result)))) return E_OUTOFMEMORY;
    memset(result, 0, sizeof(*result));
    if (FAILED(hr = fill_union(&v, result)))
    {
        CoTaskMemFree(result);
        return hr;
    }
    *value = result;
    return S_OK;
}

/* Type and size as given (flag bits included): the codec decides. */
static SIZE_T serialise_attributes(const SoH *soh, BYTE *out)
{
    SIZE_T pos = 0;
    UINT16 i;

    for (i = 0; i < soh->count; i++)
    {
        const SoHAttribute *attr = &soh->attributes[i];

        out[pos++] = (BYTE)(attr->type >> 8);
        out[pos++] = (BYTE)attr->type;
        out[pos++] = (BYTE)(attr->size >> 8);
        out[pos++] = (BYTE)attr->size;
        if (attr->size) memcpy(out + pos, attr->value, attr->size);
        pos += attr->size;
    }
    return pos;
}

HRESULT soh_struct_validate(const SoH *soh, BOOL is_request)
{
    SIZE_T len = 0;
    HRESULT hr;
    BYTE *tlvs;
    UINT16 i;

    /* Checked before anything is read through the struct's pointers. */
    if (!soh->count || soh->count > maxSoHAttributeCount || !soh->attributes) return NAP_E_INVALID_PACKET;
    for (i = 0; i < soh->count; i++)
    {
        if (soh->attributes[i].size && !soh->attributes[i].value) return NAP_E_INVALID_PACKET;
        len += TLV_HEADER_SIZE + soh->attributes[i].size;
    }
    if (!(tlvs = malloc(len))) return E_OUTOFMEMORY;
    serialise_attributes(soh, tlvs);
    hr = soh_sha_validate(tlvs, len, is_request != FALSE) == SOH_OK ? S_OK : NAP_E_INVALID_PACKET;
    free(tlvs);
    return hr;
}

HRESULT soh_struct_copy(const SoHAttribute *attributes, UINT16 count, SoH **out)
{
    SoH *soh;
    UINT16 i;

    *out = NULL;
    if (!(soh = CoTaskMemAlloc(sizeof(*soh)))) return E_OUTOFMEMORY;
    soh->count = count;
    soh->attributes = NULL;
    if (count && !(soh->attributes = CoTaskMemAlloc(count * sizeof(*soh->attributes))))
    {
        CoTaskMemFree(soh);
        return E_OUTOFMEMORY;
    }
    if (count) memset(soh->attributes, 0, count * sizeof(*soh->attributes));
    for (i = 0; i < count; i++)
    {
        soh->attributes[i].type = attributes[i].type;
        soh->attributes[i].size = attributes[i].size;
        if (!attributes[i].size) continue;
        if (!(soh->attributes[i].value = memdup_cotaskmem(attributes[i].value, attributes[i].size)))
        {
            FreeSoH(soh);
            return E_OUTOFMEMORY;
        }
    }
    *out = soh;
    return S_OK;
}
