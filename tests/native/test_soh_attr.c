/*
 * CMocka tests for the per-SHA SoH attributes (src/soh/soh_attr.c)
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "soh_attr.h"

#define SAMPLE_SHA 0x000137f0u
#define WSH_ID 0x00013780u

/* Big enough for the largest TLV runs built below (101 TLVs, 4001-byte values). */
static uint8_t big[8192];
static uint8_t out[8192];

/* A run of TLVs under construction. */
struct run
{
    uint8_t buf[8192];
    size_t len;
};

static void add_tlv(struct run *run, uint16_t type, const void *value, uint16_t len)
{
    assert_true(run->len + 4 + len <= sizeof(run->buf));
    run->buf[run->len++] = (uint8_t)(type >> 8);
    run->buf[run->len++] = (uint8_t)type;
    run->buf[run->len++] = (uint8_t)(len >> 8);
    run->buf[run->len++] = (uint8_t)len;
    if (len) memcpy(run->buf + run->len, value, len);
    run->len += len;
}

static void add_id(struct run *run, uint32_t id)
{
    const uint8_t value[4] = { (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id };

    add_tlv(run, SOH_ATTR_SYSTEM_HEALTH_ID, value, sizeof(value));
}

static void add_byte(struct run *run, uint16_t type, uint8_t value)
{
    add_tlv(run, type, &value, 1);
}

static enum soh_status decode(uint16_t type, const void *value, uint16_t len, struct soh_attr_value *v)
{
    return soh_attr_decode(type, value, len, v);
}

/* Decode value, check the decoder accepted it, re-encode, compare the TLV. */
static void check_round_trip(uint16_t type, const uint8_t *value, uint16_t len)
{
    struct soh_attr_value v;
    size_t n;

    assert_int_equal(decode(type, value, len, &v), SOH_OK);
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_OK);
    assert_int_equal(n, 4 + (size_t)len);
    assert_int_equal(out[0] << 8 | out[1], type & SOH_TLV_TYPE_MASK);
    assert_int_equal(out[2] << 8 | out[3], len);
    if (len) assert_memory_equal(out + 4, value, len);
}

/* Encode v and compare with the expected TLV bytes, then decode them back. */
static void check_encoding(const struct soh_attr_value *v, const uint8_t *expect, size_t expect_len)
{
    struct soh_attr_value back;
    size_t n;

    assert_int_equal(soh_attr_encode(v, out, sizeof(out), &n), SOH_OK);
    assert_int_equal(n, expect_len);
    assert_memory_equal(out, expect, expect_len);
    assert_int_equal(decode(out[0] << 8 | out[1], out + 4, (uint16_t)(n - 4), &back), SOH_OK);
    assert_int_equal(back.type, v->type & SOH_TLV_TYPE_MASK);
    assert_int_equal(back.kind, soh_attr_kind(v->type));
}

static void test_kinds(void **state)
{
    static const enum soh_value_kind kinds[17] =
    {
        SOH_VALUE_OCTETS, SOH_VALUE_OCTETS, SOH_VALUE_ID, SOH_VALUE_IPV4, SOH_VALUE_CODES,
        SOH_VALUE_DATETIME, SOH_VALUE_OCTETS, SOH_VALUE_VENDOR, SOH_VALUE_UINT8, SOH_VALUE_OCTETS,
        SOH_VALUE_OCTETS, SOH_VALUE_OCTETS, SOH_VALUE_DATETIME, SOH_VALUE_CODES, SOH_VALUE_UINT8,
        SOH_VALUE_IPV6, SOH_VALUE_UINT8,
    };
    uint16_t type;

    (void)state;
    for (type = 0; type < 17; type++) assert_int_equal(soh_attr_kind(type), kinds[type]);
    assert_int_equal(soh_attr_kind(17), SOH_VALUE_OCTETS);
    assert_int_equal(soh_attr_kind(0x3fff), SOH_VALUE_OCTETS);
    /* flag bits do not change the kind */
    assert_int_equal(soh_attr_kind(0x8000 | SOH_ATTR_IPV6_FIXUP_SERVERS), SOH_VALUE_IPV6);
    assert_int_equal(soh_attr_kind(0xc000 | SOH_ATTR_SYSTEM_HEALTH_ID), SOH_VALUE_ID);
}

/* Known answers, one per type 2-16: encode -> exact bytes, decode -> fields. */
static void test_known_id(void **state)
{
    static const uint8_t tlv[] = { 0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x37, 0xf0 };
    struct soh_attr_value v = { .type = SOH_ATTR_SYSTEM_HEALTH_ID, .id = SAMPLE_SHA };

    (void)state;
    check_encoding(&v, tlv, sizeof(tlv));
    assert_int_equal(decode(2, tlv + 4, 4, &v), SOH_OK);
    assert_int_equal(v.kind, SOH_VALUE_ID);
    assert_int_equal(v.id, SAMPLE_SHA);
}

