#!/usr/bin/env bash
# build-cpp-eh.sh - build the C++ exceptions sample (samples/c/ledger.cpp) for wasm32-wasi
# with -fwasm-exceptions, in both encodings of the exception-handling proposal:
#
#   samples/ledger-g.wasm         legacy encoding (try/catch/catch_all/rethrow/delegate),
#                                 what clang-22 emits by default
#   samples/ledger-exnref-g.wasm  the standard Wasm 3.0 encoding (try_table/throw_ref/exnref),
#                                 clang -mllvm -wasm-use-legacy-eh=false
#
# Both are -O0 -g (DWARF kept). The built modules are committed, so tests need none of this.
#
# Why a script of its own: Debian's wasm32 libc++abi (libc++abi-22-dev-wasm32) is built
# without exceptions (no __cxa_throw, no __gxx_personality_wasm0) and Debian ships no wasm32
# libunwind. So this script builds LLVM's libc++abi (all of it, with exceptions on) and
# libunwind's Unwind-wasm.c from the sources of the same clang that is installed: Debian's
# llvm-toolchain-22 source package (its orig tarball, pinned by sha256 below), extracting
# only libcxxabi/, libunwind/ and libcxx/src/include/. The archives go to
# samples/build/cpp-eh/ (git-ignored) and replace Debian's libc++abi.a at link time;
# Debian's libc++.a (built without exceptions; nothing in the sample makes libc++ itself
# throw) and its headers are used as they are.
#
# Needs (installed by this script when missing, Debian 12 with bookworm-security):
#   clang-22 lld-22 wasi-libc libc++-22-dev-wasm32 libc++abi-22-dev-wasm32
#   libclang-rt-22-dev-wasm32 llvm-22 (llvm-ar-22) curl xz-utils
set -euo pipefail

cd "$(dirname "$0")"
HERE=$(pwd)

LLVM_VERSION=22.1.8
ORIG=llvm-toolchain-22_${LLVM_VERSION}.orig.tar.xz
ORIG_URL=http://deb.debian.org/debian/pool/main/l/llvm-toolchain-22/$ORIG
ORIG_SHA256=b49b9277aef97616320b2da259e1f8174c65b0ce2fbe2e8629644a97693402fe

CXX=clang++-22
CC=clang-22
AR=llvm-ar-22
WORK=$HERE/build/cpp-eh
SRC=$WORK/llvm-toolchain-22_${LLVM_VERSION}

need=()
for entry in "clang++-22 clang-22" "wasm-ld-22 lld-22" "llvm-ar-22 llvm-22" "curl curl" "xz xz-utils"; do
    read -r cmd pkg <<<"$entry"
    command -v "$cmd" >/dev/null || need+=("$pkg")
done
for entry in "/usr/lib/wasm32-wasi/libc.a wasi-libc" \
    "/usr/lib/wasm32-wasi/libc++.a libc++-22-dev-wasm32" \
    "/usr/lib/llvm-22/lib/clang/22/lib/wasi/libclang_rt.builtins-wasm32.a libclang-rt-22-dev-wasm32"; do
    read -r file pkg <<<"$entry"
    [ -e "$file" ] || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "build-cpp-eh.sh: installing ${need[*]}" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

mkdir -p "$WORK"
if [ ! -d "$SRC/libcxxabi/src" ] || [ ! -d "$SRC/libunwind/src" ]; then
    if [ ! -e "$WORK/$ORIG" ]; then
        echo "download $ORIG_URL" >&2
        curl -sSfL -o "$WORK/$ORIG.part" "$ORIG_URL"
        mv "$WORK/$ORIG.part" "$WORK/$ORIG"
    fi
    echo "$ORIG_SHA256  $WORK/$ORIG" | sha256sum -c --quiet -
    echo "extract libcxxabi, libunwind, libcxx/src/include" >&2
    tar -C "$WORK" -xJf "$WORK/$ORIG" --wildcards \
        '*/libcxxabi/src/*' '*/libcxxabi/include/*' \
        '*/libunwind/src/*' '*/libunwind/include/*' '*/libcxx/src/include/*'
