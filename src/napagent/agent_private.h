/*
 * napagent.exe internals shared between its files
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_AGENT_PRIVATE_H
#define NAP_AGENT_PRIVATE_H

#include <windows.h>
#include "napagent_rpc.h"
#include "soh.h"
#include "agent_settings.h"

/* NAP_E_* come from winerror.h (include/nap_hresults.h documents the values). */

/* log.c: one line per event, timestamped, to the agent's log file, which
 * is rotated to <path>.1 when it would grow past Parameters\LogMaxBytes. */
BOOL agent_log_open(const WCHAR *path);
void agent_log(const char *format, ...) __attribute__((format(printf, 1, 2)));
void agent_log_close(void);

/* registry_store.c: the agent-owned persistent state (docs/registry-layout.md).
 * struct ec_registration is the record of an SHA too. */
#define STORE_MAX_STRING 1024
struct ec_registration
{
    UINT32 id;
    WCHAR friendly_name[STORE_MAX_STRING + 1];
    WCHAR description[STORE_MAX_STRING + 1];
    WCHAR version[STORE_MAX_STRING + 1];
    WCHAR vendor_name[STORE_MAX_STRING + 1];
    GUID info_clsid;
    GUID config_clsid;
    FILETIME registration_date;
    UINT32 component_type;
    BOOL enabled;      /* the local setting */
};
HRESULT store_open(void);
void store_close(void);
/* NAP_E_CONFLICTING_ID if id exists; E_OUTOFMEMORY past maxEnforcerCount
 * registrations as store_list_ecs shows them (keys it skips do not count). Sets the date. */
HRESULT store_register_ec(const struct ec_registration *reg);
/* NAP_E_NOT_REGISTERED if unknown. */
HRESULT store_unregister_ec(UINT32 id);
HRESULT store_get_ec(UINT32 id, struct ec_registration *reg);
HRESULT store_set_ec_enabled(UINT32 id, BOOL enabled);
HRESULT store_list_ecs(struct ec_registration *regs, UINT32 max, UINT32 *count);
/* SHAs (Shas\<id>): the same record (enabled is unused) and the same codes,
 * E_OUTOFMEMORY past maxSystemHealthEntityCount. */
HRESULT store_register_sha(const struct ec_registration *reg);
HRESULT store_unregister_sha(UINT32 id);
HRESULT store_get_sha(UINT32 id, struct ec_registration *reg);
HRESULT store_list_shas(struct ec_registration *regs, UINT32 max, UINT32 *count);
/* The local enable flag, overridden by Group Policy's Qecs\<id>\Enabled; read each call. */
BOOL store_ec_enabled(const struct ec_registration *reg);
/* Parameters\<name>: default_value when missing or not a REG_DWORD; a setting
 * of src/common/agent_settings.c is clamped to its range. */
DWORD store_get_setting(const WCHAR *name, DWORD default_value);
/* The SoH an SHA asked the agent to keep for later use (Shas\<id>\CachedSoH),
 * so that the next agent has it too.  S_FALSE and *size 0: none kept.
 * store_set_sha_soh with size 0 deletes it. */
HRESULT store_get_sha_soh(UINT32 id, BYTE *soh, UINT16 cap, UINT16 *size);
HRESULT store_set_sha_soh(UINT32 id, const BYTE *soh, UINT16 size);
HRESULT store_set_setting(const WCHAR *name, DWORD value);

/* rpc_server.c: listen on the endpoint; stop. */
RPC_STATUS agent_rpc_start(void);
void agent_rpc_stop(void);

/* sessions.c: the table of bound ECs, their connections and their events.
 * The agent never blocks on an EC: everything it has to tell one is an event
 * the EC's process fetches with sessions_wait_events.  Calls after the bind
 * name a session by its cookie: sessions_find takes a reference that
 * sessions_put gives back. */
#define DEFAULT_RETRY_INTERVAL_MS AGENT_DEFAULT_RETRY_INTERVAL_MS
/* The bound qagent.dll puts on each call (Parameters\ClientCallTimeoutMs). */
#define DEFAULT_CLIENT_TIMEOUT_MS AGENT_DEFAULT_CLIENT_TIMEOUT_MS

