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
#include "nap_errors.h"
/* napclient does not link the codec's include path; its users link soh itself. */
#include "../soh/soh.h"
#include "../soh/soh_attr.h"

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
        fprintf(out, "0x%016" PRIx64 " (not a date)", value);
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

/* ---- report entries: one printer per kind of attribute value ---- */

/* Names after docs/nap-facts.md, Ids; the ids are napmicrosoftvendorids.h's. */
static const char *component_name(uint32_t id)
{
    switch (id)
    {
    case 0x00013700: return "NAP system";
    case 0x00013701: return "DHCP Quarantine Enforcement Client";
    case 0x00013702: return "Remote Access Quarantine Enforcement Client";
    case 0x00013703: return "IPsec Relying Party Enforcement Client";
    case 0x00013704: return "Wireless EAPOL Enforcement Client";
    case 0x00013705: return "TS Gateway Enforcement Client";
    case 0x00013706: return "ISA Enforcement Client";
    case 0x00013707: return "EAP Quarantine Enforcement Client";
    case 0x00013780: return "Windows Security Health Agent";
    case 0x00013781: return "SMS Health Agent";
    case 0x00013782: return "FCS v1 Health Agent";
    case 0x00013783: return "FCS v2 Health Agent";
    case 0x00013784: return "TPM Health Agent";
    case 0x000137f0: return "SDK sample SHA/SHV";
    case 0x000137f1: return "SDK sample enforcement client";
    default: return NULL;
    }
}

/* An id we have no name for still says whose it is: a NapComponentId is a
 * 3-byte SMI vendor number and a 1-byte component. */
static void print_component(FILE *out, uint32_t id)
{
    const char *name = component_name(id);

    fprintf(out, "0x%08" PRIx32 " (%" PRIu32 ")", id, id);
    if (name) fprintf(out, " %s", name);
    else fprintf(out, " vendor %" PRIu32 " component %" PRIu32, id >> 8, id & 0xff);
}

static const char *health_class_name(uint8_t value)
{
    static const char * const names[] = { "firewall", "patch level", "antivirus", "critical update" };

    if (value < ARRAYSIZE(names)) return names[value];
    return value == 128 ? "reserved (healthClassReserved)" : "unassigned";
}

static const char *failure_category_name(uint8_t value)
{
    static const char * const names[] =
    {
        "none", "other", "client component", "client communication",
        "server component", "server communication",
    };
    return value < ARRAYSIZE(names) ? names[value] : "invalid";
}

/* Hex lines indented under their TLV, 16 bytes a line. */
static void print_hex_lines(FILE *out, const uint8_t *data, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        fprintf(out, "%s%02x%s", i % 16 ? " " : "        ", data[i],
                i % 16 == 15 || i + 1 == len ? "\n" : "");
}

static int is_printable_ascii(const uint8_t *data, uint16_t len)
{
    uint16_t i;

    for (i = 0; i < len; i++)
        if (data[i] < 0x20 || data[i] >= 0x7f) return 0;
    return 1;
}

/* Opaque bytes; the types SHAs fill with version strings and ids also show
 * as text when every byte is printable. */
static void print_octets(FILE *out, const uint8_t *data, uint16_t len, int as_text)
{
    if (!len)
    {
        fputs(" (empty)\n", out);
        return;
    }
    if (as_text && is_printable_ascii(data, len)) fprintf(out, " \"%.*s\"", (int)len, (const char *)data);
    fputc('\n', out);
    print_hex_lines(out, data, len);
}

/* WSHA sends its product name as UTF-16LE ([MS-WSH] 2.2.2), perhaps with a
 * terminating NUL.  FALSE, having printed nothing, unless it is clean text:
 * no control characters and no unpaired surrogates. */
