/*
 * What an enforcement client's session adds: its callbacks, and the connections it released
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "session.h"
#include "agent_call.h"
#include "nap_trace.h"

NAP_TRACE_CHANNEL(qagent);

/* The agent owns what GetConnections returns: the array, the struct and one
 * reference per connection (docs/decisions.md). */
static void free_connections(Connections *connections)
{
    UINT16 i;

    if (!connections) return;
    for (i = 0; i < connections->count && connections->connections; i++)
        if (connections->connections[i]) INapEnforcementClientConnection_Release(connections->connections[i]);
    CoTaskMemFree(connections->connections);
    CoTaskMemFree(connections);
}

struct answer_args
{
    UINT16 count;
    NAPAGENT_CONNECTION_FACTS connections[maxConnectionCountPerEnforcer];
};

AGENT_METHOD(answer_method, struct answer_args, NapAgentEcAnswerConnections,
             (agent, cookie, args->count, args->connections));

static void answer_get_connections(struct session *session, INapEnforcementClientCallback *callback)
{
    struct answer_args args = { 0 };
    Connections *connections = NULL;
    HRESULT hr;
    UINT16 i;

    hr = INapEnforcementClientCallback_GetConnections(callback, &connections);
    TRACE("%s: GetConnections 0x%08lx, %u connection(s)\n", agent_session_name(&session->agent), hr,
          SUCCEEDED(hr) && connections ? connections->count : 0);
    if (session_callback_gone(session, hr))
    {
        free_connections(connections);
        return;
    }
    if (FAILED(hr))
        WARN("%s: GetConnections failed (0x%08lx): answering none\n", agent_session_name(&session->agent), hr);
    if (SUCCEEDED(hr) && connections && connections->connections)
    {
        for (i = 0; i < connections->count && args.count < maxConnectionCountPerEnforcer; i++)
        {
            INapEnforcementClientConnection *connection = connections->connections[i];
            if (connection && SUCCEEDED(connection_read_facts(connection, &args.connections[args.count])))
                args.count++;
        }
    }
    free_connections(connections);
    /* A failed callback answers "no connections up", which is also what it says. */
    agent_call(&session->agent, &answer_method, &args);
}

static void ec_run_event(struct session *session, IUnknown *unknown, const NAPAGENT_EVENT *event)
{
    INapEnforcementClientCallback *callback = (INapEnforcementClientCallback *)unknown;
    HRESULT hr;

    switch (event->type)
    {
    case NAPAGENT_EVENT_GET_CONNECTIONS:
        answer_get_connections(session, callback);
        break;
    case NAPAGENT_EVENT_SOH_CHANGE:
        hr = INapEnforcementClientCallback_NotifySoHChange(callback);
        TRACE("%s: NotifySoHChange 0x%08lx\n", agent_session_name(&session->agent), hr);
        session_callback_gone(session, hr);
        break;
    default:
        WARN("%s: event %u is not for an EC\n", agent_session_name(&session->agent), event->type);
        break;
    }
}

struct gone_args
{
    UINT16 count;
    NAPAGENT_CONNECTION_FACTS gone[NAPAGENT_MAX_GONE];
};

AGENT_METHOD(gone_method, struct gone_args, NapAgentEcConnectionsGone, (agent, cookie, args->count, args->gone));

HRESULT ec_session_report_gone(struct session *session, ULONGLONG deadline)
{
    struct gone_args args;

    /* If the agent does not hear it, it re-learns the live connections
     * (GetConnections) when it comes back: nothing to keep. */
    if (!(args.count = connection_quota_take_gone(session->context, args.gone, ARRAYSIZE(args.gone)))) return S_OK;
    return agent_call_until(&session->agent, &gone_method, &args, deadline);
}

/* Between events, on the callback thread. */
static void report_gone_now(struct session *session)
{
    ec_session_report_gone(session, agent_call_deadline(&session->agent));
}

/* A connection object ended, on whichever thread released it: the callback
 * thread tells the agent, so that it stops counting at once. */
static void wake_for_gone(void *context)
{
    struct session *session = context;

    event_mailbox_wake(&session->mailbox);
}

/* Clears the watch only if it is still this session's: a binding that
 * initialises again (after a drop) starts its new session before it stops
 * the old one, which must not take the new one's watch away. */
static void ec_stopping(struct session *session)
{
    connection_quota_unwatch(session->context, session);
}

static void ec_free_context(void *context)
{
    connection_quota_release(context);
}

static const struct session_type ec_type =
    { NAPAGENT_KIND_EC, ec_run_event, report_gone_now, ec_stopping, ec_free_context };

HRESULT ec_session_start(EnforcementEntityId id, INapEnforcementClientCallback *callback,
                         struct connection_quota *quota, struct session **out)
{
    HRESULT hr;

    connection_quota_addref(quota);
    hr = session_start(&ec_type, id, (IUnknown *)callback, &IID_INapEnforcementClientCallback, quota, out);
    if (FAILED(hr)) return hr;
    connection_quota_watch(quota, wake_for_gone, *out);
    return S_OK;
}
