/*
 * qagent.dll and qutil.dll unloaded by COM: no thread of theirs runs afterwards, and a new load works
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <stdio.h>
#include <stdlib.h>
#include "NapEnforcementClient.h"
#include "NapSystemHealthAgent.h"
#include "NapManagement.h"
#include "NapProtocol.h"
#include "NapUtil.h"
/* No library of the tests defines these GUIDs (the DLLs do). */
#include "NapSystemHealthAgent_i.c"
#include "NapManagement_i.c"
#include "NapProtocol_i.c"
#include "napagent_rpc.h"
#include "callback_sink.h"
#include "ec_exchange.h"

#define EC_ID  0x00013C00u
#define SHA_ID 0x00013C01u
/* How long a thread of qagent.dll (or qutil.dll) may outlive its last work:
 * an idle worker of those that make every call to the agent (agent_call.c's
 * WORKER_IDLE_MS).  The event pump and the session threads end as their
 * session does. */
#define WORKER_IDLE_MS   30000
/* How long a notifier thread of qutil.dll may outlive its Uninitialize: one
 * long poll in the agent. */
#define LONG_POLL_MS     5000
#define MARGIN_MS        3000
#define ROUND_TRIPS      31
/* The client call bound while the agent hangs. */
#define HUNG_CALL_TIMEOUT_MS 500
#define WAIT_MS          5000

static HANDLE agent;
/* When qutil.dll's notifier made its last call. */
static ULONGLONG qutil_last_work;
/* When qagent.dll last had work: every thread of it ends within
 * WORKER_IDLE_MS of this. */
static ULONGLONG qagent_last_work;
static HMODULE qagent_first_base;
static double baseline_us;

/* ---- A system health agent that answers what it is asked ---- */

struct unload_sha
{
    INapSystemHealthAgentCallback INapSystemHealthAgentCallback_iface;
    LONG refs;
    volatile LONG get_soh_count;
};

static inline struct unload_sha *impl_from_callback(INapSystemHealthAgentCallback *iface)
{
    return CONTAINING_RECORD(iface, struct unload_sha, INapSystemHealthAgentCallback_iface);
}

static HRESULT WINAPI sha_QueryInterface(INapSystemHealthAgentCallback *iface, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_INapSystemHealthAgentCallback))
    {
        *out = iface;
        INapSystemHealthAgentCallback_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI sha_AddRef(INapSystemHealthAgentCallback *iface)
{
    return InterlockedIncrement(&impl_from_callback(iface)->refs);
}

/* The object lives in the test's storage: Release only counts. */
static ULONG WINAPI sha_Release(INapSystemHealthAgentCallback *iface)
{
    return InterlockedDecrement(&impl_from_callback(iface)->refs);
}

static HRESULT WINAPI sha_GetSoHRequest(INapSystemHealthAgentCallback *iface, INapSystemHealthAgentRequest *request)
{
    (void)request;
    InterlockedIncrement(&impl_from_callback(iface)->get_soh_count);
    return S_OK;
}

static HRESULT WINAPI sha_ProcessSoHResponse(INapSystemHealthAgentCallback *iface,
                                             INapSystemHealthAgentRequest *request)
{
    (void)iface;
    (void)request;
    return S_OK;
}

static HRESULT WINAPI sha_NotifySystemIsolationStateChange(INapSystemHealthAgentCallback *iface)
{
    (void)iface;
    return S_OK;
}

static HRESULT WINAPI sha_GetFixupInfo(INapSystemHealthAgentCallback *iface, FixupInfo **info)
{
    (void)iface;
    *info = NULL;
    return E_FAIL;
}

static HRESULT WINAPI sha_CompareSoHRequests(INapSystemHealthAgentCallback *iface, const SoHRequest *lhs,
                                             const SoHRequest *rhs, BOOL *equal)
{
    (void)iface;
    *equal = lhs == rhs;
    return S_OK;
}

static HRESULT WINAPI sha_NotifyOrphanedSoHRequest(INapSystemHealthAgentCallback *iface, const CorrelationId *id)
{
    (void)iface;
    (void)id;
    return S_OK;
}

static const INapSystemHealthAgentCallbackVtbl sha_vtbl =
{
    sha_QueryInterface,
    sha_AddRef,
    sha_Release,
    sha_GetSoHRequest,
    sha_ProcessSoHResponse,
    sha_NotifySystemIsolationStateChange,
    sha_GetFixupInfo,
    sha_CompareSoHRequests,
    sha_NotifyOrphanedSoHRequest,
};

static BOOL sha_was_asked(void *arg)
{
    return ((struct unload_sha *)arg)->get_soh_count > 0;
}

static BOOL ec_was_notified(void *arg)
{
    return ((struct callback_sink *)arg)->notify_count > 0;
}

/* ---- What a host does with qagent.dll ---- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Median GetSoHRequest round trip, in microseconds. */
static double time_requests(INapEnforcementClientBinding *binding, INapEnforcementClientConnection *connection)
{
    double times[ROUND_TRIPS];
    LARGE_INTEGER frequency, start, end;
    BOOL retrigger;
    int i;

    QueryPerformanceFrequency(&frequency);
    for (i = 0; i < ROUND_TRIPS; i++)
    {
        QueryPerformanceCounter(&start);
        assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), S_OK);
        QueryPerformanceCounter(&end);
        times[i] = (double)(end.QuadPart - start.QuadPart) * 1e6 / (double)frequency.QuadPart;
    }
    qsort(times, ROUND_TRIPS, sizeof(times[0]), compare_doubles);
    return times[ROUND_TRIPS / 2];
}

