/*
 * An IMallocSpy over COM's task allocator, for the tests' ownership checks
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "malloc_spy.h"
#include <objbase.h>

#define MAX_LIVE 8192

static struct
{
    IMallocSpy IMallocSpy_iface;
    SRWLOCK lock;                /* guards what follows */
    struct malloc_spy_counts counts;
    LONG fail_at;
    void *live[MAX_LIVE];
    unsigned int live_count;
    void *realloc_old;           /* between PreRealloc and PostRealloc */
} spy = { .lock = SRWLOCK_INIT };

static void add_live(void *block)
{
    if (!block) return;
    AcquireSRWLockExclusive(&spy.lock);
    if (spy.live_count < MAX_LIVE) spy.live[spy.live_count++] = block;
    spy.counts.allocs++;
    ReleaseSRWLockExclusive(&spy.lock);
}

static void remove_live(void *block)
{
    unsigned int i;

    AcquireSRWLockExclusive(&spy.lock);
    for (i = 0; i < spy.live_count && spy.live[i] != block; i++);
    if (i < spy.live_count)
    {
        spy.live[i] = spy.live[--spy.live_count];
        spy.counts.frees++;
    }
    else spy.counts.unknown_frees++;
    ReleaseSRWLockExclusive(&spy.lock);
}

static HRESULT WINAPI spy_QueryInterface(IMallocSpy *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IMallocSpy))
    {
        *out = iface;
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

/* The spy is static; COM's references to it need no counting. */
static ULONG WINAPI spy_AddRef(IMallocSpy *iface) { (void)iface; return 2; }
static ULONG WINAPI spy_Release(IMallocSpy *iface) { (void)iface; return 1; }

static SIZE_T WINAPI spy_PreAlloc(IMallocSpy *iface, SIZE_T size)
{
    BOOL fail;

    (void)iface;
    if (!size) return size;
    AcquireSRWLockExclusive(&spy.lock);
    fail = ++spy.counts.attempts == spy.fail_at;
    ReleaseSRWLockExclusive(&spy.lock);
    /* Returning 0 for a non-zero request makes the allocation fail. */
    return fail ? 0 : size;
}

static void *WINAPI spy_PostAlloc(IMallocSpy *iface, void *actual)
{
    (void)iface;
    add_live(actual);
    return actual;
}

static void *WINAPI spy_PreFree(IMallocSpy *iface, void *request, BOOL spyed)
{
    (void)iface;
    if (request && spyed) remove_live(request);
    return request;
}

static void WINAPI spy_PostFree(IMallocSpy *iface, BOOL spyed) { (void)iface; (void)spyed; }

static SIZE_T WINAPI spy_PreRealloc(IMallocSpy *iface, void *request, SIZE_T size, void **new_request, BOOL spyed)
{
    (void)iface;
    spy.realloc_old = spyed ? request : NULL;
    *new_request = request;
    return size;
}

static void *WINAPI spy_PostRealloc(IMallocSpy *iface, void *actual, BOOL spyed)
{
    (void)iface;
    (void)spyed;
    if (spy.realloc_old) remove_live(spy.realloc_old);
    add_live(actual);
    return actual;
}

static void *WINAPI spy_PreGetSize(IMallocSpy *iface, void *request, BOOL spyed)
{
    (void)iface; (void)spyed;
    return request;
}

static SIZE_T WINAPI spy_PostGetSize(IMallocSpy *iface, SIZE_T actual, BOOL spyed)
{
    (void)iface; (void)spyed;
    return actual;
}

static void *WINAPI spy_PreDidAlloc(IMallocSpy *iface, void *request, BOOL spyed)
{
    (void)iface; (void)spyed;
    return request;
}

static int WINAPI spy_PostDidAlloc(IMallocSpy *iface, void *request, BOOL spyed, int actual)
{
    (void)iface; (void)request; (void)spyed;
    return actual;
}

static void WINAPI spy_PreHeapMinimize(IMallocSpy *iface) { (void)iface; }
static void WINAPI spy_PostHeapMinimize(IMallocSpy *iface) { (void)iface; }

static const IMallocSpyVtbl spy_vtbl =
{
    spy_QueryInterface, spy_AddRef, spy_Release,
    spy_PreAlloc, spy_PostAlloc, spy_PreFree, spy_PostFree,
    spy_PreRealloc, spy_PostRealloc, spy_PreGetSize, spy_PostGetSize,
    spy_PreDidAlloc, spy_PostDidAlloc, spy_PreHeapMinimize, spy_PostHeapMinimize,
};

void malloc_spy_reset(LONG fail_at)
{
    AcquireSRWLockExclusive(&spy.lock);
    ZeroMemory(&spy.counts, sizeof(spy.counts));
    spy.fail_at = fail_at;
    ReleaseSRWLockExclusive(&spy.lock);
}

HRESULT malloc_spy_begin(LONG fail_at)
{
    CoRevokeMallocSpy();
    spy.IMallocSpy_iface.lpVtbl = &spy_vtbl;
    malloc_spy_reset(fail_at);
    AcquireSRWLockExclusive(&spy.lock);
    spy.live_count = 0;
    ReleaseSRWLockExclusive(&spy.lock);
    return CoRegisterMallocSpy(&spy.IMallocSpy_iface);
}

struct malloc_spy_counts malloc_spy_counts(void)
{
    struct malloc_spy_counts counts;

    AcquireSRWLockShared(&spy.lock);
    counts = spy.counts;
    ReleaseSRWLockShared(&spy.lock);
    return counts;
}

unsigned int malloc_spy_live(void)
{
    unsigned int live;

    AcquireSRWLockShared(&spy.lock);
    live = spy.live_count;
    ReleaseSRWLockShared(&spy.lock);
    return live;
}

HRESULT malloc_spy_end(void)
{
    return CoRevokeMallocSpy();
}
