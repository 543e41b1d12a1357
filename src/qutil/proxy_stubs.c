/*
 * qutil.dll's proxies and stubs: widl's tables for the SoH constructor and processor, under the CLSID regsvr32 registers
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Before rpcproxy.h, which reads them. */
#define ENTRY_PREFIX qutil_proxy_
#define PROXY_CLSID CLSID_QutilProxyStubs
#include "com_server.h"

/* INapSoHConstructor and INapSoHProcessor cross apartments and processes as
 * on Windows; widl -p made their proxies and stubs (NapProtocol_p.c) and
 * dlldata.c lists them.  Its DllGetClassObject and DllCanUnloadNow get a
 * prefix: ours (main.c, class_factory.c) answer for the proxies too. */
#include "qutil_dlldata.c"

/* {C7702A22-5EAB-4CA3-877F-CF676E8E8970}: our own, since where Windows keeps
 * the NAP interfaces' proxies and under which CLSID is not documented
 * (docs/decisions.md, "Apartments"). */
CLSID CLSID_QutilProxyStubs = { 0xc7702a22, 0x5eab, 0x4ca3, { 0x87, 0x7f, 0xcf, 0x67, 0x6e, 0x8e, 0x89, 0x70 } };

const struct com_proxy_stubs com_server_proxy_stubs = { &CLSID_QutilProxyStubs, aProxyFileList, &gPFactory };
