/*
 * The thread that carries a session's events to a callback in another apartment, one at a time
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "courier.h"
#include "module_thread.h"
#include "nap_trace.h"

NAP_TRACE_CHANNEL(qagent);

struct courier
{
    LONG refs;                         /* the owner's and the thread's */
    SRWLOCK lock;                      /* guards the queue and stopped */
    CONDITION_VARIABLE queued;
    struct mailbox_event *head, *tail;
    unsigned int count;
    BOOL stopped;
    IStream *stream;                   /* the gate, until the thread unmarshals it */
    IID iid;
    courier_run_fn run;
    void (*done)(void *context);
    void *context;
};

static void drop_queue(struct courier *courier)
{
    struct mailbox_event *event;

    while ((event = courier->head))
    {
        courier->head = event->next;
        mailbox_event_free(event);
    }
    courier->tail = NULL;
    courier->count = 0;
}

static void courier_release(struct courier *courier)
{
    if (InterlockedDecrement(&courier->refs)) return;
    drop_queue(courier);
    HeapFree(GetProcessHeap(), 0, courier);
}

/* The next event, NULL once stopped. */
static struct mailbox_event *next_event(struct courier *courier)
{
    struct mailbox_event *event = NULL;

    AcquireSRWLockExclusive(&courier->lock);
    while (!courier->stopped && !courier->head) SleepConditionVariableSRW(&courier->queued, &courier->lock, INFINITE, 0);
    if (!courier->stopped && (event = courier->head))
    {
        if (!(courier->head = event->next)) courier->tail = NULL;
        courier->count--;
        event->next = NULL;
    }
    ReleaseSRWLockExclusive(&courier->lock);
    return event;
}

static DWORD WINAPI courier_thread(void *arg)
{
    struct courier *courier = arg;
    HRESULT init = CoInitializeEx(NULL, COINIT_MULTITHREADED), hr;
    struct mailbox_event *event;
    IUnknown *proxy = NULL;

    if (FAILED(hr = CoGetInterfaceAndReleaseStream(courier->stream, &courier->iid, (void **)&proxy)))
        ERR("the callback's gate cannot be unmarshalled: 0x%08lx\n", hr);
    courier->stream = NULL;
    while ((event = next_event(courier)))
    {
        /* Blocks until the callback's apartment takes the call. */
        if (proxy) courier->run(courier->context, proxy, &event->event);
        mailbox_event_free(event);
    }
    /* The gate's last reference goes in its apartment, through the proxy. */
    if (proxy) IUnknown_Release(proxy);
    if (SUCCEEDED(init)) CoUninitialize();
    courier->done(courier->context);
    courier_release(courier);
    return 0;
}

HRESULT courier_start(IStream *stream, REFIID iid, courier_run_fn run, void (*done)(void *context), void *context,
                      struct courier **out)
{
    struct courier *courier;
    HANDLE thread;

    *out = NULL;
    if (!(courier = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*courier)))) return E_OUTOFMEMORY;
    courier->refs = 2;
    InitializeSRWLock(&courier->lock);
    InitializeConditionVariable(&courier->queued);
    courier->stream = stream;
    courier->iid = *iid;
    courier->run = run;
    courier->done = done;
    courier->context = context;
    /* The thread keeps qagent.dll loaded until it has left it. */
    if (!(thread = module_thread_start(courier_thread, courier, NULL)))
    {
        HRESULT hr = HRESULT_FROM_WIN32(GetLastError());
        HeapFree(GetProcessHeap(), 0, courier);
        return hr;
    }
    CloseHandle(thread);
    *out = courier;
    return S_OK;
}

/* Caller holds the lock.  The mailbox's rule (event_pump.c): a payload-less
 * notification waiting already runs once. */
static BOOL already_queued(const struct courier *courier, const NAPAGENT_EVENT *event)
{
    const struct mailbox_event *queued;

    if (event->soh.size || event->other.size) return FALSE;
    for (queued = courier->head; queued; queued = queued->next)
        if (queued->event.type == event->type && !queued->event.soh.size && !queued->event.other.size) return TRUE;
    return FALSE;
}

void courier_post(struct courier *courier, struct mailbox_event *event)
{
    struct mailbox_event *dropped = NULL;

    AcquireSRWLockExclusive(&courier->lock);
    if (courier->stopped || already_queued(courier, &event->event))
    {
        dropped = event;
        event = NULL;
    }
    else if (courier->count == COURIER_QUEUE_MAX)
    {
        /* The callback's apartment has not pumped for a while: the oldest goes. */
        dropped = courier->head;
        if (!(courier->head = dropped->next)) courier->tail = NULL;
        courier->count--;
        WARN("callback %p: %u events waiting, event %u dropped\n", courier, courier->count, dropped->event.type);
    }
    if (event)
    {
        if (courier->tail) courier->tail->next = event;
        else courier->head = event;
        courier->tail = event;
        courier->count++;
    }
    ReleaseSRWLockExclusive(&courier->lock);
    if (event) WakeConditionVariable(&courier->queued);
    mailbox_event_free(dropped);
}

void courier_stop(struct courier *courier)
{
    AcquireSRWLockExclusive(&courier->lock);
    courier->stopped = TRUE;
    drop_queue(courier);
    ReleaseSRWLockExclusive(&courier->lock);
    WakeConditionVariable(&courier->queued);
    courier_release(courier);
}
