#!/usr/bin/env bash
# Set up (scripts/setup.sh) and build everything into build/.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/setup.sh"
cmake --build "${NAP_BUILD_DIR:-$top/build}"
