/*
 * Bounded calls: running an RPC stub call on a worker thread and waiting for it with a timeout
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_CALL_RUNNER_H
#define NAP_CALL_RUNNER_H

#include <windows.h>
#include "rpc_guard.h"

/* Under Wine an RPC call to a hung server blocks forever and cannot be
 * cancelled, so the binding never makes one on its caller's thread: a worker
 * makes it while the caller waits at most timeout_ms.  A job that times out
 * is abandoned: the worker finishes it whenever the agent answers.  The job
 * is destroyed (job->destroy: free what the stub returned and is still in
 * the job, then the job) by whichever of the two lets go last. */
struct call_job
{
    LONG refs;
    rpc_guarded_fn call;
    void (*destroy)(struct call_job *job);
    HRESULT hr;
    DWORD exception_code;
    BOOL started;                   /* a worker took it from the queue */
    BOOL done;
    CONDITION_VARIABLE done_cv;
    struct call_job *next;
};

/* Allocates a zeroed job of `size` bytes (a struct that begins with a struct
 * call_job); destroy must end with call_job_free. */
void *call_job_create(size_t size, rpc_guarded_fn call, void (*destroy)(struct call_job *job));
void call_job_free(struct call_job *job);
void call_job_release(struct call_job *job);

/* Runs job->call(job) on a worker.  Returns S_OK once it finished (its result
 * is in job->hr / job->exception_code), RPC_E_TIMEOUT if it did not finish in
 * timeout_ms (waiting for a free worker counts), or E_OUTOFMEMORY when no
 * worker could be had at all. */
HRESULT call_runner_run(struct call_job *job, DWORD timeout_ms);

#endif
