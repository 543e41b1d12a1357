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

/* Where the pump leaves one session's events.  The session's event thread
 * waits on ready, then takes them; nothing of the pump blocks on it. */
struct event_mailbox
{
    HANDLE ready;        /* auto-reset; set by the pump, or by event_mailbox_wake */
    /* The pump's, under its lock. */
    UINT64 cookie;       /* the session the mailbox is watched for; 0: not watched */
    UINT32 pending;      /* EVENT_BIT() of each event posted and not taken */
};

#define EVENT_BIT(event) (1u << (event))

BOOL event_mailbox_init(struct event_mailbox *mailbox);
/* Unwatches it first. */
void event_mailbox_destroy(struct event_mailbox *mailbox);
/* Wakes the waiting thread with nothing posted (the session is stopping). */
void event_mailbox_wake(struct event_mailbox *mailbox);
/* The events posted since the last take, as EVENT_BIT()s. */
UINT32 event_mailbox_take(struct event_mailbox *mailbox);

/* Makes the pump fetch the events of the session cookie names for this
 * mailbox (replacing what it watched before), starting the pump if none
 * runs.  Once the agent reports the session gone, or the pump loses the
 * agent, the mailbox gets NAPAGENT_EVENT_CLOSED and is no longer watched. */
HRESULT event_pump_watch(struct event_mailbox *mailbox, UINT64 cookie);
void event_pump_unwatch(struct event_mailbox *mailbox);

#endif
