/*
 * Per-SHA SoH attributes: strict typed decoding and encoding, SoH rules
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "soh_attr.h"
#include "soh_private.h"

#define IPV4_SIZE 4
#define IPV6_SIZE 16
#define CODE_SIZE 4
#define DATETIME_SIZE 8
#define VENDOR_ID_SIZE 4
#define VENDOR_ID_RESERVED 0xff000000u /* top 8 bits of an SMI vendor id are 0 */
#define FAILURE_CATEGORY_MAX 5         /* failureCategoryServerCommunication */
#define EXT_STATE_MAX 3                /* extendedIsolationStateUnknown */

enum soh_value_kind soh_attr_kind(uint16_t type)
{
    switch (type & SOH_TLV_TYPE_MASK)
    {
    case SOH_ATTR_SYSTEM_HEALTH_ID: return SOH_VALUE_ID;
    case SOH_ATTR_IPV4_FIXUP_SERVERS: return SOH_VALUE_IPV4;
    case SOH_ATTR_COMPLIANCE_RESULT_CODES:
    case SOH_ATTR_ERROR_CODES: return SOH_VALUE_CODES;
    case SOH_ATTR_TIME_OF_LAST_UPDATE:
    case SOH_ATTR_SOH_GENERATION_TIME: return SOH_VALUE_DATETIME;
    case SOH_ATTR_VENDOR_SPECIFIC: return SOH_VALUE_VENDOR;
    case SOH_ATTR_HEALTH_CLASS:
    case SOH_ATTR_FAILURE_CATEGORY:
    case SOH_ATTR_EXTENDED_ISOLATION_STATE: return SOH_VALUE_UINT8;
    case SOH_ATTR_IPV6_FIXUP_SERVERS: return SOH_VALUE_IPV6;
    }
    /* ClientId, SoftwareVersion, ProductName, HealthClassStatus and every
     * type we do not know: octet strings, for forward compatibility */
    return SOH_VALUE_OCTETS;
}

/* Address lists: at least one address, whole addresses only. */
static enum soh_status check_addresses(size_t bytes, size_t size, unsigned int max)
{
    if (!bytes) return SOH_ERR_NO_ADDRESSES;
    if (bytes % size) return SOH_ERR_BAD_ADDRESS_LENGTH;
    if (bytes / size > max) return SOH_ERR_TOO_MANY_ADDRESSES;
    return SOH_OK;
}

/* Result codes: ResultCodes.count is 0..1000, so an empty list is valid. */
static enum soh_status check_codes(size_t bytes)
{
    if (bytes % CODE_SIZE) return SOH_ERR_BAD_CODES_LENGTH;
    if (bytes / CODE_SIZE > SOH_MAX_CODE_COUNT) return SOH_ERR_TOO_MANY_CODES;
    return SOH_OK;
}

static enum soh_status check_vendor_id(uint32_t vendor_id)
{
    return vendor_id & VENDOR_ID_RESERVED ? SOH_ERR_BAD_ATTR_VENDOR_ID : SOH_OK;
}

/* HealthClass takes any value: 0..3 and 128 are named, the rest reserved
 * but harmless to carry. */
static enum soh_status check_uint8(uint16_t type, uint8_t value)
{
    if (type == SOH_ATTR_FAILURE_CATEGORY && value > FAILURE_CATEGORY_MAX) return SOH_ERR_BAD_FAILURE_CATEGORY;
    if (type == SOH_ATTR_EXTENDED_ISOLATION_STATE && value > EXT_STATE_MAX) return SOH_ERR_BAD_EXT_STATE;
    return SOH_OK;
}

static enum soh_status decode_vendor(const uint8_t *value, uint16_t len, struct soh_attr_value *out)
{
    enum soh_status status;

    if (len < VENDOR_ID_SIZE) return SOH_ERR_VENDOR_ATTR_TOO_SHORT;
    if (len - VENDOR_ID_SIZE > SOH_MAX_VENDOR_DATA) return SOH_ERR_VENDOR_DATA_TOO_LONG;
    out->vendor_id = soh_get32(value);
    if ((status = check_vendor_id(out->vendor_id))) return status;
    out->count = len - VENDOR_ID_SIZE;
    out->data = value + VENDOR_ID_SIZE;
    return SOH_OK;
}

static enum soh_status decode_value(const uint8_t *value, uint16_t len, struct soh_attr_value *out)
{
    enum soh_status status;

