/*
 * A client's end of one session in the NapAgent: opened, lost, opened again, closed
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_AGENT_SESSION_H
#define NAP_AGENT_SESSION_H

#include <windows.h>

/* Context handles of sessions the agent forgot (it restarted): freed only
 * when the session ends, since another thread may still be passing one to a
 * call that is failing. */
#define AGENT_SESSION_RETIRED 32

/*
 * A session is named by its cookie in every call (docs/wine.md, "Sessions
 * named by cookie"); its context handle only ties it to this process, so
 * that the agent's rundown closes it if the process dies.  When the agent
 * forgets the session (it restarted), the next call or wait opens it again
 * with the same kind and id, passing the last cookie: the agent then treats
 * it as the same binding coming back (agent_call.h, the rebind policy).
 */
struct agent_session
{
    UINT32 kind;                       /* NAPAGENT_KIND_EC or NAPAGENT_KIND_SHA */
    UINT32 id;                         /* the EC's or SHA's NapComponentId */
    DWORD timeout_ms;                  /* the bound on each of its calls, read when it opened */
    SRWLOCK lock;                      /* guards the fields below */
    CONDITION_VARIABLE opened_cv;      /* an opening finished */
    void *handle;                      /* the context handle; NULL while not open */
    UINT64 cookie;                     /* of the newest session, kept across restarts */
    BOOL opening;
    BOOL closed;                       /* closed, or dropped by the agent: never opened again */
    BOOL dropped;                      /* dropped: the agent refused it, or its callback is gone */
    BOOL open_abandoned;               /* an open timed out: the agent may still make it */
    unsigned int retired_count;
    void *retired[AGENT_SESSION_RETIRED];
};

/* Initialize: the first open, which starts the installed service when no
 * agent runs.  The agent's HRESULT (NAP_E_NOT_REGISTERED, ...),
 * RPC_E_DISCONNECTED, RPC_E_TIMEOUT. */
HRESULT agent_session_open(struct agent_session *session, UINT32 kind, UINT32 id);
/* S_OK and the cookie to name it by, after opening it again if it was lost,
 * all before the deadline (GetTickCount64()); NAP_E_NOT_INITIALIZED once
 * closed, or once the agent refused to open it again for good (the
 * component was disabled or unregistered, or another binding took its id
 * while the agent was away): then it is dropped. */
HRESULT agent_session_ready(struct agent_session *session, ULONGLONG deadline, UINT64 *cookie);
/* A call found that the agent does not know the session named by cookie. */
void agent_session_lost(struct agent_session *session, UINT64 cookie);
/* The agent dropped it (the callback said RPC_S_SERVER_UNAVAILABLE): it is
 * never opened again. */
void agent_session_drop(struct agent_session *session);
BOOL agent_session_closed(struct agent_session *session);
/* TRUE once dropped (agent_session_drop, or a definite refusal to reopen). */
BOOL agent_session_dropped(struct agent_session *session);
/* Uninitialize: tells the agent before the deadline; S_OK, or
 * RPC_E_DISCONNECTED when no agent runs, or RPC_E_TIMEOUT. */
HRESULT agent_session_close(struct agent_session *session, ULONGLONG deadline);
/* After close: frees what is left locally. */
void agent_session_free(struct agent_session *session);
/* "EC 79617", for traces. */
const char *agent_session_name(const struct agent_session *session);

#endif
