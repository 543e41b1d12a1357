/*
 * The bound on every call a client makes to the agent
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_CALL_TIMEOUT_H
#define NAP_CALL_TIMEOUT_H

#include <windows.h>

/* In ms: the agent's Parameters\ClientCallTimeoutMs (`napctl set
 * client-timeout`), 5000 by default, read afresh each time. */
DWORD read_call_timeout(void);

#endif
