/*
 * Benchmark: 20 ECs x 20 connections exchanging at once, against bare ncalrpc calls at the same concurrency
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "NapEnforcementClient.h"
#include "napagent_rpc.h"
#include "agent_endpoint.h"
#include "rpc_guard.h"
#include "callback_sink.h"
#include "soh.h"
#include "bench_stats.h"
#include "ec_exchange.h"

#define TP_FIRST_ID 0x00013A00u
#define THREAD_STACK (256 * 1024)


/* ---- Errors, by HRESULT ---- */

#define MAX_CODES 8
static SRWLOCK error_lock = SRWLOCK_INIT;
static struct { HRESULT hr; const char *where; LONG count; } error_codes[MAX_CODES];
static volatile LONG error_total;

static void count_error(HRESULT hr, const char *where)
{
    unsigned int i;

    InterlockedIncrement(&error_total);
    AcquireSRWLockExclusive(&error_lock);
    for (i = 0; i < MAX_CODES; i++)
    {
        if (!error_codes[i].where) { error_codes[i].hr = hr; error_codes[i].where = where; }
        if (error_codes[i].hr == hr && error_codes[i].where == where) { error_codes[i].count++; break; }
    }
    ReleaseSRWLockExclusive(&error_lock);
}

static void print_errors(void)
{
    unsigned int i;

    for (i = 0; i < MAX_CODES && error_codes[i].where; i++)
        printf("  error 0x%08lx in %s: %ld times\n", error_codes[i].hr, error_codes[i].where, error_codes[i].count);
}

/* ---- One run: threads that loop until the deadline ---- */

static HANDLE go_event;
static LARGE_INTEGER deadline;   /* set before go_event */
static volatile LONG stop_flag;

struct worker
{
    /* binding phase */
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    /* bare phase */
    RPC_BINDING_HANDLE rpc_binding;
    const BYTE *request;
    UINT16 request_size;
    const BYTE *response;
    UINT16 response_size;
    /* results: operations completed before the deadline */
    LONG done;
    double busy_us;              /* time spent in those operations */
};

static BOOL before_deadline(LARGE_INTEGER *now)
{
    QueryPerformanceCounter(now);
    return now->QuadPart <= deadline.QuadPart;
}

static DWORD WINAPI exchange_thread(void *arg)
{
    struct worker *w = arg;
    LARGE_INTEGER start, end;
    BOOL retrigger;
    HRESULT hr;

    WaitForSingleObject(go_event, INFINITE);
    while (!stop_flag)
    {
        QueryPerformanceCounter(&start);
        if (FAILED(hr = INapEnforcementClientBinding_GetSoHRequest(w->binding, w->connection, &retrigger)))
            count_error(hr, "GetSoHRequest");
        else if (FAILED(hr = ec_answer_request(w->connection, NULL)))
            count_error(hr, "answer (codec, SetSoHResponse)");
        else if (FAILED(hr = INapEnforcementClientBinding_ProcessSoHResponse(w->binding, w->connection)))
            count_error(hr, "ProcessSoHResponse");
        else if (before_deadline(&end))
        {
            w->done++;
            w->busy_us += elapsed_us(start, end);
        }
    }
    return 0;
}

struct ping_call { RPC_BINDING_HANDLE binding; UINT16 size; const BYTE *data; NAPAGENT_BLOB echo; };

static HRESULT ping_thunk(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    struct ping_call *call = arg;

    return NapAgentPing(call->binding, call->size, call->data, &call->echo);
}

static HRESULT ping(RPC_BINDING_HANDLE binding, const BYTE *data, UINT16 size)
{
    struct ping_call call = { binding, size, data, { 0, NULL } };
    HRESULT hr = rpc_guarded_call(ping_thunk, NULL, 0, &call, NULL);

    if (SUCCEEDED(hr) && call.echo.size != size) hr = E_UNEXPECTED;
    MIDL_user_free(call.echo.data);
    return hr;
}

/* The same bytes as an exchange: the request's size there and back, then the response's. */
static DWORD WINAPI bare_thread(void *arg)
{
    struct worker *w = arg;
    LARGE_INTEGER start, end;
    HRESULT hr;

    WaitForSingleObject(go_event, INFINITE);
    while (!stop_flag)
    {
        QueryPerformanceCounter(&start);
        if (FAILED(hr = ping(w->rpc_binding, w->request, w->request_size)))
            count_error(hr, "NapAgentPing (request size)");
        else if (FAILED(hr = ping(w->rpc_binding, w->response, w->response_size)))
            count_error(hr, "NapAgentPing (response size)");
        else if (before_deadline(&end))
        {
            w->done++;
            w->busy_us += elapsed_us(start, end);
        }
    }
    return 0;
}

