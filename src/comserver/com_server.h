/*
 * What every in-process COM server of the project shares: its exports, class
 * factories, object counting, IUnknown and regsvr32 registration
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_COM_SERVER_H
#define NAP_COM_SERVER_H

#include <windows.h>
#include <objbase.h>
/* widl's proxies are stubless (-Oif): the same layouts everywhere. */
#ifndef USE_STUBLESS_PROXY
#define USE_STUBLESS_PROXY
#endif
#include <rpcproxy.h>

struct com_class
{
    const CLSID *clsid;
    const WCHAR *name;              /* the CLSID key's default value */
    const WCHAR *threading_model;
    HRESULT (*create)(REFIID riid, void **out);
};

/* Each DLL defines its table and count. */
extern const struct com_class com_server_classes[];
extern const unsigned int com_server_class_count;

/* The proxies and stubs of the DLL's interfaces (widl -p and its dlldata.c,
 * in the DLL's proxy_stubs.c): DllGetClassObject answers their CLSID with
 * rpcrt4's factory, and registration names that CLSID for each interface
 * (HKCR\Interface\{IID}\ProxyStubClsid32), so that COM can marshal them
 * between apartments and processes. */
struct com_proxy_stubs
{
    const CLSID *clsid;
    const ProxyFileInfo **files;       /* widl's aProxyFileList, NULL-terminated */
    CStdPSFactoryBuffer *factory;      /* widl's gPFactory */
};
extern const struct com_proxy_stubs com_server_proxy_stubs;

/* Live objects, factories and server locks: DllCanUnloadNow says S_OK at 0. */
extern LONG com_server_objects;
static inline void com_server_object_created(void) { InterlockedIncrement(&com_server_objects); }
static inline void com_server_object_destroyed(void) { InterlockedDecrement(&com_server_objects); }

/* IUnknown of the DLLs' objects, traced as Wine traces it, on the module's
 * channel under the calling method's name (the macros pass __func__).
 * iids: what the object answers for, NULL-terminated; ftm: the object's
 * free-threaded marshaler field, or NULL for an object that aggregates none
 * (then IMarshal is not answered); an IID not answered is a WARN and
 * E_NOINTERFACE.  The addref/release steps return the new count. */
HRESULT com_object_query_interface(const char *function, IUnknown *iface, const IID *const *iids,
                                   IUnknown *volatile *ftm, REFIID riid, void **out);
ULONG com_object_addref(const char *function, IUnknown *iface, LONG *refs);
ULONG com_object_release(const char *function, IUnknown *iface, LONG *refs);
#define com_query_interface(iface, iids, riid, out) \
    com_object_query_interface(__func__, (IUnknown *)(iface), iids, NULL, riid, out)
#define com_query_interface_ftm(iface, iids, ftm, riid, out) \
    com_object_query_interface(__func__, (IUnknown *)(iface), iids, ftm, riid, out)
#define com_addref(iface, refs) com_object_addref(__func__, (IUnknown *)(iface), refs)
#define com_release(iface, refs) com_object_release(__func__, (IUnknown *)(iface), refs)

/* free_threaded.c: the objects qagent.dll hands out aggregate the
 * free-threaded marshaler, so that any apartment of the process calls them
 * directly (docs/decisions.md, "Apartments").  Their QueryInterface
 * (com_query_interface_ftm) passes IID_IMarshal here with the object's
 * IUnknown and its ftm field (NULL at first); their last Release calls
 * com_ftm_release(ftm). */
HRESULT com_ftm_query(IUnknown *outer, IUnknown *volatile *ftm, REFIID riid, void **out);
void com_ftm_release(IUnknown *ftm);

/* The bodies of the Dll* exports (dll_exports.c). */
HRESULT com_server_get_class_object(REFCLSID clsid, REFIID riid, void **out);
HRESULT com_server_can_unload(void);
/* Writes HKCR\CLSID\{clsid} (name) and its InprocServer32 (module path,
 * ThreadingModel) for every class and for the proxies' CLSID, and
 * HKCR\Interface\{IID} (name, ProxyStubClsid32, NumMethods) for every
 * interface with a proxy; unregistering deletes exactly those keys (an
 * interface key only while it still names our proxies). */
HRESULT com_server_register(HINSTANCE module);
HRESULT com_server_unregister(void);

#endif
