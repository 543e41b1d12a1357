/*
 * Agent restarts, hangs and deaths, and enforcement clients that die: recovery for real
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include "NapEnforcementClient.h"
/* No library of the tests defines the SHA GUIDs (qagent.dll does). */
#include <initguid.h>
#include "NapSystemHealthAgent.h"
#include "napagent_rpc.h"
#include "nap_hresults.h"
#include "agent_settings.h"
#include "callback_sink.h"
#include "soh.h"
#include "ec_exchange.h"

#define EC_ID        0x000137E0u
#define STRESS_FIRST 0x000137E1u   /* the stress children's ids */
#define STRESS_COUNT 3
#define LIMIT_FIRST  0x00013800u   /* maxEnforcerCount ids for the limit test */
#define SHA_ID       0x000137E9u
#define STOP_EVENT   L"opennap-test-recovery-stop"
#define READY_EVENT  L"opennap-test-recovery-ready"
#define STRESS_REPORTS L"opennap-test-recovery-stress"
#define CALL_TIMEOUT_MS 400
/* Each stress child makes at least this many good exchanges: one per restart
 * cycle (it has 150 ms of a running agent in each), so a child that failed
 * nearly every exchange and only the last one worked cannot pass. */
#define STRESS_MIN_OK 10

static HANDLE agent;

static HRESULT bind_ec(UINT32 id, struct callback_sink *sink, INapEnforcementClientBinding **binding,
                       INapEnforcementClientConnection **connection)
{
    GUID guid;
    HRESULT hr;

    callback_sink_init(sink);
    *connection = NULL;
    hr = CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                          &IID_INapEnforcementClientBinding, (void **)binding);
    if (FAILED(hr)) return hr;
    hr = INapEnforcementClientBinding_Initialize(*binding, id, &sink->INapEnforcementClientCallback_iface);
    if (SUCCEEDED(hr)) hr = INapEnforcementClientBinding_CreateConnection(*binding, connection);
    if (FAILED(hr)) return hr;
    CoCreateGuid(&guid);
    INapEnforcementClientConnection_SetConnectionId(*connection, &guid);
    /* The EC answers GetConnections with its one connection, as a real EC would. */
    sink->connection_count = 1;
    sink->connections[0] = *connection;
    return S_OK;
}

/* What each stress child counted, in memory the parent shares (STRESS_REPORTS). */
struct stress_report
{
    LONG bound;                 /* the child's binding is initialised */
    LONG done;                  /* the child got to the end */
    UINT32 ok, lost_request, disconnected, timeouts, other;
    HRESULT final;              /* the exchange after the last restart */
    LONG notify_count, get_connections_count;
};

/* --child-stress <index>: exchange in a loop until told to stop, then prove the binding works. */
static int run_stress_child(unsigned int index)
{
    HANDLE stop = OpenEventW(SYNCHRONIZE, FALSE, STOP_EVENT);
    HANDLE mapping = OpenFileMappingW(FILE_MAP_WRITE, FALSE, STRESS_REPORTS);
    struct stress_report *reports = mapping ? MapViewOfFile(mapping, FILE_MAP_WRITE, 0, 0, 0) : NULL, *r;
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    struct callback_sink sink;
    UINT32 id = STRESS_FIRST + index;
    DWORD start;
    HRESULT hr;

    if (!stop || !reports || index >= STRESS_COUNT) return 10;
    if (FAILED(hr = bind_ec(id, &sink, &binding, &connection)))
    {
        fprintf(stderr, "child %x: bind failed 0x%08lx\n", id, hr);
        return 10;
    }
    r = &reports[index];
    InterlockedExchange(&r->bound, 1);
    while (WaitForSingleObject(stop, 0) != WAIT_OBJECT_0)
    {
        hr = ec_exchange(binding, connection);
        if (hr == S_OK) r->ok++;
        else if (hr == RPC_E_DISCONNECTED) { r->disconnected++; Sleep(5); }
        else if (hr == RPC_E_TIMEOUT) r->timeouts++;
        /* A restart between request and response: the new agent may not know the request. */
        else if (hr == E_INVALIDARG || hr == NAP_E_MISMATCHED_ID) r->lost_request++;
        else { r->other++; fprintf(stderr, "child %x: unexpected 0x%08lx\n", id, hr); }
    }
    /* The agent is up again: the binding must be fully back by itself. */
    start = GetTickCount();
    while ((hr = ec_exchange(binding, connection)) != S_OK && GetTickCount() - start < 5000) Sleep(10);
    r->final = hr;
    r->notify_count = sink.notify_count;
    r->get_connections_count = sink.get_connections_count;
    InterlockedExchange(&r->done, 1);
    if (hr != S_OK || r->other) return 11;
    INapEnforcementClientConnection_Release(connection);
    if (FAILED(INapEnforcementClientBinding_Uninitialize(binding))) return 12;
    INapEnforcementClientBinding_Release(binding);
    return 0;
}

/* --child-sigstop <id> <dir>: tests/scripts/test_sigstop.sh stops the agent
 * with a real SIGSTOP and continues it; the two sides meet through files in
 * dir.  Exit 0 only if every call on the stopped agent returned RPC_E_TIMEOUT
 * within its bound and the binding worked again after SIGCONT. */
static BOOL wait_for_file(const WCHAR *dir, const WCHAR *name, DWORD timeout_ms)
{
    WCHAR path[MAX_PATH];
    DWORD start = GetTickCount();

    swprintf(path, ARRAYSIZE(path), L"%ls\\%ls", dir, name);
    while (GetFileAttributesW(path) == INVALID_FILE_ATTRIBUTES)
    {
        if (GetTickCount() - start > timeout_ms) return FALSE;
        Sleep(10);
    }
    return TRUE;
}

static BOOL create_file(const WCHAR *dir, const WCHAR *name)
{
    WCHAR path[MAX_PATH];
    HANDLE file;

    swprintf(path, ARRAYSIZE(path), L"%ls\\%ls", dir, name);
    file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    CloseHandle(file);
    return TRUE;
}

/* The bound the binding reads at Initialize (src/qagent/call_timeout.c). */
static DWORD read_call_timeout_setting(void)
{
    DWORD value = 5000, size = sizeof(value);

    RegGetValueW(HKEY_LOCAL_MACHINE, AGENT_PARAMETERS_KEY,
                 L"ClientCallTimeoutMs", RRF_RT_REG_DWORD, NULL, &value, &size);
    return value;
}