static void free_counted(CountedString *string)
{
    CoTaskMemFree(string->string);
    CoTaskMemFree(string);
}

/* Every class of qagent.dll, so that every kind of thread it starts exists:
 * call workers, the event pump, both sessions' callback threads (each runs a
 * callback).  Everything is released at the end; returns the median round
 * trip of GetSoHRequest. */
static double use_qagent(void)
{
    INapEnforcementClientBinding *ec = NULL;
    INapSystemHealthAgentBinding *sha = NULL;
    INapClientManagement *management = NULL;
    INapEnforcementClientConnection *connection = NULL;
    CountedString *name, *description, *version;
    struct callback_sink sink;
    struct unload_sha sha_callback = { { &sha_vtbl }, 1, 0 };
    BOOL enabled;
    double median;
    GUID id;

    callback_sink_init(&sink);
    assert_int_equal(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&ec), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(ec, EC_ID, &sink.INapEnforcementClientCallback_iface),
                     S_OK);
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(ec, &connection), S_OK);
    CoCreateGuid(&id);
    assert_int_equal(INapEnforcementClientConnection_SetConnectionId(connection, &id), S_OK);
    assert_int_equal(CoCreateInstance(&CLSID_NapSystemHealthAgentBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapSystemHealthAgentBinding, (void **)&sha), S_OK);
    assert_int_equal(INapSystemHealthAgentBinding_Initialize(sha, SHA_ID, &sha_callback.INapSystemHealthAgentCallback_iface),
                     S_OK);
    assert_int_equal(CoCreateInstance(&CLSID_NapClientManagement, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapClientManagement, (void **)&management), S_OK);

    assert_int_equal(ec_exchange(ec, connection), S_OK);
    median = time_requests(ec, connection);
    assert_int_equal(INapClientManagement_GetNapClientInfo(management, &enabled, &name, &description, &version), S_OK);
    free_counted(name);
    free_counted(description);
    free_counted(version);
    /* Each session's thread runs a callback: the SHA's at bind, the EC's on request. */
    assert_true(test_wait_for(sha_was_asked, &sha_callback, WAIT_MS));
    assert_int_equal(test_notify_soh_change(), S_OK);
    assert_true(test_wait_for(ec_was_notified, &sink, WAIT_MS));

    assert_int_equal(INapEnforcementClientConnection_Release(connection), 0);
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(ec), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Release(ec), 0);
    assert_int_equal(INapSystemHealthAgentBinding_Uninitialize(sha), S_OK);
    assert_int_equal(INapSystemHealthAgentBinding_Release(sha), 0);
    assert_int_equal(INapClientManagement_Release(management), 0);
    /* Both callbacks were let go. */
    assert_int_equal(callback_sink_refs(&sink), 1);
    assert_int_equal(sha_callback.refs, 1);
    qagent_last_work = GetTickCount64();
    return median;
}

/* What the DLL itself says: S_OK once the host released everything. */
static HRESULT can_unload_now(const WCHAR *dll)
{
    HMODULE module = GetModuleHandleW(dll);
    HRESULT (WINAPI *can_unload)(void);

    if (!module || !(can_unload = (void *)GetProcAddress(module, "DllCanUnloadNow"))) return E_FAIL;
    return can_unload();
}

