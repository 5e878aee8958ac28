/* The SQLite store: one database file in WAL mode with synchronous=FULL, so a COMMIT
 * that returned is on the disk. One writer connection behind a mutex (SQLite allows one
 * writer at a time anyway) with its hot statements prepared once; a small pool of reader
 * connections for lookups and stats, which WAL lets run beside the writer. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "srv_auth.h"
#include "srv_rollup.h"
#include "srv_store.h"

#define MAX_READERS 16
#define BUSY_MS     10000

#define STR_(x) #x
#define STR(x)  STR_(x)
/* The city day (days since 1970-01-01 in UTC+8) of the hour in a rollup's hour column. */
#define HOUR_DAY "((hour * 3600 + " STR(SRV_DAY_OFFSET_S) ") / 86400)"

/* Schema migrations: migrations[i] takes user_version i to i + 1. Append, never edit. */
static const char *const migrations[] = {
    "CREATE TABLE venues(id TEXT PRIMARY KEY, name TEXT NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE kiosks(id TEXT PRIMARY KEY, venue TEXT NOT NULL REFERENCES venues(id),"
    " token_hash TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL);"
    "CREATE INDEX kiosks_venue ON kiosks(venue);"
    "CREATE TABLE users(name TEXT PRIMARY KEY, role TEXT NOT NULL CHECK(role IN"
    " ('office','staff')), password_hash TEXT NOT NULL, token_hash TEXT UNIQUE,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE sessions(id_hash TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL,"
    " expires_ms INTEGER NOT NULL);"
    "CREATE TABLE kiosk_status(kiosk TEXT PRIMARY KEY, seen_ms INTEGER NOT NULL,"
    " app_version TEXT, packs TEXT, queue INTEGER, dropped INTEGER, uptime_s INTEGER,"
    " disk_free_mb INTEGER, last_error TEXT);"
    "CREATE TABLE packs(id TEXT NOT NULL, version TEXT NOT NULL, manifest_sha256 TEXT NOT NULL,"
    " manifest BLOB NOT NULL, signature BLOB NOT NULL, uploaded_ms INTEGER NOT NULL,"
    " PRIMARY KEY(id, version));"
    "CREATE TABLE pack_files(pack TEXT NOT NULL, version TEXT NOT NULL, path TEXT NOT NULL,"
    " sha256 TEXT NOT NULL, size INTEGER NOT NULL, PRIMARY KEY(pack, version, path));"
    "CREATE INDEX pack_files_sha ON pack_files(sha256);"
    "CREATE TABLE assignments(target_kind TEXT NOT NULL CHECK(target_kind IN"
    " ('venue','kiosk')), target TEXT NOT NULL, pack TEXT NOT NULL, version TEXT NOT NULL,"
    " updated_ms INTEGER NOT NULL, PRIMARY KEY(target_kind, target, pack));"
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kiosk TEXT NOT NULL,"
    " ts INTEGER NOT NULL, type TEXT NOT NULL, received_ms INTEGER NOT NULL, body TEXT NOT NULL);"
    "CREATE TABLE roll_hour(type TEXT NOT NULL, hour INTEGER NOT NULL, kiosk TEXT NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY(type, hour, kiosk)) WITHOUT ROWID;"
    "CREATE TABLE roll_topic(hour INTEGER NOT NULL, kiosk TEXT NOT NULL, topic TEXT NOT NULL,"
    " views INTEGER NOT NULL, dwell_ms INTEGER NOT NULL, PRIMARY KEY(hour, kiosk, topic))"
    " WITHOUT ROWID;"
    "CREATE TABLE roll_audience(hour INTEGER NOT NULL, kiosk TEXT NOT NULL,"
    " audience TEXT NOT NULL, sessions INTEGER NOT NULL, PRIMARY KEY(hour, kiosk, audience))"
    " WITHOUT ROWID;"
    "CREATE TABLE roll_question(hour INTEGER NOT NULL, kiosk TEXT NOT NULL, topic TEXT NOT NULL,"
    " question TEXT NOT NULL, audience TEXT NOT NULL, correct INTEGER NOT NULL,"
    " total INTEGER NOT NULL, PRIMARY KEY(hour, kiosk, topic, question, audience))"
    " WITHOUT ROWID;"
    "CREATE TABLE counters(name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;",
    /* 2: views and dwell per page of a topic (the dashboard's "where visitors stop
     * reading"), filled from the page views already stored. */
    "CREATE TABLE roll_page(hour INTEGER NOT NULL, kiosk TEXT NOT NULL, topic TEXT NOT NULL,"
    " page INTEGER NOT NULL, views INTEGER NOT NULL, dwell_ms INTEGER NOT NULL,"
    " PRIMARY KEY(hour, kiosk, topic, page)) WITHOUT ROWID;"
    "INSERT INTO roll_page(hour, kiosk, topic, page, views, dwell_ms)"
    " SELECT ts / 3600000, kiosk, json_extract(body, '$.topic'), json_extract(body, '$.page'),"
    " COUNT(*), SUM(json_extract(body, '$.dwell_ms')) FROM events WHERE type = 'page_view'"
    " GROUP BY 1, 2, 3, 4;",
    /* 3: the same totals per city day for the whole city, without the kiosk: what the
     * dashboard reads when it asks about all venues. They stay a few rows per day however
     * many kiosks and events there are (the hourly ones per kiosk grow with the events).
     * Filled once from the hourly rollups. */
    "CREATE TABLE day_type(day INTEGER NOT NULL, type TEXT NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY(day, type)) WITHOUT ROWID;"
    "CREATE TABLE day_topic(day INTEGER NOT NULL, topic TEXT NOT NULL, views INTEGER NOT NULL,"
    " dwell_ms INTEGER NOT NULL, PRIMARY KEY(day, topic)) WITHOUT ROWID;"
    "CREATE TABLE day_page(day INTEGER NOT NULL, topic TEXT NOT NULL, page INTEGER NOT NULL,"
    " views INTEGER NOT NULL, dwell_ms INTEGER NOT NULL, PRIMARY KEY(day, topic, page))"
    " WITHOUT ROWID;"
    "CREATE TABLE day_audience(day INTEGER NOT NULL, audience TEXT NOT NULL,"
    " sessions INTEGER NOT NULL, PRIMARY KEY(day, audience)) WITHOUT ROWID;"
    "CREATE TABLE day_question(day INTEGER NOT NULL, topic TEXT NOT NULL, question TEXT NOT NULL,"
    " audience TEXT NOT NULL, correct INTEGER NOT NULL, total INTEGER NOT NULL,"
    " PRIMARY KEY(day, topic, question, audience)) WITHOUT ROWID;"
    "INSERT INTO day_type SELECT " HOUR_DAY ", type, SUM(n) FROM roll_hour GROUP BY 1, 2;"
    "INSERT INTO day_topic SELECT " HOUR_DAY ", topic, SUM(views), SUM(dwell_ms) FROM roll_topic"
    " GROUP BY 1, 2;"
    "INSERT INTO day_page SELECT " HOUR_DAY ", topic, page, SUM(views), SUM(dwell_ms)"
    " FROM roll_page GROUP BY 1, 2, 3;"
    "INSERT INTO day_audience SELECT " HOUR_DAY ", audience, SUM(sessions) FROM roll_audience"
    " GROUP BY 1, 2;"
    "INSERT INTO day_question SELECT " HOUR_DAY ", topic, question, audience, SUM(correct),"
    " SUM(total) FROM roll_question GROUP BY 1, 2, 3, 4;",
    /* 4: sessions per city day per kiosk, for sessions per venue and per kiosk (a few
     * hundred rows per day instead of one per kiosk and hour). */
    "CREATE TABLE day_kiosk(day INTEGER NOT NULL, kiosk TEXT NOT NULL, sessions INTEGER NOT NULL,"
    " PRIMARY KEY(day, kiosk)) WITHOUT ROWID;"
    "INSERT INTO day_kiosk SELECT " HOUR_DAY ", kiosk, SUM(n) FROM roll_hour"
    " WHERE type = 'session_start' GROUP BY 1, 2;",
    /* 5: quiz answers per city day per audience group, for the literacy figures over all
     * topics (day_question holds about a thousand rows a day). */
    "CREATE TABLE day_quiz(day INTEGER NOT NULL, audience TEXT NOT NULL, correct INTEGER NOT NULL,"
    " total INTEGER NOT NULL, PRIMARY KEY(day, audience)) WITHOUT ROWID;"
    "INSERT INTO day_quiz SELECT day, audience, SUM(correct), SUM(total) FROM day_question"
    " GROUP BY 1, 2;",
    /* 6: events whose time stamp the server cannot believe (a kiosk with a wrong clock)
     * are kept with clock_flag 1 and their received_ms, and left out of the rollups. */
    "ALTER TABLE events ADD COLUMN clock_flag INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE kiosk_status ADD COLUMN clock_offset_ms INTEGER;",
    /* 7: the failed-login back-off (srv_store_login_take), per hashed user name or client
     * address, shared by every server on this database. */
    "CREATE TABLE login_backoff(key TEXT PRIMARY KEY, failures INTEGER NOT NULL,"
    " last_ms INTEGER NOT NULL) WITHOUT ROWID;",
    /* 8: enrolment codes (one use each, until expires_ms) and revoked kiosks (their token
     * hash is replaced so nothing matches it; revoked_ms says when). */
    "CREATE TABLE enrol_codes(code_hash TEXT PRIMARY KEY, venue TEXT NOT NULL REFERENCES"
    " venues(id), kiosk TEXT NOT NULL, created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
    " used_ms INTEGER);"
    "ALTER TABLE kiosks ADD COLUMN revoked_ms INTEGER;",
    /* 9: interactive blocks and narration (issues 13, 14), per city day and kiosk: every
     * use of a block's target (day_interact), one row per visit that used a block
     * (day_block_visit) or one of its targets (day_target_visit), so the dashboard counts
     * visitors and not taps, and narration played and heard (day_audio). */
    "CREATE TABLE day_interact(day INTEGER NOT NULL, kiosk TEXT NOT NULL, topic TEXT NOT NULL,"
    " page INTEGER NOT NULL, block TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY(day, kiosk, topic, page, block, action, target))"
    " WITHOUT ROWID;"
    "CREATE TABLE day_block_visit(day INTEGER NOT NULL, kiosk TEXT NOT NULL,"
    " topic TEXT NOT NULL, page INTEGER NOT NULL, block TEXT NOT NULL, session TEXT NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY(day, kiosk, topic, page, block, session)) WITHOUT ROWID;"
    "CREATE TABLE day_target_visit(day INTEGER NOT NULL, kiosk TEXT NOT NULL,"
    " topic TEXT NOT NULL, page INTEGER NOT NULL, block TEXT NOT NULL, target TEXT NOT NULL,"
    " session TEXT NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY(day, kiosk, topic, page, block, target, session)) WITHOUT ROWID;"
    "CREATE TABLE day_audio(day INTEGER NOT NULL, kiosk TEXT NOT NULL, topic TEXT NOT NULL,"
    " page INTEGER NOT NULL, lang TEXT NOT NULL, audience TEXT NOT NULL,"
    " plays INTEGER NOT NULL, ms_heard INTEGER NOT NULL,"
    " PRIMARY KEY(day, kiosk, topic, page, lang, audience)) WITHOUT ROWID;",
    /* 10 (issue 15): content studio
     * drafts with every saved revision (the source JSON and its path -> sha256 map of
     * files, whose bytes are blobs), the venues a staff user may edit, and the audit
     * log of who did what. */
    "CREATE TABLE drafts(id TEXT PRIMARY KEY, pack TEXT NOT NULL, venue TEXT REFERENCES"
    " venues(id), state TEXT NOT NULL DEFAULT 'draft', created_by TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, head INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    " updated_by TEXT NOT NULL);"
    "CREATE TABLE draft_revisions(draft TEXT NOT NULL REFERENCES drafts(id), number INTEGER"
    " NOT NULL, who TEXT NOT NULL, at_ms INTEGER NOT NULL, note TEXT NOT NULL,"
    " source TEXT NOT NULL, files TEXT NOT NULL, PRIMARY KEY(draft, number)) WITHOUT ROWID;"
    "CREATE TABLE user_venues(user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
    " venue TEXT NOT NULL REFERENCES venues(id), PRIMARY KEY(user, venue)) WITHOUT ROWID;"
    "CREATE TABLE audit(seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, who TEXT NOT NULL,"
    " what TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL);"
    "CREATE INDEX audit_at ON audit(at_ms);",
    /* 11: fleet operations (issue 17): tags on kiosks (assignments may name a tag), the
     * office's commands to kiosks with their results, each kiosk's latest screenshot, the
     * remote settings overlay (opening hours are a venue's "hours" key), notices and their
     * targets, the audit log, and the state a kiosk reports (open or sleeping). */
    "CREATE TABLE assignments9(target_kind TEXT NOT NULL CHECK(target_kind IN"
    " ('venue','kiosk','tag')), target TEXT NOT NULL, pack TEXT NOT NULL, version TEXT NOT NULL,"
    " updated_ms INTEGER NOT NULL, PRIMARY KEY(target_kind, target, pack));"
    "INSERT INTO assignments9 SELECT target_kind, target, pack, version, updated_ms"
    " FROM assignments;"
    "DROP TABLE assignments;"
    "ALTER TABLE assignments9 RENAME TO assignments;"
    "CREATE TABLE kiosk_tags(kiosk TEXT NOT NULL REFERENCES kiosks(id), tag TEXT NOT NULL,"
    " PRIMARY KEY(kiosk, tag)) WITHOUT ROWID;"
    "CREATE INDEX kiosk_tags_tag ON kiosk_tags(tag);"
    "CREATE TABLE commands(id TEXT PRIMARY KEY, kiosk TEXT NOT NULL, type TEXT NOT NULL,"
    " args TEXT NOT NULL, created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, who TEXT,"
    " done_ms INTEGER, ok INTEGER, detail TEXT);"
    "CREATE INDEX commands_kiosk ON commands(kiosk, done_ms);"
    "CREATE TABLE screenshots(kiosk TEXT PRIMARY KEY, png BLOB NOT NULL,"
    " taken_ms INTEGER NOT NULL);"
    "CREATE TABLE settings(target_kind TEXT NOT NULL CHECK(target_kind IN"
    " ('venue','kiosk','tag')), target TEXT NOT NULL, skey TEXT NOT NULL, svalue TEXT NOT NULL,"
    " updated_ms INTEGER NOT NULL, PRIMARY KEY(target_kind, target, skey));"
    "CREATE TABLE notices(id TEXT PRIMARY KEY, level TEXT NOT NULL, text TEXT NOT NULL,"
    " from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, who TEXT, created_ms INTEGER NOT NULL);"
    "CREATE TABLE notice_targets(notice TEXT NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL,"
    " PRIMARY KEY(notice, kind, target));"
    "ALTER TABLE kiosk_status ADD COLUMN state TEXT;",
    /* 12 (issue 16): the review. A draft's last approval (the revision and who gave it),
     * the version reserved for it when approved (then the one it was published as), the
     * last request for changes; the audit log names a row's venue and pack, and refuses
     * every UPDATE and DELETE: it is only ever appended to. */
    "ALTER TABLE drafts ADD COLUMN approved INTEGER;"
    "ALTER TABLE drafts ADD COLUMN approved_by TEXT;"
    "ALTER TABLE drafts ADD COLUMN version TEXT;"
    "ALTER TABLE drafts ADD COLUMN comments TEXT;"
    "ALTER TABLE audit ADD COLUMN venue TEXT;"
    "ALTER TABLE audit ADD COLUMN pack TEXT;"
    "CREATE INDEX audit_who ON audit(who, at_ms);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is only appended to'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is only appended to'); END;",
    /* 13 (issue 17, alerts): the state of each kiosk's
     * alerts, kept so a restarted server neither repeats nor forgets one, and the
     * server's own small settings (alert recipients, kiosks the office watches). */
    "CREATE TABLE alerts(kiosk TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,"
    " since_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, detail TEXT NOT NULL,"
    " PRIMARY KEY(kiosk, kind));"
    "CREATE TABLE server_kv(key TEXT PRIMARY KEY, value TEXT NOT NULL,"
    " updated_ms INTEGER NOT NULL);",
    /* 14 (issue 16): dated assignments (windows), each
     * assignment's history so a rollback knows what came before, and a flag on an
     * undated assignment made by a rollback (kiosks take it although it is lower). The
     * history starts with the assignments there are. */
    "ALTER TABLE assignments ADD COLUMN rolled_back INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE assignment_windows(id INTEGER PRIMARY KEY, target_kind TEXT NOT NULL,"
    " target TEXT NOT NULL, pack TEXT NOT NULL, version TEXT NOT NULL, starts TEXT, ends TEXT,"
    " starts_ms INTEGER NOT NULL, ends_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
    " who TEXT NOT NULL);"
    "CREATE INDEX assignment_windows_target ON assignment_windows(target_kind, target, pack);"
    "CREATE TABLE assignment_history(seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL,"
    " who TEXT NOT NULL, target_kind TEXT NOT NULL, target TEXT NOT NULL, pack TEXT NOT NULL,"
    " version TEXT NOT NULL, window_id INTEGER, undone INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX assignment_history_target ON assignment_history(target_kind, target, pack);"
    "INSERT INTO assignment_history(at_ms, who, target_kind, target, pack, version)"
    " SELECT updated_ms, '', target_kind, target, pack, version FROM assignments"
    " ORDER BY updated_ms;",
    /* 15 (issue 16): a user holds a set of roles, the text ROLES_CHECK allows; the office
     * users there were also become admin (they managed users and keys until now). SQLite
     * changes a CHECK only by copying the table, and dropping users would take user_venues'
     * rows with it (ON DELETE CASCADE), so those are kept aside meanwhile. */
    "CREATE TEMP TABLE user_venues15 AS SELECT * FROM user_venues;"
    "CREATE TABLE users15(name TEXT PRIMARY KEY, role TEXT NOT NULL CHECK(role IN " SRV_ROLES_CHECK
    "), password_hash TEXT NOT NULL, token_hash TEXT UNIQUE, created_ms INTEGER NOT NULL);"
    "INSERT INTO users15 SELECT name, CASE role WHEN 'office' THEN 'office,admin' ELSE role END,"
    " password_hash, token_hash, created_ms FROM users;"
    "DROP TABLE users;"
    "ALTER TABLE users15 RENAME TO users;"
    "INSERT OR IGNORE INTO user_venues SELECT * FROM user_venues15;"
    "DROP TABLE user_venues15;",
};
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