static int run_sigstop_child(UINT32 id, const WCHAR *dir)
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    struct callback_sink sink;
    DWORD bound = read_call_timeout_setting(), start, ms;
    BOOL retrigger;
    HRESULT hr;

    if (FAILED(bind_ec(id, &sink, &binding, &connection)) || ec_exchange(binding, connection) != S_OK) return 10;
    if (!create_file(dir, L"bound") || !wait_for_file(dir, L"stopped", 30000)) return 11;
    start = GetTickCount();
    hr = INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger);
    ms = GetTickCount() - start;
    printf("sigstop child: GetSoHRequest on a stopped agent: 0x%08lx after %lu ms (bound %lu ms)\n", hr, ms, bound);
    if (hr != RPC_E_TIMEOUT || ms + 20 < bound || ms > bound * 3) return 12;
    start = GetTickCount();
    hr = INapEnforcementClientBinding_ProcessSoHResponse(binding, connection);
    ms = GetTickCount() - start;
    printf("sigstop child: ProcessSoHResponse: 0x%08lx after %lu ms\n", hr, ms);
    if (hr != RPC_E_TIMEOUT || ms > bound * 3) return 13;
    if (!create_file(dir, L"timed") || !wait_for_file(dir, L"continued", 30000)) return 14;
    start = GetTickCount();
    while ((hr = ec_exchange(binding, connection)) != S_OK && GetTickCount() - start < 10000) Sleep(10);
    printf("sigstop child: exchange after SIGCONT: 0x%08lx after %lu ms\n", hr, GetTickCount() - start);
    if (hr != S_OK) return 15;
    INapEnforcementClientConnection_Release(connection);
    if (FAILED(INapEnforcementClientBinding_Uninitialize(binding))) return 16;
    INapEnforcementClientBinding_Release(binding);
    return 0;
}

/* --child-limit: bind maxEnforcerCount ECs, each with a connection, and wait to be killed mid-call. */
static DWORD WINAPI limit_traffic(void *arg)
{
    INapEnforcementClientBinding *binding = arg;
    INapEnforcementClientConnection *connection;
    GUID guid;
    BOOL retrigger;

    if (FAILED(INapEnforcementClientBinding_CreateConnection(binding, &connection))) return 1;
    CoCreateGuid(&guid);
    INapEnforcementClientConnection_SetConnectionId(connection, &guid);
    for (;;) INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger);
}

static int run_limit_child(void)
{
    HANDLE ready = OpenEventW(EVENT_MODIFY_STATE, FALSE, READY_EVENT);
    static struct callback_sink sinks[maxEnforcerCount];
    unsigned int i;

    for (i = 0; i < maxEnforcerCount; i++)
    {
        INapEnforcementClientBinding *binding;
        HRESULT hr;

        callback_sink_init(&sinks[i]);
        if (FAILED(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                    &IID_INapEnforcementClientBinding, (void **)&binding))) return 20;
        hr = INapEnforcementClientBinding_Initialize(binding, LIMIT_FIRST + i, &sinks[i].INapEnforcementClientCallback_iface);
        if (FAILED(hr))
        {
            fprintf(stderr, "limit child: Initialize %u failed 0x%08lx\n", i, hr);
            return 21;
        }
        CloseHandle(CreateThread(NULL, 0, limit_traffic, binding, 0, NULL));
    }
    SetEvent(ready);
    Sleep(INFINITE);
    return 0;
}

static HANDLE start_child(const WCHAR *args)
{
    WCHAR path[MAX_PATH], cmdline[MAX_PATH + 64];
    STARTUPINFOW si = { .cb = sizeof(si) };
    PROCESS_INFORMATION pi;

    test_bin_path(L"test_recovery.exe", path, MAX_PATH);
    swprintf(cmdline, ARRAYSIZE(cmdline), L"\"%ls\" %ls", path, args);
    if (!CreateProcessW(path, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return NULL;
    CloseHandle(pi.hThread);
    test_adopt_child(pi.hProcess);
    return pi.hProcess;
}

static void restart_agent(void)
{
    test_kill_agent(agent);
    agent = test_start_agent();
    assert_non_null(agent);
}

static int setup(void **state)
{
    unsigned int i;

    (void)state;
    if (test_register_qagent() != 0) return -1;
    if (!(agent = test_start_agent())) return -1;
    if (FAILED(test_register_ec(EC_ID, TRUE))) return -1;
    for (i = 0; i < STRESS_COUNT; i++)
        if (FAILED(test_register_ec(STRESS_FIRST + i, TRUE))) return -1;
    return 0;
}

/* Runs even when a test failed: the settings, registrations and service the
 * tests changed do not outlive the suite. */
static int teardown(void **state)
{
    (void)state;
    test_kill_agent(agent);
    test_reset_prefix(NULL);
    return 0;
}

static BOOL sink_saw_rebind(void *arg)
{
    struct callback_sink *sink = arg;

    return sink->get_connections_count >= 1 && sink->notify_count >= 1;
}

static BOOL agent_has_one_connection(void *unused)
{
    NAPAGENT_STATE state;

    (void)unused;
    return SUCCEEDED(test_get_state(&state)) && state.bound_ec_count == 1 && state.connection_count == 1;
}

static void test_agent_killed_and_restarted(void **state)
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection, *other = (void *)1;
    struct callback_sink sink;
    BOOL retrigger;

    (void)state;
    assert_int_equal(bind_ec(EC_ID, &sink, &binding, &connection), S_OK);
    assert_int_equal(ec_exchange(binding, connection), S_OK);

    /* kill -9: every method says RPC_E_DISCONNECTED; the binding stays initialised. */
    test_kill_agent(agent);
    agent = NULL;
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), RPC_E_DISCONNECTED);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), RPC_E_DISCONNECTED);
    assert_int_equal(INapEnforcementClientBinding_NotifySoHChangeFailure(binding), RPC_E_DISCONNECTED);
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(binding, &other), RPC_E_DISCONNECTED);
    assert_null(other);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, &sink.INapEnforcementClientCallback_iface),
                     HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED));

    /* Back: the very next call works, and the agent re-learns the EC by itself. */
    assert_non_null(agent = test_start_agent());
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_true(test_wait_for(sink_saw_rebind, &sink, 5000));
    assert_true(test_wait_for(agent_has_one_connection, NULL, 5000));
    assert_int_equal(ec_answer_request(connection, NULL), S_OK);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), S_OK);
    assert_int_equal(INapEnforcementClientBinding_NotifyConnectionStateDown(binding, connection), S_OK);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(callback_sink_refs(&sink), 1);
}

/* Several bindings of one process call at the same instant right after a
 * restart, while their event threads rebind too: the moment Wine may open
 * the first connections to the new endpoint in parallel.  Every first call
 * succeeds, in every cycle. */
struct first_call
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    HANDLE go;
    HRESULT hr;
};

static DWORD WINAPI first_call_thread(void *arg)
{
    struct first_call *call = arg;
    BOOL retrigger;

    WaitForSingleObject(call->go, INFINITE);
    call->hr = INapEnforcementClientBinding_GetSoHRequest(call->binding, call->connection, &retrigger);
    return 0;
}

#define FIRST_CALLERS (STRESS_COUNT + 1)

