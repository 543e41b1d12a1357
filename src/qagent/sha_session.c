/*
 * One SHA session with the agent, and the thread that runs the SHA's callbacks
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "napagent_rpc.h"
#include "nap_hresults.h"
#include "session_link.h"
#include "module_thread.h"

/* The same timing as the EC session (ec_session.c, docs/decisions.md). */
#define EVENT_POLL_MS 5000
#define EVENT_RETRY_FIRST_MS 5
#define EVENT_RETRY_MAX_MS 200

struct sha_session
{
    LONG refs;
    SystemHealthEntityId id;
    struct session_link *link;
    DWORD timeout_ms;
    /* Held while a callback runs, so that Uninitialize from another thread
     * waits for it before dropping the callback. */
    CRITICAL_SECTION callback_cs;
    INapSystemHealthAgentCallback *callback;   /* NULL once dropped */
    HANDLE thread;
    DWORD thread_id;
    volatile LONG stopping;
    volatile LONG dropped;
};

void sha_session_addref(struct sha_session *session)
{
    InterlockedIncrement(&session->refs);
}

static void drop_callback(struct sha_session *session)
{
    INapSystemHealthAgentCallback *callback;

    EnterCriticalSection(&session->callback_cs);
    callback = session->callback;
    session->callback = NULL;
    LeaveCriticalSection(&session->callback_cs);
    if (callback) INapSystemHealthAgentCallback_Release(callback);
}

void sha_session_release(struct sha_session *session)
{
    if (InterlockedDecrement(&session->refs)) return;
    if (session->link) session_link_free(session->link);
    drop_callback(session);
    if (session->thread) CloseHandle(session->thread);
    DeleteCriticalSection(&session->callback_cs);
    HeapFree(GetProcessHeap(), 0, session);
    com_server_object_destroyed();
}

struct session_link *sha_session_link(struct sha_session *session)
{
    return session->link;
}

BOOL sha_session_dropped(struct sha_session *session)
{
    return session->dropped != 0;
}

/* Bare 1722 or its HRESULT: the documentation writes both. */
static BOOL callback_says_gone(HRESULT hr)
{
    return hr == RPC_S_SERVER_UNAVAILABLE || hr == HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE);
}

/* TRUE when the SHA said it is gone, after telling the agent so. */
static BOOL check_gone(struct sha_session *session, HRESULT hr)
{
    if (!callback_says_gone(hr)) return FALSE;
    InterlockedExchange(&session->dropped, 1);
    sha_link_callback_gone(session->link);
    return TRUE;
}

static void answer(struct sha_session *session, const NAPAGENT_SHA_EVENT *event, NAPAGENT_SHA_ANSWER *answer)
{
    sha_link_answer(session->link, event->request_id, answer);
}

static HRESULT new_request(struct sha_session *session, const NAPAGENT_SHA_EVENT *event, struct sha_request **out)
{
    CorrelationId correlation = { event->correlation.conn_id, event->correlation.time_stamp };

    return sha_request_create(session->id, &correlation, out);
}

/* Caller holds callback_cs (as for every function below that calls the SHA). */
static void run_get_soh_request(struct sha_session *session, const NAPAGENT_SHA_EVENT *event)
{
    NAPAGENT_SHA_ANSWER reply = { 0 };
    BYTE soh[NAPAGENT_MAX_SOH];
    struct sha_request *request;
    HRESULT hr;

    if (FAILED(hr = new_request(session, event, &request)))
    {
        reply.result = hr;
        answer(session, event, &reply);
        return;
    }
    /* A cached SoH the codec refuses is no cached SoH. */
    if (event->soh.size) sha_request_preload(request, event->soh.data, event->soh.size);
    hr = INapSystemHealthAgentCallback_GetSoHRequest(session->callback, sha_request_iface(request));
    if (!check_gone(session, hr))
    {
        reply.result = hr;
        sha_request_result(request, soh, sizeof(soh), &reply.soh.size, &reply.cache_soh);
        reply.soh.data = reply.soh.size ? soh : NULL;
        answer(session, event, &reply);
    }
    INapSystemHealthAgentRequest_Release(sha_request_iface(request));
}

static void run_process_soh_response(struct sha_session *session, const NAPAGENT_SHA_EVENT *event)
{
    NAPAGENT_SHA_ANSWER reply = { 0 };
    struct sha_request *request;
    HRESULT hr;

    if (SUCCEEDED(hr = new_request(session, event, &request)))
    {
        /* An SoHR the codec refuses never reaches the SHA: the answer says why. */
        if (SUCCEEDED(hr = sha_request_set_response(request, event->soh.data, event->soh.size, event->flags)))
            hr = INapSystemHealthAgentCallback_ProcessSoHResponse(session->callback, sha_request_iface(request));
        INapSystemHealthAgentRequest_Release(sha_request_iface(request));
        if (check_gone(session, hr)) return;
    }
    reply.result = hr;
    answer(session, event, &reply);
}

/* The SHA allocates the FixupInfo and its codes with CoTaskMem; the agent (us) frees both. */
static void run_get_fixup_info(struct sha_session *session, const NAPAGENT_SHA_EVENT *event)
{
    NAPAGENT_SHA_ANSWER reply = { 0 };
    FixupInfo *fixup = NULL;
    HRESULT hr;

    hr = INapSystemHealthAgentCallback_GetFixupInfo(session->callback, &fixup);
    if (SUCCEEDED(hr) && !fixup) hr = E_POINTER;
    if (SUCCEEDED(hr))
    {
        reply.fixup.state = fixup->state;
        reply.fixup.percentage = fixup->percentage;
        reply.fixup.message_id = fixup->fixupMsgId;
        reply.fixup.code_count = fixup->resultCodes.results
                                 ? min(fixup->resultCodes.count, maxDwordCountPerSoHAttribute) : 0;
        reply.fixup.codes = fixup->resultCodes.results;
    }
    reply.result = hr;
    if (!check_gone(session, hr)) answer(session, event, &reply);
    if (fixup) CoTaskMemFree(fixup->resultCodes.results);
    CoTaskMemFree(fixup);
}

