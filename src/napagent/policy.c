/*
 * Group Policy settings of the NAP client, re-read only when the policy key changes
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"

#define POLICIES_KEY L"Software\\Policies"

/* Every registry read is a wineserver round trip (7-40 us under load), too
 * much for each SoH request: cache the values and let a change notification
 * on HKLM\Software\Policies say when to read them again. */
static CRITICAL_SECTION policy_cs;
static HKEY policies_key;
static HANDLE changed_event;
static BOOL stale = TRUE;
static DWORD backward_compatible;

static void arm_notification(void)
{
    if (!policies_key || !changed_event) return;
    if (RegNotifyChangeKeyValue(policies_key, TRUE, REG_NOTIFY_CHANGE_NAME | REG_NOTIFY_CHANGE_LAST_SET,
                                changed_event, TRUE))
        stale = TRUE; /* no notification: read every time */
}

void policy_init(void)
{
    InitializeCriticalSection(&policy_cs);
    changed_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    /* Windows always has this key; an empty one changes nothing. */
    if (RegCreateKeyExW(HKEY_LOCAL_MACHINE, POLICIES_KEY, 0, NULL, 0, KEY_READ | KEY_NOTIFY, NULL,
                        &policies_key, NULL))
        policies_key = NULL;
}

/* ClientConfig\BackwardCompatible, kept to its range as every setting is
 * (src/common/agent_settings.c): anything but 1 or 2 means the default. */
static void read_policy(void)
{
    backward_compatible = agent_setting_read(AGENT_SETTING_BACKWARD_COMPATIBLE);
}

BOOL policy_mode_header(void)
{
    BOOL with_header;

    EnterCriticalSection(&policy_cs);
    if (stale || (changed_event && WaitForSingleObject(changed_event, 0) == WAIT_OBJECT_0))
    {
        stale = FALSE;
        arm_notification(); /* before reading, so no change slips between */
        read_policy();
    }
    with_header = backward_compatible != 1;
    LeaveCriticalSection(&policy_cs);
    return with_header;
}
