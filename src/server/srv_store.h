/* The server's store: everything kepu-server keeps, behind one narrow interface so the
 * HTTP code never sees SQL. The embedded default is SQLite in WAL mode under the data
 * folder (srv_store_sqlite.c); another backend (PostgreSQL) is one more ops table.
 *
 * Every function is safe to call from several threads at once. Every function returns
 * KK_OK or an error with detail appended to err (which may be NULL). Text parameters are
 * UTF-8 and are always bound as parameters, never pasted into SQL. */
#ifndef SRV_STORE_H
#define SRV_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "srv_table.h"

/* Stats group days by this offset from UTC: the city's local time, UTC+8. */
#define SRV_DAY_OFFSET_S (8 * 3600)

/* One validated usage event, ready to store. Strings are never NULL ("" when absent). */
struct srv_event {
    const char *id;
    const char *kiosk;
    const char *type;
    const char *audience;
    const char *topic;    /* page_view, quiz_answer, quiz_complete */
    const char *question; /* quiz_answer */
    const char *session;  /* "" outside a visit */
    const char *block;    /* interact: the block's type */
    const char *action;   /* interact */
    const char *target;   /* interact: the spot, frame or step ("" for none) */
    const char *lang;     /* audio_play: the narration's language */
    const char *body;     /* the event's JSON text, stored as received (re-serialised) */
    int64_t ts;           /* ms since the epoch, kiosk clock */
    int64_t dwell_ms;     /* page_view */
    int64_t page;         /* page_view, interact, audio_play: 0 for a topic's first page */
    int64_t ms_heard;     /* audio_play */
    int correct;          /* quiz_answer: 1 right, 0 wrong */
    int clock_flag;       /* 1: ts implausible (kiosk clock wrong); stored, not in the stats */
};

/* What a kiosk says about itself in a heartbeat. */
struct srv_kiosk_status {
    const char *app_version;
    const char *packs; /* JSON array text of "id@version" */
    const char *last_error;
    int64_t queue, dropped, uptime_s, disk_free_mb;
    int has_clock_offset;    /* 0: the kiosk did not report it (stored as NULL) */
    int64_t clock_offset_ms; /* server time minus the kiosk's clock at its last heartbeat */
    const char *state;       /* "open", "sleeping" or NULL (not reported) */
};

/* One pending command for a kiosk (srv_store_command_add). */
struct srv_command {
    const char *id, *kiosk, *type, *args, *who; /* args: JSON object text */
    int64_t created_ms, expires_ms;
};

/* One notice (srv_store_notice_add); targets are n pairs of kind ("city", "venue", "tag",
 * "kiosk") and target ("" for the city). */
struct srv_notice {
    const char *id, *level, *text, *who; /* text: JSON object of languages */
    int64_t from_ms, to_ms, created_ms;
    const char *const *kinds, *const *targets;
    size_t ntargets;
};

enum srv_stat {
    SRV_STAT_SESSIONS_DAY,      /* day, sessions */
    SRV_STAT_SESSIONS_VENUE,    /* venue, name, sessions */
    SRV_STAT_SESSIONS_KIOSK,    /* kiosk, venue, sessions */
    SRV_STAT_TOPICS,            /* topic, views, avg_dwell_ms */
    SRV_STAT_AUDIENCES,         /* audience, sessions */
    SRV_STAT_QUIZ_QUESTION,     /* topic, question, correct, total, accuracy */
    SRV_STAT_QUIZ_AUDIENCE,     /* audience, correct, total, accuracy */
    SRV_STAT_QUIZ_DAY,          /* day, correct, total, accuracy */
    SRV_STAT_KIOSKS,            /* kiosk, venue, last_seen_ms, app_version, queue, ..., online */
    SRV_STAT_OVERVIEW,          /* one row: kiosks, online, offline, sessions of 1, 7, 30 days */
    SRV_STAT_EVENTS_DAY,        /* day, events, sessions, page_views, quiz_answers */
    SRV_STAT_PAGES,             /* topic, page, views, avg_dwell_ms, reach, exit_share */
    SRV_STAT_QUIZ_AUDIENCE_DAY, /* day, audience, correct, total, accuracy */
    SRV_STAT_PACKS,             /* pack, version, manifest_sha256, uploaded_ms */
    SRV_STAT_ASSIGNMENTS,       /* target_kind, target, pack, version, updated_ms */
    SRV_STAT_BLOCKS,            /* topic, page, block, visitors, uses */
    SRV_STAT_BLOCK_TARGETS,     /* topic, page, block, target, action, uses, visitors */
    SRV_STAT_NARRATION,         /* topic, audience, lang, plays, ms_heard, avg_ms_heard */
};

/* A kiosk is online while its last heartbeat is at most this old. */
#define SRV_ONLINE_MS (15LL * 60 * 1000)

