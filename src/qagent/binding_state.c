/*
 * What both binding objects (EC and SHA) keep: initialised or not, the
 * session, and the calls in flight that Uninitialize waits for
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "binding_state.h"
#include "nap_hresults.h"
#include "session.h"
#include "agent_call.h"

void binding_state_init(struct binding_state *state)
{
    InitializeCriticalSection(&state->cs);
    InitializeConditionVariable(&state->idle);
    state->initialized = FALSE;
    state->session = NULL;
    state->calls_in_flight = 0;
}

/* Uninitialize and the final Release: within twice the session's call bound
 * T.  Calls in flight get up to T to end (each ends within its own bound,
 * unless it is stuck in the EC's own connection object; one still running
 * then keeps its session reference until it ends);
 * closing the session, the callback in flight and the callback thread get
 * what is left (session_stop). */
static HRESULT end_session(struct binding_state *state)
{
    ULONGLONG calls_deadline, deadline, now;
    struct session *session;

    EnterCriticalSection(&state->cs);
    session = state->session;
    state->session = NULL;
    state->initialized = FALSE;
    calls_deadline = session ? agent_call_deadline(&session->agent) : 0;
    deadline = session ? calls_deadline + session->agent.timeout_ms : 0;
    while (state->calls_in_flight && (now = GetTickCount64()) < calls_deadline)
        SleepConditionVariableCS(&state->idle, &state->cs, (DWORD)(calls_deadline - now));
    LeaveCriticalSection(&state->cs);
    return session ? session_stop(session, deadline) : S_OK;
}

void binding_state_destroy(struct binding_state *state)
{
    /* Releasing without Uninitialize still unbinds and drops the callback. */
    end_session(state);
    DeleteCriticalSection(&state->cs);
}

/* Caller holds state->cs. */
static BOOL bound(const struct binding_state *state)
{
    return state->initialized && !session_dropped(state->session);
}

HRESULT binding_state_initialize(struct binding_state *state, HRESULT (*start)(void *context, struct session **session),
                                 void *context)
{
    struct session *stale = NULL;
    HRESULT hr;

    EnterCriticalSection(&state->cs);
    /* The agent dropped us (the callback said RPC_S_SERVER_UNAVAILABLE): bind anew. */
    if (state->initialized && !bound(state) && !state->calls_in_flight)
    {
        stale = state->session;
        state->session = NULL;
        state->initialized = FALSE;
    }
    hr = state->initialized ? HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED) : start(context, &state->session);
    if (SUCCEEDED(hr)) state->initialized = TRUE;
    LeaveCriticalSection(&state->cs);
    if (stale) session_stop(stale, agent_call_deadline(&stale->agent) + stale->agent.timeout_ms);
    return hr;
}

HRESULT binding_state_uninitialize(struct binding_state *state)
{
    BOOL initialized;

    EnterCriticalSection(&state->cs);
    initialized = state->initialized;
    LeaveCriticalSection(&state->cs);
    if (!initialized) return NAP_E_NOT_INITIALIZED;
    return end_session(state);
}

HRESULT binding_state_begin_call(struct binding_state *state, struct session **session)
{
    HRESULT hr = NAP_E_NOT_INITIALIZED;

    EnterCriticalSection(&state->cs);
    if (bound(state))
    {
        *session = state->session;
        session_addref(*session);
        state->calls_in_flight++;
        hr = S_OK;
    }
    LeaveCriticalSection(&state->cs);
    return hr;
}

void binding_state_end_call(struct binding_state *state, struct session *session)
{
    EnterCriticalSection(&state->cs);
    if (!--state->calls_in_flight) WakeAllConditionVariable(&state->idle);
    LeaveCriticalSection(&state->cs);
    session_release(session);
}
