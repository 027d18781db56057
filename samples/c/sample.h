/* sample.h - shared helpers of the wdb benchmark samples.
 *
 * Every benchmark sample:
 *   - takes an optional scale factor in argv[1] (default 1.0 = about one second
 *     natively at gcc -O2); work counts are integers derived from it, so small
 *     scales such as 0.01 give short, still deterministic runs;
 *   - prints "checksum <hex>" (deterministic for a given scale) and then
 *     "kernel_ms <ms>" (time of the main computation, CLOCK_MONOTONIC), the only
 *     line that differs from run to run.
 *
 * Portable between wasm32-wasi (clang) and x86-64 Linux (gcc): `long` is 32-bit
 * on wasm32, so only fixed-width integer types are used for anything that matters.
 */
#ifndef WDB_SAMPLE_H
#define WDB_SAMPLE_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The hot loop of every sample lives in a function that is called many times,
 * never inlined into main: wdb (like V8) has no on-stack replacement, so a
 * function can only move to a faster tier on its next call. */
#define SAMPLE_NOINLINE __attribute__((noinline))

static inline double sample_scale(int argc, char **argv) {
    if (argc < 2) return 1.0;
    char *end = NULL;
    double s = strtod(argv[1], &end);
    if (end == argv[1] || !(s > 0.0)) {
        fprintf(stderr, "usage: %s [scale > 0]\n", argv[0]);
        exit(2);
    }
    return s;
}

/* base * scale rounded to an integer, never below `min`. */
static inline int64_t sample_count(int64_t base, double scale, int64_t min) {
    double v = (double)base * scale + 0.5;
    int64_t n = (int64_t)v;
    return n < min ? min : n;
}

static inline double sample_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline void sample_report(uint64_t checksum, double t0_ms, double t1_ms) {
    printf("checksum %016" PRIx64 "\n", checksum);
    printf("kernel_ms %.3f\n", t1_ms - t0_ms);
}

/* 64-bit mixing step (splitmix64 finaliser) used to fold results into a checksum. */
static inline uint64_t sample_mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 30; h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27; h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

static inline uint64_t sample_f64_bits(double d) {
    union { double d; uint64_t u; } x;
    x.d = d;
    return x.u;
}

#endif
