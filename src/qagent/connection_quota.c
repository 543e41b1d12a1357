/*
 * What an EC binding shares with its connection objects: the limit, the order of its calls, the released ones
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "napagent_rpc.h"

struct connection_quota
{
    LONG refs;
    LONG live;
    LONG64 call_seq;                   /* the number of the binding's last call */
    SRWLOCK lock;                      /* guards the fields below */
    void (*on_gone)(void *context);
    void *context;
    UINT16 gone_count;
    NAPAGENT_CONNECTION_FACTS gone[NAPAGENT_MAX_GONE];
};

struct connection_quota *connection_quota_create(void)
{
    struct connection_quota *quota = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*quota));

    if (!quota) return NULL;
    quota->refs = 1;
    InitializeSRWLock(&quota->lock);
    return quota;
}

void connection_quota_addref(struct connection_quota *quota)
{
    InterlockedIncrement(&quota->refs);
}

void connection_quota_release(struct connection_quota *quota)
{
    if (!InterlockedDecrement(&quota->refs)) HeapFree(GetProcessHeap(), 0, quota);
}

BOOL connection_quota_take(struct connection_quota *quota, LONG limit)
{
    LONG live = quota->live;

    for (;;)
    {
        LONG seen;

        if (live >= limit) return FALSE;
        seen = InterlockedCompareExchange(&quota->live, live + 1, live);
        if (seen == live) return TRUE;
        live = seen;
    }
}

UINT64 connection_quota_next_seq(struct connection_quota *quota)
{
    return (UINT64)InterlockedIncrement64(&quota->call_seq);
}

void connection_quota_give_back(struct connection_quota *quota, const GUID *id)
{
    static const GUID no_id;

    InterlockedDecrement(&quota->live);
    /* An id the EC never set names no connection the agent knows. */
    if (IsEqualGUID(id, &no_id)) return;
    AcquireSRWLockExclusive(&quota->lock);
    /* Full (the agent was unreachable for a while): the oldest goes; the
     * agent re-learns the live connections when it comes back anyway. */
    if (quota->gone_count == NAPAGENT_MAX_GONE)
        memmove(quota->gone, quota->gone + 1, --quota->gone_count * sizeof(quota->gone[0]));
    ZeroMemory(&quota->gone[quota->gone_count], sizeof(quota->gone[0]));
    quota->gone[quota->gone_count].connection_id = *id;
    quota->gone[quota->gone_count++].call_seq = (UINT64)InterlockedCompareExchange64(&quota->call_seq, 0, 0);
    if (quota->on_gone) quota->on_gone(quota->context);
    ReleaseSRWLockExclusive(&quota->lock);
}

void connection_quota_watch(struct connection_quota *quota, void (*on_gone)(void *context), void *context)
{
    AcquireSRWLockExclusive(&quota->lock);
    quota->on_gone = on_gone;
    quota->context = context;
    ReleaseSRWLockExclusive(&quota->lock);
}

void connection_quota_unwatch(struct connection_quota *quota, void *context)
{
    AcquireSRWLockExclusive(&quota->lock);
    if (quota->context == context)
    {
        quota->on_gone = NULL;
        quota->context = NULL;
    }
    ReleaseSRWLockExclusive(&quota->lock);
}

UINT16 connection_quota_take_gone(struct connection_quota *quota, NAPAGENT_CONNECTION_FACTS *out, UINT16 cap)
{
    UINT16 count;

    AcquireSRWLockExclusive(&quota->lock);
    count = min(cap, quota->gone_count);
    memcpy(out, quota->gone, count * sizeof(*out));
    quota->gone_count -= count;
    memmove(quota->gone, quota->gone + count, quota->gone_count * sizeof(*out));
    ReleaseSRWLockExclusive(&quota->lock);
    return count;
}
