/* Fault injection into the server's ingest of an event batch (srv_events_batch on the
 * SQLite store), in the style of SQLite's tests: for every N, the N-th allocation, the
 * N-th SQLite write or sync, the N-th core write, fsync or rename fails (once, or from then
 * on) while a batch of new events is stored. The kiosk then does what it does: it keeps
 * the batch until an answer of 200 and sends it again. Afterwards the store must open
 * cleanly and hold every event once, with its rollups matching the events (a day total
 * that counts an event the events table lacks, or misses one, is "half-stored"). */
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
#include "kepu/fs.h"
#include "kepu/pack.h"
#include "srv_events.h"
#include "srv_store.h"

#define NOW   1764100000000LL
#define NBASE 4
#define NNEW  4

static char dir[64];

static cJSON *batch_of(char series, int n)
{
    struct kk_buf b = KK_BUF_INIT;
    kk_buf_addf(&b, "{\"kiosk\":\"k-1\",\"events\":[");
    for (int i = 0; i < n; i++)
        kk_buf_addf(&b,
                    "%s{\"id\":\"%c%031d\",\"kiosk\":\"k-1\",\"ts\":%lld,\"type\":\"page_view\","
                    "\"session\":\"00ff\",\"audience\":\"farmers\",\"lang\":\"zh\","
                    "\"pack\":\"p@1\",\"topic\":\"soil\",\"page\":%d,\"dwell_ms\":1000}",
                    i ? "," : "", series, i, (long long)(NOW + i), i);
    kk_buf_addf(&b, "]}");
    cJSON *j = cJSON_Parse(kk_buf_str(&b));
    kk_buf_release(&b);
    assert_non_null(j);
    return j;
}

static int64_t one_int(struct srv_store *s, int stat_events)
{
    /* The events stored, and what the day totals say of them: the stats of the dashboard. */
    struct srv_stats_query q = {.kind = stat_events ? SRV_STAT_EVENTS_DAY : SRV_STAT_TOPICS,
                                .from_ms = NOW - 86400000LL * 2,
                                .to_ms = NOW + 86400000LL * 2,
                                .now_ms = NOW};
    struct srv_table t = {0};
    assert_int_equal(srv_store_stats(s, &q, &t, NULL), KK_OK);
    int64_t sum = 0;
    for (size_t r = 0; r < t.nrows; r++)
        sum += t.cells[r * t.ncolumns + 1].i; /* events (per day) / views (per topic) */
    srv_table_release(&t);
    return sum;
}

static unsigned long scenario(enum fault_kind kind, unsigned long n, int persistent,
                              struct fault_tally *t)
{
    struct srv_store *s = NULL;
    struct srv_batch_result res;
    assert_int_equal(kk_remove_tree(dir, NULL), KK_OK);
    assert_int_equal(kk_mkdirs(dir, 0700, NULL), KK_OK);
    assert_int_equal(srv_store_open(&s, dir, NULL, NULL), KK_OK);
    cJSON *base = batch_of('a', NBASE), *fresh = batch_of('b', NNEW);
    assert_int_equal(srv_events_batch(s, "k-1", base, NOW, &res), KK_OK);
    assert_int_equal(res.status, 200);
    kk_buf_release(&res.body);

    fault_arm(kind, n, persistent);
    enum kk_err rc = srv_events_batch(s, "k-1", fresh, NOW, &res);
    unsigned long calls = fault_arm(kind, 0, 0);
    int acked = rc == KK_OK && res.status == 200;
    if (rc == KK_OK)
        kk_buf_release(&res.body);
    if (!acked) {
        /* The kiosk keeps the batch and sends it again; the server is the same process. */
        assert_int_equal(srv_events_batch(s, "k-1", fresh, NOW, &res), KK_OK);
        if (res.status != 200)
            t->lost += NNEW; /* a store that cannot recover would lose the kiosk's events */
        kk_buf_release(&res.body);
    }
    srv_store_close(s);

    /* A restart: the store opens cleanly and holds every event once. */
    s = NULL;
    if (srv_store_open(&s, dir, NULL, NULL) != KK_OK) {
        t->half++;
    } else {
        int64_t events = one_int(s, 1), views = one_int(s, 0);
        if (events < NBASE + NNEW)
            t->lost += (unsigned long)(NBASE + NNEW - events);
        if (events > NBASE + NNEW)
            t->duplicated += (unsigned long)(events - NBASE - NNEW);
        if (views != events)
            t->half++;
        srv_store_close(s);
    }
    cJSON_Delete(base);
    cJSON_Delete(fresh);
    return calls;
}

static void test_batch_every_fault(void **state)
{
    (void)state;
    struct fault_tally t = {0};
    fault_run_all("server event batch", "half-stored", scenario, &t);
    assert_true(t.runs > 0);
    assert_int_equal(t.lost, 0);
    assert_int_equal(t.duplicated, 0);
    assert_int_equal(t.half, 0);
}

int main(void)
{
    kk_json_init();
    if (fault_sqlite_install()) {
        fprintf(stderr, "test_fault_events: cannot install the SQLite fault shims\n");
        return 1;
    }
    struct srv_events_limits lim;
    srv_events_limits_default(&lim);
    lim.min_free_bytes = 0;
    lim.rate_per_s = 0; /* thousands of batches from one kiosk in a few seconds */
    lim.quota_bytes_day = 0;
    srv_events_set_limits(&lim);
    const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof(dir), "%s/kk-fault-events-%d", tmp, (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_every_fault),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    kk_remove_tree(dir, NULL);
    return rc;
}
