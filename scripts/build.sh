#!/usr/bin/env bash
# Set up (scripts/setup.sh) and build everything: the x86_64 tree in build/
# and the i686 tree in build/i686 (32-bit ECs' and SHAs' DLLs and tools).
# SPDX-License-Identifier: LGPL-2.1-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${NAP_BUILD_DIR:-$top/build}
bash "$top/scripts/setup.sh"
cmake --build "$build"
# After the 64-bit tree: the 32-bit tree's tests take its napagent.exe.
cmake --build "${NAP_BUILD32_DIR:-$build/i686}"
