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
/* What runs at each tick (set once at start, so that this file needs
 * nothing of theirs): each returns its next deadline. */
static timer_tick_fn ticks[TIMER_MAX_TICKS];
static unsigned int tick_count;

static DWORD WINAPI timer_main(void *unused)
{
    (void)unused;
    EnterCriticalSection(&timer_cs);
    while (!stopping)
    {
        ULONGLONG now, next;
        unsigned int i;

        kicked = FALSE;
        LeaveCriticalSection(&timer_cs);
        now = GetTickCount64();
        next = ~0ull;
        for (i = 0; i < tick_count; i++) next = min(next, ticks[i](now));
        EnterCriticalSection(&timer_cs);
        /* A kick while ticking may have brought a deadline nearer: look again. */
        if (kicked || stopping) continue;
        now = GetTickCount64();
        SleepConditionVariableCS(&timer_cv, &timer_cs, next > now ? (DWORD)min(next - now, 60000) : 0);
    }
    LeaveCriticalSection(&timer_cs);
    return 0;
}

void timer_init(const timer_tick_fn *fns, unsigned int count)
{
    tick_count = min(count, TIMER_MAX_TICKS);
    memcpy(ticks, fns, tick_count * sizeof(*fns));
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
