/* The event batch the server ingests (POST /api/v1/events): the body parsed as the HTTP
 * layer parses it, then srv_events_batch against a real SQLite store in the scratch
 * folder, as kiosk k-0001. The answer must always be one JSON object. */
#include "fuzz_util.h"

#include <cjson/cJSON.h>

#include "kepu/utf8.h"
#include "srv_events.h"
#include "srv_store.h"

#define NOW_MS 1764100000000LL

static struct srv_store *store;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char data[512];
    struct kk_buf err = KK_BUF_INIT;
    if (srv_store_open(&store, fuzz_path(data, sizeof(data), "data"), NULL, &err) ||
        srv_store_venue_add(store, "v-1", "Venue", &err) ||
        srv_store_kiosk_add(store, "k-0001", "v-1",
                            "0000000000000000000000000000000000000000000000000000000000000000",
                            &err)) {
        fprintf(stderr, "fuzz_events: %s\n", kk_buf_str(&err));
        abort();
    }
    kk_buf_release(&err);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > SRV_MAX_BATCH_BYTES || !kk_utf8_valid((const char *)data, size))
        return 0; /* what the HTTP layer refuses before parsing */
    cJSON *batch = cJSON_ParseWithLength((const char *)data, size);
    struct srv_batch_result res;
    if (srv_events_batch(store, "k-0001", batch, NOW_MS, &res) == KK_OK) {
        cJSON *answer = cJSON_ParseWithLength(res.body.data, res.body.len);
        if (!cJSON_IsObject(answer))
            abort(); /* the kiosk could not read this answer */
        cJSON_Delete(answer);
    }
    kk_buf_release(&res.body);
    cJSON_Delete(batch);
    return 0;
}
