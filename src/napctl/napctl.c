/*
 * napctl: the operator tool for the NapAgent, in the spirit of `netsh nap client`
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <windows.h>
#include <rpc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "napagent_rpc.h"
#include "agent_call.h"
#include "nap_trace.h"
#include "parse_number.h"
#include "agent_service.h"
#include "agent_settings.h"
#include "call_timeout.h"
#include "rpc_guard.h"
#include "nap_errors.h"
#include "soh_print.h"
#include "soh.h"

#define EXIT_FAILED 1    /* the NapAgent answered with a failure */
#define EXIT_USAGE 2
#define EXIT_NO_AGENT 3  /* the NapAgent could not be reached */
#define DEFAULT_QUERY_TIMEOUT_MS 5000

static void usage(void)
{
    fprintf(stderr,
            "usage: napctl <command> [arguments]\n"
            "  register <id> [--name N] [--description D] [--version V] [--vendor X] [--type 1|2]\n"
            "  unregister <id>\n"
            "  register-sha <id> [--name N] [--description D] [--version V] [--vendor X]\n"
            "  unregister-sha <id>\n"
            "  enable <id>\n"
            "  disable <id>\n"
            "  list                           (enforcement clients, then system health agents)\n"
            "  isolation                      (the system's isolation state)\n"
            "  state\n"
            "  notify\n"
            "  set retry-interval <ms>        (NotifySoHChangeFailure retry, default 30000)\n"
            "  set client-timeout <ms>        (bound on each call from qagent.dll and napctl, default 5000)\n"
            "  set sha-timeout <ms>           (how long the agent waits for an SHA, default 5000)\n"
            "  set fixup-poll <ms>            (GetFixupInfo polling during a fix-up, default 1000)\n"
            "  set log-level error|warning|info|trace   (what the agent's log keeps, default info)\n"
            "  connections <id> [--timeout ms]\n"
            "  ping\n"
            "  decode <hex | @file>\n"
            "ids are decimal or 0x-prefixed hex.  Every command but decode talks to the NapAgent,\n"
            "starting the installed napagent service when it is stopped.\n"
            "exit status: 0 done, 1 the NapAgent refused or failed, 2 usage, 3 the NapAgent\n"
            "could not be reached (service not installed or not starting, gone, or no answer in time)\n");
}

static int usage_error(const char *command, const char *what)
{
    fprintf(stderr, "napctl: %s: %s\n", command, what);
    usage();
    return EXIT_USAGE;
}

static int report_failure(const char *command, HRESULT hr)
{
    fprintf(stderr, "napctl: %s: 0x%08lx %s\n", command, (unsigned long)hr, nap_error_name(hr));
    return EXIT_FAILED;
}

/* WINEDEBUG=+napctl shows its calls to the agent. */
NAP_TRACE_MODULE_CHANNEL(napctl);

/* The NapAgent cannot be reached: say why and end the process here.  It
 * never returns: a call that timed out still runs on its own thread, in
 * memory its caller owns. */
static void __attribute__((noreturn, format(printf, 2, 3))) exit_unreachable(const char *command,
                                                                              const char *format, ...)
{
    va_list args;

    fflush(stdout);
    fprintf(stderr, "napctl: %s: ", command);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    fflush(stderr);
    ExitProcess(EXIT_NO_AGENT);
}

/* No agent runs and none could be started (agent_service.h lists the codes). */
static void __attribute__((noreturn)) exit_not_started(const char *command, HRESULT hr)
{
    if (hr == HRESULT_FROM_WIN32(ERROR_SERVICE_DOES_NOT_EXIST))
        exit_unreachable(command, "the NapAgent is not running and the napagent service is not installed "
                                  "(napagent.exe --install, or run napagent.exe --console)");
    if (hr == HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE))
        exit_unreachable(command, "the NapAgent is not running: the napagent service stopped before it listened "
                                  "(its log: %%windir%%\\temp\\napagent.log)");
    if (hr == RPC_E_TIMEOUT)
        exit_unreachable(command, "the NapAgent is not running: the napagent service was started but did not "
                                  "listen within %u s", AGENT_START_TIMEOUT_MS / 1000);
    exit_unreachable(command, "the NapAgent is not running and the napagent service could not be started: "
                              "0x%08lx (Win32 error %lu)", (unsigned long)hr, (unsigned long)HRESULT_CODE(hr));
}

