/* The PostgreSQL store (libpq): the same tables and the same answers as the SQLite store,
 * for offices that want a database server they already run and back up, and for several
 * kepu-server processes on one database (DESIGN.md "Scale past one machine").
 *
 * A small locked pool of connections, one per request at a time. Every statement is
 * prepared once per connection (keyed by its SQL text's address, so only static strings
 * are passed) with its parameter types, and every value is bound, never pasted. A batch
 * of events is one transaction of a few statements whatever its size: the events go in
 * as arrays (INSERT ... SELECT FROM unnest ... ON CONFLICT DO NOTHING RETURNING id), and
 * each rollup table gets one upsert of the batch's sums per distinct key, in key order, so
 * that concurrent batches take their row locks in the same order. The default
 * synchronous_commit makes a COMMIT that returned durable. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "srv_auth.h"
#include "srv_rollup.h"
#include "srv_store.h"

#define MAX_CONNS 16
#define MAX_STMTS 128
#define MAX_ARGS  12
/* A batch that meets a deadlock (another transaction's locks) is tried again this often. */
#define MAX_TRIES 5

/* Type OIDs of the parameters and results we use (pg_type.dat; stable across versions). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_TEXT_ARRAY = 1009,
    OID_INT8_ARRAY = 1016,
    OID_NUMERIC = 1700,
};

/* Text columns compare and sort bytewise, as SQLite's do, whatever the database's locale. */
#define TXT "TEXT COLLATE \"C\""

/* Schema migrations: migrations[i] takes schema_version i to i + 1. Append, never edit.
 * Version 1 is the SQLite store's schema 5 as one step, but for the events: partitioned
 * by month of ts (events_YYYYMM, made ahead by events_prune; anything outside them goes
 * to events_default), so retention drops whole months. A partitioned table's keys must
 * hold the partition key, so the key is (id, ts); that an id is stored once whatever its
 * ts is checked on insert (ev_insert_sql). */
static const char *const migrations[] = {
    "CREATE TABLE venues(id " TXT " PRIMARY KEY, name TEXT NOT NULL, created_ms BIGINT NOT NULL);"
    "CREATE TABLE kiosks(id " TXT " PRIMARY KEY, venue " TXT " NOT NULL REFERENCES venues(id),"
    " token_hash TEXT NOT NULL UNIQUE, created_ms BIGINT NOT NULL);"
    "CREATE INDEX kiosks_venue ON kiosks(venue);"
    "CREATE TABLE users(name " TXT " PRIMARY KEY, role TEXT NOT NULL CHECK(role IN"
    " ('office','staff')), password_hash TEXT NOT NULL, token_hash TEXT UNIQUE,"
    " created_ms BIGINT NOT NULL);"
    "CREATE TABLE sessions(id_hash TEXT PRIMARY KEY, \"user\" " TXT " NOT NULL, csrf TEXT NOT NULL,"
    " expires_ms BIGINT NOT NULL);"
    "CREATE INDEX sessions_expires ON sessions(expires_ms);"
    "CREATE TABLE kiosk_status(kiosk " TXT " PRIMARY KEY, seen_ms BIGINT NOT NULL,"
    " app_version TEXT, packs TEXT, queue BIGINT, dropped BIGINT, uptime_s BIGINT,"
    " disk_free_mb BIGINT, last_error TEXT);"
    "CREATE TABLE packs(id " TXT " NOT NULL, version " TXT
    " NOT NULL, manifest_sha256 TEXT NOT NULL,"
    " manifest BYTEA NOT NULL, signature BYTEA NOT NULL, uploaded_ms BIGINT NOT NULL,"
    " PRIMARY KEY(id, version));"
    "CREATE TABLE pack_files(pack " TXT " NOT NULL, version " TXT " NOT NULL, path " TXT
    " NOT NULL,"
    " sha256 TEXT NOT NULL, size BIGINT NOT NULL, PRIMARY KEY(pack, version, path));"
    "CREATE INDEX pack_files_sha ON pack_files(sha256);"
    "CREATE TABLE assignments(target_kind " TXT " NOT NULL CHECK(target_kind IN"
    " ('venue','kiosk')), target " TXT " NOT NULL, pack " TXT " NOT NULL, version " TXT " NOT NULL,"
    " updated_ms BIGINT NOT NULL, PRIMARY KEY(target_kind, target, pack));"
    "CREATE TABLE events(id " TXT " NOT NULL, kiosk " TXT " NOT NULL, ts BIGINT NOT NULL,"
    " type " TXT " NOT NULL, received_ms BIGINT NOT NULL, body TEXT NOT NULL,"
    " PRIMARY KEY(id, ts)) PARTITION BY RANGE (ts);"
    "CREATE TABLE events_default PARTITION OF events DEFAULT;"
    "CREATE TABLE roll_hour(type " TXT " NOT NULL, hour BIGINT NOT NULL, kiosk " TXT " NOT NULL,"
    " n BIGINT NOT NULL, PRIMARY KEY(type, hour, kiosk));"
    "CREATE TABLE roll_topic(hour BIGINT NOT NULL, kiosk " TXT " NOT NULL, topic " TXT " NOT NULL,"
    " views BIGINT NOT NULL, dwell_ms BIGINT NOT NULL, PRIMARY KEY(hour, kiosk, topic));"
    "CREATE TABLE roll_page(hour BIGINT NOT NULL, kiosk " TXT " NOT NULL, topic " TXT " NOT NULL,"
    " page BIGINT NOT NULL, views BIGINT NOT NULL, dwell_ms BIGINT NOT NULL,"
    " PRIMARY KEY(hour, kiosk, topic, page));"
    "CREATE TABLE roll_audience(hour BIGINT NOT NULL, kiosk " TXT " NOT NULL,"
    " audience " TXT " NOT NULL, sessions BIGINT NOT NULL, PRIMARY KEY(hour, kiosk, audience));"
    "CREATE TABLE roll_question(hour BIGINT NOT NULL, kiosk " TXT " NOT NULL, topic " TXT
    " NOT NULL,"
    " question " TXT " NOT NULL, audience " TXT " NOT NULL, correct BIGINT NOT NULL,"
    " total BIGINT NOT NULL, PRIMARY KEY(hour, kiosk, topic, question, audience));"
    "CREATE TABLE counters(name " TXT " PRIMARY KEY, n BIGINT NOT NULL);"
    "CREATE TABLE day_type(day BIGINT NOT NULL, type " TXT " NOT NULL, n BIGINT NOT NULL,"
    " PRIMARY KEY(day, type));"
    "CREATE TABLE day_topic(day BIGINT NOT NULL, topic " TXT " NOT NULL, views BIGINT NOT NULL,"
    " dwell_ms BIGINT NOT NULL, PRIMARY KEY(day, topic));"
    "CREATE TABLE day_page(day BIGINT NOT NULL, topic " TXT " NOT NULL, page BIGINT NOT NULL,"
    " views BIGINT NOT NULL, dwell_ms BIGINT NOT NULL, PRIMARY KEY(day, topic, page));"
    "CREATE TABLE day_audience(day BIGINT NOT NULL, audience " TXT " NOT NULL,"
    " sessions BIGINT NOT NULL, PRIMARY KEY(day, audience));"
    "CREATE TABLE day_question(day BIGINT NOT NULL, topic " TXT " NOT NULL, question " TXT
    " NOT NULL,"
    " audience " TXT " NOT NULL, correct BIGINT NOT NULL, total BIGINT NOT NULL,"
    " PRIMARY KEY(day, topic, question, audience));"
    "CREATE TABLE day_kiosk(day BIGINT NOT NULL, kiosk " TXT " NOT NULL, sessions BIGINT NOT NULL,"
    " PRIMARY KEY(day, kiosk));"
    "CREATE TABLE day_quiz(day BIGINT NOT NULL, audience " TXT " NOT NULL, correct BIGINT NOT NULL,"
    " total BIGINT NOT NULL, PRIMARY KEY(day, audience));",
    /* 2 (SQLite 6): events whose time stamp the server cannot believe are kept with
     * clock_flag 1 and left out of the rollups. Added on the partitioned parent, so every
     * partition, now and later, has it. */
    "ALTER TABLE events ADD COLUMN clock_flag INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE kiosk_status ADD COLUMN clock_offset_ms BIGINT;",
    /* 3 (SQLite 7): the failed-login back-off, shared by every server on this database. */
    "CREATE TABLE login_backoff(key " TXT " PRIMARY KEY, failures BIGINT NOT NULL,"
    " last_ms BIGINT NOT NULL);",
    /* 4 (SQLite 8): enrolment codes (one use each, until expires_ms) and revoked kiosks
     * (their token hash is replaced so nothing matches it; revoked_ms says when). */
    "CREATE TABLE enrol_codes(code_hash TEXT PRIMARY KEY, venue " TXT " NOT NULL REFERENCES"
    " venues(id), kiosk " TXT " NOT NULL, created_ms BIGINT NOT NULL,"
    " expires_ms BIGINT NOT NULL, used_ms BIGINT);"
    "ALTER TABLE kiosks ADD COLUMN revoked_ms BIGINT;",
    /* 5 (SQLite 9): interactive blocks and narration per city day and kiosk: every use of
     * a block's target, one row per visit that used a block or one of its targets (so
     * visitors are counted, not taps), and narration played and heard. */
    "CREATE TABLE day_interact(day BIGINT NOT NULL, kiosk " TXT " NOT NULL, topic " TXT
    " NOT NULL, page BIGINT NOT NULL, block " TXT " NOT NULL, action " TXT " NOT NULL,"
    " target " TXT " NOT NULL, n BIGINT NOT NULL,"
    " PRIMARY KEY(day, kiosk, topic, page, block, action, target));"
    "CREATE TABLE day_block_visit(day BIGINT NOT NULL, kiosk " TXT " NOT NULL, topic " TXT
    " NOT NULL, page BIGINT NOT NULL, block " TXT " NOT NULL, session " TXT " NOT NULL,"
    " n BIGINT NOT NULL, PRIMARY KEY(day, kiosk, topic, page, block, session));"
    "CREATE TABLE day_target_visit(day BIGINT NOT NULL, kiosk " TXT " NOT NULL, topic " TXT
    " NOT NULL, page BIGINT NOT NULL, block " TXT " NOT NULL, target " TXT " NOT NULL,"
    " session " TXT " NOT NULL, n BIGINT NOT NULL,"
    " PRIMARY KEY(day, kiosk, topic, page, block, target, session));"
    "CREATE TABLE day_audio(day BIGINT NOT NULL, kiosk " TXT " NOT NULL, topic " TXT " NOT NULL,"
    " page BIGINT NOT NULL, lang " TXT " NOT NULL, audience " TXT " NOT NULL,"
    " plays BIGINT NOT NULL, ms_heard BIGINT NOT NULL,"
    " PRIMARY KEY(day, kiosk, topic, page, lang, audience));",
    /* 6 (SQLite 10; issue 15): content studio
     * drafts and their revisions, the venues a staff user may edit, the audit log. */
    "CREATE TABLE drafts(id " TXT " PRIMARY KEY, pack " TXT " NOT NULL, venue " TXT
    " REFERENCES venues(id), state " TXT " NOT NULL DEFAULT 'draft', created_by " TXT
    " NOT NULL, created_ms BIGINT NOT NULL, head BIGINT NOT NULL, updated_ms BIGINT NOT NULL,"
    " updated_by " TXT " NOT NULL);"
    "CREATE TABLE draft_revisions(draft " TXT " NOT NULL REFERENCES drafts(id), number BIGINT"
    " NOT NULL, who " TXT " NOT NULL, at_ms BIGINT NOT NULL, note TEXT NOT NULL,"
    " source TEXT NOT NULL, files TEXT NOT NULL, PRIMARY KEY(draft, number));"
    "CREATE TABLE user_venues(\"user\" " TXT " NOT NULL REFERENCES users(name) ON DELETE"
    " CASCADE, venue " TXT " NOT NULL REFERENCES venues(id), PRIMARY KEY(\"user\", venue));"
    "CREATE TABLE audit(seq BIGSERIAL PRIMARY KEY, at_ms BIGINT NOT NULL, who " TXT
    " NOT NULL, what " TXT " NOT NULL, target " TXT " NOT NULL, detail TEXT NOT NULL);"
    "CREATE INDEX audit_at ON audit(at_ms);",
    /* 7 (SQLite 11): fleet operations (issue 17): tags, commands, screenshots, the settings
     * overlay (a venue's opening hours are its "hours" key), notices, the audit log and the
     * state a kiosk reports. */
    "ALTER TABLE assignments DROP CONSTRAINT assignments_target_kind_check;"
    "ALTER TABLE assignments ADD CONSTRAINT assignments_target_kind_check"
    " CHECK(target_kind IN ('venue','kiosk','tag'));"
    "CREATE TABLE kiosk_tags(kiosk " TXT " NOT NULL REFERENCES kiosks(id), tag " TXT " NOT NULL,"
    " PRIMARY KEY(kiosk, tag));"
    "CREATE INDEX kiosk_tags_tag ON kiosk_tags(tag);"
    "CREATE TABLE commands(id " TXT " PRIMARY KEY, kiosk " TXT " NOT NULL, type TEXT NOT NULL,"
    " args TEXT NOT NULL, created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL, who TEXT,"
    " done_ms BIGINT, ok BIGINT, detail TEXT);"
    "CREATE INDEX commands_kiosk ON commands(kiosk, done_ms);"
    "CREATE TABLE screenshots(kiosk " TXT " PRIMARY KEY, png BYTEA NOT NULL,"
    " taken_ms BIGINT NOT NULL);"
    "CREATE TABLE settings(target_kind " TXT " NOT NULL CHECK(target_kind IN"
    " ('venue','kiosk','tag')), target " TXT " NOT NULL, skey " TXT " NOT NULL,"
    " svalue TEXT NOT NULL, updated_ms BIGINT NOT NULL, PRIMARY KEY(target_kind, target, skey));"
    "CREATE TABLE notices(id " TXT " PRIMARY KEY, level TEXT NOT NULL, text TEXT NOT NULL,"
    " from_ms BIGINT NOT NULL, to_ms BIGINT NOT NULL, who TEXT, created_ms BIGINT NOT NULL);"
    "CREATE TABLE notice_targets(notice " TXT " NOT NULL, kind " TXT " NOT NULL, target " TXT
    " NOT NULL, PRIMARY KEY(notice, kind, target));"
    "ALTER TABLE kiosk_status ADD COLUMN state TEXT;",
    /* 8 (SQLite 12; issue 16): the review. A draft's last approval, the version reserved
     * for it (then published), the last request for changes; the audit log names a row's
     * venue and pack and refuses every UPDATE, DELETE and TRUNCATE. */
    "ALTER TABLE drafts ADD COLUMN approved BIGINT;"
    "ALTER TABLE drafts ADD COLUMN approved_by " TXT ";"
    "ALTER TABLE drafts ADD COLUMN version " TXT ";"
    "ALTER TABLE drafts ADD COLUMN comments TEXT;"
    "ALTER TABLE audit ADD COLUMN venue " TXT ";"
    "ALTER TABLE audit ADD COLUMN pack " TXT ";"
    "CREATE INDEX audit_who ON audit(who, at_ms);"
    "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    " $f$ BEGIN RAISE EXCEPTION 'the audit log is only appended to'; END $f$;"
    "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit"
    " FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();",
    /* 9 (SQLite 13; issue 17, alerts): each kiosk's
     * alert states and the server's own small settings. */
    "CREATE TABLE alerts(kiosk " TXT " NOT NULL, kind " TXT " NOT NULL, state " TXT " NOT NULL,"
    " since_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL, detail TEXT NOT NULL,"
    " PRIMARY KEY(kiosk, kind));"
    "CREATE TABLE server_kv(key " TXT " PRIMARY KEY, value TEXT NOT NULL,"
    " updated_ms BIGINT NOT NULL);",
    /* 10 (SQLite 14; issue 16): dated assignments, the
     * assignment history for rollbacks, the rollback flag. */
    "ALTER TABLE assignments ADD COLUMN rolled_back BIGINT NOT NULL DEFAULT 0;"
    "CREATE TABLE assignment_windows(id BIGSERIAL PRIMARY KEY, target_kind " TXT " NOT NULL,"
    " target " TXT " NOT NULL, pack " TXT " NOT NULL, version " TXT " NOT NULL, starts TEXT,"
    " ends TEXT, starts_ms BIGINT NOT NULL, ends_ms BIGINT NOT NULL, created_ms BIGINT NOT NULL,"
    " who TEXT NOT NULL);"
    "CREATE INDEX assignment_windows_target ON assignment_windows(target_kind, target, pack);"
    "CREATE TABLE assignment_history(seq BIGSERIAL PRIMARY KEY, at_ms BIGINT NOT NULL,"
    " who TEXT NOT NULL, target_kind " TXT " NOT NULL, target " TXT " NOT NULL, pack " TXT
    " NOT NULL, version " TXT " NOT NULL, window_id BIGINT, undone BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX assignment_history_target ON assignment_history(target_kind, target, pack);"
    "INSERT INTO assignment_history(at_ms, who, target_kind, target, pack, version)"
    " SELECT updated_ms, '', target_kind, target, pack, version FROM assignments"
    " ORDER BY updated_ms;",
    /* 11 (SQLite 15; issue 16): a user holds a set of roles; the office users there were
     * also become admin (they managed users and keys until now). */
    "ALTER TABLE users DROP CONSTRAINT users_role_check;"
    "UPDATE users SET role = 'office,admin' WHERE role = 'office';"
    "ALTER TABLE users ADD CONSTRAINT users_role_check CHECK(role IN " SRV_ROLES_CHECK ");",
};
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

