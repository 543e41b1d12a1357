/*
 * napagent.exe's persistent state: EC and SHA registrations and settings in the registry
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <objbase.h>

#include "agent_private.h"

/* The layout is described in docs/registry-layout.md: keep the two in step. */
#define ENFORCERS_KEY  NAP_STATE_KEY L"\\Enforcers"
#define SHAS_KEY       NAP_STATE_KEY L"\\Shas"
/* Where agents before issue 12 kept the same sub-keys: in the service's key. */
#define LEGACY_STATE_KEY L"System\\CurrentControlSet\\Services\\napagent"
#define PARAMETERS_KEY AGENT_PARAMETERS_KEY
#define POLICY_QECS_KEY NAP_CLIENT_POLICY_KEY L"\\Qecs"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* "4294967295" and its terminator. */
#define ID_NAME_LEN 11
/* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" and its terminator. */
#define GUID_STRING_LEN 39

static INIT_ONCE store_init_once = INIT_ONCE_STATIC_INIT;
static CRITICAL_SECTION store_lock;
static HKEY enforcers_key;
static HKEY shas_key;
static HKEY parameters_key;

/* ECs and SHAs are stored alike (an SHA only has no Enabled value): each
 * kind is its root key, its limit and the word the log uses. */
struct store_kind
{
    HKEY *root;
    UINT32 max;
    BOOL has_enabled;
    const char *name;
};
static const struct store_kind ec_store = { &enforcers_key, maxEnforcerCount, TRUE, "EC" };
static const struct store_kind sha_store = { &shas_key, maxSystemHealthEntityCount, FALSE, "SHA" };

static BOOL CALLBACK init_store_lock(INIT_ONCE *once, void *param, void **context)
{
    (void)once; (void)param; (void)context;
    InitializeCriticalSection(&store_lock);
    return TRUE;
}

static void lock_store(void)
{
    InitOnceExecuteOnce(&store_init_once, init_store_lock, NULL, NULL);
    EnterCriticalSection(&store_lock);
}

static void unlock_store(void)
{
    LeaveCriticalSection(&store_lock);
}

static HRESULT hresult_from_reg(LSTATUS err)
{
    return err == ERROR_SUCCESS ? S_OK : HRESULT_FROM_WIN32(err);
}

static void id_to_key_name(UINT32 id, WCHAR name[ID_NAME_LEN])
{
    _snwprintf(name, ID_NAME_LEN, L"%u", id);
    name[ID_NAME_LEN - 1] = 0;
}

/* Only plain decimal names, as id_to_key_name writes them, are
 * registrations: anything else someone put under the key is ignored (a
 * leading zero would name a second key for the same id). */
static BOOL key_name_to_id(const WCHAR *name, UINT32 *id)
{
    unsigned long long value = 0;
    const WCHAR *p;

    if (!name[0] || name[0] == '0' || wcslen(name) > ID_NAME_LEN - 1)
        return FALSE;
    for (p = name; *p; p++)
    {
        if (*p < '0' || *p > '9')
            return FALSE;
        value = value * 10 + (*p - '0');
    }
    if (!value || value > 0xffffffffull)
        return FALSE;
    *id = (UINT32)value;
    return TRUE;
}

/* An agent from before issue 12 kept its state in the service's key, where
 * an uninstall deletes it: move it once, the first time this agent starts
 * without a state key of its own. */
static void move_legacy_state(void)
{
    static const WCHAR *const names[] = { L"Enforcers", L"Shas", L"Parameters" };
    WCHAR from[MAX_PATH], to[MAX_PATH];
    HKEY key;
    size_t i;

    if (!RegOpenKeyExW(HKEY_LOCAL_MACHINE, NAP_STATE_KEY, 0, KEY_READ, &key))
    {
        RegCloseKey(key);
        return;
    }
    for (i = 0; i < ARRAY_SIZE(names); i++)
    {
        swprintf(from, MAX_PATH, L"%ls\\%ls", LEGACY_STATE_KEY, names[i]);
        swprintf(to, MAX_PATH, L"%ls\\%ls", NAP_STATE_KEY, names[i]);
        if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, from, 0, KEY_READ, &key)) continue;
        RegCloseKey(key);
        if (RegCreateKeyExW(HKEY_LOCAL_MACHINE, to, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &key, NULL)) continue;
        if (!RegCopyTreeW(HKEY_LOCAL_MACHINE, from, key))
        {
            RegDeleteTreeW(HKEY_LOCAL_MACHINE, from);
            agent_log(AGENT_LOG_INFO, "store: moved HKLM\\%ls to HKLM\\%ls", from, to);
        }
        RegCloseKey(key);
    }
}

