#!/usr/bin/env python3
"""gen_big.py - generate a large C program whose wasm build has a >= 1 MB code section.

Purpose: compile-throughput benchmarks for wdb's tiers (MB/s of code section). The
program is also runnable (`_start` via main), so tiers can be cross-checked on it:
it calls every generated function once (each may call a few earlier ones) and
prints `checksum <hex>`.

The generated functions mix what real code does: i32/i64 integer arithmetic,
f64 arithmetic, loads and stores into global arrays (memory traffic), if/else,
counted loops, dense switches (br_table), and direct calls between functions.
Only MVP wasm features are needed (clang-14's default wasm32 CPU). The C is free
of undefined behaviour (unsigned arithmetic, masked shifts, divisors forced odd,
guarded float-to-int conversion), so native and wasm builds print the same checksum.

    python3 benches/gen_big.py --out-c samples/build/big.c [--functions 1400] [--seed 7]
    clang-14 --target=wasm32-wasi -O2 -Wl,--strip-debug -o samples/big.wasm samples/build/big.c

(samples/build.sh does both.)
"""
import argparse
import random
import sys

# Signature kinds: (C return type, C parameter list, argument builder)
KINDS = [
    ("uint32_t", "uint32_t a, uint32_t b, uint32_t depth"),
    ("double", "double x, uint32_t a, uint32_t depth"),
    ("uint64_t", "uint64_t q, uint32_t a, uint32_t depth"),
]

U32_VARS = ["a", "u0", "u1", "u2", "u3"]
F64_VARS = ["d0", "d1", "d2"]
U64_VARS = ["w0", "w1"]

MEM32 = 4096
MEMF = 1024
MEM8 = 8192


