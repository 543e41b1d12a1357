/*
 * One long poll per process for the events of every EC session in it
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_EVENT_PUMP_H
#define NAP_EVENT_PUMP_H

#include <windows.h>

/* Where the pump leaves one session's events, for the session's event
 * thread to take; nothing of the pump ever blocks on it.  All fields are the
 * pump's, under its lock. */
struct event_mailbox
{
    UINT64 cookie;       /* the session the mailbox is watched for; 0: not watched */
    UINT32 pending;      /* EVENT_BIT() of each event posted and not taken */
    BOOL woken;          /* event_mailbox_wake was called */
};

#define EVENT_BIT(event) (1u << (event))

void event_mailbox_init(struct event_mailbox *mailbox);
/* Unwatches it. */
void event_mailbox_destroy(struct event_mailbox *mailbox);
/* Ends a wait with nothing posted (the session is stopping). */
void event_mailbox_wake(struct event_mailbox *mailbox);
/* Waits up to timeout_ms for events or a wake, then takes the events posted
 * since the last call, as EVENT_BIT()s (0: none). */
UINT32 event_mailbox_wait(struct event_mailbox *mailbox, DWORD timeout_ms);

/* Makes the pump fetch the events of the session cookie names for this
 * mailbox (replacing what it watched before), starting the pump if none
 * runs.  Once the agent reports the session gone, or the pump loses the
 * agent, the mailbox gets NAPAGENT_EVENT_CLOSED and is no longer watched. */
HRESULT event_pump_watch(struct event_mailbox *mailbox, UINT64 cookie);
void event_pump_unwatch(struct event_mailbox *mailbox);

#endif