static void run_compare(struct sha_session *session, const NAPAGENT_SHA_EVENT *event)
{
    NAPAGENT_SHA_ANSWER reply = { 0 };
    SoH *lhs = NULL, *rhs = NULL;
    BOOL equal = FALSE;
    HRESULT hr;

    /* SoHs the SHA could not read: let the agent compare the bytes. */
    if (FAILED(soh_struct_from_tlvs(event->soh.data, event->soh.size, TRUE, &lhs))
        || FAILED(soh_struct_from_tlvs(event->other.data, event->other.size, TRUE, &rhs)))
        hr = E_NOTIMPL;
    else hr = INapSystemHealthAgentCallback_CompareSoHRequests(session->callback, lhs, rhs, &equal);
    soh_struct_free(lhs);
    soh_struct_free(rhs);
    if (check_gone(session, hr)) return;
    reply.result = hr;
    reply.equal = SUCCEEDED(hr) && equal;
    answer(session, event, &reply);
}

static void run_orphaned(struct sha_session *session, const NAPAGENT_SHA_EVENT *event)
{
    CorrelationId correlation = { event->correlation.conn_id, event->correlation.time_stamp };

    check_gone(session, INapSystemHealthAgentCallback_NotifyOrphanedSoHRequest(session->callback, &correlation));
}

static void run_event(struct sha_session *session, const NAPAGENT_SHA_EVENT *event)
{
    EnterCriticalSection(&session->callback_cs);
    if (session->callback && !session->stopping && !session->dropped)
    {
        switch (event->type)
        {
        case NAPAGENT_SHA_EVENT_GET_SOH_REQUEST:      run_get_soh_request(session, event); break;
        case NAPAGENT_SHA_EVENT_PROCESS_SOH_RESPONSE: run_process_soh_response(session, event); break;
        case NAPAGENT_SHA_EVENT_GET_FIXUP_INFO:       run_get_fixup_info(session, event); break;
        case NAPAGENT_SHA_EVENT_COMPARE:              run_compare(session, event); break;
        case NAPAGENT_SHA_EVENT_ORPHANED:             run_orphaned(session, event); break;
        case NAPAGENT_SHA_EVENT_ISOLATION_CHANGED:
            check_gone(session, INapSystemHealthAgentCallback_NotifySystemIsolationStateChange(session->callback));
            break;
        default:
            break;
        }
    }
    LeaveCriticalSection(&session->callback_cs);
}

static DWORD WINAPI event_thread(void *arg)
{
    struct sha_session *session = arg;
    HRESULT init = CoInitializeEx(NULL, COINIT_MULTITHREADED);
    DWORD retry_ms = EVENT_RETRY_FIRST_MS;

    while (!session->stopping && !session->dropped)
    {
        NAPAGENT_SHA_EVENT event;
        HRESULT hr = sha_link_wait_event(session->link, EVENT_POLL_MS, &event);

        if (session->stopping)
        {
            sha_link_free_event(&event);
            break;
        }
        if (FAILED(hr))
        {
            /* The agent is gone or hung: try again, the link rebinds when it is back. */
            Sleep(retry_ms);
            retry_ms = min(retry_ms * 2, EVENT_RETRY_MAX_MS);
            continue;
        }
        retry_ms = EVENT_RETRY_FIRST_MS;
        if (event.type == NAPAGENT_SHA_EVENT_CLOSED) break;
        run_event(session, &event);
        sha_link_free_event(&event);
    }
    /* Uninitialize from inside a callback left the callback to us. */
    drop_callback(session);
    if (SUCCEEDED(init)) CoUninitialize();
    sha_session_release(session);
    return 0;
}

HRESULT sha_session_start(SystemHealthEntityId id, INapSystemHealthAgentCallback *callback,
                          struct sha_session **out)
{
    struct sha_session *session;
    HRESULT hr;

    *out = NULL;
    if (!(session = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*session)))) return E_OUTOFMEMORY;
    session->refs = 1;
    session->id = id;
    session->timeout_ms = read_call_timeout();
    InitializeCriticalSection(&session->callback_cs);
    com_server_object_created();
    if (FAILED(hr = sha_link_bind(id, session->timeout_ms, &session->link)))
    {
        sha_session_release(session);
        return hr;
    }
    session->callback = callback;
    INapSystemHealthAgentCallback_AddRef(callback);

    sha_session_addref(session); /* the event thread's */
    if (!(session->thread = module_thread_start(event_thread, session, &session->thread_id)))
    {
        hr = HRESULT_FROM_WIN32(GetLastError());
        sha_session_release(session);
        sha_session_release(session);
        return hr;
    }
    *out = session;
    return S_OK;
}

HRESULT sha_session_stop(struct sha_session *session)
{
    HRESULT hr;

    InterlockedExchange(&session->stopping, 1);
    /* Unbinding wakes the event thread's long poll with NAPAGENT_SHA_EVENT_CLOSED. */
    hr = session_link_unbind(session->link);
    if (GetCurrentThreadId() != session->thread_id)
    {
        /* Waits for a callback in flight; then no callback runs any more. */
        drop_callback(session);
        /* Bounded: a thread stuck in a hung agent ends on its own later. */
        WaitForSingleObject(session->thread, session->timeout_ms);
    }
    /* From inside a callback the thread is ours: it drops the callback once
     * the callback has returned. */
    sha_session_release(session);
    return hr;
}
