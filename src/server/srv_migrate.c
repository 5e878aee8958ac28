#include "srv_migrate.h"

#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "kepu/alloc.h"
#include "srv_store.h"

/* Copied through in chunks of about this size. */
#define CHUNK (1u << 20)

/* Every table both stores keep, in an order that satisfies the foreign keys, with the
 * columns to copy (the same names on both sides) and what the comparison adds up (SQL
 * that both SQLite and PostgreSQL read the same way; integers that cannot overflow). */
static const struct {
    const char *name, *cols, *order, *check;
} tables[] = {
    {"venues", "id, name, created_ms", "id", "COUNT(*)"},
    {"kiosks", "id, venue, token_hash, created_ms, revoked_ms", "id", "COUNT(*)"},
    {"enrol_codes", "code_hash, venue, kiosk, created_ms, expires_ms, used_ms", "code_hash",
     "COUNT(*)"},
    {"login_backoff", "key, failures, last_ms", "key", "COUNT(*), COALESCE(SUM(failures), 0)"},
    {"users", "name, role, password_hash, token_hash, created_ms", "name", "COUNT(*)"},
    {"sessions", "id_hash, \"user\", csrf, expires_ms", "id_hash", "COUNT(*)"},
    {"user_venues", "\"user\", venue", "\"user\", venue", "COUNT(*)"},
    {"drafts",
     "id, pack, venue, state, created_by, created_ms, head, updated_ms, updated_by, approved,"
     " approved_by, version, comments",
     "id", "COUNT(*), COALESCE(SUM(head), 0)"},
    {"draft_revisions", "draft, number, who, at_ms, note, source, files", "draft, number",
     "COUNT(*), COALESCE(SUM(length(source) + length(files)), 0)"},
    {"audit", "at_ms, who, what, target, detail, venue, pack", "seq", "COUNT(*)"},
    {"kiosk_status",
     "kiosk, seen_ms, app_version, packs, queue, dropped, uptime_s, disk_free_mb, last_error,"
     " clock_offset_ms",
     "kiosk", "COUNT(*), COALESCE(SUM(queue), 0), COALESCE(SUM(dropped), 0)"},
    {"packs", "id, version, manifest_sha256, manifest, signature, uploaded_ms", "id, version",
     "COUNT(*), COALESCE(SUM(length(manifest) + length(signature)), 0)"},
    {"pack_files", "pack, version, path, sha256, size", "pack, version, path",
     "COUNT(*), COALESCE(SUM(size), 0)"},
    {"assignments", "target_kind, target, pack, version, updated_ms, rolled_back",
     "target_kind, target, pack", "COUNT(*), COALESCE(SUM(rolled_back), 0)"},
    /* issue 16: with their ids, which the history names (the sequences follow below) */
    {"assignment_windows",
     "id, target_kind, target, pack, version, starts, ends, starts_ms, ends_ms, created_ms, who",
     "id", "COUNT(*), COALESCE(SUM(id), 0)"},
    {"assignment_history", "seq, at_ms, who, target_kind, target, pack, version, window_id, undone",
     "seq", "COUNT(*), COALESCE(SUM(undone), 0), COALESCE(SUM(window_id), 0)"},
    {"events", "id, kiosk, ts, type, received_ms, body, clock_flag", "seq",
     "COUNT(*), COALESCE(SUM(ts / 3600000), 0), COALESCE(SUM(length(body)), 0),"
     " COALESCE(SUM(clock_flag), 0)"},
    {"roll_hour", "type, hour, kiosk, n", "type, hour, kiosk",
     "COUNT(*), COALESCE(SUM(hour), 0), COALESCE(SUM(n), 0)"},
    {"roll_topic", "hour, kiosk, topic, views, dwell_ms", "hour, kiosk, topic",
     "COUNT(*), COALESCE(SUM(views), 0), COALESCE(SUM(dwell_ms), 0)"},
    {"roll_page", "hour, kiosk, topic, page, views, dwell_ms", "hour, kiosk, topic, page",
     "COUNT(*), COALESCE(SUM(page), 0), COALESCE(SUM(views), 0), COALESCE(SUM(dwell_ms), 0)"},
    {"roll_audience", "hour, kiosk, audience, sessions", "hour, kiosk, audience",
     "COUNT(*), COALESCE(SUM(sessions), 0)"},
    {"roll_question", "hour, kiosk, topic, question, audience, correct, total",
     "hour, kiosk, topic, question, audience",
     "COUNT(*), COALESCE(SUM(correct), 0), COALESCE(SUM(total), 0)"},
    {"counters", "name, n", "name", "COUNT(*), COALESCE(SUM(n), 0)"},
    {"day_type", "day, type, n", "day, type",
     "COUNT(*), COALESCE(SUM(day), 0), COALESCE(SUM(n), 0)"},
    {"day_topic", "day, topic, views, dwell_ms", "day, topic",
     "COUNT(*), COALESCE(SUM(views), 0), COALESCE(SUM(dwell_ms), 0)"},
    {"day_page", "day, topic, page, views, dwell_ms", "day, topic, page",
     "COUNT(*), COALESCE(SUM(page), 0), COALESCE(SUM(views), 0), COALESCE(SUM(dwell_ms), 0)"},
    {"day_audience", "day, audience, sessions", "day, audience",
     "COUNT(*), COALESCE(SUM(sessions), 0)"},
    {"day_question", "day, topic, question, audience, correct, total",
     "day, topic, question, audience",
     "COUNT(*), COALESCE(SUM(correct), 0), COALESCE(SUM(total), 0)"},
    {"day_kiosk", "day, kiosk, sessions", "day, kiosk", "COUNT(*), COALESCE(SUM(sessions), 0)"},
    {"day_quiz", "day, audience, correct, total", "day, audience",
     "COUNT(*), COALESCE(SUM(correct), 0), COALESCE(SUM(total), 0)"},
    {"day_interact", "day, kiosk, topic, page, block, action, target, n",
     "day, kiosk, topic, page, block, action, target", "COUNT(*), COALESCE(SUM(n), 0)"},
    {"day_block_visit", "day, kiosk, topic, page, block, session, n",
     "day, kiosk, topic, page, block, session", "COUNT(*), COALESCE(SUM(n), 0)"},
    {"day_target_visit", "day, kiosk, topic, page, block, target, session, n",
     "day, kiosk, topic, page, block, target, session", "COUNT(*), COALESCE(SUM(n), 0)"},
    {"day_audio", "day, kiosk, topic, page, lang, audience, plays, ms_heard",
     "day, kiosk, topic, page, lang, audience",
     "COUNT(*), COALESCE(SUM(plays), 0), COALESCE(SUM(ms_heard), 0)"},
    {"alerts", "kiosk, kind, state, since_ms, updated_ms, detail", "kiosk, kind", "COUNT(*)"},
    {"server_kv", "key, value, updated_ms", "key", "COUNT(*)"},
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static enum kk_err pq_fail(struct kk_buf *err, PGconn *c, const PGresult *r, const char *what)
{
    const char *msg = r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(c);
    return kk_fail(err, KK_ERR_DB, "%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
}

static enum kk_err pq_simple(PGconn *c, const char *sql, struct kk_buf *err)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    enum kk_err rc =
        st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? KK_OK : pq_fail(err, c, r, sql);
    PQclear(r);
    return rc;
}

/* Appends one value in COPY's text format. */
static enum kk_err copy_value(struct kk_buf *b, sqlite3_stmt *st, int i)
{
    static const char hex[] = "0123456789abcdef";
    enum kk_err rc = KK_OK;
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        return kk_buf_adds(b, "\\N");
    case SQLITE_INTEGER:
        return kk_buf_addf(b, "%lld", (long long)sqlite3_column_int64(st, i));
    case SQLITE_BLOB: {
        const unsigned char *p = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        rc = kk_buf_adds(b, "\\\\x");
        for (int k = 0; !rc && k < n; k++) {
            char h[2] = {hex[p[k] >> 4], hex[p[k] & 15]};
            rc = kk_buf_add(b, h, 2);
        }
        return rc;
    }
    default: {
        const char *s = (const char *)sqlite3_column_text(st, i);
        while (!rc && s && *s) {
            size_t n = strcspn(s, "\\\n\r\t");
            rc = kk_buf_add(b, s, n);
            s += n;
            if (!rc && *s) {
                char esc[2] = {'\\', *s == '\n' ? 'n' : *s == '\r' ? 'r' : *s == '\t' ? 't' : '\\'};
                rc = kk_buf_add(b, esc, 2);
                s++;
            }
        }
        return rc;
    }
    }
}

