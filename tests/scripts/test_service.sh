#!/usr/bin/env bash
# napagent.exe as a real Wine service: install, start, answer, stop, uninstall.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/wine-env.sh"
bin=$NAP_BUILD_DIR/bin
passed=0 failed=0
check() { # check <description> <command...>
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "ok: $what"
    else failed=$((failed + 1)); echo "FAILED: $what"; fi
}
sc() { timeout 30 wine sc "$@" </dev/null 2>/dev/null | tr -d '\r'; }
state_is() { for _ in $(seq 100); do sc query napagent | grep -q "$1" && return 0; sleep 0.1; done; return 1; }
napctl() { timeout 30 wine "$bin/napctl.exe" "$@" </dev/null; }

nap_wine_warm
timeout 30 wine "$bin/napagent.exe" --uninstall </dev/null >/dev/null 2>&1
check "install the service" timeout 30 wine "$bin/napagent.exe" --install
check "installing twice is harmless" timeout 30 wine "$bin/napagent.exe" --install
# Wine's sc has no qc: read the service key (Start 3 = SERVICE_DEMAND_START).
check "the service is demand-start" bash -c \
    "timeout 30 wine reg query 'HKLM\\System\\CurrentControlSet\\Services\\napagent' /v Start </dev/null | grep -q 0x3"
sc start napagent >/dev/null
check "sc start brings it to RUNNING" state_is RUNNING
check "the agent answers over ncalrpc" napctl ping
sc stop napagent >/dev/null
check "sc stop brings it to STOPPED" state_is STOPPED
check "a stopped agent is reported as not running" bash -c \
    "timeout 30 wine '$bin/napctl.exe' ping </dev/null 2>&1 | grep -q 'not running'"
check "the service logged its start and stop" bash -c \
    "grep -q 'napagent: running' '$WINEPREFIX/drive_c/windows/temp/napagent.log'"
check "uninstall the service" timeout 30 wine "$bin/napagent.exe" --uninstall
check "the service is gone" bash -c \
    "! timeout 30 wine reg query 'HKLM\\System\\CurrentControlSet\\Services\\napagent' /v ImagePath </dev/null"
echo "service: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
