/*
 * WINEDEBUG's syntax, read as Wine reads it: which classes of a debug channel are on
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "trace_options.h"

#define ALL_CLASSES 0xf

static const char *const class_names[] = { "fixme", "err", "warn", "trace" };

/* The class bits named by text[0..length), 0 for none we know. */
static unsigned char class_bits(const char *text, size_t length)
{
    unsigned int i;

    for (i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
        if (length == strlen(class_names[i]) && !memcmp(text, class_names[i], length)) return 1 << i;
    return 0;
}

/* One option, option[0..length): what it sets and clears, and the name it is
 * for (*name, *name_length); FALSE when it is to be skipped. */
static int parse_option(const char *option, size_t length, unsigned char *set, unsigned char *clear,
                        const char **name, size_t *name_length)
{
    size_t sign = strcspn(option, "+-");
    unsigned char classes = ALL_CLASSES;

    if (sign >= length) sign = 0;          /* no sign: a bare name, +name */
    else if (sign && !(classes = class_bits(option, sign))) return 0;
    *set = option[sign] == '-' ? 0 : classes;
    *clear = option[sign] == '-' ? classes : 0;
    if (option[sign] == '+' || option[sign] == '-') sign++;
    *name = option + sign;
    *name_length = length - sign;
    return *name_length != 0;
}

static int is_name(const char *name, size_t length, const char *wanted)
{
    return length == strlen(wanted) && !memcmp(name, wanted, length);
}

unsigned char trace_options_flags(const char *options, const char *channel)
{
    unsigned char defaults = TRACE_OPTIONS_DEFAULT, flags = 0, set, clear;
    int named = 0;
    const char *name;
    size_t length, name_length;

    for (; options && *options; options += length + (options[length] == ','))
    {
        length = strcspn(options, ",");
        if (!parse_option(options, length, &set, &clear, &name, &name_length)) continue;
        if (is_name(name, name_length, "all")) defaults = (defaults & ~clear) | set;
        else if (is_name(name, name_length, channel))
        {
            flags = ((named ? flags : defaults) & ~clear) | set;
            named = 1;
        }
    }
    return named ? flags : defaults;
}
