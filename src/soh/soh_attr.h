/*
 * Per-SHA SoH attributes (TLV types 2-16): typed values and the packet rules
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_SOH_ATTR_H
#define NAP_SOH_ATTR_H

#include "soh.h"

/* SoHAttributeType (napprotocol.h). */
enum soh_attr_type
{
    SOH_ATTR_SYSTEM_HEALTH_ID = 2,
    SOH_ATTR_IPV4_FIXUP_SERVERS = 3,
    SOH_ATTR_COMPLIANCE_RESULT_CODES = 4,
    SOH_ATTR_TIME_OF_LAST_UPDATE = 5,
    SOH_ATTR_CLIENT_ID = 6,
    SOH_ATTR_VENDOR_SPECIFIC = 7,
    SOH_ATTR_HEALTH_CLASS = 8,
    SOH_ATTR_SOFTWARE_VERSION = 9,
    SOH_ATTR_PRODUCT_NAME = 10,
    SOH_ATTR_HEALTH_CLASS_STATUS = 11,
    SOH_ATTR_SOH_GENERATION_TIME = 12,
    SOH_ATTR_ERROR_CODES = 13,
    SOH_ATTR_FAILURE_CATEGORY = 14,
    SOH_ATTR_IPV6_FIXUP_SERVERS = 15,
    SOH_ATTR_EXTENDED_ISOLATION_STATE = 16,
};

#define SOH_MAX_VENDOR_DATA 3996   /* maxSoHAttributeSize - the 4-byte vendor id */
#define SOH_MAX_IPV4_COUNT 1000
#define SOH_MAX_IPV6_COUNT 250
#define SOH_MAX_CODE_COUNT 1000

/* Which member of SoHAttributeValue a type uses. */
enum soh_value_kind
{
    SOH_VALUE_ID,          /* idVal: 4 bytes */
    SOH_VALUE_IPV4,        /* v4AddressesVal: n x 4 bytes, n >= 1 */
    SOH_VALUE_CODES,       /* codesVal: n x 4-byte HRESULT, big-endian on the wire */
    SOH_VALUE_DATETIME,    /* dateTimeVal: 8-byte FILETIME, big-endian */
    SOH_VALUE_VENDOR,      /* vendorSpecificVal: 4-byte vendor id + data */
    SOH_VALUE_UINT8,       /* uint8Val: 1 byte */
    SOH_VALUE_IPV6,        /* v6AddressesVal: n x 16 bytes, n >= 1 */
    SOH_VALUE_OCTETS,      /* octetStringVal: anything, also every unknown type */
};
enum soh_value_kind soh_attr_kind(uint16_t type);

/* A decoded attribute value.  Pointers point into the bytes that were decoded
 * (or, for encoding, into the caller's data); multi-byte items stay in wire
 * order there and are read with the helpers below. */
struct soh_attr_value
{
    uint16_t type;              /* flags masked off */
    enum soh_value_kind kind;
    uint32_t id;                /* SOH_VALUE_ID */
    uint64_t datetime;          /* SOH_VALUE_DATETIME */
    uint8_t uint8;              /* SOH_VALUE_UINT8 */
    uint32_t vendor_id;         /* SOH_VALUE_VENDOR */
    uint16_t count;             /* items: addresses, codes; bytes for octets / vendor data */
    const uint8_t *data;        /* IPV4 / IPV6 / CODES / VENDOR data / OCTETS */
};

/* Strict per-type decoding of one TLV value (len = its Length field). */
enum soh_status soh_attr_decode(uint16_t type, const uint8_t *value, uint16_t len, struct soh_attr_value *out);
/* Encodes a whole TLV (type, length, value); SOH_ERR_NO_SPACE when cap is short
 * (*len then holds the size needed).  The kind follows from value->type
 * (value->kind is not read) and the M/R flag bits are always sent as 0. */
enum soh_status soh_attr_encode(const struct soh_attr_value *value, uint8_t *out, size_t cap, size_t *len);
/* Item i (0-based) of a CODES value, as a host-order 32-bit value; 0 when i
 * is out of range or value is not a CODES value. */
uint32_t soh_attr_code(const struct soh_attr_value *value, uint16_t i);

/* The rules of one SHA's or SHV's SoH (a run of TLVs that must fill len
 * exactly): System-Health-Id first and only there; at most
 * maxSoHAttributeCount TLVs; every value valid for its type; in a response
 * at most one Ipv4FixupServers and at most one Ipv6FixupServers TLV, and a
 * ComplianceResultCodes/ErrorCodes or a FailureCategory TLV (docs/codec.md
 * explains why requests need neither). */
enum soh_status soh_sha_validate(const uint8_t *tlvs, size_t len, int is_request);

#endif
