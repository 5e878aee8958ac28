/* Fault injection into the event journal (src/core/journal.c), in the style of SQLite's
 * tests: for every N, the N-th allocation, the N-th SQLite write or sync, fails (once, or
 * from then on) while events are appended and flushed, or acknowledged. Afterwards the
 * journal must open cleanly and hold every event whose flush succeeded, each once and
 * intact; an acknowledged event must be gone; nothing else may appear. The figures go to
 * stdout ("0 lost, 0 duplicated, 0 half-written" with the runs covered). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault_sqlite.h"

#include "fault_kinds.h"
#include "kepu/buf.h"
#include "kepu/journal.h"

#define NBASE 8 /* events committed before the fault */
#define NNEW  8 /* events appended while it is armed */

static char dir[64], path[96];

static void event_text(char *out, size_t size, char series, int i)
{
    snprintf(out, size,
             "{\"id\":\"%c%02d\",\"type\":\"page_view\",\"topic\":\"quake\",\"page\":%d}", series,
             i, i);
}

/* A fresh journal holding the NBASE base events a00.. */
static void fresh(void)
{
    assert_int_equal(kk_remove_tree(dir, NULL), KK_OK);
    assert_int_equal(kk_mkdirs(dir, 0700, NULL), KK_OK);
    struct kk_journal *j = NULL;
    assert_int_equal(kk_journal_open(&j, path, 0, NULL), KK_OK);
    for (int i = 0; i < NBASE; i++) {
        char t[160];
        event_text(t, sizeof(t), 'a', i);
        assert_int_equal(kk_journal_append(j, t), KK_OK);
    }
    assert_int_equal(kk_journal_flush(j, NULL), KK_OK);
    kk_journal_close(j);
}

/* Whether the event (series, i) must, may or must not be in the journal. */
enum want { MUST, MAY, MUST_NOT };

/* Reopens the journal without faults and checks every event against want(). */
static void check(enum want (*want)(char series, int i, void *ctx), void *ctx,
                  struct fault_tally *t)
{
    struct kk_journal *j = NULL;
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc = kk_journal_open(&j, path, 0, &err);
    if (rc)
        fail_msg("the journal does not open after the fault: %s", kk_buf_str(&err));
    struct kk_journal_batch b;
    assert_int_equal(kk_journal_peek(j, 1000, &b, &err), KK_OK);
    int seen[2][NBASE > NNEW ? NBASE : NNEW] = {{0}};
    for (size_t i = 0; i < b.n; i++) {
        char series = b.ids[i][0];
        long k = -1;
        kk_parse_long(b.ids[i] + 1, 0, 99, &k);
        char text[160];
        if ((series != 'a' && series != 'b') || k < 0 || k >= (series == 'a' ? NBASE : NNEW)) {
            t->half++; /* something that was never appended */
            continue;
        }
        event_text(text, sizeof(text), series, (int)k);
        if (strcmp(text, b.json[i]))
            t->half++;
        if (seen[series == 'b'][k]++)
            t->duplicated++;
    }
    for (int s = 0; s < 2; s++) {
        for (int k = 0; k < (s ? NNEW : NBASE); k++) {
            enum want w = want(s ? 'b' : 'a', k, ctx);
            if (w == MUST && !seen[s][k])
                t->lost++;
            if (w == MUST_NOT && seen[s][k])
                t->duplicated++; /* acknowledged, yet it would be sent again */
        }
    }
    kk_journal_batch_release(&b);
    kk_journal_close(j);
    kk_buf_release(&err);
}

/* ---- append and flush ---- */

struct append_ctx {
    int acked[NNEW]; /* its append and a later flush returned KK_OK */
};

static enum want append_want(char series, int i, void *ctx)
{
    const struct append_ctx *c = ctx;
    if (series == 'a')
        return MUST;
    return c->acked[i] ? MUST : MAY;
}

static unsigned long append_scenario(enum fault_kind kind, unsigned long n, int persistent,
                                     struct fault_tally *t)
{
    struct append_ctx c = {{0}};
    int appended[NNEW] = {0};
    fresh();
    fault_arm(kind, n, persistent);
    struct kk_journal *j = NULL;
    if (kk_journal_open(&j, path, 0, NULL) == KK_OK) {
        for (int half = 0; half < 2; half++) {
            for (int i = half * NNEW / 2; i < (half + 1) * NNEW / 2; i++) {
                char text[160];
                event_text(text, sizeof(text), 'b', i);
                appended[i] = kk_journal_append(j, text) == KK_OK;
            }
            /* After a failed flush the writer retries a second later; the test does not
             * wait for it (the kiosk would), it checks what a power cut would leave. */
            if (kk_journal_flush(j, NULL) != KK_OK)
                break;
            for (int i = 0; i < (half + 1) * NNEW / 2; i++)
                c.acked[i] = appended[i];
        }
    }
    unsigned long calls = fault_arm(kind, 0, 0);
    kk_journal_close(j);
    if (n)
        check(append_want, &c, t);
    return calls;
}

/* ---- acknowledging ---- */

struct ack_ctx {
    int acked; /* kk_journal_ack of a00..a03 returned KK_OK */
};

static enum want ack_want(char series, int i, void *ctx)
{
    const struct ack_ctx *c = ctx;
    if (series == 'b')
        return MUST_NOT;
    if (i < NBASE / 2)
        return c->acked ? MUST_NOT : MAY;
    return MUST;
}

static unsigned long ack_scenario(enum fault_kind kind, unsigned long n, int persistent,
                                  struct fault_tally *t)
{
    struct ack_ctx c = {0};
    fresh();
    fault_arm(kind, n, persistent);
    struct kk_journal *j = NULL;
    if (kk_journal_open(&j, path, 0, NULL) == KK_OK) {
        struct kk_journal_batch b;
        if (kk_journal_peek(j, NBASE / 2, &b, NULL) == KK_OK) {
            /* What a sync run does once the server has answered for these events. */
            c.acked = b.n == NBASE / 2 && kk_journal_ack(j, b.ids, b.n, NULL) == KK_OK;
            kk_journal_batch_release(&b);
        }
    }
    unsigned long calls = fault_arm(kind, 0, 0);
    kk_journal_close(j);
    if (n)
        check(ack_want, &c, t);
    return calls;
}

static void test_append_every_fault(void **state)
{
    (void)state;
    struct fault_tally t = {0};
    fault_run_all("journal append and flush", "half-written", append_scenario, &t);
    assert_true(t.runs > 0);
    assert_int_equal(t.lost, 0);
    assert_int_equal(t.duplicated, 0);
    assert_int_equal(t.half, 0);
}

static void test_ack_every_fault(void **state)
{
    (void)state;
    struct fault_tally t = {0};
    fault_run_all("journal ack", "half-written", ack_scenario, &t);
    assert_true(t.runs > 0);
    assert_int_equal(t.lost, 0);
    assert_int_equal(t.duplicated, 0);
    assert_int_equal(t.half, 0);
}

int main(void)
{
    if (fault_sqlite_install()) {
        fprintf(stderr, "test_fault_journal: cannot install the SQLite fault shims\n");
        return 1;
    }
    const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof(dir), "%s/kk-fault-journal-%d", tmp, (int)getpid());
    snprintf(path, sizeof(path), "%s/journal.db", dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_every_fault),
        cmocka_unit_test(test_ack_every_fault),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    kk_remove_tree(dir, NULL);
    return rc;
}
