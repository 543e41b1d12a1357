/*
 * The EC binding's calls to the NapAgent, on top of the session link
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_link.h"
#include "nap_hresults.h"

static HRESULT ec_bind(RPC_BINDING_HANDLE binding, UINT32 id, UINT32 process_id, UINT64 previous_cookie,
                       UINT64 *cookie, void **handle)
{
    return NapAgentEcBind(binding, id, process_id, previous_cookie, cookie, (NAPAGENT_EC_HANDLE *)handle);
}

static HRESULT ec_unbind(void **handle)
{
    return NapAgentEcUnbind((NAPAGENT_EC_HANDLE *)handle);
}

static HRESULT ec_end(RPC_BINDING_HANDLE binding, UINT64 cookie)
{
    return NapAgentEcEnd(binding, cookie);
}

static const struct session_kind ec_kind = { ec_bind, ec_unbind, ec_end };

/* The inputs and outputs of any EC call. */
struct ec_job
{
    struct session_job base;
    NAPAGENT_CONNECTION_FACTS facts;
    UINT16 size;
    BYTE bytes[NAPAGENT_MAX_SOH];
    NAPAGENT_CONNECTION_FACTS connections[NAPAGENT_MAX_GONE];
    NAPAGENT_CORRELATION correlation;
    BYTE flags;
    BOOL retrigger;
    NAPAGENT_BLOB blob;
    NAPAGENT_ISOLATION isolation;
};

static inline struct ec_job *ec_job(struct session_job *job)
{
    return CONTAINING_RECORD(job, struct ec_job, base);
}

static void free_outputs(struct session_job *base)
{
    struct ec_job *job = ec_job(base);

    agent_link_free_blob(&job->blob);
    agent_link_free_isolation(&job->isolation);
}

static struct ec_job *new_job(struct session_link *link, HRESULT (*call)(struct session_job *job))
{
    return session_job_create(link, sizeof(struct ec_job), call, free_outputs);
}

/* Makes a call with no outputs and releases its job. */
static HRESULT call_and_release(struct ec_job *job)
{
    HRESULT hr;

    if (!job) return E_OUTOFMEMORY;
    hr = session_link_call(&job->base);
    session_job_release(&job->base);
    return hr;
}

HRESULT agent_link_bind(UINT32 ec_id, DWORD timeout_ms, struct session_link **out)
{
    return session_link_bind(&ec_kind, ec_id, timeout_ms, out);
}

static HRESULT get_soh_request_call(struct session_job *base)
{
    struct ec_job *job = ec_job(base);

    return NapAgentEcGetSoHRequest(base->binding, base->cookie, &job->facts, &job->correlation, &job->flags,
                                   &job->retrigger, &job->blob);
}

HRESULT agent_link_get_soh_request(struct session_link *link, const NAPAGENT_CONNECTION_FACTS *facts,
                                   NAPAGENT_CORRELATION *correlation, BYTE *flags, BOOL *retrigger,
                                   NAPAGENT_BLOB *request)
{
    struct ec_job *job = new_job(link, get_soh_request_call);
    HRESULT hr;

    request->size = 0;
    request->data = NULL;
    if (!job) return E_OUTOFMEMORY;
    job->facts = *facts;
    if (SUCCEEDED(hr = session_link_call(&job->base)))
    {
        *correlation = job->correlation;
        *flags = job->flags;
        *retrigger = job->retrigger;
        *request = job->blob;
        job->blob.data = NULL;
    }
    session_job_release(&job->base);
    return hr;
}

static HRESULT process_soh_response_call(struct session_job *base)
{
    struct ec_job *job = ec_job(base);

    return NapAgentEcProcessSoHResponse(base->binding, base->cookie, &job->facts, job->size, job->bytes,
                                        &job->isolation);
}

HRESULT agent_link_process_soh_response(struct session_link *link, const NAPAGENT_CONNECTION_FACTS *facts,
                                        const BYTE *response, UINT16 size, NAPAGENT_ISOLATION *isolation)
{
    struct ec_job *job;
    HRESULT hr;

    ZeroMemory(isolation, sizeof(*isolation));
    /* Longer than any SoH: the agent would only refuse it. */
    if (size > NAPAGENT_MAX_SOH) return NAP_E_INVALID_PACKET;
    if (!(job = new_job(link, process_soh_response_call))) return E_OUTOFMEMORY;
    job->facts = *facts;
    job->size = size;
    if (size) memcpy(job->bytes, response, size);
    if (SUCCEEDED(hr = session_link_call(&job->base)))
    {
        *isolation = job->isolation;
        job->isolation.failure_url = NULL;
    }
    session_job_release(&job->base);
    return hr;
}

static HRESULT connection_down_call(struct session_job *base)
{
    return NapAgentEcConnectionDown(base->binding, base->cookie, &ec_job(base)->facts);
}

HRESULT agent_link_connection_down(struct session_link *link, const NAPAGENT_CONNECTION_FACTS *facts)
{
    struct ec_job *job = new_job(link, connection_down_call);

    if (job) job->facts = *facts;
    return call_and_release(job);
}

static HRESULT connections_gone_call(struct session_job *base)
{
    struct ec_job *job = ec_job(base);

    return NapAgentEcConnectionsGone(base->binding, base->cookie, job->size, job->connections);
}

HRESULT agent_link_connections_gone(struct session_link *link, UINT16 count, const NAPAGENT_CONNECTION_FACTS *gone)
{
    struct ec_job *job;

    if (count > NAPAGENT_MAX_GONE) return E_INVALIDARG;
    if ((job = new_job(link, connections_gone_call)))
    {
        job->size = count;
        memcpy(job->connections, gone, count * sizeof(*gone));
    }
    return call_and_release(job);
}

static HRESULT soh_change_failure_call(struct session_job *base)
{
    return NapAgentEcSoHChangeFailure(base->binding, base->cookie);
}

HRESULT agent_link_soh_change_failure(struct session_link *link)
{
    return call_and_release(new_job(link, soh_change_failure_call));
}

static HRESULT answer_connections_call(struct session_job *base)
{
    struct ec_job *job = ec_job(base);

    return NapAgentEcAnswerConnections(base->binding, base->cookie, job->size, job->connections);
}

HRESULT agent_link_answer_connections(struct session_link *link, UINT16 count,
                                      const NAPAGENT_CONNECTION_FACTS *connections)
{
    struct ec_job *job;

    if (count > NAPAGENT_MAX_CONNECTIONS) return E_INVALIDARG;
    if ((job = new_job(link, answer_connections_call)))
    {
        job->size = count;
        memcpy(job->connections, connections, count * sizeof(*connections));
    }
    return call_and_release(job);
}

static HRESULT callback_gone_call(struct session_job *base)
{
    return NapAgentEcCallbackGone(base->binding, base->cookie);
}

HRESULT agent_link_callback_gone(struct session_link *link)
{
    HRESULT hr = call_and_release(new_job(link, callback_gone_call));

    /* The agent dropped us: no rebinding behind the EC's back. */
    session_link_close(link);
    return hr;
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
