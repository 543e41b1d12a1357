/*
 * Debug channels as a Wine user turns them on: WINEDEBUG=+qagent,+qutil shows the DLLs' calls, -all shows none
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
#include "callback_sink.h"
/* Only NapProtocol's GUIDs are defined here: napclient has the others. */
#include <initguid.h>
#include "NapProtocol.h"
#include "NapUtil.h"

/*
 * The suite runs this program again (--child) as a Wine user would:
 * `WINEDEBUG=... wine test_trace.exe --child 2>log`.  Wine writes debug
 * output to the Unix stderr of the process, which a Windows parent cannot
 * redirect (CreateProcess hands a child only its stdin and stdout as Unix
 * descriptors), so the child is started through /bin/sh, a Unix program
 * Wine's CreateProcess runs as such, with the shell's own redirection.  The
 * shell moves the log into place once the child has ended: its appearance
 * says the child is done.
 */

#define EC_ID 0x000137F1u
#define CHILD_TIMEOUT_S 60
#define DONE_LINE "trace-child: done"

static HANDLE agent;

/* ---- the child: real calls into qagent.dll and qutil.dll ---- */

/* Every line is checked: a call that fails makes the child fail. */
static int child_check(HRESULT hr, const char *what)
{
    if (SUCCEEDED(hr)) return 1;
    printf("trace-child: %s failed: 0x%08lx\n", what, hr);
    return 0;
}

static int child_qutil(void)
{
    __typeof__(AllocCountedString) *alloc_counted_string;
    __typeof__(FreeCountedString) *free_counted_string;
    INapSoHConstructor *constructor;
    CountedString *string = NULL;
    WCHAR path[MAX_PATH];
    HMODULE qutil;
    SoH *soh = NULL;
    int ok;

    test_bin_path(L"qutil.dll", path, MAX_PATH);
    if (!(qutil = LoadLibraryW(path))) return child_check(HRESULT_FROM_WIN32(GetLastError()), "LoadLibrary");
    alloc_counted_string = (void *)GetProcAddress(qutil, "AllocCountedString");
    free_counted_string = (void *)GetProcAddress(qutil, "FreeCountedString");
    ok = alloc_counted_string && free_counted_string
         && child_check(alloc_counted_string(&string, L"traced"), "AllocCountedString");
    if (ok) free_counted_string(string);
    ok = ok && child_check(CoCreateInstance(&CLSID_NapSoHConstructor, NULL, CLSCTX_INPROC_SERVER,
                                            &IID_INapSoHConstructor, (void **)&constructor), "NapSoHConstructor");
    if (!ok) return 0;
    ok = child_check(INapSoHConstructor_Initialize(constructor, 0x137F0, TRUE), "constructor Initialize")
         && child_check(INapSoHConstructor_GetSoH(constructor, &soh), "GetSoH");
    if (soh) ((__typeof__(FreeSoH) *)(void *)GetProcAddress(qutil, "FreeSoH"))(soh);
    INapSoHConstructor_Release(constructor);
    return ok;
}

/* An exchange's first half, the connection read back, and an interface the
 * binding does not have (a WARN). */