fi

# libc++abi sources of LLVM's CMake list with LIBCXXABI_ENABLE_EXCEPTIONS=ON (no threads,
# so no cxa_thread_atexit.cpp).
ABI_SOURCES="abort_message cxa_aux_runtime cxa_default_handlers cxa_demangle cxa_exception
cxa_exception_storage cxa_guard cxa_handlers cxa_personality cxa_vector cxa_virtual
fallback_malloc private_typeinfo stdlib_exception stdlib_new_delete stdlib_stdexcept
stdlib_typeinfo"

# build_variant NAME OUT EXTRA_FLAGS... : libraries and the sample for one EH encoding
build_variant() {
    local name=$1 out=$HERE/$2; shift 2
    local eh=(-fwasm-exceptions "$@")
    local lib=$WORK/$name
    local target=(--target=wasm32-wasi -Wno-deprecated)
    mkdir -p "$lib/obj"
    if [ ! -e "$lib/libc++abi.a" ] || [ ! -e "$lib/libunwind.a" ]; then
        echo "build libc++abi and libunwind ($name)" >&2
        local objs=() f
        for f in $ABI_SOURCES; do
            "$CXX" "${target[@]}" "${eh[@]}" -O2 -std=c++23 -nostdinc++ \
                -isystem /usr/lib/llvm-22/include/wasm32-wasi/c++/v1 \
                -I "$SRC/libcxxabi/include" -I "$SRC/libcxx/src" -I "$SRC/libcxx/src/include" \
                -D_LIBCXXABI_BUILDING_LIBRARY -D_LIBCPP_BUILDING_LIBRARY \
                -D_LIBCXXABI_HAS_NO_THREADS -DLIBCXXABI_USE_LLVM_UNWINDER \
                -D_LIBCPP_DISABLE_EXTERN_TEMPLATE -Wno-deprecated \
                -c "$SRC/libcxxabi/src/$f.cpp" -o "$lib/obj/$f.o"
            objs+=("$lib/obj/$f.o")
        done
        # The tag C++ exceptions are thrown with: one i32, the address of the exception
        # object. LLVM's sources leave its definition to the toolchain's system library.
        printf '%s\n' '.globl __cpp_exception' '.tagtype __cpp_exception i32' '__cpp_exception:' \
            >"$lib/cpp_exception_tag.s"
        "$CC" "${target[@]}" -c "$lib/cpp_exception_tag.s" -o "$lib/obj/cpp_exception_tag.o"
        objs+=("$lib/obj/cpp_exception_tag.o")
        rm -f "$lib/libc++abi.a"
        "$AR" rcs "$lib/libc++abi.a" "${objs[@]}"
        "$CC" "${target[@]}" "${eh[@]}" -O2 -I "$SRC/libunwind/include" \
            -D_LIBUNWIND_IS_NATIVE_ONLY -D_LIBUNWIND_HAS_NO_THREADS -D_LIBUNWIND_HIDE_SYMBOLS -DNDEBUG -Wno-c23-extensions \
            -c "$SRC/libunwind/src/Unwind-wasm.c" -o "$lib/obj/Unwind-wasm.o"
        rm -f "$lib/libunwind.a"
        "$AR" rcs "$lib/libunwind.a" "$lib/obj/Unwind-wasm.o"
    fi
    echo "build $out" >&2
    # -nostdlib++ drops Debian's -lc++ -lc++abi; ours come first on the search path.
    "$CXX" "${target[@]}" "${eh[@]}" -O0 -g -Wall -nostdlib++ \
        -o "$out" "$HERE/c/ledger.cpp" \
        -L "$lib" -L /usr/lib/wasm32-wasi -lc++ -lc++abi -lunwind
}

build_variant legacy ledger-g.wasm
build_variant exnref ledger-exnref-g.wasm -mllvm -wasm-use-legacy-eh=false
echo "C++ exceptions samples up to date" >&2
