/*
 * An IMallocSpy over COM's task allocator, for the tests' ownership checks
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_MALLOC_SPY_H
#define NAP_MALLOC_SPY_H

#include <windows.h>

/* What went through CoTaskMem* since malloc_spy_begin or malloc_spy_reset. */
struct malloc_spy_counts
{
    LONG attempts;       /* allocations asked for with a non-zero size */
    LONG allocs;         /* blocks handed out */
    LONG frees;          /* blocks given back that were handed out under the spy */
    LONG unknown_frees;  /* frees of blocks the spy never handed out */
};

/* Registers the spy (revoking one a failed test left behind) with zero
 * counts; fail_at: the allocation attempt (1-based) that fails, 0 for none. */
HRESULT malloc_spy_begin(LONG fail_at);
/* Zero counts and a new fail_at, still registered. */
void malloc_spy_reset(LONG fail_at);
struct malloc_spy_counts malloc_spy_counts(void);
/* Blocks handed out under the spy and not freed yet. */
unsigned int malloc_spy_live(void);
/* Revokes the spy; COM refuses (and this returns its error) while blocks
 * allocated under it are alive. */
HRESULT malloc_spy_end(void);

#endif
