/*
 * qutil.dll's exports with the signatures Windows' naputil.h gives them:
 * abi_mingw.c checks mingw-w64's header against this list and abi_ours.c
 * checks include/NapUtil.h, both at compile time, so the two agree.
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* ABI_FUNCTION(return type, name, parameter types) */
ABI_FUNCTION(HRESULT, AllocConnections, (Connections **, UINT16))
ABI_FUNCTION(HRESULT, AllocCountedString, (CountedString **, const WCHAR *))
ABI_FUNCTION(HRESULT, AllocFixupInfo, (FixupInfo **, UINT16))
ABI_FUNCTION(VOID, FreeConnections, (Connections *))
ABI_FUNCTION(VOID, FreeCountedString, (CountedString *))
ABI_FUNCTION(VOID, FreeFixupInfo, (FixupInfo *))
ABI_FUNCTION(VOID, FreeIsolationInfo, (IsolationInfo *))
ABI_FUNCTION(VOID, FreeIsolationInfoEx, (IsolationInfoEx *))
ABI_FUNCTION(VOID, FreeNapComponentRegistrationInfoArray, (UINT16, NapComponentRegistrationInfo **))
ABI_FUNCTION(VOID, FreeNetworkSoH, (NetworkSoH *))
ABI_FUNCTION(VOID, FreePrivateData, (PrivateData *))
ABI_FUNCTION(VOID, FreeSoH, (SoH *))
ABI_FUNCTION(VOID, FreeSoHAttributeValue, (SoHAttributeType, SoHAttributeValue *))
ABI_FUNCTION(VOID, FreeSystemHealthAgentState, (SystemHealthAgentState *))
ABI_FUNCTION(HRESULT, InitializeNapAgentNotifier, (NapNotifyType, HANDLE))
ABI_FUNCTION(VOID, UninitializeNapAgentNotifier, (NapNotifyType))
