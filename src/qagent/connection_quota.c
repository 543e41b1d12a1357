/*
 * The per-binding count of live connection objects (maxConnectionCountPerEnforcer)
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"

struct connection_quota *connection_quota_create(void)
{
    struct connection_quota *quota = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*quota));

    if (quota) quota->refs = 1;
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

void connection_quota_give_back(struct connection_quota *quota)
{
    InterlockedDecrement(&quota->live);
}