enum {
    ST_EV_INSERT,
    ST_ROLL_HOUR,
    ST_ROLL_TOPIC,
    ST_ROLL_PAGE,
    ST_ROLL_AUDIENCE,
    ST_ROLL_QUESTION,
    ST_DAY_TYPE,
    ST_DAY_TOPIC,
    ST_DAY_PAGE,
    ST_DAY_AUDIENCE,
    ST_DAY_QUESTION,
    ST_DAY_KIOSK,
    ST_DAY_QUIZ,
    ST_DAY_INTERACT,
    ST_DAY_BLOCK_VISIT,
    ST_DAY_TARGET_VISIT,
    ST_DAY_AUDIO,
    ST_COUNT_EVENTS,
    ST_COUNT_FLAGGED,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_N
};

static const char *const hot_sql[ST_N] = {
    [ST_EV_INSERT] = "INSERT OR IGNORE INTO events(id, kiosk, ts, type, received_ms, body,"
                     " clock_flag) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* The rollups add a batch's totals per key (see struct srv_roll_key): the count (n, views,
     * sessions, total) and, where there is one, the sum (dwell_ms, correct). */
    [ST_ROLL_HOUR] = "INSERT INTO roll_hour(type, hour, kiosk, n) VALUES(?1, ?2, ?3, ?4)"
                     " ON CONFLICT DO UPDATE SET n = n + excluded.n",
    [ST_ROLL_TOPIC] = "INSERT INTO roll_topic(hour, kiosk, topic, views, dwell_ms)"
                      " VALUES(?1, ?2, ?3, ?4, ?5)"
                      " ON CONFLICT DO UPDATE SET views = views + excluded.views,"
                      " dwell_ms = dwell_ms + excluded.dwell_ms",
    [ST_ROLL_PAGE] = "INSERT INTO roll_page(hour, kiosk, topic, page, views, dwell_ms)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
                     " ON CONFLICT DO UPDATE SET views = views + excluded.views,"
                     " dwell_ms = dwell_ms + excluded.dwell_ms",
    [ST_ROLL_AUDIENCE] = "INSERT INTO roll_audience(hour, kiosk, audience, sessions)"
                         " VALUES(?1, ?2, ?3, ?4)"
                         " ON CONFLICT DO UPDATE SET sessions = sessions + excluded.sessions",
    [ST_ROLL_QUESTION] = "INSERT INTO roll_question(hour, kiosk, topic, question, audience,"
                         " correct, total) VALUES(?1, ?2, ?3, ?4, ?5, ?7, ?6)"
                         " ON CONFLICT DO UPDATE SET correct = correct + excluded.correct,"
                         " total = total + excluded.total",
    [ST_DAY_TYPE] = "INSERT INTO day_type(day, type, n) VALUES(?1, ?2, ?3)"
                    " ON CONFLICT DO UPDATE SET n = n + excluded.n",
    [ST_DAY_TOPIC] = "INSERT INTO day_topic(day, topic, views, dwell_ms) VALUES(?1, ?2, ?3, ?4)"
                     " ON CONFLICT DO UPDATE SET views = views + excluded.views,"
                     " dwell_ms = dwell_ms + excluded.dwell_ms",
    [ST_DAY_PAGE] = "INSERT INTO day_page(day, topic, page, views, dwell_ms)"
                    " VALUES(?1, ?2, ?3, ?4, ?5)"
                    " ON CONFLICT DO UPDATE SET views = views + excluded.views,"
                    " dwell_ms = dwell_ms + excluded.dwell_ms",
    [ST_DAY_AUDIENCE] = "INSERT INTO day_audience(day, audience, sessions) VALUES(?1, ?2, ?3)"
                        " ON CONFLICT DO UPDATE SET sessions = sessions + excluded.sessions",
    [ST_DAY_QUESTION] = "INSERT INTO day_question(day, topic, question, audience, correct, total)"
                        " VALUES(?1, ?2, ?3, ?4, ?6, ?5)"
                        " ON CONFLICT DO UPDATE SET correct = correct + excluded.correct,"
                        " total = total + excluded.total",
    [ST_DAY_KIOSK] = "INSERT INTO day_kiosk(day, kiosk, sessions) VALUES(?1, ?2, ?3)"
                     " ON CONFLICT DO UPDATE SET sessions = sessions + excluded.sessions",
    [ST_DAY_QUIZ] = "INSERT INTO day_quiz(day, audience, correct, total) VALUES(?1, ?2, ?4, ?3)"
                    " ON CONFLICT DO UPDATE SET correct = correct + excluded.correct,"
                    " total = total + excluded.total",
    [ST_DAY_INTERACT] = "INSERT INTO day_interact(day, kiosk, topic, page, block, action, target,"
                        " n) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                        " ON CONFLICT DO UPDATE SET n = n + excluded.n",
    [ST_DAY_BLOCK_VISIT] = "INSERT INTO day_block_visit(day, kiosk, topic, page, block, session,"
                           " n) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                           " ON CONFLICT DO UPDATE SET n = n + excluded.n",
    [ST_DAY_TARGET_VISIT] = "INSERT INTO day_target_visit(day, kiosk, topic, page, block, target,"
                            " session, n) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                            " ON CONFLICT DO UPDATE SET n = n + excluded.n",
    [ST_DAY_AUDIO] = "INSERT INTO day_audio(day, kiosk, topic, page, lang, audience, plays,"
                     " ms_heard) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                     " ON CONFLICT DO UPDATE SET plays = plays + excluded.plays,"
                     " ms_heard = ms_heard + excluded.ms_heard",
    [ST_COUNT_EVENTS] = "INSERT INTO counters(name, n) VALUES('events', ?1)"
                        " ON CONFLICT DO UPDATE SET n = n + excluded.n",
    [ST_COUNT_FLAGGED] = "INSERT INTO counters(name, n) VALUES('events_clock_flagged', ?1)"
                         " ON CONFLICT DO UPDATE SET n = n + excluded.n",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

struct sq_store {
    struct srv_store base;
    char *path;
    pthread_mutex_t wlock; /* guards w and st */
    sqlite3 *w;
    sqlite3_stmt *st[ST_N];
    pthread_mutex_t rlock; /* guards readers */
    sqlite3 *readers[MAX_READERS];
    size_t nreaders;
};

static enum kk_err db_fail(struct kk_buf *err, sqlite3 *db, const char *what)
{
    int code = sqlite3_extended_errcode(db);
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        return kk_fail(err, KK_ERR_BUSY, "%s: database is busy", what);
    return kk_fail(err, KK_ERR_DB, "%s: %s", what, sqlite3_errmsg(db));
}

static enum kk_err conn_open(const char *path, sqlite3 **out, struct kk_buf *err)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(
        path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        enum kk_err e =
            kk_fail(err, KK_ERR_DB, "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return e;
    }
    sqlite3_busy_timeout(db, BUSY_MS);
    sqlite3_extended_result_codes(db, 1);
    char *msg = NULL;
    rc = sqlite3_exec(db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                      " PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;",
                      NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        enum kk_err e = kk_fail(err, KK_ERR_DB, "%s: %s", path, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        sqlite3_close(db);
        return e;
    }
    *out = db;
    return KK_OK;
}

/* Binds ?1..?n from types: 't' const char * (NULL binds NULL), 'i' int64_t, 'b' const
 * void * then size_t. The strings must outlive the statement's next step. */
static int bind_va(sqlite3_stmt *st, const char *types, va_list ap)
{
    int rc = SQLITE_OK;
    for (int i = 1; types && *types && rc == SQLITE_OK; types++, i++) {
        switch (*types) {
        case 't': {
            const char *s = va_arg(ap, const char *);
            rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
            break;
        }
        case 'i':
            rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
            break;
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t n = va_arg(ap, size_t);
            rc = sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC);
            break;
        }
        default:
            KK_BUG("bind type %c", *types);
        }
    }
    return rc;
}

/* Prepares sql and binds its parameters (see bind_va). On failure nothing is left to
 * finalize. */
static enum kk_err prepare_va(sqlite3 *db, sqlite3_stmt **st, struct kk_buf *err, const char *sql,
                              const char *types, va_list ap)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return db_fail(err, db, "prepare");
    }
    if (bind_va(*st, types, ap) != SQLITE_OK) {
        enum kk_err rc = db_fail(err, db, "bind");
        sqlite3_finalize(*st);
        *st = NULL;
        return rc;
    }
    return KK_OK;
}

/* Runs one statement that returns no rows. */
static enum kk_err run(sqlite3 *db, struct kk_buf *err, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    va_start(ap, types);
    enum kk_err rc = prepare_va(db, &st, err, sql, types, ap);
    va_end(ap);
    if (rc)
        return rc;
    int src = sqlite3_step(st);
    if ((src & 0xff) == SQLITE_CONSTRAINT)
        rc = KK_ERR_EXISTS; /* the caller names what exists */
    else if (src != SQLITE_DONE && src != SQLITE_ROW)
        rc = db_fail(err, db, "write");
    sqlite3_finalize(st);
    return rc;
}

/* Steps st to the end, appending every row to out (already initialised with its columns). */
static enum kk_err collect_rows(sqlite3 *db, sqlite3_stmt *st, struct srv_table *out,
                                struct kk_buf *err)
{
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        struct srv_cell *row = srv_table_add_row(out);
        if (!row)
            return kk_fail(err, KK_ERR_NOMEM, "query: out of memory");
        int n = sqlite3_column_count(st);
        for (int i = 0; i < n && (size_t)i < out->ncolumns; i++) {
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER:
                row[i].kind = SRV_CELL_INT;
                row[i].i = sqlite3_column_int64(st, i);
                break;
            case SQLITE_FLOAT:
                row[i].kind = SRV_CELL_REAL;
                row[i].r = sqlite3_column_double(st, i);
                break;
            case SQLITE_NULL:
                break;
            default:
                if (srv_cell_set_text(&row[i], (const char *)sqlite3_column_text(st, i)))
                    return kk_fail(err, KK_ERR_NOMEM, "query: out of memory");
            }
        }
    }
    return src == SQLITE_DONE ? KK_OK : db_fail(err, db, "query");
}

/* Runs a query and appends every row to out (already initialised with its columns). */
static enum kk_err query_table(sqlite3 *db, struct srv_table *out, struct kk_buf *err,
                               const char *sql, const char *types, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    va_start(ap, types);
    enum kk_err rc = prepare_va(db, &st, err, sql, types, ap);
    va_end(ap);
    if (rc)
        return rc;
    rc = collect_rows(db, st, out, err);
    sqlite3_finalize(st);
    return rc;
}

