/*
 * What widl's proxy files (widl -p) need from mingw-w64's headers that those headers do not give
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_WIDL_PROXY_H
#define NAP_WIDL_PROXY_H

/* Included before each generated *_p.c (CMake's -include).  widl's files
 * are stubless (-Oif); rpcproxy.h lays its headers out for that. */
#define USE_STUBLESS_PROXY
#include <objbase.h>
#include <rpcproxy.h>

/* mingw-w64's unknwnbase.h declares rpcrt4's IUnknown proxies only in its
 * C++ branch, and every proxy vtable widl writes starts with them. */
HRESULT STDMETHODCALLTYPE IUnknown_QueryInterface_Proxy(IUnknown *This, REFIID riid, void **ppvObject);
ULONG STDMETHODCALLTYPE IUnknown_AddRef_Proxy(IUnknown *This);
ULONG STDMETHODCALLTYPE IUnknown_Release_Proxy(IUnknown *This);

/* The async_uuid of INapSystemHealthAgentCallback gives it an async
 * interface, and widl a stub vtable for it.  mingw-w64 leaves that vtable's
 * methods NULL for rpcrt4 to fill in at run time, but widl makes the vtable
 * const: Wine's NdrDllGetClassObject then writes into read-only memory and
 * faults.  Wine fills them with the synchronous stub's methods (its rpcrt4
 * exports no CStdAsyncStubBuffer_*), so they are written here. */
#undef CStdAsyncStubBuffer_METHODS
#define CStdAsyncStubBuffer_METHODS CStdStubBuffer_METHODS

#endif
