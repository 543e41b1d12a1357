/*
 * qagent.dll internals shared between its files
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_QAGENT_PRIVATE_H
#define NAP_QAGENT_PRIVATE_H

#include <windows.h>
#include <objbase.h>
#include "com_server.h"
#include "NapEnforcementClient.h"


/* How many connection objects a binding has alive; shared with the
 * connections so that a connection may outlive its binding. */
struct connection_quota
{
    LONG refs;
    LONG live;
};
struct connection_quota *connection_quota_create(void);
void connection_quota_addref(struct connection_quota *quota);
void connection_quota_release(struct connection_quota *quota);
/* Reserves one slot; FALSE when `limit` connections are already alive. */
BOOL connection_quota_take(struct connection_quota *quota, LONG limit);
void connection_quota_give_back(struct connection_quota *quota);

/* connection.c: the INapEnforcementClientConnection2 property bag.  The new
 * object is initialised with `id` and holds one slot of `quota` (taken by the
 * caller, or NULL) that it gives back when it is destroyed. */
HRESULT connection_create(EnforcementEntityId id, struct connection_quota *quota,
                          INapEnforcementClientConnection **out);

/* connection_facts.c: what the agent needs to know of a connection, read
 * through the public interface only, so that an EC may pass its own object. */
struct _NAPAGENT_CONNECTION_FACTS;
HRESULT connection_read_facts(INapEnforcementClientConnection *connection,
                              struct _NAPAGENT_CONNECTION_FACTS *facts);

/* ec_session.c: one bound session with the agent and the thread that runs
 * the EC's callbacks.  Reference counted: the binding holds one reference,
 * the event thread another, and each binding call in flight one more. */
struct ec_session;
struct agent_link;
HRESULT ec_session_start(EnforcementEntityId id, INapEnforcementClientCallback *callback,
                         struct ec_session **out);
/* Ends the session: unbinds, stops the event thread and waits for it (bounded)
 * unless called on it, then drops the caller's reference.  S_OK, or why the
 * agent could not be told (RPC_E_DISCONNECTED, RPC_E_TIMEOUT). */
HRESULT ec_session_stop(struct ec_session *session);
void ec_session_addref(struct ec_session *session);
void ec_session_release(struct ec_session *session);
struct agent_link *ec_session_link(struct ec_session *session);
/* TRUE once the agent dropped the EC (its callback answered RPC_S_SERVER_UNAVAILABLE). */
BOOL ec_session_dropped(struct ec_session *session);

/* binding.c */
HRESULT binding_create(REFIID riid, void **out);

#endif
