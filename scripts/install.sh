#!/usr/bin/env bash
# Install the open NAP client into a Wine prefix as Windows lays it out, or
# remove it again (docs/install.md).
#   bash scripts/install.sh              install, or upgrade what is installed
#   bash scripts/install.sh --uninstall  remove exactly what install added
# The prefix: $WINEPREFIX when set, else Wine's default, ~/.wine.
# It builds both trees, makes the MSI package (installer/opennap.wxs, msitools'
# wixl) and runs msiexec /i (or /x) in that prefix; then what wixl cannot
# express: regsvr32 of each bitness registers (or unregisters) qagent.dll and
# qutil.dll in its own registry view.  Registrations, enable flags, settings
# and cached SoHs are the agent's state, outside everything installed: an
# upgrade, a reinstall or an uninstall keeps them.
# Environment: NAP_MSI_VERSION (a.b.c) overrides the package's version;
# NAP_INSTALL_NO_BUILD=1 uses the trees as built (the tests).
# SPDX-License-Identifier: LGPL-2.1-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# The user's prefix, read before anything of ours sets WINEPREFIX.
target=${WINEPREFIX:-$HOME/.wine}
build=${NAP_BUILD_DIR:-$top/build}
build32=${NAP_BUILD32_DIR:-$build/i686}
mode=install
case ${1:-} in
"") ;;
--uninstall) mode=uninstall ;;
*) echo "usage: $0 [--uninstall]   (into \$WINEPREFIX, else ~/.wine)" >&2; exit 2 ;;
esac
product="open NAP client"
version=${NAP_MSI_VERSION:-$(sed -n 's/^project(opennap VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")}

say() { echo "install: $*"; }
win() { timeout 300 wine "$@" </dev/null; }

# The installed product's code and version, from the prefix's Uninstall key.
installed() {
    win reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s 2>/dev/null | tr -d '\r' |
        awk -v name="$product" '
            /^HKEY_/ { key = $0; sub(/.*\\/, "", key); shown = ""; next }
            $1 == "DisplayName" { sub(/^ *DisplayName +REG_SZ +/, ""); shown = $0 }
            $1 == "DisplayVersion" && shown == name { print key, $3 }'
}

# regsvr32 [/u] of both DLLs, each bitness with its own regsvr32.  A prefix
# whose Wine has no 32-bit half (wine32) cannot run SysWOW64's regsvr32: the
# 32-bit DLLs are installed but not registered, and we say so.
register() { # register "" | "/u"
    local sys dll
    for sys in system32 syswow64; do
        if [ "$sys" = syswow64 ] && [ ! -f "$WINEPREFIX/drive_c/windows/syswow64/regsvr32.exe" ]; then
            say "NOTE: this Wine cannot run 32-bit programs (no wine32): the 32-bit DLLs in syswow64 are not ${1:+un}registered"
            continue
        fi
        for dll in qagent.dll qutil.dll; do
            [ -f "$WINEPREFIX/drive_c/windows/$sys/$dll" ] || continue
            win "C:\\windows\\$sys\\regsvr32.exe" /s $1 "C:\\windows\\$sys\\$dll" >/dev/null 2>&1 ||
                { say "regsvr32 $1 $sys\\$dll failed"; [ -n "$1" ] || return 1; }
        done
    done
}

# Wine's msiexec removes a component's folder once it is empty, system
# folders included: SysWOW64 of a prefix without Wine's 32-bit half holds
# only our files.  Put back a folder that was there before.
msiexec_removing() { # msiexec_removing ARGS...
    local wow=$WINEPREFIX/drive_c/windows/syswow64 had=0
    [ -d "$wow" ] && had=1
    win msiexec "$@"
    local status=$?
    [ $had = 1 ] && mkdir -p "$wow"
    return $status
}

if [ "$mode" = install ] && [ -z "${NAP_INSTALL_NO_BUILD:-}" ]; then
    bash "$top/scripts/build.sh"
fi
export WINEPREFIX=$target WINEDEBUG=${WINEDEBUG:--all} WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY
say "prefix $WINEPREFIX"
log_dir=$build/install-logs
mkdir -p "$log_dir"
read -r code old_version <<<"$(installed | head -1)" || true

if [ "$mode" = uninstall ]; then
    if [ -z "${code:-}" ]; then say "$product is not installed"; exit 0; fi
    say "removing $product $old_version ($code)"
    register /u
    msiexec_removing /x "$code" /qn /l*v "$(winepath -w "$log_dir/uninstall.log")" ||
        { say "msiexec /x failed: $log_dir/uninstall.log"; exit 1; }
    wineserver -w
    say "removed; the agent's registrations and settings stay (HKLM\\System\\CurrentControlSet\\Control\\NapAgent)"
    exit 0
fi

msi=$build/opennap-$version.msi
# wixl takes the files' paths relative to the folder it runs in.
(cd "$build" && wixl -a x64 -D Version="$version" -D Bin64="$(realpath --relative-to=. "$build/bin")" \
    -D Bin32="$(realpath --relative-to=. "$build32/bin")" -o "$msi" "$top/installer/opennap.wxs") \
    2> >(grep -v 'GLib-GObject-WARNING\|^$' >&2)
if [ -n "${code:-}" ]; then
    # Unregistered first: the package that replaces it registers its own.
    register /u
    if [ "$old_version" = "$version" ]; then
        # The same version is no upgrade to Windows Installer: remove it first.
        say "reinstalling $product $version"
        msiexec_removing /x "$code" /qn /l*v "$(winepath -w "$log_dir/uninstall.log")" ||
            { say "msiexec /x failed: $log_dir/uninstall.log"; exit 1; }
    else
        say "upgrading $product $old_version to $version"
    fi
else
    say "installing $product $version"
fi
win msiexec /i "$(winepath -w "$msi")" /qn /l*v "$(winepath -w "$log_dir/install.log")" ||
    { say "msiexec /i failed: $log_dir/install.log"; exit 1; }
register ""
wineserver -w
say "installed: system32 (64-bit), syswow64 (32-bit), the napagent service (demand start); napctl on the path"
