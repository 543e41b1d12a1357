/*
 * An SHA session's link to the NapAgent over ncalrpc, bounded and self-healing
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "napagent_rpc.h"
#include "agent_endpoint.h"
#include "agent_service.h"
#include "call_runner.h"
#include "nap_hresults.h"

/* The same design as agent_link.c (docs/decisions.md, Recovery), written
 * once more for the SHA calls rather than generalising the EC link: every
 * call on a worker within timeout_ms, one rebind at a time passing the last
 * cookie, forgotten context handles and binding handles of dead agents kept
 * until the link ends because a worker stuck in a call may still hold one. */
#define MAX_RETIRED 32
#define SERVICE_START_MS 15000

struct sha_link
{
    LONG refs;
    UINT32 sha_id;
    DWORD timeout_ms;
    SRWLOCK lock;                  /* guards the fields below */
    CONDITION_VARIABLE bound_cv;   /* a rebind finished */
    RPC_BINDING_HANDLE binding;
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];
    unsigned int old_binding_count;
    RPC_BINDING_HANDLE *old_bindings;
    NAPAGENT_SHA_HANDLE sha;       /* NULL while not bound */
    UINT64 cookie;
    BOOL rebinding;
    BOOL closed;                   /* unbound or dropped: no more rebinds */
    unsigned int retired_count;
    NAPAGENT_SHA_HANDLE retired[MAX_RETIRED];
};

enum sha_op { OP_BIND, OP_UNBIND, OP_UNBIND_NEW, OP_NOTIFY, OP_FLUSH, OP_ANSWER, OP_GONE, OP_ISOLATION };

/* Everything a call needs lives in the job: a caller that timed out has
 * returned while the worker may still be in the call. */
struct sha_job
{
    struct call_job job;
    enum sha_op op;
    struct sha_link *link;
    RPC_BINDING_HANDLE binding;
    NAPAGENT_SHA_HANDLE sha;
    BOOL owns_sha;                 /* an unbind job: sha is no longer the link's */
    UINT64 previous_cookie;
    UINT64 cookie;
    NAPAGENT_SHA_HANDLE new_sha;
    UINT32 request_id;
    NAPAGENT_SHA_ANSWER answer;    /* its pointers point into soh and codes below */
    BYTE soh[NAPAGENT_MAX_SOH];
    HRESULT codes[maxDwordCountPerSoHAttribute];
    NAPAGENT_SYSTEM_ISOLATION isolation;
};

static HRESULT job_thunk(void *arg)
{
    struct sha_job *job = arg;

    switch (job->op)
    {
    case OP_BIND:
        return NapAgentShaBind(job->binding, job->link->sha_id, GetCurrentProcessId(), job->previous_cookie,
                               &job->cookie, &job->new_sha);
    case OP_UNBIND:     return NapAgentShaUnbind(&job->sha);
    case OP_UNBIND_NEW: return NapAgentShaUnbind(&job->new_sha);
    case OP_NOTIFY:     return NapAgentShaNotifySoHChange(job->sha);
    case OP_FLUSH:      return NapAgentShaFlushCache(job->sha);
    case OP_ANSWER:     return NapAgentShaAnswer(job->sha, job->request_id, &job->answer);
    case OP_GONE:       return NapAgentShaCallbackGone(job->sha);
    case OP_ISOLATION:  return NapAgentGetSystemIsolation(job->binding, &job->isolation);
    }
    return E_INVALIDARG;
}

static void link_release(struct sha_link *link)
{
    unsigned int i;

    if (InterlockedDecrement(&link->refs)) return;
    if (link->sha) RpcSsDestroyClientContext(&link->sha);
    for (i = 0; i < link->retired_count; i++) RpcSsDestroyClientContext(&link->retired[i]);
    if (link->binding) RpcBindingFree(&link->binding);
    for (i = 0; i < link->old_binding_count; i++) RpcBindingFree(&link->old_bindings[i]);
    HeapFree(GetProcessHeap(), 0, link->old_bindings);
    HeapFree(GetProcessHeap(), 0, link);
}

