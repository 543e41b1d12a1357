/*
 * The binding's link to the NapAgent: one EC session over ncalrpc, bounded and self-healing
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_link.h"
#include "agent_endpoint.h"
#include "agent_service.h"
#include "call_runner.h"
#include "nap_hresults.h"

/* Context handles of sessions the agent forgot (it restarted).  They are
 * freed locally only when the link ends: another thread may still be passing
 * one to a call that is failing. */
#define MAX_RETIRED 32
/* How long Initialize waits for an agent it had to start. */
#define SERVICE_START_MS 15000

struct agent_link
{
    LONG refs;
    UINT32 ec_id;
    DWORD timeout_ms;
    SRWLOCK lock;                  /* guards the fields below */
    CONDITION_VARIABLE bound_cv;   /* a rebind finished */
    RPC_BINDING_HANDLE binding;    /* to the agent we know of; NULL before the first */
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];
    /* Binding handles to agents that went away: freed when the link ends,
     * since a worker stuck in a call may still be using one. */
    unsigned int old_binding_count;
    RPC_BINDING_HANDLE *old_bindings;
    NAPAGENT_EC_HANDLE ec;         /* NULL while not bound */
    UINT64 cookie;                 /* of the newest session, kept across restarts */
    BOOL rebinding;
    BOOL closed;                   /* unbound, or dropped by the agent: no more rebinds */
    unsigned int retired_count;
    NAPAGENT_EC_HANDLE retired[MAX_RETIRED];
};

/* Everything a call needs lives in its job, never on the caller's stack:
 * a caller that timed out has returned while the worker may still be in it. */
struct link_job
{
    struct call_job job;
    struct agent_link *link;
    RPC_BINDING_HANDLE binding;
    NAPAGENT_EC_HANDLE ec;
    BOOL owns_ec;                  /* an unbind job: ec is no longer the link's */
    UINT64 previous_cookie;
    NAPAGENT_CONNECTION_FACTS facts;
    GUID guid;
    UINT16 size;
    BYTE bytes[NAPAGENT_MAX_SOH];
    NAPAGENT_CONNECTION_FACTS connections[NAPAGENT_MAX_CONNECTIONS];
    UINT64 cookie;
    NAPAGENT_EC_HANDLE new_ec;
    NAPAGENT_CORRELATION correlation;
    BYTE flags;
    BOOL retrigger;
    NAPAGENT_BLOB blob;
    NAPAGENT_ISOLATION isolation;
};

static void link_addref(struct agent_link *link)
{
    InterlockedIncrement(&link->refs);
}

static void link_release(struct agent_link *link)
{
    unsigned int i;

    if (InterlockedDecrement(&link->refs)) return;
    if (link->ec) RpcSsDestroyClientContext(&link->ec);
    for (i = 0; i < link->retired_count; i++) RpcSsDestroyClientContext(&link->retired[i]);
    if (link->binding) RpcBindingFree(&link->binding);
    for (i = 0; i < link->old_binding_count; i++) RpcBindingFree(&link->old_bindings[i]);
    HeapFree(GetProcessHeap(), 0, link->old_bindings);
    HeapFree(GetProcessHeap(), 0, link);
}

static HRESULT unbind_thunk(void *arg)
{
    struct link_job *job = arg;

    return NapAgentEcUnbind(&job->new_ec);
}

/* Runs on whichever thread lets go of the job last. */
static void destroy_job(struct call_job *base)
{
    struct link_job *job = CONTAINING_RECORD(base, struct link_job, job);

    MIDL_user_free(job->blob.data);
    MIDL_user_free(job->isolation.failure_url);
    /* An unbind that failed (agent gone) or never finished: free it locally. */
    if (job->owns_ec && job->ec) RpcSsDestroyClientContext(&job->ec);
    /* A bind that finished after its caller gave up: nobody will use it. */
    if (job->new_ec && FAILED(rpc_guarded_call(unbind_thunk, job, NULL)) && job->new_ec)
        RpcSsDestroyClientContext(&job->new_ec);
    link_release(job->link);
    call_job_free(base);
}

static struct link_job *new_job(struct agent_link *link, rpc_guarded_fn call)
{
    struct link_job *job = call_job_create(sizeof(*job), call, destroy_job);

    if (!job) return NULL;
    job->link = link;
    link_addref(link);
    return job;
}

/* Runs the job on a worker within the link's timeout; the HRESULT of the call,
 * RPC_E_DISCONNECTED for a transport failure, RPC_E_TIMEOUT for a hung agent. */
