/*
 * One bound EC or SHA: its session in the agent and the thread that runs its callbacks
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_SESSION_H
#define NAP_SESSION_H

#include <windows.h>
#include <objbase.h>
#include "agent_session.h"
#include "event_pump.h"

struct session;

/* What an EC (ec_session.c) or an SHA (sha_session.c) adds. */
struct session_type
{
    UINT32 kind;                       /* NAPAGENT_KIND_EC or NAPAGENT_KIND_SHA */
    /* Runs one event's callback, the session neither stopping nor dropped:
     * on the session's thread under the callback lock with the client's
     * callback, or on its courier with the gate's proxy (callback_gate.h). */
    void (*run_event)(struct session *session, IUnknown *callback, const NAPAGENT_EVENT *event);
    /* Work of the callback thread between events; may be NULL. */
    void (*idle)(struct session *session);
    /* The session stops: no more work may be handed to it; may be NULL. */
    void (*stopping)(struct session *session);
    /* The session is freed: so is its context; may be NULL. */
    void (*free_context)(void *context);
};

/* Reference counted: the binding holds one reference, the callback thread
 * another, and each binding call in flight one more. */
struct session
{
    LONG refs;
    const struct session_type *type;
    struct agent_session agent;        /* the session in the agent: cookie, reopening */
    void *context;                     /* the type's (an EC: its binding's connection quota) */
    /* Held while a callback runs on the session's thread, so that
     * Uninitialize from another thread waits for it (bounded) before
     * dropping the callback; guards callback and courier. */
    CRITICAL_SECTION callback_cs;
    IUnknown *callback;                /* called directly; NULL once dropped, or when gated */
    /* A callback in another apartment (an STA's): the gate there, and the
     * thread that calls it through the gate's proxy (NULL once stopped). */
    struct callback_gate *gate;
    struct courier *courier;
    struct event_mailbox mailbox;
    HANDLE thread;
    DWORD thread_id;
    volatile LONG stopping;
    volatile LONG dropped;
};

/* On Initialize's thread: opens the session (starting the agent's service
 * if need be) and its callback thread; takes a reference on callback (its
 * interface iid), called directly or, for a callback in another apartment,
 * through a gate there; and the caller's reference on context (freed with
 * type->free_context, even on failure). */
HRESULT session_start(const struct session_type *type, UINT32 id, IUnknown *callback, REFIID iid, void *context,
                      struct session **out);
/* Ends the session before the deadline (GetTickCount64()): closes it (at
 * most one call bound), waits for a callback in flight (at most one call
 * bound; past it the callback thread drops the callback once it returned)
 * and for the callback thread, unless called on it, or, for a gated
 * callback, for the gate to release it (at most one call bound) unless
 * called from inside it; then drops the caller's reference.  S_OK, or why the agent could not be told
 * (RPC_E_DISCONNECTED, RPC_E_TIMEOUT). */
HRESULT session_stop(struct session *session, ULONGLONG deadline);
void session_addref(struct session *session);
void session_release(struct session *session);
/* TRUE once dropped: its callback said RPC_S_SERVER_UNAVAILABLE, or the
 * agent refused to open it again for good (agent_session_ready). */
BOOL session_dropped(struct session *session);
/* A callback answered hr: TRUE (after telling the agent to drop the
 * session) when that is RPC_S_SERVER_UNAVAILABLE, bare or as an HRESULT,
 * as the documentation writes both. */
BOOL session_callback_gone(struct session *session, HRESULT hr);

#endif
