/*
 * HRESULT to text, for the messages of napctl and the samples
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <windows.h>
#include <rpc.h>
#include "nap_errors.h"

struct nap_error
{
    HRESULT hr;
    const char *text;
};

#define NAP_CODE(n) ((HRESULT)(0x80270000u | (n)))

/* NAP codes as winerror.h names them (reference §12), then the generic codes
 * the NAP APIs and the RPC/COM plumbing under them return. */
static const struct nap_error nap_errors[] =
{
    { S_OK,                "S_OK (success)" },
    { S_FALSE,             "S_FALSE (success, nothing done)" },
    { NAP_CODE(0x01),      "NAP_E_INVALID_PACKET (SoH packet invalid)" },
    { NAP_CODE(0x02),      "NAP_E_MISSING_SOH (an SoH is missing from the NAP packet)" },
    { NAP_CODE(0x03),      "NAP_E_CONFLICTING_ID (id already registered)" },
    { NAP_CODE(0x04),      "NAP_E_NO_CACHED_SOH (no cached SoH)" },
    { NAP_CODE(0x05),      "NAP_E_STILL_BOUND (entity still bound)" },
    { NAP_CODE(0x06),      "NAP_E_NOT_REGISTERED (entity not registered)" },
    { NAP_CODE(0x07),      "NAP_E_NOT_INITIALIZED (entity not initialized)" },
    { NAP_CODE(0x08),      "NAP_E_MISMATCHED_ID (correlation ids of request and response differ)" },
    { NAP_CODE(0x09),      "NAP_E_NOT_PENDING (request is not pending)" },
    { NAP_CODE(0x0a),      "NAP_E_ID_NOT_FOUND (component id not found)" },
    { NAP_CODE(0x0b),      "NAP_E_MAXSIZE_TOO_SMALL (connection max size too small for the SoH)" },
    { NAP_CODE(0x0c),      "NAP_E_SERVICE_NOT_RUNNING (the NapAgent is not running)" },
    { (HRESULT)0x0027000d, "NAP_S_CERT_ALREADY_PRESENT (certificate already in store)" },
    { NAP_CODE(0x0e),      "NAP_E_ENTITY_DISABLED (entity disabled in the NapAgent)" },
    { NAP_CODE(0x0f),      "NAP_E_NETSH_GROUPPOLICY_ERROR (Group Policy not configured)" },
    { NAP_CODE(0x10),      "NAP_E_TOO_MANY_CALLS (too many simultaneous calls)" },
    { NAP_CODE(0x11),      "NAP_E_SHV_CONFIG_EXISTED (SHV configuration exists)" },
    { NAP_CODE(0x12),      "NAP_E_SHV_CONFIG_NOT_FOUND (SHV configuration not found)" },
    { NAP_CODE(0x13),      "NAP_E_SHV_TIMEOUT (SHV timed out)" },
    { RPC_E_DISCONNECTED,  "RPC_E_DISCONNECTED (the NapAgent is not running)" },
    { HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE),
                           "RPC_S_SERVER_UNAVAILABLE (the NapAgent is not running)" },
    { HRESULT_FROM_WIN32(RPC_S_CALL_FAILED),     "RPC_S_CALL_FAILED (the call to the NapAgent failed)" },
    { HRESULT_FROM_WIN32(RPC_S_CALL_FAILED_DNE), "RPC_S_CALL_FAILED_DNE (the call to the NapAgent failed)" },
    { HRESULT_FROM_WIN32(RPC_S_COMM_FAILURE),    "RPC_S_COMM_FAILURE (lost contact with the NapAgent)" },
    { HRESULT_FROM_WIN32(RPC_S_INVALID_BINDING), "RPC_S_INVALID_BINDING (invalid binding to the NapAgent)" },
    { HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED),
                           "ERROR_ALREADY_INITIALIZED (this enforcer is already initialized)" },
    { HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND),  "ERROR_FILE_NOT_FOUND (not found)" },
    { HRESULT_FROM_WIN32(ERROR_TIMEOUT),         "ERROR_TIMEOUT (the operation timed out)" },
    { HRESULT_FROM_WIN32(WAIT_TIMEOUT),          "WAIT_TIMEOUT (the wait timed out)" },
    { E_ACCESSDENIED,      "E_ACCESSDENIED (access denied)" },
    { E_OUTOFMEMORY,       "E_OUTOFMEMORY (out of memory)" },
    { E_INVALIDARG,        "E_INVALIDARG (invalid argument)" },
    { E_POINTER,           "E_POINTER (invalid pointer)" },
    { E_NOTIMPL,           "E_NOTIMPL (not implemented)" },
    { E_NOINTERFACE,       "E_NOINTERFACE (interface not supported)" },
    { E_UNEXPECTED,        "E_UNEXPECTED (unexpected failure)" },
    { E_FAIL,              "E_FAIL (unspecified failure)" },
    { REGDB_E_CLASSNOTREG, "REGDB_E_CLASSNOTREG (class not registered: is qagent.dll registered?)" },
    { CO_E_NOTINITIALIZED, "CO_E_NOTINITIALIZED (CoInitialize has not been called)" },
    { RPC_E_CHANGED_MODE,  "RPC_E_CHANGED_MODE (COM already initialized in another mode)" },
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
        || hr == NAP_CODE(0x0c);
}
