#!/usr/bin/env bash
# Install and prepare everything the build and the tests need on Debian 12.
# Idempotent: when everything is already there it only checks and returns.
#
# Copyright 2026 The open NAP client authors
# SPDX-License-Identifier: LGPL-2.1-or-later
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${NAP_BUILD_DIR:-$top/build}
# The 32-bit (i686) tree: what 32-bit ECs and SHAs load from SysWOW64.
build32=${NAP_BUILD32_DIR:-$build/i686}
deps=$build/_deps

# wixl, msitools: the MSI package scripts/install.sh builds and checks.
packages=(mingw-w64 mingw-w64-tools wine wine64 libwine-dev cmake ninja-build dpkg-dev
          libcmocka-dev pkg-config clang libclang-rt-14-dev xz-utils wixl msitools)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    # A partial index failure (an out-of-sync mirror) need not stop the install.
    apt-get update -qq || echo "setup: apt-get update reported errors; installing anyway"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

. "$top/scripts/wine32.sh"
wine32_setup "$deps"

# CMocka is not packaged for MinGW: build Debian's source package with our
# toolchain, once per bitness (build_cmocka <arch> <prefix>).
build_cmocka() {
local arch=$1 cmocka_prefix=$2
if [ ! -f "$cmocka_prefix/lib/libcmocka.a" ]; then
    mkdir -p "$deps/src"
    if ! ls "$deps"/src/cmocka_*.orig.tar.xz >/dev/null 2>&1; then
        if ! grep -rqs '^Types: deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
            cat > /etc/apt/sources.list.d/nap-debsrc.sources <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
            apt-get update -qq
        fi
        (cd "$deps/src" && apt-get source --download-only cmocka >/dev/null 2>&1)
    fi
    rm -rf "$deps/src/cmocka-src" "$deps/cmocka-build"
    mkdir -p "$deps/src/cmocka-src"
    tar -xf "$deps"/src/cmocka_*.orig.tar.xz -C "$deps/src/cmocka-src" --strip-components=1
    cmake -S "$deps/src/cmocka-src" -B "$deps/cmocka-build" -G Ninja \
        -DCMAKE_TOOLCHAIN_FILE="$top/cmake/mingw-w64-$arch.cmake" \
        -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DWITH_STATIC_LIB=ON \
        -DWITH_EXAMPLES=OFF -DUNIT_TESTING=OFF -DPICKY_DEVELOPER=OFF \
        -DCMAKE_INSTALL_PREFIX="$cmocka_prefix" >/dev/null
    cmake --build "$deps/cmocka-build" >/dev/null
    cmake --install "$deps/cmocka-build" >/dev/null
    # Debian's 1.1.5 installs the static archive as libcmocka-static.a.
    [ -f "$cmocka_prefix/lib/libcmocka.a" ] || cp "$cmocka_prefix/lib/libcmocka-static.a" "$cmocka_prefix/lib/libcmocka.a"
    echo "setup: built CMocka for MinGW ($arch) in $cmocka_prefix"
fi
}
build_cmocka x86_64 "$deps/cmocka-mingw"
build_cmocka i686 "$deps/cmocka-mingw-i686"

if [ ! -f "$build/build.ninja" ]; then
    cmake -S "$top" -B "$build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$top/cmake/mingw-w64-x86_64.cmake" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMOCKA_PREFIX="$deps/cmocka-mingw" >/dev/null
fi
# The 32-bit tree's tests run against the 64-bit tree's agent (NAP_AGENT64_DIR).
if [ ! -f "$build32/build.ninja" ]; then
    cmake -S "$top" -B "$build32" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$top/cmake/mingw-w64-i686.cmake" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMOCKA_PREFIX="$deps/cmocka-mingw-i686" \
        -DNAP_AGENT64_DIR="$build/bin" >/dev/null
fi

# One Wine prefix per build tree, never ~/.wine.
export WINEPREFIX=$build/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    echo "setup: creating the Wine prefix $WINEPREFIX"
    unset DISPLAY
    wineboot --init </dev/null >/dev/null 2>&1 || true
    wineserver -w
fi