static void test_first_calls_after_restart_succeed(void **state)
{
    static struct callback_sink sinks[FIRST_CALLERS];
    struct first_call calls[FIRST_CALLERS];
    HANDLE threads[FIRST_CALLERS], go = CreateEventW(NULL, TRUE, FALSE, NULL);
    unsigned int i, cycle;

    (void)state;
    for (i = 0; i < FIRST_CALLERS; i++)
    {
        assert_int_equal(bind_ec(i ? STRESS_FIRST + i - 1 : EC_ID, &sinks[i], &calls[i].binding,
                                 &calls[i].connection), S_OK);
        calls[i].go = go;
    }
    for (cycle = 0; cycle < 8; cycle++)
    {
        test_kill_agent(agent);
        Sleep(10 + 10 * (cycle % 3));
        assert_non_null(agent = test_start_agent());
        ResetEvent(go);
        for (i = 0; i < FIRST_CALLERS; i++)
        {
            calls[i].hr = E_FAIL;
            assert_non_null(threads[i] = CreateThread(NULL, 0, first_call_thread, &calls[i], 0, NULL));
        }
        SetEvent(go);
        assert_int_equal(WaitForMultipleObjects(FIRST_CALLERS, threads, TRUE, 10000), WAIT_OBJECT_0);
        for (i = 0; i < FIRST_CALLERS; i++)
        {
            CloseHandle(threads[i]);
            if (calls[i].hr != S_OK) fprintf(stderr, "cycle %u, binding %u: 0x%08lx\n", cycle, i, calls[i].hr);
            assert_int_equal(calls[i].hr, S_OK);
        }
    }
    for (i = 0; i < FIRST_CALLERS; i++)
    {
        assert_int_equal(ec_exchange(calls[i].binding, calls[i].connection), S_OK);
        assert_int_equal(INapEnforcementClientConnection_Release(calls[i].connection), 0);
        assert_int_equal(INapEnforcementClientBinding_Uninitialize(calls[i].binding), S_OK);
        assert_int_equal(INapEnforcementClientBinding_Release(calls[i].binding), 0);
    }
    CloseHandle(go);
}

static void test_response_to_previous_agents_request(void **state)
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    struct callback_sink sink;
    BOOL retrigger;

    (void)state;
    assert_int_equal(bind_ec(EC_ID, &sink, &binding, &connection), S_OK);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_int_equal(ec_answer_request(connection, NULL), S_OK);
    /* The agent restarts while the server's answer is on its way. */
    restart_agent();
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), S_OK);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
}

static void test_uninitialize_while_agent_down(void **state)
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    struct callback_sink sink;

    (void)state;
    assert_int_equal(bind_ec(EC_ID, &sink, &binding, &connection), S_OK);
    test_kill_agent(agent);
    agent = NULL;
    /* Uninitialised all the same; the agent could not be told. */
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), RPC_E_DISCONNECTED);
    assert_int_equal(callback_sink_refs(&sink), 1); /* the callback was dropped all the same */
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_non_null(agent = test_start_agent());
}

static double elapsed_ms(LARGE_INTEGER start)
{
    LARGE_INTEGER now, frequency;

    QueryPerformanceCounter(&now);
    QueryPerformanceFrequency(&frequency);
    return (now.QuadPart - start.QuadPart) * 1000.0 / frequency.QuadPart;
}

static void test_hung_agent(void **state)
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    struct callback_sink sink;
    LARGE_INTEGER start;
    BOOL retrigger;
    double ms;

    (void)state;
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, CALL_TIMEOUT_MS), S_OK);
    assert_int_equal(bind_ec(EC_ID, &sink, &binding, &connection), S_OK);
    assert_int_equal(ec_exchange(binding, connection), S_OK);

    /* SIGSTOP: the agent accepts nothing and answers nothing. */
    assert_true(test_suspend_process(agent));
    QueryPerformanceCounter(&start);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), RPC_E_TIMEOUT);
    ms = elapsed_ms(start);
    print_message("GetSoHRequest returned RPC_E_TIMEOUT after %.0f ms (bound %u ms)\n", ms, CALL_TIMEOUT_MS);
    assert_true(ms >= CALL_TIMEOUT_MS - 20 && ms < CALL_TIMEOUT_MS * 3);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), RPC_E_TIMEOUT);
    assert_int_equal(INapEnforcementClientBinding_NotifySoHChangeFailure(binding), RPC_E_TIMEOUT);

    /* SIGCONT: the binding works again. */
    assert_true(test_resume_process(agent));
    assert_int_equal(ec_exchange(binding, connection), S_OK);

    /* Uninitialize against a hung agent is bounded too. */
    assert_true(test_suspend_process(agent));
    QueryPerformanceCounter(&start);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), RPC_E_TIMEOUT);
    ms = elapsed_ms(start);
    print_message("Uninitialize returned after %.0f ms\n", ms);
    assert_true(ms < CALL_TIMEOUT_MS * 4);
    assert_true(test_resume_process(agent));
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, 5000), S_OK);
}

static BOOL stress_children_bound(void *arg)
{
    const struct stress_report *reports = arg;
    unsigned int i;

    for (i = 0; i < STRESS_COUNT; i++)
        if (!reports[i].bound) return FALSE;
    return TRUE;
}

static void test_restart_cycles_under_traffic(void **state)
{
    HANDLE stop = CreateEventW(NULL, TRUE, FALSE, STOP_EVENT), children[STRESS_COUNT];
    HANDLE mapping = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                        sizeof(struct stress_report) * STRESS_COUNT, STRESS_REPORTS);
    struct stress_report *reports;
    unsigned int i, cycle;
    WCHAR args[64];
    DWORD code;

    (void)state;
    assert_non_null(mapping);
    assert_non_null(reports = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0));
    for (i = 0; i < STRESS_COUNT; i++)
    {
        swprintf(args, ARRAYSIZE(args), L"--child-stress %u", i);
        assert_non_null(children[i] = start_child(args));
    }
    /* Restarting an agent a child is still binding to would fail its Initialize. */
    assert_true(test_wait_for(stress_children_bound, reports, 30000));
    Sleep(500);
    for (cycle = 0; cycle < 10; cycle++)
    {
        test_kill_agent(agent);
        Sleep(20 + 15 * (cycle % 4));
        assert_non_null(agent = test_start_agent());
        Sleep(150);
    }
    SetEvent(stop);
    for (i = 0; i < STRESS_COUNT; i++)
    {
        const struct stress_report *r = &reports[i];

        assert_int_equal(WaitForSingleObject(children[i], 30000), WAIT_OBJECT_0);
        GetExitCodeProcess(children[i], &code);
        CloseHandle(children[i]);
        print_message("child %u: exit %lu, %u ok, %u lost requests, %u disconnected, %u timeouts, %u other; "
                      "final exchange 0x%08lx; %ld NotifySoHChange, %ld GetConnections\n", i, code, r->ok,
                      r->lost_request, r->disconnected, r->timeouts, r->other, r->final, r->notify_count,
                      r->get_connections_count);
        assert_int_equal(r->done, 1);
        assert_int_equal(r->other, 0);
        assert_int_equal(r->final, S_OK);
        assert_true(r->ok >= STRESS_MIN_OK);
        /* The agents it was re-learned by asked it for its connections. */
        assert_true(r->get_connections_count >= 1);
        assert_int_equal(code, 0);
    }
    UnmapViewOfFile(reports);
    CloseHandle(mapping);
    CloseHandle(stop);
}

