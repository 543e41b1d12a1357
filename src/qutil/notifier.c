/*
 * InitializeNapAgentNotifier / UninitializeNapAgentNotifier: events when the agent starts or stops, or the isolation state changes
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qutil_private.h"
#include "napagent_rpc.h"
#include "agent_endpoint.h"
#include "agent_call.h"
#include "agent_isolation.h"
#include "module_thread.h"
#include "nap_trace.h"

NAP_TRACE_CHANNEL(qutil);

/* The service's key: the agent publishes itself in its Runtime sub-key. */
#define AGENT_KEY    L"System\\CurrentControlSet\\Services\\napagent"
/* Watched instead while the service's key does not exist yet. */
#define SERVICES_KEY L"System\\CurrentControlSet\\Services"
/* Re-check pause when a key cannot be watched at all. */
#define SERVICE_POLL_MS 1000
/* How long one NapAgentWaitIsolationChange waits in the agent. */
#define QUAR_POLL_MS 5000
/* Pause before trying an agent that is gone or failed again. */
#define QUAR_RETRY_MS 250

/* One subscription.  Its watcher thread holds a reference, and so does the
 * table until Uninitialize; a watcher stuck in a call to a hung agent ends
 * whenever the call does, holding a reference on qutil.dll meanwhile, so
 * Uninitialize never has to wait for it. */
struct subscription
{
    LONG refs;
    NapNotifyType type;
    HANDLE event;          /* our duplicate of the caller's event */
    HANDLE stop;           /* set by Uninitialize */
    BOOL stopping;         /* under notifier_lock: no SetEvent once TRUE */
};

/* The documentation calls both functions not thread-safe; the lock costs
 * nothing and keeps the table and the stop/SetEvent race sound anyway. */
static SRWLOCK notifier_lock = SRWLOCK_INIT;
static struct subscription *subscriptions[napNotifyTypeQuarState + 1];

static void subscription_release(struct subscription *sub)
{
    if (InterlockedDecrement(&sub->refs)) return;
    CloseHandle(sub->event);
    CloseHandle(sub->stop);
    HeapFree(GetProcessHeap(), 0, sub);
}

/* Sets the caller's event unless Uninitialize came first: after it returns
 * the caller's event is never touched again. */
static void notify(struct subscription *sub)
{
    AcquireSRWLockShared(&notifier_lock);
    if (!sub->stopping) SetEvent(sub->event);
    ReleaseSRWLockShared(&notifier_lock);
}

/* TRUE if Uninitialize asked the watcher to end; waits up to ms for it. */
static BOOL stop_requested(struct subscription *sub, DWORD ms)
{
    return WaitForSingleObject(sub->stop, ms) == WAIT_OBJECT_0;
}

/* napNotifyTypeServiceState */

/* The live agent's process (SYNCHRONIZE) and pid, or NULL if none runs. */
static HANDLE open_running_agent(DWORD *pid)
{
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];
    DWORD bytes = sizeof(*pid);
    HANDLE process;

    *pid = 0;
    if (!agent_endpoint_find(endpoint, ARRAYSIZE(endpoint))) return NULL;
    if (RegGetValueW(HKEY_LOCAL_MACHINE, NAPAGENT_RUNTIME_KEY, L"ProcessId", RRF_RT_REG_DWORD, NULL, pid, &bytes))
        return NULL;
    if (!(process = OpenProcess(SYNCHRONIZE, FALSE, *pid))) *pid = 0;
    return process;
}

/* The key whose changes may mean a new agent: the service's key (subtree:
 * the agent writes Runtime), or Services until the service's key exists. */
static HKEY open_watched_key(BOOL *is_agent_key)
{
    HKEY key;

    *is_agent_key = TRUE;
    if (!RegOpenKeyExW(HKEY_LOCAL_MACHINE, AGENT_KEY, 0, KEY_NOTIFY, &key)) return key;
    *is_agent_key = FALSE;
    if (!RegOpenKeyExW(HKEY_LOCAL_MACHINE, SERVICES_KEY, 0, KEY_NOTIFY, &key)) return key;
    return NULL;
}

/* Arms one change notification on the watched key; FALSE (key closed) when
 * the key cannot be watched, e.g. it was deleted. */
static BOOL arm_watch(HKEY *key, BOOL *is_agent_key, HANDLE changed)
{
    if (!*key && !(*key = open_watched_key(is_agent_key))) return FALSE;
    if (!RegNotifyChangeKeyValue(*key, *is_agent_key, REG_NOTIFY_CHANGE_NAME | REG_NOTIFY_CHANGE_LAST_SET,
                                 changed, TRUE))
        return TRUE;
    RegCloseKey(*key);
    *key = NULL;
    return FALSE;
}