static void test_known_ipv4(void **state)
{
    static const uint8_t addrs[] = { 192, 168, 1, 10, 10, 0, 0, 1 };
    static const uint8_t tlv[] = { 0x00, 0x03, 0x00, 0x08, 192, 168, 1, 10, 10, 0, 0, 1 };
    struct soh_attr_value v = { .type = SOH_ATTR_IPV4_FIXUP_SERVERS, .count = 2, .data = addrs };

    (void)state;
    check_encoding(&v, tlv, sizeof(tlv));
    assert_int_equal(decode(3, tlv + 4, 8, &v), SOH_OK);
    assert_int_equal(v.kind, SOH_VALUE_IPV4);
    assert_int_equal(v.count, 2);
    assert_ptr_equal(v.data, tlv + 4);
}

static void test_known_codes(void **state)
{
    /* S_OK, then NAP_E_MISSING_SOH (0x8027000F), both in wire order */
    static const uint8_t codes[] = { 0, 0, 0, 0, 0x80, 0x27, 0x00, 0x0f };
    static const uint8_t tlv4[] = { 0x00, 0x04, 0x00, 0x08, 0, 0, 0, 0, 0x80, 0x27, 0x00, 0x0f };
    static const uint8_t tlv13[] = { 0x00, 0x0d, 0x00, 0x08, 0, 0, 0, 0, 0x80, 0x27, 0x00, 0x0f };
    static const uint8_t empty[] = { 0x00, 0x04, 0x00, 0x00 };
    struct soh_attr_value v = { .type = SOH_ATTR_COMPLIANCE_RESULT_CODES, .count = 2, .data = codes };

    (void)state;
    check_encoding(&v, tlv4, sizeof(tlv4));
    v.type = SOH_ATTR_ERROR_CODES;
    check_encoding(&v, tlv13, sizeof(tlv13));

    assert_int_equal(decode(13, tlv13 + 4, 8, &v), SOH_OK);
    assert_int_equal(v.kind, SOH_VALUE_CODES);
    assert_int_equal(v.count, 2);
    assert_int_equal(soh_attr_code(&v, 0), 0);
    assert_int_equal(soh_attr_code(&v, 1), 0x8027000fu);
    assert_int_equal(soh_attr_code(&v, 2), 0); /* out of range */
    assert_int_equal(soh_attr_code(NULL, 0), 0);

    /* ResultCodes.count may be 0 */
    v.type = SOH_ATTR_COMPLIANCE_RESULT_CODES;
    v.count = 0;
    v.data = NULL;
    check_encoding(&v, empty, sizeof(empty));
    assert_int_equal(decode(4, NULL, 0, &v), SOH_OK);
    assert_int_equal(v.count, 0);
    assert_null(v.data);
}

static void test_known_datetime(void **state)
{
    static const uint8_t tlv5[] = { 0x00, 0x05, 0x00, 0x08, 0x01, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x78 };
    static const uint8_t tlv12[] = { 0x00, 0x0c, 0x00, 0x08, 0x01, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x78 };
    struct soh_attr_value v = { .type = SOH_ATTR_TIME_OF_LAST_UPDATE, .datetime = 0x01d2c3b4a5968778ull };

    (void)state;
    check_encoding(&v, tlv5, sizeof(tlv5));
    v.type = SOH_ATTR_SOH_GENERATION_TIME;
    check_encoding(&v, tlv12, sizeof(tlv12));
    assert_int_equal(decode(12, tlv12 + 4, 8, &v), SOH_OK);
    assert_int_equal(v.kind, SOH_VALUE_DATETIME);
    assert_true(v.datetime == 0x01d2c3b4a5968778ull);
}

static void test_known_vendor(void **state)
{
    static const uint8_t data[] = { 0xde, 0xad, 0xbe, 0xef, 0x42 };
    static const uint8_t tlv[] = { 0x00, 0x07, 0x00, 0x09, 0x00, 0x00, 0x01, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x42 };
    static const uint8_t bare[] = { 0x00, 0x07, 0x00, 0x04, 0x00, 0xff, 0xff, 0xff };
    struct soh_attr_value v = { .type = SOH_ATTR_VENDOR_SPECIFIC, .vendor_id = SOH_MS_VENDOR_ID,
                                .count = sizeof(data), .data = data };

    (void)state;
    check_encoding(&v, tlv, sizeof(tlv));
    assert_int_equal(decode(7, tlv + 4, 9, &v), SOH_OK);
    assert_int_equal(v.kind, SOH_VALUE_VENDOR);
    assert_int_equal(v.vendor_id, SOH_MS_VENDOR_ID);
    assert_int_equal(v.count, 5);
    assert_ptr_equal(v.data, tlv + 8);

    /* a vendor id alone, the largest one allowed */
    v.vendor_id = 0x00ffffff;
    v.count = 0;
    v.data = NULL;
    check_encoding(&v, bare, sizeof(bare));
}

