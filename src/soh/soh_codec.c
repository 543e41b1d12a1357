/*
 * SoH codec helpers: status strings, report entry walking, correlation ids
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "soh_private.h"

static const char * const status_strings[SOH_STATUS_COUNT] =
{
    [SOH_OK] = "success",
    [SOH_ERR_TOO_SHORT] = "SoH is shorter than 12 bytes",
    [SOH_ERR_TOO_LONG] = "SoH is longer than 4000 bytes",
    [SOH_ERR_NO_SPACE] = "output buffer too small",
    [SOH_ERR_END] = "no more TLVs in the report entry",
    [SOH_ERR_BAD_ARGUMENT] = "invalid argument",
    [SOH_ERR_BAD_OUTER_TYPE] = "outer TLV type is not 7",
    [SOH_ERR_BAD_OUTER_LENGTH] = "outer TLV length does not match the message size",
    [SOH_ERR_BAD_VENDOR] = "outer vendor id is not Microsoft (311)",
    [SOH_ERR_BAD_INNER_TYPE] = "inner type is neither 1 nor 2",
    [SOH_ERR_BAD_INNER_LENGTH] = "inner length does not match the message size",
    [SOH_ERR_BAD_MODE_HEADER] = "malformed SoH mode sub-header",
    [SOH_ERR_BAD_CONTENT_TYPE] = "mode sub-header content type is not 0",
    [SOH_ERR_MISSING_SYSTEM_HEALTH_ID] = "SSoH does not start with a System-Health-Id TLV",
    [SOH_ERR_BAD_SYSTEM_ID] = "SSoH System-Health-Id is not the NAP system id",
    [SOH_ERR_MISSING_MS_TLV] = "SSoH lacks the Microsoft vendor-specific TLV",
    [SOH_ERR_BAD_MS_LENGTH] = "Microsoft vendor-specific TLV length is invalid",
    [SOH_ERR_BAD_MS_VENDOR] = "SSoH vendor-specific TLV is not Microsoft's",
    [SOH_ERR_UNKNOWN_MS_ATTR] = "unknown Microsoft attribute type",
    [SOH_ERR_UNEXPECTED_MS_ATTR] = "Microsoft attribute not allowed in this message",
    [SOH_ERR_DUPLICATE_MS_ATTR] = "duplicate Microsoft attribute",
    [SOH_ERR_MISSING_MS_ATTR] = "required Microsoft attribute missing",
    [SOH_ERR_MS_ATTR_TRUNCATED] = "Microsoft attributes do not fill their TLV exactly",
    [SOH_ERR_MACHINE_NAME_TOO_LONG] = "machine name longer than 255 bytes",
    [SOH_ERR_BAD_MACHINE_NAME] = "machine name contains an embedded NUL",
    [SOH_ERR_BAD_QUARANTINE_STATE] = "quarantine state is not 1, 2 or 3",
    [SOH_ERR_BAD_EXT_STATE] = "extended isolation state is not 0..3",
    [SOH_ERR_BAD_FIXUP_FLAG] = "fix-up flag is not 0 or 1",
    [SOH_ERR_URL_TOO_LONG] = "failure URL longer than 1024 bytes",
    [SOH_ERR_BAD_SHV_LIST_LENGTH] = "installed SHV list length is not a multiple of 4",
    [SOH_ERR_TOO_MANY_SHVS] = "more than 20 installed SHVs",
    [SOH_ERR_MISSING_CORRELATION] = "mode sub-header requires a correlation id",
    [SOH_ERR_CORRELATION_MISMATCH] = "mode sub-header and MS-CorrelationId differ",
    [SOH_ERR_TLV_TRUNCATED] = "report entry TLV runs past the end of the message",
    [SOH_ERR_ENTRY_NO_SYSTEM_HEALTH_ID] = "report entry does not start with a System-Health-Id TLV",
    [SOH_ERR_BAD_ENTRY_ID_LENGTH] = "System-Health-Id TLV length is not 4",
    [SOH_ERR_TOO_MANY_ENTRIES] = "more than 20 report entries",
    [SOH_ERR_TOO_MANY_TLVS] = "more than 100 TLVs in one report entry",
    [SOH_ERR_ATTR_TOO_LONG] = "attribute value longer than 4000 bytes",
    [SOH_ERR_ENTRY_ID_MISMATCH] = "report entry id differs from its System-Health-Id TLV",
    [SOH_ERR_ENTRY_SPLIT] = "report entry holds more than one System-Health-Id TLV",
    [SOH_ERR_NO_ADDRESSES] = "fix-up server list is empty",
    [SOH_ERR_BAD_ADDRESS_LENGTH] = "fix-up server list length is not a multiple of the address size",
    [SOH_ERR_TOO_MANY_ADDRESSES] = "more than 1000 IPv4 or 250 IPv6 fix-up servers",
    [SOH_ERR_BAD_CODES_LENGTH] = "result code list length is not a multiple of 4",
    [SOH_ERR_TOO_MANY_CODES] = "more than 1000 result codes",
    [SOH_ERR_BAD_TIME_LENGTH] = "time attribute length is not 8",
    [SOH_ERR_VENDOR_ATTR_TOO_SHORT] = "vendor-specific attribute shorter than its 4-byte vendor id",
    [SOH_ERR_BAD_ATTR_VENDOR_ID] = "vendor id has bits set in its top 8 bits",
    [SOH_ERR_VENDOR_DATA_TOO_LONG] = "vendor-specific data longer than 3996 bytes",
    [SOH_ERR_BAD_BYTE_ATTR_LENGTH] = "one-byte attribute length is not 1",
    [SOH_ERR_BAD_FAILURE_CATEGORY] = "failure category is not 0..5",
    [SOH_ERR_DUPLICATE_FIXUP_SERVERS] = "response holds two IPv4 or two IPv6 fix-up server lists",
    [SOH_ERR_MISSING_RESULT] = "response lacks ComplianceResultCodes, ErrorCodes and FailureCategory",
};

const char *soh_status_string(enum soh_status status)
{
    if ((unsigned int)status >= SOH_STATUS_COUNT || !status_strings[status]) return "unknown status";
    return status_strings[status];
}

void soh_correlation_to_wire(const struct soh_correlation *c, uint8_t *out)
{
    soh_set32(out, c->conn_id.data1);
    soh_set16(out + 4, c->conn_id.data2);
    soh_set16(out + 6, c->conn_id.data3);
    memcpy(out + 8, c->conn_id.data4, sizeof(c->conn_id.data4));
    soh_set64(out + 16, c->timestamp);
}

void soh_correlation_from_wire(const uint8_t *in, struct soh_correlation *c)
{
    c->conn_id.data1 = soh_get32(in);
    c->conn_id.data2 = soh_get16(in + 4);
    c->conn_id.data3 = soh_get16(in + 6);
    memcpy(c->conn_id.data4, in + 8, sizeof(c->conn_id.data4));
    c->timestamp = soh_get64(in + 16);
}

static char *put_hex(char *p, uint64_t value, unsigned int digits)
{
    static const char hex[] = "0123456789abcdef";

    while (digits--) *p++ = hex[(value >> (digits * 4)) & 0xf];
    return p;
}

size_t soh_correlation_format(const struct soh_correlation *c, char *buf, size_t cap)
{
    const uint8_t *d4 = c->conn_id.data4;
    char *p = buf;
    unsigned int i;

    if (cap < SOH_CORRELATION_TEXT_SIZE)
    {
        if (cap) buf[0] = 0;
        return 0;
    }
    *p++ = '{';
    p = put_hex(p, c->conn_id.data1, 8);
    *p++ = '-';
    p = put_hex(p, c->conn_id.data2, 4);
    *p++ = '-';
    p = put_hex(p, c->conn_id.data3, 4);
    *p++ = '-';
    p = put_hex(p, d4[0], 2);
    p = put_hex(p, d4[1], 2);
    *p++ = '-';
    for (i = 2; i < 8; i++) p = put_hex(p, d4[i], 2);
    *p++ = '}';
    *p++ = '-';
    p = put_hex(p, c->timestamp, 16);
    *p = 0;
    return (size_t)(p - buf);
}

/* Every System-Health-Id TLV opens a new entry (the grammar has no other
 * delimiter), so the entry limits are checked while splitting. */
