/*
 * sample_sha: a sample system health agent, written as one would be for Windows
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <windows.h>
#include <objbase.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "NapSystemHealthAgent.h"
#include "NapManagement.h"
#include "NapProtocol.h"
#include "NapUtil.h"
#include "nap_hresults.h"
#include "sample_common.h"

/*
 * The shape of the SDK's "setting up a simple SHA": bind through
 * NapSystemHealthAgentBinding, build the SoH with NapSoHConstructor, read the
 * SoHR with NapSoHProcessor.  Only documented interfaces and qutil exports
 * are used.  The health is one flag: healthy sends ComplianceResultCodes
 * S_OK, unhealthy SHA_NONCOMPLIANT; a server that answers SHA_NONCOMPLIANT
 * with the fix-up flag makes us "repair" ourselves on a thread of our own,
 * since a callback must never wait for the fix-up.
 */

#define SAMPLE_SHA_ID 0x000137F0 /* the SDK sample SHA */
#define SHA_NONCOMPLIANT ((HRESULT)0xC0FF0002)
#define FIXUP_STEPS 4
#define FIXUP_STEP_MS 500
#define SCENARIO_DELAY_MS 1500

struct options
{
    UINT32 id;
    BOOL scenario;     /* turn unhealthy once after the first compliant verdict */
    BOOL do_register;  /* register the SHA with the agent and exit */
    UINT32 duration_ms; /* 0: until Ctrl+C */
};

/* One line of output: "sha: " first, flushed at once, whole lines only, as
 * the callbacks and the worker threads print concurrently. */
static CRITICAL_SECTION output_lock;

static void WINAPIV say(const char *format, ...)
{
    va_list args;

    EnterCriticalSection(&output_lock);
    va_start(args, format);
    fputs("sha: ", stdout);
    vprintf(format, args);
    fputc('\n', stdout);
    fflush(stdout);
    va_end(args);
    LeaveCriticalSection(&output_lock);
}

static BOOL check(HRESULT hr, const char *step)
{
    if (SUCCEEDED(hr)) return TRUE;
    say("%s failed: 0x%08lx", step, (unsigned long)hr);
    return FALSE;
}

/* The SHA's callback object and its health. */
struct sample_sha
{
    INapSystemHealthAgentCallback INapSystemHealthAgentCallback_iface;
    LONG refcount;
    SystemHealthEntityId id;
    BOOL scenario;
    /* Owned by wmain, which releases it only after the workers have ended
     * and Uninitialize has waited for the callbacks in flight. */
    INapSystemHealthAgentBinding *binding;
    HANDLE stop; /* manual-reset: the program ends, workers give up */

    CRITICAL_SECTION lock; /* guards the fields below */
    BOOL healthy;
    BOOL scenario_started;
    BOOL fixing;
    FixupState fixup_state;
    Percentage percentage;
    HANDLE scenario_thread, fixup_thread;
    unsigned int fixup_polls;
    int last_state, last_percentage; /* what GetFixupInfo answered last, -1 at first */
};

static inline struct sample_sha *impl_from_INapSystemHealthAgentCallback(INapSystemHealthAgentCallback *iface)
{
    return CONTAINING_RECORD(iface, struct sample_sha, INapSystemHealthAgentCallback_iface);
}

static BOOL sha_is_healthy(struct sample_sha *sha)
{
    BOOL healthy;

    EnterCriticalSection(&sha->lock);
    healthy = sha->healthy;
    LeaveCriticalSection(&sha->lock);
    return healthy;
}

static HRESULT health_code(BOOL healthy)
{
    return healthy ? S_OK : SHA_NONCOMPLIANT;
}

