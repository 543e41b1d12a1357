/*
 * IUnknown as every COM object of the DLLs implements it: QueryInterface over a table, traced reference counts
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "com_server.h"
#include "nap_trace.h"

NAP_TRACE_USE_MODULE_CHANNEL();

/* The caller's name on the line, as if it had traced itself. */
#define TRACE_AS(function, ...) NAP_TRACE_LOG_AS(NAP_TRACE_TRACE, nap_trace_default_channel, function, __VA_ARGS__)
#define WARN_AS(function, ...) NAP_TRACE_LOG_AS(NAP_TRACE_WARN, nap_trace_default_channel, function, __VA_ARGS__)

HRESULT com_object_query_interface(const char *function, IUnknown *iface, const IID *const *iids,
                                   IUnknown *volatile *ftm, REFIID riid, void **out)
{
    TRACE_AS(function, "%p, %s, %p\n", iface, nap_dbgstr_guid(riid), out);
    if (!out) return E_POINTER;
    for (; *iids; iids++)
    {
        if (!IsEqualIID(riid, *iids)) continue;
        *out = iface;
        IUnknown_AddRef(iface);
        return S_OK;
    }
    if (ftm && IsEqualIID(riid, &IID_IMarshal)) return com_ftm_query(iface, ftm, riid, out);
    WARN_AS(function, "%s not implemented\n", nap_dbgstr_guid(riid));
    *out = NULL;
    return E_NOINTERFACE;
}

ULONG com_object_addref(const char *function, IUnknown *iface, LONG *refs)
{
    ULONG count = InterlockedIncrement(refs);

    TRACE_AS(function, "%p, refcount %lu\n", iface, count);
    return count;
}

ULONG com_object_release(const char *function, IUnknown *iface, LONG *refs)
{
    ULONG count = InterlockedDecrement(refs);

    TRACE_AS(function, "%p, refcount %lu\n", iface, count);
    return count;
}
