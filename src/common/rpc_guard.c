/*
 * The SEH trampoline that turns RPC exceptions into statuses
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* This file must hold exactly one __try1 block: MinGW's x86_64 macros use
 * fixed local labels.  Keep it alone in its translation unit. */
#include <windows.h>
#include <excpt.h>
#include <rpc.h>
#include "rpc_guard.h"

#ifdef __x86_64__   /* i686: rpc_guard_x86.c */
static __thread DWORD guard_exception_code;

/* Called by __C_specific_handler as a scope filter; referenced from asm. */
LONG nap_rpc_guard_filter(EXCEPTION_POINTERS *pointers, void *frame);
__attribute__((used)) LONG nap_rpc_guard_filter(EXCEPTION_POINTERS *pointers, void *frame)
{
    (void)frame;
    guard_exception_code = pointers->ExceptionRecord->ExceptionCode;
    return EXCEPTION_EXECUTE_HANDLER;
}

__attribute__((noinline)) HRESULT rpc_guarded_call(rpc_stub_fn stub, RPC_BINDING_HANDLE agent, UINT64 cookie, void *args,
                                                    DWORD *exception_code)
{
    volatile HRESULT hr = E_UNEXPECTED;
    volatile BOOL returned = FALSE;

    guard_exception_code = 0;
    __try1(nap_rpc_guard_filter)
    hr = stub(agent, cookie, args);
    returned = TRUE;
    __except1

    if (exception_code) *exception_code = returned ? 0 : guard_exception_code;
    if (returned) return hr;
    return HRESULT_FROM_WIN32(guard_exception_code & 0xffff);
}
#endif

BOOL rpc_code_means_disconnected(DWORD code)
{
    switch (code)
    {
    case RPC_S_SERVER_UNAVAILABLE:
    case RPC_S_CALL_FAILED:
    case RPC_S_CALL_FAILED_DNE:
    case RPC_S_COMM_FAILURE:
    case RPC_X_SS_CONTEXT_MISMATCH:
    case RPC_S_INVALID_BINDING:
    case RPC_X_SS_IN_NULL_CONTEXT:
        return TRUE;
    default:
        return FALSE;
    }
}
