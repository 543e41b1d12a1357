/*
 * What the sample programs share: COM's QueryInterface, the names of isolation states, numbers on the command line
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sample_common.h"

HRESULT sample_query_interface(IUnknown *iface, REFIID iid, REFIID riid, void **out)
{
    if (!out) return E_POINTER;
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, iid))
    {
        *out = iface;
        IUnknown_AddRef(iface);
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

const char *isolation_state_name(IsolationState state)
{
    switch (state)
    {
    case isolationStateNotRestricted: return "not restricted";
    case isolationStateInProbation: return "in probation";
    case isolationStateRestrictedAccess: return "restricted access";
    default: return "invalid";
    }
}

const char *extended_state_name(ExtendedIsolationState state)
{
    switch (state)
    {
    case extendedIsolationStateNoData: return "no data";
    case extendedIsolationStateTransition: return "transition";
    case extendedIsolationStateInfected: return "infected";
    case extendedIsolationStateUnknown: return "unknown";
    default: return "invalid";
    }
}