struct pg_conn {
    PGconn *c;
    const char *sql[MAX_STMTS]; /* sql[i] is prepared as "k<i>" */
    size_t nsql;
};

struct pg_store {
    struct srv_store base;
    char *url;
    pthread_mutex_t lock; /* guards idle */
    struct pg_conn *idle[MAX_CONNS];
    size_t nidle;
};

/* A statement's parameters: types, values as text (bytea as binary) and their storage. */
struct pg_args {
    int n;
    Oid types[MAX_ARGS];
    const char *vals[MAX_ARGS];
    int lens[MAX_ARGS], fmts[MAX_ARGS];
    char num[MAX_ARGS][24];
};

/* Fills a from types: 't' const char * (NULL binds NULL), 'i' int64_t, 'b' const void *
 * then size_t (bytea), 'T' and 'I' an array literal (const char *, NULL binds NULL) of
 * text[] and bigint[]. The strings must outlive the statement. */
static void args_va(struct pg_args *a, const char *types, va_list ap)
{
    memset(a, 0, sizeof(*a));
    for (; types && *types; types++) {
        int i = a->n++;
        if (i >= MAX_ARGS)
            KK_BUG("more than %d parameters", MAX_ARGS);
        switch (*types) {
        case 't':
            a->types[i] = OID_TEXT;
            a->vals[i] = va_arg(ap, const char *);
            break;
        case 'T':
            a->types[i] = OID_TEXT_ARRAY;
            a->vals[i] = va_arg(ap, const char *);
            break;
        case 'I':
            a->types[i] = OID_INT8_ARRAY;
            a->vals[i] = va_arg(ap, const char *);
            break;
        case 'i':
            a->types[i] = OID_INT8;
            snprintf(a->num[i], sizeof(a->num[i]), "%lld", (long long)va_arg(ap, int64_t));
            a->vals[i] = a->num[i];
            break;
        case 'b': {
            a->types[i] = OID_BYTEA;
            a->vals[i] = va_arg(ap, const char *);
            size_t n = va_arg(ap, size_t);
            if (n > (size_t)0x7fffffff)
                KK_BUG("bytea parameter of %zu bytes", n);
            a->lens[i] = (int)n;
            a->fmts[i] = 1;
            if (!a->vals[i])
                a->vals[i] = "";
            break;
        }
        default:
            KK_BUG("bind type %c", *types);
        }
    }
}

/* The first line of libpq's message, for a one-line error. */
static void add_pq_message(struct kk_buf *err, const char *what, const char *msg)
{
    size_t n = strcspn(msg ? msg : "", "\n");
    kk_fail(err, KK_ERR_DB, "%s: %.*s", what, (int)n, msg ? msg : "");
}

/* Turns a failed result into an error. A constraint violation is KK_ERR_EXISTS without a
 * message (the caller names what exists); a deadlock is KK_ERR_BUSY. */
static enum kk_err res_fail(const PGresult *r, PGconn *c, struct kk_buf *err, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && !strncmp(state, "23", 2))
        return KK_ERR_EXISTS;
    if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03")))
        return kk_fail(err, KK_ERR_BUSY, "%s: database is busy", what);
    add_pq_message(err, what,
                   r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(c));
    return KK_ERR_DB;
}

/* Runs sql (a static string: it is prepared on this connection the first time, with a's
 * types) with a's values. binary asks for results in binary (bytea as its bytes, text as
 * is). On success *out holds the result for the caller to PQclear; on failure *out is
 * NULL. */
static enum kk_err pq_exec(struct pg_conn *c, const char *sql, const struct pg_args *a, int binary,
                           PGresult **out, struct kk_buf *err)
{
    char name[16];
    size_t i = 0;
    PGresult *r;
    *out = NULL;
    while (i < c->nsql && c->sql[i] != sql)
        i++;
    if (i == c->nsql) {
        if (c->nsql == MAX_STMTS)
            KK_BUG("more than %d statements", MAX_STMTS);
        snprintf(name, sizeof(name), "k%zu", i);
        r = PQprepare(c->c, name, sql, a->n, a->types);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            enum kk_err rc = res_fail(r, c->c, err, "prepare");
            PQclear(r);
            return rc == KK_ERR_EXISTS ? kk_fail(err, KK_ERR_DB, "prepare failed") : rc;
        }
        PQclear(r);
        c->sql[c->nsql++] = sql;
    }
    snprintf(name, sizeof(name), "k%zu", i);
    r = PQexecPrepared(c->c, name, a->n, a->vals, a->lens, a->fmts, binary);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        enum kk_err rc = res_fail(r, c->c, err, "query");
        PQclear(r);
        return rc;
    }
    *out = r;
    return KK_OK;
}

/* Runs one statement, ignoring any rows. */
static enum kk_err run(struct pg_conn *c, struct kk_buf *err, const char *sql, const char *types,
                       ...)
{
    struct pg_args a;
    PGresult *r;
    va_list ap;
    va_start(ap, types);
    args_va(&a, types, ap);
    va_end(ap);
    enum kk_err rc = pq_exec(c, sql, &a, 0, &r, err);
    PQclear(r);
    return rc;
}

/* Runs a fixed command without parameters (BEGIN, COMMIT, ROLLBACK, migrations). */
static enum kk_err simple(struct pg_conn *c, struct kk_buf *err, const char *sql)
{
    PGresult *r = PQexec(c->c, sql);
    enum kk_err rc = KK_OK;
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = res_fail(r, c->c, err, sql);
    PQclear(r);
    return rc;
}

/* Runs a query and keeps its result: KK_ERR_NOTFOUND (and *out NULL) when it has no row. */
static enum kk_err query_row(struct pg_conn *c, PGresult **out, struct kk_buf *err, const char *sql,
                             int binary, const char *types, ...)
{
    struct pg_args a;
    va_list ap;
    va_start(ap, types);
    args_va(&a, types, ap);
    va_end(ap);
    enum kk_err rc = pq_exec(c, sql, &a, binary, out, err);
    if (!rc && PQntuples(*out) == 0) {
        PQclear(*out);
        *out = NULL;
        rc = KK_ERR_NOTFOUND;
    }
    return rc;
}

/* Copies column col of row 0 into out (NULL: only whether there is a row). */
static enum kk_err take_value(PGresult *r, int col, struct kk_buf *out, struct kk_buf *err)
{
    if (!out)
        return KK_OK;
    kk_buf_reset(out);
    int n = PQgetlength(r, 0, col);
    if (n > 0 && kk_buf_add(out, PQgetvalue(r, 0, col), (size_t)n))
        return kk_fail(err, KK_ERR_NOMEM, "query: out of memory");
    return KK_OK;
}

/* Reads one column of the first row into out as bytes; KK_ERR_NOTFOUND when no row. */
static enum kk_err query_text(struct pg_conn *c, struct kk_buf *out, struct kk_buf *err,
                              const char *sql, const char *types, const char *a1, const char *a2)
{
    PGresult *r;
    enum kk_err rc = query_row(c, &r, err, sql, 1, types, a1, a2);
    if (!rc)
        rc = take_value(r, 0, out, err);
    PQclear(r);
    return rc;
}

/* Appends every row of r to out (initialised with its columns), typed by the columns'
 * types: integers, reals (numeric too) and text. */
static enum kk_err collect_rows(PGresult *r, struct srv_table *out, struct kk_buf *err)
{
    int rows = PQntuples(r), cols = PQnfields(r);
    for (int y = 0; y < rows; y++) {
        struct srv_cell *row = srv_table_add_row(out);
        if (!row)
            return kk_fail(err, KK_ERR_NOMEM, "query: out of memory");
        for (int x = 0; x < cols && (size_t)x < out->ncolumns; x++) {
            if (PQgetisnull(r, y, x))
                continue;
            const char *v = PQgetvalue(r, y, x);
            switch (PQftype(r, x)) {
            case OID_INT2:
            case OID_INT4:
            case OID_INT8:
                row[x].kind = SRV_CELL_INT;
                row[x].i = strtoll(v, NULL, 10);
                break;
            case OID_BOOL:
                row[x].kind = SRV_CELL_INT;
                row[x].i = v[0] == 't';
                break;
            case OID_FLOAT4:
            case OID_FLOAT8:
            case OID_NUMERIC:
                row[x].kind = SRV_CELL_REAL;
                row[x].r = strtod(v, NULL);
                break;
            default:
                if (srv_cell_set_text(&row[x], v))
                    return kk_fail(err, KK_ERR_NOMEM, "query: out of memory");
            }
        }
    }
    return KK_OK;
}

/* --- the connection pool ---------------------------------------------------------------- */

static void conn_close(struct pg_conn *c)
{
    if (!c)
        return;
    PQfinish(c->c);
    kk_free(c);
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static enum kk_err conn_open(const char *url, struct pg_conn **out, struct kk_buf *err)
{
    struct pg_conn *c = kk_calloc(1, sizeof(*c));
    *out = NULL;
    if (!c)
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    c->c = PQconnectdb(url);
    if (!c->c) {
        kk_free(c);
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    }
    if (PQstatus(c->c) != CONNECTION_OK) {
        add_pq_message(err, "--db: cannot connect to PostgreSQL", PQerrorMessage(c->c));
        conn_close(c);
        return KK_ERR_DB;
    }
    /* Notices (e.g. "relation already exists, skipping") are not for the log. */
    PQsetNoticeProcessor(c->c, ignore_notice, NULL);
    *out = c;
    return KK_OK;
}

static struct pg_conn *conn_get(struct pg_store *s, struct kk_buf *err)
{
    struct pg_conn *c = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->nidle)
        c = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->lock);
    /* A connection the database dropped (a restart) is replaced here, once. */
    if (c && PQstatus(c->c) != CONNECTION_OK) {
        conn_close(c);
        c = NULL;
    }
    if (!c && conn_open(s->url, &c, err))
        return NULL;
    return c;
}