static void format_guid(const GUID *guid, char *buf, size_t size)
{
    snprintf(buf, size, "{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}",
             (unsigned long)guid->Data1, guid->Data2, guid->Data3, guid->Data4[0], guid->Data4[1],
             guid->Data4[2], guid->Data4[3], guid->Data4[4], guid->Data4[5], guid->Data4[6], guid->Data4[7]);
}

/* Every call to the agent goes through the one way every client calls it
 * (agent_call.h): bounded, guarded, on whichever agent runs now.  The
 * service is started first here, so that a failure can say why. */
typedef HRESULT (*napctl_thunk)(RPC_BINDING_HANDLE agent, void *context);

struct napctl_args
{
    napctl_thunk thunk;
    void *context;                     /* the caller's: napctl ends before it could go */
};

static HRESULT napctl_stub(RPC_BINDING_HANDLE agent, UINT64 cookie, void *arg)
{
    struct napctl_args *args = arg;

    (void)cookie;
    return args->thunk(agent, args->context);
}

static const struct agent_method napctl_method =
    { .name = "napctl", .stub = napctl_stub, .args_size = sizeof(struct napctl_args), .may_start_agent = TRUE };
/* `connections` waits in the agent for the EC's answer, at most a minute. */
static const struct agent_method napctl_wait_method =
{
    .name = "napctl",
    .stub = napctl_stub,
    .args_size = sizeof(struct napctl_args),
    .wait_ms = 60000,
    .may_start_agent = TRUE
};

/* The agent's HRESULT; when the agent cannot be reached the process ends
 * here with EXIT_NO_AGENT and a message that says why.  A call that timed
 * out may still be in the agent: the process ends before it comes back. */
static HRESULT call_agent_with(const char *command, const struct agent_method *method, napctl_thunk thunk,
                               void *context)
{
    struct napctl_args args = { thunk, context };
    HRESULT hr;

    if (FAILED(hr = agent_service_ensure_running())) exit_not_started(command, hr);
    hr = agent_call(NULL, method, &args);
    if (hr == RPC_E_TIMEOUT)
        exit_unreachable(command, "the NapAgent did not answer within %lu ms",
                         (unsigned long)(read_call_timeout() + method->wait_ms));
    if (hr == RPC_E_DISCONNECTED) exit_unreachable(command, "lost contact with the NapAgent: %s", nap_error_name(hr));
    return hr;
}

static HRESULT call_agent(const char *command, napctl_thunk thunk, void *context)
{
    return call_agent_with(command, &napctl_method, thunk, context);
}

/* register */

static HRESULT register_thunk(RPC_BINDING_HANDLE agent, void *context)
{
    return NapAgentRegister(agent, NAPAGENT_KIND_EC, context);
}

static HRESULT register_sha_thunk(RPC_BINDING_HANDLE agent, void *context)
{
    return NapAgentRegister(agent, NAPAGENT_KIND_SHA, context);
}

/* <id> and the options of register / register-sha (SHAs have no --type);
 * 0 when they parse, else the exit code of the usage error. */
static int parse_registration(const char *command, BOOL is_sha, int argc, WCHAR **argv, NAPAGENT_COMPONENT *info)
{
    int i;

    memset(info, 0, sizeof(*info));
    info->component_type = is_sha ? 0 : 1;
    if (argc < 1 || !parse_u32(argv[0], &info->id)) return usage_error(command, "missing or bad id");
    for (i = 1; i < argc; i++)
    {
        if (i + 1 >= argc) return usage_error(command, "option without a value");
        if (!wcscmp(argv[i], L"--name")) info->friendly_name = argv[++i];
        else if (!wcscmp(argv[i], L"--description")) info->description = argv[++i];
        else if (!wcscmp(argv[i], L"--version")) info->version = argv[++i];
        else if (!wcscmp(argv[i], L"--vendor")) info->vendor_name = argv[++i];
        else if (!is_sha && !wcscmp(argv[i], L"--type"))
        {
            if (!parse_u32(argv[++i], &info->component_type)
                || (info->component_type != 1 && info->component_type != 2))
                return usage_error(command, "--type is 1 (SoH) or 2 (relying party)");
        }
        else return usage_error(command, "unknown option");
    }
    GetSystemTimeAsFileTime(&info->registration_date);
    return 0;
}