/* Runs on whichever thread lets go of the job last. */
static void destroy_job(struct call_job *base)
{
    struct sha_job *job = CONTAINING_RECORD(base, struct sha_job, job);

    MIDL_user_free(job->isolation.failure_url);
    if (job->owns_sha && job->sha) RpcSsDestroyClientContext(&job->sha);
    /* A bind that finished after its caller gave up: nobody will use it. */
    if (job->new_sha)
    {
        job->op = OP_UNBIND_NEW;
        if (FAILED(rpc_guarded_call(job_thunk, job, NULL)) && job->new_sha)
            RpcSsDestroyClientContext(&job->new_sha);
    }
    link_release(job->link);
    call_job_free(base);
}

static struct sha_job *new_job(struct sha_link *link, enum sha_op op)
{
    struct sha_job *job = call_job_create(sizeof(*job), job_thunk, destroy_job);

    if (!job) return NULL;
    job->op = op;
    job->link = link;
    InterlockedIncrement(&link->refs);
    return job;
}

static HRESULT run_job(struct sha_job *job)
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
static void retire_session(struct sha_link *link, NAPAGENT_SHA_HANDLE sha)
{
    if (!sha || link->sha != sha) return;
    if (link->retired_count == MAX_RETIRED)
    {
        RpcSsDestroyClientContext(&link->retired[0]);
        memmove(link->retired, link->retired + 1, sizeof(link->retired[0]) * (MAX_RETIRED - 1));
        link->retired_count--;
    }
    link->retired[link->retired_count++] = sha;
    link->sha = NULL;
}

/* Caller holds link->lock.  A restarted agent listens on a new endpoint. */
static BOOL find_agent(struct sha_link *link)
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

/* Binds (or rebinds) unless bound; one thread binds, the others wait for it
 * within their own timeout.  *sha and *binding: what a call uses. */
static HRESULT ensure_bound(struct sha_link *link, NAPAGENT_SHA_HANDLE *sha, RPC_BINDING_HANDLE *binding)
{
    ULONGLONG deadline = GetTickCount64() + link->timeout_ms;
    struct sha_job *bind;
    HRESULT hr;

    AcquireSRWLockExclusive(&link->lock);
    while (link->rebinding && !link->sha && !link->closed)
    {
        ULONGLONG now = GetTickCount64();
        if (now >= deadline) break;
        SleepConditionVariableSRW(&link->bound_cv, &link->lock, (DWORD)(deadline - now), 0);
    }
    if (link->closed) hr = NAP_E_NOT_INITIALIZED;
    else if (link->sha) hr = S_OK;
    else if (link->rebinding) hr = RPC_E_TIMEOUT;
    else if (!find_agent(link)) hr = RPC_E_DISCONNECTED; /* no agent process: no pipe touched */
    else hr = S_FALSE;
    *sha = link->sha;
    *binding = link->binding;
    if (hr != S_FALSE)
    {
        ReleaseSRWLockExclusive(&link->lock);
        return hr;
    }
    link->rebinding = TRUE;
    ReleaseSRWLockExclusive(&link->lock);

    if (!(bind = new_job(link, OP_BIND))) hr = E_OUTOFMEMORY;
    else
    {
        bind->binding = link->binding; /* stays valid: old handles live as long as the link */
        bind->previous_cookie = link->cookie;
        hr = run_job(bind);
    }

    AcquireSRWLockExclusive(&link->lock);
    if (SUCCEEDED(hr) && !link->closed)
    {
        link->sha = bind->new_sha;
        link->cookie = bind->cookie;
        bind->new_sha = NULL;
    }
    else if (SUCCEEDED(hr)) hr = NAP_E_NOT_INITIALIZED; /* unbound meanwhile: destroy_job unbinds it */
    link->rebinding = FALSE;
    *sha = link->sha;
    *binding = link->binding;
    WakeAllConditionVariable(&link->bound_cv);
    ReleaseSRWLockExclusive(&link->lock);
    if (bind) call_job_release(&bind->job);
    return hr;
}

/* Rebinds first if the agent went away, and once more if the call finds the
 * session gone, so that the first call after the agent is back succeeds. */
