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

/* NAP_E_* come from winerror.h (include/nap_hresults.h documents the values).
 *
 * How the files depend on each other (no cycles): the manager routines
 * (rpc_*.c) call the session layer; the session layer (sessions.c, the
 * generic table; ec_sessions.c and sha_sessions.c, what ECs and SHAs add;
 * isolation.c, the system's state) decides and routes; soh_exchange.c builds
 * and parses wire bytes and calls only leaves; the store, policy, log and timer
 * are leaves.  main.c wires the pieces at start: the timer's tick functions,
 * and the function through which sha_sessions.c tells the EC side of a
 * health change, so that no file needs one that needs it.  Lock order:
 * ec_sessions' lock, then sha_sessions', then isolation's, then the session
 * table's. */

/* log.c: one line per event, timestamped, with its level, to the agent's
 * log file, which is rotated to <path>.1 when it would grow past
 * Parameters\LogMaxBytes.  A line above Parameters\LogLevel (read again at
 * most once a second) is not even formatted: errors, warnings and info by
 * default (enum agent_log_level, agent_settings.h). */
BOOL agent_log_open(const WCHAR *path);
void agent_log(enum agent_log_level level, const char *format, ...) __attribute__((format(printf, 2, 3)));
void agent_log_close(void);

/* registry_store.c: the agent-owned persistent state (docs/registry-layout.md).
 * kind is NAPAGENT_KIND_EC or NAPAGENT_KIND_SHA: one record for both. */
struct component
{
    UINT32 id;
    WCHAR friendly_name[maxStringLength + 1];
    WCHAR description[maxStringLength + 1];
    WCHAR version[maxStringLength + 1];
    WCHAR vendor_name[maxStringLength + 1];
    GUID info_clsid;
    GUID config_clsid;
    FILETIME registration_date;
    UINT32 component_type;
    BOOL enabled;      /* an EC's local setting; unused for SHAs */
};
HRESULT store_open(void);
void store_close(void);
/* NAP_E_CONFLICTING_ID if id exists; E_OUTOFMEMORY past maxEnforcerCount
 * (maxSystemHealthEntityCount) registrations as store_list shows them (keys
 * it skips do not count).  Sets the date. */
HRESULT store_register(UINT32 kind, const struct component *component);
/* NAP_E_NOT_REGISTERED if unknown. */
HRESULT store_unregister(UINT32 kind, UINT32 id);
HRESULT store_get(UINT32 kind, UINT32 id, struct component *component);
HRESULT store_list(UINT32 kind, struct component *components, UINT32 max, UINT32 *count);
HRESULT store_set_ec_enabled(UINT32 id, BOOL enabled);
/* The local enable flag, overridden by Group Policy's Qecs\<id>\Enabled; read each call. */
BOOL store_ec_enabled(const struct component *component);
/* Parameters\<name>: default_value when missing or not a REG_DWORD; a setting
 * of src/common/agent_settings.c is clamped to its range. */
DWORD store_get_setting(const WCHAR *name, DWORD default_value);
HRESULT store_set_setting(const WCHAR *name, DWORD value);
/* The SoH an SHA asked the agent to keep for later use (Shas\<id>\CachedSoH),
 * so that the next agent has it too.  S_FALSE and *size 0: none kept.
 * store_set_sha_soh with size 0 deletes it. */
HRESULT store_get_sha_soh(UINT32 id, BYTE *soh, UINT16 cap, UINT16 *size);
HRESULT store_set_sha_soh(UINT32 id, const BYTE *soh, UINT16 size);

/* fault_guard.c: a processor fault in the agent's code (a manager routine's
 * included, which the RPC runtime would catch) ends the process with its code. */
void agent_fault_guard_install(void);

/* rpc_server.c: listen on the endpoint; stop. */
RPC_STATUS agent_rpc_start(void);
void agent_rpc_stop(void);

/* sessions.c: the table of open sessions, EC and SHA alike.  The agent never
 * blocks on a client: everything it has to tell one is an event its
 * process fetches with sessions_wait_events.  Calls after the open name a
 * session by its cookie: session_find takes a reference that session_put
 * gives back.  A session is found only once its kind's `opened` succeeded;
 * it leaves the table when it closes, and is freed once no caller holds it. */
#define DEFAULT_CLIENT_TIMEOUT_MS AGENT_DEFAULT_CLIENT_TIMEOUT_MS
struct session;
/* What each kind adds: made when a session opens, told when it closes. */
struct session_kind
{
    UINT32 kind;
    /* May the component open a session?  NAP_E_NOT_REGISTERED, NAP_E_ENTITY_DISABLED.
     * Called under the table's lock: it may take leaf locks only (the store's, the log's). */
    HRESULT (*admit)(UINT32 id);
    /* The session opened (rebound: its client lost an earlier agent or session). */
    HRESULT (*opened)(struct session *session, BOOL rebound);
    /* It closed (unbound, replaced, ended, its client died, or dropped); called
     * without the table's lock, once, or a second time when it closed while
     * `opened` ran (the agent stops), so a second call must change nothing. */
    void (*closed)(struct session *session, BOOL callback_gone);
    /* The session object is freed: so is the kind's state (session_data). */
    void (*free_data)(void *data);
};
void sessions_init(void);
void sessions_shutdown(void);
HRESULT session_open(const struct session_kind *kind, UINT32 id, DWORD pid, UINT64 previous_cookie, UINT64 *cookie);
/* Closes it now (the caller holds a reference); callback_gone: its callback
 * answered RPC_S_SERVER_UNAVAILABLE. */