static HRESULT run_job(struct link_job *job, DWORD *exception_code)
{
    HRESULT hr;

    job->job.done = FALSE;
    job->job.started = FALSE;
    job->job.exception_code = 0;
    *exception_code = 0;
    if (FAILED(hr = call_runner_run(&job->job, job->link->timeout_ms))) return hr;
    *exception_code = job->job.exception_code;
    if (*exception_code && rpc_code_means_disconnected(*exception_code)) return RPC_E_DISCONNECTED;
    return job->job.hr;
}

static HRESULT bind_thunk(void *arg)
{
    struct link_job *job = arg;
    struct agent_link *link = job->link;

    return NapAgentEcBind(job->binding, link->ec_id, GetCurrentProcessId(), job->previous_cookie,
                          &job->cookie, &job->new_ec);
}

/* Caller holds link->lock.  The agent forgot this session: keep the handle
 * for freeing later and make the next call rebind. */
static void retire_session(struct agent_link *link, NAPAGENT_EC_HANDLE ec)
{
    if (!ec || link->ec != ec) return;
    if (link->retired_count == MAX_RETIRED)
    {
        RpcSsDestroyClientContext(&link->retired[0]);
        memmove(link->retired, link->retired + 1, sizeof(link->retired[0]) * (MAX_RETIRED - 1));
        link->retired_count--;
    }
    link->retired[link->retired_count++] = ec;
    link->ec = NULL;
}

static void session_lost(struct agent_link *link, NAPAGENT_EC_HANDLE ec)
{
    AcquireSRWLockExclusive(&link->lock);
    retire_session(link, ec);
    ReleaseSRWLockExclusive(&link->lock);
}

/* Caller holds link->lock.  Points the link at the agent running now: a
 * restarted agent listens on a new endpoint.  FALSE if none is running. */
static BOOL find_agent(struct agent_link *link)
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

/* Binds (or rebinds) unless bound; only one thread binds at a time, the
 * others wait for it within their own timeout. */
static HRESULT ensure_bound(struct agent_link *link, NAPAGENT_EC_HANDLE *ec)
{
    ULONGLONG deadline = GetTickCount64() + link->timeout_ms;
    struct link_job *job;
    DWORD code;
    HRESULT hr;

    AcquireSRWLockExclusive(&link->lock);
    while (link->rebinding && !link->ec && !link->closed)
    {
        ULONGLONG now = GetTickCount64();
        if (now >= deadline) break;
        SleepConditionVariableSRW(&link->bound_cv, &link->lock, (DWORD)(deadline - now), 0);
    }
    if (link->closed) hr = NAP_E_NOT_INITIALIZED;
    else if (link->ec) hr = S_OK;
    else if (link->rebinding) hr = RPC_E_TIMEOUT;
    /* No agent process alive: say so without touching a pipe. */
    else if (!find_agent(link)) hr = RPC_E_DISCONNECTED;
    else hr = S_FALSE;
    *ec = link->ec;
    if (hr != S_FALSE)
    {
        ReleaseSRWLockExclusive(&link->lock);
        return hr;
    }
    link->rebinding = TRUE;
    ReleaseSRWLockExclusive(&link->lock);

    if (!(job = new_job(link, bind_thunk))) hr = E_OUTOFMEMORY;
    else
    {
        job->binding = link->binding; /* stays valid: old handles live as long as the link */
        job->previous_cookie = link->cookie;
        hr = run_job(job, &code);
    }

    AcquireSRWLockExclusive(&link->lock);
    if (SUCCEEDED(hr) && !link->closed)
    {
        link->ec = job->new_ec;
        link->cookie = job->cookie;
        job->new_ec = NULL;
    }
    else if (SUCCEEDED(hr)) hr = NAP_E_NOT_INITIALIZED; /* unbound meanwhile: destroy_job unbinds it */
    link->rebinding = FALSE;
    *ec = link->ec;
    WakeAllConditionVariable(&link->bound_cv);
    ReleaseSRWLockExclusive(&link->lock);
    if (job) call_job_release(&job->job);
    return hr;
}

/* One session call: rebinds first if the agent went away, and again if the
 * call finds the session gone, so that the first call after the agent is
 * back already succeeds.  Right after a restart Wine may route a fresh
 * context handle over a connection of another server association
 * (RPC_X_SS_CONTEXT_MISMATCH, agent_binding.c says why): a few more
 * attempts ride that out; an agent that is not running ends them at once. */
#define SESSION_CALL_ATTEMPTS 4
static HRESULT session_call(struct link_job *job)
{
    struct agent_link *link = job->link;
    unsigned int attempt;
    DWORD code;
    HRESULT hr = RPC_E_DISCONNECTED;

    for (attempt = 0; attempt < SESSION_CALL_ATTEMPTS; attempt++)
    {
        if (FAILED(hr = ensure_bound(link, &job->ec))) return hr;
        hr = run_job(job, &code);
        /* Lost: the agent restarted (context mismatch), died, or closed the
         * session while going down. */
        if (hr != RPC_E_DISCONNECTED && hr != NAP_E_NOT_INITIALIZED) return hr;
        session_lost(link, job->ec);
        MIDL_user_free(job->blob.data);
        job->blob.data = NULL;
        MIDL_user_free(job->isolation.failure_url);
        job->isolation.failure_url = NULL;
    }
    return hr == NAP_E_NOT_INITIALIZED ? RPC_E_DISCONNECTED : hr;
}

