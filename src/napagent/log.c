/*
 * napagent.exe's log: one timestamped line per event, to a file or stderr
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "agent_private.h"

/* Parameters\LogMaxBytes may not go below two of these (agent_settings.c). */
#define LOG_LINE_MAX 2048
/* How long a level read from the registry is used. */
#define LEVEL_READ_INTERVAL_MS 1000

static INIT_ONCE log_init_once = INIT_ONCE_STATIC_INIT;
static CRITICAL_SECTION log_lock;
static HANDLE log_file = INVALID_HANDLE_VALUE;
/* In file mode (log_path set): the file's size as far as the agent knows,
 * its cap, and where a full file goes (the path and ".1"). */
static WCHAR *log_path, *old_log_path;
static ULONGLONG log_size;
static DWORD log_cap;
/* Parameters\LogLevel as last read, and when (GetTickCount64; 0: never):
 * a change applies within a second, without a registry read per line. */
static volatile LONG log_level = AGENT_LOG_INFO;
static volatile LONG64 level_read_at;

static const char *const level_names[] = { "", "error", "warning", "info", "trace" };

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

/* FILE_APPEND_DATA without FILE_WRITE_DATA makes every write go to the end
 * of the file.  Other processes (the tests) may read it, and may also
 * truncate or rotate it, while the agent runs. */
static HANDLE open_log_file(const WCHAR *path, DWORD disposition, ULONGLONG *size)
{
    LARGE_INTEGER length;
    HANDLE file;

    file = CreateFileW(path, FILE_APPEND_DATA | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                       FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                       NULL, disposition, FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE)
        return file;
    *size = GetFileSizeEx(file, &length) ? (ULONGLONG)length.QuadPart : 0;
    return file;
}

static void forget_log_file(void)
{
    if (log_file != INVALID_HANDLE_VALUE)
        CloseHandle(log_file);
    log_file = INVALID_HANDLE_VALUE;
    free(log_path);
    free(old_log_path);
    log_path = old_log_path = NULL;
}

/* The cap is read here, once: the agent's store may not be open yet. */
BOOL agent_log_open(const WCHAR *path)
{
    size_t len = wcslen(path);
    WCHAR *copy, *old_copy;
    ULONGLONG size;
    HANDLE file;

    copy = malloc((len + 1) * sizeof(WCHAR));
    old_copy = malloc((len + 3) * sizeof(WCHAR));
    file = copy && old_copy ? open_log_file(path, OPEN_ALWAYS, &size) : INVALID_HANDLE_VALUE;
    if (file == INVALID_HANDLE_VALUE)
    {
        free(copy);
        free(old_copy);
        return FALSE;
    }
    wcscpy(copy, path);
    swprintf(old_copy, len + 3, L"%ls.1", path);

    lock_log();
    forget_log_file();
    log_file = file;
    log_path = copy;
    old_log_path = old_copy;
    log_size = size;
    log_cap = agent_setting_read(AGENT_SETTING_LOG_MAX_BYTES);
    unlock_log();
    return TRUE;
}

void agent_log_close(void)
{
    lock_log();
    forget_log_file();
    unlock_log();
}

/* The level lines are kept at: one thread reads it again once it is a
 * second old; the others meanwhile go by the one before. */
static LONG current_level(void)
{
    ULONGLONG now = GetTickCount64();
    LONG64 read_at = level_read_at;

    if ((!read_at || now - (ULONGLONG)read_at >= LEVEL_READ_INTERVAL_MS)
        && InterlockedCompareExchange64(&level_read_at, (LONG64)now, read_at) == read_at)
        InterlockedExchange(&log_level, (LONG)agent_setting_read(AGENT_SETTING_LOG_LEVEL));
    return log_level;
}

/* "YYYY-MM-DD HH:MM:SS.mmm [pid tid] level: "; returns its length. */
static int format_prefix(char *buffer, size_t size, enum agent_log_level level)
{
    SYSTEMTIME now;

    GetLocalTime(&now);
    return snprintf(buffer, size, "%04u-%02u-%02u %02u:%02u:%02u.%03u [%lu %lu] %s: ",
                    now.wYear, now.wMonth, now.wDay, now.wHour, now.wMinute, now.wSecond,
                    now.wMilliseconds, GetCurrentProcessId(), GetCurrentThreadId(), level_names[level]);
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

/* A line that would take the file past its cap first moves it to
 * <path>.1 (replacing the one before) and starts an empty file, so the log
 * never holds more than twice the cap.  Should the rename fail (a reader
 * on Windows that did not share delete), the file starts again empty all
 * the same; should no file open, the line is dropped: the bound holds. */
static void write_to_file(const char *line, size_t len)
{
    DWORD written;

    if (log_file != INVALID_HANDLE_VALUE && log_size && log_size + len > log_cap)
    {
        CloseHandle(log_file);
        log_file = INVALID_HANDLE_VALUE;
        MoveFileExW(log_path, old_log_path, MOVEFILE_REPLACE_EXISTING);
    }
    if (log_file == INVALID_HANDLE_VALUE
        && (log_file = open_log_file(log_path, CREATE_ALWAYS, &log_size)) == INVALID_HANDLE_VALUE)
        return;
    /* WriteFile has no user-space buffer: each line reaches the file (and
     * any reader of it) as soon as it is written, even if the agent is
     * killed right after. */
    if (WriteFile(log_file, line, (DWORD)len, &written, NULL))
        log_size += written;
}

static void write_line(const char *line, size_t len)
{
    if (log_path)
        write_to_file(line, len);
    else
    {
        /* stderr is in text mode and turns "\n" into CRLF by itself. */
        fwrite(line, 1, len - 2, stderr);
        fputc('\n', stderr);
        fflush(stderr);
    }
}

void agent_log(enum agent_log_level level, const char *format, ...)
{
    char line[LOG_LINE_MAX];
    va_list args;
    int prefix, message;
    size_t len;

    if (level < AGENT_LOG_ERROR || level > AGENT_LOG_TRACE) level = AGENT_LOG_ERROR;
    if ((LONG)level > current_level()) return;
    prefix = format_prefix(line, sizeof(line), level);
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
