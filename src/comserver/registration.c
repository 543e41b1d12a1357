/*
 * regsvr32 support: what a COM server of the project writes to and removes from the registry
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include "com_server.h"

/* registry/qagent.reg shows what this writes for qagent.dll. */
static void clsid_key_path(const CLSID *clsid, WCHAR *path, size_t size)
{
    WCHAR text[39];

    StringFromGUID2(clsid, text, ARRAYSIZE(text));
    swprintf(path, size, L"CLSID\\%ls", text);
}

static LSTATUS set_string(HKEY key, const WCHAR *name, const WCHAR *value)
{
    return RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)value,
                          (DWORD)((wcslen(value) + 1) * sizeof(WCHAR)));
}

static HRESULT register_class(const struct com_class *class, const WCHAR *dll_path)
{
    WCHAR path[64];
    HKEY key, server;
    LSTATUS status;

    clsid_key_path(class->clsid, path, ARRAYSIZE(path));
    status = RegCreateKeyExW(HKEY_CLASSES_ROOT, path, 0, NULL, 0, KEY_WRITE, NULL, &key, NULL);
    if (status) return HRESULT_FROM_WIN32(status);
    status = set_string(key, NULL, class->name);
    if (!status) status = RegCreateKeyExW(key, L"InprocServer32", 0, NULL, 0, KEY_WRITE, NULL, &server, NULL);
    RegCloseKey(key);
    if (status) return HRESULT_FROM_WIN32(status);
    status = set_string(server, NULL, dll_path);
    if (!status) status = set_string(server, L"ThreadingModel", class->threading_model);
    RegCloseKey(server);
    return HRESULT_FROM_WIN32(status);
}

static HRESULT unregister_class(const struct com_class *class)
{
    WCHAR path[64];
    LSTATUS status;

    clsid_key_path(class->clsid, path, ARRAYSIZE(path));
    status = RegDeleteTreeW(HKEY_CLASSES_ROOT, path);
    if (status == ERROR_FILE_NOT_FOUND) status = ERROR_SUCCESS;
    return HRESULT_FROM_WIN32(status);
}

HRESULT com_server_register(HINSTANCE module)
{
    WCHAR dll_path[MAX_PATH];
    unsigned int i;
    HRESULT hr = S_OK;

    if (!GetModuleFileNameW(module, dll_path, MAX_PATH)) return HRESULT_FROM_WIN32(GetLastError());
    for (i = 0; i < com_server_class_count && SUCCEEDED(hr); i++)
        hr = register_class(&com_server_classes[i], dll_path);
    return hr;
}

HRESULT com_server_unregister(void)
{
    unsigned int i;
    HRESULT hr = S_OK;

    for (i = 0; i < com_server_class_count; i++)
    {
        HRESULT class_hr = unregister_class(&com_server_classes[i]);
        if (FAILED(class_hr)) hr = class_hr;
    }
    return hr;
}
