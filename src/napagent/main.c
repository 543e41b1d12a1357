/*
 * napagent.exe entry point: the NapAgent service, console mode, (un)installation
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <wchar.h>

#include "agent_private.h"

#define SERVICE_NAME         L"napagent"
#define SERVICE_DISPLAY_NAME L"Network Access Protection Agent"
#define SERVICE_DESCRIPTION  L"Network Access Protection Agent"

#define EXIT_OK          0
#define EXIT_START_FAIL  1
#define EXIT_USAGE       2

/* How long --uninstall waits for a running agent to stop. */
#define STOP_TIMEOUT_MS  30000
/* How long a console close lets the agent shut down before Windows kills it. */
#define CLOSE_GRACE_MS   4000

static HANDLE stop_event;     /* set to make the agent shut down */
static HANDLE stopped_event;  /* set once it has shut down */

static CRITICAL_SECTION status_lock;
static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS service_status;
static int service_exit_code;

/* Under Wine a crashing process may otherwise exit with 0 and look like it
 * succeeded: make the exception code the exit code. */
static LONG WINAPI crash_handler(EXCEPTION_POINTERS *info)
{
    TerminateProcess(GetCurrentProcess(), info->ExceptionRecord->ExceptionCode);
    return EXCEPTION_CONTINUE_SEARCH;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: napagent.exe                       (started by the service control manager)\n"
            "       napagent.exe --console [--log PATH] run in this console until Ctrl+C\n"
            "       napagent.exe --install              register the napagent service\n"
            "       napagent.exe --uninstall            stop and remove the napagent service\n");
}

/* The agent's pieces, wired so that no file needs one that needs it
 * (agent_private.h): the timer runs the EC and SHA deadlines, and the SHA
 * side tells the EC side of health changes. */
static void agent_init(void)
{
    static const timer_tick_fn ticks[] = { sha_tick, ec_tick };

    exchange_init();
    isolation_init();
    ec_init();
    sha_init(ec_health_changed);
    sessions_init();
    timer_init(ticks, ARRAYSIZE(ticks));
}

static void agent_shutdown(void)
{
    sessions_shutdown();
    timer_shutdown();
}

/* The body both run modes share.  on_running is told once the agent listens. */
static int run_agent(void (*on_running)(void))
{
    RPC_STATUS status;
    HRESULT hr;

    agent_log(AGENT_LOG_INFO, "napagent: starting (pid %lu)", GetCurrentProcessId());
    if (FAILED(hr = store_open()))
    {
        agent_log(AGENT_LOG_ERROR, "napagent: store_open failed: 0x%08lx", hr);
        return EXIT_START_FAIL;
    }
    agent_init();
    if ((status = agent_rpc_start()) != RPC_S_OK)
    {
        agent_log(AGENT_LOG_ERROR, "napagent: agent_rpc_start failed: %ld", status);
        agent_shutdown();
        store_close();
        return EXIT_START_FAIL;
    }
    agent_log(AGENT_LOG_INFO, "napagent: running");
    if (on_running)
        on_running();

    WaitForSingleObject(stop_event, INFINITE);

    agent_log(AGENT_LOG_INFO, "napagent: stopping");
    agent_rpc_stop();
    agent_shutdown();
    store_close();
    agent_log(AGENT_LOG_INFO, "napagent: stopped");
    return EXIT_OK;
}

/* Console mode */

static BOOL WINAPI console_ctrl_handler(DWORD type)
{
    switch (type)
    {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
        SetEvent(stop_event);
        return TRUE;
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        /* The process ends when this handler returns: give the agent time
         * to close its endpoint and its keys first. */
        SetEvent(stop_event);
        WaitForSingleObject(stopped_event, CLOSE_GRACE_MS);
        return TRUE;
    }
    return FALSE;
}

static int run_console(const WCHAR *log_path)
{
    int ret;

    if (log_path && !agent_log_open(log_path))
    {
        fprintf(stderr, "napagent: cannot open the log %ls: error %lu\n", log_path, GetLastError());
        return EXIT_START_FAIL;
    }
    SetConsoleCtrlHandler(console_ctrl_handler, TRUE);
    ret = run_agent(NULL);
    SetEvent(stopped_event);
    agent_log_close();
    return ret;
}

