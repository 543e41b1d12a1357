#!/usr/bin/env bash
# 32-bit and 64-bit clients of the one 64-bit NapAgent, as on 64-bit Windows:
# a 32-bit EC and a 64-bit EC bound at once, each making its exchange; then
# a 32-bit SHA whose SoH reaches the server through a 64-bit EC (the server's
# health policy restricts the machine while the SHA is ill, the agent routes
# the answer back to the 32-bit SHA, which fixes itself, and access comes
# back).  Each DLL is registered by regsvr32 of its own bitness.
# Run from the i686 tree (wine-run.sh): NAP_BIN_DIR is its bin (32-bit
# programs, the 64-bit napagent.exe), NAP_BIN64_DIR the x86_64 tree's bin.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/wine-env.sh"
. "$here/checks.sh"
bin32=$NAP_BIN_DIR
bin64=${NAP_BIN64_DIR:?NAP_BIN64_DIR: the bin folder of the x86_64 tree}
ec64=79857 ec32=79858 sha_id=79856
out=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
      timeout 30 wine "$bin64/napagent.exe" --uninstall </dev/null >/dev/null 2>&1; rm -rf "$out"' EXIT

napctl32() { timeout 60 wine "$bin32/napctl.exe" "$@" </dev/null 2>&1 | tr -d '\r'; return "${PIPESTATUS[0]}"; }
pe_machine() { local at; at=$(od -An -tu4 -j60 -N4 "$1" | tr -d ' '); od -An -tx2 -j$((at + 4)) -N2 "$1" | tr -d ' '; }
# regsvr32 of each DLL's own bitness: SysWOW64's for a 32-bit DLL.
regsvr32_own() {
    local dll dir
    for dll in "$@"; do
        dir=system32
        [ "$(pe_machine "$dll")" = 014c ] && dir=syswow64
        timeout 60 wine "C:\\windows\\$dir\\regsvr32.exe" /s "$(winepath -w "$dll" 2>/dev/null)" </dev/null >/dev/null 2>&1 || return 1
    done
}
bitnesses_right() {
    [ "$(pe_machine "$bin32/sample_ec.exe")" = 014c ] && [ "$(pe_machine "$bin32/sample_sha.exe")" = 014c ] &&
        [ "$(pe_machine "$bin64/sample_ec.exe")" = 8664 ] && [ "$(pe_machine "$bin32/napagent.exe")" = 8664 ]
}
register_ecs() {
    napctl32 register $ec64 && napctl32 enable $ec64 && napctl32 register $ec32 && napctl32 enable $ec32
}
wait_for() { # wait_for <seconds> <command...>
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.1; done
}
start_responder() { # start_responder <name> <napresponder options...>
    local ready=$out/$1.ready
    timeout 120 wine "$bin64/napresponder.exe" "${@:2}" --ready-file "$(winepath -w "$ready" 2>/dev/null)" \
        </dev/null >"$out/$1.out" 2>&1 &
    pids+=($!)
    wait_for 30 test -f "$ready"
}
both_bound() {
    local list; list=$(napctl32 list)
    echo "$list" | grep -qE "^$ec64 +0x[0-9a-f]+ +yes +yes " && echo "$list" | grep -qE "^$ec32 +0x[0-9a-f]+ +yes +yes "
}
# sample_ec.exe's exit status 0 and the decision it read.
ec_allowed() { [ "$(cat "$out/$1.status")" = 0 ] && grep -q '^isolation state: not restricted' "$out/$1.out"; }
run_ec() { # run_ec <name> <exe> <args...>: in the background, status to <name>.status
    (timeout 90 wine "$2" "${@:3}" </dev/null 2>&1 | tr -d '\r' > "$out/$1.out"; echo "${PIPESTATUS[0]}" > "$out/$1.status") &
    pids+=($!)
}
logged() { grep -q "$2" "$out/$1.out"; }

checks_begin 16
nap_wine_warm
check "the EC programs are 32-bit and 64-bit, the agent 64-bit" bitnesses_right
check "regsvr32 (64-bit) of the 64-bit qagent.dll and qutil.dll" regsvr32_own "$bin64/qagent.dll" "$bin64/qutil.dll"
check "regsvr32 (32-bit) of the 32-bit qagent.dll and qutil.dll" regsvr32_own "$bin32/qagent.dll" "$bin32/qutil.dll"
check "install the 64-bit NapAgent service" timeout 30 wine "$bin64/napagent.exe" --install
check "register and enable both ECs (32-bit napctl)" register_ecs

# Two ECs, one of each bitness, bound at once.
check "the server is ready for two exchanges" start_responder allow --policy allow --count 2
run_ec ec64 "$bin64/sample_ec.exe" --id $ec64 --hold 6000
run_ec ec32 "$bin32/sample_ec.exe" --id $ec32 --hold 6000
check "the agent lists the 64-bit EC and the 32-bit EC bound at once" wait_for 30 both_bound
wait "${pids[@]}" 2>/dev/null; pids=()
check "the 64-bit EC's exchange: not restricted" ec_allowed ec64
check "the 32-bit EC's exchange: not restricted" ec_allowed ec32

# A 32-bit SHA's SoH through a 64-bit EC, and the answer back to the SHA.
check "the 32-bit SHA registers" timeout 60 wine "$bin32/sample_sha.exe" --register --id $sha_id
check "the server is ready (health policy, 3 exchanges)" start_responder health --policy health --count 3
timeout 60 wine "$bin32/sample_sha.exe" --id $sha_id --scenario --duration 25000 </dev/null >"$out/sha.out" 2>&1 &
pids+=($!)
check "the 32-bit SHA gave the agent its SoH" wait_for 30 logged sha "^sha: GetSoHRequest: SoH set"
check "the 64-bit EC goes from restricted access back to not restricted" \
    timeout 90 wine "$bin64/sample_ec.exe" --id $ec64 --until-recovered --timeout 30000
check "the server saw the 32-bit SHA's entry (0x000137f0) and restricted the machine" \
    logged health "policy health -> restricted access.*0x000137f0 not compliant"
check "the agent routed the SoH response to the 32-bit SHA, which fixed itself" logged sha "^sha: fix-up: done"
check "the server allowed the machine again on the SHA's new SoH" logged health "policy health -> not restricted.*0x000137f0 compliant"
checks_end
