/*
 * The system's isolation as GetSystemIsolationInfo(Ex) hand it out, for the SHA binding and management
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "agent_call.h"

struct isolation_args
{
    NAPAGENT_SYSTEM_ISOLATION isolation;
};

static HRESULT isolation_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    (void)cookie;
    return NapAgentGetSystemIsolation(agent, &((struct isolation_args *)arg)->isolation);
}

static void isolation_free(void *arg)
{
    MIDL_user_free(((struct isolation_args *)arg)->isolation.failure_url);
}

/* Management starts the agent, as every management call does. */
static const struct agent_method management_isolation_method =
{
    .name = "NapAgentGetSystemIsolation",
    .stub = isolation_stub,
    .free_out = isolation_free,
    .args_size = sizeof(struct isolation_args),
    .may_start_agent = TRUE
};
/* A binding's call does not (docs/decisions.md, "Agent on demand"), even
 * while its session is not yet known to be lost with the agent. */
static const struct agent_method binding_isolation_method =
{
    .name = "NapAgentGetSystemIsolation",
    .stub = isolation_stub,
    .free_out = isolation_free,
    .args_size = sizeof(struct isolation_args)
};

/* The struct and its URL are two CoTaskMem blocks, as FreeIsolationInfo(Ex) frees them. */
static HRESULT copy_url(const WCHAR *url, CountedString *out)
{
    size_t length = url ? min(lstrlenW(url), maxStringLength) : 0;

    out->length = 0;
    if (!(out->string = CoTaskMemAlloc((length + 1) * sizeof(WCHAR)))) return E_OUTOFMEMORY;
    if (length) memcpy(out->string, url, length * sizeof(WCHAR));
    out->string[length] = 0;
    out->length = (UINT16)length;
    return S_OK;
}

static HRESULT make_info(const NAPAGENT_SYSTEM_ISOLATION *isolation, BOOL extended, void **out)
{
    IsolationInfoEx *info_ex;
    IsolationInfo *info;
    HRESULT hr;

    if (!extended)
    {
        if (!(info = CoTaskMemAlloc(sizeof(*info)))) return E_OUTOFMEMORY;
        info->isolationState = isolation->state;
        info->probEndTime = isolation->prob_end_time;
        if (FAILED(hr = copy_url(isolation->failure_url, &info->failureUrl))) CoTaskMemFree(info);
        else *out = info;
        return hr;
    }
    if (!(info_ex = CoTaskMemAlloc(sizeof(*info_ex)))) return E_OUTOFMEMORY;
    info_ex->isolationState = isolation->state;
    info_ex->extendedIsolationState = isolation->extended_state;
    info_ex->probEndTime = isolation->prob_end_time;
    if (FAILED(hr = copy_url(isolation->failure_url, &info_ex->failureUrl))) CoTaskMemFree(info_ex);
    else *out = info_ex;
    return hr;
}

HRESULT system_isolation_get(struct agent_session *session, BOOL extended, void **out, BOOL *unknown)
{
    const struct agent_method *method = session ? &binding_isolation_method : &management_isolation_method;
    struct isolation_args args = { { 0 } };
    HRESULT hr;

    if (SUCCEEDED(hr = agent_call(session, method, &args))
        && SUCCEEDED(hr = make_info(&args.isolation, extended, out)))
        *unknown = args.isolation.unknown_connections;
    MIDL_user_free(args.isolation.failure_url);
    return hr;
}
