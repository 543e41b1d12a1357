/*
 * Benchmark: INapEnforcementClientBinding::GetSoHRequest against a bare ncalrpc call of the same size
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

#define BENCH_EC_ID     0x000137F4u /* bound through qagent's binding */
#define BENCH_EC_ID_RAW 0x000137F5u /* bound by hand, for the raw session RPC */


/* ---- The operations being timed.  Each returns S_OK or the failure. ---- */

struct bench
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    RPC_BINDING_HANDLE ping_binding;     /* agent_endpoint_bind, for NapAgentPing */
    RPC_BINDING_HANDLE raw_binding;      /* agent_endpoint_bind, for NapAgentOpenSession */
    NAPAGENT_SESSION_HANDLE raw_ec;           /* a session bound by hand (no qagent) */
    UINT64 raw_cookie;                   /* what its calls name it by */
    NAPAGENT_CONNECTION_FACTS raw_facts;
    BYTE request[maxNetworkSoHSize];     /* the request the binding got first */
    UINT16 request_size;
};

static HRESULT op_binding(struct bench *bench)
{
    BOOL retrigger = TRUE;

    return INapEnforcementClientBinding_GetSoHRequest(bench->binding, bench->connection, &retrigger);
}

struct ping_call { RPC_BINDING_HANDLE binding; UINT16 size; const BYTE *data; NAPAGENT_BLOB echo; };

static HRESULT ping_thunk(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    struct ping_call *call = arg;

    return NapAgentPing(call->binding, call->size, call->data, &call->echo);
}

static HRESULT op_ping(struct bench *bench)
{
    struct ping_call call = { bench->ping_binding, bench->request_size, bench->request, { 0, NULL } };
    HRESULT hr = rpc_guarded_call(ping_thunk, NULL, 0, &call, NULL);

    if (SUCCEEDED(hr) && call.echo.size != bench->request_size) hr = E_UNEXPECTED;
    MIDL_user_free(call.echo.data);
    return hr;
}

struct raw_call
{
    struct bench *bench;
    NAPAGENT_CORRELATION correlation;
    BYTE flags;
    BOOL retrigger;
    NAPAGENT_BLOB request;
};

static HRESULT raw_thunk(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    struct raw_call *call = arg;

    return NapAgentEcGetSoHRequest(call->bench->raw_binding, call->bench->raw_cookie, &call->bench->raw_facts,
                                   &call->correlation, &call->flags, &call->retrigger, &call->request);
}

static HRESULT op_raw(struct bench *bench)
{
    struct raw_call call = { .bench = bench };
    HRESULT hr = rpc_guarded_call(raw_thunk, NULL, 0, &call, NULL);

    MIDL_user_free(call.request.data);
    return hr;
}

/* What the binding does to the connection besides the RPC: connection_read_facts
 * (GetConnectionId, GetMaxSize, GetCorrelationId) and store_request
 * (SetSoHRequest, SetCorrelationId, SetFlags), with the same data. */
static HRESULT op_connection(struct bench *bench)
{
    INapEnforcementClientConnection *connection = bench->connection;
    NetworkSoHRequest soh = { bench->request_size, bench->request };
    ConnectionId *id = NULL;
    CorrelationId correlation;
    ProtocolMaxSize max_size;
    HRESULT hr;

    if (FAILED(hr = INapEnforcementClientConnection_GetConnectionId(connection, &id))) return hr;
    CoTaskMemFree(id);
    if (FAILED(hr = INapEnforcementClientConnection_GetMaxSize(connection, &max_size))) return hr;
    if (FAILED(hr = INapEnforcementClientConnection_GetCorrelationId(connection, &correlation))) return hr;
    if (FAILED(hr = INapEnforcementClientConnection_SetSoHRequest(connection, &soh))) return hr;
    if (FAILED(hr = INapEnforcementClientConnection_SetCorrelationId(connection, correlation))) return hr;
    return INapEnforcementClientConnection_SetFlags(connection, freshSoHRequest);
}

