/*
 * Benchmark for the SoH codec: a maximum-size request against memcpy
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "soh.h"
#include "soh_attr.h"

#define ROUNDS 15     /* repetitions; the median is reported */
#define CALLS 20000   /* calls per timed batch */
#define CODES_PER_ENTRY 45

static uint8_t message[SOH_MAX_NETWORK_SIZE], copy[SOH_MAX_NETWORK_SIZE], encoded[SOH_MAX_NETWORK_SIZE];
static size_t message_len;
static struct soh_request request, decoded;
static uint8_t entry_store[SOH_MAX_ENTRIES][SOH_MAX_NETWORK_SIZE];
static uint32_t codes[SOH_MAX_CODE_COUNT];

/* Called through a volatile pointer so the compiler cannot drop or fold the
 * copies; the codec calls are external calls too, so the floor is fair. */
static void *(*volatile copy_bytes)(void *, const void *, size_t) = memcpy;
static volatile unsigned int sink;

static void fail(const char *what, enum soh_status status)
{
    fprintf(stderr, "bench_soh: %s: %s\n", what, soh_status_string(status));
    exit(1);
}

static void set_entry(unsigned int i, uint16_t ncodes)
{
    enum soh_status status;
    size_t len;

    status = soh_encode_simple_entry(0x000137f0u + i, codes, ncodes, 0, entry_store[i],
                                     sizeof(entry_store[i]), &len);
    if (status) fail("entry", status);
    request.entries[i].shv_id = 0x000137f0u + i;
    request.entries[i].tlvs = entry_store[i];
    request.entries[i].len = (uint16_t)len;
}

/* 20 entries of ComplianceResultCodes, then the last entry and the failure
 * URL grow until the message is exactly maxNetworkSoHSize bytes. */
static void build_request(void)
{
    enum soh_status status;
    unsigned int i, room;

    for (i = 0; i < SOH_MAX_CODE_COUNT; i++) codes[i] = 0x80270000u + i;
    request.with_mode_header = 1;
    request.correlation.conn_id.data1 = 0x10111213;
    request.correlation.timestamp = 0x01d2c3b4a5968778ull;
    request.machine.os_major = 6;
    request.machine.os_minor = 1;
    request.machine.os_build = 7601;
    request.machine.arch = 9;
    request.machine.product_type = 1;
    strcpy(request.machine.name, "host");
    request.quarantine.state = 1;
    request.quarantine.prob_time = SOH_PROB_TIME_NONE;
    request.quarantine.url_len = 1;
    request.entry_count = SOH_MAX_ENTRIES;
    for (i = 0; i < SOH_MAX_ENTRIES; i++) set_entry(i, CODES_PER_ENTRY);

    if ((status = soh_encode_request(&request, message, sizeof(message), &message_len))) fail("encode", status);
    room = SOH_MAX_NETWORK_SIZE - (unsigned int)message_len;
    set_entry(SOH_MAX_ENTRIES - 1, CODES_PER_ENTRY + room / 4);
    request.quarantine.url_len += room % 4;
    if ((status = soh_encode_request(&request, message, sizeof(message), &message_len))) fail("encode", status);
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void run_memcpy(void)
{
    copy_bytes(copy, message, message_len);
    sink += copy[message_len - 1];
}

static void run_decode(void)
{
    enum soh_status status = soh_decode_request(message, message_len, &decoded);

    if (status) fail("decode", status);
}

static void run_decode_validate(void)
{
    enum soh_status status;
    uint16_t i;

    run_decode();
    for (i = 0; i < decoded.entry_count; i++)
        if ((status = soh_sha_validate(decoded.entries[i].tlvs, decoded.entries[i].len, 1)))
            fail("validate", status);
}

static void run_encode(void)
{
    enum soh_status status;
    size_t len;

    if ((status = soh_encode_request(&request, encoded, sizeof(encoded), &len))) fail("encode", status);
    sink += encoded[len - 1];
}

struct bench
{
    const char *name;
    void (*run)(void);
    double ns[ROUNDS];
};

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *values)
{
    qsort(values, ROUNDS, sizeof(values[0]), compare_doubles);
    return values[ROUNDS / 2];
}

static double time_batch(void (*run)(void))
{
    double start = now_ns();
    unsigned int i;

    for (i = 0; i < CALLS; i++) run();
    return (now_ns() - start) / CALLS;
}

int main(void)
{
    struct bench benches[] =
    {
        { "memcpy (floor)", run_memcpy, { 0 } },
        { "soh_decode_request", run_decode, { 0 } },
        { "decode + soh_sha_validate x20", run_decode_validate, { 0 } },
        { "soh_encode_request", run_encode, { 0 } },
    };
    const unsigned int count = sizeof(benches) / sizeof(benches[0]);
    unsigned int round, i;
    double floor_ns;

    build_request();
    run_encode();
    if (memcmp(encoded, message, message_len)) fail("re-encode differs", SOH_OK);
    for (i = 0; i < count; i++) time_batch(benches[i].run); /* warm-up */

    /* interleaved, starting with a different one each round, so that noise
     * from the shared machine falls on all of them alike */
    for (round = 0; round < ROUNDS; round++)
        for (i = 0; i < count; i++)
        {
            struct bench *b = &benches[(round + i) % count];
            b->ns[round] = time_batch(b->run);
        }

    printf("SoH request: %zu bytes, %u report entries; median of %u x %u calls\n",
           message_len, (unsigned int)request.entry_count, ROUNDS, CALLS);
    printf("%-32s %10s %12s %10s\n", "", "ns/call", "MB/s", "x memcpy");
    floor_ns = median(benches[0].ns);
    for (i = 0; i < count; i++)
    {
        double ns = i ? median(benches[i].ns) : floor_ns;
        printf("%-32s %10.1f %12.1f %10.1f\n", benches[i].name, ns, message_len / ns * 1e3, ns / floor_ns);
    }
    return 0;
}
