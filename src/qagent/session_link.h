/*
 * A session's link to the NapAgent over ncalrpc, bounded and self-healing:
 * what the EC and the SHA bindings share
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_SESSION_LINK_H
#define NAP_SESSION_LINK_H

#include <windows.h>
#include <rpc.h>
#include <rpcndr.h>
#include "call_runner.h"

struct session_link;

/* The RPC calls that open and close one kind of session (EC or SHA).  end
 * closes it by cookie when unbind could not use the context handle. */
struct session_kind
{
    HRESULT (*bind)(RPC_BINDING_HANDLE binding, UINT32 id, UINT32 process_id, UINT64 previous_cookie,
                    UINT64 *cookie, void **handle);
    HRESULT (*unbind)(void **handle);
    HRESULT (*end)(RPC_BINDING_HANDLE binding, UINT64 cookie);
};

/* One call to the agent.  Everything it needs lives in the job (a struct
 * that begins with this one), never on the caller's stack: a caller that
 * timed out has returned while a worker may still be in the call. */
struct session_job
{
    struct call_job job;
    struct session_link *link;
    RPC_BINDING_HANDLE binding;          /* set before the call */
    UINT64 cookie;                       /* names the session in the call; set before it */
    void *handle;                        /* the session's context handle, set before the call */
    HRESULT (*call)(struct session_job *job);
    /* Frees what the call returned that the caller did not take; may be NULL. */
    void (*cleanup)(struct session_job *job);
    /* Used by session_link.c only. */
    BOOL owns_handle;
    UINT64 previous_cookie;
    UINT64 new_cookie;
    void *new_handle;
};

void *session_job_create(struct session_link *link, size_t size, HRESULT (*call)(struct session_job *job),
                         void (*cleanup)(struct session_job *job));
void session_job_release(struct session_job *job);

/* Every function returns the agent's HRESULT, RPC_E_DISCONNECTED when the
 * agent is not there, or RPC_E_TIMEOUT when it did not answer within
 * timeout_ms; no RPC exception leaves these files.  A link whose agent went
 * away rebinds by itself (same id, passing its last cookie). */
HRESULT session_link_bind(const struct session_kind *kind, UINT32 id, DWORD timeout_ms, struct session_link **out);
/* Tells the agent the session ends (bounded); then only session_link_free. */
HRESULT session_link_unbind(struct session_link *link);
void session_link_free(struct session_link *link);
/* S_OK when bound, after rebinding if the agent was lost. */
HRESULT session_link_check(struct session_link *link);
/* The agent dropped the session (its callback said RPC_S_SERVER_UNAVAILABLE): no more rebinds. */
void session_link_close(struct session_link *link);
/* Runs a session call, rebinding first if needed and again if it finds the session gone. */
HRESULT session_link_call(struct session_job *job);

/* Before waiting for the session's events, on the calling (event) thread:
 * binds if needed; *binding, *cookie and *handle are the session's now.
 * After a wait that failed or found its session closed, session_link_wait_lost:
 * TRUE if we unbound it, FALSE if the agent lost it (the next begin rebinds). */
HRESULT session_link_wait_begin(struct session_link *link, RPC_BINDING_HANDLE *binding, UINT64 *cookie,
                                void **handle);
BOOL session_link_wait_lost(struct session_link *link, void *handle);

#endif