static BOOL agent_is_empty(void *unused)
{
    NAPAGENT_STATE state;

    (void)unused;
    return SUCCEEDED(test_get_state(&state)) && !state.bound_ec_count && !state.connection_count;
}

static void test_killed_clients_free_the_limit(void **state)
{
    HANDLE ready = CreateEventW(NULL, FALSE, FALSE, READY_EVENT), child;
    NAPAGENT_STATE agent_state;
    unsigned int i, round;

    (void)state;
    /* Room for maxEnforcerCount registrations, all of them ours. */
    test_unregister_all_ecs();
    for (i = 0; i < maxEnforcerCount; i++) assert_int_equal(test_register_ec(LIMIT_FIRST + i, TRUE), S_OK);
    for (round = 0; round < 2; round++)
    {
        assert_non_null(child = start_child(L"--child-limit"));
        assert_int_equal(WaitForSingleObject(ready, 30000), WAIT_OBJECT_0);
        Sleep(200); /* 20 threads in GetSoHRequest */
        assert_int_equal(test_get_state(&agent_state), S_OK);
        assert_int_equal(agent_state.bound_ec_count, maxEnforcerCount);
        TerminateProcess(child, 9);
        WaitForSingleObject(child, 10000);
        CloseHandle(child);
        assert_true(test_wait_for(agent_is_empty, NULL, 5000));
    }
    CloseHandle(ready);
    test_unregister_all_ecs();
    assert_int_equal(test_register_ec(EC_ID, TRUE), S_OK);
    for (i = 0; i < STRESS_COUNT; i++) assert_int_equal(test_register_ec(STRESS_FIRST + i, TRUE), S_OK);
}

/* 20 bindings of one process share one event poll: after a restart every
 * one of them is re-learned (GetConnections) and told to redo its exchange
 * (NotifySoHChange), and every one works. */
static struct callback_sink many_sinks[maxEnforcerCount];

/* Callback counts before a restart: both must grow for every binding. */
struct many_seen
{
    LONG get_connections[maxEnforcerCount];
    LONG notify[maxEnforcerCount];
};

static BOOL all_rebound(void *arg)
{
    const struct many_seen *seen = arg;
    unsigned int i;

    for (i = 0; i < maxEnforcerCount; i++)
        if (many_sinks[i].get_connections_count <= seen->get_connections[i]
            || many_sinks[i].notify_count <= seen->notify[i])
            return FALSE;
    return TRUE;
}

static void test_restart_with_many_bindings_in_one_process(void **state)
{
    INapEnforcementClientBinding *bindings[maxEnforcerCount];
    INapEnforcementClientConnection *connections[maxEnforcerCount];
    struct many_seen seen;
    unsigned int i, cycle;
    BOOL retrigger;

    (void)state;
    test_unregister_all_ecs();
    for (i = 0; i < maxEnforcerCount; i++) assert_int_equal(test_register_ec(LIMIT_FIRST + i, TRUE), S_OK);
    for (i = 0; i < maxEnforcerCount; i++)
        assert_int_equal(bind_ec(LIMIT_FIRST + i, &many_sinks[i], &bindings[i], &connections[i]), S_OK);
    for (cycle = 0; cycle < 3; cycle++)
    {
        for (i = 0; i < maxEnforcerCount; i++)
        {
            seen.get_connections[i] = many_sinks[i].get_connections_count;
            seen.notify[i] = many_sinks[i].notify_count;
        }
        test_kill_agent(agent);
        assert_non_null(agent = test_start_agent());
        assert_true(test_wait_for(all_rebound, &seen, 10000));
        for (i = 0; i < maxEnforcerCount; i++)
            assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(bindings[i], connections[i], &retrigger), S_OK);
    }
    for (i = 0; i < maxEnforcerCount; i++)
    {
        assert_int_equal(INapEnforcementClientConnection_Release(connections[i]), 0);
        assert_int_equal(INapEnforcementClientBinding_Uninitialize(bindings[i]), S_OK);
        assert_int_equal(INapEnforcementClientBinding_Release(bindings[i]), 0);
    }
    test_unregister_all_ecs();
    assert_int_equal(test_register_ec(EC_ID, TRUE), S_OK);
    for (i = 0; i < STRESS_COUNT; i++) assert_int_equal(test_register_ec(STRESS_FIRST + i, TRUE), S_OK);
}

/* ---- a callback the agent finds busy ---- */

/* The SDK lets an EC do its network exchange inside NotifySoHChange, so a
 * callback may be busy for seconds.  Meanwhile the binding's event thread,
 * which runs it, can rebind nothing: a call from another thread must rebind
 * by itself if the agent restarted in between. */
struct gate
{
    HANDLE entered, release;
    volatile LONG armed;
};

static void gate_init(struct gate *gate)
{
    gate->entered = CreateEventW(NULL, TRUE, FALSE, NULL);
    gate->release = CreateEventW(NULL, TRUE, FALSE, NULL);
    gate->armed = 1;
}

/* The first callback through an armed gate stays in it until released. */
static void gate_pass(struct gate *gate)
{
    if (!InterlockedExchange(&gate->armed, 0)) return;
    SetEvent(gate->entered);
    WaitForSingleObject(gate->release, 30000);
}

static void gate_close(struct gate *gate)
{
    SetEvent(gate->release);
    CloseHandle(gate->entered);
    CloseHandle(gate->release);
}

/* An EC callback whose NotifySoHChange waits at the gate. */
struct busy_ec
{
    INapEnforcementClientCallback INapEnforcementClientCallback_iface;
    LONG refs;
    struct gate gate;
    INapEnforcementClientConnection *volatile connection;
};

static struct busy_ec *busy_ec_from(INapEnforcementClientCallback *iface)
{
    return CONTAINING_RECORD(iface, struct busy_ec, INapEnforcementClientCallback_iface);
}

static HRESULT WINAPI busy_ec_QueryInterface(INapEnforcementClientCallback *iface, REFIID riid, void **out)
{
    *out = NULL;
    if (!IsEqualIID(riid, &IID_IUnknown) && !IsEqualIID(riid, &IID_INapEnforcementClientCallback))
        return E_NOINTERFACE;
    *out = iface;
    INapEnforcementClientCallback_AddRef(iface);
    return S_OK;
}

static ULONG WINAPI busy_ec_AddRef(INapEnforcementClientCallback *iface)
{
    return InterlockedIncrement(&busy_ec_from(iface)->refs);
}

