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
    /* The first call on a new endpoint is made alone: Wine's rpcrt4 shares
     * one association per endpoint among a process's handles, and threads
     * that open the first connections of a new endpoint at once can land in
     * two server associations (docs/wine.md, "Sessions named by cookie").
     * The others wait for it on the first_call lock. */
    SRWLOCK first_call;
    volatile LONG first_done;
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
    /* The caller gave up on it: the worker frees what it returned.  Both
     * flags change under pool_lock, so exactly one side owns the outputs. */
    BOOL abandoned;
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

/* Never frees the call's outputs: whoever drops the last reference (it may
 * be the caller) must not run free_out, which may call the agent. */
static void job_release(struct agent_job *job)
{
    if (InterlockedDecrement(&job->refs)) return;
    handle_release(job->agent);
    HeapFree(GetProcessHeap(), 0, job);
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

/* On a worker: the call, alone if it is the first on its agent's endpoint. */
static void run_job(struct agent_job *job)
{
    struct agent_handle *agent = job->agent;
    BOOL first = !agent->first_done;

    if (first) AcquireSRWLockExclusive(&agent->first_call);
    job->hr = rpc_guarded_call(job->method->stub, agent->rpc, job->cookie, job->args, &job->exception_code);
    if (!first) return;
    InterlockedExchange(&agent->first_done, 1);
    ReleaseSRWLockExclusive(&agent->first_call);
}

static DWORD WINAPI worker_main(void *unused)
{
    struct agent_job *job;
    BOOL abandoned;

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
        run_job(job);
        AcquireSRWLockExclusive(&pool_lock);
        job->done = TRUE;
        abandoned = job->abandoned;
        WakeAllConditionVariable(&job->done_cv);
        ReleaseSRWLockExclusive(&pool_lock);
        /* Its caller gave up: what the call returned is freed here, on the worker. */
        if (abandoned && job->method->free_out) job->method->free_out(job->args);
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

/* Caller holds pool_lock.  Hands the job to a worker; FALSE with none to be had. */
static BOOL queue_job(struct agent_job *job)
{
    if (!ensure_worker()) return FALSE;
    InterlockedIncrement(&job->refs); /* the worker's */
    if (queue_tail) queue_tail->next = job;
    else queue_head = job;
    queue_tail = job;
    queue_length++;
    WakeConditionVariable(&work_cv);
    return TRUE;
}

/* Caller holds handle_lock.  A handle to the agent listening on endpoint. */
static struct agent_handle *new_agent(const WCHAR *endpoint)
{
    struct agent_handle *agent = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*agent));
    RPC_WSTR string_binding = NULL;

    if (!agent) return NULL;
    agent->refs = 1;
    InitializeSRWLock(&agent->first_call);
    lstrcpynW(agent->endpoint, endpoint, ARRAYSIZE(agent->endpoint));
    if (RpcStringBindingComposeW(NULL, (RPC_WSTR)NAPAGENT_PROTSEQ, NULL, (RPC_WSTR)agent->endpoint, NULL,
                                 &string_binding) == RPC_S_OK
        && RpcBindingFromStringBindingW(string_binding, &agent->rpc) == RPC_S_OK)
    {
        RpcStringFreeW(&string_binding);
        return agent;
    }
    RpcStringFreeW(&string_binding);
    HeapFree(GetProcessHeap(), 0, agent);
    return NULL;
}

/* The handle to the agent running now (a reference), NULL if none runs. */
static struct agent_handle *find_agent(void)
{
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];
    struct agent_handle *agent;

    /* No agent process alive: say so without touching a pipe. */
    if (!agent_endpoint_find(endpoint, ARRAYSIZE(endpoint))) return NULL;
    AcquireSRWLockExclusive(&handle_lock);
    /* A restarted agent listens on a new endpoint. */
    if ((!current_agent || lstrcmpW(current_agent->endpoint, endpoint)) && (agent = new_agent(endpoint)))
    {
        handle_release(current_agent);
        current_agent = agent;
    }
    if ((agent = current_agent) && !lstrcmpW(agent->endpoint, endpoint)) InterlockedIncrement(&agent->refs);
    else agent = NULL;
    ReleaseSRWLockExclusive(&handle_lock);
    return agent;
}

/* A job for the agent running now, started first if the method may and
 * none runs (*started_agent); NULL and *hr when there is none, or no memory. */
static struct agent_job *new_job(const struct agent_method *method, void *args, UINT64 cookie, HRESULT *hr,
                                 BOOL *started_agent)
{
    struct agent_handle *agent = find_agent();
    struct agent_job *job;

    /* As Windows' NapAgent is demand-start, management calls start it. */
    *started_agent = FALSE;
    if (!agent && method->may_start_agent && SUCCEEDED(*hr = agent_service_ensure_running()))
    {
        *started_agent = TRUE;
        agent = find_agent();
    }
    *hr = RPC_E_DISCONNECTED;
    if (!agent) return NULL;
    *hr = E_OUTOFMEMORY;
    if (!(job = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*job) + method->args_size)))
    {
        handle_release(agent);
        return NULL;
    }
    job->refs = 1;
    job->method = method;
    job->agent = agent;
    job->cookie = cookie;
    InitializeConditionVariable(&job->done_cv);
    if (method->args_size) memcpy(job->args, args, method->args_size);
    return job;
}