/* A stats request. Times are ms since the epoch, [from_ms, to_ms). Filters are NULL for
 * "all". now_ms decides which kiosks are online; the overview's 1, 7 and 30 days end at
 * to_ms. */
struct srv_stats_query {
    enum srv_stat kind;
    int64_t from_ms, to_ms, now_ms;
    const char *venue, *kiosk, *topic, *question, *audience;
};

/* One assignment (srv_store_assign_at, issue 16). starts and ends are NULL for an
 * undated assignment, else checked "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM" texts (the kiosk's
 * local time) with starts_ms and ends_ms the same in the city's time (SRV_DAY_OFFSET_S),
 * 0 and SRV_WHEN_NEVER for a missing bound. who is the user or "cli". */
#define SRV_WHEN_NEVER 9000000000000000LL
struct srv_assign {
    const char *kind, *target, *pack, *version;
    const char *starts, *ends;
    int64_t starts_ms, ends_ms;
    const char *who;
    int64_t at_ms;
};

/* What a rollback undid (srv_store_assign_rollback): a dated assignment (window 1) of
 * version from starts to ends, removed; or the undated one, now version to ("" when no
 * earlier one exists and the target has no assignment of the pack any more). */
struct srv_rollback {
    int window;
    char from[65], to[65];
    char starts[17], ends[17];
};

/* The texts users.role may hold (srv_roles_text), for the stores' CHECK. */
#define SRV_ROLES_CHECK                                                                            \
    "('office','staff','admin','office,staff','office,admin','staff,admin',"                       \
    "'office,staff,admin')"

/* A user's record, for login. role is the set of roles as stored ("office,admin",
 * srv_roles_parse). */
struct srv_user {
    char name[65];
    char role[32];
    char password_hash[256];
};

/* One file of a pack, as listed in its manifest. */
struct srv_pack_file {
    const char *path;
    const char *sha256;
    int64_t size;
};

/* A new draft (draft_add: its revision 1) or a new revision of one (draft_save). */
struct srv_draft_save {
    const char *id;     /* the draft's id */
    const char *pack;   /* draft_add: the pack id */
    const char *venue;  /* draft_add: the venue, NULL for none */
    const char *who;    /* who saves */
    int64_t at_ms;      /* when */
    int64_t base;       /* draft_save: the revision this save was based on */
    const char *note;   /* "" for none */
    const char *source; /* the source JSON ({"pack","topics"}) */
    const char *files;  /* the path -> sha256 map as JSON */
    const char *state;  /* draft_add: the state it starts in, NULL for "draft" */
};

/* One step of a draft's review (docs/review.md), done by draft_step in one transaction. */
struct srv_draft_step {
    const char *id;       /* the draft */
    const char *from;     /* the states it may be in, '|'-separated ("draft|changes_requested") */
    const char *to;       /* the state it goes to */
    const char *who;      /* who takes the step */
    int self_check;       /* refuse (KK_ERR_PERM) when who saved a revision since the last
                             approval (or ever, without one) */
    int64_t approve;      /* > 0: the revision approved; it must still be the latest */
    const char *version;  /* not NULL: the version reserved for (or published from) it */
    const char *comments; /* not NULL: the request for changes (JSON array text) */
};

/* One row of the audit log. venue and pack may be NULL (not about one). */
struct srv_audit {
    int64_t at_ms;
    const char *who, *what, *target, *detail, *venue, *pack;
};

/* What GET /api/v1/audit asks for: [from_ms, to_ms), and who, venue, pack (NULL: any). */
struct srv_audit_query {
    int64_t from_ms, to_ms;
    const char *who, *venue, *pack;
};

struct srv_store;

