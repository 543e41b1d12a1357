/*
 * Helpers every Wine test program shares
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_TEST_SUPPORT_H
#define NAP_TEST_SUPPORT_H

#include <windows.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* A crash anywhere outside a CMocka test body ends the process with the
 * exception code, so that a crash can never pass as success under Wine.
 * Called first in every main: it also tells scripts/wine-run.sh that main ran. */
void test_install_crash_handler(void);

/* Full path of a file beside the running test program (build/bin). */
void test_bin_path(const WCHAR *file, WCHAR *path, DWORD size);

/* Run a program from build/bin with a command line; returns its exit code,
 * or -1 if it could not be started or did not end within timeout_ms. */
int test_run_program(const WCHAR *file, const WCHAR *args, DWORD timeout_ms);

/* Puts a child process in a job that dies with this test program, so that a
 * failing test never leaves a child bound to the next agent. */
void test_adopt_child(HANDLE process);

/* Start napagent.exe --console and wait (bounded) until it answers; NULL on failure. */
HANDLE test_start_agent(void);
/* Kill it (as `kill -9` would) and wait for the process to end. */
void test_kill_agent(HANDLE agent);

/* Run regsvr32 <options> build/bin/<dll>; returns regsvr32's exit code. */
int test_regsvr32_dll(const WCHAR *dll, const WCHAR *options);
/* The same for qagent.dll. */
int test_regsvr32(const WCHAR *options);
/* Register qagent.dll with regsvr32 /s. */
int test_register_qagent(void);

/* Make sure `id` is registered with the agent and enabled or disabled. */
HRESULT test_register_ec(UINT32 id, BOOL enabled);
HRESULT test_unregister_ec(UINT32 id);
/* Make sure SHA `id` is registered; unregister it. */
HRESULT test_register_sha(UINT32 id);
HRESULT test_unregister_sha(UINT32 id);
/* The system isolation state the agent computes (NapAgentGetSystemIsolation). */
HRESULT test_get_system_isolation(UINT32 *state, BOOL *unknown_connections);
/* Unregister every EC / SHA the agent knows (none may be bound). */
HRESULT test_unregister_all_ecs(void);
HRESULT test_unregister_all_shas(void);

/* Ask the agent to send NotifySoHChange to every bound EC. */
HRESULT test_notify_soh_change(void);
HRESULT test_set_retry_interval(UINT32 ms);
/* Any NAPAGENT_SETTING (e.g. NAPAGENT_SETTING_CLIENT_TIMEOUT_MS). */
HRESULT test_set_setting(UINT32 setting, UINT32 value);
/* Freeze and thaw every thread of a process, as SIGSTOP / SIGCONT would. */
BOOL test_suspend_process(HANDLE process);
BOOL test_resume_process(HANDLE process);

/* The agent's counters (NapAgentGetState). */
struct _NAPAGENT_STATE;
HRESULT test_get_state(struct _NAPAGENT_STATE *state);
/* Ask the agent to fetch EC `id`'s connections (GetConnections) and return how
 * many it answered; *first_id receives the first connection's id. */
HRESULT test_query_connections(UINT32 id, UINT32 *count, GUID *first_id, UINT32 *first_max_size);

/* A session opened straight over the agent's RPC interface, as qagent.dll
 * opens one, on a binding of its own (kind: NAPAGENT_KIND_EC or _SHA). */
struct test_raw_session
{
    UINT32 kind, id;
    void *binding;                     /* RPC_BINDING_HANDLE */
    UINT64 cookie;
    void *handle;                      /* NAPAGENT_SESSION_HANDLE */
};
HRESULT test_raw_open(struct test_raw_session *session, UINT32 kind, UINT32 id);
/* Opens it again with its cookie, as a binding does after a transport
 * failure (the agent replaces the open one); the old context handle is
 * destroyed here only, as qagent.dll destroys one it gave up on. */
HRESULT test_raw_reopen(struct test_raw_session *session);
/* NapAgentEndSession by its cookie; the context handle stays. */
HRESULT test_raw_end(struct test_raw_session *session);
/* NapAgentCloseSession (if a handle is left), then the binding goes. */
HRESULT test_raw_close(struct test_raw_session *session);

/* Puts back what a suite may change in the prefix, as a fresh prefix has it:
 * the napagent service stopped and deleted, every napagent.exe ended, the
 * NAP Group Policy key deleted, the agent's registrations and settings
 * deleted (prefix_state.c).  Returns how many of those it found changed and,
 * unless `who` is NULL, prints them on one line starting with `who`. */
int test_reset_prefix(const char *who);

/* Poll `cond(arg)` every 5 ms until it is TRUE or timeout_ms passed. */
BOOL test_wait_for(BOOL (*cond)(void *arg), void *arg, DWORD timeout_ms);

#endif
