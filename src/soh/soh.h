/*
 * MS-SOH wire format: SoH request / SoH response encoder and strict decoder
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef NAP_SOH_H
#define NAP_SOH_H

#include <stddef.h>
#include <stdint.h>

#define SOH_MAX_NETWORK_SIZE 4000
#define SOH_MIN_NETWORK_SIZE 12
#define SOH_MAX_ENTRIES 20
#define SOH_MAX_SHVS 20
#define SOH_MAX_MACHINE_NAME 255
#define SOH_MAX_ATTRIBUTES 100      /* TLVs in one report entry */
#define SOH_MAX_ATTRIBUTE_SIZE 4000 /* bytes of one TLV value */
#define SOH_MAX_URL 1024
#define SOH_NAP_SYSTEM_ID 0x00013700u
#define SOH_MS_VENDOR_ID 0x00000137u

/* TLV type numbers used by the codec (low 14 bits; bits 15/14 are M/R flags) */
#define SOH_TLV_FLAGS_MASK 0xc000u
#define SOH_TLV_TYPE_MASK 0x3fffu
#define SOH_TLV_SYSTEM_HEALTH_ID 2
#define SOH_TLV_COMPLIANCE_RESULT_CODES 4
#define SOH_TLV_VENDOR_SPECIFIC 7
#define SOH_TLV_FAILURE_CATEGORY 14

#define SOH_PACKET_INFO_REQUEST 0x11  /* r flag + version 1 */
#define SOH_PACKET_INFO_RESPONSE 0x01 /* version 1 */
#define SOH_INTENT_REQUEST 1
#define SOH_INTENT_RESPONSE 2
#define SOH_PROB_TIME_NONE UINT64_MAX

enum soh_status
{
    SOH_OK = 0,
    SOH_ERR_TOO_SHORT,
    SOH_ERR_TOO_LONG,
    SOH_ERR_NO_SPACE,
    SOH_ERR_END,
    SOH_ERR_BAD_ARGUMENT,
    SOH_ERR_BAD_OUTER_TYPE,
    SOH_ERR_BAD_OUTER_LENGTH,
    SOH_ERR_BAD_VENDOR,
    SOH_ERR_BAD_INNER_TYPE,
    SOH_ERR_BAD_INNER_LENGTH,
    SOH_ERR_BAD_MODE_HEADER,
    SOH_ERR_BAD_CONTENT_TYPE,
    SOH_ERR_MISSING_SYSTEM_HEALTH_ID,
    SOH_ERR_BAD_SYSTEM_ID,
    SOH_ERR_MISSING_MS_TLV,
    SOH_ERR_BAD_MS_LENGTH,
    SOH_ERR_BAD_MS_VENDOR,
    SOH_ERR_UNKNOWN_MS_ATTR,
    SOH_ERR_UNEXPECTED_MS_ATTR,
    SOH_ERR_DUPLICATE_MS_ATTR,
    SOH_ERR_MISSING_MS_ATTR,
    SOH_ERR_MS_ATTR_TRUNCATED,
    SOH_ERR_MACHINE_NAME_TOO_LONG,
    SOH_ERR_BAD_MACHINE_NAME,
    SOH_ERR_BAD_QUARANTINE_STATE,
    SOH_ERR_BAD_EXT_STATE,
    SOH_ERR_BAD_FIXUP_FLAG,
    SOH_ERR_URL_TOO_LONG,
    SOH_ERR_BAD_SHV_LIST_LENGTH,
    SOH_ERR_TOO_MANY_SHVS,
    SOH_ERR_MISSING_CORRELATION,
    SOH_ERR_CORRELATION_MISMATCH,
    SOH_ERR_TLV_TRUNCATED,
    SOH_ERR_ENTRY_NO_SYSTEM_HEALTH_ID,
    SOH_ERR_BAD_ENTRY_ID_LENGTH,
    SOH_ERR_TOO_MANY_ENTRIES,
    SOH_ERR_TOO_MANY_TLVS,
    SOH_ERR_ATTR_TOO_LONG,
    SOH_ERR_ENTRY_ID_MISMATCH,
    SOH_ERR_ENTRY_SPLIT,
    /* per-SHA attribute rules (soh_attr.h) */
    SOH_ERR_NO_ADDRESSES,
    SOH_ERR_BAD_ADDRESS_LENGTH,
    SOH_ERR_TOO_MANY_ADDRESSES,
    SOH_ERR_BAD_CODES_LENGTH,
    SOH_ERR_TOO_MANY_CODES,
    SOH_ERR_BAD_TIME_LENGTH,
    SOH_ERR_VENDOR_ATTR_TOO_SHORT,
    SOH_ERR_BAD_ATTR_VENDOR_ID,
    SOH_ERR_VENDOR_DATA_TOO_LONG,
    SOH_ERR_BAD_BYTE_ATTR_LENGTH,
    SOH_ERR_BAD_FAILURE_CATEGORY,
    SOH_ERR_DUPLICATE_FIXUP_SERVERS,
    SOH_ERR_MISSING_RESULT,
    SOH_STATUS_COUNT /* not a status */
};