/* Service mode */

static void report_status(DWORD state, DWORD wait_hint)
{
    EnterCriticalSection(&status_lock);
    service_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    service_status.dwCurrentState = state;
    service_status.dwWaitHint = wait_hint;
    /* Controls only make sense once the agent runs. */
    service_status.dwControlsAccepted =
        state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
    if (state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING)
        service_status.dwCheckPoint++;
    else
        service_status.dwCheckPoint = 0;
    if (state == SERVICE_STOPPED && service_exit_code)
    {
        service_status.dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
        service_status.dwServiceSpecificExitCode = service_exit_code;
    }
    if (!SetServiceStatus(status_handle, &service_status))
        agent_log(AGENT_LOG_ERROR, "napagent: SetServiceStatus(%lu) failed: %lu", state, GetLastError());
    LeaveCriticalSection(&status_lock);
}

static void report_current_status(void)
{
    EnterCriticalSection(&status_lock);
    SetServiceStatus(status_handle, &service_status);
    LeaveCriticalSection(&status_lock);
}

static DWORD WINAPI service_handler(DWORD control, DWORD event_type, void *event_data, void *context)
{
    (void)event_type; (void)event_data; (void)context;

    switch (control)
    {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        agent_log(AGENT_LOG_INFO, "napagent: service control %lu: stopping", control);
        report_status(SERVICE_STOP_PENDING, 5000);
        SetEvent(stop_event);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        report_current_status();
        return NO_ERROR;
    }
    return ERROR_CALL_NOT_IMPLEMENTED;
}

static void report_running(void)
{
    report_status(SERVICE_RUNNING, 0);
}

/* A service's stdout goes nowhere: it logs to %windir%\temp\napagent.log. */
static void open_service_log(void)
{
    WCHAR path[MAX_PATH];
    UINT len;

    len = GetWindowsDirectoryW(path, MAX_PATH);
    if (!len || len + wcslen(L"\\temp\\napagent.log") >= MAX_PATH)
        return;
    wcscat(path, L"\\temp");
    CreateDirectoryW(path, NULL);
    wcscat(path, L"\\napagent.log");
    agent_log_open(path);
}

static void WINAPI service_main(DWORD argc, WCHAR **argv)
{
    (void)argc; (void)argv;

    open_service_log();
    status_handle = RegisterServiceCtrlHandlerExW(SERVICE_NAME, service_handler, NULL);
    if (!status_handle)
    {
        agent_log(AGENT_LOG_ERROR, "napagent: RegisterServiceCtrlHandlerExW failed: %lu", GetLastError());
        service_exit_code = EXIT_START_FAIL;
        return;
    }
    report_status(SERVICE_START_PENDING, 5000);
    service_exit_code = run_agent(report_running);
    /* The SCM may end the process as soon as it sees STOPPED: log first. */
    agent_log_close();
    report_status(SERVICE_STOPPED, 0);
}

static int run_service(void)
{
    static const SERVICE_TABLE_ENTRYW services[] =
    {
        { (WCHAR *)SERVICE_NAME, service_main },
        { NULL, NULL }
    };

    InitializeCriticalSection(&status_lock);
    if (!StartServiceCtrlDispatcherW(services))
    {
        DWORD err = GetLastError();

        if (err == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
        {
            fprintf(stderr, "napagent: not started by the service control manager\n");
            usage(stderr);
            return EXIT_USAGE;
        }
        fprintf(stderr, "napagent: StartServiceCtrlDispatcherW failed: error %lu\n", err);
        return EXIT_START_FAIL;
    }
    return service_exit_code;
}

/* Installation */

static int install_service(void)
{
    SERVICE_DESCRIPTIONW description = { (WCHAR *)SERVICE_DESCRIPTION };
    WCHAR path[MAX_PATH], command[MAX_PATH + 2];
    SC_HANDLE manager, service;
    DWORD len;

    len = GetModuleFileNameW(NULL, path, MAX_PATH);
    if (!len || len >= MAX_PATH)
    {
        fprintf(stderr, "napagent: cannot find my own path\n");
        return EXIT_START_FAIL;
    }
    /* Quoted, so that a path with spaces starts this exe and not a prefix of it. */
    _snwprintf(command, ARRAYSIZE(command), L"\"%s\"", path);
    command[ARRAYSIZE(command) - 1] = 0;

    if (!(manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE)))
    {
        fprintf(stderr, "napagent: OpenSCManager failed: error %lu\n", GetLastError());
        return EXIT_START_FAIL;
    }
    service = CreateServiceW(manager, SERVICE_NAME, SERVICE_DISPLAY_NAME, SERVICE_CHANGE_CONFIG,
                             SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL,
                             command, NULL, NULL, NULL, NULL, NULL);
    if (!service)
    {
        DWORD err = GetLastError();

        CloseServiceHandle(manager);
        if (err == ERROR_SERVICE_EXISTS)
        {
            printf("napagent: the service is already installed\n");
            return EXIT_OK;
        }
        fprintf(stderr, "napagent: CreateService failed: error %lu\n", err);
        return EXIT_START_FAIL;
    }
    if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_DESCRIPTION, &description))
        fprintf(stderr, "napagent: cannot set the description: error %lu\n", GetLastError());
    CloseServiceHandle(service);
    CloseServiceHandle(manager);
    printf("napagent: service installed: %ls\n", command);
    return EXIT_OK;
}

