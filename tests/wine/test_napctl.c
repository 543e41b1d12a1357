/*
 * napctl: what an operator reads for requests, responses and bad input, and how it reaches the agent
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include "soh_attr.h"
#include "napagent_rpc.h"
#include "agent_settings.h"
#include "service_control.h"

#define RUN_TIMEOUT_MS 30000
/* napctl's exit statuses. */
#define EXIT_USAGE 2
#define EXIT_NO_AGENT 3
#define EC_ID 0x00013D00u
/* A service start measured here takes well under a second; napctl waits up to 15 s. */
#define SERVICE_RUNNING_MS 5000
/* The client call timeout the hung-agent test sets, and what napctl may add
 * to it: starting under Wine, printing, exiting. */
#define HUNG_CALL_TIMEOUT_MS 300
#define NAPCTL_OVERHEAD_MS 3000
#define OUTPUT_SIZE 65536
#define CMDLINE_SIZE 16384

/* The worked example (docs/nap-facts.md, Wire layout): a request for SHA 0x000137F0 with ComplianceResultCodes S_OK. */
static const uint8_t example[152] =
{
    0x00, 0x07, 0x00, 0x94, 0x00, 0x00, 0x01, 0x37, 0x00, 0x02, 0x00, 0x8c, 0x00, 0x07, 0x00, 0x1e,
    0x00, 0x00, 0x01, 0x37, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
    0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x01, 0x00, 0x00, 0x02,
    0x00, 0x04, 0x00, 0x01, 0x37, 0x00, 0x00, 0x07, 0x00, 0x4e, 0x00, 0x00, 0x01, 0x37, 0x03, 0x11,
    0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x1d, 0xb1, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x09, 0x05, 0x00, 0x05, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x06, 0x10, 0x11, 0x12, 0x13,
    0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
    0x24, 0x25, 0x26, 0x27, 0x02, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00,
    0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x37, 0xf0,
    0x00, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
};

/* What one run of napctl printed (stdout and stderr together) and returned. */
struct run
{
    int code;
    char output[OUTPUT_SIZE];
};

static HANDLE create_output_file(WCHAR *path)
{
    SECURITY_ATTRIBUTES sa = { .nLength = sizeof(sa), .bInheritHandle = TRUE };
    WCHAR dir[MAX_PATH];

    if (!GetTempPathW(MAX_PATH, dir) || !GetTempFileNameW(dir, L"nap", 0, path)) return INVALID_HANDLE_VALUE;
    return CreateFileW(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                       CREATE_ALWAYS, FILE_ATTRIBUTE_TEMPORARY, NULL);
}

/* The child shares our file object, and so its file position: rewind first. */
static void read_output(HANDLE file, struct run *run)
{
    DWORD got = 0;

    SetFilePointer(file, 0, NULL, FILE_BEGIN);
    if (!ReadFile(file, run->output, OUTPUT_SIZE - 1, &got, NULL)) got = 0;
    run->output[got] = 0;
}

/* test_run_program without the redirection: napctl's output goes to an
 * inheritable temp file handle, read back once napctl has ended. */
static void run_napctl(const WCHAR *args, struct run *run)
{
    static WCHAR cmdline[CMDLINE_SIZE];
    STARTUPINFOW si = { .cb = sizeof(si), .dwFlags = STARTF_USESTDHANDLES };
    PROCESS_INFORMATION pi;
    WCHAR exe[MAX_PATH], out_path[MAX_PATH];
    DWORD code = (DWORD)-1;
    HANDLE file;

    run->code = -1;
    run->output[0] = 0;
    test_bin_path(L"napctl.exe", exe, MAX_PATH);
    swprintf(cmdline, CMDLINE_SIZE, L"\"%ls\" %ls", exe, args);
    file = create_output_file(out_path);
    assert_true(file != INVALID_HANDLE_VALUE);
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = file;
    si.hStdError = file;
    assert_true(CreateProcessW(exe, cmdline, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi));
    CloseHandle(pi.hThread);
    if (WaitForSingleObject(pi.hProcess, RUN_TIMEOUT_MS) == WAIT_OBJECT_0)
        GetExitCodeProcess(pi.hProcess, &code);
    else
        TerminateProcess(pi.hProcess, 1);
    CloseHandle(pi.hProcess);
    run->code = (int)code;
    read_output(file, run);
    CloseHandle(file);
    DeleteFileW(out_path);
}