HRESULT store_open(void)
{
    LSTATUS err;
    HRESULT hr = S_OK;

    lock_store();
    move_legacy_state();
    if (!enforcers_key)
    {
        err = RegCreateKeyExW(HKEY_LOCAL_MACHINE, ENFORCERS_KEY, 0, NULL, 0, KEY_ALL_ACCESS,
                              NULL, &enforcers_key, NULL);
        if (err)
        {
            enforcers_key = NULL;
            hr = hresult_from_reg(err);
        }
    }
    if (SUCCEEDED(hr) && !shas_key)
    {
        err = RegCreateKeyExW(HKEY_LOCAL_MACHINE, SHAS_KEY, 0, NULL, 0, KEY_ALL_ACCESS,
                              NULL, &shas_key, NULL);
        if (err)
        {
            shas_key = NULL;
            hr = hresult_from_reg(err);
        }
    }
    if (SUCCEEDED(hr) && !parameters_key)
    {
        err = RegCreateKeyExW(HKEY_LOCAL_MACHINE, PARAMETERS_KEY, 0, NULL, 0, KEY_ALL_ACCESS,
                              NULL, &parameters_key, NULL);
        if (err)
        {
            parameters_key = NULL;
            hr = hresult_from_reg(err);
        }
    }
    unlock_store();
    if (FAILED(hr))
        agent_log(AGENT_LOG_ERROR, "store: cannot open the agent's registry keys: 0x%08lx", hr);
    return hr;
}

void store_close(void)
{
    lock_store();
    if (enforcers_key)
        RegCloseKey(enforcers_key);
    if (shas_key)
        RegCloseKey(shas_key);
    if (parameters_key)
        RegCloseKey(parameters_key);
    enforcers_key = shas_key = parameters_key = NULL;
    unlock_store();
}

static BOOL string_fits(const WCHAR *s)
{
    return wcsnlen(s, maxStringLength + 1) <= maxStringLength;
}

static LSTATUS write_string(HKEY key, const WCHAR *name, const WCHAR *value)
{
    return RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)value,
                          (wcslen(value) + 1) * sizeof(WCHAR));
}

static LSTATUS write_dword(HKEY key, const WCHAR *name, DWORD value)
{
    return RegSetValueExW(key, name, 0, REG_DWORD, (const BYTE *)&value, sizeof(value));
}

static LSTATUS write_guid(HKEY key, const WCHAR *name, const GUID *guid)
{
    WCHAR text[GUID_STRING_LEN];

    StringFromGUID2(guid, text, ARRAY_SIZE(text));
    return write_string(key, name, text);
}

static LSTATUS write_filetime(HKEY key, const WCHAR *name, const FILETIME *time)
{
    ULONGLONG value = ((ULONGLONG)time->dwHighDateTime << 32) | time->dwLowDateTime;

    return RegSetValueExW(key, name, 0, REG_QWORD, (const BYTE *)&value, sizeof(value));
}

/* A value that is missing reads as empty or zero: a hand-edited key still
 * lists.  Any other error is reported. */
static LSTATUS read_string(HKEY key, const WCHAR *name, WCHAR *buffer, DWORD chars)
{
    DWORD size = chars * sizeof(WCHAR);
    LSTATUS err;

    err = RegGetValueW(key, NULL, name, RRF_RT_REG_SZ, NULL, buffer, &size);
    if (err == ERROR_FILE_NOT_FOUND)
    {
        buffer[0] = 0;
        return ERROR_SUCCESS;
    }
    return err;
}

