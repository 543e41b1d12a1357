/*
 * X-macro list of every ABI property of the NAP headers that must match Windows'
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * No include guard: this list is included once per table, inside an array
 * initializer, by abi_mingw.c and abi_ours.c, each with its own definitions of
 *   ABI_SIZE(type)            sizeof(type)
 *   ABI_FIELD(type, field)    offsetof(type, field) and the field's sizeof
 *   ABI_SLOT(iface, method)   offsetof(iface##Vtbl, method)
 *   ABI_VALUE(name)           value of a #define or enum constant, and its type
 *   ABI_GUID(name)            an IID_ / CLSID_ symbol
 * A macro a table does not need is defined empty.
 */

/* ---- naptypes.h: scalar and alias typedefs ---- */
ABI_SIZE(ProbationTime)
ABI_SIZE(MessageId)
ABI_SIZE(NapComponentId)
ABI_SIZE(SystemHealthEntityId)
ABI_SIZE(EnforcementEntityId)
ABI_SIZE(StringCorrelationId)
ABI_SIZE(SystemHealthEntityCount)
ABI_SIZE(EnforcementEntityCount)
ABI_SIZE(ConnectionId)
ABI_SIZE(Percentage)
ABI_SIZE(SoHRequest)
ABI_SIZE(SoHResponse)
ABI_SIZE(NetworkSoHRequest)
ABI_SIZE(NetworkSoHResponse)

/* ---- naptypes.h: enum types ---- */
ABI_SIZE(IsolationState)
ABI_SIZE(ExtendedIsolationState)
ABI_SIZE(NapTracingLevel)
ABI_SIZE(FailureCategory)
ABI_SIZE(FixupState)
ABI_SIZE(NapNotifyType)
ABI_SIZE(RemoteConfigurationType)

/* ---- naptypes.h: structs ---- */
ABI_SIZE(CountedString)
ABI_FIELD(CountedString, length)
ABI_FIELD(CountedString, string)

ABI_SIZE(IsolationInfo)
ABI_FIELD(IsolationInfo, isolationState)
ABI_FIELD(IsolationInfo, probEndTime)
ABI_FIELD(IsolationInfo, failureUrl)

ABI_SIZE(IsolationInfoEx)
ABI_FIELD(IsolationInfoEx, isolationState)
ABI_FIELD(IsolationInfoEx, extendedIsolationState)
ABI_FIELD(IsolationInfoEx, probEndTime)
ABI_FIELD(IsolationInfoEx, failureUrl)

ABI_SIZE(FailureCategoryMapping)
ABI_FIELD(FailureCategoryMapping, mappingCompliance)
ABI_FIELD(FailureCategoryMapping, mappingCompliance[0])

ABI_SIZE(CorrelationId)
ABI_FIELD(CorrelationId, connId)
ABI_FIELD(CorrelationId, timeStamp)

ABI_SIZE(ResultCodes)
ABI_FIELD(ResultCodes, count)
ABI_FIELD(ResultCodes, results)

ABI_SIZE(Ipv4Address)
ABI_FIELD(Ipv4Address, addr)

ABI_SIZE(Ipv6Address)
ABI_FIELD(Ipv6Address, addr)

ABI_SIZE(FixupInfo)
ABI_FIELD(FixupInfo, state)
ABI_FIELD(FixupInfo, percentage)
ABI_FIELD(FixupInfo, resultCodes)
ABI_FIELD(FixupInfo, fixupMsgId)

ABI_SIZE(SystemHealthAgentState)
ABI_FIELD(SystemHealthAgentState, id)
ABI_FIELD(SystemHealthAgentState, shaResultCodes)
ABI_FIELD(SystemHealthAgentState, failureCategory)
ABI_FIELD(SystemHealthAgentState, fixupInfo)

ABI_SIZE(SoHAttribute)
ABI_FIELD(SoHAttribute, type)
ABI_FIELD(SoHAttribute, size)
ABI_FIELD(SoHAttribute, value)

ABI_SIZE(SoH)
ABI_FIELD(SoH, count)
ABI_FIELD(SoH, attributes)

ABI_SIZE(NetworkSoH)
ABI_FIELD(NetworkSoH, size)
ABI_FIELD(NetworkSoH, data)

ABI_SIZE(PrivateData)
ABI_FIELD(PrivateData, size)
ABI_FIELD(PrivateData, data)

ABI_SIZE(NapComponentRegistrationInfo)
ABI_FIELD(NapComponentRegistrationInfo, id)
ABI_FIELD(NapComponentRegistrationInfo, friendlyName)
ABI_FIELD(NapComponentRegistrationInfo, description)
ABI_FIELD(NapComponentRegistrationInfo, version)
ABI_FIELD(NapComponentRegistrationInfo, vendorName)
ABI_FIELD(NapComponentRegistrationInfo, infoClsid)
ABI_FIELD(NapComponentRegistrationInfo, configClsid)
ABI_FIELD(NapComponentRegistrationInfo, registrationDate)
ABI_FIELD(NapComponentRegistrationInfo, componentType)

