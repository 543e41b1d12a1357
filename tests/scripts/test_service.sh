#!/usr/bin/env bash
# napagent.exe as a real Wine service: install, start, answer, stop, start on
# demand (napctl), the README's sequence as a new user meets it, uninstall.
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

checks_begin 28
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
check "the service logged its start in this run" logged_now 'napagent: running'
check "the service logged its stop in this run" logged_now 'napagent: stopped'
check "napctl ping starts the stopped service" napctl ping
check "the service is RUNNING again" state_is RUNNING
sc stop napagent >/dev/null
check "sc stop brings it to STOPPED again" state_is STOPPED

# The README's sequence as a new user runs it: no persistent wineserver, so
# Wine ends the service soon after the prefix's last ordinary process (here
# sc) exits, and `napctl register` meets a stopped agent.  Measured: the
# agent's process ends ~1.6 s after sc exits, the wineserver ~2.1 s after.
# Every process that may start a wineserver has its stdio detached: CTest
# would wait for it.
wineserver -k; wineserver -w
timeout 30 wine sc start napagent </dev/null >/dev/null 2>&1
sc_exited=$(date +%s%N)
check "Wine ends the service once sc has exited (wineserver gone within 30 s)" timeout 30 wineserver -w
echo "   Wine ended the prefix $(( ($(date +%s%N) - sc_exited) / 1000000 )) ms after sc exited"
check "napctl register after Wine ended the service" \
    napctl register 79617 --name "DHCP Quarantine Enforcement Client"
check "napctl enable" napctl enable 79617
check "napctl list shows it" bash -c \
    "timeout 30 wine '$bin/napctl.exe' list </dev/null 2>/dev/null | grep -q '79617 .*DHCP Quarantine Enforcement Client'"
check "napctl set client-timeout 4321" napctl set client-timeout 4321
timeout 30 wineserver -w
nap_wine_warm
check "uninstall the service" timeout 30 wine "$bin/napagent.exe" --uninstall
check "the service is gone" bash -c \
    "! timeout 30 wine reg query 'HKLM\\System\\CurrentControlSet\\Services\\napagent' /v ImagePath </dev/null"
check "with no service installed napctl says so" bash -c \
    "timeout 30 wine '$bin/napctl.exe' ping </dev/null 2>&1 | grep -q 'not running and the napagent service is not installed'"
check "... and exits with status 3" bash -c \
    "timeout 30 wine '$bin/napctl.exe' ping </dev/null >/dev/null 2>&1; [ \$? -eq 3 ]"
# Uninstalling the service removes the service, not the agent's state: it
# lives outside the service's key (docs/registry-layout.md), so a reinstall or
# an upgrade finds every registration, enable flag and setting again.
check "the registrations outlive the service (HKLM\\...\\Control\\NapAgent)" bash -c \
    "timeout 30 wine reg query 'HKLM\\System\\CurrentControlSet\\Control\\NapAgent\\Enforcers\\79617' </dev/null"
check "install the service again" timeout 30 wine "$bin/napagent.exe" --install
check "the EC is still registered and enabled" bash -c \
    "timeout 30 wine '$bin/napctl.exe' list </dev/null 2>/dev/null | grep -qE '^79617 +0x0*13701 +yes '"
check "the setting is still set (4321 = 0x10e1)" bash -c \
    "timeout 30 wine reg query 'HKLM\\System\\CurrentControlSet\\Control\\NapAgent\\Parameters' /v ClientCallTimeoutMs </dev/null | grep -qi 0x10e1"
# An agent from before issue 12 kept the same keys in the service's key: the
# agent moves them once, the first time it starts without a state key.
state=HKLM\\System\\CurrentControlSet\\Control\\NapAgent legacy=HKLM\\System\\CurrentControlSet\\Services\\napagent
sc stop napagent >/dev/null
check "stop the service" state_is STOPPED
export_file=$(mktemp -u).reg
timeout 30 wine reg export "$state" "$(winepath -w "$export_file" 2>/dev/null)" /y </dev/null >/dev/null 2>&1
# reg export writes UTF-16; reg import reads UTF-8 too.
iconv -f UTF-16 -t UTF-8 "$export_file" | sed '1s/^\xEF\xBB\xBF//; s/Control\\NapAgent/Services\\napagent/' > "$export_file.txt"
mv "$export_file.txt" "$export_file"
timeout 30 wine reg delete "$state" /f </dev/null >/dev/null 2>&1
timeout 30 wine reg import "$(winepath -w "$export_file" 2>/dev/null)" </dev/null >/dev/null 2>&1
rm -f "$export_file"
check "an older agent's layout: the EC in the service's key, no state key" bash -c \
    "timeout 30 wine reg query '$legacy\\Enforcers\\79617' </dev/null && ! timeout 30 wine reg query '$state' </dev/null"
check "the agent moves it: the EC is registered and enabled" bash -c \
    "timeout 30 wine '$bin/napctl.exe' list </dev/null 2>/dev/null | grep -qE '^79617 +0x0*13701 +yes '"
check "... in the state key, and no longer in the service's key" bash -c \
    "timeout 30 wine reg query '$state\\Enforcers\\79617' </dev/null && ! timeout 30 wine reg query '$legacy\\Enforcers' </dev/null"
checks_end
