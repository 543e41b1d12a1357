/*
 * The object that stands for an EC's or SHA's callback in the callback's own apartment
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "callback_gate.h"
#include "nap_trace.h"

NAP_TRACE_CHANNEL(qagent);

struct callback_gate
{
    LONG refs;                     /* the session's and the gate object's */
    volatile LONG closed;
    HANDLE released;               /* manual-reset: the client's callback was released */
    DWORD apartment_thread;        /* an STA's thread; 0 in the NA, whose calls run on their caller's thread */
    /* Touched only where the gate's calls run, in its apartment: */
    IUnknown *callback;            /* the client's; NULL once released */
    LONG inside;                   /* callbacks running */
    volatile DWORD inside_thread;  /* the thread running them */
};

/* The COM object in the apartment: the callback interface the session
 * uses, forwarded.  Standard-marshalled (no free-threaded marshaler), so
 * that every call to it from the courier arrives in the apartment. */
struct gate_object
{
    INapEnforcementClientCallback INapEnforcementClientCallback_iface;
    INapSystemHealthAgentCallback INapSystemHealthAgentCallback_iface;
    LONG refs;
    BOOL sha;
    struct callback_gate *gate;
};

static void release_callback(struct callback_gate *gate)
{
    IUnknown *callback = gate->callback;

    gate->callback = NULL;
    if (callback) IUnknown_Release(callback);
    SetEvent(gate->released);
}

void callback_gate_free(struct callback_gate *gate)
{
    if (InterlockedDecrement(&gate->refs)) return;
    CloseHandle(gate->released);
    HeapFree(GetProcessHeap(), 0, gate);
}

/* In the apartment: the client's callback for one call, NULL once closed
 * (then it goes now, here, unless a callback still runs below us). */
static IUnknown *enter(struct callback_gate *gate)
{
    if (gate->closed)
    {
        if (!gate->inside) release_callback(gate);
        return NULL;
    }
    if (!gate->callback) return NULL;
    gate->inside++;
    gate->inside_thread = GetCurrentThreadId();
    return gate->callback;
}

/* Closed meanwhile (Uninitialize from inside the callback): the callback
 * goes now that it has returned, never while it runs. */
static void leave(struct callback_gate *gate)
{
    if (--gate->inside) return;
    gate->inside_thread = 0;
    if (gate->closed) release_callback(gate);
}

/* ---- the gate object's IUnknown ---- */

static IUnknown *object_iface(struct gate_object *object)
{
    return object->sha ? (IUnknown *)&object->INapSystemHealthAgentCallback_iface
                       : (IUnknown *)&object->INapEnforcementClientCallback_iface;
}

