#include "kepu/journal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "kepu/alloc.h"
#include "kepu/limits.h"
#include "kepu/pack.h"
#include "kepu/utf8.h"

#define SCHEMA_VERSION    1
#define DEFAULT_MAX_BYTES (1024ull * 1024 * 1024)
#define QUEUE_MAX         4096 /* events waiting for the writer; past this append says BUSY */
#define BATCH_MAX         256  /* events per transaction */
#define RETRY_MS          1000 /* pause after a failed write before trying again */
#define BUSY_TIMEOUT_MS   2000 /* how long a statement waits for another connection's lock */

/* One queued event: id and json point into one allocation, freed with kk_free(id). */
struct entry {
    char *id;
    char *json;
    size_t len; /* of json */
};

struct kk_journal {
    char *path;

    pthread_mutex_t db_lock; /* db, bytes, dropped: the writer and the callers take turns */
    sqlite3 *db;
    uint64_t bytes;   /* sum of the rows' json lengths, the measure of the bound */
    uint64_t dropped; /* mirror of meta.dropped */
    uint64_t max_bytes;

    pthread_mutex_t lock;    /* everything below */
    pthread_cond_t work;     /* the queue has something, or the writer must stop */
    pthread_cond_t progress; /* a batch was committed or failed */
    struct entry queue[QUEUE_MAX];
    size_t head, qlen;
    uint64_t appended;  /* events ever queued */
    uint64_t committed; /* events ever committed (duplicates included) */
    uint64_t failures;  /* failed batches */
    char last_error[256];
    int stop;
    int thread_started;
    pthread_t thread;
};

static const char *const schema_sql =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " id TEXT UNIQUE NOT NULL, json TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('dropped', 0);"
    "PRAGMA user_version = 1;"
    "COMMIT;";

static enum kk_err err_of_sqlite(int code)
{
    switch (code & 0xff) {
    case SQLITE_NOMEM:
        return KK_ERR_NOMEM;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
        return KK_ERR_IO;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
        return KK_ERR_PERM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return KK_ERR_BUSY;
    default:
        return KK_ERR_DB;
    }
}

/* "PATH: what: sqlite's message (errno text)" for the connection's last error. */
static enum kk_err db_fail(struct kk_journal *j, struct kk_buf *err, int code, const char *what)
{
    int sys = j->db ? sqlite3_system_errno(j->db) : 0;
    const char *msg = j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(code);
    if (sys && (code & 0xff) != SQLITE_BUSY)
        return kk_fail(err, err_of_sqlite(code), "%s: %s: %s (%s)", j->path, what, msg,
                       strerror(sys));
    return kk_fail(err, err_of_sqlite(code), "%s: %s: %s", j->path, what, msg);
}