/* What an SSoH says of the machine's health: for each registered SHA, a key
 * naming the content of its entry (sha_sessions.c).  The same keys: the same
 * health, whatever bytes changed that the SHA calls equal. */
struct health_content
{
    UINT16 count;
    struct
    {
        UINT32 sha_id;
        UINT64 key;
    } entries[NAPAGENT_MAX_SHAS];
};
BOOL health_content_equal(const struct health_content *a, const struct health_content *b);

struct session;
void sessions_init(void);
void sessions_shutdown(void);
/* previous_cookie != 0: a binding coming back after it lost the agent. */
HRESULT sessions_bind(UINT32 ec_id, DWORD pid, UINT64 previous_cookie, UINT64 *cookie, struct session **out);
void sessions_unbind(struct session *session);
HRESULT sessions_get_soh_request(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts,
                                 NAPAGENT_CORRELATION *correlation, BYTE *flags, BOOL *retrigger,
                                 NAPAGENT_BLOB *request);
HRESULT sessions_process_soh_response(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts,
                                      const BYTE *response, UINT16 size, NAPAGENT_ISOLATION *isolation);
HRESULT sessions_connection_down(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts);
/* Connections the EC released: forgotten, their requests orphaned. */
HRESULT sessions_connections_gone(struct session *session, UINT16 count, const NAPAGENT_CONNECTION_FACTS *gone);
HRESULT sessions_soh_change_failure(struct session *session);
/* Up to timeout_ms for the events of process pid's sessions; *events MIDL-allocated. */
HRESULT sessions_wait_events(DWORD pid, const UINT64 *cookies, UINT16 cookie_count, UINT32 timeout_ms,
                             UINT16 *event_count, NAPAGENT_EC_EVENT **events);
struct session *sessions_find(UINT64 cookie);
void sessions_put(struct session *session);
/* Ends the session the cookie names, as an unbind does. */
HRESULT sessions_end(UINT64 cookie);
HRESULT sessions_answer_connections(struct session *session, UINT16 count,
                                    const NAPAGENT_CONNECTION_FACTS *connections);
HRESULT sessions_callback_gone(struct session *session);
/* Every bound EC gets NotifySoHChange (an operator asked for it). */
HRESULT sessions_notify_all(void);
/* An SHA's health may have changed (its NotifySoHChange, a fix-up): each EC
 * whose last request says something else of the health than an SSoH built
 * now would is told NotifySoHChange. */
void sessions_health_changed(void);
HRESULT sessions_query_connections(UINT32 ec_id, UINT32 timeout_ms, UINT32 *count,
                                   NAPAGENT_CONNECTION_FACTS **connections);
void sessions_get_state(NAPAGENT_STATE *state);
/* The system's isolation over every EC's connections; failure_url MIDL-allocated. */
HRESULT sessions_get_system_isolation(NAPAGENT_SYSTEM_ISOLATION *isolation);
/* Waits up to timeout_ms for the isolation generation to differ from known. */
HRESULT sessions_wait_isolation_change(UINT32 known, UINT32 timeout_ms, UINT32 *generation);
/* Probation ends due by now; returns the next deadline (or ~0). */
ULONGLONG sessions_tick(ULONGLONG now);
/* TRUE if ec_id is bound; *connections receives how many connections it has. */
BOOL sessions_ec_bound(UINT32 ec_id, UINT32 *connections);

/* sha_sessions.c: bound system health agents, their SoHs and their events.
 * Lock order: sessions.c's lock may be held when calling in here, never the
 * other way round. */
#define DEFAULT_SHA_TIMEOUT_MS AGENT_DEFAULT_SHA_TIMEOUT_MS
#define DEFAULT_FIXUP_POLL_MS AGENT_DEFAULT_FIXUP_POLL_MS
struct sha_session;
void sha_sessions_init(void);
void sha_sessions_shutdown(void);
HRESULT sha_sessions_bind(UINT32 sha_id, DWORD pid, UINT64 previous_cookie, UINT64 *cookie, struct sha_session **out);
void sha_sessions_unbind(struct sha_session *session);
/* call_seq: the binding's number for the call; an older one than the
 * newest applied changes nothing (E_ABORT). */