void session_close(struct session *session, BOOL callback_gone);
/* Closes the session the cookie names (unbound, ended, its context handle
 * ran down); NAP_E_NOT_INITIALIZED if none is open. */
HRESULT session_end(UINT64 cookie);
/* The open session of that kind the cookie names, with a reference; NULL if none. */
struct session *session_find(UINT64 cookie, UINT32 kind);
/* The open session of that kind and component id, with a reference; NULL if none. */
struct session *session_find_id(UINT32 kind, UINT32 id);
void session_addref(struct session *session);
void session_put(struct session *session);
UINT32 session_id(const struct session *session);
BOOL session_closed(const struct session *session);
/* The kind's own state: set once by `opened`, freed by `closed`. */
void *session_data(const struct session *session);
void session_set_data(struct session *session, void *data);
/* Queues an event for the session's client; returns its request id (0: not
 * queued, the session is closed).  An SOH_CHANGE, GET_CONNECTIONS or
 * ISOLATION_CHANGED already waiting stands for a new one (its id is
 * returned); every other event is queued.  The oldest go past a bound. */
UINT32 session_post(struct session *session, UINT32 type, const NAPAGENT_CORRELATION *correlation, BYTE flags,
                    const BYTE *soh, UINT16 soh_size, const BYTE *other, UINT16 other_size);
/* Up to timeout_ms for the events of process pid's sessions; *events
 * MIDL-allocated.  Events stay queued until a later poll acknowledges them
 * (seen: in, what the process received; out, what this reply holds). */
HRESULT sessions_wait_events(DWORD pid, NAPAGENT_EVENTS_SEEN *seen, const UINT64 *cookies, UINT16 cookie_count,
                             UINT32 timeout_ms, UINT16 *event_count, NAPAGENT_EVENT **events);
/* Unregisters a component unless a session of it is open (NAP_E_STILL_BOUND). */
HRESULT sessions_unregister(UINT32 kind, UINT32 id, void (*forget)(UINT32 id));

/* rpc_ec.c and rpc_sha.c: a manager routine returns call's HRESULT, made
 * with `session` the session of that kind the cookie names, holding a
 * reference for the call; NAP_E_NOT_INITIALIZED when it is gone (the agent
 * restarted, or the session was dropped), and the binding opens a new one.
 * Each call is a trace line.  The RPC binding handle is not used. */
#define WITH_SESSION(kind, binding, cookie, call) do { \
    struct session *session; \
    HRESULT hr; \
    (void)(binding); \
    if (!(session = session_find(cookie, kind))) return NAP_E_NOT_INITIALIZED; \
    hr = (call); \
    agent_log(AGENT_LOG_TRACE, "%s(%s %u): 0x%08lx", __func__, (kind) == NAPAGENT_KIND_EC ? "EC" : "SHA", \
              session_id(session), hr); \
    session_put(session); \
    return hr; } while (0)

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
    } entries[maxSystemHealthEntityCount];
};
BOOL health_content_equal(const struct health_content *a, const struct health_content *b);

/* ec_sessions.c: what the agent keeps of each EC session: its connections,
 * their requests and decisions, its pending SoH-change retry. */
#define DEFAULT_RETRY_INTERVAL_MS AGENT_DEFAULT_RETRY_INTERVAL_MS
extern const struct session_kind ec_kind;
void ec_init(void);
HRESULT ec_get_soh_request(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts,
                           NAPAGENT_CORRELATION *correlation, BYTE *flags, BOOL *retrigger, NAPAGENT_BLOB *request);
HRESULT ec_process_soh_response(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts,
                                const BYTE *response, UINT16 size, NAPAGENT_ISOLATION *isolation);
HRESULT ec_connection_down(struct session *session, const NAPAGENT_CONNECTION_FACTS *facts);
/* Connections the EC released: forgotten, their requests orphaned. */
HRESULT ec_connections_gone(struct session *session, UINT16 count, const NAPAGENT_CONNECTION_FACTS *gone);
HRESULT ec_soh_change_failure(struct session *session);
HRESULT ec_answer_connections(struct session *session, UINT16 count, const NAPAGENT_CONNECTION_FACTS *connections);
/* Every bound EC gets NotifySoHChange (an operator asked for it). */
HRESULT ec_notify_all(void);
/* An SHA's health may have changed (its NotifySoHChange, a fix-up): each EC
 * whose last request says something else of the health than an SSoH built
 * now would is told NotifySoHChange. */
