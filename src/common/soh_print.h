/*
 * Readable dumps of SoH requests and responses (napctl decode, sample_ec)
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_SOH_PRINT_H
#define NAP_SOH_PRINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Hex dump, 16 bytes a line, each line prefixed with its offset. */
void soh_print_hex(FILE *out, const uint8_t *data, size_t len);

/* Name of an SoH attribute (TLV) type, flag bits already masked. */
const char *soh_print_tlv_name(uint16_t type);

/* Decode data as an SoH request, failing that as an SoH response, and print
 * every field.  Each report entry is checked with soh_sha_validate and each
 * of its TLVs decoded by type with soh_attr_decode; an entry or TLV that
 * fails is printed with the reason (and a TLV's bytes) and does not make the
 * message fail.  Returns 0, or -1 after printing the codec's reasons. */
int soh_print_decoded(FILE *out, const uint8_t *data, size_t len);

/* The same for a message whose kind is known; -1 if it does not decode. */
int soh_print_request(FILE *out, const uint8_t *data, size_t len);
int soh_print_response(FILE *out, const uint8_t *data, size_t len);

#endif