static int child_binding(INapEnforcementClientBinding *binding, struct callback_sink *sink)
{
    INapEnforcementClientConnection *connection = NULL;
    NetworkSoHRequest *request = NULL;
    ProtocolMaxSize max_size = 0;
    IUnknown *unknown = NULL;
    BOOL retrigger;
    GUID id;
    int ok;

    if (INapEnforcementClientBinding_QueryInterface(binding, &IID_IDispatch, (void **)&unknown) != E_NOINTERFACE)
        return child_check(E_FAIL, "QueryInterface(IDispatch)");
    if (!child_check(INapEnforcementClientBinding_Initialize(binding, EC_ID,
                     &sink->INapEnforcementClientCallback_iface), "Initialize"))
        return 0;
    ok = child_check(INapEnforcementClientBinding_CreateConnection(binding, &connection), "CreateConnection")
         && child_check(CoCreateGuid(&id), "CoCreateGuid")
         && child_check(INapEnforcementClientConnection_SetConnectionId(connection, &id), "SetConnectionId")
         && child_check(INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger), "GetSoHRequest")
         && child_check(INapEnforcementClientConnection_GetMaxSize(connection, &max_size), "GetMaxSize")
         && child_check(INapEnforcementClientConnection_GetSoHRequest(connection, &request), "connection GetSoHRequest");
    if (request) CoTaskMemFree(request->data);
    CoTaskMemFree(request);
    if (connection)
    {
        ok = child_check(INapEnforcementClientBinding_NotifyConnectionStateDown(binding, connection),
                         "NotifyConnectionStateDown") && ok;
        INapEnforcementClientConnection_Release(connection);
    }
    return child_check(INapEnforcementClientBinding_Uninitialize(binding), "Uninitialize") && ok;
}

static int run_child(void)
{
    INapEnforcementClientBinding *binding;
    struct callback_sink sink;
    int ok;

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    callback_sink_init(&sink);
    ok = child_check(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&binding), "CoCreateInstance");
    if (ok)
    {
        ok = child_binding(binding, &sink);
        INapEnforcementClientBinding_Release(binding);
    }
    ok = child_qutil() && ok;
    CoUninitialize();
    if (ok) printf(DONE_LINE "\n");
    fflush(stdout);
    return ok ? 0 : 1;
}

/* ---- the suite ---- */

/* The Unix path of a file beside this program, in a malloc'd buffer (Wine's
 * kernel32 export). */
static char *unix_path(const WCHAR *file)
{
    char *(CDECL *get_unix_name)(const WCHAR *) =
        (void *)GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "wine_get_unix_file_name");
    WCHAR path[MAX_PATH];
    char *name, *copy;

    assert_non_null(get_unix_name);
    test_bin_path(file, path, MAX_PATH);
    assert_non_null(name = get_unix_name(path));
    copy = _strdup(name);
    HeapFree(GetProcessHeap(), 0, name);
    return copy;
}

/* Runs the child with WINEDEBUG=debug; its stdout and stderr, as text. */
static char *run_traced_child(const char *debug)
{
    char *self = unix_path(L"test_trace.exe"), *log = unix_path(L"test_trace-child.log"), *text;
    char command[4 * MAX_PATH];
    WCHAR wide[4 * MAX_PATH], log_path[MAX_PATH];
    STARTUPINFOW si = { .cb = sizeof(si) };
    PROCESS_INFORMATION pi = { 0 };
    HANDLE file;
    DWORD size, read, start;

    test_bin_path(L"test_trace-child.log", log_path, MAX_PATH);
    DeleteFileW(log_path);
    snprintf(command, sizeof(command),
             "/bin/sh -c \"WINEDEBUG='%s' timeout %u wine '%s' --child >'%s.tmp' 2>&1; mv -f '%s.tmp' '%s'\"",
             debug, CHILD_TIMEOUT_S, self, log, log, log);
    MultiByteToWideChar(CP_UTF8, 0, command, -1, wide, ARRAYSIZE(wide));
    assert_true(CreateProcessW(NULL, wide, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi));
    if (pi.hThread) CloseHandle(pi.hThread);
    if (pi.hProcess) CloseHandle(pi.hProcess);
    /* A Unix child has no process handle to wait for: the log's arrival says it ended. */
    start = GetTickCount();
    while ((file = CreateFileW(log_path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                               OPEN_EXISTING, 0, NULL)) == INVALID_HANDLE_VALUE)
    {
        if (GetTickCount() - start > (CHILD_TIMEOUT_S + 10) * 1000) fail_msg("no child log after %u s", CHILD_TIMEOUT_S);
        Sleep(50);
    }
    size = GetFileSize(file, NULL);
    assert_non_null(text = malloc(size + 1));
    assert_true(ReadFile(file, text, size, &read, NULL));
    CloseHandle(file);
    text[read] = 0;
    print_message("WINEDEBUG=%s: %lu bytes of output in %lu ms\n", debug, read, GetTickCount() - start);
    free(self);
    free(log);
    return text;
}