static int cmd_register(int argc, WCHAR **argv)
{
    NAPAGENT_COMPONENT info;
    HRESULT hr;
    int status;

    if ((status = parse_registration("register", FALSE, argc, argv, &info))) return status;
    if (FAILED(hr = call_agent("register", register_thunk, &info))) return report_failure("register", hr);
    printf("registered enforcement client %u (0x%08x)\n", info.id, info.id);
    return 0;
}

static int cmd_register_sha(int argc, WCHAR **argv)
{
    NAPAGENT_COMPONENT info;
    HRESULT hr;
    int status;

    if ((status = parse_registration("register-sha", TRUE, argc, argv, &info))) return status;
    if (FAILED(hr = call_agent("register-sha", register_sha_thunk, &info))) return report_failure("register-sha", hr);
    printf("registered system health agent %u (0x%08x)\n", info.id, info.id);
    return 0;
}

/* unregister, enable, disable */

struct ec_switch
{
    UINT32 id;
    BOOL enabled;
};

static HRESULT unregister_thunk(RPC_BINDING_HANDLE agent, void *context)
{
    struct ec_switch *ec = context;
    return NapAgentUnregister(agent, NAPAGENT_KIND_EC, ec->id);
}

static HRESULT unregister_sha_thunk(RPC_BINDING_HANDLE agent, void *context)
{
    struct ec_switch *sha = context;
    return NapAgentUnregister(agent, NAPAGENT_KIND_SHA, sha->id);
}

static HRESULT enable_thunk(RPC_BINDING_HANDLE agent, void *context)
{
    struct ec_switch *ec = context;
    return NapAgentSetEcEnabled(agent, ec->id, ec->enabled);
}

static int cmd_unregister(int argc, WCHAR **argv)
{
    struct ec_switch ec = { 0, FALSE };
    HRESULT hr;

    if (argc != 1 || !parse_u32(argv[0], &ec.id)) return usage_error("unregister", "missing or bad id");
    if (FAILED(hr = call_agent("unregister", unregister_thunk, &ec))) return report_failure("unregister", hr);
    printf("unregistered enforcement client %u (0x%08x)\n", ec.id, ec.id);
    return 0;
}

static int cmd_unregister_sha(int argc, WCHAR **argv)
{
    struct ec_switch sha = { 0, FALSE };
    HRESULT hr;

    if (argc != 1 || !parse_u32(argv[0], &sha.id)) return usage_error("unregister-sha", "missing or bad id");
    if (FAILED(hr = call_agent("unregister-sha", unregister_sha_thunk, &sha)))
        return report_failure("unregister-sha", hr);
    printf("unregistered system health agent %u (0x%08x)\n", sha.id, sha.id);
    return 0;
}

static int cmd_enable(const char *command, BOOL enabled, int argc, WCHAR **argv)
{
    struct ec_switch ec = { 0, enabled };
    HRESULT hr;

    if (argc != 1 || !parse_u32(argv[0], &ec.id)) return usage_error(command, "missing or bad id");
    if (FAILED(hr = call_agent(command, enable_thunk, &ec))) return report_failure(command, hr);
    printf("%s enforcement client %u (0x%08x)\n", enabled ? "enabled" : "disabled", ec.id, ec.id);
    return 0;
}

/* list */

struct ec_list
{
    UINT32 count;
    NAPAGENT_COMPONENT *ecs;
};

static HRESULT list_thunk(RPC_BINDING_HANDLE agent, void *context)
{
    struct ec_list *list = context;
    return NapAgentList(agent, NAPAGENT_KIND_EC, &list->count, &list->ecs);
}

