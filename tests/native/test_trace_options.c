/*
 * CMocka tests of the WINEDEBUG-syntax parser behind the Windows debug-channel switch
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "trace_options.h"

/* On Windows, HKLM\...\napagent\Parameters\DebugChannels holds the same
 * string a Wine user puts in WINEDEBUG; these are the answers Wine's own
 * parser (ntdll's parse_options and __wine_dbg_get_channel_flags) gives for
 * it, so that a line of WINEDEBUG means the same on both. */

#define ALL (TRACE_OPTIONS_FIXME | TRACE_OPTIONS_ERR | TRACE_OPTIONS_WARN | TRACE_OPTIONS_TRACE)
#define DEFAULT TRACE_OPTIONS_DEFAULT

static void assert_flags(const char *options, const char *channel, unsigned int expected)
{
    unsigned int flags = trace_options_flags(options, channel);

    if (flags != expected)
        fail_msg("\"%s\" for %s: 0x%x, expected 0x%x", options ? options : "(null)", channel, flags, expected);
}

static void test_nothing_said(void **state)
{
    (void)state;
    assert_flags(NULL, "qagent", DEFAULT);
    assert_flags("", "qagent", DEFAULT);
    assert_int_equal(DEFAULT, TRACE_OPTIONS_FIXME | TRACE_OPTIONS_ERR);
}

static void test_all(void **state)
{
    (void)state;
    assert_flags("+all", "qagent", ALL);
    assert_flags("+all", "qutil", ALL);
    assert_flags("-all", "qagent", 0);
    assert_flags("-all", "qutil", 0);
    assert_flags("warn+all", "qutil", DEFAULT | TRACE_OPTIONS_WARN);
    assert_flags("-all,+all", "qagent", ALL);
}

static void test_one_channel(void **state)
{
    (void)state;
    assert_flags("+qagent", "qagent", ALL);
    assert_flags("+qagent", "qutil", DEFAULT);
    assert_flags("+qagent,+qutil", "qutil", ALL);
    assert_flags("-qagent", "qagent", 0);
    /* A bare name is +name. */
    assert_flags("qutil", "qutil", ALL);
    /* Names are whole and case-sensitive, as in Wine. */
    assert_flags("+qagentx", "qagent", DEFAULT);
    assert_flags("+qagen", "qagent", DEFAULT);
    assert_flags("+QAGENT", "qagent", DEFAULT);
}

static void test_classes(void **state)
{
    (void)state;
    assert_flags("warn+qagent", "qagent", DEFAULT | TRACE_OPTIONS_WARN);
    assert_flags("warn+qagent", "qutil", DEFAULT);
    assert_flags("trace+qutil", "qutil", DEFAULT | TRACE_OPTIONS_TRACE);
    assert_flags("err-qutil", "qutil", TRACE_OPTIONS_FIXME);
    assert_flags("fixme-qutil", "qutil", TRACE_OPTIONS_ERR);
    assert_flags("warn+qagent,trace+qagent", "qagent", ALL);
}

/* A channel's first option starts from the default as it stands then; later
 * ones add to it; "all" after it no longer changes it. */
static void test_order(void **state)
{
    (void)state;
    assert_flags("trace+qutil,-qutil", "qutil", 0);
    assert_flags("-qutil,trace+qutil", "qutil", TRACE_OPTIONS_TRACE);
    assert_flags("+all,-qutil", "qutil", 0);
    assert_flags("+all,-qutil", "qagent", ALL);
    assert_flags("-qutil,+all", "qutil", 0);
    assert_flags("-qutil,+all", "qagent", ALL);
    assert_flags("-all,warn+qagent", "qagent", TRACE_OPTIONS_WARN);
    assert_flags("warn+qagent,-all", "qagent", DEFAULT | TRACE_OPTIONS_WARN);
    assert_flags("+all,trace-qagent", "qagent", ALL & ~TRACE_OPTIONS_TRACE);
}

/* What Wine skips, we skip; nothing is read past the string. */
static void test_garbage(void **state)
{
    static const char *const ignored[] =
    {
        ",", ",,,", "+", "-", "warn+", "trace-", "verbose+qagent", "Trace+qagent", "+-qagent",
        " +qagent", "+qagent ", "relay", "+relay,-heap", "==", "\x01\xff+", "qagent+", "+,qagent-",
    };
    unsigned int i;
    size_t size;
    char *copy;

    (void)state;
    for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
    {
        /* An exact-size heap copy: AddressSanitizer sees any read past it. */
        size = strlen(ignored[i]) + 1;
        assert_non_null(copy = malloc(size));
        memcpy(copy, ignored[i], size);
        assert_flags(copy, "qagent", DEFAULT);
        free(copy);
    }
    /* Good options among bad ones still count. */
    assert_flags("bogus+qagent,,warn+qagent,+", "qagent", DEFAULT | TRACE_OPTIONS_WARN);
    assert_flags("+qagent,verbose-qagent", "qagent", ALL);
    /* A sign inside the name splits it as Wine does: class "qag", unknown. */
    assert_flags("qag+ent", "ent", DEFAULT);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_nothing_said),
        cmocka_unit_test(test_all),
        cmocka_unit_test(test_one_channel),
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_garbage),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
