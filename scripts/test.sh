#!/usr/bin/env bash
# All the tests: the Wine suites (CMocka under CTest, real DLLs, real agent),
# the static checks of both trees, the install test, the same Wine suites as
# 32-bit programs against the 64-bit agent (when Wine's 32-bit half is
# installed; NOT RUN otherwise, and said so), and the native codec suites
# (sanitizers, fuzz smoke).
# SPDX-License-Identifier: LGPL-2.1-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${NAP_BUILD_DIR:-$top/build}
build32=${NAP_BUILD32_DIR:-$build/i686}
started=$SECONDS
bash "$top/scripts/build.sh"
. "$top/scripts/wine32.sh"
status=0
# Leave no Wine process behind (the persistent wineserver, the agent).
trap '. "$top/scripts/wine-env.sh"; wineserver -k >/dev/null 2>&1 || true' EXIT

# scripts/wine-run.sh logs every program Wine failed to start (and started again).
retry_logs=("$build/wine-run-retries.log" "$build32/wine-run-retries.log")
rm -f "${retry_logs[@]}"

echo "== Wine test suites, static checks and the install test (x86_64)"
ctest --test-dir "$build" --output-on-failure || status=1

echo "== static checks of the 32-bit tree (i686): PE machine, exports, imports, import library, wire"
ctest --test-dir "$build32" -L static --output-on-failure || status=1

not_run=()
if wine32_available; then
    echo "== Wine test suites as 32-bit programs against the 64-bit agent (i686)"
    ctest --test-dir "$build32" -L wine --output-on-failure || status=1
else
    # Listed by name, never counted as passed.
    mapfile -t not_run < <(ctest --test-dir "$build32" -N -L wine | sed -n 's/^ *Test *#[0-9]*: \(.*\)$/\1 (32-bit)/p')
    not_run+=("test_install: its 32-bit checks")
fi

echo "== native codec tests (gcc, AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake -S "$top/tests/native" -B "$build/native-gcc" -G Ninja -DCMAKE_C_COMPILER=gcc >/dev/null
cmake --build "$build/native-gcc" >/dev/null
ctest --test-dir "$build/native-gcc" --output-on-failure || status=1

echo "== native codec tests and fuzz smoke (clang, libFuzzer)"
cmake -S "$top/tests/native" -B "$build/native-clang" -G Ninja -DCMAKE_C_COMPILER=clang -DNAP_FUZZ=ON >/dev/null
cmake --build "$build/native-clang" >/dev/null
ctest --test-dir "$build/native-clang" --output-on-failure || status=1

if [ ${#not_run[@]} -gt 0 ]; then
    echo "== NOT RUN: ${#not_run[@]} 32-bit runtime suite(s): this machine's Wine cannot run 32-bit programs"
    [ -f "$build/_deps/wine32.result" ] && sed 's/^/   setup: /' "$build/_deps/wine32.result"
    printf '   NOT RUN: %s\n' "${not_run[@]}"
fi

# Shown even when everything passed: a retried start is not a clean run.
retried=0 which=
for log in "${retry_logs[@]}"; do
    [ -s "$log" ] || continue
    retried=$((retried + $(grep -c '^[0-9]' "$log" || true)))
    which+="$(grep '^[0-9]' "$log" | cut -d' ' -f3 | tr -d ':' | tr '\n' ' ')"
done
echo "== $retried program start(s) retried${which:+: ${which% }}"
for log in "${retry_logs[@]}"; do
    if [ -s "$log" ]; then sed 's/^/   /' "$log"; fi
done
echo "== all the tests took $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
exit $status