/* The SoH: System-Health-Id (written by Initialize) and ComplianceResultCodes. */
static HRESULT build_soh(SystemHealthEntityId id, BOOL healthy, SoH **soh)
{
    INapSoHConstructor *constructor;
    SoHAttributeValue value;
    HRESULT code = health_code(healthy), hr;

    *soh = NULL;
    hr = CoCreateInstance(&CLSID_NapSoHConstructor, NULL, CLSCTX_INPROC_SERVER, &IID_INapSoHConstructor,
                          (void **)&constructor);
    if (FAILED(hr)) return hr;
    value.codesVal.count = 1;
    value.codesVal.results = &code;
    if (SUCCEEDED(hr = INapSoHConstructor_Initialize(constructor, id, TRUE))
        && SUCCEEDED(hr = INapSoHConstructor_AppendAttribute(constructor, sohAttributeTypeComplianceResultCodes,
                                                             &value)))
        hr = INapSoHConstructor_GetSoH(constructor, soh);
    INapSoHConstructor_Release(constructor);
    return hr;
}

/* The first ComplianceResultCodes code of the server's SoHR for us. */
static HRESULT read_verdict(const SoH *sohr, HRESULT *verdict)
{
    SoHAttributeValue *value = NULL;
    INapSoHProcessor *processor;
    SystemHealthEntityId id;
    SoHAttributeType type;
    UINT16 location;
    HRESULT hr;

    hr = CoCreateInstance(&CLSID_NapSoHProcessor, NULL, CLSCTX_INPROC_SERVER, &IID_INapSoHProcessor,
                          (void **)&processor);
    if (FAILED(hr)) return hr;
    if (SUCCEEDED(hr = INapSoHProcessor_Initialize(processor, sohr, FALSE, &id))
        && SUCCEEDED(hr = INapSoHProcessor_FindNextAttribute(processor, 0, sohAttributeTypeComplianceResultCodes,
                                                             &location))
        && SUCCEEDED(hr = INapSoHProcessor_GetAttribute(processor, location, &type, &value)))
    {
        if (value->codesVal.count) *verdict = value->codesVal.results[0];
        else hr = E_UNEXPECTED;
        FreeSoHAttributeValue(type, value); /* the union's block too, as the SDK's SHA relies on */
    }
    INapSoHProcessor_Release(processor);
    return hr;
}

static void notify_soh_change(struct sample_sha *sha, const char *why)
{
    HRESULT hr = INapSystemHealthAgentBinding_NotifySoHChange(sha->binding);

    say("NotifySoHChange (%s): 0x%08lx", why, (unsigned long)hr);
}

/* TRUE when the program is ending: a worker stops where it is. */
static BOOL wait_or_stop(struct sample_sha *sha, DWORD ms)
{
    return WaitForSingleObject(sha->stop, ms) == WAIT_OBJECT_0;
}

static DWORD WINAPI scenario_thread(void *arg)
{
    struct sample_sha *sha = arg;

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    if (!wait_or_stop(sha, SCENARIO_DELAY_MS))
    {
        EnterCriticalSection(&sha->lock);
        sha->healthy = FALSE;
        LeaveCriticalSection(&sha->lock);
        say("scenario: the machine turns unhealthy");
        notify_soh_change(sha, "now unhealthy");
    }
    CoUninitialize();
    INapSystemHealthAgentCallback_Release(&sha->INapSystemHealthAgentCallback_iface);
    return 0;
}

/* One step of the fix-up; the last one makes us healthy. */
static void fixup_step(struct sample_sha *sha, int step)
{
    EnterCriticalSection(&sha->lock);
    if (step < FIXUP_STEPS)
        sha->percentage = (Percentage)(step * 100 / FIXUP_STEPS);
    else
    {
        sha->healthy = TRUE;
        sha->fixup_state = fixupStateSuccess;
        sha->percentage = 100;
    }
    LeaveCriticalSection(&sha->lock);
    if (step < FIXUP_STEPS) say("fix-up: in progress, %u%%", step * 100 / FIXUP_STEPS);
    else say("fix-up: done, healthy again");
}

static DWORD WINAPI fixup_thread(void *arg)
{
    struct sample_sha *sha = arg;
    BOOL stopped = FALSE;
    int step;

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    for (step = 1; step <= FIXUP_STEPS && !(stopped = wait_or_stop(sha, FIXUP_STEP_MS)); step++)
        fixup_step(sha, step);
    if (!stopped) notify_soh_change(sha, "fixed");
    EnterCriticalSection(&sha->lock);
    sha->fixing = FALSE;
    LeaveCriticalSection(&sha->lock);
    CoUninitialize();
    INapSystemHealthAgentCallback_Release(&sha->INapSystemHealthAgentCallback_iface);
    return 0;
}