/* ---- naptypes.h: constants ---- */
ABI_VALUE(freshSoHRequest)
ABI_VALUE(shaFixup)
ABI_VALUE(percentageNotSupported)
ABI_VALUE(maxSoHAttributeCount)
ABI_VALUE(maxSoHAttributeSize)
ABI_VALUE(minNetworkSoHSize)
ABI_VALUE(maxNetworkSoHSize)
ABI_VALUE(maxDwordCountPerSoHAttribute)
ABI_VALUE(maxIpv4CountPerSoHAttribute)
ABI_VALUE(maxIpv6CountPerSoHAttribute)
ABI_VALUE(maxStringLength)
ABI_VALUE(maxStringLengthInBytes)
ABI_VALUE(maxSystemHealthEntityCount)
ABI_VALUE(maxEnforcerCount)
ABI_VALUE(maxPrivateDataSize)
ABI_VALUE(maxConnectionCountPerEnforcer)
ABI_VALUE(maxCachedSoHCount)
ABI_VALUE(failureCategoryCount)
ABI_VALUE(ComponentTypeEnforcementClientSoH)
ABI_VALUE(ComponentTypeEnforcementClientRp)

/* ---- naptypes.h: enum values ---- */
ABI_VALUE(isolationStateNotRestricted)
ABI_VALUE(isolationStateInProbation)
ABI_VALUE(isolationStateRestrictedAccess)
ABI_VALUE(extendedIsolationStateNoData)
ABI_VALUE(extendedIsolationStateTransition)
ABI_VALUE(extendedIsolationStateInfected)
ABI_VALUE(extendedIsolationStateUnknown)
ABI_VALUE(tracingLevelUndefined)
ABI_VALUE(tracingLevelBasic)
ABI_VALUE(tracingLevelAdvanced)
ABI_VALUE(tracingLevelDebug)
ABI_VALUE(failureCategoryNone)
ABI_VALUE(failureCategoryOther)
ABI_VALUE(failureCategoryClientComponent)
ABI_VALUE(failureCategoryClientCommunication)
ABI_VALUE(failureCategoryServerComponent)
ABI_VALUE(failureCategoryServerCommunication)
ABI_VALUE(fixupStateSuccess)
ABI_VALUE(fixupStateInProgress)
ABI_VALUE(fixupStateCouldNotUpdate)
ABI_VALUE(napNotifyTypeUnknown)
ABI_VALUE(napNotifyTypeServiceState)
ABI_VALUE(napNotifyTypeQuarState)
ABI_VALUE(remoteConfigTypeMachine)
ABI_VALUE(remoteConfigTypeConfigBlob)

/* ---- napenforcementclient.h: types and constants ---- */
ABI_SIZE(Connections)
ABI_FIELD(Connections, count)
ABI_FIELD(Connections, connections)

ABI_SIZE(ProtocolMaxSize)
ABI_VALUE(defaultProtocolMaxSize)
ABI_VALUE(minProtocolMaxSize)
ABI_VALUE(maxProtocolMaxSize)

/* ---- INapEnforcementClientBinding ---- */
ABI_SIZE(INapEnforcementClientBindingVtbl)
ABI_SLOT(INapEnforcementClientBinding, QueryInterface)
ABI_SLOT(INapEnforcementClientBinding, AddRef)
ABI_SLOT(INapEnforcementClientBinding, Release)
ABI_SLOT(INapEnforcementClientBinding, Initialize)
ABI_SLOT(INapEnforcementClientBinding, Uninitialize)
ABI_SLOT(INapEnforcementClientBinding, CreateConnection)
ABI_SLOT(INapEnforcementClientBinding, GetSoHRequest)
ABI_SLOT(INapEnforcementClientBinding, ProcessSoHResponse)
ABI_SLOT(INapEnforcementClientBinding, NotifyConnectionStateDown)
ABI_SLOT(INapEnforcementClientBinding, NotifySoHChangeFailure)

/* ---- INapEnforcementClientCallback ---- */
ABI_SIZE(INapEnforcementClientCallbackVtbl)
ABI_SLOT(INapEnforcementClientCallback, QueryInterface)
ABI_SLOT(INapEnforcementClientCallback, AddRef)
ABI_SLOT(INapEnforcementClientCallback, Release)
ABI_SLOT(INapEnforcementClientCallback, NotifySoHChange)
ABI_SLOT(INapEnforcementClientCallback, GetConnections)

