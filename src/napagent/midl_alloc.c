/*
 * MIDL_user_allocate / MIDL_user_free for napagent.exe's RPC server stub
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <windows.h>
#include <rpc.h>

/* The process heap: what the server routines allocate for [out] parameters
 * the stub frees after marshalling, whichever file allocated it. */
void __RPC_FAR *__RPC_USER MIDL_user_allocate(SIZE_T size)
{
    /* A zero-byte request must still return a unique, freeable pointer. */
    return HeapAlloc(GetProcessHeap(), 0, size ? size : 1);
}

void __RPC_USER MIDL_user_free(void __RPC_FAR *ptr)
{
    HeapFree(GetProcessHeap(), 0, ptr);
}
