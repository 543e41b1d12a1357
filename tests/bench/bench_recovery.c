/*
 * Benchmark: how soon a binding works again after the agent restarts, against a bare ncalrpc client reconnecting
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

#define BENCH_EC_ID     0x000137F6u
#define BENCH_EC_ID_RAW 0x000137F7u /* the raw session of the breakdown */
#define GIVE_UP_MS 20000


/* ---- The agent, started by hand so that we see the instant it listens ---- */

static HANDLE start_agent_process(DWORD *pid)
{
    WCHAR path[MAX_PATH], log[MAX_PATH], cmdline[3 * MAX_PATH];
    STARTUPINFOW si = { .cb = sizeof(si) };
    PROCESS_INFORMATION pi;

    test_bin_path(L"napagent.exe", path, MAX_PATH);
    test_bin_path(L"napagent-bench.log", log, MAX_PATH);
    swprintf(cmdline, ARRAYSIZE(cmdline), L"\"%ls\" --console --log \"%ls\"", path, log);
    if (!CreateProcessW(path, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return NULL;
    CloseHandle(pi.hThread);
    *pid = pi.dwProcessId;
    return pi.hProcess;
}

/* Starts the agent and spins until it has published its own endpoint (it does
 * so right after RpcServerUseProtseqEp and RpcServerRegisterIfEx): *t0 is
 * the first instant we saw it. */
static HANDLE start_agent_timed(LARGE_INTEGER *t0, double *startup_us)
{
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX], expected[NAPAGENT_ENDPOINT_MAX];
    LARGE_INTEGER created;
    DWORD pid = 0, start;
    HANDLE agent;

    QueryPerformanceCounter(&created);
    if (!(agent = start_agent_process(&pid))) return NULL;
    swprintf(expected, ARRAYSIZE(expected), L"napagent-%lu", pid);
    start = GetTickCount();
    for (;;)
    {
        if (agent_endpoint_find(endpoint, ARRAYSIZE(endpoint)) && !wcscmp(endpoint, expected)) break;
        if (GetTickCount() - start > GIVE_UP_MS || WaitForSingleObject(agent, 0) == WAIT_OBJECT_0)
        {
            test_kill_agent(agent);
            return NULL;
        }
    }
    QueryPerformanceCounter(t0);
    if (startup_us) *startup_us = elapsed_us(created, *t0);
    return agent;
}

/* ---- The two clients ---- */

struct ping_call { RPC_BINDING_HANDLE binding; UINT16 size; const BYTE *data; NAPAGENT_BLOB echo; };

static HRESULT ping_thunk(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    struct ping_call *call = arg;

    return NapAgentPing(call->binding, call->size, call->data, &call->echo);
}

/* A bare client: a fresh agent_endpoint_bind each attempt, then one ping. */
static HRESULT bare_attempt(const BYTE *data, UINT16 size)
{
    struct ping_call call = { NULL, size, data, { 0, NULL } };
    HRESULT hr;

    if (agent_endpoint_bind(&call.binding) != RPC_S_OK) return RPC_E_DISCONNECTED;
    hr = rpc_guarded_call(ping_thunk, NULL, 0, &call, NULL);
    if (SUCCEEDED(hr) && call.echo.size != size) hr = E_UNEXPECTED;
    MIDL_user_free(call.echo.data);
    RpcBindingFree(&call.binding);
    return hr;
}

struct round_state
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    BYTE request[maxNetworkSoHSize];
    UINT16 request_size;
    DWORD poll_sleep_ms;
    HANDLE go_bare, go_binding;    /* released by main after t0, in turn */
    LARGE_INTEGER t0;
    double bare_us, binding_us;
    unsigned int bare_attempts, binding_attempts;
    HRESULT bare_hr, binding_hr;
};

static DWORD WINAPI bare_thread(void *arg)
{
    struct round_state *round = arg;
    LARGE_INTEGER now;
    DWORD start;

    WaitForSingleObject(round->go_bare, INFINITE);
    start = GetTickCount();
    round->bare_attempts = 0;
    for (;;)
    {
        round->bare_attempts++;
        round->bare_hr = bare_attempt(round->request, round->request_size);
        if (round->bare_hr == S_OK || GetTickCount() - start > GIVE_UP_MS) break;
        if (round->poll_sleep_ms) Sleep(round->poll_sleep_ms);
    }
    QueryPerformanceCounter(&now);
    round->bare_us = elapsed_us(round->t0, now);
    return 0;
}

