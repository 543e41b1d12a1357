/*
 * Tests for the connection object (INapEnforcementClientConnection2)
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include "napagent_rpc.h"
#include "malloc_spy.h"
#include <string.h>
#include <wchar.h>
#include <objbase.h>
#include "qagent_private.h"

/* connection.c is compiled into this program; it needs the DLL's globals. */
LONG com_server_objects;

#define assert_hr(expr, expected) assert_int_equal((ULONG)(expr), (ULONG)(expected))

typedef INapEnforcementClientConnection2 conn2;

/* ---- the task allocator, watched and made to fail (malloc_spy.c) ---- */

static void spy_register(void)
{
    assert_hr(malloc_spy_begin(0), S_OK);
}

/* Revoking succeeds only when every block allocated under the spy was freed. */
static void spy_revoke(void)
{
    struct malloc_spy_counts counts = malloc_spy_counts();

    assert_int_equal(counts.allocs, counts.frees);
    assert_hr(malloc_spy_end(), S_OK);
}

/* ---- helpers ---- */

static void free_soh(NetworkSoH *soh)
{
    CoTaskMemFree(soh->data);
    CoTaskMemFree(soh);
}

static void free_private(PrivateData *data)
{
    CoTaskMemFree(data->data);
    CoTaskMemFree(data);
}

static void free_isolation(IsolationInfo *info)
{
    CoTaskMemFree(info->failureUrl.string);
    CoTaskMemFree(info);
}

static void free_isolation_ex(IsolationInfoEx *info)
{
    CoTaskMemFree(info->failureUrl.string);
    CoTaskMemFree(info);
}

static void free_counted(CountedString *str)
{
    CoTaskMemFree(str->string);
    CoTaskMemFree(str);
}

static int setup_conn(void **state)
{
    INapEnforcementClientConnection *conn;
    conn2 *c;

    if (FAILED(connection_create(0x00013701, NULL, &conn))) return -1;
    if (FAILED(INapEnforcementClientConnection_QueryInterface(conn, &IID_INapEnforcementClientConnection2,
                                                              (void **)&c))) return -1;
    INapEnforcementClientConnection_Release(conn);
    *state = c;
    return 0;
}

static int teardown_conn(void **state)
{
    conn2 *c = *state;
    return INapEnforcementClientConnection2_Release(c) ? -1 : 0;
}

static void check_soh(conn2 *c, BOOL response, UINT16 size, BYTE fill)
{
    NetworkSoH *soh = (void *)0xdeadbeef;
    UINT16 i;

    if (response) assert_hr(INapEnforcementClientConnection2_GetSoHResponse(c, &soh), S_OK);
    else assert_hr(INapEnforcementClientConnection2_GetSoHRequest(c, &soh), S_OK);
    assert_non_null(soh);
    assert_int_equal(soh->size, size);
    if (!size) assert_null(soh->data);
    for (i = 0; i < size; i++) assert_int_equal(soh->data[i], (BYTE)(fill + i));
    free_soh(soh);
}

static void fill_bytes(BYTE *data, UINT16 size, BYTE fill)
{
    UINT16 i;
    for (i = 0; i < size; i++) data[i] = (BYTE)(fill + i);
}

/* ---- creation, identity, reference counts ---- */

static void test_create(void **state)
{
    INapEnforcementClientConnection *conn = (void *)0xdeadbeef;
    LONG objects = com_server_objects;

    (void)state;
    assert_hr(connection_create(1, NULL, NULL), E_POINTER);
    assert_int_equal(com_server_objects, objects);

    assert_hr(connection_create(1, NULL, &conn), S_OK);
    assert_non_null(conn);
    assert_int_equal(com_server_objects, objects + 1);
    assert_int_equal(INapEnforcementClientConnection_Release(conn), 0);
    assert_int_equal(com_server_objects, objects);
}

static void test_defaults(void **state)
{
    conn2 *c = *state;
    ProtocolMaxSize size = 0;
    UINT8 flags = 0xcc;
    ConnectionId *id = NULL;
    CorrelationId corr, zero;
    IsolationInfo *info = NULL;
    IsolationInfoEx *info_ex = NULL;
    PrivateData *data = NULL;
    SystemHealthEntityCount count = 7;
    SystemHealthEntityId *ids = (void *)0xdeadbeef;

    assert_hr(INapEnforcementClientConnection2_GetMaxSize(c, &size), S_OK);
    assert_int_equal(size, defaultProtocolMaxSize);
    assert_hr(INapEnforcementClientConnection2_GetFlags(c, &flags), S_OK);
    assert_int_equal(flags, 0);

    assert_hr(INapEnforcementClientConnection2_GetConnectionId(c, &id), S_OK);
    assert_true(IsEqualGUID(id, &GUID_NULL));
    CoTaskMemFree(id);

    memset(&corr, 0xcc, sizeof(corr));
    memset(&zero, 0, sizeof(zero));
    assert_hr(INapEnforcementClientConnection2_GetCorrelationId(c, &corr), S_OK);
    assert_memory_equal(&corr, &zero, sizeof(corr));

    check_soh(c, FALSE, 0, 0);
    check_soh(c, TRUE, 0, 0);

    /* Before any SoH response: not restricted, no time, empty allocated URL. */
    assert_hr(INapEnforcementClientConnection2_GetIsolationInfo(c, &info), S_OK);
    assert_int_equal(info->isolationState, isolationStateNotRestricted);
    assert_int_equal(info->probEndTime.dwLowDateTime, 0);
    assert_int_equal(info->probEndTime.dwHighDateTime, 0);
    assert_int_equal(info->failureUrl.length, 0);
    assert_non_null(info->failureUrl.string);
    assert_int_equal(info->failureUrl.string[0], 0);
    free_isolation(info);

    assert_hr(INapEnforcementClientConnection2_GetIsolationInfoEx(c, &info_ex), S_OK);
    assert_int_equal(info_ex->isolationState, isolationStateNotRestricted);
    assert_int_equal(info_ex->extendedIsolationState, extendedIsolationStateNoData);
    assert_int_equal(info_ex->failureUrl.length, 0);
    assert_non_null(info_ex->failureUrl.string);
    free_isolation_ex(info_ex);

    assert_hr(INapEnforcementClientConnection2_GetPrivateData(c, &data), S_OK);
    assert_int_equal(data->size, 0);
    assert_null(data->data);
    free_private(data);
    assert_hr(INapEnforcementClientConnection2_GetEnforcerPrivateData(c, &data), S_OK);
    assert_int_equal(data->size, 0);
    assert_null(data->data);
    free_private(data);

    assert_hr(INapEnforcementClientConnection2_GetInstalledShvs(c, &count, &ids), S_OK);
    assert_int_equal(count, 0);
    assert_null(ids);
}