static HRESULT list_shas_thunk(RPC_BINDING_HANDLE agent, void *context)
{
    struct ec_list *list = context;
    return NapAgentList(agent, NAPAGENT_KIND_SHA, &list->count, &list->ecs);
}

static void free_ec_list(struct ec_list *list)
{
    UINT32 i;

    if (!list->ecs) return;
    for (i = 0; i < list->count; i++)
    {
        MIDL_user_free(list->ecs[i].friendly_name);
        MIDL_user_free(list->ecs[i].description);
        MIDL_user_free(list->ecs[i].version);
        MIDL_user_free(list->ecs[i].vendor_name);
    }
    MIDL_user_free(list->ecs);
}

static int cmd_list(int argc, WCHAR **argv)
{
    struct ec_list list = { 0, NULL }, shas = { 0, NULL };
    HRESULT hr;
    UINT32 i;

    (void)argv;
    if (argc) return usage_error("list", "takes no arguments");
    if (FAILED(hr = call_agent("list", list_thunk, &list)))
    {
        free_ec_list(&list);
        return report_failure("list", hr);
    }
    printf("%-10s %-10s %-7s %-5s %-11s %s\n", "id", "hex", "enabled", "bound", "connections", "name");
    for (i = 0; i < list.count; i++)
    {
        const NAPAGENT_COMPONENT *ec = &list.ecs[i];
        printf("%-10u 0x%08x %-7s %-5s %-11u %ls\n", ec->id, ec->id, ec->enabled ? "yes" : "no",
               ec->bound ? "yes" : "no", ec->connection_count, ec->friendly_name ? ec->friendly_name : L"-");
    }
    free_ec_list(&list);

    if (FAILED(hr = call_agent("list", list_shas_thunk, &shas)))
    {
        free_ec_list(&shas);
        return report_failure("list", hr);
    }
    printf("\nsystem health agents:\n");
    printf("%-10s %-10s %-5s %s\n", "id", "hex", "bound", "name");
    for (i = 0; i < shas.count; i++)
    {
        const NAPAGENT_COMPONENT *sha = &shas.ecs[i];
        printf("%-10u 0x%08x %-5s %ls\n", sha->id, sha->id, sha->bound ? "yes" : "no",
               sha->friendly_name ? sha->friendly_name : L"-");
    }
    free_ec_list(&shas);
    return 0;
}

/* isolation */

static HRESULT isolation_thunk(RPC_BINDING_HANDLE agent, void *context)
{
    return NapAgentGetSystemIsolation(agent, context);
}

static const char *isolation_state_name(UINT32 state)
{
    switch (state)
    {
    case 1: return "not restricted";
    case 2: return "in probation";
    case 3: return "restricted access";
    default: return "unknown";
    }
}

static const char *extended_state_name(UINT32 state)
{
    switch (state)
    {
    case 0: return "no data";
    case 1: return "transition";
    case 2: return "infected";
    case 3: return "unknown";
    default: return "?";
    }
}

static void print_filetime(const char *label, const FILETIME *time)
{
    SYSTEMTIME st;

    if (!time->dwLowDateTime && !time->dwHighDateTime)
    {
        printf("%s: none\n", label);
        return;
    }
    if (!FileTimeToSystemTime(time, &st))
    {
        printf("%s: 0x%08lx%08lx\n", label, (unsigned long)time->dwHighDateTime, (unsigned long)time->dwLowDateTime);
        return;
    }
    printf("%s: %04u-%02u-%02u %02u:%02u:%02u UTC\n", label, st.wYear, st.wMonth, st.wDay, st.wHour, st.wMinute,
           st.wSecond);
}

