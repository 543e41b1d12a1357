/*
 * sample_ec: a sample enforcement client, written as one would be for Windows
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <objbase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "NapEnforcementClient.h"
#include "nap_errors.h"
#include "soh_print.h"
#include "sample_common.h"
#include "sample_net.h"

/*
 * Only the documented COM interfaces are used here, nothing private to this
 * project (nap_errors and soh_print are plain helpers for the output), so
 * the program shows that an EC written against the Windows SDK runs as is.
 * The "network" is napresponder on 127.0.0.1: frames of a 2-byte
 * big-endian length and the bytes.
 */

#define SAMPLE_QEC_ID 79857 /* 0x137F1, the SDK sample QEC */
#define DEFAULT_SERVER_PORT 17870
#define SAMPLE_MAX_SIZE 4000
#define NETWORK_TIMEOUT_MS 10000
#define DEFAULT_RECOVERY_TIMEOUT_MS 30000

struct options
{
    UINT32 id;
    unsigned short server_port;
    UINT32 hold_ms; /* keep the connection up this long, for napctl connections/notify */
    BOOL until_recovered; /* redo the exchange on NotifySoHChange until access comes back */
    UINT32 timeout_ms;    /* for until_recovered */
};

/* The EC's callback object: the agent asks it for the EC's connections. */
struct sample_callback
{
    INapEnforcementClientCallback INapEnforcementClientCallback_iface;
    LONG refcount;
    CRITICAL_SECTION lock;
    INapEnforcementClientConnection *connection; /* the one up connection, or NULL */
    HANDLE soh_changed; /* auto-reset, set by NotifySoHChange; only --until-recovered waits for it */
};

static inline struct sample_callback *impl_from_INapEnforcementClientCallback(INapEnforcementClientCallback *iface)
{
    return CONTAINING_RECORD(iface, struct sample_callback, INapEnforcementClientCallback_iface);
}

static HRESULT WINAPI callback_QueryInterface(INapEnforcementClientCallback *iface, REFIID riid, void **out)
{
    return sample_query_interface((IUnknown *)iface, &IID_INapEnforcementClientCallback, riid, out);
}

static ULONG WINAPI callback_AddRef(INapEnforcementClientCallback *iface)
{
    struct sample_callback *callback = impl_from_INapEnforcementClientCallback(iface);
    return InterlockedIncrement(&callback->refcount);
}

static ULONG WINAPI callback_Release(INapEnforcementClientCallback *iface)
{
    struct sample_callback *callback = impl_from_INapEnforcementClientCallback(iface);
    ULONG refcount = InterlockedDecrement(&callback->refcount);

    if (!refcount)
    {
        if (callback->connection) INapEnforcementClientConnection_Release(callback->connection);
        if (callback->soh_changed) CloseHandle(callback->soh_changed);
        DeleteCriticalSection(&callback->lock);
        free(callback);
    }
    return refcount;
}

static HRESULT WINAPI callback_NotifySoHChange(INapEnforcementClientCallback *iface)
{
    struct sample_callback *callback = impl_from_INapEnforcementClientCallback(iface);

    /* The one-shot sample just shows that the call arrived.  With
     * --until-recovered the exchange is redone, but on the exchange thread:
     * the agent waits for this callback, and an exchange calls the agent. */
    printf("callback: NotifySoHChange\n");
    if (callback->soh_changed) SetEvent(callback->soh_changed);
    return S_OK;
}

static HRESULT WINAPI callback_GetConnections(INapEnforcementClientCallback *iface, Connections **out)
{
    struct sample_callback *callback = impl_from_INapEnforcementClientCallback(iface);
    Connections *list;

    if (!out) return E_POINTER;
    if (!(list = CoTaskMemAlloc(sizeof(*list)))) return E_OUTOFMEMORY;
    list->count = 0;
    list->connections = NULL;

    EnterCriticalSection(&callback->lock);
    if (callback->connection)
    {
        if (!(list->connections = CoTaskMemAlloc(sizeof(*list->connections))))
        {
            LeaveCriticalSection(&callback->lock);
            CoTaskMemFree(list);
            return E_OUTOFMEMORY;
        }
        /* The agent owns the array and one reference per element. */
        list->connections[0] = callback->connection;
        INapEnforcementClientConnection_AddRef(callback->connection);
        list->count = 1;
    }
    LeaveCriticalSection(&callback->lock);

    printf("callback: GetConnections (%u)\n", list->count);
    *out = list;
    return S_OK;
}

static INapEnforcementClientCallbackVtbl callback_vtbl =
{
    callback_QueryInterface,
    callback_AddRef,
    callback_Release,
    callback_NotifySoHChange,
    callback_GetConnections,
};