static HRESULT object_query(struct gate_object *object, REFIID riid, void **out)
{
    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown)
        || IsEqualIID(riid, object->sha ? &IID_INapSystemHealthAgentCallback : &IID_INapEnforcementClientCallback))
    {
        *out = object_iface(object);
        InterlockedIncrement(&object->refs);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

/* The last reference goes in the apartment (the stub's, when the courier
 * releases its proxy or the apartment ends): so does the client's callback. */
static ULONG object_release(struct gate_object *object)
{
    ULONG refs = InterlockedDecrement(&object->refs);

    if (!refs)
    {
        release_callback(object->gate);
        callback_gate_free(object->gate);
        HeapFree(GetProcessHeap(), 0, object);
        com_server_object_destroyed();
    }
    return refs;
}

/* ---- INapEnforcementClientCallback ---- */

static inline struct gate_object *impl_from_ec(INapEnforcementClientCallback *iface)
{
    return CONTAINING_RECORD(iface, struct gate_object, INapEnforcementClientCallback_iface);
}

static HRESULT WINAPI ec_QueryInterface(INapEnforcementClientCallback *iface, REFIID riid, void **out)
{
    return object_query(impl_from_ec(iface), riid, out);
}

static ULONG WINAPI ec_AddRef(INapEnforcementClientCallback *iface)
{
    return InterlockedIncrement(&impl_from_ec(iface)->refs);
}

static ULONG WINAPI ec_Release(INapEnforcementClientCallback *iface)
{
    return object_release(impl_from_ec(iface));
}

static HRESULT WINAPI ec_NotifySoHChange(INapEnforcementClientCallback *iface)
{
    struct callback_gate *gate = impl_from_ec(iface)->gate;
    IUnknown *callback = enter(gate);
    HRESULT hr;

    if (!callback) return CO_E_OBJNOTCONNECTED;
    hr = INapEnforcementClientCallback_NotifySoHChange((INapEnforcementClientCallback *)callback);
    leave(gate);
    return hr;
}

static HRESULT WINAPI ec_GetConnections(INapEnforcementClientCallback *iface, Connections **connections)
{
    struct callback_gate *gate = impl_from_ec(iface)->gate;
    IUnknown *callback = enter(gate);
    HRESULT hr;

    if (!callback)
    {
        if (connections) *connections = NULL;
        return CO_E_OBJNOTCONNECTED;
    }
    hr = INapEnforcementClientCallback_GetConnections((INapEnforcementClientCallback *)callback, connections);
    leave(gate);
    return hr;
}

static const INapEnforcementClientCallbackVtbl ec_vtbl =
{
    ec_QueryInterface,
    ec_AddRef,
    ec_Release,
    ec_NotifySoHChange,
    ec_GetConnections,
};

/* ---- INapSystemHealthAgentCallback ---- */

static inline struct gate_object *impl_from_sha(INapSystemHealthAgentCallback *iface)
{
    return CONTAINING_RECORD(iface, struct gate_object, INapSystemHealthAgentCallback_iface);
}

static HRESULT WINAPI sha_QueryInterface(INapSystemHealthAgentCallback *iface, REFIID riid, void **out)
{
    return object_query(impl_from_sha(iface), riid, out);
}

static ULONG WINAPI sha_AddRef(INapSystemHealthAgentCallback *iface)
{
    return InterlockedIncrement(&impl_from_sha(iface)->refs);
}

static ULONG WINAPI sha_Release(INapSystemHealthAgentCallback *iface)
{
    return object_release(impl_from_sha(iface));
}

/* Each method: the client's callback under enter/leave, or CO_E_OBJNOTCONNECTED once closed. */
#define SHA_FORWARD(call) \
    do { \
        struct callback_gate *gate = impl_from_sha(iface)->gate; \
        INapSystemHealthAgentCallback *callback = (INapSystemHealthAgentCallback *)enter(gate); \
        HRESULT hr; \
        if (!callback) return CO_E_OBJNOTCONNECTED; \
        hr = call; \
        leave(gate); \
        return hr; \
    } while (0)

static HRESULT WINAPI sha_GetSoHRequest(INapSystemHealthAgentCallback *iface, INapSystemHealthAgentRequest *request)
{
    SHA_FORWARD(INapSystemHealthAgentCallback_GetSoHRequest(callback, request));
}

static HRESULT WINAPI sha_ProcessSoHResponse(INapSystemHealthAgentCallback *iface, INapSystemHealthAgentRequest *request)
{
    SHA_FORWARD(INapSystemHealthAgentCallback_ProcessSoHResponse(callback, request));
}

static HRESULT WINAPI sha_NotifySystemIsolationStateChange(INapSystemHealthAgentCallback *iface)
{
    SHA_FORWARD(INapSystemHealthAgentCallback_NotifySystemIsolationStateChange(callback));
}

static HRESULT WINAPI sha_GetFixupInfo(INapSystemHealthAgentCallback *iface, FixupInfo **info)
{
    if (info) *info = NULL;
    SHA_FORWARD(INapSystemHealthAgentCallback_GetFixupInfo(callback, info));
}

static HRESULT WINAPI sha_CompareSoHRequests(INapSystemHealthAgentCallback *iface, const SoHRequest *lhs,
                                             const SoHRequest *rhs, BOOL *equal)
{
    if (equal) *equal = FALSE;
    SHA_FORWARD(INapSystemHealthAgentCallback_CompareSoHRequests(callback, lhs, rhs, equal));
}

static HRESULT WINAPI sha_NotifyOrphanedSoHRequest(INapSystemHealthAgentCallback *iface, const CorrelationId *id)
{
    SHA_FORWARD(INapSystemHealthAgentCallback_NotifyOrphanedSoHRequest(callback, id));
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

/* ---- what the session uses ---- */

/* The class an object's marshaler names for another apartment of the process. */
static HRESULT unmarshal_class(IUnknown *object, REFIID iid, CLSID *clsid)
{
    IMarshal *marshal;
    HRESULT hr;

    if (FAILED(hr = IUnknown_QueryInterface(object, &IID_IMarshal, (void **)&marshal))) return hr;
    hr = IMarshal_GetUnmarshalClass(marshal, iid, object, MSHCTX_INPROC, NULL, MSHLFLAGS_NORMAL, clsid);
    IMarshal_Release(marshal);
    return hr;
}

/* The free-threaded marshaler hands every apartment the object itself.  Its
 * class is asked of it: mingw-w64's CLSID_InProcFreeMarshaler
 * ({0000001C-...}) is not the class Wine's marshaler names ({0000033A-...}). */
static BOOL free_threaded(IUnknown *callback, REFIID iid)
{
    CLSID theirs, ftm_class;
    IUnknown *ftm;
    HRESULT hr;

    if (FAILED(unmarshal_class(callback, iid, &theirs))) return FALSE;
    if (FAILED(CoCreateFreeThreadedMarshaler(NULL, &ftm))) return FALSE;
    hr = unmarshal_class(ftm, iid, &ftm_class);
    IUnknown_Release(ftm);
    return SUCCEEDED(hr) && IsEqualCLSID(&theirs, &ftm_class);
}

/* Where COM would run the callback: TRUE when a call from the session's MTA
 * threads reaches it without a switch, as CoMarshalInterface would decide. */
static BOOL called_directly(IUnknown *callback, REFIID iid, APTTYPE *type)
{
    APTTYPEQUALIFIER qualifier;

    /* The MTA (or no apartment at all: the implicit MTA) is the session's own. */
    if (FAILED(CoGetApartmentType(type, &qualifier)) || *type == APTTYPE_MTA) return TRUE;
    return free_threaded(callback, iid);
}

static struct gate_object *object_create(struct callback_gate *gate, REFIID iid)
{
    struct gate_object *object = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*object));

    if (!object) return NULL;
    object->INapEnforcementClientCallback_iface.lpVtbl = &ec_vtbl;
    object->INapSystemHealthAgentCallback_iface.lpVtbl = &sha_vtbl;
    object->refs = 1;
    object->sha = IsEqualIID(iid, &IID_INapSystemHealthAgentCallback);
    object->gate = gate;
    InterlockedIncrement(&gate->refs);
    com_server_object_created();
    return object;
}

