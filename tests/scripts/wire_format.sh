#!/usr/bin/env bash
# The NapAgent's private protocol has one wire for 32-bit and 64-bit clients.
#   wire_format.sh --idl napagent_rpc.idl
#       the IDL names no type whose size depends on the bitness: its wire is
#       made of fixed-size NDR types (BYTE, UINT16/32/64, BOOL, enums, GUID,
#       FILETIME), strings, arrays and pointers, which NDR marshals alike for
#       both (a pointer is a 4-byte referent id on the wire either way)
#   wire_format.sh --stubs wire32/napagent_rpc_c.c wire64/napagent_rpc_c.c
#       widl's procedure format strings for --win32 and --win64 describe the
#       same procedures, with the same parameters, in the same order, with
#       the same directions, attributes and base types, once what only
#       describes memory (stack offsets and sizes, type offsets, the server's
#       buffer sizes) is left out
# Prints the difference and exits 1 when there is one.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

case ${1:-} in
--idl)
    # Comments out, then every identifier that names a pointer-sized type.
    if sed 's://.*$::' "$2" | tr '\n' ' ' | sed 's:/\*[^*]*\*\+\([^/*][^*]*\*\+\)*/: :g' \
        | grep -oEw '__int3264|(U?INT|U?LONG|DWORD)_PTR|S?SIZE_T|size_t|ssize_t|HANDLE|H[A-Z]+|LP[A-Z]*VOID|PVOID|WPARAM|LPARAM|intptr_t|uintptr_t|ptrdiff_t' \
        | grep -vx 'HRESULT' | sort -u | grep .; then
        echo "wire_format: $2 names the types above, whose size depends on the bitness" >&2
        exit 1
    fi
    exit 0 ;;
--stubs)
    # The procedure format string, as the lines that say what goes on the wire.
    wire() {
        sed -n '/ProcFormatString =/,/^};/p' "$1" | grep -E '\((procedure|parameter) [^)]*\)|\(return value\)|flags:|FC_|(client|server) buffer =|params \*/' \
            | grep -vE 'stack (offset|size)|type offset' \
            | sed -E 's/^[ \t]*(NdrFcShort\([^)]*\)|0x[0-9a-f]+),?[ \t]*//; s/^\/\* [0-9]+ /\/* /; s/, *srv size=[0-9]+//'
    }
    w32=$(wire "$2") w64=$(wire "$3")
    [ "$(echo "$w32" | grep -c 'procedure')" -ge 10 ] || { echo "wire_format: no procedures found in $2" >&2; exit 1; }
    if ! diff <(echo "$w32") <(echo "$w64"); then
        echo "wire_format: the 32-bit and 64-bit stubs differ on the wire (above)" >&2
        exit 1
    fi
    exit 0 ;;
esac
echo "usage: wire_format.sh --idl FILE | --stubs WIRE32.c WIRE64.c" >&2
exit 2
