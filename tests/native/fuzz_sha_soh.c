/*
 * libFuzzer target for the per-SHA SoH rules and attribute codec (src/soh)
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
 * Properties checked, on the input read as a run of TLVs:
 * - soh_sha_validate() never reads out of bounds, as a request and as a response;
 * - every TLV that soh_attr_decode() accepts re-encodes with soh_attr_encode()
 *   to the same bytes, except the M and R bits, which are sent as 0;
 * - when soh_sha_validate() accepts the run, every TLV in it decodes.
 */

static uint8_t tlv[4 + UINT16_MAX];

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static int check_tlv(const uint8_t *p, uint16_t value_len)
{
    struct soh_attr_value v;
    size_t len;

    if (soh_attr_decode(get16(p), p + 4, value_len, &v)) return 0;
    if (soh_attr_encode(&v, tlv, sizeof(tlv), &len)) abort();
    if (len != 4 + (size_t)value_len) abort();
    if (tlv[0] != (p[0] & 0x3f) || memcmp(tlv + 1, p + 1, len - 1)) abort();
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int valid = !soh_sha_validate(data, size, 1) || !soh_sha_validate(data, size, 0);
    size_t pos = 0;

    while (size - pos >= 4)
    {
        uint16_t value_len = get16(data + pos + 2);

        if (value_len > size - pos - 4) break;
        if (!check_tlv(data + pos, value_len) && valid) abort();
        pos += 4 + (size_t)value_len;
    }
    return 0;
}