/* Lives in the test's storage: Release only counts. */
static ULONG WINAPI busy_ec_Release(INapEnforcementClientCallback *iface)
{
    return InterlockedDecrement(&busy_ec_from(iface)->refs);
}

static HRESULT WINAPI busy_ec_NotifySoHChange(INapEnforcementClientCallback *iface)
{
    gate_pass(&busy_ec_from(iface)->gate);
    return S_OK;
}

static HRESULT WINAPI busy_ec_GetConnections(INapEnforcementClientCallback *iface, Connections **out)
{
    struct busy_ec *ec = busy_ec_from(iface);
    Connections *list = CoTaskMemAlloc(sizeof(*list));

    if (!(*out = list)) return E_OUTOFMEMORY;
    /* Asked before CreateConnection made the connection: none is up yet. */
    list->count = ec->connection ? 1 : 0;
    if (!(list->connections = CoTaskMemAlloc(sizeof(*list->connections))))
    {
        CoTaskMemFree(list);
        *out = NULL;
        return E_OUTOFMEMORY;
    }
    if (ec->connection)
    {
        list->connections[0] = ec->connection;
        INapEnforcementClientConnection_AddRef(ec->connection);
    }
    return S_OK;
}

static const INapEnforcementClientCallbackVtbl busy_ec_vtbl =
{
    busy_ec_QueryInterface, busy_ec_AddRef, busy_ec_Release, busy_ec_NotifySoHChange, busy_ec_GetConnections,
};

static void test_call_rebinds_while_ec_callback_busy(void **state)
{
    struct busy_ec ec = { .INapEnforcementClientCallback_iface.lpVtbl = &busy_ec_vtbl, .refs = 1 };
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    BOOL retrigger;
    GUID guid;

    (void)state;
    gate_init(&ec.gate);
    assert_int_equal(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, &ec.INapEnforcementClientCallback_iface),
                     S_OK);
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(binding, &connection), S_OK);
    CoCreateGuid(&guid);
    INapEnforcementClientConnection_SetConnectionId(connection, &guid);
    ec.connection = connection;
    assert_int_equal(ec_exchange(binding, connection), S_OK);

    /* The EC's callback thread is busy in NotifySoHChange while the agent restarts. */
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_int_equal(WaitForSingleObject(ec.gate.entered, 10000), WAIT_OBJECT_0);
    restart_agent();
    /* The EC's other thread: its first call finds its session gone and rebinds. */
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
    assert_int_equal(ec_answer_request(connection, NULL), S_OK);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), S_OK);
    assert_true(test_wait_for(agent_has_one_connection, NULL, 5000));

    SetEvent(ec.gate.release);
    assert_int_equal(ec_exchange(binding, connection), S_OK);
    ec.connection = NULL;
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(ec.refs, 1);
    gate_close(&ec.gate);
}

/* An SHA callback whose GetSoHRequest waits at the gate; it adds no SoH. */
struct busy_sha
{
    INapSystemHealthAgentCallback INapSystemHealthAgentCallback_iface;
    LONG refs;
    struct gate gate;
    volatile LONG get_soh_count;
};

static struct busy_sha *busy_sha_from(INapSystemHealthAgentCallback *iface)
{
    return CONTAINING_RECORD(iface, struct busy_sha, INapSystemHealthAgentCallback_iface);
}

static HRESULT WINAPI busy_sha_QueryInterface(INapSystemHealthAgentCallback *iface, REFIID riid, void **out)
{
    *out = NULL;
    if (!IsEqualIID(riid, &IID_IUnknown) && !IsEqualIID(riid, &IID_INapSystemHealthAgentCallback))
        return E_NOINTERFACE;
    *out = iface;
    INapSystemHealthAgentCallback_AddRef(iface);
    return S_OK;
}

static ULONG WINAPI busy_sha_AddRef(INapSystemHealthAgentCallback *iface)
{
    return InterlockedIncrement(&busy_sha_from(iface)->refs);
}

static ULONG WINAPI busy_sha_Release(INapSystemHealthAgentCallback *iface)
{
    return InterlockedDecrement(&busy_sha_from(iface)->refs);
}

static HRESULT WINAPI busy_sha_GetSoHRequest(INapSystemHealthAgentCallback *iface, INapSystemHealthAgentRequest *request)
{
    struct busy_sha *sha = busy_sha_from(iface);

    (void)request;
    gate_pass(&sha->gate);
    InterlockedIncrement(&sha->get_soh_count);
    return S_OK;
}

static HRESULT WINAPI busy_sha_ProcessSoHResponse(INapSystemHealthAgentCallback *iface,
                                                  INapSystemHealthAgentRequest *request)
{
    (void)iface; (void)request;
    return S_OK;
}

static HRESULT WINAPI busy_sha_NotifySystemIsolationStateChange(INapSystemHealthAgentCallback *iface)
{
    (void)iface;
    return S_OK;
}

/* Never asked (no fix-up is ever under way); answers "fixed" as the SDK's sample does. */
static HRESULT WINAPI busy_sha_GetFixupInfo(INapSystemHealthAgentCallback *iface, FixupInfo **out)
{
    (void)iface;
    if (!(*out = CoTaskMemAlloc(sizeof(**out)))) return E_OUTOFMEMORY;
    memset(*out, 0, sizeof(**out));
    (*out)->state = fixupStateSuccess;
    (*out)->percentage = 100;
    return S_OK;
}

/* E_NOTIMPL is the documented answer of an SHA that lets the agent compare the bytes. */
static HRESULT WINAPI busy_sha_CompareSoHRequests(INapSystemHealthAgentCallback *iface, const SoHRequest *lhs,
                                                  const SoHRequest *rhs, BOOL *equal)
{
    (void)iface; (void)lhs; (void)rhs;
    *equal = FALSE;
    return E_NOTIMPL;
}

static HRESULT WINAPI busy_sha_NotifyOrphanedSoHRequest(INapSystemHealthAgentCallback *iface, const CorrelationId *id)
{
    (void)iface; (void)id;
    return S_OK;
}

static const INapSystemHealthAgentCallbackVtbl busy_sha_vtbl =
{
    busy_sha_QueryInterface, busy_sha_AddRef, busy_sha_Release, busy_sha_GetSoHRequest,
    busy_sha_ProcessSoHResponse, busy_sha_NotifySystemIsolationStateChange, busy_sha_GetFixupInfo,
    busy_sha_CompareSoHRequests, busy_sha_NotifyOrphanedSoHRequest,
};

static BOOL sha_asked_again(void *arg)
{
    return ((struct busy_sha *)arg)->get_soh_count >= 2;
}

