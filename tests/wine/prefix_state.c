/*
 * Putting back what a test suite may change in the Wine prefix
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <stdio.h>
#include <string.h>
#include <tlhelp32.h>

#define AGENT_KEY  L"System\\CurrentControlSet\\Services\\napagent"  /* Runtime */
#define STATE_KEY  L"System\\CurrentControlSet\\Control\\NapAgent"  /* the rest */
#define POLICY_KEY L"Software\\Policies\\Microsoft\\NetworkAccessProtection"
#define STOP_WAIT_MS 10000

/* What was found changed, as one line. */
struct reset_report
{
    char text[512];
    int found;
};

static void note(struct reset_report *report, const char *what, int count)
{
    size_t used = strlen(report->text);

    if (!count) return;
    snprintf(report->text + used, sizeof(report->text) - used, "%s%s", report->found ? ", " : "", what);
    used = strlen(report->text);
    if (count > 1) snprintf(report->text + used, sizeof(report->text) - used, " (%d)", count);
    report->found++;
}

static BOOL service_stopped(SC_HANDLE service)
{
    SERVICE_STATUS status;

    return !QueryServiceStatus(service, &status) || status.dwCurrentState == SERVICE_STOPPED;
}

/* Stops the napagent service (bounded) and returns it opened for DELETE; NULL if not installed. */
static SC_HANDLE stop_service(SC_HANDLE manager, struct reset_report *report)
{
    SC_HANDLE service = OpenServiceW(manager, L"napagent", SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
    SERVICE_STATUS status;
    DWORD start = GetTickCount();

    if (!service) return NULL;
    note(report, "the napagent service installed", 1);
    if (service_stopped(service)) return service;
    note(report, "the napagent service running", 1);
    ControlService(service, SERVICE_CONTROL_STOP, &status);
    while (!service_stopped(service) && GetTickCount() - start < STOP_WAIT_MS) Sleep(20);
    return service;
}

/* Ends every napagent.exe of this prefix: a console agent a dead suite left
 * behind, or a service that did not stop. */
static int end_agents(void)
{
    PROCESSENTRY32W entry = { .dwSize = sizeof(entry) };
    HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0), process;
    int count = 0;

    if (snapshot == INVALID_HANDLE_VALUE) return 0;
    for (BOOL more = Process32FirstW(snapshot, &entry); more; more = Process32NextW(snapshot, &entry))
    {
        if (lstrcmpiW(entry.szExeFile, L"napagent.exe")) continue;
        if (!(process = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, entry.th32ProcessID))) continue;
        if (TerminateProcess(process, 9)) count++;
        WaitForSingleObject(process, 5000);
        CloseHandle(process);
    }
    CloseHandle(snapshot);
    return count;
}

/* How many sub-keys and values `subkey` of HKLM holds; -1 if it does not exist. */
static int key_entries(const WCHAR *subkey)
{
    DWORD subkeys = 0, values = 0;
    HKEY key;

    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, subkey, 0, KEY_READ, &key)) return -1;
    RegQueryInfoKeyW(key, NULL, NULL, NULL, &subkeys, NULL, NULL, &values, NULL, NULL, NULL, NULL);
    RegCloseKey(key);
    return (int)(subkeys + values);
}

/* Deletes an agent-owned key; returns how many entries it held. */
static int delete_agent_key(const WCHAR *name)
{
    WCHAR path[MAX_PATH];
    int entries;

    swprintf(path, MAX_PATH, L"%ls\\%ls", wcscmp(name, L"Runtime") ? STATE_KEY : AGENT_KEY, name);
    if ((entries = key_entries(path)) < 0) return 0;
    RegDeleteTreeW(HKEY_LOCAL_MACHINE, path);
    return entries;
}

int test_reset_prefix(const char *who)
{
    struct reset_report report = { "", 0 };
    SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT), service = NULL;

    if (manager) service = stop_service(manager, &report);
    note(&report, "napagent.exe processes", end_agents());
    if (service)
    {
        DeleteService(service);
        CloseServiceHandle(service);
    }
    if (manager) CloseServiceHandle(manager);
    /* The Group Policy key is only ever written by tests. */
    if (key_entries(POLICY_KEY) >= 0)
    {
        note(&report, "the NAP Group Policy key", 1);
        RegDeleteTreeW(HKEY_LOCAL_MACHINE, POLICY_KEY);
    }
    note(&report, "EC registrations", delete_agent_key(L"Enforcers"));
    note(&report, "SHA registrations", delete_agent_key(L"Shas"));
    note(&report, "agent settings", delete_agent_key(L"Parameters"));
    delete_agent_key(L"Runtime"); /* a dead agent's endpoint */
    if (who && report.found) printf("%s: put back %s\n", who, report.text);
    return report.found;
}