/* TRUE once `dll` is no longer loaded, polling until timeout_ms passed. */
static BOOL module_gone(const WCHAR *dll, DWORD timeout_ms)
{
    ULONGLONG deadline = GetTickCount64() + timeout_ms;

    while (GetModuleHandleW(dll))
    {
        if (GetTickCount64() >= deadline) return FALSE;
        Sleep(20);
    }
    return TRUE;
}

/* Whether the DLL went at once: it stays while a thread of it runs. */
static void report_unload(BOOL gone)
{
    printf("qagent.dll %s\n", gone ? "unloaded at once" : "still loaded: a thread of it runs");
}

/* Calls after a new CoCreateInstance run at the speed they ran before. */
static void check_speed(double before_us, double after_us)
{
    printf("GetSoHRequest median: %.0f us before, %.0f us after\n", before_us, after_us);
    assert_true(after_us <= 3 * before_us + 2000);
}

/* ---- The tests ---- */

/* CoFreeUnusedLibrariesEx(0, 0) frees the DLL at once (Wine's combase and
 * Windows: a zero delay unloads without waiting); the host creates its
 * objects again right away. */
static void test_create_again_after_free_unused(void **state)
{
    double after;

    (void)state;
    baseline_us = use_qagent();
    assert_int_equal(can_unload_now(L"qagent.dll"), S_OK);
    CoFreeUnusedLibrariesEx(0, 0);
    /* Time for a DLL nothing holds to go, so that the next CoCreateInstance
     * loads it anew (at the same base): before the fix the old workers then
     * woke inside the new copy and corrupted its pool. */
    report_unload(module_gone(L"qagent.dll", 500));
    after = use_qagent();
    check_speed(baseline_us, after);
}

/* The host's last CoUninitialize ends the apartment, which frees the DLLs
 * that can unload; it initialises COM again and goes on (the previous test
 * left every object released). */
static void test_create_again_after_last_couninitialize(void **state)
{
    (void)state;
    assert_int_equal(can_unload_now(L"qagent.dll"), S_OK);
    CoUninitialize();
    report_unload(module_gone(L"qagent.dll", 500));
    assert_int_equal(CoInitializeEx(NULL, COINIT_MULTITHREADED), S_OK);
    check_speed(baseline_us, use_qagent());
}

/* qutil.dll loaded by the host with LoadLibrary and by COM: its notifier
 * threads and its SoH constructor, then both references dropped. */
static void test_qutil_unloaded(void **state)
{
    __typeof__(InitializeNapAgentNotifier) *initialize_notifier;
    __typeof__(UninitializeNapAgentNotifier) *uninitialize_notifier;
    __typeof__(FreeSoH) *free_soh;
    INapSoHConstructor *constructor = NULL;
    HANDLE service_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    HANDLE quar_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    WCHAR path[MAX_PATH];
    HMODULE module;
    SoH *soh = NULL;

    (void)state;
    test_bin_path(L"qutil.dll", path, MAX_PATH);
    assert_non_null(module = LoadLibraryW(path));
    assert_non_null(initialize_notifier = (void *)GetProcAddress(module, "InitializeNapAgentNotifier"));
    assert_non_null(uninitialize_notifier = (void *)GetProcAddress(module, "UninitializeNapAgentNotifier"));
    assert_non_null(free_soh = (void *)GetProcAddress(module, "FreeSoH"));
    assert_int_equal(initialize_notifier(napNotifyTypeServiceState, service_event), S_OK);
    assert_int_equal(initialize_notifier(napNotifyTypeQuarState, quar_event), S_OK);

    assert_int_equal(CoCreateInstance(&CLSID_NapSoHConstructor, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapSoHConstructor, (void **)&constructor), S_OK);
    assert_int_equal(INapSoHConstructor_Initialize(constructor, SHA_ID, TRUE), S_OK);
    assert_int_equal(INapSoHConstructor_GetSoH(constructor, &soh), S_OK);
    free_soh(soh);
    /* The quarantine watcher is in its long poll in the agent by now. */
    Sleep(500);
    uninitialize_notifier(napNotifyTypeServiceState);
    uninitialize_notifier(napNotifyTypeQuarState);
    assert_int_equal(INapSoHConstructor_Release(constructor), 0);
    assert_int_equal(can_unload_now(L"qutil.dll"), S_OK);
    CoFreeUnusedLibrariesEx(0, 0);
    FreeLibrary(module);
    CloseHandle(service_event);
    CloseHandle(quar_event);
    /* Gone once the watcher's poll returns and the worker that made it has
     * idled out (qutil.dll calls the agent as qagent.dll does, agent_call.c):
     * test_unloaded_once_every_thread_left checks it. */
    qutil_last_work = GetTickCount64() + LONG_POLL_MS;
}

