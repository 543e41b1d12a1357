/*
 * Debug channels the Wine way: WINEDEBUG=+qagent,+qutil under Wine, a registry switch on Windows
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "nap_trace.h"
#include "trace_options.h"

_Static_assert(TRACE_OPTIONS_FIXME == 1 << NAP_TRACE_FIXME && TRACE_OPTIONS_ERR == 1 << NAP_TRACE_ERR
               && TRACE_OPTIONS_WARN == 1 << NAP_TRACE_WARN && TRACE_OPTIONS_TRACE == 1 << NAP_TRACE_TRACE,
               "the parser's bits are the channels' classes");

/* Wine's flag for "not asked yet". */
#define FLAG_UNKNOWN 0x80
#define DEBUG_CHANNELS_KEY "System\\CurrentControlSet\\Control\\NapAgent\\Parameters"  /* AGENT_PARAMETERS_KEY */
#define LINE_MAX_CHARS 1024
/* Strings for one trace line each; a thread formats a line at a time. */
#define STRING_RING 32
#define STRING_MAX 128

/* Wine's ntdll exports, absent on Windows. */
typedef unsigned char (__cdecl *get_flags_fn)(struct nap_trace_channel *channel);
typedef int (__cdecl *header_fn)(enum nap_trace_class cls, struct nap_trace_channel *channel, const char *function);
typedef int (__cdecl *output_fn)(const char *text);
typedef const char *(__cdecl *strdup_fn)(const char *text);

static INIT_ONCE init_once = INIT_ONCE_STATIC_INIT;
static get_flags_fn wine_get_flags;
static header_fn wine_header;
static output_fn wine_output;
static strdup_fn wine_strdup;
/* Windows: the registry switch, WINEDEBUG's syntax. */
static char windows_channels[256];

static BOOL CALLBACK find_wine(INIT_ONCE *once, void *param, void **context)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    DWORD size = sizeof(windows_channels);

    (void)once; (void)param; (void)context;
    wine_get_flags = (get_flags_fn)(void *)GetProcAddress(ntdll, "__wine_dbg_get_channel_flags");
    wine_header = (header_fn)(void *)GetProcAddress(ntdll, "__wine_dbg_header");
    wine_output = (output_fn)(void *)GetProcAddress(ntdll, "__wine_dbg_output");
    wine_strdup = (strdup_fn)(void *)GetProcAddress(ntdll, "__wine_dbg_strdup");
    if (!wine_get_flags || !wine_header || !wine_output)
    {
        wine_get_flags = NULL;
        if (RegGetValueA(HKEY_LOCAL_MACHINE, DEBUG_CHANNELS_KEY, "DebugChannels", RRF_RT_REG_SZ, NULL,
                         windows_channels, &size))
            windows_channels[0] = 0;
    }
    return TRUE;
}

static const char *const class_names[] = { "fixme", "err", "warn", "trace" };

unsigned char nap_trace_flags(struct nap_trace_channel *channel)
{
    InitOnceExecuteOnce(&init_once, find_wine, NULL, NULL);
    /* Wine's caches the answer in channel->flags itself. */
    if (wine_get_flags) return wine_get_flags(channel);
    if (channel->flags & FLAG_UNKNOWN) channel->flags = trace_options_flags(windows_channels, channel->name);
    return channel->flags;
}

void nap_trace_printf(enum nap_trace_class cls, struct nap_trace_channel *channel, const char *function,
                      const char *format, ...)
{
    char line[LINE_MAX_CHARS];
    int prefix = 0;
    va_list args;

    if (!wine_get_flags)
        prefix = snprintf(line, sizeof(line), "%04lx:%s:%s:%s ", GetCurrentThreadId(), class_names[cls],
                          channel->name, function);
    va_start(args, format);
    vsnprintf(line + prefix, sizeof(line) - prefix, format, args);
    va_end(args);
    if (!wine_get_flags)
    {
        OutputDebugStringA(line);
        return;
    }
    wine_header(cls, channel, function);
    wine_output(line);
}

/* Under Wine: its own per-thread buffers; else a ring that only many lines
 * formatted at once on many threads could overrun. */
static const char *keep_string(const char *text)
{
    static char ring[STRING_RING][STRING_MAX];
    static LONG next;
    char *slot;

    if (wine_strdup) return wine_strdup(text);
    slot = ring[(unsigned)InterlockedIncrement(&next) % STRING_RING];
    lstrcpynA(slot, text, STRING_MAX);
    return slot;
}

const char *nap_dbgstr_an(const char *format, ...)
{
    char text[STRING_MAX];
    va_list args;

    va_start(args, format);
    vsnprintf(text, sizeof(text), format, args);
    va_end(args);
    return keep_string(text);
}

const char *nap_dbgstr_guid(const GUID *guid)
{
    if (!guid) return "(null)";
    return nap_dbgstr_an("{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", (unsigned long)guid->Data1,
                         guid->Data2, guid->Data3, guid->Data4[0], guid->Data4[1], guid->Data4[2], guid->Data4[3],
                         guid->Data4[4], guid->Data4[5], guid->Data4[6], guid->Data4[7]);
}

const char *nap_dbgstr_w(const WCHAR *string)
{
    if (!string) return "(null)";
    return nap_dbgstr_an("L\"%.*ls\"", STRING_MAX - 8, string);
}
