/* imgproc.c - an 8-bit grayscale image pipeline written as plain loops that
 * clang's -msimd128 auto-vectorizes: a saturating brightness/contrast step
 * (u8 -> i16 -> u8 with clamping), a 3x3 box blur (u16 sums, division by
 * multiply-shift), a histogram-free mean (u32 sum) and a float gain pass
 * (f32x4). Built twice: imgproc.wasm (-O2 -msimd128) and imgproc-g.wasm
 * (-O2 -g -msimd128, DWARF kept).
 * Usage: imgproc [scale] */
#include <string.h>
#include "sample.h"

#define W 512
#define H 512
#define REPS 1000 /* pipeline runs at scale 1 */

static uint8_t img[H][W];
static uint8_t tmp[H][W];
static float gain[W];

/* out = clamp((in - 128) * contrast / 64 + 128 + bright) for every pixel */
SAMPLE_NOINLINE static void adjust(uint8_t *restrict out, const uint8_t *restrict in,
                                   int n, int16_t contrast, int16_t bright) {
    for (int i = 0; i < n; i++) {
        int16_t v = (int16_t)((((int16_t)in[i] - 128) * contrast) >> 6);
        v = (int16_t)(v + 128 + bright);
        out[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

/* 3x3 box blur of the inner pixels; the border is copied. */
SAMPLE_NOINLINE static void blur(uint8_t out[H][W], uint8_t in[H][W]) {
    memcpy(out[0], in[0], W);
    memcpy(out[H - 1], in[H - 1], W);
    for (int y = 1; y < H - 1; y++) {
        out[y][0] = in[y][0];
        out[y][W - 1] = in[y][W - 1];
        for (int x = 1; x < W - 1; x++) {
            uint16_t s = (uint16_t)(in[y - 1][x - 1] + in[y - 1][x] + in[y - 1][x + 1] +
                                    in[y][x - 1] + in[y][x] + in[y][x + 1] +
                                    in[y + 1][x - 1] + in[y + 1][x] + in[y + 1][x + 1]);
            /* s / 9 for s <= 2295: (s * 7282) >> 16 */
            out[y][x] = (uint8_t)(((uint32_t)s * 7282u) >> 16);
        }
    }
}

/* Multiplies every row by a per-column gain in float and clamps. */
SAMPLE_NOINLINE static void apply_gain(uint8_t *restrict row, const float *restrict g, int n) {
    for (int i = 0; i < n; i++) {
        float v = (float)row[i] * g[i];
        v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
        row[i] = (uint8_t)v;
    }
}

SAMPLE_NOINLINE static uint32_t sum(const uint8_t *p, int n) {
    uint32_t s = 0;
    for (int i = 0; i < n; i++) s += p[i];
    return s;
}

int main(int argc, char **argv) {
    double scale = sample_scale(argc, argv);
    int64_t reps = sample_count(REPS, scale, 1);
    uint32_t seed = 12345;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            seed = seed * 1103515245u + 12345u;
            img[y][x] = (uint8_t)((x + y) / 4 + (seed >> 27));
        }
    for (int x = 0; x < W; x++) gain[x] = 0.75f + (float)(x % 64) / 128.0f;
    uint64_t h = 0;
    double t0 = sample_now_ms();
    for (int64_t r = 0; r < reps; r++) {
        adjust(&tmp[0][0], &img[0][0], W * H, (int16_t)(60 + r % 9), (int16_t)(r % 5) - 2);
        blur(img, tmp);
        for (int y = 0; y < H; y += 8) apply_gain(img[y], gain, W);
        h = sample_mix(h, sum(&img[0][0], W * H));
    }
    double t1 = sample_now_ms();
    printf("mean %u\n", sum(&img[0][0], W * H) / (W * H));
    sample_report(h, t0, t1);
    return 0;
}