/* Calls stuck in a hung agent when the DLL is freed: the ping that opens the
 * agent's endpoint (agent_binding.c's prime thread: this is qagent.dll's
 * first call) and the call's worker both return into the DLL once the agent
 * runs again. */
static void test_unload_while_calls_hang(void **state)
{
    INapClientManagement *management = NULL;
    CountedString *name = NULL, *description = NULL, *version = NULL;
    BOOL enabled;

    (void)state;
    assert_null(GetModuleHandleW(L"qagent.dll"));
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, HUNG_CALL_TIMEOUT_MS), S_OK);
    assert_true(test_suspend_process(agent));
    assert_int_equal(CoCreateInstance(&CLSID_NapClientManagement, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapClientManagement, (void **)&management), S_OK);
    assert_non_null(qagent_first_base = GetModuleHandleW(L"qagent.dll"));
    assert_int_equal(INapClientManagement_GetNapClientInfo(management, &enabled, &name, &description, &version),
                     RPC_E_TIMEOUT);
    assert_int_equal(INapClientManagement_Release(management), 0);
    assert_int_equal(can_unload_now(L"qagent.dll"), S_OK);
    CoFreeUnusedLibrariesEx(0, 0);
    report_unload(module_gone(L"qagent.dll", 500));
    assert_true(test_resume_process(agent));
    qagent_last_work = GetTickCount64();
    assert_int_equal(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, 5000), S_OK);
}

/* Past every idle timeout of the DLL the process still runs (a thread that
 * woke in unloaded code would have killed it), and qagent.dll is gone: its
 * last thread left, and took the last reference with it. */
static void test_unloaded_once_every_thread_left(void **state)
{
    ULONGLONG idle_end = qagent_last_work + WORKER_IDLE_MS + 1000, now = GetTickCount64();

    (void)state;
    assert_true(module_gone(L"qagent.dll", (DWORD)(idle_end + MARGIN_MS - now)));
    now = GetTickCount64();
    if (now < idle_end) Sleep((DWORD)(idle_end - now));
    assert_null(GetModuleHandleW(L"qagent.dll"));
    /* qutil.dll's last call ended before qagent.dll's last work. */
    idle_end = qutil_last_work + WORKER_IDLE_MS + 1000;
    now = GetTickCount64();
    assert_true(module_gone(L"qutil.dll", idle_end + MARGIN_MS > now ? (DWORD)(idle_end + MARGIN_MS - now) : 0));
}

/* A fresh load after the real unload works at the speed of the first. */
static void test_create_again_after_unload(void **state)
{
    (void)state;
    assert_null(GetModuleHandleW(L"qagent.dll"));
    check_speed(baseline_us, use_qagent());
    printf("qagent.dll loaded again at %s base\n",
           GetModuleHandleW(L"qagent.dll") == qagent_first_base ? "the same" : "another");
}

static int setup(void **state)
{
    (void)state;
    if (test_register_qagent() != 0) return -1;
    if (test_regsvr32_dll(L"qutil.dll", L"/s") != 0) return -1;
    if (!(agent = test_start_agent())) return -1;
    if (FAILED(test_register_ec(EC_ID, TRUE))) return -1;
    if (FAILED(test_register_sha(SHA_ID))) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_resume_process(agent);
    test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, 5000);
    test_kill_agent(agent);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        /* qagent.dll's work first, then qutil.dll's while qagent's idle
         * workers wait out their timeout. */
        cmocka_unit_test(test_unload_while_calls_hang),
        cmocka_unit_test(test_create_again_after_free_unused),
        cmocka_unit_test(test_create_again_after_last_couninitialize),
        cmocka_unit_test(test_qutil_unloaded),
        cmocka_unit_test(test_unloaded_once_every_thread_left),
        cmocka_unit_test(test_create_again_after_unload),
    };
    int failures;

    test_install_crash_handler();
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    failures = cmocka_run_group_tests(tests, setup, teardown);
    CoUninitialize();
    return failures;
}