/* Caller holds sha->lock.  The thread holds a reference of its own. */
static BOOL start_worker(struct sample_sha *sha, LPTHREAD_START_ROUTINE proc, HANDLE *handle)
{
    HANDLE thread;

    /* Once stop_workers has run, the handles it waits for must stay. */
    if (WaitForSingleObject(sha->stop, 0) == WAIT_OBJECT_0) return FALSE;
    INapSystemHealthAgentCallback_AddRef(&sha->INapSystemHealthAgentCallback_iface);
    if (!(thread = CreateThread(NULL, 0, proc, sha, 0, NULL)))
    {
        INapSystemHealthAgentCallback_Release(&sha->INapSystemHealthAgentCallback_iface);
        return FALSE;
    }
    /* A previous worker of the same kind has ended (or is ending) by now. */
    if (*handle) CloseHandle(*handle);
    *handle = thread;
    return TRUE;
}

/* The fix-up runs on its own thread: the agent polls GetFixupInfo meanwhile. */
static void start_fixup(struct sample_sha *sha)
{
    EnterCriticalSection(&sha->lock);
    if (!sha->healthy && !sha->fixing)
    {
        sha->fixup_state = fixupStateInProgress;
        sha->percentage = 0;
        if ((sha->fixing = start_worker(sha, fixup_thread, &sha->fixup_thread)))
            say("fix-up: started (%u steps of %u ms)", FIXUP_STEPS, FIXUP_STEP_MS);
        else
            sha->fixup_state = fixupStateCouldNotUpdate;
    }
    LeaveCriticalSection(&sha->lock);
}

static void start_scenario(struct sample_sha *sha)
{
    EnterCriticalSection(&sha->lock);
    if (sha->scenario && !sha->scenario_started)
    {
        sha->scenario_started = start_worker(sha, scenario_thread, &sha->scenario_thread);
        if (sha->scenario_started) say("scenario: turning unhealthy in %u ms", SCENARIO_DELAY_MS);
    }
    LeaveCriticalSection(&sha->lock);
}

static HRESULT WINAPI sha_QueryInterface(INapSystemHealthAgentCallback *iface, REFIID riid, void **out)
{
    return sample_query_interface((IUnknown *)iface, &IID_INapSystemHealthAgentCallback, riid, out);
}

static ULONG WINAPI sha_AddRef(INapSystemHealthAgentCallback *iface)
{
    struct sample_sha *sha = impl_from_INapSystemHealthAgentCallback(iface);

    return InterlockedIncrement(&sha->refcount);
}

static ULONG WINAPI sha_Release(INapSystemHealthAgentCallback *iface)
{
    struct sample_sha *sha = impl_from_INapSystemHealthAgentCallback(iface);
    ULONG refcount = InterlockedDecrement(&sha->refcount);

    if (!refcount)
    {
        if (sha->scenario_thread) CloseHandle(sha->scenario_thread);
        if (sha->fixup_thread) CloseHandle(sha->fixup_thread);
        CloseHandle(sha->stop);
        DeleteCriticalSection(&sha->lock);
        free(sha);
    }
    return refcount;
}

static HRESULT WINAPI sha_GetSoHRequest(INapSystemHealthAgentCallback *iface, INapSystemHealthAgentRequest *request)
{
    struct sample_sha *sha = impl_from_INapSystemHealthAgentCallback(iface);
    BOOL healthy = sha_is_healthy(sha);
    SoH *soh;
    HRESULT hr;

    if (!check(hr = build_soh(sha->id, healthy, &soh), "building the SoH")) return hr;
    /* Cached: the agent keeps answering for us should we go away. */
    hr = INapSystemHealthAgentRequest_SetSoHRequest(request, soh, TRUE);
    FreeSoH(soh);
    if (!check(hr, "SetSoHRequest")) return hr;
    say("GetSoHRequest: SoH set, %s (ComplianceResultCodes 0x%08lx)", healthy ? "healthy" : "unhealthy",
        (unsigned long)health_code(healthy));
    return S_OK;
}

