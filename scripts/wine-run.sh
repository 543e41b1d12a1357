#!/usr/bin/env bash
# CTest's emulator: run one Windows test program under Wine with a time bound.
# Usage: wine-run.sh [--timeout SECONDS] program.exe [args...]
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/wine-env.sh"
limit=${NAP_TEST_TIMEOUT:-120}
if [ "${1:-}" = "--timeout" ]; then limit=$2; shift 2; fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT

run() {
    nap_wine_warm
    timeout --kill-after=5 "$limit" wine "$@" 2>&1 | tee "$out"
    return "${PIPESTATUS[0]}"
}

run "$@"
rc=$?
# Seen twice in about 40 full runs: a program that fails in well under a
# second having printed nothing at all, not even CMocka's first line (the
# programs print from the first statement of main, unbuffered).  That is
# Wine failing to start it, not a test result: say so, and start it once more.
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ ! -s "$out" ]; then
    echo "wine-run: $1 exited with status $rc before printing anything; starting it once more" >&2
    run "$@"
    rc=$?
fi
if [ $rc -eq 124 ]; then echo "wine-run: $1 timed out after ${limit}s" >&2
elif [ $rc -ne 0 ]; then echo "wine-run: $1 exited with status $rc" >&2; fi
exit $rc
