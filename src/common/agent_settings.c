/*
 * The one table of the agent's settings and their ranges, shared by napagent, qagent.dll and napctl
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <wchar.h>
#include "agent_settings.h"
#include "napagent_rpc.h"
#include "parse_number.h"

static const WCHAR *const log_level_names[] = { L"error", L"warning", L"info", L"trace", NULL };

/* docs/registry-layout.md lists each with its reason: keep the two in step. */
static const struct agent_setting settings[AGENT_SETTING_COUNT] =
{
    [AGENT_SETTING_RETRY_INTERVAL_MS] =
        { AGENT_PARAMETERS_KEY, L"SoHChangeRetryIntervalMs", L"retry-interval", NAPAGENT_SETTING_RETRY_INTERVAL_MS,
          AGENT_DEFAULT_RETRY_INTERVAL_MS, 10, 24 * 3600 * 1000, FALSE },
    /* The agent answers every call from memory, waiting inside one at most
     * for an SHA's answer, and then no longer than half this bound: a call
     * that takes 10 s means a hung agent. */
    [AGENT_SETTING_CLIENT_TIMEOUT_MS] =
        { AGENT_PARAMETERS_KEY, L"ClientCallTimeoutMs", L"client-timeout", NAPAGENT_SETTING_CLIENT_TIMEOUT_MS,
          AGENT_DEFAULT_CLIENT_TIMEOUT_MS, 10, 10000, FALSE },
    [AGENT_SETTING_SHA_TIMEOUT_MS] =
        { AGENT_PARAMETERS_KEY, L"ShaTimeoutMs", L"sha-timeout", NAPAGENT_SETTING_SHA_TIMEOUT_MS,
          AGENT_DEFAULT_SHA_TIMEOUT_MS, 10, 600000, FALSE },
    [AGENT_SETTING_FIXUP_POLL_MS] =
        { AGENT_PARAMETERS_KEY, L"FixupPollMs", L"fixup-poll", NAPAGENT_SETTING_FIXUP_POLL_MS,
          AGENT_DEFAULT_FIXUP_POLL_MS, 10, 3600000, FALSE },
    /* Bytes per log file; one older file is kept.  The minimum holds two of
     * the longest lines (src/napagent/log.c). */
    [AGENT_SETTING_LOG_MAX_BYTES] =
        { AGENT_PARAMETERS_KEY, L"LogMaxBytes", NULL, 0, 4 * 1024 * 1024, 4096, 1024 * 1024 * 1024, FALSE },
    /* Group Policy (GPNAP 2.5.2): 1 = no mode sub-header, 2 = with it. */
    [AGENT_SETTING_BACKWARD_COMPATIBLE] =
        { NAP_CLIENT_POLICY_KEY, L"BackwardCompatible", NULL, 0, 2, 1, 2, TRUE },
    /* Read again at most once a second: no restart needed (src/napagent/log.c). */
    [AGENT_SETTING_LOG_LEVEL] =
        { AGENT_PARAMETERS_KEY, L"LogLevel", L"log-level", NAPAGENT_SETTING_LOG_LEVEL,
          AGENT_LOG_INFO, AGENT_LOG_ERROR, AGENT_LOG_TRACE, FALSE, log_level_names },
};

const struct agent_setting *agent_setting_get(enum agent_setting_id id)
{
    return (unsigned int)id < AGENT_SETTING_COUNT ? &settings[id] : NULL;
}

const struct agent_setting *agent_setting_by_rpc_id(UINT32 rpc_id)
{
    unsigned int i;

    for (i = 0; rpc_id && i < AGENT_SETTING_COUNT; i++)
        if (settings[i].rpc_id == rpc_id) return &settings[i];
    return NULL;
}

const struct agent_setting *agent_setting_by_napctl_name(const WCHAR *napctl_name)
{
    unsigned int i;

    for (i = 0; napctl_name && i < AGENT_SETTING_COUNT; i++)
        if (settings[i].napctl_name && !wcscmp(settings[i].napctl_name, napctl_name)) return &settings[i];
    return NULL;
}

/* Registry names are case-insensitive. */
const struct agent_setting *agent_setting_by_name(const WCHAR *key, const WCHAR *name)
{
    unsigned int i;

    for (i = 0; key && name && i < AGENT_SETTING_COUNT; i++)
        if (!_wcsicmp(settings[i].key, key) && !_wcsicmp(settings[i].name, name)) return &settings[i];
    return NULL;
}

BOOL agent_setting_in_range(const struct agent_setting *setting, DWORD value)
{
    return value >= setting->min && value <= setting->max;
}

DWORD agent_setting_clamp(const struct agent_setting *setting, DWORD value)
{
    if (agent_setting_in_range(setting, value)) return value;
    if (setting->choice) return setting->default_value;
    return value < setting->min ? setting->min : setting->max;
}

BOOL agent_setting_parse(const struct agent_setting *setting, const WCHAR *text, DWORD *value)
{
    unsigned int i;
    UINT32 number;

    for (i = 0; setting->value_names && setting->value_names[i]; i++)
    {
        if (wcscmp(text, setting->value_names[i])) continue;
        *value = setting->min + i;
        return TRUE;
    }
    if (!parse_u32(text, &number)) return FALSE;
    *value = number;
    return TRUE;
}

DWORD agent_setting_read(enum agent_setting_id id)
{
    const struct agent_setting *setting = agent_setting_get(id);
    DWORD value, size = sizeof(value);

    if (!setting) return 0;
    if (RegGetValueW(HKEY_LOCAL_MACHINE, setting->key, setting->name, RRF_RT_REG_DWORD, NULL, &value, &size))
        return setting->default_value;
    return agent_setting_clamp(setting, value);
}
