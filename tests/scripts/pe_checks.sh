#!/usr/bin/env bash
# Static checks of one build tree, on every machine (no Wine needed): each
# binary's PE machine type, qagent.dll's and qutil.dll's exports, what every
# binary imports, qutil.dll's import library against mingw-w64's, and that
# the agent's private protocol has one wire for both bitnesses.
# Usage: pe_checks.sh TREE x86_64|i686 OBJDUMP SOURCE-DIR MINGW-LIBQUTIL
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
tree=$1 arch=$2 objdump=$3 src=$4 mingw_lib=$5
nm=${objdump%objdump}nm
bin=$tree/bin
here=$(cd "$(dirname "$0")" && pwd)
. "$here/checks.sh"
# IMAGE_FILE_HEADER.Machine: 0x8664 AMD64, 0x014c I386.
case $arch in
x86_64) format=8664 ;;
i686) format=014c ;;
*) echo "pe_checks: unknown arch $arch" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The PE machine type, read from the file's header (either bitness's objdump
# reads only its own): the PE header's offset is at 0x3c, "PE\0\0" then Machine.
pe_format() {
    local at
    at=$(od -An -tu4 -j60 -N4 "$1" | tr -d ' ')
    [ "$(od -An -c -j"$at" -N4 "$1" | tr -d ' ')" = 'PE\0\0' ] || { echo none; return; }
    od -An -tx2 -j$((at + 4)) -N2 "$1" | tr -d ' '
}
# The export table's names, one a line, sorted.
exports_of() { "$objdump" -p "$1" | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' | awk '/^\t\[/ {print $NF}' | sort; }
# The DLLs a binary imports, lower case, sorted.
dlls_of() { "$objdump" -p "$1" | awk '/DLL Name:/ {print tolower($3)}' | sort -u; }
# The names a binary imports from one DLL, sorted.
imports_from() {
    "$objdump" -p "$1" | awk -v dll="$(echo "$2" | tr A-Z a-z)" '
        /DLL Name:/ { on = (tolower($3) == dll); next }
        on && /^$/ { on = 0 }
        on && /^\t[0-9a-f]+\t/ { print $NF }' | sort
}
# qutil.def's exports that are not PRIVATE (what an import library offers).
def_exports() { awk '/^EXPORTS/ {on=1; next} on && NF && $0 !~ /PRIVATE/ && $1 !~ /^;/ {print $1}' "$1" | sort; }

# Our binaries, not the 64-bit agent the i686 tree borrows.
ours=()
for f in "$bin"/*.exe "$bin"/*.dll; do
    [ "$arch" = i686 ] && [ "$(basename "$f")" = napagent.exe ] && continue
    ours+=("$f")
done

all_of_machine() {
    local f bad=0
    for f in "${ours[@]}"; do
        [ "$(pe_format "$f")" = "$format" ] || { echo "  $(basename "$f"): $(pe_format "$f"), not $format"; bad=1; }
    done
    [ ${#ours[@]} -ge 20 ] && [ $bad = 0 ]
}
agent_is_64bit() { [ "$(pe_format "$bin/napagent.exe")" = 8664 ]; }
qagent_exports() {
    diff <(exports_of "$bin/qagent.dll") <(printf '%s\n' DllCanUnloadNow DllGetClassObject DllRegisterServer DllUnregisterServer)
}
qutil_exports() {
    diff <(exports_of "$bin/qutil.dll") <(awk '/^EXPORTS/ {on=1; next} on && NF {print $1}' "$src/src/qutil/qutil.def" | sort)
}
no_decorated_exports() { ! exports_of "$bin/qutil.dll" | grep -q '@'; }
# Only DLLs every Windows and Wine has (and qutil.dll): no MinGW runtime DLL.
system_imports_only() {
    local f d bad=0
    for f in "${ours[@]}"; do
        for d in $(dlls_of "$f"); do
            case $d in
            kernel32.dll|advapi32.dll|rpcrt4.dll|ole32.dll|oleaut32.dll|msvcrt.dll|user32.dll|ws2_32.dll|qutil.dll) ;;
            *) echo "  $(basename "$f") imports $d"; bad=1 ;;
            esac
        done
    done
    [ $bad = 0 ]
}
# The import library's symbols are mingw-w64's libqutil.a's (without the
# Dll* entry points, which are PRIVATE in ours as in Windows' qutil.lib).
implib_symbols() { "$nm" "$1" 2>/dev/null | awk '$2 == "I" && $3 ~ /^__imp_/ {print $3}' | grep -v '_Dll' | sort; }
implib_matches_mingw() {
    local ours_syms mingw_syms
    ours_syms=$(implib_symbols "$tree/lib/libqutil.a")
    mingw_syms=$(implib_symbols "$mingw_lib")
    [ -n "$ours_syms" ] && diff <(echo "$ours_syms") <(echo "$mingw_syms")
}
implib_decorated() {
    if [ "$arch" = i686 ]; then
        [ "$(implib_symbols "$tree/lib/libqutil.a" | grep -c '^__imp__[A-Za-z]*@[0-9]*$')" -eq 16 ]
    else
        [ "$(implib_symbols "$tree/lib/libqutil.a" | grep -c '^__imp_[A-Za-z]*$')" -eq 16 ]
    fi
}
# Every name a program imports from qutil.dll is one qutil.dll exports.
imports_resolve() { # imports_resolve PROGRAM MIN-COUNT
    local imported
    imported=$(imports_from "$bin/$1" qutil.dll)
    [ "$(echo "$imported" | grep -c .)" -ge "$2" ] || { echo "  $1 imports $(echo "$imported" | grep -c .) names"; return 1; }
    comm -23 <(echo "$imported") <(exports_of "$bin/qutil.dll") | sed 's/^/  unresolved: /' | grep . && return 1
    return 0
}
all_16_imported() { diff <(imports_from "$bin/$1" qutil.dll) <(def_exports "$src/src/qutil/qutil.def"); }

checks_begin 15
check "every binary of the tree is $arch (PE machine 0x$format; ${#ours[@]} of them)" all_of_machine
check "bin/napagent.exe is the one 64-bit agent" agent_is_64bit
check "qagent.dll exports the 4 COM entry points, nothing else" qagent_exports
check "qutil.dll exports qutil.def's 20 names" qutil_exports
check "qutil.dll's exports are undecorated, as Windows' are" no_decorated_exports
check "no binary imports a MinGW runtime DLL" system_imports_only
check "lib/libqutil.a has mingw-w64's libqutil.a's 16 import symbols" implib_matches_mingw
check "lib/libqutil.a's symbols are what $arch callers import" implib_decorated
check "link_qutil_ours.exe imports all 16 exports" all_16_imported link_qutil_ours.exe
check "... each resolves to a qutil.dll export" imports_resolve link_qutil_ours.exe 16
check "link_qutil_mingw.exe (mingw-w64's libqutil.a) imports all 16" all_16_imported link_qutil_mingw.exe
check "... each resolves to a qutil.dll export" imports_resolve link_qutil_mingw.exe 16
check "sample_sha.exe's qutil.dll imports resolve" imports_resolve sample_sha.exe 3
check "napagent_rpc.idl uses no type whose size depends on the bitness" \
    bash "$here/wire_format.sh" --idl "$src/idl/napagent_rpc.idl"
check "widl's --win32 and --win64 stubs make the same calls on the wire" \
    bash "$here/wire_format.sh" --stubs "$tree/generated/wire32/napagent_rpc_c.c" "$tree/generated/wire64/napagent_rpc_c.c"
checks_end