static void append_hex(WCHAR *text, size_t cap, const uint8_t *data, size_t len)
{
    size_t used = wcslen(text), i;

    for (i = 0; i < len && used + 2 < cap; i++, used += 2) swprintf(text + used, 3, L"%02x", data[i]);
}

static void decode_bytes(const uint8_t *data, size_t len, struct run *run)
{
    static WCHAR args[CMDLINE_SIZE];

    wcscpy(args, L"decode ");
    append_hex(args, CMDLINE_SIZE, data, len);
    run_napctl(args, run);
}

/* strstr with the whole output in the failure message. */
static void check_output(const struct run *run, const char *text)
{
    if (strstr(run->output, text)) return;
    print_error("\"%s\" is not in napctl's output:\n%s\n", text, run->output);
    fail();
}

static void test_decode_example_request(void **state)
{
    static struct run run;

    (void)state;
    decode_bytes(example, sizeof(example), &run);
    assert_int_equal(run.code, 0);
    check_output(&run, "SoH request");
    check_output(&run, "\"host\"");
    check_output(&run, "{10111213-1415-1617-1819-1a1b1c1d1e1f}-2021222324252627");
    check_output(&run, "SHV 0x000137f0");
    check_output(&run, "valid as a request entry");
    check_output(&run, "ComplianceResultCodes");
    check_output(&run, "0x00000000 S_OK");
}

/* A file of hex text works like the hex on the command line. */
static void test_decode_file(void **state)
{
    static struct run run;
    static WCHAR args[MAX_PATH + 16];
    WCHAR dir[MAX_PATH], path[MAX_PATH];
    FILE *file;
    size_t i;

    (void)state;
    assert_true(GetTempPathW(MAX_PATH, dir) && GetTempFileNameW(dir, L"nap", 0, path));
    assert_non_null(file = _wfopen(path, L"w"));
    for (i = 0; i < sizeof(example); i++) fprintf(file, "%02x%s", example[i], i % 16 == 15 ? "\n" : " ");
    fclose(file);
    swprintf(args, ARRAYSIZE(args), L"decode @%ls", path);
    run_napctl(args, &run);
    DeleteFileW(path);
    assert_int_equal(run.code, 0);
    check_output(&run, "SHV 0x000137f0");
}

static size_t add_attr(uint8_t *out, size_t cap, const struct soh_attr_value *value)
{
    size_t len = 0;

    assert_int_equal(soh_attr_encode(value, out, cap, &len), SOH_OK);
    return len;
}

/* 2024-01-02 03:04:05 UTC as a FILETIME. */
static uint64_t example_filetime(void)
{
    SYSTEMTIME st = { .wYear = 2024, .wMonth = 1, .wDay = 2, .wHour = 3, .wMinute = 4, .wSecond = 5 };
    FILETIME ft;

    assert_true(SystemTimeToFileTime(&st, &ft));
    return ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
}

/* One entry for the Windows SHV: fix-up servers of both families, the time
 * of the last update and a FailureCategory. */
static size_t build_response_entry(uint8_t *tlvs, size_t cap)
{
    static const uint8_t ipv4[] = { 10, 1, 2, 3 };
    static const uint8_t ipv6[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53 };
    struct soh_attr_value id = { .type = SOH_ATTR_SYSTEM_HEALTH_ID, .id = 0x00013780 };
    struct soh_attr_value v4 = { .type = SOH_ATTR_IPV4_FIXUP_SERVERS, .count = 1, .data = ipv4 };
    struct soh_attr_value v6 = { .type = SOH_ATTR_IPV6_FIXUP_SERVERS, .count = 1, .data = ipv6 };
    struct soh_attr_value time = { .type = SOH_ATTR_TIME_OF_LAST_UPDATE, .datetime = example_filetime() };
    struct soh_attr_value category = { .type = SOH_ATTR_FAILURE_CATEGORY, .uint8 = 4 };
    size_t len = 0;

    len += add_attr(tlvs + len, cap - len, &id);
    len += add_attr(tlvs + len, cap - len, &v4);
    len += add_attr(tlvs + len, cap - len, &v6);
    len += add_attr(tlvs + len, cap - len, &time);
    len += add_attr(tlvs + len, cap - len, &category);
    return len;
}

