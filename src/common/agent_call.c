/*
 * The one way every client calls the NapAgent: bounded, guarded, with one rebind policy
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_call.h"
#include "agent_session.h"
#include "agent_endpoint.h"
#include "agent_service.h"
#include "call_timeout.h"
#include "module_thread.h"
#include "napagent_rpc.h"
#include "rpc_guard.h"
#include "nap_trace.h"

NAP_TRACE_USE_MODULE_CHANNEL();

/* Workers stuck in a hung agent count against this cap, so a hung agent
 * cannot make a host create threads without end; past it, calls queue. */
#define MAX_WORKERS 64
/* An idle worker ends after this long without work (starting one costs a
 * host ~10 ms under Wine, measured: keep them for a host's next calls). */
#define WORKER_IDLE_MS 30000
/* A call that names a session: its first try, and two after reopening it. */
#define SESSION_CALL_ATTEMPTS 3

/* One RPC handle per agent process (each listens on an endpoint of its own);
 * a call holds a reference, so an agent's handle outlives the calls still in it. */
struct agent_handle
{
    LONG refs;
    RPC_BINDING_HANDLE rpc;
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];
};

/* One call: everything it needs lives here, never on the caller's stack. */
struct agent_job
{
    LONG refs;                         /* the caller's and the worker's */
    const struct agent_method *method;
    struct agent_handle *agent;
    UINT64 cookie;
    HRESULT hr;
    DWORD exception_code;
    BOOL started;                      /* a worker took it from the queue */
    BOOL done;
    BOOL taken;                        /* the caller took its outputs */
    CONDITION_VARIABLE done_cv;
    struct agent_job *next;
    BYTE args[];                       /* a copy of the caller's, method->args_size bytes */
};

/* SRW locks and condition variables: futexes under Wine, no wineserver
 * round trip on the hot path. */
static SRWLOCK pool_lock = SRWLOCK_INIT;
static CONDITION_VARIABLE work_cv = CONDITION_VARIABLE_INIT;
static struct agent_job *queue_head, *queue_tail;
static unsigned int queue_length, worker_count, idle_count;

static SRWLOCK handle_lock = SRWLOCK_INIT;
static struct agent_handle *current_agent;

static void handle_release(struct agent_handle *agent)
{
    if (!agent || InterlockedDecrement(&agent->refs)) return;
    RpcBindingFree(&agent->rpc);
    HeapFree(GetProcessHeap(), 0, agent);
}

static void job_release(struct agent_job *job)
{
    if (InterlockedDecrement(&job->refs)) return;
    /* A call that finished after its caller gave up: free what it returned. */
    if (job->done && !job->taken && job->method->free_out) job->method->free_out(job->args);
    handle_release(job->agent);
    HeapFree(GetProcessHeap(), 0, job);
}

static HRESULT job_thunk(void *arg)
{
    struct agent_job *job = arg;

    return job->method->stub(job->agent->rpc, job->cookie, job->args);
}

/* Caller holds pool_lock. */
static struct agent_job *take_job(void)
{
    struct agent_job *job = queue_head;

    if (!job) return NULL;
    queue_head = job->next;
    if (!queue_head) queue_tail = NULL;
    job->next = NULL;
    job->started = TRUE;
    queue_length--;
    return job;
}

static DWORD WINAPI worker_main(void *unused)
{
    struct agent_job *job;

    (void)unused;
    AcquireSRWLockExclusive(&pool_lock);
    for (;;)
    {
        if (!(job = take_job()))
        {
            BOOL woken;
            idle_count++;
            woken = SleepConditionVariableSRW(&work_cv, &pool_lock, WORKER_IDLE_MS, 0);
            idle_count--;
            if (!woken && !queue_head) break;
            continue;
        }
        ReleaseSRWLockExclusive(&pool_lock);
        job->hr = rpc_guarded_call(job_thunk, job, &job->exception_code);
        AcquireSRWLockExclusive(&pool_lock);
        job->done = TRUE;
        WakeAllConditionVariable(&job->done_cv);
        ReleaseSRWLockExclusive(&pool_lock);
        job_release(job);
        AcquireSRWLockExclusive(&pool_lock);
    }
    worker_count--;
    ReleaseSRWLockExclusive(&pool_lock);
    return 0;
}

