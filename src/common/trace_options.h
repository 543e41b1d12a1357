/*
 * WINEDEBUG's syntax, read as Wine reads it: which classes of a debug channel are on
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_TRACE_OPTIONS_H
#define NAP_TRACE_OPTIONS_H

/* Bits 1 << class, Wine's classes in Wine's order. */
#define TRACE_OPTIONS_FIXME 0x1
#define TRACE_OPTIONS_ERR   0x2
#define TRACE_OPTIONS_WARN  0x4
#define TRACE_OPTIONS_TRACE 0x8
/* With nothing said: Wine's default, fixme and err. */
#define TRACE_OPTIONS_DEFAULT (TRACE_OPTIONS_FIXME | TRACE_OPTIONS_ERR)

/*
 * The classes of `channel` that `options` turns on.  options is a
 * comma-separated list of [class]+name or [class]-name (class: fixme, err,
 * warn, trace; none: all four; a bare name means +name); name "all" sets the
 * default of every channel not named before it.  As in Wine: an option with
 * an unknown class is skipped, a channel's first option starts from the
 * default as it stands then, and later options of the same channel add to
 * it.  Pure: no Win32, no allocation; NULL options is the empty string.
 */
unsigned char trace_options_flags(const char *options, const char *channel);

#endif
