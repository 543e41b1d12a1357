/*
 * Strict SoH decoder: SoH request and SoH response
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "soh_private.h"

#define REQUEST_MS_ATTRS (SOH_MS_BIT(SOH_MS_PACKET_INFO) | SOH_MS_BIT(SOH_MS_MACHINE_INVENTORY) \
                          | SOH_MS_BIT(SOH_MS_MACHINE_NAME) | SOH_MS_BIT(SOH_MS_CORRELATION_ID) \
                          | SOH_MS_BIT(SOH_MS_QUARANTINE_STATE) | SOH_MS_BIT(SOH_MS_MACHINE_INVENTORY_EX))
#define RESPONSE_MS_REQUIRED (SOH_MS_BIT(SOH_MS_PACKET_INFO) | SOH_MS_BIT(SOH_MS_QUARANTINE_STATE))
#define RESPONSE_MS_ATTRS (RESPONSE_MS_REQUIRED | SOH_MS_BIT(SOH_MS_CORRELATION_ID) \
                           | SOH_MS_BIT(SOH_MS_INSTALLED_SHVS))

/* What the envelope and the optional mode sub-header carried; body is left
 * positioned at the SSoH. */
struct envelope
{
    int with_mode_header;
    uint8_t intent;
    const uint8_t *correlation; /* wire form, NULL without mode sub-header */
    struct soh_reader body;
};

/* Values of the MS type-value attributes; seen has one bit per MS type. */
struct ms_attrs
{
    unsigned int seen;
    uint8_t packet_info;
    const uint8_t *correlation; /* wire form */
    struct soh_machine_info machine;
    struct soh_quarantine quarantine;
    uint32_t inventory_ex_reserved;
    uint16_t shv_count;
    uint32_t shvs[SOH_MAX_SHVS];
};

static uint16_t tlv_type(const uint8_t *p)
{
    return soh_get16(p) & SOH_TLV_TYPE_MASK;
}

static enum soh_status decode_mode_header(struct envelope *env)
{
    const uint8_t *p = soh_take(&env->body, SOH_MODE_HEADER_SIZE);

    if (!p || tlv_type(p) != SOH_TLV_VENDOR_SPECIFIC || soh_get16(p + 2) != SOH_MODE_HEADER_LENGTH
            || soh_get32(p + 4) != SOH_MS_VENDOR_ID)
        return SOH_ERR_BAD_MODE_HEADER;
    env->correlation = p + 8;
    env->intent = p[32];
    if (p[33]) return SOH_ERR_BAD_CONTENT_TYPE;
    return SOH_OK;
}

static enum soh_status decode_envelope(const uint8_t *data, size_t len, struct envelope *env)
{
    uint16_t inner_type;

    if (len < SOH_MIN_NETWORK_SIZE) return SOH_ERR_TOO_SHORT;
    if (len > SOH_MAX_NETWORK_SIZE) return SOH_ERR_TOO_LONG;
    if (soh_get16(data) != SOH_TLV_VENDOR_SPECIFIC) return SOH_ERR_BAD_OUTER_TYPE;
    if (soh_get16(data + 2) != len - 4) return SOH_ERR_BAD_OUTER_LENGTH;
    if (soh_get32(data + 4) != SOH_MS_VENDOR_ID) return SOH_ERR_BAD_VENDOR;
    inner_type = soh_get16(data + 8);
    if (inner_type != SOH_INNER_PLAIN && inner_type != SOH_INNER_MODE) return SOH_ERR_BAD_INNER_TYPE;
    if (soh_get16(data + 10) != len - SOH_ENVELOPE_SIZE) return SOH_ERR_BAD_INNER_LENGTH;

    memset(env, 0, sizeof(*env));
    env->body.data = data;
    env->body.len = len;
    env->body.pos = SOH_ENVELOPE_SIZE;
    env->with_mode_header = inner_type == SOH_INNER_MODE;
    return env->with_mode_header ? decode_mode_header(env) : SOH_OK;
}

/* System-Health-Id TLV, then the MS vendor TLV whose attributes are handed
 * back in ms; body is left at the first report entry. */
static enum soh_status decode_ssoh_start(struct soh_reader *body, struct soh_reader *ms)
{
    const uint8_t *p;
    uint16_t ms_len;

    p = soh_take(body, 8);
    if (!p || tlv_type(p) != SOH_TLV_SYSTEM_HEALTH_ID || soh_get16(p + 2) != 4)
        return SOH_ERR_MISSING_SYSTEM_HEALTH_ID;
    if (soh_get32(p + 4) != SOH_NAP_SYSTEM_ID) return SOH_ERR_BAD_SYSTEM_ID;

