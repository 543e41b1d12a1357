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

/* Live objects, factories and server locks: DllCanUnloadNow says S_OK at 0. */
extern LONG com_server_objects;
static inline void com_server_object_created(void) { InterlockedIncrement(&com_server_objects); }
static inline void com_server_object_destroyed(void) { InterlockedDecrement(&com_server_objects); }

/* IUnknown of the DLLs' objects, traced as Wine traces it, on the module's
 * channel under the calling method's name (the macros pass __func__).
 * iids: what the object answers for, NULL-terminated; an IID not in it is a
 * WARN and E_NOINTERFACE.  The addref/release steps return the new count. */
HRESULT com_object_query_interface(const char *function, IUnknown *iface, const IID *const *iids, REFIID riid,
                                   void **out);
ULONG com_object_addref(const char *function, IUnknown *iface, LONG *refs);
ULONG com_object_release(const char *function, IUnknown *iface, LONG *refs);
#define com_query_interface(iface, iids, riid, out) \
    com_object_query_interface(__func__, (IUnknown *)(iface), iids, riid, out)
#define com_addref(iface, refs) com_object_addref(__func__, (IUnknown *)(iface), refs)
#define com_release(iface, refs) com_object_release(__func__, (IUnknown *)(iface), refs)

/* The bodies of the Dll* exports (dll_exports.c). */
HRESULT com_server_get_class_object(REFCLSID clsid, REFIID riid, void **out);
HRESULT com_server_can_unload(void);
/* Writes HKCR\CLSID\{clsid} (name) and its InprocServer32 (module path,
 * ThreadingModel) for every class; unregistering deletes exactly those keys. */
HRESULT com_server_register(HINSTANCE module);
HRESULT com_server_unregister(void);

#endif
