/*
 * CMocka tests for the SoH encoder and decoder (src/soh)
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

#include "soh.h"

/* the worked example (docs/nap-facts.md, Wire layout) */
static const uint8_t example[152] =
{
    0x00, 0x07, 0x00, 0x94, 0x00, 0x00, 0x01, 0x37, 0x00, 0x02, 0x00, 0x8c, 0x00, 0x07, 0x00, 0x1e,
    0x00, 0x00, 0x01, 0x37, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
    0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x01, 0x00, 0x00, 0x02,
    0x00, 0x04, 0x00, 0x01, 0x37, 0x00, 0x00, 0x07, 0x00, 0x4e, 0x00, 0x00, 0x01, 0x37, 0x03, 0x11,
    0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x1d, 0xb1, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x09, 0x05, 0x00, 0x05, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x06, 0x10, 0x11, 0x12, 0x13,
    0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
    0x24, 0x25, 0x26, 0x27, 0x02, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00,
    0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x37, 0xf0,
    0x00, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
};

/* Offsets into the example */
#define EX_MS_ATTRS 0x3e   /* first MS type-value attribute */
#define EX_MS_ATTRS_LEN 74
#define EX_QFLAGS_LOW 0x76
#define EX_URL_LEN 0x7f
#define EX_ENTRIES 0x88
#define EX_SSOH_END EX_ENTRIES

#define SAMPLE_SHV 0x000137f0u

/* Report entries for the fixtures; each struct soh_entry points here. */
static uint8_t entry_store[SOH_MAX_ENTRIES][32];

static struct soh_entry make_entry(unsigned int index, uint32_t shv_id, uint32_t code, uint8_t category)
{
    struct soh_entry entry = { shv_id, entry_store[index], 0 };
    size_t len;

    assert_int_equal(soh_encode_simple_entry(shv_id, &code, 1, category, entry_store[index],
                                             sizeof(entry_store[index]), &len), SOH_OK);
    entry.len = (uint16_t)len;
    return entry;
}

static void example_correlation(struct soh_correlation *c)
{
    static const uint8_t data4[8] = { 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f };

    c->conn_id.data1 = 0x10111213;
    c->conn_id.data2 = 0x1415;
    c->conn_id.data3 = 0x1617;
    memcpy(c->conn_id.data4, data4, sizeof(data4));
    c->timestamp = 0x2021222324252627ull;
}

static void example_request(struct soh_request *req)
{
    memset(req, 0, sizeof(*req));
    req->with_mode_header = 1;
    example_correlation(&req->correlation);
    req->machine.os_major = 6;
    req->machine.os_minor = 1;
    req->machine.os_build = 7601;
    req->machine.sp_major = 1;
    req->machine.arch = 9;
    req->machine.product_type = 1;
    strcpy(req->machine.name, "host");
    req->quarantine.state = 1;
    req->quarantine.prob_time = UINT64_MAX;
    req->quarantine.url_len = 1;
    req->entry_count = 1;
    req->entries[0] = make_entry(0, SAMPLE_SHV, 0, 0);
}

static void example_response(struct soh_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    resp->with_mode_header = 1;
    resp->has_correlation = 1;
    example_correlation(&resp->correlation);
    resp->quarantine.state = 3;
    resp->quarantine.ext_state = 2;
    resp->quarantine.fixup = 1;
    resp->quarantine.prob_time = 0x01d5000000000000ull;
    resp->quarantine.url_len = 19;
    memcpy(resp->quarantine.url, "http://fix.example/", 19);
    resp->has_installed_shvs = 1;
    resp->shv_count = 2;
    resp->shvs[0] = SAMPLE_SHV;
    resp->shvs[1] = 0x00013780;
    resp->entry_count = 1;
    resp->entries[0] = make_entry(0, SAMPLE_SHV, 0xc0ff0001, 2);
}

static enum soh_status decode_example_with(size_t offset, uint8_t value)
{
    struct soh_request req;
    uint8_t buf[sizeof(example)];

    memcpy(buf, example, sizeof(buf));
    buf[offset] = value;
    return soh_decode_request(buf, sizeof(buf), &req);
}

/* Envelope (inner type 1) + SSoH head + the given MS attributes + entries. */
static size_t build_raw(const uint8_t *attrs, size_t attrs_len, const uint8_t *entries, size_t entries_len,
                        uint8_t *out)
{
    static const uint8_t ssoh_head[] = { 0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x37, 0x00, 0x00, 0x07 };
    size_t total = 12 + sizeof(ssoh_head) + 2 + 4 + attrs_len + entries_len;
    uint8_t *p = out;

    *p++ = 0; *p++ = 7; *p++ = (uint8_t)((total - 4) >> 8); *p++ = (uint8_t)(total - 4);
    *p++ = 0; *p++ = 0; *p++ = 1; *p++ = 0x37;
    *p++ = 0; *p++ = 1; *p++ = (uint8_t)((total - 12) >> 8); *p++ = (uint8_t)(total - 12);
    memcpy(p, ssoh_head, sizeof(ssoh_head)); p += sizeof(ssoh_head);
    *p++ = (uint8_t)((attrs_len + 4) >> 8); *p++ = (uint8_t)(attrs_len + 4);
    *p++ = 0; *p++ = 0; *p++ = 1; *p++ = 0x37;
    memcpy(p, attrs, attrs_len); p += attrs_len;
    if (entries_len) memcpy(p, entries, entries_len);
    return total;
}

