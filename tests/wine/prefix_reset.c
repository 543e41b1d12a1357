/*
 * prefix_reset.exe: scripts/wine-run.sh puts the prefix back before and after each suite
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test_support.h"

/* prefix_reset.exe <label>: prints "<label>: put back ..." when it found
 * something a suite changed; exits 0 either way (the runner's reset is not a test). */
int main(int argc, char **argv)
{
    test_install_crash_handler();
    test_reset_prefix(argc > 1 ? argv[1] : "prefix_reset");
    return 0;
}
