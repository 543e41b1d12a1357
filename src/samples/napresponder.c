/*
 * napresponder: a tiny health-policy server that stands in for NPS in demos
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "soh.h"
#include "sample_net.h"

/*
 * Wire protocol (ours, not a Windows one): each message is framed as a
 * 2-byte big-endian length followed by that many bytes.  The client sends an
 * SoH request, we answer with an SoH response, or with a 0-length frame when
 * the request does not decode.
 */

#define DEFAULT_PORT 17870
#define RECV_TIMEOUT_MS 10000
#define ONCE_ACCEPT_TIMEOUT_S 60
#define SAMPLE_SHV_ID 0x000137F0u
#define NONCOMPLIANT_CODE 0xC0FF0001u
#define SHA_NONCOMPLIANT_CODE 0xC0FF0002u /* what the sample SHA reads as "fix yourself" */
#define REMEDIATION_URL "http://remediation.example/nap"
#define FILETIME_TICKS_PER_HOUR (36000000000ull)

/* health decides from the SHAs' report entries; the others answer the same
 * whatever the request says. */
enum policy { POLICY_ALLOW, POLICY_RESTRICT, POLICY_PROBATION, POLICY_HEALTH };

struct options
{
    unsigned short port;
    enum policy policy;
    unsigned int count; /* exchanges to serve before exiting; 0: for ever */
    const WCHAR *ready_file;
};

/* What the health policy found in one request. */
struct verdict
{
    BOOL compliant;
    BOOL entry_compliant[SOH_MAX_ENTRIES];
};

static const char *policy_name(enum policy policy)
{
    switch (policy)
    {
    case POLICY_ALLOW: return "allow";
    case POLICY_RESTRICT: return "restrict";
    case POLICY_PROBATION: return "probation";
    default: return "health";
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: napresponder [--port N] [--policy health|allow|restrict|probation] "
            "[--once | --count N] [--ready-file PATH]\n");
    return 2;
}

static BOOL parse_options(int argc, WCHAR **argv, struct options *opts)
{
    unsigned long port, count;
    WCHAR *end;
    int i;

    opts->port = DEFAULT_PORT;
    opts->policy = POLICY_ALLOW;
    opts->count = 0;
    opts->ready_file = NULL;
    for (i = 1; i < argc; i++)
    {
        if (!wcscmp(argv[i], L"--once")) opts->count = 1;
        else if (i + 1 >= argc) return FALSE;
        else if (!wcscmp(argv[i], L"--count"))
        {
            count = wcstoul(argv[++i], &end, 10);
            if (*end || !count || count > 100000) return FALSE;
            opts->count = count;
        }
        else if (!wcscmp(argv[i], L"--port"))
        {
            port = wcstoul(argv[++i], &end, 10);
            if (*end || !port || port > 65535) return FALSE;
            opts->port = (unsigned short)port;
        }
        else if (!wcscmp(argv[i], L"--policy"))
        {
            i++;
            if (!wcscmp(argv[i], L"allow")) opts->policy = POLICY_ALLOW;
            else if (!wcscmp(argv[i], L"restrict")) opts->policy = POLICY_RESTRICT;
            else if (!wcscmp(argv[i], L"probation")) opts->policy = POLICY_PROBATION;
            else if (!wcscmp(argv[i], L"health")) opts->policy = POLICY_HEALTH;
            else return FALSE;
        }
        else if (!wcscmp(argv[i], L"--ready-file")) opts->ready_file = argv[++i];
        else return FALSE;
    }
    return TRUE;
}

static UINT64 probation_end(void)
{
    FILETIME now;

    GetSystemTimeAsFileTime(&now);
    return (((UINT64)now.dwHighDateTime << 32) | now.dwLowDateTime) + FILETIME_TICKS_PER_HOUR;
}

static uint32_t read_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Compliant: ComplianceResultCodes present and all S_OK, and no FailureCategory
 * but none (0).  A substitute entry the agent wrote for a silent SHA carries
 * ErrorCodes and a FailureCategory instead, so it is not compliant. */
static BOOL entry_compliant(const struct soh_entry *entry)
{
    enum soh_status status;
    const uint8_t *value;
    uint16_t type, len, i;
    BOOL has_codes = FALSE;
    size_t offset = 0;

    while (!(status = soh_entry_next_tlv(entry, &offset, &type, &value, &len)))
    {
        if (type == SOH_TLV_COMPLIANCE_RESULT_CODES)
        {
            if (!len || len % 4) return FALSE;
            for (i = 0; i < len; i += 4)
                if (read_be32(value + i)) return FALSE;
            has_codes = TRUE;
        }
        else if (type == SOH_TLV_FAILURE_CATEGORY && (len != 1 || value[0])) return FALSE;
    }
    return status == SOH_ERR_END && has_codes;
}