class Gen:
    def __init__(self, rng, nfuncs):
        self.r = rng
        self.n = nfuncs
        self.kinds = [rng.randrange(len(KINDS)) for _ in range(nfuncs)]
        self.out = []

    # ---------------------------------------------------------------- expressions
    def u32(self, depth):
        r = self.r
        if depth <= 0 or r.random() < 0.25:
            c = r.random()
            if c < 0.55:
                return r.choice(U32_VARS)
            if c < 0.8:
                return f"{r.randrange(1, 1 << r.choice([4, 8, 16, 31]))}u"
            if c < 0.9:
                return f"mem32[({r.choice(U32_VARS)} + {r.randrange(MEM32)}u) & {MEM32 - 1}u]"
            return f"(uint32_t)mem8[({r.choice(U32_VARS)} ^ {r.randrange(MEM8)}u) & {MEM8 - 1}u]"
        a, b = self.u32(depth - 1), self.u32(depth - 1)
        op = r.choice("+-*^&|<>/%ltcfwm")
        if op in "+-*^&|":
            return f"({a} {op} {b})"
        if op == "<":
            return f"({a} << ({b} & 31u))"
        if op == ">":
            return f"({a} >> ({b} & 31u))"
        if op == "/":
            return f"({a} / ({b} | 1u))"
        if op == "%":
            return f"({a} % ({b} | 3u))"
        if op == "l":
            return f"(uint32_t)((int32_t){a} < (int32_t){b})"
        if op == "t":
            return f"({a} > {b} ? {a} : {b})"
        if op == "c":   # rotate
            k = r.randrange(1, 32)
            return f"(({a} << {k}) | ({a} >> {32 - k}))"
        if op == "f":   # guarded float -> int
            return f"f2u({self.f64(depth - 1)})"
        if op == "w":
            return f"(uint32_t)({self.u64(depth - 1)} >> {r.randrange(0, 33)})"
        return f"mem32[({a}) & {MEM32 - 1}u]"

    def f64(self, depth):
        r = self.r
        if depth <= 0 or r.random() < 0.25:
            c = r.random()
            if c < 0.5:
                return r.choice(F64_VARS)
            if c < 0.7:
                return f"{r.uniform(-100, 100):.6f}"
            if c < 0.85:
                return f"memf[({r.choice(U32_VARS)} + {r.randrange(MEMF)}u) & {MEMF - 1}u]"
            return f"(double){r.choice(U32_VARS)}"
        a, b = self.f64(depth - 1), self.f64(depth - 1)
        op = r.choice("+-*/sqmi")
        if op in "+-*":
            return f"({a} {op} {b})"
        if op == "/":
            return f"({a} / (fabs({b}) + 1.0))"
        if op == "s":
            return f"sqrt(fabs({a}))"
        if op == "q":
            return f"({a} < {b} ? {a} : {b})"
        if op == "m":
            return f"(double)(int32_t){self.u32(depth - 1)}"
        return f"(damp({a}) * 0.5)"

    def u64(self, depth):
        r = self.r
        if depth <= 0 or r.random() < 0.3:
            c = r.random()
            if c < 0.6:
                return r.choice(U64_VARS)
            if c < 0.8:
                return f"{r.getrandbits(63)}ull"
            return f"(uint64_t){r.choice(U32_VARS)}"
        a, b = self.u64(depth - 1), self.u64(depth - 1)
        op = r.choice("+-*^|>/")
        if op in "+-*^|":
            return f"({a} {op} {b})"
        if op == ">":
            return f"({a} >> ({self.u32(0)} & 63u))"
        return f"({a} / ({b} | 1ull))"

    def cond(self):
        r = self.r
        c = r.random()
        if c < 0.5:
            return f"({self.u32(1)} & {r.randrange(1, 16)}u) {r.choice(['==', '!='])} 0u"
        if c < 0.8:
            return f"{self.u32(1)} {r.choice(['<', '>', '<=', '>='])} {self.u32(1)}"
        return f"{self.f64(1)} {r.choice(['<', '>'])} {self.f64(1)}"

    # ---------------------------------------------------------------- statements
    def stmt(self, fidx, depth, ind, in_loop):
        r = self.r
        p = "    " * ind
        c = r.random()
        if depth > 0 and c < 0.12:
            body = self.block(fidx, depth - 1, ind + 1, in_loop, r.randrange(2, 5))
            if r.random() < 0.6:
                other = self.block(fidx, depth - 1, ind + 1, in_loop, r.randrange(1, 4))
                return f"{p}if ({self.cond()}) {{\n{body}{p}}} else {{\n{other}{p}}}\n"
            return f"{p}if ({self.cond()}) {{\n{body}{p}}}\n"
        if depth > 0 and c < 0.20 and not in_loop:
            var = f"i{ind}"
            bound = r.choice([f"{r.randrange(2, 9)}u", f"({r.choice(U32_VARS)} & 7u) + 1u"])
            body = self.block(fidx, depth - 1, ind + 1, True, r.randrange(2, 6))
            return (f"{p}for (uint32_t {var} = 0; {var} < {bound}; {var}++) {{\n"
                    f"{p}    u0 += {var};\n{body}{p}}}\n")
        if depth > 0 and c < 0.27:
            ncase = r.randrange(4, 9)
            s = f"{p}switch ({self.u32(1)} % {ncase}u) {{\n"
            for k in range(ncase):
                s += f"{p}case {k}u:\n" + self.block(fidx, 0, ind + 1, in_loop, r.randrange(1, 3))
                s += f"{p}    break;\n"
            s += f"{p}default:\n{p}    break;\n{p}}}\n"
            return s
        if c < 0.36 and fidx > 0 and not in_loop:
            return self.call(fidx, p)
        if c < 0.48:
            return f"{p}mem32[({self.u32(1)}) & {MEM32 - 1}u] = {self.u32(2)};\n"
        if c < 0.54:
            return f"{p}memf[({self.u32(1)}) & {MEMF - 1}u] = {self.f64(2)};\n"
        if c < 0.58:
            return f"{p}mem8[({self.u32(1)}) & {MEM8 - 1}u] = (uint8_t){self.u32(2)};\n"
        if c < 0.80:
            return f"{p}{r.choice(U32_VARS)} = {self.u32(3)};\n"
        if c < 0.92:
            return f"{p}{r.choice(F64_VARS)} = damp({self.f64(3)});\n"
        return f"{p}{r.choice(U64_VARS)} = {self.u64(3)};\n"

    def block(self, fidx, depth, ind, in_loop, n):
        return "".join(self.stmt(fidx, depth, ind, in_loop) for _ in range(n))

    def call(self, fidx, p):
        r = self.r
        j = r.randrange(max(0, fidx - 200), fidx)
        k = self.kinds[j]
        if k == 0:
            expr = f"f{j}({self.u32(1)}, {self.u32(1)}, depth - 1u)"
            return f"{p}if (depth) {r.choice(U32_VARS)} ^= {expr};\n"
        if k == 1:
            expr = f"f{j}({self.f64(1)}, {self.u32(1)}, depth - 1u)"
            return f"{p}if (depth) {r.choice(F64_VARS)} = damp({expr});\n"
        expr = f"f{j}({self.u64(1)}, {self.u32(1)}, depth - 1u)"
        return f"{p}if (depth) {r.choice(U64_VARS)} += {expr};\n"

    # ---------------------------------------------------------------- functions
    def function(self, i, nstmts):
        r = self.r
        ret, params = KINDS[self.kinds[i]]
        k = self.kinds[i]
        lines = [f"NOINLINE {ret} f{i}({params}) {{"]
        if k == 0:
            lines.append("    uint32_t u0 = b, u1 = a ^ 0x9e3779b9u, u2 = depth, u3 = 7u;")
            lines.append("    double d0 = (double)b, d1 = 0.5, d2 = -1.25;")
            lines.append("    uint64_t w0 = a, w1 = (uint64_t)b << 32;")
        elif k == 1:
            lines.append("    uint32_t u0 = f2u(x), u1 = a * 3u, u2 = depth, u3 = 11u;")
            lines.append("    double d0 = x, d1 = (double)a, d2 = 2.5;")
            lines.append("    uint64_t w0 = a, w1 = 12345u;")
        else:
            lines.append("    uint32_t u0 = (uint32_t)q, u1 = (uint32_t)(q >> 32), u2 = depth, u3 = a;")
            lines.append("    double d0 = (double)u0, d1 = 1.0, d2 = 3.0;")
            lines.append("    uint64_t w0 = q, w1 = q ^ a;")
        body = self.block(i, 3, 1, False, nstmts)
        lines.append(body.rstrip("\n"))
        if k == 0:
            lines.append(f"    return a + u0 + u1 * 3u + u2 + u3 + f2u(d0 + d1) + (uint32_t)(w0 ^ w1);")
        elif k == 1:
            lines.append(f"    return damp(d0 + d1 * 0.25 + d2 + (double)(u0 ^ u1 ^ u2 ^ u3) + (double)(uint32_t)(w0 ^ w1));")
        else:
            lines.append(f"    return w0 * 31u + w1 + u0 + u1 + u2 + u3 + f2u(d0 - d2);")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def program(self, nstmts):
        out = [PRELUDE.format(n=self.n, m32=MEM32, mf=MEMF, m8=MEM8)]
        for i in range(self.n):
            out.append(self.function(i, nstmts + self.r.randrange(-4, 5)))
        out.append("int main(void) {")
        out.append("    uint64_t h = 0;")
        out.append("    for (uint32_t i = 0; i < MEM32_LEN; i++) mem32[i] = i * 2654435761u;")
        out.append("    for (uint32_t i = 0; i < MEMF_LEN; i++) memf[i] = (double)i * 0.25;")
        for i in range(self.n):
            k = self.kinds[i]
            if k == 0:
                out.append(f"    h = mix(h, f{i}({i}u, h32(h), 2u));")
            elif k == 1:
                out.append(f"    h = mix(h, f2u(f{i}((double){i}, h32(h), 2u) * 16.0));")
            else:
                out.append(f"    h = mix(h, f{i}(h, {i}u, 2u));")
        out.append('    printf("functions %d\\n", NFUNCS);')
        out.append('    printf("checksum %016llx\\n", (unsigned long long)h);')
        out.append("    return 0;")
        out.append("}")
        return "\n".join(out) + "\n"


