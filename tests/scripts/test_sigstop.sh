#!/usr/bin/env bash
# A real SIGSTOP of napagent.exe: an EC's calls return RPC_E_TIMEOUT within
# the configured bound, and the binding works again after SIGCONT.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/wine-env.sh"
. "$here/checks.sh"
bin=$NAP_BUILD_DIR/bin
ec_id=0x000137E5
bound_ms=400
napctl() { timeout 30 wine "$bin/napctl.exe" "$@" </dev/null; }
# Waits for the child's file; fails at once if the child is gone.
wait_file() {
    for _ in $(seq 3000); do
        [ -e "$1" ] && return 0
        kill -0 "$child" 2>/dev/null || return 1
        sleep 0.01
    done
    return 1
}
# The Unix pid of this prefix's napagent.exe (other prefixes may run one too).
agent_pid() {
    local pid
    for pid in $(pgrep -f 'napagent\.exe'); do
        tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qx "WINEPREFIX=$WINEPREFIX" && { echo "$pid"; return 0; }
    done
    return 1
}

dir=$(mktemp -d)
trap 'kill -CONT "$pid" 2>/dev/null; kill "$child" 2>/dev/null; napctl set client-timeout 5000 >/dev/null 2>&1;
      [ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
pid= child=
checks_begin 10
nap_wine_warm
timeout 30 wine regsvr32 /s "$bin/qagent.dll" </dev/null >/dev/null 2>&1
wine "$bin/napagent.exe" --console --log "$bin/napagent-sigstop.log" </dev/null >/dev/null 2>&1 &
disown $!   # killed by the trap: no "Killed" line from bash
for _ in $(seq 200); do napctl ping >/dev/null 2>&1 && break; sleep 0.05; done
check "the agent answers" napctl ping
pid=$(agent_pid)
check "found the agent's Unix pid" test -n "$pid"
check "register the EC" napctl register "$ec_id"
check "enable the EC" napctl enable "$ec_id"
check "bound the calls at $bound_ms ms" napctl set client-timeout "$bound_ms"

wine "$bin/test_recovery.exe" --child-sigstop "$ec_id" "$(winepath -w "$dir" 2>/dev/null)" </dev/null >"$dir/child.log" 2>&1 &
child=$!
check "the EC bound and made an exchange" wait_file "$dir/bound"
kill -STOP "$pid"
check "SIGSTOP: the agent is stopped" bash -c "grep -q '^State:.*T' /proc/$pid/status"
touch "$dir/stopped"
check "the EC's calls returned within the bound" wait_file "$dir/timed"
kill -CONT "$pid"
touch "$dir/continued"
wait "$child"
code=$?
check "after SIGCONT the binding works again (child exit $code)" test "$code" -eq 0
sed 's/\r$//' "$dir/child.log"
check "unregister the EC" napctl unregister "$ec_id"
checks_end
