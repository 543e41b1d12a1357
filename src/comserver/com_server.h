/*
 * What every in-process COM server of the project shares: class factories,
 * object counting and regsvr32 registration
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

/* The bodies of the four Dll* exports. */
HRESULT com_server_get_class_object(REFCLSID clsid, REFIID riid, void **out);
HRESULT com_server_can_unload(void);
/* Writes HKCR\CLSID\{clsid} (name) and its InprocServer32 (module path,
 * ThreadingModel) for every class; unregistering deletes exactly those keys. */
HRESULT com_server_register(HINSTANCE module);
HRESULT com_server_unregister(void);

#endif