static void judge(const struct soh_request *req, enum policy policy, struct verdict *verdict)
{
    uint16_t i;

    verdict->compliant = policy != POLICY_RESTRICT && policy != POLICY_PROBATION;
    for (i = 0; i < req->entry_count; i++)
    {
        verdict->entry_compliant[i] = policy == POLICY_HEALTH ? entry_compliant(&req->entries[i])
                                                              : policy == POLICY_ALLOW;
        if (policy == POLICY_HEALTH && !verdict->entry_compliant[i]) verdict->compliant = FALSE;
    }
}

static void set_decision(enum policy policy, const struct verdict *verdict, struct soh_quarantine *q)
{
    memset(q, 0, sizeof(*q));
    q->prob_time = SOH_PROB_TIME_NONE;
    if (policy == POLICY_HEALTH) policy = verdict->compliant ? POLICY_ALLOW : POLICY_RESTRICT;
    switch (policy)
    {
    case POLICY_ALLOW:
        q->state = 1;
        break;
    case POLICY_RESTRICT:
        q->state = 3;
        q->fixup = 1;
        q->url_len = sizeof(REMEDIATION_URL) - 1;
        memcpy(q->url, REMEDIATION_URL, q->url_len);
        break;
    case POLICY_PROBATION:
        q->state = 2;
        q->prob_time = probation_end();
        break;
    default:
        break;
    }
}

/* The code a report entry of the response carries: the health policy tells
 * each SHA whether it is the one to fix itself; the fixed policies answer
 * every entry alike, as they always did. */
static uint32_t entry_code(enum policy policy, const struct verdict *verdict, uint16_t i)
{
    if (verdict->entry_compliant[i]) return 0;
    return policy == POLICY_HEALTH ? SHA_NONCOMPLIANT_CODE : NONCOMPLIANT_CODE;
}

/* One report entry per request entry, with the policy's compliance verdict. */
static enum soh_status add_entries(const struct soh_request *req, enum policy policy, const struct verdict *verdict,
                                   struct soh_response *resp, BYTE *space, size_t cap)
{
    enum soh_status status;
    size_t used = 0, len;
    uint32_t code;
    uint16_t i;

    for (i = 0; i < req->entry_count; i++)
    {
        code = entry_code(policy, verdict, i);
        status = soh_encode_simple_entry(req->entries[i].shv_id, &code, 1, 0, space + used, cap - used, &len);
        if (status) return status;
        resp->entries[i].shv_id = req->entries[i].shv_id;
        resp->entries[i].tlvs = space + used;
        resp->entries[i].len = (uint16_t)len;
        used += len;
    }
    resp->entry_count = req->entry_count;
    return SOH_OK;
}

static enum soh_status build_response(const struct soh_request *req, enum policy policy,
                                      const struct verdict *verdict, BYTE *out, size_t cap, size_t *len)
{
    static struct soh_response resp;
    static BYTE entry_space[SOH_MAX_NETWORK_SIZE];
    enum soh_status status;

    memset(&resp, 0, sizeof(resp));
    resp.with_mode_header = 1;
    resp.correlation = req->correlation;
    resp.has_correlation = 1;
    set_decision(policy, verdict, &resp.quarantine);
    /* The health policy's restriction is about an unhealthy machine. */
    if (policy == POLICY_HEALTH && !verdict->compliant) resp.quarantine.ext_state = 2;
    resp.shv_count = 1;
    resp.shvs[0] = SAMPLE_SHV_ID;
    resp.has_installed_shvs = 1;
    if ((status = add_entries(req, policy, verdict, &resp, entry_space, sizeof(entry_space)))) return status;
    return soh_encode_response(&resp, out, cap, len);
}

static const char *decision_text(enum policy policy, const struct verdict *verdict)
{
    if (policy == POLICY_HEALTH)
        return verdict->compliant ? "not restricted"
                                  : "restricted access (fix-up, " REMEDIATION_URL ", extended state infected)";
    return policy == POLICY_ALLOW ? "not restricted" :
           policy == POLICY_RESTRICT ? "restricted access (fix-up, " REMEDIATION_URL ")" : "in probation for 1 hour";
}

