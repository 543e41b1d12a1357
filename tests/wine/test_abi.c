/*
 * Tests that our NAP IDLs are ABI-identical to mingw-w64's (Windows') NAP headers
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "abi_table.h"

/* abi_entries.h yields 394 entries today; the floor keeps the comparison
 * from passing on an emptied or truncated list.  Raise it when adding. */
#define ABI_MIN_ENTRIES 390
/* Every IID and CLSID listed in abi_entries.h (a floor against an emptied list). */
#define ABI_GUID_COUNT 18

/* Number of differences between two tables (0 when identical): a count
 * difference counts once, then every entry of the common prefix whose name
 * or value differs counts once.  Each difference is printed unless quiet. */
static size_t abi_compare(const struct abi_entry *expected, size_t n_expected,
                          const struct abi_entry *actual, size_t n_actual, BOOL quiet)
{
    size_t i, n = n_expected < n_actual ? n_expected : n_actual, bad = 0;

    if (n_expected != n_actual)
    {
        if (!quiet)
            print_error("ABI table sizes differ: mingw %llu entries, ours %llu\n",
                        (unsigned long long)n_expected, (unsigned long long)n_actual);
        bad++;
    }
    for (i = 0; i < n; i++)
    {
        if (strcmp(expected[i].name, actual[i].name))
        {
            if (!quiet)
                print_error("ABI entry %llu: names differ: mingw \"%s\", ours \"%s\"\n",
                            (unsigned long long)i, expected[i].name, actual[i].name);
            bad++;
        }
        else if (expected[i].value != actual[i].value)
        {
            if (!quiet)
                print_error("ABI mismatch: %s: mingw %llu (0x%llx), ours %llu (0x%llx)\n",
                            expected[i].name,
                            (unsigned long long)expected[i].value, (unsigned long long)expected[i].value,
                            (unsigned long long)actual[i].value, (unsigned long long)actual[i].value);
            bad++;
        }
    }
    return bad;
}

static void guid_text(const GUID *g, char *buf, size_t size)
{
    snprintf(buf, size, "{%08lX-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
             (unsigned long)g->Data1, g->Data2, g->Data3, g->Data4[0], g->Data4[1],
             g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
}

/* Same contract as abi_compare, for the GUID tables. */
static size_t abi_compare_guids(const struct abi_guid *expected, size_t n_expected,
                                const struct abi_guid *actual, size_t n_actual, BOOL quiet)
{
    size_t i, n = n_expected < n_actual ? n_expected : n_actual, bad = 0;
    char a[40], b[40];

    if (n_expected != n_actual)
    {
        if (!quiet)
            print_error("GUID table sizes differ: mingw %llu, ours %llu\n",
                        (unsigned long long)n_expected, (unsigned long long)n_actual);
        bad++;
    }
    for (i = 0; i < n; i++)
    {
        if (strcmp(expected[i].name, actual[i].name))
        {
            if (!quiet)
                print_error("GUID entry %llu: names differ: mingw \"%s\", ours \"%s\"\n",
                            (unsigned long long)i, expected[i].name, actual[i].name);
            bad++;
        }
        else if (!IsEqualGUID(expected[i].guid, actual[i].guid))
        {
            if (!quiet)
            {
                guid_text(expected[i].guid, a, sizeof(a));
                guid_text(actual[i].guid, b, sizeof(b));
                print_error("GUID mismatch: %s: mingw %s, ours %s\n", expected[i].name, a, b);
            }
            bad++;
        }
    }
    return bad;
}

static void test_tables_not_vacuous(void **state)
{
    size_t n_mingw, n_ours, g_mingw, g_ours;
    const struct abi_entry *mingw = abi_mingw_table(&n_mingw);
    const struct abi_entry *ours = abi_ours_table(&n_ours);

    (void)state;
    assert_non_null(mingw);
    assert_non_null(ours);
    print_message("ABI entries: mingw %llu, ours %llu\n",
                  (unsigned long long)n_mingw, (unsigned long long)n_ours);
    assert_true(n_mingw >= ABI_MIN_ENTRIES);
    assert_true(n_ours >= ABI_MIN_ENTRIES);

    assert_non_null(abi_mingw_guids(&g_mingw));
    assert_non_null(abi_ours_guids(&g_ours));
    assert_int_equal(g_mingw, ABI_GUID_COUNT);
    assert_int_equal(g_ours, ABI_GUID_COUNT);
}

/* Every entry measures a distinct property: a duplicated line in
 * abi_entries.h would not break the comparison but would hide a missing one. */
static void test_entry_names_unique(void **state)
{
    size_t n, i, j;
    const struct abi_entry *ours = abi_ours_table(&n);

    (void)state;
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++)
            if (!strcmp(ours[i].name, ours[j].name))
                fail_msg("duplicate ABI entry %s (%llu and %llu)", ours[i].name,
                         (unsigned long long)i, (unsigned long long)j);
}

