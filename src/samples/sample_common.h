/*
 * What the sample programs share: COM's QueryInterface, the names of isolation states, numbers on the command line
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_SAMPLE_COMMON_H
#define NAP_SAMPLE_COMMON_H

#include <windows.h>
#include <objbase.h>
#include "NapTypes.h"
#include "parse_number.h"

/* QueryInterface of a callback object with one interface besides IUnknown. */
HRESULT sample_query_interface(IUnknown *iface, REFIID iid, REFIID riid, void **out);

const char *isolation_state_name(IsolationState state);
const char *extended_state_name(ExtendedIsolationState state);

#endif
