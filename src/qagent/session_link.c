/*
 * A session's link to the NapAgent over ncalrpc, bounded and self-healing
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "session_link.h"
#include "agent_endpoint.h"
#include "agent_service.h"
#include "nap_hresults.h"

/* Context handles of sessions the agent forgot (it restarted).  They are
 * freed locally only when the link ends: another thread may still be passing
 * one to a call that is failing. */
#define MAX_RETIRED 32
/* A session call that finds its session gone (the agent restarted, or
 * replaced it) rebinds and tries again; an agent not running ends the
 * attempts at once.  Two are enough: the second call names a session the
 * agent has just made.  One more covers a restart between the two. */
#define SESSION_CALL_ATTEMPTS 3

struct session_link
{
    LONG refs;
    const struct session_kind *kind;
    UINT32 id;
    DWORD timeout_ms;
    SRWLOCK lock;                  /* guards the fields below */
    CONDITION_VARIABLE bound_cv;   /* a rebind finished */
    RPC_BINDING_HANDLE binding;    /* to the agent we know of; NULL before the first */
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];
    /* Binding handles to agents that went away: freed when the link ends,
     * since a worker stuck in a call may still be using one. */
    unsigned int old_binding_count;
    RPC_BINDING_HANDLE *old_bindings;
    void *handle;                  /* NULL while not bound */
    UINT64 cookie;                 /* of the newest session, kept across restarts */
    BOOL rebinding;
    BOOL closed;                   /* unbound, or dropped by the agent: no more rebinds */
    unsigned int retired_count;
    void *retired[MAX_RETIRED];
};

static void link_release(struct session_link *link)
{
    unsigned int i;

    if (InterlockedDecrement(&link->refs)) return;
    if (link->handle) RpcSsDestroyClientContext(&link->handle);
    for (i = 0; i < link->retired_count; i++) RpcSsDestroyClientContext(&link->retired[i]);
    if (link->binding) RpcBindingFree(&link->binding);
    for (i = 0; i < link->old_binding_count; i++) RpcBindingFree(&link->old_bindings[i]);
    HeapFree(GetProcessHeap(), 0, link->old_bindings);
    HeapFree(GetProcessHeap(), 0, link);
}

static HRESULT job_thunk(void *arg)
{
    struct session_job *job = arg;

    return job->call(job);
}

static HRESULT unbind_new_call(struct session_job *job)
{
    return job->link->kind->unbind(&job->new_handle);
}

/* Runs on whichever thread lets go of the job last. */
static void destroy_job(struct call_job *base)
{
    struct session_job *job = CONTAINING_RECORD(base, struct session_job, job);

    if (job->cleanup) job->cleanup(job);
    /* An unbind that failed (agent gone) or never finished: free it locally. */
    if (job->owns_handle && job->handle) RpcSsDestroyClientContext(&job->handle);
    /* A bind that finished after its caller gave up: nobody will use it. */
    if (job->new_handle)
    {
        job->call = unbind_new_call;
        if (FAILED(rpc_guarded_call(job_thunk, job, NULL)) && job->new_handle)
            RpcSsDestroyClientContext(&job->new_handle);
    }
    link_release(job->link);
    call_job_free(base);
}

void *session_job_create(struct session_link *link, size_t size, HRESULT (*call)(struct session_job *job),
                         void (*cleanup)(struct session_job *job))
{
    struct session_job *job = call_job_create(size, job_thunk, destroy_job);

    if (!job) return NULL;
    job->link = link;
    job->call = call;
    job->cleanup = cleanup;
    InterlockedIncrement(&link->refs);
    return job;
}

void session_job_release(struct session_job *job)
{
    call_job_release(&job->job);
}

/* Runs the job on a worker within the link's timeout. */
static HRESULT run_job(struct session_job *job)
{
    HRESULT hr;

    job->job.done = FALSE;
    job->job.started = FALSE;
    job->job.exception_code = 0;
    if (FAILED(hr = call_runner_run(&job->job, job->link->timeout_ms))) return hr;
    if (job->job.exception_code && rpc_code_means_disconnected(job->job.exception_code)) return RPC_E_DISCONNECTED;
    return job->job.hr;
}

/* Caller holds link->lock.  The agent forgot this session: keep the handle
 * for freeing later and make the next call rebind. */
static void retire_session(struct session_link *link, void *handle)
{
    if (!handle || link->handle != handle) return;
    if (link->retired_count == MAX_RETIRED)
    {
        RpcSsDestroyClientContext(&link->retired[0]);
        memmove(link->retired, link->retired + 1, sizeof(link->retired[0]) * (MAX_RETIRED - 1));
        link->retired_count--;
    }
    link->retired[link->retired_count++] = handle;
    link->handle = NULL;
}

