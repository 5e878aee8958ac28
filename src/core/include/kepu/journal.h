/* The kiosk's event journal: a SQLite database (WAL, synchronous=FULL) holding usage
 * events until the server acknowledges them. Appends go to a queue that a writer thread
 * drains, so the UI thread never waits on the disk. Bounded: past max_bytes the oldest
 * events are dropped first and counted. */
#ifndef KEPU_JOURNAL_H
#define KEPU_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kepu/buf.h"
#include "kepu/error.h"

struct kk_journal;

/* Opens (creating if needed) the journal at path and starts its writer thread.
 * max_bytes 0 means the default of 1 GiB. */
enum kk_err kk_journal_open(struct kk_journal **out, const char *path, uint64_t max_bytes,
                            struct kk_buf *err);
/* Flushes what is queued, stops the writer thread and closes; j may be NULL. */
void kk_journal_close(struct kk_journal *j);

/* Queues one event (a JSON object with a string "id"; the text is copied). Returns at
 * once; KK_ERR_INVALID if json is not an object with an id. */
enum kk_err kk_journal_append(struct kk_journal *j, const char *json);
/* Blocks until every event queued so far is committed to disk. */
enum kk_err kk_journal_flush(struct kk_journal *j, struct kk_buf *err);

/* Committed events not yet acknowledged. */
uint64_t kk_journal_count(struct kk_journal *j);
/* Events dropped because the journal was full, since it was created. */
uint64_t kk_journal_dropped(struct kk_journal *j);

/* Up to max of the oldest committed events, for upload. */
struct kk_journal_batch {
    char **ids;  /* event ids */
    char **json; /* event texts */
    size_t n;
};
enum kk_err kk_journal_peek(struct kk_journal *j, size_t max, struct kk_journal_batch *out,
                            struct kk_buf *err);
void kk_journal_batch_release(struct kk_journal_batch *b);
/* Deletes acknowledged events by id (ids not present are ignored). */
enum kk_err kk_journal_ack(struct kk_journal *j, char *const *ids, size_t n, struct kk_buf *err);

#endif
