/*
 * qagent.dll's proxies and stubs: widl's tables for its interfaces, under the CLSID regsvr32 registers
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Before rpcproxy.h, which reads them. */
#define ENTRY_PREFIX qagent_proxy_
#define PROXY_CLSID CLSID_QagentProxyStubs
#include "com_server.h"

/* The EC's and SHA's interfaces (bindings, callbacks, connection, SHA
 * request) and management cross apartments and processes as on Windows;
 * widl -p made their proxies and stubs (NapEnforcementClient_p.c, ...) and
 * dlldata.c lists them.  Its DllGetClassObject and DllCanUnloadNow get a
 * prefix: ours (main.c, class_factory.c) answer for the proxies too. */
#include "qagent_dlldata.c"

/* {B9060585-2CD5-4D16-99DD-4A16495D8764}: our own, since where Windows keeps
 * the NAP interfaces' proxies and under which CLSID is not documented
 * (docs/decisions.md, "Apartments"). */
CLSID CLSID_QagentProxyStubs = { 0xb9060585, 0x2cd5, 0x4d16, { 0x99, 0xdd, 0x4a, 0x16, 0x49, 0x5d, 0x87, 0x64 } };

const struct com_proxy_stubs com_server_proxy_stubs = { &CLSID_QagentProxyStubs, aProxyFileList, &gPFactory };