static HRESULT first_bind(struct agent_link *link)
{
    ULONGLONG deadline;
    NAPAGENT_EC_HANDLE ec;
    HRESULT hr = ensure_bound(link, &ec);

    /* As on Windows, Initialize starts the agent's service when it is stopped. */
    if (hr != RPC_E_DISCONNECTED || !agent_service_start()) return hr;
    deadline = GetTickCount64() + SERVICE_START_MS;
    while ((hr = ensure_bound(link, &ec)) == RPC_E_DISCONNECTED && GetTickCount64() < deadline) Sleep(10);
    return hr;
}

HRESULT agent_link_bind(UINT32 ec_id, DWORD timeout_ms, struct agent_link **out)
{
    struct agent_link *link;
    HRESULT hr;

    *out = NULL;
    if (!(link = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*link)))) return E_OUTOFMEMORY;
    link->refs = 1;
    link->ec_id = ec_id;
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

static HRESULT session_unbind_thunk(void *arg)
{
    struct link_job *job = arg;

    return NapAgentEcUnbind(&job->ec);
}

HRESULT agent_link_unbind(struct agent_link *link)
{
    struct link_job *job;
    NAPAGENT_EC_HANDLE ec;
    BOOL closed;
    DWORD code;
    HRESULT hr;

    AcquireSRWLockExclusive(&link->lock);
    closed = link->closed;
    link->closed = TRUE;
    ec = link->ec;
    link->ec = NULL;
    WakeAllConditionVariable(&link->bound_cv);
    ReleaseSRWLockExclusive(&link->lock);
    /* Not bound: the agent is gone (or dropped us) and has forgotten us already. */
    if (!ec) return closed ? S_OK : RPC_E_DISCONNECTED;
    if (!(job = new_job(link, session_unbind_thunk)))
    {
        RpcSsDestroyClientContext(&ec);
        return E_OUTOFMEMORY;
    }
    job->ec = ec;
    job->owns_ec = TRUE;
    hr = run_job(job, &code);
    call_job_release(&job->job);
    return hr;
}

HRESULT agent_link_check(struct agent_link *link)
{
    NAPAGENT_EC_HANDLE ec;

    return ensure_bound(link, &ec);
}

void agent_link_free(struct agent_link *link)
{
    if (!link) return;
    agent_link_unbind(link);
    link_release(link);
}

static HRESULT get_soh_request_thunk(void *arg)
{
    struct link_job *job = arg;

    return NapAgentEcGetSoHRequest(job->ec, &job->facts, &job->correlation, &job->flags, &job->retrigger, &job->blob);
}

HRESULT agent_link_get_soh_request(struct agent_link *link, const NAPAGENT_CONNECTION_FACTS *facts,
                                   NAPAGENT_CORRELATION *correlation, BYTE *flags, BOOL *retrigger,
                                   NAPAGENT_BLOB *request)
{
    struct link_job *job = new_job(link, get_soh_request_thunk);
    HRESULT hr;

    request->size = 0;
    request->data = NULL;
    if (!job) return E_OUTOFMEMORY;
    job->facts = *facts;
    if (SUCCEEDED(hr = session_call(job)))
    {
        *correlation = job->correlation;
        *flags = job->flags;
        *retrigger = job->retrigger;
        *request = job->blob;
        job->blob.data = NULL;
    }
    call_job_release(&job->job);
    return hr;
}

static HRESULT process_soh_response_thunk(void *arg)
{
    struct link_job *job = arg;

    return NapAgentEcProcessSoHResponse(job->ec, &job->facts, job->size, job->bytes, &job->isolation);
}

HRESULT agent_link_process_soh_response(struct agent_link *link, const NAPAGENT_CONNECTION_FACTS *facts,
                                        const BYTE *response, UINT16 size, NAPAGENT_ISOLATION *isolation)
{
    struct link_job *job;
    HRESULT hr;

    ZeroMemory(isolation, sizeof(*isolation));
    /* Longer than any SoH: the agent would only refuse it. */
    if (size > NAPAGENT_MAX_SOH) return NAP_E_INVALID_PACKET;
    if (!(job = new_job(link, process_soh_response_thunk))) return E_OUTOFMEMORY;
    job->facts = *facts;
    job->size = size;
    if (size) memcpy(job->bytes, response, size);
    if (SUCCEEDED(hr = session_call(job)))
    {
        *isolation = job->isolation;
        job->isolation.failure_url = NULL;
    }
    call_job_release(&job->job);
    return hr;
}