static void test_known_uint8(void **state)
{
    static const uint8_t tlv8[] = { 0x00, 0x08, 0x00, 0x01, 0x02 };
    static const uint8_t tlv14[] = { 0x00, 0x0e, 0x00, 0x01, 0x05 };
    static const uint8_t tlv16[] = { 0x00, 0x10, 0x00, 0x01, 0x03 };
    struct soh_attr_value v = { .type = SOH_ATTR_HEALTH_CLASS, .uint8 = 2 }; /* AntiVirus */
    unsigned int value;

    (void)state;
    check_encoding(&v, tlv8, sizeof(tlv8));
    v.type = SOH_ATTR_FAILURE_CATEGORY;
    v.uint8 = 5; /* ServerCommunication, the largest */
    check_encoding(&v, tlv14, sizeof(tlv14));
    v.type = SOH_ATTR_EXTENDED_ISOLATION_STATE;
    v.uint8 = 3; /* Unknown, the largest */
    check_encoding(&v, tlv16, sizeof(tlv16));

    assert_int_equal(decode(14, tlv14 + 4, 1, &v), SOH_OK);
    assert_int_equal(v.kind, SOH_VALUE_UINT8);
    assert_int_equal(v.uint8, 5);

    /* HealthClass: named values and reserved ones alike */
    for (value = 0; value < 256; value++)
    {
        uint8_t b = (uint8_t)value;
        assert_int_equal(decode(SOH_ATTR_HEALTH_CLASS, &b, 1, &v), SOH_OK);
        assert_int_equal(v.uint8, b);
    }
}

static void test_known_ipv6(void **state)
{
    static const uint8_t tlv[] =
    {
        0x00, 0x0f, 0x00, 0x10,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    };
    struct soh_attr_value v = { .type = SOH_ATTR_IPV6_FIXUP_SERVERS, .count = 1, .data = tlv + 4 };

    (void)state;
    check_encoding(&v, tlv, sizeof(tlv));
    assert_int_equal(decode(15, tlv + 4, 16, &v), SOH_OK);
    assert_int_equal(v.kind, SOH_VALUE_IPV6);
    assert_int_equal(v.count, 1);
    assert_ptr_equal(v.data, tlv + 4);
}

static void test_known_octets(void **state)
{
    /* ProductName as WSHA sends it: little-endian UTF-16 */
    static const uint8_t name[] = { 'F', 0, 'W', 0 };
    static const uint16_t types[] = { SOH_ATTR_CLIENT_ID, SOH_ATTR_SOFTWARE_VERSION, SOH_ATTR_PRODUCT_NAME,
                                      SOH_ATTR_HEALTH_CLASS_STATUS, 0, 1, 17, 0x3fff };
    uint8_t tlv[8] = { 0, 0, 0x00, 0x04, 'F', 0, 'W', 0 };
    struct soh_attr_value v = { .count = sizeof(name), .data = name };
    unsigned int i;

    (void)state;
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
    {
        v.type = types[i];
        tlv[0] = (uint8_t)(types[i] >> 8);
        tlv[1] = (uint8_t)types[i];
        check_encoding(&v, tlv, sizeof(tlv));
        assert_int_equal(decode(types[i], tlv + 4, 4, &v), SOH_OK);
        assert_int_equal(v.kind, SOH_VALUE_OCTETS);
        assert_int_equal(v.count, 4);
        assert_ptr_equal(v.data, tlv + 4);
        v.data = name;
    }
    /* empty octet strings are fine */
    assert_int_equal(decode(SOH_ATTR_CLIENT_ID, NULL, 0, &v), SOH_OK);
    assert_int_equal(v.count, 0);
}