static void test_query_interface(void **state)
{
    conn2 *c = *state;
    IUnknown *unk = NULL, *unk2 = NULL;
    INapEnforcementClientConnection *v1 = NULL;
    conn2 *v2 = NULL;
    void *out = (void *)0xdeadbeef;

    assert_hr(INapEnforcementClientConnection2_QueryInterface(c, &IID_IUnknown, (void **)&unk), S_OK);
    assert_hr(INapEnforcementClientConnection2_QueryInterface(c, &IID_INapEnforcementClientConnection,
                                                              (void **)&v1), S_OK);
    assert_hr(INapEnforcementClientConnection2_QueryInterface(c, &IID_INapEnforcementClientConnection2,
                                                              (void **)&v2), S_OK);
    assert_ptr_equal(v2, c);
    assert_ptr_equal((void *)v1, (void *)c);
    assert_ptr_equal((void *)unk, (void *)c);

    /* Identity: IUnknown asked through the v1 pointer is the same object. */
    assert_hr(INapEnforcementClientConnection_QueryInterface(v1, &IID_IUnknown, (void **)&unk2), S_OK);
    assert_ptr_equal(unk2, unk);

    assert_int_equal(IUnknown_Release(unk2), 4);
    assert_int_equal(IUnknown_Release(unk), 3);
    assert_int_equal(INapEnforcementClientConnection_Release(v1), 2);
    assert_int_equal(INapEnforcementClientConnection2_Release(v2), 1);

    assert_hr(INapEnforcementClientConnection2_QueryInterface(c, &IID_IDispatch, &out), E_NOINTERFACE);
    assert_null(out);
    out = (void *)0xdeadbeef;
    assert_hr(INapEnforcementClientConnection2_QueryInterface(c, &IID_INapEnforcementClientBinding, &out),
              E_NOINTERFACE);
    assert_null(out);
    assert_hr(INapEnforcementClientConnection2_QueryInterface(c, &IID_IUnknown, NULL), E_POINTER);

    /* Failed QIs took no reference. */
    assert_int_equal(INapEnforcementClientConnection2_AddRef(c), 2);
    assert_int_equal(INapEnforcementClientConnection2_Release(c), 1);
}

static void test_refcount(void **state)
{
    INapEnforcementClientConnection *conn;
    LONG objects = com_server_objects;

    (void)state;
    assert_hr(connection_create(5, NULL, &conn), S_OK);
    assert_int_equal(INapEnforcementClientConnection_AddRef(conn), 2);
    assert_int_equal(INapEnforcementClientConnection_AddRef(conn), 3);
    assert_int_equal(INapEnforcementClientConnection_Release(conn), 2);
    assert_int_equal(INapEnforcementClientConnection_Release(conn), 1);
    assert_int_equal(com_server_objects, objects + 1);
    assert_int_equal(INapEnforcementClientConnection_Release(conn), 0);
    assert_int_equal(com_server_objects, objects);
}

/* ---- scalar properties ---- */

static void test_initialize(void **state)
{
    conn2 *c = *state;

    assert_hr(INapEnforcementClientConnection2_Initialize(c, 0x00013702), S_OK);
    assert_hr(INapEnforcementClientConnection2_Initialize(c, 0), S_OK);
    assert_hr(INapEnforcementClientConnection2_Initialize(c, 0xffffffff), S_OK);
}

static void test_max_size(void **state)
{
    conn2 *c = *state;
    ProtocolMaxSize size = 0;

    assert_hr(INapEnforcementClientConnection2_GetMaxSize(c, NULL), E_POINTER);

    assert_hr(INapEnforcementClientConnection2_SetMaxSize(c, 300), S_OK);
    assert_hr(INapEnforcementClientConnection2_GetMaxSize(c, &size), S_OK);
    assert_int_equal(size, 300);

    assert_hr(INapEnforcementClientConnection2_SetMaxSize(c, 299), E_INVALIDARG);
    assert_hr(INapEnforcementClientConnection2_SetMaxSize(c, 0), E_INVALIDARG);
    assert_hr(INapEnforcementClientConnection2_GetMaxSize(c, &size), S_OK);
    assert_int_equal(size, 300);

    assert_hr(INapEnforcementClientConnection2_SetMaxSize(c, 65535), S_OK);
    assert_hr(INapEnforcementClientConnection2_GetMaxSize(c, &size), S_OK);
    assert_int_equal(size, 65535);

    assert_hr(INapEnforcementClientConnection2_SetMaxSize(c, 65536), E_INVALIDARG);
    assert_hr(INapEnforcementClientConnection2_SetMaxSize(c, 0xffffffff), E_INVALIDARG);
    assert_hr(INapEnforcementClientConnection2_GetMaxSize(c, &size), S_OK);
    assert_int_equal(size, 65535);
}

static void test_flags(void **state)
{
    conn2 *c = *state;
    UINT8 flags = 0;

    assert_hr(INapEnforcementClientConnection2_GetFlags(c, NULL), E_POINTER);
    assert_hr(INapEnforcementClientConnection2_SetFlags(c, freshSoHRequest), S_OK);
    assert_hr(INapEnforcementClientConnection2_GetFlags(c, &flags), S_OK);
    assert_int_equal(flags, freshSoHRequest);
    assert_hr(INapEnforcementClientConnection2_SetFlags(c, 0xff), S_OK);
    assert_hr(INapEnforcementClientConnection2_GetFlags(c, &flags), S_OK);
    assert_int_equal(flags, 0xff);
    assert_hr(INapEnforcementClientConnection2_SetFlags(c, 0), S_OK);
    assert_hr(INapEnforcementClientConnection2_GetFlags(c, &flags), S_OK);
    assert_int_equal(flags, 0);
}

static const GUID test_guid = {0x01234567, 0x89ab, 0xcdef, {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}};

static void test_connection_id(void **state)
{
    conn2 *c = *state;
    ConnectionId *id = (void *)0xdeadbeef, *id2 = NULL;

    assert_hr(INapEnforcementClientConnection2_SetConnectionId(c, NULL), E_POINTER);
    assert_hr(INapEnforcementClientConnection2_GetConnectionId(c, NULL), E_POINTER);

    assert_hr(INapEnforcementClientConnection2_SetConnectionId(c, &test_guid), S_OK);
    assert_hr(INapEnforcementClientConnection2_GetConnectionId(c, &id), S_OK);
    assert_true(IsEqualGUID(id, &test_guid));

    /* The copy is the caller's own block. */
    memset(id, 0, sizeof(*id));
    assert_hr(INapEnforcementClientConnection2_GetConnectionId(c, &id2), S_OK);
    assert_ptr_not_equal(id, id2);
    assert_true(IsEqualGUID(id2, &test_guid));
    CoTaskMemFree(id);
    CoTaskMemFree(id2);
}