static BOOL wait_for_stopped(SC_HANDLE service)
{
    SERVICE_STATUS status;
    DWORD start = GetTickCount();

    while (QueryServiceStatus(service, &status))
    {
        if (status.dwCurrentState == SERVICE_STOPPED)
            return TRUE;
        if (GetTickCount() - start > STOP_TIMEOUT_MS)
            return FALSE;
        Sleep(100);
    }
    return FALSE;
}

static void stop_service(SC_HANDLE service)
{
    SERVICE_STATUS status;

    if (!QueryServiceStatus(service, &status) || status.dwCurrentState == SERVICE_STOPPED)
        return;
    printf("napagent: stopping the service\n");
    /* It may already be stopping: wait either way. */
    ControlService(service, SERVICE_CONTROL_STOP, &status);
    if (!wait_for_stopped(service))
        fprintf(stderr, "napagent: the service did not stop; deleting it anyway\n");
}

static int uninstall_service(void)
{
    SC_HANDLE manager, service;
    int ret = EXIT_OK;

    if (!(manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)))
    {
        fprintf(stderr, "napagent: OpenSCManager failed: error %lu\n", GetLastError());
        return EXIT_START_FAIL;
    }
    service = OpenServiceW(manager, SERVICE_NAME, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
    if (!service)
    {
        DWORD err = GetLastError();

        CloseServiceHandle(manager);
        if (err == ERROR_SERVICE_DOES_NOT_EXIST)
        {
            printf("napagent: the service is not installed\n");
            return EXIT_OK;
        }
        fprintf(stderr, "napagent: OpenService failed: error %lu\n", err);
        return EXIT_START_FAIL;
    }
    stop_service(service);
    if (DeleteService(service))
        printf("napagent: service removed\n");
    else
    {
        fprintf(stderr, "napagent: DeleteService failed: error %lu\n", GetLastError());
        ret = EXIT_START_FAIL;
    }
    CloseServiceHandle(service);
    CloseServiceHandle(manager);
    return ret;
}

int wmain(int argc, WCHAR **argv)
{
    SetUnhandledExceptionFilter(crash_handler);
    agent_fault_guard_install();
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);

    stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    stopped_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!stop_event || !stopped_event)
        return EXIT_START_FAIL;

    if (argc == 1)
        return run_service();
    if (!wcscmp(argv[1], L"--console"))
    {
        if (argc == 2)
            return run_console(NULL);
        if (argc == 4 && !wcscmp(argv[2], L"--log"))
            return run_console(argv[3]);
    }
    else if (argc == 2 && !wcscmp(argv[1], L"--install"))
        return install_service();
    else if (argc == 2 && !wcscmp(argv[1], L"--uninstall"))
        return uninstall_service();
    else if (argc == 2 && (!wcscmp(argv[1], L"--help") || !wcscmp(argv[1], L"/?")))
    {
        usage(stdout);
        return EXIT_OK;
    }
    usage(stderr);
    return EXIT_USAGE;
}