/* Every decoding rejection, one case each. */
static void test_decode_rejections(void **state)
{
    static const uint8_t zeros[32];
    static const uint8_t bad_vendor[4] = { 0x01, 0x00, 0x01, 0x37 };
    struct soh_attr_value v;
    uint8_t b;

    (void)state;
    assert_int_equal(soh_attr_decode(2, zeros, 4, NULL), SOH_ERR_BAD_ARGUMENT);
    assert_int_equal(decode(2, NULL, 4, &v), SOH_ERR_BAD_ARGUMENT);
    assert_int_equal(decode(SOH_ATTR_SYSTEM_HEALTH_ID, zeros, 3, &v), SOH_ERR_BAD_ENTRY_ID_LENGTH);
    assert_int_equal(decode(SOH_ATTR_SYSTEM_HEALTH_ID, zeros, 5, &v), SOH_ERR_BAD_ENTRY_ID_LENGTH);
    assert_int_equal(decode(SOH_ATTR_IPV4_FIXUP_SERVERS, NULL, 0, &v), SOH_ERR_NO_ADDRESSES);
    assert_int_equal(decode(SOH_ATTR_IPV6_FIXUP_SERVERS, NULL, 0, &v), SOH_ERR_NO_ADDRESSES);
    assert_int_equal(decode(SOH_ATTR_IPV4_FIXUP_SERVERS, zeros, 5, &v), SOH_ERR_BAD_ADDRESS_LENGTH);
    assert_int_equal(decode(SOH_ATTR_IPV6_FIXUP_SERVERS, zeros, 20, &v), SOH_ERR_BAD_ADDRESS_LENGTH);
    assert_int_equal(decode(SOH_ATTR_IPV4_FIXUP_SERVERS, big, 4004, &v), SOH_ERR_TOO_MANY_ADDRESSES);
    assert_int_equal(decode(SOH_ATTR_COMPLIANCE_RESULT_CODES, zeros, 6, &v), SOH_ERR_BAD_CODES_LENGTH);
    assert_int_equal(decode(SOH_ATTR_ERROR_CODES, zeros, 1, &v), SOH_ERR_BAD_CODES_LENGTH);
    assert_int_equal(decode(SOH_ATTR_ERROR_CODES, big, 4004, &v), SOH_ERR_TOO_MANY_CODES);
    assert_int_equal(decode(SOH_ATTR_TIME_OF_LAST_UPDATE, zeros, 7, &v), SOH_ERR_BAD_TIME_LENGTH);
    assert_int_equal(decode(SOH_ATTR_SOH_GENERATION_TIME, zeros, 9, &v), SOH_ERR_BAD_TIME_LENGTH);
    assert_int_equal(decode(SOH_ATTR_VENDOR_SPECIFIC, zeros, 3, &v), SOH_ERR_VENDOR_ATTR_TOO_SHORT);
    assert_int_equal(decode(SOH_ATTR_VENDOR_SPECIFIC, bad_vendor, 4, &v), SOH_ERR_BAD_ATTR_VENDOR_ID);
    assert_int_equal(decode(SOH_ATTR_VENDOR_SPECIFIC, big, 4001, &v), SOH_ERR_VENDOR_DATA_TOO_LONG);
    assert_int_equal(decode(SOH_ATTR_HEALTH_CLASS, zeros, 0, &v), SOH_ERR_BAD_BYTE_ATTR_LENGTH);
    assert_int_equal(decode(SOH_ATTR_FAILURE_CATEGORY, zeros, 2, &v), SOH_ERR_BAD_BYTE_ATTR_LENGTH);
    b = 6;
    assert_int_equal(decode(SOH_ATTR_FAILURE_CATEGORY, &b, 1, &v), SOH_ERR_BAD_FAILURE_CATEGORY);
    b = 4;
    assert_int_equal(decode(SOH_ATTR_EXTENDED_ISOLATION_STATE, &b, 1, &v), SOH_ERR_BAD_EXT_STATE);
    assert_int_equal(decode(SOH_ATTR_PRODUCT_NAME, big, 4001, &v), SOH_ERR_ATTR_TOO_LONG);
    assert_int_equal(decode(99, big, 4001, &v), SOH_ERR_ATTR_TOO_LONG);
    /* a rejected value leaves nothing behind */
    assert_int_equal(v.type, 0);
    assert_null(v.data);
}

/* Every encoding rejection, one case each. */
static void test_encode_rejections(void **state)
{
    struct soh_attr_value v = { .type = SOH_ATTR_IPV4_FIXUP_SERVERS, .count = 0, .data = big };
    size_t n;

    (void)state;
    assert_int_equal(soh_attr_encode(NULL, out, sizeof(out), &n), SOH_ERR_BAD_ARGUMENT);
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), NULL), SOH_ERR_BAD_ARGUMENT);
    assert_int_equal(soh_attr_encode(&v, NULL, 10, &n), SOH_ERR_BAD_ARGUMENT);
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_ERR_NO_ADDRESSES);
    v.count = 1001;
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_ERR_TOO_MANY_ADDRESSES);
    v.type = SOH_ATTR_IPV6_FIXUP_SERVERS;
    v.count = 251;
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_ERR_TOO_MANY_ADDRESSES);
    v.count = 1;
    v.data = NULL;
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_ERR_BAD_ARGUMENT);
    v.type = SOH_ATTR_COMPLIANCE_RESULT_CODES;
    v.count = 1001;
    v.data = big;
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_ERR_TOO_MANY_CODES);
    v.type = SOH_ATTR_VENDOR_SPECIFIC;
    v.vendor_id = 0x01000137;
    v.count = 0;
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_ERR_BAD_ATTR_VENDOR_ID);
    v.vendor_id = SOH_MS_VENDOR_ID;
    v.count = 3997;
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_ERR_VENDOR_DATA_TOO_LONG);
    v.type = SOH_ATTR_FAILURE_CATEGORY;
    v.uint8 = 6;
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_ERR_BAD_FAILURE_CATEGORY);
    v.type = SOH_ATTR_EXTENDED_ISOLATION_STATE;
    v.uint8 = 4;
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_ERR_BAD_EXT_STATE);
    v.type = SOH_ATTR_CLIENT_ID;
    v.count = 4001;
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_ERR_ATTR_TOO_LONG);
}