static CorrelationId test_correlation(void)
{
    CorrelationId id;

    id.connId = test_guid;
    id.timeStamp.dwHighDateTime = 0x01d2c3b4;
    id.timeStamp.dwLowDateTime = 0xa5968778;
    return id;
}

static void test_correlation_id(void **state)
{
    conn2 *c = *state;
    CorrelationId id = test_correlation(), got;

    assert_hr(INapEnforcementClientConnection2_GetCorrelationId(c, NULL), E_POINTER);
    assert_hr(INapEnforcementClientConnection2_SetCorrelationId(c, id), S_OK);
    memset(&got, 0, sizeof(got));
    assert_hr(INapEnforcementClientConnection2_GetCorrelationId(c, &got), S_OK);
    assert_memory_equal(&got, &id, sizeof(id));
    assert_int_equal(sizeof(CorrelationId), 24);
}

static void test_string_correlation_id(void **state)
{
    static const WCHAR expect[] = L"{01234567-89AB-CDEF-0123-456789ABCDEF}-01D2C3B4A5968778";
    static const WCHAR expect_zero[] = L"{00000000-0000-0000-0000-000000000000}-0000000000000000";
    conn2 *c = *state;
    StringCorrelationId *str = (void *)0xdeadbeef, *str2 = NULL;

    assert_hr(INapEnforcementClientConnection2_GetStringCorrelationId(c, NULL), E_POINTER);

    assert_hr(INapEnforcementClientConnection2_GetStringCorrelationId(c, &str), S_OK);
    assert_int_equal(str->length, wcslen(expect_zero));
    assert_memory_equal(str->string, expect_zero, sizeof(expect_zero));
    free_counted(str);

    assert_hr(INapEnforcementClientConnection2_SetCorrelationId(c, test_correlation()), S_OK);
    assert_hr(INapEnforcementClientConnection2_GetStringCorrelationId(c, &str), S_OK);
    assert_int_equal(str->length, 55);
    assert_int_equal(str->length, wcslen(expect));
    assert_memory_equal(str->string, expect, sizeof(expect));

    /* Two independent blocks: the struct, then the string. */
    assert_ptr_not_equal((void *)str, (void *)str->string);
    str->string[1] = 'X';
    assert_hr(INapEnforcementClientConnection2_GetStringCorrelationId(c, &str2), S_OK);
    assert_memory_equal(str2->string, expect, sizeof(expect));
    free_counted(str);
    free_counted(str2);
}

/* ---- SoH request and response ---- */

static void test_soh_request(void **state)
{
    static BYTE data[maxNetworkSoHSize + 1];
    conn2 *c = *state;
    NetworkSoHRequest req, *got = (void *)0xdeadbeef, *got2 = NULL;

    assert_hr(INapEnforcementClientConnection2_SetSoHRequest(c, NULL), E_POINTER);
    assert_hr(INapEnforcementClientConnection2_GetSoHRequest(c, NULL), E_POINTER);

    /* A zero-length request is invalid, whatever the data pointer. */
    req.size = 0;
    req.data = data;
    assert_hr(INapEnforcementClientConnection2_SetSoHRequest(c, &req), E_INVALIDARG);
    req.data = NULL;
    assert_hr(INapEnforcementClientConnection2_SetSoHRequest(c, &req), E_INVALIDARG);
    req.size = 12;
    assert_hr(INapEnforcementClientConnection2_SetSoHRequest(c, &req), E_INVALIDARG);
    check_soh(c, FALSE, 0, 0);

    fill_bytes(data, sizeof(data), 0x10);
    req.data = data;
    req.size = 1;
    assert_hr(INapEnforcementClientConnection2_SetSoHRequest(c, &req), S_OK);
    check_soh(c, FALSE, 1, 0x10);

    req.size = maxNetworkSoHSize;
    assert_hr(INapEnforcementClientConnection2_SetSoHRequest(c, &req), S_OK);
    check_soh(c, FALSE, maxNetworkSoHSize, 0x10);

    req.size = maxNetworkSoHSize + 1;
    assert_hr(INapEnforcementClientConnection2_SetSoHRequest(c, &req), E_INVALIDARG);
    check_soh(c, FALSE, maxNetworkSoHSize, 0x10);

    /* The object copied the bytes: changing the caller's buffer changes nothing. */
    req.size = 12;
    fill_bytes(data, 12, 0x40);
    assert_hr(INapEnforcementClientConnection2_SetSoHRequest(c, &req), S_OK);
    memset(data, 0, 12);
    check_soh(c, FALSE, 12, 0x40);

    /* The result is the caller's: two blocks, independent of the object. */
    assert_hr(INapEnforcementClientConnection2_GetSoHRequest(c, &got), S_OK);
    assert_ptr_not_equal((void *)got, (void *)got->data);
    memset(got->data, 0, got->size);
    got->size = 1;
    assert_hr(INapEnforcementClientConnection2_GetSoHRequest(c, &got2), S_OK);
    assert_ptr_not_equal(got->data, got2->data);
    free_soh(got);
    free_soh(got2);
    check_soh(c, FALSE, 12, 0x40);

    /* The response is a different property. */
    check_soh(c, TRUE, 0, 0);
}