/* Caller holds pool_lock.  An idle worker no queued job has claimed takes
 * the job, or a new one, so that no call waits behind one that may be stuck;
 * FALSE only when there is no worker at all. */
static BOOL ensure_worker(void)
{
    HANDLE thread;

    if (idle_count > queue_length || worker_count >= MAX_WORKERS) return worker_count > 0;
    /* The thread holds qagent.dll (qutil.dll, napctl) until it has left it. */
    if (!(thread = module_thread_start(worker_main, NULL, NULL))) return worker_count > 0;
    CloseHandle(thread);
    worker_count++;
    return TRUE;
}

/* Caller holds pool_lock: a job no worker took leaves the queue. */
static BOOL unqueue(struct agent_job *job)
{
    struct agent_job **link, *previous = NULL;

    for (link = &queue_head; *link; previous = *link, link = &(*link)->next)
    {
        if (*link != job) continue;
        *link = job->next;
        if (queue_tail == job) queue_tail = previous;
        queue_length--;
        return TRUE;
    }
    return FALSE;
}

/* Queues the job and waits for it at most timeout_ms: S_OK once it ran,
 * RPC_E_TIMEOUT, or E_OUTOFMEMORY with no worker to be had. */
static HRESULT run_job(struct agent_job *job, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;
    HRESULT hr = S_OK;

    AcquireSRWLockExclusive(&pool_lock);
    if (!ensure_worker())
    {
        ReleaseSRWLockExclusive(&pool_lock);
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
            if (!job->started && unqueue(job)) InterlockedDecrement(&job->refs); /* never the worker's */
            hr = RPC_E_TIMEOUT;
            break;
        }
        SleepConditionVariableSRW(&job->done_cv, &pool_lock, (DWORD)(deadline - now), 0);
    }
    ReleaseSRWLockExclusive(&pool_lock);
    return hr;
}

/* Runs method on agent; copies the outputs back when the call returned. */
static HRESULT call_on(struct agent_handle *agent, const struct agent_method *method, void *args, UINT64 cookie,
                       DWORD timeout_ms)
{
    struct agent_job *job = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*job) + method->args_size);
    HRESULT hr;

    if (!job)
    {
        handle_release(agent);
        return E_OUTOFMEMORY;
    }
    job->refs = 1;
    job->method = method;
    job->agent = agent;
    job->cookie = cookie;
    InitializeConditionVariable(&job->done_cv);
    if (method->args_size) memcpy(job->args, args, method->args_size);
    if (SUCCEEDED(hr = run_job(job, timeout_ms + method->wait_ms)))
    {
        if (method->args_size) memcpy(args, job->args, method->args_size);
        job->taken = TRUE;
        hr = job->hr;
        if (job->exception_code && rpc_code_means_disconnected(job->exception_code)) hr = RPC_E_DISCONNECTED;
    }
    TRACE("%s: 0x%08lx\n", method->name, hr);
    job_release(job);
    return hr;
}

struct ping_args
{
    NAPAGENT_BLOB echo;
};

static HRESULT ping_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    struct ping_args *args = arg;
    BYTE byte = 0;

    (void)cookie;
    return NapAgentPing(agent, 1, &byte, &args->echo);
}

static void ping_free(void *arg)
{
    MIDL_user_free(((struct ping_args *)arg)->echo.data);
}

static const struct agent_method ping_method =
{
    .name = "NapAgentPing",
    .stub = ping_stub,
    .free_out = ping_free,
    .args_size = sizeof(struct ping_args)
};

/* Caller holds handle_lock.  A handle to the agent listening on endpoint,
 * after a first call made alone: Wine's rpcrt4 shares one association per
 * endpoint among a process's handles, and threads that open the first
 * connections of a new endpoint at once can land in two server
 * associations (docs/wine.md, "Sessions named by cookie").  A ping first
 * keeps the usual case in one. */