/* Reads one text column of the first row into out; KK_ERR_NOTFOUND when no row. */
static enum kk_err query_text(sqlite3 *db, struct kk_buf *out, struct kk_buf *err, const char *sql,
                              const char *types, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    va_start(ap, types);
    enum kk_err rc = prepare_va(db, &st, err, sql, types, ap);
    va_end(ap);
    if (rc)
        return rc;
    int src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = KK_ERR_NOTFOUND;
    } else if (src != SQLITE_ROW) {
        rc = db_fail(err, db, "query");
    } else if (out) {
        const void *p = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        kk_buf_reset(out);
        if (n > 0 && kk_buf_add(out, p, (size_t)n))
            rc = kk_fail(err, KK_ERR_NOMEM, "query: out of memory");
    }
    sqlite3_finalize(st);
    return rc;
}

static sqlite3 *reader_get(struct sq_store *s, struct kk_buf *err)
{
    sqlite3 *db = NULL;
    pthread_mutex_lock(&s->rlock);
    if (s->nreaders)
        db = s->readers[--s->nreaders];
    pthread_mutex_unlock(&s->rlock);
    if (!db && conn_open(s->path, &db, err))
        return NULL;
    return db;
}

static void reader_put(struct sq_store *s, sqlite3 *db)
{
    pthread_mutex_lock(&s->rlock);
    if (s->nreaders < MAX_READERS) {
        s->readers[s->nreaders++] = db;
        db = NULL;
    }
    pthread_mutex_unlock(&s->rlock);
    sqlite3_close(db);
}

static enum kk_err migrate(sqlite3 *db, const char *path, struct kk_buf *err)
{
    struct kk_buf v = KK_BUF_INIT;
    enum kk_err rc = query_text(db, &v, err, "PRAGMA user_version", NULL);
    long version = 0;
    if (rc)
        goto done;
    if (kk_parse_long(kk_buf_str(&v), 0, 1000000, &version) < 0) {
        rc = kk_fail(err, KK_ERR_DB, "%s: unreadable schema version", path);
        goto done;
    }
    if ((size_t)version > NMIGRATIONS) {
        rc = kk_fail(err, KK_ERR_DB,
                     "%s: schema version %ld is newer than this kepu-server knows (%zu)", path,
                     version, NMIGRATIONS);
        goto done;
    }
    for (size_t i = (size_t)version; i < NMIGRATIONS; i++) {
        char *msg = NULL;
        char setv[64];
        snprintf(setv, sizeof(setv), "PRAGMA user_version=%zu;", i + 1);
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, migrations[i], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, setv, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            rc = kk_fail(err, KK_ERR_DB, "%s: migration to schema %zu: %s", path, i + 1,
                         msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            goto done;
        }
    }
done:
    kk_buf_release(&v);
    return rc;
}

static void sq_close(struct srv_store *base)
{
    struct sq_store *s = (struct sq_store *)base;
    for (int i = 0; i < ST_N; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->w);
    for (size_t i = 0; i < s->nreaders; i++)
        sqlite3_close(s->readers[i]);
    pthread_mutex_destroy(&s->wlock);
    pthread_mutex_destroy(&s->rlock);
    kk_free(s->path);
    kk_free(s->base.data_dir);
    kk_free(s);
}

/* --- administration ------------------------------------------------------------------ */

static enum kk_err sq_venue_add(struct srv_store *base, const char *id, const char *name,
                                struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err, "INSERT INTO venues(id, name, created_ms) VALUES(?1, ?2, ?3)",
                         "tti", id, name, (int64_t)kk_clock_wall_ms());
    pthread_mutex_unlock(&s->wlock);
    if (rc == KK_ERR_EXISTS)
        return kk_fail(err, rc, "venue %s already exists", id);
    return rc;
}

static enum kk_err sq_kiosk_add(struct srv_store *base, const char *id, const char *venue,
                                const char *token_hash, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = query_text(s->w, NULL, err, "SELECT 1 FROM venues WHERE id = ?1", "t", venue);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "venue %s does not exist (add it with: venue add)", venue);
    if (!rc) {
        rc = run(s->w, err,
                 "INSERT INTO kiosks(id, venue, token_hash, created_ms) VALUES(?1, ?2, ?3, ?4)",
                 "ttti", id, venue, token_hash, (int64_t)kk_clock_wall_ms());
        if (rc == KK_ERR_EXISTS)
            rc = kk_fail(err, rc, "kiosk %s already exists", id);
    }
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static enum kk_err sq_user_add(struct srv_store *base, const char *name, const char *role,
                               const char *password_hash, const char *token_hash,
                               struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc =
        run(s->w, err,
            "INSERT INTO users(name, role, password_hash, token_hash, created_ms)"
            " VALUES(?1, ?2, ?3, ?4, ?5)",
            "tttti", name, role, password_hash, token_hash, (int64_t)kk_clock_wall_ms());
    pthread_mutex_unlock(&s->wlock);
    if (rc == KK_ERR_EXISTS)
        return kk_fail(err, rc, "user %s already exists", name);
    return rc;
}

static enum kk_err sq_assign(struct srv_store *base, const struct srv_assign *a, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    int venue = !strcmp(a->kind, "venue"), tag = !strcmp(a->kind, "tag");
    int dated = a->starts || a->ends;
    if (!venue && !tag && strcmp(a->kind, "kiosk"))
        return kk_fail(err, KK_ERR_INVALID, "assignment target must be a venue, a kiosk or a tag");
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err, "BEGIN IMMEDIATE", NULL);
    if (rc)
        goto unlock;
    /* A tag needs no kiosk yet: kiosks tagged later get the assignment. */
    rc = tag ? KK_OK
             : query_text(s->w, NULL, err,
                          venue ? "SELECT 1 FROM venues WHERE id = ?1"
                                : "SELECT 1 FROM kiosks WHERE id = ?1",
                          "t", a->target);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "%s %s does not exist", a->kind, a->target);
    if (!rc && !dated)
        rc = run(s->w, err,
                 "INSERT INTO assignments(target_kind, target, pack, version, updated_ms)"
                 " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET"
                 " version = excluded.version, updated_ms = excluded.updated_ms, rolled_back = 0",
                 "tttti", a->kind, a->target, a->pack, a->version, a->at_ms);
    if (!rc && dated)
        rc = run(s->w, err,
                 "INSERT INTO assignment_windows(target_kind, target, pack, version, starts, ends,"
                 " starts_ms, ends_ms, created_ms, who) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
                 " ?10)",
                 "ttttttiiit", a->kind, a->target, a->pack, a->version, a->starts, a->ends,
                 a->starts_ms, a->ends_ms, a->at_ms, a->who);
    if (!rc)
        rc = run(s->w, err,
                 "INSERT INTO assignment_history(at_ms, who, target_kind, target, pack, version,"
                 " window_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN ?7 THEN last_insert_rowid()"
                 " END)",
                 "ittttti", a->at_ms, a->who, a->kind, a->target, a->pack, a->version,
                 (int64_t)dated);
    if (!rc)
        rc = run(s->w, err, "COMMIT", NULL);
    if (rc)
        sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
unlock:
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static void cell_copy(const struct srv_cell *c, char *out, size_t size)
{
    snprintf(out, size, "%s", c->kind == SRV_CELL_TEXT ? c->s : "");
}

static enum kk_err sq_assign_rollback(struct srv_store *base, const char *kind, const char *target,
                                      const char *pack, const char *who, int64_t at_ms,
                                      struct srv_rollback *out, struct kk_buf *err)
{
    static const char *const cols[] = {"seq", "version", "window_id", "starts", "ends"};
    struct sq_store *s = (struct sq_store *)base;
    struct srv_table t = {0};
    struct kk_buf prev = KK_BUF_INIT;
    (void)who;
    if (srv_table_init(&t, cols, 5))
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err, "BEGIN IMMEDIATE", NULL);
    if (rc)
        goto unlock;
    rc = query_table(
        s->w, &t, err,
        "SELECT h.seq, h.version, h.window_id, w.starts, w.ends"
        " FROM assignment_history h LEFT JOIN assignment_windows w ON w.id = h.window_id"
        " WHERE h.target_kind = ?1 AND h.target = ?2 AND h.pack = ?3 AND h.undone = 0"
        " ORDER BY h.seq DESC LIMIT 1",
        "ttt", kind, target, pack);
    if (!rc && !t.nrows)
        rc = kk_fail(err, KK_ERR_NOTFOUND, "%s %s has no assignment of %s to roll back", kind,
                     target, pack);
    if (rc)
        goto end;
    const struct srv_cell *h = t.cells;
    out->window = h[2].kind == SRV_CELL_INT;
    cell_copy(&h[1], out->from, sizeof(out->from));
    cell_copy(&h[3], out->starts, sizeof(out->starts));
    cell_copy(&h[4], out->ends, sizeof(out->ends));
    rc = run(s->w, err, "UPDATE assignment_history SET undone = 1 WHERE seq = ?1", "i", h[0].i);
    if (!rc && out->window)
        rc = run(s->w, err, "DELETE FROM assignment_windows WHERE id = ?1", "i", h[2].i);
    if (!rc && !out->window) {
        rc = query_text(s->w, &prev, err,
                        "SELECT version FROM assignment_history WHERE target_kind = ?1"
                        " AND target = ?2 AND pack = ?3 AND undone = 0 AND window_id IS NULL"
                        " ORDER BY seq DESC LIMIT 1",
                        "ttt", kind, target, pack);
        if (rc == KK_ERR_NOTFOUND) {
            rc = run(s->w, err,
                     "DELETE FROM assignments WHERE target_kind = ?1 AND target = ?2 AND pack = ?3",
                     "ttt", kind, target, pack);
        } else if (!rc) {
            snprintf(out->to, sizeof(out->to), "%s", kk_buf_str(&prev));
            rc = run(s->w, err,
                     "UPDATE assignments SET version = ?4, updated_ms = ?5, rolled_back = 1"
                     " WHERE target_kind = ?1 AND target = ?2 AND pack = ?3",
                     "tttti", kind, target, pack, out->to, at_ms);
            if (!rc)
                rc = run(s->w, err,
                         "INSERT INTO assignments(target_kind, target, pack, version, updated_ms,"
                         " rolled_back) VALUES(?1, ?2, ?3, ?4, ?5, 1) ON CONFLICT DO NOTHING",
                         "tttti", kind, target, pack, out->to, at_ms);
        }
    }
end:
    if (!rc)
        rc = run(s->w, err, "COMMIT", NULL);
    if (rc)
        sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
unlock:
    pthread_mutex_unlock(&s->wlock);
    srv_table_release(&t);
    kk_buf_release(&prev);
    return rc;
}

/* --- authentication ------------------------------------------------------------------ */

static enum kk_err read_text(struct sq_store *s, struct kk_buf *out, struct kk_buf *err,
                             const char *sql, const char *arg)
{
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return KK_ERR_DB;
    enum kk_err rc = query_text(db, out, err, sql, "t", arg);
    reader_put(s, db);
    return rc;
}

static enum kk_err sq_kiosk_by_token(struct srv_store *base, const char *token_hash,
                                     struct kk_buf *kiosk, struct kk_buf *err)
{
    return read_text((struct sq_store *)base, kiosk, err,
                     "SELECT id FROM kiosks WHERE token_hash = ?1", token_hash);
}

static enum kk_err sq_staff_by_token(struct srv_store *base, const char *token_hash,
                                     struct kk_buf *user, struct kk_buf *err)
{
    return read_text((struct sq_store *)base, user, err,
                     "SELECT name FROM users WHERE token_hash = ?1"
                     " AND ',' || role || ',' LIKE '%,staff,%'",
                     token_hash);
}

static enum kk_err copy_col(sqlite3_stmt *st, int i, char *out, size_t size)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    if (!v || strlen(v) >= size)
        return KK_ERR_INVALID;
    memcpy(out, v, strlen(v) + 1);
    return KK_OK;
}

static enum kk_err sq_user_get(struct srv_store *base, const char *name, struct srv_user *out,
                               struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    sqlite3 *db = reader_get(s, err);
    sqlite3_stmt *st = NULL;
    enum kk_err rc = KK_OK;
    if (!db)
        return KK_ERR_DB;
    if (sqlite3_prepare_v2(db, "SELECT name, role, password_hash FROM users WHERE name = ?1", -1,
                           &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
        rc = db_fail(err, db, "user");
        goto done;
    }
    int src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = KK_ERR_NOTFOUND;
    } else if (src != SQLITE_ROW) {
        rc = db_fail(err, db, "user");
    } else if (copy_col(st, 0, out->name, sizeof(out->name)) ||
               copy_col(st, 1, out->role, sizeof(out->role)) ||
               copy_col(st, 2, out->password_hash, sizeof(out->password_hash))) {
        rc = kk_fail(err, KK_ERR_DB, "user %s: damaged record", name);
    }
done:
    sqlite3_finalize(st);
    reader_put(s, db);
    return rc;
}

static enum kk_err sq_session_add(struct srv_store *base, const char *id_hash, const char *user,
                                  const char *csrf, int64_t expires_ms, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err, "DELETE FROM sessions WHERE expires_ms < ?1", "i",
                         (int64_t)kk_clock_wall_ms());
    if (!rc)
        rc = run(s->w, err,
                 "INSERT INTO sessions(id_hash, user, csrf, expires_ms) VALUES(?1, ?2, ?3, ?4)",
                 "ttti", id_hash, user, csrf, expires_ms);
    pthread_mutex_unlock(&s->wlock);
    if (rc == KK_ERR_EXISTS)
        return kk_fail(err, KK_ERR_DB, "session id collision");
    return rc;
}

static enum kk_err sq_session_get(struct srv_store *base, const char *id_hash, int64_t now,
                                  struct kk_buf *user, struct kk_buf *csrf, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return KK_ERR_DB;
    enum kk_err rc = query_text(db, user, err,
                                "SELECT user FROM sessions WHERE id_hash = ?1 AND expires_ms > ?2",
                                "ti", id_hash, now);
    if (!rc)
        rc = query_text(db, csrf, err,
                        "SELECT csrf FROM sessions WHERE id_hash = ?1 AND expires_ms > ?2", "ti",
                        id_hash, now);
    reader_put(s, db);
    return rc;
}

static enum kk_err sq_session_delete(struct srv_store *base, const char *id_hash,
                                     struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err, "DELETE FROM sessions WHERE id_hash = ?1", "t", id_hash);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

/* --- ingest ---------------------------------------------------------------------------- */