static void test_decode_response_entry(void **state)
{
    static struct soh_response resp;
    static uint8_t tlvs[256], message[SOH_MAX_NETWORK_SIZE];
    static struct run run;
    size_t tlvs_len, len;

    (void)state;
    tlvs_len = build_response_entry(tlvs, sizeof(tlvs));
    memset(&resp, 0, sizeof(resp));
    resp.has_correlation = 1;
    resp.quarantine.state = 3;
    resp.quarantine.fixup = 1;
    resp.quarantine.prob_time = SOH_PROB_TIME_NONE;
    assert_int_equal(soh_split_entries(tlvs, tlvs_len, resp.entries, &resp.entry_count), SOH_OK);
    assert_int_equal(soh_encode_response(&resp, message, sizeof(message), &len), SOH_OK);

    decode_bytes(message, len, &run);
    assert_int_equal(run.code, 0);
    check_output(&run, "SoH response");
    check_output(&run, "SHV 0x00013780 (79744) Windows Security Health Agent");
    check_output(&run, "valid as a response entry");
    check_output(&run, "10.1.2.3");
    check_output(&run, "2001:db8::53");
    check_output(&run, "TimeOfLastUpdate, 8 bytes: 2024-01-02 03:04:05 UTC");
    check_output(&run, "FailureCategory, 1 byte: 4 (server component)");
}

static void test_decode_truncated(void **state)
{
    static struct run run;

    (void)state;
    decode_bytes(example, 100, &run);
    assert_int_equal(run.code, 1);
    check_output(&run, "cannot decode 100 bytes");
    check_output(&run, soh_status_string(SOH_ERR_BAD_OUTER_LENGTH));
}

static void test_decode_usage_errors(void **state)
{
    static const WCHAR * const bad[] =
    {
        L"decode",            /* nothing to decode */
        L"decode 00 zz",      /* not hex */
        L"decode 000",        /* odd number of digits */
        L"decode @a b",       /* @file and more */
        L"frobnicate",        /* no such command */
    };
    static struct run run;
    size_t i;

    (void)state;
    for (i = 0; i < ARRAYSIZE(bad); i++)
    {
        run_napctl(bad[i], &run);
        if (run.code != 2) print_error("napctl %ls\n", bad[i]);
        assert_int_equal(run.code, 2);
        check_output(&run, "usage: napctl");
    }
}

/* ---- reaching the agent ---- */

/* No agent runs in this program but the ones these tests start: the service
 * is installed, stopped. */
static int setup_service(void **state)
{
    (void)state;
    return test_service_install() ? 0 : -1;
}

static int setup_no_service(void **state)
{
    (void)state;
    return test_service_uninstall() ? 0 : -1;
}

/* Runs whether the test passed or not: nothing of ours stays installed. */
static int teardown_service(void **state)
{
    (void)state;
    return test_service_uninstall() ? 0 : -1;
}

/* Each verb that needs the agent starts the stopped service; what it did
 * outlives the service's stop. */
static void test_verbs_start_the_service(void **state)
{
    static struct run run;

    (void)state;
    run_napctl(L"register 0x13D00 --name \"napctl on demand\"", &run);
    assert_int_equal(run.code, 0);
    check_output(&run, "registered enforcement client 81152 (0x00013d00)");
    assert_true(test_service_wait_state(SERVICE_RUNNING, SERVICE_RUNNING_MS));
    assert_true(test_service_stop());

    run_napctl(L"list", &run);
    assert_int_equal(run.code, 0);
    check_output(&run, "0x00013d00");
    check_output(&run, "napctl on demand");
    assert_true(test_service_wait_state(SERVICE_RUNNING, SERVICE_RUNNING_MS));
    assert_true(test_service_stop());
}

/* decode (and a usage error) need no agent: they leave the service stopped. */
static void test_decode_does_not_start_the_service(void **state)
{
    static struct run run;

    (void)state;
    decode_bytes(example, sizeof(example), &run);
    assert_int_equal(run.code, 0);
    run_napctl(L"register", &run);
    assert_int_equal(run.code, EXIT_USAGE);
    assert_int_equal(test_service_state(), SERVICE_STOPPED);
}

/* No agent and no service to start: a message that says so, and status 3. */
static void test_not_installed(void **state)
{
    static struct run run;

    (void)state;
    run_napctl(L"list", &run);
    assert_int_equal(run.code, EXIT_NO_AGENT);
    check_output(&run, "napctl: list: the NapAgent is not running and the napagent service is not installed");
    run_napctl(L"register 0x13D00", &run);
    assert_int_equal(run.code, EXIT_NO_AGENT);
    check_output(&run, "napctl: register: the NapAgent is not running");
}

