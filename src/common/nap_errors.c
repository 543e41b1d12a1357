/*
 * HRESULT to text, for the messages of napctl and the samples
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <windows.h>
#include <rpc.h>
#include <winsock2.h>
#include "nap_errors.h"
#include "nap_hresults.h"

struct nap_error
{
    HRESULT hr;
    const char *text;
};

/* Windows 7 server-side codes: winerror.h has them, nap_hresults.h does not. */
#ifndef NAP_E_SHV_CONFIG_EXISTED
#define NAP_E_SHV_CONFIG_EXISTED   ((HRESULT)0x80270011)
#define NAP_E_SHV_CONFIG_NOT_FOUND ((HRESULT)0x80270012)
#define NAP_E_SHV_TIMEOUT          ((HRESULT)0x80270013)
#endif

#define NAP_ERROR(code, meaning) { code, #code " (" meaning ")" }
#define WIN32_ERROR(code, meaning) { HRESULT_FROM_WIN32(code), #code " (" meaning ")" }

/* The NAP codes with the meanings of Microsoft's NAP error constants page (docs/nap-facts.md, Error codes), then the generic codes
 * the NAP APIs and the RPC/COM plumbing under them return. */
static const struct nap_error nap_errors[] =
{
    NAP_ERROR(S_OK, "success"),
    NAP_ERROR(S_FALSE, "success, nothing done"),
    NAP_ERROR(NAP_E_INVALID_PACKET, "SoH packet invalid"),
    NAP_ERROR(NAP_E_MISSING_SOH, "an SoH is missing from the NAP packet"),
    NAP_ERROR(NAP_E_CONFLICTING_ID, "id already registered"),
    NAP_ERROR(NAP_E_NO_CACHED_SOH, "no cached SoH"),
    NAP_ERROR(NAP_E_STILL_BOUND, "entity still bound"),
    NAP_ERROR(NAP_E_NOT_REGISTERED, "entity not registered"),
    NAP_ERROR(NAP_E_NOT_INITIALIZED, "entity not initialized"),
    NAP_ERROR(NAP_E_MISMATCHED_ID, "correlation ids of request and response differ"),
    NAP_ERROR(NAP_E_NOT_PENDING, "request is not pending"),
    NAP_ERROR(NAP_E_ID_NOT_FOUND, "component id not found"),
    NAP_ERROR(NAP_E_MAXSIZE_TOO_SMALL, "connection max size too small for the SoH"),
    NAP_ERROR(NAP_E_SERVICE_NOT_RUNNING, "the NapAgent is not running"),
    NAP_ERROR(NAP_S_CERT_ALREADY_PRESENT, "certificate already in store"),
    NAP_ERROR(NAP_E_ENTITY_DISABLED, "entity disabled in the NapAgent"),
    NAP_ERROR(NAP_E_NETSH_GROUPPOLICY_ERROR, "Group Policy not configured"),
    NAP_ERROR(NAP_E_TOO_MANY_CALLS, "too many simultaneous calls"),
    NAP_ERROR(NAP_E_SHV_CONFIG_EXISTED, "SHV configuration exists"),
    NAP_ERROR(NAP_E_SHV_CONFIG_NOT_FOUND, "SHV configuration not found"),
    NAP_ERROR(NAP_E_SHV_TIMEOUT, "SHV timed out"),
    NAP_ERROR(RPC_E_DISCONNECTED, "the NapAgent is not running"),
    WIN32_ERROR(RPC_S_SERVER_UNAVAILABLE, "the NapAgent is not running"),
    WIN32_ERROR(RPC_S_CALL_FAILED, "the call to the NapAgent failed"),
    WIN32_ERROR(RPC_S_CALL_FAILED_DNE, "the call to the NapAgent failed"),
    WIN32_ERROR(RPC_S_COMM_FAILURE, "lost contact with the NapAgent"),
    WIN32_ERROR(RPC_S_INVALID_BINDING, "invalid binding to the NapAgent"),
    WIN32_ERROR(ERROR_ALREADY_INITIALIZED, "this enforcer is already initialized"),
    WIN32_ERROR(ERROR_FILE_NOT_FOUND, "not found"),
    WIN32_ERROR(ERROR_TIMEOUT, "the operation timed out"),
    WIN32_ERROR(WAIT_TIMEOUT, "the wait timed out"),
    WIN32_ERROR(WSAECONNREFUSED, "connection refused"),
    WIN32_ERROR(WSAETIMEDOUT, "the network operation timed out"),
    NAP_ERROR(E_ACCESSDENIED, "access denied"),
    NAP_ERROR(E_OUTOFMEMORY, "out of memory"),
    NAP_ERROR(E_INVALIDARG, "invalid argument"),
    NAP_ERROR(E_POINTER, "invalid pointer"),
    NAP_ERROR(E_NOTIMPL, "not implemented"),
    NAP_ERROR(E_NOINTERFACE, "interface not supported"),
    NAP_ERROR(E_UNEXPECTED, "unexpected failure"),
    NAP_ERROR(E_FAIL, "unspecified failure"),
    NAP_ERROR(REGDB_E_CLASSNOTREG, "class not registered: is qagent.dll registered?"),
    NAP_ERROR(CO_E_NOTINITIALIZED, "CoInitialize has not been called"),
    NAP_ERROR(RPC_E_CHANGED_MODE, "COM already initialized in another mode"),
};

const char *nap_error_name(HRESULT hr)
{
    size_t i;

    for (i = 0; i < ARRAYSIZE(nap_errors); i++)
        if (nap_errors[i].hr == hr) return nap_errors[i].text;
    if (HRESULT_FACILITY(hr) == 0x27) return "unknown NAP code";
    return SUCCEEDED(hr) ? "success" : "unrecognized failure";
}

BOOL nap_error_agent_gone(HRESULT hr)
{
    return hr == RPC_E_DISCONNECTED || hr == HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE)
        || hr == NAP_E_SERVICE_NOT_RUNNING;
}