static int cmd_isolation(int argc, WCHAR **argv)
{
    NAPAGENT_SYSTEM_ISOLATION isolation;
    HRESULT hr;

    (void)argv;
    if (argc) return usage_error("isolation", "takes no arguments");
    memset(&isolation, 0, sizeof(isolation));
    if (FAILED(hr = call_agent("isolation", isolation_thunk, &isolation)))
    {
        MIDL_user_free(isolation.failure_url);
        return report_failure("isolation", hr);
    }
    printf("state: %u (%s)\n", isolation.state, isolation_state_name(isolation.state));
    printf("extended_state: %u (%s)\n", isolation.extended_state, extended_state_name(isolation.extended_state));
    print_filetime("probation_end", &isolation.prob_end_time);
    printf("failure_url: %ls\n", isolation.failure_url && isolation.failure_url[0] ? isolation.failure_url : L"-");
    printf("unknown_connections: %s\n", isolation.unknown_connections ? "yes" : "no");
    printf("generation: %u\n", isolation.generation);
    MIDL_user_free(isolation.failure_url);
    return 0;
}

/* state */

static HRESULT state_thunk(RPC_BINDING_HANDLE agent, void *context)
{
    return NapAgentGetState(agent, context);
}

static int cmd_state(int argc, WCHAR **argv)
{
    NAPAGENT_STATE state;
    HRESULT hr;

    (void)argv;
    if (argc) return usage_error("state", "takes no arguments");
    memset(&state, 0, sizeof(state));
    if (FAILED(hr = call_agent("state", state_thunk, &state))) return report_failure("state", hr);
    printf("bound_ec_count: %u\n", state.bound_ec_count);
    printf("connection_count: %u\n", state.connection_count);
    printf("retry_interval_ms: %u\n", state.retry_interval_ms);
    printf("soh_change_count: %u\n", state.soh_change_count);
    printf("retries_pending: %u\n", state.retries_pending);
    printf("health_generation: %u\n", state.health_generation);
    return 0;
}

/* notify */

static HRESULT notify_thunk(RPC_BINDING_HANDLE agent, void *context)
{
    (void)context;
    return NapAgentNotifySoHChange(agent);
}

static int cmd_notify(int argc, WCHAR **argv)
{
    HRESULT hr;

    (void)argv;
    if (argc) return usage_error("notify", "takes no arguments");
    if (FAILED(hr = call_agent("notify", notify_thunk, NULL))) return report_failure("notify", hr);
    printf("sent NotifySoHChange to the bound enforcement clients\n");
    return 0;
}

/* set */

struct setting_request
{
    UINT32 setting, value;
};

static HRESULT setting_thunk(RPC_BINDING_HANDLE agent, void *context)
{
    struct setting_request *setting = context;
    return NapAgentSetSetting(agent, setting->setting, setting->value);
}

/* The names and ranges are the agent's own (src/common/agent_settings.c):
 * a value it would refuse is refused here with the range that applies. */
static int cmd_set(int argc, WCHAR **argv)
{
    const struct agent_setting *entry = argc == 2 ? agent_setting_by_napctl_name(argv[0]) : NULL;
    struct setting_request setting;
    char range[128];
    DWORD value;
    HRESULT hr;

    if (!entry)
        return usage_error("set", "the settings are retry-interval, client-timeout, sha-timeout and fixup-poll <ms>, "
                                  "and log-level error|warning|info|trace");
    if (!agent_setting_parse(entry, argv[1], &value))
        return usage_error("set", entry->value_names ? "bad level" : "bad number of milliseconds");
    if (!agent_setting_in_range(entry, value))
    {
        if (entry->value_names) snprintf(range, sizeof(range), "%ls is error, warning, info or trace", argv[0]);
        else snprintf(range, sizeof(range), "%ls is %lu to %lu ms", argv[0], entry->min, entry->max);
        return usage_error("set", range);
    }
    setting.setting = entry->rpc_id;
    setting.value = value;
    if (FAILED(hr = call_agent("set", setting_thunk, &setting))) return report_failure("set", hr);
    if (entry->value_names) printf("%ls set to %ls\n", argv[0], entry->value_names[value - entry->min]);
    else printf("%ls set to %u ms\n", argv[0], setting.value);
    return 0;
}

/* connections */

struct connection_query
{
    UINT32 ec_id, timeout_ms, count;
    NAPAGENT_CONNECTION_FACTS *connections;
};

