/*
 * Apartment-threaded test objects: an EC callback, an SHA callback and an EC connection bound to their STA
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_STA_OBJECTS_H
#define NAP_STA_OBJECTS_H

#include <windows.h>
#include "NapEnforcementClient.h"
#include "NapSystemHealthAgent.h"

/*
 * Written as an ATL CComSingleThreadModel object or a VB6 class is: the
 * reference count is a plain ++ / --, and nothing is locked, because COM
 * promises such an object that it is only ever entered on its STA's
 * thread.  Each object counts every call that comes on another thread,
 * AddRef and Release included (wrong_thread), instead of asserting, since
 * the calls come from inside COM and qagent.dll.
 */

struct sta_ec
{
    INapEnforcementClientCallback INapEnforcementClientCallback_iface;
    LONG refs;                         /* not atomic, on purpose */
    DWORD thread;                      /* its STA */
    volatile LONG wrong_thread;
    volatile LONG notify_count, get_connections_count;
    /* NotifySoHChange: GetSoHRequest(connection) on binding, as the docs allow */
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    BOOL request_in_notify, uninitialize_in_notify;
    HRESULT request_in_notify_result, uninitialize_in_notify_result;
    DWORD uninitialize_in_notify_ms;
    /* What GetConnections hands over (AddRef'd for the caller, as the SDK sample does). */
    UINT16 connection_count;
    INapEnforcementClientConnection *connections[4];
};

void sta_ec_init(struct sta_ec *ec);

/* The SHA: its SoH is System-Health-Id `id` and one compliance code `marker`. */
struct sta_sha
{
    INapSystemHealthAgentCallback INapSystemHealthAgentCallback_iface;
    LONG refs;                         /* not atomic, on purpose */
    DWORD thread;
    volatile LONG wrong_thread;
    volatile LONG get_soh_count, process_count, isolation_count, fixup_count, compare_count, orphaned_count;
    UINT32 id, marker;
    BOOL cache;                        /* cacheSohForLaterUse */
    HRESULT set_soh_result;
    UINT8 response_flags;
    UINT16 response_attributes;
    LONG fixup_in_progress;            /* GetFixupInfo says InProgress this many times, then Success */
};

void sta_sha_init(struct sta_sha *sha, UINT32 id, UINT32 marker);

/* An EC's own connection object in its STA, keeping its properties in
 * `inner` (one from CreateConnection, free-threaded). */
struct sta_connection
{
    INapEnforcementClientConnection INapEnforcementClientConnection_iface;
    LONG refs;                         /* not atomic, on purpose */
    DWORD thread;
    volatile LONG wrong_thread;
    volatile LONG calls;
    INapEnforcementClientConnection *inner;
};

/* Takes over the caller's reference on inner; the object starts with one reference. */
void sta_connection_init(struct sta_connection *connection, INapEnforcementClientConnection *inner);

/* Runs the calling STA's message loop, as a GetMessage loop would, until
 * cond(arg) (NULL: until timeout_ms passed); returns cond's last answer. */
BOOL sta_pump_until(BOOL (*cond)(void *arg), void *arg, DWORD timeout_ms);

#endif