static struct sample_callback *create_callback(void)
{
    struct sample_callback *callback = calloc(1, sizeof(*callback));

    if (!callback) return NULL;
    if (!(callback->soh_changed = CreateEventW(NULL, FALSE, FALSE, NULL)))
    {
        free(callback);
        return NULL;
    }
    callback->INapEnforcementClientCallback_iface.lpVtbl = &callback_vtbl;
    callback->refcount = 1;
    InitializeCriticalSection(&callback->lock);
    return callback;
}

/* Pass NULL to say the connection is down. */
static void callback_set_connection(struct sample_callback *callback, INapEnforcementClientConnection *connection)
{
    INapEnforcementClientConnection *old;

    if (connection) INapEnforcementClientConnection_AddRef(connection);
    EnterCriticalSection(&callback->lock);
    old = callback->connection;
    callback->connection = connection;
    LeaveCriticalSection(&callback->lock);
    if (old) INapEnforcementClientConnection_Release(old);
}

/* The network side: one request/response exchange with napresponder. */

static SOCKET connect_to_server(unsigned short port)
{
    DWORD timeout = NETWORK_TIMEOUT_MS;
    struct sockaddr_in addr;
    SOCKET s;

    if ((s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)) == INVALID_SOCKET) return s;
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout, sizeof(timeout));
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, (const char *)&timeout, sizeof(timeout));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&addr, sizeof(addr)))
    {
        closesocket(s);
        return INVALID_SOCKET;
    }
    return s;
}

/* What a failed send/recv left in WSAGetLastError; a peer that closed
 * early leaves 0, which must not read as success. */
static HRESULT network_error(void)
{
    int error = WSAGetLastError();
    return HRESULT_FROM_WIN32(error ? error : ERROR_CONNECTION_ABORTED);
}

/* Send the request, receive the response into reply (callee never allocates). */
static HRESULT exchange_with_server(unsigned short port, const NetworkSoHRequest *request,
                                    BYTE *reply, UINT16 cap, UINT16 *reply_len)
{
    HRESULT hr = S_OK;
    size_t length;
    WSADATA wsa;
    SOCKET s;

    if (WSAStartup(MAKEWORD(2, 2), &wsa)) return E_FAIL;
    if ((s = connect_to_server(port)) == INVALID_SOCKET)
    {
        hr = network_error();
        WSACleanup();
        return hr;
    }
    if (!send_frame(s, request->data, request->size) || !recv_frame(s, reply, cap, &length))
        hr = network_error();
    else *reply_len = (UINT16)length;
    closesocket(s);
    WSACleanup();
    return hr;
}

/* Output */

static void print_guid(const char *label, const GUID *guid)
{
    printf("%s{%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}\n", label, (unsigned long)guid->Data1,
           guid->Data2, guid->Data3, guid->Data4[0], guid->Data4[1], guid->Data4[2], guid->Data4[3],
           guid->Data4[4], guid->Data4[5], guid->Data4[6], guid->Data4[7]);
}

static void print_probation_end(const FILETIME *ft)
{
    SYSTEMTIME st;

    if ((!ft->dwLowDateTime && !ft->dwHighDateTime)
        || (ft->dwLowDateTime == 0xffffffff && ft->dwHighDateTime == 0xffffffff)
        || !FileTimeToSystemTime(ft, &st))
    {
        printf("probation end: none\n");
        return;
    }
    printf("probation end: %04u-%02u-%02u %02u:%02u:%02u UTC\n", st.wYear, st.wMonth, st.wDay,
           st.wHour, st.wMinute, st.wSecond);
}

static void print_url(const CountedString *url)
{
    if (url->string && url->length) printf("failure URL: %.*ls\n", (int)url->length, url->string);
    else printf("failure URL: none\n");
}

static void print_isolation(const IsolationInfo *info)
{
    printf("isolation state: %s\n", isolation_state_name(info->isolationState));
    print_probation_end(&info->probEndTime);
    print_url(&info->failureUrl);
}

static void print_isolation_ex(const IsolationInfoEx *info)
{
    printf("isolation state (ex): %s\n", isolation_state_name(info->isolationState));
    printf("extended state: %d (%s)\n", info->extendedIsolationState,
           extended_state_name(info->extendedIsolationState));
    print_probation_end(&info->probEndTime);
    print_url(&info->failureUrl);
}

static void print_shvs(SystemHealthEntityCount count, const SystemHealthEntityId *ids)
{
    SystemHealthEntityCount i;

    printf("installed SHVs: %u", count);
    for (i = 0; i < count; i++) printf("%s0x%08x", i ? ", " : " (", ids[i]);
    printf("%s\n", count ? ")" : "");
}