static HRESULT connections_thunk(RPC_BINDING_HANDLE agent, void *context)
{
    struct connection_query *query = context;
    return NapAgentQueryConnections(agent, query->ec_id, query->timeout_ms,
                                    &query->count, &query->connections);
}

static void format_correlation(const NAPAGENT_CORRELATION *agent, char *buf, size_t size)
{
    struct soh_correlation correlation;

    correlation.conn_id.data1 = agent->conn_id.Data1;
    correlation.conn_id.data2 = agent->conn_id.Data2;
    correlation.conn_id.data3 = agent->conn_id.Data3;
    memcpy(correlation.conn_id.data4, agent->conn_id.Data4, 8);
    correlation.timestamp = ((UINT64)agent->time_stamp.dwHighDateTime << 32) | agent->time_stamp.dwLowDateTime;
    if (!soh_correlation_format(&correlation, buf, size)) snprintf(buf, size, "?");
}

static int cmd_connections(int argc, WCHAR **argv)
{
    struct connection_query query = { 0, DEFAULT_QUERY_TIMEOUT_MS, 0, NULL };
    char guid[40], correlation[SOH_CORRELATION_TEXT_SIZE];
    HRESULT hr;
    UINT32 i;

    if (argc < 1 || !parse_u32(argv[0], &query.ec_id)) return usage_error("connections", "missing or bad id");
    if (argc == 3 && !wcscmp(argv[1], L"--timeout"))
    {
        if (!parse_u32(argv[2], &query.timeout_ms)) return usage_error("connections", "bad --timeout");
    }
    else if (argc != 1) return usage_error("connections", "unknown arguments");

    hr = call_agent_with("connections", &napctl_wait_method, connections_thunk, &query);
    if (FAILED(hr))
    {
        MIDL_user_free(query.connections);
        return report_failure("connections", hr);
    }
    printf("%u connection(s) of enforcement client %u (0x%08x)\n", query.count, query.ec_id, query.ec_id);
    for (i = 0; i < query.count; i++)
    {
        format_guid(&query.connections[i].connection_id, guid, sizeof(guid));
        format_correlation(&query.connections[i].correlation, correlation, sizeof(correlation));
        printf("%s max-size %u correlation %s\n", guid, query.connections[i].max_size, correlation);
    }
    MIDL_user_free(query.connections);
    return 0;
}

/* ping */

struct ping
{
    BYTE payload[16];
    NAPAGENT_BLOB echo;
    DWORD elapsed_ms;   /* the call alone, not the start of a stopped service */
};

static HRESULT ping_thunk(RPC_BINDING_HANDLE agent, void *context)
{
    struct ping *ping = context;
    DWORD start = GetTickCount();
    HRESULT hr = NapAgentPing(agent, sizeof(ping->payload), ping->payload, &ping->echo);

    ping->elapsed_ms = GetTickCount() - start;
    return hr;
}

static int cmd_ping(int argc, WCHAR **argv)
{
    struct ping ping;
    HRESULT hr;
    BOOL same;
    int i;

    (void)argv;
    if (argc) return usage_error("ping", "takes no arguments");
    memset(&ping, 0, sizeof(ping));
    for (i = 0; i < (int)sizeof(ping.payload); i++) ping.payload[i] = (BYTE)(0xa0 + i);
    hr = call_agent("ping", ping_thunk, &ping);
    same = ping.echo.size == sizeof(ping.payload) && ping.echo.data
           && !memcmp(ping.echo.data, ping.payload, sizeof(ping.payload));
    MIDL_user_free(ping.echo.data);
    if (FAILED(hr)) return report_failure("ping", hr);
    if (!same)
    {
        fprintf(stderr, "napctl: ping: the NapAgent answered but did not echo the payload\n");
        return EXIT_FAILED;
    }
    printf("the NapAgent answered in %lu ms\n", (unsigned long)ping.elapsed_ms);
    return 0;
}

/* decode */

