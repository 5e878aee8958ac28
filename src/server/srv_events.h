/* Usage-event batches (DESIGN.md "Usage events", POST /api/v1/events): checks each event
 * against the schema of its type, stores the good ones with their rollups in one
 * transaction, and builds the answer {"accepted","duplicates","rejected":[{id,reason}]}. */
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

/* Checks one event sent by kiosk. On success fills out (its strings point into ev) and
 * returns 1; otherwise returns 0 and appends to reason why, naming the field. now_ms
 * bounds how far in the future ts may be. */
int srv_event_check(const cJSON *ev, const char *kiosk, int64_t now_ms, struct srv_event *out,
                    struct kk_buf *reason);

/* Outcome of a batch, for the HTTP layer. */
struct srv_batch_result {
    int status;         /* HTTP status */
    struct kk_buf body; /* JSON answer (or error object) */
    size_t accepted, duplicates, rejected;
};

/* Handles a parsed batch from kiosk. Always fills res (release res->body with
 * kk_buf_release): 200 with the counts, 400 for a malformed batch, 403 when the batch
 * names another kiosk, 413 for too many events, 503 when the store failed (nothing was
 * stored, the kiosk retries). Returns KK_ERR_NOMEM only when even the answer could not
 * be built. */
enum kk_err srv_events_batch(struct srv_store *store, const char *kiosk, const cJSON *batch,
                             int64_t now_ms, struct srv_batch_result *res);

#endif