static enum soh_status decode_raw_request(const uint8_t *attrs, size_t attrs_len, const uint8_t *entries,
                                          size_t entries_len)
{
    static uint8_t buf[70000];
    struct soh_request req;
    size_t len = build_raw(attrs, attrs_len, entries, entries_len, buf);

    return soh_decode_request(buf, len, &req);
}

/* The example's entries area with a different report entry body. */
static enum soh_status decode_request_entries(const uint8_t *entries, size_t len)
{
    return decode_raw_request(example + EX_MS_ATTRS, EX_MS_ATTRS_LEN, entries, len);
}

/* The example's MS attributes with bytes appended or cut at the end. */
static enum soh_status decode_request_attrs(size_t keep, const uint8_t *extra, size_t extra_len)
{
    uint8_t attrs[EX_MS_ATTRS_LEN + 300];

    memcpy(attrs, example + EX_MS_ATTRS, keep);
    if (extra_len) memcpy(attrs + keep, extra, extra_len);
    return decode_raw_request(attrs, keep + extra_len, example + EX_ENTRIES, sizeof(example) - EX_ENTRIES);
}

static enum soh_status decode_raw_response(const uint8_t *attrs, size_t attrs_len)
{
    uint8_t buf[512];
    struct soh_response resp;
    size_t len = build_raw(attrs, attrs_len, NULL, 0, buf);

    return soh_decode_response(buf, len, &resp);
}

static void test_example_encode(void **state)
{
    struct soh_request req;
    uint8_t out[256];
    size_t len = 0;

    (void)state;
    example_request(&req);
    assert_int_equal(soh_encode_request(&req, out, sizeof(out), &len), SOH_OK);
    assert_int_equal(len, sizeof(example));
    assert_memory_equal(out, example, sizeof(example));
}

static void test_example_decode(void **state)
{
    struct soh_request req, expect;

    (void)state;
    example_request(&expect);
    assert_int_equal(soh_decode_request(example, sizeof(example), &req), SOH_OK);
    assert_int_equal(req.with_mode_header, 1);
    assert_int_equal(req.intent, SOH_INTENT_REQUEST);
    assert_int_equal(req.packet_info, 0x11);
    assert_int_equal(req.correlation.conn_id.data1, 0x10111213);
    assert_int_equal(req.correlation.conn_id.data2, 0x1415);
    assert_int_equal(req.correlation.conn_id.data3, 0x1617);
    assert_memory_equal(req.correlation.conn_id.data4, expect.correlation.conn_id.data4, 8);
    assert_true(req.correlation.timestamp == 0x2021222324252627ull);
    assert_int_equal(req.machine.os_major, 6);
    assert_int_equal(req.machine.os_minor, 1);
    assert_int_equal(req.machine.os_build, 7601);
    assert_int_equal(req.machine.sp_major, 1);
    assert_int_equal(req.machine.sp_minor, 0);
    assert_int_equal(req.machine.arch, 9);
    assert_int_equal(req.machine.product_type, 1);
    assert_string_equal(req.machine.name, "host");
    assert_int_equal(req.quarantine.state, 1);
    assert_int_equal(req.quarantine.ext_state, 0);
    assert_int_equal(req.quarantine.fixup, 0);
    assert_true(req.quarantine.prob_time == UINT64_MAX);
    assert_int_equal(req.quarantine.url_len, 1);
    assert_int_equal(req.quarantine.url[0], 0);
    assert_int_equal(req.inventory_ex_reserved, 0);
    assert_int_equal(req.entry_count, 1);
    assert_int_equal(req.entries[0].shv_id, SAMPLE_SHV);
    assert_int_equal(req.entries[0].len, 16);
    assert_ptr_equal(req.entries[0].tlvs, example + EX_ENTRIES);
    assert_true(soh_request_equal(&req, &expect));
}

static void check_request_round_trip(int with_mode_header, uint16_t entries)
{
    struct soh_request req, back;
    uint8_t out[SOH_MAX_NETWORK_SIZE];
    size_t len;
    uint16_t i;

    example_request(&req);
    req.with_mode_header = with_mode_header;
    req.machine.arch = 6;
    req.machine.product_type = 3;
    req.inventory_ex_reserved = 0xdecafbad;
    strcpy(req.machine.name, "workstation-17.example.org");
    req.quarantine.state = 2;
    req.quarantine.ext_state = 1;
    req.quarantine.prob_time = 0x01d9abcdef012345ull;
    req.entry_count = entries;
    for (i = 0; i < entries; i++) req.entries[i] = make_entry(i, SAMPLE_SHV + i, 0x80000000u | i, i % 6);

    assert_int_equal(soh_encode_request(&req, out, sizeof(out), &len), SOH_OK);
    assert_int_equal(soh_decode_request(out, len, &back), SOH_OK);
    assert_true(soh_request_equal(&req, &back));
    assert_int_equal(back.entry_count, entries);
}

