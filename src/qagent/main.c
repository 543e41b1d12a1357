/*
 * qagent.dll entry points and its class table
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qagent_private.h"
#include "nap_trace.h"

/* What the code shared with the other modules (src/common) traces on:
 * WINEDEBUG=+qagent shows it with the rest of qagent.dll. */
NAP_TRACE_MODULE_CHANNEL(qagent);

static HINSTANCE qagent_instance;

/* What regsvr32 registers (registry/qagent.reg) and what CoCreateInstance finds. */
const struct com_class com_server_classes[] =
{
    { &CLSID_NapEnforcementClientBinding, L"NapEnforcementClientBinding", L"Both", binding_create },
    { &CLSID_NapSystemHealthAgentBinding, L"NapSystemHealthAgentBinding", L"Both", sha_binding_create },
    { &CLSID_NapClientManagement, L"NapClientManagement", L"Both", management_create },
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
    return com_server_register(qagent_instance);
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
        qagent_instance = instance;
        DisableThreadLibraryCalls(instance);
    }
    return TRUE;
}
