/*
 * libFuzzer target for the SoH request decoder and encoder (src/soh)
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
 * encoding is byte-identical to the first (the encoder's output is a fixed
 * point). Plain encode(decode(x)) == x does not hold by design: the decoder
 * masks TLV M/R flag bits, ignores reserved Quarantine-State bits, accepts a
 * machine name without its NUL, any intent and packet info byte and MS
 * attributes in any order, while the encoder always emits the canonical form.
 * Each report entry is also run through the per-SHA rules, which must not
 * disagree with the splitter about where the entry's TLVs end.
 */

static uint8_t first[SOH_MAX_NETWORK_SIZE], second[SOH_MAX_NETWORK_SIZE];

static void check_entries(const struct soh_request *req)
{
    uint16_t i;

    for (i = 0; i < req->entry_count; i++)
        if (soh_sha_validate(req->entries[i].tlvs, req->entries[i].len, 1) == SOH_ERR_TLV_TRUNCATED) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct soh_request req, again;
    size_t len1, len2;

    if (soh_decode_request(data, size, &req)) return 0;
    check_entries(&req);
    if (soh_encode_request(&req, first, sizeof(first), &len1)) abort();
    if (soh_decode_request(first, len1, &again)) abort();
    if (!soh_request_equal(&req, &again)) abort();
    if (soh_encode_request(&again, second, sizeof(second), &len2)) abort();
    if (len1 != len2 || memcmp(first, second, len1)) abort();
    return 0;
}