static void test_call_rebinds_while_sha_callback_busy(void **state)
{
    struct busy_sha sha = { .INapSystemHealthAgentCallback_iface.lpVtbl = &busy_sha_vtbl, .refs = 1 };
    INapSystemHealthAgentBinding2 *binding;

    (void)state;
    gate_init(&sha.gate);
    assert_int_equal(test_register_sha(SHA_ID), S_OK);
    assert_int_equal(CoCreateInstance(&CLSID_NapSystemHealthAgentBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapSystemHealthAgentBinding2, (void **)&binding), S_OK);
    /* The agent asks a new SHA for its SoH at once: the SHA's callback thread
     * stays busy in GetSoHRequest while the agent restarts. */
    assert_int_equal(INapSystemHealthAgentBinding2_Initialize(binding, SHA_ID, &sha.INapSystemHealthAgentCallback_iface),
                     S_OK);
    assert_int_equal(WaitForSingleObject(sha.gate.entered, 10000), WAIT_OBJECT_0);
    restart_agent();
    /* The SHA's other thread: its calls find the session gone and rebind. */
    assert_int_equal(INapSystemHealthAgentBinding2_NotifySoHChange(binding), S_OK);
    assert_int_equal(INapSystemHealthAgentBinding2_FlushCache(binding), S_OK);
    /* The new agent knows the SHA as bound. */
    assert_int_equal(test_unregister_sha(SHA_ID), NAP_E_STILL_BOUND);

    /* Once free, the callback thread serves the new agent on the session the call made. */
    SetEvent(sha.gate.release);
    assert_true(test_wait_for(sha_asked_again, &sha, 10000));
    assert_int_equal(INapSystemHealthAgentBinding2_Uninitialize(binding), S_OK);
    assert_int_equal(INapSystemHealthAgentBinding2_Release(binding), 0);
    assert_int_equal(sha.refs, 1);
    assert_int_equal(test_unregister_sha(SHA_ID), S_OK);
    gate_close(&sha.gate);
}

static BOOL service_state_is(DWORD wanted)
{
    SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT), service;
    SERVICE_STATUS status = { 0 };

    if (!manager) return FALSE;
    service = OpenServiceW(manager, L"napagent", SERVICE_QUERY_STATUS);
    if (service)
    {
        QueryServiceStatus(service, &status);
        CloseServiceHandle(service);
    }
    CloseServiceHandle(manager);
    return status.dwCurrentState == wanted;
}

static BOOL service_stopped(void *unused)
{
    (void)unused;
    return service_state_is(SERVICE_STOPPED);
}

static void stop_service(void)
{
    SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT), service;
    SERVICE_STATUS status;

    service = OpenServiceW(manager, L"napagent", SERVICE_STOP);
    if (service)
    {
        ControlService(service, SERVICE_CONTROL_STOP, &status);
        CloseServiceHandle(service);
    }
    CloseServiceHandle(manager);
}

static void test_initialize_starts_the_service(void **state)
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    struct callback_sink sink;

    (void)state;
    test_kill_agent(agent);
    agent = NULL;
    assert_int_equal(test_run_program(L"napagent.exe", L"--install", 30000), 0);
    assert_true(service_stopped(NULL));
    /* Installed and stopped: Initialize starts it, as on Windows. */
    assert_int_equal(bind_ec(EC_ID, &sink, &binding, &connection), S_OK);
    assert_true(service_state_is(SERVICE_RUNNING));
    assert_int_equal(ec_exchange(binding, connection), S_OK);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    stop_service();
    assert_true(test_wait_for(service_stopped, NULL, 10000));
    assert_int_equal(test_run_program(L"napagent.exe", L"--uninstall", 30000), 0);
    assert_non_null(agent = test_start_agent());
    /* Uninstalling removed the agent's key: register again for the tests after us. */
    assert_int_equal(test_register_ec(EC_ID, TRUE), S_OK);
}

#define RACE_QUERY_THREADS 4
#define RACE_MS 6000

/* What the query threads of test_queries_race_binds saw; static, so that a
 * thread stuck in a wedged agent never writes into a dead stack frame. */
static struct
{
    volatile LONG stop, queries, unexpected;
    volatile HRESULT first_unexpected;
} race;

static DWORD WINAPI race_query_thread(void *arg)
{
    UINT32 count, max_size;
    GUID id;
    HRESULT hr;

    (void)arg;
    while (!race.stop)
    {
        hr = test_query_connections(EC_ID, &count, &id, &max_size);
        InterlockedIncrement(&race.queries);
        if (hr == S_OK || hr == NAP_E_NOT_INITIALIZED) continue;
        if (InterlockedIncrement(&race.unexpected) == 1) race.first_unexpected = hr;
    }
    return 0;
}

/* NapAgentQueryConnections (napctl connections) while the EC binds and
 * unbinds in a loop: every Initialize and Uninitialize succeeds, every query
 * says S_OK or NAP_E_NOT_INITIALIZED, and the agent lives.  A query used to
 * find the EC's session before the EC side had made its state: it faulted
 * (0x800703E6) holding the EC side's lock, and every Initialize after it
 * timed out. */
static void test_queries_race_binds(void **state)
{
    INapEnforcementClientConnection *connection;
    INapEnforcementClientBinding *binding;
    HANDLE threads[RACE_QUERY_THREADS];
    struct callback_sink sink;
    HRESULT bind_hr = S_OK, unbind_hr = S_OK;
    unsigned int i, binds = 0;
    DWORD start, ended;
    BOOL died;

    (void)state;
    binding = NULL;
    race.stop = race.queries = race.unexpected = 0;
    for (i = 0; i < RACE_QUERY_THREADS; i++)
        assert_non_null(threads[i] = CreateThread(NULL, 0, race_query_thread, NULL, 0, NULL));
    start = GetTickCount();
    while (GetTickCount() - start < RACE_MS && bind_hr == S_OK && unbind_hr == S_OK && !race.unexpected)
    {
        if (FAILED(bind_hr = bind_ec(EC_ID, &sink, &binding, &connection)))
        {
            if (connection) INapEnforcementClientConnection_Release(connection);
            if (binding) INapEnforcementClientBinding_Release(binding);
            break;
        }
        binds++;
        INapEnforcementClientConnection_Release(connection);
        unbind_hr = INapEnforcementClientBinding_Uninitialize(binding);
        INapEnforcementClientBinding_Release(binding);
    }
    race.stop = 1;
    /* A query stuck in a wedged agent never returns: leave its thread. */
    ended = WaitForMultipleObjects(RACE_QUERY_THREADS, threads, TRUE, 15000);
    for (i = 0; i < RACE_QUERY_THREADS; i++) CloseHandle(threads[i]);
    print_message("%u binds, %ld queries in %lu ms\n", binds, race.queries, GetTickCount() - start);
    if (race.unexpected) print_message("%ld queries failed, the first with 0x%08lx\n", race.unexpected,
                                       race.first_unexpected);
    died = WaitForSingleObject(agent, 0) == WAIT_OBJECT_0;
    if (bind_hr != S_OK || unbind_hr != S_OK || race.unexpected || ended == WAIT_TIMEOUT || died)
        restart_agent(); /* for the tests after this one */
    assert_false(died);
    assert_int_equal(bind_hr, S_OK);
    assert_int_equal(unbind_hr, S_OK);
    assert_int_equal(race.unexpected, 0);
    assert_int_not_equal(ended, WAIT_TIMEOUT);
    assert_true(binds > 10);
}