/* Steps a prepared hot statement once after binding; resets it either way. */
static int step_hot(sqlite3_stmt *st, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int rc = bind_va(st, types, ap);
    va_end(ap);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Stores one event; counts it into the rollups only when it was new. */
static int add_one(struct sq_store *s, struct srv_rollups *r, const struct srv_event *e,
                   int64_t received, unsigned char *inserted)
{
    int rc = step_hot(s->st[ST_EV_INSERT], "ttititi", e->id, e->kiosk, e->ts, e->type, received,
                      e->body, (int64_t)e->clock_flag);
    *inserted = rc == SQLITE_OK && sqlite3_changes(s->w) == 1;
    if (rc != SQLITE_OK || !*inserted || e->clock_flag)
        return rc;
    srv_rollups_event(r, e);
    return rc;
}

/* Applies one summed key with its statement's parameters in order. */
static int roll_apply(struct sq_store *s, const struct srv_roll_key *k)
{
    static const int stmt[SRV_ROLL_N] = {
        [SRV_ROLL_HOUR] = ST_ROLL_HOUR,
        [SRV_ROLL_TOPIC] = ST_ROLL_TOPIC,
        [SRV_ROLL_PAGE] = ST_ROLL_PAGE,
        [SRV_ROLL_AUDIENCE] = ST_ROLL_AUDIENCE,
        [SRV_ROLL_QUESTION] = ST_ROLL_QUESTION,
        [SRV_DAY_KIOSK] = ST_DAY_KIOSK,
        [SRV_DAY_TYPE] = ST_DAY_TYPE,
        [SRV_DAY_TOPIC] = ST_DAY_TOPIC,
        [SRV_DAY_PAGE] = ST_DAY_PAGE,
        [SRV_DAY_AUDIENCE] = ST_DAY_AUDIENCE,
        [SRV_DAY_QUESTION] = ST_DAY_QUESTION,
        [SRV_DAY_QUIZ] = ST_DAY_QUIZ,
        [SRV_DAY_INTERACT] = ST_DAY_INTERACT,
        [SRV_DAY_BLOCK_VISIT] = ST_DAY_BLOCK_VISIT,
        [SRV_DAY_TARGET_VISIT] = ST_DAY_TARGET_VISIT,
        [SRV_DAY_AUDIO] = ST_DAY_AUDIO,
    };
    sqlite3_stmt *st = s->st[stmt[k->table]];
    switch (k->table) {
    case SRV_ROLL_HOUR: /* type, hour, kiosk, n */
        return step_hot(st, "titi", k->s[0], k->when, k->s[1], k->count);
    case SRV_DAY_TYPE:     /* day, type, n */
    case SRV_DAY_KIOSK:    /* day, kiosk, sessions */
    case SRV_DAY_AUDIENCE: /* day, audience, sessions */
        return step_hot(st, "iti", k->when, k->s[0], k->count);
    case SRV_ROLL_TOPIC: /* hour, kiosk, topic, views, dwell_ms */
        return step_hot(st, "ittii", k->when, k->s[0], k->s[1], k->count, k->sum);
    case SRV_DAY_TOPIC: /* day, topic, views, dwell_ms */
    case SRV_DAY_QUIZ:  /* day, audience, total, correct */
        return step_hot(st, "itii", k->when, k->s[0], k->count, k->sum);
    case SRV_ROLL_PAGE: /* hour, kiosk, topic, page, views, dwell_ms */
        return step_hot(st, "ittiii", k->when, k->s[0], k->s[1], k->page, k->count, k->sum);
    case SRV_DAY_PAGE: /* day, topic, page, views, dwell_ms */
        return step_hot(st, "itiii", k->when, k->s[0], k->page, k->count, k->sum);
    case SRV_ROLL_AUDIENCE: /* hour, kiosk, audience, sessions */
        return step_hot(st, "itti", k->when, k->s[0], k->s[1], k->count);
    case SRV_ROLL_QUESTION: /* hour, kiosk, topic, question, audience, total, correct */
        return step_hot(st, "ittttii", k->when, k->s[0], k->s[1], k->s[2], k->s[3], k->count,
                        k->sum);
    case SRV_DAY_QUESTION: /* day, topic, question, audience, total, correct */
        return step_hot(st, "itttii", k->when, k->s[0], k->s[1], k->s[2], k->count, k->sum);
    case SRV_DAY_INTERACT:     /* day, kiosk, topic, page, block, action, target, n */
    case SRV_DAY_TARGET_VISIT: /* day, kiosk, topic, page, block, target, session, n */
        return step_hot(st, "ittittti", k->when, k->s[0], k->s[1], k->page, k->s[2], k->s[3],
                        k->s[4], k->count);
    case SRV_DAY_BLOCK_VISIT: /* day, kiosk, topic, page, block, session, n */
        return step_hot(st, "ittitti", k->when, k->s[0], k->s[1], k->page, k->s[2], k->s[3],
                        k->count);
    case SRV_DAY_AUDIO: /* day, kiosk, topic, page, lang, audience, plays, ms_heard */
        return step_hot(st, "ittittii", k->when, k->s[0], k->s[1], k->page, k->s[2], k->s[3],
                        k->count, k->sum);
    case SRV_ROLL_N:
        break;
    }
    KK_BUG("rollup table %d", (int)k->table);
}

static enum kk_err sq_events_add(struct srv_store *base, const struct srv_event *ev, size_t n,
                                 unsigned char *inserted, int64_t received, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    enum kk_err rc = KK_OK;
    int64_t added = 0, flagged = 0;
    struct srv_rollups r;
    if (srv_rollups_init(&r, n)) {
        srv_rollups_release(&r);
        memset(inserted, 0, n);
        return kk_fail(err, KK_ERR_NOMEM, "events: out of memory");
    }
    pthread_mutex_lock(&s->wlock);
    if (step_hot(s->st[ST_BEGIN], NULL) != SQLITE_OK) {
        rc = db_fail(err, s->w, "events: begin");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (add_one(s, &r, &ev[i], received, &inserted[i]) != SQLITE_OK) {
            rc = db_fail(err, s->w, "events: insert");
            step_hot(s->st[ST_ROLLBACK], NULL);
            goto done;
        }
        added += inserted[i];
        flagged += inserted[i] && ev[i].clock_flag;
    }
    for (size_t i = 0; i < r.n; i++) {
        if (roll_apply(s, &r.keys[i]) != SQLITE_OK) {
            rc = db_fail(err, s->w, "events: rollups");
            step_hot(s->st[ST_ROLLBACK], NULL);
            goto done;
        }
    }
    if ((added && step_hot(s->st[ST_COUNT_EVENTS], "i", added) != SQLITE_OK) ||
        (flagged && step_hot(s->st[ST_COUNT_FLAGGED], "i", flagged) != SQLITE_OK) ||
        step_hot(s->st[ST_COMMIT], NULL) != SQLITE_OK) {
        rc = db_fail(err, s->w, "events: commit");
        step_hot(s->st[ST_ROLLBACK], NULL);
    }
done:
    if (rc)
        memset(inserted, 0, n);
    pthread_mutex_unlock(&s->wlock);
    srv_rollups_release(&r);
    return rc;
}

static enum kk_err sq_heartbeat(struct srv_store *base, const char *kiosk,
                                const struct srv_kiosk_status *st, int64_t now, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err,
                         "INSERT OR REPLACE INTO kiosk_status(kiosk, seen_ms, app_version, packs,"
                         " queue, dropped, uptime_s, disk_free_mb, last_error, clock_offset_ms,"
                         " state)"
                         " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, CASE WHEN ?11 THEN ?10 END,"
                         " ?12)",
                         "tittiiiitiit", kiosk, now, st->app_version, st->packs, st->queue,
                         st->dropped, st->uptime_s, st->disk_free_mb, st->last_error,
                         st->clock_offset_ms, (int64_t)st->has_clock_offset, st->state);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static enum kk_err read_table(struct sq_store *s, struct srv_table *out, const char *const *cols,
                              size_t ncols, struct kk_buf *err, const char *sql, const char *types,
                              const char *a, const char *b)
{
    if (srv_table_init(out, cols, ncols))
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return KK_ERR_DB;
    enum kk_err rc = query_table(db, out, err, sql, types, a, b);
    reader_put(s, db);
    return rc;
}

/* A kiosk's assigned packs: its own assignment of a pack wins over one of its tags (the
 * latest of those), which wins over its venue's. Written once for both stores. */
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

static enum kk_err sq_kiosk_packs(struct srv_store *base, const char *kiosk, struct srv_table *out,
                                  struct kk_buf *err)
{
    static const char *const cols[] = {"id", "version", "manifest_sha256", "rollback"};
    return read_table((struct sq_store *)base, out, cols, 4, err, PACKS_OF_KIOSK("?1"), "t", kiosk,
                      NULL);
}

/* A kiosk's dated assignments ending after ?2: of its own, its tags' and its venue's, the
 * most specific level with dated ones for a pack. Written once for both stores. */
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

static enum kk_err sq_kiosk_windows(struct srv_store *base, const char *kiosk, int64_t since_ms,
                                    struct srv_table *out, struct kk_buf *err)
{
    static const char *const cols[] = {"id", "version", "manifest_sha256", "starts", "ends"};
    struct sq_store *s = (struct sq_store *)base;
    if (srv_table_init(out, cols, 5))
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return KK_ERR_DB;
    enum kk_err rc = query_table(db, out, err, WINDOWS_OF_KIOSK("?1", "?2"), "ti", kiosk, since_ms);
    reader_put(s, db);
    return rc;
}

/* --- stats from the rollups ------------------------------------------------------------ */

/* Every stats query takes the same numbered parameters: ?1 first hour, ?2 end hour
 * (exclusive), ?3 the day offset in seconds, ?4 venue, ?5 kiosk, ?6 topic, ?7 question,
 * ?8 audience (NULL for "all"), ?9 the time in ms since which a heartbeat means online. */
/* The venue filter is a list made once, not a join on every rollup row: rollup rows only
 * ever name kiosks that exist (events come only from kiosks with a token). */
#define VENUE_KIOSKS "(SELECT id FROM kiosks WHERE venue = ?4)"
#define KFILTER                                                                                    \
    " WHERE r.hour >= ?1 AND r.hour < ?2"                                                          \
    " AND (?4 IS NULL OR r.kiosk IN " VENUE_KIOSKS ") AND (?5 IS NULL OR r.kiosk = ?5)"
#define QFILTER                                                                                    \
    KFILTER " AND (?6 IS NULL OR r.topic = ?6) AND (?7 IS NULL OR r.question = ?7)"                \
            " AND (?8 IS NULL OR r.audience = ?8)"
/* Days are grouped by their number and turned into text once per day, not once per row. */
#define DAYNO "((r.hour * 3600 + ?3) / 86400)"
#define DAY   "date(" DAYNO " * 86400, 'unixepoch')"
#define ACC   "ROUND(CAST(SUM(r.correct) AS REAL) / SUM(r.total), 4)"
/* Sessions started in the last N hours before the end hour ?2 (the overview). */
#define SESSIONS_LAST(hours)                                                                       \
    "(SELECT COALESCE(SUM(r.n), 0) FROM roll_hour r"                                               \
    " WHERE r.type = 'session_start' AND r.hour >= ?2 - " hours " AND r.hour < ?2"                 \
    " AND (?4 IS NULL OR r.kiosk IN " VENUE_KIOSKS ") AND (?5 IS NULL OR r.kiosk = ?5))"
/* Every event type, so events per day reads roll_hour by its primary key. */
#define ALL_TYPES                                                                                  \
    "('boot', 'session_start', 'session_end', 'page_view', 'quiz_answer', 'quiz_complete',"        \
    " 'language', 'audience', 'idle_reset', 'error')"
/* Sessions per kiosk in [?1, ?2) from the day totals per kiosk, summed before any join
 * (a join per kiosk would read the range once for every kiosk). */
#define KIOSK_SESSIONS                                                                             \
    "(SELECT r.kiosk, SUM(r.sessions) AS n FROM day_kiosk r" DFILTER                               \
    " AND (?5 IS NULL OR r.kiosk = ?5) GROUP BY r.kiosk)"
#define OF_TYPE(t) "SUM(CASE WHEN r.type = '" t "' THEN r.n ELSE 0 END)"
/* The packs a kiosk is told to run: its own assignments, then its venue's for other packs
 * (the same rule as kiosk_packs). */
#define ASSIGNED                                                                                   \
    "(SELECT group_concat(a.pack || '@' || a.version, ' ') FROM assignments a"                     \
    " WHERE (a.target_kind = 'kiosk' AND a.target = k.id) OR (a.target_kind = 'venue'"             \
    " AND a.target = k.venue AND NOT EXISTS (SELECT 1 FROM assignments b"                          \
    " WHERE b.target_kind = 'kiosk' AND b.target = k.id AND b.pack = a.pack)))"

#define OVERVIEW_SQL                                                                               \
    "SELECT t.kiosks, t.online, t.kiosks - t.online, " SESSIONS_LAST("24") ", " SESSIONS_LAST(     \
        "168") ", " SESSIONS_LAST("720") " FROM (SELECT COUNT(*) AS kiosks,"                       \
                                         " COALESCE(SUM(s.seen_ms >= ?9), 0) AS online"            \
                                         " FROM kiosks k LEFT JOIN kiosk_status s"                 \
                                         " ON s.kiosk = k.id"                                      \
                                         " WHERE (?4 IS NULL OR k.venue = ?4)"                     \
                                         " AND (?5 IS NULL OR k.id = ?5)) t"
/* The same over the city-wide day totals (no venue or kiosk filter): the first and end
 * hours ?1 and ?2 are always the starts of city days. */
#define CITY_DAY  "date(r.day * 86400, 'unixepoch')"
#define FIRST_DAY "((?1 * 3600 + ?3) / 86400)"
#define END_DAY   "((?2 * 3600 + ?3) / 86400)"
#define DFILTER   " WHERE r.day >= " FIRST_DAY " AND r.day < " END_DAY
#define DQFILTER                                                                                   \
    DFILTER " AND (?6 IS NULL OR r.topic = ?6) AND (?7 IS NULL OR r.question = ?7)"                \
            " AND (?8 IS NULL OR r.audience = ?8)"
#define CITY_SESSIONS_LAST(days)                                                                   \
    "(SELECT COALESCE(SUM(r.n), 0) FROM day_type r WHERE r.type = 'session_start'"                 \
    " AND r.day >= " END_DAY " - " days " AND r.day < " END_DAY ")"
#define CITY_OVERVIEW_SQL                                                                          \
    "SELECT t.kiosks, t.online, t.kiosks - t.online, " CITY_SESSIONS_LAST(                         \
        "1") ", " CITY_SESSIONS_LAST("7") ", " CITY_SESSIONS_LAST("30") " FROM (SELECT COUNT(*)"   \
                                                                        " AS kiosks,"              \
                                                                        " COALESCE(SUM(s.seen_ms"  \
                                                                        " >= ?9), 0) AS online"    \
                                                                        " FROM kiosks k LEFT JOIN" \
                                                                        " kiosk_status s"          \
                                                                        " ON s.kiosk = k.id) t"
#define PAGES_SQL(from, filter)                                                                    \
    "SELECT r.topic, r.page, SUM(r.views),"                                                        \
    " CAST(SUM(r.dwell_ms) / SUM(r.views) AS INTEGER),"                                            \
    " ROUND(CAST(SUM(r.views) AS REAL) / MAX(SUM(r.views)) OVER t, 4),"                            \
    " ROUND(CAST(MAX(SUM(r.views) - COALESCE(LEAD(SUM(r.views)) OVER p, 0), 0)"                    \
    " AS REAL) / MAX(SUM(r.views)) OVER t, 4)"                                                     \
    " FROM " from " r" filter " AND (?6 IS NULL OR r.topic = ?6)"                                  \
    " GROUP BY r.topic, r.page"                                                                    \
    " WINDOW t AS (PARTITION BY r.topic), p AS (PARTITION BY r.topic"                              \
    " ORDER BY r.page) ORDER BY r.topic, r.page"
#define EVENTS_DAY_SQL                                                                             \
    "SELECT " DAY " AS day, SUM(r.n), " OF_TYPE("session_start") ", " OF_TYPE(                     \
        "page_view") ", " OF_TYPE("quiz_answer") " FROM roll_hour r" KFILTER                       \
                                                 " AND r.type IN " ALL_TYPES " GROUP BY " DAYNO    \
                                                 " ORDER BY " DAYNO

/* sql reads the hourly rollups per kiosk; city_sql, when there is one, gives the same
 * answer from the day totals and is used when no venue or kiosk is asked for; all_sql,
 * from the quiz totals of all topics, when no topic or question is asked for either. */
/* The block and narration rollups: per city day and kiosk, filtered by venue, kiosk and
 * topic. */
#define BFILTER                                                                                    \
    DFILTER " AND (?4 IS NULL OR r.kiosk IN " VENUE_KIOSKS ") AND (?5 IS NULL OR r.kiosk = ?5)"    \
            " AND (?6 IS NULL OR r.topic = ?6)"

struct stat_def {
    const char *sql;
    const char *cols[14];
    size_t ncols;
    const char *city_sql, *all_sql;
};

static const struct stat_def stat_defs[] = {
    [SRV_STAT_SESSIONS_DAY] = {"SELECT " DAY " AS day, SUM(r.n) FROM roll_hour r" KFILTER
                               " AND r.type = 'session_start' GROUP BY " DAYNO " ORDER BY " DAYNO,
                               {"day", "sessions"},
                               2,
                               "SELECT " CITY_DAY " AS day, SUM(r.n) FROM day_type r" DFILTER
                               " AND r.type = 'session_start' GROUP BY r.day ORDER BY r.day"},
    [SRV_STAT_SESSIONS_VENUE] = {"SELECT v.id, v.name, COALESCE(SUM(r.n), 0) FROM venues v"
                                 " LEFT JOIN kiosks k ON k.venue = v.id"
                                 " LEFT JOIN " KIOSK_SESSIONS " r ON r.kiosk = k.id"
                                 " WHERE (?4 IS NULL OR v.id = ?4) AND (?5 IS NULL OR k.id = ?5)"
                                 " GROUP BY v.id ORDER BY v.id",
                                 {"venue", "name", "sessions"},
                                 3},
    [SRV_STAT_SESSIONS_KIOSK] = {"SELECT k.id, k.venue, COALESCE(SUM(r.n), 0) FROM kiosks k"
                                 " LEFT JOIN " KIOSK_SESSIONS " r ON r.kiosk = k.id"
                                 " WHERE (?4 IS NULL OR k.venue = ?4) AND (?5 IS NULL OR k.id = ?5)"
                                 " GROUP BY k.id ORDER BY k.id",
                                 {"kiosk", "venue", "sessions"},
                                 3},
    [SRV_STAT_TOPICS] =
        {"SELECT r.topic, SUM(r.views),"
         " CAST(SUM(r.dwell_ms) / SUM(r.views) AS INTEGER) FROM roll_topic r" KFILTER
         " AND (?6 IS NULL OR r.topic = ?6) GROUP BY r.topic"
         " ORDER BY 2 DESC, 1",
         {"topic", "views", "avg_dwell_ms"},
         3,
         "SELECT r.topic, SUM(r.views), CAST(SUM(r.dwell_ms) / SUM(r.views) AS INTEGER)"
         " FROM day_topic r" DFILTER " AND (?6 IS NULL OR r.topic = ?6) GROUP BY r.topic"
         " ORDER BY 2 DESC, 1"},
    [SRV_STAT_AUDIENCES] = {"SELECT r.audience, SUM(r.sessions) FROM roll_audience r" KFILTER
                            " GROUP BY r.audience ORDER BY r.audience",
                            {"audience", "sessions"},
                            2,
                            "SELECT r.audience, SUM(r.sessions) FROM day_audience r" DFILTER
                            " GROUP BY r.audience ORDER BY r.audience"},
    [SRV_STAT_QUIZ_QUESTION] = {"SELECT r.topic, r.question, SUM(r.correct), SUM(r.total), " ACC
                                " FROM roll_question r" QFILTER
                                " GROUP BY r.topic, r.question ORDER BY r.topic, r.question",
                                {"topic", "question", "correct", "total", "accuracy"},
                                5,
                                /* per day first, in the key's order (no sort of every
                                 * row), then per question */
                                "SELECT r.topic, r.question, SUM(r.correct), SUM(r.total), " ACC
                                " FROM (SELECT r.topic, r.question, SUM(r.correct) AS correct,"
                                " SUM(r.total) AS total FROM day_question r" DQFILTER
                                " GROUP BY r.day, r.topic, r.question) r"
                                " GROUP BY r.topic, r.question ORDER BY r.topic, r.question"},
    [SRV_STAT_QUIZ_AUDIENCE] = {"SELECT r.audience, SUM(r.correct), SUM(r.total), " ACC
                                " FROM roll_question r" QFILTER
                                " GROUP BY r.audience ORDER BY r.audience",
                                {"audience", "correct", "total", "accuracy"},
                                4,
                                "SELECT r.audience, SUM(r.correct), SUM(r.total), " ACC
                                " FROM day_question r" DQFILTER
                                " GROUP BY r.audience ORDER BY r.audience",
                                "SELECT r.audience, SUM(r.correct), SUM(r.total), " ACC
                                " FROM day_quiz r" DFILTER " AND (?8 IS NULL OR r.audience = ?8)"
                                " GROUP BY r.audience ORDER BY r.audience"},
    [SRV_STAT_QUIZ_DAY] = {"SELECT " DAY " AS day, SUM(r.correct), SUM(r.total), " ACC
                           " FROM roll_question r" QFILTER " GROUP BY " DAYNO " ORDER BY " DAYNO,
                           {"day", "correct", "total", "accuracy"},
                           4,
                           "SELECT " CITY_DAY " AS day, SUM(r.correct), SUM(r.total), " ACC
                           " FROM day_question r" DQFILTER " GROUP BY r.day ORDER BY r.day",
                           "SELECT " CITY_DAY " AS day, SUM(r.correct), SUM(r.total), " ACC
                           " FROM day_quiz r" DFILTER " AND (?8 IS NULL OR r.audience = ?8)"
                           " GROUP BY r.day ORDER BY r.day"},
    [SRV_STAT_KIOSKS] = {"SELECT k.id, k.venue, s.seen_ms, s.app_version, s.packs, s.queue,"
                         " s.dropped, s.uptime_s, s.disk_free_mb, s.last_error,"
                         " COALESCE(s.seen_ms >= ?9, 0), v.name, " ASSIGNED
                         ", s.state FROM kiosks k"
                         " JOIN venues v ON v.id = k.venue"
                         " LEFT JOIN kiosk_status s ON s.kiosk = k.id"
                         " WHERE (?4 IS NULL OR k.venue = ?4) AND (?5 IS NULL OR k.id = ?5)"
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
         "SELECT " CITY_DAY " AS day, SUM(r.n), " OF_TYPE("session_start") ", " OF_TYPE(
             "page_view") ", " OF_TYPE("quiz_answer") " FROM day_type r" DFILTER
                                                      " GROUP BY r.day ORDER BY r.day"},
    [SRV_STAT_PAGES] = {PAGES_SQL("roll_page", KFILTER),
                        {"topic", "page", "views", "avg_dwell_ms", "reach", "exit_share"},
                        6,
                        PAGES_SQL("day_page", DFILTER)},
    [SRV_STAT_QUIZ_AUDIENCE_DAY] = {"SELECT " DAY " AS day, r.audience, SUM(r.correct),"
                                    " SUM(r.total), " ACC " FROM roll_question r" QFILTER
                                    " GROUP BY " DAYNO ", r.audience ORDER BY " DAYNO
                                    ", r.audience",
                                    {"day", "audience", "correct", "total", "accuracy"},
                                    5,
                                    "SELECT " CITY_DAY " AS day, r.audience, SUM(r.correct),"
                                    " SUM(r.total), " ACC " FROM day_question r" DQFILTER
                                    " GROUP BY r.day, r.audience ORDER BY r.day, r.audience",
                                    "SELECT " CITY_DAY " AS day, r.audience, SUM(r.correct),"
                                    " SUM(r.total), " ACC " FROM day_quiz r" DFILTER
                                    " AND (?8 IS NULL OR r.audience = ?8)"
                                    " GROUP BY r.day, r.audience ORDER BY r.day, r.audience"},
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
         " WHERE ends_ms > ?9) a"
         " WHERE (?4 IS NULL OR (a.target_kind = 'venue' AND a.target = ?4)"
         " OR (a.target_kind = 'kiosk' AND a.target IN"
         " (SELECT id FROM kiosks WHERE venue = ?4)))"
         " AND (?5 IS NULL OR (a.target_kind = 'kiosk' AND a.target = ?5))"
         " ORDER BY a.target_kind DESC, a.target, a.pack, a.starts IS NOT NULL, a.starts",
         {"target_kind", "target", "pack", "version", "updated_ms", "starts", "ends", "rollback"},
         8},
    [SRV_STAT_BLOCKS] = {"SELECT v.topic, v.page, v.block, v.visitors, COALESCE(u.uses, 0)"
                         " FROM (SELECT r.topic, r.page, r.block,"
                         " COUNT(DISTINCT r.session) AS visitors FROM day_block_visit r" BFILTER
                         " GROUP BY 1, 2, 3) v LEFT JOIN (SELECT r.topic, r.page, r.block,"
                         " SUM(r.n) AS uses FROM day_interact r" BFILTER " GROUP BY 1, 2, 3) u"
                         " ON u.topic = v.topic AND u.page = v.page AND u.block = v.block"
                         " ORDER BY 1, 2, 3",
                         {"topic", "page", "block", "visitors", "uses"},
                         5},
    [SRV_STAT_BLOCK_TARGETS] = {"SELECT u.topic, u.page, u.block, u.target, u.action, u.uses,"
                                " COALESCE(v.visitors, 0) FROM (SELECT r.topic, r.page, r.block,"
                                " r.target, r.action, SUM(r.n) AS uses FROM day_interact r" BFILTER
                                " GROUP BY 1, 2, 3, 4, 5) u LEFT JOIN (SELECT r.topic, r.page,"
                                " r.block, r.target, COUNT(DISTINCT r.session) AS visitors"
                                " FROM day_target_visit r" BFILTER " GROUP BY 1, 2, 3, 4) v"
                                " ON v.topic = u.topic AND v.page = u.page AND v.block = u.block"
                                " AND v.target = u.target ORDER BY 1, 2, 3, 4, 5",
                                {"topic", "page", "block", "target", "action", "uses", "visitors"},
                                7},
    [SRV_STAT_NARRATION] =
        {"SELECT r.topic, r.audience, r.lang, SUM(r.plays), SUM(r.ms_heard),"
         " CAST(SUM(r.ms_heard) / SUM(r.plays) AS INTEGER) FROM day_audio r" BFILTER
         " AND (?8 IS NULL OR r.audience = ?8)"
         " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
         {"topic", "audience", "lang", "plays", "ms_heard", "avg_ms_heard"},
         6},
};

