/* setjmp.h - empty stand-in for wasm32-wasi, which has no setjmp/longjmp:
 * Lua's ldo.c includes <setjmp.h> unconditionally, but the corpus build
 * replaces its use (LUAI_THROW/LUAI_TRY/luai_jmpbuf, see ../../build.sh). */
