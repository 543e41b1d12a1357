/*
 * SoH encoder: SoH request, SoH response and simple report entries
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "soh_private.h"

static enum soh_status check_quarantine(const struct soh_quarantine *q)
{
    if (q->state < 1 || q->state > 3) return SOH_ERR_BAD_QUARANTINE_STATE;
    if (q->ext_state > 3) return SOH_ERR_BAD_EXT_STATE;
    if (q->fixup > 1) return SOH_ERR_BAD_FIXUP_FLAG;
    if (q->url_len > SOH_MAX_URL) return SOH_ERR_URL_TOO_LONG;
    return SOH_OK;
}

/* Each entry must decode back as exactly the same single entry, so run it
 * through the decoder's splitter. */
static enum soh_status check_entry(const struct soh_entry *entry)
{
    struct soh_entry parts[SOH_MAX_ENTRIES];
    enum soh_status status;
    uint16_t count;

    if (!entry->tlvs) return entry->len ? SOH_ERR_BAD_ARGUMENT : SOH_ERR_ENTRY_NO_SYSTEM_HEALTH_ID;
    status = soh_split_entries(entry->tlvs, entry->len, parts, &count);
    if (status == SOH_ERR_TOO_MANY_ENTRIES) return SOH_ERR_ENTRY_SPLIT;
    if (status) return status;
    if (!count) return SOH_ERR_ENTRY_NO_SYSTEM_HEALTH_ID;
    if (count > 1) return SOH_ERR_ENTRY_SPLIT;
    if (parts[0].shv_id != entry->shv_id) return SOH_ERR_ENTRY_ID_MISMATCH;
    return SOH_OK;
}

static enum soh_status check_entries(const struct soh_entry *entries, uint16_t count)
{
    enum soh_status status;
    uint16_t i;

    if (count > SOH_MAX_ENTRIES) return SOH_ERR_TOO_MANY_ENTRIES;
    for (i = 0; i < count; i++)
        if ((status = check_entry(&entries[i]))) return status;
    return SOH_OK;
}

static void put_correlation(struct soh_writer *w, const struct soh_correlation *c)
{
    uint8_t wire[SOH_CORRELATION_SIZE];

    soh_correlation_to_wire(c, wire);
    soh_put_bytes(w, wire, sizeof(wire));
}

static void put_mode_header(struct soh_writer *w, const struct soh_correlation *c, uint8_t intent)
{
    soh_put16(w, SOH_TLV_VENDOR_SPECIFIC);
    soh_put16(w, SOH_MODE_HEADER_LENGTH);
    soh_put32(w, SOH_MS_VENDOR_ID);
    put_correlation(w, c);
    soh_put8(w, intent);
    soh_put8(w, 0); /* content type */
}

/* Outer TLV, vendor id and inner TLV; both lengths are patched by finish(). */
static void put_envelope(struct soh_writer *w, int with_mode_header, const struct soh_correlation *c,
                         uint8_t intent)
{
    soh_put16(w, SOH_TLV_VENDOR_SPECIFIC);
    soh_put16(w, 0);
    soh_put32(w, SOH_MS_VENDOR_ID);
    soh_put16(w, with_mode_header ? SOH_INNER_MODE : SOH_INNER_PLAIN);
    soh_put16(w, 0);
    if (with_mode_header) put_mode_header(w, c, intent);
}

/* System-Health-Id TLV and the head of the MS vendor TLV; returns where the
 * vendor TLV's length goes. */
static size_t put_ssoh_start(struct soh_writer *w)
{
    size_t length_at;

    soh_put16(w, SOH_TLV_SYSTEM_HEALTH_ID);
    soh_put16(w, 4);
    soh_put32(w, SOH_NAP_SYSTEM_ID);
    soh_put16(w, SOH_TLV_VENDOR_SPECIFIC);
    length_at = w->pos;
    soh_put16(w, 0);
    soh_put32(w, SOH_MS_VENDOR_ID);
    return length_at;
}

static void put_quarantine(struct soh_writer *w, const struct soh_quarantine *q)
{
    uint16_t flags = q->state | (q->fixup ? SOH_QSTATE_FIXUP : 0) | q->ext_state << SOH_QSTATE_EXT_SHIFT;

    soh_put8(w, SOH_MS_QUARANTINE_STATE);
    soh_put16(w, flags);
    soh_put64(w, q->prob_time);
    soh_put16(w, q->url_len);
    soh_put_bytes(w, q->url, q->url_len);
}

static void put_entries(struct soh_writer *w, const struct soh_entry *entries, uint16_t count)
{
    uint16_t i;

    for (i = 0; i < count; i++) soh_put_bytes(w, entries[i].tlvs, entries[i].len);
}

/* Patch the envelope lengths once the whole message is known. */
static enum soh_status finish(struct soh_writer *w, size_t *len)
{
    *len = w->pos;
    if (w->pos > SOH_MAX_NETWORK_SIZE) return SOH_ERR_TOO_LONG;
    if (w->pos > w->cap) return SOH_ERR_NO_SPACE;
    soh_patch16(w, 2, w->pos - 4);
    soh_patch16(w, 10, w->pos - SOH_ENVELOPE_SIZE);
    return SOH_OK;
}

