/*
 * Numbers on a command line, as napctl and the samples read them
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_PARSE_NUMBER_H
#define NAP_PARSE_NUMBER_H

#include <windows.h>

/* Decimal, or hex with a 0x prefix; the whole string must be a number of
 * at most 32 bits, without a sign. */
BOOL parse_u32(const WCHAR *text, UINT32 *value);

#endif
