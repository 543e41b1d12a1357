/*
 * The agent's settings: where each lives, its default and its range, for the writer and every reader
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_AGENT_SETTINGS_H
#define NAP_AGENT_SETTINGS_H

#include <windows.h>

/* All under HKLM (docs/registry-layout.md).  The agent's state (registrations,
 * enable flags, settings, cached SoHs) lives outside the napagent service's
 * key, which the service control manager deletes with the service (an
 * uninstall, an upgrade, napagent.exe --uninstall), and under System, which
 * 32-bit and 64-bit processes see alike (WOW64 redirects Software only). */
#define NAP_STATE_KEY L"System\\CurrentControlSet\\Control\\NapAgent"
#define AGENT_PARAMETERS_KEY NAP_STATE_KEY L"\\Parameters"
#define NAP_CLIENT_POLICY_KEY L"Software\\Policies\\Microsoft\\NetworkAccessProtection\\ClientConfig"

/* The defaults, for the code that names them (agent_private.h). */
#define AGENT_DEFAULT_RETRY_INTERVAL_MS 30000
#define AGENT_DEFAULT_CLIENT_TIMEOUT_MS 5000
#define AGENT_DEFAULT_SHA_TIMEOUT_MS 5000
#define AGENT_DEFAULT_FIXUP_POLL_MS 1000

/* Parameters\LogLevel: the agent's log keeps the lines of this level and
 * the levels before it (src/napagent/log.c). */
enum agent_log_level
{
    AGENT_LOG_ERROR = 1,      /* the agent could not do what it was asked */
    AGENT_LOG_WARNING = 2,    /* a client or an SHA misbehaved */
    AGENT_LOG_INFO = 3,       /* sessions, registrations, decisions: the default */
    AGENT_LOG_TRACE = 4       /* each call in detail */
};

enum agent_setting_id
{
    AGENT_SETTING_RETRY_INTERVAL_MS,
    AGENT_SETTING_CLIENT_TIMEOUT_MS,
    AGENT_SETTING_SHA_TIMEOUT_MS,
    AGENT_SETTING_FIXUP_POLL_MS,
    AGENT_SETTING_LOG_MAX_BYTES,
    AGENT_SETTING_BACKWARD_COMPATIBLE,
    AGENT_SETTING_LOG_LEVEL,
    AGENT_SETTING_COUNT
};

/* One REG_DWORD.  The writer (NapAgentSetSetting, napctl set) refuses a value
 * outside [min, max]; every reader clamps what it finds to [min, max],
 * whoever wrote it, so the two can never disagree. */
struct agent_setting
{
    const WCHAR *key;         /* under HKLM */
    const WCHAR *name;        /* the value's name */
    const WCHAR *napctl_name; /* `napctl set <napctl_name>`; NULL: set in the registry only */
    UINT32 rpc_id;            /* its NAPAGENT_SETTING for NapAgentSetSetting; 0: none */
    DWORD default_value, min, max;
    /* A choice, not a quantity: a value out of range means the default
     * rather than the nearer bound. */
    BOOL choice;
    /* The names of the values min..max, for napctl; NULL: milliseconds. */
    const WCHAR *const *value_names;
};

const struct agent_setting *agent_setting_get(enum agent_setting_id id);
/* NULL when nothing has that id or name. */
const struct agent_setting *agent_setting_by_rpc_id(UINT32 rpc_id);
const struct agent_setting *agent_setting_by_napctl_name(const WCHAR *napctl_name);
const struct agent_setting *agent_setting_by_name(const WCHAR *key, const WCHAR *name);
BOOL agent_setting_in_range(const struct agent_setting *setting, DWORD value);
/* What a reader uses when it finds value. */
DWORD agent_setting_clamp(const struct agent_setting *setting, DWORD value);
/* napctl's text for a value: a name of value_names, or a number (of ms).
 * FALSE when it is neither; the range is not checked. */
BOOL agent_setting_parse(const struct agent_setting *setting, const WCHAR *text, DWORD *value);
/* HKLM\key\name: the default when missing or not a REG_DWORD, else clamped. */
DWORD agent_setting_read(enum agent_setting_id id);

#endif
