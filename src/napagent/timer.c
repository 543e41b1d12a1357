/*
 * The agent's one timer thread: SHA answer timeouts, fix-up polls, probation ends
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"

/* Deadlines are few and coarse: one thread that sleeps until the earliest. */
static CRITICAL_SECTION timer_cs;
static CONDITION_VARIABLE timer_cv;
static BOOL kicked, stopping;
static HANDLE thread;

static DWORD WINAPI timer_main(void *unused)
{
    (void)unused;
    EnterCriticalSection(&timer_cs);
    while (!stopping)
    {
        ULONGLONG now, next;

        kicked = FALSE;
        LeaveCriticalSection(&timer_cs);
        now = GetTickCount64();
        next = min(sha_tick(now), ec_tick(now));
        EnterCriticalSection(&timer_cs);
        /* A kick while ticking may have brought a deadline nearer: look again. */
        if (kicked || stopping) continue;
        now = GetTickCount64();
        SleepConditionVariableCS(&timer_cv, &timer_cs, next > now ? (DWORD)min(next - now, 60000) : 0);
    }
    LeaveCriticalSection(&timer_cs);
    return 0;
}

void timer_init(void)
{
    InitializeCriticalSection(&timer_cs);
    InitializeConditionVariable(&timer_cv);
    thread = CreateThread(NULL, 0, timer_main, NULL, 0, NULL);
}

void timer_kick(void)
{
    EnterCriticalSection(&timer_cs);
    kicked = TRUE;
    WakeConditionVariable(&timer_cv);
    LeaveCriticalSection(&timer_cs);
}

void timer_shutdown(void)
{
    EnterCriticalSection(&timer_cs);
    stopping = TRUE;
    WakeConditionVariable(&timer_cv);
    LeaveCriticalSection(&timer_cs);
    if (thread)
    {
        WaitForSingleObject(thread, 5000);
        CloseHandle(thread);
    }
}
