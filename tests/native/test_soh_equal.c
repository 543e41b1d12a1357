/*
 * CMocka tests that the codec's equality functions notice a change to any field
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
#include <string.h>
#include <cmocka.h>

#include "soh.h"

/* soh_request_equal and soh_response_equal decide the round-trip tests and
 * the fuzz properties: a field they ignore would let a codec bug through.
 * Each test below takes a decoded value, changes every byte of every field
 * one at a time and asserts the equality function notices, except where a
 * table row says why the byte does not count.  The tables must name every
 * field of the structs: a field added to soh.h and forgotten here fails
 * test_*_table_covers_every_field, and once listed, a field the equality
 * function forgets fails test_*_equal_notices_every_field.
 *
 * Which fields a struct has: clang's __builtin_dump_struct names them all
 * (the clang build of scripts/test.sh).  GCC has no such thing (and its
 * __builtin_clear_padding misses tail padding after an array of structs in
 * GCC 12): there, the bytes no row covers must look like alignment padding,
 * which catches any new field that is not hidden in existing padding. */

enum rule
{
    DIFFERS,    /* any change to any byte is a different value */
    BOOLEAN,    /* an int used as a truth value: only its truth counts */
    IGNORED,    /* not part of the value (see the row's reason) */
    TLVS,       /* entry bytes behind a pointer: compared by content, not address */
    STRING,     /* NUL-terminated: the bytes up to the NUL count, those after it do not */
};

struct row
{
    const char *name;
    size_t offset, size;
    enum rule rule;
    uint16_t tlvs_len;         /* TLVS: how many bytes the pointer points at */
};

#define MAX_ROWS 128
#define MAX_STRUCT 4096

struct table
{
    unsigned int count;
    struct row rows[MAX_ROWS];
};

typedef int (*equal_fn)(const void *a, const void *b);

static void add(struct table *t, const char *name, size_t offset, size_t size, enum rule rule)
{
    assert_true(t->count < MAX_ROWS);
    t->rows[t->count++] = (struct row){ name, offset, size, rule, 0 };
}

/* Both argument orders, so that a one-sided comparison is caught too. */
static int equal_both(equal_fn equal, const void *a, const void *b)
{
    int ab = equal(a, b), ba = equal(b, a);

    assert_int_equal(!ab, !ba);
    return ab;
}

static void expect(equal_fn equal, const void *a, const void *b, int want_equal, const char *name, size_t byte)
{
    if (!equal_both(equal, a, b) == !want_equal) return;
    print_error("%s, byte %zu: the equality function says %s\n", name, byte,
                want_equal ? "different" : "equal (the field is ignored)");
    fail();
}

/* Changes each byte of [offset, offset+size) two ways, one at a time. */
static void flip_bytes(equal_fn equal, const uint8_t *a, size_t struct_size, size_t offset, size_t size,
                       int want_equal, const char *name)
{
    static const uint8_t masks[] = { 0x01, 0x80 };
    uint8_t b[MAX_STRUCT];
    size_t i, m;

    for (i = offset; i < offset + size; i++)
        for (m = 0; m < sizeof(masks); m++)
        {
            memcpy(b, a, struct_size);
            b[i] ^= masks[m];
            expect(equal, a, b, want_equal, name, i);
        }
}

static void check_boolean(equal_fn equal, const uint8_t *a, size_t struct_size, const struct row *row)
{
    uint8_t b[MAX_STRUCT];
    int value, other;

    memcpy(&value, a + row->offset, sizeof(value));
    memcpy(b, a, struct_size);
    other = !value;
    memcpy(b + row->offset, &other, sizeof(other));
    expect(equal, a, b, 0, row->name, row->offset);
    /* Another way of saying the same truth. */
    other = value ? value + 1 : 0;
    memcpy(b + row->offset, &other, sizeof(other));
    expect(equal, a, b, 1, row->name, row->offset);
}

/* The pointer itself does not count, the bytes it points at do. */
static void check_tlvs(equal_fn equal, const uint8_t *a, size_t struct_size, const struct row *row)
{
    static uint8_t copy[SOH_MAX_NETWORK_SIZE];
    const uint8_t *original, *moved = copy;
    uint8_t b[MAX_STRUCT];
    uint16_t i;

    memcpy(&original, a + row->offset, sizeof(original));
    memcpy(copy, original, row->tlvs_len);
    memcpy(b, a, struct_size);
    memcpy(b + row->offset, &moved, sizeof(moved));
    expect(equal, a, b, 1, row->name, row->offset);
    for (i = 0; i < row->tlvs_len; i++)
    {
        copy[i] ^= 0x01;
        expect(equal, a, b, 0, row->name, i);
        copy[i] ^= 0x01;
    }
}

