/*
 * A killed enforcement client frees its slot in the agent (context-handle rundown)
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <string.h>
#include <stdio.h>
#include <wchar.h>
#include "NapEnforcementClient.h"
#include "napagent_rpc.h"
#include "callback_sink.h"

#define EC_ID 0x000137F5u
#define READY_EVENT L"opennap-test-rundown-ready"

static HANDLE agent;

/* The child: binds, opens a connection with a request outstanding, then waits to be killed. */
static int run_child(void)
{
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    struct callback_sink sink;
    HANDLE ready = OpenEventW(EVENT_MODIFY_STATE, FALSE, READY_EVENT);
    GUID id;
    BOOL retrigger;
    HRESULT hr;

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    callback_sink_init(&sink);
    if (!ready) return 10;
    if (FAILED(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                &IID_INapEnforcementClientBinding, (void **)&binding))) return 11;
    if (FAILED(hr = INapEnforcementClientBinding_Initialize(binding, EC_ID, &sink.INapEnforcementClientCallback_iface)))
    {
        fprintf(stderr, "child: Initialize failed: 0x%08lx\n", hr);
        return 12;
    }
    if (FAILED(INapEnforcementClientBinding_CreateConnection(binding, &connection))) return 13;
    CoCreateGuid(&id);
    INapEnforcementClientConnection_SetConnectionId(connection, &id);
    if (FAILED(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger))) return 14;
    SetEvent(ready);
    Sleep(INFINITE);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    if (test_register_qagent() != 0) return -1;
    if (!(agent = test_start_agent())) return -1;
    return FAILED(test_register_ec(EC_ID, TRUE)) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    test_kill_agent(agent);
    return 0;
}

static BOOL agent_is_empty(void *unused)
{
    NAPAGENT_STATE state;

    (void)unused;
    return SUCCEEDED(test_get_state(&state)) && !state.bound_ec_count && !state.connection_count;
}

static HANDLE start_child(HANDLE ready)
{
    WCHAR path[MAX_PATH], cmdline[MAX_PATH + 16];
    STARTUPINFOW si = { .cb = sizeof(si) };
    PROCESS_INFORMATION pi;

    test_bin_path(L"test_rundown.exe", path, MAX_PATH);
    swprintf(cmdline, ARRAYSIZE(cmdline), L"\"%ls\" --child", path);
    assert_true(CreateProcessW(path, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi));
    CloseHandle(pi.hThread);
    test_adopt_child(pi.hProcess);
    if (WaitForSingleObject(ready, 20000) != WAIT_OBJECT_0)
    {
        DWORD code = 0;
        GetExitCodeProcess(pi.hProcess, &code);
        print_error("child did not get ready (exit code %lu)\n", code);
        TerminateProcess(pi.hProcess, 1);
        fail();
    }
    return pi.hProcess;
}

static void test_killed_client_frees_its_slot(void **state)
{
    HANDLE ready = CreateEventW(NULL, FALSE, FALSE, READY_EVENT), child;
    INapEnforcementClientBinding *binding;
    struct callback_sink sink;
    NAPAGENT_STATE agent_state;
    LARGE_INTEGER start, end, frequency;
    unsigned int round;

    (void)state;
    assert_true(agent_is_empty(NULL));
    for (round = 0; round < 3; round++)
    {
        child = start_child(ready);
        assert_int_equal(test_get_state(&agent_state), S_OK);
        assert_int_equal(agent_state.bound_ec_count, 1);
        assert_int_equal(agent_state.connection_count, 1);

        /* kill -9: no Uninitialize, no unbind; only the rundown can free it. */
        QueryPerformanceCounter(&start);
        TerminateProcess(child, 9);
        WaitForSingleObject(child, 10000);
        CloseHandle(child);
        assert_true(test_wait_for(agent_is_empty, NULL, 5000));
        QueryPerformanceCounter(&end);
        QueryPerformanceFrequency(&frequency);
        print_message("round %u: slot freed %.1f ms after the kill\n", round,
                      (end.QuadPart - start.QuadPart) * 1000.0 / frequency.QuadPart);
    }

    /* The id is free for a new client. */
    callback_sink_init(&sink);
    assert_int_equal(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(binding, EC_ID, &sink.INapEnforcementClientCallback_iface),
                     S_OK);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(binding), 0);
    CloseHandle(ready);
}

/* How many handles process pid holds (SystemHandleInformation: Wine's
 * GetProcessHandleCount always says 0). */
struct handle_entry
{
    ULONG pid;
    BYTE type, flags;
    USHORT value;
    void *object;
    ACCESS_MASK access;
};

static ULONG handle_count(DWORD pid)
{
    LONG (WINAPI *query)(ULONG, void *, ULONG, ULONG *) =
        (void *)GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQuerySystemInformation");
    ULONG size = 1 << 22, returned, i, count = 0;
    struct { ULONG count; struct handle_entry entries[1]; } *info = HeapAlloc(GetProcessHeap(), 0, size);

    assert_non_null(query);
    assert_non_null(info);
    assert_int_equal(query(16 /* SystemHandleInformation */, info, size, &returned), 0);
    for (i = 0; i < info->count; i++) count += info->entries[i].pid == pid;
    HeapFree(GetProcessHeap(), 0, info);
    return count;
}

#define SESSION_CYCLES 40

/* A session its client replaced (opened again with its cookie) or ended by
 * cookie lets go of the client at once: the agent keeps no handle of it
 * until the client exits.  Each such session used to stay, with a handle to
 * the client's process and a thread-pool wait on it, for as long as the
 * client's context handle lived in the agent, which is until the client
 * process ends. */
static void test_replaced_and_ended_sessions_let_go(void **state)
{
    struct test_raw_session session;
    DWORD agent_pid = GetProcessId(agent);
    ULONG before, replaced, ended;
    unsigned int i;

    (void)state;
    assert_true(agent_is_empty(NULL));
    assert_int_equal(test_raw_open(&session, NAPAGENT_KIND_EC, EC_ID), S_OK);
    before = handle_count(agent_pid);
    for (i = 0; i < SESSION_CYCLES; i++) assert_int_equal(test_raw_reopen(&session), S_OK);
    replaced = handle_count(agent_pid);
    for (i = 0; i < SESSION_CYCLES; i++)
    {
        assert_int_equal(test_raw_end(&session), S_OK);
        session.cookie = 0; /* a new session, not a rebind */
        assert_int_equal(test_raw_reopen(&session), S_OK);
    }
    ended = handle_count(agent_pid);
    print_message("agent handles: %lu with one session, %lu after %u replaced, %lu after %u ended\n", before,
                  replaced, SESSION_CYCLES, ended, SESSION_CYCLES);
    assert_int_equal(test_raw_close(&session), S_OK);
    assert_true(test_wait_for(agent_is_empty, NULL, 5000));
    /* One handle per session kept would be SESSION_CYCLES more; allow for the agent's other handles. */
    assert_true(replaced < before + SESSION_CYCLES / 4);
    assert_true(ended < before + SESSION_CYCLES / 4);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_killed_client_frees_its_slot),
        cmocka_unit_test(test_replaced_and_ended_sessions_let_go),
    };
    int failures;

    test_install_crash_handler();
    if (argc > 1 && !strcmp(argv[1], "--child")) return run_child();
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    failures = cmocka_run_group_tests(tests, setup, teardown);
    CoUninitialize();
    return failures;
}