static void test_soh_response(void **state)
{
    static BYTE data[maxNetworkSoHSize + 1];
    conn2 *c = *state;
    NetworkSoHResponse resp, *got = NULL;

    assert_hr(INapEnforcementClientConnection2_SetSoHResponse(c, NULL), E_POINTER);
    assert_hr(INapEnforcementClientConnection2_GetSoHResponse(c, NULL), E_POINTER);

    fill_bytes(data, sizeof(data), 0x20);
    resp.data = data;
    resp.size = maxNetworkSoHSize;
    assert_hr(INapEnforcementClientConnection2_SetSoHResponse(c, &resp), S_OK);
    check_soh(c, TRUE, maxNetworkSoHSize, 0x20);

    resp.size = maxNetworkSoHSize + 1;
    assert_hr(INapEnforcementClientConnection2_SetSoHResponse(c, &resp), E_INVALIDARG);
    resp.size = 0xffff;
    assert_hr(INapEnforcementClientConnection2_SetSoHResponse(c, &resp), E_INVALIDARG);
    resp.size = 5;
    resp.data = NULL;
    assert_hr(INapEnforcementClientConnection2_SetSoHResponse(c, &resp), E_INVALIDARG);
    check_soh(c, TRUE, maxNetworkSoHSize, 0x20);

    /* A zero-length response is valid and stores an empty response. */
    resp.size = 0;
    resp.data = data;
    assert_hr(INapEnforcementClientConnection2_SetSoHResponse(c, &resp), S_OK);
    check_soh(c, TRUE, 0, 0);
    resp.data = NULL;
    assert_hr(INapEnforcementClientConnection2_SetSoHResponse(c, &resp), S_OK);
    check_soh(c, TRUE, 0, 0);

    resp.size = 3;
    resp.data = data;
    assert_hr(INapEnforcementClientConnection2_SetSoHResponse(c, &resp), S_OK);
    memset(data, 0, 3);
    check_soh(c, TRUE, 3, 0x20);

    assert_hr(INapEnforcementClientConnection2_GetSoHResponse(c, &got), S_OK);
    memset(got->data, 0xee, got->size);
    free_soh(got);
    check_soh(c, TRUE, 3, 0x20);
    check_soh(c, FALSE, 0, 0);
}

/* ---- isolation info ---- */

static WCHAR long_url[maxStringLength + 2];

static void make_url(UINT16 length)
{
    UINT16 i;

    for (i = 0; i < length; i++) long_url[i] = L'a' + i % 26;
    long_url[length] = 0;
}

static void check_isolation(conn2 *c, IsolationState state, ExtendedIsolationState ext, DWORD time,
                            const WCHAR *url, UINT16 length)
{
    IsolationInfo *info = (void *)0xdeadbeef;
    IsolationInfoEx *info_ex = (void *)0xdeadbeef;

    assert_hr(INapEnforcementClientConnection2_GetIsolationInfo(c, &info), S_OK);
    assert_int_equal(info->isolationState, state);
    assert_int_equal(info->probEndTime.dwLowDateTime, time);
    assert_int_equal(info->probEndTime.dwHighDateTime, time + 1);
    assert_int_equal(info->failureUrl.length, length);
    assert_memory_equal(info->failureUrl.string, url, length * sizeof(WCHAR));
    assert_int_equal(info->failureUrl.string[length], 0);

    /* v1 and v2 report the same state, time and URL. */
    assert_hr(INapEnforcementClientConnection2_GetIsolationInfoEx(c, &info_ex), S_OK);
    assert_int_equal(info_ex->isolationState, state);
    assert_int_equal(info_ex->extendedIsolationState, ext);
    assert_memory_equal(&info_ex->probEndTime, &info->probEndTime, sizeof(FILETIME));
    assert_int_equal(info_ex->failureUrl.length, length);
    assert_memory_equal(info_ex->failureUrl.string, url, (length + 1) * sizeof(WCHAR));
    assert_ptr_not_equal(info->failureUrl.string, info_ex->failureUrl.string);

    free_isolation(info);
    free_isolation_ex(info_ex);
}

static void test_isolation_info(void **state)
{
    conn2 *c = *state;
    WCHAR url[] = L"http://remediation.example/fix";
    IsolationInfo info, *got = NULL, *got2 = NULL;

    assert_hr(INapEnforcementClientConnection2_SetIsolationInfo(c, NULL), E_POINTER);
    assert_hr(INapEnforcementClientConnection2_GetIsolationInfo(c, NULL), E_POINTER);

    info.isolationState = isolationStateInProbation;
    info.probEndTime.dwLowDateTime = 100;
    info.probEndTime.dwHighDateTime = 101;
    info.failureUrl.length = wcslen(url);
    info.failureUrl.string = url;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfo(c, &info), S_OK);
    /* A deep copy: the caller's string may change afterwards. */
    url[0] = 'X';
    check_isolation(c, isolationStateInProbation, extendedIsolationStateNoData, 100,
                    L"http://remediation.example/fix", info.failureUrl.length);
    url[0] = 'h';

    /* The state must be one of the three IsolationState values. */
    info.isolationState = 0;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfo(c, &info), E_INVALIDARG);
    info.isolationState = 4;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfo(c, &info), E_INVALIDARG);
    info.isolationState = (IsolationState)-1;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfo(c, &info), E_INVALIDARG);
    info.isolationState = isolationStateNotRestricted;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfo(c, &info), S_OK);
    info.isolationState = isolationStateRestrictedAccess;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfo(c, &info), S_OK);
    check_isolation(c, isolationStateRestrictedAccess, extendedIsolationStateNoData, 100, url,
                    info.failureUrl.length);

    /* URL length edges: 1024 is the maximum. */
    make_url(maxStringLength);
    info.failureUrl.string = long_url;
    info.failureUrl.length = maxStringLength;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfo(c, &info), S_OK);
    check_isolation(c, isolationStateRestrictedAccess, extendedIsolationStateNoData, 100, long_url,
                    maxStringLength);
    make_url(maxStringLength + 1);
    info.failureUrl.length = maxStringLength + 1;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfo(c, &info), E_INVALIDARG);
    make_url(maxStringLength);
    check_isolation(c, isolationStateRestrictedAccess, extendedIsolationStateNoData, 100, long_url,
                    maxStringLength);

    /* A NULL string is only acceptable for an empty URL. */
    info.failureUrl.string = NULL;
    info.failureUrl.length = 3;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfo(c, &info), E_INVALIDARG);
    info.failureUrl.length = 0;
    info.probEndTime.dwLowDateTime = 7;
    info.probEndTime.dwHighDateTime = 8;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfo(c, &info), S_OK);
    check_isolation(c, isolationStateRestrictedAccess, extendedIsolationStateNoData, 7, L"", 0);

    /* Each Get is an independent pair of blocks. */
    info.failureUrl.string = url;
    info.failureUrl.length = wcslen(url);
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfo(c, &info), S_OK);
    assert_hr(INapEnforcementClientConnection2_GetIsolationInfo(c, &got), S_OK);
    got->failureUrl.string[0] = 'Y';
    got->isolationState = isolationStateNotRestricted;
    assert_hr(INapEnforcementClientConnection2_GetIsolationInfo(c, &got2), S_OK);
    assert_int_equal(got2->isolationState, isolationStateRestrictedAccess);
    assert_int_equal(got2->failureUrl.string[0], 'h');
    free_isolation(got);
    free_isolation(got2);
}

