/*
 * What both binding objects (EC and SHA) keep: initialised or not, the
 * session, and the calls in flight that Uninitialize waits for
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_BINDING_STATE_H
#define NAP_BINDING_STATE_H

#include <windows.h>

/* What the state needs of its kind of session (ec_session or sha_session). */
struct session_ops
{
    void (*addref)(void *session);
    void (*release)(void *session);
    /* TRUE once the agent dropped it: the binding may be initialised again. */
    BOOL (*dropped)(void *session);
    /* Unbinds, stops the callback thread, drops the caller's reference. */
    HRESULT (*stop)(void *session);
};

struct binding_state
{
    const struct session_ops *ops;
    CRITICAL_SECTION cs;          /* guards the fields below */
    CONDITION_VARIABLE idle;      /* calls_in_flight dropped to zero */
    BOOL initialized;
    void *session;
    LONG calls_in_flight;
};

void binding_state_init(struct binding_state *state, const struct session_ops *ops);
/* For the object's last Release: ends the session as Uninitialize would. */
void binding_state_destroy(struct binding_state *state);
/* Initialize: start(context, &session) binds a session, under the state's
 * lock; HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED) while one is bound. */
HRESULT binding_state_initialize(struct binding_state *state, HRESULT (*start)(void *context, void **session),
                                 void *context);
/* Uninitialize: NAP_E_NOT_INITIALIZED if not initialised; otherwise the
 * binding is uninitialised whatever the agent says, and the result tells
 * whether the agent heard it. */
HRESULT binding_state_uninitialize(struct binding_state *state);
/* Every other call runs between these two, holding a session reference and
 * counted so that Uninitialize can wait for it.  NAP_E_NOT_INITIALIZED. */
HRESULT binding_state_begin_call(struct binding_state *state, void **session);
void binding_state_end_call(struct binding_state *state, void *session);

#endif