const char *soh_status_string(enum soh_status status);

struct soh_guid
{
    uint32_t data1;
    uint16_t data2;
    uint16_t data3;
    uint8_t data4[8];
};

struct soh_correlation
{
    struct soh_guid conn_id;
    uint64_t timestamp; /* FILETIME as 64-bit */
};

struct soh_machine_info
{
    uint32_t os_major, os_minor, os_build;
    uint16_t sp_major, sp_minor, arch;   /* arch: 0 x86, 6 ia64, 9 x64 */
    uint8_t product_type;                /* 1 client, 2 DC, 3 server */
    char name[SOH_MAX_MACHINE_NAME + 1]; /* ASCII, NUL-terminated */
};

struct soh_quarantine
{
    uint8_t state;      /* 1..3, IsolationState */
    uint8_t ext_state;  /* 0..3 */
    uint8_t fixup;      /* 0/1 */
    uint64_t prob_time; /* FILETIME, UINT64_MAX = none */
    uint16_t url_len;   /* bytes */
    uint8_t url[SOH_MAX_URL]; /* raw bytes as on the wire (may include NUL) */
};

/* One report entry: tlvs is the whole entry, starting at its System-Health-Id
 * TLV; it points into caller/input memory. */
struct soh_entry
{
    uint32_t shv_id;
    const uint8_t *tlvs;
    uint16_t len;
};

struct soh_request
{
    int with_mode_header; /* 1 => inner type 2 + mode sub-header */
    struct soh_correlation correlation;
    struct soh_machine_info machine;
    struct soh_quarantine quarantine;
    uint32_t inventory_ex_reserved; /* we send 0 */
    uint16_t entry_count;
    struct soh_entry entries[SOH_MAX_ENTRIES];
    /* decode-only facts (the encoder always sends intent 1, packet info 0x11): */
    uint8_t intent, packet_info;
};

/* The encoder sends the MS CorrelationId attribute iff has_correlation and
 * the MS Installed-Shvs attribute iff has_installed_shvs; intent (2) and
 * packet_info (0x01) are decode-only facts like in soh_request. */
struct soh_response
{
    int with_mode_header;
    struct soh_correlation correlation; /* from the mode sub-header, or from MS CorrelationId attr */
    int has_correlation;                /* 1 if either carried one */
    uint8_t intent, packet_info;
    struct soh_quarantine quarantine;
    uint16_t shv_count;
    uint32_t shvs[SOH_MAX_SHVS];
    int has_installed_shvs;
    uint16_t entry_count;
    struct soh_entry entries[SOH_MAX_ENTRIES];
};

/* Encoders validate their input, then write into out[0..cap) and set *len;
 * SOH_ERR_NO_SPACE if cap is too small (nothing else wrong). out may be NULL
 * when cap is 0, which yields SOH_ERR_NO_SPACE and the needed size in *len. */
enum soh_status soh_encode_request(const struct soh_request *req, uint8_t *out, size_t cap, size_t *len);
enum soh_status soh_encode_response(const struct soh_response *resp, uint8_t *out, size_t cap, size_t *len);

/* Strict decoders; entries[].tlvs point into data. */
enum soh_status soh_decode_request(const uint8_t *data, size_t len, struct soh_request *req);
enum soh_status soh_decode_response(const uint8_t *data, size_t len, struct soh_response *resp);

/* Encode one report entry: System-Health-Id + ComplianceResultCodes (type 4,
 * n x 4 bytes) [+ FailureCategory type 14 len 1 if failure_category != 0]. */
enum soh_status soh_encode_simple_entry(uint32_t shv_id, const uint32_t *codes, uint16_t ncodes,
                                        uint8_t failure_category, uint8_t *out, size_t cap, size_t *len);

/* Split a run of TLVs into report entries, each starting at a System-Health-Id
 * TLV; the TLVs must fill data[0..len) exactly. entries must hold SOH_MAX_ENTRIES. */
enum soh_status soh_split_entries(const uint8_t *data, size_t len, struct soh_entry *entries, uint16_t *count);

/* Walk the TLVs of one entry: fills type (flags masked), value pointer and
 * length for the TLV at *offset and advances *offset; SOH_ERR_END when
 * *offset == entry->len. */
enum soh_status soh_entry_next_tlv(const struct soh_entry *entry, size_t *offset, uint16_t *type,
                                   const uint8_t **value, uint16_t *value_len);

/* "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}-<16 hex digits timestamp>";
 * returns chars written excluding NUL, 0 if cap < SOH_CORRELATION_TEXT_SIZE. */
#define SOH_CORRELATION_TEXT_SIZE 56
size_t soh_correlation_format(const struct soh_correlation *c, char *buf, size_t cap);

/* Compare what the encoders put on the wire (decode-only facts excluded). */
int soh_request_equal(const struct soh_request *a, const struct soh_request *b);
int soh_response_equal(const struct soh_response *a, const struct soh_response *b);

#endif /* NAP_SOH_H */
