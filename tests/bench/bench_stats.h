/*
 * What the benchmark programs share: timing and series of measurements
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef NAP_BENCH_STATS_H
#define NAP_BENCH_STATS_H

#include <windows.h>
#include <stddef.h>

/* QueryPerformanceCounter ticks as microseconds. */
extern LARGE_INTEGER qpc_frequency;
double elapsed_us(LARGE_INTEGER start, LARGE_INTEGER end);

struct series
{
    const char *name;
    double *us;
    size_t count, capacity;
};

struct summary { size_t count; double median, p99, mean, min; };

BOOL series_init(struct series *series, const char *name, size_t capacity);
void series_add(struct series *series, double us);
struct summary summarize(const struct series *series);
/* One line: name, count, median, p99, mean and min in microseconds, then note. */
void print_summary(const struct series *series, const char *note);

#endif
