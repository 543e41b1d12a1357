#!/usr/bin/env bash
# napagent.exe as a real Wine service: install, start, answer, stop, uninstall.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/wine-env.sh"
. "$here/checks.sh"
bin=$NAP_BUILD_DIR/bin
log=$WINEPREFIX/drive_c/windows/temp/napagent.log
sc() { timeout 30 wine sc "$@" </dev/null 2>/dev/null | tr -d '\r'; }
state_is() { for _ in $(seq 100); do sc query napagent | grep -q "$1" && return 0; sleep 0.1; done; return 1; }
napctl() { timeout 30 wine "$bin/napctl.exe" "$@" </dev/null; }
# The service appends to one log for the prefix's whole life: read only what
# this run wrote, or a line an earlier run (or suite) wrote would pass.
logged_now() { tail -c +"$((log_start + 1))" "$log" 2>/dev/null | tr -d '\r' | grep -q "$1"; }
# Whatever happens, the service does not outlive the suite.
trap 'timeout 30 wine "$bin/napagent.exe" --uninstall </dev/null >/dev/null 2>&1' EXIT

checks_begin 11
nap_wine_warm
timeout 30 wine "$bin/napagent.exe" --uninstall </dev/null >/dev/null 2>&1
log_start=$(stat -c %s "$log" 2>/dev/null || echo 0)
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
check "the service logged its start in this run" logged_now 'napagent: running'
check "the service logged its stop in this run" logged_now 'napagent: stopped'
check "uninstall the service" timeout 30 wine "$bin/napagent.exe" --uninstall
check "the service is gone" bash -c \
    "! timeout 30 wine reg query 'HKLM\\System\\CurrentControlSet\\Services\\napagent' /v ImagePath </dev/null"
checks_end
