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
 * max_bytes 0 means the default of 1 GiB; the bound counts the bytes of the stored event
 * texts (the file is somewhat larger: ids, index, pages). On failure *out is NULL and err
 * gets "PATH: what: sqlite's message" (a missing or unwritable folder, a file that is not
 * a database, a journal from a newer program). Errors: KK_ERR_IO, KK_ERR_PERM, KK_ERR_DB,
 * KK_ERR_NOMEM. */
enum kk_err kk_journal_open(struct kk_journal **out, const char *path, uint64_t max_bytes,
                            struct kk_buf *err);
/* Flushes what is queued, stops the writer thread and closes; j may be NULL. */
void kk_journal_close(struct kk_journal *j);

/* Queues one event (a JSON object with a string "id"; the text is copied). Returns at
 * once; KK_ERR_INVALID if json is not valid UTF-8 JSON or not an object with a non-empty
 * id of at most KK_MAX_ID_LEN bytes, KK_ERR_TOOBIG past KK_MAX_EVENT_BYTES, KK_ERR_BUSY
 * when the in-memory queue is full (the disk cannot keep up or keeps failing),
 * KK_ERR_NOMEM. An id already stored is ignored when written, so a replay is harmless. */
enum kk_err kk_journal_append(struct kk_journal *j, const char *json);
/* Blocks until every event queued so far is committed to disk. KK_ERR_DB (err: path and
 * sqlite's message) when a write fails meanwhile; the events stay queued and the writer
 * tries again about a second later. */
enum kk_err kk_journal_flush(struct kk_journal *j, struct kk_buf *err);

/* Committed events not yet acknowledged (0 if the database cannot be read). */
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