enum soh_status soh_split_entries(const uint8_t *data, size_t len, struct soh_entry *entries, uint16_t *count)
{
    size_t pos = 0, start = 0;
    unsigned int tlvs = 0;
    uint16_t n = 0;

    *count = 0;
    if (len > UINT16_MAX) return SOH_ERR_TOO_LONG;
    while (pos < len)
    {
        uint16_t type, value_len;

        if (len - pos < 4) return SOH_ERR_TLV_TRUNCATED;
        type = soh_get16(data + pos) & SOH_TLV_TYPE_MASK;
        value_len = soh_get16(data + pos + 2);
        if (value_len > len - pos - 4) return SOH_ERR_TLV_TRUNCATED;
        if (value_len > SOH_MAX_ATTRIBUTE_SIZE) return SOH_ERR_ATTR_TOO_LONG;

        if (type == SOH_TLV_SYSTEM_HEALTH_ID)
        {
            if (value_len != 4) return SOH_ERR_BAD_ENTRY_ID_LENGTH;
            if (n == SOH_MAX_ENTRIES) return SOH_ERR_TOO_MANY_ENTRIES;
            if (n) entries[n - 1].len = (uint16_t)(pos - start);
            entries[n].shv_id = soh_get32(data + pos + 4);
            entries[n].tlvs = data + pos;
            start = pos;
            tlvs = 0;
            n++;
        }
        else if (!n) return SOH_ERR_ENTRY_NO_SYSTEM_HEALTH_ID;

        if (++tlvs > SOH_MAX_ATTRIBUTES) return SOH_ERR_TOO_MANY_TLVS;
        pos += 4 + (size_t)value_len;
    }
    if (n) entries[n - 1].len = (uint16_t)(pos - start);
    *count = n;
    return SOH_OK;
}