static void test_isolation_info_ex(void **state)
{
    conn2 *c = *state;
    WCHAR url[] = L"http://fix.example/";
    IsolationInfoEx info, *got = NULL;
    IsolationInfo v1;
    int ext;

    assert_hr(INapEnforcementClientConnection2_SetIsolationInfoEx(c, NULL), E_POINTER);
    assert_hr(INapEnforcementClientConnection2_GetIsolationInfoEx(c, NULL), E_POINTER);

    info.isolationState = isolationStateInProbation;
    info.probEndTime.dwLowDateTime = 50;
    info.probEndTime.dwHighDateTime = 51;
    info.failureUrl.string = url;
    info.failureUrl.length = wcslen(url);
    for (ext = extendedIsolationStateNoData; ext <= extendedIsolationStateUnknown; ext++)
    {
        info.extendedIsolationState = ext;
        assert_hr(INapEnforcementClientConnection2_SetIsolationInfoEx(c, &info), S_OK);
        check_isolation(c, isolationStateInProbation, ext, 50, url, info.failureUrl.length);
    }

    info.extendedIsolationState = 4;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfoEx(c, &info), E_INVALIDARG);
    info.extendedIsolationState = (ExtendedIsolationState)-1;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfoEx(c, &info), E_INVALIDARG);
    info.extendedIsolationState = extendedIsolationStateInfected;
    info.isolationState = 0;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfoEx(c, &info), E_INVALIDARG);
    info.isolationState = 4;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfoEx(c, &info), E_INVALIDARG);
    info.isolationState = isolationStateRestrictedAccess;
    info.failureUrl.length = maxStringLength + 1;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfoEx(c, &info), E_INVALIDARG);
    info.failureUrl.length = 2;
    info.failureUrl.string = NULL;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfoEx(c, &info), E_INVALIDARG);
    /* Nothing changed by the rejected calls. */
    check_isolation(c, isolationStateInProbation, extendedIsolationStateUnknown, 50, url, wcslen(url));

    make_url(maxStringLength);
    info.failureUrl.string = long_url;
    info.failureUrl.length = maxStringLength;
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfoEx(c, &info), S_OK);
    check_isolation(c, isolationStateRestrictedAccess, extendedIsolationStateInfected, 50, long_url,
                    maxStringLength);

    /* A v1 Set keeps the extended state. */
    v1.isolationState = isolationStateNotRestricted;
    v1.probEndTime.dwLowDateTime = 9;
    v1.probEndTime.dwHighDateTime = 10;
    v1.failureUrl.string = url;
    v1.failureUrl.length = wcslen(url);
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfo(c, &v1), S_OK);
    check_isolation(c, isolationStateNotRestricted, extendedIsolationStateInfected, 9, url, wcslen(url));

    assert_hr(INapEnforcementClientConnection2_GetIsolationInfoEx(c, &got), S_OK);
    assert_ptr_not_equal((void *)got, (void *)got->failureUrl.string);
    got->failureUrl.string[0] = 0;
    got->extendedIsolationState = extendedIsolationStateTransition;
    free_isolation_ex(got);
    check_isolation(c, isolationStateNotRestricted, extendedIsolationStateInfected, 9, url, wcslen(url));
}

/* ---- private data ---- */

static HRESULT set_private(conn2 *c, BOOL enforcer, const PrivateData *data)
{
    if (enforcer) return INapEnforcementClientConnection2_SetEnforcerPrivateData(c, data);
    return INapEnforcementClientConnection2_SetPrivateData(c, data);
}

static HRESULT get_private(conn2 *c, BOOL enforcer, PrivateData **data)
{
    if (enforcer) return INapEnforcementClientConnection2_GetEnforcerPrivateData(c, data);
    return INapEnforcementClientConnection2_GetPrivateData(c, data);
}

static void check_private(conn2 *c, BOOL enforcer, UINT16 size, BYTE fill)
{
    PrivateData *got = (void *)0xdeadbeef;
    UINT16 i;

    assert_hr(get_private(c, enforcer, &got), S_OK);
    assert_int_equal(got->size, size);
    if (!size) assert_null(got->data);
    for (i = 0; i < size; i++) assert_int_equal(got->data[i], (BYTE)(fill + i));
    free_private(got);
}

static void run_private_data(conn2 *c, BOOL enforcer)
{
    BYTE bytes[maxPrivateDataSize + 1];
    PrivateData data, *got = NULL, *got2 = NULL;

    assert_hr(set_private(c, enforcer, NULL), E_POINTER);
    assert_hr(get_private(c, enforcer, NULL), E_POINTER);

    fill_bytes(bytes, sizeof(bytes), enforcer ? 0x80 : 0x30);
    data.data = bytes;
    data.size = maxPrivateDataSize;
    assert_hr(set_private(c, enforcer, &data), S_OK);
    check_private(c, enforcer, maxPrivateDataSize, enforcer ? 0x80 : 0x30);

    data.size = maxPrivateDataSize + 1;
    assert_hr(set_private(c, enforcer, &data), E_INVALIDARG);
    data.size = 4;
    data.data = NULL;
    assert_hr(set_private(c, enforcer, &data), E_INVALIDARG);
    check_private(c, enforcer, maxPrivateDataSize, enforcer ? 0x80 : 0x30);

    /* The two blobs belong to different parties and never mix. */
    check_private(c, !enforcer, enforcer ? maxPrivateDataSize : 0, 0x30);

    data.data = bytes;
    data.size = 1;
    assert_hr(set_private(c, enforcer, &data), S_OK);
    bytes[0] = 0;
    check_private(c, enforcer, 1, enforcer ? 0x80 : 0x30);

    assert_hr(get_private(c, enforcer, &got), S_OK);
    assert_ptr_not_equal((void *)got, (void *)got->data);
    got->data[0] = 0x55;
    assert_hr(get_private(c, enforcer, &got2), S_OK);
    assert_int_equal(got2->data[0], enforcer ? 0x80 : 0x30);
    free_private(got);
    free_private(got2);

    /* Size 0 clears, with or without a data pointer. */
    data.size = 0;
    assert_hr(set_private(c, enforcer, &data), S_OK);
    check_private(c, enforcer, 0, 0);
    data.data = NULL;
    assert_hr(set_private(c, enforcer, &data), S_OK);
    check_private(c, enforcer, 0, 0);
}

static void test_private_data(void **state)
{
    run_private_data(*state, FALSE);
}

static void test_enforcer_private_data(void **state)
{
    conn2 *c = *state;
    BYTE bytes[maxPrivateDataSize];
    PrivateData data = {maxPrivateDataSize, bytes};

    /* Give the agent's blob a value so that its independence is checked. */
    fill_bytes(bytes, sizeof(bytes), 0x30);
    assert_hr(INapEnforcementClientConnection2_SetPrivateData(c, &data), S_OK);
    run_private_data(c, TRUE);
    check_private(c, FALSE, maxPrivateDataSize, 0x30);
}

