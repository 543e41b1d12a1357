/*
 * qutil.dll's InitializeNapAgentNotifier / UninitializeNapAgentNotifier against the real agent
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <string.h>
#include "NapEnforcementClient.h"
#include "NapUtil.h"
#include "nap_hresults.h"
#include "callback_sink.h"
#include "soh.h"

#define EC_ID 0x00013A10u
#define ALREADY_INITIALIZED HRESULT_FROM_WIN32(ERROR_ALREADY_INITIALIZED)
/* How long a notification may take, and how long silence must last to count as none. */
#define FIRE_MS  10000
#define QUIET_MS 1000
/* Time for a new watcher to read the state it compares with. */
#define SETTLE_MS 500

static HANDLE agent;

static struct
{
    HMODULE module;
    __typeof__(InitializeNapAgentNotifier) *Initialize;
    __typeof__(UninitializeNapAgentNotifier) *Uninitialize;
} qutil;

static BOOL load_qutil(void)
{
    WCHAR path[MAX_PATH];

    test_bin_path(L"qutil.dll", path, MAX_PATH);
    if (!(qutil.module = LoadLibraryW(path))) return FALSE;
    qutil.Initialize = (void *)GetProcAddress(qutil.module, "InitializeNapAgentNotifier");
    qutil.Uninitialize = (void *)GetProcAddress(qutil.module, "UninitializeNapAgentNotifier");
    return qutil.Initialize && qutil.Uninitialize;
}

static HANDLE new_event(void)
{
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);

    assert_non_null(event);
    return event;
}

static BOOL fired(HANDLE event, DWORD ms)
{
    BOOL signaled = WaitForSingleObject(event, ms) == WAIT_OBJECT_0;

    ResetEvent(event);
    return signaled;
}

static void test_arguments(void **state)
{
    HANDLE event = new_event();

    (void)state;
    assert_int_equal(qutil.Initialize(napNotifyTypeUnknown, event), E_INVALIDARG);
    assert_int_equal(qutil.Initialize((NapNotifyType)3, event), E_INVALIDARG);
    assert_int_equal(qutil.Initialize((NapNotifyType)-1, event), E_INVALIDARG);
    assert_int_equal(qutil.Initialize(napNotifyTypeServiceState, NULL), E_INVALIDARG);
    assert_int_equal(qutil.Initialize(napNotifyTypeQuarState, NULL), E_INVALIDARG);
    /* Nothing subscribed: each does nothing. */
    qutil.Uninitialize(napNotifyTypeUnknown);
    qutil.Uninitialize((NapNotifyType)7);
    qutil.Uninitialize(napNotifyTypeServiceState);
    qutil.Uninitialize(napNotifyTypeQuarState);
    /* The failed calls subscribed nothing. */
    assert_int_equal(qutil.Initialize(napNotifyTypeServiceState, event), S_OK);
    qutil.Uninitialize(napNotifyTypeServiceState);
    CloseHandle(event);
}

static void test_already_initialized(void **state)
{
    HANDLE first = new_event(), second = new_event();

    (void)state;
    assert_int_equal(qutil.Initialize(napNotifyTypeServiceState, first), S_OK);
    assert_int_equal(qutil.Initialize(napNotifyTypeServiceState, second), ALREADY_INITIALIZED);
    assert_int_equal(qutil.Initialize(napNotifyTypeServiceState, first), ALREADY_INITIALIZED);
    /* One subscription per type: the other type is free. */
    assert_int_equal(qutil.Initialize(napNotifyTypeQuarState, second), S_OK);
    assert_int_equal(qutil.Initialize(napNotifyTypeQuarState, first), ALREADY_INITIALIZED);
    qutil.Uninitialize(napNotifyTypeServiceState);
    qutil.Uninitialize(napNotifyTypeServiceState);
    assert_int_equal(qutil.Initialize(napNotifyTypeServiceState, second), S_OK);
    qutil.Uninitialize(napNotifyTypeServiceState);
    qutil.Uninitialize(napNotifyTypeQuarState);
    /* The caller owns its events: closing them right away is fine. */
    CloseHandle(first);
    CloseHandle(second);
}

static void test_service_state(void **state)
{
    HANDLE event = new_event();

    (void)state;
    assert_int_equal(qutil.Initialize(napNotifyTypeServiceState, event), S_OK);
    /* Subscribing is no event by itself. */
    assert_false(fired(event, QUIET_MS));

    test_kill_agent(agent);
    agent = NULL;
    assert_true(fired(event, FIRE_MS));
    assert_false(fired(event, QUIET_MS));

    assert_non_null(agent = test_start_agent());
    assert_true(fired(event, FIRE_MS));

    /* A restart is a stop and a start. */
    test_kill_agent(agent);
    assert_non_null(agent = test_start_agent());
    assert_true(fired(event, FIRE_MS));

    /* Uninitialize ends the notifications. */
    qutil.Uninitialize(napNotifyTypeServiceState);
    ResetEvent(event);
    test_kill_agent(agent);
    agent = NULL;
    assert_false(fired(event, QUIET_MS));
    assert_non_null(agent = test_start_agent());
    assert_false(fired(event, QUIET_MS));
    CloseHandle(event);
}

/* A subscription made while no agent runs sees the agent start. */
static void test_service_state_from_stopped(void **state)
{
    HANDLE event = new_event();

    (void)state;
    test_kill_agent(agent);
    agent = NULL;
    assert_int_equal(qutil.Initialize(napNotifyTypeServiceState, event), S_OK);
    assert_false(fired(event, QUIET_MS));
    assert_non_null(agent = test_start_agent());
    assert_true(fired(event, FIRE_MS));
    qutil.Uninitialize(napNotifyTypeServiceState);
    CloseHandle(event);
}

