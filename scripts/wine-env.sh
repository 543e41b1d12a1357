# Sourced by the scripts: the Wine environment of a build tree.
# SPDX-License-Identifier: LGPL-2.1-or-later
: "${NAP_BUILD_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}"
# The i686 tree's suites share the x86_64 tree's prefix (NAP_WINEPREFIX).
export WINEPREFIX=${NAP_WINEPREFIX:-$NAP_BUILD_DIR/wineprefix}
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY

# A persistent wineserver (and a first process) with stdio detached, so that
# CTest does not wait for them and later processes start in milliseconds.
nap_wine_warm() {
    wineserver -p </dev/null >/dev/null 2>&1 &
    timeout 60 wine cmd /c exit </dev/null >/dev/null 2>&1 || true
}
