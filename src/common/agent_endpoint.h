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

#define NAPAGENT_PROTSEQ L"ncalrpc"
/* Each agent process listens on an endpoint of its own, "napagent-<pid>",
 * and publishes it with its pid in this volatile key.  Under Wine a named
 * pipe outlives its dead server while clients hold handles to it: a new
 * agent creating the same pipe name can wedge, and a client connecting to a
 * dead agent's name waits forever.  A fresh name per agent, and a client that
 * connects only to a live agent, avoid both (docs/decisions.md). */
#define NAPAGENT_RUNTIME_KEY L"System\\CurrentControlSet\\Services\\napagent\\Runtime"
#define NAPAGENT_ENDPOINT_MAX 32

/* The endpoint of the running agent, or FALSE if no agent process is alive. */
BOOL agent_endpoint_find(WCHAR *endpoint, DWORD size);
/* A bare RPC handle to the running agent; RPC_S_SERVER_UNAVAILABLE when
 * none runs.  endpoint (may be NULL) receives its name.  For the tests'
 * own control calls and the benchmarks' bare baselines only: clients call
 * the agent through agent_call (agent_call.h). */
RPC_STATUS agent_endpoint_bind_to(RPC_BINDING_HANDLE *binding, WCHAR *endpoint, DWORD size);
RPC_STATUS agent_endpoint_bind(RPC_BINDING_HANDLE *binding);

/* Agent side: publish / withdraw the endpoint this process listens on. */
BOOL agent_endpoint_publish(const WCHAR *endpoint);
void agent_endpoint_withdraw(const WCHAR *endpoint);

#endif
