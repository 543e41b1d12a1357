/*
 * Binding to the NapAgent's ncalrpc endpoint
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_endpoint.h"

RPC_STATUS agent_endpoint_bind(RPC_BINDING_HANDLE *binding)
{
    RPC_WSTR string_binding = NULL;
    RPC_STATUS status;

    status = RpcStringBindingComposeW(NULL, (RPC_WSTR)NAPAGENT_PROTSEQ, NULL,
                                      (RPC_WSTR)NAPAGENT_ENDPOINT, NULL, &string_binding);
    if (status != RPC_S_OK) return status;
    status = RpcBindingFromStringBindingW(string_binding, binding);
    RpcStringFreeW(&string_binding);
    return status;
}