/* The agent's per-request work in exchange_build_request: HeapAlloc, encode, HeapFree. */
static HRESULT op_encode(struct bench *bench)
{
    struct soh_request *request = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*request));
    BYTE *out = MIDL_user_allocate(maxNetworkSoHSize);
    size_t length = 0;
    enum soh_status status = SOH_OK;
    HRESULT hr = S_OK;

    if (!request || !out) hr = E_OUTOFMEMORY;
    else if ((status = soh_decode_request(bench->request, bench->request_size, request)) != SOH_OK) hr = E_FAIL;
    else
    {
        struct soh_request copy = *request;
        ZeroMemory(request, sizeof(*request));
        request->with_mode_header = copy.with_mode_header;
        request->correlation = copy.correlation;
        request->machine = copy.machine;
        request->quarantine = copy.quarantine;
        if (soh_encode_request(request, out, maxNetworkSoHSize, &length) != SOH_OK) hr = E_FAIL;
    }
    HeapFree(GetProcessHeap(), 0, request);
    MIDL_user_free(out);
    return hr;
}

typedef HRESULT (*bench_op)(struct bench *bench);

static BOOL run_calls(struct bench *bench, bench_op op, struct series *series, size_t calls, const char *what)
{
    LARGE_INTEGER start, end;
    size_t i;
    HRESULT hr;

    for (i = 0; i < calls; i++)
    {
        QueryPerformanceCounter(&start);
        hr = op(bench);
        QueryPerformanceCounter(&end);
        if (FAILED(hr))
        {
            fprintf(stderr, "bench: %s failed: 0x%08lx\n", what, hr);
            return FALSE;
        }
        if (series) series_add(series, elapsed_us(start, end));
    }
    return TRUE;
}

/* ---- Set-up and tear-down ---- */

static BOOL read_request_size(struct bench *bench)
{
    NetworkSoHRequest *soh = NULL;
    HRESULT hr = INapEnforcementClientConnection_GetSoHRequest(bench->connection, &soh);

    if (FAILED(hr) || !soh || soh->size < minNetworkSoHSize || soh->size > maxNetworkSoHSize)
    {
        fprintf(stderr, "bench: connection GetSoHRequest: 0x%08lx\n", hr);
        if (soh) CoTaskMemFree(soh->data);
        CoTaskMemFree(soh);
        return FALSE;
    }
    memcpy(bench->request, soh->data, soh->size);
    bench->request_size = soh->size;
    CoTaskMemFree(soh->data);
    CoTaskMemFree(soh);
    return TRUE;
}

struct bind_call { RPC_BINDING_HANDLE binding; UINT64 cookie; NAPAGENT_SESSION_HANDLE ec; };

static HRESULT bind_thunk(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    struct bind_call *call = arg;

    return NapAgentOpenSession(call->binding, NAPAGENT_KIND_EC, BENCH_EC_ID_RAW, GetCurrentProcessId(), 0, &call->cookie, &call->ec);
}

static HRESULT unbind_thunk(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    return NapAgentCloseSession((NAPAGENT_SESSION_HANDLE *)arg);
}

#define CHECK(expr, what) do { HRESULT hr_ = (expr); if (FAILED(hr_)) { \
    fprintf(stderr, "bench: %s failed: 0x%08lx\n", what, hr_); goto done; } } while (0)

static void usage(void)
{
    printf("usage: bench_binding [--calls N] [--rounds R] [--warmup W] [--quick]\n"
           "  --calls N   calls of each kind per round (default 250)\n"
           "  --rounds R  interleaved rounds (default 20)\n"
           "  --warmup W  untimed calls of each kind first (default 200)\n"
           "  --quick     5 rounds x 20 calls, 20 warm-up: a smoke run\n");
}

