#!/usr/bin/env bash
# The main job: build, register qagent.dll, start the NapAgent service, register
# and enable the sample enforcement client, run one real SoH exchange against
# the sample health-policy server, and show the result.
#   scripts/run.sh [allow|restrict|probation]
# SPDX-License-Identifier: LGPL-2.1-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
policy=${1:-restrict}
bash "$top/scripts/build.sh"
. "$top/scripts/wine-env.sh"
bin=$NAP_BUILD_DIR/bin
ec_id=79857   # 0x137F1, the Windows SDK sample QEC's id
wine_bin() { timeout 60 wine "$bin/$1" "${@:2}" </dev/null; }

step() { printf '\n== %s\n' "$*"; }
cleanup() {
    timeout 30 wine sc stop napagent </dev/null >/dev/null 2>&1 || true
    [ -n "${responder:-}" ] && kill "$responder" 2>/dev/null || true
    wineserver -k >/dev/null 2>&1 || true
}
trap cleanup EXIT

nap_wine_warm

step "regsvr32 qagent.dll"
timeout 60 wine regsvr32 "$(winepath -w "$bin/qagent.dll")" </dev/null 2>&1 | tr -d '\r'

step "install and start the NapAgent service"
wine_bin napagent.exe --install | tr -d '\r'
timeout 30 wine sc start napagent </dev/null >/dev/null 2>&1 || true
for _ in $(seq 100); do
    timeout 30 wine sc query napagent </dev/null 2>/dev/null | grep -q RUNNING && break
    sleep 0.1
done
timeout 30 wine sc query napagent </dev/null | tr -d '\r' | grep -E "SERVICE_NAME|STATE"
wine_bin napctl.exe ping | tr -d '\r'

step "register and enable the sample enforcement client $ec_id"
wine_bin napctl.exe register $ec_id --name "Sample enforcement client" --vendor "open NAP client" >/dev/null 2>&1 || true
wine_bin napctl.exe enable $ec_id | tr -d '\r'

step "start the health-policy server (policy: $policy)"
ready=$NAP_BUILD_DIR/napresponder.ready
rm -f "$ready"
timeout 90 wine "$bin/napresponder.exe" --once --policy "$policy" --ready-file "$(winepath -w "$ready")" </dev/null \
    > "$NAP_BUILD_DIR/napresponder.out" 2>&1 &
responder=$!
for _ in $(seq 200); do [ -f "$ready" ] && break; sleep 0.05; done

step "sample enforcement client: one exchange"
wine_bin sample_ec.exe --id $ec_id | tr -d '\r'
wait "$responder" 2>/dev/null || true
responder=
step "what the server decided"
tr -d '\r' < "$NAP_BUILD_DIR/napresponder.out"

step "the agent's state"
wine_bin napctl.exe list | tr -d '\r'
wine_bin napctl.exe state | tr -d '\r'
