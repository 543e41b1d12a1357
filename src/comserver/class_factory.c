/*
 * The class factory every COM class of the project is created through
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "com_server.h"

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
    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory))
    {
        *out = iface;
        IClassFactory_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

static ULONG WINAPI factory_AddRef(IClassFactory *iface)
{
    return InterlockedIncrement(&impl_from_IClassFactory(iface)->refs);
}

static ULONG WINAPI factory_Release(IClassFactory *iface)
{
    struct class_factory *factory = impl_from_IClassFactory(iface);
    ULONG refs = InterlockedDecrement(&factory->refs);

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

    if (!out) return E_POINTER;
    *out = NULL;
    if (outer) return CLASS_E_NOAGGREGATION;
    return factory->class->create(riid, out);
}

static HRESULT WINAPI factory_LockServer(IClassFactory *iface, BOOL lock)
{
    (void)iface;
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
