/*
 * One SoH exchange as a test enforcement client does it, answered as a NAP server would
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "ec_exchange.h"
#include "soh.h"

HRESULT ec_answer_request(INapEnforcementClientConnection *connection, UINT16 *response_size)
{
    NetworkSoHRequest *request = NULL;
    struct soh_request decoded;
    struct soh_response response;
    NetworkSoHResponse soh;
    BYTE bytes[512];
    size_t size;
    HRESULT hr = INapEnforcementClientConnection_GetSoHRequest(connection, &request);

    if (FAILED(hr)) return hr;
    if (!request->size || soh_decode_request(request->data, request->size, &decoded) != SOH_OK) hr = E_FAIL;
    CoTaskMemFree(request->data);
    CoTaskMemFree(request);
    if (FAILED(hr)) return hr;
    memset(&response, 0, sizeof(response));
    response.with_mode_header = 1;
    response.has_correlation = 1;
    response.correlation = decoded.correlation;
    response.quarantine.state = 1;
    response.quarantine.prob_time = SOH_PROB_TIME_NONE;
    if (soh_encode_response(&response, bytes, sizeof(bytes), &size) != SOH_OK) return E_FAIL;
    if (response_size) *response_size = (UINT16)size;
    soh.size = (UINT16)size;
    soh.data = bytes;
    return INapEnforcementClientConnection_SetSoHResponse(connection, &soh);
}

HRESULT ec_exchange(INapEnforcementClientBinding *binding, INapEnforcementClientConnection *connection)
{
    BOOL retrigger;
    HRESULT hr;

    if (FAILED(hr = INapEnforcementClientBinding_GetSoHRequest(binding, connection, &retrigger))) return hr;
    if (FAILED(hr = ec_answer_request(connection, NULL))) return hr;
    return INapEnforcementClientBinding_ProcessSoHResponse(binding, connection);
}