int main(int argc, char **argv)
{
    struct bench *bench = NULL;
    struct callback_sink sink;
    struct series s_binding = { 0 }, s_ping = { 0 }, s_raw = { 0 }, s_conn = { 0 },
                  s_encode = { 0 };
    struct summary binding_sum, ping_sum, raw_sum;
    HANDLE agent = NULL;
    size_t calls = 250, rounds = 20, warmup = 200, total, r, k;
    char note[96];
    BOOL initialized = FALSE, com = FALSE, ok = FALSE;
    GUID id;
    int i;

    for (i = 1; i < argc; i++)
    {
        if (!strcmp(argv[i], "--calls") && i + 1 < argc) calls = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--quick")) { calls = 20; rounds = 5; warmup = 20; }
        else { usage(); return !strcmp(argv[i], "--help") ? 0 : 2; }
    }
    if (!calls || !rounds) { usage(); return 2; }
    total = calls * rounds;

    test_install_crash_handler();
    QueryPerformanceFrequency(&qpc_frequency);
    memset(&sink, 0, sizeof(sink));
    if (!(bench = calloc(1, sizeof(*bench)))) return 1;
    if (!series_init(&s_binding, "GetSoHRequest (binding)", total)
        || !series_init(&s_ping, "NapAgentPing (bare RPC)", total)
        || !series_init(&s_raw, "NapAgentEcGetSoHRequest (raw session)", total)
        || !series_init(&s_conn, "  connection Get/Set x6 (qagent)", total)
        || !series_init(&s_encode, "  alloc+encode SoH request (agent)", total))
        goto done;

    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED))) goto done;
    com = TRUE;
    if (test_register_qagent() != 0) { fprintf(stderr, "bench: regsvr32 qagent.dll failed\n"); goto done; }
    if (!(agent = test_start_agent())) { fprintf(stderr, "bench: napagent.exe did not start\n"); goto done; }
    /* The store holds 20 ECs: another benchmark may have left them registered. */
    CHECK(test_unregister_all_ecs(), "unregistering every EC");
    CHECK(test_register_ec(BENCH_EC_ID, TRUE), "registering the EC");
    CHECK(test_register_ec(BENCH_EC_ID_RAW, TRUE), "registering the raw EC");

    CHECK(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                           &IID_INapEnforcementClientBinding, (void **)&bench->binding), "CoCreateInstance");
    callback_sink_init(&sink);
    CHECK(INapEnforcementClientBinding_Initialize(bench->binding, BENCH_EC_ID, &sink.INapEnforcementClientCallback_iface),
          "Initialize");
    initialized = TRUE;
    CHECK(INapEnforcementClientBinding_CreateConnection(bench->binding, &bench->connection), "CreateConnection");
    CoCreateGuid(&id);
    CHECK(INapEnforcementClientConnection_SetConnectionId(bench->connection, &id), "SetConnectionId");
    CHECK(op_binding(bench), "the first GetSoHRequest");
    if (!read_request_size(bench)) goto done;

    if (agent_endpoint_bind(&bench->ping_binding) != RPC_S_OK) { fprintf(stderr, "bench: bind\n"); goto done; }
    {
        struct bind_call call = { NULL, 0, NULL };
        ProtocolMaxSize max_size = 0;

        if (agent_endpoint_bind(&bench->raw_binding) != RPC_S_OK) { fprintf(stderr, "bench: bind\n"); goto done; }
        call.binding = bench->raw_binding;
        CHECK(rpc_guarded_call(bind_thunk, NULL, 0, &call, NULL), "NapAgentOpenSession (raw session)");
        bench->raw_ec = call.ec;
        bench->raw_cookie = call.cookie;
        CHECK(INapEnforcementClientConnection_GetMaxSize(bench->connection, &max_size), "GetMaxSize");
        CoCreateGuid(&bench->raw_facts.connection_id);
        bench->raw_facts.max_size = max_size;
    }

    printf("bench_binding: request N=%u bytes, %u rounds x %u calls each, %u warm-up calls each\n",
           bench->request_size, (unsigned)rounds, (unsigned)calls, (unsigned)warmup);

    if (!run_calls(bench, op_binding, NULL, warmup, "GetSoHRequest (warm-up)")
        || !run_calls(bench, op_ping, NULL, warmup, "NapAgentPing (warm-up)")
        || !run_calls(bench, op_raw, NULL, warmup, "NapAgentEcGetSoHRequest (warm-up)"))
        goto done;

    /* Interleaved rounds; the order rotates (all 6 permutations) so that
     * noise and warm caches favour none of them. */
    for (r = 0; r < rounds; r++)
    {
        static const int orders[6][3] = { {0,1,2}, {1,2,0}, {2,0,1}, {2,1,0}, {1,0,2}, {0,2,1} };
        for (k = 0; k < 3; k++)
        {
            BOOL good = TRUE;
            switch (orders[r % 6][k])
            {
            case 0: good = run_calls(bench, op_binding, &s_binding, calls, "GetSoHRequest"); break;
            case 1: good = run_calls(bench, op_ping, &s_ping, calls, "NapAgentPing"); break;
            case 2: good = run_calls(bench, op_raw, &s_raw, calls, "NapAgentEcGetSoHRequest"); break;
            }
            if (!good) goto done;
        }
    }

    /* Breakdown: the pieces alone, same number of calls. */
    if (!run_calls(bench, op_connection, NULL, warmup, "connection Get/Set")
        || !run_calls(bench, op_connection, &s_conn, total, "connection Get/Set")
        || !run_calls(bench, op_encode, NULL, warmup, "encode")
        || !run_calls(bench, op_encode, &s_encode, total, "encode"))
        goto done;

    binding_sum = summarize(&s_binding);
    ping_sum = summarize(&s_ping);
    raw_sum = summarize(&s_raw);
    print_summary(&s_binding, NULL);
    snprintf(note, sizeof(note), "(%u bytes in, %u out)", bench->request_size, bench->request_size);
    print_summary(&s_ping, note);
    print_summary(&s_raw, "(no qagent: cookie, facts in, request out)");
    printf("ratio median %.2fx  p99 %.2fx  (binding/bare RPC, target <= 1.25x)\n",
           binding_sum.median / ping_sum.median, binding_sum.p99 / ping_sum.p99);
    printf("ratio median %.2fx  p99 %.2fx  (raw session/bare RPC: the agent's side and the session RPC)\n",
           raw_sum.median / ping_sum.median, raw_sum.p99 / ping_sum.p99);
    printf("ratio median %.2fx  p99 %.2fx  (binding/raw session: qagent's own side)\n",
           binding_sum.median / raw_sum.median, binding_sum.p99 / raw_sum.p99);
    printf("breakdown (each piece alone, in this process):\n");
    print_summary(&s_conn, NULL);
    print_summary(&s_encode, NULL);
    ok = TRUE;

done:
    if (bench)
    {
        if (bench->raw_ec) rpc_guarded_call(unbind_thunk, NULL, 0, &bench->raw_ec, NULL);
        if (bench->raw_binding) RpcBindingFree(&bench->raw_binding);
        if (bench->ping_binding) RpcBindingFree(&bench->ping_binding);
        if (bench->connection && INapEnforcementClientConnection_Release(bench->connection) != 0) ok = FALSE;
        if (initialized && FAILED(INapEnforcementClientBinding_Uninitialize(bench->binding))) ok = FALSE;
        if (bench->binding && INapEnforcementClientBinding_Release(bench->binding) != 0) ok = FALSE;
    }
    test_kill_agent(agent);
    if (com) CoUninitialize();
    free(s_binding.us); free(s_ping.us); free(s_raw.us); free(s_conn.us);
    free(s_encode.us);
    free(bench);
    if (!ok) fprintf(stderr, "bench_binding: FAILED\n");
    return ok ? 0 : 1;
}
