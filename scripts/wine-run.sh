#!/usr/bin/env bash
# CTest's emulator: run one Windows test program under Wine with a time bound.
# Usage: wine-run.sh [--timeout SECONDS] program.exe [args...]
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/wine-env.sh"
limit=${NAP_TEST_TIMEOUT:-120}
if [ "${1:-}" = "--timeout" ]; then limit=$2; shift 2; fi
nap_wine_warm
timeout --kill-after=5 "$limit" wine "$@"
rc=$?
if [ $rc -eq 124 ]; then echo "wine-run: $1 timed out after ${limit}s" >&2
elif [ $rc -ne 0 ]; then echo "wine-run: $1 exited with status $rc" >&2; fi
exit $rc
