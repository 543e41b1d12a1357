/*
 * The class factory every COM class of the project is created through
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "com_server.h"
#include "nap_trace.h"

/* Shared by qagent.dll and qutil.dll: each traces on its own channel. */
NAP_TRACE_USE_MODULE_CHANNEL();

LONG com_server_objects;

struct class_factory
{
    IClassFactory IClassFactory_iface;
    LONG refs;
    const struct com_class *class;
};

static inline struct class_factory *impl_from_IClassFactory(IClassFactory *iface)
{
    return CONTAINING_RECORD(iface, struct class_factory, IClassFactory_iface);
}

static HRESULT WINAPI factory_QueryInterface(IClassFactory *iface, REFIID riid, void **out)
{
    static const IID *const iids[] = { &IID_IUnknown, &IID_IClassFactory, NULL };

    return com_query_interface(iface, iids, riid, out);
}

static ULONG WINAPI factory_AddRef(IClassFactory *iface)
{
    return com_addref(iface, &impl_from_IClassFactory(iface)->refs);
}

static ULONG WINAPI factory_Release(IClassFactory *iface)
{
    struct class_factory *factory = impl_from_IClassFactory(iface);
    ULONG refs = com_release(iface, &factory->refs);

    if (!refs)
    {
        HeapFree(GetProcessHeap(), 0, factory);
        com_server_object_destroyed();
    }
    return refs;
}

static HRESULT WINAPI factory_CreateInstance(IClassFactory *iface, IUnknown *outer, REFIID riid, void **out)
{
    struct class_factory *factory = impl_from_IClassFactory(iface);
    HRESULT hr;

    TRACE("%p, %p, %s, %p\n", iface, outer, nap_dbgstr_guid(riid), out);
    if (!out) return E_POINTER;
    *out = NULL;
    if (outer) return CLASS_E_NOAGGREGATION;
    hr = factory->class->create(riid, out);
    TRACE("%p: %s 0x%08lx, %p\n", iface, nap_dbgstr_w(factory->class->name), hr, *out);
    return hr;
}

static HRESULT WINAPI factory_LockServer(IClassFactory *iface, BOOL lock)
{
    TRACE("%p, %d\n", iface, lock);
    if (lock) com_server_object_created();
    else com_server_object_destroyed();
    return S_OK;
}

static const IClassFactoryVtbl factory_vtbl =
{
    factory_QueryInterface,
    factory_AddRef,
    factory_Release,
    factory_CreateInstance,
    factory_LockServer,
};

HRESULT com_server_get_class_object(REFCLSID clsid, REFIID riid, void **out)
{
    struct class_factory *factory;
    unsigned int i;
    HRESULT hr;

    if (!out) return E_POINTER;
    *out = NULL;
    if (IsEqualCLSID(clsid, com_server_proxy_stubs.clsid))
        return NdrDllGetClassObject(clsid, riid, out, com_server_proxy_stubs.files, com_server_proxy_stubs.clsid,
                                    com_server_proxy_stubs.factory);
    for (i = 0; i < com_server_class_count; i++)
        if (IsEqualCLSID(clsid, com_server_classes[i].clsid)) break;
    if (i == com_server_class_count) return CLASS_E_CLASSNOTAVAILABLE;

    if (!(factory = HeapAlloc(GetProcessHeap(), 0, sizeof(*factory)))) return E_OUTOFMEMORY;
    factory->IClassFactory_iface.lpVtbl = &factory_vtbl;
    factory->refs = 1;
    factory->class = &com_server_classes[i];
    com_server_object_created();
    hr = IClassFactory_QueryInterface(&factory->IClassFactory_iface, riid, out);
    IClassFactory_Release(&factory->IClassFactory_iface);
    return hr;
}

HRESULT com_server_can_unload(void)
{
    /* Proxies and stubs hold the factory while they live. */
    if (com_server_objects) return S_FALSE;
    return NdrDllCanUnloadNow(com_server_proxy_stubs.factory) == S_OK ? S_OK : S_FALSE;
}
