# Sourced by the scripts: Wine's 32-bit half (wine32:i386), which 32-bit
# programs (ECs, SHAs, the 32-bit test suites) need and 64-bit ones do not.
#   wine32_available      0 when this machine's Wine can run 32-bit programs
#                         (wine32:i386 installed, and a kernel that runs them)
#   wine32_setup DEPS     try once per build tree to install it (setup.sh);
#                         say plainly when it cannot be, and go on
#
# Copyright 2026 The open NAP client authors
# SPDX-License-Identifier: LGPL-2.1-or-later

# Wine 8's 32-bit half is made of 32-bit Linux programs: the kernel must run
# i386 ELF programs (IA32 emulation).  Some do not (ENOEXEC, "Exec format
# error"), whatever is installed: try the smallest one there is, exit(42).
ia32_programs_run() {
    local elf status
    elf=$(mktemp) || return 1
    printf '\x7f\x45\x4c\x46\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00\x01\x00\x00\x00\x54\x80\x04\x08\x34\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x34\x00\x20\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x80\x04\x08\x00\x80\x04\x08\x60\x00\x00\x00\x60\x00\x00\x00\x05\x00\x00\x00\x00\x10\x00\x00\xb8\x01\x00\x00\x00\xbb\x2a\x00\x00\x00\xcd\x80' > "$elf"
    chmod +x "$elf"
    "$elf" 2>/dev/null
    status=$?
    rm -f "$elf"
    [ $status = 42 ]
}

wine32_installed() {
    dpkg-query -W -f='${Status}' wine32:i386 2>/dev/null | grep -q "install ok installed"
}

# 32-bit programs can run: the package is there and the kernel runs i386 programs.
wine32_available() {
    wine32_installed && ia32_programs_run
}

wine32_notice() {
    echo "setup: NOTE: Wine's 32-bit half cannot run 32-bit programs here: $1."
    echo "setup:       The 32-bit tree is built and checked statically; its Wine suites are NOT RUN."
}

kernel_note() {
    ia32_programs_run || echo "; and this kernel does not run 32-bit (i386) programs at all (an i386 ELF exits with ENOEXEC, \"Exec format error\"), so Wine's 32-bit half could not run here even if installed"
}

# Debian needs i386 as a foreign architecture for wine32:i386.  When the
# install fails, the architecture is taken away again (if setup added it and
# no i386 package came in), so that the next apt-get update does not fail on
# an i386 index the mirror cannot serve.
wine32_try_install() {
    local log=$1 added=0
    if ! dpkg --print-foreign-architectures | grep -qx i386; then
        dpkg --add-architecture i386 && added=1
    fi
    {
        apt-get update || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wine32:i386
    } >"$log" 2>&1
    local status=$?
    if [ $status -ne 0 ] && [ $added = 1 ] && ! dpkg-query -W -f='${Package}\n' '*:i386' 2>/dev/null | grep -q .; then
        dpkg --remove-architecture i386 && apt-get update -qq >/dev/null 2>&1 || true
    fi
    return $status
}

wine32_setup() {
    local deps=$1 stamp=$1/wine32.result
    wine32_available && return 0
    mkdir -p "$deps"
    if [ -f "$stamp" ] && [ -z "${NAP_WINE32_RETRY:-}" ]; then
        wine32_notice "$(cat "$stamp") (NAP_WINE32_RETRY=1 tries again)"
        return 0
    fi
    if wine32_installed; then
        echo "wine32:i386 is installed$(kernel_note)" > "$stamp"
        wine32_notice "$(cat "$stamp")"
        return 0
    fi
    echo "setup: trying to install Wine's 32-bit half: dpkg --add-architecture i386; apt-get install wine32:i386"
    if wine32_try_install "$deps/wine32-install.log" && wine32_installed; then
        echo "setup: installed wine32:i386"
        if wine32_available; then rm -f "$stamp"; return 0; fi
        echo "wine32:i386 is installed$(kernel_note)" > "$stamp"
        wine32_notice "$(cat "$stamp")"
        return 0
    fi
    # Say why, in apt's words: the first errors and the broken dependencies.
    local why
    why=$( { grep -E '^E:' "$deps/wine32-install.log" | grep -vE 'Some index files|Unable to correct problems'
             grep -E '^ [a-z0-9.+-]+(:i386)? : (Depends|Breaks|PreDepends)' "$deps/wine32-install.log" | head -2; } \
           | sed 's/^ *//; s/ *\[IP: [^]]*\]//' | tr '\n' ';' | sed 's/;$//; s/;/; /g')
    echo "the install of wine32:i386 failed (${why:-see $deps/wine32-install.log}; log: $deps/wine32-install.log)$(kernel_note)" > "$stamp"
    wine32_notice "$(cat "$stamp")"
    return 0
}
