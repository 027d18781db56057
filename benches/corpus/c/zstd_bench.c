/* zstd_bench.c - driver of the zstd corpus program (zstd from the zstd-sys
 * crate, see ../build.sh): compress generated text at levels 1, 3 and 9 with a
 * reused context, decompress it back, verify it, and fold the compressed sizes
 * and contents into the checksum.
 * Usage: zstd [scale]   (scale 1 = 4 MiB per level, 3 rounds) */
#include <stdlib.h>
#include "zstd.h"
#include "sample.h"
#include "gen.h"

int main(int argc, char **argv) {
    double scale = sample_scale(argc, argv);
    size_t n = (size_t)sample_count(4 << 20, scale, 4096);
    int rounds = 3;
    size_t cap = ZSTD_compressBound(n);
    uint8_t *data = malloc(n), *back = malloc(n), *comp = malloc(cap);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!data || !back || !comp || !cctx || !dctx) { fprintf(stderr, "zstd: out of memory\n"); return 1; }
    uint64_t h = sample_mix(0, n);
    double t0 = sample_now_ms();
    for (int r = 0; r < rounds; r++) {
        gen_text(data, n, 99u + (uint32_t)r);
        static const int LEVELS[] = {1, 3, 9};
        for (int l = 0; l < 3; l++) {
            size_t c = ZSTD_compressCCtx(cctx, comp, cap, data, n, LEVELS[l]);
            if (ZSTD_isError(c)) { fprintf(stderr, "zstd: %s\n", ZSTD_getErrorName(c)); return 1; }
            size_t d = ZSTD_decompressDCtx(dctx, back, n, comp, c);
            if (ZSTD_isError(d) || d != n || memcmp(back, data, n) != 0) {
                fprintf(stderr, "zstd: round trip differs\n");
                return 1;
            }
            h = sample_mix(h, c);
            h = sample_mix(h, gen_fnv(comp, c, 0xcbf29ce484222325ull));
            if (r == 0) printf("level %d: %zu -> %zu bytes\n", LEVELS[l], n, c);
        }
    }
    double t1 = sample_now_ms();
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
    sample_report(h, t0, t1);
    return 0;
}
