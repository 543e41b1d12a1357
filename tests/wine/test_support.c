/*
 * Helpers every Wine test program shares: crash handling, agent control
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include "napagent_rpc.h"
#include "agent_endpoint.h"
#include "rpc_guard.h"
#include "nap_trace.h"

/* What src/common traces on in the tests (WINEDEBUG=+naptest). */
NAP_TRACE_MODULE_CHANNEL(naptest);

static LONG WINAPI crash_handler(EXCEPTION_POINTERS *pointers)
{
    DWORD code = pointers->ExceptionRecord->ExceptionCode;

    fprintf(stderr, "test: unhandled exception 0x%08lx at %p\n", code,
            pointers->ExceptionRecord->ExceptionAddress);
    fflush(stderr);
    TerminateProcess(GetCurrentProcess(), code ? code : 0xdead);
    return EXCEPTION_CONTINUE_SEARCH;
}

/* scripts/wine-run.sh names a file in NAP_TEST_STARTED_FILE: that it exists
 * proves main ran, so a failure without it is Wine failing to start the
 * program, never a test's. */
static void say_started(void)
{
    WCHAR path[MAX_PATH];
    HANDLE file;

    if (!GetEnvironmentVariableW(L"NAP_TEST_STARTED_FILE", path, MAX_PATH)) return;
    file = CreateFileW(path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, CREATE_ALWAYS, 0, NULL);
    if (file != INVALID_HANDLE_VALUE) CloseHandle(file);
}

void test_install_crash_handler(void)
{
    say_started();
    SetUnhandledExceptionFilter(crash_handler);
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    setvbuf(stdout, NULL, _IONBF, 0);
}

void test_bin_path(const WCHAR *file, WCHAR *path, DWORD size)
{
    WCHAR *slash;

    GetModuleFileNameW(NULL, path, size);
    slash = wcsrchr(path, '\\');
    if (slash) slash[1] = 0;
    wcsncat(path, file, size - wcslen(path) - 1);
}

void test_adopt_child(HANDLE process)
{
    static HANDLE job;

    if (!job)
    {
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = { 0 };

        job = CreateJobObjectW(NULL, NULL);
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        if (job) SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof(limits));
    }
    if (job) AssignProcessToJobObject(job, process);
}