/* How many lines of the text hold `what`. */
static unsigned int count_lines(const char *text, const char *what)
{
    unsigned int count = 0;
    const char *found;

    for (found = strstr(text, what); found; found = strstr(found + 1, what)) count++;
    return count;
}

static void assert_has(const char *text, const char *what)
{
    if (!strstr(text, what)) fail_msg("no \"%s\" in the child's output:\n%s", what, text);
}

static void assert_lacks(const char *text, const char *what)
{
    const char *found = strstr(text, what);

    if (found) fail_msg("\"%s\" in the child's output: %.120s", what, found);
}

/* Each traced call is a line in Wine's format, "<tid>:trace:<channel>:<function> <arguments>". */
static void test_trace_on(void **state)
{
    char *text = run_traced_child("+qagent,+qutil");

    (void)state;
    assert_has(text, DONE_LINE);
    assert_has(text, ":trace:qagent:DllGetClassObject {");
    assert_has(text, ":trace:qagent:factory_CreateInstance ");
    assert_has(text, ":trace:qagent:binding_Initialize ");
    assert_has(text, ":trace:qagent:binding_GetSoHRequest ");
    assert_has(text, ":trace:qagent:connection_SetConnectionId ");
    assert_has(text, ":trace:qagent:connection_GetMaxSize ");
    assert_has(text, ":trace:qagent:connection_GetSoHRequest ");
    assert_has(text, ":warn:qagent:binding_QueryInterface {00020400-0000-0000-c000-000000000046} not implemented");
    assert_has(text, ":trace:qutil:AllocCountedString ");
    assert_has(text, "L\"traced\"");
    assert_has(text, ":trace:qutil:FreeCountedString ");
    /* The class factory both DLLs share traces on each one's channel. */
    assert_has(text, ":trace:qutil:factory_CreateInstance ");
    assert_has(text, ":trace:qutil:constructor_Initialize ");
    assert_has(text, ":trace:qutil:FreeSoH ");
    print_message("%u qagent and %u qutil trace lines\n", count_lines(text, ":trace:qagent:"),
                  count_lines(text, ":trace:qutil:"));
    free(text);
}

/* WINEDEBUG=-all: not a line of ours, the same calls made. */
static void test_trace_off(void **state)
{
    char *text = run_traced_child("-all");

    (void)state;
    assert_has(text, DONE_LINE);
    assert_lacks(text, ":qagent:");
    assert_lacks(text, ":qutil:");
    free(text);
}

/* One class of one channel: warn+qagent shows the WARN, no TRACE, nothing of qutil. */
static void test_warn_only(void **state)
{
    char *text = run_traced_child("-all,warn+qagent");

    (void)state;
    assert_has(text, DONE_LINE);
    assert_has(text, ":warn:qagent:binding_QueryInterface ");
    assert_lacks(text, ":trace:qagent:");
    assert_lacks(text, ":qutil:");
    free(text);
}

static int setup(void **state)
{
    (void)state;
    if (test_register_qagent() != 0 || test_regsvr32_dll(L"qutil.dll", L"/s") != 0) return -1;
    if (!(agent = test_start_agent())) return -1;
    if (FAILED(test_register_ec(EC_ID, TRUE))) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_unregister_ec(EC_ID);
    test_kill_agent(agent);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_trace_on),
        cmocka_unit_test(test_trace_off),
        cmocka_unit_test(test_warn_only),
    };

    if (argc > 1 && !strcmp(argv[1], "--child")) return run_child();
    test_install_crash_handler();
    return cmocka_run_group_tests(tests, setup, teardown);
}