    switch (out->kind)
    {
    case SOH_VALUE_ID:
        if (len != 4) return SOH_ERR_BAD_ENTRY_ID_LENGTH;
        out->id = soh_get32(value);
        return SOH_OK;
    case SOH_VALUE_IPV4:
        if ((status = check_addresses(len, IPV4_SIZE, SOH_MAX_IPV4_COUNT))) return status;
        out->count = len / IPV4_SIZE;
        break;
    case SOH_VALUE_IPV6:
        if ((status = check_addresses(len, IPV6_SIZE, SOH_MAX_IPV6_COUNT))) return status;
        out->count = len / IPV6_SIZE;
        break;
    case SOH_VALUE_CODES:
        if ((status = check_codes(len))) return status;
        out->count = len / CODE_SIZE;
        break;
    case SOH_VALUE_DATETIME:
        if (len != DATETIME_SIZE) return SOH_ERR_BAD_TIME_LENGTH;
        out->datetime = soh_get64(value);
        return SOH_OK;
    case SOH_VALUE_VENDOR:
        return decode_vendor(value, len, out);
    case SOH_VALUE_UINT8:
        if (len != 1) return SOH_ERR_BAD_BYTE_ATTR_LENGTH;
        out->uint8 = value[0];
        return check_uint8(out->type, out->uint8);
    case SOH_VALUE_OCTETS:
        if (len > SOH_MAX_ATTRIBUTE_SIZE) return SOH_ERR_ATTR_TOO_LONG;
        out->count = len;
        break;
    }
    out->data = len ? value : NULL;
    return SOH_OK;
}

enum soh_status soh_attr_decode(uint16_t type, const uint8_t *value, uint16_t len, struct soh_attr_value *out)
{
    enum soh_status status;

    if (!out) return SOH_ERR_BAD_ARGUMENT;
    memset(out, 0, sizeof(*out));
    if (!value && len) return SOH_ERR_BAD_ARGUMENT;
    out->type = type & SOH_TLV_TYPE_MASK; /* M and R are ignored on receipt */
    out->kind = soh_attr_kind(out->type);
    if ((status = decode_value(value, len, out))) memset(out, 0, sizeof(*out));
    return status;
}

/* Size of the value an encoder would write, after checking the fields it
 * reads; the decoder's rules, applied to the caller's struct. */
static enum soh_status value_size(uint16_t type, const struct soh_attr_value *v, size_t *size)
{
    enum soh_status status = SOH_OK;

    switch (soh_attr_kind(type))
    {
    case SOH_VALUE_ID: *size = 4; return SOH_OK;
    case SOH_VALUE_DATETIME: *size = DATETIME_SIZE; return SOH_OK;
    case SOH_VALUE_UINT8: *size = 1; return check_uint8(type, v->uint8);
    case SOH_VALUE_IPV4:
        *size = (size_t)v->count * IPV4_SIZE;
        status = check_addresses(*size, IPV4_SIZE, SOH_MAX_IPV4_COUNT);
        break;
    case SOH_VALUE_IPV6:
        *size = (size_t)v->count * IPV6_SIZE;
        status = check_addresses(*size, IPV6_SIZE, SOH_MAX_IPV6_COUNT);
        break;
    case SOH_VALUE_CODES:
        *size = (size_t)v->count * CODE_SIZE;
        status = check_codes(*size);
        break;
    case SOH_VALUE_VENDOR:
        if ((status = check_vendor_id(v->vendor_id))) return status;
        if (v->count > SOH_MAX_VENDOR_DATA) return SOH_ERR_VENDOR_DATA_TOO_LONG;
        *size = VENDOR_ID_SIZE + (size_t)v->count;
        break;
    case SOH_VALUE_OCTETS:
        if (v->count > SOH_MAX_ATTRIBUTE_SIZE) return SOH_ERR_ATTR_TOO_LONG;
        *size = v->count;
        break;
    }
    if (!status && v->count && !v->data) status = SOH_ERR_BAD_ARGUMENT;
    return status;
}

/* The kind follows from the type; value->kind is not consulted, so a caller
 * cannot make the two disagree on the wire. */
enum soh_status soh_attr_encode(const struct soh_attr_value *value, uint8_t *out, size_t cap, size_t *len)
{
    struct soh_writer w = { out, cap, 0 };
    enum soh_status status;
    uint16_t type;
    size_t size = 0;

