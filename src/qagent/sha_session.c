/*
 * What a system health agent's session adds: its callbacks and their answers to the agent
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "session.h"
#include "agent_call.h"
#include "nap_hresults.h"
#include "nap_trace.h"

NAP_TRACE_CHANNEL(qagent);

/* The answer to one event, with its SoH and codes inline (agent_call.h). */
struct answer_args
{
    UINT32 request_id;
    NAPAGENT_SHA_ANSWER answer;
    BYTE soh[maxNetworkSoHSize];
    HRESULT codes[maxDwordCountPerSoHAttribute];
};

static HRESULT answer_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    struct answer_args *args = arg;

    args->answer.soh.data = args->answer.soh.size ? args->soh : NULL;
    args->answer.fixup.codes = args->answer.fixup.code_count ? args->codes : NULL;
    return NapAgentShaAnswer(agent, cookie, args->request_id, &args->answer);
}

static const struct agent_method answer_method =
{
    .name = "NapAgentShaAnswer",
    .stub = answer_stub,
    .args_size = sizeof(struct answer_args)
};

static void answer(struct session *session, struct answer_args *args)
{
    agent_call(&session->agent, &answer_method, args);
}

static struct answer_args *new_answer(const NAPAGENT_EVENT *event)
{
    struct answer_args *args = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*args));

    if (args) args->request_id = event->request_id;
    return args;
}

static HRESULT new_request(struct session *session, const NAPAGENT_EVENT *event, struct sha_request **out)
{
    CorrelationId correlation = { event->correlation.conn_id, event->correlation.time_stamp };

    return sha_request_create(session->agent.id, &correlation, out);
}

static void run_get_soh_request(struct session *session, INapSystemHealthAgentCallback *callback,
                                const NAPAGENT_EVENT *event, struct answer_args *args)
{
    struct sha_request *request;
    HRESULT hr;

    if (FAILED(hr = new_request(session, event, &request)))
    {
        args->answer.result = hr;
        answer(session, args);
        return;
    }
    /* A cached SoH the codec refuses is no cached SoH. */
    if (event->soh.size && FAILED(hr = sha_request_preload(request, event->soh.data, event->soh.size)))
        WARN("%s: the agent's cached SoH does not validate (0x%08lx): none\n",
             agent_session_name(&session->agent), hr);
    hr = INapSystemHealthAgentCallback_GetSoHRequest(callback, sha_request_iface(request));
    TRACE("%s: GetSoHRequest 0x%08lx\n", agent_session_name(&session->agent), hr);
    if (!session_callback_gone(session, hr))
    {
        args->answer.result = hr;
        sha_request_result(request, args->soh, sizeof(args->soh), &args->answer.soh.size, &args->answer.cache_soh);
        answer(session, args);
    }
    INapSystemHealthAgentRequest_Release(sha_request_iface(request));
}

static void run_process_soh_response(struct session *session, INapSystemHealthAgentCallback *callback,
                                     const NAPAGENT_EVENT *event, struct answer_args *args)
{
    struct sha_request *request;
    HRESULT hr;

    if (SUCCEEDED(hr = new_request(session, event, &request)))
    {
        /* An SoHR the codec refuses never reaches the SHA: the answer says why. */
        if (SUCCEEDED(hr = sha_request_set_response(request, event->soh.data, event->soh.size, event->flags)))
            hr = INapSystemHealthAgentCallback_ProcessSoHResponse(callback, sha_request_iface(request));
        else WARN("%s: the SoHR does not validate (0x%08lx): not shown to the SHA\n",
                  agent_session_name(&session->agent), hr);
        TRACE("%s: ProcessSoHResponse 0x%08lx\n", agent_session_name(&session->agent), hr);
        INapSystemHealthAgentRequest_Release(sha_request_iface(request));
        if (session_callback_gone(session, hr)) return;
    }
    args->answer.result = hr;
    answer(session, args);
}

/* The SHA allocates the FixupInfo and its codes with CoTaskMem; the agent (us) frees both. */
static void run_get_fixup_info(struct session *session, INapSystemHealthAgentCallback *callback,
                               struct answer_args *args)
{
    FixupInfo *fixup = NULL;
    HRESULT hr;