/* ---- installed SHVs ---- */

static void check_shvs(conn2 *c, SystemHealthEntityCount expect, UINT32 base)
{
    SystemHealthEntityCount count = 0xcccc;
    SystemHealthEntityId *ids = (void *)0xdeadbeef;
    UINT16 i;

    assert_hr(INapEnforcementClientConnection2_GetInstalledShvs(c, &count, &ids), S_OK);
    assert_int_equal(count, expect);
    for (i = 0; i < expect; i++) assert_int_equal(ids[i], base + i);
    if (!expect) assert_null(ids);
    CoTaskMemFree(ids);
}

static void test_installed_shvs(void **state)
{
    conn2 *c = *state;
    SystemHealthEntityId ids[maxSystemHealthEntityCount + 1], *got = (void *)0xdeadbeef, *got2 = NULL;
    SystemHealthEntityCount count = 0xcccc;
    UINT16 i;

    for (i = 0; i < ARRAYSIZE(ids); i++) ids[i] = 0x00013700 + i;

    /* NULL out pointers: E_POINTER, and the other one is still reset. */
    assert_hr(INapEnforcementClientConnection2_GetInstalledShvs(c, NULL, &got), E_POINTER);
    assert_null(got);
    assert_hr(INapEnforcementClientConnection2_GetInstalledShvs(c, &count, NULL), E_POINTER);
    assert_int_equal(count, 0);
    assert_hr(INapEnforcementClientConnection2_GetInstalledShvs(c, NULL, NULL), E_POINTER);

    /* count 0 is documented as invalid; it wins over a NULL array. */
    assert_hr(INapEnforcementClientConnection2_SetInstalledShvs(c, 0, ids), E_INVALIDARG);
    assert_hr(INapEnforcementClientConnection2_SetInstalledShvs(c, 0, NULL), E_INVALIDARG);
    assert_hr(INapEnforcementClientConnection2_SetInstalledShvs(c, 1, NULL), E_POINTER);
    check_shvs(c, 0, 0);

    assert_hr(INapEnforcementClientConnection2_SetInstalledShvs(c, 1, ids), S_OK);
    check_shvs(c, 1, 0x00013700);
    assert_hr(INapEnforcementClientConnection2_SetInstalledShvs(c, maxSystemHealthEntityCount, ids), S_OK);
    check_shvs(c, maxSystemHealthEntityCount, 0x00013700);
    assert_hr(INapEnforcementClientConnection2_SetInstalledShvs(c, maxSystemHealthEntityCount + 1, ids),
              E_INVALIDARG);
    assert_hr(INapEnforcementClientConnection2_SetInstalledShvs(c, 0xffff, ids), E_INVALIDARG);
    check_shvs(c, maxSystemHealthEntityCount, 0x00013700);

    /* Copied in, copied out. */
    assert_hr(INapEnforcementClientConnection2_SetInstalledShvs(c, 3, ids + 5), S_OK);
    ids[5] = 0;
    check_shvs(c, 3, 0x00013705);
    assert_hr(INapEnforcementClientConnection2_GetInstalledShvs(c, &count, &got), S_OK);
    got[0] = 0;
    assert_hr(INapEnforcementClientConnection2_GetInstalledShvs(c, &count, &got2), S_OK);
    assert_ptr_not_equal(got, got2);
    assert_int_equal(got2[0], 0x00013705);
    CoTaskMemFree(got);
    CoTaskMemFree(got2);
}

/* ---- the quota ---- */

/* How many slots are free, found by taking them all and giving them back. */
static LONG free_slots(struct connection_quota *quota, LONG limit)
{
    LONG free = 0, i;

    while (connection_quota_take(quota, limit)) free++;
    for (i = 0; i < free; i++) connection_quota_give_back(quota, &GUID_NULL);
    return free;
}

static void test_quota(void **state)
{
    struct connection_quota *quota = connection_quota_create();
    INapEnforcementClientConnection *c1, *c2, *c3;
    NAPAGENT_CONNECTION_FACTS gone[NAPAGENT_MAX_GONE];
    GUID id1 = { 0x1111, 0, 0, { 0 } }, id2 = { 0x2222, 0, 0, { 0 } };
    LONG objects = com_server_objects;

    (void)state;
    assert_non_null(quota);
    assert_int_equal(free_slots(quota, 2), 2);

    assert_true(connection_quota_take(quota, 2));
    assert_hr(connection_create(1, quota, &c1), S_OK);
    assert_true(connection_quota_take(quota, 2));
    assert_hr(connection_create(1, quota, &c2), S_OK);
    assert_int_equal(com_server_objects, objects + 2);
    assert_false(connection_quota_take(quota, 2));
    assert_hr(INapEnforcementClientConnection_SetConnectionId(c1, &id1), S_OK);
    assert_hr(INapEnforcementClientConnection_SetConnectionId(c2, &id2), S_OK);

    /* Calls are numbered in order. */
    assert_int_equal(connection_quota_next_seq(quota), 1);
    assert_int_equal(connection_quota_next_seq(quota), 2);

    /* Destroying a connection gives its slot back, and reports it gone with
     * the number of the last call before it. */
    assert_int_equal(INapEnforcementClientConnection_Release(c1), 0);
    assert_int_equal(free_slots(quota, 2), 1);
    assert_int_equal(connection_quota_take_gone(quota, gone, ARRAYSIZE(gone)), 1);
    assert_true(IsEqualGUID(&gone[0].connection_id, &id1));
    assert_int_equal(gone[0].call_seq, 2);
    assert_int_equal(connection_quota_take_gone(quota, gone, ARRAYSIZE(gone)), 0);
    assert_true(connection_quota_take(quota, 2));
    assert_hr(connection_create(1, quota, &c3), S_OK);
    assert_false(connection_quota_take(quota, 2));

    /* A reference that is not the last keeps the slot. */
    INapEnforcementClientConnection_AddRef(c2);
    assert_int_equal(INapEnforcementClientConnection_Release(c2), 1);
    assert_int_equal(free_slots(quota, 2), 0);

    /* A connection may outlive the binding's own reference to the quota;
     * one whose id was never set is not reported. */
    connection_quota_addref(quota);
    connection_quota_release(quota);
    assert_int_equal(INapEnforcementClientConnection_Release(c2), 0);
    assert_int_equal(INapEnforcementClientConnection_Release(c3), 0);
    assert_int_equal(free_slots(quota, 2), 2);
    assert_int_equal(connection_quota_take_gone(quota, gone, ARRAYSIZE(gone)), 1);
    assert_true(IsEqualGUID(&gone[0].connection_id, &id2));
    assert_int_equal(com_server_objects, objects);
    connection_quota_release(quota);
}

