/*
 * The object that stands for an EC's or SHA's callback in the callback's own apartment
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_CALLBACK_GATE_H
#define NAP_CALLBACK_GATE_H

#include <windows.h>
#include <objbase.h>

/*
 * On Windows the agent reaches a callback through COM, so an apartment-
 * threaded callback (an STA's: ATL's CComSingleThreadModel, VB6, a UI
 * program) runs on its STA thread, through that thread's message loop
 * (docs/decisions.md, "Apartments").  When Initialize is called from an STA
 * (or the NA) with a callback that does not aggregate the free-threaded
 * marshaler, the session reaches it through a gate: an object of ours made
 * in that apartment, which holds the client's callback and forwards each
 * call to it there, and which the session's courier (courier.c) calls
 * through its proxy.  The gate lets the session stop callbacks at once
 * (Uninitialize) without reaching into the apartment: once closed it
 * forwards nothing, and it releases the client's callback on the
 * apartment's own thread.
 *
 * struct callback_gate is what the session keeps of it: reference counted
 * by the session and the gate object, and safe to touch from any thread.
 */
struct callback_gate;

/* On Initialize's thread.  S_FALSE: no gate is needed, the session's MTA
 * threads call the callback directly (the caller is in the MTA or in no
 * apartment, or the callback aggregates the free-threaded marshaler).  S_OK:
 * *gate is a new gate in the caller's apartment around callback, and
 * *stream holds its interface iid (INapEnforcementClientCallback or
 * INapSystemHealthAgentCallback) marshalled for the courier.  A failure to
 * marshal (qagent.dll's proxies not registered) is returned. */
HRESULT callback_gate_open(IUnknown *callback, REFIID iid, struct callback_gate **gate, IStream **stream);
/* On the gate's thread: gives up a marshalled gate no courier will take. */
void callback_gate_discard(IStream *stream);
/* Any thread, any number of times: no callback starts any more.  On the
 * gate's thread, outside a callback, the client's callback is released at
 * once; otherwise on that thread as soon as the callback running there
 * returns, or when the gate goes (the courier's proxy released). */
void callback_gate_close(struct callback_gate *gate);
/* TRUE on the thread running one of the gate's callbacks: Uninitialize or
 * the last Release from inside a callback. */
BOOL callback_gate_inside(struct callback_gate *gate);
/* Waits up to timeout_ms for the client's callback to have been released
 * (running COM calls meanwhile when the caller is an STA); TRUE if it was. */
BOOL callback_gate_wait_released(struct callback_gate *gate, DWORD timeout_ms);
/* Drops the session's reference. */
void callback_gate_free(struct callback_gate *gate);

#endif