struct service_watch
{
    HANDLE agent;          /* the agent we know runs, or NULL */
    DWORD pid;
    HKEY key;
    BOOL is_agent_key;
    BOOL armed;
    HANDLE changed;        /* auto-reset: the watched key changed */
};

/* Compares what runs now with what we knew: a different live agent is a
 * start (a restart the process wait missed counts as stop + start). */
static void check_agent(struct subscription *sub, struct service_watch *watch)
{
    DWORD pid;
    HANDLE agent = open_running_agent(&pid);

    if (agent && pid == watch->pid && watch->agent)
    {
        CloseHandle(agent);
        return;
    }
    if (watch->agent)
    {
        CloseHandle(watch->agent);
        notify(sub);
    }
    watch->agent = agent;
    watch->pid = pid;
    if (agent) notify(sub);
}

static void run_service_watch(struct subscription *sub)
{
    struct service_watch watch = { NULL, 0, NULL, FALSE, FALSE, NULL };
    HANDLE handles[3];
    DWORD count, result;

    if (!(watch.changed = CreateEventW(NULL, FALSE, FALSE, NULL))) return;
    /* The state at subscription is the baseline: no event for it. */
    watch.agent = open_running_agent(&watch.pid);
    for (;;)
    {
        /* Armed before checking, so that a change made meanwhile fires again. */
        if (!watch.armed) watch.armed = arm_watch(&watch.key, &watch.is_agent_key, watch.changed);
        handles[0] = sub->stop;
        handles[1] = watch.changed;
        count = 2;
        if (watch.agent) handles[count++] = watch.agent;
        result = WaitForMultipleObjects(count, handles, FALSE, watch.armed ? INFINITE : SERVICE_POLL_MS);
        if (result == WAIT_OBJECT_0) break;
        if (result == WAIT_OBJECT_0 + 2)
        {
            /* The agent we knew ended. */
            CloseHandle(watch.agent);
            watch.agent = NULL;
            watch.pid = 0;
            notify(sub);
        }
        else if (result == WAIT_OBJECT_0 + 1)
        {
            /* The service's key may exist now: watch it rather than Services. */
            if (!watch.is_agent_key && watch.key)
            {
                RegCloseKey(watch.key);
                watch.key = NULL;
            }
            /* Armed again before the check: the agent publishes its endpoint
             * in more than one write, and one that lands after the write that
             * woke us must wake us again (a CI run missed one). */
            watch.armed = arm_watch(&watch.key, &watch.is_agent_key, watch.changed);
        }
        else if (result == WAIT_FAILED) Sleep(SERVICE_POLL_MS);
        check_agent(sub, &watch);
    }
    if (watch.key) RegCloseKey(watch.key);
    if (watch.agent) CloseHandle(watch.agent);
    CloseHandle(watch.changed);
}

/* napNotifyTypeQuarState */

struct wait_change_args
{
    UINT32 known;
    UINT32 generation;
};

/* A long poll: bounded by its own wait plus the usual bound (agent_call.h). */
AGENT_METHOD(wait_change_method, struct wait_change_args, NapAgentWaitIsolationChange,
             (agent, args->known, QUAR_POLL_MS, &args->generation), .wait_ms = QUAR_POLL_MS);

/* What the watcher last saw of the system's isolation. */
struct quar_view
{
    BOOL valid;
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];   /* of the agent it came from */
    UINT32 generation;
    UINT32 state, extended_state;
    FILETIME prob_end_time;
};

static BOOL same_state(const struct quar_view *view, const NAPAGENT_SYSTEM_ISOLATION *isolation)
{
    return view->state == isolation->state && view->extended_state == isolation->extended_state
           && !memcmp(&view->prob_end_time, &isolation->prob_end_time, sizeof(FILETIME));
}

/* Reads the state afresh: the first time (the baseline), after an agent
 * restart (a new agent's generations mean nothing to us) and after each
 * change.  With `compare`, notifies if it differs from what was seen before. */
static HRESULT refresh_view(struct subscription *sub, struct quar_view *view, const WCHAR *endpoint, BOOL compare)
{
    NAPAGENT_SYSTEM_ISOLATION isolation;
    HRESULT hr;

    hr = agent_get_system_isolation(NULL, FALSE, &isolation);
    MIDL_user_free(isolation.failure_url);
    if (FAILED(hr)) return hr;
    if (compare && view->valid && !same_state(view, &isolation)) notify(sub);
    view->valid = TRUE;
    lstrcpynW(view->endpoint, endpoint, ARRAYSIZE(view->endpoint));
    view->generation = isolation.generation;
    view->state = isolation.state;
    view->extended_state = isolation.extended_state;
    view->prob_end_time = isolation.prob_end_time;
    return S_OK;
}