static void check_row(equal_fn equal, const uint8_t *a, size_t struct_size, const struct row *row)
{
    const uint8_t *nul;
    size_t length;

    switch (row->rule)
    {
    case DIFFERS: flip_bytes(equal, a, struct_size, row->offset, row->size, 0, row->name); break;
    case IGNORED: flip_bytes(equal, a, struct_size, row->offset, row->size, 1, row->name); break;
    case BOOLEAN: check_boolean(equal, a, struct_size, row); break;
    case TLVS:    check_tlvs(equal, a, struct_size, row); break;
    case STRING:
        assert_non_null(nul = memchr(a + row->offset, 0, row->size));
        length = (size_t)(nul - (a + row->offset));
        flip_bytes(equal, a, struct_size, row->offset, length + 1, 0, row->name);
        flip_bytes(equal, a, struct_size, row->offset + length + 1, row->size - length - 1, 1, row->name);
        break;
    }
}

/* Every row, then: the value equals an unchanged copy of itself. */
static void check_table(equal_fn equal, const void *a, size_t struct_size, const struct table *t)
{
    uint8_t b[MAX_STRUCT];
    unsigned int i;

    assert_true(struct_size <= MAX_STRUCT);
    memcpy(b, a, struct_size);
    assert_true(equal_both(equal, a, b));
    for (i = 0; i < t->count; i++) check_row(equal, a, struct_size, &t->rows[i]);
}

/* Bytes no row covers are a gap of 1 to 7 bytes that ends where a field of
 * the next alignment would start: what alignment padding looks like. */
static int looks_like_padding(size_t start, size_t end)
{
    size_t length = end - start, align = 1;

    while (align <= length) align *= 2;
    return length < 8 && end % align == 0;
}

/* The rows do not overlap, and what they leave out could only be padding. */
static void check_layout(const struct table *t, size_t struct_size)
{
    uint8_t covered[MAX_STRUCT] = { 0 };
    unsigned int i;
    size_t k, gap;

    assert_true(struct_size <= MAX_STRUCT);
    for (i = 0; i < t->count; i++)
        for (k = t->rows[i].offset; k < t->rows[i].offset + t->rows[i].size; k++)
        {
            assert_true(k < struct_size);
            if (covered[k]) print_error("%s overlaps another row at byte %zu\n", t->rows[i].name, k);
            assert_false(covered[k]);
            covered[k] = 1;
        }
    for (k = 0; k < struct_size; k = gap)
    {
        for (gap = k; gap < struct_size && !covered[gap]; gap++);
        if (gap > k && !looks_like_padding(k, gap))
            print_error("bytes %zu to %zu are in no row and are not padding: a field no row lists\n", k, gap - 1);
        assert_true(gap == k || looks_like_padding(k, gap));
        if (gap == k) gap++;
    }
}

#if defined(__clang__)
/* __builtin_dump_struct's text, as the fields' dotted names. */
static char dump_text[8192];
static size_t dump_used;

static int dump_collect(const char *format, ...)
{
    va_list args;
    int n;

    va_start(args, format);
    n = vsnprintf(dump_text + dump_used, sizeof(dump_text) - dump_used, format, args);
    va_end(args);
    if (n > 0) dump_used = dump_used + (size_t)n < sizeof(dump_text) ? dump_used + (size_t)n : sizeof(dump_text) - 1;
    return n;
}

/* Calls found(prefix + name) for every field that is not a struct; clang
 * prints "type name : value" per field, and "type name : type {" to open a
 * nested struct, closed by "}". */
static unsigned int dump_fields(const char *prefix, void (*found)(const char *name, const char *type))
{
    char path[8][96], *line, *sep, *name;
    unsigned int depth = 0, count = 0;
    size_t length;

    for (line = strtok(dump_text, "\n"); line; line = strtok(NULL, "\n"))
    {
        while (*line == ' ') line++;
        if (!strcmp(line, "}")) { if (depth) depth--; continue; }
        if (!(sep = strstr(line, " : "))) continue; /* the struct's own first line */
        *sep = 0;
        name = strrchr(line, ' ');
        assert_non_null(name);
        *name++ = 0;
        assert_true(depth < 8);
        snprintf(path[depth], sizeof(path[depth]), "%s%s%s", depth ? path[depth - 1] : prefix,
                 depth || *prefix ? "." : "", name);
        length = strlen(sep + 3);
        if (length && sep[3 + length - 1] == '{') { depth++; continue; }
        found(path[depth], line);
        count++;
    }
    return count;
}

