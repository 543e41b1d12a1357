/*
 * A fault in the agent's own code ends the agent, so that no lock it held stays held
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"

/* The RPC runtime runs each manager routine inside an exception handler
 * and answers a call that faults with a fault code (under Wine an access
 * violation comes back as 0x800703E6).  A lock the routine held stays held,
 * and every later call that needs it hangs: an agent that answers pings
 * and serves nobody.  A fault in the agent's code is a bug that may
 * have left such a lock: the process ends with the exception code instead.
 * Clients see RPC_E_DISCONNECTED, the next Initialize or management call
 * starts the service again, and bound clients rebind (docs/decisions.md,
 * "A fault in the agent"). */

/* How many callers of the faulting function are looked at. */
#define MAX_FRAMES 64

static ULONG_PTR image_start, image_end;

/* The processor's faults: never raised on purpose by code the agent runs. */
static BOOL is_fault(DWORD code)
{
    switch (code)
    {
    case EXCEPTION_ACCESS_VIOLATION:
    case EXCEPTION_IN_PAGE_ERROR:
    case EXCEPTION_ILLEGAL_INSTRUCTION:
    case EXCEPTION_PRIV_INSTRUCTION:
    case EXCEPTION_INT_DIVIDE_BY_ZERO:
    case EXCEPTION_INT_OVERFLOW:
    case EXCEPTION_DATATYPE_MISALIGNMENT:
    case EXCEPTION_ARRAY_BOUNDS_EXCEEDED:
        return TRUE;
    }
    return FALSE;
}

#ifdef _WIN64
/* Whether the faulting instruction or one of its callers is napagent.exe's:
 * a fault in a C library function the agent called counts, one in rpcrt4
 * reading a client's request does not. */
static BOOL in_agent_code(const CONTEXT *fault)
{
    CONTEXT context = *fault;
    unsigned int frame;

    for (frame = 0; frame < MAX_FRAMES && context.Rip; frame++)
    {
        RUNTIME_FUNCTION *function;
        ULONG64 base, establisher;
        void *handler_data;

        if (context.Rip >= image_start && context.Rip < image_end) return TRUE;
        if (!(function = RtlLookupFunctionEntry(context.Rip, &base, NULL)))
        {
            /* A leaf function: its return address is on top of the stack. */
            context.Rip = *(ULONG64 *)context.Rsp;
            context.Rsp += sizeof(ULONG64);
            continue;
        }
        RtlVirtualUnwind(UNW_FLAG_NHANDLER, base, context.Rip, function, &context, &handler_data, &establisher, NULL);
    }
    return FALSE;
}
#else
/* The i686 tree builds the agent only to keep its code compiling cleanly;
 * 32-bit clients use the 64-bit agent (docs/install.md).  Without unwind
 * tables to walk, only the faulting instruction is looked at. */
static BOOL in_agent_code(const CONTEXT *fault)
{
    return fault->Eip >= image_start && fault->Eip < image_end;
}
#endif

/* Runs before any handler on the stack, the RPC runtime's included. */
static LONG CALLBACK end_on_fault(EXCEPTION_POINTERS *info)
{
    DWORD code = info->ExceptionRecord->ExceptionCode;

    /* A stack overflow leaves no room to look at the stack: it ends the agent wherever it happens. */
    if (code != EXCEPTION_STACK_OVERFLOW && (!is_fault(code) || !in_agent_code(info->ContextRecord)))
        return EXCEPTION_CONTINUE_SEARCH;
    agent_log(AGENT_LOG_ERROR, "napagent: exception 0x%08lx at %p: ending the agent", code,
              info->ExceptionRecord->ExceptionAddress);
    TerminateProcess(GetCurrentProcess(), code);
    return EXCEPTION_CONTINUE_SEARCH;
}

void agent_fault_guard_install(void)
{
    const BYTE *self = (const BYTE *)GetModuleHandleW(NULL);
    const IMAGE_NT_HEADERS *headers = (const IMAGE_NT_HEADERS *)(self + ((const IMAGE_DOS_HEADER *)self)->e_lfanew);

    image_start = (ULONG_PTR)self;
    image_end = image_start + headers->OptionalHeader.SizeOfImage;
    AddVectoredExceptionHandler(TRUE, end_on_fault);
}