static void test_no_space(void **state)
{
    static const uint8_t codes[8];
    struct soh_attr_value v = { .type = SOH_ATTR_COMPLIANCE_RESULT_CODES, .count = 2, .data = codes };
    size_t n = 0;

    (void)state;
    assert_int_equal(soh_attr_encode(&v, NULL, 0, &n), SOH_ERR_NO_SPACE);
    assert_int_equal(n, 12);
    memset(out, 0xaa, sizeof(out));
    assert_int_equal(soh_attr_encode(&v, out, 11, &n), SOH_ERR_NO_SPACE);
    assert_int_equal(n, 12);
    assert_int_equal(out[11], 0xaa); /* nothing written past cap */
    assert_int_equal(soh_attr_encode(&v, out, 12, &n), SOH_OK);
}

static void test_boundaries(void **state)
{
    struct soh_attr_value v;
    size_t n;

    (void)state;
    memset(big, 0, sizeof(big));
    assert_int_equal(decode(SOH_ATTR_COMPLIANCE_RESULT_CODES, big, 4000, &v), SOH_OK);
    assert_int_equal(v.count, 1000);
    assert_int_equal(decode(SOH_ATTR_COMPLIANCE_RESULT_CODES, big, 4004, &v), SOH_ERR_TOO_MANY_CODES);
    assert_int_equal(decode(SOH_ATTR_IPV4_FIXUP_SERVERS, big, 4000, &v), SOH_OK);
    assert_int_equal(v.count, 1000);
    assert_int_equal(decode(SOH_ATTR_IPV4_FIXUP_SERVERS, big, 4004, &v), SOH_ERR_TOO_MANY_ADDRESSES);
    assert_int_equal(decode(SOH_ATTR_IPV6_FIXUP_SERVERS, big, 4000, &v), SOH_OK);
    assert_int_equal(v.count, 250);
    assert_int_equal(decode(SOH_ATTR_IPV6_FIXUP_SERVERS, big, 4016, &v), SOH_ERR_TOO_MANY_ADDRESSES);
    assert_int_equal(decode(SOH_ATTR_VENDOR_SPECIFIC, big, 4000, &v), SOH_OK);
    assert_int_equal(v.count, 3996);
    assert_int_equal(decode(SOH_ATTR_VENDOR_SPECIFIC, big, 4001, &v), SOH_ERR_VENDOR_DATA_TOO_LONG);
    assert_int_equal(decode(SOH_ATTR_CLIENT_ID, big, 4000, &v), SOH_OK);
    assert_int_equal(v.count, 4000);
    assert_int_equal(decode(SOH_ATTR_CLIENT_ID, big, 4001, &v), SOH_ERR_ATTR_TOO_LONG);

    /* the same limits on the encoding side */
    v = (struct soh_attr_value){ .type = SOH_ATTR_ERROR_CODES, .count = 1000, .data = big };
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_OK);
    assert_int_equal(n, 4004);
    v.type = SOH_ATTR_IPV6_FIXUP_SERVERS;
    v.count = 250;
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_OK);
    assert_int_equal(n, 4004);
    v.type = SOH_ATTR_VENDOR_SPECIFIC;
    v.count = 3996;
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_OK);
    assert_int_equal(n, 4004);
    v.type = SOH_ATTR_HEALTH_CLASS_STATUS;
    v.count = 4000;
    assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_OK);
    assert_int_equal(n, 4004);
}

/* M and R are ignored on receipt and sent as 0. */
static void test_flags_masked(void **state)
{
    static const uint8_t id[4] = { 0x00, 0x01, 0x37, 0xf0 };
    static const uint8_t tlv[] = { 0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x37, 0xf0 };
    uint16_t flags[] = { 0x8000, 0x4000, 0xc000 };
    struct soh_attr_value v;
    unsigned int i;
    size_t n;

    (void)state;
    for (i = 0; i < 3; i++)
    {
        assert_int_equal(decode(flags[i] | SOH_ATTR_SYSTEM_HEALTH_ID, id, 4, &v), SOH_OK);
        assert_int_equal(v.type, SOH_ATTR_SYSTEM_HEALTH_ID);
        assert_int_equal(v.id, SAMPLE_SHA);
        v.type |= flags[i];
        assert_int_equal(soh_attr_encode(&v, out, sizeof(out), &n), SOH_OK);
        assert_int_equal(n, sizeof(tlv));
        assert_memory_equal(out, tlv, sizeof(tlv));
    }
}

