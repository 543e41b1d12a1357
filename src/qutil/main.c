/*
 * qutil.dll entry points and its class table
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qutil_private.h"
#include "nap_trace.h"

/* What the code shared with the other modules (src/common) traces on:
 * WINEDEBUG=+qutil shows it with the rest of qutil.dll. */
NAP_TRACE_MODULE_CHANNEL(qutil);

static HINSTANCE qutil_instance;

/* What regsvr32 registers and what CoCreateInstance finds. */
const struct com_class com_server_classes[] =
{
    { &CLSID_NapSoHConstructor, L"NapSoHConstructor", L"Both", soh_constructor_create },
    { &CLSID_NapSoHProcessor, L"NapSoHProcessor", L"Both", soh_processor_create },
};
const unsigned int com_server_class_count = ARRAYSIZE(com_server_classes);

HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **out)
{
    return com_server_get_class_object(clsid, riid, out);
}

HRESULT WINAPI DllCanUnloadNow(void)
{
    return com_server_can_unload();
}

HRESULT WINAPI DllRegisterServer(void)
{
    return com_server_register(qutil_instance);
}

HRESULT WINAPI DllUnregisterServer(void)
{
    return com_server_unregister();
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