/* Runs napctl: its exit status and a line of its output. */
static void check_napctl(const WCHAR *args, int code, const char *text)
{
    static struct run run;

    run_napctl(args, &run);
    assert_int_equal(run.code, code);
    check_output(&run, text);
}

static DWORD log_level_value(void)
{
    DWORD level = 0, size = sizeof(level);

    assert_int_equal(RegGetValueW(HKEY_LOCAL_MACHINE, AGENT_PARAMETERS_KEY, L"LogLevel", RRF_RT_REG_DWORD, NULL,
                                  &level, &size), ERROR_SUCCESS);
    return level;
}

/* set log-level: by name or number, refused past trace; the agent writes
 * Parameters\LogLevel, which its log reads (test_management: test_log_level). */
static void test_set_log_level(void **state)
{
    HANDLE agent = test_start_agent();

    (void)state;
    assert_non_null(agent);
    check_napctl(L"set log-level trace", 0, "log-level set to trace");
    assert_int_equal(log_level_value(), 4);
    check_napctl(L"set log-level 2", 0, "log-level set to warning");
    assert_int_equal(log_level_value(), 2);
    check_napctl(L"set log-level verbose", EXIT_USAGE, "napctl: set: bad level");
    check_napctl(L"set log-level 5", EXIT_USAGE, "napctl: set: log-level is error, warning, info or trace");
    check_napctl(L"set log-level info", 0, "log-level set to info");
    assert_int_equal(log_level_value(), 3);
    test_kill_agent(agent);
}

static HANDLE hung_agent;

static int setup_hung_agent(void **state)
{
    (void)state;
    if (!test_service_uninstall() || !(hung_agent = test_start_agent())) return -1;
    if (FAILED(test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, HUNG_CALL_TIMEOUT_MS))) return -1;
    return 0;
}

static int teardown_hung_agent(void **state)
{
    HRESULT hr;

    (void)state;
    test_resume_process(hung_agent);
    hr = test_set_setting(NAPAGENT_SETTING_CLIENT_TIMEOUT_MS, 5000);
    test_kill_agent(hung_agent);
    hung_agent = NULL;
    return SUCCEEDED(hr) ? 0 : -1;
}

/* A hung agent (every thread frozen, as SIGSTOP would): each call is bounded
 * by the client call timeout, and napctl says so with status 3. */
static void test_hung_agent(void **state)
{
    static struct run run;
    DWORD start, elapsed;

    (void)state;
    run_napctl(L"state", &run);
    assert_int_equal(run.code, 0);
    assert_true(test_suspend_process(hung_agent));
    start = GetTickCount();
    run_napctl(L"state", &run);
    elapsed = GetTickCount() - start;
    print_message("napctl state against a hung agent ended after %lu ms\n", (unsigned long)elapsed);
    assert_int_equal(run.code, EXIT_NO_AGENT);
    check_output(&run, "napctl: state: the NapAgent did not answer within 300 ms");
    assert_in_range(elapsed, HUNG_CALL_TIMEOUT_MS, HUNG_CALL_TIMEOUT_MS + NAPCTL_OVERHEAD_MS);
    assert_true(test_resume_process(hung_agent));
    run_napctl(L"state", &run);
    assert_int_equal(run.code, 0);
}

int main(void)
{
    static const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_decode_example_request),
        cmocka_unit_test(test_decode_file),
        cmocka_unit_test(test_decode_response_entry),
        cmocka_unit_test(test_decode_truncated),
        cmocka_unit_test(test_decode_usage_errors),
        cmocka_unit_test_setup_teardown(test_verbs_start_the_service, setup_service, teardown_service),
        cmocka_unit_test_setup_teardown(test_decode_does_not_start_the_service, setup_service, teardown_service),
        cmocka_unit_test_setup_teardown(test_not_installed, setup_no_service, teardown_service),
        cmocka_unit_test(test_set_log_level),
        cmocka_unit_test_setup_teardown(test_hung_agent, setup_hung_agent, teardown_hung_agent),
    };

    test_install_crash_handler();
    return cmocka_run_group_tests_name("napctl", tests, NULL, NULL);
}