/* One line per exchange, so that a demo can show what the server decided. */
static void print_decision(unsigned int exchange, const struct soh_request *req, enum policy policy,
                           const struct verdict *verdict, size_t in, size_t out)
{
    char correlation[SOH_CORRELATION_TEXT_SIZE];
    uint16_t i;

    soh_correlation_format(&req->correlation, correlation, sizeof(correlation));
    printf("napresponder: exchange %u: request %u bytes from \"%s\" (report entries: %u, correlation %s): "
           "policy %s -> %s, response %u bytes", exchange, (unsigned int)in, req->machine.name, req->entry_count,
           correlation, policy_name(policy), decision_text(policy, verdict), (unsigned int)out);
    if (policy == POLICY_HEALTH)
        for (i = 0; i < req->entry_count; i++)
            printf("%s0x%08x %s", i ? ", " : "; SHAs: ", req->entries[i].shv_id,
                   verdict->entry_compliant[i] ? "compliant" : "not compliant");
    printf("\n");
    fflush(stdout);
}

/* Answer one framed request; FALSE when the connection is done.  *served
 * counts the exchanges answered, refused ones too. */
static BOOL serve_exchange(SOCKET s, enum policy policy, unsigned int *served)
{
    static BYTE request[65536], response[SOH_MAX_NETWORK_SIZE];
    static struct soh_request req;
    struct verdict verdict;
    enum soh_status status;
    size_t in, out = 0;

    if (!recv_frame(s, request, sizeof(request), &in)) return FALSE;
    if ((status = soh_decode_request(request, in, &req)))
    {
        printf("napresponder: exchange %u: request %u bytes rejected: %s\n", ++*served, (unsigned int)in,
               soh_status_string(status));
        fflush(stdout);
        return send_frame(s, NULL, 0);
    }
    judge(&req, policy, &verdict);
    if ((status = build_response(&req, policy, &verdict, response, sizeof(response), &out)))
    {
        printf("napresponder: exchange %u: cannot build a response: %s\n", ++*served, soh_status_string(status));
        fflush(stdout);
        return send_frame(s, NULL, 0);
    }
    print_decision(++*served, &req, policy, &verdict, in, out);
    return send_frame(s, response, out);
}

static BOOL enough(const struct options *opts, unsigned int served)
{
    return opts->count && served >= opts->count;
}

static void serve_client(SOCKET s, const struct options *opts, unsigned int *served)
{
    DWORD timeout = RECV_TIMEOUT_MS;

    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout, sizeof(timeout));
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, (const char *)&timeout, sizeof(timeout));
    while (!enough(opts, *served) && serve_exchange(s, opts->policy, served))
        ;
}

static SOCKET listen_on(unsigned short port)
{
    struct sockaddr_in addr;
    SOCKET s;

    if ((s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)) == INVALID_SOCKET) return s;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) || listen(s, 4))
    {
        closesocket(s);
        return INVALID_SOCKET;
    }
    return s;
}

static BOOL write_ready_file(const WCHAR *path)
{
    FILE *file = _wfopen(path, L"w");

    if (!file) return FALSE;
    fprintf(file, "ready\n");
    return !fclose(file);
}

/* With --once or --count the awaited client may never come: do not wait for ever. */
static BOOL wait_for_client(SOCKET listener, BOOL bounded)
{
    struct timeval timeout = { ONCE_ACCEPT_TIMEOUT_S, 0 };
    fd_set set;

    if (!bounded) return TRUE;
    FD_ZERO(&set);
    FD_SET(listener, &set);
    return select(0, &set, NULL, NULL, &timeout) == 1;
}

static int serve(const struct options *opts)
{
    unsigned int served = 0;
    SOCKET listener, client;

    if ((listener = listen_on(opts->port)) == INVALID_SOCKET)
    {
        fprintf(stderr, "napresponder: cannot listen on 127.0.0.1:%u (error %d)\n", opts->port, WSAGetLastError());
        return 1;
    }
    printf("napresponder: listening on 127.0.0.1:%u, policy %s\n", opts->port, policy_name(opts->policy));
    fflush(stdout);
    if (opts->ready_file && !write_ready_file(opts->ready_file))
    {
        fprintf(stderr, "napresponder: cannot write %ls\n", opts->ready_file);
        closesocket(listener);
        return 1;
    }
    while (!enough(opts, served))
    {
        if (!wait_for_client(listener, opts->count != 0))
        {
            fprintf(stderr, "napresponder: no client within %u s\n", ONCE_ACCEPT_TIMEOUT_S);
            closesocket(listener);
            return 1;
        }
        if ((client = accept(listener, NULL, NULL)) == INVALID_SOCKET) continue;
        serve_client(client, opts, &served);
        closesocket(client);
    }
    closesocket(listener);
    return 0;
}

int wmain(int argc, WCHAR **argv)
{
    struct options opts;
    WSADATA wsa;
    int ret;

    if (!parse_options(argc, argv, &opts)) return usage();
    if (WSAStartup(MAKEWORD(2, 2), &wsa))
    {
        fprintf(stderr, "napresponder: WSAStartup failed\n");
        return 1;
    }
    ret = serve(&opts);
    WSACleanup();
    return ret;
}
