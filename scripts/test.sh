#!/usr/bin/env bash
# All the tests: the Wine suites (CMocka under CTest, real DLLs, real agent)
# and the native codec suites (sanitizers, fuzz smoke).
# SPDX-License-Identifier: LGPL-2.1-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${NAP_BUILD_DIR:-$top/build}
bash "$top/scripts/build.sh"
status=0
# Leave no Wine process behind (the persistent wineserver, the agent).
trap '. "$top/scripts/wine-env.sh"; wineserver -k >/dev/null 2>&1 || true' EXIT

# scripts/wine-run.sh logs every program Wine failed to start (and started again).
retries=$build/wine-run-retries.log
rm -f "$retries"

echo "== Wine test suites"
ctest --test-dir "$build" --output-on-failure || status=1

echo "== native codec tests (gcc, AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake -S "$top/tests/native" -B "$build/native-gcc" -G Ninja -DCMAKE_C_COMPILER=gcc >/dev/null
cmake --build "$build/native-gcc" >/dev/null
ctest --test-dir "$build/native-gcc" --output-on-failure || status=1

echo "== native codec tests and fuzz smoke (clang, libFuzzer)"
cmake -S "$top/tests/native" -B "$build/native-clang" -G Ninja -DCMAKE_C_COMPILER=clang -DNAP_FUZZ=ON >/dev/null
cmake --build "$build/native-clang" >/dev/null
ctest --test-dir "$build/native-clang" --output-on-failure || status=1

# Shown even when everything passed: a retried start is not a clean run.
retried=0 which=
if [ -s "$retries" ]; then
    retried=$(grep -c '^[0-9]' "$retries" || true)
    which=": $(grep '^[0-9]' "$retries" | cut -d' ' -f3 | tr -d ':' | tr '\n' ' ')"
fi
echo "== $retried program start(s) retried${which% }"
if [ -s "$retries" ]; then sed 's/^/   /' "$retries"; fi
exit $status
