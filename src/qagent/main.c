/*
 * qagent.dll's class table and debug channel (its entry points: src/comserver/dll_exports.c)
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

/* What regsvr32 registers (registry/qagent.reg) and what CoCreateInstance finds. */
const struct com_class com_server_classes[] =
{
    { &CLSID_NapEnforcementClientBinding, L"NapEnforcementClientBinding", L"Both", binding_create },
    { &CLSID_NapSystemHealthAgentBinding, L"NapSystemHealthAgentBinding", L"Both", sha_binding_create },
    { &CLSID_NapClientManagement, L"NapClientManagement", L"Both", management_create },
};
const unsigned int com_server_class_count = ARRAYSIZE(com_server_classes);
