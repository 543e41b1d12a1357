/*
 * libFuzzer target for the SoH response decoder and encoder (src/soh)
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "soh.h"
#include "soh_attr.h"

/*
 * Property checked: decode(encode(decode(x))) == decode(x), and the second
 * encoding is byte-identical to the first. Besides the differences listed in
 * fuzz_soh_request.c, a response may carry its correlation id in only one of
 * its two places, and the encoder then writes it in both the decoder read.
 * Each report entry also goes through the per-SHA rules of a response.
 */

static uint8_t first[SOH_MAX_NETWORK_SIZE], second[SOH_MAX_NETWORK_SIZE];

static void check_entries(const struct soh_response *resp)
{
    uint16_t i;

    for (i = 0; i < resp->entry_count; i++)
        if (soh_sha_validate(resp->entries[i].tlvs, resp->entries[i].len, 0) == SOH_ERR_TLV_TRUNCATED) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct soh_response resp, again;
    size_t len1, len2;

    if (soh_decode_response(data, size, &resp)) return 0;
    check_entries(&resp);
    if (soh_encode_response(&resp, first, sizeof(first), &len1)) abort();
    if (soh_decode_response(first, len1, &again)) abort();
    if (!soh_response_equal(&resp, &again)) abort();
    if (soh_encode_response(&again, second, sizeof(second), &len2)) abort();
    if (len1 != len2 || memcmp(first, second, len1)) abort();
    return 0;
}