/* Copies one table from db to c (inside c's transaction); *rows gets the count. */
static enum kk_err copy_table(sqlite3 *db, PGconn *c, size_t t, long long *rows, struct kk_buf *err)
{
    struct kk_buf sql = KK_BUF_INIT, b = KK_BUF_INIT;
    sqlite3_stmt *st = NULL;
    PGresult *r = NULL;
    enum kk_err rc = KK_OK;
    int copying = 0, src;
    *rows = 0;
    if (kk_buf_addf(&sql, "SELECT %s FROM %s ORDER BY %s", tables[t].cols, tables[t].name,
                    tables[t].order)) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (sqlite3_prepare_v2(db, kk_buf_str(&sql), -1, &st, NULL) != SQLITE_OK) {
        rc = kk_fail(err, KK_ERR_DB, "--from %s: %s", tables[t].name, sqlite3_errmsg(db));
        goto done;
    }
    kk_buf_reset(&sql);
    if (kk_buf_addf(&sql, "COPY %s(%s) FROM STDIN", tables[t].name, tables[t].cols)) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    r = PQexec(c, kk_buf_str(&sql));
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        rc = pq_fail(err, c, r, tables[t].name);
        goto done;
    }
    copying = 1;
    int ncols = sqlite3_column_count(st);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; !rc && i < ncols; i++) {
            if (i)
                rc = kk_buf_add(&b, "\t", 1);
            if (!rc)
                rc = copy_value(&b, st, i);
        }
        if (!rc)
            rc = kk_buf_add(&b, "\n", 1);
        if (rc) {
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
            goto done;
        }
        (*rows)++;
        if (b.len >= CHUNK) {
            if (PQputCopyData(c, b.data, (int)b.len) != 1) {
                rc = pq_fail(err, c, NULL, tables[t].name);
                goto done;
            }
            kk_buf_reset(&b);
        }
    }
    if (src != SQLITE_DONE) {
        rc = kk_fail(err, KK_ERR_DB, "--from %s: %s", tables[t].name, sqlite3_errmsg(db));
        goto done;
    }
    if (b.len && PQputCopyData(c, b.data, (int)b.len) != 1) {
        rc = pq_fail(err, c, NULL, tables[t].name);
        goto done;
    }
