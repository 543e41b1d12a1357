/*
 * libFuzzer target for the SoH decoders and encoders (src/soh)
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "soh.h"

/*
 * Property checked: decode(encode(decode(x))) == decode(x), and the second
 * encoding is byte-identical to the first (the encoder's output is a fixed
 * point). Plain encode(decode(x)) == x does not hold by design: the decoder
 * masks TLV M/R flag bits, ignores reserved Quarantine-State bits, accepts a
 * machine name without its NUL, any intent and packet info byte, MS attributes
 * in any order, and a correlation id in only one of its two places, while the
 * encoder always emits the canonical form.
 */

static uint8_t first[SOH_MAX_NETWORK_SIZE], second[SOH_MAX_NETWORK_SIZE];

static void check_request(const uint8_t *data, size_t size)
{
    struct soh_request req, again;
    size_t len1, len2;

    if (soh_decode_request(data, size, &req)) return;
    if (soh_encode_request(&req, first, sizeof(first), &len1)) abort();
    if (soh_decode_request(first, len1, &again)) abort();
    if (!soh_request_equal(&req, &again)) abort();
    if (soh_encode_request(&again, second, sizeof(second), &len2)) abort();
    if (len1 != len2 || memcmp(first, second, len1)) abort();
}

static void check_response(const uint8_t *data, size_t size)
{
    struct soh_response resp, again;
    size_t len1, len2;

    if (soh_decode_response(data, size, &resp)) return;
    if (soh_encode_response(&resp, first, sizeof(first), &len1)) abort();
    if (soh_decode_response(first, len1, &again)) abort();
    if (!soh_response_equal(&resp, &again)) abort();
    if (soh_encode_response(&again, second, sizeof(second), &len2)) abort();
    if (len1 != len2 || memcmp(first, second, len1)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_request(data, size);
    check_response(data, size);
    return 0;
}