static HRESULT connection_down_thunk(void *arg)
{
    struct link_job *job = arg;

    return NapAgentEcConnectionDown(job->ec, &job->guid);
}

HRESULT agent_link_connection_down(struct agent_link *link, const GUID *connection_id)
{
    struct link_job *job = new_job(link, connection_down_thunk);
    HRESULT hr;

    if (!job) return E_OUTOFMEMORY;
    job->guid = *connection_id;
    hr = session_call(job);
    call_job_release(&job->job);
    return hr;
}

static HRESULT soh_change_failure_thunk(void *arg)
{
    struct link_job *job = arg;

    return NapAgentEcSoHChangeFailure(job->ec);
}

HRESULT agent_link_soh_change_failure(struct agent_link *link)
{
    struct link_job *job = new_job(link, soh_change_failure_thunk);
    HRESULT hr;

    if (!job) return E_OUTOFMEMORY;
    hr = session_call(job);
    call_job_release(&job->job);
    return hr;
}

static HRESULT answer_connections_thunk(void *arg)
{
    struct link_job *job = arg;

    return NapAgentEcAnswerConnections(job->ec, job->size, job->connections);
}

HRESULT agent_link_answer_connections(struct agent_link *link, UINT16 count,
                                      const NAPAGENT_CONNECTION_FACTS *connections)
{
    struct link_job *job;
    HRESULT hr;

    if (count > NAPAGENT_MAX_CONNECTIONS) return E_INVALIDARG;
    if (!(job = new_job(link, answer_connections_thunk))) return E_OUTOFMEMORY;
    job->size = count;
    memcpy(job->connections, connections, count * sizeof(*connections));
    hr = session_call(job);
    call_job_release(&job->job);
    return hr;
}

static HRESULT callback_gone_thunk(void *arg)
{
    struct link_job *job = arg;

    return NapAgentEcCallbackGone(job->ec);
}

HRESULT agent_link_callback_gone(struct agent_link *link)
{
    struct link_job *job = new_job(link, callback_gone_thunk);
    HRESULT hr;

    if (!job) return E_OUTOFMEMORY;
    hr = session_call(job);
    call_job_release(&job->job);
    /* The agent dropped us: no rebinding behind the EC's back. */
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
    UINT32 event;
};

static HRESULT wait_event_thunk(void *arg)
{
    struct wait_call *call = arg;

    return NapAgentEcWaitEvent(call->binding, call->cookie, call->timeout_ms, &call->event);
}

/* The long poll runs on the event thread itself: it may block as long as the
 * agent does, which only delays callbacks, never the EC. */
HRESULT agent_link_wait_event(struct agent_link *link, UINT32 timeout_ms, UINT32 *event)
{
    struct wait_call call = { NULL, 0, timeout_ms, NAPAGENT_EVENT_NONE };
    NAPAGENT_EC_HANDLE ec;
    DWORD code;
    HRESULT hr;

    *event = NAPAGENT_EVENT_NONE;
    if (FAILED(hr = ensure_bound(link, &ec))) return hr;
    AcquireSRWLockShared(&link->lock);
    call.binding = link->binding;
    call.cookie = link->cookie;
    ReleaseSRWLockShared(&link->lock);
    hr = rpc_guarded_call(wait_event_thunk, &call, &code);
    if (code && rpc_code_means_disconnected(code)) hr = RPC_E_DISCONNECTED;
    if (hr == RPC_E_DISCONNECTED || hr == NAP_E_NOT_INITIALIZED
        || (SUCCEEDED(hr) && call.event == NAPAGENT_EVENT_CLOSED))
    {
        BOOL closed;

        AcquireSRWLockExclusive(&link->lock);
        closed = link->closed;
        if (!closed) retire_session(link, ec);
        ReleaseSRWLockExclusive(&link->lock);
        /* Closed by us: the end.  Otherwise the agent lost us: rebind next time. */
        *event = closed ? NAPAGENT_EVENT_CLOSED : NAPAGENT_EVENT_NONE;
        return hr == NAP_E_NOT_INITIALIZED || SUCCEEDED(hr) ? S_OK : hr;
    }
    *event = call.event;
    return hr;
}

void agent_link_free_blob(NAPAGENT_BLOB *blob)
{
    MIDL_user_free(blob->data);
    blob->data = NULL;
    blob->size = 0;
}

void agent_link_free_isolation(NAPAGENT_ISOLATION *isolation)
{
    MIDL_user_free(isolation->failure_url);
    isolation->failure_url = NULL;
}
