/*
 * A program that links every qutil.dll export as a Windows program links qutil.lib
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Built twice in each tree: against our import library with our NapUtil.h
 * (link_qutil_ours.exe) and against mingw-w64's own libqutil.a with its
 * naputil.h (link_qutil_mingw.exe).  Linking proves that the library has
 * every symbol the header's callers import (on i686 the stdcall-decorated
 * _imp__FreeSoH@4 ...); tests/scripts/pe_checks.sh then checks that each
 * name the program imports is one qutil.dll exports, and running it under
 * Wine proves that the loader resolves them and that the calls keep the
 * calling convention (a wrong @N unbalances the i686 stack). */
#include <stdio.h>
#include <windows.h>
#ifdef LINK_MINGW_QUTIL
#include <naputil.h>
#else
#include "NapUtil.h"
#endif

/* Taking each address makes the program import every export. */
typedef void (*any_function)(void);
static any_function const exports[] =
{
    (any_function)AllocConnections, (any_function)AllocCountedString, (any_function)AllocFixupInfo,
    (any_function)FreeConnections, (any_function)FreeCountedString, (any_function)FreeFixupInfo,
    (any_function)FreeIsolationInfo, (any_function)FreeIsolationInfoEx,
    (any_function)FreeNapComponentRegistrationInfoArray, (any_function)FreeNetworkSoH,
    (any_function)FreePrivateData, (any_function)FreeSoH, (any_function)FreeSoHAttributeValue,
    (any_function)FreeSystemHealthAgentState, (any_function)InitializeNapAgentNotifier,
    (any_function)UninitializeNapAgentNotifier,
};

static BOOL calls_work(void)
{
    CountedString *string = NULL;
    FixupInfo *fixup = NULL;
    Connections *connections = NULL;
    BOOL ok;

    ok = AllocCountedString(&string, L"qutil") == S_OK && string && string->length == 5;
    FreeCountedString(string);
    ok = ok && AllocFixupInfo(&fixup, 2) == S_OK && fixup;
    FreeFixupInfo(fixup);
    ok = ok && AllocConnections(&connections, 3) == S_OK && connections && connections->count == 3;
    FreeConnections(connections);
    return ok;
}

int main(void)
{
    size_t i, resolved = 0;

    /* The counts scripts/suite-counts.sh reads, as CMocka prints them. */
    printf("[==========] Running 2 test(s).\n");
    for (i = 0; i < ARRAYSIZE(exports); i++)
        if (exports[i]) resolved++;
    printf("%s: %u of %u qutil.dll exports resolved\n", resolved == ARRAYSIZE(exports) ? "ok" : "FAILED",
           (unsigned)resolved, (unsigned)ARRAYSIZE(exports));
    if (resolved != ARRAYSIZE(exports)) return 1;
    if (!calls_work())
    {
        printf("FAILED: AllocCountedString/AllocFixupInfo/AllocConnections and their Free*\n");
        return 1;
    }
    printf("ok: Alloc* and Free* calls\n");
    printf("[  PASSED  ] 2 test(s).\n");
    return 0;
}
