/* GET /metrics: the server's figures in Prometheus' text format (version 0.0.4), checked
 * by `promtool check metrics` in tests/integration/server_metrics.sh. The HTTP layer's
 * counters and the request duration histogram come from srv_server_metrics; the store's
 * totals and the fleet gauges (kiosks online, sleeping and down; events queued on kiosks
 * as last reported; assigned pack versions not yet installed) are read here per scrape. */
#ifndef SRV_METRICS_H
#define SRV_METRICS_H

#include "srv_http.h"

/* One pack version a kiosk should have installed; uploaded: the server holds it. */
struct srv_wanted {
    char id[65];
    char version[65];
    int uploaded;
};

/* What kiosk should have installed at now_ms (srv_store_kiosk_packs and
 * srv_store_kiosk_windows, as the kiosk itself decides: docs/sync.md): for each pack the
 * dated assignment in force by the city's clock (kk_window_pick_at, SRV_DAY_OFFSET_S),
 * else its undated one; a dated one not yet started or already ended counts for nothing.
 * Fills up to max into out and sets *n. */
enum kk_err srv_kiosk_wanted(struct srv_store *s, const char *kiosk, int64_t now_ms,
                             struct srv_wanted *out, size_t max, size_t *n, struct kk_buf *err);

/* Sets the "assigned" column of a SRV_STAT_KIOSKS table to what each kiosk should have
 * now (srv_kiosk_wanted), "id@version" separated by spaces: the store's own column knows
 * neither tags nor dated assignments. */
enum kk_err srv_kiosks_assigned_now(struct srv_store *s, struct srv_table *t, int64_t now_ms,
                                    struct kk_buf *err);

/* The /metrics handler (route table row in srv_api.c, who: SRV_LOCAL). */
void srv_metrics_get(struct srv_req *req, struct srv_reply *out);

#endif