static DWORD WINAPI binding_thread(void *arg)
{
    struct round_state *round = arg;
    LARGE_INTEGER now;
    BOOL retrigger;
    DWORD start;

    WaitForSingleObject(round->go_binding, INFINITE);
    start = GetTickCount();
    round->binding_attempts = 0;
    for (;;)
    {
        round->binding_attempts++;
        round->binding_hr = INapEnforcementClientBinding_GetSoHRequest(round->binding, round->connection, &retrigger);
        if (round->binding_hr == S_OK || GetTickCount() - start > GIVE_UP_MS) break;
        if (round->poll_sleep_ms) Sleep(round->poll_sleep_ms);
    }
    QueryPerformanceCounter(&now);
    round->binding_us = elapsed_us(round->t0, now);
    return 0;
}

/* ---- Exchanges (as test_recovery.c) ---- */

static BOOL read_request(struct round_state *round)
{
    NetworkSoHRequest *soh = NULL;
    HRESULT hr = INapEnforcementClientConnection_GetSoHRequest(round->connection, &soh);
    BOOL ok = SUCCEEDED(hr) && soh && soh->size >= minNetworkSoHSize && soh->size <= maxNetworkSoHSize;

    if (ok)
    {
        memcpy(round->request, soh->data, soh->size);
        round->request_size = soh->size;
    }
    if (soh) CoTaskMemFree(soh->data);
    CoTaskMemFree(soh);
    return ok;
}

/* ---- Breakdown: the steps of the binding's recovery, made by hand, each timed alone ---- */

struct raw_bind_call { RPC_BINDING_HANDLE binding; UINT64 cookie; UINT64 previous; NAPAGENT_SESSION_HANDLE ec; };

static HRESULT raw_bind_thunk(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    struct raw_bind_call *call = arg;

    return NapAgentOpenSession(call->binding, NAPAGENT_KIND_EC, BENCH_EC_ID_RAW, GetCurrentProcessId(), call->previous, &call->cookie,
                          &call->ec);
}

struct raw_request_call { RPC_BINDING_HANDLE binding; UINT64 cookie; NAPAGENT_CONNECTION_FACTS facts; NAPAGENT_CORRELATION correlation;
                          BYTE flags; BOOL retrigger; NAPAGENT_BLOB request; };

static HRESULT raw_request_thunk(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    struct raw_request_call *call = arg;

    return NapAgentEcGetSoHRequest(call->binding, call->cookie, &call->facts, &call->correlation, &call->flags, &call->retrigger,
                                   &call->request);
}

static HRESULT raw_unbind_thunk(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    return NapAgentCloseSession((NAPAGENT_SESSION_HANDLE *)arg);
}

/* Against a freshly restarted agent: endpoint lookup, binding handle, the
 * first call on a new connection (NapAgentOpenSession with a previous cookie, as a
 * rebinding binding makes it), then the first GetSoHRequest on the session.
 * Runs on its own (no other client), so that each step is measured bare. */