    p = soh_take(body, 4);
    if (!p || tlv_type(p) != SOH_TLV_VENDOR_SPECIFIC) return SOH_ERR_MISSING_MS_TLV;
    ms_len = soh_get16(p + 2);
    if (ms_len < 4 || ms_len > soh_left(body)) return SOH_ERR_BAD_MS_LENGTH;
    p = soh_take(body, ms_len);
    if (soh_get32(p) != SOH_MS_VENDOR_ID) return SOH_ERR_BAD_MS_VENDOR;

    ms->data = p + 4;
    ms->len = ms_len - 4;
    ms->pos = 0;
    return SOH_OK;
}

static enum soh_status decode_machine_inventory(struct soh_reader *r, struct soh_machine_info *m)
{
    const uint8_t *p = soh_take(r, 18);

    if (!p) return SOH_ERR_MS_ATTR_TRUNCATED;
    m->os_major = soh_get32(p);
    m->os_minor = soh_get32(p + 4);
    m->os_build = soh_get32(p + 8);
    m->sp_major = soh_get16(p + 12);
    m->sp_minor = soh_get16(p + 14);
    m->arch = soh_get16(p + 16);
    return SOH_OK;
}

static enum soh_status decode_machine_inventory_ex(struct soh_reader *r, struct ms_attrs *a)
{
    const uint8_t *p = soh_take(r, 5);

    if (!p) return SOH_ERR_MS_ATTR_TRUNCATED;
    a->inventory_ex_reserved = soh_get32(p);
    a->machine.product_type = p[4];
    return SOH_OK;
}

/* Accepts the name with or without a terminating NUL, but not with one
 * inside: that could not survive the trip through a C string. */
static enum soh_status decode_machine_name(struct soh_reader *r, struct soh_machine_info *m)
{
    const uint8_t *p, *name;
    uint16_t len;

    if (!(p = soh_take(r, 2))) return SOH_ERR_MS_ATTR_TRUNCATED;
    len = soh_get16(p);
    if (!(name = soh_take(r, len))) return SOH_ERR_MS_ATTR_TRUNCATED;
    if (len && !name[len - 1]) len--;
    if (len > SOH_MAX_MACHINE_NAME) return SOH_ERR_MACHINE_NAME_TOO_LONG;
    if (len && memchr(name, 0, len)) return SOH_ERR_BAD_MACHINE_NAME;
    memcpy(m->name, name, len);
    m->name[len] = 0;
    return SOH_OK;
}

/* Reserved flag bits are ignored, as the decisions require. */
static enum soh_status decode_quarantine(struct soh_reader *r, struct soh_quarantine *q)
{
    const uint8_t *p, *url;
    uint16_t flags;

    if (!(p = soh_take(r, 12))) return SOH_ERR_MS_ATTR_TRUNCATED;
    flags = soh_get16(p);
    q->state = flags & SOH_QSTATE_MASK;
    q->fixup = !!(flags & SOH_QSTATE_FIXUP);
    q->ext_state = (flags & SOH_QSTATE_EXT_MASK) >> SOH_QSTATE_EXT_SHIFT;
    q->prob_time = soh_get64(p + 2);
    q->url_len = soh_get16(p + 10);
    if (!q->state) return SOH_ERR_BAD_QUARANTINE_STATE;
    if (q->ext_state > 3) return SOH_ERR_BAD_EXT_STATE;
    if (q->url_len > SOH_MAX_URL) return SOH_ERR_URL_TOO_LONG;
    if (!(url = soh_take(r, q->url_len))) return SOH_ERR_MS_ATTR_TRUNCATED;
    memcpy(q->url, url, q->url_len);
    return SOH_OK;
}

static enum soh_status decode_installed_shvs(struct soh_reader *r, struct ms_attrs *a)
{
    const uint8_t *p;
    uint16_t len, i;

    if (!(p = soh_take(r, 2))) return SOH_ERR_MS_ATTR_TRUNCATED;
    len = soh_get16(p);
    if (len % 4) return SOH_ERR_BAD_SHV_LIST_LENGTH;
    if (len / 4 > SOH_MAX_SHVS) return SOH_ERR_TOO_MANY_SHVS;
    if (!(p = soh_take(r, len))) return SOH_ERR_MS_ATTR_TRUNCATED;
    a->shv_count = len / 4;
    for (i = 0; i < a->shv_count; i++) a->shvs[i] = soh_get32(p + 4 * i);
    return SOH_OK;
}

static enum soh_status decode_ms_value(struct soh_reader *r, uint8_t type, struct ms_attrs *a)
{
    const uint8_t *p;

