/*
 * qutil.dll helper exports: Alloc* / Free* for the NAP data types (Windows' signatures)
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_NAPUTIL_H
#define NAP_NAPUTIL_H

#include <windows.h>
#include "NapTypes.h"
#include "NapEnforcementClient.h"
#include "NapProtocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/* qutil.dll itself defines NAPAPI as nothing before including this file. */
#ifndef NAPAPI
#define NAPAPI DECLSPEC_IMPORT
#endif

/* Every block these functions hand out or take back is CoTaskMem; each Free*
 * accepts NULL and frees every embedded pointer before the struct.
 * FreeSoHAttributeValue frees the union's block too (the one
 * INapSoHProcessor::GetAttribute returned), so it takes no union that lives
 * inside something else.  FreeNapComponentRegistrationInfoArray takes the
 * address of the array pointer GetRegistered* filled, (count, &array), and
 * sets it to NULL. */
NAPAPI HRESULT WINAPI AllocConnections(Connections **connections, UINT16 connectionsCount);
NAPAPI HRESULT WINAPI AllocCountedString(CountedString **countedString, const WCHAR *string);
NAPAPI HRESULT WINAPI AllocFixupInfo(FixupInfo **fixupInfo, UINT16 countResultCodes);
NAPAPI VOID WINAPI FreeConnections(Connections *connections);
NAPAPI VOID WINAPI FreeCountedString(CountedString *countedString);
NAPAPI VOID WINAPI FreeFixupInfo(FixupInfo *fixupInfo);
NAPAPI VOID WINAPI FreeIsolationInfo(IsolationInfo *isolationInfo);
NAPAPI VOID WINAPI FreeIsolationInfoEx(IsolationInfoEx *isolationInfo);
NAPAPI VOID WINAPI FreeNapComponentRegistrationInfoArray(UINT16 count, NapComponentRegistrationInfo **info);
NAPAPI VOID WINAPI FreeNetworkSoH(NetworkSoH *networkSoh);
NAPAPI VOID WINAPI FreePrivateData(PrivateData *privateData);
NAPAPI VOID WINAPI FreeSoH(SoH *soh);
NAPAPI VOID WINAPI FreeSoHAttributeValue(SoHAttributeType type, SoHAttributeValue *value);
NAPAPI VOID WINAPI FreeSystemHealthAgentState(SystemHealthAgentState *state);

/* One subscription per process and type: the event (owned by the caller) is
 * set when the NapAgent starts or stops (napNotifyTypeServiceState) or when
 * the system's isolation state changes (napNotifyTypeQuarState).  A second
 * subscription of a type fails with HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED);
 * Uninitialize of a type not subscribed does nothing. */
NAPAPI HRESULT WINAPI InitializeNapAgentNotifier(NapNotifyType type, HANDLE hNotifyEvent);
NAPAPI VOID WINAPI UninitializeNapAgentNotifier(NapNotifyType type);

#ifdef __cplusplus
}
#endif

#endif /* NAP_NAPUTIL_H */