/* Returns c to the pool; one that broke or was left inside a transaction is closed. */
static void conn_put(struct pg_store *s, struct pg_conn *c)
{
    if (!c)
        return;
    if (PQstatus(c->c) != CONNECTION_OK || PQtransactionStatus(c->c) != PQTRANS_IDLE) {
        conn_close(c);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (s->nidle < MAX_CONNS) {
        s->idle[s->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    conn_close(c);
}

static enum kk_err migrate(struct pg_conn *c, struct kk_buf *err)
{
    PGresult *r = NULL;
    long version = 0;
    /* One transaction under an advisory lock: two servers starting at once migrate once. */
    enum kk_err rc = simple(c, err, "BEGIN");
    if (!rc)
        rc = simple(c, err,
                    "SELECT pg_advisory_xact_lock(4247216139);"
                    "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);");
    if (!rc)
        rc = query_row(c, &r, err, "SELECT version::text FROM schema_version", 0, NULL);
    if (rc == KK_ERR_NOTFOUND)
        rc = simple(c, err, "INSERT INTO schema_version VALUES(0)");
    else if (!rc && kk_parse_long(PQgetvalue(r, 0, 0), 0, 1000000, &version) < 0)
        rc = kk_fail(err, KK_ERR_DB, "--db: unreadable schema version");
    if (!rc && (size_t)version > NMIGRATIONS)
        rc = kk_fail(err, KK_ERR_DB,
                     "--db: schema version %ld is newer than this kepu-server knows (%zu)", version,
                     NMIGRATIONS);
    for (size_t i = (size_t)version; !rc && i < NMIGRATIONS; i++) {
        rc = simple(c, err, migrations[i]);
        if (!rc)
            rc = run(c, err, "UPDATE schema_version SET version = $1", "i", (int64_t)(i + 1));
        if (rc)
            kk_fail(err, KK_ERR_DB, " (migration to schema %zu)", i + 1);
    }
    if (!rc)
        rc = simple(c, err, "COMMIT");
    if (rc)
        simple(c, NULL, "ROLLBACK");
    PQclear(r);
    return rc;
}

static void pg_close(struct srv_store *base)
{
    struct pg_store *s = (struct pg_store *)base;
    for (size_t i = 0; i < s->nidle; i++)
        conn_close(s->idle[i]);
    pthread_mutex_destroy(&s->lock);
    kk_free(s->url);
    kk_free(s->base.data_dir);
    kk_free(s);
}

/* The body of each store function: a connection from the pool for the call. */
#define WITH_CONN(s, err)                                                                          \
    struct pg_conn *c = conn_get((s), (err));                                                      \
    if (!c)                                                                                        \
    return KK_ERR_DB

/* --- administration ------------------------------------------------------------------ */

static enum kk_err pg_venue_add(struct srv_store *base, const char *id, const char *name,
                                struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc = run(c, err, "INSERT INTO venues(id, name, created_ms) VALUES($1, $2, $3)",
                         "tti", id, name, (int64_t)kk_clock_wall_ms());
    conn_put(s, c);
    if (rc == KK_ERR_EXISTS)
        return kk_fail(err, rc, "venue %s already exists", id);
    return rc;
}

static enum kk_err pg_kiosk_add(struct srv_store *base, const char *id, const char *venue,
                                const char *token_hash, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc =
        query_text(c, NULL, err, "SELECT 1 FROM venues WHERE id = $1", "t", venue, NULL);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "venue %s does not exist (add it with: venue add)", venue);
    if (!rc) {
        rc = run(c, err,
                 "INSERT INTO kiosks(id, venue, token_hash, created_ms) VALUES($1, $2, $3, $4)",
                 "ttti", id, venue, token_hash, (int64_t)kk_clock_wall_ms());
        if (rc == KK_ERR_EXISTS)
            rc = kk_fail(err, rc, "kiosk %s already exists", id);
    }
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_user_add(struct srv_store *base, const char *name, const char *role,
                               const char *password_hash, const char *token_hash,
                               struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc =
        run(c, err,
            "INSERT INTO users(name, role, password_hash, token_hash, created_ms)"
            " VALUES($1, $2, $3, $4, $5)",
            "tttti", name, role, password_hash, token_hash, (int64_t)kk_clock_wall_ms());
    conn_put(s, c);
    if (rc == KK_ERR_EXISTS)
        return kk_fail(err, rc, "user %s already exists", name);
    return rc;
}

/* Serialises assignments of one target and pack across servers sharing the database. */
static enum kk_err lock_target(struct pg_conn *c, const char *kind, const char *target,
                               const char *pack, struct kk_buf *err)
{
    return run(c, err, "SELECT pg_advisory_xact_lock(hashtext($1 || ':' || $2 || ':' || $3))",
               "ttt", kind, target, pack);
}

static enum kk_err pg_assign(struct srv_store *base, const struct srv_assign *a, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    int venue = !strcmp(a->kind, "venue"), tag = !strcmp(a->kind, "tag");
    int dated = a->starts || a->ends;
    PGresult *r = NULL;
    if (!venue && !tag && strcmp(a->kind, "kiosk"))
        return kk_fail(err, KK_ERR_INVALID, "assignment target must be a venue, a kiosk or a tag");
    WITH_CONN(s, err);
    enum kk_err rc = simple(c, err, "BEGIN");
    if (!rc)
        rc = lock_target(c, a->kind, a->target, a->pack, err);
    /* A tag needs no kiosk yet: kiosks tagged later get the assignment. */
    if (!rc && !tag)
        rc = query_text(c, NULL, err,
                        venue ? "SELECT 1 FROM venues WHERE id = $1"
                              : "SELECT 1 FROM kiosks WHERE id = $1",
                        "t", a->target, NULL);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "%s %s does not exist", a->kind, a->target);
    if (!rc && !dated)
        rc = run(c, err,
                 "INSERT INTO assignments(target_kind, target, pack, version, updated_ms)"
                 " VALUES($1, $2, $3, $4, $5) ON CONFLICT (target_kind, target, pack)"
                 " DO UPDATE SET version = excluded.version, updated_ms = excluded.updated_ms,"
                 " rolled_back = 0",
                 "tttti", a->kind, a->target, a->pack, a->version, a->at_ms);
    char wid[24] = "";
    if (!rc && dated) {
        rc = query_row(c, &r, err,
                       "INSERT INTO assignment_windows(target_kind, target, pack, version, starts,"
                       " ends, starts_ms, ends_ms, created_ms, who) VALUES($1, $2, $3, $4, $5, $6,"
                       " $7, $8, $9, $10) RETURNING id::text",
                       0, "ttttttiiit", a->kind, a->target, a->pack, a->version, a->starts, a->ends,
                       a->starts_ms, a->ends_ms, a->at_ms, a->who);
        if (!rc)
            snprintf(wid, sizeof(wid), "%s", PQgetvalue(r, 0, 0));
    }
    if (!rc)
        rc = run(c, err,
                 "INSERT INTO assignment_history(at_ms, who, target_kind, target, pack, version,"
                 " window_id) VALUES($1, $2, $3, $4, $5, $6, NULLIF($7, '')::bigint)",
                 "ittttt"
                 "t",
                 a->at_ms, a->who, a->kind, a->target, a->pack, a->version, wid);
    if (!rc)
        rc = simple(c, err, "COMMIT");
    if (rc)
        simple(c, NULL, "ROLLBACK");
    PQclear(r);
    conn_put(s, c);
    return rc;
}

static void value_copy(PGresult *r, int col, char *out, size_t size)
{
    snprintf(out, size, "%s", PQgetisnull(r, 0, col) ? "" : PQgetvalue(r, 0, col));
}

static enum kk_err pg_assign_rollback(struct srv_store *base, const char *kind, const char *target,
                                      const char *pack, const char *who, int64_t at_ms,
                                      struct srv_rollback *out, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r = NULL, *p = NULL;
    (void)who;
    WITH_CONN(s, err);
    enum kk_err rc = simple(c, err, "BEGIN");
    if (!rc)
        rc = lock_target(c, kind, target, pack, err);
    if (!rc)
        rc = query_row(c, &r, err,
                       "SELECT h.seq::text, h.version, h.window_id::text, w.starts, w.ends"
                       " FROM assignment_history h LEFT JOIN assignment_windows w"
                       " ON w.id = h.window_id WHERE h.target_kind = $1 AND h.target = $2"
                       " AND h.pack = $3 AND h.undone = 0 ORDER BY h.seq DESC LIMIT 1",
                       0, "ttt", kind, target, pack);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "%s %s has no assignment of %s to roll back", kind, target, pack);
    if (rc)
        goto end;
    out->window = !PQgetisnull(r, 0, 2);
    value_copy(r, 1, out->from, sizeof(out->from));
    value_copy(r, 3, out->starts, sizeof(out->starts));
    value_copy(r, 4, out->ends, sizeof(out->ends));
    rc = run(c, err, "UPDATE assignment_history SET undone = 1 WHERE seq = $1::bigint", "t",
             PQgetvalue(r, 0, 0));
    if (!rc && out->window)
        rc = run(c, err, "DELETE FROM assignment_windows WHERE id = $1::bigint", "t",
                 PQgetvalue(r, 0, 2));
    if (!rc && !out->window) {
        rc = query_row(c, &p, err,
                       "SELECT version FROM assignment_history WHERE target_kind = $1"
                       " AND target = $2 AND pack = $3 AND undone = 0 AND window_id IS NULL"
                       " ORDER BY seq DESC LIMIT 1",
                       0, "ttt", kind, target, pack);
        if (rc == KK_ERR_NOTFOUND) {
            rc = run(c, err,
                     "DELETE FROM assignments WHERE target_kind = $1 AND target = $2 AND pack = $3",
                     "ttt", kind, target, pack);
        } else if (!rc) {
            value_copy(p, 0, out->to, sizeof(out->to));
            rc = run(c, err,
                     "INSERT INTO assignments(target_kind, target, pack, version, updated_ms,"
                     " rolled_back) VALUES($1, $2, $3, $4, $5, 1) ON CONFLICT (target_kind, target,"
                     " pack) DO UPDATE SET version = excluded.version,"
                     " updated_ms = excluded.updated_ms, rolled_back = 1",
                     "tttti", kind, target, pack, out->to, at_ms);
        }
    }
end:
    if (!rc)
        rc = simple(c, err, "COMMIT");
    if (rc)
        simple(c, NULL, "ROLLBACK");
    PQclear(r);
    PQclear(p);
    conn_put(s, c);
    return rc;
}

/* --- authentication ------------------------------------------------------------------ */

static enum kk_err read_text(struct pg_store *s, struct kk_buf *out, struct kk_buf *err,
                             const char *sql, const char *arg)
{
    WITH_CONN(s, err);
    enum kk_err rc = query_text(c, out, err, sql, "t", arg, NULL);
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_kiosk_by_token(struct srv_store *base, const char *token_hash,
                                     struct kk_buf *kiosk, struct kk_buf *err)
{
    return read_text((struct pg_store *)base, kiosk, err,
                     "SELECT id FROM kiosks WHERE token_hash = $1", token_hash);
}

static enum kk_err pg_staff_by_token(struct srv_store *base, const char *token_hash,
                                     struct kk_buf *user, struct kk_buf *err)
{
    return read_text((struct pg_store *)base, user, err,
                     "SELECT name FROM users WHERE token_hash = $1"
                     " AND ',' || role || ',' LIKE '%,staff,%'",
                     token_hash);
}

static enum kk_err copy_col(const PGresult *r, int col, char *out, size_t size)
{
    const char *v = PQgetvalue(r, 0, col);
    if (PQgetisnull(r, 0, col) || strlen(v) >= size)
        return KK_ERR_INVALID;
    memcpy(out, v, strlen(v) + 1);
    return KK_OK;
}

static enum kk_err pg_user_get(struct srv_store *base, const char *name, struct srv_user *out,
                               struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r;
    WITH_CONN(s, err);
    enum kk_err rc = query_row(
        c, &r, err, "SELECT name, role, password_hash FROM users WHERE name = $1", 0, "t", name);
    if (!rc && (copy_col(r, 0, out->name, sizeof(out->name)) ||
                copy_col(r, 1, out->role, sizeof(out->role)) ||
                copy_col(r, 2, out->password_hash, sizeof(out->password_hash))))
        rc = kk_fail(err, KK_ERR_DB, "user %s: damaged record", name);
    PQclear(r);
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_session_add(struct srv_store *base, const char *id_hash, const char *user,
                                  const char *csrf, int64_t expires_ms, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc =
        run(c, err, "DELETE FROM sessions WHERE expires_ms < $1", "i", (int64_t)kk_clock_wall_ms());
    if (!rc)
        rc = run(c, err,
                 "INSERT INTO sessions(id_hash, \"user\", csrf, expires_ms)"
                 " VALUES($1, $2, $3, $4)",
                 "ttti", id_hash, user, csrf, expires_ms);
    conn_put(s, c);
    if (rc == KK_ERR_EXISTS)
        return kk_fail(err, KK_ERR_DB, "session id collision");
    return rc;
}

static enum kk_err pg_session_get(struct srv_store *base, const char *id_hash, int64_t now,
                                  struct kk_buf *user, struct kk_buf *csrf, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r;
    WITH_CONN(s, err);
    enum kk_err rc = query_row(c, &r, err,
                               "SELECT \"user\", csrf FROM sessions"
                               " WHERE id_hash = $1 AND expires_ms > $2",
                               1, "ti", id_hash, now);
    if (!rc)
        rc = take_value(r, 0, user, err);
    if (!rc)
        rc = take_value(r, 1, csrf, err);
    PQclear(r);
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_session_delete(struct srv_store *base, const char *id_hash,
                                     struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc = run(c, err, "DELETE FROM sessions WHERE id_hash = $1", "t", id_hash);
    conn_put(s, c);
    return rc;
}

/* --- ingest ---------------------------------------------------------------------------- */

/* Array literals for text[] and bigint[] parameters: {"a","b\"c"} and {1,2}. */
static void arr_text(struct kk_buf *b, const char *s, int *oom)
{
    *oom |= kk_buf_add(b, b->len ? ",\"" : "{\"", 2) != KK_OK;
    for (const char *p = s; *p;) {
        size_t n = strcspn(p, "\"\\");
        *oom |= kk_buf_add(b, p, n) != KK_OK;
        p += n;
        if (*p) {
            char esc[2] = {'\\', *p++};
            *oom |= kk_buf_add(b, esc, 2) != KK_OK;
        }
    }
    *oom |= kk_buf_add(b, "\"", 1) != KK_OK;
}

static void arr_int(struct kk_buf *b, int64_t v, int *oom)
{
    *oom |= kk_buf_addf(b, "%s%lld", b->len ? "," : "{", (long long)v) != KK_OK;
}

static void arr_end(struct kk_buf *b, int *oom)
{
    *oom |= kk_buf_adds(b, b->len ? "}" : "{}") != KK_OK;
}

/* The rollup statements are applied in enum srv_roll's order (srv_rollup.h): per kiosk
 * first, the city-wide day totals (which every batch touches) last, so their row locks
 * are held the shortest. */

/* Which arrays a rollup statement reads besides $1 (hour or day) and $7 (its count). */
enum { F_PAGE = 1, F_S0 = 2, F_S1 = 4, F_S2 = 8, F_S3 = 16, F_SUM = 32, F_S4 = 64 };

/* Parameters of every rollup statement: $1 hour or day, $2 page, $3..$6 the text columns
 * in struct srv_roll_key's order, $7 the count (n, views, sessions or total), $8 the sum
 * (dwell_ms, correct or ms_heard), $9 the fifth text column; NULL when the statement does
 * not read it. */
static const struct {
    const char *sql;
    unsigned fields;
} roll_defs[SRV_ROLL_N] = {
    [SRV_ROLL_HOUR] = {"INSERT INTO roll_hour AS r(type, hour, kiosk, n)"
                       " SELECT u.s0, u.w, u.s1, u.c FROM unnest($1, $3, $4, $7) AS u(w, s0, s1, c)"
                       " ORDER BY 1, 2, 3 ON CONFLICT (type, hour, kiosk)"
                       " DO UPDATE SET n = r.n + excluded.n",
                       F_S0 | F_S1},
    [SRV_ROLL_TOPIC] =
        {"INSERT INTO roll_topic AS r(hour, kiosk, topic, views, dwell_ms)"
         " SELECT * FROM unnest($1, $3, $4, $7, $8) ORDER BY 1, 2, 3"
         " ON CONFLICT (hour, kiosk, topic) DO UPDATE SET views = r.views + excluded.views,"
         " dwell_ms = r.dwell_ms + excluded.dwell_ms",
         F_S0 | F_S1 | F_SUM},
    [SRV_ROLL_PAGE] =
        {"INSERT INTO roll_page AS r(hour, kiosk, topic, page, views, dwell_ms)"
         " SELECT * FROM unnest($1, $3, $4, $2, $7, $8) ORDER BY 1, 2, 3, 4"
         " ON CONFLICT (hour, kiosk, topic, page) DO UPDATE SET"
         " views = r.views + excluded.views, dwell_ms = r.dwell_ms + excluded.dwell_ms",
         F_PAGE | F_S0 | F_S1 | F_SUM},
    [SRV_ROLL_AUDIENCE] = {"INSERT INTO roll_audience AS r(hour, kiosk, audience, sessions)"
                           " SELECT * FROM unnest($1, $3, $4, $7) ORDER BY 1, 2, 3"
                           " ON CONFLICT (hour, kiosk, audience)"
                           " DO UPDATE SET sessions = r.sessions + excluded.sessions",
                           F_S0 | F_S1},
    [SRV_ROLL_QUESTION] =
        {"INSERT INTO roll_question AS r(hour, kiosk, topic, question, audience,"
         " correct, total) SELECT * FROM unnest($1, $3, $4, $5, $6, $8, $7)"
         " ORDER BY 1, 2, 3, 4, 5 ON CONFLICT (hour, kiosk, topic, question, audience)"
         " DO UPDATE SET correct = r.correct + excluded.correct,"
         " total = r.total + excluded.total",
         F_S0 | F_S1 | F_S2 | F_S3 | F_SUM},
    [SRV_DAY_KIOSK] = {"INSERT INTO day_kiosk AS r(day, kiosk, sessions)"
                       " SELECT * FROM unnest($1, $3, $7) ORDER BY 1, 2 ON CONFLICT (day, kiosk)"
                       " DO UPDATE SET sessions = r.sessions + excluded.sessions",
                       F_S0},
    [SRV_DAY_TYPE] = {"INSERT INTO day_type AS r(day, type, n)"
                      " SELECT * FROM unnest($1, $3, $7) ORDER BY 1, 2 ON CONFLICT (day, type)"
                      " DO UPDATE SET n = r.n + excluded.n",
                      F_S0},
    [SRV_DAY_TOPIC] =
        {"INSERT INTO day_topic AS r(day, topic, views, dwell_ms)"
         " SELECT * FROM unnest($1, $3, $7, $8) ORDER BY 1, 2 ON CONFLICT (day, topic)"
         " DO UPDATE SET views = r.views + excluded.views,"
         " dwell_ms = r.dwell_ms + excluded.dwell_ms",
         F_S0 | F_SUM},
    [SRV_DAY_PAGE] =
        {"INSERT INTO day_page AS r(day, topic, page, views, dwell_ms)"
         " SELECT * FROM unnest($1, $3, $2, $7, $8) ORDER BY 1, 2, 3"
         " ON CONFLICT (day, topic, page) DO UPDATE SET views = r.views + excluded.views,"
         " dwell_ms = r.dwell_ms + excluded.dwell_ms",
         F_PAGE | F_S0 | F_SUM},
    [SRV_DAY_AUDIENCE] = {"INSERT INTO day_audience AS r(day, audience, sessions)"
                          " SELECT * FROM unnest($1, $3, $7) ORDER BY 1, 2"
                          " ON CONFLICT (day, audience)"
                          " DO UPDATE SET sessions = r.sessions + excluded.sessions",
                          F_S0},
    [SRV_DAY_QUESTION] = {"INSERT INTO day_question AS r(day, topic, question, audience, correct,"
                          " total) SELECT * FROM unnest($1, $3, $4, $5, $8, $7)"
                          " ORDER BY 1, 2, 3, 4 ON CONFLICT (day, topic, question, audience)"
                          " DO UPDATE SET correct = r.correct + excluded.correct,"
                          " total = r.total + excluded.total",
                          F_S0 | F_S1 | F_S2 | F_SUM},
    [SRV_DAY_QUIZ] =
        {"INSERT INTO day_quiz AS r(day, audience, correct, total)"
         " SELECT * FROM unnest($1, $3, $8, $7) ORDER BY 1, 2"
         " ON CONFLICT (day, audience) DO UPDATE SET correct = r.correct + excluded.correct,"
         " total = r.total + excluded.total",
         F_S0 | F_SUM},
    [SRV_DAY_INTERACT] = {"INSERT INTO day_interact AS r(day, kiosk, topic, page, block, action,"
                          " target, n) SELECT * FROM unnest($1, $3, $4, $2, $5, $6, $9, $7)"
                          " ORDER BY 1, 2, 3, 4, 5, 6, 7"
                          " ON CONFLICT (day, kiosk, topic, page, block, action, target)"
                          " DO UPDATE SET n = r.n + excluded.n",
                          F_PAGE | F_S0 | F_S1 | F_S2 | F_S3 | F_S4},
    [SRV_DAY_BLOCK_VISIT] = {"INSERT INTO day_block_visit AS r(day, kiosk, topic, page, block,"
                             " session, n) SELECT * FROM unnest($1, $3, $4, $2, $5, $6, $7)"
                             " ORDER BY 1, 2, 3, 4, 5, 6"
                             " ON CONFLICT (day, kiosk, topic, page, block, session)"
                             " DO UPDATE SET n = r.n + excluded.n",
                             F_PAGE | F_S0 | F_S1 | F_S2 | F_S3},
    [SRV_DAY_TARGET_VISIT] = {"INSERT INTO day_target_visit AS r(day, kiosk, topic, page, block,"
                              " target, session, n)"
                              " SELECT * FROM unnest($1, $3, $4, $2, $5, $6, $9, $7)"
                              " ORDER BY 1, 2, 3, 4, 5, 6, 7"
                              " ON CONFLICT (day, kiosk, topic, page, block, target, session)"
                              " DO UPDATE SET n = r.n + excluded.n",
                              F_PAGE | F_S0 | F_S1 | F_S2 | F_S3 | F_S4},
    [SRV_DAY_AUDIO] = {"INSERT INTO day_audio AS r(day, kiosk, topic, page, lang, audience, plays,"
                       " ms_heard) SELECT * FROM unnest($1, $3, $4, $2, $5, $6, $7, $8)"
                       " ORDER BY 1, 2, 3, 4, 5, 6"
                       " ON CONFLICT (day, kiosk, topic, page, lang, audience)"
                       " DO UPDATE SET plays = r.plays + excluded.plays,"
                       " ms_heard = r.ms_heard + excluded.ms_heard",
                       F_PAGE | F_S0 | F_S1 | F_S2 | F_S3 | F_SUM},
};

/* The batch holds each id once (add_batch); an id stored before with another ts is a
 * duplicate too, as in the SQLite store (the key (id, ts) alone would not say so). */
static const char ev_insert_sql[] =
    "INSERT INTO events(id, kiosk, ts, type, received_ms, body, clock_flag)"
    " SELECT u.id, u.kiosk, u.ts, u.type, $5, u.body, u.flag"
    " FROM unnest($1, $2, $3, $4, $6, $7) AS u(id, kiosk, ts, type, body, flag)"
    " WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = u.id)"
    " ON CONFLICT (id, ts) DO NOTHING RETURNING id";
static const char count_events_sql[] = "INSERT INTO counters AS r(name, n) VALUES('events', $1)"
                                       " ON CONFLICT (name) DO UPDATE SET n = r.n + excluded.n";
static const char count_flagged_sql[] =
    "INSERT INTO counters AS r(name, n) VALUES('events_clock_flagged', $1)"
    " ON CONFLICT (name) DO UPDATE SET n = r.n + excluded.n";

/* Applies every summed key of rollup statement st as one upsert (nothing when none). */
static enum kk_err roll_apply(struct pg_conn *c, const struct srv_rollups *r, enum srv_roll st,
                              struct kk_buf *err)
{
    struct kk_buf a[9]; /* $1..$9 */
    unsigned f = roll_defs[st].fields;
    int oom = 0;
    size_t n = 0;
    enum kk_err rc = KK_OK;
    for (int i = 0; i < 9; i++)
        kk_buf_init(&a[i], 0);
    for (size_t i = 0; i < r->n; i++) {
        const struct srv_roll_key *k = &r->keys[i];
        if (k->table != st)
            continue;
        n++;
        arr_int(&a[0], k->when, &oom);
        if (f & F_PAGE)
            arr_int(&a[1], k->page, &oom);
        for (int j = 0; j < 4; j++)
            if (f & (F_S0 << j))
                arr_text(&a[2 + j], k->s[j], &oom);
        arr_int(&a[6], k->count, &oom);
        if (f & F_SUM)
            arr_int(&a[7], k->sum, &oom);
        if (f & F_S4)
            arr_text(&a[8], k->s[4], &oom);
    }
    if (!n)
        goto done;
    for (int i = 0; i < 9; i++)
        arr_end(&a[i], &oom);
    if (oom) {
        rc = kk_fail(err, KK_ERR_NOMEM, "events: out of memory");
        goto done;
    }
    rc = run(c, err, roll_defs[st].sql, "IITTTTIIT", kk_buf_str(&a[0]),
             f & F_PAGE ? kk_buf_str(&a[1]) : NULL, f & F_S0 ? kk_buf_str(&a[2]) : NULL,
             f & F_S1 ? kk_buf_str(&a[3]) : NULL, f & F_S2 ? kk_buf_str(&a[4]) : NULL,
             f & F_S3 ? kk_buf_str(&a[5]) : NULL, kk_buf_str(&a[6]),
             f & F_SUM ? kk_buf_str(&a[7]) : NULL, f & F_S4 ? kk_buf_str(&a[8]) : NULL);
done:
    for (int i = 0; i < 9; i++)
        kk_buf_release(&a[i]);
    return rc;
}

/* Marks inserted[i] for the events whose ids r returned. Rows come back in the order they
 * were inserted, which is the batch's; the search from the last match only matters when
 * an id appears twice in one batch (the first one is the stored one). */
static void mark_inserted(PGresult *r, const struct srv_event *ev, size_t n,
                          unsigned char *inserted)
{
    size_t next = 0;
    for (int y = 0; y < PQntuples(r); y++) {
        const char *id = PQgetvalue(r, y, 0);
        for (size_t k = 0; k < n; k++) {
            size_t i = (next + k) % n;
            if (!inserted[i] && !strcmp(ev[i].id, id)) {
                inserted[i] = 1;
                next = i + 1;
                break;
            }
        }
    }
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL; /* FNV-1a */
    return h ^ (h >> 29);
}

/* first[i] = the index of the first event of the batch with ev[i]'s id. */
static enum kk_err first_ids(const struct srv_event *ev, size_t n, size_t *first)
{
    size_t nslots = 16;
    while (nslots < 2 * n)
        nslots *= 2;
    size_t *slot = kk_calloc(nslots, sizeof(*slot)); /* index + 1, 0 when empty */
    if (!slot)
        return KK_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)str_hash(ev[i].id) & (nslots - 1);
        while (slot[k] && strcmp(ev[slot[k] - 1].id, ev[i].id))
            k = (k + 1) & (nslots - 1);
        if (!slot[k])
            slot[k] = i + 1;
        first[i] = slot[k] - 1;
    }
    kk_free(slot);
    return KK_OK;
}

/* One try of the whole batch in one transaction. */
static enum kk_err add_batch(struct pg_conn *c, struct srv_rollups *r, const struct srv_event *ev,
                             size_t n, const size_t *first, unsigned char *inserted,
                             int64_t received, struct kk_buf *err)
{
    struct kk_buf a[6]; /* id, kiosk, ts, type, body, clock_flag */
    PGresult *res = NULL;
    int oom = 0;
    int64_t added = 0, flagged = 0;
    memset(inserted, 0, n);
    srv_rollups_reset(r);
    for (int i = 0; i < 6; i++)
        kk_buf_init(&a[i], 0);
    for (size_t i = 0; i < n; i++) {
        if (first[i] != i)
            continue; /* the same id again in this batch: a duplicate */
        arr_text(&a[0], ev[i].id, &oom);
        arr_text(&a[1], ev[i].kiosk, &oom);
        arr_int(&a[2], ev[i].ts, &oom);
        arr_text(&a[3], ev[i].type, &oom);
        arr_text(&a[4], ev[i].body, &oom);
        arr_int(&a[5], ev[i].clock_flag ? 1 : 0, &oom);
    }
    for (int i = 0; i < 6; i++)
        arr_end(&a[i], &oom);
    enum kk_err rc = oom ? kk_fail(err, KK_ERR_NOMEM, "events: out of memory") : KK_OK;
    if (!rc)
        rc = simple(c, err, "BEGIN");
    if (!rc) {
        struct pg_args args;
        const char *v[7] = {
            kk_buf_str(&a[0]), kk_buf_str(&a[1]), kk_buf_str(&a[2]), kk_buf_str(&a[3]), NULL,
            kk_buf_str(&a[4]), kk_buf_str(&a[5])};
        memset(&args, 0, sizeof(args));
        args.n = 7;
        Oid types[7] = {OID_TEXT_ARRAY, OID_TEXT_ARRAY, OID_INT8_ARRAY, OID_TEXT_ARRAY,
                        OID_INT8,       OID_TEXT_ARRAY, OID_INT8_ARRAY};
        snprintf(args.num[4], sizeof(args.num[4]), "%lld", (long long)received);
        v[4] = args.num[4];
        memcpy(args.types, types, sizeof(types));
        memcpy(args.vals, v, sizeof(v));
        rc = pq_exec(c, ev_insert_sql, &args, 0, &res, err);
    }
    if (!rc) {
        mark_inserted(res, ev, n, inserted);
        for (size_t i = 0; i < n; i++) {
            /* A flagged event is stored but counted only in events_clock_flagged. */
            if (inserted[i] && !ev[i].clock_flag)
                srv_rollups_event(r, &ev[i]);
            added += inserted[i];
            flagged += inserted[i] && ev[i].clock_flag;
        }
    }
    for (int st = 0; !rc && st < SRV_ROLL_N; st++)
        rc = roll_apply(c, r, (enum srv_roll)st, err);
    if (!rc && added)
        rc = run(c, err, count_events_sql, "i", added);
    if (!rc && flagged)
        rc = run(c, err, count_flagged_sql, "i", flagged);
    if (!rc)
        rc = simple(c, err, "COMMIT");
    if (rc) {
        simple(c, NULL, "ROLLBACK");
        memset(inserted, 0, n);
    }
    PQclear(res);
    for (int i = 0; i < 6; i++)
        kk_buf_release(&a[i]);
    return rc;
}

static enum kk_err pg_events_add(struct srv_store *base, const struct srv_event *ev, size_t n,
                                 unsigned char *inserted, int64_t received, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    struct srv_rollups r;
    enum kk_err rc;
    memset(inserted, 0, n);
    if (!n)
        return KK_OK;
    size_t *first = kk_malloc(n * sizeof(*first));
    if (srv_rollups_init(&r, n) || !first || first_ids(ev, n, first)) {
        srv_rollups_release(&r);
        kk_free(first);
        return kk_fail(err, KK_ERR_NOMEM, "events: out of memory");
    }
    struct pg_conn *c = conn_get(s, err);
    if (!c) {
        srv_rollups_release(&r);
        kk_free(first);
        return KK_ERR_DB;
    }
    /* A deadlock with another batch rolled this one back whole: try again. */
    for (int tries = 1;; tries++) {
        rc = add_batch(c, &r, ev, n, first, inserted, received, tries < MAX_TRIES ? NULL : err);
        if (rc != KK_ERR_BUSY || tries == MAX_TRIES)
            break;
    }
    if (rc == KK_ERR_EXISTS)
        rc = kk_fail(err, KK_ERR_DB, "events: constraint violated");
    conn_put(s, c);
    srv_rollups_release(&r);
    kk_free(first);
    return rc;
}

static enum kk_err pg_heartbeat(struct srv_store *base, const char *kiosk,
                                const struct srv_kiosk_status *st, int64_t now, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc = run(c, err,
                         "INSERT INTO kiosk_status(kiosk, seen_ms, app_version, packs,"
                         " queue, dropped, uptime_s, disk_free_mb, last_error, clock_offset_ms,"
                         " state)"
                         " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $11 <> 0 THEN $10"
                         " END, $12) ON CONFLICT (kiosk)"
                         " DO UPDATE SET seen_ms = excluded.seen_ms,"
                         " app_version = excluded.app_version, packs = excluded.packs,"
                         " queue = excluded.queue, dropped = excluded.dropped,"
                         " uptime_s = excluded.uptime_s, disk_free_mb = excluded.disk_free_mb,"
                         " last_error = excluded.last_error,"
                         " clock_offset_ms = excluded.clock_offset_ms, state = excluded.state",
                         "tittiiiitiit", kiosk, now, st->app_version, st->packs, st->queue,
                         st->dropped, st->uptime_s, st->disk_free_mb, st->last_error,
                         st->clock_offset_ms, (int64_t)st->has_clock_offset, st->state);
    conn_put(s, c);
    return rc;
}

static enum kk_err read_table(struct pg_store *s, struct srv_table *out, const char *const *cols,
                              size_t ncols, struct kk_buf *err, const char *sql, const char *types,
                              const char *a)
{
    PGresult *r;
    if (srv_table_init(out, cols, ncols))
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    WITH_CONN(s, err);
    enum kk_err rc = query_row(c, &r, err, sql, 0, types, a);
    if (!rc)
        rc = collect_rows(r, out, err);
    PQclear(r);
    conn_put(s, c);
    return rc == KK_ERR_NOTFOUND ? KK_OK : rc;
}

/* A kiosk's assigned packs: its own assignment of a pack wins over one of its tags (the
 * latest of those), which wins over its venue's (as in the SQLite store). */
#define PACKS_OF_KIOSK(K)                                                                          \
    "WITH cand(pack, version, prio, updated_ms, rolled_back) AS ("                                 \
    " SELECT pack, version, 3, updated_ms, rolled_back FROM assignments"                           \
    " WHERE target_kind = 'kiosk' AND target = " K " UNION ALL"                                    \
    " SELECT pack, version, 2, updated_ms, rolled_back FROM assignments WHERE target_kind = 'tag'" \
    " AND target IN (SELECT tag FROM kiosk_tags WHERE kiosk = " K ") UNION ALL"                    \
    " SELECT pack, version, 1, updated_ms, rolled_back FROM assignments"                           \
    " WHERE target_kind = 'venue'"                                                                 \
    " AND target = (SELECT venue FROM kiosks WHERE id = " K "))"                                   \
    " SELECT c.pack, c.version, p.manifest_sha256, c.rolled_back FROM cand c"                      \
    " LEFT JOIN packs p ON p.id = c.pack AND p.version = c.version"                                \
    " WHERE NOT EXISTS (SELECT 1 FROM cand d WHERE d.pack = c.pack AND (d.prio > c.prio"           \
    " OR (d.prio = c.prio AND (d.updated_ms > c.updated_ms"                                        \
    " OR (d.updated_ms = c.updated_ms AND d.version > c.version)))))"                              \
    " ORDER BY c.pack"

static enum kk_err pg_kiosk_packs(struct srv_store *base, const char *kiosk, struct srv_table *out,
                                  struct kk_buf *err)
{
    static const char *const cols[] = {"id", "version", "manifest_sha256", "rollback"};
    return read_table((struct pg_store *)base, out, cols, 4, err, PACKS_OF_KIOSK("$1"), "t", kiosk);
}

/* A kiosk's dated assignments (as in the SQLite store). */
#define WINDOWS_OF_KIOSK(K, SINCE)                                                                 \
    "WITH cand(id, pack, version, starts, ends, starts_ms, prio) AS ("                             \
    " SELECT id, pack, version, starts, ends, starts_ms, 3 FROM assignment_windows"                \
    " WHERE target_kind = 'kiosk' AND target = " K " AND ends_ms > " SINCE " UNION ALL"            \
    " SELECT id, pack, version, starts, ends, starts_ms, 2 FROM assignment_windows"                \
    " WHERE target_kind = 'tag' AND ends_ms > " SINCE                                              \
    " AND target IN (SELECT tag FROM kiosk_tags WHERE kiosk = " K ") UNION ALL"                    \
    " SELECT id, pack, version, starts, ends, starts_ms, 1 FROM assignment_windows"                \
    " WHERE target_kind = 'venue' AND ends_ms > " SINCE                                            \
    " AND target = (SELECT venue FROM kiosks WHERE id = " K "))"                                   \
    " SELECT c.pack, c.version, p.manifest_sha256, c.starts, c.ends FROM cand c"                   \
    " LEFT JOIN packs p ON p.id = c.pack AND p.version = c.version"                                \
    " WHERE NOT EXISTS (SELECT 1 FROM cand d WHERE d.pack = c.pack AND d.prio > c.prio)"           \
    " ORDER BY c.pack, c.starts_ms, c.id"

static enum kk_err pg_kiosk_windows(struct srv_store *base, const char *kiosk, int64_t since_ms,
                                    struct srv_table *out, struct kk_buf *err)
{
    static const char *const cols[] = {"id", "version", "manifest_sha256", "starts", "ends"};
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r = NULL;
    if (srv_table_init(out, cols, 5))
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    WITH_CONN(s, err);
    enum kk_err rc = query_row(c, &r, err, WINDOWS_OF_KIOSK("$1", "$2"), 0, "ti", kiosk, since_ms);
    if (!rc)
        rc = collect_rows(r, out, err);
    PQclear(r);
    conn_put(s, c);
    return rc == KK_ERR_NOTFOUND ? KK_OK : rc;
}

/* --- stats from the rollups ------------------------------------------------------------ */

/* The SQLite store's queries in PostgreSQL's words, with the same numbered parameters: $1
 * first hour, $2 end hour (exclusive), $3 the day offset in seconds, $4 venue, $5 kiosk,
 * $6 topic, $7 question, $8 audience (NULL for "all"), $9 the time in ms since which a
 * heartbeat means online. Sums are cast back to bigint (PostgreSQL widens them to
 * numeric), integer averages divide bigints (truncating, as SQLite does) and ratios are
 * rounded as numeric and returned as float8. */
#define VENUE_KIOSKS "(SELECT id FROM kiosks WHERE venue = $4)"
#define KFILTER                                                                                    \
    " WHERE r.hour >= $1 AND r.hour < $2"                                                          \
    " AND ($4 IS NULL OR r.kiosk IN " VENUE_KIOSKS ") AND ($5 IS NULL OR r.kiosk = $5)"
#define QFILTER                                                                                    \
    KFILTER " AND ($6 IS NULL OR r.topic = $6) AND ($7 IS NULL OR r.question = $7)"                \
            " AND ($8 IS NULL OR r.audience = $8)"
#define DAYNO     "((r.hour * 3600 + $3) / 86400)"
#define DATE(d)   "to_char(DATE '1970-01-01' + (" d ")::integer, 'YYYY-MM-DD')"
#define DAY       DATE(DAYNO)
#define SUM(x)    "SUM(" x ")::bigint"
#define ACC       "round(SUM(r.correct)::numeric / SUM(r.total), 4)::float8"
#define AVG_DWELL "(SUM(r.dwell_ms)::bigint / NULLIF(SUM(r.views)::bigint, 0))"
#define SESSIONS_LAST(hours)                                                                       \
    "(SELECT COALESCE(SUM(r.n), 0)::bigint FROM roll_hour r"                                       \
    " WHERE r.type = 'session_start' AND r.hour >= $2 - " hours " AND r.hour < $2"                 \
    " AND ($4 IS NULL OR r.kiosk IN " VENUE_KIOSKS ") AND ($5 IS NULL OR r.kiosk = $5))"
#define ALL_TYPES                                                                                  \
    "('boot', 'session_start', 'session_end', 'page_view', 'quiz_answer', 'quiz_complete',"        \
    " 'language', 'audience', 'idle_reset', 'error')"
#define KIOSK_SESSIONS                                                                             \
    "(SELECT r.kiosk, SUM(r.sessions) AS n FROM day_kiosk r" DFILTER                               \
    " AND ($5 IS NULL OR r.kiosk = $5) GROUP BY r.kiosk)"
#define OF_TYPE(t) "SUM(CASE WHEN r.type = '" t "' THEN r.n ELSE 0 END)::bigint"
#define ASSIGNED                                                                                   \
    "(SELECT string_agg(a.pack || '@' || a.version, ' ' ORDER BY a.target_kind, a.pack)"           \
    " FROM assignments a"                                                                          \
    " WHERE (a.target_kind = 'kiosk' AND a.target = k.id) OR (a.target_kind = 'venue'"             \
    " AND a.target = k.venue AND NOT EXISTS (SELECT 1 FROM assignments b"                          \
    " WHERE b.target_kind = 'kiosk' AND b.target = k.id AND b.pack = a.pack)))"
#define ONLINE_COUNT "COALESCE(SUM(CASE WHEN s.seen_ms >= $9 THEN 1 ELSE 0 END), 0)::bigint"
#define OVERVIEW_SQL                                                                               \
    "SELECT t.kiosks, t.online, t.kiosks - t.online, " SESSIONS_LAST("24") ", " SESSIONS_LAST(     \
        "168") ", " SESSIONS_LAST("720") " FROM (SELECT COUNT(*) AS kiosks, " ONLINE_COUNT         \
                                         " AS online FROM kiosks k LEFT JOIN kiosk_status s"       \
                                         " ON s.kiosk = k.id WHERE ($4 IS NULL OR k.venue = $4)"   \
                                         " AND ($5 IS NULL OR k.id = $5)) t"
#define CITY_DAY  DATE("r.day")
#define FIRST_DAY "(($1 * 3600 + $3) / 86400)"
#define END_DAY   "(($2 * 3600 + $3) / 86400)"
#define DFILTER   " WHERE r.day >= " FIRST_DAY " AND r.day < " END_DAY
#define DQFILTER                                                                                   \
    DFILTER " AND ($6 IS NULL OR r.topic = $6) AND ($7 IS NULL OR r.question = $7)"                \
            " AND ($8 IS NULL OR r.audience = $8)"
#define CITY_SESSIONS_LAST(days)                                                                   \
    "(SELECT COALESCE(SUM(r.n), 0)::bigint FROM day_type r WHERE r.type = 'session_start'"         \
    " AND r.day >= " END_DAY " - " days " AND r.day < " END_DAY ")"
#define CITY_OVERVIEW_SQL                                                                          \
    "SELECT t.kiosks, t.online, t.kiosks - t.online, " CITY_SESSIONS_LAST(                         \
        "1") ", " CITY_SESSIONS_LAST("7") ", " CITY_SESSIONS_LAST("30") " FROM (SELECT COUNT(*) "  \
                                                                        "AS kiosks, " ONLINE_COUNT \
                                                                        " AS online"               \
                                                                        " FROM kiosks k LEFT "     \
                                                                        "JOIN kiosk_status s ON "  \
                                                                        "s.kiosk = k.id) t"
#define PAGES_SQL(from, filter)                                                                    \
    "SELECT r.topic, r.page, " SUM(                                                                \
        "r.views") ", " AVG_DWELL ","                                                              \
                   " round(SUM(r.views)::numeric / MAX(SUM(r.views)) OVER t, 4)::float8,"          \
                   " round(GREATEST(SUM(r.views) - COALESCE(LEAD(SUM(r.views)) OVER p, 0), "       \
                   "0)::numeric"                                                                   \
                   " / MAX(SUM(r.views)) OVER t, 4)::float8"                                       \
                   " FROM " from " r" filter " AND ($6 IS NULL OR r.topic = $6)"                   \
                   " GROUP BY r.topic, r.page"                                                     \
                   " WINDOW t AS (PARTITION BY r.topic), p AS (PARTITION BY r.topic"               \
                   " ORDER BY r.page) ORDER BY r.topic, r.page"
#define EVENTS_DAY_SQL                                                                             \
    "SELECT " DAY " AS day, " SUM("r.n") ", " OF_TYPE("session_start") ", " OF_TYPE(               \
        "page_view") ", " OF_TYPE("quiz_answer") " FROM roll_hour r" KFILTER                       \
                                                 " AND r.type IN " ALL_TYPES " GROUP BY " DAYNO    \
                                                 " ORDER BY " DAYNO

/* The block and narration rollups: per city day and kiosk, filtered by venue, kiosk and
 * topic. */
#define BFILTER                                                                                    \
    DFILTER " AND ($4 IS NULL OR r.kiosk IN " VENUE_KIOSKS ") AND ($5 IS NULL OR r.kiosk = $5)"    \
            " AND ($6 IS NULL OR r.topic = $6)"

struct stat_def {
    const char *sql;
    const char *cols[14];
    size_t ncols;
    const char *city_sql, *all_sql;
};

static const struct stat_def stat_defs[] = {
    [SRV_STAT_SESSIONS_DAY] =
        {"SELECT " DAY " AS day, " SUM("r.n") " FROM roll_hour r" KFILTER
                                              " AND r.type = 'session_start' GROUP BY " DAYNO
                                              " ORDER BY " DAYNO,
         {"day", "sessions"},
         2,
         "SELECT " CITY_DAY
         " AS day, " SUM("r.n") " FROM day_type r" DFILTER
                                " AND r.type = 'session_start' GROUP BY r.day ORDER BY r.day"},
    [SRV_STAT_SESSIONS_VENUE] = {"SELECT v.id, v.name, COALESCE(SUM(r.n), 0)::bigint FROM venues v"
                                 " LEFT JOIN kiosks k ON k.venue = v.id"
                                 " LEFT JOIN " KIOSK_SESSIONS " r ON r.kiosk = k.id"
                                 " WHERE ($4 IS NULL OR v.id = $4) AND ($5 IS NULL OR k.id = $5)"
                                 " GROUP BY v.id ORDER BY v.id",
                                 {"venue", "name", "sessions"},
                                 3},
    [SRV_STAT_SESSIONS_KIOSK] = {"SELECT k.id, k.venue, COALESCE(SUM(r.n), 0)::bigint FROM kiosks k"
                                 " LEFT JOIN " KIOSK_SESSIONS " r ON r.kiosk = k.id"
                                 " WHERE ($4 IS NULL OR k.venue = $4) AND ($5 IS NULL OR k.id = $5)"
                                 " GROUP BY k.id ORDER BY k.id",
                                 {"kiosk", "venue", "sessions"},
                                 3},
    [SRV_STAT_TOPICS] =
        {"SELECT r.topic, " SUM(
             "r.views") ", " AVG_DWELL " FROM roll_topic r" KFILTER
                        " AND ($6 IS NULL OR r.topic = $6) GROUP BY r.topic ORDER BY 2 DESC, 1",
         {"topic", "views", "avg_dwell_ms"},
         3,
         "SELECT r.topic, " SUM(
             "r.views") ", " AVG_DWELL " FROM day_topic r" DFILTER
                        " AND ($6 IS NULL OR r.topic = $6) GROUP BY r.topic ORDER BY 2 DESC, 1"},
    [SRV_STAT_AUDIENCES] =
        {"SELECT r.audience, " SUM("r.sessions") " FROM roll_audience r" KFILTER
                                                 " GROUP BY r.audience ORDER BY r.audience",
         {"audience", "sessions"},
         2,
         "SELECT r.audience, " SUM("r.sessions") " FROM day_audience r" DFILTER
                                                 " GROUP BY r.audience ORDER BY r.audience"},
    [SRV_STAT_QUIZ_QUESTION] = {"SELECT r.topic, r.question, " SUM("r.correct") ", " SUM(
                                    "r.total") ", " ACC " FROM roll_question r" QFILTER
                                               " GROUP BY r.topic, r.question"
                                               " ORDER BY r.topic, r.question",
                                {"topic", "question", "correct", "total", "accuracy"},
                                5,
                                "SELECT r.topic, r.question, " SUM("r.correct") ", " SUM(
                                    "r.total") ", " ACC " FROM day_question r" DQFILTER
                                               " GROUP BY r.topic, r.question"
                                               " ORDER BY r.topic, r.question"},
    [SRV_STAT_QUIZ_AUDIENCE] = {"SELECT r.audience, " SUM("r.correct") ", " SUM(
                                    "r.total") ", " ACC " FROM roll_question r" QFILTER
                                               " GROUP BY r.audience ORDER BY r.audience",
                                {"audience", "correct", "total", "accuracy"},
                                4,
                                "SELECT r.audience, " SUM("r.correct") ", " SUM(
                                    "r.total") ", " ACC " FROM day_question r" DQFILTER
                                               " GROUP BY r.audience ORDER BY r.audience",
                                "SELECT r.audience, " SUM("r.correct") ", " SUM(
                                    "r.total") ", " ACC " FROM day_quiz r" DFILTER
                                               " AND ($8 IS NULL OR r.audience = $8)"
                                               " GROUP BY r.audience ORDER BY r.audience"},
    [SRV_STAT_QUIZ_DAY] = {"SELECT " DAY " AS day, " SUM("r.correct") ", " SUM(
                               "r.total") ", " ACC " FROM roll_question r" QFILTER
                                          " GROUP BY " DAYNO " ORDER BY " DAYNO,
                           {"day", "correct", "total", "accuracy"},
                           4,
                           "SELECT " CITY_DAY " AS day, " SUM("r.correct") ", " SUM(
                               "r.total") ", " ACC " FROM day_question r" DQFILTER
                                          " GROUP BY r.day ORDER BY r.day",
                           "SELECT " CITY_DAY " AS day, " SUM("r.correct") ", " SUM(
                               "r.total") ", " ACC " FROM day_quiz r" DFILTER
                                          " AND ($8 IS NULL OR r.audience = $8)"
                                          " GROUP BY r.day ORDER BY r.day"},
    [SRV_STAT_KIOSKS] = {"SELECT k.id, k.venue, s.seen_ms, s.app_version, s.packs, s.queue,"
                         " s.dropped, s.uptime_s, s.disk_free_mb, s.last_error,"
                         " COALESCE((s.seen_ms >= $9)::integer, 0), v.name, " ASSIGNED
                         ", s.state FROM kiosks k JOIN venues v ON v.id = k.venue"
                         " LEFT JOIN kiosk_status s ON s.kiosk = k.id"
                         " WHERE ($4 IS NULL OR k.venue = $4) AND ($5 IS NULL OR k.id = $5)"
                         " ORDER BY k.id",
                         {"kiosk", "venue", "last_seen_ms", "app_version", "packs", "queue",
                          "dropped", "uptime_s", "disk_free_mb", "last_error", "online",
                          "venue_name", "assigned", "state"},
                         14},
    [SRV_STAT_OVERVIEW] = {OVERVIEW_SQL,
                           {"kiosks", "online", "offline", "sessions_1d", "sessions_7d",
                            "sessions_30d"},
                           6,
                           CITY_OVERVIEW_SQL},
    [SRV_STAT_EVENTS_DAY] =
        {EVENTS_DAY_SQL,
         {"day", "events", "sessions", "page_views", "quiz_answers"},
         5,
         "SELECT " CITY_DAY " AS day, " SUM("r.n") ", " OF_TYPE("session_start") ", " OF_TYPE(
             "page_view") ", " OF_TYPE("quiz_answer") " FROM day_type r" DFILTER
                                                      " GROUP BY r.day ORDER BY r.day"},
    [SRV_STAT_PAGES] = {PAGES_SQL("roll_page", KFILTER),
                        {"topic", "page", "views", "avg_dwell_ms", "reach", "exit_share"},
                        6,
                        PAGES_SQL("day_page", DFILTER)},
    [SRV_STAT_QUIZ_AUDIENCE_DAY] =
        {"SELECT " DAY " AS day, r.audience, " SUM("r.correct") ", " SUM(
             "r.total") ", " ACC " FROM roll_question r" QFILTER " GROUP BY " DAYNO
                        ", r.audience ORDER BY " DAYNO ", r.audience",
         {"day", "audience", "correct", "total", "accuracy"},
         5,
         "SELECT " CITY_DAY " AS day, r.audience, " SUM("r.correct") ", " SUM(
             "r.total") ", " ACC " FROM day_question r" DQFILTER " GROUP BY r.day, r.audience"
                        " ORDER BY r.day, r.audience",
         "SELECT " CITY_DAY " AS day, r.audience, " SUM("r.correct") ", " SUM(
             "r.total") ", " ACC " FROM day_quiz r" DFILTER " AND ($8 IS NULL OR r.audience = $8)"
                        " GROUP BY r.day, r.audience"
                        " ORDER BY r.day, r.audience"},
    [SRV_STAT_PACKS] = {"SELECT id, version, manifest_sha256, uploaded_ms FROM packs"
                        " ORDER BY id, uploaded_ms DESC, version",
                        {"pack", "version", "manifest_sha256", "uploaded_ms"},
                        4},
    [SRV_STAT_ASSIGNMENTS] =
        {"SELECT a.target_kind, a.target, a.pack, a.version, a.updated_ms,"
         " a.starts, a.ends, a.rb FROM (SELECT target_kind, target,"
         " pack, version, updated_ms, CAST(NULL AS TEXT) AS starts,"
         " CAST(NULL AS TEXT) AS ends, rolled_back AS rb"
         " FROM assignments UNION ALL SELECT target_kind, target, pack,"
         " version, created_ms, starts, ends, 0 FROM assignment_windows"
         " WHERE ends_ms > $9) a"
         " WHERE ($4 IS NULL OR (a.target_kind = 'venue' AND a.target = $4)"
         " OR (a.target_kind = 'kiosk' AND a.target IN"
         " (SELECT id FROM kiosks WHERE venue = $4)))"
         " AND ($5 IS NULL OR (a.target_kind = 'kiosk' AND a.target = $5))"
         " ORDER BY a.target_kind DESC, a.target, a.pack, a.starts IS NOT NULL, a.starts",
         {"target_kind", "target", "pack", "version", "updated_ms", "starts", "ends", "rollback"},
         8},
    [SRV_STAT_BLOCKS] =
        {"SELECT v.topic, v.page, v.block, v.visitors, COALESCE(u.uses, 0)"
         " FROM (SELECT r.topic, r.page, r.block,"
         " COUNT(DISTINCT r.session) AS visitors FROM day_block_visit r" BFILTER
         " GROUP BY 1, 2, 3) v LEFT JOIN (SELECT r.topic, r.page, r.block,"
         " " SUM("r.n") " AS uses FROM day_interact r" BFILTER " GROUP BY 1, 2, 3) u"
                        " ON u.topic = v.topic AND u.page = v.page AND u.block = v.block"
                        " ORDER BY 1, 2, 3",
         {"topic", "page", "block", "visitors", "uses"},
         5},
    [SRV_STAT_BLOCK_TARGETS] =
        {"SELECT u.topic, u.page, u.block, u.target, u.action, u.uses,"
         " COALESCE(v.visitors, 0) FROM (SELECT r.topic, r.page, r.block,"
         " r.target, r.action, " SUM(
             "r.n") " AS uses FROM day_interact r" BFILTER
                    " GROUP BY 1, 2, 3, 4, 5) u LEFT JOIN (SELECT r.topic,"
                    " r.page, r.block, r.target, COUNT(DISTINCT r.session) AS visitors"
                    " FROM day_target_visit r" BFILTER " GROUP BY 1, 2, 3, 4) v"
                    " ON v.topic = u.topic AND v.page = u.page AND v.block = u.block"
                    " AND v.target = u.target ORDER BY 1, 2, 3, 4, 5",
         {"topic", "page", "block", "target", "action", "uses", "visitors"},
         7},
    [SRV_STAT_NARRATION] = {"SELECT r.topic, r.audience, r.lang, " SUM("r.plays") ", " SUM(
                                "r.ms_heard") ", (SUM(r.ms_heard) / SUM(r.plays))::bigint"
                                              " FROM day_audio r" BFILTER
                                              " AND ($8 IS NULL OR r.audience = $8)"
                                              " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                            {"topic", "audience", "lang", "plays", "ms_heard", "avg_ms_heard"},
                            6},
};

static enum kk_err pg_stats(struct srv_store *base, const struct srv_stats_query *q,
                            struct srv_table *out, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    if ((size_t)q->kind >= sizeof(stat_defs) / sizeof(stat_defs[0]))
        KK_BUG("stats kind %d", (int)q->kind);
    const struct stat_def *d = &stat_defs[q->kind];
    const char *sql = d->sql;
    if (d->city_sql && !q->venue && !q->kiosk)
        sql = d->all_sql && !q->topic && !q->question ? d->all_sql : d->city_sql;
    if (srv_table_init(out, d->cols, d->ncols))
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    WITH_CONN(s, err);
    PGresult *r;
    int64_t from_h = q->from_ms / 3600000, to_h = (q->to_ms + 3599999) / 3600000;
    struct pg_args a;
    memset(&a, 0, sizeof(a));
    {
        /* Every query gets all nine parameters; the types make unused ones harmless. */
        static const Oid types[9] = {OID_INT8, OID_INT8, OID_INT8, OID_TEXT, OID_TEXT,
                                     OID_TEXT, OID_TEXT, OID_TEXT, OID_INT8};
        const int64_t nums[4] = {from_h, to_h, SRV_DAY_OFFSET_S, q->now_ms - SRV_ONLINE_MS};
        const int numpos[4] = {0, 1, 2, 8};
        memcpy(a.types, types, sizeof(types));
        a.n = 9;
        for (int i = 0; i < 4; i++) {
            snprintf(a.num[numpos[i]], sizeof(a.num[0]), "%lld", (long long)nums[i]);
            a.vals[numpos[i]] = a.num[numpos[i]];
        }
        a.vals[3] = q->venue;
        a.vals[4] = q->kiosk;
        a.vals[5] = q->topic;
        a.vals[6] = q->question;
        a.vals[7] = q->audience;
    }
    enum kk_err rc = pq_exec(c, sql, &a, 0, &r, err);
    if (rc == KK_ERR_EXISTS)
        rc = kk_fail(err, KK_ERR_DB, "stats failed");
    if (!rc)
        rc = collect_rows(r, out, err);
    PQclear(r);
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_counters(struct srv_store *base, struct srv_table *out, struct kk_buf *err)
{
    static const char *const cols[] = {"name", "value"};
    return read_table((struct pg_store *)base, out, cols, 2, err,
                      "SELECT 'events_stored', COALESCE((SELECT n FROM counters"
                      " WHERE name = 'events'), 0)"
                      " UNION ALL SELECT 'events_clock_flagged', COALESCE((SELECT n FROM"
                      " counters WHERE name = 'events_clock_flagged'), 0)"
                      " UNION ALL SELECT 'venues', COUNT(*) FROM venues"
                      " UNION ALL SELECT 'kiosks', COUNT(*) FROM kiosks"
                      " UNION ALL SELECT 'packs', COUNT(*) FROM packs",
                      NULL, NULL);
}

/* --- packs ---------------------------------------------------------------------------- */

/* One try of pack_add; KK_ERR_BUSY when another process stored the same pack meanwhile. */
static enum kk_err pack_add_once(struct pg_conn *c, const char *id, const char *version,
                                 const char *manifest_sha256, const void *manifest,
                                 size_t manifest_len, const void *sig, size_t sig_len,
                                 const struct srv_pack_file *files, size_t nfiles,
                                 struct kk_buf *err)
{
    struct kk_buf have = KK_BUF_INIT;
    enum kk_err rc = simple(c, err, "BEGIN");
    if (rc)
        goto done;
    rc = query_text(c, &have, err,
                    "SELECT manifest_sha256 FROM packs WHERE id = $1 AND version = $2", "tt", id,
                    version);
    if (!rc) {
        rc = strcmp(kk_buf_str(&have), manifest_sha256)
                 ? kk_fail(err, KK_ERR_EXISTS,
                           "pack %s@%s already exists with different content; give it a new"
                           " version",
                           id, version)
                 : KK_OK; /* the same pack again: nothing to do */
        simple(c, NULL, rc ? "ROLLBACK" : "COMMIT");
        goto done;
    }
    if (rc != KK_ERR_NOTFOUND)
        goto rollback;
    rc = run(c, err,
             "INSERT INTO packs(id, version, manifest_sha256, manifest, signature, uploaded_ms)"
             " VALUES($1, $2, $3, $4, $5, $6)",
             "tttbbi", id, version, manifest_sha256, manifest, manifest_len, sig, sig_len,
             (int64_t)kk_clock_wall_ms());
    if (rc == KK_ERR_EXISTS) {
        rc = KK_ERR_BUSY;
        goto rollback;
    }
    for (size_t i = 0; !rc && i < nfiles; i++)
        rc = run(c, err,
                 "INSERT INTO pack_files(pack, version, path, sha256, size)"
                 " VALUES($1, $2, $3, $4, $5)",
                 "tttti", id, version, files[i].path, files[i].sha256, files[i].size);
    if (rc == KK_ERR_EXISTS)
        rc = kk_fail(err, KK_ERR_INVALID, "pack %s@%s: a file is listed twice", id, version);
    if (!rc)
        rc = simple(c, err, "COMMIT");
    if (!rc)
        goto done;
rollback:
    simple(c, NULL, "ROLLBACK");
done:
    kk_buf_release(&have);
    return rc;
}

static enum kk_err pg_pack_add(struct srv_store *base, const char *id, const char *version,
                               const char *manifest_sha256, const void *manifest,
                               size_t manifest_len, const void *sig, size_t sig_len,
                               const struct srv_pack_file *files, size_t nfiles, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc = pack_add_once(c, id, version, manifest_sha256, manifest, manifest_len, sig,
                                   sig_len, files, nfiles, err);
    if (rc == KK_ERR_BUSY) /* the other insert won: compare with what it stored */
        rc = pack_add_once(c, id, version, manifest_sha256, manifest, manifest_len, sig, sig_len,
                           files, nfiles, err);
    if (rc == KK_ERR_BUSY)
        rc = kk_fail(err, KK_ERR_BUSY, "pack %s@%s: stored concurrently; try again", id, version);
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_pack_get(struct srv_store *base, const char *id, const char *version,
                               const char *which, struct kk_buf *out, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    int sig = !strcmp(which, "signature");
    WITH_CONN(s, err);
    enum kk_err rc = query_text(c, out, err,
                                sig ? "SELECT signature FROM packs WHERE id = $1 AND version = $2"
                                    : "SELECT manifest FROM packs WHERE id = $1 AND version = $2",
                                "tt", id, version);
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_ping(struct srv_store *base, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc = query_text(c, NULL, err, "SELECT 1 FROM schema_version WHERE version > 0",
                                NULL, NULL, NULL);
    conn_put(s, c);
    return rc == KK_ERR_NOTFOUND ? kk_fail(err, KK_ERR_DB, "database has no schema") : rc;
}

/* --- retention ------------------------------------------------------------------------- */

#define DAY_MS (86400LL * 1000)

/* Days from 1970-01-01 to y-m-01 (the proleptic Gregorian calendar; m is 1..12). */
static int64_t days_from_civil(int64_t y, int64_t m)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The UTC month holding ms (ms >= 0), as year * 12 + month - 1. */
static int64_t month_of(int64_t ms)
{
    int64_t days = ms / DAY_MS;
    int64_t y = 1970 + days / 366, mi;
    while (days_from_civil(y + 1, 1) <= days)
        y++;
    for (mi = 12; mi > 1 && days_from_civil(y, mi) > days; mi--)
        ;
    return y * 12 + mi - 1;
}

static int64_t month_start_ms(int64_t month)
{
    return days_from_civil(month / 12, month % 12 + 1) * DAY_MS;
}

/* Creates the partitions of the months from..to (as month_of gives them) that are
 * missing. One that another server made meanwhile, or whose range the default partition
 * already holds rows of, is left out (its events stay in events_default, still found). */
static void ensure_partitions(struct pg_conn *c, int64_t from, int64_t to)
{
    for (int64_t m = from; m <= to; m++) {
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE IF NOT EXISTS events_%04lld%02lld PARTITION OF events"
                 " FOR VALUES FROM (%lld) TO (%lld)",
                 (long long)(m / 12), (long long)(m % 12 + 1), (long long)month_start_ms(m),
                 (long long)month_start_ms(m + 1));
        simple(c, NULL, sql);
    }
}

static enum kk_err pg_events_prune(struct srv_store *base, int64_t before, int64_t *dropped,
                                   struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r = NULL;
    int64_t now = (int64_t)kk_clock_wall_ms();
    *dropped = 0;
    WITH_CONN(s, err);
    ensure_partitions(c, month_of(now), month_of(now) + 2);
    enum kk_err rc = KK_OK;
    if (before <= 0)
        goto done;
    /* Whole months first: the partitions that end at or before the cutoff, oldest first. */
    rc = query_row(c, &r, err,
                   "SELECT substr(c.relname, 8) FROM pg_inherits i"
                   " JOIN pg_class c ON c.oid = i.inhrelid"
                   " WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_[0-9]{6}$'"
                   " ORDER BY 1",
                   0, NULL);
    for (int y = 0; !rc && y < PQntuples(r); y++) {
        long ym;
        if (kk_parse_long(PQgetvalue(r, y, 0), 100001, 999912, &ym) < 0 || ym % 100 < 1 ||
            ym % 100 > 12)
            continue;
        int64_t m = (int64_t)(ym / 100) * 12 + ym % 100 - 1;
        if (month_start_ms(m + 1) > before)
            break;
        char sql[128];
        PGresult *n = NULL;
        snprintf(sql, sizeof(sql), "SELECT COUNT(*)::text FROM events_%06ld", ym);
        if (!simple(c, NULL, "BEGIN") && (n = PQexec(c->c, sql)) &&
            PQresultStatus(n) == PGRES_TUPLES_OK) {
            int64_t k = strtoll(PQgetvalue(n, 0, 0), NULL, 10);
            snprintf(sql, sizeof(sql), "DROP TABLE events_%06ld", ym);
            rc = simple(c, err, sql);
            if (!rc)
                rc = simple(c, err, "COMMIT");
            if (!rc)
                *dropped += k;
        }
        PQclear(n);
        if (PQtransactionStatus(c->c) != PQTRANS_IDLE)
            simple(c, NULL, "ROLLBACK");
    }
    if (rc == KK_ERR_NOTFOUND)
        rc = KK_OK;
    /* Then what is left before the cutoff (the month it falls in, events_default), in
     * batches that each commit on their own. */
    for (int64_t k = 1; !rc && k > 0;) {
        PGresult *d = NULL;
        struct pg_args a;
        memset(&a, 0, sizeof(a));
        a.n = 1;
        a.types[0] = OID_INT8;
        snprintf(a.num[0], sizeof(a.num[0]), "%lld", (long long)before);
        a.vals[0] = a.num[0];
        rc = pq_exec(c,
                     "DELETE FROM events WHERE (id, ts) IN"
                     " (SELECT id, ts FROM events WHERE ts < $1 LIMIT 20000)",
                     &a, 0, &d, err);
        k = rc ? 0 : strtoll(PQcmdTuples(d), NULL, 10);
        *dropped += k;
        PQclear(d);
    }
    if (rc == KK_ERR_EXISTS)
        rc = kk_fail(err, KK_ERR_DB, "prune: constraint failed");
done:
    PQclear(r);
    conn_put(s, c);
    return rc;
}

/* --- login back-off ----------------------------------------------------------------- */

/* Every login_take on the database takes this transaction lock first, so that the check
 * and the count of one try are one step for every server, as SQLite's writer lock does. */
#define LOGIN_LOCK "SELECT pg_advisory_xact_lock(4247216140)"

static enum kk_err pg_login_take(struct srv_store *base, const char *const *keys, size_t n,
                                 int64_t now_ms, int64_t *wait_s, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r = NULL;
    *wait_s = 0;
    WITH_CONN(s, err);
    enum kk_err rc = simple(c, err, "BEGIN");
    if (!rc)
        rc = simple(c, err, LOGIN_LOCK);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = query_row(c, &r, err, "SELECT failures, last_ms FROM login_backoff WHERE key = $1", 0,
                       "t", keys[i]);
        if (!rc) {
            int64_t w = srv_backoff_wait_of((unsigned)strtoull(PQgetvalue(r, 0, 0), NULL, 10),
                                            strtoll(PQgetvalue(r, 0, 1), NULL, 10), now_ms);
            if (w > *wait_s)
                *wait_s = w;
        } else if (rc == KK_ERR_NOTFOUND) {
            rc = KK_OK;
        }
        PQclear(r);
        r = NULL;
    }
    for (size_t i = 0; !rc && !*wait_s && i < n; i++)
        rc = run(c, err,
                 "INSERT INTO login_backoff AS b(key, failures, last_ms) VALUES($1, 1, $2)"
                 " ON CONFLICT (key) DO UPDATE SET failures = b.failures + 1, last_ms = $2",
                 "ti", keys[i], now_ms);
    if (!rc)
        rc = run(c, err, "DELETE FROM login_backoff WHERE last_ms < $1", "i",
                 now_ms - (int64_t)SRV_LOGIN_FORGET_S * 1000);
    if (!rc)
        rc = simple(c, err, "COMMIT");
    else
        simple(c, NULL, "ROLLBACK");
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_login_clear(struct srv_store *base, const char *const *keys, size_t n,
                                  struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    enum kk_err rc = KK_OK;
    WITH_CONN(s, err);
    for (size_t i = 0; !rc && i < n; i++)
        rc = run(c, err, "DELETE FROM login_backoff WHERE key = $1", "t", keys[i]);
    conn_put(s, c);
    return rc;
}

/* --- enrolment and revocation -------------------------------------------------------- */

static enum kk_err pg_enrol_add(struct srv_store *base, const char *code_hash, const char *venue,
                                const char *kiosk, int64_t expires_ms, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc =
        query_text(c, NULL, err, "SELECT 1 FROM venues WHERE id = $1", "t", venue, NULL);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "venue %s does not exist (add it with: venue add)", venue);
    if (!rc) {
        rc = query_text(c, NULL, err, "SELECT 1 FROM kiosks WHERE id = $1", "t", kiosk, NULL);
        if (!rc)
            rc = kk_fail(err, KK_ERR_EXISTS, "kiosk %s already exists", kiosk);
        else if (rc == KK_ERR_NOTFOUND)
            rc = KK_OK;
    }
    if (!rc) {
        rc = run(c, err,
                 "INSERT INTO enrol_codes(code_hash, venue, kiosk, created_ms, expires_ms)"
                 " VALUES($1, $2, $3, $4, $5)",
                 "tttii", code_hash, venue, kiosk, (int64_t)kk_clock_wall_ms(), expires_ms);
        if (rc == KK_ERR_EXISTS)
            rc = kk_fail(err, KK_ERR_DB, "enrolment code collision");
    }
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_enrol_use(struct srv_store *base, const char *code_hash,
                                const char *token_hash, int64_t now_ms, struct kk_buf *kiosk,
                                struct kk_buf *venue, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r = NULL;
    WITH_CONN(s, err);
    enum kk_err rc = simple(c, err, "BEGIN");
    /* FOR UPDATE: of two servers using one code at once, the second sees it used. */
    if (!rc)
        rc = query_row(c, &r, err,
                       "SELECT CASE WHEN used_ms IS NOT NULL THEN 'used' WHEN expires_ms <= $2"
                       " THEN 'expired' ELSE 'ok' END, kiosk, venue FROM enrol_codes"
                       " WHERE code_hash = $1 FOR UPDATE",
                       1, "ti", code_hash, now_ms);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "unknown enrolment code");
    else if (!rc && strcmp(PQgetvalue(r, 0, 0), "ok"))
        rc = kk_fail(err, KK_ERR_PERM, "this enrolment code %s",
                     !strcmp(PQgetvalue(r, 0, 0), "used") ? "was already used" : "has expired");
    if (!rc)
        rc = take_value(r, 1, kiosk, err);
    if (!rc)
        rc = take_value(r, 2, venue, err);
    if (!rc)
        rc = run(c, err, "UPDATE enrol_codes SET used_ms = $2 WHERE code_hash = $1", "ti",
                 code_hash, now_ms);
    if (!rc) {
        rc = run(c, err,
                 "INSERT INTO kiosks(id, venue, token_hash, created_ms) VALUES($1, $2, $3, $4)",
                 "ttti", kk_buf_str(kiosk), kk_buf_str(venue), token_hash, now_ms);
        if (rc == KK_ERR_EXISTS)
            rc = kk_fail(err, rc, "kiosk %s already exists", kk_buf_str(kiosk));
    }
    if (!rc)
        rc = simple(c, err, "COMMIT");
    if (rc)
        simple(c, NULL, "ROLLBACK");
    PQclear(r);
    conn_put(s, c);
    return rc;
}

/* Runs an UPDATE or DELETE ... RETURNING 1; KK_ERR_NOTFOUND naming what when it touched
 * no row. */
static enum kk_err change_one(struct pg_store *s, struct kk_buf *err, const char *what,
                              const char *sql, const char *types, const char *a, const char *b)
{
    WITH_CONN(s, err);
    enum kk_err rc = query_text(c, NULL, err, sql, types, a, b);
    conn_put(s, c);
    if (rc == KK_ERR_NOTFOUND)
        return kk_fail(err, rc, "%s %s does not exist", what, a);
    return rc;
}

static enum kk_err pg_kiosk_revoke(struct srv_store *base, const char *id, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r = NULL;
    WITH_CONN(s, err);
    /* No token's SHA-256 reads "revoked:...", so no request matches the kiosk any more. */
    enum kk_err rc = query_row(c, &r, err,
                               "UPDATE kiosks SET token_hash = 'revoked:' || id || ':' ||"
                               " substr(md5(random()::text || clock_timestamp()::text), 1, 16),"
                               " revoked_ms = $2 WHERE id = $1 RETURNING 1",
                               0, "ti", id, (int64_t)kk_clock_wall_ms());
    PQclear(r);
    conn_put(s, c);
    if (rc == KK_ERR_NOTFOUND)
        return kk_fail(err, rc, "kiosk %s does not exist", id);
    return rc;
}

static enum kk_err pg_kiosk_rotate(struct srv_store *base, const char *id, const char *token_hash,
                                   struct kk_buf *err)
{
    enum kk_err rc = change_one((struct pg_store *)base, err, "kiosk",
                                "UPDATE kiosks SET token_hash = $2, revoked_ms = NULL"
                                " WHERE id = $1 RETURNING 1",
                                "tt", id, token_hash);
    return rc == KK_ERR_EXISTS ? kk_fail(err, KK_ERR_DB, "kiosk %s: token collision", id) : rc;
}

/* Drops name's sessions after a change to the user (removal, new password). */
static enum kk_err drop_sessions(struct pg_store *s, const char *name, struct kk_buf *err)
{
    WITH_CONN(s, err);
    enum kk_err rc = run(c, err, "DELETE FROM sessions WHERE \"user\" = $1", "t", name);
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_user_remove(struct srv_store *base, const char *name, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    enum kk_err rc = change_one(s, err, "user", "DELETE FROM users WHERE name = $1 RETURNING 1",
                                "t", name, NULL);
    if (!rc)
        rc = drop_sessions(s, name, err);
    return rc;
}

static enum kk_err pg_user_passwd(struct srv_store *base, const char *name,
                                  const char *password_hash, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    enum kk_err rc = change_one(s, err, "user",
                                "UPDATE users SET password_hash = $2 WHERE name = $1 RETURNING 1",
                                "tt", name, password_hash);
    if (!rc)
        rc = drop_sessions(s, name, err);
    return rc;
}

static enum kk_err pg_user_roles(struct srv_store *base, const char *name, const char *roles,
                                 const char *token_hash, struct kk_buf *old, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r = NULL;
    WITH_CONN(s, err);
    enum kk_err rc =
        query_row(c, &r, err,
                  "WITH old AS (SELECT name, role FROM users WHERE name = $1 FOR UPDATE)"
                  " UPDATE users u SET role = $2, token_hash = CASE WHEN $3::text IS NOT NULL AND"
                  " ',' || old.role || ',' NOT LIKE '%,staff,%' THEN $3 ELSE u.token_hash END"
                  " FROM old WHERE u.name = old.name RETURNING old.role",
                  0, "ttt", name, roles, token_hash);
    if (!rc)
        rc = take_value(r, 0, old, err);
    PQclear(r);
    conn_put(s, c);
    if (!rc && !strstr(roles, "office") && !strstr(roles, "admin"))
        rc = drop_sessions(s, name, err);
    if (rc == KK_ERR_NOTFOUND)
        return kk_fail(err, rc, "user %s does not exist", name);
    if (rc == KK_ERR_EXISTS)
        return kk_fail(err, KK_ERR_DB, "user %s: roles %s refused by the store", name, roles);
    return rc;
}

static enum kk_err pg_admin_list(struct srv_store *base, const char *what, struct srv_table *out,
                                 struct kk_buf *err)
{
    static const char *const kiosk_cols[] = {"kiosk", "venue", "created_ms", "revoked_ms"};
    static const char *const user_cols[] = {"user", "role", "created_ms"};
    int users = !strcmp(what, "users");
    return read_table((struct pg_store *)base, out, users ? user_cols : kiosk_cols, users ? 3 : 4,
                      err,
                      users ? "SELECT name, role, created_ms FROM users ORDER BY name"
                            : "SELECT id, venue, created_ms, revoked_ms FROM kiosks ORDER BY id",
                      NULL, NULL);
}

/* --- content studio drafts and the audit log ------------------------------------------ */

static enum kk_err pg_draft_add(struct srv_store *base, const struct srv_draft_save *d,
                                struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc = simple(c, err, "BEGIN");
    if (!rc && d->venue) {
        rc = query_text(c, NULL, err, "SELECT 1 FROM venues WHERE id = $1", "t", d->venue, NULL);
        if (rc == KK_ERR_NOTFOUND)
            rc = kk_fail(err, rc, "venue %s does not exist", d->venue);
    }
    if (!rc) {
        rc = run(c, err,
                 "INSERT INTO drafts(id, pack, venue, created_by, created_ms, head, updated_ms,"
                 " updated_by, state) VALUES($1, $2, $3, $4, $5, 1, $5, $4, $6)",
                 "tttti"
                 "t",
                 d->id, d->pack, d->venue, d->who, d->at_ms, d->state ? d->state : "draft");
        if (rc == KK_ERR_EXISTS)
            rc = kk_fail(err, rc, "draft %s already exists", d->id);
    }
    if (!rc)
        rc = run(c, err,
                 "INSERT INTO draft_revisions(draft, number, who, at_ms, note, source, files)"
                 " VALUES($1, 1, $2, $3, $4, $5, $6)",
                 "ttittt", d->id, d->who, d->at_ms, d->note, d->source, d->files);
    if (!rc)
        rc = simple(c, err, "COMMIT");
    if (rc)
        simple(c, NULL, "ROLLBACK");
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_draft_save(struct srv_store *base, const struct srv_draft_save *d,
                                 int64_t *number, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r = NULL;
    long h = 0;
    WITH_CONN(s, err);
    enum kk_err rc = simple(c, err, "BEGIN");
    /* FOR UPDATE: of two servers saving on one base at once, the second sees the first's. */
    if (!rc)
        rc = query_row(c, &r, err, "SELECT head::text, state FROM drafts WHERE id = $1 FOR UPDATE",
                       0, "t", d->id);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "no draft %s", d->id);
    if (!rc &&
        (!strcmp(PQgetvalue(r, 0, 1), "in_review") || !strcmp(PQgetvalue(r, 0, 1), "approved")))
        rc = kk_fail(err, KK_ERR_BUSY,
                     "draft %s is %s: it cannot change until an office user requests changes",
                     d->id, PQgetvalue(r, 0, 1));
    if (!rc && kk_parse_long(PQgetvalue(r, 0, 0), 1, 1L << 40, &h) < 0)
        rc = kk_fail(err, KK_ERR_DB, "draft %s: unreadable head revision", d->id);
    if (!rc && h != d->base) {
        *number = h;
        rc = kk_fail(err, KK_ERR_EXISTS, "draft %s: revision %lld is not the latest (%ld)", d->id,
                     (long long)d->base, h);
    }
    if (!rc)
        rc = run(c, err,
                 "INSERT INTO draft_revisions(draft, number, who, at_ms, note, source, files)"
                 " VALUES($1, $2, $3, $4, $5, $6, $7)",
                 "titittt", d->id, (int64_t)h + 1, d->who, d->at_ms, d->note, d->source, d->files);
    if (!rc)
        rc = run(c, err,
                 "UPDATE drafts SET head = $2, updated_ms = $3, updated_by = $4, state = 'draft'"
                 " WHERE id = $1",
                 "tiit", d->id, (int64_t)h + 1, d->at_ms, d->who);
    if (!rc)
        rc = simple(c, err, "COMMIT");
    if (rc)
        simple(c, NULL, "ROLLBACK");
    else
        *number = h + 1;
    PQclear(r);
    conn_put(s, c);
    return rc;
}

/* Initialises out with cols and fills it from a query with any parameters. */
static enum kk_err read_rows(struct pg_store *s, struct srv_table *out, const char *const *cols,
                             size_t ncols, struct kk_buf *err, const char *sql, const char *types,
                             ...)
{
    struct pg_args a;
    PGresult *r = NULL;
    va_list ap;
    if (srv_table_init(out, cols, ncols))
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    va_start(ap, types);
    args_va(&a, types, ap);
    va_end(ap);
    WITH_CONN(s, err);
    enum kk_err rc = pq_exec(c, sql, &a, 0, &r, err);
    if (!rc)
        rc = collect_rows(r, out, err);
    PQclear(r);
    conn_put(s, c);
    return rc;
}

static const char *const draft_list_cols[] = {
    "id",         "pack",       "venue",    "state",       "created_by", "created_ms", "revision",
    "updated_ms", "updated_by", "approved", "approved_by", "version",    "comments"};
static const char *const draft_get_cols[] = {
    "id",     "pack",  "venue", "state",    "revision",    "who",     "at_ms",   "note",
    "source", "files", "head",  "approved", "approved_by", "version", "comments"};
static const char *const draft_rev_cols[] = {"revision", "who", "at_ms", "note"};
static const char *const audit_cols[] = {"at_ms",  "who",   "what", "target",
                                         "detail", "venue", "pack"};

static enum kk_err pg_draft_list(struct srv_store *base, struct srv_table *out, struct kk_buf *err)
{
    return read_rows((struct pg_store *)base, out, draft_list_cols, 13, err,
                     "SELECT id, pack, venue, state, created_by, created_ms, head, updated_ms,"
                     " updated_by, approved, approved_by, version, comments FROM drafts"
                     " ORDER BY updated_ms DESC, id",
                     NULL);
}

static enum kk_err pg_draft_get(struct srv_store *base, const char *id, int64_t number,
                                struct srv_table *out, struct kk_buf *err)
{
    enum kk_err rc = read_rows(
        (struct pg_store *)base, out, draft_get_cols, 15, err,
        "SELECT d.id, d.pack, d.venue, d.state, r.number, r.who, r.at_ms, r.note, r.source,"
        " r.files, d.head, d.approved, d.approved_by, d.version, d.comments"
        " FROM drafts d JOIN draft_revisions r ON r.draft = d.id"
        " AND r.number = CASE WHEN $2 > 0 THEN $2 ELSE d.head END WHERE d.id = $1",
        "ti", id, number);
    return !rc && !out->nrows ? KK_ERR_NOTFOUND : rc;
}

static enum kk_err pg_draft_revisions(struct srv_store *base, const char *id, struct srv_table *out,
                                      struct kk_buf *err)
{
    return read_rows((struct pg_store *)base, out, draft_rev_cols, 4, err,
                     "SELECT number, who, at_ms, note FROM draft_revisions WHERE draft = $1"
                     " ORDER BY number",
                     "t", id);
}

static enum kk_err pg_audit_add(struct srv_store *base, const struct srv_audit *a,
                                struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc =
        run(c, err,
            "INSERT INTO audit(at_ms, who, what, target, detail, venue, pack)"
            " VALUES($1, $2, $3, $4, $5, $6, $7)",
            "itttttt", a->at_ms, a->who, a->what, a->target, a->detail, a->venue, a->pack);
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_audit_list(struct srv_store *base, const struct srv_audit_query *q,
                                 struct srv_table *out, struct kk_buf *err)
{
    return read_rows((struct pg_store *)base, out, audit_cols, 7, err,
                     "SELECT at_ms, who, what, target, detail, venue, pack FROM audit"
                     " WHERE at_ms >= $1 AND at_ms < $2 AND ($3::text IS NULL OR who = $3)"
                     " AND ($4::text IS NULL OR venue = $4) AND ($5::text IS NULL OR pack = $5)"
                     " ORDER BY seq",
                     "iittt", q->from_ms, q->to_ms, q->who, q->venue, q->pack);
}

/* True when state is one of the '|'-separated names in list. */
static int state_in(const char *state, const char *list)
{
    size_t n = strlen(state);
    for (const char *p = list; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, state, n))
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static enum kk_err pg_draft_step(struct srv_store *base, const struct srv_draft_step *st,
                                 struct kk_buf *state, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r = NULL;
    long head = 0, approved = 0;
    WITH_CONN(s, err);
    enum kk_err rc = simple(c, err, "BEGIN");
    /* FOR UPDATE: two servers taking steps on one draft at once take them one after the
     * other. */
    if (!rc)
        rc = query_row(c, &r, err,
                       "SELECT state, head::text, COALESCE(approved, 0)::text FROM drafts"
                       " WHERE id = $1 FOR UPDATE",
                       0, "t", st->id);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "no draft %s", st->id);
    if (!rc && (kk_parse_long(PQgetvalue(r, 0, 1), 1, 1L << 40, &head) < 0 ||
                kk_parse_long(PQgetvalue(r, 0, 2), 0, 1L << 40, &approved) < 0))
        rc = kk_fail(err, KK_ERR_DB, "draft %s: unreadable revisions", st->id);
    if (!rc && !state_in(PQgetvalue(r, 0, 0), st->from)) {
        kk_buf_reset(state);
        kk_buf_adds(state, PQgetvalue(r, 0, 0));
        rc = kk_fail(err, KK_ERR_BUSY, "draft %s is %s", st->id, PQgetvalue(r, 0, 0));
    }
    if (!rc && st->self_check) {
        PGresult *mine = NULL;
        rc = query_row(c, &mine, err,
                       "SELECT 1 FROM draft_revisions WHERE draft = $1 AND number > $2::bigint"
                       " AND who = $3 LIMIT 1",
                       0, "ttt", st->id, PQgetvalue(r, 0, 2), st->who);
        PQclear(mine);
        if (!rc)
            rc = kk_fail(err, KK_ERR_PERM, "draft %s: %s saved a revision of it", st->id, st->who);
        else if (rc == KK_ERR_NOTFOUND)
            rc = KK_OK;
    }
    if (!rc && st->approve > 0 && st->approve != head)
        rc = kk_fail(err, KK_ERR_EXISTS, "draft %s: revision %lld is not the latest (%ld)", st->id,
                     (long long)st->approve, head);
    if (!rc)
        rc = run(c, err,
                 "UPDATE drafts SET state = $2, approved = CASE WHEN $3 > 0 THEN $3 ELSE approved"
                 " END, approved_by = CASE WHEN $3 > 0 THEN $4 ELSE approved_by END,"
                 " version = COALESCE($5, version), comments = COALESCE($6, comments)"
                 " WHERE id = $1",
                 "ttittt", st->id, st->to, st->approve, st->who, st->version, st->comments);
    if (!rc)
        rc = simple(c, err, "COMMIT");
    if (rc)
        simple(c, NULL, "ROLLBACK");
    PQclear(r);
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_pack_versions(struct srv_store *base, const char *pack, struct srv_table *out,
                                    struct kk_buf *err)
{
    static const char *const cols[] = {"version"};
    return read_rows((struct pg_store *)base, out, cols, 1, err,
                     "SELECT version FROM packs WHERE id = $1 UNION SELECT version FROM drafts"
                     " WHERE pack = $1 AND version IS NOT NULL",
                     "t", pack);
}

static enum kk_err pg_user_venues(struct srv_store *base, const char *user, struct srv_table *out,
                                  struct kk_buf *err)
{
    static const char *const cols[] = {"venue"};
    return read_rows((struct pg_store *)base, out, cols, 1, err,
                     "SELECT venue FROM user_venues WHERE \"user\" = $1 ORDER BY venue", "t", user);
}

static enum kk_err pg_user_venue_add(struct srv_store *base, const char *user, const char *venue,
                                     struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc =
        query_text(c, NULL, err, "SELECT 1 FROM users WHERE name = $1", "t", user, NULL);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "user %s does not exist", user);
    if (!rc) {
        rc = query_text(c, NULL, err, "SELECT 1 FROM venues WHERE id = $1", "t", venue, NULL);
        if (rc == KK_ERR_NOTFOUND)
            rc = kk_fail(err, rc, "venue %s does not exist", venue);
    }
    if (!rc)
        rc = run(c, err,
                 "INSERT INTO user_venues(\"user\", venue) VALUES($1, $2) ON CONFLICT DO NOTHING",
                 "tt", user, venue);
    conn_put(s, c);
    return rc;
}

/* --- fleet operations (issue 17) ------------------------------------------------------ */

/* KK_ERR_NOTFOUND naming the kiosk or venue when it does not exist. */
static enum kk_err must_exist(struct pg_conn *c, const char *kind, const char *id,
                              struct kk_buf *err)
{
    enum kk_err rc = query_text(c, NULL, err,
                                !strcmp(kind, "venue") ? "SELECT 1 FROM venues WHERE id = $1"
                                                       : "SELECT 1 FROM kiosks WHERE id = $1",
                                "t", id, NULL);
    if (rc == KK_ERR_NOTFOUND)
        return kk_fail(err, rc, "%s %s does not exist", kind, id);
    return rc;
}

static enum kk_err pg_kiosk_tag(struct srv_store *base, const char *kiosk, const char *tag, int add,
                                struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc = must_exist(c, "kiosk", kiosk, err);
    if (!rc)
        rc = run(c, err,
                 add ? "INSERT INTO kiosk_tags(kiosk, tag) VALUES($1, $2) ON CONFLICT DO NOTHING"
                     : "DELETE FROM kiosk_tags WHERE kiosk = $1 AND tag = $2",
                 "tt", kiosk, tag);
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_targets(struct srv_store *base, const char *kind, const char *target,
                              struct srv_table *out, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    static const char *const cols[] = {"kiosk"};
    int venue = !strcmp(kind, "venue"), kiosk = !strcmp(kind, "kiosk");
    if (venue || kiosk) {
        WITH_CONN(s, err);
        enum kk_err rc = must_exist(c, kind, target, err);
        conn_put(s, c);
        if (rc)
            return rc;
    }
    const char *sql = venue   ? "SELECT id FROM kiosks WHERE venue = $1 ORDER BY id"
                      : kiosk ? "SELECT id FROM kiosks WHERE id = $1"
                      : !strcmp(kind, "tag")
                          ? "SELECT kiosk FROM kiosk_tags WHERE tag = $1 ORDER BY kiosk"
                          : "SELECT id FROM kiosks WHERE $1::text IS NULL OR TRUE ORDER BY id";
    return read_rows(s, out, cols, 1, err, sql, "t", target);
}

static enum kk_err pg_command_add(struct srv_store *base, const struct srv_command *cmd,
                                  struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc = must_exist(c, "kiosk", cmd->kiosk, err);
    if (!rc)
        rc = run(c, err,
                 "INSERT INTO commands(id, kiosk, type, args, created_ms, expires_ms, who)"
                 " VALUES($1, $2, $3, $4, $5, $6, $7)",
                 "ttttiit", cmd->id, cmd->kiosk, cmd->type, cmd->args, cmd->created_ms,
                 cmd->expires_ms, cmd->who);
    conn_put(s, c);
    if (rc == KK_ERR_EXISTS)
        return kk_fail(err, rc, "command %s already exists", cmd->id);
    return rc;
}

static enum kk_err pg_commands_pending(struct srv_store *base, const char *kiosk, int64_t now,
                                       struct srv_table *out, struct kk_buf *err)
{
    static const char *const cols[] = {"id", "type", "args", "expires_ms"};
    return read_rows((struct pg_store *)base, out, cols, 4, err,
                     "SELECT id, type, args, expires_ms FROM commands WHERE kiosk = $1"
                     " AND done_ms IS NULL AND expires_ms > $2 ORDER BY created_ms, id",
                     "ti", kiosk, now);
}

static enum kk_err pg_command_done(struct srv_store *base, const char *kiosk, const char *id,
                                   int ok, const char *detail, int64_t now, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r = NULL;
    WITH_CONN(s, err);
    enum kk_err rc = query_row(c, &r, err,
                               "UPDATE commands SET done_ms = $3, ok = $4, detail = $5"
                               " WHERE kiosk = $1 AND id = $2 AND done_ms IS NULL RETURNING 1",
                               0, "ttiit", kiosk, id, now, (int64_t)(ok != 0), detail);
    PQclear(r);
    conn_put(s, c);
    if (rc == KK_ERR_NOTFOUND)
        return kk_fail(err, rc, "command %s: not a waiting command of kiosk %s", id, kiosk);
    return rc;
}

static enum kk_err pg_screenshot_put(struct srv_store *base, const char *kiosk, const void *png,
                                     size_t len, int64_t now, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc = run(c, err,
                         "INSERT INTO screenshots(kiosk, png, taken_ms) VALUES($1, $2, $3)"
                         " ON CONFLICT (kiosk) DO UPDATE SET png = excluded.png,"
                         " taken_ms = excluded.taken_ms",
                         "tbi", kiosk, png, len, now);
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_screenshot_get(struct srv_store *base, const char *kiosk, struct kk_buf *png,
                                     int64_t *taken_ms, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r = NULL;
    WITH_CONN(s, err);
    enum kk_err rc = query_row(
        c, &r, err, "SELECT png, taken_ms::text FROM screenshots WHERE kiosk = $1", 1, "t", kiosk);
    if (!rc)
        rc = take_value(r, 0, png, err);
    if (!rc) {
        char when[32];
        int n = PQgetlength(r, 0, 1);
        snprintf(when, sizeof(when), "%.*s", n < 31 ? n : 31, PQgetvalue(r, 0, 1));
        *taken_ms = strtoll(when, NULL, 10);
    }
    PQclear(r);
    conn_put(s, c);
    if (rc == KK_ERR_NOTFOUND)
        return kk_fail(err, rc, "kiosk %s has sent no screenshot", kiosk);
    return rc;
}

static enum kk_err pg_fleet_list(struct srv_store *base, const char *what, const char *arg,
                                 struct srv_table *out, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    static const char *const tag_cols[] = {"kiosk", "tag"};
    static const char *const cmd_cols[] = {"id",         "kiosk", "type",    "args", "created_ms",
                                           "expires_ms", "by",    "done_ms", "ok",   "detail"};
    static const char *const set_cols[] = {"target_kind", "target", "key", "value", "updated_ms"};
    static const char *const not_cols[] = {"id",    "level",   "text", "from_ms",
                                           "to_ms", "targets", "by",   "created_ms"};
    static const char *const alert_cols[] = {"kiosk",      "kind",   "state", "since_ms",
                                             "updated_ms", "detail", "venue"};
    static const char *const kv_cols[] = {"key", "value", "updated_ms"};
    static const char *const watch_cols[] = {"kiosk", "venue",        "seen_ms",    "state",
                                             "packs", "disk_free_mb", "last_error", "dropped"};
    if (!strcmp(what, "tags"))
        return read_rows(s, out, tag_cols, 2, err,
                         "SELECT kiosk, tag FROM kiosk_tags WHERE $1::text IS NULL OR kiosk = $1"
                         " ORDER BY kiosk, tag",
                         "t", arg);
    if (!strcmp(what, "commands"))
        return read_rows(s, out, cmd_cols, 10, err,
                         "SELECT id, kiosk, type, args, created_ms, expires_ms, who, done_ms, ok,"
                         " detail FROM commands WHERE $1::text IS NULL OR kiosk = $1"
                         " ORDER BY created_ms DESC, id LIMIT 200",
                         "t", arg);
    if (!strcmp(what, "settings"))
        return read_rows(s, out, set_cols, 5, err,
                         "SELECT target_kind, target, skey, svalue, updated_ms FROM settings"
                         " WHERE $1::text IS NULL OR target = $1 ORDER BY 1, 2, 3",
                         "t", arg);
    if (!strcmp(what, "notices"))
        return read_rows(s, out, not_cols, 8, err,
                         "SELECT n.id, n.level, n.text, n.from_ms, n.to_ms,"
                         " (SELECT COALESCE(json_agg(t.kind || ':' || t.target"
                         " ORDER BY t.kind, t.target), '[]')::text FROM notice_targets t"
                         " WHERE t.notice = n.id), n.who, n.created_ms FROM notices n"
                         " WHERE $1::text IS NULL OR n.id = $1 ORDER BY n.from_ms DESC, n.id",
                         "t", arg);
    if (!strcmp(what, "alerts"))
        return read_rows(s, out, alert_cols, 7, err,
                         "SELECT a.kiosk, a.kind, a.state, a.since_ms, a.updated_ms, a.detail,"
                         " k.venue FROM alerts a LEFT JOIN kiosks k ON k.id = a.kiosk"
                         " WHERE $1::text IS NULL OR a.kiosk = $1"
                         " ORDER BY a.since_ms, a.kiosk, a.kind",
                         "t", arg);
    if (!strcmp(what, "kv"))
        return read_rows(s, out, kv_cols, 3, err,
                         "SELECT key, value, updated_ms FROM server_kv"
                         " WHERE substr(key, 1, length($1::text)) = $1 ORDER BY key",
                         "t", arg ? arg : "");
    if (!strcmp(what, "watch"))
        return read_rows(s, out, watch_cols, 8, err,
                         "SELECT k.id, k.venue, st.seen_ms, st.state, st.packs, st.disk_free_mb,"
                         " st.last_error, st.dropped FROM kiosks k LEFT JOIN kiosk_status st"
                         " ON st.kiosk = k.id WHERE $1::text IS NULL OR k.id = $1 ORDER BY k.id",
                         "t", arg);
    return kk_fail(err, KK_ERR_INVALID, "fleet list %s: unknown", what);
}

static enum kk_err pg_alert_step(struct srv_store *base, const char *kiosk, const char *kind,
                                 const char *from, const char *to, int64_t since_ms,
                                 const char *detail, int64_t now, int *changed, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    PGresult *r = NULL;
    enum kk_err rc;
    WITH_CONN(s, err);
    if (!from)
        rc = query_row(c, &r, err,
                       "INSERT INTO alerts(kiosk, kind, state, since_ms, updated_ms, detail)"
                       " VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1",
                       0, "tttiit", kiosk, kind, to, since_ms, now, detail ? detail : "");
    else if (!to)
        rc = query_row(c, &r, err,
                       "DELETE FROM alerts WHERE kiosk = $1 AND kind = $2 AND state = $3"
                       " RETURNING 1",
                       0, "ttt", kiosk, kind, from);
    else
        rc = query_row(c, &r, err,
                       "UPDATE alerts SET state = $4, updated_ms = $5,"
                       " detail = COALESCE($6::text, detail)"
                       " WHERE kiosk = $1 AND kind = $2 AND state = $3 RETURNING 1",
                       0, "ttttit", kiosk, kind, from, to, now, detail);
    PQclear(r);
    conn_put(s, c);
    if (rc == KK_ERR_NOTFOUND)
        return KK_OK;
    if (!rc)
        *changed = 1;
    return rc;
}

static enum kk_err pg_kv_set(struct srv_store *base, const char *key, const char *value,
                             int64_t now, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc = value ? run(c, err,
                                 "INSERT INTO server_kv(key, value, updated_ms) VALUES($1, $2, $3)"
                                 " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                                 " updated_ms = excluded.updated_ms",
                                 "tti", key, value, now)
                           : run(c, err, "DELETE FROM server_kv WHERE key = $1", "t", key);
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_setting_set(struct srv_store *base, const char *kind, const char *target,
                                  const char *key, const char *value, int64_t now,
                                  struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc = strcmp(kind, "tag") ? must_exist(c, kind, target, err) : KK_OK;
    if (!rc && value)
        rc = run(c, err,
                 "INSERT INTO settings(target_kind, target, skey, svalue, updated_ms)"
                 " VALUES($1, $2, $3, $4, $5) ON CONFLICT (target_kind, target, skey)"
                 " DO UPDATE SET svalue = excluded.svalue, updated_ms = excluded.updated_ms",
                 "tttti", kind, target, key, value, now);
    else if (!rc)
        rc =
            run(c, err, "DELETE FROM settings WHERE target_kind = $1 AND target = $2 AND skey = $3",
                "ttt", kind, target, key);
    conn_put(s, c);
    if (rc == KK_ERR_EXISTS)
        return kk_fail(err, KK_ERR_INVALID, "settings: %s is not a venue, tag or kiosk", kind);
    return rc;
}

static enum kk_err pg_kiosk_settings(struct srv_store *base, const char *kiosk,
                                     struct srv_table *out, struct kk_buf *err)
{
    static const char *const cols[] = {"target_kind", "target", "key", "value"};
    return read_rows((struct pg_store *)base, out, cols, 4, err,
                     "SELECT target_kind, target, skey, svalue FROM settings"
                     " WHERE (target_kind = 'venue' AND target = (SELECT venue FROM kiosks"
                     " WHERE id = $1)) OR (target_kind = 'tag' AND target IN (SELECT tag FROM"
                     " kiosk_tags WHERE kiosk = $1)) OR (target_kind = 'kiosk' AND target = $1)"
                     " ORDER BY CASE target_kind WHEN 'venue' THEN 0 WHEN 'tag' THEN 1 ELSE 2"
                     " END, target, skey",
                     "t", kiosk);
}

static enum kk_err pg_notice_add(struct srv_store *base, const struct srv_notice *n,
                                 struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    WITH_CONN(s, err);
    enum kk_err rc = simple(c, err, "BEGIN");
    if (!rc)
        rc = run(c, err,
                 "INSERT INTO notices(id, level, text, from_ms, to_ms, who, created_ms)"
                 " VALUES($1, $2, $3, $4, $5, $6, $7)",
                 "tttiiti", n->id, n->level, n->text, n->from_ms, n->to_ms, n->who, n->created_ms);
    if (rc == KK_ERR_EXISTS)
        rc = kk_fail(err, rc, "notice %s already exists", n->id);
    for (size_t i = 0; !rc && i < n->ntargets; i++)
        rc = run(c, err,
                 "INSERT INTO notice_targets(notice, kind, target) VALUES($1, $2, $3)"
                 " ON CONFLICT DO NOTHING",
                 "ttt", n->id, n->kinds[i], n->targets[i]);
    if (!rc)
        rc = simple(c, err, "COMMIT");
    if (rc)
        simple(c, NULL, "ROLLBACK");
    conn_put(s, c);
    return rc;
}

static enum kk_err pg_notice_delete(struct srv_store *base, const char *id, struct kk_buf *err)
{
    struct pg_store *s = (struct pg_store *)base;
    enum kk_err rc = change_one(s, err, "notice", "DELETE FROM notices WHERE id = $1 RETURNING 1",
                                "t", id, NULL);
    if (!rc) {
        WITH_CONN(s, err);
        rc = run(c, err, "DELETE FROM notice_targets WHERE notice = $1", "t", id);
        conn_put(s, c);
    }
    return rc;
}

static enum kk_err pg_kiosk_notices(struct srv_store *base, const char *kiosk, int64_t now,
                                    struct srv_table *out, struct kk_buf *err)
{
    static const char *const cols[] = {"id", "level", "text", "from_ms", "to_ms"};
    return read_rows((struct pg_store *)base, out, cols, 5, err,
                     "SELECT n.id, n.level, n.text, n.from_ms, n.to_ms FROM notices n"
                     " WHERE n.to_ms > $2 AND EXISTS (SELECT 1 FROM notice_targets t"
                     " WHERE t.notice = n.id AND (t.kind = 'city' OR (t.kind = 'venue'"
                     " AND t.target = (SELECT venue FROM kiosks WHERE id = $1))"
                     " OR (t.kind = 'tag' AND t.target IN (SELECT tag FROM kiosk_tags"
                     " WHERE kiosk = $1)) OR (t.kind = 'kiosk' AND t.target = $1)))"
                     " ORDER BY n.from_ms, n.id",
                     "ti", kiosk, now);
}

static const struct srv_store_ops pg_ops = {
    .close = pg_close,
    .venue_add = pg_venue_add,
    .kiosk_add = pg_kiosk_add,
    .user_add = pg_user_add,
    .assign = pg_assign,
    .assign_rollback = pg_assign_rollback,
    .kiosk_windows = pg_kiosk_windows,
    .kiosk_by_token = pg_kiosk_by_token,
    .staff_by_token = pg_staff_by_token,
    .user_get = pg_user_get,
    .session_add = pg_session_add,
    .session_get = pg_session_get,
    .session_delete = pg_session_delete,
    .events_add = pg_events_add,
    .heartbeat = pg_heartbeat,
    .kiosk_packs = pg_kiosk_packs,
    .stats = pg_stats,
    .counters = pg_counters,
    .pack_add = pg_pack_add,
    .pack_get = pg_pack_get,
    .ping = pg_ping,
    .login_take = pg_login_take,
    .login_clear = pg_login_clear,
    .enrol_add = pg_enrol_add,
    .enrol_use = pg_enrol_use,
    .kiosk_revoke = pg_kiosk_revoke,
    .kiosk_rotate = pg_kiosk_rotate,
    .user_remove = pg_user_remove,
    .user_passwd = pg_user_passwd,
    .user_roles = pg_user_roles,
    .admin_list = pg_admin_list,
    .events_prune = pg_events_prune,
    .kiosk_tag = pg_kiosk_tag,
    .targets = pg_targets,
    .command_add = pg_command_add,
    .commands_pending = pg_commands_pending,
    .command_done = pg_command_done,
    .screenshot_put = pg_screenshot_put,
    .screenshot_get = pg_screenshot_get,
    .fleet_list = pg_fleet_list,
    .setting_set = pg_setting_set,
    .kiosk_settings = pg_kiosk_settings,
    .notice_add = pg_notice_add,
    .notice_delete = pg_notice_delete,
    .kiosk_notices = pg_kiosk_notices,
    .alert_step = pg_alert_step,
    .kv_set = pg_kv_set,
    .audit_add = pg_audit_add,
    .audit_list = pg_audit_list,
    .draft_step = pg_draft_step,
    .pack_versions = pg_pack_versions,
    .draft_add = pg_draft_add,
    .draft_save = pg_draft_save,
    .draft_list = pg_draft_list,
    .draft_get = pg_draft_get,
    .draft_revisions = pg_draft_revisions,
    .user_venues = pg_user_venues,
    .user_venue_add = pg_user_venue_add,
};

enum kk_err srv_store_pg_open(struct srv_store **out, const char *data_dir, const char *url,
                              struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct pg_conn *c = NULL;
    *out = NULL;
    struct pg_store *s = kk_calloc(1, sizeof(*s));
    if (!s)
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    s->base.ops = &pg_ops;
    pthread_mutex_init(&s->lock, NULL);
    s->base.data_dir = kk_strdup(data_dir);
    s->url = kk_strdup(url);
    if (!s->base.data_dir || !s->url) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = kk_mkdirs(data_dir, 0700, err);
    if (!rc)
        rc = conn_open(s->url, &c, err);
    if (!rc)
        rc = migrate(c, err);
    if (!rc) {
        int64_t now = (int64_t)kk_clock_wall_ms();
        ensure_partitions(c, month_of(now), month_of(now) + 2);
    }
done:
    if (!rc)
        conn_put(s, c);
    else
        conn_close(c);
    if (rc)
        pg_close(&s->base);
    else
        *out = &s->base;
    return rc;
}