static void test_request_round_trips(void **state)
{
    (void)state;
    check_request_round_trip(0, 0);
    check_request_round_trip(0, 1);
    check_request_round_trip(0, SOH_MAX_ENTRIES);
    check_request_round_trip(1, 0);
    check_request_round_trip(1, 1);
    check_request_round_trip(1, SOH_MAX_ENTRIES);
}

static void check_response_round_trip(int with_mode_header, int has_correlation, int has_shvs, uint16_t entries)
{
    struct soh_response resp, back;
    uint8_t out[SOH_MAX_NETWORK_SIZE];
    size_t len;
    uint16_t i;

    example_response(&resp);
    resp.with_mode_header = with_mode_header;
    resp.has_correlation = has_correlation;
    resp.has_installed_shvs = has_shvs;
    if (!has_shvs) resp.shv_count = 0;
    resp.entry_count = entries;
    for (i = 0; i < entries; i++) resp.entries[i] = make_entry(i, SAMPLE_SHV + i, i, 1 + i % 5);

    assert_int_equal(soh_encode_response(&resp, out, sizeof(out), &len), SOH_OK);
    assert_int_equal(soh_decode_response(out, len, &back), SOH_OK);
    assert_true(soh_response_equal(&resp, &back));
    assert_int_equal(back.intent, with_mode_header ? SOH_INTENT_RESPONSE : 0);
    assert_int_equal(back.packet_info, SOH_PACKET_INFO_RESPONSE);
}

static void test_response_round_trips(void **state)
{
    (void)state;
    check_response_round_trip(0, 0, 0, 0);
    check_response_round_trip(0, 1, 1, 1);
    check_response_round_trip(0, 0, 1, SOH_MAX_ENTRIES);
    check_response_round_trip(1, 1, 0, 0);
    check_response_round_trip(1, 1, 1, 1);
    check_response_round_trip(1, 1, 1, SOH_MAX_ENTRIES);
}

static void test_response_max_shvs(void **state)
{
    struct soh_response resp, back;
    uint8_t out[SOH_MAX_NETWORK_SIZE];
    size_t len;
    uint16_t i;

    (void)state;
    example_response(&resp);
    resp.shv_count = SOH_MAX_SHVS;
    for (i = 0; i < SOH_MAX_SHVS; i++) resp.shvs[i] = 0x00013700u + i;
    assert_int_equal(soh_encode_response(&resp, out, sizeof(out), &len), SOH_OK);
    assert_int_equal(soh_decode_response(out, len, &back), SOH_OK);
    assert_true(soh_response_equal(&resp, &back));
    resp.shv_count = SOH_MAX_SHVS + 1;
    assert_int_equal(soh_encode_response(&resp, out, sizeof(out), &len), SOH_ERR_TOO_MANY_SHVS);
}

/* Correlation id only in the mode sub-header, then only in the MS attribute. */
static void test_response_correlation_sources(void **state)
{
    static const uint8_t attrs[] =
    {
        0x03, 0x01, 0x02, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00,
        0x06, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
        0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
    };
    struct soh_response resp, back;
    struct soh_correlation expect;
    uint8_t buf[512];
    size_t len;

    (void)state;
    example_correlation(&expect);
    len = build_raw(attrs, sizeof(attrs), NULL, 0, buf);
    assert_int_equal(soh_decode_response(buf, len, &resp), SOH_OK);
    assert_int_equal(resp.has_correlation, 1);
    assert_int_equal(resp.with_mode_header, 0);
    assert_memory_equal(&resp.correlation.conn_id, &expect.conn_id, sizeof(expect.conn_id));

    example_response(&resp);
    assert_int_equal(soh_encode_response(&resp, buf, sizeof(buf), &len), SOH_OK);
    buf[0x14] ^= 1; /* mode sub-header copy now differs from the MS attribute */
    assert_int_equal(soh_decode_response(buf, len, &back), SOH_ERR_CORRELATION_MISMATCH);
}

static void test_flags_masked(void **state)
{
    struct soh_request req;
    uint8_t buf[sizeof(example)];
    const uint8_t *value;
    uint16_t type, value_len;
    size_t offset = 0;

    (void)state;
    memcpy(buf, example, sizeof(buf));
    buf[0x0c] |= 0xc0;       /* mode sub-header */
    buf[0x2e] |= 0x80;       /* System-Health-Id */
    buf[0x36] |= 0x40;       /* MS vendor TLV */
    buf[EX_ENTRIES] |= 0xc0; /* entry System-Health-Id */
    buf[EX_ENTRIES + 8] |= 0x80;
    assert_int_equal(soh_decode_request(buf, sizeof(buf), &req), SOH_OK);
    assert_int_equal(req.entry_count, 1);
    assert_int_equal(req.entries[0].shv_id, SAMPLE_SHV);

    assert_int_equal(soh_entry_next_tlv(&req.entries[0], &offset, &type, &value, &value_len), SOH_OK);
    assert_int_equal(type, 2);
    assert_int_equal(value_len, 4);
    assert_int_equal(soh_entry_next_tlv(&req.entries[0], &offset, &type, &value, &value_len), SOH_OK);
    assert_int_equal(type, 4);
    assert_int_equal(value_len, 4);
    assert_ptr_equal(value, buf + EX_ENTRIES + 12);
    assert_int_equal(soh_entry_next_tlv(&req.entries[0], &offset, &type, &value, &value_len), SOH_ERR_END);
    assert_int_equal(offset, 16);
}