/* ---- allocations: balance and failures ---- */

static void test_spy_balance(void **state)
{
    conn2 *c = *state;
    BYTE bytes[16] = {1, 2, 3};
    WCHAR url[] = L"http://x/";
    NetworkSoH soh = {sizeof(bytes), bytes}, *soh_out;
    PrivateData data = {sizeof(bytes), bytes}, *data_out;
    IsolationInfoEx info = {isolationStateInProbation, extendedIsolationStateTransition, {1, 2}, {9, url}};
    IsolationInfoEx *info_ex_out;
    IsolationInfo *info_out;
    SystemHealthEntityId shvs[2] = {1, 2}, *shvs_out;
    SystemHealthEntityCount count;
    StringCorrelationId *str;
    ConnectionId *id;

    spy_register();
    assert_hr(INapEnforcementClientConnection2_SetSoHRequest(c, &soh), S_OK);
    assert_hr(INapEnforcementClientConnection2_SetSoHResponse(c, &soh), S_OK);
    assert_hr(INapEnforcementClientConnection2_SetPrivateData(c, &data), S_OK);
    assert_hr(INapEnforcementClientConnection2_SetEnforcerPrivateData(c, &data), S_OK);
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfoEx(c, &info), S_OK);
    assert_hr(INapEnforcementClientConnection2_SetInstalledShvs(c, 2, shvs), S_OK);
    assert_hr(INapEnforcementClientConnection2_SetConnectionId(c, &test_guid), S_OK);
    /* Setting copies into the object; it never uses the task allocator. */
    assert_int_equal(malloc_spy_counts().allocs, 0);

    assert_hr(INapEnforcementClientConnection2_GetSoHRequest(c, &soh_out), S_OK);
    free_soh(soh_out);
    assert_hr(INapEnforcementClientConnection2_GetSoHResponse(c, &soh_out), S_OK);
    free_soh(soh_out);
    assert_hr(INapEnforcementClientConnection2_GetPrivateData(c, &data_out), S_OK);
    free_private(data_out);
    assert_hr(INapEnforcementClientConnection2_GetEnforcerPrivateData(c, &data_out), S_OK);
    free_private(data_out);
    assert_hr(INapEnforcementClientConnection2_GetIsolationInfo(c, &info_out), S_OK);
    free_isolation(info_out);
    assert_hr(INapEnforcementClientConnection2_GetIsolationInfoEx(c, &info_ex_out), S_OK);
    free_isolation_ex(info_ex_out);
    assert_hr(INapEnforcementClientConnection2_GetInstalledShvs(c, &count, &shvs_out), S_OK);
    CoTaskMemFree(shvs_out);
    assert_hr(INapEnforcementClientConnection2_GetStringCorrelationId(c, &str), S_OK);
    free_counted(str);
    assert_hr(INapEnforcementClientConnection2_GetConnectionId(c, &id), S_OK);
    CoTaskMemFree(id);

    /* 2 each for SoH x2, private x2, isolation x2, string; 1 each for SHVs and id. */
    assert_int_equal(malloc_spy_counts().allocs, 2 * 7 + 2);
    assert_int_equal(malloc_spy_counts().frees, malloc_spy_counts().allocs);
    spy_revoke();
}

/* Each getter runs one Get, checks that a failure left its outputs NULL
 * and frees a success the documented way. */
typedef HRESULT (*getter)(conn2 *c);

static HRESULT get_request(conn2 *c)
{
    NetworkSoH *out = (void *)0xdeadbeef;
    HRESULT hr = INapEnforcementClientConnection2_GetSoHRequest(c, &out);

    if (FAILED(hr)) assert_null(out);
    else free_soh(out);
    return hr;
}

static HRESULT get_response(conn2 *c)
{
    NetworkSoH *out = (void *)0xdeadbeef;
    HRESULT hr = INapEnforcementClientConnection2_GetSoHResponse(c, &out);

    if (FAILED(hr)) assert_null(out);
    else free_soh(out);
    return hr;
}

static HRESULT get_private_agent(conn2 *c)
{
    PrivateData *out = (void *)0xdeadbeef;
    HRESULT hr = INapEnforcementClientConnection2_GetPrivateData(c, &out);

    if (FAILED(hr)) assert_null(out);
    else free_private(out);
    return hr;
}

static HRESULT get_private_enforcer(conn2 *c)
{
    PrivateData *out = (void *)0xdeadbeef;
    HRESULT hr = INapEnforcementClientConnection2_GetEnforcerPrivateData(c, &out);

    if (FAILED(hr)) assert_null(out);
    else free_private(out);
    return hr;
}

static HRESULT get_isolation(conn2 *c)
{
    IsolationInfo *out = (void *)0xdeadbeef;
    HRESULT hr = INapEnforcementClientConnection2_GetIsolationInfo(c, &out);

    if (FAILED(hr)) assert_null(out);
    else free_isolation(out);
    return hr;
}

static HRESULT get_isolation_ex(conn2 *c)
{
    IsolationInfoEx *out = (void *)0xdeadbeef;
    HRESULT hr = INapEnforcementClientConnection2_GetIsolationInfoEx(c, &out);

    if (FAILED(hr)) assert_null(out);
    else free_isolation_ex(out);
    return hr;
}

static HRESULT get_shvs(conn2 *c)
{
    SystemHealthEntityCount count = 0xcccc;
    SystemHealthEntityId *out = (void *)0xdeadbeef;
    HRESULT hr = INapEnforcementClientConnection2_GetInstalledShvs(c, &count, &out);

    if (FAILED(hr))
    {
        assert_null(out);
        assert_int_equal(count, 0);
    }
    else CoTaskMemFree(out);
    return hr;
}

static HRESULT get_string_id(conn2 *c)
{
    StringCorrelationId *out = (void *)0xdeadbeef;
    HRESULT hr = INapEnforcementClientConnection2_GetStringCorrelationId(c, &out);

    if (FAILED(hr)) assert_null(out);
    else free_counted(out);
    return hr;
}

static HRESULT get_connection_id(conn2 *c)
{
    ConnectionId *out = (void *)0xdeadbeef;
    HRESULT hr = INapEnforcementClientConnection2_GetConnectionId(c, &out);

    if (FAILED(hr)) assert_null(out);
    else CoTaskMemFree(out);
    return hr;
}

/* Fails the 1st, 2nd, ... allocation of one call in turn: each must give
 * E_OUTOFMEMORY without leaking; then the call must succeed with `allocs`. */