struct run_result { LONG done; double mean_us; };

static BOOL run_phase(struct worker *workers, size_t count, LPTHREAD_START_ROUTINE fn, DWORD seconds,
                      struct run_result *result)
{
    HANDLE *threads = calloc(count, sizeof(*threads));
    LARGE_INTEGER now;
    double busy = 0;
    size_t i;
    BOOL ok = TRUE;

    if (!threads) return FALSE;
    stop_flag = 0;
    ResetEvent(go_event);
    for (i = 0; i < count; i++)
    {
        workers[i].done = 0;
        workers[i].busy_us = 0;
        if (!(threads[i] = CreateThread(NULL, THREAD_STACK, fn, &workers[i], STACK_SIZE_PARAM_IS_A_RESERVATION, NULL)))
        {
            fprintf(stderr, "bench: CreateThread %u failed: %lu\n", (unsigned)i, GetLastError());
            ok = FALSE;
            break;
        }
    }
    Sleep(200); /* every thread waiting */
    QueryPerformanceCounter(&now);
    deadline.QuadPart = now.QuadPart + (LONGLONG)seconds * qpc_frequency.QuadPart;
    SetEvent(go_event);
    if (ok) Sleep(seconds * 1000);
    InterlockedExchange(&stop_flag, 1);
    SetEvent(go_event);
    result->done = 0;
    for (i = 0; i < count && threads[i]; i++)
    {
        WaitForSingleObject(threads[i], INFINITE);
        CloseHandle(threads[i]);
        result->done += workers[i].done;
        busy += workers[i].busy_us;
    }
    result->mean_us = result->done ? busy / result->done : 0;
    free(threads);
    return ok;
}

#define CHECK(expr, what) do { HRESULT hr_ = (expr); if (FAILED(hr_)) { \
    fprintf(stderr, "bench: %s failed: 0x%08lx\n", what, hr_); goto done; } } while (0)

static void usage(void)
{
    printf("usage: bench_throughput [--seconds D] [--ecs E] [--connections C] [--quick]\n"
           "  --seconds D      length of each run (default 10)\n"
           "  --ecs E          bound ECs, one binding each (default 20)\n"
           "  --connections C  connections per EC, one thread each (default 20)\n"
           "  --quick          2 s each: a smoke run\n");
}

