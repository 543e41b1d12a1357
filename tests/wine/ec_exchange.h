/*
 * One SoH exchange as a test enforcement client does it, answered as a NAP server would
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_EC_EXCHANGE_H
#define NAP_EC_EXCHANGE_H

#include <windows.h>
#include "NapEnforcementClient.h"

/* Answers the connection's current request with "not restricted" (its
 * correlation id in the mode sub-header); *response_size (may be NULL)
 * receives the answer's size. */
HRESULT ec_answer_request(INapEnforcementClientConnection *connection, UINT16 *response_size);
/* GetSoHRequest, the answer above, ProcessSoHResponse. */
HRESULT ec_exchange(INapEnforcementClientBinding *binding, INapEnforcementClientConnection *connection);

#endif