static void check_oom(conn2 *c, getter get, LONG allocs)
{
    LONG fail_at;

    for (fail_at = 1; fail_at <= allocs; fail_at++)
    {
        malloc_spy_reset(fail_at);
        assert_hr(get(c), E_OUTOFMEMORY);
        assert_int_equal(malloc_spy_counts().attempts, fail_at);
        assert_int_equal(malloc_spy_counts().allocs, malloc_spy_counts().frees);
    }
    malloc_spy_reset(0);
    assert_hr(get(c), S_OK);
    assert_int_equal(malloc_spy_counts().allocs, allocs);
    assert_int_equal(malloc_spy_counts().frees, allocs);
}

static void test_out_of_memory(void **state)
{
    conn2 *c = *state;
    BYTE bytes[20] = {0};
    WCHAR url[] = L"u";
    NetworkSoH soh = {sizeof(bytes), bytes};
    PrivateData data = {sizeof(bytes), bytes};
    IsolationInfoEx info = {isolationStateRestrictedAccess, extendedIsolationStateUnknown, {0, 0}, {1, url}};
    SystemHealthEntityId shvs[1] = {77};

    fill_bytes(bytes, sizeof(bytes), 0x60);
    spy_register();
    /* Empty values first: fewer blocks, but the same rules. */
    check_oom(c, get_request, 1);
    check_oom(c, get_response, 1);
    check_oom(c, get_private_agent, 1);
    check_oom(c, get_private_enforcer, 1);
    check_oom(c, get_isolation, 2);
    check_oom(c, get_shvs, 0);

    assert_hr(INapEnforcementClientConnection2_SetSoHRequest(c, &soh), S_OK);
    assert_hr(INapEnforcementClientConnection2_SetSoHResponse(c, &soh), S_OK);
    assert_hr(INapEnforcementClientConnection2_SetPrivateData(c, &data), S_OK);
    assert_hr(INapEnforcementClientConnection2_SetEnforcerPrivateData(c, &data), S_OK);
    assert_hr(INapEnforcementClientConnection2_SetIsolationInfoEx(c, &info), S_OK);
    assert_hr(INapEnforcementClientConnection2_SetInstalledShvs(c, 1, shvs), S_OK);

    check_oom(c, get_request, 2);
    check_oom(c, get_response, 2);
    check_oom(c, get_private_agent, 2);
    check_oom(c, get_private_enforcer, 2);
    check_oom(c, get_isolation, 2);
    check_oom(c, get_isolation_ex, 2);
    check_oom(c, get_shvs, 1);
    check_oom(c, get_string_id, 2);
    check_oom(c, get_connection_id, 1);

    /* A failed Get leaves the stored value intact. */
    check_soh(c, FALSE, sizeof(bytes), 0x60);
    spy_revoke();
}

/* ---- concurrency smoke ---- */

struct worker
{
    conn2 *conn;
    BYTE fill;
    LONG errors;
};

static BOOL response_is_consistent(const NetworkSoH *soh)
{
    UINT16 i;

    /* Whole writes only: size 101 filled with 1, or size 102 filled with 2. */
    if (soh->size != 100 + soh->data[0]) return FALSE;
    for (i = 0; i < soh->size; i++) if (soh->data[i] != soh->data[0]) return FALSE;
    return TRUE;
}

static DWORD WINAPI worker_thread(void *arg)
{
    struct worker *worker = arg;
    BYTE bytes[102];
    NetworkSoH soh, *got;
    IsolationInfoEx info, *info_got;
    WCHAR url[4] = {'a', 'b', 'c', 0};
    int i;

    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    memset(bytes, worker->fill, sizeof(bytes));
    soh.size = 100 + worker->fill;
    soh.data = bytes;
    url[0] += worker->fill;
    info.isolationState = worker->fill;
    info.extendedIsolationState = worker->fill;
    info.probEndTime.dwLowDateTime = info.probEndTime.dwHighDateTime = worker->fill;
    info.failureUrl.length = worker->fill + 1;
    info.failureUrl.string = url;

    for (i = 0; i < 10000; i++)
    {
        if (FAILED(INapEnforcementClientConnection2_SetSoHResponse(worker->conn, &soh))) worker->errors++;
        if (FAILED(INapEnforcementClientConnection2_GetSoHResponse(worker->conn, &got))) worker->errors++;
        else
        {
            if (!response_is_consistent(got)) worker->errors++;
            free_soh(got);
        }

        if (FAILED(INapEnforcementClientConnection2_SetIsolationInfoEx(worker->conn, &info))) worker->errors++;
        if (FAILED(INapEnforcementClientConnection2_GetIsolationInfoEx(worker->conn, &info_got))) worker->errors++;
        else
        {
            BYTE seen = info_got->isolationState;

            if (info_got->extendedIsolationState != seen || info_got->probEndTime.dwLowDateTime != seen ||
                info_got->failureUrl.length != seen + 1 || info_got->failureUrl.string[seen + 1])
                worker->errors++;
            free_isolation_ex(info_got);
        }
    }
    CoUninitialize();
    return 0;
}

static void test_concurrency(void **state)
{
    struct worker workers[2];
    HANDLE threads[2];
    int i;

    for (i = 0; i < 2; i++)
    {
        workers[i].conn = *state;
        workers[i].fill = i + 1;
        workers[i].errors = 0;
        threads[i] = CreateThread(NULL, 0, worker_thread, &workers[i], 0, NULL);
        assert_non_null(threads[i]);
    }
    assert_int_equal(WaitForMultipleObjects(2, threads, TRUE, 60000), WAIT_OBJECT_0);
    for (i = 0; i < 2; i++)
    {
        CloseHandle(threads[i]);
        assert_int_equal(workers[i].errors, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test_setup_teardown(test_defaults, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_query_interface, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_initialize, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_max_size, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_flags, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_connection_id, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_correlation_id, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_string_correlation_id, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_soh_request, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_soh_response, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_isolation_info, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_isolation_info_ex, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_private_data, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_enforcer_private_data, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_installed_shvs, setup_conn, teardown_conn),
        cmocka_unit_test(test_quota),
        cmocka_unit_test_setup_teardown(test_spy_balance, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_out_of_memory, setup_conn, teardown_conn),
        cmocka_unit_test_setup_teardown(test_concurrency, setup_conn, teardown_conn),
    };
    int failed;

    test_install_crash_handler();
    CoInitializeEx(NULL, COINIT_MULTITHREADED);
    failed = cmocka_run_group_tests_name("connection", tests, NULL, NULL);
    CoUninitialize();
    return failed;
}
