/*
 * Bounded calls: a small pool of worker threads that make RPC calls for the binding
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "call_runner.h"
#include "module_thread.h"

/* Workers stuck in a hung agent count against this cap, so a hung agent
 * cannot make a host create threads without end.  Past it, calls queue for
 * the next free worker. */
#define MAX_WORKERS 64
/* An idle worker ends after this long without work.  Workers are module
 * threads: until the last one has ended, qagent.dll stays loaded even after
 * COM has freed it (module_thread.h). */
#define WORKER_IDLE_MS 30000

/* SRW locks and condition variables: under Wine they are futexes, with no
 * wineserver round trip on the hot path. */
static SRWLOCK runner_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE work_cv = CONDITION_VARIABLE_INIT;
static struct call_job *queue_head, *queue_tail;
static unsigned int queue_length, worker_count, idle_count;

void *call_job_create(size_t size, rpc_guarded_fn call, void (*destroy)(struct call_job *job))
{
    struct call_job *job = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, size);

    if (!job) return NULL;
    job->refs = 1;
    job->call = call;
    job->destroy = destroy;
    InitializeConditionVariable(&job->done_cv);
    return job;
}

void call_job_free(struct call_job *job)
{
    HeapFree(GetProcessHeap(), 0, job);
}

void call_job_release(struct call_job *job)
{
    if (!InterlockedDecrement(&job->refs)) job->destroy(job);
}

static struct call_job *take_job(void)
{
    struct call_job *job = queue_head;

    if (job)
    {
        queue_head = job->next;
        if (!queue_head) queue_tail = NULL;
        job->next = NULL;
        job->started = TRUE;
        queue_length--;
    }
    return job;
}

/* Caller holds runner_lock: a job that timed out before any worker took it
 * leaves the queue, so a hung agent cannot make the queue grow. */
static BOOL unqueue_job(struct call_job *job)
{
    struct call_job **link, *previous = NULL;

    for (link = &queue_head; *link; previous = *link, link = &(*link)->next)
    {
        if (*link != job) continue;
        *link = job->next;
        if (queue_tail == job) queue_tail = previous;
        job->next = NULL;
        queue_length--;
        return TRUE;
    }
    return FALSE;
}

static void finish_job(struct call_job *job)
{
    job->hr = rpc_guarded_call(job->call, job, &job->exception_code);
    AcquireSRWLockExclusive(&runner_lock);
    job->done = TRUE;
    WakeAllConditionVariable(&job->done_cv);
    ReleaseSRWLockExclusive(&runner_lock);
    call_job_release(job);
}

static DWORD WINAPI worker_main(void *unused)
{
    (void)unused;
    AcquireSRWLockExclusive(&runner_lock);
    for (;;)
    {
        struct call_job *job = take_job();

        if (!job)
        {
            idle_count++;
            if (!SleepConditionVariableSRW(&work_cv, &runner_lock, WORKER_IDLE_MS, 0) && !queue_head)
            {
                idle_count--;
                break;
            }
            idle_count--;
            continue;
        }
        ReleaseSRWLockExclusive(&runner_lock);
        finish_job(job);
        AcquireSRWLockExclusive(&runner_lock);
    }
    worker_count--;
    ReleaseSRWLockExclusive(&runner_lock);
    return 0;
}

/* Caller holds runner_lock.  An idle worker no queued job has claimed takes
 * the job, or a new one, so that no call waits behind another that may be
 * stuck; FALSE only when there is no worker at all to take it. */
static BOOL ensure_worker(void)
{
    HANDLE thread;

    if (idle_count > queue_length || worker_count >= MAX_WORKERS) return worker_count > 0;
    if (!(thread = module_thread_start(worker_main, NULL, NULL))) return worker_count > 0;
    CloseHandle(thread);
    worker_count++;
    return TRUE;
}

HRESULT call_runner_run(struct call_job *job, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    HRESULT hr = S_OK;

    AcquireSRWLockExclusive(&runner_lock);
    if (!ensure_worker())
    {
        ReleaseSRWLockExclusive(&runner_lock);
        return E_OUTOFMEMORY;
    }
    InterlockedIncrement(&job->refs); /* the worker's */
    if (queue_tail) queue_tail->next = job;
    else queue_head = job;
    queue_tail = job;
    queue_length++;
    WakeConditionVariable(&work_cv);
    while (!job->done)
    {
        ULONGLONG now = GetTickCount64();

        if (now >= deadline)
        {
            if (!job->started && unqueue_job(job)) InterlockedDecrement(&job->refs); /* the worker's */
            hr = RPC_E_TIMEOUT;
            break;
        }
        SleepConditionVariableSRW(&job->done_cv, &runner_lock, (DWORD)(deadline - now), 0);
    }
    ReleaseSRWLockExclusive(&runner_lock);
    return hr;
}