static LSTATUS read_dword(HKEY key, const WCHAR *name, DWORD *value)
{
    DWORD size = sizeof(*value);
    LSTATUS err;

    err = RegGetValueW(key, NULL, name, RRF_RT_REG_DWORD, NULL, value, &size);
    if (err == ERROR_FILE_NOT_FOUND)
    {
        *value = 0;
        return ERROR_SUCCESS;
    }
    return err;
}

static LSTATUS read_guid(HKEY key, const WCHAR *name, GUID *guid)
{
    WCHAR text[GUID_STRING_LEN];
    LSTATUS err;

    memset(guid, 0, sizeof(*guid));
    if ((err = read_string(key, name, text, ARRAY_SIZE(text))))
        return err;
    if (text[0] && FAILED(IIDFromString(text, guid)))
        return ERROR_INVALID_DATA;
    return ERROR_SUCCESS;
}

static LSTATUS read_filetime(HKEY key, const WCHAR *name, FILETIME *time)
{
    ULONGLONG value = 0;
    DWORD size = sizeof(value);
    LSTATUS err;

    err = RegGetValueW(key, NULL, name, RRF_RT_REG_QWORD, NULL, &value, &size);
    if (err == ERROR_FILE_NOT_FOUND)
        err = ERROR_SUCCESS;
    time->dwLowDateTime = (DWORD)value;
    time->dwHighDateTime = (DWORD)(value >> 32);
    return err;
}

static LSTATUS write_registration(const struct store_kind *kind, HKEY key, const struct component *reg)
{
    FILETIME now;
    LSTATUS err;

    GetSystemTimeAsFileTime(&now);
    if ((err = write_string(key, L"FriendlyName", reg->friendly_name))) return err;
    if ((err = write_string(key, L"Description", reg->description))) return err;
    if ((err = write_string(key, L"Version", reg->version))) return err;
    if ((err = write_string(key, L"VendorName", reg->vendor_name))) return err;
    if ((err = write_guid(key, L"InfoClsid", &reg->info_clsid))) return err;
    if ((err = write_guid(key, L"ConfigClsid", &reg->config_clsid))) return err;
    if ((err = write_filetime(key, L"RegistrationDate", &now))) return err;
    if ((err = write_dword(key, L"ComponentType", reg->component_type))) return err;
    if (!kind->has_enabled) return ERROR_SUCCESS;
    /* As on Windows, an administrator (or policy) enables a new EC. */
    return write_dword(key, L"Enabled", 0);
}

static LSTATUS read_registration(HKEY key, UINT32 id, struct component *reg)
{
    DWORD component_type, enabled;
    LSTATUS err;

    memset(reg, 0, sizeof(*reg));
    reg->id = id;
    if ((err = read_string(key, L"FriendlyName", reg->friendly_name, maxStringLength + 1))) return err;
    if ((err = read_string(key, L"Description", reg->description, maxStringLength + 1))) return err;
    if ((err = read_string(key, L"Version", reg->version, maxStringLength + 1))) return err;
    if ((err = read_string(key, L"VendorName", reg->vendor_name, maxStringLength + 1))) return err;
    if ((err = read_guid(key, L"InfoClsid", &reg->info_clsid))) return err;
    if ((err = read_guid(key, L"ConfigClsid", &reg->config_clsid))) return err;
    if ((err = read_filetime(key, L"RegistrationDate", &reg->registration_date))) return err;
    if ((err = read_dword(key, L"ComponentType", &component_type))) return err;
    if ((err = read_dword(key, L"Enabled", &enabled))) return err;
    reg->component_type = component_type;
    reg->enabled = enabled != 0;
    return ERROR_SUCCESS;
}

static BOOL registration_valid(const struct component *reg)
{
    return reg->id && string_fits(reg->friendly_name) && string_fits(reg->description)
           && string_fits(reg->version) && string_fits(reg->vendor_name);
}

static HRESULT get_locked(const struct store_kind *kind, UINT32 id, struct component *reg);