    switch (type)
    {
    case SOH_MS_MACHINE_INVENTORY: return decode_machine_inventory(r, &a->machine);
    case SOH_MS_QUARANTINE_STATE: return decode_quarantine(r, &a->quarantine);
    case SOH_MS_MACHINE_NAME: return decode_machine_name(r, &a->machine);
    case SOH_MS_INSTALLED_SHVS: return decode_installed_shvs(r, a);
    case SOH_MS_MACHINE_INVENTORY_EX: return decode_machine_inventory_ex(r, a);
    case SOH_MS_PACKET_INFO:
        if (!(p = soh_take(r, 1))) return SOH_ERR_MS_ATTR_TRUNCATED;
        a->packet_info = p[0];
        return SOH_OK;
    case SOH_MS_CORRELATION_ID:
        if (!(a->correlation = soh_take(r, SOH_CORRELATION_SIZE))) return SOH_ERR_MS_ATTR_TRUNCATED;
        return SOH_OK;
    }
    return SOH_ERR_UNEXPECTED_MS_ATTR; /* not reached: callers never allow other types */
}

/* Type-value attributes carry no length, so an unknown type ends parsing. */
static enum soh_status decode_ms_attrs(struct soh_reader *r, unsigned int allowed, unsigned int required,
                                       struct ms_attrs *a)
{
    enum soh_status status;

    memset(a, 0, sizeof(*a));
    while (soh_left(r))
    {
        uint8_t type = *soh_take(r, 1);

        if (type < 1 || type > SOH_MS_LAST) return SOH_ERR_UNKNOWN_MS_ATTR;
        if (!(allowed & SOH_MS_BIT(type))) return SOH_ERR_UNEXPECTED_MS_ATTR;
        if (a->seen & SOH_MS_BIT(type)) return SOH_ERR_DUPLICATE_MS_ATTR;
        a->seen |= SOH_MS_BIT(type);
        if ((status = decode_ms_value(r, type, a))) return status;
    }
    if ((a->seen & required) != required) return SOH_ERR_MISSING_MS_ATTR;
    return SOH_OK;
}

/* Envelope, SSoH head and MS attributes, common to both message kinds. */
static enum soh_status decode_message(const uint8_t *data, size_t len, unsigned int allowed,
                                      unsigned int required, struct envelope *env, struct ms_attrs *a)
{
    struct soh_reader ms;
    enum soh_status status;

    if (!data) return len ? SOH_ERR_BAD_ARGUMENT : SOH_ERR_TOO_SHORT;
    if ((status = decode_envelope(data, len, env))) return status;
    if ((status = decode_ssoh_start(&env->body, &ms))) return status;
    if ((status = decode_ms_attrs(&ms, allowed, required, a))) return status;
    if (env->correlation && a->correlation && memcmp(env->correlation, a->correlation, SOH_CORRELATION_SIZE))
        return SOH_ERR_CORRELATION_MISMATCH;
    return SOH_OK;
}

static enum soh_status decode_entries(struct soh_reader *body, struct soh_entry *entries, uint16_t *count)
{
    return soh_split_entries(body->data + body->pos, soh_left(body), entries, count);
}

enum soh_status soh_decode_request(const uint8_t *data, size_t len, struct soh_request *req)
{
    struct envelope env;
    struct ms_attrs a;
    enum soh_status status;

    if (!req) return SOH_ERR_BAD_ARGUMENT;
    memset(req, 0, sizeof(*req));
    if ((status = decode_message(data, len, REQUEST_MS_ATTRS, REQUEST_MS_ATTRS, &env, &a))) return status;
    if ((status = decode_entries(&env.body, req->entries, &req->entry_count))) return status;

    req->with_mode_header = env.with_mode_header;
    req->intent = env.intent;
    req->packet_info = a.packet_info;
    soh_correlation_from_wire(a.correlation, &req->correlation);
    req->machine = a.machine;
    req->quarantine = a.quarantine;
    req->inventory_ex_reserved = a.inventory_ex_reserved;
    return SOH_OK;
}

enum soh_status soh_decode_response(const uint8_t *data, size_t len, struct soh_response *resp)
{
    struct envelope env;
    struct ms_attrs a;
    enum soh_status status;
    const uint8_t *correlation;

    if (!resp) return SOH_ERR_BAD_ARGUMENT;
    memset(resp, 0, sizeof(*resp));
    if ((status = decode_message(data, len, RESPONSE_MS_ATTRS, RESPONSE_MS_REQUIRED, &env, &a))) return status;
    if ((status = decode_entries(&env.body, resp->entries, &resp->entry_count))) return status;

    resp->with_mode_header = env.with_mode_header;
    resp->intent = env.intent;
    resp->packet_info = a.packet_info;
    correlation = env.correlation ? env.correlation : a.correlation;
    if ((resp->has_correlation = correlation != NULL)) soh_correlation_from_wire(correlation, &resp->correlation);
    resp->quarantine = a.quarantine;
    resp->has_installed_shvs = !!(a.seen & SOH_MS_BIT(SOH_MS_INSTALLED_SHVS));
    resp->shv_count = a.shv_count;
    memcpy(resp->shvs, a.shvs, sizeof(resp->shvs));
    return SOH_OK;
}