static HANDLE start_program(const WCHAR *file, const WCHAR *args)
{
    WCHAR path[MAX_PATH], cmdline[2048];
    STARTUPINFOW si = { .cb = sizeof(si) };
    PROCESS_INFORMATION pi;

    test_bin_path(file, path, MAX_PATH);
    swprintf(cmdline, 2048, L"\"%ls\" %ls", path, args ? args : L"");
    if (!CreateProcessW(path, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return NULL;
    CloseHandle(pi.hThread);
    test_adopt_child(pi.hProcess);
    return pi.hProcess;
}

int test_run_program(const WCHAR *file, const WCHAR *args, DWORD timeout_ms)
{
    HANDLE process = start_program(file, args);
    DWORD code = (DWORD)-1;

    if (!process) return -1;
    if (WaitForSingleObject(process, timeout_ms) != WAIT_OBJECT_0)
    {
        TerminateProcess(process, 1);
        CloseHandle(process);
        return -1;
    }
    GetExitCodeProcess(process, &code);
    CloseHandle(process);
    return (int)code;
}

struct ping_call { RPC_BINDING_HANDLE binding; };

static HRESULT ping_thunk(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    struct ping_call *call = arg;
    NAPAGENT_BLOB echo = { 0, NULL };
    BYTE byte = 0;
    HRESULT hr = NapAgentPing(call->binding, 1, &byte, &echo);

    MIDL_user_free(echo.data);
    return hr;
}

static BOOL agent_answers(void *unused)
{
    struct ping_call call;
    HRESULT hr;

    (void)unused;
    if (agent_endpoint_bind(&call.binding) != RPC_S_OK) return FALSE;
    hr = rpc_guarded_call(ping_thunk, NULL, 0, &call, NULL);
    RpcBindingFree(&call.binding);
    return hr == S_OK;
}

BOOL test_wait_for(BOOL (*cond)(void *arg), void *arg, DWORD timeout_ms)
{
    DWORD start = GetTickCount();

    for (;;)
    {
        if (cond(arg)) return TRUE;
        if (GetTickCount() - start >= timeout_ms) return FALSE;
        Sleep(5);
    }
}

HANDLE test_start_agent(void)
{
    WCHAR log[MAX_PATH], args[MAX_PATH + 32];
    HANDLE agent;

    /* The agent's log goes beside the binaries, not into the test's output. */
    test_bin_path(L"napagent-test.log", log, MAX_PATH);
    swprintf(args, ARRAYSIZE(args), L"--console --log \"%ls\"", log);
    agent = start_program(L"napagent.exe", args);

    if (!agent) return NULL;
    if (!test_wait_for(agent_answers, NULL, 20000))
    {
        test_kill_agent(agent);
        return NULL;
    }
    return agent;
}

void test_kill_agent(HANDLE agent)
{
    if (!agent) return;
    TerminateProcess(agent, 9);
    WaitForSingleObject(agent, 10000);
    CloseHandle(agent);
}

int test_regsvr32_dll(const WCHAR *dll, const WCHAR *options)
{
    WCHAR path[MAX_PATH], cmdline[MAX_PATH * 2];
    STARTUPINFOW si = { .cb = sizeof(si) };
    PROCESS_INFORMATION pi;
    DWORD code = (DWORD)-1;

    test_bin_path(dll, path, MAX_PATH);
    swprintf(cmdline, ARRAYSIZE(cmdline), L"regsvr32.exe %ls \"%ls\"", options, path);
    if (!CreateProcessW(NULL, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return -1;
    CloseHandle(pi.hThread);
    if (WaitForSingleObject(pi.hProcess, 30000) == WAIT_OBJECT_0) GetExitCodeProcess(pi.hProcess, &code);
    else TerminateProcess(pi.hProcess, 1);
    CloseHandle(pi.hProcess);
    return (int)code;
}

int test_regsvr32(const WCHAR *options)
{
    return test_regsvr32_dll(L"qagent.dll", options);
}

int test_register_qagent(void)
{
    return test_regsvr32(L"/s");
}

struct mgmt_call
{
    RPC_BINDING_HANDLE binding;
    UINT32 id, value;
    BOOL enabled;
    int op;
    NAPAGENT_STATE *state;
    UINT32 count;
    NAPAGENT_CONNECTION_FACTS *facts;
    NAPAGENT_COMPONENT *ecs;
    NAPAGENT_SYSTEM_ISOLATION isolation;
};

enum { OP_REGISTER, OP_UNREGISTER, OP_ENABLE, OP_NOTIFY, OP_SETTING, OP_STATE, OP_QUERY, OP_LIST,
       OP_REGISTER_SHA, OP_UNREGISTER_SHA, OP_ISOLATION, OP_LIST_SHAS };

static HRESULT mgmt_thunk(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)agent; (void)cookie;
    struct mgmt_call *call = arg;
    NAPAGENT_COMPONENT info;

    switch (call->op)
    {
    case OP_REGISTER:
        memset(&info, 0, sizeof(info));
        info.id = call->id;
        info.friendly_name = (WCHAR *)L"test enforcement client";
        info.component_type = 1;
        return NapAgentRegister(call->binding, NAPAGENT_KIND_EC, &info);
    case OP_UNREGISTER: return NapAgentUnregister(call->binding, NAPAGENT_KIND_EC, call->id);
    case OP_ENABLE:     return NapAgentSetEcEnabled(call->binding, call->id, call->enabled);
    case OP_NOTIFY:     return NapAgentNotifySoHChange(call->binding);
    case OP_SETTING:    return NapAgentSetSetting(call->binding, call->id, call->value);
    case OP_STATE:      return NapAgentGetState(call->binding, call->state);
    case OP_QUERY:      return NapAgentQueryConnections(call->binding, call->id, 5000, &call->count, &call->facts);
    case OP_LIST:       return NapAgentList(call->binding, NAPAGENT_KIND_EC, &call->count, &call->ecs);
    case OP_REGISTER_SHA:
        memset(&info, 0, sizeof(info));
        info.id = call->id;
        info.friendly_name = (WCHAR *)L"test system health agent";
        return NapAgentRegister(call->binding, NAPAGENT_KIND_SHA, &info);
    case OP_UNREGISTER_SHA: return NapAgentUnregister(call->binding, NAPAGENT_KIND_SHA, call->id);
    case OP_ISOLATION:  return NapAgentGetSystemIsolation(call->binding, &call->isolation);
    case OP_LIST_SHAS:  return NapAgentList(call->binding, NAPAGENT_KIND_SHA, &call->count, &call->ecs);
    }
    return E_INVALIDARG;
}

static HRESULT run_mgmt(struct mgmt_call *call)
{
    HRESULT hr;

    if (agent_endpoint_bind(&call->binding) != RPC_S_OK) return E_FAIL;
    hr = rpc_guarded_call(mgmt_thunk, NULL, 0, call, NULL);
    RpcBindingFree(&call->binding);
    return hr;
}

static HRESULT mgmt(int op, UINT32 id, BOOL enabled, UINT32 value)
{
    struct mgmt_call call = { .id = id, .value = value, .enabled = enabled, .op = op };

    return run_mgmt(&call);
}

HRESULT test_get_state(NAPAGENT_STATE *state)
{
    struct mgmt_call call = { .op = OP_STATE, .state = state };

    return run_mgmt(&call);
}

struct raw_call
{
    struct test_raw_session *session;
    UINT64 previous;
};

static HRESULT raw_open_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    struct raw_call *call = arg;
    struct test_raw_session *session = call->session;

    (void)agent; (void)cookie;
    return NapAgentOpenSession(session->binding, session->kind, session->id, GetCurrentProcessId(), call->previous,
                               &session->cookie, (NAPAGENT_SESSION_HANDLE *)&session->handle);
}

static HRESULT raw_end_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    struct test_raw_session *session = ((struct raw_call *)arg)->session;

    (void)agent; (void)cookie;
    return NapAgentEndSession(session->binding, session->cookie);
}

static HRESULT raw_close_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    struct test_raw_session *session = ((struct raw_call *)arg)->session;

    (void)agent; (void)cookie;
    return NapAgentCloseSession((NAPAGENT_SESSION_HANDLE *)&session->handle);
}

