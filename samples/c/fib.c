/* fib.c - recursive Fibonacci: call-heavy, tiny function bodies.
 * Usage: fib [scale]   (each round computes fib(24..26)) */
#include "sample.h"

#define FIB_ROUNDS 10000 /* rounds at scale 1 */

SAMPLE_NOINLINE static uint32_t fib(uint32_t n) {
    if (n < 2) return n;
    return fib(n - 1) + fib(n - 2);
}

int main(int argc, char **argv) {
    double scale = sample_scale(argc, argv);
    int64_t rounds = sample_count(FIB_ROUNDS, scale, 1);
    /* volatile: keeps the compiler from evaluating fib at compile time */
    volatile uint32_t base = 24;
    uint64_t h = 0;
    double t0 = sample_now_ms();
    for (int64_t r = 0; r < rounds; r++) {
        uint32_t n = base + (uint32_t)(r % 3);
        h = sample_mix(h, fib(n));
    }
    double t1 = sample_now_ms();
    sample_report(h, t0, t1);
    return 0;
}