struct srv_store_ops {
    void (*close)(struct srv_store *s);
    enum kk_err (*venue_add)(struct srv_store *s, const char *id, const char *name,
                             struct kk_buf *err);
    enum kk_err (*kiosk_add)(struct srv_store *s, const char *id, const char *venue,
                             const char *token_hash, struct kk_buf *err);
    enum kk_err (*user_add)(struct srv_store *s, const char *name, const char *role,
                            const char *password_hash, const char *token_hash, struct kk_buf *err);
    enum kk_err (*assign)(struct srv_store *s, const struct srv_assign *a, struct kk_buf *err);
    enum kk_err (*assign_rollback)(struct srv_store *s, const char *kind, const char *target,
                                   const char *pack, const char *who, int64_t at_ms,
                                   struct srv_rollback *out, struct kk_buf *err);
    enum kk_err (*kiosk_windows)(struct srv_store *s, const char *kiosk, int64_t since_ms,
                                 struct srv_table *out, struct kk_buf *err);
    enum kk_err (*kiosk_by_token)(struct srv_store *s, const char *token_hash, struct kk_buf *kiosk,
                                  struct kk_buf *err);
    enum kk_err (*staff_by_token)(struct srv_store *s, const char *token_hash, struct kk_buf *user,
                                  struct kk_buf *err);
    enum kk_err (*user_get)(struct srv_store *s, const char *name, struct srv_user *out,
                            struct kk_buf *err);
    enum kk_err (*session_add)(struct srv_store *s, const char *id_hash, const char *user,
                               const char *csrf, int64_t expires_ms, struct kk_buf *err);
    enum kk_err (*session_get)(struct srv_store *s, const char *id_hash, int64_t now_ms,
                               struct kk_buf *user, struct kk_buf *csrf, struct kk_buf *err);
    enum kk_err (*session_delete)(struct srv_store *s, const char *id_hash, struct kk_buf *err);
    enum kk_err (*events_add)(struct srv_store *s, const struct srv_event *ev, size_t n,
                              unsigned char *inserted, int64_t now_ms, struct kk_buf *err);
    enum kk_err (*heartbeat)(struct srv_store *s, const char *kiosk,
                             const struct srv_kiosk_status *st, int64_t now_ms, struct kk_buf *err);
    enum kk_err (*kiosk_packs)(struct srv_store *s, const char *kiosk, struct srv_table *out,
                               struct kk_buf *err);
    enum kk_err (*stats)(struct srv_store *s, const struct srv_stats_query *q,
                         struct srv_table *out, struct kk_buf *err);
    enum kk_err (*counters)(struct srv_store *s, struct srv_table *out, struct kk_buf *err);
    enum kk_err (*pack_add)(struct srv_store *s, const char *id, const char *version,
                            const char *manifest_sha256, const void *manifest, size_t manifest_len,
                            const void *sig, size_t sig_len, const struct srv_pack_file *files,
                            size_t nfiles, struct kk_buf *err);
    /* which: "manifest" or "signature"; out gets the bytes. */
    enum kk_err (*pack_get)(struct srv_store *s, const char *id, const char *version,
                            const char *which, struct kk_buf *out, struct kk_buf *err);
    enum kk_err (*ping)(struct srv_store *s, struct kk_buf *err);
    enum kk_err (*login_take)(struct srv_store *s, const char *const *keys, size_t n,
                              int64_t now_ms, int64_t *wait_s, struct kk_buf *err);
    enum kk_err (*login_clear)(struct srv_store *s, const char *const *keys, size_t n,
                               struct kk_buf *err);
    enum kk_err (*enrol_add)(struct srv_store *s, const char *code_hash, const char *venue,
                             const char *kiosk, int64_t expires_ms, struct kk_buf *err);
    enum kk_err (*enrol_use)(struct srv_store *s, const char *code_hash, const char *token_hash,
                             int64_t now_ms, struct kk_buf *kiosk, struct kk_buf *venue,
                             struct kk_buf *err);
    enum kk_err (*kiosk_revoke)(struct srv_store *s, const char *id, struct kk_buf *err);
    enum kk_err (*kiosk_rotate)(struct srv_store *s, const char *id, const char *token_hash,
                                struct kk_buf *err);
    enum kk_err (*user_remove)(struct srv_store *s, const char *name, struct kk_buf *err);
    enum kk_err (*user_passwd)(struct srv_store *s, const char *name, const char *password_hash,
                               struct kk_buf *err);
    enum kk_err (*user_roles)(struct srv_store *s, const char *name, const char *roles,
                              const char *token_hash, struct kk_buf *old, struct kk_buf *err);
    enum kk_err (*admin_list)(struct srv_store *s, const char *what, struct srv_table *out,
                              struct kk_buf *err);
    enum kk_err (*events_prune)(struct srv_store *s, int64_t before_ms, int64_t *dropped,
                                struct kk_buf *err);
    enum kk_err (*draft_add)(struct srv_store *s, const struct srv_draft_save *d,
                             struct kk_buf *err);
    enum kk_err (*draft_save)(struct srv_store *s, const struct srv_draft_save *d, int64_t *number,
                              struct kk_buf *err);
    enum kk_err (*draft_list)(struct srv_store *s, struct srv_table *out, struct kk_buf *err);
    enum kk_err (*draft_get)(struct srv_store *s, const char *id, int64_t number,
                             struct srv_table *out, struct kk_buf *err);
    enum kk_err (*draft_revisions)(struct srv_store *s, const char *id, struct srv_table *out,
                                   struct kk_buf *err);
    enum kk_err (*audit_add)(struct srv_store *s, const struct srv_audit *a, struct kk_buf *err);
    enum kk_err (*audit_list)(struct srv_store *s, const struct srv_audit_query *q,
                              struct srv_table *out, struct kk_buf *err);
    /* the review (issue 16) */
    enum kk_err (*draft_step)(struct srv_store *s, const struct srv_draft_step *st,
                              struct kk_buf *state, struct kk_buf *err);
    enum kk_err (*pack_versions)(struct srv_store *s, const char *pack, struct srv_table *out,
                                 struct kk_buf *err);
    enum kk_err (*user_venues)(struct srv_store *s, const char *user, struct srv_table *out,
                               struct kk_buf *err);
    enum kk_err (*user_venue_add)(struct srv_store *s, const char *user, const char *venue,
                                  struct kk_buf *err);
    /* fleet operations (issue 17) */
    enum kk_err (*kiosk_tag)(struct srv_store *s, const char *kiosk, const char *tag, int add,
                             struct kk_buf *err);
    enum kk_err (*targets)(struct srv_store *s, const char *kind, const char *target,
                           struct srv_table *out, struct kk_buf *err);
    enum kk_err (*command_add)(struct srv_store *s, const struct srv_command *c,
                               struct kk_buf *err);
    enum kk_err (*commands_pending)(struct srv_store *s, const char *kiosk, int64_t now_ms,
                                    struct srv_table *out, struct kk_buf *err);
    enum kk_err (*command_done)(struct srv_store *s, const char *kiosk, const char *id, int ok,
                                const char *detail, int64_t now_ms, struct kk_buf *err);
    enum kk_err (*screenshot_put)(struct srv_store *s, const char *kiosk, const void *png,
                                  size_t len, int64_t now_ms, struct kk_buf *err);
    enum kk_err (*screenshot_get)(struct srv_store *s, const char *kiosk, struct kk_buf *png,
                                  int64_t *taken_ms, struct kk_buf *err);
    enum kk_err (*fleet_list)(struct srv_store *s, const char *what, const char *arg,
                              struct srv_table *out, struct kk_buf *err);
    enum kk_err (*setting_set)(struct srv_store *s, const char *kind, const char *target,
                               const char *key, const char *value, int64_t now_ms,
                               struct kk_buf *err);
    enum kk_err (*kiosk_settings)(struct srv_store *s, const char *kiosk, struct srv_table *out,
                                  struct kk_buf *err);
    enum kk_err (*notice_add)(struct srv_store *s, const struct srv_notice *n, struct kk_buf *err);
    enum kk_err (*notice_delete)(struct srv_store *s, const char *id, struct kk_buf *err);
    enum kk_err (*kiosk_notices)(struct srv_store *s, const char *kiosk, int64_t now_ms,
                                 struct srv_table *out, struct kk_buf *err);
    /* alerts (issue 17, srv_alert.c) */
    enum kk_err (*alert_step)(struct srv_store *s, const char *kiosk, const char *kind,
                              const char *from, const char *to, int64_t since_ms,
                              const char *detail, int64_t now_ms, int *changed, struct kk_buf *err);
    enum kk_err (*kv_set)(struct srv_store *s, const char *key, const char *value, int64_t now_ms,
                          struct kk_buf *err);
};