static void put_request_ms_attrs(struct soh_writer *w, const struct soh_request *req)
{
    const struct soh_machine_info *m = &req->machine;
    size_t name_len = strlen(m->name) + 1; /* we send the NUL */

    soh_put8(w, SOH_MS_PACKET_INFO);
    soh_put8(w, SOH_PACKET_INFO_REQUEST);

    soh_put8(w, SOH_MS_MACHINE_INVENTORY);
    soh_put32(w, m->os_major);
    soh_put32(w, m->os_minor);
    soh_put32(w, m->os_build);
    soh_put16(w, m->sp_major);
    soh_put16(w, m->sp_minor);
    soh_put16(w, m->arch);

    soh_put8(w, SOH_MS_MACHINE_NAME);
    soh_put16(w, (uint16_t)name_len);
    soh_put_bytes(w, m->name, name_len);

    soh_put8(w, SOH_MS_CORRELATION_ID);
    put_correlation(w, &req->correlation);

    put_quarantine(w, &req->quarantine);

    soh_put8(w, SOH_MS_MACHINE_INVENTORY_EX);
    soh_put32(w, req->inventory_ex_reserved);
    soh_put8(w, m->product_type);
}

static enum soh_status check_request(const struct soh_request *req)
{
    enum soh_status status;

    if (!memchr(req->machine.name, 0, sizeof(req->machine.name))) return SOH_ERR_MACHINE_NAME_TOO_LONG;
    if ((status = check_quarantine(&req->quarantine))) return status;
    return check_entries(req->entries, req->entry_count);
}

enum soh_status soh_encode_request(const struct soh_request *req, uint8_t *out, size_t cap, size_t *len)
{
    struct soh_writer w = { out, cap, 0 };
    enum soh_status status;
    size_t ms_length_at;

    if (!req || !len || (!out && cap)) return SOH_ERR_BAD_ARGUMENT;
    if ((status = check_request(req))) return status;

    put_envelope(&w, req->with_mode_header, &req->correlation, SOH_INTENT_REQUEST);
    ms_length_at = put_ssoh_start(&w);
    put_request_ms_attrs(&w, req);
    soh_patch16(&w, ms_length_at, w.pos - ms_length_at - 2);
    put_entries(&w, req->entries, req->entry_count);
    return finish(&w, len);
}

static void put_response_ms_attrs(struct soh_writer *w, const struct soh_response *resp)
{
    uint16_t i;

    soh_put8(w, SOH_MS_PACKET_INFO);
    soh_put8(w, SOH_PACKET_INFO_RESPONSE);

    put_quarantine(w, &resp->quarantine);

    if (resp->has_correlation)
    {
        soh_put8(w, SOH_MS_CORRELATION_ID);
        put_correlation(w, &resp->correlation);
    }
    if (resp->has_installed_shvs)
    {
        soh_put8(w, SOH_MS_INSTALLED_SHVS);
        soh_put16(w, resp->shv_count * 4);
        for (i = 0; i < resp->shv_count; i++) soh_put32(w, resp->shvs[i]);
    }
}

static enum soh_status check_response(const struct soh_response *resp)
{
    enum soh_status status;

    if (resp->with_mode_header && !resp->has_correlation) return SOH_ERR_MISSING_CORRELATION;
    if (resp->has_installed_shvs && resp->shv_count > SOH_MAX_SHVS) return SOH_ERR_TOO_MANY_SHVS;
    if ((status = check_quarantine(&resp->quarantine))) return status;
    return check_entries(resp->entries, resp->entry_count);
}

enum soh_status soh_encode_response(const struct soh_response *resp, uint8_t *out, size_t cap, size_t *len)
{
    struct soh_writer w = { out, cap, 0 };
    enum soh_status status;
    size_t ms_length_at;

    if (!resp || !len || (!out && cap)) return SOH_ERR_BAD_ARGUMENT;
    if ((status = check_response(resp))) return status;

    put_envelope(&w, resp->with_mode_header, &resp->correlation, SOH_INTENT_RESPONSE);
    ms_length_at = put_ssoh_start(&w);
    put_response_ms_attrs(&w, resp);
    soh_patch16(&w, ms_length_at, w.pos - ms_length_at - 2);
    put_entries(&w, resp->entries, resp->entry_count);
    return finish(&w, len);
}

enum soh_status soh_encode_simple_entry(uint32_t shv_id, const uint32_t *codes, uint16_t ncodes,
                                        uint8_t failure_category, uint8_t *out, size_t cap, size_t *len)
{
    struct soh_writer w = { out, cap, 0 };
    uint16_t i;

    if (!len || (!out && cap) || (!codes && ncodes)) return SOH_ERR_BAD_ARGUMENT;
    if (ncodes > SOH_MAX_ATTRIBUTE_SIZE / 4) return SOH_ERR_ATTR_TOO_LONG;

    soh_put16(&w, SOH_TLV_SYSTEM_HEALTH_ID);
    soh_put16(&w, 4);
    soh_put32(&w, shv_id);
    soh_put16(&w, SOH_TLV_COMPLIANCE_RESULT_CODES);
    soh_put16(&w, ncodes * 4);
    for (i = 0; i < ncodes; i++) soh_put32(&w, codes[i]);
    if (failure_category)
    {
        soh_put16(&w, SOH_TLV_FAILURE_CATEGORY);
        soh_put16(&w, 1);
        soh_put8(&w, failure_category);
    }
    *len = w.pos;
    return w.pos > cap ? SOH_ERR_NO_SPACE : SOH_OK;
}
