/*
 * napagent.exe's log: one timestamped line per event, to a file or stderr
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent_private.h"

#define LOG_LINE_MAX 2048

static INIT_ONCE log_init_once = INIT_ONCE_STATIC_INIT;
static CRITICAL_SECTION log_lock;
static HANDLE log_file = INVALID_HANDLE_VALUE;

static BOOL CALLBACK init_log_lock(INIT_ONCE *once, void *param, void **context)
{
    (void)once; (void)param; (void)context;
    InitializeCriticalSection(&log_lock);
    return TRUE;
}

/* agent_log may run before agent_log_open (console mode logs to stderr),
 * so the lock is created on first use rather than in agent_log_open. */
static void lock_log(void)
{
    InitOnceExecuteOnce(&log_init_once, init_log_lock, NULL, NULL);
    EnterCriticalSection(&log_lock);
}

static void unlock_log(void)
{
    LeaveCriticalSection(&log_lock);
}

BOOL agent_log_open(const WCHAR *path)
{
    HANDLE file;

    /* FILE_APPEND_DATA without FILE_WRITE_DATA makes every write go to the
     * end of the file.  Other processes (the tests) may read it, and may
     * also truncate or rotate it, while the agent runs. */
    file = CreateFileW(path, FILE_APPEND_DATA | SYNCHRONIZE,
                       FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE)
        return FALSE;

    lock_log();
    if (log_file != INVALID_HANDLE_VALUE)
        CloseHandle(log_file);
    log_file = file;
    unlock_log();
    return TRUE;
}

void agent_log_close(void)
{
    lock_log();
    if (log_file != INVALID_HANDLE_VALUE)
    {
        CloseHandle(log_file);
        log_file = INVALID_HANDLE_VALUE;
    }
    unlock_log();
}

/* "YYYY-MM-DD HH:MM:SS.mmm [pid tid] "; returns its length. */
static int format_prefix(char *buffer, size_t size)
{
    SYSTEMTIME now;

    GetLocalTime(&now);
    return snprintf(buffer, size, "%04u-%02u-%02u %02u:%02u:%02u.%03u [%lu %lu] ",
                    now.wYear, now.wMonth, now.wDay, now.wHour, now.wMinute, now.wSecond,
                    now.wMilliseconds, GetCurrentProcessId(), GetCurrentThreadId());
}

/* The line ends with CRLF whatever the caller put at the end of its message. */
static size_t end_line(char *line, size_t len)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    line[len++] = '\r';
    line[len++] = '\n';
    line[len] = 0;
    return len;
}

static void write_line(const char *line, size_t len)
{
    DWORD written;

    /* WriteFile has no user-space buffer: each line reaches the file (and
     * any reader of it) as soon as it is written, even if the agent is
     * killed right after. */
    if (log_file != INVALID_HANDLE_VALUE)
        WriteFile(log_file, line, (DWORD)len, &written, NULL);
    else
    {
        /* stderr is in text mode and turns "\n" into CRLF by itself. */
        fwrite(line, 1, len - 2, stderr);
        fputc('\n', stderr);
        fflush(stderr);
    }
}

void agent_log(const char *format, ...)
{
    char line[LOG_LINE_MAX];
    va_list args;
    int prefix, message;
    size_t len;

    prefix = format_prefix(line, sizeof(line));
    if (prefix < 0)
        prefix = 0;

    va_start(args, format);
    /* Room for the CRLF and terminator that end_line appends. */
    message = vsnprintf(line + prefix, sizeof(line) - prefix - 2, format, args);
    va_end(args);

    if (message < 0 || (size_t)message >= sizeof(line) - prefix - 2)
        len = sizeof(line) - 3;  /* truncated: keep what fitted */
    else
        len = prefix + message;
    line[len] = 0;
    len = end_line(line, len);

    lock_log();
    write_line(line, len);
    unlock_log();
}