struct srv_store {
    const struct srv_store_ops *ops;
    char *data_dir; /* owned; blobs live under data_dir/blobs */
};

/* True when s is an id the server accepts for venues, kiosks, users, packs and versions:
 * 1 to 64 characters of A-Z a-z 0-9 . _ -, not starting with a dot. */
int srv_id_valid(const char *s);

/* Parses "YYYY-MM-DD" as the start of that day in the city's time (SRV_DAY_OFFSET_S), in
 * ms since the epoch. Returns 0 on success, -1 for anything else. */
int srv_parse_day(const char *s, int64_t *ms);

/* Opens the store. db_url NULL or "" means SQLite at data_dir/kepu.db; "sqlite:PATH"
 * names another SQLite file; "postgresql://..." (or "postgres://...", libpq's connection
 * URI) the PostgreSQL store (blobs stay under data_dir). Creates data_dir (mode 0700) and applies
 * pending schema migrations. Errors: KK_ERR_IO, KK_ERR_DB, KK_ERR_INVALID (unsupported URL),
 * KK_ERR_NOMEM. Close with srv_store_close. */
enum kk_err srv_store_open(struct srv_store **out, const char *data_dir, const char *db_url,
                           struct kk_buf *err);
void srv_store_close(struct srv_store *s); /* s may be NULL */

/* The SQLite backend's constructor (used by srv_store_open). */
enum kk_err srv_store_sqlite_open(struct srv_store **out, const char *data_dir, const char *db_path,
                                  struct kk_buf *err);

/* The PostgreSQL backend's constructor (used by srv_store_open); url is libpq's URI. */
enum kk_err srv_store_pg_open(struct srv_store **out, const char *data_dir, const char *url,
                              struct kk_buf *err);

/* Administration. KK_ERR_EXISTS when the id is taken, KK_ERR_NOTFOUND when a referenced
 * venue or kiosk does not exist. */
enum kk_err srv_store_venue_add(struct srv_store *s, const char *id, const char *name,
                                struct kk_buf *err);
