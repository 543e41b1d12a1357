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

struct session;

struct binding_state
{
    CRITICAL_SECTION cs;          /* guards the fields below */
    CONDITION_VARIABLE idle;      /* calls_in_flight dropped to zero */
    BOOL initialized;
    struct session *session;
    LONG calls_in_flight;
};

void binding_state_init(struct binding_state *state);
/* For the object's last Release: ends the session as Uninitialize would. */
void binding_state_destroy(struct binding_state *state);
/* Initialize: start(context, &session) binds a session, under the state's
 * lock; HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED) while one is bound. */
HRESULT binding_state_initialize(struct binding_state *state, HRESULT (*start)(void *context, struct session **session),
                                 void *context);
/* Uninitialize: NAP_E_NOT_INITIALIZED if not initialised; otherwise the
 * binding is uninitialised whatever the agent says, and the result tells
 * whether the agent heard it. */
HRESULT binding_state_uninitialize(struct binding_state *state);
/* Every other call runs between these two, holding a session reference and
 * counted so that Uninitialize can wait for it.  NAP_E_NOT_INITIALIZED. */
HRESULT binding_state_begin_call(struct binding_state *state, struct session **session);
void binding_state_end_call(struct binding_state *state, struct session *session);

#endif