static HRESULT WINAPI sha_ProcessSoHResponse(INapSystemHealthAgentCallback *iface,
                                             INapSystemHealthAgentRequest *request)
{
    struct sample_sha *sha = impl_from_INapSystemHealthAgentCallback(iface);
    HRESULT verdict = E_FAIL, hr;
    SoHResponse *sohr = NULL;
    UINT8 flags = 0;

    if (!check(hr = INapSystemHealthAgentRequest_GetSoHResponse(request, &sohr, &flags), "GetSoHResponse"))
        return hr;
    hr = read_verdict(sohr, &verdict);
    FreeSoH(sohr);
    if (!check(hr, "reading ComplianceResultCodes")) return hr;
    say("ProcessSoHResponse: verdict %s (0x%08lx)%s", verdict == S_OK ? "compliant" : "not compliant",
        (unsigned long)verdict, flags & shaFixup ? ", fix-up requested" : "");

    if (verdict == S_OK) start_scenario(sha);
    else if (!(flags & shaFixup)) say("no fix-up requested: staying as we are");
    else if (sha_is_healthy(sha)) say("fix-up requested, but this SoH is already out of date: we are healthy");
    else start_fixup(sha);
    return S_OK;
}

static HRESULT WINAPI sha_NotifySystemIsolationStateChange(INapSystemHealthAgentCallback *iface)
{
    struct sample_sha *sha = impl_from_INapSystemHealthAgentCallback(iface);
    INapSystemHealthAgentBinding2 *binding2;
    IsolationInfoEx *info = NULL;
    BOOL unknown = FALSE;
    HRESULT hr;

    hr = INapSystemHealthAgentBinding_QueryInterface(sha->binding, &IID_INapSystemHealthAgentBinding2,
                                                     (void **)&binding2);
    if (!check(hr, "QueryInterface(INapSystemHealthAgentBinding2)")) return S_OK;
    hr = INapSystemHealthAgentBinding2_GetSystemIsolationInfoEx(binding2, &info, &unknown);
    INapSystemHealthAgentBinding2_Release(binding2);
    if (!check(hr, "GetSystemIsolationInfoEx")) return S_OK;
    say("NotifySystemIsolationStateChange: system %s, extended state %s, failure URL %.*ls%s",
        isolation_state_name(info->isolationState), extended_state_name(info->extendedIsolationState),
        info->failureUrl.length ? (int)info->failureUrl.length : 4,
        info->failureUrl.length ? info->failureUrl.string : L"none",
        unknown ? ", some connections undecided" : "");
    FreeIsolationInfoEx(info);
    return S_OK;
}

static HRESULT WINAPI sha_GetFixupInfo(INapSystemHealthAgentCallback *iface, FixupInfo **out)
{
    struct sample_sha *sha = impl_from_INapSystemHealthAgentCallback(iface);
    unsigned int polls;
    FixupInfo *info;
    BOOL changed;
    HRESULT hr;

    if (!out) return E_POINTER;
    /* The agent frees it with FreeFixupInfo: qutil allocates it for us. */
    if (FAILED(hr = AllocFixupInfo(&info, 1))) return hr;
    EnterCriticalSection(&sha->lock);
    info->state = sha->fixup_state;
    info->percentage = sha->percentage;
    info->resultCodes.results[0] = health_code(sha->healthy);
    polls = ++sha->fixup_polls;
    changed = sha->last_state != (int)info->state || sha->last_percentage != info->percentage;
    sha->last_state = info->state;
    sha->last_percentage = info->percentage;
    LeaveCriticalSection(&sha->lock);
    info->fixupMsgId = 0;
    /* The agent polls every FixupPollMs: say only what is news. */
    if (changed)
        say("GetFixupInfo (poll %u): %s, %u%%", polls, info->state == fixupStateSuccess ? "success" :
            info->state == fixupStateInProgress ? "in progress" : "could not update", info->percentage);
    *out = info;
    return S_OK;
}

