/*
 * The NAP HRESULTs (facility 0x27), with the values Windows uses
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_HRESULTS_H
#define NAP_HRESULTS_H

#include <winerror.h>

#ifndef NAP_E_INVALID_PACKET
#define NAP_E_INVALID_PACKET          ((HRESULT)0x80270001)
#define NAP_E_MISSING_SOH             ((HRESULT)0x80270002)
#define NAP_E_CONFLICTING_ID          ((HRESULT)0x80270003)
#define NAP_E_NO_CACHED_SOH           ((HRESULT)0x80270004)
#define NAP_E_STILL_BOUND             ((HRESULT)0x80270005)
#define NAP_E_NOT_REGISTERED          ((HRESULT)0x80270006)
#define NAP_E_NOT_INITIALIZED         ((HRESULT)0x80270007)
#define NAP_E_MISMATCHED_ID           ((HRESULT)0x80270008)
#define NAP_E_NOT_PENDING             ((HRESULT)0x80270009)
#define NAP_E_ID_NOT_FOUND            ((HRESULT)0x8027000A)
#define NAP_E_MAXSIZE_TOO_SMALL       ((HRESULT)0x8027000B)
#define NAP_E_SERVICE_NOT_RUNNING     ((HRESULT)0x8027000C)
#define NAP_S_CERT_ALREADY_PRESENT    ((HRESULT)0x0027000D)
#define NAP_E_ENTITY_DISABLED         ((HRESULT)0x8027000E)
#define NAP_E_NETSH_GROUPPOLICY_ERROR ((HRESULT)0x8027000F)
#define NAP_E_TOO_MANY_CALLS          ((HRESULT)0x80270010)
#endif

#endif
