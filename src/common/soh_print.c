/*
 * Readable dumps of SoH requests and responses (napctl decode, sample_ec)
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <windows.h>
#include <inttypes.h>
#include "soh_print.h"
/* napclient does not link the codec's include path; its users link soh itself. */
#include "../soh/soh.h"

void soh_print_hex(FILE *out, const uint8_t *data, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
    {
        if (i % 16 == 0) fprintf(out, "%s%04x:", i ? "\n" : "", (unsigned int)i);
        fprintf(out, " %02x", data[i]);
    }
    if (len) fputc('\n', out);
}

/* Names as napprotocol.h's SoHAttributeType spells them, without the prefix. */
const char *soh_print_tlv_name(uint16_t type)
{
    static const char * const names[] =
    {
        NULL, NULL, "SystemHealthId", "Ipv4FixupServers", "ComplianceResultCodes",
        "TimeOfLastUpdate", "ClientId", "VendorSpecific", "HealthClass", "SoftwareVersion",
        "ProductName", "HealthClassStatus", "SoHGenerationTime", "ErrorCodes",
        "FailureCategory", "Ipv6FixupServers", "ExtendedIsolationState",
    };

    if (type < ARRAYSIZE(names) && names[type]) return names[type];
    return "reserved";
}

static const char *isolation_state_name(uint8_t state)
{
    switch (state)
    {
    case 1: return "not restricted";
    case 2: return "in probation";
    case 3: return "restricted access";
    default: return "invalid";
    }
}

static const char *ext_state_name(uint8_t state)
{
    static const char * const names[] = { "no data", "transition", "infected", "unknown" };
    return state < ARRAYSIZE(names) ? names[state] : "invalid";
}

static const char *arch_name(uint16_t arch)
{
    switch (arch)
    {
    case 0: return "x86";
    case 6: return "ia64";
    case 9: return "x64";
    default: return "unknown";
    }
}

static const char *product_type_name(uint8_t type)
{
    switch (type)
    {
    case 1: return "client";
    case 2: return "domain controller";
    case 3: return "server";
    default: return "unknown";
    }
}

static void print_filetime(FILE *out, uint64_t value)
{
    FILETIME ft;
    SYSTEMTIME st;

    ft.dwLowDateTime = (DWORD)value;
    ft.dwHighDateTime = (DWORD)(value >> 32);
    if (FileTimeToSystemTime(&ft, &st))
        fprintf(out, "%04u-%02u-%02u %02u:%02u:%02u UTC (0x%016" PRIx64 ")", st.wYear, st.wMonth,
                st.wDay, st.wHour, st.wMinute, st.wSecond, value);
    else
        fprintf(out, "0x%016" PRIx64, value);
}

/* The URL is raw wire bytes: show printable ASCII, escape the rest. */
static void print_url(FILE *out, const struct soh_quarantine *q)
{
    uint16_t i;

    fputc('"', out);
    for (i = 0; i < q->url_len; i++)
    {
        if (q->url[i] >= 0x20 && q->url[i] < 0x7f && q->url[i] != '"' && q->url[i] != '\\')
            fputc(q->url[i], out);
        else
            fprintf(out, "\\x%02x", q->url[i]);
    }
    fprintf(out, "\" (%u byte%s)\n", q->url_len, q->url_len == 1 ? "" : "s");
}

static void print_quarantine(FILE *out, const struct soh_quarantine *q)
{
    fprintf(out, "  quarantine state: %u (%s), extended state %u (%s), fix-up %s\n", q->state,
            isolation_state_name(q->state), q->ext_state, ext_state_name(q->ext_state),
            q->fixup ? "requested" : "not requested");
    fprintf(out, "    probation time: ");
    if (q->prob_time == SOH_PROB_TIME_NONE) fprintf(out, "none");
    else print_filetime(out, q->prob_time);
    fprintf(out, "\n    url: ");
    print_url(out, q);
}

/* The 12-byte SoH header, read off the wire (the decoder checked it). */
static void print_envelope(FILE *out, const uint8_t *data, size_t len)
{
    unsigned int outer_type = (data[0] << 8) | data[1], outer_len = (data[2] << 8) | data[3];
    unsigned int inner_type = (data[8] << 8) | data[9], inner_len = (data[10] << 8) | data[11];
    uint32_t vendor = ((uint32_t)data[4] << 24) | (data[5] << 16) | (data[6] << 8) | data[7];

    fprintf(out, "  envelope: %u bytes, outer type %u length %u, vendor 0x%08" PRIx32
            ", inner type %u (%s) length %u\n", (unsigned int)len, outer_type, outer_len, vendor,
            inner_type, inner_type == 2 ? "with mode sub-header" : "no mode sub-header", inner_len);
}

static void print_correlation(FILE *out, const char *label, const struct soh_correlation *c)
{
    char text[SOH_CORRELATION_TEXT_SIZE];

    soh_correlation_format(c, text, sizeof(text));
    fprintf(out, "  %s: %s\n", label, text);
}

static void print_mode_header(FILE *out, int present, const struct soh_correlation *c, uint8_t intent)
{
    if (!present)
    {
        fprintf(out, "  mode sub-header: absent\n");
        return;
    }
    fprintf(out, "  mode sub-header: intent %u (%s), content type 0\n", intent,
            intent == SOH_INTENT_REQUEST ? "request" : intent == SOH_INTENT_RESPONSE ? "response" : "unknown");
    print_correlation(out, "correlation id", c);
}

