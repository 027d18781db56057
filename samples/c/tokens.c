// tokens.c - a tokenizer written as a state machine whose states tail-call each other.
//
// Each state is a function that looks at one character and continues in the next state
// with `TAIL return`, which clang compiles to wasm `return_call`
// (built with -mtail-call by samples/build.sh). A text of any length runs in constant
// stack: the input below is repeated 200,000 times (2.6 million tail calls) after one
// pass over the sample sentence. Output: the counts of words, numbers and punctuation.
// In the debugger, `bt` inside a state shows one state frame, and notes on the caller
// that the frames in between were replaced by tail calls.
#include <stdio.h>
#include <string.h>

struct counts {
    long words;
    long numbers;
    long punct;
    long chars;
};

// Native builds with gcc (no musttail before gcc 15) rely on its sibling-call optimization.
#if defined(__clang__)
#define TAIL __attribute__((musttail))
#else
#define TAIL
#endif

static long in_space(const char *text, long at, long len, struct counts *c);
static long in_word(const char *text, long at, long len, struct counts *c);
static long in_number(const char *text, long at, long len, struct counts *c);

static int is_letter(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int is_digit(char ch) {
    return ch >= '0' && ch <= '9';
}

// Between tokens: start a word or a number, count punctuation.
static long in_space(const char *text, long at, long len, struct counts *c) {
    if (at == len) return c->words + c->numbers + c->punct;
    char ch = text[at];
    c->chars++;
    if (is_letter(ch)) {
        c->words++;
        TAIL return in_word(text, at + 1, len, c);
    }
    if (is_digit(ch)) {
        c->numbers++;
        TAIL return in_number(text, at + 1, len, c);
    }
    if (ch != ' ') c->punct++;
    TAIL return in_space(text, at + 1, len, c);
}

static long in_word(const char *text, long at, long len, struct counts *c) {
    if (at == len) return c->words + c->numbers + c->punct;
    char ch = text[at];
    c->chars++;
    if (is_letter(ch) || ch == '\'') {
        TAIL return in_word(text, at + 1, len, c);
    }
    if (ch != ' ') c->punct++;
    TAIL return in_space(text, at + 1, len, c);
}

static long in_number(const char *text, long at, long len, struct counts *c) {
    if (at == len) return c->words + c->numbers + c->punct;
    char ch = text[at];
    c->chars++;
    if (is_digit(ch)) {
        TAIL return in_number(text, at + 1, len, c);
    }
    if (ch != ' ') c->punct++;
    TAIL return in_space(text, at + 1, len, c);
}

static long tokenize(const char *text, long len, struct counts *c) {
    memset(c, 0, sizeof *c);
    return in_space(text, 0, len, c);
}

static char big[13 * 200000 + 1];

int main(void) {
    const char *sentence = "In 2025, Wasm 3.0 added tail calls; 10 states call 3 others.";
    struct counts c;
    long tokens = tokenize(sentence, (long)strlen(sentence), &c);
    printf("sentence: %ld tokens: %ld words, %ld numbers, %ld punctuation\n", tokens, c.words,
           c.numbers, c.punct);
    for (long i = 0; i < 200000; i++) memcpy(big + 13 * i, "tail 42 call;", 13);
    long n = 13 * 200000;
    tokens = tokenize(big, n, &c);
    printf("repeated: %ld chars, %ld tokens: %ld words, %ld numbers, %ld punctuation\n", c.chars,
           tokens, c.words, c.numbers, c.punct);
    return 0;
}
