/*
 * Internal helpers shared by the SoH encoder and decoder (big-endian I/O)
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef NAP_SOH_PRIVATE_H
#define NAP_SOH_PRIVATE_H

#include <string.h>

#include "soh.h"

/* Microsoft type-value attributes inside the MS vendor TLV of an SSoH/SSoHR */
enum soh_ms_type
{
    SOH_MS_MACHINE_INVENTORY = 1,
    SOH_MS_QUARANTINE_STATE = 2,
    SOH_MS_PACKET_INFO = 3,
    SOH_MS_SYSTEM_GENERATED_IDS = 4,
    SOH_MS_MACHINE_NAME = 5,
    SOH_MS_CORRELATION_ID = 6,
    SOH_MS_INSTALLED_SHVS = 7,
    SOH_MS_MACHINE_INVENTORY_EX = 8,
    SOH_MS_LAST = SOH_MS_MACHINE_INVENTORY_EX
};

#define SOH_MS_BIT(type) (1u << (type))

#define SOH_ENVELOPE_SIZE 12    /* outer TLV header + vendor + inner TLV header */
#define SOH_MODE_HEADER_SIZE 34 /* TLV header + vendor + correlation + intent + content type */
#define SOH_MODE_HEADER_LENGTH 30
#define SOH_CORRELATION_SIZE 24
#define SOH_INNER_PLAIN 1 /* no mode sub-header */
#define SOH_INNER_MODE 2  /* mode sub-header present */

/* MS-Quarantine-State flag layout (see docs: decisions) */
#define SOH_QSTATE_MASK 0x0003u
#define SOH_QSTATE_FIXUP 0x0004u
#define SOH_QSTATE_EXT_SHIFT 4
#define SOH_QSTATE_EXT_MASK 0x00f0u

static inline uint16_t soh_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t soh_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t soh_get64(const uint8_t *p)
{
    return (uint64_t)soh_get32(p) << 32 | soh_get32(p + 4);
}

static inline void soh_set16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void soh_set32(uint8_t *p, uint32_t v)
{
    soh_set16(p, (uint16_t)(v >> 16));
    soh_set16(p + 2, (uint16_t)v);
}

static inline void soh_set64(uint8_t *p, uint64_t v)
{
    soh_set32(p, (uint32_t)(v >> 32));
    soh_set32(p + 4, (uint32_t)v);
}

/* Output cursor. Writes past cap are dropped but still counted, so one pass
 * both fills the buffer and measures the message; pos > cap means no space. */
struct soh_writer
{
    uint8_t *buf;
    size_t cap;
    size_t pos;
};

static inline int soh_writer_fits(const struct soh_writer *w, size_t at, size_t n)
{
    return at <= w->cap && n <= w->cap - at;
}

static inline void soh_put_bytes(struct soh_writer *w, const void *src, size_t n)
{
    if (n && soh_writer_fits(w, w->pos, n)) memcpy(w->buf + w->pos, src, n);
    w->pos += n;
}

static inline void soh_put8(struct soh_writer *w, uint8_t v)
{
    soh_put_bytes(w, &v, 1);
}

static inline void soh_put16(struct soh_writer *w, uint16_t v)
{
    uint8_t b[2];
    soh_set16(b, v);
    soh_put_bytes(w, b, sizeof(b));
}

static inline void soh_put32(struct soh_writer *w, uint32_t v)
{
    uint8_t b[4];
    soh_set32(b, v);
    soh_put_bytes(w, b, sizeof(b));
}

static inline void soh_put64(struct soh_writer *w, uint64_t v)
{
    uint8_t b[8];
    soh_set64(b, v);
    soh_put_bytes(w, b, sizeof(b));
}

/* Fill in a 16-bit length reserved earlier at offset at. */
static inline void soh_patch16(struct soh_writer *w, size_t at, size_t v)
{
    if (soh_writer_fits(w, at, 2)) soh_set16(w->buf + at, (uint16_t)v);
}

/* Input cursor; soh_take() refuses to hand out bytes beyond len. */
struct soh_reader
{
    const uint8_t *data;
    size_t len;
    size_t pos;
};

static inline size_t soh_left(const struct soh_reader *r)
{
    return r->len - r->pos;
}

static inline const uint8_t *soh_take(struct soh_reader *r, size_t n)
{
    const uint8_t *p;

    if (n > soh_left(r)) return NULL;
    p = r->data + r->pos;
    r->pos += n;
    return p;
}

/* 24-byte wire form of a correlation id (GUID fields big-endian, then FILETIME). */
void soh_correlation_to_wire(const struct soh_correlation *c, uint8_t *out);
void soh_correlation_from_wire(const uint8_t *in, struct soh_correlation *c);

#endif /* NAP_SOH_PRIVATE_H */