static BOOL breakdown_round(UINT64 *cookie, struct series *s_find, struct series *s_bind_rpc,
                            struct series *s_first_request, struct series *s_second_ping)
{
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];
    struct raw_bind_call bind = { NULL, 0, *cookie, NULL };
    struct raw_request_call request;
    struct ping_call ping = { NULL, 1, (const BYTE *)"x", { 0, NULL } };
    LARGE_INTEGER a, b, c, d, e;
    HRESULT hr;

    memset(&request, 0, sizeof(request));
    QueryPerformanceCounter(&a);
    if (agent_endpoint_bind_to(&bind.binding, endpoint, ARRAYSIZE(endpoint)) != RPC_S_OK) return FALSE;
    QueryPerformanceCounter(&b);
    hr = rpc_guarded_call(raw_bind_thunk, NULL, 0, &bind, NULL);
    QueryPerformanceCounter(&c);
    if (FAILED(hr)) { fprintf(stderr, "bench: NapAgentOpenSession: 0x%08lx\n", hr); RpcBindingFree(&bind.binding); return FALSE; }
    request.binding = bind.binding;
    request.cookie = bind.cookie;
    CoCreateGuid(&request.facts.connection_id);
    request.facts.max_size = maxNetworkSoHSize;
    hr = rpc_guarded_call(raw_request_thunk, NULL, 0, &request, NULL);
    QueryPerformanceCounter(&d);
    MIDL_user_free(request.request.data);
    ping.binding = bind.binding;
    if (SUCCEEDED(hr)) hr = rpc_guarded_call(ping_thunk, NULL, 0, &ping, NULL);
    QueryPerformanceCounter(&e);
    MIDL_user_free(ping.echo.data);
    series_add(s_find, elapsed_us(a, b));
    series_add(s_bind_rpc, elapsed_us(b, c));
    series_add(s_first_request, elapsed_us(c, d));
    series_add(s_second_ping, elapsed_us(d, e));
    *cookie = bind.cookie;
    rpc_guarded_call(raw_unbind_thunk, NULL, 0, &bind.ec, NULL);
    RpcBindingFree(&bind.binding);
    return SUCCEEDED(hr);
}

/* ---- main ---- */

static LONG settled_mark;

/* The rebind made the agent ask the EC for its connections. */
static BOOL rebind_seen(void *arg)
{
    struct callback_sink *sink = arg;

    return sink->get_connections_count > settled_mark;
}

static void usage(void)
{
    printf("usage: bench_recovery [--rounds R] [--poll-sleep MS] [--no-breakdown] [--quick]\n"
           "  --rounds R      agent restarts (default 15)\n"
           "  --poll-sleep MS sleep between failed attempts of both clients (default 0: none)\n"
           "  --no-breakdown  skip the by-hand breakdown of the binding's recovery\n"
           "  --quick         3 rounds: a smoke run\n");
}

