/*
 * Threads that keep the module holding their code loaded until they have left it
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_MODULE_THREAD_H
#define NAP_MODULE_THREAD_H

#include <windows.h>

/* Every thread qagent.dll and qutil.dll start goes through this, so that
 * once DllCanUnloadNow has said S_OK no thread runs their code again
 * (docs/decisions.md): COM may FreeLibrary the DLL at once, and a thread
 * still inside it (an idle worker, a call stuck in a hung agent, a callback
 * thread that dropped the last reference) would return into unmapped code.
 *
 * Starts start(arg) on a new thread that holds a reference on the module
 * containing `start` (and this helper, which is linked into every module that
 * uses it) and drops it with FreeLibraryAndExitThread, so that the module is
 * unloaded, if at all, only after the thread has left its code.  Returns the
 * thread's handle (the caller closes it) or NULL with GetLastError() set;
 * thread_id may be NULL. */
HANDLE module_thread_start(LPTHREAD_START_ROUTINE start, void *arg, DWORD *thread_id);

#endif