static HRESULT WINAPI sha_CompareSoHRequests(INapSystemHealthAgentCallback *iface, const SoHRequest *lhs,
                                             const SoHRequest *rhs, BOOL *equal)
{
    (void)iface;
    (void)lhs;
    (void)rhs;
    /* Our SoH has nothing that may differ without meaning something. */
    if (equal) *equal = FALSE;
    say("CompareSoHRequests: asked, answering E_NOTIMPL (the agent compares the bytes)");
    return E_NOTIMPL;
}

static HRESULT WINAPI sha_NotifyOrphanedSoHRequest(INapSystemHealthAgentCallback *iface,
                                                   const CorrelationId *correlation)
{
    const GUID *guid = &correlation->connId;

    (void)iface;
    say("NotifyOrphanedSoHRequest: correlation {%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}-%08lx%08lx",
        (unsigned long)guid->Data1, guid->Data2, guid->Data3, guid->Data4[0], guid->Data4[1], guid->Data4[2],
        guid->Data4[3], guid->Data4[4], guid->Data4[5], guid->Data4[6], guid->Data4[7],
        (unsigned long)correlation->timeStamp.dwHighDateTime, (unsigned long)correlation->timeStamp.dwLowDateTime);
    return S_OK;
}

static const INapSystemHealthAgentCallbackVtbl sha_vtbl =
{
    sha_QueryInterface,
    sha_AddRef,
    sha_Release,
    sha_GetSoHRequest,
    sha_ProcessSoHResponse,
    sha_NotifySystemIsolationStateChange,
    sha_GetFixupInfo,
    sha_CompareSoHRequests,
    sha_NotifyOrphanedSoHRequest,
};

static struct sample_sha *create_sha(const struct options *opts)
{
    struct sample_sha *sha = calloc(1, sizeof(*sha));

    if (!sha) return NULL;
    if (!(sha->stop = CreateEventW(NULL, TRUE, FALSE, NULL)))
    {
        free(sha);
        return NULL;
    }
    sha->INapSystemHealthAgentCallback_iface.lpVtbl = &sha_vtbl;
    sha->refcount = 1;
    sha->id = opts->id;
    sha->scenario = opts->scenario;
    sha->healthy = TRUE;
    sha->fixup_state = fixupStateSuccess;
    sha->percentage = 100;
    sha->last_state = sha->last_percentage = -1;
    InitializeCriticalSection(&sha->lock);
    return sha;
}

/* Stop the workers and wait for them, before the binding goes. */
static void stop_workers(struct sample_sha *sha)
{
    HANDLE threads[2];
    DWORD count = 0;

    SetEvent(sha->stop);
    EnterCriticalSection(&sha->lock);
    if (sha->scenario_thread) threads[count++] = sha->scenario_thread;
    if (sha->fixup_thread) threads[count++] = sha->fixup_thread;
    LeaveCriticalSection(&sha->lock);
    if (count) WaitForMultipleObjects(count, threads, TRUE, 10000);
}

/* --register: what an SHA's installer does, through INapClientManagement. */
static void set_counted(CountedString *counted, WCHAR *text)
{
    counted->length = (UINT16)wcslen(text);
    counted->string = text;
}

static int register_sha(UINT32 id)
{
    WCHAR name[] = L"Sample system health agent", description[] = L"The open NAP client's sample SHA",
          version[] = L"1.0", vendor[] = L"open NAP client";
    NapComponentRegistrationInfo info;
    INapClientManagement *management;
    HRESULT hr;

    memset(&info, 0, sizeof(info));
    info.id = id;
    set_counted(&info.friendlyName, name);
    set_counted(&info.description, description);
    set_counted(&info.version, version);
    set_counted(&info.vendorName, vendor);
    hr = CoCreateInstance(&CLSID_NapClientManagement, NULL, CLSCTX_INPROC_SERVER, &IID_INapClientManagement,
                          (void **)&management);
    if (!check(hr, "CoCreateInstance(NapClientManagement)")) return 1;
    hr = INapClientManagement_RegisterSystemHealthAgent(management, &info);
    INapClientManagement_Release(management);
    /* A second install finds the first one's registration. */
    if (hr == NAP_E_CONFLICTING_ID)
    {
        say("system health agent %u (0x%08x) is registered already", id, id);
        return 0;
    }
    if (!check(hr, "RegisterSystemHealthAgent")) return 1;
    say("registered system health agent %u (0x%08x)", id, id);
    return 0;
}

