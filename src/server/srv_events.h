/* Usage-event batches (DESIGN.md "Usage events", POST /api/v1/events): checks each event
 * against the one event contract (kepu/event.h), stores the contract's fields of the good
 * ones with their rollups in one transaction, and builds the answer {"accepted",
 * "duplicates","rejected":[{id,reason}]}. Before a batch is looked at, the data folder's
 * free space and the kiosk's rate and daily byte quota are checked (docs/server.md
 * "Ingest limits"): a refused batch is answered 503 or 429 with Retry-After, so the
 * kiosk keeps its events and sends them later. */
#ifndef SRV_EVENTS_H
#define SRV_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "srv_store.h"

#define SRV_MAX_BATCH_EVENTS 1000
#define SRV_MAX_BATCH_BYTES  (5u * 1024 * 1024)

/* Per-kiosk ingest limits; 0 turns a limit off. */
struct srv_events_limits {
    uint32_t rate_per_s;      /* events per second a kiosk may send, on average */
    uint32_t burst;           /* events it may send at once (at least one full batch) */
    uint64_t quota_bytes_day; /* bytes of stored events per kiosk and city day */
    uint64_t min_free_bytes;  /* below this much free space in the data folder: 503 */
};

/* The defaults: 100 events/s, bursts of 5000, 64 MiB a day, 256 MiB free. */
void srv_events_limits_default(struct srv_events_limits *l);
/* Sets the limits every later batch is held to (the server's start; tests). Clears what
 * kiosks have used so far. Thread-safe. */
void srv_events_set_limits(const struct srv_events_limits *l);

/* Checks one event sent by kiosk with the contract (kk_event_check) and that it names
 * that kiosk. On success fills out (its strings point into ev; body stays NULL; clock_flag
 * set when ts is implausible at now_ms, kk_event_ts_plausible: such an event is kept and
 * left out of the statistics) and returns 1; otherwise returns 0 and appends to
 * reason why, naming the field. */
int srv_event_check(const cJSON *ev, const char *kiosk, int64_t now_ms, struct srv_event *out,
                    struct kk_buf *reason);

/* Outcome of a batch, for the HTTP layer. */
struct srv_batch_result {
    int status;         /* HTTP status */
    struct kk_buf body; /* JSON answer (or error object) */
    size_t accepted, duplicates, rejected;
    unsigned retry_after_s; /* > 0: send Retry-After (429, 503) */
};

/* Handles a parsed batch from kiosk. Always fills res (release res->body with
 * kk_buf_release): 200 with the counts, 400 for a malformed batch, 403 when the batch
 * names another kiosk, 413 for too many events, 429 when the kiosk is over its rate or
 * its daily quota, 503 when the data folder is short of space or the store failed
 * (nothing was stored, the kiosk retries). Returns KK_ERR_NOMEM only when even the answer
 * could not be built. */
enum kk_err srv_events_batch(struct srv_store *store, const char *kiosk, const cJSON *batch,
                             int64_t now_ms, struct srv_batch_result *res);

#endif
