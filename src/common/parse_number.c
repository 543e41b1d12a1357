/*
 * Numbers on a command line, as napctl and the samples read them
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <wchar.h>
#include "parse_number.h"

BOOL parse_u32(const WCHAR *text, UINT32 *value)
{
    unsigned long long number;
    int base = 10;
    WCHAR *end;

    if (!text || !*text || *text == '-' || *text == '+') return FALSE;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
    {
        text += 2;
        base = 16;
        if (!*text) return FALSE;
    }
    number = wcstoull(text, &end, base);
    if (*end || number > 0xffffffffull) return FALSE;
    *value = (UINT32)number;
    return TRUE;
}