/* The registrations a list shows, one at a time: sub-keys named by an id
 * whose values read back.  *index is where the enumeration goes on from
 * (0 to start); S_FALSE after the last one.  Anything else someone put
 * under the key is skipped, and logged when it looks like an id. */
static HRESULT next_registration(const struct store_kind *kind, DWORD *index, struct component *reg)
{
    WCHAR name[256];
    DWORD len;
    UINT32 id;
    LSTATUS err;
    HRESULT hr;

    for (;; (*index)++)
    {
        len = ARRAY_SIZE(name);
        err = RegEnumKeyExW(*kind->root, *index, name, &len, NULL, NULL, NULL, NULL);
        if (err == ERROR_NO_MORE_ITEMS)
            return S_FALSE;
        if (err == ERROR_MORE_DATA || (!err && !key_name_to_id(name, &id)))
            continue;  /* not an id */
        if (err)
            return hresult_from_reg(err);
        /* One unreadable entry must not hide all the others. */
        if (SUCCEEDED(hr = get_locked(kind, id, reg)))
        {
            (*index)++;
            return S_OK;
        }
        agent_log(AGENT_LOG_WARNING, "store: skipping %s %u: 0x%08lx", kind->name, id, hr);
    }
}

/* What the limit counts: exactly the entries list_locked returns, so keys
 * the list skips never use up a place. */
static HRESULT count_registrations(const struct store_kind *kind, DWORD *count)
{
    struct component scratch;
    DWORD index = 0;
    HRESULT hr = S_OK;

    *count = 0;
    while (*count < kind->max && (hr = next_registration(kind, &index, &scratch)) == S_OK)
        (*count)++;
    return FAILED(hr) ? hr : S_OK;
}

static HRESULT register_locked(const struct store_kind *kind, const struct component *reg)
{
    WCHAR name[ID_NAME_LEN];
    DWORD count, disposition;
    HKEY key;
    LSTATUS err;
    HRESULT hr;

    id_to_key_name(reg->id, name);
    if (!(err = RegOpenKeyExW(*kind->root, name, 0, KEY_READ, &key)))
    {
        RegCloseKey(key);
        return NAP_E_CONFLICTING_ID;
    }
    if (err != ERROR_FILE_NOT_FOUND)
        return hresult_from_reg(err);
    if (FAILED(hr = count_registrations(kind, &count)))
        return hr;
    if (count >= kind->max)
        return E_OUTOFMEMORY;

    err = RegCreateKeyExW(*kind->root, name, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &key, &disposition);
    if (err)
        return hresult_from_reg(err);
    if (disposition == REG_OPENED_EXISTING_KEY)
    {
        RegCloseKey(key);
        return NAP_E_CONFLICTING_ID;
    }
    err = write_registration(kind, key, reg);
    RegCloseKey(key);
    /* No half-written registration left behind. */
    if (err)
        RegDeleteKeyW(*kind->root, name);
    return hresult_from_reg(err);
}

static HRESULT register_kind(const struct store_kind *kind, const struct component *reg)
{
    HRESULT hr;

    if (!reg || !registration_valid(reg))
        return E_INVALIDARG;

    lock_store();
    hr = *kind->root ? register_locked(kind, reg) : NAP_E_NOT_INITIALIZED;
    unlock_store();

    agent_log(AGENT_LOG_INFO, "store: register %s %u: 0x%08lx", kind->name, reg->id, hr);
    return hr;
}

/* The store's record of each kind of component. */
static const struct store_kind *kind_of(UINT32 kind)
{
    return kind == NAPAGENT_KIND_SHA ? &sha_store : &ec_store;
}

HRESULT store_register(UINT32 kind, const struct component *component)
{
    return register_kind(kind_of(kind), component);
}

/* Opens Enforcers\<id> (Shas\<id>); NAP_E_NOT_REGISTERED when there is no such key. */
static HRESULT open_registration(const struct store_kind *kind, UINT32 id, REGSAM access, HKEY *key)
{
    WCHAR name[ID_NAME_LEN];
    LSTATUS err;

    if (!*kind->root)
        return NAP_E_NOT_INITIALIZED;
    if (!id)
        return NAP_E_NOT_REGISTERED;
    id_to_key_name(id, name);
    err = RegOpenKeyExW(*kind->root, name, 0, access, key);
    if (err == ERROR_FILE_NOT_FOUND)
        return NAP_E_NOT_REGISTERED;
    return hresult_from_reg(err);
}