/* Binds ?i when the query has it (queries use only the parameters they need). */
static int bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (i > sqlite3_bind_parameter_count(st))
        return SQLITE_OK;
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int bind_num(sqlite3_stmt *st, int i, int64_t v)
{
    if (i > sqlite3_bind_parameter_count(st))
        return SQLITE_OK;
    return sqlite3_bind_int64(st, i, v);
}

static enum kk_err sq_stats(struct srv_store *base, const struct srv_stats_query *q,
                            struct srv_table *out, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    if ((size_t)q->kind >= sizeof(stat_defs) / sizeof(stat_defs[0]))
        KK_BUG("stats kind %d", (int)q->kind);
    const struct stat_def *d = &stat_defs[q->kind];
    const char *sql = d->sql;
    if (d->city_sql && !q->venue && !q->kiosk)
        sql = d->all_sql && !q->topic && !q->question ? d->all_sql : d->city_sql;
    sqlite3_stmt *st = NULL;
    enum kk_err rc = KK_OK;
    if (srv_table_init(out, d->cols, d->ncols))
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return KK_ERR_DB;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = db_fail(err, db, "stats");
        goto done;
    }
    int64_t from_h = q->from_ms / 3600000, to_h = (q->to_ms + 3599999) / 3600000;
    if (bind_num(st, 1, from_h) || bind_num(st, 2, to_h) || bind_num(st, 3, SRV_DAY_OFFSET_S) ||
        bind_opt(st, 4, q->venue) || bind_opt(st, 5, q->kiosk) || bind_opt(st, 6, q->topic) ||
        bind_opt(st, 7, q->question) || bind_opt(st, 8, q->audience) ||
        bind_num(st, 9, q->now_ms - SRV_ONLINE_MS)) {
        rc = db_fail(err, db, "stats");
        goto done;
    }
    rc = collect_rows(db, st, out, err);
done:
    sqlite3_finalize(st);
    reader_put(s, db);
    return rc;
}

