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
#define REMEDIATION_URL "http://remediation.example/nap"
#define FILETIME_TICKS_PER_HOUR (36000000000ull)

enum policy { POLICY_ALLOW, POLICY_RESTRICT, POLICY_PROBATION };

struct options
{
    unsigned short port;
    enum policy policy;
    BOOL once;
    const WCHAR *ready_file;
};

static const char *policy_name(enum policy policy)
{
    switch (policy)
    {
    case POLICY_ALLOW: return "allow";
    case POLICY_RESTRICT: return "restrict";
    default: return "probation";
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: napresponder [--port N] [--policy allow|restrict|probation] [--once] "
            "[--ready-file PATH]\n");
    return 2;
}

static BOOL parse_options(int argc, WCHAR **argv, struct options *opts)
{
    unsigned long port;
    WCHAR *end;
    int i;

    opts->port = DEFAULT_PORT;
    opts->policy = POLICY_ALLOW;
    opts->once = FALSE;
    opts->ready_file = NULL;
    for (i = 1; i < argc; i++)
    {
        if (!wcscmp(argv[i], L"--once")) opts->once = TRUE;
        else if (i + 1 >= argc) return FALSE;
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
            else return FALSE;
        }
        else if (!wcscmp(argv[i], L"--ready-file")) opts->ready_file = argv[++i];
        else return FALSE;
    }
    return TRUE;
}

/* recv until len bytes have arrived; FALSE on close, error or timeout. */
static BOOL recv_all(SOCKET s, BYTE *buf, int len)
{
    int got;

    while (len > 0)
    {
        if ((got = recv(s, (char *)buf, len, 0)) <= 0) return FALSE;
        buf += got;
        len -= got;
    }
    return TRUE;
}

static BOOL send_all(SOCKET s, const BYTE *buf, int len)
{
    int sent;

    while (len > 0)
    {
        if ((sent = send(s, (const char *)buf, len, 0)) <= 0) return FALSE;
        buf += sent;
        len -= sent;
    }
    return TRUE;
}

static BOOL recv_frame(SOCKET s, BYTE *buf, size_t cap, size_t *len)
{
    BYTE header[2];

    if (!recv_all(s, header, 2)) return FALSE;
    *len = (header[0] << 8) | header[1];
    if (*len > cap) return FALSE;
    return recv_all(s, buf, (int)*len);
}

static BOOL send_frame(SOCKET s, const BYTE *data, size_t len)
{
    BYTE header[2] = { (BYTE)(len >> 8), (BYTE)len };

    return send_all(s, header, 2) && send_all(s, data, (int)len);
}

static UINT64 probation_end(void)
{
    FILETIME now;

    GetSystemTimeAsFileTime(&now);
    return (((UINT64)now.dwHighDateTime << 32) | now.dwLowDateTime) + FILETIME_TICKS_PER_HOUR;
}

static void set_decision(enum policy policy, struct soh_quarantine *q)
{
    memset(q, 0, sizeof(*q));
    q->prob_time = SOH_PROB_TIME_NONE;
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
    }
}

/* One report entry per request entry, echoing the policy's compliance verdict. */
static enum soh_status add_entries(const struct soh_request *req, enum policy policy,
                                   struct soh_response *resp, BYTE *space, size_t cap)
{
    uint32_t code = policy == POLICY_ALLOW ? 0 : NONCOMPLIANT_CODE;
    enum soh_status status;
    size_t used = 0, len;
    uint16_t i;

    for (i = 0; i < req->entry_count; i++)
    {
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
                                      BYTE *out, size_t cap, size_t *len)
{
    static struct soh_response resp;
    static BYTE entry_space[SOH_MAX_NETWORK_SIZE];
    enum soh_status status;

    memset(&resp, 0, sizeof(resp));
    resp.with_mode_header = 1;
    resp.correlation = req->correlation;
    resp.has_correlation = 1;
    set_decision(policy, &resp.quarantine);
    resp.shv_count = 1;
    resp.shvs[0] = SAMPLE_SHV_ID;
    resp.has_installed_shvs = 1;
    if ((status = add_entries(req, policy, &resp, entry_space, sizeof(entry_space)))) return status;
    return soh_encode_response(&resp, out, cap, len);
}

static void print_decision(const struct soh_request *req, enum policy policy, size_t in, size_t out)
{
    char correlation[SOH_CORRELATION_TEXT_SIZE];

    soh_correlation_format(&req->correlation, correlation, sizeof(correlation));
    printf("napresponder: request %u bytes from \"%s\" (report entries: %u, correlation %s): policy %s -> %s, "
           "response %u bytes\n", (unsigned int)in, req->machine.name, req->entry_count, correlation,
           policy_name(policy),
           policy == POLICY_ALLOW ? "not restricted" :
           policy == POLICY_RESTRICT ? "restricted access (fix-up, " REMEDIATION_URL ")" : "in probation for 1 hour",
           (unsigned int)out);
    fflush(stdout);
}

/* Answer one framed request; FALSE when the connection is done. */
static BOOL serve_exchange(SOCKET s, enum policy policy)
{
    static BYTE request[65536], response[SOH_MAX_NETWORK_SIZE];
    static struct soh_request req;
    enum soh_status status;
    size_t in, out = 0;

    if (!recv_frame(s, request, sizeof(request), &in)) return FALSE;
    if ((status = soh_decode_request(request, in, &req)))
    {
        printf("napresponder: request %u bytes rejected: %s\n", (unsigned int)in, soh_status_string(status));
        fflush(stdout);
        return send_frame(s, NULL, 0);
    }
    if ((status = build_response(&req, policy, response, sizeof(response), &out)))
    {
        printf("napresponder: cannot build a response: %s\n", soh_status_string(status));
        fflush(stdout);
        return send_frame(s, NULL, 0);
    }
    print_decision(&req, policy, in, out);
    return send_frame(s, response, out);
}

static void serve_client(SOCKET s, const struct options *opts)
{
    DWORD timeout = RECV_TIMEOUT_MS;

    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout, sizeof(timeout));
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, (const char *)&timeout, sizeof(timeout));
    while (serve_exchange(s, opts->policy))
        if (opts->once) break;
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

/* With --once nobody may ever come: do not wait for ever. */
static BOOL wait_for_client(SOCKET listener, BOOL once)
{
    struct timeval timeout = { ONCE_ACCEPT_TIMEOUT_S, 0 };
    fd_set set;

    if (!once) return TRUE;
    FD_ZERO(&set);
    FD_SET(listener, &set);
    return select(0, &set, NULL, NULL, &timeout) == 1;
}

static int serve(const struct options *opts)
{
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
    for (;;)
    {
        if (!wait_for_client(listener, opts->once))
        {
            fprintf(stderr, "napresponder: no client within %u s\n", ONCE_ACCEPT_TIMEOUT_S);
            closesocket(listener);
            return 1;
        }
        if ((client = accept(listener, NULL, NULL)) == INVALID_SOCKET) continue;
        serve_client(client, opts);
        closesocket(client);
        if (opts->once) break;
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