/* Exact-size heap copies so that ASan catches any read past the end. With
 * the envelope lengths patched, a cut is valid only between the SSoH and the
 * single report entry or between that entry's first TLVs (8 and 16 bytes in). */
static void check_truncations(const uint8_t *msg, size_t len, size_t ssoh_end, int response)
{
    size_t n;

    for (n = 0; n < len; n++)
    {
        uint8_t *buf = malloc(n ? n : 1);
        struct soh_request req;
        struct soh_response resp;
        enum soh_status status;

        memcpy(buf, msg, n);
        status = response ? soh_decode_response(buf, n, &resp) : soh_decode_request(buf, n, &req);
        assert_int_not_equal(status, SOH_OK);

        /* now with consistent envelope lengths, to reach the inner parsers */
        if (n >= SOH_MIN_NETWORK_SIZE)
        {
            buf[2] = (uint8_t)((n - 4) >> 8); buf[3] = (uint8_t)(n - 4);
            buf[10] = (uint8_t)((n - 12) >> 8); buf[11] = (uint8_t)(n - 12);
            status = response ? soh_decode_response(buf, n, &resp) : soh_decode_request(buf, n, &req);
            if (n == ssoh_end || n == ssoh_end + 8 || n == ssoh_end + 16) assert_int_equal(status, SOH_OK);
            else assert_int_not_equal(status, SOH_OK);
        }
        free(buf);
    }
}

static void test_truncation(void **state)
{
    struct soh_response resp;
    uint8_t out[512];
    size_t len;

    (void)state;
    check_truncations(example, sizeof(example), EX_SSOH_END, 0);

    example_response(&resp);
    assert_int_equal(soh_encode_response(&resp, out, sizeof(out), &len), SOH_OK);
    check_truncations(out, len, len - resp.entries[0].len, 1);
}

static void test_envelope_rejections(void **state)
{
    struct soh_request req;

    (void)state;
    assert_int_equal(soh_decode_request(example, 11, &req), SOH_ERR_TOO_SHORT);
    assert_int_equal(soh_decode_request(NULL, 0, &req), SOH_ERR_TOO_SHORT);
    assert_int_equal(soh_decode_request(NULL, 12, &req), SOH_ERR_BAD_ARGUMENT);
    assert_int_equal(soh_decode_request(example, sizeof(example), NULL), SOH_ERR_BAD_ARGUMENT);
    assert_int_equal(decode_example_with(1, 8), SOH_ERR_BAD_OUTER_TYPE);
    assert_int_equal(decode_example_with(0, 0x80), SOH_ERR_BAD_OUTER_TYPE);
    assert_int_equal(decode_example_with(3, 0x95), SOH_ERR_BAD_OUTER_LENGTH);
    assert_int_equal(decode_example_with(7, 0x38), SOH_ERR_BAD_VENDOR);
    assert_int_equal(decode_example_with(9, 3), SOH_ERR_BAD_INNER_TYPE);
    assert_int_equal(decode_example_with(9, 0), SOH_ERR_BAD_INNER_TYPE);
    assert_int_equal(decode_example_with(11, 0x8b), SOH_ERR_BAD_INNER_LENGTH);
    assert_int_equal(decode_example_with(9, 1), SOH_ERR_MISSING_SYSTEM_HEALTH_ID); /* mode header read as SSoH */
    assert_int_equal(decode_example_with(0x0d, 8), SOH_ERR_BAD_MODE_HEADER);
    assert_int_equal(decode_example_with(0x0f, 0x1d), SOH_ERR_BAD_MODE_HEADER);
    assert_int_equal(decode_example_with(0x13, 0x38), SOH_ERR_BAD_MODE_HEADER);
    assert_int_equal(decode_example_with(0x2d, 1), SOH_ERR_BAD_CONTENT_TYPE);
    assert_int_equal(decode_example_with(0x2c, 0x77), SOH_OK); /* any intent */
    assert_int_equal(decode_example_with(0x14, 0x00), SOH_ERR_CORRELATION_MISMATCH);
}

static void test_too_long(void **state)
{
    static uint8_t entries[4000];
    static uint8_t buf[4200];
    struct soh_request req;
    size_t len;

    (void)state;
    memcpy(entries, example + EX_ENTRIES, 8);
    entries[9] = 9;    /* TLV type 9 ... */
    entries[10] = 0x0f; /* ... length 3900 */
    entries[11] = 0x3c;
    len = build_raw(example + EX_MS_ATTRS, EX_MS_ATTRS_LEN, entries, 12 + 3900, buf);
    assert_true(len > SOH_MAX_NETWORK_SIZE);
    assert_int_equal(soh_decode_request(buf, len, &req), SOH_ERR_TOO_LONG);
    len = build_raw(example + EX_MS_ATTRS, EX_MS_ATTRS_LEN, entries, 12 + 3900 - (len - 4000), buf);
    assert_int_equal(len, SOH_MAX_NETWORK_SIZE);
    assert_int_equal(soh_decode_request(buf, len, &req), SOH_ERR_TLV_TRUNCATED); /* stale TLV length */
}