static enum kk_err sq_counters(struct srv_store *base, struct srv_table *out, struct kk_buf *err)
{
    static const char *const cols[] = {"name", "value"};
    return read_table((struct sq_store *)base, out, cols, 2, err,
                      "SELECT 'events_stored', COALESCE((SELECT n FROM counters"
                      " WHERE name = 'events'), 0)"
                      " UNION ALL SELECT 'events_clock_flagged', COALESCE((SELECT n FROM"
                      " counters WHERE name = 'events_clock_flagged'), 0)"
                      " UNION ALL SELECT 'venues', COUNT(*) FROM venues"
                      " UNION ALL SELECT 'kiosks', COUNT(*) FROM kiosks"
                      " UNION ALL SELECT 'packs', COUNT(*) FROM packs",
                      NULL, NULL, NULL);
}

/* --- packs ---------------------------------------------------------------------------- */

static enum kk_err sq_pack_add(struct srv_store *base, const char *id, const char *version,
                               const char *manifest_sha256, const void *manifest,
                               size_t manifest_len, const void *sig, size_t sig_len,
                               const struct srv_pack_file *files, size_t nfiles, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    struct kk_buf have = KK_BUF_INIT;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err, "BEGIN IMMEDIATE", NULL);
    if (rc)
        goto done;
    rc = query_text(s->w, &have, err,
                    "SELECT manifest_sha256 FROM packs WHERE id = ?1 AND version = ?2", "tt", id,
                    version);
    if (!rc) {
        rc = strcmp(kk_buf_str(&have), manifest_sha256)
                 ? kk_fail(err, KK_ERR_EXISTS,
                           "pack %s@%s already exists with different content; give it a new"
                           " version",
                           id, version)
                 : KK_OK; /* the same pack again: nothing to do */
        run(s->w, NULL, rc ? "ROLLBACK" : "COMMIT", NULL);
        goto done;
    }
    if (rc != KK_ERR_NOTFOUND)
        goto rollback;
    rc = run(s->w, err,
             "INSERT INTO packs(id, version, manifest_sha256, manifest, signature, uploaded_ms)"
             " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
             "tttbbi", id, version, manifest_sha256, manifest, manifest_len, sig, sig_len,
             (int64_t)kk_clock_wall_ms());
    for (size_t i = 0; !rc && i < nfiles; i++)
        rc = run(s->w, err,
                 "INSERT INTO pack_files(pack, version, path, sha256, size)"
                 " VALUES(?1, ?2, ?3, ?4, ?5)",
                 "tttti", id, version, files[i].path, files[i].sha256, files[i].size);
    if (rc == KK_ERR_EXISTS)
        rc = kk_fail(err, KK_ERR_INVALID, "pack %s@%s: a file is listed twice", id, version);
    if (!rc)
        rc = run(s->w, err, "COMMIT", NULL);
    if (!rc)
        goto done;
rollback:
    run(s->w, NULL, "ROLLBACK", NULL);
done:
    pthread_mutex_unlock(&s->wlock);
    kk_buf_release(&have);
    return rc;
}

static enum kk_err sq_pack_get(struct srv_store *base, const char *id, const char *version,
                               const char *which, struct kk_buf *out, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    int sig = !strcmp(which, "signature");
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return KK_ERR_DB;
    enum kk_err rc = query_text(db, out, err,
                                sig ? "SELECT signature FROM packs WHERE id = ?1 AND version = ?2"
                                    : "SELECT manifest FROM packs WHERE id = ?1 AND version = ?2",
                                "tt", id, version);
    reader_put(s, db);
    return rc;
}

static enum kk_err sq_ping(struct srv_store *base, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return KK_ERR_DB;
    enum kk_err rc = query_text(db, NULL, err, "SELECT 1 FROM sqlite_schema LIMIT 1", NULL);
    reader_put(s, db);
    return rc == KK_ERR_NOTFOUND ? kk_fail(err, KK_ERR_DB, "database has no schema") : rc;
}

/* --- login back-off ----------------------------------------------------------------- */

static enum kk_err sq_login_take(struct srv_store *base, const char *const *keys, size_t n,
                                 int64_t now_ms, int64_t *wait_s, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    struct srv_table t = {0};
    *wait_s = 0;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err, "BEGIN IMMEDIATE", "");
    if (rc)
        goto done;
    static const char *const cols[] = {"failures", "last_ms"};
    for (size_t i = 0; !rc && i < n; i++) {
        srv_table_release(&t);
        if (srv_table_init(&t, cols, 2)) {
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
            break;
        }
        rc =
            query_table(s->w, &t, err, "SELECT failures, last_ms FROM login_backoff WHERE key = ?1",
                        "t", keys[i]);
        if (!rc && t.nrows) {
            int64_t w = srv_backoff_wait_of((unsigned)t.cells[0].i, t.cells[1].i, now_ms);
            if (w > *wait_s)
                *wait_s = w;
        }
    }
    for (size_t i = 0; !rc && !*wait_s && i < n; i++)
        rc = run(s->w, err,
                 "INSERT INTO login_backoff(key, failures, last_ms) VALUES(?1, 1, ?2)"
                 " ON CONFLICT(key) DO UPDATE SET failures = failures + 1, last_ms = ?2",
                 "ti", keys[i], now_ms);
    if (!rc)
        rc = run(s->w, err, "DELETE FROM login_backoff WHERE last_ms < ?1", "i",
                 now_ms - (int64_t)SRV_LOGIN_FORGET_S * 1000);
    if (!rc)
        rc = run(s->w, err, "COMMIT", "");
    else
        run(s->w, NULL, "ROLLBACK", "");
done:
    pthread_mutex_unlock(&s->wlock);
    srv_table_release(&t);
    return rc;
}

static enum kk_err sq_login_clear(struct srv_store *base, const char *const *keys, size_t n,
                                  struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    enum kk_err rc = KK_OK;
    pthread_mutex_lock(&s->wlock);
    for (size_t i = 0; !rc && i < n; i++)
        rc = run(s->w, err, "DELETE FROM login_backoff WHERE key = ?1", "t", keys[i]);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

/* --- enrolment and revocation -------------------------------------------------------- */

static enum kk_err sq_enrol_add(struct srv_store *base, const char *code_hash, const char *venue,
                                const char *kiosk, int64_t expires_ms, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = query_text(s->w, NULL, err, "SELECT 1 FROM venues WHERE id = ?1", "t", venue);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "venue %s does not exist (add it with: venue add)", venue);
    if (!rc) {
        rc = query_text(s->w, NULL, err, "SELECT 1 FROM kiosks WHERE id = ?1", "t", kiosk);
        if (!rc)
            rc = kk_fail(err, KK_ERR_EXISTS, "kiosk %s already exists", kiosk);
        else if (rc == KK_ERR_NOTFOUND)
            rc = KK_OK;
    }
    if (!rc) {
        rc = run(s->w, err,
                 "INSERT INTO enrol_codes(code_hash, venue, kiosk, created_ms, expires_ms)"
                 " VALUES(?1, ?2, ?3, ?4, ?5)",
                 "tttii", code_hash, venue, kiosk, (int64_t)kk_clock_wall_ms(), expires_ms);
        if (rc == KK_ERR_EXISTS)
            rc = kk_fail(err, KK_ERR_DB, "enrolment code collision");
    }
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static enum kk_err sq_enrol_use(struct srv_store *base, const char *code_hash,
                                const char *token_hash, int64_t now_ms, struct kk_buf *kiosk,
                                struct kk_buf *venue, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    struct kk_buf used = KK_BUF_INIT;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err, "BEGIN IMMEDIATE", NULL);
    if (rc)
        goto unlock;
    rc = query_text(s->w, &used, err,
                    "SELECT CASE WHEN used_ms IS NOT NULL THEN 'used' WHEN expires_ms <= ?2"
                    " THEN 'expired' ELSE 'ok' END FROM enrol_codes WHERE code_hash = ?1",
                    "ti", code_hash, now_ms);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "unknown enrolment code");
    else if (!rc && strcmp(kk_buf_str(&used), "ok"))
        rc = kk_fail(err, KK_ERR_PERM, "this enrolment code %s",
                     !strcmp(kk_buf_str(&used), "used") ? "was already used" : "has expired");
    if (!rc)
        rc = query_text(s->w, kiosk, err, "SELECT kiosk FROM enrol_codes WHERE code_hash = ?1", "t",
                        code_hash);
    if (!rc)
        rc = query_text(s->w, venue, err, "SELECT venue FROM enrol_codes WHERE code_hash = ?1", "t",
                        code_hash);
    if (!rc)
        rc = run(s->w, err, "UPDATE enrol_codes SET used_ms = ?2 WHERE code_hash = ?1", "ti",
                 code_hash, now_ms);
    if (!rc) {
        rc = run(s->w, err,
                 "INSERT INTO kiosks(id, venue, token_hash, created_ms) VALUES(?1, ?2, ?3, ?4)",
                 "ttti", kk_buf_str(kiosk), kk_buf_str(venue), token_hash, now_ms);
        if (rc == KK_ERR_EXISTS)
            rc = kk_fail(err, rc, "kiosk %s already exists", kk_buf_str(kiosk));
    }
    if (!rc)
        rc = run(s->w, err, "COMMIT", NULL);
    if (rc)
        sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
unlock:
    pthread_mutex_unlock(&s->wlock);
    kk_buf_release(&used);
    return rc;
}

/* Runs an UPDATE or DELETE ... RETURNING 1 on the writer; KK_ERR_NOTFOUND naming what
 * when it touched no row. */
static enum kk_err change_one(struct sq_store *s, struct kk_buf *err, const char *what,
                              const char *sql, const char *types, const char *a, const char *b)
{
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = query_text(s->w, NULL, err, sql, types, a, b);
    pthread_mutex_unlock(&s->wlock);
    if (rc == KK_ERR_NOTFOUND)
        return kk_fail(err, rc, "%s %s does not exist", what, a);
    return rc;
}

static enum kk_err sq_kiosk_revoke(struct srv_store *base, const char *id, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    /* No token's SHA-256 reads "revoked:...", so no request matches the kiosk any more. */
    enum kk_err rc = query_text(s->w, NULL, err,
                                "UPDATE kiosks SET token_hash = 'revoked:' || id || ':' ||"
                                " hex(randomblob(8)), revoked_ms = ?2 WHERE id = ?1 RETURNING 1",
                                "ti", id, (int64_t)kk_clock_wall_ms());
    pthread_mutex_unlock(&s->wlock);
    if (rc == KK_ERR_NOTFOUND)
        return kk_fail(err, rc, "kiosk %s does not exist", id);
    return rc;
}

static enum kk_err sq_kiosk_rotate(struct srv_store *base, const char *id, const char *token_hash,
                                   struct kk_buf *err)
{
    return change_one((struct sq_store *)base, err, "kiosk",
                      "UPDATE kiosks SET token_hash = ?2, revoked_ms = NULL WHERE id = ?1"
                      " RETURNING 1",
                      "tt", id, token_hash);
}

static enum kk_err sq_user_remove(struct srv_store *base, const char *name, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    enum kk_err rc = change_one(s, err, "user", "DELETE FROM users WHERE name = ?1 RETURNING 1",
                                "t", name, NULL);
    if (!rc) {
        pthread_mutex_lock(&s->wlock);
        rc = run(s->w, err, "DELETE FROM sessions WHERE user = ?1", "t", name);
        pthread_mutex_unlock(&s->wlock);
    }
    return rc;
}

static enum kk_err sq_user_passwd(struct srv_store *base, const char *name,
                                  const char *password_hash, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    enum kk_err rc = change_one(s, err, "user",
                                "UPDATE users SET password_hash = ?2 WHERE name = ?1 RETURNING 1",
                                "tt", name, password_hash);
    if (!rc) {
        pthread_mutex_lock(&s->wlock);
        rc = run(s->w, err, "DELETE FROM sessions WHERE user = ?1", "t", name);
        pthread_mutex_unlock(&s->wlock);
    }
    return rc;
}

static enum kk_err sq_user_roles(struct srv_store *base, const char *name, const char *roles,
                                 const char *token_hash, struct kk_buf *old, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc =
        query_text(s->w, old, err, "SELECT role FROM users WHERE name = ?1", "t", name);
    if (!rc)
        rc = run(s->w, err,
                 "UPDATE users SET role = ?2, token_hash = CASE WHEN ?3 IS NOT NULL AND"
                 " ',' || role || ',' NOT LIKE '%,staff,%' THEN ?3 ELSE token_hash END"
                 " WHERE name = ?1",
                 "ttt", name, roles, token_hash);
    if (!rc && !strstr(roles, "office") && !strstr(roles, "admin"))
        rc = run(s->w, err, "DELETE FROM sessions WHERE user = ?1", "t", name);
    pthread_mutex_unlock(&s->wlock);
    if (rc == KK_ERR_NOTFOUND)
        return kk_fail(err, rc, "user %s does not exist", name);
    if (rc == KK_ERR_EXISTS)
        return kk_fail(err, KK_ERR_DB, "user %s: roles %s refused by the store", name, roles);
    return rc;
}

static enum kk_err sq_admin_list(struct srv_store *base, const char *what, struct srv_table *out,
                                 struct kk_buf *err)
{
    static const char *const kiosk_cols[] = {"kiosk", "venue", "created_ms", "revoked_ms"};
    static const char *const user_cols[] = {"user", "role", "created_ms"};
    int users = !strcmp(what, "users");
    return read_table((struct sq_store *)base, out, users ? user_cols : kiosk_cols, users ? 3 : 4,
                      err,
                      users ? "SELECT name, role, created_ms FROM users ORDER BY name"
                            : "SELECT id, venue, created_ms, revoked_ms FROM kiosks ORDER BY id",
                      NULL, NULL, NULL);
}

/* Rows of events looked at per delete: a range of seq (the rowid), so each batch reads only
 * its own rows and the writer lock is free between batches. */
#define PRUNE_BATCH 20000

static enum kk_err sq_events_prune(struct srv_store *base, int64_t before, int64_t *dropped,
                                   struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    struct kk_buf top = KK_BUF_INIT;
    long long last = 0;
    enum kk_err rc = KK_OK;
    *dropped = 0;
    if (before <= 0)
        return KK_OK;
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return KK_ERR_DB;
    rc = query_text(db, &top, err, "SELECT COALESCE(MAX(seq), 0) FROM events", NULL);
    reader_put(s, db);
    if (!rc)
        last = strtoll(kk_buf_str(&top), NULL, 10);
    kk_buf_release(&top);
    /* Events arrive roughly in time order, so the oldest months go first. */
    for (long long lo = 0; !rc && lo < last; lo += PRUNE_BATCH) {
        pthread_mutex_lock(&s->wlock);
        rc = run(s->w, err, "DELETE FROM events WHERE seq > ?1 AND seq <= ?2 AND ts < ?3", "iii",
                 (int64_t)lo, (int64_t)(lo + PRUNE_BATCH), before);
        if (!rc)
            *dropped += sqlite3_changes(s->w);
        pthread_mutex_unlock(&s->wlock);
    }
    if (rc == KK_ERR_EXISTS)
        rc = kk_fail(err, KK_ERR_DB, "prune: constraint failed");
    return rc;
}