static HRESULT session_call(struct sha_job *job)
{
    struct sha_link *link = job->link;
    unsigned int attempt;
    HRESULT hr = RPC_E_DISCONNECTED;

    for (attempt = 0; attempt < 2; attempt++)
    {
        if (FAILED(hr = ensure_bound(link, &job->sha, &job->binding))) return hr;
        hr = run_job(job);
        if (hr != RPC_E_DISCONNECTED && hr != NAP_E_NOT_INITIALIZED) return hr;
        AcquireSRWLockExclusive(&link->lock);
        retire_session(link, job->sha);
        ReleaseSRWLockExclusive(&link->lock);
        MIDL_user_free(job->isolation.failure_url);
        job->isolation.failure_url = NULL;
    }
    return hr == NAP_E_NOT_INITIALIZED ? RPC_E_DISCONNECTED : hr;
}

/* A job made, run as a session call and released: the calls with no output. */
static HRESULT simple_call(struct sha_link *link, enum sha_op op)
{
    struct sha_job *job = new_job(link, op);
    HRESULT hr;

    if (!job) return E_OUTOFMEMORY;
    hr = session_call(job);
    call_job_release(&job->job);
    return hr;
}

static HRESULT first_bind(struct sha_link *link)
{
    NAPAGENT_SHA_HANDLE sha;
    RPC_BINDING_HANDLE binding;
    ULONGLONG deadline;
    HRESULT hr = ensure_bound(link, &sha, &binding);

    /* As on Windows, Initialize starts the agent's service when it is stopped. */
    if (hr == RPC_E_DISCONNECTED && agent_service_start())
    {
        deadline = GetTickCount64() + SERVICE_START_MS;
        while ((hr = ensure_bound(link, &sha, &binding)) == RPC_E_DISCONNECTED && GetTickCount64() < deadline)
            Sleep(10);
    }
    return hr;
}

HRESULT sha_link_bind(UINT32 sha_id, DWORD timeout_ms, struct sha_link **out)
{
    struct sha_link *link;
    HRESULT hr;

    *out = NULL;
    if (!(link = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*link)))) return E_OUTOFMEMORY;
    link->refs = 1;
    link->sha_id = sha_id;
    link->timeout_ms = timeout_ms;
    InitializeSRWLock(&link->lock);
    InitializeConditionVariable(&link->bound_cv);
    if (FAILED(hr = first_bind(link)))
    {
        AcquireSRWLockExclusive(&link->lock);
        link->closed = TRUE;
        ReleaseSRWLockExclusive(&link->lock);
        link_release(link);
        return hr;
    }
    *out = link;
    return S_OK;
}

HRESULT sha_link_unbind(struct sha_link *link)
{
    struct sha_job *job;
    NAPAGENT_SHA_HANDLE sha;
    BOOL closed;
    HRESULT hr;

    AcquireSRWLockExclusive(&link->lock);
    closed = link->closed;
    link->closed = TRUE;
    sha = link->sha;
    link->sha = NULL;
    WakeAllConditionVariable(&link->bound_cv);
    ReleaseSRWLockExclusive(&link->lock);
    /* Not bound: the agent is gone (or dropped us) and has forgotten us already. */
    if (!sha) return closed ? S_OK : RPC_E_DISCONNECTED;
    if (!(job = new_job(link, OP_UNBIND)))
    {
        RpcSsDestroyClientContext(&sha);
        return E_OUTOFMEMORY;
    }
    job->sha = sha;
    job->owns_sha = TRUE;
    hr = run_job(job);
    call_job_release(&job->job);
    return hr;
}

void sha_link_free(struct sha_link *link)
{
    if (!link) return;
    sha_link_unbind(link);
    link_release(link);
}

HRESULT sha_link_notify_soh_change(struct sha_link *link)
{
    return simple_call(link, OP_NOTIFY);
}

HRESULT sha_link_flush_cache(struct sha_link *link)
{
    return simple_call(link, OP_FLUSH);
}

HRESULT sha_link_get_isolation(struct sha_link *link, NAPAGENT_SYSTEM_ISOLATION *isolation)
{
    struct sha_job *job = new_job(link, OP_ISOLATION);
    HRESULT hr;

    ZeroMemory(isolation, sizeof(*isolation));
    if (!job) return E_OUTOFMEMORY;
    if (SUCCEEDED(hr = session_call(job)))
    {
        *isolation = job->isolation;
        job->isolation.failure_url = NULL;
    }
    call_job_release(&job->job);
    return hr;
}