static int hex_digit(WCHAR c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Append the hex digits of text to bytes; blanks, ':' and ',' separate
 * freely, anything else is an error.  *nibble carries a half byte across calls. */
static BOOL append_hex(const WCHAR *text, BYTE *bytes, size_t cap, size_t *len, int *nibble)
{
    int digit;

    for (; *text; text++)
    {
        if (iswspace(*text) || *text == ':' || *text == ',') continue;
        if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X') && *nibble < 0)
        {
            text++;
            continue;
        }
        if ((digit = hex_digit(*text)) < 0) return FALSE;
        if (*nibble < 0)
        {
            *nibble = digit;
            continue;
        }
        if (*len >= cap) return FALSE;
        bytes[(*len)++] = (BYTE)((*nibble << 4) | digit);
        *nibble = -1;
    }
    return TRUE;
}

/* A file of hex text is decoded as hex, anything else is taken as raw bytes. */
static BOOL read_message_file(const WCHAR *path, BYTE *bytes, size_t cap, size_t *len)
{
    static BYTE raw[65536];
    static WCHAR text[65537];
    size_t size, i;
    int nibble = -1;
    FILE *file;

    if (!(file = _wfopen(path, L"rb"))) return FALSE;
    size = fread(raw, 1, sizeof(raw), file);
    fclose(file);
    for (i = 0; i < size; i++) text[i] = raw[i];
    text[size] = 0;
    *len = 0;
    if (size && append_hex(text, bytes, cap, len, &nibble) && nibble < 0) return TRUE;
    if (size > cap) return FALSE;
    memcpy(bytes, raw, size);
    *len = size;
    return TRUE;
}

static int cmd_decode(int argc, WCHAR **argv)
{
    static BYTE message[65536];
    size_t len = 0;
    int i, nibble = -1;

    if (argc < 1) return usage_error("decode", "missing <hex | @file>");
    if (argv[0][0] == '@')
    {
        if (argc != 1) return usage_error("decode", "@file takes no more arguments");
        if (!read_message_file(argv[0] + 1, message, sizeof(message), &len))
        {
            fprintf(stderr, "napctl: decode: cannot read %ls\n", argv[0] + 1);
            return 1;
        }
    }
    else
    {
        for (i = 0; i < argc; i++)
            if (!append_hex(argv[i], message, sizeof(message), &len, &nibble))
                return usage_error("decode", "not hex");
        if (nibble >= 0) return usage_error("decode", "odd number of hex digits");
    }
    return soh_print_decoded(stdout, message, len) ? 1 : 0;
}

int wmain(int argc, WCHAR **argv)
{
    const WCHAR *command;

    if (argc < 2)
    {
        usage();
        return EXIT_USAGE;
    }
    command = argv[1];
    argc -= 2;
    argv += 2;
    if (!wcscmp(command, L"register")) return cmd_register(argc, argv);
    if (!wcscmp(command, L"unregister")) return cmd_unregister(argc, argv);
    if (!wcscmp(command, L"register-sha")) return cmd_register_sha(argc, argv);
    if (!wcscmp(command, L"unregister-sha")) return cmd_unregister_sha(argc, argv);
    if (!wcscmp(command, L"isolation")) return cmd_isolation(argc, argv);
    if (!wcscmp(command, L"enable")) return cmd_enable("enable", TRUE, argc, argv);
    if (!wcscmp(command, L"disable")) return cmd_enable("disable", FALSE, argc, argv);
    if (!wcscmp(command, L"list")) return cmd_list(argc, argv);
    if (!wcscmp(command, L"state")) return cmd_state(argc, argv);
    if (!wcscmp(command, L"notify")) return cmd_notify(argc, argv);
    if (!wcscmp(command, L"set")) return cmd_set(argc, argv);
    if (!wcscmp(command, L"connections")) return cmd_connections(argc, argv);
    if (!wcscmp(command, L"ping")) return cmd_ping(argc, argv);
    if (!wcscmp(command, L"decode")) return cmd_decode(argc, argv);
    if (!wcscmp(command, L"help") || !wcscmp(command, L"--help") || !wcscmp(command, L"-h"))
    {
        usage();
        return 0;
    }
    fprintf(stderr, "napctl: unknown command %ls\n", command);
    usage();
    return EXIT_USAGE;
}