enum kk_err srv_store_kiosk_add(struct srv_store *s, const char *id, const char *venue,
                                const char *token_hash, struct kk_buf *err);
/* role: the set of roles as text (srv_roles_text); token_hash is NULL for a user without
 * the staff role. */
enum kk_err srv_store_user_add(struct srv_store *s, const char *name, const char *role,
                               const char *password_hash, const char *token_hash,
                               struct kk_buf *err);
/* target_kind "venue", "kiosk" or "tag". Replaces that target's earlier undated version
 * of the pack (srv_store_assign_at with no dates, by "cli" now). */
enum kk_err srv_store_assign(struct srv_store *s, const char *target_kind, const char *target,
                             const char *pack, const char *version, struct kk_buf *err);
/* Stores an assignment and a row of the assignment history, in one transaction. An
 * undated one replaces the target's undated version of the pack; a dated one is added
 * beside it (the undated one applies outside its dates). KK_ERR_NOTFOUND naming an
 * unknown venue or kiosk. */
enum kk_err srv_store_assign_at(struct srv_store *s, const struct srv_assign *a,
                                struct kk_buf *err);
/* Undoes the latest assignment of pack to the target that is not undone yet, in one
 * transaction: a dated one is removed; an undated one gives way to the undated version
 * assigned before it (marked as a rollback, so kiosks take it although it is lower), or,
 * when there was none, the target's undated assignment of the pack is removed. Repeated,
 * it walks further back. KK_ERR_NOTFOUND when there is nothing to undo. */
enum kk_err srv_store_assign_rollback(struct srv_store *s, const char *kind, const char *target,
                                      const char *pack, const char *who, int64_t at_ms,
                                      struct srv_rollback *out, struct kk_buf *err);
/* The dated assignments for kiosk that end after since_ms: id, version, manifest_sha256,
 * starts, ends (NULL for no bound), by pack and start. Of the kiosk's own, its tags' and
 * its venue's, only the most specific level that has dated ones for a pack counts. */
enum kk_err srv_store_kiosk_windows(struct srv_store *s, const char *kiosk, int64_t since_ms,
                                    struct srv_table *out, struct kk_buf *err);

/* Authentication lookups: KK_ERR_NOTFOUND when nothing matches. */
enum kk_err srv_store_kiosk_by_token(struct srv_store *s, const char *token_hash,
                                     struct kk_buf *kiosk, struct kk_buf *err);
enum kk_err srv_store_staff_by_token(struct srv_store *s, const char *token_hash,
                                     struct kk_buf *user, struct kk_buf *err);
enum kk_err srv_store_user_get(struct srv_store *s, const char *name, struct srv_user *out,
                               struct kk_buf *err);
enum kk_err srv_store_session_add(struct srv_store *s, const char *id_hash, const char *user,
                                  const char *csrf, int64_t expires_ms, struct kk_buf *err);
enum kk_err srv_store_session_get(struct srv_store *s, const char *id_hash, int64_t now_ms,
                                  struct kk_buf *user, struct kk_buf *csrf, struct kk_buf *err);
enum kk_err srv_store_session_delete(struct srv_store *s, const char *id_hash, struct kk_buf *err);

/* Stores n events in one transaction with their rollups, and returns only after COMMIT
 * reached the disk. inserted[i] is set to 1 for a new event, 0 for an id already stored.
 * An event with clock_flag is stored with the flag and now_ms as its receive time, and is
 * counted in no rollup (only in the counter events_clock_flagged). */
enum kk_err srv_store_events_add(struct srv_store *s, const struct srv_event *ev, size_t n,
                                 unsigned char *inserted, int64_t now_ms, struct kk_buf *err);
enum kk_err srv_store_heartbeat(struct srv_store *s, const char *kiosk,
                                const struct srv_kiosk_status *st, int64_t now_ms,
                                struct kk_buf *err);
/* The packs assigned to kiosk (its own assignment overrides its venue's for the same pack):
 * columns id, version, manifest_sha256 (NULL until that version is uploaded), rollback
 * (1 when that assignment came from a rollback, else 0). */
enum kk_err srv_store_kiosk_packs(struct srv_store *s, const char *kiosk, struct srv_table *out,
                                  struct kk_buf *err);
/* Fills out (initialised here; release with srv_table_release) from the rollups. */
enum kk_err srv_store_stats(struct srv_store *s, const struct srv_stats_query *q,
                            struct srv_table *out, struct kk_buf *err);
/* name, value rows for /metrics: events stored, kiosks, venues, ... */
enum kk_err srv_store_counters(struct srv_store *s, struct srv_table *out, struct kk_buf *err);
/* Records a verified pack. KK_ERR_EXISTS when that id and version exist with another
 * manifest. */