/* ---- INapEnforcementClientConnection ---- */
ABI_SIZE(INapEnforcementClientConnectionVtbl)
ABI_SLOT(INapEnforcementClientConnection, QueryInterface)
ABI_SLOT(INapEnforcementClientConnection, AddRef)
ABI_SLOT(INapEnforcementClientConnection, Release)
ABI_SLOT(INapEnforcementClientConnection, Initialize)
ABI_SLOT(INapEnforcementClientConnection, SetMaxSize)
ABI_SLOT(INapEnforcementClientConnection, GetMaxSize)
ABI_SLOT(INapEnforcementClientConnection, SetFlags)
ABI_SLOT(INapEnforcementClientConnection, GetFlags)
ABI_SLOT(INapEnforcementClientConnection, SetConnectionId)
ABI_SLOT(INapEnforcementClientConnection, GetConnectionId)
ABI_SLOT(INapEnforcementClientConnection, GetCorrelationId)
ABI_SLOT(INapEnforcementClientConnection, GetStringCorrelationId)
ABI_SLOT(INapEnforcementClientConnection, SetCorrelationId)
ABI_SLOT(INapEnforcementClientConnection, SetSoHRequest)
ABI_SLOT(INapEnforcementClientConnection, GetSoHRequest)
ABI_SLOT(INapEnforcementClientConnection, SetSoHResponse)
ABI_SLOT(INapEnforcementClientConnection, GetSoHResponse)
ABI_SLOT(INapEnforcementClientConnection, SetIsolationInfo)
ABI_SLOT(INapEnforcementClientConnection, GetIsolationInfo)
ABI_SLOT(INapEnforcementClientConnection, SetPrivateData)
ABI_SLOT(INapEnforcementClientConnection, GetPrivateData)
ABI_SLOT(INapEnforcementClientConnection, SetEnforcerPrivateData)
ABI_SLOT(INapEnforcementClientConnection, GetEnforcerPrivateData)

/* ---- INapEnforcementClientConnection2 (inherits the whole table above) ---- */
ABI_SIZE(INapEnforcementClientConnection2Vtbl)
ABI_SLOT(INapEnforcementClientConnection2, QueryInterface)
ABI_SLOT(INapEnforcementClientConnection2, AddRef)
ABI_SLOT(INapEnforcementClientConnection2, Release)
ABI_SLOT(INapEnforcementClientConnection2, Initialize)
ABI_SLOT(INapEnforcementClientConnection2, SetMaxSize)
ABI_SLOT(INapEnforcementClientConnection2, GetMaxSize)
ABI_SLOT(INapEnforcementClientConnection2, SetFlags)
ABI_SLOT(INapEnforcementClientConnection2, GetFlags)
ABI_SLOT(INapEnforcementClientConnection2, SetConnectionId)
ABI_SLOT(INapEnforcementClientConnection2, GetConnectionId)
ABI_SLOT(INapEnforcementClientConnection2, GetCorrelationId)
ABI_SLOT(INapEnforcementClientConnection2, GetStringCorrelationId)
ABI_SLOT(INapEnforcementClientConnection2, SetCorrelationId)
ABI_SLOT(INapEnforcementClientConnection2, SetSoHRequest)
ABI_SLOT(INapEnforcementClientConnection2, GetSoHRequest)
ABI_SLOT(INapEnforcementClientConnection2, SetSoHResponse)
ABI_SLOT(INapEnforcementClientConnection2, GetSoHResponse)
ABI_SLOT(INapEnforcementClientConnection2, SetIsolationInfo)
ABI_SLOT(INapEnforcementClientConnection2, GetIsolationInfo)
ABI_SLOT(INapEnforcementClientConnection2, SetPrivateData)
ABI_SLOT(INapEnforcementClientConnection2, GetPrivateData)
ABI_SLOT(INapEnforcementClientConnection2, SetEnforcerPrivateData)
ABI_SLOT(INapEnforcementClientConnection2, GetEnforcerPrivateData)
ABI_SLOT(INapEnforcementClientConnection2, SetIsolationInfoEx)
ABI_SLOT(INapEnforcementClientConnection2, GetIsolationInfoEx)
ABI_SLOT(INapEnforcementClientConnection2, GetInstalledShvs)
ABI_SLOT(INapEnforcementClientConnection2, SetInstalledShvs)

/* ---- IIDs and CLSID ---- */
ABI_GUID(IID_INapEnforcementClientBinding)
ABI_GUID(IID_INapEnforcementClientCallback)
ABI_GUID(IID_INapEnforcementClientConnection)
ABI_GUID(IID_INapEnforcementClientConnection2)
ABI_GUID(CLSID_NapEnforcementClientBinding)
