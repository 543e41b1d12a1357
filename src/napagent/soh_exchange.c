/*
 * The agent's side of one SoH exchange: building requests, reading responses
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "agent_private.h"
#include "NapTypes.h"
#include "soh.h"
#include "soh_attr.h"

static struct soh_machine_info machine;

/* GetVersionEx is shimmed by application compatibility: ask ntdll. */
typedef LONG (WINAPI *rtl_get_version_fn)(OSVERSIONINFOEXW *);

static void read_os_version(void)
{
    OSVERSIONINFOEXW version = { .dwOSVersionInfoSize = sizeof(version) };
    rtl_get_version_fn rtl_get_version;

    rtl_get_version = (rtl_get_version_fn)(void *)GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "RtlGetVersion");
    if (!rtl_get_version || rtl_get_version(&version)) return;
    machine.os_major = version.dwMajorVersion;
    machine.os_minor = version.dwMinorVersion;
    machine.os_build = version.dwBuildNumber;
    machine.sp_major = version.wServicePackMajor;
    machine.sp_minor = version.wServicePackMinor;
    machine.product_type = version.wProductType ? version.wProductType : 1;
}

static void read_processor(void)
{
    SYSTEM_INFO info;

    GetNativeSystemInfo(&info);
    machine.arch = info.wProcessorArchitecture;
}

static void read_machine_name(void)
{
    DWORD size = sizeof(machine.name);

    if (!GetComputerNameExA(ComputerNameDnsFullyQualified, machine.name, &size) || !size)
    {
        size = sizeof(machine.name);
        if (!GetComputerNameA(machine.name, &size)) lstrcpyA(machine.name, "localhost");
    }
}

void exchange_init(void)
{
    policy_init();
    read_os_version();
    read_processor();
    read_machine_name();
    agent_log(AGENT_LOG_INFO, "machine %s: Windows %u.%u.%u SP %u.%u, arch %u, product type %u", machine.name,
              machine.os_major, machine.os_minor, machine.os_build, machine.sp_major, machine.sp_minor,
              machine.arch, machine.product_type);
}

static void to_soh_correlation(const NAPAGENT_CORRELATION *from, struct soh_correlation *to)
{
    to->conn_id.data1 = from->conn_id.Data1;
    to->conn_id.data2 = from->conn_id.Data2;
    to->conn_id.data3 = from->conn_id.Data3;
    memcpy(to->conn_id.data4, from->conn_id.Data4, sizeof(to->conn_id.data4));
    to->timestamp = ((UINT64)from->time_stamp.dwHighDateTime << 32) | from->time_stamp.dwLowDateTime;
}

static UINT64 filetime_value(FILETIME time)
{
    return ((UINT64)time.dwHighDateTime << 32) | time.dwLowDateTime;
}

HRESULT exchange_build_request(const NAPAGENT_CORRELATION *correlation, const struct connection_decision *current,
                               const struct soh_entry *entries, UINT16 entry_count, UINT32 max_size, BYTE *out,
                               UINT16 *size)
{
    struct soh_request *request;
    enum soh_status status;
    size_t cap = min(max_size, maxNetworkSoHSize), length = 0;

    *size = 0;
    if (entry_count > SOH_MAX_ENTRIES) return E_INVALIDARG;
    if (!(request = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*request)))) return E_OUTOFMEMORY;
    memcpy(request->entries, entries, entry_count * sizeof(*entries));
    request->entry_count = entry_count;
    request->with_mode_header = policy_mode_header();
    to_soh_correlation(correlation, &request->correlation);
    request->machine = machine;
    /* The SSoH reports the state this connection is in now. */
    request->quarantine.state = (uint8_t)current->state;
    request->quarantine.ext_state = (uint8_t)current->extended_state;
    request->quarantine.prob_time = current->state == isolationStateInProbation
                                    ? filetime_value(current->prob_end_time) : SOH_PROB_TIME_NONE;
    request->quarantine.url_len = 1; /* an empty, NUL-terminated URL, as Windows sends */
    status = soh_encode_request(request, out, cap, &length);
    HeapFree(GetProcessHeap(), 0, request);
    if (status == SOH_ERR_NO_SPACE) return NAP_E_MAXSIZE_TOO_SMALL;
    if (status != SOH_OK)
    {
        agent_log(AGENT_LOG_ERROR, "cannot encode an SoH request: %s", soh_status_string(status));
        return E_UNEXPECTED;
    }
    *size = (UINT16)length;
    return S_OK;
}

