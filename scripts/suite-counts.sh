#!/usr/bin/env bash
# A green suite ran every test it defines: CMocka's own counts, checked.
# Usage: suite-counts.sh OUTPUT-FILE        check a suite's saved output
#        suite-counts.sh -- COMMAND [ARGS]  run a suite, then check its exit status and output
# Every group a CMocka program runs prints "[==========] Running N test(s)."
# first (N: the size of the group's array, what the suite defines) and
# "[  PASSED  ] M test(s)." when it ends.  An exit status of 0 alone proves
# nothing (an ExitProcess(0) in the 7th of 21 tests is a clean exit), so a
# suite passes only if it ran at least one group and every group it started
# reported M = N.  The shell suites (tests/scripts) print the same two lines.
#
# Copyright 2026 The open NAP client authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

check_counts() {
    awk '
    { sub(/\r$/, "") }
    /^\[==========\] (.*: )?Running [0-9]+ test\(s\)\.$/ {
        if (open) { printf "suite-counts: group %d (%d tests) never reported its result\n", groups, want; bad = 1 }
        match($0, /Running [0-9]+/)
        want = substr($0, RSTART + 8, RLENGTH - 8) + 0
        groups++; total += want; open = 1
        next
    }
    /^\[  PASSED  \] [0-9]+ test\(s\)\.$/ {
        match($0, /\] [0-9]+/)
        got = substr($0, RSTART + 2, RLENGTH - 2) + 0
        if (!open) { print "suite-counts: a PASSED line with no group running"; bad = 1; next }
        if (got != want) { printf "suite-counts: group %d passed %d of the %d tests it defines\n", groups, got, want; bad = 1 }
        passed += got; open = 0
    }
    END {
        if (open) { printf "suite-counts: group %d (%d tests) never reported its result: the program stopped part-way\n", groups, want; bad = 1 }
        if (!groups) { print "suite-counts: no test group ran"; bad = 1 }
        if (!bad) printf "suite-counts: %d of %d tests passed (%d group%s)\n", passed, total, groups, groups == 1 ? "" : "s"
        exit bad
    }' "$1"
}

if [ "${1:-}" != "--" ]; then
    check_counts "$1"
    exit
fi
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
if ! check_counts "$out" && [ "$rc" -eq 0 ]; then rc=1; fi
if [ "$rc" -ne 0 ]; then echo "suite-counts: $1 failed (exit status $rc)"; fi
exit "$rc"