done:
    if (copying) {
        PQputCopyEnd(c, rc ? "migration failed" : NULL);
        PQclear(r);
        r = PQgetResult(c);
        if (!rc && PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = pq_fail(err, c, r, tables[t].name);
        /* drain to the end of the COPY */
        for (PGresult *more; (more = PQgetResult(c));)
            PQclear(more);
    }
    PQclear(r);
    sqlite3_finalize(st);
    kk_buf_release(&sql);
    kk_buf_release(&b);
    return rc;
}

/* The comparison line of table t in db: its check columns joined by spaces. */
static enum kk_err sqlite_check(sqlite3 *db, size_t t, struct kk_buf *out, struct kk_buf *err)
{
    struct kk_buf sql = KK_BUF_INIT;
    sqlite3_stmt *st = NULL;
    enum kk_err rc = kk_buf_addf(&sql, "SELECT %s FROM %s", tables[t].check, tables[t].name);
    kk_buf_reset(out);
    if (!rc && sqlite3_prepare_v2(db, kk_buf_str(&sql), -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; !rc && i < sqlite3_column_count(st); i++)
            rc = kk_buf_addf(out, "%s%s", i ? " " : "", (const char *)sqlite3_column_text(st, i));
    } else if (!rc) {
        rc = kk_fail(err, KK_ERR_DB, "--from %s: %s", tables[t].name, sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    kk_buf_release(&sql);
    return rc == KK_ERR_NOMEM ? kk_fail(err, rc, "out of memory") : rc;
}

static enum kk_err pg_check(PGconn *c, size_t t, struct kk_buf *out, struct kk_buf *err)
{
    struct kk_buf sql = KK_BUF_INIT;
    enum kk_err rc = kk_buf_addf(&sql, "SELECT %s FROM %s", tables[t].check, tables[t].name);
    kk_buf_reset(out);
    PGresult *r = rc ? NULL : PQexec(c, kk_buf_str(&sql));
    if (!rc && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        for (int i = 0; !rc && i < PQnfields(r); i++)
            rc = kk_buf_addf(out, "%s%s", i ? " " : "", PQgetvalue(r, 0, i));
        rc = rc ? kk_fail(err, rc, "out of memory") : KK_OK;
    } else if (!rc) {
        rc = pq_fail(err, c, r, tables[t].name);
    } else {
        rc = kk_fail(err, rc, "out of memory");
    }
    PQclear(r);
    kk_buf_release(&sql);
    return rc;
}

/* KK_ERR_EXISTS when the target holds anything an office made. */
static enum kk_err check_empty(PGconn *c, struct kk_buf *err)
{
    PGresult *r = PQexec(c, "SELECT (SELECT COUNT(*) FROM venues) + (SELECT COUNT(*) FROM kiosks)"
                            " + (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM packs)"
                            " + (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM counters)");
    enum kk_err rc = KK_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        rc = pq_fail(err, c, r, "--to");
    else if (strcmp(PQgetvalue(r, 0, 0), "0"))
        rc = kk_fail(err, KK_ERR_EXISTS,
                     "--to: the target database is not empty (%s rows in venues, kiosks, users,"
                     " packs, events); migrate only into a new database",
                     PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

enum kk_err srv_migrate(const char *sqlite_path, const char *pg_url, const char *data_dir,
                        FILE *report, struct kk_buf *err)
{
    struct srv_store *store = NULL;
    sqlite3 *db = NULL;
    PGconn *c = NULL;
    struct kk_buf a = KK_BUF_INIT, b = KK_BUF_INIT;
    int in_tx = 0;
    /* Both schemas up to date first (the SQLite one may be older than this program). */
    enum kk_err rc = srv_store_sqlite_open(&store, data_dir, sqlite_path, err);
    srv_store_close(store);
    store = NULL;
    if (!rc)
        rc = srv_store_pg_open(&store, data_dir, pg_url, err);
    srv_store_close(store);
    if (rc)
        goto done;
    if (sqlite3_open_v2(sqlite_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = kk_fail(err, KK_ERR_DB, "--from %s: %s", sqlite_path,
                     db ? sqlite3_errmsg(db) : "cannot open");
        goto done;
    }
    sqlite3_busy_timeout(db, 10000);
    c = PQconnectdb(pg_url);
    if (PQstatus(c) != CONNECTION_OK) {
        rc = pq_fail(err, c, NULL, "--to: cannot connect to PostgreSQL");
        goto done;
    }
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        rc = kk_fail(err, KK_ERR_DB, "--from %s: %s", sqlite_path, sqlite3_errmsg(db));
        goto done;
    }
    rc = pq_simple(c, "BEGIN", err);
    in_tx = !rc;
    /* Nobody else may write while we copy: another migrate or a server started early. */
    if (!rc)
        rc = pq_simple(c,
                       "LOCK TABLE venues, kiosks, users, packs, events, counters"
                       " IN EXCLUSIVE MODE",
                       err);
    if (!rc)
        rc = check_empty(c, err);
    for (size_t t = 0; !rc && t < NTABLES; t++) {
        long long rows;
        rc = copy_table(db, c, t, &rows, err);
        if (!rc && report)
            fprintf(report, "%-14s %lld rows\n", tables[t].name, rows);
    }
    /* Ids copied as they were: the sequences go on after them. */
    if (!rc)
        rc = pq_simple(c,
                       "SELECT setval(pg_get_serial_sequence('assignment_windows', 'id'),"
                       " COALESCE((SELECT MAX(id) FROM assignment_windows), 0) + 1, false),"
                       " setval(pg_get_serial_sequence('assignment_history', 'seq'),"
                       " COALESCE((SELECT MAX(seq) FROM assignment_history), 0) + 1, false)",
                       err);
    for (size_t t = 0; !rc && t < NTABLES; t++) {
        rc = sqlite_check(db, t, &a, err);
        if (!rc)
            rc = pg_check(c, t, &b, err);
        if (!rc && strcmp(kk_buf_str(&a), kk_buf_str(&b)))
            rc = kk_fail(err, KK_ERR_DB,
                         "migrate: %s differs after the copy (%s in SQLite, %s in"
                         " PostgreSQL); nothing was kept",
                         tables[t].name, kk_buf_str(&a), kk_buf_str(&b));
    }
    if (!rc) {
        rc = pq_simple(c, "COMMIT", err);
        in_tx = 0;
    }
    if (!rc && report)
        fprintf(report, "copied and compared %zu tables\n", NTABLES);
done:
    if (in_tx)
        pq_simple(c, "ROLLBACK", NULL);
    if (db)
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    PQfinish(c);
    kk_buf_release(&a);
    kk_buf_release(&b);
    return rc;
}