    if (!value || !len || (!out && cap)) return SOH_ERR_BAD_ARGUMENT;
    type = value->type & SOH_TLV_TYPE_MASK; /* M and R are sent as 0 */
    if ((status = value_size(type, value, &size))) return status;

    soh_put16(&w, type);
    soh_put16(&w, (uint16_t)size);
    switch (soh_attr_kind(type))
    {
    case SOH_VALUE_ID: soh_put32(&w, value->id); break;
    case SOH_VALUE_DATETIME: soh_put64(&w, value->datetime); break;
    case SOH_VALUE_UINT8: soh_put8(&w, value->uint8); break;
    case SOH_VALUE_VENDOR:
        soh_put32(&w, value->vendor_id);
        soh_put_bytes(&w, value->data, value->count);
        break;
    default: /* addresses, codes and octets are kept in wire order */
        soh_put_bytes(&w, value->data, size);
        break;
    }
    *len = w.pos;
    return w.pos > cap ? SOH_ERR_NO_SPACE : SOH_OK;
}

uint32_t soh_attr_code(const struct soh_attr_value *value, uint16_t i)
{
    if (!value || value->kind != SOH_VALUE_CODES || i >= value->count || !value->data) return 0;
    return soh_get32(value->data + (size_t)i * CODE_SIZE);
}

/* What soh_sha_validate has seen so far. */
struct sha_walk
{
    unsigned int tlvs;
    unsigned int ipv4_lists, ipv6_lists;
    int has_result;
};

/* The System-Health-Id comes first, and only there: a second one would start
 * another SHA's SoH (it is a group separator), so it counts as a split. */
static enum soh_status check_position(const struct sha_walk *walk, uint16_t type)
{
    int first = walk->tlvs == 1;

    if (first != (type == SOH_ATTR_SYSTEM_HEALTH_ID))
        return first ? SOH_ERR_ENTRY_NO_SYSTEM_HEALTH_ID : SOH_ERR_ENTRY_SPLIT;
    return SOH_OK;
}

/* The SoH structure's page says a response "may contain at most one Ipv4FixupServers or
 * Ipv6FixupServers TLV"; we read it as at most one of each, since a server
 * may well offer both address families. */
static enum soh_status count_tlv(struct sha_walk *walk, uint16_t type, int is_request)
{
    switch (type)
    {
    case SOH_ATTR_COMPLIANCE_RESULT_CODES:
    case SOH_ATTR_ERROR_CODES:
    case SOH_ATTR_FAILURE_CATEGORY:
        walk->has_result = 1;
        break;
    case SOH_ATTR_IPV4_FIXUP_SERVERS:
        if (++walk->ipv4_lists > 1 && !is_request) return SOH_ERR_DUPLICATE_FIXUP_SERVERS;
        break;
    case SOH_ATTR_IPV6_FIXUP_SERVERS:
        if (++walk->ipv6_lists > 1 && !is_request) return SOH_ERR_DUPLICATE_FIXUP_SERVERS;
        break;
    }
    return SOH_OK;
}

/* Only a response must carry a result: the SoH Windows' own agent sends
 * (MS-WSH §2.2.2) has no ComplianceResultCodes, ErrorCodes or FailureCategory. */
enum soh_status soh_sha_validate(const uint8_t *tlvs, size_t len, int is_request)
{
    struct soh_reader r = { tlvs, len, 0 };
    struct sha_walk walk = { 0 };
    enum soh_status status;

    if (!tlvs && len) return SOH_ERR_BAD_ARGUMENT;
    if (!len) return SOH_ERR_ENTRY_NO_SYSTEM_HEALTH_ID;
    while (soh_left(&r))
    {
        struct soh_attr_value v;
        const uint8_t *head, *value;
        uint16_t type, value_len;

        if (!(head = soh_take(&r, 4))) return SOH_ERR_TLV_TRUNCATED;
        type = soh_get16(head) & SOH_TLV_TYPE_MASK;
        value_len = soh_get16(head + 2);
        if (!(value = soh_take(&r, value_len))) return SOH_ERR_TLV_TRUNCATED;
        if (++walk.tlvs > SOH_MAX_ATTRIBUTES) return SOH_ERR_TOO_MANY_TLVS;
        if ((status = check_position(&walk, type))) return status;
        if ((status = soh_attr_decode(type, value, value_len, &v))) return status;
        if ((status = count_tlv(&walk, type, is_request))) return status;
    }
    if (!is_request && !walk.has_result) return SOH_ERR_MISSING_RESULT;
    return SOH_OK;
}
