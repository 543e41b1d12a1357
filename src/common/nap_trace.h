/*
 * Debug channels the Wine way: WINEDEBUG=+qagent,+qutil under Wine, a registry switch on Windows
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_TRACE_H
#define NAP_TRACE_H

#include <windows.h>

/*
 * TRACE, WARN, ERR and FIXME as a Wine user knows them.  Under Wine the
 * channels are Wine's own: ntdll's debug functions decide (WINEDEBUG, the
 * usual syntax: +qagent, warn+qutil, -all ...) and print in Wine's format,
 * interleaved with Wine's own traces.  On Windows, where ntdll has no such
 * functions, the same WINEDEBUG-style string is read once from the registry
 * value HKLM\System\CurrentControlSet\Control\NapAgent\Parameters\DebugChannels
 * (REG_SZ; read as Wine reads WINEDEBUG: trace_options.c) and the lines go
 * to OutputDebugString.  A channel that is off
 * costs one test of a byte: nothing is formatted.
 *
 * The layout of a channel is Wine's struct __wine_debug_channel.
 */
struct nap_trace_channel
{
    unsigned char flags;               /* 1 << class, once known; 0xff: not asked yet */
    char name[15];
};

enum nap_trace_class
{
    NAP_TRACE_FIXME = 0,
    NAP_TRACE_ERR = 1,
    NAP_TRACE_WARN = 2,
    NAP_TRACE_TRACE = 3
};

/* The channel of the module the code is linked into ("qagent", "qutil",
 * "napctl"): what the code shared by all of them (src/common) traces on.
 * Each module defines it with NAP_TRACE_MODULE_CHANNEL(name). */
extern struct nap_trace_channel nap_module_channel;
#define NAP_TRACE_MODULE_CHANNEL(ch) struct nap_trace_channel nap_module_channel = { 0xff, #ch }

/* Shared code traces on the module's channel. */
#define NAP_TRACE_USE_MODULE_CHANNEL() \
    static struct nap_trace_channel *const nap_trace_default_channel = &nap_module_channel

/* A file's own channel. */
#define NAP_TRACE_CHANNEL(ch) static struct nap_trace_channel nap_trace_channel_##ch = { 0xff, #ch }; \
    static struct nap_trace_channel *const nap_trace_default_channel = &nap_trace_channel_##ch

unsigned char nap_trace_flags(struct nap_trace_channel *channel);
void nap_trace_printf(enum nap_trace_class cls, struct nap_trace_channel *channel, const char *function,
                      const char *format, ...) __attribute__((format(printf, 4, 5)));

static inline BOOL nap_trace_on(enum nap_trace_class cls, struct nap_trace_channel *channel)
{
    return (channel->flags & (1 << cls)) && (nap_trace_flags(channel) & (1 << cls));
}

#define NAP_TRACE_LOG(cls, channel, ...) NAP_TRACE_LOG_AS(cls, channel, __func__, __VA_ARGS__)
/* For a helper that traces on behalf of its caller: the line names `function`. */
#define NAP_TRACE_LOG_AS(cls, channel, function, ...) \
    do { if (nap_trace_on(cls, channel)) nap_trace_printf(cls, channel, function, __VA_ARGS__); } while (0)

#define TRACE(...) NAP_TRACE_LOG(NAP_TRACE_TRACE, nap_trace_default_channel, __VA_ARGS__)
#define WARN(...)  NAP_TRACE_LOG(NAP_TRACE_WARN, nap_trace_default_channel, __VA_ARGS__)
#define ERR(...)   NAP_TRACE_LOG(NAP_TRACE_ERR, nap_trace_default_channel, __VA_ARGS__)
#define FIXME(...) NAP_TRACE_LOG(NAP_TRACE_FIXME, nap_trace_default_channel, __VA_ARGS__)
#define TRACE_ON() nap_trace_on(NAP_TRACE_TRACE, nap_trace_default_channel)

/* Text for a trace line, in a buffer that lives long enough for one line. */
const char *nap_dbgstr_guid(const GUID *guid);
const char *nap_dbgstr_w(const WCHAR *string);
const char *nap_dbgstr_an(const char *format, ...) __attribute__((format(printf, 1, 2)));

#endif
