/*
 * The thread that carries a session's events to a callback in another apartment, one at a time
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_COURIER_H
#define NAP_COURIER_H

#include <windows.h>
#include <objbase.h>
#include "event_pump.h"

/*
 * A call through a proxy into an STA blocks until the STA's message loop
 * takes it, which may be never.  So the session's own thread does not make
 * it: it hands each event to the session's courier and goes on (reopening
 * the session, reporting released connections, Uninitialize), and the
 * courier, an MTA thread, runs the events in order through the gate's proxy
 * (callback_gate.c).  Events wait in the courier's queue while the STA does
 * not pump (at most COURIER_QUEUE_MAX; docs/decisions.md, "Apartments").
 */
#define COURIER_QUEUE_MAX 64

struct courier;

/* Runs one event with the callback's proxy, on the courier. */
typedef void (*courier_run_fn)(void *context, IUnknown *callback, const NAPAGENT_EVENT *event);

/* Starts the courier, which takes over stream (the gate marshalled as iid)
 * and unmarshals it in the MTA.  run(context, proxy, event) runs each
 * event; done(context) runs last, when the thread has released the proxy.
 * On failure the stream stays the caller's. */
HRESULT courier_start(IStream *stream, REFIID iid, courier_run_fn run, void (*done)(void *context), void *context,
                      struct courier **out);
/* Queues an event (taken over) and returns at once.  A payload-less
 * notification of a kind already waiting is not queued twice; past
 * COURIER_QUEUE_MAX waiting, the oldest is dropped. */
void courier_post(struct courier *courier, struct mailbox_event *event);
/* Drops what waits; the event in flight finishes, then the thread releases
 * the proxy (in the callback's apartment) and ends.  Returns at once; the
 * caller's pointer is no longer valid. */
void courier_stop(struct courier *courier);

#endif