HRESULT test_raw_open(struct test_raw_session *session, UINT32 kind, UINT32 id)
{
    struct raw_call call = { session, 0 };

    memset(session, 0, sizeof(*session));
    session->kind = kind;
    session->id = id;
    if (agent_endpoint_bind((RPC_BINDING_HANDLE *)&session->binding) != RPC_S_OK) return E_FAIL;
    return rpc_guarded_call(raw_open_stub, NULL, 0, &call, NULL);
}

HRESULT test_raw_reopen(struct test_raw_session *session)
{
    struct raw_call call = { session, session->cookie };
    NAPAGENT_SESSION_HANDLE old = session->handle;
    HRESULT hr;

    session->handle = NULL;
    hr = rpc_guarded_call(raw_open_stub, NULL, 0, &call, NULL);
    if (old) RpcSsDestroyClientContext(&old);
    return hr;
}

HRESULT test_raw_end(struct test_raw_session *session)
{
    struct raw_call call = { session, 0 };

    return rpc_guarded_call(raw_end_stub, NULL, 0, &call, NULL);
}

HRESULT test_raw_close(struct test_raw_session *session)
{
    struct raw_call call = { session, 0 };
    HRESULT hr = S_OK;

    if (session->handle) hr = rpc_guarded_call(raw_close_stub, NULL, 0, &call, NULL);
    if (session->handle) RpcSsDestroyClientContext((NAPAGENT_SESSION_HANDLE *)&session->handle);
    if (session->binding) RpcBindingFree((RPC_BINDING_HANDLE *)&session->binding);
    return hr;
}

