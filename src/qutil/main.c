/*
 * qutil.dll entry points and its class factory
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qutil_private.h"

HINSTANCE qutil_instance;
LONG qutil_object_count;

struct class_factory
{
    IClassFactory IClassFactory_iface;
    const CLSID *clsid;
    HRESULT (*create)(REFIID riid, void **out);
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

/* The factories are static: their lifetime is the DLL's, counted as locks. */
static ULONG WINAPI factory_AddRef(IClassFactory *iface)
{
    (void)iface;
    InterlockedIncrement(&qutil_object_count);
    return 2;
}

static ULONG WINAPI factory_Release(IClassFactory *iface)
{
    (void)iface;
    InterlockedDecrement(&qutil_object_count);
    return 1;
}

static HRESULT WINAPI factory_CreateInstance(IClassFactory *iface, IUnknown *outer, REFIID riid, void **out)
{
    struct class_factory *factory = impl_from_IClassFactory(iface);

    if (!out) return E_POINTER;
    *out = NULL;
    if (outer) return CLASS_E_NOAGGREGATION;
    return factory->create(riid, out);
}

static HRESULT WINAPI factory_LockServer(IClassFactory *iface, BOOL lock)
{
    (void)iface;
    if (lock) InterlockedIncrement(&qutil_object_count);
    else InterlockedDecrement(&qutil_object_count);
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

static struct class_factory factories[] =
{
    { { &factory_vtbl }, &CLSID_NapSoHConstructor, soh_constructor_create },
    { { &factory_vtbl }, &CLSID_NapSoHProcessor, soh_processor_create },
};

HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **out)
{
    unsigned int i;

    if (!out) return E_POINTER;
    *out = NULL;
    for (i = 0; i < ARRAYSIZE(factories); i++)
        if (IsEqualCLSID(clsid, factories[i].clsid))
            return IClassFactory_QueryInterface(&factories[i].IClassFactory_iface, riid, out);
    return CLASS_E_CLASSNOTAVAILABLE;
}

HRESULT WINAPI DllCanUnloadNow(void)
{
    return qutil_object_count ? S_FALSE : S_OK;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
    {
        qutil_instance = instance;
        DisableThreadLibraryCalls(instance);
    }
    return TRUE;
}