int main(int argc, char **argv)
{
    static struct callback_sink sinks[maxEnforcerCount];
    INapEnforcementClientBinding *bindings[maxEnforcerCount] = { 0 };
    BOOL initialized[maxEnforcerCount] = { 0 };
    RPC_BINDING_HANDLE rpc_bindings[maxEnforcerCount] = { 0 };
    struct worker *workers = NULL;
    struct run_result binding_run = { 0, 0 }, bare_run = { 0, 0 };
    static BYTE request[maxNetworkSoHSize], response[maxNetworkSoHSize];
    UINT16 request_size = 0, response_size = 0;
    HANDLE agent = NULL;
    DWORD seconds = 10;
    size_t ecs = maxEnforcerCount, per_ec = maxConnectionCountPerEnforcer, total, e, c;
    LONG binding_errors = 0;
    double exchanges_per_s, bare_per_s;
    BOOL com = FALSE, ok = FALSE;
    int i;

    for (i = 1; i < argc; i++)
    {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--ecs") && i + 1 < argc) ecs = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--connections") && i + 1 < argc) per_ec = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--quick")) seconds = 2;
        else { usage(); return !strcmp(argv[i], "--help") ? 0 : 2; }
    }
    if (!seconds || !ecs || ecs > maxEnforcerCount || !per_ec || per_ec > maxConnectionCountPerEnforcer)
    {
        usage();
        return 2;
    }
    total = ecs * per_ec;

    test_install_crash_handler();
    QueryPerformanceFrequency(&qpc_frequency);
    if (!(go_event = CreateEventW(NULL, TRUE, FALSE, NULL))) return 1;
    if (!(workers = calloc(total, sizeof(*workers)))) return 1;

    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED))) goto done;
    com = TRUE;
    if (test_register_qagent() != 0) { fprintf(stderr, "bench: regsvr32 qagent.dll failed\n"); goto done; }
    if (!(agent = test_start_agent())) { fprintf(stderr, "bench: napagent.exe did not start\n"); goto done; }
    CHECK(test_unregister_all_ecs(), "unregistering every EC");
    for (e = 0; e < ecs; e++) CHECK(test_register_ec(TP_FIRST_ID + (UINT32)e, TRUE), "registering an EC");
    for (e = 0; e < ecs; e++)
    {
        callback_sink_init(&sinks[e]);
        CHECK(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                               &IID_INapEnforcementClientBinding, (void **)&bindings[e]), "CoCreateInstance");
        CHECK(INapEnforcementClientBinding_Initialize(bindings[e], TP_FIRST_ID + (UINT32)e,
                                                      &sinks[e].INapEnforcementClientCallback_iface), "Initialize");
        initialized[e] = TRUE;
        if (agent_endpoint_bind(&rpc_bindings[e]) != RPC_S_OK) { fprintf(stderr, "bench: bind\n"); goto done; }
        for (c = 0; c < per_ec; c++)
        {
            struct worker *w = &workers[e * per_ec + c];
            BOOL retrigger;
            GUID id;

            w->binding = bindings[e];
            CHECK(INapEnforcementClientBinding_CreateConnection(bindings[e], &w->connection), "CreateConnection");
            CoCreateGuid(&id);
            CHECK(INapEnforcementClientConnection_SetConnectionId(w->connection, &id), "SetConnectionId");
            sinks[e].connections[sinks[e].connection_count++] = w->connection;
            /* One exchange each, untimed: it also tells the sizes. */
            CHECK(INapEnforcementClientBinding_GetSoHRequest(bindings[e], w->connection, &retrigger), "GetSoHRequest");
            if (!request_size)
            {
                NetworkSoHRequest *soh = NULL;
                CHECK(INapEnforcementClientConnection_GetSoHRequest(w->connection, &soh), "connection GetSoHRequest");
                request_size = soh->size;
                memcpy(request, soh->data, soh->size);
                CoTaskMemFree(soh->data);
                CoTaskMemFree(soh);
            }
            CHECK(ec_answer_request(w->connection, &response_size), "answer_request");
            CHECK(INapEnforcementClientBinding_ProcessSoHResponse(bindings[e], w->connection), "ProcessSoHResponse");
            w->rpc_binding = rpc_bindings[e];
            w->request = request;
            w->request_size = request_size;
            w->response = response;
            w->response_size = response_size;
        }
    }
    memset(response, 0xa5, response_size);

    printf("bench_throughput: %u ECs x %u connections = %u threads (one per connection), %lu s each run;\n"
           "  request %u bytes, response %u bytes; bare: %u threads, one ncalrpc handle per 20 as per EC\n",
           (unsigned)ecs, (unsigned)per_ec, (unsigned)total, seconds, request_size, response_size, (unsigned)total);

    if (!run_phase(workers, total, exchange_thread, seconds, &binding_run)) goto done;
    binding_errors = error_total;
    print_errors();
    memset(error_codes, 0, sizeof(error_codes));
    error_total = 0;
    if (!run_phase(workers, total, bare_thread, seconds, &bare_run)) goto done;
    print_errors();

    exchanges_per_s = (double)binding_run.done / seconds;
    bare_per_s = (double)bare_run.done / seconds;
    printf("binding: %ld exchanges in %lu s = %.0f exchanges/s, %.0f RPC calls/s (2 per exchange); mean %.0f us per exchange; %ld errors\n",
           binding_run.done, seconds, exchanges_per_s, 2 * exchanges_per_s, binding_run.mean_us, binding_errors);
    printf("bare:    %ld ping pairs in %lu s = %.0f pairs/s, %.0f calls/s; mean %.0f us per pair; %ld errors\n",
           bare_run.done, seconds, bare_per_s, 2 * bare_per_s, bare_run.mean_us, error_total);
    printf("ratio %.2fx  (binding RPC calls/s / bare calls/s, target >= 0.8x)\n",
           bare_per_s ? exchanges_per_s / bare_per_s : 0);
    ok = !binding_errors && !error_total;

done:
    for (e = 0; e < maxEnforcerCount; e++)
    {
        if (rpc_bindings[e]) RpcBindingFree(&rpc_bindings[e]);
        for (c = 0; workers && e < ecs && c < per_ec; c++)
        {
            struct worker *w = &workers[e * per_ec + c];
            if (w->connection && INapEnforcementClientConnection_Release(w->connection) != 0) ok = FALSE;
        }
        if (initialized[e] && FAILED(INapEnforcementClientBinding_Uninitialize(bindings[e]))) ok = FALSE;
        if (bindings[e] && INapEnforcementClientBinding_Release(bindings[e]) != 0) ok = FALSE;
    }
    test_kill_agent(agent);
    if (com) CoUninitialize();
    free(workers);
    CloseHandle(go_event);
    if (!ok) fprintf(stderr, "bench_throughput: FAILED\n");
    return ok ? 0 : 1;
}