static void test_ssoh_rejections(void **state)
{
    (void)state;
    assert_int_equal(decode_example_with(0x2f, 3), SOH_ERR_MISSING_SYSTEM_HEALTH_ID);
    assert_int_equal(decode_example_with(0x31, 5), SOH_ERR_MISSING_SYSTEM_HEALTH_ID);
    assert_int_equal(decode_example_with(0x35, 0x01), SOH_ERR_BAD_SYSTEM_ID);
    assert_int_equal(decode_example_with(0x37, 8), SOH_ERR_MISSING_MS_TLV);
    assert_int_equal(decode_example_with(0x39, 0x80), SOH_ERR_BAD_MS_LENGTH);
    assert_int_equal(decode_example_with(0x39, 0x03), SOH_ERR_BAD_MS_LENGTH);
    assert_int_equal(decode_example_with(0x3d, 0x38), SOH_ERR_BAD_MS_VENDOR);
}

static void test_ms_attr_rejections(void **state)
{
    static const uint8_t packet_info[] = { 0x03, 0x11 };
    static const uint8_t system_ids[] = { 0x04, 0x00, 0x00 };

    (void)state;
    assert_int_equal(decode_example_with(EX_MS_ATTRS, 9), SOH_ERR_UNKNOWN_MS_ATTR);
    assert_int_equal(decode_example_with(EX_MS_ATTRS, 0), SOH_ERR_UNKNOWN_MS_ATTR);
    assert_int_equal(decode_example_with(EX_MS_ATTRS, 0xff), SOH_ERR_UNKNOWN_MS_ATTR);
    assert_int_equal(decode_request_attrs(EX_MS_ATTRS_LEN, system_ids, sizeof(system_ids)),
                     SOH_ERR_UNEXPECTED_MS_ATTR);
    assert_int_equal(decode_request_attrs(EX_MS_ATTRS_LEN, packet_info, sizeof(packet_info)),
                     SOH_ERR_DUPLICATE_MS_ATTR);
    assert_int_equal(decode_request_attrs(EX_MS_ATTRS_LEN - 6, NULL, 0), SOH_ERR_MISSING_MS_ATTR);
    assert_int_equal(decode_request_attrs(EX_MS_ATTRS_LEN - 1, NULL, 0), SOH_ERR_MS_ATTR_TRUNCATED);
    assert_int_equal(decode_request_attrs(2, NULL, 0), SOH_ERR_MISSING_MS_ATTR);
    assert_int_equal(decode_request_attrs(0, NULL, 0), SOH_ERR_MISSING_MS_ATTR);
}

/* Replace the example's MachineName attribute (offsets 0x53..0x5a). */
static enum soh_status decode_machine_name(const char *name, size_t len)
{
    uint8_t attrs[EX_MS_ATTRS_LEN + 300];
    size_t head = 0x53 - EX_MS_ATTRS, tail = EX_MS_ATTRS + EX_MS_ATTRS_LEN - 0x5b, n = head;

    memcpy(attrs, example + EX_MS_ATTRS, head);
    attrs[n++] = 5;
    attrs[n++] = (uint8_t)(len >> 8);
    attrs[n++] = (uint8_t)len;
    memcpy(attrs + n, name, len);
    n += len;
    memcpy(attrs + n, example + 0x5b, tail);
    return decode_raw_request(attrs, n + tail, NULL, 0);
}

static void test_machine_name(void **state)
{
    char name[300];

    (void)state;
    memset(name, 'a', sizeof(name));
    assert_int_equal(decode_machine_name("host", 4), SOH_OK);
    assert_int_equal(decode_machine_name("", 0), SOH_OK);
    assert_int_equal(decode_machine_name(name, 255), SOH_OK);
    name[255] = 0;
    assert_int_equal(decode_machine_name(name, 256), SOH_OK);
    name[255] = 'a';
    assert_int_equal(decode_machine_name(name, 256), SOH_ERR_MACHINE_NAME_TOO_LONG);
    name[256] = 0;
    assert_int_equal(decode_machine_name(name, 257), SOH_ERR_MACHINE_NAME_TOO_LONG);
    assert_int_equal(decode_machine_name("ho\0t", 5), SOH_ERR_BAD_MACHINE_NAME);
    assert_int_equal(decode_machine_name("host\0\0", 6), SOH_ERR_BAD_MACHINE_NAME);
}