HRESULT callback_gate_open(IUnknown *callback, REFIID iid, struct callback_gate **out, IStream **stream)
{
    struct callback_gate *gate;
    struct gate_object *object;
    APTTYPE type;
    HRESULT hr;

    *out = NULL;
    *stream = NULL;
    if (called_directly(callback, iid, &type)) return S_FALSE;
    if (!(gate = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*gate)))) return E_OUTOFMEMORY;
    gate->refs = 1;
    gate->apartment_thread = type == APTTYPE_NA ? 0 : GetCurrentThreadId();
    if (!(gate->released = CreateEventW(NULL, TRUE, FALSE, NULL)))
    {
        HeapFree(GetProcessHeap(), 0, gate);
        return HRESULT_FROM_WIN32(GetLastError());
    }
    gate->callback = callback;
    IUnknown_AddRef(callback);
    if (!(object = object_create(gate, iid)))
    {
        release_callback(gate);
        callback_gate_free(gate);
        return E_OUTOFMEMORY;
    }
    hr = CoMarshalInterThreadInterfaceInStream(iid, object_iface(object), stream);
    /* The stub holds the object now; or it goes here, in its apartment. */
    object_release(object);
    TRACE("apartment type %d: gate %p, 0x%08lx\n", type, gate, hr);
    if (FAILED(hr))
    {
        WARN("the callback cannot be marshalled (0x%08lx): is qagent.dll registered?\n", hr);
        callback_gate_free(gate);
        return hr;
    }
    *out = gate;
    return S_OK;
}

void callback_gate_discard(IStream *stream)
{
    LARGE_INTEGER start = { { 0 } };

    IStream_Seek(stream, start, STREAM_SEEK_SET, NULL);
    CoReleaseMarshalData(stream);
    IStream_Release(stream);
}

void callback_gate_close(struct callback_gate *gate)
{
    InterlockedExchange(&gate->closed, 1);
    if (gate->apartment_thread == GetCurrentThreadId() && !gate->inside) release_callback(gate);
}

BOOL callback_gate_inside(struct callback_gate *gate)
{
    return gate->inside_thread == GetCurrentThreadId();
}

BOOL callback_gate_wait_released(struct callback_gate *gate, DWORD timeout_ms)
{
    DWORD index;
    HRESULT hr = CoWaitForMultipleHandles(0, timeout_ms, 1, &gate->released, &index);

    if (hr == CO_E_NOTINITIALIZED) return WaitForSingleObject(gate->released, timeout_ms) == WAIT_OBJECT_0;
    return hr == S_OK;
}