/* ---- bounds and lost events (review 1: findings 3, 4, 6, 7) ---- */

/* A long poll whose reply comes after the client's bound (the agent hung
 * while it held an event) loses nothing: the agent keeps each event until
 * the process acknowledges it, and the next poll gets it again.  Here the
 * event is the agent's retry of NotifySoHChange, due while the agent is
 * frozen past the poll's bound (5 s poll + the call bound). */
static void test_late_poll_loses_no_event(void **state)
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    struct callback_sink sink;
    unsigned int cycle;
    LONG before;

    (void)state;
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, CALL_TIMEOUT_MS), S_OK);
    assert_int_equal(test_set_retry_interval(2500), S_OK);
    assert_int_equal(bind_ec(EC_ID, &sink, &binding, &connection), S_OK);
    assert_int_equal(ec_exchange(binding, connection), S_OK);
    for (cycle = 0; cycle < 3; cycle++)
    {
        before = sink.notify_count;
        assert_int_equal(test_notify_soh_change(), S_OK);
        assert_true(callback_sink_wait_notify(&sink, before + 1, 3000));
        /* The EC could not act on it: the agent retries in 2.5 s... */
        assert_int_equal(INapEnforcementClientBinding_NotifySoHChangeFailure(binding), S_OK);
        Sleep(20);
        /* ...while it is frozen past the pump's bound (5000 + 400 ms). */
        assert_true(test_suspend_process(agent));
        Sleep(6500);
        assert_true(test_resume_process(agent));
        if (!callback_sink_wait_notify(&sink, before + 2, 4000)) fprintf(stderr, "cycle %u: retry lost\n", cycle);
        assert_true(sink.notify_count >= before + 2);
    }
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, 5000), S_OK);
    assert_int_equal(test_set_retry_interval(30000), S_OK);
}

/* The agent's log (every agent of the suite appends to it): its size, and
 * how often `what` appears past `from` (from the start if it rotated). */
static HANDLE open_agent_log(void)
{
    WCHAR path[MAX_PATH];

    test_bin_path(L"napagent-test.log", path, MAX_PATH);
    return CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                       OPEN_EXISTING, 0, NULL);
}

static DWORD agent_log_size(void)
{
    HANDLE file = open_agent_log();
    DWORD size;

    if (file == INVALID_HANDLE_VALUE) return 0;
    size = GetFileSize(file, NULL);
    CloseHandle(file);
    return size;
}

static unsigned int count_in_agent_log(DWORD from, const char *what)
{
    static char text[1 << 20];
    HANDLE file = open_agent_log();
    unsigned int count = 0;
    const char *at;
    DWORD size = 0;

    if (file == INVALID_HANDLE_VALUE) return 0;
    if (GetFileSize(file, NULL) >= from) SetFilePointer(file, from, NULL, FILE_BEGIN);
    ReadFile(file, text, sizeof(text) - 1, &size, NULL);
    CloseHandle(file);
    text[size] = 0;
    for (at = text; (at = strstr(at, what)); at += strlen(what)) count++;
    return count;
}

/* An EC disabled while bound, then the agent restarts: it refuses the
 * binding's reopen, for good.  The binding drops its session (no retries),
 * every method says NAP_E_NOT_INITIALIZED at once, and Initialize may be
 * called again: it says why, and works once the EC is enabled. */
static void test_refused_reopen_drops_the_session(void **state)
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection, *other = (void *)1;
    struct callback_sink sink;
    char refused[64];
    unsigned int refusals;
    BOOL retrigger;
    DWORD start, ms, log_from;
    HRESULT hr;

    (void)state;
    snprintf(refused, sizeof(refused), "EC %u refused", EC_ID);
    assert_int_equal(bind_ec(EC_ID, &sink, &binding, &connection), S_OK);
    assert_int_equal(ec_exchange(binding, connection), S_OK);
    assert_int_equal(test_register_ec(EC_ID, FALSE), S_OK);
    log_from = agent_log_size();
    restart_agent();
    Sleep(3000);
    refusals = count_in_agent_log(log_from, refused);
    start = GetTickCount();
    hr = INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger);
    ms = GetTickCount() - start;
    print_message("%u refused open(s) in 3 s; GetSoHRequest 0x%08lx after %lu ms\n", refusals, hr, ms);
    assert_true(refusals >= 1 && refusals <= 2);
    assert_int_equal(hr, NAP_E_NOT_INITIALIZED);
    assert_true(ms < 200);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(binding, connection), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(binding, &other), NAP_E_NOT_INITIALIZED);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, &sink.INapEnforcementClientCallback_iface),
                     NAP_E_ENTITY_DISABLED);
    assert_int_equal(test_register_ec(EC_ID, TRUE), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, &sink.INapEnforcementClientCallback_iface),
                     S_OK);
    assert_int_equal(ec_exchange(binding, connection), S_OK);
    /* No refused open since, but the Initialize made while it was disabled. */
    assert_int_equal(count_in_agent_log(log_from, refused), refusals + 1);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(callback_sink_refs(&sink), 1);
}

static DWORD WINAPI open_gate_later(void *arg)
{
    Sleep(3000);
    SetEvent(((struct gate *)arg)->release);
    return 0;
}

static BOOL busy_ec_released(void *arg)
{
    return ((struct busy_ec *)arg)->refs == 1;
}

/* A callback that blocks does not hold up Uninitialize from another thread
 * past its bound (twice the call bound): the callback is released by its
 * own thread once it returns, never while it runs. */
static void test_uninitialize_does_not_wait_for_a_busy_callback(void **state)
{
    struct busy_ec ec = { .INapEnforcementClientCallback_iface.lpVtbl = &busy_ec_vtbl, .refs = 1 };
    INapEnforcementClientBinding *binding;
    LARGE_INTEGER start;
    HANDLE opener;
    double ms;

    (void)state;
    gate_init(&ec.gate);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, CALL_TIMEOUT_MS), S_OK);
    assert_int_equal(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, &ec.INapEnforcementClientCallback_iface),
                     S_OK);
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_int_equal(WaitForSingleObject(ec.gate.entered, 10000), WAIT_OBJECT_0);
    /* Whatever the binding does, the callback ends in 3 s. */
    assert_non_null(opener = CreateThread(NULL, 0, open_gate_later, &ec.gate, 0, NULL));
    QueryPerformanceCounter(&start);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    ms = elapsed_ms(start);
    print_message("Uninitialize during a busy callback returned after %.0f ms (bound %u ms)\n", ms,
                  2 * CALL_TIMEOUT_MS);
    assert_true(ms < 2 * CALL_TIMEOUT_MS);
    assert_true(ec.refs >= 2);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_true(test_wait_for(busy_ec_released, &ec, 10000));
    WaitForSingleObject(opener, INFINITE);
    CloseHandle(opener);
    gate_close(&ec.gate);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, 5000), S_OK);
}