/* One round against the running agent: a long poll, or a refresh. */
static HRESULT quar_round(struct subscription *sub, struct quar_view *view)
{
    WCHAR endpoint[NAPAGENT_ENDPOINT_MAX];
    struct wait_change_args args;
    HRESULT hr;

    /* Which agent runs now: a new one's generations start afresh. */
    if (!agent_endpoint_find(endpoint, ARRAYSIZE(endpoint))) return RPC_E_DISCONNECTED;
    if (!view->valid || lstrcmpW(endpoint, view->endpoint)) return refresh_view(sub, view, endpoint, TRUE);
    args.known = view->generation;
    args.generation = view->generation;
    hr = agent_call(NULL, &wait_change_method, &args);
    /* The generation moves whenever the state or the probation end does. */
    if (SUCCEEDED(hr) && args.generation != view->generation)
    {
        view->generation = args.generation;
        notify(sub);
        /* Record the state itself, so that after an agent restart the new
         * agent's state is compared with the truth. */
        hr = refresh_view(sub, view, endpoint, FALSE);
    }
    return hr;
}

static void run_quar_watch(struct subscription *sub)
{
    struct quar_view view;

    memset(&view, 0, sizeof(view));
    while (!stop_requested(sub, 0))
    {
        /* A lost or failing agent is retried; the view survives so that the
         * next agent's state is compared with the last one seen. */
        if (FAILED(quar_round(sub, &view)))
        {
            view.endpoint[0] = 0;
            if (stop_requested(sub, QUAR_RETRY_MS)) break;
        }
    }
}

/* The watcher threads */

static DWORD WINAPI watcher_thread(void *arg)
{
    struct subscription *sub = arg;

    if (sub->type == napNotifyTypeServiceState) run_service_watch(sub);
    else run_quar_watch(sub);
    subscription_release(sub);
    return 0;
}

static HRESULT start_watcher(struct subscription *sub)
{
    HANDLE thread;

    InterlockedIncrement(&sub->refs);
    /* A module thread: a FreeLibrary while it still runs cannot unmap qutil.dll. */
    if (!(thread = module_thread_start(watcher_thread, sub, NULL)))
    {
        InterlockedDecrement(&sub->refs);
        return E_FAIL;
    }
    CloseHandle(thread);
    return S_OK;
}

static HRESULT subscription_create(NapNotifyType type, HANDLE event, struct subscription **out)
{
    struct subscription *sub;

    if (!(sub = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*sub)))) return E_OUTOFMEMORY;
    sub->refs = 1;
    sub->type = type;
    /* Our own handle: the caller owns (and may close) theirs. */
    if (!DuplicateHandle(GetCurrentProcess(), event, GetCurrentProcess(), &sub->event, EVENT_MODIFY_STATE,
                         FALSE, 0))
    {
        HeapFree(GetProcessHeap(), 0, sub);
        return E_INVALIDARG;
    }
    if (!(sub->stop = CreateEventW(NULL, TRUE, FALSE, NULL)))
    {
        CloseHandle(sub->event);
        HeapFree(GetProcessHeap(), 0, sub);
        return E_FAIL;
    }
    *out = sub;
    return S_OK;
}

HRESULT WINAPI InitializeNapAgentNotifier(NapNotifyType type, HANDLE hNotifyEvent)
{
    struct subscription *sub;
    HRESULT hr;

    TRACE("%d, %p\n", type, hNotifyEvent);
    if (type != napNotifyTypeServiceState && type != napNotifyTypeQuarState) return E_INVALIDARG;
    if (!hNotifyEvent || hNotifyEvent == INVALID_HANDLE_VALUE) return E_INVALIDARG;

    AcquireSRWLockExclusive(&notifier_lock);
    if (subscriptions[type]) hr = HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED);
    else if (SUCCEEDED(hr = subscription_create(type, hNotifyEvent, &sub)))
    {
        if (SUCCEEDED(hr = start_watcher(sub))) subscriptions[type] = sub;
        else subscription_release(sub);
    }
    ReleaseSRWLockExclusive(&notifier_lock);
    TRACE("0x%08lx\n", hr);
    return hr;
}

VOID WINAPI UninitializeNapAgentNotifier(NapNotifyType type)
{
    struct subscription *sub = NULL;

    TRACE("%d\n", type);
    if (type != napNotifyTypeServiceState && type != napNotifyTypeQuarState) return;

    AcquireSRWLockExclusive(&notifier_lock);
    if ((sub = subscriptions[type]))
    {
        subscriptions[type] = NULL;
        sub->stopping = TRUE;
        SetEvent(sub->stop);
    }
    ReleaseSRWLockExclusive(&notifier_lock);
    if (sub) subscription_release(sub);
}