/* The EC's session: what has to be undone, in reverse order, at the end. */

struct session
{
    struct options opts;
    BOOL com_initialized, bound, connection_up;
    INapEnforcementClientBinding *binding;
    struct sample_callback *callback;
    INapEnforcementClientConnection *connection;
};

static BOOL check(HRESULT hr, const char *step)
{
    if (SUCCEEDED(hr)) return TRUE;
    fprintf(stderr, "sample_ec: %s: 0x%08lx %s\n", step, (unsigned long)hr, nap_error_name(hr));
    return FALSE;
}

static BOOL start_session(struct session *session)
{
    GUID connection_id;

    if (!check(CoInitializeEx(NULL, COINIT_MULTITHREADED), "CoInitializeEx")) return FALSE;
    session->com_initialized = TRUE;
    if (!check(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                &IID_INapEnforcementClientBinding, (void **)&session->binding),
               "CoCreateInstance(NapEnforcementClientBinding)"))
        return FALSE;
    if (!(session->callback = create_callback())) return check(E_OUTOFMEMORY, "create callback");
    if (!check(INapEnforcementClientBinding_Initialize(session->binding, session->opts.id,
               &session->callback->INapEnforcementClientCallback_iface), "Initialize"))
        return FALSE;
    session->bound = TRUE;
    printf("bound as enforcement client %u (0x%08x)\n", session->opts.id, session->opts.id);

    if (!check(INapEnforcementClientBinding_CreateConnection(session->binding, &session->connection),
               "CreateConnection"))
        return FALSE;
    if (!check(CoCreateGuid(&connection_id), "CoCreateGuid")) return FALSE;
    if (!check(INapEnforcementClientConnection_SetConnectionId(session->connection, &connection_id),
               "SetConnectionId"))
        return FALSE;
    if (!check(INapEnforcementClientConnection_SetMaxSize(session->connection, SAMPLE_MAX_SIZE), "SetMaxSize"))
        return FALSE;
    print_guid("connection id: ", &connection_id);
    session->connection_up = TRUE;
    callback_set_connection(session->callback, session->connection);
    return TRUE;
}

/* Steps 5 and 6 of the EC sequence: get the SoH, send it, hand back the SoHR.
 * verbose prints both packets in hex and decoded. */
static BOOL exchange_soh(struct session *session, BOOL verbose)
{
    static BYTE reply[65535];
    NetworkSoHRequest *request = NULL;
    NetworkSoHResponse response;
    BOOL retrigger = FALSE, ok;
    UINT16 reply_len = 0;

    if (!check(INapEnforcementClientBinding_GetSoHRequest(session->binding, session->connection, &retrigger),
               "GetSoHRequest"))
        return FALSE;
    if (verbose) printf("retrigger hint: %s\n", retrigger ? "TRUE" : "FALSE");
    if (!check(INapEnforcementClientConnection_GetSoHRequest(session->connection, &request),
               "connection GetSoHRequest"))
        return FALSE;
    if (!request) return check(E_POINTER, "connection GetSoHRequest");

    if (verbose)
    {
        printf("SoH request, %u bytes:\n", request->size);
        soh_print_hex(stdout, request->data, request->size);
        soh_print_request(stdout, request->data, request->size);
    }
    else printf("SoH request: %u bytes (retrigger hint %s)\n", request->size, retrigger ? "TRUE" : "FALSE");
    ok = check(exchange_with_server(session->opts.server_port, request, reply, sizeof(reply), &reply_len),
               "exchange with napresponder");
    CoTaskMemFree(request->data);
    CoTaskMemFree(request);
    if (!ok) return FALSE;

    if (verbose)
    {
        printf("SoH response, %u bytes:\n", reply_len);
        soh_print_hex(stdout, reply, reply_len);
        if (reply_len) soh_print_response(stdout, reply, reply_len);
    }
    else printf("SoH response: %u bytes\n", reply_len);
    response.size = reply_len;
    response.data = reply;
    if (!check(INapEnforcementClientConnection_SetSoHResponse(session->connection, &response), "SetSoHResponse"))
        return FALSE;
    return check(INapEnforcementClientBinding_ProcessSoHResponse(session->binding, session->connection),
                 "ProcessSoHResponse");
}

