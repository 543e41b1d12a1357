/*
 * qutil.dll's class table and debug channel (its entry points: src/comserver/dll_exports.c)
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

/* What regsvr32 registers and what CoCreateInstance finds. */
const struct com_class com_server_classes[] =
{
    { &CLSID_NapSoHConstructor, L"NapSoHConstructor", L"Both", soh_constructor_create },
    { &CLSID_NapSoHProcessor, L"NapSoHProcessor", L"Both", soh_processor_create },
};
const unsigned int com_server_class_count = ARRAYSIZE(com_server_classes);