static HRESULT unregister_locked(const struct store_kind *kind, UINT32 id)
{
    WCHAR name[ID_NAME_LEN];
    HKEY key;
    HRESULT hr;

    if (FAILED(hr = open_registration(kind, id, KEY_READ, &key)))
        return hr;
    RegCloseKey(key);
    id_to_key_name(id, name);
    /* RegDeleteTree: tolerate sub-keys someone added by hand. */
    return hresult_from_reg(RegDeleteTreeW(*kind->root, name));
}

static HRESULT unregister_kind(const struct store_kind *kind, UINT32 id)
{
    HRESULT hr;

    lock_store();
    hr = unregister_locked(kind, id);
    unlock_store();

    agent_log(AGENT_LOG_INFO, "store: unregister %s %u: 0x%08lx", kind->name, id, hr);
    return hr;
}

HRESULT store_unregister(UINT32 kind, UINT32 id)
{
    return unregister_kind(kind_of(kind), id);
}

static HRESULT get_locked(const struct store_kind *kind, UINT32 id, struct component *reg)
{
    HKEY key;
    HRESULT hr;

    if (FAILED(hr = open_registration(kind, id, KEY_READ, &key)))
        return hr;
    hr = hresult_from_reg(read_registration(key, id, reg));
    RegCloseKey(key);
    return hr;
}

static HRESULT get_kind(const struct store_kind *kind, UINT32 id, struct component *reg)
{
    HRESULT hr;

    if (!reg)
        return E_POINTER;

    lock_store();
    hr = get_locked(kind, id, reg);
    unlock_store();
    return hr;
}

HRESULT store_get(UINT32 kind, UINT32 id, struct component *component)
{
    return get_kind(kind_of(kind), id, component);
}

static HRESULT set_enabled_locked(UINT32 id, BOOL enabled)
{
    HKEY key;
    HRESULT hr;

    if (FAILED(hr = open_registration(&ec_store, id, KEY_SET_VALUE, &key)))
        return hr;
    hr = hresult_from_reg(write_dword(key, L"Enabled", enabled ? 1 : 0));
    RegCloseKey(key);
    return hr;
}

HRESULT store_set_ec_enabled(UINT32 id, BOOL enabled)
{
    HRESULT hr;

    lock_store();
    hr = set_enabled_locked(id, enabled);
    unlock_store();

    agent_log(AGENT_LOG_INFO, "store: set EC %u enabled=%d: 0x%08lx", id, enabled ? 1 : 0, hr);
    return hr;
}

static int compare_registrations(const void *a, const void *b)
{
    UINT32 x = ((const struct component *)a)->id, y = ((const struct component *)b)->id;

    return x < y ? -1 : x > y;
}

/* At most kind->max registrations, sorted by id; keys added by hand past
 * that are not listed (nor counted: count_registrations). */
static HRESULT list_locked(const struct store_kind *kind, struct component *regs, UINT32 max,
                           UINT32 *count)
{
    DWORD index = 0;
    HRESULT hr = S_OK;

    if (!*kind->root)
        return NAP_E_NOT_INITIALIZED;
    while (*count < max && *count < kind->max && (hr = next_registration(kind, &index, &regs[*count])) == S_OK)
        (*count)++;
    if (FAILED(hr))
        return hr;
    qsort(regs, *count, sizeof(*regs), compare_registrations);
    return S_OK;
}

static HRESULT list_kind(const struct store_kind *kind, struct component *regs, UINT32 max,
                         UINT32 *count)
{
    HRESULT hr;

    if (!count || (max && !regs))
        return E_POINTER;
    *count = 0;

    lock_store();
    hr = list_locked(kind, regs, max, count);
    unlock_store();
    return hr;
}

HRESULT store_list(UINT32 kind, struct component *components, UINT32 max, UINT32 *count)
{
    return list_kind(kind_of(kind), components, max, count);
}