    hr = INapSystemHealthAgentCallback_GetFixupInfo(callback, &fixup);
    if (SUCCEEDED(hr) && !fixup)
    {
        WARN("%s: GetFixupInfo succeeded without a FixupInfo\n", agent_session_name(&session->agent));
        hr = E_POINTER;
    }
    TRACE("%s: GetFixupInfo 0x%08lx, state %d\n", agent_session_name(&session->agent), hr,
          SUCCEEDED(hr) ? (int)fixup->state : -1);
    if (SUCCEEDED(hr))
    {
        args->answer.fixup.state = fixup->state;
        args->answer.fixup.percentage = fixup->percentage;
        args->answer.fixup.message_id = fixup->fixupMsgId;
        args->answer.fixup.code_count = fixup->resultCodes.results
                                        ? min(fixup->resultCodes.count, maxDwordCountPerSoHAttribute) : 0;
        if (args->answer.fixup.code_count)
            memcpy(args->codes, fixup->resultCodes.results, args->answer.fixup.code_count * sizeof(HRESULT));
    }
    args->answer.result = hr;
    if (!session_callback_gone(session, hr)) answer(session, args);
    if (fixup) CoTaskMemFree(fixup->resultCodes.results);
    CoTaskMemFree(fixup);
}

static void run_compare(struct session *session, INapSystemHealthAgentCallback *callback,
                        const NAPAGENT_EVENT *event, struct answer_args *args)
{
    SoH *lhs = NULL, *rhs = NULL;
    BOOL equal = FALSE;
    HRESULT hr;

    /* SoHs the SHA could not read: let the agent compare the bytes. */
    if (FAILED(soh_struct_from_tlvs(event->soh.data, event->soh.size, TRUE, &lhs))
        || FAILED(soh_struct_from_tlvs(event->other.data, event->other.size, TRUE, &rhs)))
    {
        WARN("%s: SoHs to compare do not validate: the agent compares the bytes\n",
             agent_session_name(&session->agent));
        hr = E_NOTIMPL;
    }
    else hr = INapSystemHealthAgentCallback_CompareSoHRequests(callback, lhs, rhs, &equal);
    TRACE("%s: CompareSoHRequests 0x%08lx, equal %d\n", agent_session_name(&session->agent), hr, equal);
    soh_struct_free(lhs);
    soh_struct_free(rhs);
    if (session_callback_gone(session, hr)) return;
    args->answer.result = hr;
    args->answer.equal = SUCCEEDED(hr) && equal;
    answer(session, args);
}

static void sha_run_event(struct session *session, IUnknown *unknown, const NAPAGENT_EVENT *event)
{
    INapSystemHealthAgentCallback *callback = (INapSystemHealthAgentCallback *)unknown;
    CorrelationId correlation = { event->correlation.conn_id, event->correlation.time_stamp };
    struct answer_args *args = new_answer(event);

    if (!args) return;
    switch (event->type)
    {
    case NAPAGENT_EVENT_GET_SOH_REQUEST:      run_get_soh_request(session, callback, event, args); break;
    case NAPAGENT_EVENT_PROCESS_SOH_RESPONSE: run_process_soh_response(session, callback, event, args); break;
    case NAPAGENT_EVENT_GET_FIXUP_INFO:       run_get_fixup_info(session, callback, args); break;
    case NAPAGENT_EVENT_COMPARE:              run_compare(session, callback, event, args); break;
    case NAPAGENT_EVENT_ORPHANED:
        session_callback_gone(session, INapSystemHealthAgentCallback_NotifyOrphanedSoHRequest(callback, &correlation));
        break;
    case NAPAGENT_EVENT_ISOLATION_CHANGED:
        session_callback_gone(session, INapSystemHealthAgentCallback_NotifySystemIsolationStateChange(callback));
        break;
    default:
        WARN("%s: event %u is not for an SHA\n", agent_session_name(&session->agent), event->type);
        break;
    }
    HeapFree(GetProcessHeap(), 0, args);
}

static const struct session_type sha_type = { NAPAGENT_KIND_SHA, sha_run_event, NULL, NULL, NULL };

HRESULT sha_session_start(SystemHealthEntityId id, INapSystemHealthAgentCallback *callback, struct session **out)
{
    return session_start(&sha_type, id, (IUnknown *)callback, &IID_INapSystemHealthAgentCallback, NULL, out);
}