/* --- content studio drafts and the audit log ------------------------------------------ */

static enum kk_err sq_draft_add(struct srv_store *base, const struct srv_draft_save *d,
                                struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err, "BEGIN IMMEDIATE", NULL);
    if (rc)
        goto unlock;
    if (d->venue) {
        rc = query_text(s->w, NULL, err, "SELECT 1 FROM venues WHERE id = ?1", "t", d->venue);
        if (rc == KK_ERR_NOTFOUND)
            rc = kk_fail(err, rc, "venue %s does not exist", d->venue);
    }
    if (!rc) {
        rc = run(s->w, err,
                 "INSERT INTO drafts(id, pack, venue, created_by, created_ms, head, updated_ms,"
                 " updated_by, state) VALUES(?1, ?2, ?3, ?4, ?5, 1, ?5, ?4, ?6)",
                 "tttti"
                 "t",
                 d->id, d->pack, d->venue, d->who, d->at_ms, d->state ? d->state : "draft");
        if (rc == KK_ERR_EXISTS)
            rc = kk_fail(err, rc, "draft %s already exists", d->id);
    }
    if (!rc)
        rc = run(s->w, err,
                 "INSERT INTO draft_revisions(draft, number, who, at_ms, note, source, files)"
                 " VALUES(?1, 1, ?2, ?3, ?4, ?5, ?6)",
                 "ttitt"
                 "t",
                 d->id, d->who, d->at_ms, d->note, d->source, d->files);
    if (!rc)
        rc = run(s->w, err, "COMMIT", NULL);
    if (rc)
        sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
unlock:
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static enum kk_err sq_draft_save(struct srv_store *base, const struct srv_draft_save *d,
                                 int64_t *number, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    struct kk_buf head = KK_BUF_INIT;
    long h = 0;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err, "BEGIN IMMEDIATE", NULL);
    if (rc)
        goto unlock;
    rc = query_text(s->w, &head, err,
                    "SELECT state FROM drafts WHERE id = ?1 AND state IN ('in_review','approved')",
                    "t", d->id);
    if (!rc)
        rc = kk_fail(err, KK_ERR_BUSY,
                     "draft %s is %s: it cannot change until an office user requests changes",
                     d->id, kk_buf_str(&head));
    else if (rc == KK_ERR_NOTFOUND)
        rc = query_text(s->w, &head, err, "SELECT head FROM drafts WHERE id = ?1", "t", d->id);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "no draft %s", d->id);
    if (!rc && kk_parse_long(kk_buf_str(&head), 1, 1L << 40, &h) < 0)
        rc = kk_fail(err, KK_ERR_DB, "draft %s: unreadable head revision", d->id);
    if (!rc && h != d->base) {
        *number = h;
        rc = kk_fail(err, KK_ERR_EXISTS, "draft %s: revision %lld is not the latest (%ld)", d->id,
                     (long long)d->base, h);
    }
    if (!rc)
        rc = run(s->w, err,
                 "INSERT INTO draft_revisions(draft, number, who, at_ms, note, source, files)"
                 " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                 "titittt", d->id, (int64_t)h + 1, d->who, d->at_ms, d->note, d->source, d->files);
    if (!rc)
        rc = run(s->w, err,
                 "UPDATE drafts SET head = ?2, updated_ms = ?3, updated_by = ?4, state = 'draft'"
                 " WHERE id = ?1",
                 "tiit", d->id, (int64_t)h + 1, d->at_ms, d->who);
    if (!rc)
        rc = run(s->w, err, "COMMIT", NULL);
    if (rc)
        sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
    else
        *number = h + 1;
unlock:
    pthread_mutex_unlock(&s->wlock);
    kk_buf_release(&head);
    return rc;
}

