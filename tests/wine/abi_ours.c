/*
 * ABI fingerprint table of our widl-generated NapTypes.h / NapEnforcementClient.h / NapProtocol.h
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <windows.h>
#include <stddef.h>

/* The enforcement-client IIDs and CLSID are declared here and defined in napclient
 * (build/generated/NapEnforcementClient_i.c). */
#include "NapTypes.h"
#include "NapEnforcementClient.h"
#include "NapProtocol.h"
/* No library of the tests defines NapProtocol's GUIDs (qutil.dll does, from
 * the same generated file), so this table takes widl's definitions itself. */
#include "NapProtocol_i.c"
/* Likewise for the SHA interfaces, whose GUIDs qagent.dll defines. */
#include "NapSystemHealthAgent.h"
#include "NapSystemHealthAgent_i.c"
/* And for the management interfaces, whose GUIDs qagent.dll defines. */
#include "NapManagement.h"
#include "NapManagement_i.c"

#include "NapUtil.h"
#include "abi_table.h"

/* Each qutil export has the signature naputil.h gives it (or the build fails). */
#define ABI_FUNCTION(ret, name, params) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret (WINAPI *) params), #name);
#include "abi_functions.h"
#undef ABI_FUNCTION

#define ABI_SIZE(t) { "sizeof(" #t ")", sizeof(t) },
#define ABI_FIELD(t, f) \
    { "offsetof(" #t ", " #f ")", offsetof(t, f) }, \
    { "sizeof(" #t "." #f ")", sizeof(((t *)0)->f) },
#define ABI_SLOT(i, m) { "slot(" #i "::" #m ")", offsetof(i##Vtbl, m) },
#define ABI_VALUE(n) { #n, (size_t)(n) }, { "type(" #n ")", ABI_TYPE_CODE(n) },
#define ABI_GUID(n)

static const struct abi_entry ours_table[] =
{
#include "abi_entries.h"
};

#undef ABI_SIZE
#undef ABI_FIELD
#undef ABI_SLOT
#undef ABI_VALUE
#undef ABI_GUID

#define ABI_SIZE(t)
#define ABI_FIELD(t, f)
#define ABI_SLOT(i, m)
#define ABI_VALUE(n)
#define ABI_GUID(n) { #n, &n },

static const struct abi_guid ours_guids[] =
{
#include "abi_entries.h"
};

const struct abi_entry *abi_ours_table(size_t *count)
{
    *count = ARRAYSIZE(ours_table);
    return ours_table;
}

const struct abi_guid *abi_ours_guids(size_t *count)
{
    *count = ARRAYSIZE(ours_guids);
    return ours_guids;
}
