/* interp.c - a bytecode interpreter: a dispatch loop with a big switch over a
 * small register/stack machine, running a program assembled at start-up.
 * Indirect jumps (br_table), loads of operands, a tiny operand stack in memory.
 * Usage: interp [scale] */
#include "sample.h"

#define ITERS 7000000  /* iterations of the bytecode program's outer loop at scale 1 */
#define SLICES 100     /* the program runs in this many calls of run(), like a host
                          resuming a guest: each call continues where the last stopped */

enum op {
    OP_HALT, OP_PUSH, OP_LOAD, OP_STORE, OP_DUP, OP_POP,
    OP_ADD, OP_SUB, OP_MUL, OP_REMU, OP_AND, OP_XOR, OP_SHL, OP_SHRU,
    OP_LTU, OP_EQ, OP_JMP, OP_JZ, OP_JNZ, OP_INC,
};

/* ---- a tiny assembler with forward references ---- */
#define MAX_CODE 256
#define MAX_LABELS 16
static uint32_t code[MAX_CODE];
static int code_len;
static int label_pos[MAX_LABELS];
static int fixup_at[MAX_LABELS * 4], fixup_label[MAX_LABELS * 4], nfixups;

static void emit(uint32_t op) { code[code_len++] = op; }
static void emit1(uint32_t op, uint32_t arg) { emit(op); emit(arg); }
static void jump(uint32_t op, int label) {
    emit(op);
    fixup_at[nfixups] = code_len; fixup_label[nfixups++] = label;
    emit(0);
}
static void bind(int label) { label_pos[label] = code_len; }
static void resolve(void) {
    for (int i = 0; i < nfixups; i++) code[fixup_at[i]] = (uint32_t)label_pos[fixup_label[i]];
}

/* registers: r0 = n, r1 = i, r2 = acc, r3 = t */
enum { L_LOOP, L_END, L_INNER, L_INNER_END, L_SKIP };

static void assemble(void) {
    /* while (i < n) { */
    bind(L_LOOP);
    emit1(OP_LOAD, 1); emit1(OP_LOAD, 0); emit(OP_LTU); jump(OP_JZ, L_END);
    /*   acc = (acc * 31 + i) ^ (acc >> 7) */
    emit1(OP_LOAD, 2); emit1(OP_PUSH, 31); emit(OP_MUL); emit1(OP_LOAD, 1); emit(OP_ADD);
    emit1(OP_LOAD, 2); emit1(OP_PUSH, 7); emit(OP_SHRU); emit(OP_XOR); emit1(OP_STORE, 2);
    /*   for (t = i & 7; t != 0; t--) acc += t * 3 + (acc << 1 & 0xff) */
    emit1(OP_LOAD, 1); emit1(OP_PUSH, 7); emit(OP_AND); emit1(OP_STORE, 3);
    bind(L_INNER);
    emit1(OP_LOAD, 3); jump(OP_JZ, L_INNER_END);
    emit1(OP_LOAD, 2); emit1(OP_LOAD, 3); emit1(OP_PUSH, 3); emit(OP_MUL); emit(OP_ADD);
    emit1(OP_LOAD, 2); emit1(OP_PUSH, 1); emit(OP_SHL); emit1(OP_PUSH, 0xff); emit(OP_AND);
    emit(OP_ADD); emit1(OP_STORE, 2);
    emit1(OP_LOAD, 3); emit1(OP_PUSH, 1); emit(OP_SUB); emit1(OP_STORE, 3);
    jump(OP_JMP, L_INNER);
    bind(L_INNER_END);
    /*   if (acc % 3 == 0) acc ^= 0x5bd1e995 */
    emit1(OP_LOAD, 2); emit1(OP_PUSH, 3); emit(OP_REMU); jump(OP_JNZ, L_SKIP);
    emit1(OP_LOAD, 2); emit1(OP_PUSH, 0x5bd1e995); emit(OP_XOR); emit1(OP_STORE, 2);
    bind(L_SKIP);
    /*   i++ } */
    emit1(OP_INC, 1);
    jump(OP_JMP, L_LOOP);
    bind(L_END);
    emit(OP_HALT);
    resolve();
}

SAMPLE_NOINLINE static uint32_t run(const uint32_t *pc0, uint32_t *regs, uint64_t *steps_out) {
    uint32_t stack[64];
    int sp = 0;
    const uint32_t *pc = pc0;
    uint64_t steps = 0;
    for (;;) {
        steps++;
        uint32_t a, b;
        switch ((enum op)*pc++) {
        case OP_HALT: *steps_out = steps; return regs[2];
        case OP_PUSH: stack[sp++] = *pc++; break;
        case OP_LOAD: stack[sp++] = regs[*pc++]; break;
        case OP_STORE: regs[*pc++] = stack[--sp]; break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_POP: sp--; break;
        case OP_ADD: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a + b; break;
        case OP_SUB: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a - b; break;
        case OP_MUL: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a * b; break;
        case OP_REMU: b = stack[--sp]; a = stack[--sp]; stack[sp++] = b ? a % b : 0; break;
        case OP_AND: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a & b; break;
        case OP_XOR: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a ^ b; break;
        case OP_SHL: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a << (b & 31); break;
        case OP_SHRU: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a >> (b & 31); break;
        case OP_LTU: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a < b; break;
        case OP_EQ: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a == b; break;
        case OP_JMP: pc = pc0 + *pc; break;
        case OP_JZ: a = stack[--sp]; pc = a ? pc + 1 : pc0 + *pc; break;
        case OP_JNZ: a = stack[--sp]; pc = a ? pc0 + *pc : pc + 1; break;
        case OP_INC: regs[*pc++]++; break;
        default: *steps_out = steps; return 0xdeadbeef;
        }
    }
}

int main(int argc, char **argv) {
    double scale = sample_scale(argc, argv);
    int64_t iters = sample_count(ITERS, scale, 1);
    assemble();
    uint32_t regs[4] = {0, 0, 1, 0};
    uint64_t steps = 0;
    uint32_t acc = 0;
    double t0 = sample_now_ms();
    for (int s = 1; s <= SLICES; s++) {
        uint64_t slice_steps = 0;
        regs[0] = (uint32_t)(iters * s / SLICES);   /* run until i reaches this bound */
        acc = run(code, regs, &slice_steps);
        steps += slice_steps;
    }
    double t1 = sample_now_ms();
    printf("program %d words, %" PRIu64 " instructions executed\n", code_len, steps);
    sample_report(sample_mix(acc, steps), t0, t1);
    return 0;
}
