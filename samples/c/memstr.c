/* memstr.c - memory and string work: a text buffer grown with realloc, then
 * strchr/strlen/strstr/memcmp/memmove/memcpy passes and FNV-1a hashing of lines.
 * Exercises libc's string routines, memory.grow and unaligned byte access.
 * Usage: memstr [scale] */
#include <string.h>
#include "sample.h"

#define ROUNDS 75                 /* documents at scale 1 */
#define DOC_BYTES (2u << 20)      /* bytes per document (grown from 1 KiB) */

static const char *const WORDS[] = {
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    "india", "juliett", "kilo", "lima", "mike", "november", "oscar", "papa",
    "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray",
    "yankee", "zulu", "webassembly", "baseline", "optimizing", "debugger",
};
#define NWORDS (sizeof WORDS / sizeof WORDS[0])

static uint32_t rng = 88172645u;
static uint32_t next_rand(void) {
    rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
    return rng;
}

static uint32_t fnv1a(const char *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) { h ^= (uint8_t)p[i]; h *= 16777619u; }
    return h;
}

/* Builds a document of random words and newlines; returns it, NUL-terminated. */
SAMPLE_NOINLINE static char *build_document(size_t want, size_t *len_out, uint32_t *reallocs) {
    size_t cap = 1024, len = 0;
    char *doc = malloc(cap);
    while (len < want) {
        const char *w = WORDS[next_rand() % NWORDS];
        size_t wl = strlen(w);
        if (len + wl + 2 > cap) {
            cap *= 2;
            doc = realloc(doc, cap);
            (*reallocs)++;
        }
        memcpy(doc + len, w, wl);
        len += wl;
        doc[len++] = (next_rand() & 7) == 0 ? '\n' : ' ';
    }
    doc[len] = '\0';
    *len_out = len;
    return doc;
}

SAMPLE_NOINLINE static uint64_t process(char *doc, size_t len) {
    uint64_t h = 0;
    /* 1. lines: find with strchr, measure with strlen, hash */
    uint32_t lines = 0, longest = 0, line_hash = 0;
    for (char *p = doc; *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        size_t n = strlen(p);
        if (n > longest) longest = (uint32_t)n;
        line_hash ^= fnv1a(p, n) + lines;
        lines++;
        if (!nl) break;
        *nl = '\n';
        p = nl + 1;
    }
    h = sample_mix(h, lines);
    h = sample_mix(h, longest);
    h = sample_mix(h, line_hash);
    /* 2. substring search */
    uint32_t hits = 0;
    for (const char *p = doc; (p = strstr(p, "webassembly debugger")) != NULL; p++) hits++;
    h = sample_mix(h, hits);
    /* 3. copy, shift in place, compare */
    char *copy = malloc(len + 1);
    memcpy(copy, doc, len + 1);
    memmove(copy + 1, copy, len - 1);
    memmove(copy, copy + 3, len - 3);
    int cmp = memcmp(copy, doc, len / 2);
    h = sample_mix(h, (uint64_t)(cmp < 0 ? 1 : cmp > 0 ? 2 : 0));
    h = sample_mix(h, fnv1a(copy, len));
    free(copy);
    return h;
}

int main(int argc, char **argv) {
    double scale = sample_scale(argc, argv);
    int64_t rounds = sample_count(ROUNDS, scale, 1);
    uint64_t h = 0;
    uint32_t reallocs = 0;
    size_t total = 0;
    double t0 = sample_now_ms();
    for (int64_t r = 0; r < rounds; r++) {
        size_t len;
        /* documents of 1x .. 2x DOC_BYTES so the heap keeps growing */
        char *doc = build_document(DOC_BYTES + (size_t)(r % 5) * (DOC_BYTES / 4), &len, &reallocs);
        h = sample_mix(h, process(doc, len));
        total += len;
        free(doc);
    }
    double t1 = sample_now_ms();
    printf("documents %d, bytes %zu, reallocs %u\n", (int)rounds, total, reallocs);
    sample_report(h, t0, t1);
    return 0;
}
