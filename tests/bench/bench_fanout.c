/*
 * Benchmark: NapAgentNotifySoHChange fanned out to 20 bound ECs, against one bare ncalrpc round trip
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
#include "bench_stats.h"

#define FAN_FIRST_ID 0x00013900u
#define FAN_COUNT    maxEnforcerCount
#define PINGS_PER_ROUND 10


/* ---- A callback that records when NotifySoHChange ran ---- */

static volatile LONG fired;      /* callbacks run in this round */
static LONG expected;            /* how many the round waits for */
static HANDLE all_fired;         /* set by the last one */

struct fan_sink
{
    INapEnforcementClientCallback INapEnforcementClientCallback_iface;
    LONG refs;
    LARGE_INTEGER at;            /* QueryPerformanceCounter in this round's NotifySoHChange */
    volatile LONG notify_count;
    DWORD thread_id;
};

static inline struct fan_sink *impl_from_iface(INapEnforcementClientCallback *iface)
{
    return CONTAINING_RECORD(iface, struct fan_sink, INapEnforcementClientCallback_iface);
}

static HRESULT WINAPI fan_QueryInterface(INapEnforcementClientCallback *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_INapEnforcementClientCallback))
    {
        *out = iface;
        INapEnforcementClientCallback_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI fan_AddRef(INapEnforcementClientCallback *iface)
{
    return InterlockedIncrement(&impl_from_iface(iface)->refs);
}

static ULONG WINAPI fan_Release(INapEnforcementClientCallback *iface)
{
    return InterlockedDecrement(&impl_from_iface(iface)->refs);
}

static HRESULT WINAPI fan_NotifySoHChange(INapEnforcementClientCallback *iface)
{
    struct fan_sink *sink = impl_from_iface(iface);

    QueryPerformanceCounter(&sink->at);
    sink->thread_id = GetCurrentThreadId();
    InterlockedIncrement(&sink->notify_count);
    if (InterlockedIncrement(&fired) == expected) SetEvent(all_fired);
    return S_OK;
}

/* No connections: the fan-out alone is timed. */
static HRESULT WINAPI fan_GetConnections(INapEnforcementClientCallback *iface, Connections **connections)
{
    Connections *list;

    (void)iface;
    if (!connections) return E_POINTER;
    *connections = NULL;
    if (!(list = CoTaskMemAlloc(sizeof(*list)))) return E_OUTOFMEMORY;
    list->count = 0;
    if (!(list->connections = CoTaskMemAlloc(sizeof(*list->connections))))
    {
        CoTaskMemFree(list);
        return E_OUTOFMEMORY;
    }
    *connections = list;
    return S_OK;
}

static const INapEnforcementClientCallbackVtbl fan_vtbl =
{
    fan_QueryInterface,
    fan_AddRef,
    fan_Release,
    fan_NotifySoHChange,
    fan_GetConnections,
};

/* ---- The calls ---- */

struct mgmt_call { RPC_BINDING_HANDLE binding; NAPAGENT_BLOB echo; BYTE byte; };

static HRESULT notify_thunk(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    return NapAgentNotifySoHChange(((struct mgmt_call *)arg)->binding);
}

static HRESULT ping_thunk(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    struct mgmt_call *call = arg;

    return NapAgentPing(call->binding, 1, &call->byte, &call->echo);
}

static HRESULT ping(RPC_BINDING_HANDLE binding, double *us)
{
    struct mgmt_call call = { binding, { 0, NULL }, 0x5a };
    LARGE_INTEGER start, end;
    HRESULT hr;

    QueryPerformanceCounter(&start);
    hr = rpc_guarded_call(ping_thunk, NULL, 0, &call, NULL);
    QueryPerformanceCounter(&end);
    MIDL_user_free(call.echo.data);
    *us = elapsed_us(start, end);
    return hr;
}

/* Breakdown: the transport's own fan-out, 20 threads (one handle each) released at
 * once, each making one ping: the time until the last returned. */
struct par_ping { RPC_BINDING_HANDLE binding; HANDLE go; LARGE_INTEGER end; HRESULT hr; };

static DWORD WINAPI par_ping_thread(void *arg)
{
    struct par_ping *p = arg;
    double us;

    WaitForSingleObject(p->go, INFINITE);
    p->hr = ping(p->binding, &us);
    QueryPerformanceCounter(&p->end);
    return 0;
}

static BOOL parallel_pings(struct par_ping *pings, HANDLE go, double *all_us)
{
    HANDLE threads[FAN_COUNT];
    LARGE_INTEGER start, last;
    size_t k;

    ResetEvent(go);
    for (k = 0; k < FAN_COUNT; k++)
        if (!(threads[k] = CreateThread(NULL, 0, par_ping_thread, &pings[k], 0, NULL))) return FALSE;
    Sleep(20);
    QueryPerformanceCounter(&start);
    SetEvent(go);
    WaitForMultipleObjects(FAN_COUNT, threads, TRUE, INFINITE);
    last = start;
    for (k = 0; k < FAN_COUNT; k++)
    {
        CloseHandle(threads[k]);
        if (FAILED(pings[k].hr)) return FALSE;
        if (pings[k].end.QuadPart > last.QuadPart) last = pings[k].end;
    }
    *all_us = elapsed_us(start, last);
    return TRUE;
}

#define CHECK(expr, what) do { HRESULT hr_ = (expr); if (FAILED(hr_)) { \
    fprintf(stderr, "bench: %s failed: 0x%08lx\n", what, hr_); goto done; } } while (0)