void sha_link_free_isolation(NAPAGENT_SYSTEM_ISOLATION *isolation)
{
    MIDL_user_free(isolation->failure_url);
    isolation->failure_url = NULL;
}

/* The answer is copied into the job, since the job may outlive the caller. */
HRESULT sha_link_answer(struct sha_link *link, UINT32 request_id, const NAPAGENT_SHA_ANSWER *answer)
{
    struct sha_job *job;
    HRESULT hr;

    if (answer->soh.size > sizeof(job->soh) || answer->fixup.code_count > ARRAYSIZE(job->codes))
        return E_INVALIDARG;
    if (!(job = new_job(link, OP_ANSWER))) return E_OUTOFMEMORY;
    job->request_id = request_id;
    job->answer = *answer;
    job->answer.soh.data = answer->soh.size ? job->soh : NULL;
    memcpy(job->soh, answer->soh.data, answer->soh.size);
    job->answer.fixup.codes = answer->fixup.code_count ? job->codes : NULL;
    memcpy(job->codes, answer->fixup.codes, answer->fixup.code_count * sizeof(HRESULT));
    hr = session_call(job);
    call_job_release(&job->job);
    return hr;
}

HRESULT sha_link_callback_gone(struct sha_link *link)
{
    HRESULT hr = simple_call(link, OP_GONE);

    /* The agent dropped us: no rebinding behind the SHA's back. */
    AcquireSRWLockExclusive(&link->lock);
    link->closed = TRUE;
    WakeAllConditionVariable(&link->bound_cv);
    ReleaseSRWLockExclusive(&link->lock);
    return hr;
}

struct wait_call
{
    RPC_BINDING_HANDLE binding;
    UINT64 cookie;
    UINT32 timeout_ms;
    NAPAGENT_SHA_EVENT *event;
};

static HRESULT wait_event_thunk(void *arg)
{
    struct wait_call *call = arg;

    return NapAgentShaWaitEvent(call->binding, call->cookie, call->timeout_ms, call->event);
}

void sha_link_free_event(NAPAGENT_SHA_EVENT *event)
{
    MIDL_user_free(event->soh.data);
    MIDL_user_free(event->other.data);
    ZeroMemory(event, sizeof(*event));
}

/* The long poll runs on the event thread itself: it may block as long as the
 * agent does, which only delays callbacks, never the SHA's own calls. */
HRESULT sha_link_wait_event(struct sha_link *link, UINT32 timeout_ms, NAPAGENT_SHA_EVENT *event)
{
    struct wait_call call = { NULL, 0, timeout_ms, event };
    NAPAGENT_SHA_HANDLE sha;
    DWORD code;
    HRESULT hr;

    ZeroMemory(event, sizeof(*event));
    if (FAILED(hr = ensure_bound(link, &sha, &call.binding))) return hr;
    AcquireSRWLockShared(&link->lock);
    call.cookie = link->cookie;
    ReleaseSRWLockShared(&link->lock);
    hr = rpc_guarded_call(wait_event_thunk, &call, &code);
    if (code && rpc_code_means_disconnected(code)) hr = RPC_E_DISCONNECTED;
    if (hr == RPC_E_DISCONNECTED || hr == NAP_E_NOT_INITIALIZED
        || (SUCCEEDED(hr) && event->type == NAPAGENT_SHA_EVENT_CLOSED))
    {
        BOOL closed;

        sha_link_free_event(event);
        AcquireSRWLockExclusive(&link->lock);
        closed = link->closed;
        if (!closed) retire_session(link, sha);
        ReleaseSRWLockExclusive(&link->lock);
        /* Closed by us: the end.  Otherwise the agent lost us: rebind next time. */
        event->type = closed ? NAPAGENT_SHA_EVENT_CLOSED : NAPAGENT_SHA_EVENT_NONE;
        return hr == NAP_E_NOT_INITIALIZED || SUCCEEDED(hr) ? S_OK : hr;
    }
    if (FAILED(hr)) sha_link_free_event(event);
    return hr;
}
