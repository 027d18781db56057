/* inventory.c - a source-level debugging sample for wdb: structs, unions,
 * bitfields, multi-dimensional arrays, a linked list, enums, strings, typedefs
 * and const/volatile, with a bug to catch with a watchpoint.
 *
 *   inventory            builds a small stock list, prints a report
 *
 * THE BUG (spoiler): `restock()` writes a label into `last_label[8]` with a
 * loop that stops at `<= 8`, so its ninth byte lands in the global right after
 * it, `reorder_level` (declared next to it in `struct config`): the report
 * prints "reorder below 0" instead of "reorder below 5". `watch
 * settings.reorder_level` then `continue` stops at the store that corrupts it.
 *
 * Built -O0 -g (inventory-g.wasm) and -O2 -g (inventory-O2g.wasm) by
 * samples/build.sh; tests/source_level.rs compares wdb's `print` with gdb's on a
 * native gcc build of this file.
 */
#include <stdio.h>
#include <string.h>

typedef unsigned int u32;

enum category { CAT_TOOL = 1, CAT_PART = 2, CAT_SPARE = 4 };
enum state { IDLE, BUSY, BROKEN };

struct flags {
    unsigned fragile : 1;
    unsigned heavy : 1;
    unsigned shelf : 4;
    int level : 5;
};

union number {
    int i;
    float f;
    unsigned char bytes[4];
};

struct item {
    char name[12];
    enum category cat;
    int count;
    double price;
    struct flags fl;
    union number tag;
    struct item *next;
};

struct config {
    char last_label[8];
    int reorder_level;
    const char *title;
};

struct grid {
    short cells[3][4];
    u32 total;
};

/* Globals: the bug overwrites settings.reorder_level. */
struct config settings = {"none", 5, "Stock report"};
static struct item pool[4];
static int pool_used;
const char *greeting = "hello, wdb";
volatile int ticks = 0;
struct grid board;
enum state machine = BUSY;
long long big_total = 1234567890123LL;
float ratio = 0.75f;
double pi_ish = 3.14159;
char initial = 'W';
unsigned short port = 8080;

static struct item *new_item(const char *name, enum category cat, int count, double price) {
    struct item *it = &pool[pool_used++];
    strncpy(it->name, name, sizeof it->name - 1);
    it->cat = cat;
    it->count = count;
    it->price = price;
    it->fl.fragile = count < 5;
    it->fl.heavy = price > 10.0;
    it->fl.shelf = (unsigned)pool_used + 2;
    it->fl.level = -count;
    it->tag.i = 0x41424344;
    it->next = NULL;
    return it;
}

static int list_length(const struct item *head) {
    int n = 0;
    while (head != NULL) {
        n++;
        head = head->next;
    }
    return n;
}

static double stock_value(const struct item *head, int min_count) {
    double total = 0.0;
    const struct item *p = head;
    while (p != NULL) {
        if (p->count >= min_count) {
            total += p->count * p->price;   /* line STOCK_VALUE */
        }
        p = p->next;
    }
    return total;
}

/* The bug: `i <= 8` writes one byte past last_label, into reorder_level. */
static void restock(struct item *it, int amount) {
    const char *label = it->name;
    int i;
    for (i = 0; i <= 8; i++) {
        settings.last_label[i] = i < 7 ? label[i] : '\0';
    }
    it->count += amount;
    ticks++;
}

static void fill_board(struct grid *g) {
    g->total = 0;
    for (int r = 0; r < 3; r++) {
        for (int c = 0; c < 4; c++) {
            g->cells[r][c] = (short)(r * 10 + c);
            g->total += (u32)g->cells[r][c];
        }
    }
}

static int report(const struct item *head, const struct grid *g) {
    int n = list_length(head);
    double value = stock_value(head, 2);
    printf("%s: %d items, value %.2f, board %u\n", settings.title, n, value, g->total);
    printf("reorder below %d\n", settings.reorder_level);   /* line REPORT */
    return n;
}

int main(void) {
    struct item *a = new_item("hammer", CAT_TOOL, 3, 12.5);
    struct item *b = new_item("bolt", CAT_PART, 40, 0.25);
    struct item *c = new_item("gear", CAT_SPARE, 7, 4.75);
    a->next = b;
    b->next = c;
    c->tag.f = 1.5f;
    fill_board(&board);
    restock(b, 10);
    int n = report(a, &board);
    printf("%s (%d)\n", greeting, n + ticks);
    printf("%.2f %.5f %lld %c %d %u\n", ratio, pi_ish, big_total, initial, (int)machine, port);
    return 0;
}
