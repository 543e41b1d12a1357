/*
 * The free-threaded marshaler, aggregated on demand by the objects the project's DLLs hand out
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "com_server.h"

/* Created at the first QueryInterface for IMarshal (marshalling an object is
 * rare, creating one is not), once: a second thread racing the first drops
 * its copy. */
HRESULT com_ftm_query(IUnknown *outer, IUnknown *volatile *ftm, REFIID riid, void **out)
{
    IUnknown *created;
    HRESULT hr;

    if (!*ftm)
    {
        if (FAILED(hr = CoCreateFreeThreadedMarshaler(outer, &created)))
        {
            *out = NULL;
            return hr;
        }
        if (InterlockedCompareExchangePointer((void *volatile *)ftm, created, NULL)) IUnknown_Release(created);
    }
    return IUnknown_QueryInterface(*ftm, riid, out);
}

void com_ftm_release(IUnknown *ftm)
{
    if (ftm) IUnknown_Release(ftm);
}