static const struct table *listing;

static void must_be_listed(const char *name, const char *type)
{
    unsigned int i;
    size_t n = strlen(name);

    (void)type;
    for (i = 0; i < listing->count; i++)
        if (!strncmp(listing->rows[i].name, name, n)
            && (!listing->rows[i].name[n] || listing->rows[i].name[n] == ' ' || listing->rows[i].name[n] == '['))
            return;
    print_error("field %s (%s) has no row: add it to the table and to the equality function\n", name, type);
    fail();
}

#define DUMP_FIELDS(value, prefix, found) \
    (dump_used = 0, dump_text[0] = 0, __builtin_dump_struct(value, &dump_collect), dump_fields(prefix, found))

/* Every field clang names has a row (entries[] are dumped as their own struct). */
static void check_names(const struct table *t, const void *value, int is_request)
{
    struct soh_entry entry = { 0 };

    listing = t;
    if (is_request) assert_true(DUMP_FIELDS((const struct soh_request *)value, "", must_be_listed) > 10);
    else assert_true(DUMP_FIELDS((const struct soh_response *)value, "", must_be_listed) > 10);
    assert_int_equal(DUMP_FIELDS(&entry, "entries[]", must_be_listed), 3);
}
#else
static void check_names(const struct table *t, const void *value, int is_request)
{
    (void)t; (void)value; (void)is_request;
}
#endif

static void check_coverage(const struct table *t, const void *value, size_t struct_size, int is_request)
{
    check_layout(t, struct_size);
    check_names(t, value, is_request);
}

/* ---- the values ---- */

static uint8_t wire[SOH_MAX_NETWORK_SIZE];

static void example_correlation(struct soh_correlation *c)
{
    static const uint8_t data4[8] = { 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48 };

    c->conn_id.data1 = 0x11223344u;
    c->conn_id.data2 = 0x5566;
    c->conn_id.data3 = 0x7788;
    memcpy(c->conn_id.data4, data4, sizeof(data4));
    c->timestamp = 0x01d2030405060708ull;
}

static void example_quarantine(struct soh_quarantine *q)
{
    static const char url[] = "http://fix.example/up";

    q->state = 2;
    q->ext_state = 1;
    q->fixup = 1;
    q->prob_time = 0x01d3000000001234ull;
    q->url_len = sizeof(url) - 1;
    memcpy(q->url, url, q->url_len);
}

/* Two report entries, kept in `store`. */
static uint16_t example_entries(struct soh_entry *entries, uint8_t *store, size_t cap)
{
    static const uint32_t codes[2] = { 0x00000000u, 0xc0ff0002u };
    size_t len, used = 0;
    uint16_t i;

    for (i = 0; i < 2; i++)
    {
        assert_int_equal(soh_encode_simple_entry(0x00013700u + 0x10 * (i + 1), codes, (uint16_t)(i + 1), (uint8_t)(i + 2),
                                                 store + used, cap - used, &len), SOH_OK);
        entries[i] = (struct soh_entry){ 0x00013700u + 0x10 * (i + 1), store + used, (uint16_t)len };
        used += len;
    }
    return 2;
}

/* A request with every field set, encoded and decoded again. */
static void decoded_request(struct soh_request *out)
{
    static uint8_t store[256];
    struct soh_request req;
    size_t len;

    memset(&req, 0, sizeof(req));
    req.with_mode_header = 1;
    example_correlation(&req.correlation);
    req.machine = (struct soh_machine_info){ 6, 1, 7601, 1, 0, 9, 1, "host-1.example" };
    example_quarantine(&req.quarantine);
    req.inventory_ex_reserved = 0x0a0b0c0du;
    req.entry_count = example_entries(req.entries, store, sizeof(store));
    assert_int_equal(soh_encode_request(&req, wire, sizeof(wire), &len), SOH_OK);
    memset(out, 0x5a, sizeof(*out));
    assert_int_equal(soh_decode_request(wire, len, out), SOH_OK);
    assert_true(soh_request_equal(&req, out));
}