enum soh_status soh_entry_next_tlv(const struct soh_entry *entry, size_t *offset, uint16_t *type,
                                   const uint8_t **value, uint16_t *value_len)
{
    const uint8_t *p;
    size_t left;
    uint16_t len;

    if (*offset >= entry->len) return *offset == entry->len ? SOH_ERR_END : SOH_ERR_BAD_ARGUMENT;
    left = entry->len - *offset;
    p = entry->tlvs + *offset;
    if (left < 4) return SOH_ERR_TLV_TRUNCATED;
    len = soh_get16(p + 2);
    if (len > left - 4) return SOH_ERR_TLV_TRUNCATED;

    *type = soh_get16(p) & SOH_TLV_TYPE_MASK;
    *value = p + 4;
    *value_len = len;
    *offset += 4 + (size_t)len;
    return SOH_OK;
}

static int correlation_equal(const struct soh_correlation *a, const struct soh_correlation *b)
{
    uint8_t wa[SOH_CORRELATION_SIZE], wb[SOH_CORRELATION_SIZE];

    /* compare wire forms: the structs may contain padding */
    soh_correlation_to_wire(a, wa);
    soh_correlation_to_wire(b, wb);
    return !memcmp(wa, wb, sizeof(wa));
}

static int quarantine_equal(const struct soh_quarantine *a, const struct soh_quarantine *b)
{
    return a->state == b->state && a->ext_state == b->ext_state && a->fixup == b->fixup
        && a->prob_time == b->prob_time && a->url_len == b->url_len
        && a->url_len <= SOH_MAX_URL && !memcmp(a->url, b->url, a->url_len);
}

static int machine_equal(const struct soh_machine_info *a, const struct soh_machine_info *b)
{
    return a->os_major == b->os_major && a->os_minor == b->os_minor && a->os_build == b->os_build
        && a->sp_major == b->sp_major && a->sp_minor == b->sp_minor && a->arch == b->arch
        && a->product_type == b->product_type
        && !strncmp(a->name, b->name, sizeof(a->name));
}

static int entries_equal(const struct soh_entry *a, uint16_t na, const struct soh_entry *b, uint16_t nb)
{
    uint16_t i;

    if (na != nb || na > SOH_MAX_ENTRIES) return 0;
    for (i = 0; i < na; i++)
    {
        if (a[i].shv_id != b[i].shv_id || a[i].len != b[i].len) return 0;
        if (a[i].len && memcmp(a[i].tlvs, b[i].tlvs, a[i].len)) return 0;
    }
    return 1;
}

int soh_request_equal(const struct soh_request *a, const struct soh_request *b)
{
    return !a->with_mode_header == !b->with_mode_header
        && correlation_equal(&a->correlation, &b->correlation)
        && machine_equal(&a->machine, &b->machine)
        && quarantine_equal(&a->quarantine, &b->quarantine)
        && a->inventory_ex_reserved == b->inventory_ex_reserved
        && entries_equal(a->entries, a->entry_count, b->entries, b->entry_count);
}

int soh_response_equal(const struct soh_response *a, const struct soh_response *b)
{
    if (!a->with_mode_header != !b->with_mode_header) return 0;
    if (!a->has_correlation != !b->has_correlation) return 0;
    if (a->has_correlation && !correlation_equal(&a->correlation, &b->correlation)) return 0;
    if (!quarantine_equal(&a->quarantine, &b->quarantine)) return 0;
    if (!a->has_installed_shvs != !b->has_installed_shvs) return 0;
    if (a->has_installed_shvs && (a->shv_count != b->shv_count || a->shv_count > SOH_MAX_SHVS
                                  || memcmp(a->shvs, b->shvs, a->shv_count * sizeof(a->shvs[0]))))
        return 0;
    return entries_equal(a->entries, a->entry_count, b->entries, b->entry_count);
}