static BOOL print_utf16_text(FILE *out, const uint8_t *data, uint16_t len)
{
    WCHAR text[SOH_MAX_ATTRIBUTE_SIZE / 2];
    char utf8[SOH_MAX_ATTRIBUTE_SIZE / 2 * 3 + 1];
    int chars = len / 2, i, size;

    if (!len || len % 2 || len > SOH_MAX_ATTRIBUTE_SIZE) return FALSE;
    for (i = 0; i < chars; i++) text[i] = data[2 * i] | (data[2 * i + 1] << 8);
    while (chars && !text[chars - 1]) chars--;
    if (!chars) return FALSE;
    for (i = 0; i < chars; i++)
        if (text[i] < 0x20 || text[i] == 0x7f) return FALSE;
    size = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, text, chars, utf8, sizeof(utf8) - 1, NULL, NULL);
    if (size <= 0) return FALSE;
    utf8[size] = 0;
    fprintf(out, " \"%s\" (UTF-16LE)\n", utf8);
    return TRUE;
}

static void print_product_name(FILE *out, const uint8_t *data, uint16_t len)
{
    if (!print_utf16_text(out, data, len)) print_octets(out, data, len, 0);
}

static void print_ipv4(FILE *out, const uint8_t *a)
{
    fprintf(out, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
}

/* RFC 5952 text: lower-case groups without leading zeros, the longest run
 * of two or more zero groups (the first of equal runs) written as "::". */
static void print_ipv6(FILE *out, const uint8_t *a)
{
    unsigned int group[8];
    int i, run = 0, best_start = -1, best_len = 1;

    for (i = 0; i < 8; i++)
    {
        group[i] = (a[2 * i] << 8) | a[2 * i + 1];
        run = group[i] ? 0 : run + 1;
        if (run > best_len)
        {
            best_len = run;
            best_start = i - run + 1;
        }
    }
    for (i = 0; i < 8; i++)
    {
        if (i == best_start)
        {
            fputs("::", out);
            i += best_len - 1;
            continue;
        }
        fprintf(out, "%s%x", i && i != best_start + best_len ? ":" : "", group[i]);
    }
}

static void print_addresses(FILE *out, const struct soh_attr_value *v)
{
    size_t size = v->kind == SOH_VALUE_IPV4 ? 4 : 16;
    uint16_t i;

    fprintf(out, " %u address%s\n", v->count, v->count == 1 ? "" : "es");
    for (i = 0; i < v->count; i++)
    {
        fputs("        ", out);
        if (v->kind == SOH_VALUE_IPV4) print_ipv4(out, v->data + i * size);
        else print_ipv6(out, v->data + i * size);
        fputc('\n', out);
    }
}

static void print_codes(FILE *out, const struct soh_attr_value *v)
{
    uint32_t code;
    uint16_t i;

    fprintf(out, " %u code%s\n", v->count, v->count == 1 ? "" : "s");
    for (i = 0; i < v->count; i++)
    {
        code = soh_attr_code(v, i);
        fprintf(out, "        0x%08" PRIx32 " %s\n", code, nap_error_name((HRESULT)code));
    }
}

static void print_vendor(FILE *out, const struct soh_attr_value *v)
{
    fprintf(out, " vendor %" PRIu32 " (0x%08" PRIx32 "%s), %u data byte%s\n", v->vendor_id, v->vendor_id,
            v->vendor_id == SOH_MS_VENDOR_ID ? ", Microsoft" : "", v->count, v->count == 1 ? "" : "s");
    print_hex_lines(out, v->data, v->count);
}

/* The rest of the TLV's line, and the lines under it, for a decoded value. */
static void print_value(FILE *out, const struct soh_attr_value *v)
{
    switch (v->type)
    {
    case SOH_ATTR_SYSTEM_HEALTH_ID:
        fputc(' ', out);
        print_component(out, v->id);
        fputc('\n', out);
        break;
    case SOH_ATTR_IPV4_FIXUP_SERVERS:
    case SOH_ATTR_IPV6_FIXUP_SERVERS:
        print_addresses(out, v);
        break;
    case SOH_ATTR_COMPLIANCE_RESULT_CODES:
    case SOH_ATTR_ERROR_CODES:
        print_codes(out, v);
        break;
    case SOH_ATTR_TIME_OF_LAST_UPDATE:
    case SOH_ATTR_SOH_GENERATION_TIME:
        fputc(' ', out);
        print_filetime(out, v->datetime);
        fputc('\n', out);
        break;
    case SOH_ATTR_VENDOR_SPECIFIC:
        print_vendor(out, v);
        break;
    case SOH_ATTR_HEALTH_CLASS:
        fprintf(out, " %u (%s)\n", v->uint8, health_class_name(v->uint8));
        break;
    case SOH_ATTR_FAILURE_CATEGORY:
        fprintf(out, " %u (%s)\n", v->uint8, failure_category_name(v->uint8));
        break;
    case SOH_ATTR_EXTENDED_ISOLATION_STATE:
        fprintf(out, " %u (%s)\n", v->uint8, ext_state_name(v->uint8));
        break;
    case SOH_ATTR_PRODUCT_NAME:
        print_product_name(out, v->data, v->count);
        break;
    case SOH_ATTR_CLIENT_ID:
    case SOH_ATTR_SOFTWARE_VERSION:
    case SOH_ATTR_HEALTH_CLASS_STATUS:
        print_octets(out, v->data, v->count, 1);
        break;
    default: /* reserved types: nothing to read into the bytes */
        print_octets(out, v->data, v->count, 0);
        break;
    }
}

/* tlv is the TLV's header: its type field still has the M and R bits that
 * soh_entry_next_tlv masked off.  Both are sent as 0, so a set one is news. */
static void print_tlv(FILE *out, const uint8_t *tlv, const uint8_t *value, uint16_t len)
{
    uint16_t raw = (tlv[0] << 8) | tlv[1], type = raw & SOH_TLV_TYPE_MASK;
    struct soh_attr_value v;
    enum soh_status status;

    fprintf(out, "    TLV %u %s, %u byte%s", type, soh_print_tlv_name(type), len, len == 1 ? "" : "s");
    if (raw & SOH_TLV_FLAGS_MASK)
        fprintf(out, ", flags%s%s", raw & 0x8000 ? " M" : "", raw & 0x4000 ? " R" : "");
    fputc(':', out);
    if ((status = soh_attr_decode(raw, value, len, &v)))
    {
        fprintf(out, " does not decode: %s\n", soh_status_string(status));
        print_hex_lines(out, value, len);
        return;
    }
    print_value(out, &v);
}

static void print_entry(FILE *out, uint16_t number, const struct soh_entry *entry, int is_request)
{
    enum soh_status status = soh_sha_validate(entry->tlvs, entry->len, is_request);
    const uint8_t *value;
    uint16_t type, value_len;
    size_t offset = 0, start;

    fprintf(out, "  entry %u: SHV ", number);
    print_component(out, entry->shv_id);
    fprintf(out, ", %u bytes\n", entry->len);
    if (status) fprintf(out, "    invalid as a %s entry: %s\n", is_request ? "request" : "response",
                        soh_status_string(status));
    else fprintf(out, "    valid as a %s entry\n", is_request ? "request" : "response");
    for (start = 0; soh_entry_next_tlv(entry, &offset, &type, &value, &value_len) == SOH_OK; start = offset)
        print_tlv(out, entry->tlvs + start, value, value_len);
}

static void print_entries(FILE *out, const struct soh_entry *entries, uint16_t count, int is_request)
{
    uint16_t i;

    fprintf(out, "  report entries: %u\n", count);
    for (i = 0; i < count; i++) print_entry(out, i + 1, &entries[i], is_request);
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
    print_entries(out, req->entries, req->entry_count, 1);
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
    print_entries(out, resp->entries, resp->entry_count, 0);
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
