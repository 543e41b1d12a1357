/*
 * A test enforcement client's callback object that records what the agent asks
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_CALLBACK_SINK_H
#define NAP_CALLBACK_SINK_H

#include <windows.h>
#include "NapEnforcementClient.h"

struct callback_sink
{
    INapEnforcementClientCallback INapEnforcementClientCallback_iface;
    LONG refs;
    volatile LONG notify_count;
    volatile LONG get_connections_count;
    DWORD notify_thread_id;
    HRESULT notify_result;             /* what NotifySoHChange answers */
    /* Optional re-entrant work done inside NotifySoHChange: */
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
    BOOL request_in_notify;            /* call binding->GetSoHRequest(connection) */
    HRESULT request_in_notify_result;
    BOOL uninitialize_in_notify;       /* call binding->Uninitialize() */
    HRESULT uninitialize_in_notify_result;
    BOOL release_in_notify;            /* release `binding` (the test gave up its reference) */
    DWORD sleep_in_notify_ms;          /* a slow EC: NotifySoHChange takes this long */
    LONG refs_during_notify;
    /* What GetConnections returns (AddRef'd for the caller, as the SDK sample does). */
    UINT16 connection_count;
    INapEnforcementClientConnection *connections[20];
};

void callback_sink_init(struct callback_sink *sink);
LONG callback_sink_refs(struct callback_sink *sink);
/* Waits up to timeout_ms for notify_count to reach at least `count`. */
BOOL callback_sink_wait_notify(struct callback_sink *sink, LONG count, DWORD timeout_ms);

#endif
