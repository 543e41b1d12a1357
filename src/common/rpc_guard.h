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
#include <rpc.h>

/* A stub adapter: makes one RPC on the agent's handle, for the session the
 * cookie names (0: none), with what args holds. */
typedef HRESULT (*rpc_stub_fn)(RPC_BINDING_HANDLE agent, UINT64 cookie, void *args);

/* widl raises every transport failure as an SEH exception and GCC has no
 * __try, so stubs are called through this trampoline.  It returns what
 * stub(agent, cookie, args) returned, or HRESULT_FROM_WIN32(code) of the
 * exception raised inside it; *exception_code (if not NULL) receives the raw
 * code or 0. */
HRESULT rpc_guarded_call(rpc_stub_fn stub, RPC_BINDING_HANDLE agent, UINT64 cookie, void *args,
                         DWORD *exception_code);

/* TRUE for the exception codes that mean "the agent is not there (any more)". */
BOOL rpc_code_means_disconnected(DWORD code);

#endif
