/*
 * The one guarded path through which every RPC stub call is made
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_RPC_GUARD_H
#define NAP_RPC_GUARD_H

#include <windows.h>

/* widl raises every transport failure as an SEH exception and GCC has no
 * __try, so stubs are called through this trampoline.  It returns what
 * call(arg) returned, or HRESULT_FROM_WIN32(code) of the exception raised
 * inside it; *exception_code (if not NULL) receives the raw code or 0. */
typedef HRESULT (*rpc_guarded_fn)(void *arg);
HRESULT rpc_guarded_call(rpc_guarded_fn call, void *arg, DWORD *exception_code);

/* TRUE for the exception codes that mean "the agent is not there (any more)". */
BOOL rpc_code_means_disconnected(DWORD code);

#endif