static void test_quarantine_rejections(void **state)
{
    struct soh_request req;
    uint8_t buf[sizeof(example)];

    (void)state;
    assert_int_equal(decode_example_with(EX_QFLAGS_LOW, 0x00), SOH_ERR_BAD_QUARANTINE_STATE);
    assert_int_equal(decode_example_with(EX_QFLAGS_LOW, 0x04), SOH_ERR_BAD_QUARANTINE_STATE);
    assert_int_equal(decode_example_with(EX_QFLAGS_LOW, 0x41), SOH_ERR_BAD_EXT_STATE);
    assert_int_equal(decode_example_with(EX_QFLAGS_LOW, 0xf3), SOH_ERR_BAD_EXT_STATE);
    assert_int_equal(decode_example_with(EX_URL_LEN, 0x04), SOH_ERR_URL_TOO_LONG);
    assert_int_equal(decode_example_with(EX_URL_LEN + 1, 0x08), SOH_ERR_MS_ATTR_TRUNCATED);

    /* reserved bits are ignored */
    memcpy(buf, example, sizeof(buf));
    buf[EX_QFLAGS_LOW - 1] = 0xff;
    buf[EX_QFLAGS_LOW] = 0x3f;
    assert_int_equal(soh_decode_request(buf, sizeof(buf), &req), SOH_OK);
    assert_int_equal(req.quarantine.state, 3);
    assert_int_equal(req.quarantine.fixup, 1);
    assert_int_equal(req.quarantine.ext_state, 3);
}

static void test_response_rejections(void **state)
{
    static const uint8_t good[] =
    {
        0x03, 0x01, 0x02, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00,
    };
    uint8_t attrs[200];
    size_t n = sizeof(good);

    (void)state;
    memcpy(attrs, good, n);
    assert_int_equal(decode_raw_response(attrs, n), SOH_OK);
    assert_int_equal(decode_raw_response(attrs, 2), SOH_ERR_MISSING_MS_ATTR);
    assert_int_equal(decode_raw_response(attrs + 2, n - 2), SOH_ERR_MISSING_MS_ATTR);

    memcpy(attrs + n, "\x05\x00\x00", 3); /* MachineName has no place in a response */
    assert_int_equal(decode_raw_response(attrs, n + 3), SOH_ERR_UNEXPECTED_MS_ATTR);
    memcpy(attrs + n, "\x07\x00\x03\x00\x00\x00", 6);
    assert_int_equal(decode_raw_response(attrs, n + 6), SOH_ERR_BAD_SHV_LIST_LENGTH);
    memset(attrs + n, 0, 3 + 84);
    memcpy(attrs + n, "\x07\x00\x54", 3); /* 21 SHVs */
    assert_int_equal(decode_raw_response(attrs, n + 3 + 84), SOH_ERR_TOO_MANY_SHVS);
    memcpy(attrs + n, "\x07\x00\x50", 3); /* 20 SHVs */
    assert_int_equal(decode_raw_response(attrs, n + 3 + 80), SOH_OK);
    assert_int_equal(decode_raw_response(attrs, n + 3 + 79), SOH_ERR_MS_ATTR_TRUNCATED);
    memcpy(attrs + n, "\x07\x00\x00\x07\x00\x00", 6);
    assert_int_equal(decode_raw_response(attrs, n + 6), SOH_ERR_DUPLICATE_MS_ATTR);
    attrs[4] = 0;
    assert_int_equal(decode_raw_response(attrs, n), SOH_ERR_BAD_QUARANTINE_STATE);
    /* a request is not a response */
    assert_int_equal(soh_decode_response(example, sizeof(example), (struct soh_response[1]){ 0 }),
                     SOH_ERR_UNEXPECTED_MS_ATTR);
}

static void test_entry_rejections(void **state)
{
    static uint8_t entries[21 * 8 + 8 + 101 * 4];
    const uint8_t *ex = example + EX_ENTRIES;
    size_t i, n;

    (void)state;
    assert_int_equal(decode_request_entries(ex, 15), SOH_ERR_TLV_TRUNCATED);
    assert_int_equal(decode_request_entries(ex, 3), SOH_ERR_TLV_TRUNCATED);
    assert_int_equal(decode_request_entries(ex + 8, 8), SOH_ERR_ENTRY_NO_SYSTEM_HEALTH_ID);

    memcpy(entries, ex, 16);
    memcpy(entries + 16, "\x00\x02\x00\x00", 4); /* a second entry with an empty id */
    assert_int_equal(decode_request_entries(entries, 20), SOH_ERR_BAD_ENTRY_ID_LENGTH);
    entries[3] = 5;
    assert_int_equal(decode_request_entries(entries, 16), SOH_ERR_BAD_ENTRY_ID_LENGTH);

    for (i = 0, n = 0; i < 21; i++, n += 8) memcpy(entries + n, ex, 8);
    assert_int_equal(decode_request_entries(entries, n - 8), SOH_OK);
    assert_int_equal(decode_request_entries(entries, n), SOH_ERR_TOO_MANY_ENTRIES);

    memcpy(entries, ex, 8);
    memset(entries + 8, 0, 101 * 4);
    for (i = 0; i < 100; i++) entries[8 + 4 * i + 1] = 9; /* empty type-9 TLVs */
    assert_int_equal(decode_request_entries(entries, 8 + 99 * 4), SOH_OK);
    assert_int_equal(decode_request_entries(entries, 8 + 100 * 4), SOH_ERR_TOO_MANY_TLVS);
}

