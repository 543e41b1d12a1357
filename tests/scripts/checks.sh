# Sourced by the shell suites: numbered checks, reported as CMocka reports
# tests, so that scripts/suite-counts.sh holds them to the number they define.
#   checks_begin N        the suite makes N checks
#   check WHAT CMD...     one check: passes if CMD exits 0
#   checks_end            the summary; fails unless all N checks ran and passed
#
# Copyright 2026 The open NAP client authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later
checks_wanted=0 checks_passed=0 checks_failed=0

checks_begin() {
    checks_wanted=$1
    echo "[==========] Running $checks_wanted test(s)."
}

check() { # check <description> <command...>
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then checks_passed=$((checks_passed + 1)); echo "ok: $what"
    else checks_failed=$((checks_failed + 1)); echo "FAILED: $what"; fi
}

checks_end() {
    echo "[==========] $((checks_passed + checks_failed)) test(s) run."
    echo "[  PASSED  ] $checks_passed test(s)."
    [ "$checks_failed" -eq 0 ] || echo "[  FAILED  ] $checks_failed test(s)."
    [ "$checks_failed" -eq 0 ] && [ "$checks_passed" -eq "$checks_wanted" ]
}