/* Group Policy's Qecs\<id>\Enabled, read afresh each time so that a policy
 * change is noticed without restarting the agent. */
static BOOL policy_enabled(UINT32 id, DWORD *enabled)
{
    WCHAR path[ARRAY_SIZE(POLICY_QECS_KEY) + 1 + ID_NAME_LEN];
    WCHAR name[ID_NAME_LEN];
    DWORD size = sizeof(*enabled);

    id_to_key_name(id, name);
    _snwprintf(path, ARRAY_SIZE(path), L"%s\\%s", POLICY_QECS_KEY, name);
    path[ARRAY_SIZE(path) - 1] = 0;
    return !RegGetValueW(HKEY_LOCAL_MACHINE, path, L"Enabled", RRF_RT_REG_DWORD, NULL,
                         enabled, &size);
}

BOOL store_ec_enabled(const struct component *reg)
{
    DWORD enabled;

    if (!reg)
        return FALSE;
    if (policy_enabled(reg->id, &enabled))
        return enabled != 0;
    return reg->enabled;
}

/* Whoever wrote the value (napctl goes through NapAgentSetSetting, which
 * refuses it; reg.exe does not), the agent uses it only within its range. */
DWORD store_get_setting(const WCHAR *name, DWORD default_value)
{
    const struct agent_setting *setting = agent_setting_by_name(PARAMETERS_KEY, name);
    DWORD value, size = sizeof(value);
    LSTATUS err = ERROR_INVALID_HANDLE;

    if (!name)
        return default_value;
    lock_store();
    if (parameters_key)
        err = RegGetValueW(parameters_key, NULL, name, RRF_RT_REG_DWORD, NULL, &value, &size);
    unlock_store();
    if (err)
        return default_value;
    return setting ? agent_setting_clamp(setting, value) : value;
}

HRESULT store_set_setting(const WCHAR *name, DWORD value)
{
    HRESULT hr;

    if (!name || !name[0])
        return E_INVALIDARG;
    lock_store();
    hr = parameters_key ? hresult_from_reg(write_dword(parameters_key, name, value))
                        : NAP_E_NOT_INITIALIZED;
    unlock_store();

    agent_log(AGENT_LOG_INFO, "store: setting %ls = %lu: 0x%08lx", name, value, hr);
    return hr;
}

/* An SHA's SoH kept for later use (cacheSohForLaterUse): Shas\<id>\CachedSoH. */

HRESULT store_get_sha_soh(UINT32 id, BYTE *soh, UINT16 cap, UINT16 *size)
{
    DWORD bytes = cap;
    HKEY key;
    HRESULT hr;
    LSTATUS err;

    *size = 0;
    lock_store();
    if (SUCCEEDED(hr = open_registration(&sha_store, id, KEY_QUERY_VALUE, &key)))
    {
        err = RegGetValueW(key, NULL, L"CachedSoH", RRF_RT_REG_BINARY, NULL, soh, &bytes);
        /* None kept, or more than any SoH can be: nothing cached. */
        if (err == ERROR_FILE_NOT_FOUND || err == ERROR_MORE_DATA) hr = S_FALSE;
        else if (SUCCEEDED(hr = hresult_from_reg(err))) *size = (UINT16)bytes;
        RegCloseKey(key);
    }
    unlock_store();
    return hr;
}

HRESULT store_set_sha_soh(UINT32 id, const BYTE *soh, UINT16 size)
{
    HKEY key;
    HRESULT hr;
    LSTATUS err;

    lock_store();
    if (SUCCEEDED(hr = open_registration(&sha_store, id, KEY_SET_VALUE, &key)))
    {
        if (size) err = RegSetValueExW(key, L"CachedSoH", 0, REG_BINARY, soh, size);
        else if ((err = RegDeleteValueW(key, L"CachedSoH")) == ERROR_FILE_NOT_FOUND) err = ERROR_SUCCESS;
        hr = hresult_from_reg(err);
        RegCloseKey(key);
    }
    unlock_store();
    return hr;
}
