/* zlib_bench.c - driver of the zlib corpus program (zlib from the libz-sys
 * crate, see ../build.sh): deflate generated text at levels 1, 6 and 9 through
 * the streaming API in 16 KiB chunks, inflate it back, verify it, and fold the
 * compressed sizes, CRC-32 and Adler-32 of both sides into the checksum.
 * Usage: zlib [scale]   (scale 1 = 1 MiB per level, 4 rounds) */
#include <stdlib.h>
#include "zlib.h"
#include "sample.h"
#include "gen.h"

#define CHUNK 16384

static uint8_t *compressed;
static size_t compressed_cap;

SAMPLE_NOINLINE static size_t deflate_all(const uint8_t *in, size_t n, int level) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit(&s, level) != Z_OK) { fprintf(stderr, "zlib: deflateInit\n"); exit(1); }
    size_t out = 0, pos = 0;
    int flush;
    do {
        size_t take = n - pos < CHUNK ? n - pos : CHUNK;
        s.next_in = (Bytef *)(in + pos);
        s.avail_in = (uInt)take;
        pos += take;
        flush = pos == n ? Z_FINISH : Z_NO_FLUSH;
        do {
            s.next_out = compressed + out;
            s.avail_out = (uInt)(compressed_cap - out < CHUNK ? compressed_cap - out : CHUNK);
            size_t before = s.avail_out;
            if (deflate(&s, flush) == Z_STREAM_ERROR) { fprintf(stderr, "zlib: deflate\n"); exit(1); }
            out += before - s.avail_out;
        } while (s.avail_out == 0);
    } while (flush != Z_FINISH);
    deflateEnd(&s);
    return out;
}

SAMPLE_NOINLINE static size_t inflate_all(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit(&s) != Z_OK) { fprintf(stderr, "zlib: inflateInit\n"); exit(1); }
    s.next_in = (Bytef *)in;
    s.avail_in = (uInt)n;
    size_t got = 0;
    int rc;
    do {
        s.next_out = out + got;
        s.avail_out = (uInt)(cap - got < CHUNK ? cap - got : CHUNK);
        size_t before = s.avail_out;
        rc = inflate(&s, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) { fprintf(stderr, "zlib: inflate %d\n", rc); exit(1); }
        got += before - s.avail_out;
    } while (rc != Z_STREAM_END);
    inflateEnd(&s);
    return got;
}

int main(int argc, char **argv) {
    double scale = sample_scale(argc, argv);
    size_t n = (size_t)sample_count(1 << 20, scale, 4096);
    int rounds = 4;
    uint8_t *data = malloc(n), *back = malloc(n);
    compressed_cap = n + n / 100 + 1024;
    compressed = malloc(compressed_cap);
    if (!data || !back || !compressed) { fprintf(stderr, "zlib: out of memory\n"); return 1; }
    uint64_t h = sample_mix(0, n);
    double t0 = sample_now_ms();
    for (int r = 0; r < rounds; r++) {
        gen_text(data, n, 7u + (uint32_t)r);
        static const int LEVELS[] = {1, 6, 9};
        for (int l = 0; l < 3; l++) {
            size_t c = deflate_all(data, n, LEVELS[l]);
            size_t d = inflate_all(compressed, c, back, n);
            if (d != n || memcmp(back, data, n) != 0) { fprintf(stderr, "zlib: round trip differs\n"); return 1; }
            h = sample_mix(h, c);
            h = sample_mix(h, crc32(0, compressed, (uInt)c));
            h = sample_mix(h, adler32(1, back, (uInt)d));
            if (r == 0) printf("level %d: %zu -> %zu bytes\n", LEVELS[l], n, c);
        }
    }
    double t1 = sample_now_ms();
    sample_report(h, t0, t1);
    return 0;
}