static void test_encode_rejections(void **state)
{
    static uint8_t big[4 + 4001 + 8];
    uint8_t out[SOH_MAX_NETWORK_SIZE], two[32];
    struct soh_request req;
    struct soh_response resp;
    size_t len;

    (void)state;
#define EXPECT_REQ(status) assert_int_equal(soh_encode_request(&req, out, sizeof(out), &len), status)
    example_request(&req); req.quarantine.state = 0; EXPECT_REQ(SOH_ERR_BAD_QUARANTINE_STATE);
    example_request(&req); req.quarantine.state = 4; EXPECT_REQ(SOH_ERR_BAD_QUARANTINE_STATE);
    example_request(&req); req.quarantine.ext_state = 4; EXPECT_REQ(SOH_ERR_BAD_EXT_STATE);
    example_request(&req); req.quarantine.fixup = 2; EXPECT_REQ(SOH_ERR_BAD_FIXUP_FLAG);
    example_request(&req); req.quarantine.url_len = 1025; EXPECT_REQ(SOH_ERR_URL_TOO_LONG);
    example_request(&req);
    memset(req.machine.name, 'a', sizeof(req.machine.name));
    EXPECT_REQ(SOH_ERR_MACHINE_NAME_TOO_LONG);
    example_request(&req); req.entry_count = 21; EXPECT_REQ(SOH_ERR_TOO_MANY_ENTRIES);
    example_request(&req); req.entries[0].shv_id++; EXPECT_REQ(SOH_ERR_ENTRY_ID_MISMATCH);
    example_request(&req); req.entries[0].len = 15; EXPECT_REQ(SOH_ERR_TLV_TRUNCATED);
    example_request(&req); req.entries[0].len = 0; EXPECT_REQ(SOH_ERR_ENTRY_NO_SYSTEM_HEALTH_ID);
    example_request(&req); req.entries[0].tlvs = NULL; EXPECT_REQ(SOH_ERR_BAD_ARGUMENT);
    example_request(&req); req.entries[0].tlvs += 8; req.entries[0].len = 8;
    EXPECT_REQ(SOH_ERR_ENTRY_NO_SYSTEM_HEALTH_ID);

    memcpy(two, example + EX_ENTRIES, 16);
    memcpy(two + 16, example + EX_ENTRIES, 8);
    example_request(&req); req.entries[0].tlvs = two; req.entries[0].len = 24; EXPECT_REQ(SOH_ERR_ENTRY_SPLIT);

    memcpy(big, example + EX_ENTRIES, 8);
    big[9] = 9; big[10] = 0x0f; big[11] = 0xa1; /* type 9, 4001 bytes */
    example_request(&req); req.entries[0].tlvs = big; req.entries[0].len = 12 + 4001;
    EXPECT_REQ(SOH_ERR_ATTR_TOO_LONG);
    big[11] = 0xa0; /* 4000 bytes: a fine attribute, but the SoH gets too big */
    req.entries[0].len = 12 + 4000;
    EXPECT_REQ(SOH_ERR_TOO_LONG);
#undef EXPECT_REQ

    assert_int_equal(soh_encode_request(NULL, out, sizeof(out), &len), SOH_ERR_BAD_ARGUMENT);
    example_response(&resp); resp.has_correlation = 0;
    assert_int_equal(soh_encode_response(&resp, out, sizeof(out), &len), SOH_ERR_MISSING_CORRELATION);
    example_response(&resp); resp.quarantine.state = 4;
    assert_int_equal(soh_encode_response(&resp, out, sizeof(out), &len), SOH_ERR_BAD_QUARANTINE_STATE);
    assert_int_equal(soh_encode_simple_entry(1, NULL, 1, 0, out, sizeof(out), &len), SOH_ERR_BAD_ARGUMENT);
    assert_int_equal(soh_encode_simple_entry(1, (uint32_t[1]){ 0 }, 1001, 0, out, sizeof(out), &len),
                     SOH_ERR_ATTR_TOO_LONG);
}

static void test_no_space(void **state)
{
    struct soh_request req;
    struct soh_response resp;
    uint8_t out[SOH_MAX_NETWORK_SIZE];
    size_t len, need;
    uint32_t code = 0;

    (void)state;
    example_request(&req);
    assert_int_equal(soh_encode_request(&req, NULL, 0, &need), SOH_ERR_NO_SPACE);
    assert_int_equal(need, sizeof(example));
    assert_int_equal(soh_encode_request(&req, out, need - 1, &len), SOH_ERR_NO_SPACE);
    assert_int_equal(soh_encode_request(&req, out, need, &len), SOH_OK);

    example_response(&resp);
    assert_int_equal(soh_encode_response(&resp, out, sizeof(out), &need), SOH_OK);
    assert_int_equal(soh_encode_response(&resp, out, need - 1, &len), SOH_ERR_NO_SPACE);

    assert_int_equal(soh_encode_simple_entry(SAMPLE_SHV, &code, 1, 2, out, 20, &len), SOH_ERR_NO_SPACE);
    assert_int_equal(soh_encode_simple_entry(SAMPLE_SHV, &code, 1, 2, out, 21, &len), SOH_OK);
    assert_memory_equal(out, "\x00\x02\x00\x04\x00\x01\x37\xf0\x00\x04\x00\x04\x00\x00\x00\x00"
                        "\x00\x0e\x00\x01\x02", 21);
}

