#!/usr/bin/env bash
# The main job: build, register qagent.dll and qutil.dll, start the NapAgent
# service, register and enable the sample enforcement client, and show NAP at
# work against the sample health-policy server.
#   scripts/run.sh            the story: the sample SHA falls ill, the server
#                             restricts the machine, the SHA fixes itself and
#                             access comes back (exits non-zero if it does not)
#   scripts/run.sh allow|restrict|probation
#                             one SoH exchange under that fixed policy
# SPDX-License-Identifier: LGPL-2.1-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-story}
case $mode in
story|allow|restrict|probation) ;;
*) echo "usage: $0 [allow|restrict|probation]" >&2; exit 2 ;;
esac
bash "$top/scripts/build.sh"
. "$top/scripts/wine-env.sh"
bin=$NAP_BUILD_DIR/bin
out=$NAP_BUILD_DIR/run
ec_id=79857    # 0x137F1, the Windows SDK sample QEC's id
sha_id=79856   # 0x137F0, the Windows SDK sample SHA's id
wine_bin() { timeout 60 wine "$bin/$1" "${@:2}" </dev/null; }

step() { printf '\n== %s\n' "$*"; }
cleanup() {
    [ -n "${sha:-}" ] && kill "$sha" 2>/dev/null || true
    [ -n "${responder:-}" ] && kill "$responder" 2>/dev/null || true
    timeout 30 wine sc stop napagent </dev/null >/dev/null 2>&1 || true
    wineserver -k >/dev/null 2>&1 || true
}
trap cleanup EXIT
mkdir -p "$out"

# wait_for <seconds> <command...>: poll until the command succeeds.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
}

# start_responder <policy> <napresponder options...>: in the background, ready to accept.
start_responder() {
    local ready=$out/napresponder.ready
    rm -f "$ready"
    timeout 120 wine "$bin/napresponder.exe" --policy "$1" "${@:2}" --ready-file "$(winepath -w "$ready")" \
        </dev/null > "$out/napresponder.out" 2>&1 &
    responder=$!
    wait_for 30 test -f "$ready" || { echo "run: napresponder did not start" >&2; cat "$out/napresponder.out" >&2; exit 1; }
}

nap_wine_warm

step "regsvr32 qagent.dll and qutil.dll"
for dll in qagent.dll qutil.dll; do
    timeout 60 wine regsvr32 "$(winepath -w "$bin/$dll")" </dev/null 2>&1 | tr -d '\r'
done

step "install and start the NapAgent service"
wine_bin napagent.exe --install | tr -d '\r'
timeout 30 wine sc start napagent </dev/null >/dev/null 2>&1 || true
running() { timeout 30 wine sc query napagent </dev/null 2>/dev/null | grep -q RUNNING; }
wait_for 30 running || true
timeout 30 wine sc query napagent </dev/null | tr -d '\r' | grep -E "SERVICE_NAME|STATE"
wine_bin napctl.exe ping | tr -d '\r'

step "register and enable the sample enforcement client $ec_id"
wine_bin napctl.exe register $ec_id --name "Sample enforcement client" --vendor "open NAP client" >/dev/null 2>&1 || true
wine_bin napctl.exe enable $ec_id | tr -d '\r'

if [ "$mode" != story ]; then
    step "start the health-policy server (policy: $mode)"
    start_responder "$mode" --once

    step "sample enforcement client: one exchange"
    wine_bin sample_ec.exe --id $ec_id | tr -d '\r'
    wait "$responder" 2>/dev/null || true
    responder=
    step "what the server decided"
    tr -d '\r' < "$out/napresponder.out"

    step "the agent's state"
    wine_bin napctl.exe list | tr -d '\r'
    wine_bin napctl.exe state | tr -d '\r'
    exit 0
fi

# The story.  The SHA registers through INapClientManagement, as an SHA's
# installer would; registering again over a previous run's entry may fail,
# what matters is that the agent lists it afterwards.
step "register the sample system health agent $sha_id"
wine_bin sample_sha.exe --register --id $sha_id | tr -d '\r' || true
sha_listed() { wine_bin napctl.exe list 2>/dev/null | tr -d '\r' | grep -qiE "\b($sha_id|0x0*137f0)\b"; }
sha_listed || { echo "run: the agent does not list SHA $sha_id" >&2; wine_bin napctl.exe list >&2 || true; exit 1; }

# Every registered SHA gets a report entry, and the health policy wants all
# of them compliant: SHAs left registered by earlier runs of the test suites
# in this prefix would keep the machine restricted for ever.
for id in $(wine_bin napctl.exe list | tr -d '\r' | sed -n '/^system health agents:/,$p' | awk '$1 ~ /^[0-9]+$/ {print $1}'); do
    [ "$id" = $sha_id ] || wine_bin napctl.exe unregister-sha "$id" | tr -d '\r'
done
# And the agent polls a fix-up at its documented pace, whatever a test set.
timeout 30 wine reg delete 'HKLM\System\CurrentControlSet\Control\NapAgent\Parameters' /v FixupPollMs /f \
    </dev/null >/dev/null 2>&1 || true

step "start the health-policy server (policy: health, 3 exchanges)"
start_responder health --count 3

step "start the sample SHA (scenario: healthy, falls ill, fixes itself)"
timeout 60 wine "$bin/sample_sha.exe" --id $sha_id --scenario --duration 25000 </dev/null > "$out/sample_sha.out" 2>&1 &
sha=$!
# The EC's first SoH must carry the SHA's own SoH, not a "no SoH yet" substitute.
sha_ready() { grep -q "^sha: GetSoHRequest: SoH set" "$out/sample_sha.out"; }
if ! wait_for 30 sha_ready; then
    echo "run: the sample SHA never gave the agent its SoH" >&2
    tr -d '\r' < "$out/sample_sha.out" >&2
    exit 1
fi
tr -d '\r' < "$out/sample_sha.out"

step "sample enforcement client: exchanges until access is restored"
ec_status=0
timeout 90 wine "$bin/sample_ec.exe" --id $ec_id --until-recovered --timeout 30000 </dev/null 2>&1 \
    | tr -d '\r' | grep -vE "^callback: GetConnections" || ec_status=1

step "what the SHA saw (until it unbinds)"
sha_status=0
wait "$sha" || sha_status=$?
sha=
tr -d '\r' < "$out/sample_sha.out"

step "what the server decided"
responder_status=0
wait "$responder" || responder_status=$?
responder=
tr -d '\r' < "$out/napresponder.out"

step "the agent's state"
wine_bin napctl.exe list | tr -d '\r'
wine_bin napctl.exe isolation 2>/dev/null | tr -d '\r' || true
wine_bin napctl.exe state | tr -d '\r'

step "the story"
ok=1
check() { if "${@:2}"; then echo "ok:     $1"; else echo "FAILED: $1"; ok=0; fi; }
sha_log() { grep -q "$1" "$out/sample_sha.out"; }
responder_log() { grep -q "$1" "$out/napresponder.out"; }
check "the server restricted the unhealthy machine" responder_log "policy health -> restricted access"
check "the SHA was told to fix itself" sha_log "^sha: fix-up: started"
check "the SHA fixed itself" sha_log "^sha: fix-up: done"
check "the server allowed the machine again" responder_log "exchange 3: .*policy health -> not restricted"
check "the enforcement client saw access restored" test "$ec_status" = 0
check "the SHA ended cleanly" test "$sha_status" = 0
check "the server served its 3 exchanges" test "$responder_status" = 0
[ $ok = 1 ]
