/*
 * The system's isolation state: the most restrictive decision over every EC connection
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"
#include "NapTypes.h"

/* The longest one long poll may wait; the notifier asks again after it. */
#define MAX_WAIT_MS 60000

static CRITICAL_SECTION isolation_cs;
static CONDITION_VARIABLE changed_cv;
static NAPAGENT_SYSTEM_ISOLATION system_isolation = { .state = isolationStateNotRestricted };
static WCHAR system_failure_url[SOH_MAX_URL + 1];

void isolation_init(void)
{
    InitializeCriticalSection(&isolation_cs);
    InitializeConditionVariable(&changed_cv);
}

BOOL isolation_worse(const struct connection_decision *a, const struct connection_decision *b)
{
    return a->state > b->state
           || (a->state == b->state && CompareFileTime(&a->prob_end_time, &b->prob_end_time) < 0);
}

void isolation_update(const struct connection_decision *worst, BOOL unknown)
{
    UINT32 state = worst ? worst->state : isolationStateNotRestricted;
    UINT32 extended = worst ? worst->extended_state : extendedIsolationStateNoData;
    FILETIME prob_end = worst ? worst->prob_end_time : (FILETIME){ 0, 0 };
    const WCHAR *url = worst ? worst->failure_url : L"";
    BOOL changed;

    EnterCriticalSection(&isolation_cs);
    changed = state != system_isolation.state || extended != system_isolation.extended_state
              || CompareFileTime(&prob_end, &system_isolation.prob_end_time) || lstrcmpW(url, system_failure_url);
    system_isolation.unknown_connections = unknown;
    if (changed)
    {
        system_isolation.state = state;
        system_isolation.extended_state = extended;
        system_isolation.prob_end_time = prob_end;
        lstrcpynW(system_failure_url, url, ARRAYSIZE(system_failure_url));
        system_isolation.generation++;
    }
    LeaveCriticalSection(&isolation_cs);
    if (!changed) return;
    WakeAllConditionVariable(&changed_cv);
    agent_log(AGENT_LOG_INFO, "system isolation state now %u", state);
    /* Outside the lock: the SHAs' lock comes before ours. */
    sha_isolation_changed();
}

HRESULT isolation_get(NAPAGENT_SYSTEM_ISOLATION *isolation)
{
    HRESULT hr = S_OK;

    EnterCriticalSection(&isolation_cs);
    *isolation = system_isolation;
    if (!(isolation->failure_url = MIDL_user_allocate((lstrlenW(system_failure_url) + 1) * sizeof(WCHAR))))
        hr = E_OUTOFMEMORY;
    else lstrcpyW(isolation->failure_url, system_failure_url);
    LeaveCriticalSection(&isolation_cs);
    return hr;
}

HRESULT isolation_wait_change(UINT32 known, UINT32 timeout_ms, UINT32 *generation)
{
    ULONGLONG deadline = GetTickCount64() + min(timeout_ms, MAX_WAIT_MS);

    EnterCriticalSection(&isolation_cs);
    while (system_isolation.generation == known)
    {
        ULONGLONG now = GetTickCount64();
        if (now >= deadline) break;
        SleepConditionVariableCS(&changed_cv, &isolation_cs, (DWORD)(deadline - now));
    }
    *generation = system_isolation.generation;
    LeaveCriticalSection(&isolation_cs);
    return S_OK;
}
