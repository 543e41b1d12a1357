/*
 * The SHA binding's calls to the NapAgent, on top of the session link
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "napagent_rpc.h"
#include "session_link.h"
#include "nap_hresults.h"

static HRESULT sha_bind(RPC_BINDING_HANDLE binding, UINT32 id, UINT32 process_id, UINT64 previous_cookie,
                        UINT64 *cookie, void **handle)
{
    return NapAgentShaBind(binding, id, process_id, previous_cookie, cookie, (NAPAGENT_SHA_HANDLE *)handle);
}

static HRESULT sha_unbind(void **handle)
{
    return NapAgentShaUnbind((NAPAGENT_SHA_HANDLE *)handle);
}

static HRESULT sha_end(RPC_BINDING_HANDLE binding, UINT64 cookie)
{
    return NapAgentShaEnd(binding, cookie);
}

static const struct session_kind sha_kind = { sha_bind, sha_unbind, sha_end };

/* The inputs and outputs of any SHA call. */
struct sha_job
{
    struct session_job base;
    UINT32 request_id;
    UINT64 call_seq;
    NAPAGENT_SHA_ANSWER answer;    /* its pointers point into soh and codes below */
    BYTE soh[NAPAGENT_MAX_SOH];
    HRESULT codes[maxDwordCountPerSoHAttribute];
    NAPAGENT_SYSTEM_ISOLATION isolation;
};

static inline struct sha_job *sha_job(struct session_job *job)
{
    return CONTAINING_RECORD(job, struct sha_job, base);
}

static void free_outputs(struct session_job *base)
{
    sha_link_free_isolation(&sha_job(base)->isolation);
}

static struct sha_job *new_job(struct session_link *link, HRESULT (*call)(struct session_job *job))
{
    return session_job_create(link, sizeof(struct sha_job), call, free_outputs);
}

static HRESULT call_and_release(struct sha_job *job)
{
    HRESULT hr;

    if (!job) return E_OUTOFMEMORY;
    hr = session_link_call(&job->base);
    session_job_release(&job->base);
    return hr;
}

HRESULT sha_link_bind(UINT32 sha_id, DWORD timeout_ms, struct session_link **out)
{
    return session_link_bind(&sha_kind, sha_id, timeout_ms, out);
}

static HRESULT notify_call(struct session_job *base)
{
    return NapAgentShaNotifySoHChange(base->binding, base->cookie, sha_job(base)->call_seq);
}

HRESULT sha_link_notify_soh_change(struct session_link *link, UINT64 call_seq)
{
    struct sha_job *job = new_job(link, notify_call);

    if (job) job->call_seq = call_seq;
    return call_and_release(job);
}

static HRESULT flush_call(struct session_job *base)
{
    return NapAgentShaFlushCache(base->binding, base->cookie, sha_job(base)->call_seq);
}

HRESULT sha_link_flush_cache(struct session_link *link, UINT64 call_seq)
{
    struct sha_job *job = new_job(link, flush_call);

    if (job) job->call_seq = call_seq;
    return call_and_release(job);
}

static HRESULT isolation_call(struct session_job *base)
{
    return NapAgentGetSystemIsolation(base->binding, &sha_job(base)->isolation);
}

HRESULT sha_link_get_isolation(struct session_link *link, NAPAGENT_SYSTEM_ISOLATION *isolation)
{
    struct sha_job *job = new_job(link, isolation_call);
    HRESULT hr;

    ZeroMemory(isolation, sizeof(*isolation));
    if (!job) return E_OUTOFMEMORY;
    if (SUCCEEDED(hr = session_link_call(&job->base)))
    {
        *isolation = job->isolation;
        job->isolation.failure_url = NULL;
    }
    session_job_release(&job->base);
    return hr;
}

void sha_link_free_isolation(NAPAGENT_SYSTEM_ISOLATION *isolation)
{
    MIDL_user_free(isolation->failure_url);
    isolation->failure_url = NULL;
}

static HRESULT answer_call(struct session_job *base)
{
    struct sha_job *job = sha_job(base);

    return NapAgentShaAnswer(base->binding, base->cookie, job->request_id, &job->answer);
}

/* The answer is copied into the job, since the job may outlive the caller. */
HRESULT sha_link_answer(struct session_link *link, UINT32 request_id, const NAPAGENT_SHA_ANSWER *answer)
{
    struct sha_job *job;

    if (answer->soh.size > NAPAGENT_MAX_SOH || answer->fixup.code_count > maxDwordCountPerSoHAttribute)
        return E_INVALIDARG;
    if (!(job = new_job(link, answer_call))) return E_OUTOFMEMORY;
    job->request_id = request_id;
    job->answer = *answer;
    job->answer.soh.data = answer->soh.size ? job->soh : NULL;
    memcpy(job->soh, answer->soh.data, answer->soh.size);
    job->answer.fixup.codes = answer->fixup.code_count ? job->codes : NULL;
    memcpy(job->codes, answer->fixup.codes, answer->fixup.code_count * sizeof(HRESULT));
    return call_and_release(job);
}

static HRESULT gone_call(struct session_job *base)
{
    return NapAgentShaCallbackGone(base->binding, base->cookie);
}

HRESULT sha_link_callback_gone(struct session_link *link)
{
    HRESULT hr = call_and_release(new_job(link, gone_call));

    /* The agent dropped us: no rebinding behind the SHA's back. */
    session_link_close(link);
    return hr;
}

struct wait_call
{
    RPC_BINDING_HANDLE binding;
    UINT64 cookie;
    UINT32 timeout_ms;
    NAPAGENT_SHA_EVENT *event;
};

static HRESULT wait_event_thunk(void *arg)
{
    struct wait_call *call = arg;

    return NapAgentShaWaitEvent(call->binding, call->cookie, call->timeout_ms, call->event);
}

void sha_link_free_event(NAPAGENT_SHA_EVENT *event)
{
    MIDL_user_free(event->soh.data);
    MIDL_user_free(event->other.data);
    ZeroMemory(event, sizeof(*event));
}

/* The long poll runs on the event thread itself: it may block as long as the
 * agent does, which only delays callbacks, never the SHA's own calls. */
HRESULT sha_link_wait_event(struct session_link *link, UINT32 timeout_ms, NAPAGENT_SHA_EVENT *event)
{
    struct wait_call call = { NULL, 0, timeout_ms, event };
    void *handle;
    DWORD code;
    HRESULT hr;

    ZeroMemory(event, sizeof(*event));
    if (FAILED(hr = session_link_wait_begin(link, &call.binding, &call.cookie, &handle))) return hr;
    hr = rpc_guarded_call(wait_event_thunk, &call, &code);
    if (code && rpc_code_means_disconnected(code)) hr = RPC_E_DISCONNECTED;
    if (hr == RPC_E_DISCONNECTED || hr == NAP_E_NOT_INITIALIZED
        || (SUCCEEDED(hr) && event->type == NAPAGENT_SHA_EVENT_CLOSED))
    {
        sha_link_free_event(event);
        /* Closed by us: the end.  Otherwise the agent lost us: rebind next time. */
        event->type = session_link_wait_lost(link, handle) ? NAPAGENT_SHA_EVENT_CLOSED : NAPAGENT_SHA_EVENT_NONE;
        return hr == NAP_E_NOT_INITIALIZED || SUCCEEDED(hr) ? S_OK : hr;
    }
    if (FAILED(hr)) sha_link_free_event(event);
    return hr;
}