/* The result of a job that ran: its outputs become the caller's. */
static HRESULT take_result(struct agent_job *job, void *args)
{
    if (job->method->args_size) memcpy(args, job->args, job->method->args_size);
    if (job->exception_code && rpc_code_means_disconnected(job->exception_code)) return RPC_E_DISCONNECTED;
    return job->hr;
}

/* Lost: the agent restarted (it knows no such cookie), died, or closed the
 * session while going down. */
static BOOL session_lost(HRESULT hr)
{
    return hr == RPC_E_DISCONNECTED || hr == NAP_E_NOT_INITIALIZED;
}

/* The caller waits here, until the deadline, while a worker makes the RPC
 * (rpc_guarded_call, then the method's stub adapter). */
static HRESULT wait_for_job(struct agent_job *job, void *args, ULONGLONG deadline)
{
    BOOL queued, done = FALSE;
    ULONGLONG now;
    HRESULT hr;

    AcquireSRWLockExclusive(&pool_lock);
    queued = queue_job(job);
    while (queued && !(done = job->done) && (now = GetTickCount64()) < deadline)
        SleepConditionVariableSRW(&job->done_cv, &pool_lock, (DWORD)(deadline - now), 0);
    if (queued && !done)
    {
        /* Too late: a job no worker took leaves the queue; the worker of
         * one already running frees what it returns. */
        if (!job->started && unqueue(job)) InterlockedDecrement(&job->refs);
        else job->abandoned = TRUE;
    }
    ReleaseSRWLockExclusive(&pool_lock);
    hr = !queued ? E_OUTOFMEMORY : done ? take_result(job, args) : RPC_E_TIMEOUT;
    job_release(job);
    return hr;
}

/* One attempt of the call, to the agent running now; *no_agent when none runs. */
static HRESULT call_once(struct agent_session *session, const struct agent_method *method, void *args,
                         UINT64 cookie, ULONGLONG *deadline, BOOL *no_agent)
{
    struct agent_job *job;
    BOOL started_agent;
    HRESULT hr;

    *no_agent = FALSE;
    if (GetTickCount64() >= *deadline) return RPC_E_TIMEOUT;
    if (!(job = new_job(method, args, cookie, &hr, &started_agent)))
    {
        *no_agent = hr == RPC_E_DISCONNECTED;
        return hr;
    }
    /* The wait for the service to start has its own bound (agent_service.c). */
    if (started_agent) *deadline = max(*deadline, agent_call_deadline(session) + method->wait_ms);
    hr = wait_for_job(job, args, *deadline);
    TRACE("%s: 0x%08lx\n", method->name, hr);
    return hr;
}

ULONGLONG agent_call_deadline(const struct agent_session *session)
{
    return GetTickCount64() + (session ? session->timeout_ms : read_call_timeout());
}

HRESULT agent_call_until(struct agent_session *session, const struct agent_method *method, void *args,
                         ULONGLONG deadline)
{
    BOOL rebind = session && !method->no_rebind, no_agent;
    unsigned int attempt;
    UINT64 cookie = 0;
    HRESULT hr = RPC_E_DISCONNECTED;

    for (attempt = 0; attempt < (rebind ? SESSION_CALL_ATTEMPTS : 1); attempt++)
    {
        /* Opens it again within the same deadline if it was lost. */
        if (rebind && FAILED(hr = agent_session_ready(session, deadline, &cookie))) return hr;
        hr = call_once(session, method, args, cookie, &deadline, &no_agent);
        /* No agent runs: the session is lost with it, and there is nothing to reopen. */
        if (rebind && no_agent) agent_session_lost(session, cookie);
        if (!rebind || no_agent || !session_lost(hr)) return hr;
        /* Closed by us meanwhile (Uninitialize racing a call of the
         * callback thread): not lost, and nothing to open again. */
        if (agent_session_closed(session)) return NAP_E_NOT_INITIALIZED;
        WARN("%s: session %s lost (0x%08lx), opening it again\n", method->name, agent_session_name(session), hr);
        agent_session_lost(session, cookie);
    }
    return hr == NAP_E_NOT_INITIALIZED ? RPC_E_DISCONNECTED : hr;
}

HRESULT agent_call_detached(const struct agent_method *method, void *args)
{
    struct agent_job *job;
    BOOL started_agent, queued;
    HRESULT hr;

    if (!(job = new_job(method, args, 0, &hr, &started_agent))) return hr;
    AcquireSRWLockExclusive(&pool_lock);
    job->abandoned = TRUE;
    queued = queue_job(job);
    ReleaseSRWLockExclusive(&pool_lock);
    job_release(job);
    return queued ? S_OK : E_OUTOFMEMORY;
}

HRESULT agent_call(struct agent_session *session, const struct agent_method *method, void *args)
{
    return agent_call_until(session, method, args, agent_call_deadline(session) + method->wait_ms);
}