/* Caller holds link->lock.  Points the link at the agent running now: a
 * restarted agent listens on a new endpoint.  FALSE if none is running. */
static BOOL find_agent(struct session_link *link)
{
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];
    RPC_BINDING_HANDLE binding, *old;

    if (!agent_endpoint_find(endpoint, ARRAYSIZE(endpoint))) return FALSE;
    if (link->binding && !lstrcmpW(endpoint, link->endpoint)) return TRUE;
    if (agent_endpoint_bind_to(&binding, link->endpoint, ARRAYSIZE(link->endpoint)) != RPC_S_OK) return FALSE;
    if (link->binding)
    {
        old = link->old_bindings
              ? HeapReAlloc(GetProcessHeap(), 0, link->old_bindings, (link->old_binding_count + 1) * sizeof(*old))
              : HeapAlloc(GetProcessHeap(), 0, sizeof(*old));
        if (!old)
        {
            RpcBindingFree(&binding);
            return FALSE;
        }
        link->old_bindings = old;
        link->old_bindings[link->old_binding_count++] = link->binding;
    }
    link->binding = binding;
    return TRUE;
}

static HRESULT bind_call(struct session_job *job)
{
    struct session_link *link = job->link;

    return link->kind->bind(job->binding, link->id, GetCurrentProcessId(), job->previous_cookie, &job->new_cookie,
                            &job->new_handle);
}

/* Binds (or rebinds) unless bound; only one thread binds at a time, the
 * others wait for it within their own timeout.  *binding and *handle: what a
 * call uses. */
static HRESULT ensure_bound(struct session_link *link, RPC_BINDING_HANDLE *binding, UINT64 *cookie, void **handle)
{
    ULONGLONG deadline = GetTickCount64() + link->timeout_ms;
    struct session_job *job = NULL;
    HRESULT hr;

    AcquireSRWLockExclusive(&link->lock);
    while (link->rebinding && !link->handle && !link->closed)
    {
        ULONGLONG now = GetTickCount64();
        if (now >= deadline) break;
        SleepConditionVariableSRW(&link->bound_cv, &link->lock, (DWORD)(deadline - now), 0);
    }
    if (link->closed) hr = NAP_E_NOT_INITIALIZED;
    else if (link->handle) hr = S_OK;
    else if (link->rebinding) hr = RPC_E_TIMEOUT;
    /* No agent process alive: say so without touching a pipe. */
    else if (!find_agent(link)) hr = RPC_E_DISCONNECTED;
    else hr = S_FALSE;
    *binding = link->binding;
    *cookie = link->cookie;
    *handle = link->handle;
    if (hr != S_FALSE)
    {
        ReleaseSRWLockExclusive(&link->lock);
        return hr;
    }
    link->rebinding = TRUE;
    ReleaseSRWLockExclusive(&link->lock);

    if (!(job = session_job_create(link, sizeof(*job), bind_call, NULL))) hr = E_OUTOFMEMORY;
    else
    {
        job->binding = link->binding; /* stays valid: old handles live as long as the link */
        job->previous_cookie = link->cookie;
        hr = run_job(job);
    }

    AcquireSRWLockExclusive(&link->lock);
    if (SUCCEEDED(hr) && !link->closed)
    {
        link->handle = job->new_handle;
        link->cookie = job->new_cookie;
        job->new_handle = NULL;
    }
    else if (SUCCEEDED(hr)) hr = NAP_E_NOT_INITIALIZED; /* unbound meanwhile: destroy_job unbinds it */
    link->rebinding = FALSE;
    *binding = link->binding;
    *cookie = link->cookie;
    *handle = link->handle;
    WakeAllConditionVariable(&link->bound_cv);
    ReleaseSRWLockExclusive(&link->lock);
    if (job) session_job_release(job);
    return hr;
}

HRESULT session_link_call(struct session_job *job)
{
    struct session_link *link = job->link;
    unsigned int attempt;
    HRESULT hr = RPC_E_DISCONNECTED;

    for (attempt = 0; attempt < SESSION_CALL_ATTEMPTS; attempt++)
    {
        if (FAILED(hr = ensure_bound(link, &job->binding, &job->cookie, &job->handle))) return hr;
        hr = run_job(job);
        /* Lost: the agent restarted (it knows no such cookie), died, or
         * closed the session while going down. */
        if (hr != RPC_E_DISCONNECTED && hr != NAP_E_NOT_INITIALIZED) return hr;
        AcquireSRWLockExclusive(&link->lock);
        retire_session(link, job->handle);
        ReleaseSRWLockExclusive(&link->lock);
        if (job->cleanup) job->cleanup(job);
    }
    return hr == NAP_E_NOT_INITIALIZED ? RPC_E_DISCONNECTED : hr;
}

