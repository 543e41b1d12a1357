/*
 * Threads that keep the module holding their code loaded until they have left it
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "module_thread.h"

struct module_thread
{
    LPTHREAD_START_ROUTINE start;
    void *arg;
    HMODULE module;     /* the thread's reference */
};

static DWORD WINAPI module_thread_main(void *param)
{
    struct module_thread thread = *(struct module_thread *)param;
    DWORD result;

    HeapFree(GetProcessHeap(), 0, param);
    result = thread.start(thread.arg);
    /* Drops the reference and ends the thread inside kernel32: if it was the
     * module's last, nothing returns into the unloaded code. */
    FreeLibraryAndExitThread(thread.module, result);
}

HANDLE module_thread_start(LPTHREAD_START_ROUTINE start, void *arg, DWORD *thread_id)
{
    struct module_thread *thread;
    HANDLE handle;
    DWORD error;

    if (!(thread = HeapAlloc(GetProcessHeap(), 0, sizeof(*thread))))
    {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    thread->start = start;
    thread->arg = arg;
    /* Taken here, before the thread exists: the creator may drop the last
     * other reference the moment CreateThread returns. */
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (const WCHAR *)start, &thread->module))
    {
        error = GetLastError();
        HeapFree(GetProcessHeap(), 0, thread);
        SetLastError(error);
        return NULL;
    }
    if (!(handle = CreateThread(NULL, 0, module_thread_main, thread, 0, thread_id)))
    {
        error = GetLastError();
        FreeLibrary(thread->module);
        HeapFree(GetProcessHeap(), 0, thread);
        SetLastError(error);
    }
    return handle;
}
