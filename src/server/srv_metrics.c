#include "srv_metrics.h"

#include <stdio.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/limits.h"
#include "kepu/log.h"
#include "kepu/schedule.h"
#include "srv_store.h"

/* Columns of SRV_STAT_KIOSKS used here. */
enum { COL_KIOSK = 0, COL_PACKS = 4, COL_QUEUE = 5, COL_ONLINE = 10, COL_ASSIGNED = 12 };

static void cell_copy(char *out, size_t size, const struct srv_cell *c)
{
    snprintf(out, size, "%s", c->kind == SRV_CELL_TEXT ? c->s : "");
}

enum kk_err srv_kiosk_wanted(struct srv_store *s, const char *kiosk, int64_t now_ms,
                             struct srv_wanted *out, size_t max, size_t *n, struct kk_buf *err)
{
    struct srv_table t = {0};
    struct kk_window *win = NULL;
    size_t nwin = 0;
    *n = 0;
    enum kk_err rc = srv_store_kiosk_packs(s, kiosk, &t, err);
    for (size_t r = 0; !rc && r < t.nrows && *n < max; r++) {
        const struct srv_cell *c = &t.cells[r * t.ncolumns];
        cell_copy(out[*n].id, sizeof(out[*n].id), &c[0]);
        cell_copy(out[*n].version, sizeof(out[*n].version), &c[1]);
        out[*n].uploaded = c[2].kind == SRV_CELL_TEXT;
        (*n)++;
    }
    srv_table_release(&t);
    if (!rc)
        rc = srv_store_kiosk_windows(s, kiosk, now_ms, &t, err);
    if (!rc && t.nrows && !(win = kk_calloc(t.nrows, sizeof(*win))))
        rc = kk_fail(err, KK_ERR_NOMEM, "kiosk %s: out of memory", kiosk);
    for (size_t r = 0; !rc && r < t.nrows; r++) {
        const struct srv_cell *c = &t.cells[r * t.ncolumns];
        struct kk_window *w = &win[nwin++];
        cell_copy(w->id, sizeof(w->id), &c[0]);
        cell_copy(w->version, sizeof(w->version), &c[1]);
        cell_copy(w->sha256, sizeof(w->sha256), &c[2]);
        cell_copy(w->starts, sizeof(w->starts), &c[3]);
        cell_copy(w->ends, sizeof(w->ends), &c[4]);
    }
    /* The window in force of each pack replaces (or adds to) the undated version. */
    for (size_t k = 0; !rc && k < nwin; k++) {
        if (kk_window_pick_at(win, nwin, win[k].id, now_ms, SRV_DAY_OFFSET_S) != (long)k)
            continue;
        size_t i = 0;
        while (i < *n && strcmp(out[i].id, win[k].id))
            i++;
        if (i == *n) {
            if (*n == max)
                continue;
            (*n)++;
        }
        snprintf(out[i].id, sizeof(out[i].id), "%s", win[k].id);
        snprintf(out[i].version, sizeof(out[i].version), "%s", win[k].version);
        out[i].uploaded = win[k].sha256[0] != '\0';
    }
    kk_free(win);
    srv_table_release(&t);
    return rc;
}

enum kk_err srv_kiosks_assigned_now(struct srv_store *s, struct srv_table *t, int64_t now_ms,
                                    struct kk_buf *err)
{
    struct kk_buf text = KK_BUF_INIT;
    enum kk_err rc = KK_OK;
    for (size_t r = 0; !rc && r < t->nrows; r++) {
        struct srv_cell *c = &t->cells[r * t->ncolumns];
        struct srv_wanted w[KK_MAX_PACKS];
        size_t n = 0;
        if (c[COL_KIOSK].kind != SRV_CELL_TEXT ||
            (rc = srv_kiosk_wanted(s, c[COL_KIOSK].s, now_ms, w, KK_MAX_PACKS, &n, err)))
            continue;
        if (!n) { /* nothing assigned: null, as the store's column says it */
            kk_free(c[COL_ASSIGNED].s);
            c[COL_ASSIGNED] = (struct srv_cell){.kind = SRV_CELL_NULL};
            continue;
        }
        kk_buf_reset(&text);
        for (size_t i = 0; i < n; i++)
            kk_buf_addf(&text, "%s%s@%s", i ? " " : "", w[i].id, w[i].version);
        if (srv_cell_set_text(&c[COL_ASSIGNED], kk_buf_str(&text)))
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
    }
    kk_buf_release(&text);
    return rc;
}

/* How many of the kiosk's wanted versions are missing from packs, the JSON array of
 * "id@version" strings the kiosk last reported. */
static long long missing_packs(const struct srv_wanted *w, size_t n, const char *packs)
{
    long long missing = 0;
    char want[2 * 65 + 3];
    for (size_t i = 0; i < n; i++) {
        snprintf(want, sizeof(want), "\"%.64s@%.64s\"", w[i].id, w[i].version);
        missing += !packs || !strstr(packs, want);
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
        struct srv_wanted w[KK_MAX_PACKS];
        size_t nw = 0;
        if (c[COL_KIOSK].kind == SRV_CELL_TEXT &&
            srv_kiosk_wanted(req->store, c[COL_KIOSK].s, q.now_ms, w, KK_MAX_PACKS, &nw, &err)) {
            kk_error("metrics", "%s", kk_buf_str(&err));
            kk_buf_reset(&err);
        }
        missing += missing_packs(w, nw, c[COL_PACKS].kind == SRV_CELL_TEXT ? c[COL_PACKS].s : NULL);
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
                "# HELP kepu_kiosk_packs_not_installed Pack versions a kiosk should have now"
                " (a dated assignment in force, else the undated one) and has not reported"
                " installed, summed over kiosks.\n"
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
