/*
 * The one way every client calls the NapAgent: bounded, guarded, with one rebind policy
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_AGENT_CALL_H
#define NAP_AGENT_CALL_H

#include <windows.h>
#include <rpc.h>
#include "rpc_guard.h"

/*
 * Both bindings, NapClientManagement, the event pump, the qutil notifier and
 * napctl call the agent through agent_call and nothing else.  A call:
 *
 * - runs the method's stub adapter on a worker thread, and its caller waits
 *   at most the call bound (read_call_timeout(), or the session's, plus a
 *   long poll's own wait): under Wine an RPC to a hung agent blocks forever
 *   and cannot be cancelled (docs/wine.md, "Bounded calls").  Past the bound
 *   the caller gets RPC_E_TIMEOUT; the worker finishes the call whenever the
 *   agent answers and frees what it returned;
 * - turns RPC exceptions into statuses (rpc_guard.c): RPC_E_DISCONNECTED for
 *   every transport failure;
 * - goes to the agent running now: one RPC handle per agent endpoint, and
 *   the first call on a new endpoint made alone (docs/wine.md, "One agent
 *   endpoint per agent process");
 * - follows one rebind policy.  No agent process: RPC_E_DISCONNECTED at
 *   once, unless the method may start the agent (management, napctl, a
 *   binding's Initialize): then the installed service is started and waited
 *   for (agent_service.c).  A call that names a session is made at most
 *   three times: when the agent does not know the session (it restarted:
 *   NAP_E_NOT_INITIALIZED) or the transport broke, the session is opened
 *   again (agent_session.c, same id, last cookie) and the call made once
 *   more.
 *
 * One call has one deadline: the wait for another thread opening the
 * session, the reopening, and every attempt share it (agent_call_until), so
 * a call that names a session returns within its bound however often it
 * rebinds.  Past the deadline nothing new is started: RPC_E_TIMEOUT.
 *
 * The arguments are copied into the call, and copied back when it finished
 * in time: a caller that timed out has returned while the worker may still be
 * in the call.  So an args struct holds its data inline; the stub adapter
 * points the RPC's pointers into its own copy.  After RPC_E_TIMEOUT the call
 * keeps the arguments (method->free_out frees what it returned, on the
 * worker, whenever it finishes: never on the caller's thread, as free_out may
 * itself call the agent); after anything else they are the caller's again,
 * with what the call left in them (the agent never answers RPC_E_TIMEOUT
 * itself).
 */

struct agent_session;

struct agent_method
{
    const char *name;                  /* for traces */
    /* Makes the one RPC; the cookie names the call's session (0 for calls
     * that name none: the args carry what they need). */
    rpc_stub_fn stub;
    /* Frees what the stub returned into args, for a call that finished too late; may be NULL. */
    void (*free_out)(void *args);
    size_t args_size;
    DWORD wait_ms;                     /* a long poll's own wait, added to the bound */
    BOOL may_start_agent;              /* start the installed service when no agent runs */
    /* A call that opens or closes its session itself (agent_session.c):
     * the session's bound, none of its rebind policy. */
    BOOL no_rebind;
};

/* The agent's HRESULT, RPC_E_DISCONNECTED when it is not there (or went),
 * RPC_E_TIMEOUT when it did not answer within the bound, or E_OUTOFMEMORY.
 * session may be NULL: then the bound is read_call_timeout().  The deadline
 * is agent_call_deadline(session) plus the method's wait_ms. */
HRESULT agent_call(struct agent_session *session, const struct agent_method *method, void *args);
/* The same with a deadline (a GetTickCount64() value) the caller shares
 * among several steps; a start of the service (may_start_agent) is not
 * counted against it: the call gets its full bound once the agent runs. */
HRESULT agent_call_until(struct agent_session *session, const struct agent_method *method, void *args,
                         ULONGLONG deadline);
/* Makes the call on a worker and returns at once, for what nobody waits on
 * (closing a session opened for a caller that is gone): method->free_out
 * frees what it returns.  S_OK once handed over; otherwise (no agent, no
 * memory) the args are still the caller's. */
HRESULT agent_call_detached(const struct agent_method *method, void *args);
/* Now plus the bound of one call for the session (read_call_timeout() without one). */
ULONGLONG agent_call_deadline(const struct agent_session *session);

/* Declares `method`, an agent_method whose stub adapter makes one RPC:
 * rpc call_args, where call_args may name `agent`, `cookie` and `args` (the
 * call's copy of an args_type).  What follows sets the method's other fields
 * (.free_out = ..., .may_start_agent = TRUE).  A stub that does more than
 * the call is written out. */
#define AGENT_METHOD(method, args_type, rpc, call_args, ...) \
    static HRESULT method##_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg) \
    { \
        args_type *args = arg; \
        (void)agent; (void)cookie; (void)args; \
        return rpc call_args; \
    } \
    static const struct agent_method method = \
        { .name = #rpc, .stub = method##_stub, .args_size = sizeof(args_type), __VA_ARGS__ }

#endif