/* Runs a statement that returns one integer (or none: *out stays as it was). */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static enum kk_err setup_db(struct kk_journal *j, struct kk_buf *err)
{
    sqlite3_stmt *st = NULL;
    enum kk_err rc = KK_OK;
    int src = sqlite3_open_v2(j->path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (src != SQLITE_OK) {
        if (!j->db)
            return kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", j->path);
        return db_fail(j, err, src, "cannot open the event journal");
    }
    sqlite3_extended_result_codes(j->db, 1);
    sqlite3_busy_timeout(j->db, BUSY_TIMEOUT_MS);
    /* journal_mode answers with the mode it got: WAL needs a writable folder and shared
     * memory, and without it a power cut could cost more than the last transaction. */
    src = sqlite3_prepare_v2(j->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        rc = db_fail(j, err, src, "cannot open the event journal");
        goto done;
    }
    char mode[16];
    snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    st = NULL;
    if (strcmp(mode, "wal") != 0) {
        rc = kk_fail(err, KK_ERR_DB, "%s: cannot open the event journal: WAL mode refused (got %s)",
                     j->path, mode);
        goto done;
    }
    src = sqlite3_exec(j->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    int64_t version = 0;
    if (src == SQLITE_OK)
        src = query_int(j->db, "PRAGMA user_version", &version);
    if (src == SQLITE_OK && version == 0) {
        src = sqlite3_exec(j->db, schema_sql, NULL, NULL, NULL);
        if (src != SQLITE_OK) {
            /* Read the message first: a successful ROLLBACK clears it. */
            rc = db_fail(j, err, src, "cannot create the event journal");
            sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
            goto done;
        }
    } else if (src == SQLITE_OK && version != SCHEMA_VERSION) {
        rc = kk_fail(err, KK_ERR_DB,
                     "%s: the event journal has schema version %lld; this program knows %d",
                     j->path, (long long)version, SCHEMA_VERSION);
        goto done;
    }
    int64_t dropped = 0, bytes = 0;
    if (src == SQLITE_OK)
        src = query_int(j->db, "SELECT value FROM meta WHERE key = 'dropped'", &dropped);
    if (src == SQLITE_OK)
        src = query_int(j->db, "SELECT total(length(CAST(json AS BLOB))) FROM events", &bytes);
    if (src != SQLITE_OK) {
        rc = db_fail(j, err, src, "cannot open the event journal");
        goto done;
    }
    j->dropped = (uint64_t)dropped;
    j->bytes = (uint64_t)bytes;
done:
    sqlite3_finalize(st);
    return rc;
}

/* Deletes the oldest rows until the rows fit in max_bytes, counting them as dropped.
 * Runs inside the writer's transaction. */
static int drop_oldest(struct kk_journal *j)
{
    sqlite3_stmt *st = NULL;
    uint64_t freed = 0, count = 0;
    int64_t cutoff = 0;
    int rc = sqlite3_prepare_v2(
        j->db, "SELECT seq, length(CAST(json AS BLOB)) FROM events ORDER BY seq", -1, &st, NULL);
    while (rc == SQLITE_OK && freed < j->bytes && j->bytes - freed > j->max_bytes) {
        int step = sqlite3_step(st);
        if (step != SQLITE_ROW) {
            rc = step == SQLITE_DONE ? SQLITE_OK : step;
            break;
        }
        cutoff = sqlite3_column_int64(st, 0);
        freed += (uint64_t)sqlite3_column_int64(st, 1);
        count++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SQLITE_OK && count)
        rc = sqlite3_prepare_v2(j->db, "DELETE FROM events WHERE seq <= ?1", -1, &st, NULL);
    if (rc == SQLITE_OK && count) {
        sqlite3_bind_int64(st, 1, cutoff);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(j->db);
        sqlite3_finalize(st);
        st = NULL;
    }
    if (rc == SQLITE_OK && count)
        rc = sqlite3_prepare_v2(j->db, "UPDATE meta SET value = value + ?1 WHERE key = 'dropped'",
                                -1, &st, NULL);
    if (rc == SQLITE_OK && count) {
        sqlite3_bind_int64(st, 1, (int64_t)count);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(j->db);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK) {
        j->bytes -= freed < j->bytes ? freed : j->bytes;
        j->dropped += count;
    }
    return rc;
}

/* Commits n queued events in one transaction. On failure nothing changed and msg says why. */
static int write_batch(struct kk_journal *j, const struct entry *batch, size_t n, char *msg,
                       size_t msg_size)
{
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&j->db_lock);
    uint64_t bytes0 = j->bytes, dropped0 = j->dropped;
    int rc = sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    int in_tx = rc == SQLITE_OK;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(j->db, "INSERT OR IGNORE INTO events(id, json) VALUES(?1, ?2)", -1,
                                &st, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        sqlite3_bind_text(st, 1, batch[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, batch[i].json, (int)batch[i].len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = sqlite3_errcode(j->db);
            break;
        }
        if (sqlite3_changes(j->db) == 1) /* 0: a replay of an id already stored */
            j->bytes += batch[i].len;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK && j->bytes > j->max_bytes)
        rc = drop_oldest(j);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(msg, msg_size, "%s", sqlite3_errmsg(j->db));
        if (in_tx)
            sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
        j->bytes = bytes0;
        j->dropped = dropped0;
    }
    pthread_mutex_unlock(&j->db_lock);
    return rc;
}

static void free_queued(struct kk_journal *j)
{
    for (; j->qlen; j->qlen--) {
        kk_free(j->queue[j->head].id);
        j->head = (j->head + 1) % QUEUE_MAX;
    }
}

/* The writer thread: drains the queue in batches, one transaction each. A failed batch
 * stays queued and is tried again after RETRY_MS; when the journal is closing it is given
 * up instead, since nothing would be left to retry it. */
static void *writer_main(void *arg)
{
    struct kk_journal *j = arg;
    struct entry batch[BATCH_MAX];
    char msg[sizeof(j->last_error)];
    pthread_mutex_lock(&j->lock);
    for (;;) {
        while (!j->stop && j->qlen == 0)
            pthread_cond_wait(&j->work, &j->lock);
        if (j->qlen == 0)
            break;
        size_t n = j->qlen < BATCH_MAX ? j->qlen : BATCH_MAX;
        for (size_t i = 0; i < n; i++)
            batch[i] = j->queue[(j->head + i) % QUEUE_MAX];
        /* Appends only add behind these n entries, so they stay put while unlocked. */
        pthread_mutex_unlock(&j->lock);
        int rc = write_batch(j, batch, n, msg, sizeof(msg));
        pthread_mutex_lock(&j->lock);
        if (rc == SQLITE_OK) {
            for (size_t i = 0; i < n; i++)
                kk_free(batch[i].id);
            j->head = (j->head + n) % QUEUE_MAX;
            j->qlen -= n;
            j->committed += n;
        } else {
            j->failures++;
            snprintf(j->last_error, sizeof(j->last_error), "%s", msg);
            if (j->stop) {
                free_queued(j);
                pthread_cond_broadcast(&j->progress);
                break;
            }
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += RETRY_MS / 1000;
            until.tv_nsec += (long)(RETRY_MS % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_broadcast(&j->progress);
            while (!j->stop && pthread_cond_timedwait(&j->work, &j->lock, &until) != ETIMEDOUT)
                ;
        }
        pthread_cond_broadcast(&j->progress);
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

enum kk_err kk_journal_open(struct kk_journal **out, const char *path, uint64_t max_bytes,
                            struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    pthread_condattr_t attr;
    int attr_ok = 0;
    *out = NULL;
    struct kk_journal *j = kk_calloc(1, sizeof(*j));
    if (!j)
        return kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", path);
    j->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX_BYTES;
    j->path = kk_strdup(path);
    if (!j->path) {
        kk_free(j);
        return kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", path);
    }
    attr_ok = pthread_condattr_init(&attr) == 0;
    if (!attr_ok || pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_mutex_init(&j->db_lock, NULL) != 0 || pthread_mutex_init(&j->lock, NULL) != 0 ||
        pthread_cond_init(&j->work, &attr) != 0 || pthread_cond_init(&j->progress, &attr) != 0) {
        /* Linux's pthread initialisers cannot fail with these arguments. */
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: cannot create the journal's locks", path);
        goto done;
    }
    rc = setup_db(j, err);
    if (rc)
        goto done;
    int e = pthread_create(&j->thread, NULL, writer_main, j);
    if (e) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: cannot start the journal writer: %s", path,
                     strerror(e));
        goto done;
    }
    j->thread_started = 1;
done:
    if (attr_ok)
        pthread_condattr_destroy(&attr);
    if (rc) {
        kk_journal_close(j);
        return rc;
    }
    *out = j;
    return KK_OK;
}

void kk_journal_close(struct kk_journal *j)
{
    if (!j)
        return;
    if (j->thread_started) {
        pthread_mutex_lock(&j->lock);
        j->stop = 1;
        pthread_cond_signal(&j->work);
        pthread_mutex_unlock(&j->lock);
        pthread_join(j->thread, NULL);
    }
    free_queued(j);
    sqlite3_close(j->db);
    pthread_cond_destroy(&j->progress);
    pthread_cond_destroy(&j->work);
    pthread_mutex_destroy(&j->lock);
    pthread_mutex_destroy(&j->db_lock);
    kk_free(j->path);
    kk_free(j);
}

enum kk_err kk_journal_append(struct kk_journal *j, const char *json)
{
    enum kk_err rc = KK_OK;
    size_t len = strlen(json);
    if (len > KK_MAX_EVENT_BYTES)
        return KK_ERR_TOOBIG;
    if (!kk_utf8_valid(json, len))
        return KK_ERR_INVALID;
    cJSON *doc = kk_json_parse(json, &rc);
    if (rc == KK_ERR_NOMEM)
        goto done;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    if (!cJSON_IsObject(doc) || !cJSON_IsString(id) || !id->valuestring[0] ||
        strlen(id->valuestring) > KK_MAX_ID_LEN) {
        rc = KK_ERR_INVALID;
        goto done;
    }
    size_t idlen = strlen(id->valuestring);
    char *block = kk_malloc(idlen + 1 + len + 1);
    if (!block) {
        rc = KK_ERR_NOMEM;
        goto done;
    }
    memcpy(block, id->valuestring, idlen + 1);
    memcpy(block + idlen + 1, json, len + 1);
    pthread_mutex_lock(&j->lock);
    if (j->stop || j->qlen == QUEUE_MAX) {
        rc = KK_ERR_BUSY;
        kk_free(block);
    } else {
        j->queue[(j->head + j->qlen) % QUEUE_MAX] =
            (struct entry){.id = block, .json = block + idlen + 1, .len = len};
        j->qlen++;
        j->appended++;
        pthread_cond_signal(&j->work);
    }
    pthread_mutex_unlock(&j->lock);
done:
    cJSON_Delete(doc);
    return rc;
}

enum kk_err kk_journal_flush(struct kk_journal *j, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    pthread_mutex_lock(&j->lock);
    uint64_t target = j->appended, failures = j->failures;
    while (j->committed < target && j->failures == failures)
        pthread_cond_wait(&j->progress, &j->lock);
    if (j->committed < target)
        rc = kk_fail(err, KK_ERR_DB, "%s: cannot write the event journal: %s (will retry)", j->path,
                     j->last_error);
    pthread_mutex_unlock(&j->lock);
    return rc;
}

uint64_t kk_journal_count(struct kk_journal *j)
{
    int64_t n = 0;
    pthread_mutex_lock(&j->db_lock);
    if (query_int(j->db, "SELECT count(*) FROM events", &n) != SQLITE_OK)
        n = 0;
    pthread_mutex_unlock(&j->db_lock);
    return (uint64_t)n;
}

uint64_t kk_journal_dropped(struct kk_journal *j)
{
    pthread_mutex_lock(&j->db_lock);
    uint64_t n = j->dropped;
    pthread_mutex_unlock(&j->db_lock);
    return n;
}

void kk_journal_batch_release(struct kk_journal_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        kk_free(b->ids[i]);
        kk_free(b->json[i]);
    }
    kk_free(b->ids);
    kk_free(b->json);
    b->ids = NULL;
    b->json = NULL;
    b->n = 0;
}

/* Makes room for one more event in b, which has room for *alloc. */
static int batch_grow(struct kk_journal_batch *b, size_t *alloc)
{
    if (b->n < *alloc)
        return 0;
    size_t n = *alloc ? *alloc * 2 : 64;
    char **ids = kk_reallocarray(b->ids, n, sizeof(*ids));
    if (!ids)
        return -1;
    b->ids = ids;
    char **json = kk_reallocarray(b->json, n, sizeof(*json));
    if (!json)
        return -1;
    b->json = json;
    *alloc = n;
    return 0;
}

enum kk_err kk_journal_peek(struct kk_journal *j, size_t max, struct kk_journal_batch *out,
                            struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    sqlite3_stmt *st = NULL;
    size_t alloc = 0;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&j->db_lock);
    int src = sqlite3_prepare_v2(j->db, "SELECT id, json FROM events ORDER BY seq LIMIT ?1", -1,
                                 &st, NULL);
    if (src != SQLITE_OK) {
        rc = db_fail(j, err, src, "cannot read the event journal");
        goto done;
    }
    sqlite3_bind_int64(st, 1, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (batch_grow(out, &alloc) < 0) {
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", j->path);
            goto done;
        }
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *json = (const char *)sqlite3_column_text(st, 1);
        char *id_copy = id ? kk_strdup(id) : NULL;
        char *json_copy = json ? kk_strdup(json) : NULL;
        if (!id_copy || !json_copy) {
            kk_free(id_copy);
            kk_free(json_copy);
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", j->path);
            goto done;
        }
        out->ids[out->n] = id_copy;
        out->json[out->n] = json_copy;
        out->n++;
    }
    if (src != SQLITE_DONE)
        rc = db_fail(j, err, src, "cannot read the event journal");
done:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&j->db_lock);
    if (rc)
        kk_journal_batch_release(out);
    return rc;
}

enum kk_err kk_journal_ack(struct kk_journal *j, char *const *ids, size_t n, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    sqlite3_stmt *st = NULL;
    uint64_t freed = 0;
    pthread_mutex_lock(&j->db_lock);
    int src = sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (src != SQLITE_OK) {
        rc = db_fail(j, err, src, "cannot update the event journal");
        goto done;
    }
    src = sqlite3_prepare_v2(
        j->db, "DELETE FROM events WHERE id = ?1 RETURNING length(CAST(json AS BLOB))", -1, &st,
        NULL);
    for (size_t i = 0; src == SQLITE_OK && i < n; i++) {
        sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
        while ((src = sqlite3_step(st)) == SQLITE_ROW)
            freed += (uint64_t)sqlite3_column_int64(st, 0);
        src = src == SQLITE_DONE ? SQLITE_OK : src;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (src == SQLITE_OK)
        src = sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL);
    if (src != SQLITE_OK) {
        rc = db_fail(j, err, src, "cannot update the event journal");
        sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
        goto done;
    }
    j->bytes -= freed < j->bytes ? freed : j->bytes;
done:
    pthread_mutex_unlock(&j->db_lock);
    return rc;
}
