/*
 * The binding's link to the NapAgent: one EC session over ncalrpc
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_link.h"
#include "agent_endpoint.h"
#include "rpc_guard.h"

struct agent_link
{
    RPC_BINDING_HANDLE binding;
    NAPAGENT_EC_HANDLE ec;
    UINT64 cookie;
    UINT32 ec_id;
};

/* One argument block for every call; each thunk uses the fields it needs. */
struct link_call
{
    struct agent_link *link;
    const NAPAGENT_CONNECTION_FACTS *facts;
    const GUID *guid;
    const BYTE *bytes;
    UINT16 size;
    UINT32 value;
    UINT32 *event;
    NAPAGENT_CORRELATION *correlation;
    BYTE *flags;
    BOOL *retrigger;
    NAPAGENT_BLOB *blob;
    NAPAGENT_ISOLATION *isolation;
};

static HRESULT call_agent(rpc_guarded_fn thunk, struct link_call *call)
{
    DWORD code;
    HRESULT hr = rpc_guarded_call(thunk, call, &code);

    if (code && rpc_code_means_disconnected(code)) return RPC_E_DISCONNECTED;
    return hr;
}

static HRESULT bind_thunk(void *arg)
{
    struct link_call *call = arg;
    struct agent_link *link = call->link;

    return NapAgentEcBind(link->binding, link->ec_id, GetCurrentProcessId(), &link->cookie, &link->ec);
}

HRESULT agent_link_bind(UINT32 ec_id, struct agent_link **out)
{
    struct agent_link *link;
    struct link_call call = { 0 };
    HRESULT hr;

    *out = NULL;
    if (!(link = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*link)))) return E_OUTOFMEMORY;
    link->ec_id = ec_id;
    if (agent_endpoint_bind(&link->binding) != RPC_S_OK)
    {
        HeapFree(GetProcessHeap(), 0, link);
        return RPC_E_DISCONNECTED;
    }
    call.link = link;
    hr = call_agent(bind_thunk, &call);
    if (FAILED(hr))
    {
        agent_link_free(link);
        return hr;
    }
    *out = link;
    return S_OK;
}

static HRESULT unbind_thunk(void *arg)
{
    struct link_call *call = arg;

    return NapAgentEcUnbind(&call->link->ec);
}

void agent_link_unbind(struct agent_link *link)
{
    struct link_call call = { .link = link };

    if (!link->ec) return;
    if (FAILED(call_agent(unbind_thunk, &call)) && link->ec)
    {
        /* The agent is gone; its rundown has already forgotten us. */
        RpcSsDestroyClientContext(&link->ec);
    }
    link->ec = NULL;
}

void agent_link_free(struct agent_link *link)
{
    if (!link) return;
    agent_link_unbind(link);
    RpcBindingFree(&link->binding);
    HeapFree(GetProcessHeap(), 0, link);
}

static HRESULT get_soh_request_thunk(void *arg)
{
    struct link_call *call = arg;

    return NapAgentEcGetSoHRequest(call->link->ec, call->facts, call->correlation, call->flags,
                                   call->retrigger, call->blob);
}

HRESULT agent_link_get_soh_request(struct agent_link *link, const NAPAGENT_CONNECTION_FACTS *facts,
                                   NAPAGENT_CORRELATION *correlation, BYTE *flags, BOOL *retrigger,
                                   NAPAGENT_BLOB *request)
{
    struct link_call call = { .link = link, .facts = facts, .correlation = correlation,
                              .flags = flags, .retrigger = retrigger, .blob = request };

    request->size = 0;
    request->data = NULL;
    return call_agent(get_soh_request_thunk, &call);
}

static HRESULT process_soh_response_thunk(void *arg)
{
    struct link_call *call = arg;

    return NapAgentEcProcessSoHResponse(call->link->ec, call->facts, call->size, call->bytes, call->isolation);
}

HRESULT agent_link_process_soh_response(struct agent_link *link, const NAPAGENT_CONNECTION_FACTS *facts,
                                        const BYTE *response, UINT16 size, NAPAGENT_ISOLATION *isolation)
{
    static const BYTE no_bytes[1];
    struct link_call call = { .link = link, .facts = facts, .bytes = response ? response : no_bytes,
                              .size = size, .isolation = isolation };

    ZeroMemory(isolation, sizeof(*isolation));
    return call_agent(process_soh_response_thunk, &call);
}

static HRESULT connection_down_thunk(void *arg)
{
    struct link_call *call = arg;

    return NapAgentEcConnectionDown(call->link->ec, call->guid);
}

HRESULT agent_link_connection_down(struct agent_link *link, const GUID *connection_id)
{
    struct link_call call = { .link = link, .guid = connection_id };

    return call_agent(connection_down_thunk, &call);
}

static HRESULT soh_change_failure_thunk(void *arg)
{
    struct link_call *call = arg;

    return NapAgentEcSoHChangeFailure(call->link->ec);
}

HRESULT agent_link_soh_change_failure(struct agent_link *link)
{
    struct link_call call = { .link = link };

    return call_agent(soh_change_failure_thunk, &call);
}

static HRESULT wait_event_thunk(void *arg)
{
    struct link_call *call = arg;

    return NapAgentEcWaitEvent(call->link->binding, call->link->cookie, call->value, call->event);
}

HRESULT agent_link_wait_event(struct agent_link *link, UINT32 timeout_ms, UINT32 *event)
{
    struct link_call call = { .link = link, .value = timeout_ms, .event = event };

    *event = NAPAGENT_EVENT_NONE;
    return call_agent(wait_event_thunk, &call);
}

static HRESULT answer_connections_thunk(void *arg)
{
    struct link_call *call = arg;

    return NapAgentEcAnswerConnections(call->link->ec, call->size, call->facts);
}

HRESULT agent_link_answer_connections(struct agent_link *link, UINT16 count,
                                      const NAPAGENT_CONNECTION_FACTS *connections)
{
    static const NAPAGENT_CONNECTION_FACTS none;
    struct link_call call = { .link = link, .size = count, .facts = count ? connections : &none };

    return call_agent(answer_connections_thunk, &call);
}

static HRESULT callback_gone_thunk(void *arg)
{
    struct link_call *call = arg;

    return NapAgentEcCallbackGone(call->link->ec);
}

HRESULT agent_link_callback_gone(struct agent_link *link)
{
    struct link_call call = { .link = link };

    return call_agent(callback_gone_thunk, &call);
}

void agent_link_free_blob(NAPAGENT_BLOB *blob)
{
    MIDL_user_free(blob->data);
    blob->data = NULL;
    blob->size = 0;
}

void agent_link_free_isolation(NAPAGENT_ISOLATION *isolation)
{
    MIDL_user_free(isolation->failure_url);
    isolation->failure_url = NULL;
}