int main(int argc, char **argv)
{
    struct round_state *round = NULL;
    struct callback_sink sink;
    struct series s_bare = { 0 }, s_binding = { 0 }, s_startup = { 0 }, s_ratio = { 0 },
                  s_find = { 0 }, s_bind_rpc = { 0 }, s_first_request = { 0 }, s_second_ping = { 0 };
    struct summary bare_sum, binding_sum, ratio_sum;
    HANDLE agent = NULL;
    size_t rounds = 15, r;
    DWORD poll_sleep = 0;
    BOOL initialized = FALSE, com = FALSE, ok = FALSE, breakdown = TRUE;
    unsigned int extra_bare = 0, extra_binding = 0, late_failures = 0;
    UINT64 raw_cookie = 0;
    GUID id;
    int i;

    for (i = 1; i < argc; i++)
    {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--poll-sleep") && i + 1 < argc) poll_sleep = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--no-breakdown")) breakdown = FALSE;
        else if (!strcmp(argv[i], "--quick")) rounds = 3;
        else { usage(); return !strcmp(argv[i], "--help") ? 0 : 2; }
    }
    if (!rounds) { usage(); return 2; }

    test_install_crash_handler();
    QueryPerformanceFrequency(&qpc_frequency);
    memset(&sink, 0, sizeof(sink));
    if (!(round = calloc(1, sizeof(*round)))) return 1;
    round->poll_sleep_ms = poll_sleep;
    if (!series_init(&s_bare, "bare client: first NapAgentPing", rounds)
        || !series_init(&s_binding, "binding: first GetSoHRequest", rounds)
        || !series_init(&s_ratio, "  ratio binding/bare, per round (x1000)", rounds)
        || !series_init(&s_startup, "  CreateProcess -> listening", rounds * 2)
        || !series_init(&s_find, "  agent_endpoint_bind_to", rounds)
        || !series_init(&s_bind_rpc, "  NapAgentOpenSession (1st call, new conn.)", rounds)
        || !series_init(&s_first_request, "  NapAgentEcGetSoHRequest (1st)", rounds)
        || !series_init(&s_second_ping, "  NapAgentPing (same conn., after)", rounds))
        goto done;

    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED))) goto done;
    com = TRUE;
    if (test_register_qagent() != 0) { fprintf(stderr, "bench: regsvr32 qagent.dll failed\n"); goto done; }
    {
        LARGE_INTEGER t0;
        if (!(agent = start_agent_timed(&t0, NULL))) { fprintf(stderr, "bench: napagent.exe did not start\n"); goto done; }
    }
    /* Other benchmarks fill the agent with maxEnforcerCount ECs: make room. */
    {
        HRESULT hr = test_unregister_all_ecs();
        if (FAILED(hr)) fprintf(stderr, "bench: unregistering every EC: 0x%08lx\n", hr);
    }
    if (FAILED(test_register_ec(BENCH_EC_ID, TRUE)) || FAILED(test_register_ec(BENCH_EC_ID_RAW, TRUE)))
    {
        fprintf(stderr, "bench: registering the ECs failed\n");
        goto done;
    }
    if (FAILED(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                &IID_INapEnforcementClientBinding, (void **)&round->binding)))
        goto done;
    callback_sink_init(&sink);
    if (FAILED(INapEnforcementClientBinding_Initialize(round->binding, BENCH_EC_ID, &sink.INapEnforcementClientCallback_iface)))
    {
        fprintf(stderr, "bench: Initialize failed\n");
        goto done;
    }
    initialized = TRUE;
    if (FAILED(INapEnforcementClientBinding_CreateConnection(round->binding, &round->connection))) goto done;
    CoCreateGuid(&id);
    INapEnforcementClientConnection_SetConnectionId(round->connection, &id);
    sink.connection_count = 1;
    sink.connections[0] = round->connection;
    if (FAILED(ec_exchange(round->binding, round->connection)) || !read_request(round))
    {
        fprintf(stderr, "bench: the first exchange failed\n");
        goto done;
    }
    if (!(round->go_bare = CreateEventW(NULL, FALSE, FALSE, NULL))
        || !(round->go_binding = CreateEventW(NULL, FALSE, FALSE, NULL)))
        goto done;

    printf("bench_recovery: request N=%u bytes, %u rounds, poll sleep %lu ms, both clients start after t0 (listening)\n",
           round->request_size, (unsigned)rounds, poll_sleep);

    for (r = 0; r < rounds; r++)
    {
        HANDLE threads[2];
        double startup_us;
        HRESULT hr;

        settled_mark = sink.get_connections_count;
        threads[0] = CreateThread(NULL, 0, bare_thread, round, 0, NULL);
        threads[1] = CreateThread(NULL, 0, binding_thread, round, 0, NULL);
        if (!threads[0] || !threads[1]) goto done;

        test_kill_agent(agent);
        agent = NULL;
        Sleep(100); /* the binding's event thread sees the agent gone */
        if (!(agent = start_agent_timed(&round->t0, &startup_us)))
        {
            fprintf(stderr, "bench: round %u: the agent did not come back\n", (unsigned)r);
            SetEvent(round->go_bare);
            SetEvent(round->go_binding);
            WaitForMultipleObjects(2, threads, TRUE, GIVE_UP_MS * 2);
            goto done;
        }
        /* Alternate which client is released first. */
        if (r % 2) { SetEvent(round->go_binding); SetEvent(round->go_bare); }
        else { SetEvent(round->go_bare); SetEvent(round->go_binding); }
        WaitForMultipleObjects(2, threads, TRUE, INFINITE);
        CloseHandle(threads[0]);
        CloseHandle(threads[1]);
        if (round->bare_hr != S_OK || round->binding_hr != S_OK)
        {
            fprintf(stderr, "bench: round %u: bare 0x%08lx, binding 0x%08lx\n", (unsigned)r, round->bare_hr,
                    round->binding_hr);
            goto done;
        }
        series_add(&s_bare, round->bare_us);
        series_add(&s_binding, round->binding_us);
        series_add(&s_ratio, 1000.0 * round->binding_us / round->bare_us);
        series_add(&s_startup, startup_us);
        extra_bare += round->bare_attempts - 1;
        extra_binding += round->binding_attempts - 1;
        printf("round %2u (%s first): bare %8.1f us (%u attempts)  binding %8.1f us (%u attempts)\n", (unsigned)r,
               r % 2 ? "binding" : "bare", round->bare_us, round->bare_attempts, round->binding_us,
               round->binding_attempts);

        /* Back to steady state: the rebind's GetConnections and NotifySoHChange, then a whole exchange. */
        test_wait_for(rebind_seen, &sink, 2000);
        Sleep(50);
        /* A call that fails here is a call an EC would have seen fail after the agent was back. */
        {
            DWORD start = GetTickCount();
            while (FAILED(hr = ec_exchange(round->binding, round->connection)) && GetTickCount() - start < 2000)
            {
                late_failures++;
                fprintf(stderr, "bench: round %u: exchange %lu ms after recovery failed: 0x%08lx\n", (unsigned)r,
                        GetTickCount() - start, hr);
            }
            if (FAILED(hr)) goto done;
        }
    }

    if (breakdown)
    {
        for (r = 0; r < rounds; r++)
        {
            LARGE_INTEGER t0;
            double startup_us;

            test_kill_agent(agent);
            agent = NULL;
            Sleep(100);
            if (!(agent = start_agent_timed(&t0, &startup_us))) goto done;
            series_add(&s_startup, startup_us);
            if (!breakdown_round(&raw_cookie, &s_find, &s_bind_rpc, &s_first_request, &s_second_ping)) goto done;
        }
    }

    bare_sum = summarize(&s_bare);
    binding_sum = summarize(&s_binding);
    ratio_sum = summarize(&s_ratio);
    printf("time from t0 (the agent's endpoint published) to the first successful call:\n");
    print_summary(&s_bare, "(agent_endpoint_bind + ping)");
    print_summary(&s_binding, NULL);
    printf("failed attempts before success: bare %u, binding %u (all rounds)\n", extra_bare, extra_binding);
    printf("ratio median %.2fx  p99 %.2fx  per-round median %.2fx  (binding/bare reconnect, target <= 2x)\n",
           binding_sum.median / bare_sum.median, binding_sum.p99 / bare_sum.p99, ratio_sum.median / 1000.0);
    if (breakdown)
    {
        printf("breakdown (after a restart, by hand, one client alone):\n");
        print_summary(&s_find, "(registry + OpenProcess + compose)");
        print_summary(&s_bind_rpc, "(pipe connect + rpc bind + call)");
        print_summary(&s_first_request, NULL);
        print_summary(&s_second_ping, "(1 byte)");
    }
    print_summary(&s_startup, "(not part of the figures)");
    printf("exchanges that failed after the first success (then retried): %u\n", late_failures);
    ok = !late_failures;

done:
    if (round)
    {
        ULONG refs;
        HRESULT hr;
        if (round->connection && (refs = INapEnforcementClientConnection_Release(round->connection)) != 0)
        {
            fprintf(stderr, "bench: the connection still has %lu references\n", refs);
            ok = FALSE;
        }
        if (initialized && FAILED(hr = INapEnforcementClientBinding_Uninitialize(round->binding)))
        {
            fprintf(stderr, "bench: Uninitialize: 0x%08lx\n", hr);
            ok = FALSE;
        }
        if (round->binding && (refs = INapEnforcementClientBinding_Release(round->binding)) != 0)
        {
            fprintf(stderr, "bench: the binding still has %lu references\n", refs);
            ok = FALSE;
        }
        if (round->go_bare) CloseHandle(round->go_bare);
        if (round->go_binding) CloseHandle(round->go_binding);
    }
    test_kill_agent(agent);
    if (com) CoUninitialize();
    free(s_bare.us); free(s_binding.us); free(s_ratio.us); free(s_startup.us);
    free(s_find.us); free(s_bind_rpc.us); free(s_first_request.us); free(s_second_ping.us);
    free(round);
    if (!ok) fprintf(stderr, "bench_recovery: FAILED\n");
    return ok ? 0 : 1;
}