enum kk_err srv_store_pack_add(struct srv_store *s, const char *id, const char *version,
                               const char *manifest_sha256, const void *manifest,
                               size_t manifest_len, const void *sig, size_t sig_len,
                               const struct srv_pack_file *files, size_t nfiles,
                               struct kk_buf *err);
enum kk_err srv_store_pack_get(struct srv_store *s, const char *id, const char *version,
                               const char *which, struct kk_buf *out, struct kk_buf *err);
/* A cheap query proving the database answers (for /healthz). */
enum kk_err srv_store_ping(struct srv_store *s, struct kk_buf *err);
/* Retention and upkeep, run by serve once an hour and by kepu-server prune: drops the
 * raw events with ts < before_ms (none when before_ms <= 0), oldest month first and in
 * batches, each its own transaction, so ingest goes on meanwhile. The rollups and day
 * totals stay, so every stats answer is unchanged. PostgreSQL drops whole monthly
 * partitions and creates those of the coming months; SQLite deletes in batches.
 * *dropped gets the number of events removed. */
enum kk_err srv_store_events_prune(struct srv_store *s, int64_t before_ms, int64_t *dropped,
                                   struct kk_buf *err);

/* Failed-login back-off, kept in the store so every server sharing it sees the same
 * counts and a restart forgets nothing. keys are opaque (hex hashes of "u:NAME" and
 * "i:ADDRESS"), at most 4. In one transaction: *wait_s is the longest wait any key still
 * has (srv_backoff_wait_of over its failures and last failure); when it is 0, one failure
 * is counted against every key before the password is checked, so concurrent tries never
 * get more than the free ones. Keys whose last failure is older than
 * SRV_LOGIN_FORGET_S are dropped (their wait is over by then). now_ms: wall clock. */
enum kk_err srv_store_login_take(struct srv_store *s, const char *const *keys, size_t n,
                                 int64_t now_ms, int64_t *wait_s, struct kk_buf *err);
/* A right password: forgets the counts of keys. */
enum kk_err srv_store_login_clear(struct srv_store *s, const char *const *keys, size_t n,
                                  struct kk_buf *err);

/* Enrolment (docs/deploy.md). enrol_add records a one-time code (only its hash) that makes
 * kiosk in venue until expires_ms: KK_ERR_NOTFOUND without the venue, KK_ERR_EXISTS when the
 * kiosk exists. enrol_use, in one transaction, marks the code used and creates the kiosk
 * with token_hash, writing its id and venue into kiosk and venue: KK_ERR_NOTFOUND for an
 * unknown code, KK_ERR_PERM for a used or expired one (err says which). */
enum kk_err srv_store_enrol_add(struct srv_store *s, const char *code_hash, const char *venue,
                                const char *kiosk, int64_t expires_ms, struct kk_buf *err);
enum kk_err srv_store_enrol_use(struct srv_store *s, const char *code_hash, const char *token_hash,
                                int64_t now_ms, struct kk_buf *kiosk, struct kk_buf *venue,
                                struct kk_buf *err);
/* Revocation (issue 11). kiosk_revoke makes the kiosk's token match nothing (the kiosk and
 * its data stay; its requests get 401); kiosk_rotate gives it token_hash and lifts a
 * revocation. user_remove deletes the user and ends its sessions; user_passwd replaces the
 * password hash and ends its sessions. KK_ERR_NOTFOUND for an unknown id or name. */
enum kk_err srv_store_kiosk_revoke(struct srv_store *s, const char *id, struct kk_buf *err);
enum kk_err srv_store_kiosk_rotate(struct srv_store *s, const char *id, const char *token_hash,
                                   struct kk_buf *err);
enum kk_err srv_store_user_remove(struct srv_store *s, const char *name, struct kk_buf *err);
enum kk_err srv_store_user_passwd(struct srv_store *s, const char *name, const char *password_hash,
                                  struct kk_buf *err);
/* Gives user name the set of roles (text, as srv_roles_text writes it) and puts the one it
 * had into old. token_hash (NULL: none) becomes its staff token when the user had not the
 * staff role before; otherwise a token it has is kept. Roles with neither office nor admin
 * end the user's sessions (only those log in). KK_ERR_NOTFOUND for an unknown name. */
enum kk_err srv_store_user_roles(struct srv_store *s, const char *name, const char *roles,
                                 const char *token_hash, struct kk_buf *old, struct kk_buf *err);
/* what "kiosks" (kiosk, venue, created_ms, revoked_ms NULL or when) or "users" (user, role,
 * created_ms), for the admin page. Initialises out; release with srv_table_release. */
enum kk_err srv_store_admin_list(struct srv_store *s, const char *what, struct srv_table *out,
                                 struct kk_buf *err);