/* encode(decode(x)) == x for a value of every kind; kind is derived, not read. */
static void test_round_trips(void **state)
{
    static const uint8_t bytes[48] = { 0x00, 0x00, 0x01, 0x37, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    static const uint8_t byte_values[] = { 0, 1, 2, 3 };
    struct soh_attr_value v = { .type = SOH_ATTR_SYSTEM_HEALTH_ID, .kind = SOH_VALUE_OCTETS, .id = 7 };
    static const uint8_t seven[] = { 0x00, 0x02, 0x00, 0x04, 0, 0, 0, 7 };
    uint16_t type;
    unsigned int i;

    (void)state;
    check_round_trip(SOH_ATTR_SYSTEM_HEALTH_ID, bytes, 4);
    check_round_trip(SOH_ATTR_IPV4_FIXUP_SERVERS, bytes, 12);
    check_round_trip(SOH_ATTR_COMPLIANCE_RESULT_CODES, bytes, 0);
    check_round_trip(SOH_ATTR_COMPLIANCE_RESULT_CODES, bytes, 16);
    check_round_trip(SOH_ATTR_TIME_OF_LAST_UPDATE, bytes, 8);
    check_round_trip(SOH_ATTR_VENDOR_SPECIFIC, bytes, 20);
    check_round_trip(SOH_ATTR_VENDOR_SPECIFIC, bytes, 4);
    check_round_trip(SOH_ATTR_IPV6_FIXUP_SERVERS, bytes, 48);
    for (type = 0; type <= 17; type++)
        if (soh_attr_kind(type) == SOH_VALUE_OCTETS) check_round_trip(type, bytes, sizeof(bytes));
    for (i = 0; i < sizeof(byte_values); i++)
    {
        check_round_trip(SOH_ATTR_HEALTH_CLASS, byte_values + i, 1);
        check_round_trip(SOH_ATTR_FAILURE_CATEGORY, byte_values + i, 1);
        check_round_trip(SOH_ATTR_EXTENDED_ISOLATION_STATE, byte_values + i, 1);
    }
    check_round_trip(0x8000 | SOH_ATTR_ERROR_CODES, bytes, 8);
    check_encoding(&v, seven, sizeof(seven)); /* the wrong kind is ignored */
}

/* the worked example (docs/nap-facts.md, Wire layout): the SHA's entry of the 152-byte request */
static const uint8_t example_entry[] =
{
    0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x37, 0xf0,
    0x00, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
};

static void test_validate_examples(void **state)
{
    static const uint8_t codes8[8] = { 0, 0, 0, 0, 0xc0, 0x00, 0x00, 0x01 };
    static const uint8_t wsha_flag[8] = { 0x00, 0x00, 0x01, 0x37, 0x01, 0x00, 0x00, 0x00 };
    static const uint8_t status[4] = { 0x00, 0xff, 0x00, 0x01 };
    static const uint8_t name[] = { 'F', 0, 'W', 0 };
    struct run run;
    int i;

    (void)state;
    assert_int_equal(soh_sha_validate(example_entry, sizeof(example_entry), 1), SOH_OK);
    assert_int_equal(soh_sha_validate(example_entry, sizeof(example_entry), 0), SOH_OK);

    /* [MS-WSH] 2.2.3: WSHV answers with System-Health-Id,
     * ComplianceResultCodes of length 4 or 8, or a FailureCategory of 2 */
    memset(&run, 0, sizeof(run));
    add_id(&run, WSH_ID);
    add_tlv(&run, SOH_ATTR_COMPLIANCE_RESULT_CODES, codes8, 4);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_OK);
    memset(&run, 0, sizeof(run));
    add_id(&run, WSH_ID);
    add_tlv(&run, SOH_ATTR_COMPLIANCE_RESULT_CODES, codes8, 8);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_OK);
    memset(&run, 0, sizeof(run));
    add_id(&run, WSH_ID);
    add_byte(&run, SOH_ATTR_FAILURE_CATEGORY, 2);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_OK);
    add_tlv(&run, SOH_ATTR_COMPLIANCE_RESULT_CODES, codes8, 8);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_OK);

    /* the shape of a WSHA request (MS-WSH §2.2.2): vendor-specific flag and
     * version, then per health class its product name and status; no result */
    memset(&run, 0, sizeof(run));
    add_id(&run, WSH_ID);
    add_tlv(&run, SOH_ATTR_VENDOR_SPECIFIC, wsha_flag, sizeof(wsha_flag));
    add_tlv(&run, SOH_ATTR_VENDOR_SPECIFIC, wsha_flag, sizeof(wsha_flag));
    for (i = 0; i < 3; i++)
    {
        add_byte(&run, SOH_ATTR_HEALTH_CLASS, (uint8_t)i);
        add_tlv(&run, SOH_ATTR_PRODUCT_NAME, name, sizeof(name));
        add_tlv(&run, SOH_ATTR_HEALTH_CLASS_STATUS, status, sizeof(status));
    }
    assert_int_equal(soh_sha_validate(run.buf, run.len, 1), SOH_OK);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_ERR_MISSING_RESULT);
}

