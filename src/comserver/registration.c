/*
 * regsvr32 support: what a COM server of the project writes to and removes from the registry
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include "com_server.h"

/* registry/qagent.reg and registry/qutil.reg show what this writes. */
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

/* The proxies' and stubs' own class: rpcrt4's factory, any apartment. */
static const struct com_class *proxy_class(void)
{
    static struct com_class class = { NULL, L"PSFactoryBuffer", L"Both", NULL };

    class.clsid = com_server_proxy_stubs.clsid;
    return &class;
}

static void interface_key_path(const IID *iid, WCHAR *path, size_t size)
{
    WCHAR text[39];

    StringFromGUID2(iid, text, ARRAYSIZE(text));
    swprintf(path, size, L"Interface\\%ls", text);
}

static LSTATUS set_subkey_default(HKEY key, const WCHAR *subkey, const WCHAR *value)
{
    LSTATUS status;
    HKEY sub;

    if ((status = RegCreateKeyExW(key, subkey, 0, NULL, 0, KEY_WRITE, NULL, &sub, NULL))) return status;
    status = set_string(sub, NULL, value);
    RegCloseKey(sub);
    return status;
}

/* HKCR\Interface\{IID}: its name, the CLSID of its proxy and stub, its method count. */
static HRESULT register_interface(const CInterfaceStubHeader *header, const char *name)
{
    WCHAR path[64], text[256], clsid[39];
    LSTATUS status;
    HKEY key;

    interface_key_path(header->piid, path, ARRAYSIZE(path));
    status = RegCreateKeyExW(HKEY_CLASSES_ROOT, path, 0, NULL, 0, KEY_WRITE, NULL, &key, NULL);
    if (status) return HRESULT_FROM_WIN32(status);
    swprintf(text, ARRAYSIZE(text), L"%hs", name);
    status = set_string(key, NULL, text);
    StringFromGUID2(com_server_proxy_stubs.clsid, clsid, ARRAYSIZE(clsid));
    if (!status) status = set_subkey_default(key, L"ProxyStubClsid32", clsid);
    swprintf(text, ARRAYSIZE(text), L"%lu", header->DispatchTableCount);
    if (!status) status = set_subkey_default(key, L"NumMethods", text);
    RegCloseKey(key);
    return HRESULT_FROM_WIN32(status);
}

/* Deletes HKCR\Interface\{IID} unless another DLL registered its own proxy
 * for the interface since: that key is not ours any more. */
static HRESULT unregister_interface(const IID *iid)
{
    WCHAR path[96], value[39], ours[39];
    DWORD size = sizeof(value);
    LSTATUS status;

    interface_key_path(iid, path, ARRAYSIZE(path));
    wcscat(path, L"\\ProxyStubClsid32");
    status = RegGetValueW(HKEY_CLASSES_ROOT, path, NULL, RRF_RT_REG_SZ, NULL, value, &size);
    if (status == ERROR_FILE_NOT_FOUND) return S_OK;
    StringFromGUID2(com_server_proxy_stubs.clsid, ours, ARRAYSIZE(ours));
    if (!status && _wcsicmp(value, ours)) return S_OK;
    interface_key_path(iid, path, ARRAYSIZE(path));
    status = RegDeleteTreeW(HKEY_CLASSES_ROOT, path);
    if (status == ERROR_FILE_NOT_FOUND) status = ERROR_SUCCESS;
    return HRESULT_FROM_WIN32(status);
}

/* Calls fn for every interface the DLL has a proxy for; the first failure. */
static HRESULT for_each_interface(HRESULT (*fn)(const CInterfaceStubHeader *header, const char *name), BOOL stop)
{
    const ProxyFileInfo **file;
    HRESULT hr = S_OK, one;
    unsigned short i;

    for (file = com_server_proxy_stubs.files; *file; file++)
        for (i = 0; i < (*file)->TableSize; i++)
        {
            one = fn(&(*file)->pStubVtblList[i]->header, (*file)->pNamesArray[i]);
            if (FAILED(one) && SUCCEEDED(hr)) hr = one;
            if (FAILED(hr) && stop) return hr;
        }
    return hr;
}

static HRESULT unregister_interface_entry(const CInterfaceStubHeader *header, const char *name)
{
    (void)name;
    return unregister_interface(header->piid);
}

HRESULT com_server_register(HINSTANCE module)
{
    WCHAR dll_path[MAX_PATH];
    unsigned int i;
    HRESULT hr = S_OK;

    if (!GetModuleFileNameW(module, dll_path, MAX_PATH)) return HRESULT_FROM_WIN32(GetLastError());
    for (i = 0; i < com_server_class_count && SUCCEEDED(hr); i++)
        hr = register_class(&com_server_classes[i], dll_path);
    if (SUCCEEDED(hr)) hr = register_class(proxy_class(), dll_path);
    if (SUCCEEDED(hr)) hr = for_each_interface(register_interface, TRUE);
    return hr;
}

HRESULT com_server_unregister(void)
{
    unsigned int i;
    HRESULT hr = for_each_interface(unregister_interface_entry, FALSE), one;

    for (i = 0; i < com_server_class_count; i++)
        if (FAILED(one = unregister_class(&com_server_classes[i])) && SUCCEEDED(hr)) hr = one;
    if (FAILED(one = unregister_class(proxy_class())) && SUCCEEDED(hr)) hr = one;
    return hr;
}