/* GetSoHRequest with a released connection still to report (the callback
 * thread, which reports it at once, is busy) against a hung agent: one
 * bound for the method, not one per call it makes. */
static void test_get_soh_request_has_one_bound(void **state)
{
    struct busy_ec ec = { .INapEnforcementClientCallback_iface.lpVtbl = &busy_ec_vtbl, .refs = 1 };
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *released, *connection;
    LARGE_INTEGER start;
    BOOL retrigger;
    GUID guid;
    double ms;

    (void)state;
    gate_init(&ec.gate);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, CALL_TIMEOUT_MS), S_OK);
    assert_int_equal(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, &ec.INapEnforcementClientCallback_iface),
                     S_OK);
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(binding, &released), S_OK);
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(binding, &connection), S_OK);
    CoCreateGuid(&guid);
    INapEnforcementClientConnection_SetConnectionId(released, &guid);
    CoCreateGuid(&guid);
    INapEnforcementClientConnection_SetConnectionId(connection, &guid);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, released, &retrigger), S_OK);
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_int_equal(WaitForSingleObject(ec.gate.entered, 10000), WAIT_OBJECT_0);
    assert_int_equal(INapEnforcementClientConnection_Release(released), 0);

    assert_true(test_suspend_process(agent));
    QueryPerformanceCounter(&start);
    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), RPC_E_TIMEOUT);
    ms = elapsed_ms(start);
    assert_true(test_resume_process(agent));
    print_message("GetSoHRequest against a hung agent: %.0f ms (bound %u ms)\n", ms, CALL_TIMEOUT_MS);
    assert_true(ms < CALL_TIMEOUT_MS * 3 / 2);

    SetEvent(ec.gate.release);
    assert_int_equal(ec_exchange(binding, connection), S_OK);
    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    assert_int_equal(ec.refs, 1);
    gate_close(&ec.gate);
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, 5000), S_OK);
}

/* The SHA binding's GetSystemIsolationInfo never starts the service, even
 * while its session is not yet known to be lost (its callback thread, which
 * would learn it, is busy): a binding call after Initialize does not start
 * the agent (docs/decisions.md, "Agent on demand"). */
static void test_sha_isolation_does_not_start_the_service(void **state)
{
    struct busy_sha sha = { .INapSystemHealthAgentCallback_iface.lpVtbl = &busy_sha_vtbl, .refs = 1 };
    INapSystemHealthAgentBinding2 *binding;
    IsolationInfo *info = NULL;
    BOOL unknown, stayed_stopped;
    HRESULT hr;

    (void)state;
    gate_init(&sha.gate);
    assert_int_equal(test_register_sha(SHA_ID), S_OK);
    test_kill_agent(agent);
    agent = NULL;
    assert_int_equal(test_run_program(L"napagent.exe", L"--install", 30000), 0);
    assert_int_equal(CoCreateInstance(&CLSID_NapSystemHealthAgentBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapSystemHealthAgentBinding2, (void **)&binding), S_OK);
    /* Initialize starts the service. */
    assert_int_equal(INapSystemHealthAgentBinding2_Initialize(binding, SHA_ID, &sha.INapSystemHealthAgentCallback_iface),
                     S_OK);
    /* Busy in the bind-time GetSoHRequest while the service stops. */
    assert_int_equal(WaitForSingleObject(sha.gate.entered, 10000), WAIT_OBJECT_0);
    stop_service();
    assert_true(test_wait_for(service_stopped, NULL, 10000));

    hr = INapSystemHealthAgentBinding2_GetSystemIsolationInfo(binding, &info, &unknown);
    stayed_stopped = service_stopped(NULL);
    print_message("GetSystemIsolationInfo with the service stopped: 0x%08lx, service %s\n", hr,
                  stayed_stopped ? "still stopped" : "STARTED");
    if (info)
    {
        CoTaskMemFree(info->failureUrl.string);
        CoTaskMemFree(info);
    }
    SetEvent(sha.gate.release);
    INapSystemHealthAgentBinding2_Uninitialize(binding);
    assert_int_equal(INapSystemHealthAgentBinding2_Release(binding), 0);
    stop_service();
    assert_true(test_wait_for(service_stopped, NULL, 10000));
    assert_int_equal(test_run_program(L"napagent.exe", L"--uninstall", 30000), 0);
    assert_non_null(agent = test_start_agent());
    assert_int_equal(test_register_ec(EC_ID, TRUE), S_OK);
    gate_close(&sha.gate);

    assert_int_equal(hr, RPC_E_DISCONNECTED);
    assert_true(stayed_stopped);
    assert_int_equal(sha.refs, 1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_agent_killed_and_restarted),
        cmocka_unit_test(test_first_calls_after_restart_succeed),
        cmocka_unit_test(test_response_to_previous_agents_request),
        cmocka_unit_test(test_uninitialize_while_agent_down),
        cmocka_unit_test(test_hung_agent),
        cmocka_unit_test(test_restart_cycles_under_traffic),
        cmocka_unit_test(test_killed_clients_free_the_limit),
        cmocka_unit_test(test_restart_with_many_bindings_in_one_process),
        cmocka_unit_test(test_call_rebinds_while_ec_callback_busy),
        cmocka_unit_test(test_call_rebinds_while_sha_callback_busy),
        cmocka_unit_test(test_initialize_starts_the_service),
        cmocka_unit_test(test_queries_race_binds),
        cmocka_unit_test(test_late_poll_loses_no_event),
        cmocka_unit_test(test_refused_reopen_drops_the_session),
        cmocka_unit_test(test_uninitialize_does_not_wait_for_a_busy_callback),
        cmocka_unit_test(test_get_soh_request_has_one_bound),
        cmocka_unit_test(test_sha_isolation_does_not_start_the_service),
    };
    int failures;

    test_install_crash_handler();
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (argc > 2 && !strcmp(argv[1], "--child-stress")) return run_stress_child(strtoul(argv[2], NULL, 0));
    if (argc > 1 && !strcmp(argv[1], "--child-limit")) return run_limit_child();
    if (argc > 3 && !strcmp(argv[1], "--child-sigstop"))
    {
        WCHAR dir[MAX_PATH];
        MultiByteToWideChar(CP_ACP, 0, argv[3], -1, dir, MAX_PATH);
        return run_sigstop_child(strtoul(argv[2], NULL, 0), dir);
    }
    failures = cmocka_run_group_tests(tests, setup, teardown);
    CoUninitialize();
    return failures;
}
