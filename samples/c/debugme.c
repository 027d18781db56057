/* debugme.c - a small program to practise debugging with wdb.
 *
 * It parses a list of numbers from a string, prints statistics about them, and
 * then runs a long "smoothing" simulation that prints progress now and then.
 *
 *   debugme                 parse the built-in list, then simulate for a long
 *                           time (60M iterations: ~25 s under V8 Liftoff at -O0,
 *                           ~5 s native at gcc -O0),
 *                           printing progress 10 times along the way
 *   debugme ITERATIONS      the same with a given iteration count (0 = skip)
 *   debugme ITERATIONS "1 2 3 ..."   use your own list (at most 16 numbers;
 *                           with fewer, the bug reads an uninitialised slot)
 *
 * THE BUG (spoiler): the built-in list is 16 numbers that sum to 480, so the
 * average should be 30.00, but the program prints 31.00. mean() loops one
 * element too far (`i <= ds->count`) and reads values[16], which is past the
 * end of the array; in `struct dataset` the field after the array is `count`
 * (16), which is silently added to the sum. Ways to find it in wdb:
 *   - break in mean(), step over the loop, watch `i` and `sum`;
 *   - watch the memory of `ds`: values[16] and count share an address;
 *   - compare with variance(), which loops correctly.
 *
 * Build: clang-14 --target=wasm32-wasi -O0 -g -o debugme-g.wasm debugme.c
 * Written to be readable at -O0: one job per function, named locals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VALUES 16
#define DEFAULT_ITERATIONS 60000000
#define PROGRESS_LINES 10          /* progress is printed this many times */

struct dataset {
    int values[MAX_VALUES];
    int count;
};

struct stats {
    int min;
    int max;
    double mean;
    double variance;
    int median;
};

static const char *const BUILTIN_INPUT =
    "12, 45, 7, 30, 18, 52, 3, 41, 27, 36, 9, 60, 24, 15, 48, 53";

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Parses comma/space separated non-negative integers into ds; returns how many. */
static int parse_numbers(const char *text, struct dataset *ds) {
    ds->count = 0;
    const char *p = text;
    while (*p != '\0' && ds->count < MAX_VALUES) {
        if (!is_digit(*p)) {
            p++;
            continue;
        }
        int value = 0;
        while (is_digit(*p)) {
            value = value * 10 + (*p - '0');
            p++;
        }
        ds->values[ds->count] = value;
        ds->count++;
    }
    return ds->count;
}

static double mean(const struct dataset *ds) {
    int sum = 0;
    for (int i = 0; i <= ds->count; i++) {   /* BUG: should be i < ds->count */
        sum += ds->values[i];
    }
    return (double)sum / ds->count;
}

static double variance(const struct dataset *ds, double avg) {
    double acc = 0.0;
    for (int i = 0; i < ds->count; i++) {
        double d = ds->values[i] - avg;
        acc += d * d;
    }
    return acc / ds->count;
}

static void sort_values(int *values, int n) {
    for (int i = 1; i < n; i++) {
        int key = values[i];
        int j = i - 1;
        while (j >= 0 && values[j] > key) {
            values[j + 1] = values[j];
            j--;
        }
        values[j + 1] = key;
    }
}

static struct stats compute_stats(const struct dataset *ds) {
    struct stats st;
    int sorted[MAX_VALUES];
    memcpy(sorted, ds->values, sizeof(int) * (size_t)ds->count);
    sort_values(sorted, ds->count);
    st.min = sorted[0];
    st.max = sorted[ds->count - 1];
    st.median = sorted[ds->count / 2];
    st.mean = mean(ds);
    st.variance = variance(ds, st.mean);
    return st;
}

/* One smoothing step: every value moves a little towards its neighbours' mean. */
static unsigned smooth_step(int *cells, int n, unsigned iteration) {
    unsigned checksum = 0;
    int first = cells[0];
    for (int i = 0; i < n; i++) {
        int left = i > 0 ? cells[i - 1] : cells[n - 1];
        int right = i + 1 < n ? cells[i + 1] : first;
        int target = (left + right) / 2;
        cells[i] += (target - cells[i]) / 4;
        if ((iteration + (unsigned)i) % 97 == 0) cells[i] += 13;   /* keep it moving */
        checksum = checksum * 31u + (unsigned)cells[i];
    }
    return checksum;
}

static unsigned simulate(const struct dataset *ds, long iterations) {
    int cells[MAX_VALUES];
    unsigned total = 0;
    long progress_every = iterations / PROGRESS_LINES;
    if (progress_every < 1) progress_every = 1;
    memcpy(cells, ds->values, sizeof(int) * (size_t)ds->count);
    for (long it = 0; it < iterations; it++) {
        total ^= smooth_step(cells, ds->count, (unsigned)it);
        if ((it + 1) % progress_every == 0) {
            printf("progress: %ld / %ld iterations, state %08x\n", it + 1, iterations, total);
            fflush(stdout);
        }
    }
    return total;
}

int main(int argc, char **argv) {
    long iterations = argc > 1 ? atol(argv[1]) : DEFAULT_ITERATIONS;
    const char *input = argc > 2 ? argv[2] : BUILTIN_INPUT;
    struct dataset ds;

    if (parse_numbers(input, &ds) == 0) {
        printf("no numbers in input\n");
        return 1;
    }
    printf("parsed %d numbers\n", ds.count);

    struct stats st = compute_stats(&ds);
    printf("min %d, max %d, median %d\n", st.min, st.max, st.median);
    printf("average %.2f, variance %.2f\n", st.mean, st.variance);

    unsigned result = simulate(&ds, iterations);
    printf("simulation done: %ld iterations, result %08x\n", iterations, result);
    return 0;
}