/* A response with every optional part present (or absent), encoded and decoded again. */
static void decoded_response(struct soh_response *out, int full)
{
    static uint8_t store[256];
    struct soh_response resp;
    size_t len;

    memset(&resp, 0, sizeof(resp));
    resp.with_mode_header = full;
    resp.has_correlation = full;
    example_correlation(&resp.correlation);
    example_quarantine(&resp.quarantine);
    resp.has_installed_shvs = full;
    resp.shv_count = full ? 3 : 0;
    resp.shvs[0] = 0x00013710u;
    resp.shvs[1] = 0x00013720u;
    resp.shvs[2] = 0x00013730u;
    resp.entry_count = example_entries(resp.entries, store, sizeof(store));
    assert_int_equal(soh_encode_response(&resp, wire, sizeof(wire), &len), SOH_OK);
    memset(out, 0x5a, sizeof(*out));
    assert_int_equal(soh_decode_response(wire, len, out), SOH_OK);
    assert_true(soh_response_equal(&resp, out));
}

/* ---- the tables ---- */

#define ROW(t, type, field, rule) add(t, #field, offsetof(type, field), sizeof(((type *)0)->field), rule)

static void correlation_rows(struct table *t, size_t base, enum rule rule)
{
    add(t, "correlation.conn_id.data1", base + offsetof(struct soh_correlation, conn_id.data1), 4, rule);
    add(t, "correlation.conn_id.data2", base + offsetof(struct soh_correlation, conn_id.data2), 2, rule);
    add(t, "correlation.conn_id.data3", base + offsetof(struct soh_correlation, conn_id.data3), 2, rule);
    add(t, "correlation.conn_id.data4", base + offsetof(struct soh_correlation, conn_id.data4), 8, rule);
    add(t, "correlation.timestamp", base + offsetof(struct soh_correlation, timestamp), 8, rule);
}

static void quarantine_rows(struct table *t, size_t base, const struct soh_quarantine *q)
{
    add(t, "quarantine.state", base + offsetof(struct soh_quarantine, state), 1, DIFFERS);
    add(t, "quarantine.ext_state", base + offsetof(struct soh_quarantine, ext_state), 1, DIFFERS);
    add(t, "quarantine.fixup", base + offsetof(struct soh_quarantine, fixup), 1, DIFFERS);
    add(t, "quarantine.prob_time", base + offsetof(struct soh_quarantine, prob_time), 8, DIFFERS);
    add(t, "quarantine.url_len", base + offsetof(struct soh_quarantine, url_len), 2, DIFFERS);
    add(t, "quarantine.url", base + offsetof(struct soh_quarantine, url), q->url_len, DIFFERS);
    /* Past url_len: not part of the URL. */
    add(t, "quarantine.url (unused)", base + offsetof(struct soh_quarantine, url) + q->url_len,
        SOH_MAX_URL - q->url_len, IGNORED);
}

static void entry_rows(struct table *t, size_t base, const struct soh_entry *entries, uint16_t count)
{
    uint16_t i;

    for (i = 0; i < SOH_MAX_ENTRIES; i++)
    {
        size_t at = base + i * sizeof(struct soh_entry);
        /* Past entry_count: no entry. */
        enum rule rule = i < count ? DIFFERS : IGNORED;

        add(t, "entries[].shv_id", at + offsetof(struct soh_entry, shv_id), 4, rule);
        add(t, "entries[].tlvs", at + offsetof(struct soh_entry, tlvs), sizeof(entries[i].tlvs), i < count ? TLVS : IGNORED);
        t->rows[t->count - 1].tlvs_len = i < count ? entries[i].len : 0;
        add(t, "entries[].len", at + offsetof(struct soh_entry, len), 2, rule);
    }
}

static void request_table(struct table *t, const struct soh_request *r)
{
    t->count = 0;
    ROW(t, struct soh_request, with_mode_header, BOOLEAN);
    correlation_rows(t, offsetof(struct soh_request, correlation), DIFFERS);
    ROW(t, struct soh_request, machine.os_major, DIFFERS);
    ROW(t, struct soh_request, machine.os_minor, DIFFERS);
    ROW(t, struct soh_request, machine.os_build, DIFFERS);
    ROW(t, struct soh_request, machine.sp_major, DIFFERS);
    ROW(t, struct soh_request, machine.sp_minor, DIFFERS);
    ROW(t, struct soh_request, machine.arch, DIFFERS);
    ROW(t, struct soh_request, machine.product_type, DIFFERS);
    ROW(t, struct soh_request, machine.name, STRING);
    quarantine_rows(t, offsetof(struct soh_request, quarantine), &r->quarantine);
    ROW(t, struct soh_request, inventory_ex_reserved, DIFFERS);
    ROW(t, struct soh_request, entry_count, DIFFERS);
    entry_rows(t, offsetof(struct soh_request, entries), r->entries, r->entry_count);
    /* Decode-only facts: the encoder always sends the canonical values (soh.h). */
    ROW(t, struct soh_request, intent, IGNORED);
    ROW(t, struct soh_request, packet_info, IGNORED);
}