static HRESULT first_bind(struct session_link *link)
{
    RPC_BINDING_HANDLE binding;
    UINT64 cookie;
    void *handle;
    HRESULT hr = ensure_bound(link, &binding, &cookie, &handle);

    /* As on Windows, Initialize starts the agent's service when it is
     * stopped, and waits for it (bounded).  Not installed, or it did not
     * come up: RPC_E_DISCONNECTED, as for any agent not running. */
    if (hr != RPC_E_DISCONNECTED || FAILED(agent_service_ensure_running())) return hr;
    return ensure_bound(link, &binding, &cookie, &handle);
}

HRESULT session_link_bind(const struct session_kind *kind, UINT32 id, DWORD timeout_ms, struct session_link **out)
{
    struct session_link *link;
    HRESULT hr;

    *out = NULL;
    if (!(link = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*link)))) return E_OUTOFMEMORY;
    link->refs = 1;
    link->kind = kind;
    link->id = id;
    link->timeout_ms = timeout_ms;
    InitializeSRWLock(&link->lock);
    InitializeConditionVariable(&link->bound_cv);
    if (FAILED(hr = first_bind(link)))
    {
        session_link_close(link);
        link_release(link);
        return hr;
    }
    *out = link;
    return S_OK;
}

static HRESULT unbind_call(struct session_job *job)
{
    return job->link->kind->unbind(&job->handle);
}

static HRESULT end_call(struct session_job *job)
{
    return job->link->kind->end(job->binding, job->cookie);
}

/* The context handle is unknown on the connection rpcrt4 picked (Wine may
 * split one client's connections over two server associations): end the
 * session by its cookie; destroy_job frees the handle locally. */
static HRESULT end_session(struct session_job *job)
{
    HRESULT hr;

    job->call = end_call;
    hr = run_job(job);
    return hr == NAP_E_NOT_INITIALIZED ? S_OK : hr;
}

HRESULT session_link_unbind(struct session_link *link)
{
    struct session_job *job;
    RPC_BINDING_HANDLE binding;
    UINT64 cookie;
    void *handle;
    BOOL closed;
    HRESULT hr;

    AcquireSRWLockExclusive(&link->lock);
    closed = link->closed;
    link->closed = TRUE;
    binding = link->binding;
    cookie = link->cookie;
    handle = link->handle;
    link->handle = NULL;
    WakeAllConditionVariable(&link->bound_cv);
    ReleaseSRWLockExclusive(&link->lock);
    /* Not bound: the agent dropped us, or it restarted and never knew us, or
     * it is not running, which is the one case to report. */
    if (!handle)
    {
        WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];
        return closed || agent_endpoint_find(endpoint, ARRAYSIZE(endpoint)) ? S_OK : RPC_E_DISCONNECTED;
    }
    if (!(job = session_job_create(link, sizeof(*job), unbind_call, NULL)))
    {
        RpcSsDestroyClientContext(&handle);
        return E_OUTOFMEMORY;
    }
    job->binding = binding;
    job->cookie = cookie;
    job->handle = handle;
    job->owns_handle = TRUE;
    hr = run_job(job);
    if (hr == RPC_E_DISCONNECTED && job->job.exception_code == RPC_X_SS_CONTEXT_MISMATCH) hr = end_session(job);
    session_job_release(job);
    return hr;
}

void session_link_free(struct session_link *link)
{
    if (!link) return;
    session_link_unbind(link);
    link_release(link);
}

HRESULT session_link_check(struct session_link *link)
{
    RPC_BINDING_HANDLE binding;
    UINT64 cookie;
    void *handle;

    return ensure_bound(link, &binding, &cookie, &handle);
}

void session_link_close(struct session_link *link)
{
    AcquireSRWLockExclusive(&link->lock);
    link->closed = TRUE;
    WakeAllConditionVariable(&link->bound_cv);
    ReleaseSRWLockExclusive(&link->lock);
}

HRESULT session_link_wait_begin(struct session_link *link, RPC_BINDING_HANDLE *binding, UINT64 *cookie,
                                void **handle)
{
    return ensure_bound(link, binding, cookie, handle);
}

BOOL session_link_wait_lost(struct session_link *link, void *handle)
{
    BOOL closed;

    AcquireSRWLockExclusive(&link->lock);
    closed = link->closed;
    if (!closed) retire_session(link, handle);
    ReleaseSRWLockExclusive(&link->lock);
    return closed;
}
