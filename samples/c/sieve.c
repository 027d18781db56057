/* sieve.c - sieve of Eratosthenes over a byte array, repeated: tight loops of
 * byte stores with a stride, then a counting pass.
 * Usage: sieve [scale] */
#include <string.h>
#include "sample.h"

#define LIMIT 4000000  /* sieve up to this number */
#define REPS 200       /* sieves at scale 1 */

SAMPLE_NOINLINE static uint32_t sieve(uint8_t *composite, uint32_t limit) {
    memset(composite, 0, limit + 1);
    composite[0] = composite[1] = 1;
    /* 64-bit square: i * i overflows 32 bits near the top of larger limits */
    for (uint32_t i = 2; (uint64_t)i * i <= limit; i++) {
        if (composite[i]) continue;
        for (uint32_t j = i * i; j <= limit; j += i) composite[j] = 1;
    }
    uint32_t count = 0;
    for (uint32_t i = 0; i <= limit; i++) count += !composite[i];
    return count;
}

int main(int argc, char **argv) {
    double scale = sample_scale(argc, argv);
    int64_t reps = sample_count(REPS, scale, 1);
    uint8_t *composite = malloc(LIMIT + 1);
    if (!composite) return 1;
    uint64_t h = 0;
    double t0 = sample_now_ms();
    for (int64_t r = 0; r < reps; r++) {
        /* vary the limit a little so every repetition does real work */
        uint32_t limit = LIMIT - (uint32_t)(r % 7) * 1000;
        uint32_t primes = sieve(composite, limit);
        h = sample_mix(h, primes);
    }
    double t1 = sample_now_ms();
    printf("primes below %u: %u\n", LIMIT + 1, sieve(composite, LIMIT));
    sample_report(h, t0, t1);
    free(composite);
    return 0;
}