static HANDLE ctrl_event;

static BOOL WINAPI ctrl_handler(DWORD type)
{
    (void)type;
    SetEvent(ctrl_event);
    return TRUE;
}

static int run_sha(const struct options *opts)
{
    INapSystemHealthAgentBinding *binding;
    struct sample_sha *sha;
    HRESULT hr;
    BOOL ok;

    hr = CoCreateInstance(&CLSID_NapSystemHealthAgentBinding, NULL, CLSCTX_INPROC_SERVER,
                          &IID_INapSystemHealthAgentBinding, (void **)&binding);
    if (!check(hr, "CoCreateInstance(NapSystemHealthAgentBinding)")) return 1;
    if (!(sha = create_sha(opts)))
    {
        INapSystemHealthAgentBinding_Release(binding);
        return 1;
    }
    /* Before Initialize: the agent may call back before it returns. */
    sha->binding = binding;
    if (!check(hr = INapSystemHealthAgentBinding_Initialize(binding, opts->id,
               &sha->INapSystemHealthAgentCallback_iface), "Initialize"))
    {
        INapSystemHealthAgentBinding_Release(binding);
        INapSystemHealthAgentCallback_Release(&sha->INapSystemHealthAgentCallback_iface);
        return 1;
    }
    say("bound as system health agent %u (0x%08x)%s", opts->id, opts->id, opts->scenario ? ", scenario on" : "");

    WaitForSingleObject(ctrl_event, opts->duration_ms ? opts->duration_ms : INFINITE);
    stop_workers(sha);
    ok = check(INapSystemHealthAgentBinding_Uninitialize(binding), "Uninitialize");
    if (ok) say("unbound (%s)", sha_is_healthy(sha) ? "healthy" : "unhealthy");
    INapSystemHealthAgentBinding_Release(binding);
    INapSystemHealthAgentCallback_Release(&sha->INapSystemHealthAgentCallback_iface);
    return ok ? 0 : 1;
}

static BOOL parse_options(int argc, WCHAR **argv, struct options *opts)
{
    int i;

    memset(opts, 0, sizeof(*opts));
    opts->id = SAMPLE_SHA_ID;
    for (i = 1; i < argc; i++)
    {
        if (!wcscmp(argv[i], L"--scenario")) opts->scenario = TRUE;
        else if (!wcscmp(argv[i], L"--register")) opts->do_register = TRUE;
        else if (i + 1 >= argc) return FALSE;
        else if (!wcscmp(argv[i], L"--id"))
        {
            if (!parse_u32(argv[++i], &opts->id) || !opts->id) return FALSE;
        }
        else if (!wcscmp(argv[i], L"--duration"))
        {
            if (!parse_u32(argv[++i], &opts->duration_ms)) return FALSE;
        }
        else return FALSE;
    }
    return TRUE;
}

int wmain(int argc, WCHAR **argv)
{
    struct options opts;
    int ret;

    InitializeCriticalSection(&output_lock);
    if (!parse_options(argc, argv, &opts))
    {
        fprintf(stderr, "sha: usage: sample_sha [--id N] [--register] [--scenario] [--duration ms]\n");
        return 2;
    }
    if (!check(CoInitializeEx(NULL, COINIT_MULTITHREADED), "CoInitializeEx")) return 1;
    if (opts.do_register) ret = register_sha(opts.id);
    else
    {
        ctrl_event = CreateEventW(NULL, TRUE, FALSE, NULL);
        SetConsoleCtrlHandler(ctrl_handler, TRUE);
        ret = run_sha(&opts);
        CloseHandle(ctrl_event);
    }
    CoUninitialize();
    return ret;
}
