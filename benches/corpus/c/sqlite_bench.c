/* sqlite_bench.c - driver of the SQLite corpus program (amalgamation from the
 * libsqlite3-sys crate, see ../build.sh): an in-memory database filled by
 * prepared inserts in one transaction, then indexed lookups, aggregates,
 * a join, LIKE scans, sorting, updates and deletes. Only integers and text
 * reach the checksum, so wasm32 and x86-64 builds print the same line.
 * Usage: sqlite [scale]   (scale 1 = 120,000 rows) */
#include <string.h>
#include "sqlite3.h"
#include "sample.h"

static sqlite3 *db;

static void die(const char *what) {
    fprintf(stderr, "sqlite: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

static void exec(const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s: %s\n", sql, err ? err : "?");
        exit(1);
    }
}

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) die(sql);
    return st;
}

static uint64_t fnv(const unsigned char *s, int n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

/* Steps a statement to completion, folding every column of every row into h. */
static uint64_t fold(sqlite3_stmt *st, uint64_t h, int64_t *rows) {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int n = sqlite3_column_count(st);
        for (int i = 0; i < n; i++) {
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER: h = sample_mix(h, (uint64_t)sqlite3_column_int64(st, i)); break;
            case SQLITE_TEXT:
                h = sample_mix(h, fnv(sqlite3_column_text(st, i), sqlite3_column_bytes(st, i)));
                break;
            case SQLITE_NULL: h = sample_mix(h, 0x6e756c6c); break;
            default: h = sample_mix(h, (uint64_t)sqlite3_column_int64(st, i)); break;
            }
        }
        if (rows) (*rows)++;
    }
    if (rc != SQLITE_DONE) die("step");
    sqlite3_reset(st);
    return h;
}

static const char *WORDS[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
                              "hotel", "india", "juliet", "kilo", "lima", "mike", "november",
                              "oscar", "papa", "quebec", "romeo", "sierra", "tango"};

static uint32_t rng = 12345;
static uint32_t next(void) {
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

SAMPLE_NOINLINE static uint64_t fill(int64_t n) {
    sqlite3_stmt *ins = prepare("INSERT INTO item(id, grp, qty, name) VALUES (?1, ?2, ?3, ?4)");
    sqlite3_stmt *tag = prepare("INSERT INTO tag(item, label) VALUES (?1, ?2)");
    char name[64];
    exec("BEGIN");
    for (int64_t i = 1; i <= n; i++) {
        uint32_t r = next();
        int len = snprintf(name, sizeof name, "%s-%s-%u", WORDS[r % 20], WORDS[(r / 20) % 20],
                           (unsigned)(r % 1000));
        sqlite3_bind_int64(ins, 1, i);
        sqlite3_bind_int(ins, 2, (int)(r % 97));
        sqlite3_bind_int(ins, 3, (int)(next() % 10000));
        sqlite3_bind_text(ins, 4, name, len, SQLITE_TRANSIENT);
        if (sqlite3_step(ins) != SQLITE_DONE) die("insert");
        sqlite3_reset(ins);
        if (i % 3 == 0) {
            sqlite3_bind_int64(tag, 1, i);
            sqlite3_bind_text(tag, 2, WORDS[next() % 20], -1, SQLITE_STATIC);
            if (sqlite3_step(tag) != SQLITE_DONE) die("insert tag");
            sqlite3_reset(tag);
        }
    }
    exec("COMMIT");
    sqlite3_finalize(ins);
    sqlite3_finalize(tag);
    return 0;
}

SAMPLE_NOINLINE static uint64_t query(int64_t n, uint64_t h) {
    int64_t rows = 0;
    sqlite3_stmt *point = prepare("SELECT qty, name FROM item WHERE id = ?1");
    for (int64_t i = 0; i < n / 2; i++) {
        sqlite3_bind_int64(point, 1, 1 + (int64_t)(next() % (uint32_t)n));
        h = fold(point, h, &rows);
    }
    sqlite3_finalize(point);
    sqlite3_stmt *range = prepare("SELECT count(*), sum(qty) FROM item WHERE grp = ?1 AND qty < ?2");
    for (int i = 0; i < 200; i++) {
        sqlite3_bind_int(range, 1, i % 97);
        sqlite3_bind_int(range, 2, (i * 37) % 10000);
        h = fold(range, h, &rows);
    }
    sqlite3_finalize(range);
    static const char *SQL[] = {
        "SELECT grp, count(*), sum(qty), min(name), max(name) FROM item GROUP BY grp ORDER BY grp",
        "SELECT label, count(*), sum(qty) FROM tag JOIN item ON item.id = tag.item "
        "GROUP BY label ORDER BY label",
        "SELECT count(*) FROM item WHERE name LIKE '%echo-k%'",
        "SELECT id, name FROM item ORDER BY name DESC, id LIMIT 50",
        "SELECT substr(name, 1, 3) AS p, count(DISTINCT grp), total(qty) > 0 FROM item "
        "GROUP BY p ORDER BY p",
    };
    for (unsigned i = 0; i < sizeof SQL / sizeof *SQL; i++) {
        sqlite3_stmt *st = prepare(SQL[i]);
        h = fold(st, h, &rows);
        sqlite3_finalize(st);
    }
    exec("UPDATE item SET qty = qty * 3 % 10007 WHERE grp % 5 = 1");
    exec("DELETE FROM item WHERE qty % 7 = 0");
    sqlite3_stmt *st = prepare("SELECT count(*), sum(qty), sum(length(name)) FROM item");
    h = fold(st, h, &rows);
    sqlite3_finalize(st);
    return sample_mix(h, (uint64_t)rows);
}

int main(int argc, char **argv) {
    double scale = sample_scale(argc, argv);
    int64_t n = sample_count(120000, scale, 100);
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) die("open");
    double t0 = sample_now_ms();
    exec("CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, qty INTEGER, name TEXT)");
    exec("CREATE TABLE tag(item INTEGER, label TEXT)");
    exec("CREATE INDEX item_grp ON item(grp, qty)");
    exec("CREATE INDEX tag_item ON tag(item)");
    uint64_t h = fill(n);
    h = query(n, h);
    double t1 = sample_now_ms();
    printf("rows %" PRId64 "\n", n);
    sqlite3_close(db);
    sample_report(h, t0, t1);
    return 0;
}