static void print_packet_info(FILE *out, uint8_t info)
{
    fprintf(out, "  packet info: 0x%02x (%s, version %u)\n", info,
            info & 0x10 ? "request" : "response", info & 0x0f);
}

static void print_tlv_value(FILE *out, const uint8_t *value, uint16_t len)
{
    uint16_t i;

    for (i = 0; i < len; i++)
    {
        if (i && i % 16 == 0) fprintf(out, "\n%*s", 8, "");
        fprintf(out, "%s%02x", i % 16 ? " " : "", value[i]);
    }
    fputc('\n', out);
}

static void print_entries(FILE *out, const struct soh_entry *entries, uint16_t count)
{
    const uint8_t *value;
    uint16_t i, type, value_len;
    size_t offset;

    fprintf(out, "  report entries: %u\n", count);
    for (i = 0; i < count; i++)
    {
        fprintf(out, "  entry %u: SHV 0x%08" PRIx32 " (%" PRIu32 "), %u bytes\n", i + 1,
                entries[i].shv_id, entries[i].shv_id, entries[i].len);
        offset = 0;
        while (soh_entry_next_tlv(&entries[i], &offset, &type, &value, &value_len) == SOH_OK)
        {
            fprintf(out, "    TLV %u %s, %u bytes:\n        ", type, soh_print_tlv_name(type), value_len);
            print_tlv_value(out, value, value_len);
        }
    }
}

static void print_shvs(FILE *out, const uint32_t *shvs, uint16_t count)
{
    uint16_t i;

    fprintf(out, "  installed SHVs: %u", count);
    for (i = 0; i < count; i++) fprintf(out, "%s0x%08" PRIx32, i ? ", " : " (", shvs[i]);
    fprintf(out, "%s\n", count ? ")" : "");
}

static void show_request(FILE *out, const uint8_t *data, size_t len, const struct soh_request *req)
{
    const struct soh_machine_info *m = &req->machine;

    fprintf(out, "SoH request\n");
    print_envelope(out, data, len);
    print_mode_header(out, req->with_mode_header, &req->correlation, req->intent);
    print_packet_info(out, req->packet_info);
    fprintf(out, "  machine inventory: OS %" PRIu32 ".%" PRIu32 ".%" PRIu32 ", SP %u.%u, arch %u (%s)\n",
            m->os_major, m->os_minor, m->os_build, m->sp_major, m->sp_minor, m->arch, arch_name(m->arch));
    fprintf(out, "  machine name: \"%s\"\n", m->name);
    if (req->with_mode_header) fprintf(out, "  MS correlation id: same as the mode sub-header's\n");
    else print_correlation(out, "MS correlation id", &req->correlation);
    print_quarantine(out, &req->quarantine);
    fprintf(out, "  inventory-ex: reserved 0x%08" PRIx32 ", product type %u (%s)\n",
            req->inventory_ex_reserved, m->product_type, product_type_name(m->product_type));
    print_entries(out, req->entries, req->entry_count);
}

static void show_response(FILE *out, const uint8_t *data, size_t len, const struct soh_response *resp)
{
    fprintf(out, "SoH response\n");
    print_envelope(out, data, len);
    print_mode_header(out, resp->with_mode_header, &resp->correlation, resp->intent);
    if (!resp->with_mode_header && resp->has_correlation)
        print_correlation(out, "MS correlation id", &resp->correlation);
    else if (!resp->has_correlation)
        fprintf(out, "  correlation id: none\n");
    print_packet_info(out, resp->packet_info);
    print_quarantine(out, &resp->quarantine);
    if (resp->has_installed_shvs) print_shvs(out, resp->shvs, resp->shv_count);
    else fprintf(out, "  installed SHVs: not sent\n");
    print_entries(out, resp->entries, resp->entry_count);
}

int soh_print_request(FILE *out, const uint8_t *data, size_t len)
{
    static struct soh_request req; /* large: keep it off the stack */
    enum soh_status status;

    if ((status = soh_decode_request(data, len, &req)))
    {
        fprintf(out, "not an SoH request: %s\n", soh_status_string(status));
        return -1;
    }
    show_request(out, data, len, &req);
    return 0;
}

int soh_print_response(FILE *out, const uint8_t *data, size_t len)
{
    static struct soh_response resp;
    enum soh_status status;

    if ((status = soh_decode_response(data, len, &resp)))
    {
        fprintf(out, "not an SoH response: %s\n", soh_status_string(status));
        return -1;
    }
    show_response(out, data, len, &resp);
    return 0;
}

int soh_print_decoded(FILE *out, const uint8_t *data, size_t len)
{
    static struct soh_request req;
    static struct soh_response resp;
    enum soh_status req_status, resp_status;

    if (!(req_status = soh_decode_request(data, len, &req)))
    {
        show_request(out, data, len, &req);
        return 0;
    }
    if (!(resp_status = soh_decode_response(data, len, &resp)))
    {
        show_response(out, data, len, &resp);
        return 0;
    }
    fprintf(out, "cannot decode %u bytes: as a request: %s; as a response: %s\n", (unsigned int)len,
            soh_status_string(req_status), soh_status_string(resp_status));
    return -1;
}
