/*
 * ABI fingerprint tables of the NAP headers: ours (widl from idl/) and mingw-w64's
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_ABI_TABLE_H
#define NAP_ABI_TABLE_H

#include <windows.h>
#include <stddef.h>

/* One measured property: a sizeof, an offsetof, a vtable slot offset,
 * a constant's value or the type code of a constant.  Both tables are built
 * from the one list in abi_entries.h, so entry i names the same property in
 * both. */
struct abi_entry
{
    const char *name;
    size_t value;
};

/* One IID or CLSID, by its symbol name. */
struct abi_guid
{
    const char *name;
    const GUID *guid;
};

/* The type an integer constant expression has after the headers' #define,
 * as a small code, so that e.g. (4000) and (4000u) are told apart. */
#define ABI_TYPE_CODE(x) ((size_t)_Generic((x), \
    int: 1, unsigned int: 2, long: 3, unsigned long: 4, \
    long long: 5, unsigned long long: 6, default: 0))

/* Built from mingw-w64's <naptypes.h> and <napenforcementclient.h>. */
const struct abi_entry *abi_mingw_table(size_t *count);
const struct abi_guid *abi_mingw_guids(size_t *count);

/* Built from our generated "NapTypes.h" and "NapEnforcementClient.h". */
const struct abi_entry *abi_ours_table(size_t *count);
const struct abi_guid *abi_ours_guids(size_t *count);

#endif
