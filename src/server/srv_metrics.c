#include "srv_metrics.h"

#include <stdio.h>
#include <string.h>

#include "kepu/clock.h"
#include "kepu/log.h"
#include "srv_store.h"

/* Columns of SRV_STAT_KIOSKS used here. */
enum { COL_PACKS = 4, COL_QUEUE = 5, COL_ONLINE = 10, COL_ASSIGNED = 12 };

/* How many of the space-separated "pack@version" in assigned are missing from packs, the
 * JSON array of "id@version" strings the kiosk last reported. */
static long long missing_packs(const char *assigned, const char *packs)
{
    long long missing = 0;
    char want[160];
    for (const char *p = assigned; p && *p;) {
        size_t len = strcspn(p, " ");
        if (len && len + 3 <= sizeof(want)) {
            snprintf(want, sizeof(want), "\"%.*s\"", (int)len, p);
            missing += !packs || !strstr(packs, want);
        }
        p += len;
        while (*p == ' ')
            p++;
    }
    return missing;
}

/* The fleet gauges, from the dashboard's kiosk list. */
static void fleet(struct srv_req *req, struct kk_buf *out)
{
    struct srv_table t = {0};
    struct kk_buf err = KK_BUF_INIT;
    struct srv_stats_query q = {.kind = SRV_STAT_KIOSKS, .now_ms = kk_clock_wall_ms()};
    if (srv_store_stats(req->store, &q, &t, &err)) {
        kk_error("metrics", "%s", kk_buf_str(&err));
        goto done;
    }
    long long online = 0, down = 0, queued = 0, missing = 0;
    for (size_t r = 0; r < t.nrows; r++) {
        const struct srv_cell *c = &t.cells[r * t.ncolumns];
        if (c[COL_ONLINE].kind == SRV_CELL_INT && c[COL_ONLINE].i)
            online++;
        else
            down++;
        if (c[COL_QUEUE].kind == SRV_CELL_INT && c[COL_QUEUE].i > 0)
            queued += c[COL_QUEUE].i;
        if (c[COL_ASSIGNED].kind == SRV_CELL_TEXT)
            missing += missing_packs(c[COL_ASSIGNED].s,
                                     c[COL_PACKS].kind == SRV_CELL_TEXT ? c[COL_PACKS].s : NULL);
    }
    /* Kiosks report no opening hours yet, so none is sleeping; the series is there so
     * dashboards and alerts need no change when they do. */
    kk_buf_addf(out,
                "# HELP kepu_kiosks Kiosks by state: online (heard from within 15 minutes),"
                " sleeping (outside opening hours), down.\n"
                "# TYPE kepu_kiosks gauge\n"
                "kepu_kiosks{state=\"online\"} %lld\n"
                "kepu_kiosks{state=\"sleeping\"} 0\n"
                "kepu_kiosks{state=\"down\"} %lld\n"
                "# HELP kepu_kiosk_events_queued Events waiting on kiosks, as each last"
                " reported.\n"
                "# TYPE kepu_kiosk_events_queued gauge\n"
                "kepu_kiosk_events_queued %lld\n"
                "# HELP kepu_kiosk_packs_not_installed Assigned pack versions a kiosk has not"
                " reported installed, summed over kiosks.\n"
                "# TYPE kepu_kiosk_packs_not_installed gauge\n"
                "kepu_kiosk_packs_not_installed %lld\n",
                online, down, queued, missing);
done:
    srv_table_release(&t);
    kk_buf_release(&err);
}

void srv_metrics_get(struct srv_req *req, struct srv_reply *out)
{
    struct srv_table t = {0};
    srv_server_metrics(req->srv, &out->body);
    if (!srv_store_counters(req->store, &t, NULL)) {
        kk_buf_adds(&out->body, "# HELP kepu_store Totals kept by the store.\n"
                                "# TYPE kepu_store gauge\n");
        for (size_t r = 0; r < t.nrows; r++)
            kk_buf_addf(&out->body, "kepu_store{item=\"%s\"} %lld\n", t.cells[r * 2].s,
                        (long long)t.cells[r * 2 + 1].i);
    }
    srv_table_release(&t);
    fleet(req, &out->body);
    if (kk_buf_error(&out->body)) { /* never a silently short page of figures */
        srv_reply_error(out, 500, "out of memory");
        return;
    }
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
