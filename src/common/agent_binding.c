/*
 * Binding to the running NapAgent, with the first call on its endpoint made alone
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_endpoint.h"
#include "napagent_rpc.h"
#include "rpc_guard.h"
#include "module_thread.h"

/* Wine's rpcrt4 shares one association per endpoint among all the binding
 * handles of a process, and a connection joins the server's association
 * group only once the first bind on the association has been acknowledged.
 * Two threads opening the first connections of a new endpoint at once land
 * in two server associations, and a context handle made on one raises
 * RPC_X_SS_CONTEXT_MISMATCH on the other (measured after agent restarts).
 * Session calls name their session by cookie, so they do not depend on it
 * (docs/decisions.md); making the first call on each new endpoint alone
 * still keeps the usual case in one association, where Unbind finds its
 * context handle and a rundown means the client really went away. */
#define PRIME_TIMEOUT_MS 5000

static SRWLOCK prime_lock = SRWLOCK_INIT;
static WCHAR primed_endpoint[NAPAGENT_ENDPOINT_MAX];

struct prime_call
{
    LONG refs;
    RPC_BINDING_HANDLE binding;
    HRESULT hr;
};

static void prime_release(struct prime_call *call)
{
    if (InterlockedDecrement(&call->refs)) return;
    RpcBindingFree(&call->binding);
    HeapFree(GetProcessHeap(), 0, call);
}

static HRESULT ping_thunk(void *arg)
{
    struct prime_call *call = arg;
    NAPAGENT_BLOB echo = { 0, NULL };
    BYTE byte = 0;
    HRESULT hr = NapAgentPing(call->binding, 1, &byte, &echo);

    MIDL_user_free(echo.data);
    return hr;
}

static DWORD WINAPI prime_thread(void *arg)
{
    struct prime_call *call = arg;

    call->hr = rpc_guarded_call(ping_thunk, call, NULL);
    prime_release(call);
    return 0;
}

/* A ping on a handle of its own, bounded: a hung agent must not hang us.
 * The thread may outlive the wait (and the DLL's last object): a module
 * thread, it keeps the DLL loaded until the ping has come back. */
static BOOL prime(const WCHAR *string_binding)
{
    struct prime_call *call = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*call));
    HANDLE thread;
    BOOL primed = FALSE;

    if (!call) return FALSE;
    call->refs = 2;
    call->hr = E_FAIL;
    if (RpcBindingFromStringBindingW((RPC_WSTR)string_binding, &call->binding) != RPC_S_OK)
    {
        HeapFree(GetProcessHeap(), 0, call);
        return FALSE;
    }
    if (!(thread = module_thread_start(prime_thread, call, NULL)))
    {
        call->refs = 1;
        prime_release(call);
        return FALSE;
    }
    if (WaitForSingleObject(thread, PRIME_TIMEOUT_MS) == WAIT_OBJECT_0) primed = call->hr == S_OK;
    CloseHandle(thread);
    prime_release(call);
    return primed;
}

RPC_STATUS agent_endpoint_bind_to(RPC_BINDING_HANDLE *binding, WCHAR *endpoint, DWORD size)
{
    WCHAR name[NAPAGENT_ENDPOINT_MAX];
    RPC_WSTR string_binding = NULL;
    RPC_STATUS status;

    *binding = NULL;
    if (!agent_endpoint_find(name, ARRAYSIZE(name))) return RPC_S_SERVER_UNAVAILABLE;
    if (endpoint) lstrcpynW(endpoint, name, size);
    status = RpcStringBindingComposeW(NULL, (RPC_WSTR)NAPAGENT_PROTSEQ, NULL, (RPC_WSTR)name, NULL, &string_binding);
    if (status != RPC_S_OK) return status;

    AcquireSRWLockExclusive(&prime_lock);
    if (lstrcmpW(primed_endpoint, name) && prime((const WCHAR *)string_binding))
        lstrcpyW(primed_endpoint, name);
    ReleaseSRWLockExclusive(&prime_lock);

    status = RpcBindingFromStringBindingW(string_binding, binding);
    RpcStringFreeW(&string_binding);
    return status;
}

RPC_STATUS agent_endpoint_bind(RPC_BINDING_HANDLE *binding)
{
    return agent_endpoint_bind_to(binding, NULL, 0);
}
