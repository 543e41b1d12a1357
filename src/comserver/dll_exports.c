/*
 * The entry points every in-process COM server of the project exports: DllMain and the four Dll* functions
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "com_server.h"
#include "nap_trace.h"

/* qagent.dll's and qutil.dll's: WINEDEBUG=+qagent or +qutil shows them. */
NAP_TRACE_USE_MODULE_CHANNEL();

static HINSTANCE com_server_module;

HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **out)
{
    HRESULT hr;

    TRACE("%s, %s, %p\n", nap_dbgstr_guid(clsid), nap_dbgstr_guid(riid), out);
    hr = com_server_get_class_object(clsid, riid, out);
    if (hr == CLASS_E_CLASSNOTAVAILABLE) WARN("%s: not a class of this module\n", nap_dbgstr_guid(clsid));
    return hr;
}

HRESULT WINAPI DllCanUnloadNow(void)
{
    HRESULT hr = com_server_can_unload();

    TRACE("%s (%ld objects)\n", hr == S_OK ? "S_OK" : "S_FALSE", com_server_objects);
    return hr;
}

HRESULT WINAPI DllRegisterServer(void)
{
    HRESULT hr = com_server_register(com_server_module);

    TRACE("0x%08lx\n", hr);
    return hr;
}

HRESULT WINAPI DllUnregisterServer(void)
{
    HRESULT hr = com_server_unregister();

    TRACE("0x%08lx\n", hr);
    return hr;
}

/* Not traced: the first trace reads the registry on Windows, which code
 * under the loader lock should not do. */
BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
    {
        com_server_module = instance;
        DisableThreadLibraryCalls(instance);
    }
    return TRUE;
}
