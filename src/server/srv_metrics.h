/* GET /metrics: the server's figures in Prometheus' text format (version 0.0.4), checked
 * by `promtool check metrics` in tests/integration/server_metrics.sh. The HTTP layer's
 * counters and the request duration histogram come from srv_server_metrics; the store's
 * totals and the fleet gauges (kiosks online, sleeping and down; events queued on kiosks
 * as last reported; assigned pack versions not yet installed) are read here per scrape. */
#ifndef SRV_METRICS_H
#define SRV_METRICS_H

#include "srv_http.h"

/* The /metrics handler (route table row in srv_api.c, who: SRV_LOCAL). */
void srv_metrics_get(struct srv_req *req, struct srv_reply *out);

#endif
