/*
 * One long poll per process for the events of every session (EC and SHA) in it
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_EVENT_PUMP_H
#define NAP_EVENT_PUMP_H

#include <windows.h>
#include "napagent_rpc.h"

/* One event as the pump leaves it: its blobs are the mailbox's (MIDL). */
struct mailbox_event
{
    struct mailbox_event *next;
    NAPAGENT_EVENT event;
};

/* Where the pump leaves one session's events, oldest first, for the
 * session's callback thread; nothing of the pump ever blocks on it.  All
 * fields are the pump's, under its lock. */
struct event_mailbox
{
    UINT64 cookie;                     /* the session watched for; 0: not watched */
    struct mailbox_event *head, *tail;
    BOOL woken;                        /* event_mailbox_wake was called */
};

void event_mailbox_init(struct event_mailbox *mailbox);
/* Unwatches it and frees what it holds. */
void event_mailbox_destroy(struct event_mailbox *mailbox);
/* Ends a wait with nothing taken (the session is stopping, or has work). */
void event_mailbox_wake(struct event_mailbox *mailbox);
/* Waits up to timeout_ms for an event or a wake; takes the oldest event
 * (NULL: none).  take FALSE: only waits, and takes nothing. */
struct mailbox_event *event_mailbox_wait(struct event_mailbox *mailbox, DWORD timeout_ms, BOOL take);
void mailbox_event_free(struct mailbox_event *event);

/* Makes the pump fetch the events of the session cookie names for this
 * mailbox (replacing what it watched before; a CLOSED of the session before
 * is dropped), starting the pump if none runs.  Once the agent reports the
 * session gone, or the pump loses the agent, the mailbox gets a
 * NAPAGENT_EVENT_CLOSED and is no longer watched. */
HRESULT event_pump_watch(struct event_mailbox *mailbox, UINT64 cookie);
void event_pump_unwatch(struct event_mailbox *mailbox);

#endif