/* Content studio drafts (docs/studio.md). draft_add creates draft d->id in state "draft"
 * with revision 1 (KK_ERR_EXISTS when the id is taken, KK_ERR_NOTFOUND naming a venue
 * that does not exist). draft_save adds revision base + 1 in one transaction only when
 * the draft's latest revision is still d->base; otherwise KK_ERR_EXISTS with *number set
 * to the latest; KK_ERR_NOTFOUND for no such draft. On success *number is the new one. */
enum kk_err srv_store_draft_add(struct srv_store *s, const struct srv_draft_save *d,
                                struct kk_buf *err);
enum kk_err srv_store_draft_save(struct srv_store *s, const struct srv_draft_save *d,
                                 int64_t *number, struct kk_buf *err);
/* Every draft, latest change first: id, pack, venue, state, created_by, created_ms,
 * revision, updated_ms, updated_by, approved (revision or NULL), approved_by, version,
 * comments (JSON text or NULL). Initialises out; release with srv_table_release. */
enum kk_err srv_store_draft_list(struct srv_store *s, struct srv_table *out, struct kk_buf *err);
/* One revision of draft id (number 0: the latest) as one row: id, pack, venue, state,
 * revision, who, at_ms, note, source, files, head, approved, approved_by, version,
 * comments. KK_ERR_NOTFOUND (out initialised, no rows) when there is no such draft or
 * revision. */
enum kk_err srv_store_draft_get(struct srv_store *s, const char *id, int64_t number,
                                struct srv_table *out, struct kk_buf *err);
/* The revisions of draft id, oldest first: revision, who, at_ms, note. */
enum kk_err srv_store_draft_revisions(struct srv_store *s, const char *id, struct srv_table *out,
                                      struct kk_buf *err);
/* The audit log: one row per thing done (who, what such as "draft.save", its target and
 * a short detail, may be ""). The table is only ever appended to: no store function
 * changes or deletes a row, and the schema refuses UPDATE and DELETE (a trigger).
 * audit_add records one row without venue or pack; audit_record one with them.
 * audit_list gives at_ms, who, what, target, detail, venue, pack of the rows with
 * from_ms <= at_ms < to_ms matching who, venue and pack (each NULL: any), oldest first. */
enum kk_err srv_store_audit_add(struct srv_store *s, int64_t at_ms, const char *who,
                                const char *what, const char *target, const char *detail,
                                struct kk_buf *err);
enum kk_err srv_store_audit_record(struct srv_store *s, const struct srv_audit *a,
                                   struct kk_buf *err);
enum kk_err srv_store_audit_list(struct srv_store *s, const struct srv_audit_query *q,
                                 struct srv_table *out, struct kk_buf *err);
/* The review: in one transaction, checks that draft st->id is in one of st->from
 * (otherwise KK_ERR_BUSY with its state written into state), that st->who saved no
 * revision since its last approval when st->self_check (otherwise KK_ERR_PERM), that
 * st->approve is its latest revision (otherwise KK_ERR_EXISTS), then moves it to st->to,
 * recording the approval, the version and the comments given. KK_ERR_NOTFOUND for no
 * such draft. draft_save refuses (KK_ERR_BUSY, err naming the state) a draft in_review
 * or approved, and moves any other to "draft". */
enum kk_err srv_store_draft_step(struct srv_store *s, const struct srv_draft_step *st,
                                 struct kk_buf *state, struct kk_buf *err);
/* Every version of pack stored or reserved by an approved draft (column version). */
enum kk_err srv_store_pack_versions(struct srv_store *s, const char *pack, struct srv_table *out,
                                    struct kk_buf *err);
/* The venues whose packs a staff user may edit (column venue), and adding one:
 * KK_ERR_NOTFOUND naming the user or venue that does not exist; adding one twice is no
 * error. */
enum kk_err srv_store_user_venues(struct srv_store *s, const char *user, struct srv_table *out,
                                  struct kk_buf *err);
enum kk_err srv_store_user_venue_add(struct srv_store *s, const char *user, const char *venue,
                                     struct kk_buf *err);
/* --- fleet operations (issue 17, docs/server.md "Fleet operations") ----------------- */

/* Adds (add 1) or removes (add 0) tag of kiosk; adding twice or removing a tag the kiosk
 * has not is no error. KK_ERR_NOTFOUND for an unknown kiosk. */
enum kk_err srv_store_kiosk_tag(struct srv_store *s, const char *kiosk, const char *tag, int add,
                                struct kk_buf *err);
/* The kiosks (column kiosk) a target names: kind "kiosk", "venue", "tag" or "city" (every
 * kiosk; target ignored). KK_ERR_NOTFOUND for an unknown kiosk or venue; a tag no kiosk
 * carries gives no rows. Initialises out. */
enum kk_err srv_store_targets(struct srv_store *s, const char *kind, const char *target,
                              struct srv_table *out, struct kk_buf *err);