void ec_health_changed(void);
HRESULT ec_query_connections(UINT32 ec_id, UINT32 timeout_ms, UINT32 *count, NAPAGENT_CONNECTION_FACTS **connections);
void ec_get_state(NAPAGENT_STATE *state);
/* TRUE if ec_id is bound; *connections receives how many connections it has. */
BOOL ec_bound(UINT32 ec_id, UINT32 *connections);
/* Probation ends and SoH-change retries due by now; returns the next deadline (or ~0). */
ULONGLONG ec_tick(ULONGLONG now);

/* sha_sessions.c: what the agent keeps of each registered SHA, bound or
 * not: its SoH, what stands in for it, the answers it owes. */
#define DEFAULT_SHA_TIMEOUT_MS AGENT_DEFAULT_SHA_TIMEOUT_MS
#define DEFAULT_FIXUP_POLL_MS AGENT_DEFAULT_FIXUP_POLL_MS
extern const struct session_kind sha_kind;
/* on_health_changed: called (without our lock) when an SHA's health may
 * have changed: its NotifySoHChange was answered, or a fix-up ended. */
void sha_init(void (*on_health_changed)(void));
/* call_seq: the binding's number for the call; an older one than the
 * newest applied changes nothing (E_ABORT). */
HRESULT sha_notify_soh_change(struct session *session, UINT64 call_seq);
HRESULT sha_flush_cache(struct session *session, UINT64 call_seq);
HRESULT sha_answer(struct session *session, UINT32 request_id, const NAPAGENT_SHA_ANSWER *answer);
/* NapAgentRegister of an SHA changed the store. */
void sha_registrations_changed(void);
/* Forgets what the agent kept of an SHA that is no longer registered. */
void sha_forget(UINT32 sha_id);
/* The report entries of the SSoH of one EC request: one per registered SHA,
 * its SoH or the substitute the reference prescribes; bytes go to buffer,
 * *content says what they say.  A bound SHA with no SoH it asked the agent
 * to keep is asked for this request (correlation) and waited for, bounded.
 * Call without ec_sessions' lock. */
HRESULT sha_report_entries(const NAPAGENT_CORRELATION *correlation, BYTE *buffer, size_t cap,
                           struct soh_entry *entries, UINT16 *count, struct health_content *content);
/* What an SSoH built now would say of the health, without asking anyone. */
void sha_current_content(struct health_content *content);
/* An EC processed an SoHR: each entry goes to its SHA. */
void sha_deliver_response(const struct soh_response *response);
void sha_orphaned(const NAPAGENT_CORRELATION *correlation);
void sha_isolation_changed(void);
/* Timeouts and fix-up polls due by now; returns the next deadline (or ~0). */
ULONGLONG sha_tick(ULONGLONG now);

/* isolation.c: the system's isolation state, the most restrictive decision
 * over every EC connection's (restricted > probation > not restricted;
 * among probations the earliest end). */
struct connection_decision
{
    UINT32 state;            /* IsolationState */
    UINT32 extended_state;
    FILETIME prob_end_time;
    WCHAR failure_url[SOH_MAX_URL + 1];
};
void isolation_init(void);
/* The EC sessions' verdict: the worst decision (NULL: none decided) and
 * whether some connection has none yet.  A change tells every SHA. */
void isolation_update(const struct connection_decision *worst, BOOL unknown);
/* TRUE if a is more restrictive than b (the order above). */
BOOL isolation_worse(const struct connection_decision *a, const struct connection_decision *b);
/* failure_url MIDL-allocated. */
HRESULT isolation_get(NAPAGENT_SYSTEM_ISOLATION *isolation);
/* Waits up to timeout_ms for the generation to differ from known. */
HRESULT isolation_wait_change(UINT32 known, UINT32 timeout_ms, UINT32 *generation);

/* timer.c: one thread that runs the agent's deadlines: each tick function
 * handles what is due by now and returns its next deadline (or ~0). */
#define TIMER_MAX_TICKS 4
typedef ULONGLONG (*timer_tick_fn)(ULONGLONG now);
void timer_init(const timer_tick_fn *ticks, unsigned int count);
void timer_kick(void);
void timer_shutdown(void);

/* policy.c: Group Policy's ClientConfig values, cached until the key changes. */
void policy_init(void);
/* BackwardCompatible: 1 = no mode sub-header, 2 (the default) = with it. */
BOOL policy_mode_header(void);

/* soh_exchange.c: the wire side of one exchange, on top of the codec; pure. */
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
/* Builds the substitute SoH of an SHA that has none (Microsoft's
 * INapSystemHealthAgentCallback::GetSoHRequest page: System-Health-Id,
 * FailureCategory, ErrorCodes). */
HRESULT exchange_substitute_soh(UINT32 sha_id, UINT8 failure_category, HRESULT code, BYTE *out, size_t cap,
                                UINT16 *size);

#endif
