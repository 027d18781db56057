/* gen.h - deterministic test data for the corpus drivers: text-like bytes
 * (words, numbers, punctuation, some runs) from a 32-bit LCG, identical on
 * wasm32 and x86-64. */
#ifndef CORPUS_GEN_H
#define CORPUS_GEN_H

#include <stdint.h>
#include <string.h>

static const char *const GEN_WORDS[] = {
    "the", "of", "and", "to", "in", "is", "was", "that", "for", "on", "with", "as",
    "compiler", "function", "memory", "stack", "local", "value", "module", "table",
    "instruction", "branch", "return", "baseline", "optimized", "debugger", "frame"};

/* Fills buf[0..n) and returns n. */
static size_t gen_text(uint8_t *buf, size_t n, uint32_t seed) {
    uint32_t r = seed;
    size_t i = 0;
    while (i < n) {
        r = r * 1664525u + 1013904223u;
        uint32_t k = r >> 16;
        char tmp[32];
        size_t len;
        if (k % 11 == 0) {
            len = (size_t)(k % 9000) % 10 + 1;       /* digits */
            for (size_t j = 0; j < len; j++) tmp[j] = (char)('0' + (k >> j) % 10);
        } else if (k % 29 == 0) {
            len = 4 + k % 20;                          /* a run */
            memset(tmp, "-=* "[k % 4], len);
        } else {
            const char *w = GEN_WORDS[k % (sizeof GEN_WORDS / sizeof *GEN_WORDS)];
            len = strlen(w);
            memcpy(tmp, w, len);
        }
        tmp[len++] = (k % 13 == 0) ? '\n' : (k % 7 == 0) ? ',' : ' ';
        for (size_t j = 0; j < len && i < n; j++) buf[i++] = (uint8_t)tmp[j];
    }
    return n;
}

static uint64_t gen_fnv(const uint8_t *p, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

#endif
