/*
 * What the benchmark programs share: timing and series of measurements
 *
 * Copyright 2026 The open NAP client authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_stats.h"

LARGE_INTEGER qpc_frequency;

double elapsed_us(LARGE_INTEGER start, LARGE_INTEGER end)
{
    return (double)(end.QuadPart - start.QuadPart) * 1e6 / (double)qpc_frequency.QuadPart;
}

BOOL series_init(struct series *series, const char *name, size_t capacity)
{
    series->name = name;
    series->count = 0;
    series->capacity = capacity;
    series->us = malloc(capacity * sizeof(*series->us));
    return series->us != NULL;
}

void series_add(struct series *series, double us)
{
    if (series->count < series->capacity) series->us[series->count++] = us;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

struct summary summarize(const struct series *series)
{
    struct summary s = { series->count, 0, 0, 0, 0 };
    double *sorted, total = 0;
    size_t i, rank;

    if (!series->count || !(sorted = malloc(series->count * sizeof(*sorted)))) return s;
    memcpy(sorted, series->us, series->count * sizeof(*sorted));
    qsort(sorted, series->count, sizeof(*sorted), compare_double);
    for (i = 0; i < series->count; i++) total += sorted[i];
    s.mean = total / (double)series->count;
    s.min = sorted[0];
    s.median = series->count % 2 ? sorted[series->count / 2]
                                 : (sorted[series->count / 2 - 1] + sorted[series->count / 2]) / 2;
    rank = (series->count * 99 + 99) / 100;
    s.p99 = sorted[rank ? rank - 1 : 0];
    free(sorted);
    return s;
}

void print_summary(const struct series *series, const char *note)
{
    struct summary s = summarize(series);

    printf("%-40s n=%-5u median %9.1f us  p99 %9.1f us  mean %9.1f us  min %9.1f us%s%s\n", series->name,
           (unsigned)s.count, s.median, s.p99, s.mean, s.min, note ? "  " : "", note ? note : "");
}