/* ---- the isolation state ---- */

struct bound_ec
{
    struct callback_sink sink;
    INapEnforcementClientBinding *binding;
    INapEnforcementClientConnection *connection;
};

static void bind_ec(struct bound_ec *ec)
{
    GUID guid;

    callback_sink_init(&ec->sink);
    assert_int_equal(test_register_ec(EC_ID, TRUE), S_OK);
    assert_int_equal(CoCreateInstance(&CLSID_NapEnforcementClientBinding, NULL, CLSCTX_INPROC_SERVER,
                                      &IID_INapEnforcementClientBinding, (void **)&ec->binding), S_OK);
    assert_int_equal(INapEnforcementClientBinding_Initialize(ec->binding, EC_ID, &ec->sink.INapEnforcementClientCallback_iface),
                     S_OK);
    assert_int_equal(INapEnforcementClientBinding_CreateConnection(ec->binding, &ec->connection), S_OK);
    CoCreateGuid(&guid);
    INapEnforcementClientConnection_SetConnectionId(ec->connection, &guid);
    ec->sink.connections[0] = ec->connection;
    ec->sink.connection_count = 1;
}

static void unbind_ec(struct bound_ec *ec)
{
    assert_int_equal(INapEnforcementClientBinding_Uninitialize(ec->binding), S_OK);
    INapEnforcementClientConnection_Release(ec->connection);
    INapEnforcementClientBinding_Release(ec->binding);
}

/* One exchange on the connection, answered with `state`. */
static void exchange(struct bound_ec *ec, UINT8 state)
{
    NetworkSoHRequest *request = NULL;
    struct soh_request decoded;
    struct soh_response response;
    NetworkSoHResponse soh;
    BYTE bytes[512];
    size_t size;
    BOOL retrigger;

    assert_int_equal(INapEnforcementClientBinding_GetSoHRequest(ec->binding, ec->connection, &retrigger), S_OK);
    assert_int_equal(INapEnforcementClientConnection_GetSoHRequest(ec->connection, &request), S_OK);
    assert_int_equal(soh_decode_request(request->data, request->size, &decoded), SOH_OK);
    CoTaskMemFree(request->data);
    CoTaskMemFree(request);
    memset(&response, 0, sizeof(response));
    response.with_mode_header = 1;
    response.has_correlation = 1;
    response.correlation = decoded.correlation;
    response.quarantine.state = state;
    response.quarantine.prob_time = SOH_PROB_TIME_NONE;
    assert_int_equal(soh_encode_response(&response, bytes, sizeof(bytes), &size), SOH_OK);
    soh.size = (UINT16)size;
    soh.data = bytes;
    assert_int_equal(INapEnforcementClientConnection_SetSoHResponse(ec->connection, &soh), S_OK);
    assert_int_equal(INapEnforcementClientBinding_ProcessSoHResponse(ec->binding, ec->connection), S_OK);
}

static void test_quar_state(void **state)
{
    HANDLE event = new_event();
    struct bound_ec ec;

    (void)state;
    bind_ec(&ec);
    exchange(&ec, isolationStateNotRestricted);
    assert_int_equal(qutil.Initialize(napNotifyTypeQuarState, event), S_OK);
    Sleep(SETTLE_MS);
    assert_false(fired(event, 0));

    exchange(&ec, isolationStateRestrictedAccess);
    assert_true(fired(event, FIRE_MS));
    /* The same answer again changes nothing. */
    exchange(&ec, isolationStateRestrictedAccess);
    assert_false(fired(event, QUIET_MS));
    exchange(&ec, isolationStateNotRestricted);
    assert_true(fired(event, FIRE_MS));

    /* Uninitialize ends the notifications. */
    qutil.Uninitialize(napNotifyTypeQuarState);
    ResetEvent(event);
    exchange(&ec, isolationStateRestrictedAccess);
    assert_false(fired(event, QUIET_MS));
    exchange(&ec, isolationStateNotRestricted);
    assert_false(fired(event, QUIET_MS));

    unbind_ec(&ec);
    assert_int_equal(test_unregister_ec(EC_ID), S_OK);
    CloseHandle(event);
}

/* A lost agent is retried: a restarted agent's changes are seen too. */
static void test_quar_state_after_restart(void **state)
{
    HANDLE event = new_event();
    struct bound_ec ec;

    (void)state;
    assert_int_equal(qutil.Initialize(napNotifyTypeQuarState, event), S_OK);
    Sleep(SETTLE_MS);
    test_kill_agent(agent);
    assert_non_null(agent = test_start_agent());
    Sleep(SETTLE_MS);
    ResetEvent(event);
    bind_ec(&ec);
    exchange(&ec, isolationStateRestrictedAccess);
    assert_true(fired(event, FIRE_MS));
    qutil.Uninitialize(napNotifyTypeQuarState);
    unbind_ec(&ec);
    assert_int_equal(test_unregister_ec(EC_ID), S_OK);
    CloseHandle(event);
}

static int setup(void **state)
{
    (void)state;
    if (FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED))) return -1;
    if (!load_qutil()) return -1;
    if (test_register_qagent() != 0) return -1;
    if (!(agent = test_start_agent())) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_kill_agent(agent);
    CoUninitialize();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_already_initialized),
        cmocka_unit_test(test_service_state),
        cmocka_unit_test(test_service_state_from_stopped),
        cmocka_unit_test(test_quar_state),
        cmocka_unit_test(test_quar_state_after_restart),
    };

    test_install_crash_handler();
    return cmocka_run_group_tests(tests, setup, teardown);
}
