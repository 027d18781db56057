/* qsort.c - hand-written quicksort (median of three, insertion sort for short
 * ranges) of pseudo-random 32-bit keys: data-dependent branches, swaps, recursion.
 * Usage: qsort [scale] */
#include "sample.h"

#define MAX_KEYS 200000  /* keys in the largest round */
#define ROUNDS 180         /* rounds at scale 1 */

static uint32_t rng_state;

static uint32_t xorshift32(void) {
    uint32_t x = rng_state;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    return rng_state = x;
}

static void insertion_sort(uint32_t *a, int32_t lo, int32_t hi) {
    for (int32_t i = lo + 1; i <= hi; i++) {
        uint32_t v = a[i];
        int32_t j = i - 1;
        while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
        a[j + 1] = v;
    }
}

static inline void swap(uint32_t *a, int32_t i, int32_t j) {
    uint32_t t = a[i]; a[i] = a[j]; a[j] = t;
}

SAMPLE_NOINLINE static void quicksort(uint32_t *a, int32_t lo, int32_t hi) {
    while (hi - lo > 16) {
        int32_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) swap(a, mid, lo);
        if (a[hi] < a[lo]) swap(a, hi, lo);
        if (a[hi] < a[mid]) swap(a, hi, mid);
        uint32_t pivot = a[mid];
        int32_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) { swap(a, i, j); i++; j--; }
        }
        /* recurse into the smaller side, loop on the larger: O(log n) stack */
        if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
        else { quicksort(a, i, hi); hi = j; }
    }
    insertion_sort(a, lo, hi);
}

int main(int argc, char **argv) {
    double scale = sample_scale(argc, argv);
    int64_t rounds = sample_count(ROUNDS, scale, 1);
    uint32_t *keys = malloc(MAX_KEYS * sizeof *keys);
    if (!keys) return 1;
    rng_state = 2463534242u;
    uint64_t h = 0;
    double t0 = sample_now_ms();
    for (int64_t r = 0; r < rounds; r++) {
        int32_t n = MAX_KEYS / 4 * (int32_t)(1 + r % 4);   /* 50k, 100k, 150k, 200k keys */
        /* every other round has many duplicate keys */
        uint32_t range = (r & 1) ? 1000u : 1000000007u;
        for (int32_t i = 0; i < n; i++) keys[i] = xorshift32() % range;
        quicksort(keys, 0, n - 1);
        for (int32_t i = 1; i < n; i++)
            if (keys[i - 1] > keys[i]) { printf("not sorted at %d\n", (int)i); return 1; }
        h = sample_mix(h, keys[0]);
        h = sample_mix(h, keys[n / 2]);
        h = sample_mix(h, keys[n - 1]);
    }
    double t1 = sample_now_ms();
    sample_report(h, t0, t1);
    free(keys);
    return 0;
}