/* Read the access decision the agent put on the connection. */
static BOOL show_decision(struct session *session)
{
    INapEnforcementClientConnection2 *connection2;
    SystemHealthEntityId *shvs = NULL;
    SystemHealthEntityCount shv_count = 0;
    IsolationInfoEx *info_ex = NULL;
    IsolationInfo *info = NULL;
    HRESULT hr;

    if (!check(INapEnforcementClientConnection_GetIsolationInfo(session->connection, &info), "GetIsolationInfo"))
        return FALSE;
    print_isolation(info);
    CoTaskMemFree(info->failureUrl.string);
    CoTaskMemFree(info);

    if (!check(INapEnforcementClientConnection_QueryInterface(session->connection,
               &IID_INapEnforcementClientConnection2, (void **)&connection2), "QueryInterface(Connection2)"))
        return FALSE;
    hr = INapEnforcementClientConnection2_GetIsolationInfoEx(connection2, &info_ex);
    if (check(hr, "GetIsolationInfoEx"))
    {
        print_isolation_ex(info_ex);
        CoTaskMemFree(info_ex->failureUrl.string);
        CoTaskMemFree(info_ex);
        hr = INapEnforcementClientConnection2_GetInstalledShvs(connection2, &shv_count, &shvs);
        if (check(hr, "GetInstalledShvs")) print_shvs(shv_count, shvs);
        CoTaskMemFree(shvs);
    }
    INapEnforcementClientConnection2_Release(connection2);
    return SUCCEEDED(hr);
}

/* --until-recovered: an exchange per NotifySoHChange, on a thread of ours,
 * until the connection went from restricted access back to not restricted. */

struct recovery
{
    struct session *session;
    HANDLE stop;      /* manual-reset: the timeout passed, give up */
    HANDLE recovered; /* manual-reset */
    unsigned int exchanges;
    BOOL seen_restricted;
};

/* The agent's decision for our connection after one exchange. */
static BOOL read_decision(struct session *session, IsolationInfoEx **info)
{
    INapEnforcementClientConnection2 *connection2;
    HRESULT hr;

    if (!check(INapEnforcementClientConnection_QueryInterface(session->connection,
               &IID_INapEnforcementClientConnection2, (void **)&connection2), "QueryInterface(Connection2)"))
        return FALSE;
    hr = INapEnforcementClientConnection2_GetIsolationInfoEx(connection2, info);
    INapEnforcementClientConnection2_Release(connection2);
    return check(hr, "GetIsolationInfoEx");
}

/* TRUE once recovered. */
static BOOL recovery_exchange(struct recovery *recovery)
{
    IsolationInfoEx *info = NULL;
    unsigned int n = ++recovery->exchanges;
    IsolationState state;

    if (!exchange_soh(recovery->session, FALSE) || !read_decision(recovery->session, &info))
    {
        printf("exchange %u: failed\n", n);
        return FALSE;
    }
    state = info->isolationState;
    printf("exchange %u: %s (extended state %s", n, isolation_state_name(state),
           extended_state_name(info->extendedIsolationState));
    if (info->failureUrl.string && info->failureUrl.length)
        printf(", failure URL %.*ls", (int)info->failureUrl.length, info->failureUrl.string);
    printf(")\n");
    CoTaskMemFree(info->failureUrl.string);
    CoTaskMemFree(info);
    if (state == isolationStateRestrictedAccess) recovery->seen_restricted = TRUE;
    return state == isolationStateNotRestricted && recovery->seen_restricted;
}

static DWORD WINAPI recovery_thread(void *arg)
{
    struct recovery *recovery = arg;
    HANDLE events[2] = { recovery->stop, recovery->session->callback->soh_changed };
    BOOL recovered;

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    /* Notifications that come during an exchange leave the event set: one
     * more exchange follows, however many there were. */
    recovered = recovery_exchange(recovery);
    while (!recovered && WaitForMultipleObjects(2, events, FALSE, INFINITE) == WAIT_OBJECT_0 + 1)
        recovered = recovery_exchange(recovery);
    if (recovered) SetEvent(recovery->recovered);
    CoUninitialize();
    return 0;
}

