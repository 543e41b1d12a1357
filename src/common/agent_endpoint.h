/*
 * Where the NapAgent listens, and how a client binds to it
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_AGENT_ENDPOINT_H
#define NAP_AGENT_ENDPOINT_H

#include <windows.h>
#include <rpc.h>

#define NAPAGENT_PROTSEQ  L"ncalrpc"
#define NAPAGENT_ENDPOINT L"napagent"

/* A fresh binding handle to the agent's endpoint (no call is made). */
RPC_STATUS agent_endpoint_bind(RPC_BINDING_HANDLE *binding);

#endif