static void test_validate_every_type(void **state)
{
    static const uint8_t zeros[16];
    struct run run;
    uint16_t type;

    (void)state;
    memset(&run, 0, sizeof(run));
    add_id(&run, SAMPLE_SHA);
    add_tlv(&run, SOH_ATTR_IPV4_FIXUP_SERVERS, zeros, 4);
    add_tlv(&run, SOH_ATTR_COMPLIANCE_RESULT_CODES, zeros, 4);
    add_tlv(&run, SOH_ATTR_TIME_OF_LAST_UPDATE, zeros, 8);
    add_tlv(&run, SOH_ATTR_CLIENT_ID, zeros, 3);
    add_tlv(&run, SOH_ATTR_VENDOR_SPECIFIC, zeros, 6);
    add_byte(&run, SOH_ATTR_HEALTH_CLASS, 128);
    add_tlv(&run, SOH_ATTR_SOFTWARE_VERSION, zeros, 1);
    add_tlv(&run, SOH_ATTR_PRODUCT_NAME, zeros, 0);
    add_tlv(&run, SOH_ATTR_HEALTH_CLASS_STATUS, zeros, 4);
    add_tlv(&run, SOH_ATTR_SOH_GENERATION_TIME, zeros, 8);
    add_tlv(&run, SOH_ATTR_ERROR_CODES, zeros, 0);
    add_byte(&run, SOH_ATTR_FAILURE_CATEGORY, 0);
    add_tlv(&run, SOH_ATTR_IPV6_FIXUP_SERVERS, zeros, 16);
    add_byte(&run, SOH_ATTR_EXTENDED_ISOLATION_STATE, 0);
    for (type = 17; type < 20; type++) add_tlv(&run, type, zeros, 2);
    add_tlv(&run, 0xc000 | SOH_ATTR_CLIENT_ID, zeros, 2);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 1), SOH_OK);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_OK);
}

/* Every rejection of soh_sha_validate, one case each. */
static void test_validate_rejections(void **state)
{
    static const uint8_t zeros[16];
    struct run run;

    (void)state;
    assert_int_equal(soh_sha_validate(NULL, 4, 1), SOH_ERR_BAD_ARGUMENT);
    assert_int_equal(soh_sha_validate(NULL, 0, 1), SOH_ERR_ENTRY_NO_SYSTEM_HEALTH_ID);
    assert_int_equal(soh_sha_validate(example_entry + 8, 8, 1), SOH_ERR_ENTRY_NO_SYSTEM_HEALTH_ID);
    /* every truncation of the example: a TLV header or value cut short */
    assert_int_equal(soh_sha_validate(example_entry, 3, 1), SOH_ERR_TLV_TRUNCATED);
    assert_int_equal(soh_sha_validate(example_entry, 7, 1), SOH_ERR_TLV_TRUNCATED);
    assert_int_equal(soh_sha_validate(example_entry, 10, 1), SOH_ERR_TLV_TRUNCATED);
    assert_int_equal(soh_sha_validate(example_entry, 15, 1), SOH_ERR_TLV_TRUNCATED);

    memset(&run, 0, sizeof(run));
    add_tlv(&run, SOH_ATTR_SYSTEM_HEALTH_ID, zeros, 3);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 1), SOH_ERR_BAD_ENTRY_ID_LENGTH);

    memset(&run, 0, sizeof(run));
    add_id(&run, SAMPLE_SHA);
    add_tlv(&run, SOH_ATTR_COMPLIANCE_RESULT_CODES, zeros, 4);
    add_id(&run, SAMPLE_SHA + 1);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 1), SOH_ERR_ENTRY_SPLIT);

    memset(&run, 0, sizeof(run));
    add_id(&run, SAMPLE_SHA);
    add_byte(&run, SOH_ATTR_FAILURE_CATEGORY, 9);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 1), SOH_ERR_BAD_FAILURE_CATEGORY);

    memset(&run, 0, sizeof(run));
    add_id(&run, SAMPLE_SHA);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_ERR_MISSING_RESULT);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 1), SOH_OK);
}

/* At most one IPv4 and at most one IPv6 list in a response; any in a request. */
static void test_validate_fixup_servers(void **state)
{
    static const uint8_t zeros[16];
    struct run run;

    (void)state;
    memset(&run, 0, sizeof(run));
    add_id(&run, SAMPLE_SHA);
    add_byte(&run, SOH_ATTR_FAILURE_CATEGORY, 1);
    add_tlv(&run, SOH_ATTR_IPV4_FIXUP_SERVERS, zeros, 4);
    add_tlv(&run, SOH_ATTR_IPV6_FIXUP_SERVERS, zeros, 16);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_OK);
    add_tlv(&run, SOH_ATTR_IPV6_FIXUP_SERVERS, zeros, 16);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_ERR_DUPLICATE_FIXUP_SERVERS);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 1), SOH_OK);

    memset(&run, 0, sizeof(run));
    add_id(&run, SAMPLE_SHA);
    add_byte(&run, SOH_ATTR_FAILURE_CATEGORY, 1);
    add_tlv(&run, SOH_ATTR_IPV4_FIXUP_SERVERS, zeros, 4);
    add_tlv(&run, 0x8000 | SOH_ATTR_IPV4_FIXUP_SERVERS, zeros, 8); /* flags do not hide it */
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_ERR_DUPLICATE_FIXUP_SERVERS);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 1), SOH_OK);
}

