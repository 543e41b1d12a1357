/*
 * ABI fingerprint table of mingw-w64's shipped naptypes.h / napenforcementclient.h / napprotocol.h
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Everything the NAP headers import comes first, before <initguid.h>, so
 * that only the NAP GUIDs are defined in this file, not every COM IID. */
#include <windows.h>
#include <rpc.h>
#include <rpcndr.h>
#include <ole2.h>
#include <unknwn.h>
#include <oaidl.h>
#include <ocidl.h>
#include <stddef.h>

/* Our napclient library defines IID_INapEnforcementClient* and
 * CLSID_NapEnforcementClientBinding; mingw's copies get other names so that
 * both can live in one program. */
#define IID_INapEnforcementClientBinding mingw_IID_INapEnforcementClientBinding
#define IID_INapEnforcementClientCallback mingw_IID_INapEnforcementClientCallback
#define IID_INapEnforcementClientConnection mingw_IID_INapEnforcementClientConnection
#define IID_INapEnforcementClientConnection2 mingw_IID_INapEnforcementClientConnection2
#define CLSID_NapEnforcementClientBinding mingw_CLSID_NapEnforcementClientBinding
/* Likewise for napprotocol.h, whose GUIDs qutil.dll defines. */
#define IID_INapSoHConstructor mingw_IID_INapSoHConstructor
#define IID_INapSoHProcessor mingw_IID_INapSoHProcessor
#define CLSID_NapSoHConstructor mingw_CLSID_NapSoHConstructor
#define CLSID_NapSoHProcessor mingw_CLSID_NapSoHProcessor
/* And for napsystemhealthagent.h, whose GUIDs qagent.dll defines. */
#define IID_INapSystemHealthAgentBinding mingw_IID_INapSystemHealthAgentBinding
#define IID_INapSystemHealthAgentBinding2 mingw_IID_INapSystemHealthAgentBinding2
#define IID_INapSystemHealthAgentCallback mingw_IID_INapSystemHealthAgentCallback
#define IID_AsyncINapSystemHealthAgentCallback mingw_IID_AsyncINapSystemHealthAgentCallback
#define IID_INapSystemHealthAgentRequest mingw_IID_INapSystemHealthAgentRequest
#define CLSID_NapSystemHealthAgentBinding mingw_CLSID_NapSystemHealthAgentBinding
/* And for napmanagement.h, whose GUIDs qagent.dll defines. */
#define IID_INapClientManagement mingw_IID_INapClientManagement
#define IID_INapClientManagement2 mingw_IID_INapClientManagement2
#define CLSID_NapClientManagement mingw_CLSID_NapClientManagement

#include <initguid.h>
#include <naptypes.h>
#include <napenforcementclient.h>
#include <napprotocol.h>
#include <napmanagement.h>
#include <napsystemhealthagent.h>

#include <naputil.h>
#include "abi_table.h"

/* Each qutil export has the signature naputil.h gives it (or the build fails). */
#define ABI_FUNCTION(ret, name, params) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret (WINAPI *) params), #name);
#include "abi_functions.h"
#undef ABI_FUNCTION

/* mingw's napenforcementclient.h only declares the CLSID
 * (EXTERN_C const CLSID CLSID_NapEnforcementClientBinding;) and mingw-w64's
 * libuuid does not define it either.  This literal is the expected value from
 * /work/shared/docs/nap-reference.md section 1.1 (FSDK napclsids00000003.c),
 * not a value read from mingw-w64. */
const CLSID mingw_CLSID_NapEnforcementClientBinding =
    { 0x9443b89b, 0x6564, 0x496a, { 0xb1, 0x9c, 0x6c, 0x6d, 0x22, 0x70, 0x90, 0x45 } };

/* napprotocol.h, too, only declares its two CLSIDs (EXTERN_C const CLSID
 * CLSID_NapSoHConstructor; ...).  Expected values from nap-reference.md
 * section 1.1 (FSDK napclsids00000008.c and napclsids00000009.c), not read
 * from mingw-w64. */
const CLSID mingw_CLSID_NapSoHConstructor =
    { 0xe8140d53, 0x6535, 0x46a5, { 0xb8, 0xa1, 0xda, 0x6c, 0x57, 0x1d, 0xa9, 0xb9 } };
const CLSID mingw_CLSID_NapSoHProcessor =
    { 0xaa160628, 0x8775, 0x46e3, { 0x83, 0x7c, 0xf7, 0xa2, 0xae, 0x66, 0xe2, 0xf5 } };

/* napsystemhealthagent.h only declares its CLSID too.  Expected value from
 * the brief's {8E594310-16CA-4A00-932F-F70969F990C0} (nap-reference.md
 * section 1.1), not read from mingw-w64. */
const CLSID mingw_CLSID_NapSystemHealthAgentBinding =
    { 0x8e594310, 0x16ca, 0x4a00, { 0x93, 0x2f, 0xf7, 0x09, 0x69, 0xf9, 0x90, 0xc0 } };

/* napmanagement.h only declares its CLSID (EXTERN_C const CLSID
 * CLSID_NapClientManagement;).  Expected value from nap-reference.md
 * section 1.1 (FSDK napclsids00000005.c), not read from mingw-w64. */
const CLSID mingw_CLSID_NapClientManagement =
    { 0xeb082ba1, 0xdf8a, 0x46be, { 0x82, 0xf3, 0x35, 0xbf, 0x9e, 0x9b, 0xe5, 0x2f } };

#define ABI_SIZE(t) { "sizeof(" #t ")", sizeof(t) },
#define ABI_FIELD(t, f) \
    { "offsetof(" #t ", " #f ")", offsetof(t, f) }, \
    { "sizeof(" #t "." #f ")", sizeof(((t *)0)->f) },
#define ABI_SLOT(i, m) { "slot(" #i "::" #m ")", offsetof(i##Vtbl, m) },
#define ABI_VALUE(n) { #n, (size_t)(n) }, { "type(" #n ")", ABI_TYPE_CODE(n) },
#define ABI_GUID(n)

static const struct abi_entry mingw_table[] =
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

static const struct abi_guid mingw_guids[] =
{
#include "abi_entries.h"
};

const struct abi_entry *abi_mingw_table(size_t *count)
{
    *count = ARRAYSIZE(mingw_table);
    return mingw_table;
}

const struct abi_guid *abi_mingw_guids(size_t *count)
{
    *count = ARRAYSIZE(mingw_guids);
    return mingw_guids;
}
