#!/usr/bin/env bash
# scripts/install.sh in a fresh Wine prefix, as a user runs it: install, an
# unmodified EC and SHA run from an unrelated folder, an upgrade, a
# reinstall, an uninstall; the agent's state (registrations, enable flags,
# settings, a cached SoH) survives each, and uninstall leaves the prefix as
# install found it.  With Wine's 32-bit half (wine32) the same for the 32-bit
# DLLs; without it those checks are NOT RUN (said, not counted as passed).
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/checks.sh"
. "$top/scripts/wine32.sh"
build=${NAP_BUILD_DIR:-$top/build}
work=$build/install-test
ec_id=79857 sha_id=79856
version=$(sed -n 's/^project(opennap VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")
next_version=${version%.*}.$(( ${version##*.} + 1 ))
state_key='HKLM\System\CurrentControlSet\Control\NapAgent'
binding_clsid='{9443B89B-6564-496A-B19C-6C6D22709045}'

export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" NAP_INSTALL_NO_BUILD=1
unset DISPLAY NAP_WINEPREFIX
win() { timeout 120 wine "$@" </dev/null 2>/dev/null | tr -d '\r'; return "${PIPESTATUS[0]}"; }
cleanup() { [ -n "${responder:-}" ] && kill "$responder" 2>/dev/null; wineserver -k 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
rm -rf "$work"
mkdir -p "$work/elsewhere"
# An unrelated folder: the programs alone, no DLL of ours beside them.
cp "$build/bin/sample_ec.exe" "$build/bin/sample_sha.exe" "$build/bin/napresponder.exe" "$work/elsewhere/"
if wine32_available; then
    mkdir -p "$work/elsewhere32"
    cp "$build/i686/bin/sample_ec.exe" "$build/i686/bin/sample_sha.exe" "$work/elsewhere32/"
fi

install() { NAP_MSI_VERSION=$1 bash "$top/scripts/install.sh" "${@:2}"; }
# Files and registry keys of the prefix (keys as Wine saves them), to compare.
snapshot() {
    wineserver -w
    (cd "$WINEPREFIX" && find . -path ./dosdevices -prune -o -print | sort) > "$work/files.$1"
    grep -h '^\[' "$WINEPREFIX/system.reg" "$WINEPREFIX/user.reg" | sed 's/\] [0-9]*$/]/' | sort > "$work/keys.$1"
}
state() { win reg export "$state_key" "$(winepath -w "$work/state.$1" 2>/dev/null)" /y >/dev/null && cat "$work/state.$1"; }
pe_machine() { # 8664 or 014c
    local at; at=$(od -An -tu4 -j60 -N4 "$1" | tr -d ' ')
    od -An -tx2 -j$((at + 4)) -N2 "$1" | tr -d ' '
}
placed() { # placed <folder> <machine> <file...>
    local dir=$WINEPREFIX/drive_c/windows/$1 m=$2 f; shift 2
    for f in "$@"; do [ -f "$dir/$f" ] && [ "$(pe_machine "$dir/$f")" = "$m" ] || return 1; done
}
gone() { local f; for f in "$@"; do [ ! -e "$WINEPREFIX/drive_c/windows/$f" ] || return 1; done; }
installed_versions() {
    win reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s |
        awk '/DisplayName .*open NAP client$/ {on=1; next} on && /DisplayVersion/ {print $3; on=0}'
}
clsid_path() { # clsid_path 64|32
    win reg query "HKCR\\CLSID\\$binding_clsid\\InprocServer32" /ve /reg:$1 | awk '/REG_SZ/ {print $NF}'
}
registered() { [ "$(clsid_path "$1")" = "$2" ]; }
versions_are() { [ "$(installed_versions)" = "$1" ]; }
state_kept() { [ -s "$work/state.installed" ] && state "$1" | cmp -s - "$work/state.installed"; }
service_is() { win reg query 'HKLM\System\CurrentControlSet\Services\napagent' /v "$1" | grep -qi "$2"; }
no_service() { ! win reg query 'HKLM\System\CurrentControlSet\Services\napagent' /v ImagePath >/dev/null; }
# One SoH exchange of the sample EC, from the unrelated folder, against the
# sample health-policy server.
exchange() { # exchange <folder>
    local ready=$work/responder.ready
    rm -f "$ready"
    (cd "$work/elsewhere" && timeout 60 wine napresponder.exe --policy allow --once \
        --ready-file "$(winepath -w "$ready" 2>/dev/null)" </dev/null >"$work/responder.out" 2>&1) &
    responder=$!
    for _ in $(seq 300); do [ -f "$ready" ] && break; sleep 0.1; done
    (cd "$1" && timeout 60 wine sample_ec.exe --id $ec_id </dev/null 2>&1) | tr -d '\r' > "$work/ec.out"
    local status=${PIPESTATUS[0]}
    wait "$responder"; responder=
    [ "$status" = 0 ] && grep -q '^isolation state: not restricted' "$work/ec.out"
}
# Only Windows Installer's own containers (the Installer folder, empty
# bookkeeping keys any package leaves), the agent's state and log, and keys
# Wine rewrites by itself may differ from before the install.
only_expected_left() {
    local extra
    extra=$(diff "$work/files.before" "$work/files.after" | grep '^[<>]' |
            grep -vxE '> \./drive_c/windows/(Installer|temp/napagent\.log(\.1)?)')
    extra+=$(diff "$work/keys.before" "$work/keys.after" | grep '^[<>]' |
             grep -vxE '> \[Software\\\\Classes\\\\Installer\\\\(Features|Products|UpgradeCodes)\]' |
             grep -vxE '> \[Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Installer\\\\(UpgradeCodes|UserData\\\\S-1-5-18\\\\(Components|Products))\]' |
             grep -vE '^> \[System\\\\CurrentControlSet\\\\Control\\\\NapAgent(\\\\|\])' |
             grep -vE '^[<>] \[Software\\\\Microsoft\\\\Windows NT\\\\CurrentVersion\\\\NetworkCards')
    [ -z "$extra" ] || { echo "$extra"; return 1; }
}

if wine32_available; then checks_begin 30; else checks_begin 26; fi
check "a fresh prefix" bash -c "wineboot --init >/dev/null 2>&1; wineserver -w; test -f '$WINEPREFIX/system.reg'"
snapshot before
check "install.sh installs $version" install "$version"
check "64-bit qagent.dll, qutil.dll, napagent.exe, napctl.exe in system32" \
    placed system32 8664 qagent.dll qutil.dll napagent.exe napctl.exe
check "32-bit qagent.dll, qutil.dll, napctl.exe in syswow64" placed syswow64 014c qagent.dll qutil.dll napctl.exe
check "the napagent service is system32's napagent.exe" service_is ImagePath 'system32\\napagent.exe'
check "... demand-start (Start 3), as Windows installs it" service_is Start 0x3
check "regsvr32 (64-bit) registered system32's qagent.dll" registered 64 'C:\windows\system32\qagent.dll'
check "napctl is on the path (from an unrelated folder)" bash -c "cd '$work/elsewhere' && timeout 60 wine napctl ping </dev/null"
check "register and enable the sample EC with napctl" bash -c \
    "timeout 60 wine napctl register $ec_id --name 'Sample EC' </dev/null && timeout 60 wine napctl enable $ec_id </dev/null"
check "an SHA linked against qutil.dll registers from an unrelated folder" bash -c \
    "cd '$work/elsewhere' && timeout 60 wine sample_sha.exe --register --id $sha_id </dev/null"
check "napctl set client-timeout 4321" win napctl set client-timeout 4321
# A cached SoH as the agent stores it (System-Health-Id 0x137F0): it must outlive everything below.
check "a cached SoH in the agent's state" win reg add "$state_key\\Shas\\$sha_id" /v CachedSoH /t REG_BINARY /d 00020004000137f0 /f
check "the sample EC, from an unrelated folder, makes an exchange" exchange "$work/elsewhere"
state installed >/dev/null
check "install.sh upgrades to $next_version" install "$next_version"
check "one product installed, version $next_version" versions_are "$next_version"
check "the upgrade kept registrations, enable flags, settings, the cached SoH" state_kept upgraded
check "the EC makes an exchange after the upgrade" exchange "$work/elsewhere"
check "install.sh again reinstalls $next_version" install "$next_version"
check "the reinstall kept the agent's state" state_kept reinstalled
if wine32_available; then
    check "regsvr32 (32-bit) registered syswow64's qagent.dll in the 32-bit view" \
        registered 32 'C:\windows\syswow64\qagent.dll'
    check "a 32-bit EC from an unrelated folder makes an exchange with the 64-bit agent" exchange "$work/elsewhere32"
    check "a 32-bit SHA linked against qutil.dll registers from an unrelated folder" bash -c \
        "cd '$work/elsewhere32' && timeout 60 wine sample_sha.exe --register --id 79855 </dev/null"
    state installed >/dev/null
else
    echo "NOT RUN (no wine32): 32-bit registration in the 32-bit view; a 32-bit EC and SHA from an unrelated folder; their removal"
fi
check "install.sh --uninstall" bash "$top/scripts/install.sh" --uninstall
check "system32's and syswow64's files are gone" gone system32/qagent.dll system32/qutil.dll system32/napagent.exe \
    system32/napctl.exe syswow64/qagent.dll syswow64/qutil.dll syswow64/napctl.exe
check "the service is gone" no_service
check "qagent.dll's class is unregistered" registered 64 ""
if wine32_available; then
    check "... in the 32-bit view too" registered 32 ""
fi
check "no product is installed" versions_are ""
check "the agent's state outlived the uninstall" state_kept uninstalled
snapshot after
check "uninstall left the prefix as install found it (but for the agent's state and log)" only_expected_left
checks_end