static void test_tables_match(void **state)
{
    size_t n_mingw, n_ours;
    const struct abi_entry *mingw = abi_mingw_table(&n_mingw);
    const struct abi_entry *ours = abi_ours_table(&n_ours);

    (void)state;
    assert_int_equal(abi_compare(mingw, n_mingw, ours, n_ours, FALSE), 0);
}

static void test_guids_match(void **state)
{
    size_t n_mingw, n_ours;
    const struct abi_guid *mingw = abi_mingw_guids(&n_mingw);
    const struct abi_guid *ours = abi_ours_guids(&n_ours);

    (void)state;
    assert_int_equal(abi_compare_guids(mingw, n_mingw, ours, n_ours, FALSE), 0);
}

/* The comparison itself must see a single changed value, a renamed entry
 * and a missing entry, wherever they are. */
static void test_compare_detects_difference(void **state)
{
    size_t n, i;
    const struct abi_entry *ours = abi_ours_table(&n);
    struct abi_entry *copy = malloc(n * sizeof(*copy));
    const size_t where[] = { 0, n / 2, n - 1 };

    (void)state;
    assert_non_null(copy);
    memcpy(copy, ours, n * sizeof(*copy));
    assert_int_equal(abi_compare(ours, n, copy, n, TRUE), 0);

    for (i = 0; i < ARRAYSIZE(where); i++)
    {
        copy[where[i]].value++;
        assert_int_equal(abi_compare(ours, n, copy, n, TRUE), 1);
        copy[where[i]].value--;

        copy[where[i]].name = "renamed";
        assert_int_equal(abi_compare(ours, n, copy, n, TRUE), 1);
        copy[where[i]].name = ours[where[i]].name;
    }
    assert_int_equal(abi_compare(ours, n, copy, n, TRUE), 0);
    assert_int_equal(abi_compare(ours, n, copy, n - 1, TRUE), 1);
    assert_int_equal(abi_compare(ours, n - 1, copy, n, TRUE), 1);
    free(copy);
}

static void test_compare_guids_detects_difference(void **state)
{
    size_t n, i;
    const struct abi_guid *ours = abi_ours_guids(&n);
    struct abi_guid copy[ABI_GUID_COUNT];
    GUID changed;

    (void)state;
    assert_int_equal(n, ABI_GUID_COUNT);
    memcpy(copy, ours, sizeof(copy));
    assert_int_equal(abi_compare_guids(ours, n, copy, n, TRUE), 0);
    for (i = 0; i < n; i++)
    {
        changed = *ours[i].guid;
        changed.Data4[7] ^= 1;
        copy[i].guid = &changed;
        assert_int_equal(abi_compare_guids(ours, n, copy, n, TRUE), 1);
        copy[i].guid = ours[i].guid;
    }
    assert_int_equal(abi_compare_guids(ours, n, copy, n - 1, TRUE), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test(test_tables_not_vacuous),
        cmocka_unit_test(test_entry_names_unique),
        cmocka_unit_test(test_compare_detects_difference),
        cmocka_unit_test(test_compare_guids_detects_difference),
        cmocka_unit_test(test_tables_match),
        cmocka_unit_test(test_guids_match),
    };

    test_install_crash_handler();
    return cmocka_run_group_tests_name("abi", tests, NULL, NULL);
}