static void usage(void)
{
    printf("usage: bench_fanout [--rounds N] [--quick]\n"
           "  --rounds N  notifications timed (default 50)\n"
           "  --quick     5 rounds: a smoke run\n");
}

int main(int argc, char **argv)
{
    static struct fan_sink sinks[FAN_COUNT];
    INapEnforcementClientBinding *bindings[FAN_COUNT] = { 0 };
    BOOL initialized[FAN_COUNT] = { 0 };
    struct series s_fan = { 0 }, s_first = { 0 }, s_ping = { 0 }, s_trigger = { 0 }, s_spread = { 0 }, s_par = { 0 };
    static struct par_ping pings[FAN_COUNT];
    HANDLE par_go = NULL;
    struct summary fan_sum, ping_sum, first_sum;
    RPC_BINDING_HANDLE mgmt = NULL;
    HANDLE agent = NULL;
    size_t rounds = 50, r, k;
    unsigned int threads_distinct = 0;
    BOOL com = FALSE, ok = FALSE;
    int i;

    for (i = 1; i < argc; i++)
    {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--quick")) rounds = 5;
        else { usage(); return !strcmp(argv[i], "--help") ? 0 : 2; }
    }
    if (!rounds) { usage(); return 2; }

    test_install_crash_handler();
    QueryPerformanceFrequency(&qpc_frequency);
    if (!(all_fired = CreateEventW(NULL, TRUE, FALSE, NULL))) return 1;
    if (!series_init(&s_fan, "fan-out: trigger -> all 20 callbacks", rounds)
        || !series_init(&s_first, "  trigger -> first callback", rounds)
        || !series_init(&s_spread, "  first -> last callback", rounds)
        || !series_init(&s_trigger, "  NapAgentNotifySoHChange returns", rounds)
        || !series_init(&s_par, "  20 pings from 20 threads at once: all back", rounds)
        || !series_init(&s_ping, "NapAgentPing round trip (bare RPC)", rounds * PINGS_PER_ROUND))
        goto done;

    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED))) goto done;
    com = TRUE;
    if (test_register_qagent() != 0) { fprintf(stderr, "bench: regsvr32 qagent.dll failed\n"); goto done; }
    if (!(agent = test_start_agent())) { fprintf(stderr, "bench: napagent.exe did not start\n"); goto done; }
    /* maxEnforcerCount: room for our 20 only. */
    CHECK(test_unregister_all_ecs(), "unregistering every EC");
    for (k = 0; k < FAN_COUNT; k++) CHECK(test_register_ec(FAN_FIRST_ID + (UINT32)k, TRUE), "registering an EC");
    for (k = 0; k < FAN_COUNT; k++)
    {
        sinks[k].INapEnforcementClientCallback_iface.lpVtbl = &fan_vtbl;
        sinks[k].refs = 1;
        CHECK(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                               &IID_INapEnforcementClientBinding, (void **)&bindings[k]), "CoCreateInstance");
        CHECK(INapEnforcementClientBinding_Initialize(bindings[k], FAN_FIRST_ID + (UINT32)k,
                                                      &sinks[k].INapEnforcementClientCallback_iface), "Initialize");
        initialized[k] = TRUE;
    }
    if (agent_endpoint_bind(&mgmt) != RPC_S_OK) { fprintf(stderr, "bench: bind\n"); goto done; }
    if (!(par_go = CreateEventW(NULL, TRUE, FALSE, NULL))) goto done;
    for (k = 0; k < FAN_COUNT; k++)
    {
        pings[k].go = par_go;
        if (agent_endpoint_bind(&pings[k].binding) != RPC_S_OK) { fprintf(stderr, "bench: bind\n"); goto done; }
        if (!parallel_pings(pings, par_go, &(double){ 0 })) goto done; /* warm: one connection each */
    }
    Sleep(200); /* every event thread in its long poll */

    printf("bench_fanout: %u bound ECs in one process (one binding and one callback thread each, one event poll for all), %u rounds\n",
           FAN_COUNT, (unsigned)rounds);
    /* Warm-up: a few notifications and pings, untimed. */
    for (r = 0; r < rounds + 3; r++)
    {
        struct mgmt_call call = { mgmt, { 0, NULL }, 0 };
        LARGE_INTEGER start, returned, first, last;
        double us;

        for (k = 0; k < PINGS_PER_ROUND; k++)
        {
            CHECK(ping(mgmt, &us), "NapAgentPing");
            if (r >= 3) series_add(&s_ping, us);
        }
        if (r >= 3)
        {
            double all_us;
            if (!parallel_pings(pings, par_go, &all_us)) { fprintf(stderr, "bench: parallel pings failed\n"); goto done; }
            series_add(&s_par, all_us);
        }
        Sleep(20); /* quiet: every event thread back in its long poll */
        fired = 0;
        expected = FAN_COUNT;
        ResetEvent(all_fired);
        QueryPerformanceCounter(&start);
        CHECK(rpc_guarded_call(notify_thunk, NULL, 0, &call, NULL), "NapAgentNotifySoHChange");
        QueryPerformanceCounter(&returned);
        if (WaitForSingleObject(all_fired, 10000) != WAIT_OBJECT_0)
        {
            fprintf(stderr, "bench: round %u: only %ld of %u callbacks ran\n", (unsigned)r, fired, FAN_COUNT);
            goto done;
        }
        first = last = sinks[0].at;
        for (k = 1; k < FAN_COUNT; k++)
        {
            if (sinks[k].at.QuadPart < first.QuadPart) first = sinks[k].at;
            if (sinks[k].at.QuadPart > last.QuadPart) last = sinks[k].at;
        }
        if (r < 3) continue;
        series_add(&s_fan, elapsed_us(start, last));
        series_add(&s_first, elapsed_us(start, first));
        series_add(&s_spread, elapsed_us(first, last));
        series_add(&s_trigger, elapsed_us(start, returned));
    }
    for (k = 0; k < FAN_COUNT; k++)
    {
        size_t j;
        for (j = 0; j < k && sinks[j].thread_id != sinks[k].thread_id; j++) ;
        if (j == k) threads_distinct++;
    }

    fan_sum = summarize(&s_fan);
    first_sum = summarize(&s_first);
    ping_sum = summarize(&s_ping);
    print_summary(&s_fan, NULL);
    print_summary(&s_first, NULL);
    print_summary(&s_spread, NULL);
    print_summary(&s_trigger, NULL);
    print_summary(&s_ping, "(1 byte, persistent handle)");
    print_summary(&s_par, "(the transport's floor for 20 replies)");
    printf("callbacks ran on %u distinct threads\n", threads_distinct);
    printf("ratio median %.2fx  p99 %.2fx  (fan-out to 20/one round trip, target <= 3x)\n",
           fan_sum.median / ping_sum.median, fan_sum.p99 / ping_sum.p99);
    printf("ratio median %.2fx  (first callback/one round trip)\n", first_sum.median / ping_sum.median);
    printf("ratio median %.2fx  (fan-out/20 concurrent pings)\n", fan_sum.median / summarize(&s_par).median);
    ok = TRUE;

done:
    if (mgmt) RpcBindingFree(&mgmt);
    for (k = 0; k < FAN_COUNT; k++) if (pings[k].binding) RpcBindingFree(&pings[k].binding);
    if (par_go) CloseHandle(par_go);
    free(s_par.us);
    for (k = 0; k < FAN_COUNT; k++)
    {
        if (initialized[k] && FAILED(INapEnforcementClientBinding_Uninitialize(bindings[k]))) ok = FALSE;
        if (bindings[k] && INapEnforcementClientBinding_Release(bindings[k]) != 0) ok = FALSE;
    }
    test_kill_agent(agent);
    if (com) CoUninitialize();
    free(s_fan.us); free(s_first.us); free(s_spread.us); free(s_trigger.us); free(s_ping.us);
    CloseHandle(all_fired);
    if (!ok) fprintf(stderr, "bench_fanout: FAILED\n");
    return ok ? 0 : 1;
}
