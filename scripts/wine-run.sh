#!/usr/bin/env bash
# CTest's command for every Wine suite: run one suite with a time bound, in a
# prefix put back to the same state before and after it, and pass it only if
# it exited 0 AND reported every test it defines as passed.
# Usage: wine-run.sh [--timeout SECONDS] program.exe|script.sh [args...]
#   program.exe  a CMocka program, run by Wine
#   script.sh    a shell suite (tests/scripts), run by bash; it prints
#                CMocka's counts too (tests/scripts/checks.sh)
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/wine-env.sh"
limit=${NAP_TEST_TIMEOUT:-120}
if [ "${1:-}" = "--timeout" ]; then limit=$2; shift 2; fi
suite=$(basename "$1")
bin=${NAP_BIN_DIR:-$NAP_BUILD_DIR/bin}
case $1 in *.sh) launcher=bash ;; *) launcher=wine ;; esac
out=$(mktemp)

# A failed suite must not fail the suites after it, in this run or the next:
# prefix_reset.exe (tests/wine/prefix_state.c) removes the napagent service,
# ends stray agents, deletes the NAP Group Policy key and the agent's
# registrations and settings, and says what it found.
reset_prefix() {
    timeout 60 wine "${NAP_RESET_EXE:-$bin/prefix_reset.exe}" "wine-run: $1 $suite" </dev/null 2>&1 | tr -d '\r'
    return "${PIPESTATUS[0]}"
}

# The programs' first call (test_install_crash_handler) creates this file,
# so that a failure without it is Wine failing to start the program: main
# never ran, no test did.  Seen twice in about 75 full runs (a suite failing
# in 0.06-0.08 s having printed nothing, cause not found): such a start, and
# only such a start, is made once more, logged in the build tree and counted
# in scripts/test.sh's summary.  A program whose main ran is never retried.
started=$(mktemp -u)
retries=$NAP_BUILD_DIR/wine-run-retries.log
trap 'rm -f "$out" "$started"' EXIT

run() {
    rm -f "$started"
    NAP_TEST_STARTED_FILE="Z:${started//\//\\}" \
        timeout --kill-after=5 "$limit" "$launcher" "$@" 2>&1 | tee "$out"
    return "${PIPESTATUS[0]}"
}

nap_wine_warm
if ! reset_prefix before; then
    echo "wine-run: could not put the prefix back before $suite" >&2
    exit 1
fi
begin=$(date +%s%N)
run "$@"
rc=$?
if [ $launcher = wine ] && [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ ! -e "$started" ]; then
    ms=$(( ($(date +%s%N) - begin) / 1000000 ))
    what="$suite: Wine did not start it (exit status $rc after $ms ms, main never ran, $(stat -c %s "$out") bytes of output)"
    { echo "$(date '+%F %T') $what"; sed 's/^/    /' "$out"; } >> "$retries"
    echo "wine-run: $what; starting it once more (logged in $retries)" >&2
    run "$@"
    rc=$?
fi
if [ $rc -eq 124 ]; then echo "wine-run: $suite timed out after ${limit}s" >&2
elif [ $rc -ne 0 ]; then echo "wine-run: $suite exited with status $rc" >&2; fi
if ! reset_prefix after; then
    echo "wine-run: could not put the prefix back after $suite" >&2
    [ $rc -eq 0 ] && rc=1
fi
# Exit status 0 proves nothing by itself: a suite that exits 0 part-way must fail.
if ! "$here/suite-counts.sh" "$out" && [ $rc -eq 0 ]; then rc=1; fi
exit $rc