static BOOL same_correlation(const struct soh_correlation *a, const struct soh_correlation *b)
{
    return a->timestamp == b->timestamp && a->conn_id.data1 == b->conn_id.data1
           && a->conn_id.data2 == b->conn_id.data2 && a->conn_id.data3 == b->conn_id.data3
           && !memcmp(a->conn_id.data4, b->conn_id.data4, sizeof(a->conn_id.data4));
}

/* The URL travels as bytes (ASCII or UTF-8, maybe NUL-terminated). */
static WCHAR *url_from_wire(const struct soh_quarantine *quarantine)
{
    int bytes = quarantine->url_len, chars;
    WCHAR *url;

    while (bytes && !quarantine->url[bytes - 1]) bytes--;
    chars = bytes ? MultiByteToWideChar(CP_UTF8, 0, (const char *)quarantine->url, bytes, NULL, 0) : 0;
    if (!(url = MIDL_user_allocate((chars + 1) * sizeof(WCHAR)))) return NULL;
    if (chars) MultiByteToWideChar(CP_UTF8, 0, (const char *)quarantine->url, bytes, url, chars);
    url[chars] = 0;
    return url;
}

static FILETIME filetime_from_wire(UINT64 value)
{
    FILETIME time = { 0, 0 };

    if (value == SOH_PROB_TIME_NONE) return time;
    time.dwLowDateTime = (DWORD)value;
    time.dwHighDateTime = (DWORD)(value >> 32);
    return time;
}

HRESULT exchange_read_response(const BYTE *data, UINT16 size, const NAPAGENT_CORRELATION *expected,
                               NAPAGENT_ISOLATION *isolation, struct soh_response *response)
{
    struct soh_correlation want;
    enum soh_status status;

    ZeroMemory(isolation, sizeof(*isolation));
    status = soh_decode_response(data, size, response);
    to_soh_correlation(expected, &want);
    if (status != SOH_OK)
    {
        agent_log(AGENT_LOG_WARNING, "malformed SoH response (%u bytes): %s", size, soh_status_string(status));
        return NAP_E_INVALID_PACKET;
    }
    /* docs/decisions.md: a response without any correlation id (BackwardCompatible
     * servers) is taken as the answer to the outstanding request. */
    if (response->has_correlation && !same_correlation(&response->correlation, &want)) return NAP_E_MISMATCHED_ID;
    if (!(isolation->failure_url = url_from_wire(&response->quarantine))) return E_OUTOFMEMORY;
    isolation->state = response->quarantine.state;
    isolation->extended_state = response->quarantine.ext_state;
    isolation->prob_end_time = filetime_from_wire(response->quarantine.prob_time);
    isolation->shv_count = response->has_installed_shvs ? response->shv_count : 0;
    memcpy(isolation->shvs, response->shvs, isolation->shv_count * sizeof(isolation->shvs[0]));
    if (!response->has_correlation) response->correlation = want;
    return S_OK;
}

static BOOL append_attribute(const struct soh_attr_value *value, BYTE *out, size_t cap, size_t *used)
{
    size_t length;

    if (soh_attr_encode(value, out + *used, cap - *used, &length) != SOH_OK) return FALSE;
    *used += length;
    return TRUE;
}

HRESULT exchange_substitute_soh(UINT32 sha_id, UINT8 failure_category, HRESULT code, BYTE *out, size_t cap,
                                UINT16 *size)
{
    struct soh_attr_value id = { .type = SOH_ATTR_SYSTEM_HEALTH_ID, .id = sha_id };
    struct soh_attr_value category = { .type = SOH_ATTR_FAILURE_CATEGORY, .uint8 = failure_category };
    struct soh_attr_value codes = { .type = SOH_ATTR_ERROR_CODES, .count = 1 };
    BYTE wire_code[4] = { (BYTE)((UINT32)code >> 24), (BYTE)((UINT32)code >> 16), (BYTE)((UINT32)code >> 8),
                          (BYTE)code };
    size_t used = 0;

    codes.data = wire_code;
    *size = 0;
    if (!append_attribute(&id, out, cap, &used) || !append_attribute(&category, out, cap, &used)
        || !append_attribute(&codes, out, cap, &used))
        return NAP_E_MAXSIZE_TOO_SMALL;
    *size = (UINT16)used;
    return S_OK;
}