/* Stores a command for one kiosk. KK_ERR_EXISTS when the id is taken. */
enum kk_err srv_store_command_add(struct srv_store *s, const struct srv_command *c,
                                  struct kk_buf *err);
/* kiosk's commands not done and not expired at now_ms, oldest first: id, type, args,
 * expires_ms. Initialises out. */
enum kk_err srv_store_commands_pending(struct srv_store *s, const char *kiosk, int64_t now_ms,
                                       struct srv_table *out, struct kk_buf *err);
/* Marks kiosk's command id done with its result, once: KK_ERR_NOTFOUND when the kiosk has
 * no such command or it is done already. */
enum kk_err srv_store_command_done(struct srv_store *s, const char *kiosk, const char *id, int ok,
                                   const char *detail, int64_t now_ms, struct kk_buf *err);
/* The kiosk's latest screenshot (PNG bytes, already checked), replacing the one before. */
enum kk_err srv_store_screenshot_put(struct srv_store *s, const char *kiosk, const void *png,
                                     size_t len, int64_t now_ms, struct kk_buf *err);
/* KK_ERR_NOTFOUND when the kiosk sent none. */
enum kk_err srv_store_screenshot_get(struct srv_store *s, const char *kiosk, struct kk_buf *png,
                                     int64_t *taken_ms, struct kk_buf *err);
/* Office lists. what: "tags" (kiosk, tag), "commands" (id, kiosk, type, args, created_ms,
 * expires_ms, by, done_ms, ok, detail; the newest 200, of kiosk arg when not NULL),
 * "settings" (target_kind, target, key, value, updated_ms), "notices" (id, level, text,
 * from_ms, to_ms, targets, by, created_ms; targets a JSON array of "kind:target"),
 * "alerts" (kiosk, kind, state, since_ms, updated_ms, detail, venue; venue NULL for a
 * row that is no kiosk's, such as a digest sent), "kv" (key, value, updated_ms of the
 * keys starting with arg), "watch" (kiosk, venue, seen_ms, state, packs, disk_free_mb,
 * last_error, dropped of every kiosk, seen_ms NULL before its first heartbeat).
 * Initialises out. */
enum kk_err srv_store_fleet_list(struct srv_store *s, const char *what, const char *arg,
                                 struct srv_table *out, struct kk_buf *err);
/* Sets (value: JSON text) or clears (value NULL) one overlay key of a venue, tag or kiosk.
 * KK_ERR_NOTFOUND for an unknown venue or kiosk. The caller checks key and value. */
enum kk_err srv_store_setting_set(struct srv_store *s, const char *kind, const char *target,
                                  const char *key, const char *value, int64_t now_ms,
                                  struct kk_buf *err);
/* Every overlay row that applies to kiosk: target_kind, target, key, value, ordered venue
 * first, then tags (by name), then the kiosk's own, so a later row wins. */
enum kk_err srv_store_kiosk_settings(struct srv_store *s, const char *kiosk, struct srv_table *out,
                                     struct kk_buf *err);
/* KK_ERR_EXISTS when the id is taken. */
enum kk_err srv_store_notice_add(struct srv_store *s, const struct srv_notice *n,
                                 struct kk_buf *err);
/* KK_ERR_NOTFOUND for an unknown id. */
enum kk_err srv_store_notice_delete(struct srv_store *s, const char *id, struct kk_buf *err);
/* The notices for kiosk (city-wide, its venue, its tags, itself) that have not ended at
 * now_ms: id, level, text, from_ms, to_ms, ordered by from_ms. */
enum kk_err srv_store_kiosk_notices(struct srv_store *s, const char *kiosk, int64_t now_ms,
                                    struct srv_table *out, struct kk_buf *err);

#endif

/* Alerts (issue 17, srv_alert.h). One row per kiosk and kind of alert, in a state
 * ("pending": seen, not yet raised; "open": raised). alert_step moves the row of kiosk
 * and kind from state `from` to state `to` only when it is in `from`, atomically, so of
 * several servers sharing the store exactly one sees *changed = 1 and sends the
 * message: from NULL inserts the row (since_ms, detail) when there is none; to NULL
 * deletes it; otherwise the state changes (detail replaced unless NULL). */
enum kk_err srv_store_alert_step(struct srv_store *s, const char *kiosk, const char *kind,
                                 const char *from, const char *to, int64_t since_ms,
                                 const char *detail, int64_t now_ms, int *changed,
                                 struct kk_buf *err);
/* The server's own small settings (the alert recipients "alerts:VENUE", the office
 * watching a kiosk "watch:KIOSK"): value NULL deletes the key. fleet_list "kv" with a
 * prefix lists key, value, updated_ms of the keys starting with it. */
enum kk_err srv_store_kv_set(struct srv_store *s, const char *key, const char *value,
                             int64_t now_ms, struct kk_buf *err);
