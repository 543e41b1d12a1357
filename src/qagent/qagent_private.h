/*
 * qagent.dll internals shared between its files
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_QAGENT_PRIVATE_H
#define NAP_QAGENT_PRIVATE_H

#include <windows.h>
#include <objbase.h>
#include "com_server.h"
#include "NapEnforcementClient.h"
#include "NapSystemHealthAgent.h"
#include "napagent_rpc.h"


/* connection_quota.c: what an EC binding shares with the connection objects
 * it creates, which may outlive it: how many are alive (the limit), the
 * numbers of the binding's calls, and the connections released that the
 * agent has not heard of yet.  Reference counted. */
struct connection_quota;
struct _NAPAGENT_CONNECTION_FACTS;
struct connection_quota *connection_quota_create(void);
void connection_quota_addref(struct connection_quota *quota);
void connection_quota_release(struct connection_quota *quota);
/* Reserves one slot; FALSE when `limit` connections are already alive. */
BOOL connection_quota_take(struct connection_quota *quota, LONG limit);
/* A connection object ended: its slot comes back, and a connection with an
 * id is to be reported gone to the agent. */
void connection_quota_give_back(struct connection_quota *quota, const GUID *id);
/* Numbers the binding's calls in the order the EC makes them (1, 2, ...). */
UINT64 connection_quota_next_seq(struct connection_quota *quota);
/* on_gone(context) runs, on the releasing thread, when a connection is
 * reported gone; NULL stops it (and waits for a call in progress). */
void connection_quota_watch(struct connection_quota *quota, void (*on_gone)(void *context), void *context);
/* Stops the watch if context is still the one watching (and waits for a call in progress). */
void connection_quota_unwatch(struct connection_quota *quota, void *context);
/* Moves out the connections released since the last call: each entry's
 * connection_id, and call_seq the number of the binding's last call before
 * the release; returns how many (at most cap). */
UINT16 connection_quota_take_gone(struct connection_quota *quota, struct _NAPAGENT_CONNECTION_FACTS *out, UINT16 cap);

/* An SoH's bytes, as the connection and the SHA's request object keep them:
 * a buffer of the largest size, so that storing one never allocates. */
struct soh_buffer
{
    UINT16 size;
    BYTE data[maxNetworkSoHSize];
};

/* out_alloc.c: what the methods hand out, as qutil's Free* functions free it. */
/* A CoTaskMem copy of text[0..length), NUL-terminated: an empty string is
 * still a buffer, so that the caller may print it. */
HRESULT counted_string_copy(const WCHAR *text, UINT16 length, CountedString *out);
/* An isolation state, as the connection keeps it and the agent sends it. */
struct isolation_facts
{
    IsolationState state;
    ExtendedIsolationState extended_state;
    ProbationTime prob_end_time;
    const WCHAR *url;                  /* url_length characters (may be NULL when 0) */
    UINT16 url_length;
};
/* An IsolationInfo or, extended, an IsolationInfoEx in *out: the struct and
 * its URL two CoTaskMem blocks, as FreeIsolationInfo(Ex) frees them. */
HRESULT isolation_info_make(const struct isolation_facts *facts, BOOL extended, void **out);
/* GetStringCorrelationId's text: "{GUID}-<the time stamp in 16 hex digits>". */
HRESULT correlation_string(const CorrelationId *id, StringCorrelationId **out);

/* connection.c: the INapEnforcementClientConnection2 property bag.  The new
 * object is initialised with `id` and holds one slot of `quota` (taken by the
 * caller, or NULL) that it gives back when it is destroyed. */
HRESULT connection_create(EnforcementEntityId id, struct connection_quota *quota,
                          INapEnforcementClientConnection **out);

/* connection_facts.c: what the agent needs to know of a connection, read
 * through the public interface only, so that an EC may pass its own object. */
struct _NAPAGENT_CONNECTION_FACTS;
HRESULT connection_read_facts(INapEnforcementClientConnection *connection,
                              struct _NAPAGENT_CONNECTION_FACTS *facts);

/* ec_session.c and sha_session.c: a bound EC's or SHA's session (session.h)
 * with what each kind adds. */
struct session;
HRESULT ec_session_start(EnforcementEntityId id, INapEnforcementClientCallback *callback,
                         struct connection_quota *quota, struct session **out);
/* Tells the agent of the connections the EC released, before the deadline
 * (a GetTickCount64() value); S_OK when there were none. */
HRESULT ec_session_report_gone(struct session *session, ULONGLONG deadline);
HRESULT sha_session_start(SystemHealthEntityId id, INapSystemHealthAgentCallback *callback, struct session **out);

/* binding.c */
HRESULT binding_create(REFIID riid, void **out);

/* src/common/call_timeout.c: the bound on each call to the agent. */
#include "call_timeout.h"

/* management.c: the NapClientManagement object (CLSID in NapManagement.h). */
#include "NapManagement.h"
HRESULT management_create(REFIID riid, void **out);

/* soh_struct.c: an SHA's SoH (or SoHR) as the SoH struct of the interfaces
 * and as its TLVs on the wire (the bytes of a report entry, System-Health-Id
 * first).  Both directions validate with the codec: NAP_E_INVALID_PACKET.
 * soh_struct_from_tlvs allocates as FreeSoH frees; so does soh_struct_free. */
HRESULT soh_struct_to_tlvs(const SoH *soh, BOOL is_request, BYTE *out, UINT16 cap, UINT16 *size);
HRESULT soh_struct_from_tlvs(const BYTE *tlvs, UINT16 size, BOOL is_request, SoH **out);
void soh_struct_free(SoH *soh);

/* sha_request.c: the INapSystemHealthAgentRequest handed to one callback.
 * Created with one reference, which the caller drops with
 * INapSystemHealthAgentRequest_Release once it has read the result. */
struct sha_request;
HRESULT sha_request_create(SystemHealthEntityId id, const CorrelationId *correlation, struct sha_request **out);
INapSystemHealthAgentRequest *sha_request_iface(struct sha_request *request);
/* The agent's cached SoH (TLVs), what GetSoHRequest returns until the SHA sets one. */
HRESULT sha_request_preload(struct sha_request *request, const BYTE *tlvs, UINT16 size);
/* The SHA's SoHR entry and flags (shaFixup), for ProcessSoHResponse. */
HRESULT sha_request_set_response(struct sha_request *request, const BYTE *tlvs, UINT16 size, BYTE flags);
/* What SetSoHRequest stored (size 0: the SHA set nothing), and the cache flag. */
void sha_request_result(struct sha_request *request, BYTE *tlvs, UINT16 cap, UINT16 *size, BOOL *cache);

/* system_isolation.c: GetSystemIsolationInfo(Ex) for the SHA binding
 * (session) and management (session NULL: it may start the agent); *out is
 * an IsolationInfo or, extended, an IsolationInfoEx, as FreeIsolationInfo(Ex)
 * frees it. */
struct agent_session;
HRESULT system_isolation_get(struct agent_session *session, BOOL extended, void **out, BOOL *unknown);

/* sha_binding.c */
HRESULT sha_binding_create(REFIID riid, void **out);

#endif