HRESULT test_query_connections(UINT32 id, UINT32 *count, GUID *first_id, UINT32 *first_max_size)
{
    struct mgmt_call call = { .op = OP_QUERY, .id = id };
    HRESULT hr = run_mgmt(&call);

    *count = call.count;
    if (SUCCEEDED(hr) && call.count)
    {
        *first_id = call.facts[0].connection_id;
        *first_max_size = call.facts[0].max_size;
    }
    MIDL_user_free(call.facts);
    return hr;
}

HRESULT test_register_ec(UINT32 id, BOOL enabled)
{
    HRESULT hr = mgmt(OP_REGISTER, id, FALSE, 0);

    if (FAILED(hr) && hr != (HRESULT)0x80270003 /* NAP_E_CONFLICTING_ID */) return hr;
    return mgmt(OP_ENABLE, id, enabled, 0);
}

HRESULT test_unregister_ec(UINT32 id)
{
    return mgmt(OP_UNREGISTER, id, FALSE, 0);
}

static HRESULT unregister_all(int list_op, HRESULT (*unregister)(UINT32 id))
{
    struct mgmt_call call = { .op = list_op };
    HRESULT hr = run_mgmt(&call);
    UINT32 i;

    for (i = 0; SUCCEEDED(hr) && i < call.count; i++)
    {
        hr = unregister(call.ecs[i].id);
        MIDL_user_free(call.ecs[i].friendly_name);
        MIDL_user_free(call.ecs[i].description);
        MIDL_user_free(call.ecs[i].version);
        MIDL_user_free(call.ecs[i].vendor_name);
    }
    MIDL_user_free(call.ecs);
    return hr;
}

HRESULT test_unregister_all_ecs(void)
{
    return unregister_all(OP_LIST, test_unregister_ec);
}

HRESULT test_unregister_all_shas(void)
{
    return unregister_all(OP_LIST_SHAS, test_unregister_sha);
}

HRESULT test_register_sha(UINT32 id)
{
    HRESULT hr = mgmt(OP_REGISTER_SHA, id, FALSE, 0);

    return hr == (HRESULT)0x80270003 /* NAP_E_CONFLICTING_ID */ ? S_OK : hr;
}

HRESULT test_unregister_sha(UINT32 id)
{
    return mgmt(OP_UNREGISTER_SHA, id, FALSE, 0);
}

HRESULT test_get_system_isolation(UINT32 *state, BOOL *unknown_connections)
{
    struct mgmt_call call = { .op = OP_ISOLATION };
    HRESULT hr = run_mgmt(&call);

    *state = call.isolation.state;
    *unknown_connections = call.isolation.unknown_connections;
    MIDL_user_free(call.isolation.failure_url);
    return hr;
}

HRESULT test_notify_soh_change(void)
{
    return mgmt(OP_NOTIFY, 0, FALSE, 0);
}

HRESULT test_set_retry_interval(UINT32 ms)
{
    return mgmt(OP_SETTING, NAPAGENT_SETTING_RETRY_INTERVAL_MS, FALSE, ms);
}

HRESULT test_set_setting(UINT32 setting, UINT32 value)
{
    return mgmt(OP_SETTING, setting, FALSE, value);
}

typedef LONG (WINAPI *process_fn)(HANDLE);

static BOOL call_ntdll(const char *name, HANDLE process)
{
    process_fn fn = (process_fn)(void *)GetProcAddress(GetModuleHandleW(L"ntdll.dll"), name);

    return fn && fn(process) == 0;
}

BOOL test_suspend_process(HANDLE process)
{
    return call_ntdll("NtSuspendProcess", process);
}

BOOL test_resume_process(HANDLE process)
{
    return call_ntdll("NtResumeProcess", process);
}
