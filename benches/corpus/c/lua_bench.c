/* lua_bench.c - driver of the Lua corpus program (Lua 5.4 from the lua-src
 * crate, see ../build.sh): the interpreter runs an embedded script (n-body,
 * string building and pattern matching, table sorting, closures) whose
 * results are folded into the checksum. wasm32-wasi has no setjmp, so the
 * build makes a Lua error print its message and exit (LUAI_THROW below); the
 * script raises none. Only the base, string, table and math libraries are
 * opened (no io/os: the workload is pure computation).
 * Usage: lua [scale]   (scale 1 = N 30,000) */
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "sample.h"

/* Called by LUAI_THROW (defined on the compiler command line by build.sh). */
void corpus_lua_throw(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "lua: error: %s\n", msg ? msg : "(not a string)");
    exit(1);
}

static const char SCRIPT[] =
    "local N = ...\n"
    "local function nbody(steps)\n"
    "  local PI, DAYS = 3.141592653589793, 365.24\n"
    "  local SOLAR = 4 * PI * PI\n"
    "  local b = {\n"
    "    {0,0,0, 0,0,0, SOLAR},\n"
    "    {4.84143144246472090e+00,-1.16032004402742839e+00,-1.03622044471123109e-01,\n"
    "     1.66007664274403694e-03*DAYS,7.69901118419740425e-03*DAYS,-6.90460016972063023e-05*DAYS,\n"
    "     9.54791938424326609e-04*SOLAR},\n"
    "    {8.34336671824457987e+00,4.12479856412430479e+00,-4.03523417114321381e-01,\n"
    "     -2.76742510726862411e-03*DAYS,4.99852801234917238e-03*DAYS,2.30417297573763929e-05*DAYS,\n"
    "     2.85885980666130812e-04*SOLAR},\n"
    "    {1.28943695621391310e+01,-1.51111514016986312e+01,-2.23307578892655734e-01,\n"
    "     2.96460137564761618e-03*DAYS,2.37847173959480950e-03*DAYS,-2.96589568540237556e-05*DAYS,\n"
    "     4.36624404335156298e-05*SOLAR},\n"
    "    {1.53796971148509165e+01,-2.59193146099879641e+01,1.79258772950371181e-01,\n"
    "     2.68067772490389322e-03*DAYS,1.62824170038242295e-03*DAYS,-9.51592254519715870e-05*DAYS,\n"
    "     5.15138902046611451e-05*SOLAR},\n"
    "  }\n"
    "  local n = #b\n"
    "  for s = 1, steps do\n"
    "    for i = 1, n do\n"
    "      local bi = b[i]\n"
    "      for j = i + 1, n do\n"
    "        local bj = b[j]\n"
    "        local dx, dy, dz = bi[1]-bj[1], bi[2]-bj[2], bi[3]-bj[3]\n"
    "        local d2 = dx*dx + dy*dy + dz*dz\n"
    "        local mag = 0.01 / (d2 * math.sqrt(d2))\n"
    "        local bm, bjm = bi[7]*mag, bj[7]*mag\n"
    "        bi[4] = bi[4] - dx*bjm; bi[5] = bi[5] - dy*bjm; bi[6] = bi[6] - dz*bjm\n"
    "        bj[4] = bj[4] + dx*bm; bj[5] = bj[5] + dy*bm; bj[6] = bj[6] + dz*bm\n"
    "      end\n"
    "    end\n"
    "    for i = 1, n do\n"
    "      local bi = b[i]\n"
    "      bi[1] = bi[1] + 0.01*bi[4]; bi[2] = bi[2] + 0.01*bi[5]; bi[3] = bi[3] + 0.01*bi[6]\n"
    "    end\n"
    "  end\n"
    "  local e = 0\n"
    "  for i = 1, n do\n"
    "    local bi = b[i]\n"
    "    e = e + 0.5*bi[7]*(bi[4]*bi[4] + bi[5]*bi[5] + bi[6]*bi[6])\n"
    "  end\n"
    "  return string.format('%.9f', e)\n"
    "end\n"
    "local function strings(n)\n"
    "  local parts, h = {}, 0\n"
    "  for i = 1, n do\n"
    "    local s = string.format('k%05d=%s;', i % 9973, string.rep(string.char(97 + i % 26), i % 7 + 1))\n"
    "    parts[#parts + 1] = s\n"
    "    if #parts == 64 then\n"
    "      local line = table.concat(parts)\n"
    "      for k, v in line:gmatch('k(%d+)=(%a+);') do h = (h * 31 + tonumber(k) + #v) % 1000000007 end\n"
    "      h = (h + #line:upper():gsub('[AEIOU]', '')) % 1000000007\n"
    "      parts = {}\n"
    "    end\n"
    "  end\n"
    "  return h\n"
    "end\n"
    "local function sorting(n)\n"
    "  local t, x = {}, 42\n"
    "  for i = 1, n do x = (x * 1103515245 + 12345) % 2147483648; t[i] = x end\n"
    "  table.sort(t)\n"
    "  local words = {}\n"
    "  for i = 1, n // 4 do words[i] = tostring(t[i * 4] % 100000) end\n"
    "  table.sort(words, function(a, b) return a > b end)\n"
    "  local h = 0\n"
    "  for i = 1, #words, 7 do h = (h * 131 + tonumber(words[i])) % 1000000007 end\n"
    "  return h + t[1] % 1000 + t[n] % 1000\n"
    "end\n"
    "local function closures(n)\n"
    "  local function counter() local c = 0; return function(k) c = c + k; return c end end\n"
    "  local fs, acc = {}, 0\n"
    "  for i = 1, 16 do fs[i] = counter() end\n"
    "  for i = 1, n * 8 do acc = (acc + fs[i % 16 + 1](i % 5)) % 1000003 end\n"
    "  local fib; fib = function(k) if k < 2 then return k end return fib(k-1) + fib(k-2) end\n"
    "  return acc + fib(18 + n // 20000)\n"
    "end\n"
    "return nbody(N * 4), strings(N * 2), sorting(N), closures(N)\n";

int main(int argc, char **argv) {
    double scale = sample_scale(argc, argv);
    int64_t n = sample_count(30000, scale, 200);
    lua_State *L = luaL_newstate();
    if (!L) { fprintf(stderr, "lua: cannot create a state\n"); return 1; }
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    lua_settop(L, 0);
    double t0 = sample_now_ms();
    if (luaL_loadbuffer(L, SCRIPT, sizeof SCRIPT - 1, "=bench") != LUA_OK) {
        fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)n);
    lua_call(L, 1, 4);
    double t1 = sample_now_ms();
    uint64_t h = sample_mix(0, (uint64_t)n);
    printf("energy %s\n", lua_tostring(L, 1));
    for (int i = 1; i <= 4; i++) {
        size_t len;
        const char *s = luaL_tolstring(L, i, &len);
        for (size_t j = 0; j < len; j++) h = sample_mix(h, (uint8_t)s[j]);
        lua_pop(L, 1);
    }
    lua_close(L);
    sample_report(h, t0, t1);
    return 0;
}