PRELUDE = """/* GENERATED by benches/gen_big.py - do not edit. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define NFUNCS {n}
#define MEM32_LEN {m32}
#define MEMF_LEN {mf}
#define NOINLINE __attribute__((noinline))

uint32_t mem32[{m32}];
double memf[{mf}];
uint8_t mem8[{m8}];

/* float -> u32 without undefined behaviour (and without wasm traps) */
static inline uint32_t f2u(double d) {{
    if (!(d > -2.0e9 && d < 2.0e9)) return 0x7fu;
    return (uint32_t)(int32_t)d;
}}

/* keep doubles finite and moderate so that the program stays deterministic */
static inline double damp(double d) {{
    if (!(d > -1.0e6 && d < 1.0e6)) return 1.0;
    return d;
}}

static inline uint32_t h32(uint64_t h) {{ return (uint32_t)(h ^ (h >> 32)); }}

static uint64_t mix(uint64_t h, uint64_t v) {{
    h = (h ^ v) * 0x100000001b3ull;
    return h ^ (h >> 29);
}}

"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-c", required=True, help="where to write the C file")
    ap.add_argument("--functions", type=int, default=1400)
    ap.add_argument("--statements", type=int, default=9, help="top-level statements per function (average)")
    ap.add_argument("--seed", type=int, default=20261124)
    args = ap.parse_args()
    g = Gen(random.Random(args.seed), args.functions)
    src = g.program(args.statements)
    with open(args.out_c, "w") as f:
        f.write(src)
    print(f"gen_big: wrote {args.out_c}: {args.functions} functions, {len(src)} bytes of C", file=sys.stderr)


if __name__ == "__main__":
    main()