/* Initialises out with cols and fills it from a query on a reader. */
static enum kk_err read_rows(struct sq_store *s, struct srv_table *out, const char *const *cols,
                             size_t ncols, struct kk_buf *err, const char *sql, const char *types,
                             ...)
{
    sqlite3_stmt *st;
    va_list ap;
    if (srv_table_init(out, cols, ncols))
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return KK_ERR_DB;
    va_start(ap, types);
    enum kk_err rc = prepare_va(db, &st, err, sql, types, ap);
    va_end(ap);
    if (!rc) {
        rc = collect_rows(db, st, out, err);
        sqlite3_finalize(st);
    }
    reader_put(s, db);
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

static enum kk_err sq_draft_list(struct srv_store *base, struct srv_table *out, struct kk_buf *err)
{
    return read_rows((struct sq_store *)base, out, draft_list_cols, 13, err,
                     "SELECT id, pack, venue, state, created_by, created_ms, head, updated_ms,"
                     " updated_by, approved, approved_by, version, comments FROM drafts"
                     " ORDER BY updated_ms DESC, id",
                     NULL);
}

static enum kk_err sq_draft_get(struct srv_store *base, const char *id, int64_t number,
                                struct srv_table *out, struct kk_buf *err)
{
    enum kk_err rc = read_rows(
        (struct sq_store *)base, out, draft_get_cols, 15, err,
        "SELECT d.id, d.pack, d.venue, d.state, r.number, r.who, r.at_ms, r.note, r.source,"
        " r.files, d.head, d.approved, d.approved_by, d.version, d.comments"
        " FROM drafts d JOIN draft_revisions r ON r.draft = d.id"
        " AND r.number = CASE WHEN ?2 > 0 THEN ?2 ELSE d.head END WHERE d.id = ?1",
        "ti", id, number);
    return !rc && !out->nrows ? KK_ERR_NOTFOUND : rc;
}

static enum kk_err sq_draft_revisions(struct srv_store *base, const char *id, struct srv_table *out,
                                      struct kk_buf *err)
{
    return read_rows((struct sq_store *)base, out, draft_rev_cols, 4, err,
                     "SELECT number, who, at_ms, note FROM draft_revisions WHERE draft = ?1"
                     " ORDER BY number",
                     "t", id);
}

static enum kk_err sq_audit_add(struct srv_store *base, const struct srv_audit *a,
                                struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc =
        run(s->w, err,
            "INSERT INTO audit(at_ms, who, what, target, detail, venue, pack)"
            " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            "itttttt", a->at_ms, a->who, a->what, a->target, a->detail, a->venue, a->pack);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static enum kk_err sq_audit_list(struct srv_store *base, const struct srv_audit_query *q,
                                 struct srv_table *out, struct kk_buf *err)
{
    return read_rows((struct sq_store *)base, out, audit_cols, 7, err,
                     "SELECT at_ms, who, what, target, detail, venue, pack FROM audit"
                     " WHERE at_ms >= ?1 AND at_ms < ?2 AND (?3 IS NULL OR who = ?3)"
                     " AND (?4 IS NULL OR venue = ?4) AND (?5 IS NULL OR pack = ?5) ORDER BY seq",
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

static enum kk_err sq_draft_step(struct srv_store *base, const struct srv_draft_step *st,
                                 struct kk_buf *state, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    struct srv_table t = {0};
    static const char *const cols[] = {"state", "head", "approved"};
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = srv_table_init(&t, cols, 3) ? kk_fail(err, KK_ERR_NOMEM, "out of memory")
                                                 : run(s->w, err, "BEGIN IMMEDIATE", NULL);
    if (rc)
        goto unlock;
    rc = query_table(s->w, &t, err,
                     "SELECT state, head, COALESCE(approved, 0) FROM drafts"
                     " WHERE id = ?1",
                     "t", st->id);
    if (!rc && !t.nrows)
        rc = kk_fail(err, KK_ERR_NOTFOUND, "no draft %s", st->id);
    if (rc)
        goto rollback;
    const char *now = t.cells[0].kind == SRV_CELL_TEXT ? t.cells[0].s : "";
    int64_t head = t.cells[1].i, approved = t.cells[2].i;
    if (!state_in(now, st->from)) {
        kk_buf_reset(state);
        kk_buf_adds(state, now);
        rc = kk_fail(err, KK_ERR_BUSY, "draft %s is %s", st->id, now);
        goto rollback;
    }
    if (st->self_check) {
        rc = query_text(s->w, NULL, err,
                        "SELECT 1 FROM draft_revisions WHERE draft = ?1 AND number > ?2 AND"
                        " who = ?3 LIMIT 1",
                        "tit", st->id, approved, st->who);
        if (!rc) {
            rc = kk_fail(err, KK_ERR_PERM, "draft %s: %s saved a revision of it", st->id, st->who);
            goto rollback;
        }
        if (rc != KK_ERR_NOTFOUND)
            goto rollback;
    }
    if (st->approve > 0 && st->approve != head) {
        rc = kk_fail(err, KK_ERR_EXISTS, "draft %s: revision %lld is not the latest (%lld)", st->id,
                     (long long)st->approve, (long long)head);
        goto rollback;
    }
    rc = run(s->w, err,
             "UPDATE drafts SET state = ?2, approved = CASE WHEN ?3 > 0 THEN ?3 ELSE approved END,"
             " approved_by = CASE WHEN ?3 > 0 THEN ?4 ELSE approved_by END,"
             " version = COALESCE(?5, version), comments = COALESCE(?6, comments) WHERE id = ?1",
             "ttittt", st->id, st->to, st->approve, st->who, st->version, st->comments);
    if (!rc)
        rc = run(s->w, err, "COMMIT", NULL);
rollback:
    if (rc)
        sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
unlock:
    pthread_mutex_unlock(&s->wlock);
    srv_table_release(&t);
    return rc;
}

static enum kk_err sq_pack_versions(struct srv_store *base, const char *pack, struct srv_table *out,
                                    struct kk_buf *err)
{
    static const char *const cols[] = {"version"};
    return read_rows((struct sq_store *)base, out, cols, 1, err,
                     "SELECT version FROM packs WHERE id = ?1 UNION SELECT version FROM drafts"
                     " WHERE pack = ?1 AND version IS NOT NULL",
                     "t", pack);
}

static enum kk_err sq_user_venues(struct srv_store *base, const char *user, struct srv_table *out,
                                  struct kk_buf *err)
{
    static const char *const cols[] = {"venue"};
    return read_rows((struct sq_store *)base, out, cols, 1, err,
                     "SELECT venue FROM user_venues WHERE user = ?1 ORDER BY venue", "t", user);
}

static enum kk_err sq_user_venue_add(struct srv_store *base, const char *user, const char *venue,
                                     struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = query_text(s->w, NULL, err, "SELECT 1 FROM users WHERE name = ?1", "t", user);
    if (rc == KK_ERR_NOTFOUND)
        rc = kk_fail(err, rc, "user %s does not exist", user);
    if (!rc) {
        rc = query_text(s->w, NULL, err, "SELECT 1 FROM venues WHERE id = ?1", "t", venue);
        if (rc == KK_ERR_NOTFOUND)
            rc = kk_fail(err, rc, "venue %s does not exist", venue);
    }
    if (!rc)
        rc = run(s->w, err, "INSERT OR IGNORE INTO user_venues(user, venue) VALUES(?1, ?2)", "tt",
                 user, venue);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

/* --- fleet operations (issue 17) ------------------------------------------------------ */

/* KK_ERR_NOTFOUND naming the kiosk or venue when it does not exist (on the writer). */
static enum kk_err must_exist(struct sq_store *s, const char *kind, const char *id,
                              struct kk_buf *err)
{
    enum kk_err rc = query_text(s->w, NULL, err,
                                !strcmp(kind, "venue") ? "SELECT 1 FROM venues WHERE id = ?1"
                                                       : "SELECT 1 FROM kiosks WHERE id = ?1",
                                "t", id);
    if (rc == KK_ERR_NOTFOUND)
        return kk_fail(err, rc, "%s %s does not exist", kind, id);
    return rc;
}

static enum kk_err sq_kiosk_tag(struct srv_store *base, const char *kiosk, const char *tag, int add,
                                struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = must_exist(s, "kiosk", kiosk, err);
    if (!rc)
        rc = run(s->w, err,
                 add ? "INSERT OR IGNORE INTO kiosk_tags(kiosk, tag) VALUES(?1, ?2)"
                     : "DELETE FROM kiosk_tags WHERE kiosk = ?1 AND tag = ?2",
                 "tt", kiosk, tag);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static enum kk_err sq_targets(struct srv_store *base, const char *kind, const char *target,
                              struct srv_table *out, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    static const char *const cols[] = {"kiosk"};
    int venue = !strcmp(kind, "venue"), kiosk = !strcmp(kind, "kiosk");
    if (venue || kiosk) {
        pthread_mutex_lock(&s->wlock);
        enum kk_err rc = must_exist(s, kind, target, err);
        pthread_mutex_unlock(&s->wlock);
        if (rc)
            return rc;
    }
    const char *sql = venue   ? "SELECT id FROM kiosks WHERE venue = ?1 ORDER BY id"
                      : kiosk ? "SELECT id FROM kiosks WHERE id = ?1"
                      : !strcmp(kind, "tag")
                          ? "SELECT kiosk FROM kiosk_tags WHERE tag = ?1 ORDER BY kiosk"
                          : "SELECT id FROM kiosks WHERE ?1 IS NULL OR 1 ORDER BY id";
    return read_rows(s, out, cols, 1, err, sql, "t", target);
}

static enum kk_err sq_command_add(struct srv_store *base, const struct srv_command *c,
                                  struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = must_exist(s, "kiosk", c->kiosk, err);
    if (!rc)
        rc =
            run(s->w, err,
                "INSERT INTO commands(id, kiosk, type, args, created_ms, expires_ms, who)"
                " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                "ttttiit", c->id, c->kiosk, c->type, c->args, c->created_ms, c->expires_ms, c->who);
    pthread_mutex_unlock(&s->wlock);
    if (rc == KK_ERR_EXISTS)
        return kk_fail(err, rc, "command %s already exists", c->id);
    return rc;
}

static enum kk_err sq_commands_pending(struct srv_store *base, const char *kiosk, int64_t now,
                                       struct srv_table *out, struct kk_buf *err)
{
    static const char *const cols[] = {"id", "type", "args", "expires_ms"};
    return read_rows((struct sq_store *)base, out, cols, 4, err,
                     "SELECT id, type, args, expires_ms FROM commands WHERE kiosk = ?1"
                     " AND done_ms IS NULL AND expires_ms > ?2 ORDER BY created_ms, id",
                     "ti", kiosk, now);
}

static enum kk_err sq_command_done(struct srv_store *base, const char *kiosk, const char *id,
                                   int ok, const char *detail, int64_t now, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err,
                         "UPDATE commands SET done_ms = ?3, ok = ?4, detail = ?5"
                         " WHERE kiosk = ?1 AND id = ?2 AND done_ms IS NULL",
                         "ttiit", kiosk, id, now, (int64_t)(ok != 0), detail);
    if (!rc && sqlite3_changes(s->w) == 0)
        rc = kk_fail(err, KK_ERR_NOTFOUND, "command %s: not a waiting command of kiosk %s", id,
                     kiosk);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static enum kk_err sq_screenshot_put(struct srv_store *base, const char *kiosk, const void *png,
                                     size_t len, int64_t now, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err,
                         "INSERT OR REPLACE INTO screenshots(kiosk, png, taken_ms)"
                         " VALUES(?1, ?2, ?3)",
                         "tbi", kiosk, png, len, now);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static enum kk_err sq_screenshot_get(struct srv_store *base, const char *kiosk, struct kk_buf *png,
                                     int64_t *taken_ms, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    struct kk_buf when = KK_BUF_INIT;
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return KK_ERR_DB;
    enum kk_err rc =
        query_text(db, png, err, "SELECT png FROM screenshots WHERE kiosk = ?1", "t", kiosk);
    if (!rc)
        rc = query_text(db, &when, err,
                        "SELECT CAST(taken_ms AS TEXT) FROM screenshots WHERE kiosk = ?1", "t",
                        kiosk);
    reader_put(s, db);
    if (!rc)
        *taken_ms = strtoll(kk_buf_str(&when), NULL, 10);
    kk_buf_release(&when);
    if (rc == KK_ERR_NOTFOUND)
        return kk_fail(err, rc, "kiosk %s has sent no screenshot", kiosk);
    return rc;
}

static enum kk_err sq_fleet_list(struct srv_store *base, const char *what, const char *arg,
                                 struct srv_table *out, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
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
                         "SELECT kiosk, tag FROM kiosk_tags WHERE ?1 IS NULL OR kiosk = ?1"
                         " ORDER BY kiosk, tag",
                         "t", arg);
    if (!strcmp(what, "commands"))
        return read_rows(s, out, cmd_cols, 10, err,
                         "SELECT id, kiosk, type, args, created_ms, expires_ms, who, done_ms, ok,"
                         " detail FROM commands WHERE ?1 IS NULL OR kiosk = ?1"
                         " ORDER BY created_ms DESC, id LIMIT 200",
                         "t", arg);
    if (!strcmp(what, "settings"))
        return read_rows(s, out, set_cols, 5, err,
                         "SELECT target_kind, target, skey, svalue, updated_ms FROM settings"
                         " WHERE ?1 IS NULL OR target = ?1 ORDER BY 1, 2, 3",
                         "t", arg);
    if (!strcmp(what, "notices"))
        return read_rows(s, out, not_cols, 8, err,
                         "SELECT n.id, n.level, n.text, n.from_ms, n.to_ms,"
                         " (SELECT json_group_array(t.kind || ':' || t.target) FROM"
                         " (SELECT kind, target FROM notice_targets WHERE notice = n.id"
                         " ORDER BY kind, target) t), n.who, n.created_ms FROM notices n"
                         " WHERE ?1 IS NULL OR n.id = ?1 ORDER BY n.from_ms DESC, n.id",
                         "t", arg);
    if (!strcmp(what, "alerts"))
        return read_rows(s, out, alert_cols, 7, err,
                         "SELECT a.kiosk, a.kind, a.state, a.since_ms, a.updated_ms, a.detail,"
                         " k.venue FROM alerts a LEFT JOIN kiosks k ON k.id = a.kiosk"
                         " WHERE ?1 IS NULL OR a.kiosk = ?1 ORDER BY a.since_ms, a.kiosk, a.kind",
                         "t", arg);
    if (!strcmp(what, "kv"))
        return read_rows(s, out, kv_cols, 3, err,
                         "SELECT key, value, updated_ms FROM server_kv"
                         " WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
                         "t", arg ? arg : "");
    if (!strcmp(what, "watch"))
        return read_rows(s, out, watch_cols, 8, err,
                         "SELECT k.id, k.venue, st.seen_ms, st.state, st.packs, st.disk_free_mb,"
                         " st.last_error, st.dropped FROM kiosks k LEFT JOIN kiosk_status st"
                         " ON st.kiosk = k.id WHERE ?1 IS NULL OR k.id = ?1 ORDER BY k.id",
                         "t", arg);
    return kk_fail(err, KK_ERR_INVALID, "fleet list %s: unknown", what);
}

static enum kk_err sq_alert_step(struct srv_store *base, const char *kiosk, const char *kind,
                                 const char *from, const char *to, int64_t since_ms,
                                 const char *detail, int64_t now, int *changed, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    enum kk_err rc;
    pthread_mutex_lock(&s->wlock);
    if (!from)
        rc = run(s->w, err,
                 "INSERT INTO alerts(kiosk, kind, state, since_ms, updated_ms, detail)"
                 " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                 "tttiit", kiosk, kind, to, since_ms, now, detail ? detail : "");
    else if (!to)
        rc = run(s->w, err, "DELETE FROM alerts WHERE kiosk = ?1 AND kind = ?2 AND state = ?3",
                 "ttt", kiosk, kind, from);
    else
        rc = run(s->w, err,
                 "UPDATE alerts SET state = ?4, updated_ms = ?5, detail = COALESCE(?6, detail)"
                 " WHERE kiosk = ?1 AND kind = ?2 AND state = ?3",
                 "ttttit", kiosk, kind, from, to, now, detail);
    if (!rc)
        *changed = sqlite3_changes(s->w) > 0;
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static enum kk_err sq_kv_set(struct srv_store *base, const char *key, const char *value,
                             int64_t now, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = value ? run(s->w, err,
                                 "INSERT INTO server_kv(key, value, updated_ms) VALUES(?1, ?2, ?3)"
                                 " ON CONFLICT DO UPDATE SET value = excluded.value,"
                                 " updated_ms = excluded.updated_ms",
                                 "tti", key, value, now)
                           : run(s->w, err, "DELETE FROM server_kv WHERE key = ?1", "t", key);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static enum kk_err sq_setting_set(struct srv_store *base, const char *kind, const char *target,
                                  const char *key, const char *value, int64_t now,
                                  struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = strcmp(kind, "tag") ? must_exist(s, kind, target, err) : KK_OK;
    if (!rc && value)
        rc = run(s->w, err,
                 "INSERT INTO settings(target_kind, target, skey, svalue, updated_ms)"
                 " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET svalue = excluded.svalue,"
                 " updated_ms = excluded.updated_ms",
                 "tttti", kind, target, key, value, now);
    else if (!rc)
        rc = run(s->w, err,
                 "DELETE FROM settings WHERE target_kind = ?1 AND target = ?2 AND skey = ?3", "ttt",
                 kind, target, key);
    pthread_mutex_unlock(&s->wlock);
    if (rc == KK_ERR_EXISTS)
        return kk_fail(err, KK_ERR_INVALID, "settings: %s is not a venue, tag or kiosk", kind);
    return rc;
}

#define KIOSK_SETTINGS_SQL(K)                                                                      \
    "SELECT target_kind, target, skey, svalue FROM settings"                                       \
    " WHERE (target_kind = 'venue' AND target = (SELECT venue FROM kiosks WHERE id = " K "))"      \
    " OR (target_kind = 'tag' AND target IN (SELECT tag FROM kiosk_tags WHERE kiosk = " K "))"     \
    " OR (target_kind = 'kiosk' AND target = " K ")"                                               \
    " ORDER BY CASE target_kind WHEN 'venue' THEN 0 WHEN 'tag' THEN 1 ELSE 2 END, target, skey"

static enum kk_err sq_kiosk_settings(struct srv_store *base, const char *kiosk,
                                     struct srv_table *out, struct kk_buf *err)
{
    static const char *const cols[] = {"target_kind", "target", "key", "value"};
    return read_rows((struct sq_store *)base, out, cols, 4, err, KIOSK_SETTINGS_SQL("?1"), "t",
                     kiosk);
}

static enum kk_err sq_notice_add(struct srv_store *base, const struct srv_notice *n,
                                 struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err, "BEGIN IMMEDIATE", NULL);
    if (!rc)
        rc = run(s->w, err,
                 "INSERT INTO notices(id, level, text, from_ms, to_ms, who, created_ms)"
                 " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                 "tttiiti", n->id, n->level, n->text, n->from_ms, n->to_ms, n->who, n->created_ms);
    if (rc == KK_ERR_EXISTS)
        rc = kk_fail(err, rc, "notice %s already exists", n->id);
    for (size_t i = 0; !rc && i < n->ntargets; i++) {
        rc = run(s->w, err,
                 "INSERT OR IGNORE INTO notice_targets(notice, kind, target) VALUES(?1, ?2, ?3)",
                 "ttt", n->id, n->kinds[i], n->targets[i]);
    }
    if (!rc)
        rc = run(s->w, err, "COMMIT", NULL);
    if (rc)
        run(s->w, NULL, "ROLLBACK", NULL);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static enum kk_err sq_notice_delete(struct srv_store *base, const char *id, struct kk_buf *err)
{
    struct sq_store *s = (struct sq_store *)base;
    pthread_mutex_lock(&s->wlock);
    enum kk_err rc = run(s->w, err, "DELETE FROM notices WHERE id = ?1", "t", id);
    if (!rc && sqlite3_changes(s->w) == 0)
        rc = kk_fail(err, KK_ERR_NOTFOUND, "notice %s does not exist", id);
    if (!rc)
        rc = run(s->w, err, "DELETE FROM notice_targets WHERE notice = ?1", "t", id);
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

#define KIOSK_NOTICES_SQL(K, NOW)                                                                  \
    "SELECT n.id, n.level, n.text, n.from_ms, n.to_ms FROM notices n WHERE n.to_ms > " NOW         \
    " AND EXISTS (SELECT 1 FROM notice_targets t WHERE t.notice = n.id AND (t.kind = 'city'"       \
    " OR (t.kind = 'venue' AND t.target = (SELECT venue FROM kiosks WHERE id = " K "))"            \
    " OR (t.kind = 'tag' AND t.target IN (SELECT tag FROM kiosk_tags WHERE kiosk = " K "))"        \
    " OR (t.kind = 'kiosk' AND t.target = " K ")))"                                                \
    " ORDER BY n.from_ms, n.id"

static enum kk_err sq_kiosk_notices(struct srv_store *base, const char *kiosk, int64_t now,
                                    struct srv_table *out, struct kk_buf *err)
{
    static const char *const cols[] = {"id", "level", "text", "from_ms", "to_ms"};
    return read_rows((struct sq_store *)base, out, cols, 5, err, KIOSK_NOTICES_SQL("?1", "?2"),
                     "ti", kiosk, now);
}

static const struct srv_store_ops sq_ops = {
    .close = sq_close,
    .venue_add = sq_venue_add,
    .kiosk_add = sq_kiosk_add,
    .user_add = sq_user_add,
    .assign = sq_assign,
    .assign_rollback = sq_assign_rollback,
    .kiosk_windows = sq_kiosk_windows,
    .kiosk_by_token = sq_kiosk_by_token,
    .staff_by_token = sq_staff_by_token,
    .user_get = sq_user_get,
    .session_add = sq_session_add,
    .session_get = sq_session_get,
    .session_delete = sq_session_delete,
    .events_add = sq_events_add,
    .heartbeat = sq_heartbeat,
    .kiosk_packs = sq_kiosk_packs,
    .stats = sq_stats,
    .counters = sq_counters,
    .pack_add = sq_pack_add,
    .pack_get = sq_pack_get,
    .ping = sq_ping,
    .login_take = sq_login_take,
    .login_clear = sq_login_clear,
    .enrol_add = sq_enrol_add,
    .enrol_use = sq_enrol_use,
    .kiosk_revoke = sq_kiosk_revoke,
    .kiosk_rotate = sq_kiosk_rotate,
    .user_remove = sq_user_remove,
    .user_passwd = sq_user_passwd,
    .user_roles = sq_user_roles,
    .admin_list = sq_admin_list,
    .events_prune = sq_events_prune,
    .kiosk_tag = sq_kiosk_tag,
    .targets = sq_targets,
    .command_add = sq_command_add,
    .commands_pending = sq_commands_pending,
    .command_done = sq_command_done,
    .screenshot_put = sq_screenshot_put,
    .screenshot_get = sq_screenshot_get,
    .fleet_list = sq_fleet_list,
    .setting_set = sq_setting_set,
    .kiosk_settings = sq_kiosk_settings,
    .notice_add = sq_notice_add,
    .notice_delete = sq_notice_delete,
    .kiosk_notices = sq_kiosk_notices,
    .alert_step = sq_alert_step,
    .kv_set = sq_kv_set,
    .audit_add = sq_audit_add,
    .audit_list = sq_audit_list,
    .draft_step = sq_draft_step,
    .pack_versions = sq_pack_versions,
    .draft_add = sq_draft_add,
    .draft_save = sq_draft_save,
    .draft_list = sq_draft_list,
    .draft_get = sq_draft_get,
    .draft_revisions = sq_draft_revisions,
    .user_venues = sq_user_venues,
    .user_venue_add = sq_user_venue_add,
};

enum kk_err srv_store_sqlite_open(struct srv_store **out, const char *data_dir, const char *db_path,
                                  struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    *out = NULL;
    struct sq_store *s = kk_calloc(1, sizeof(*s));
    if (!s)
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    s->base.ops = &sq_ops;
    pthread_mutex_init(&s->wlock, NULL);
    pthread_mutex_init(&s->rlock, NULL);
    s->base.data_dir = kk_strdup(data_dir);
    s->path = db_path ? kk_strdup(db_path) : kk_path_join(data_dir, "kepu.db");
    if (!s->base.data_dir || !s->path) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = kk_mkdirs(data_dir, 0700, err);
    if (rc)
        goto done;
    rc = conn_open(s->path, &s->w, err);
    if (rc)
        goto done;
    rc = migrate(s->w, s->path, err);
    if (rc)
        goto done;
    for (int i = 0; i < ST_N; i++) {
        if (sqlite3_prepare_v3(s->w, hot_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) !=
            SQLITE_OK) {
            rc = db_fail(err, s->w, "prepare");
            goto done;
        }
    }
done:
    if (rc)
        sq_close(&s->base);
    else
        *out = &s->base;
    return rc;
}