static void test_entry_walk(void **state)
{
    struct soh_entry entry = { SAMPLE_SHV, example + EX_ENTRIES, 15 };
    const uint8_t *value;
    uint16_t type, value_len;
    size_t offset = 8;

    (void)state;
    assert_int_equal(soh_entry_next_tlv(&entry, &offset, &type, &value, &value_len), SOH_ERR_TLV_TRUNCATED);
    offset = 13;
    assert_int_equal(soh_entry_next_tlv(&entry, &offset, &type, &value, &value_len), SOH_ERR_TLV_TRUNCATED);
    offset = 16;
    assert_int_equal(soh_entry_next_tlv(&entry, &offset, &type, &value, &value_len), SOH_ERR_BAD_ARGUMENT);
}

static void test_correlation_format(void **state)
{
    struct soh_correlation c;
    char buf[64];

    (void)state;
    example_correlation(&c);
    assert_int_equal(soh_correlation_format(&c, buf, sizeof(buf)), 55);
    assert_string_equal(buf, "{10111213-1415-1617-1819-1a1b1c1d1e1f}-2021222324252627");
    assert_int_equal(soh_correlation_format(&c, buf, 56), 55);
    assert_int_equal(soh_correlation_format(&c, buf, 55), 0);
    assert_string_equal(buf, "");
}

static void test_status_strings(void **state)
{
    int i, j;

    (void)state;
    for (i = 0; i < SOH_STATUS_COUNT; i++)
    {
        const char *s = soh_status_string((enum soh_status)i);

        assert_non_null(s);
        assert_string_not_equal(s, "unknown status");
        for (j = 0; j < i; j++) assert_string_not_equal(s, soh_status_string((enum soh_status)j));
    }
    assert_string_equal(soh_status_string(SOH_STATUS_COUNT), "unknown status");
}

/* Seed corpora for the fuzz targets: a few valid requests for
 * fuzz_soh_request and a few valid responses for fuzz_soh_response, each kind
 * in its own directory (tests/native/corpus-request and corpus-response), as
 * `--write-corpus REQUEST_DIR RESPONSE_DIR` writes them. */
static int write_seed(const char *dir, const char *name, const uint8_t *data, size_t len)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!(f = fopen(path, "wb"))) return 1;
    fwrite(data, 1, len, f);
    return fclose(f) != 0;
}

static int write_corpus(const char *request_dir, const char *response_dir)
{
    struct soh_request req;
    struct soh_response resp;
    uint8_t out[SOH_MAX_NETWORK_SIZE];
    size_t len;
    uint16_t i;
    int failed = write_seed(request_dir, "request-example", example, sizeof(example));

    example_request(&req);
    req.with_mode_header = 0;
    req.entry_count = SOH_MAX_ENTRIES;
    for (i = 0; i < SOH_MAX_ENTRIES; i++) req.entries[i] = make_entry(i, SAMPLE_SHV + i, i, i % 6);
    failed |= soh_encode_request(&req, out, sizeof(out), &len) != SOH_OK;
    failed |= write_seed(request_dir, "request-20-entries", out, len);

    example_response(&resp);
    failed |= soh_encode_response(&resp, out, sizeof(out), &len) != SOH_OK;
    failed |= write_seed(response_dir, "response-mode", out, len);
    resp.with_mode_header = 0;
    resp.has_installed_shvs = 0;
    resp.entry_count = 0;
    failed |= soh_encode_response(&resp, out, sizeof(out), &len) != SOH_OK;
    failed |= write_seed(response_dir, "response-plain", out, len);
    return failed;
}

int main(int argc, char **argv)
{
    static const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_example_encode),
        cmocka_unit_test(test_example_decode),
        cmocka_unit_test(test_request_round_trips),
        cmocka_unit_test(test_response_round_trips),
        cmocka_unit_test(test_response_max_shvs),
        cmocka_unit_test(test_response_correlation_sources),
        cmocka_unit_test(test_flags_masked),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_envelope_rejections),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_ssoh_rejections),
        cmocka_unit_test(test_ms_attr_rejections),
        cmocka_unit_test(test_machine_name),
        cmocka_unit_test(test_quarantine_rejections),
        cmocka_unit_test(test_response_rejections),
        cmocka_unit_test(test_entry_rejections),
        cmocka_unit_test(test_encode_rejections),
        cmocka_unit_test(test_no_space),
        cmocka_unit_test(test_entry_walk),
        cmocka_unit_test(test_correlation_format),
        cmocka_unit_test(test_status_strings),
    };

    if (argc == 4 && !strcmp(argv[1], "--write-corpus")) return write_corpus(argv[2], argv[3]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