static BOOL run_until_recovered(struct session *session)
{
    struct recovery recovery;
    HANDLE thread;
    BOOL ok;

    memset(&recovery, 0, sizeof(recovery));
    recovery.session = session;
    recovery.stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    recovery.recovered = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!recovery.stop || !recovery.recovered || !(thread = CreateThread(NULL, 0, recovery_thread, &recovery, 0, NULL)))
    {
        if (recovery.stop) CloseHandle(recovery.stop);
        if (recovery.recovered) CloseHandle(recovery.recovered);
        return check(HRESULT_FROM_WIN32(GetLastError()), "starting the exchange thread");
    }
    printf("waiting up to %u ms for restricted access and then recovery\n", session->opts.timeout_ms);
    ok = WaitForSingleObject(recovery.recovered, session->opts.timeout_ms) == WAIT_OBJECT_0;
    SetEvent(recovery.stop);
    /* An exchange in flight ends within the network timeout. */
    WaitForSingleObject(thread, 2 * NETWORK_TIMEOUT_MS + 5000);
    CloseHandle(thread);
    CloseHandle(recovery.stop);
    CloseHandle(recovery.recovered);
    if (ok) printf("recovered after %u exchanges: restricted access, then not restricted\n", recovery.exchanges);
    else fprintf(stderr, "sample_ec: not recovered within %u ms (%u exchanges, restricted access %sseen)\n",
                 session->opts.timeout_ms, recovery.exchanges, recovery.seen_restricted ? "" : "never ");
    return ok;
}

/* Steps 8 and 9: state-down the connection, unbind, release. */
static BOOL end_session(struct session *session)
{
    BOOL ok = TRUE;

    if (session->connection_up)
    {
        callback_set_connection(session->callback, NULL);
        ok &= check(INapEnforcementClientBinding_NotifyConnectionStateDown(session->binding, session->connection),
                    "NotifyConnectionStateDown");
    }
    if (session->connection) INapEnforcementClientConnection_Release(session->connection);
    if (session->bound) ok &= check(INapEnforcementClientBinding_Uninitialize(session->binding), "Uninitialize");
    if (session->binding) INapEnforcementClientBinding_Release(session->binding);
    if (session->callback)
        INapEnforcementClientCallback_Release(&session->callback->INapEnforcementClientCallback_iface);
    if (session->com_initialized) CoUninitialize();
    return ok;
}

static LONG WINAPI crash_handler(EXCEPTION_POINTERS *pointers)
{
    DWORD code = pointers->ExceptionRecord->ExceptionCode;

    fprintf(stderr, "sample_ec: unhandled exception 0x%08lx at %p\n", (unsigned long)code,
            pointers->ExceptionRecord->ExceptionAddress);
    fflush(stderr);
    TerminateProcess(GetCurrentProcess(), code ? code : 1);
    return EXCEPTION_CONTINUE_SEARCH;
}

static BOOL parse_options(int argc, WCHAR **argv, struct options *opts)
{
    UINT32 port;
    int i;

    opts->id = SAMPLE_QEC_ID;
    opts->server_port = DEFAULT_SERVER_PORT;
    opts->hold_ms = 0;
    opts->until_recovered = FALSE;
    opts->timeout_ms = DEFAULT_RECOVERY_TIMEOUT_MS;
    for (i = 1; i < argc; i += 2)
    {
        if (!wcscmp(argv[i], L"--until-recovered"))
        {
            opts->until_recovered = TRUE;
            i--;
        }
        else if (i + 1 >= argc) return FALSE;
        else if (!wcscmp(argv[i], L"--timeout"))
        {
            if (!parse_u32(argv[i + 1], &opts->timeout_ms) || !opts->timeout_ms) return FALSE;
        }
        else if (!wcscmp(argv[i], L"--id"))
        {
            if (!parse_u32(argv[i + 1], &opts->id)) return FALSE;
        }
        else if (!wcscmp(argv[i], L"--hold"))
        {
            if (!parse_u32(argv[i + 1], &opts->hold_ms)) return FALSE;
        }
        else if (!wcscmp(argv[i], L"--server-port"))
        {
            if (!parse_u32(argv[i + 1], &port) || !port || port > 65535) return FALSE;
            opts->server_port = (unsigned short)port;
        }
        else return FALSE;
    }
    return i == argc;
}

int wmain(int argc, WCHAR **argv)
{
    struct session session;
    BOOL ok;

    SetUnhandledExceptionFilter(crash_handler);
    setvbuf(stdout, NULL, _IONBF, 0);
    memset(&session, 0, sizeof(session));
    if (!parse_options(argc, argv, &session.opts))
    {
        fprintf(stderr, "usage: sample_ec [--id N] [--server-port N] [--hold ms] "
                "[--until-recovered [--timeout ms]]\n");
        return 2;
    }
    if (session.opts.until_recovered)
    {
        ok = start_session(&session) && run_until_recovered(&session);
        ok &= end_session(&session);
        return ok ? 0 : 1;
    }
    ok = start_session(&session) && exchange_soh(&session, TRUE) && show_decision(&session);
    if (ok && session.opts.hold_ms)
    {
        printf("holding the connection up for %u ms\n", session.opts.hold_ms);
        Sleep(session.opts.hold_ms);
    }
    ok &= end_session(&session);
    return ok ? 0 : 1;
}
