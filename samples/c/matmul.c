/* matmul.c - dense f64 matrix multiplication (i-k-j loop order), repeated:
 * memory loads/stores in nested loops, float multiply-add.
 * Usage: matmul [scale] */
#include "sample.h"

#define N 200          /* matrix dimension */
#define REPS 800       /* multiplications at scale 1 */

static double A[N * N], B[N * N], C[N * N];

/* C = A * B */
SAMPLE_NOINLINE static void multiply(void) {
    for (int i = 0; i < N * N; i++) C[i] = 0.0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++) {
            double aik = A[i * N + k];
            for (int j = 0; j < N; j++) C[i * N + j] += aik * B[k * N + j];
        }
}

int main(int argc, char **argv) {
    double scale = sample_scale(argc, argv);
    int64_t reps = sample_count(REPS, scale, 1);
    uint32_t seed = 12345;
    for (int i = 0; i < N * N; i++) {
        seed = seed * 1103515245u + 12345u;
        A[i] = (double)((seed >> 16) % 1000) / 500.0 - 1.0;
        seed = seed * 1103515245u + 12345u;
        B[i] = (double)((seed >> 16) % 1000) / 500.0 - 1.0;
    }
    uint64_t h = 0;
    double t0 = sample_now_ms();
    for (int64_t r = 0; r < reps; r++) {
        multiply();
        /* feed a little of the result back so repetitions are not identical */
        A[(r * 7) % (N * N)] = C[(r * 13) % (N * N)] * 0.001;
        h = sample_mix(h, sample_f64_bits(C[(r * 31) % (N * N)]));
    }
    double t1 = sample_now_ms();
    double sum = 0.0;
    for (int i = 0; i < N * N; i++) sum += C[i];
    h = sample_mix(h, sample_f64_bits(sum));
    sample_report(h, t0, t1);
    return 0;
}