HRESULT sha_sessions_notify_soh_change(struct sha_session *session, UINT64 call_seq);
HRESULT sha_sessions_flush_cache(struct sha_session *session, UINT64 call_seq);
HRESULT sha_sessions_wait_event(UINT64 cookie, UINT32 timeout_ms, NAPAGENT_SHA_EVENT *event);
struct sha_session *sha_sessions_find(UINT64 cookie);
void sha_sessions_put(struct sha_session *session);
HRESULT sha_sessions_end(UINT64 cookie);
HRESULT sha_sessions_answer(struct sha_session *session, UINT32 request_id, const NAPAGENT_SHA_ANSWER *answer);
HRESULT sha_sessions_callback_gone(struct sha_session *session);
BOOL sha_sessions_bound(UINT32 sha_id);
/* NapAgentRegisterSha changed the store. */
void sha_sessions_registrations_changed(void);
/* Removes SHA sha_id from the store and forgets what the agent kept of it;
 * NAP_E_STILL_BOUND while it is bound. */
HRESULT sha_sessions_unregister(UINT32 sha_id);
/* The report entries of the SSoH of one EC request: one per registered SHA,
 * its SoH or the substitute the reference prescribes; bytes go to buffer,
 * *content says what they say.  A bound SHA with no SoH it asked the agent
 * to keep is asked for this request (correlation) and waited for, bounded.
 * Call without sessions.c's lock. */
HRESULT sha_sessions_report_entries(const NAPAGENT_CORRELATION *correlation, BYTE *buffer, size_t cap,
                                    struct soh_entry *entries, UINT16 *count, struct health_content *content);
/* What an SSoH built now would say of the health, without asking anyone. */
void sha_sessions_current_content(struct health_content *content);
/* An EC processed an SoHR: each entry goes to its SHA. */
void sha_sessions_deliver_response(const struct soh_response *response);
void sha_sessions_orphaned(const NAPAGENT_CORRELATION *correlation);
void sha_sessions_isolation_changed(void);
/* Timeouts and fix-up polls due by now; returns the next deadline (or ~0). */
ULONGLONG sha_sessions_tick(ULONGLONG now);

/* timer.c: one thread that runs the agent's deadlines. */
void timer_init(void);
void timer_kick(void);
void timer_shutdown(void);

/* policy.c: Group Policy's ClientConfig values, cached until the key changes. */
void policy_init(void);
/* BackwardCompatible: 1 = no mode sub-header, 2 (the default) = with it. */
BOOL policy_mode_header(void);

/* soh_exchange.c: the wire side of one exchange, on top of the codec. */
struct connection_decision
{
    UINT32 state;            /* IsolationState */
    UINT32 extended_state;
    FILETIME prob_end_time;
    WCHAR failure_url[SOH_MAX_URL + 1];
};
void exchange_init(void);
/* Builds the SoH request for one connection, with these report entries,
 * into out[0..min(max_size, 4000)).  NAP_E_MAXSIZE_TOO_SMALL when it does not fit. */
HRESULT exchange_build_request(const NAPAGENT_CORRELATION *correlation, const struct connection_decision *current,
                               const struct soh_entry *entries, UINT16 entry_count, UINT32 max_size, BYTE *out,
                               UINT16 *size);
/* Strictly parses an SoH response into *response (its entries point into
 * data); NAP_E_INVALID_PACKET if malformed, NAP_E_MISMATCHED_ID if it answers
 * another request.  A response that names no request is taken as the
 * answer to `expected` (its correlation is set to it).  failure_url is
 * MIDL-allocated. */
HRESULT exchange_read_response(const BYTE *data, UINT16 size, const NAPAGENT_CORRELATION *expected,
                               NAPAGENT_ISOLATION *isolation, struct soh_response *response);
/* Builds the substitute SoH of an SHA that has none (reference §8.2). */
HRESULT exchange_substitute_soh(UINT32 sha_id, UINT8 failure_category, HRESULT code, BYTE *out, size_t cap,
                                UINT16 *size);

#endif