static void response_table(struct table *t, const struct soh_response *r)
{
    t->count = 0;
    ROW(t, struct soh_response, with_mode_header, BOOLEAN);
    /* Without has_correlation the encoder sends no correlation id. */
    correlation_rows(t, offsetof(struct soh_response, correlation), r->has_correlation ? DIFFERS : IGNORED);
    ROW(t, struct soh_response, has_correlation, BOOLEAN);
    /* Decode-only facts, as in a request. */
    ROW(t, struct soh_response, intent, IGNORED);
    ROW(t, struct soh_response, packet_info, IGNORED);
    quarantine_rows(t, offsetof(struct soh_response, quarantine), &r->quarantine);
    /* Without has_installed_shvs the encoder sends no Installed-Shvs. */
    ROW(t, struct soh_response, shv_count, r->has_installed_shvs ? DIFFERS : IGNORED);
    add(t, "shvs", offsetof(struct soh_response, shvs), sizeof(r->shvs[0]) * r->shv_count,
        r->has_installed_shvs ? DIFFERS : IGNORED);
    add(t, "shvs (unused)", offsetof(struct soh_response, shvs) + sizeof(r->shvs[0]) * r->shv_count,
        sizeof(r->shvs[0]) * (SOH_MAX_SHVS - r->shv_count), IGNORED);
    ROW(t, struct soh_response, has_installed_shvs, BOOLEAN);
    ROW(t, struct soh_response, entry_count, DIFFERS);
    entry_rows(t, offsetof(struct soh_response, entries), r->entries, r->entry_count);
}

/* ---- the tests ---- */

static int request_equal(const void *a, const void *b)
{
    return soh_request_equal(a, b);
}

static int response_equal(const void *a, const void *b)
{
    return soh_response_equal(a, b);
}

static void test_request_table_covers_every_field(void **state)
{
    static struct table t;
    struct soh_request r;

    (void)state;
    decoded_request(&r);
    request_table(&t, &r);
    check_coverage(&t, &r, sizeof(r), 1);
}

static void test_request_equal_notices_every_field(void **state)
{
    static struct table t;
    struct soh_request r;

    (void)state;
    decoded_request(&r);
    request_table(&t, &r);
    check_table(request_equal, &r, sizeof(r), &t);
}

static void check_response_coverage(int full)
{
    static struct table t;
    struct soh_response r;

    decoded_response(&r, full);
    response_table(&t, &r);
    check_coverage(&t, &r, sizeof(r), 0);
}

static void test_response_table_covers_every_field(void **state)
{
    (void)state;
    check_response_coverage(1);
    check_response_coverage(0);
}

static void test_response_equal_notices_every_field(void **state)
{
    static struct table t;
    struct soh_response r;

    (void)state;
    decoded_response(&r, 1);
    response_table(&t, &r);
    check_table(response_equal, &r, sizeof(r), &t);
}

/* No mode header, no correlation id, no Installed-Shvs: what is absent does not count. */
static void test_response_equal_ignores_what_is_absent(void **state)
{
    static struct table t;
    struct soh_response r;

    (void)state;
    decoded_response(&r, 0);
    assert_false(r.has_correlation);
    assert_false(r.has_installed_shvs);
    response_table(&t, &r);
    check_table(response_equal, &r, sizeof(r), &t);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_request_table_covers_every_field),
        cmocka_unit_test(test_request_equal_notices_every_field),
        cmocka_unit_test(test_response_table_covers_every_field),
        cmocka_unit_test(test_response_equal_notices_every_field),
        cmocka_unit_test(test_response_equal_ignores_what_is_absent),
    };

#if !defined(__clang__)
    printf("test_soh_equal: only clang names every field; this build checks that what the tables leave out is padding\n");
#endif
    return cmocka_run_group_tests(tests, NULL, NULL);
}