static struct agent_handle *new_agent(const WCHAR *endpoint, DWORD timeout_ms)
{
    struct agent_handle *agent = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*agent));
    RPC_WSTR string_binding = NULL;
    struct ping_args ping = { { 0, NULL } };

    if (!agent) return NULL;
    agent->refs = 1;
    lstrcpynW(agent->endpoint, endpoint, ARRAYSIZE(agent->endpoint));
    if (RpcStringBindingComposeW(NULL, (RPC_WSTR)NAPAGENT_PROTSEQ, NULL, (RPC_WSTR)agent->endpoint, NULL,
                                 &string_binding) != RPC_S_OK
        || RpcBindingFromStringBindingW(string_binding, &agent->rpc) != RPC_S_OK)
    {
        RpcStringFreeW(&string_binding);
        HeapFree(GetProcessHeap(), 0, agent);
        return NULL;
    }
    RpcStringFreeW(&string_binding);
    InterlockedIncrement(&agent->refs);
    if (SUCCEEDED(call_on(agent, &ping_method, &ping, 0, timeout_ms))) MIDL_user_free(ping.echo.data);
    return agent;
}

/* The handle to the agent running now (a reference), NULL if none runs. */
static struct agent_handle *find_agent(DWORD timeout_ms)
{
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];
    struct agent_handle *agent = NULL;

    /* No agent process alive: say so without touching a pipe. */
    if (!agent_endpoint_find(endpoint, ARRAYSIZE(endpoint))) return NULL;
    AcquireSRWLockExclusive(&handle_lock);
    if (!current_agent || lstrcmpW(current_agent->endpoint, endpoint))
    {
        /* A restarted agent listens on a new endpoint. */
        if ((agent = new_agent(endpoint, timeout_ms)))
        {
            handle_release(current_agent);
            current_agent = agent;
        }
    }
    if ((agent = current_agent) && !lstrcmpW(agent->endpoint, endpoint)) InterlockedIncrement(&agent->refs);
    else agent = NULL;
    ReleaseSRWLockExclusive(&handle_lock);
    return agent;
}

HRESULT agent_call_once(const struct agent_method *method, void *args, UINT64 cookie, DWORD timeout_ms)
{
    struct agent_handle *agent = find_agent(timeout_ms);
    HRESULT hr;

    if (!agent && method->may_start_agent)
    {
        /* As Windows' NapAgent is demand-start, a management call starts it. */
        if (FAILED(hr = agent_service_ensure_running()))
        {
            TRACE("%s: no agent, and it could not be started: 0x%08lx\n", method->name, hr);
            return RPC_E_DISCONNECTED;
        }
        agent = find_agent(timeout_ms);
    }
    if (!agent) return RPC_E_DISCONNECTED;
    return call_on(agent, method, args, cookie, timeout_ms);
}

HRESULT agent_call(struct agent_session *session, const struct agent_method *method, void *args)
{
    unsigned int attempt;
    UINT64 cookie;
    HRESULT hr = RPC_E_DISCONNECTED;

    if (!session) return agent_call_once(method, args, 0, read_call_timeout());
    for (attempt = 0; attempt < SESSION_CALL_ATTEMPTS; attempt++)
    {
        if (FAILED(hr = agent_session_ready(session, &cookie))) return hr;
        hr = agent_call_once(method, args, cookie, session->timeout_ms);
        /* Lost: the agent restarted (it knows no such cookie), died, or
         * closed the session while going down. */
        if (hr != RPC_E_DISCONNECTED && hr != NAP_E_NOT_INITIALIZED) return hr;
        WARN("%s: session %s lost (0x%08lx), opening it again\n", method->name, agent_session_name(session), hr);
        agent_session_lost(session, cookie);
    }
    return hr == NAP_E_NOT_INITIALIZED ? RPC_E_DISCONNECTED : hr;
}
