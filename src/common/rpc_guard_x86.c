/*
 * The SEH trampoline that turns RPC exceptions into statuses, for i686
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* 32-bit x86 has no table-based SEH: a handler is a frame on the stack that
 * fs:0 points to, found by the dispatcher when an exception is raised.
 * MinGW's i386 __try1 only pushes such a frame, and its handler cannot
 * resume after the guarded call (a filter's EXCEPTION_EXECUTE_HANDLER, 1,
 * means ExceptionContinueSearch to the dispatcher), so rpc_guard.c's
 * x86_64 trampoline would let every RPC exception kill a 32-bit EC.  Here
 * the frame's handler records the code, unwinds the frames above its own
 * (RtlUnwind, as Windows' own __except does) and resumes the guarded
 * function where __builtin_setjmp left it.  rpc_code_means_disconnected
 * stays in rpc_guard.c. */
#include <windows.h>
#include <rpc.h>
#include "rpc_guard.h"

struct guard_frame
{
    EXCEPTION_REGISTRATION_RECORD record;  /* first: fs:0 points at it */
    DWORD code;
    void *resume[5];                       /* __builtin_setjmp's buffer */
};

static EXCEPTION_DISPOSITION NTAPI guard_handler(EXCEPTION_RECORD *record, void *frame, CONTEXT *context,
                                                 void *dispatcher)
{
    struct guard_frame *guard = frame;

    (void)context; (void)dispatcher;
    if (record->ExceptionFlags & (EXCEPTION_UNWINDING | EXCEPTION_EXIT_UNWIND))
        return ExceptionContinueSearch;
    guard->code = record->ExceptionCode;
    /* Runs the handlers of the frames the exception passes (the RPC
     * runtime's own) and leaves fs:0 at this frame. */
    RtlUnwind(frame, NULL, record, NULL);
    __builtin_longjmp(guard->resume, 1);
}

/* fs:0 is the thread's NT_TIB.ExceptionList (read directly: going through
 * NtCurrentTeb() trips GCC's -Warray-bounds in MinGW's intrinsics). */
static EXCEPTION_REGISTRATION_RECORD *current_frame(void)
{
    EXCEPTION_REGISTRATION_RECORD *frame;

    __asm__ __volatile__("movl %%fs:0, %0" : "=r"(frame));
    return frame;
}

static void set_current_frame(EXCEPTION_REGISTRATION_RECORD *frame)
{
    __asm__ __volatile__("movl %0, %%fs:0" : : "r"(frame) : "memory");
}

__attribute__((noinline)) HRESULT rpc_guarded_call(rpc_stub_fn stub, RPC_BINDING_HANDLE agent, UINT64 cookie, void *args,
                                                    DWORD *exception_code)
{
    volatile struct guard_frame guard;
    volatile HRESULT hr = E_UNEXPECTED;
    volatile BOOL returned = FALSE;

    guard.code = 0;
    guard.record.Handler = guard_handler;
    guard.record.Next = current_frame();
    if (!__builtin_setjmp((void **)guard.resume))
    {
        set_current_frame((EXCEPTION_REGISTRATION_RECORD *)&guard.record);
        hr = stub(agent, cookie, args);
        returned = TRUE;
    }
    set_current_frame(guard.record.Next);

    if (exception_code) *exception_code = returned ? 0 : guard.code;
    if (returned) return hr;
    return HRESULT_FROM_WIN32(guard.code & 0xffff);
}
