/*
 * The manager routines of the agent's system-health-agent sessions and of the system's isolation
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"

#define WITH_SHA(binding, cookie, call) WITH_SESSION(NAPAGENT_KIND_SHA, binding, cookie, call)

HRESULT __cdecl NapAgentShaNotifySoHChange(handle_t binding, UINT64 cookie, UINT64 call_seq)
{
    WITH_SHA(binding, cookie, sha_notify_soh_change(session, call_seq));
}

HRESULT __cdecl NapAgentShaFlushCache(handle_t binding, UINT64 cookie, UINT64 call_seq)
{
    WITH_SHA(binding, cookie, sha_flush_cache(session, call_seq));
}

HRESULT __cdecl NapAgentShaAnswer(handle_t binding, UINT64 cookie, UINT32 request_id,
                                  const NAPAGENT_SHA_ANSWER *answer)
{
    WITH_SHA(binding, cookie, sha_answer(session, request_id, answer));
}

HRESULT __cdecl NapAgentGetSystemIsolation(handle_t binding, NAPAGENT_SYSTEM_ISOLATION *isolation)
{
    (void)binding;
    return isolation_get(isolation);
}

HRESULT __cdecl NapAgentWaitIsolationChange(handle_t binding, UINT32 known_generation, UINT32 timeout_ms,
                                            UINT32 *generation)
{
    (void)binding;
    return isolation_wait_change(known_generation, timeout_ms, generation);
}