/* maxSoHAttributeCount: 100 TLVs, the System-Health-Id included. */
static void test_validate_tlv_count(void **state)
{
    static const uint8_t zeros[4];
    struct run run;
    int i;

    (void)state;
    memset(&run, 0, sizeof(run));
    add_id(&run, SAMPLE_SHA);
    add_tlv(&run, SOH_ATTR_COMPLIANCE_RESULT_CODES, zeros, 4);
    for (i = 2; i < 100; i++) add_byte(&run, SOH_ATTR_HEALTH_CLASS, (uint8_t)i);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_OK);
    add_byte(&run, SOH_ATTR_HEALTH_CLASS, 0);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_ERR_TOO_MANY_TLVS);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 1), SOH_ERR_TOO_MANY_TLVS);
}

/* The largest values inside an SoH: each limit met, then passed by one. */
static void test_validate_large_values(void **state)
{
    static struct run run;

    (void)state;
    memset(big, 0, sizeof(big));
    memset(&run, 0, sizeof(run));
    add_id(&run, SAMPLE_SHA);
    add_tlv(&run, SOH_ATTR_COMPLIANCE_RESULT_CODES, big, 4000);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_OK);
    run.len = 8;
    add_tlv(&run, SOH_ATTR_COMPLIANCE_RESULT_CODES, big, 4004);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 0), SOH_ERR_TOO_MANY_CODES);
    run.len = 8;
    add_tlv(&run, SOH_ATTR_PRODUCT_NAME, big, 4001);
    assert_int_equal(soh_sha_validate(run.buf, run.len, 1), SOH_ERR_ATTR_TOO_LONG);
}

/* Seeds for fuzz_sha_soh: a few valid per-SHA SoHs. */
static int write_seed(const char *dir, const char *name, const uint8_t *data, size_t len)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!(f = fopen(path, "wb"))) return 1;
    fwrite(data, 1, len, f);
    return fclose(f) != 0;
}

static int write_corpus(const char *dir)
{
    static const uint8_t zeros[16];
    static const uint8_t name[] = { 'F', 0, 'W', 0 };
    struct run run;
    int failed = write_seed(dir, "sha-example", example_entry, sizeof(example_entry));

    memset(&run, 0, sizeof(run));
    add_id(&run, WSH_ID);
    add_tlv(&run, SOH_ATTR_COMPLIANCE_RESULT_CODES, zeros, 8);
    add_byte(&run, SOH_ATTR_FAILURE_CATEGORY, 2);
    add_tlv(&run, SOH_ATTR_IPV4_FIXUP_SERVERS, zeros, 8);
    add_tlv(&run, SOH_ATTR_IPV6_FIXUP_SERVERS, zeros, 16);
    failed |= write_seed(dir, "sha-wshv-response", run.buf, run.len);

    memset(&run, 0, sizeof(run));
    add_id(&run, WSH_ID);
    add_tlv(&run, SOH_ATTR_VENDOR_SPECIFIC, zeros, 8);
    add_byte(&run, SOH_ATTR_HEALTH_CLASS, 0);
    add_tlv(&run, SOH_ATTR_PRODUCT_NAME, name, sizeof(name));
    add_tlv(&run, SOH_ATTR_HEALTH_CLASS_STATUS, zeros, 4);
    add_tlv(&run, SOH_ATTR_TIME_OF_LAST_UPDATE, zeros, 8);
    add_tlv(&run, SOH_ATTR_SOH_GENERATION_TIME, zeros, 8);
    add_tlv(&run, SOH_ATTR_ERROR_CODES, zeros, 4);
    add_byte(&run, SOH_ATTR_EXTENDED_ISOLATION_STATE, 1);
    add_tlv(&run, SOH_ATTR_CLIENT_ID, zeros, 6);
    add_tlv(&run, SOH_ATTR_SOFTWARE_VERSION, zeros, 1);
    failed |= write_seed(dir, "sha-every-type", run.buf, run.len);
    return failed;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_known_id),
        cmocka_unit_test(test_known_ipv4),
        cmocka_unit_test(test_known_codes),
        cmocka_unit_test(test_known_datetime),
        cmocka_unit_test(test_known_vendor),
        cmocka_unit_test(test_known_uint8),
        cmocka_unit_test(test_known_ipv6),
        cmocka_unit_test(test_known_octets),
        cmocka_unit_test(test_decode_rejections),
        cmocka_unit_test(test_encode_rejections),
        cmocka_unit_test(test_no_space),
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_flags_masked),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_validate_examples),
        cmocka_unit_test(test_validate_every_type),
        cmocka_unit_test(test_validate_rejections),
        cmocka_unit_test(test_validate_fixup_servers),
        cmocka_unit_test(test_validate_tlv_count),
        cmocka_unit_test(test_validate_large_values),
    };

    if (argc == 3 && !strcmp(argv[1], "--write-corpus")) return write_corpus(argv[2]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
