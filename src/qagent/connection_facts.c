/*
 * Reading a connection's facts for the agent through the public interface
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "napagent_rpc.h"

HRESULT connection_read_facts(INapEnforcementClientConnection *connection, NAPAGENT_CONNECTION_FACTS *facts)
{
    ConnectionId *id = NULL;
    CorrelationId correlation;
    HRESULT hr;

    ZeroMemory(facts, sizeof(*facts));
    hr = INapEnforcementClientConnection_GetConnectionId(connection, &id);
    if (FAILED(hr)) return hr;
    if (!id) return E_UNEXPECTED;
    facts->connection_id = *id;
    CoTaskMemFree(id);

    hr = INapEnforcementClientConnection_GetMaxSize(connection, &facts->max_size);
    if (FAILED(hr)) return hr;

    hr = INapEnforcementClientConnection_GetCorrelationId(connection, &correlation);
    if (FAILED(hr)) return hr;
    facts->correlation.conn_id = correlation.connId;
    facts->correlation.time_stamp = correlation.timeStamp;
    return S_OK;
}
