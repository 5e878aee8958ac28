/* Backend selection and the thin dispatch to the backend's ops table. */
#include "srv_store.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kepu/clock.h"

int srv_id_valid(const char *s)
{
    size_t n = 0;
    if (!s || s[0] == '.')
        return 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return n >= 1 && n <= 64;
}

void srv_store_close(struct srv_store *s)
{
    if (s)
        s->ops->close(s);
}

enum kk_err srv_store_open(struct srv_store **out, const char *data_dir, const char *db_url,
                           struct kk_buf *err)
{
    *out = NULL;
    if (!db_url || !*db_url)
        return srv_store_sqlite_open(out, data_dir, NULL, err);
    if (!strncmp(db_url, "sqlite:", 7) && db_url[7])
        return srv_store_sqlite_open(out, data_dir, db_url + 7, err);
    if (!strncmp(db_url, "postgresql://", 13) || !strncmp(db_url, "postgres://", 11))
        return srv_store_pg_open(out, data_dir, db_url, err);
    return kk_fail(err, KK_ERR_INVALID,
                   "--db %s: unsupported URL (use sqlite:PATH or postgresql://...)", db_url);
}

enum kk_err srv_store_venue_add(struct srv_store *s, const char *id, const char *name,
                                struct kk_buf *err)
{
    return s->ops->venue_add(s, id, name, err);
}

enum kk_err srv_store_kiosk_add(struct srv_store *s, const char *id, const char *venue,
                                const char *token_hash, struct kk_buf *err)
{
    return s->ops->kiosk_add(s, id, venue, token_hash, err);
}

enum kk_err srv_store_user_add(struct srv_store *s, const char *name, const char *role,
                               const char *password_hash, const char *token_hash,
                               struct kk_buf *err)
{
    return s->ops->user_add(s, name, role, password_hash, token_hash, err);
}

enum kk_err srv_store_assign(struct srv_store *s, const char *target_kind, const char *target,
                             const char *pack, const char *version, struct kk_buf *err)
{
    struct srv_assign a = {.kind = target_kind,
                           .target = target,
                           .pack = pack,
                           .version = version,
                           .ends_ms = SRV_WHEN_NEVER,
                           .who = "cli",
                           .at_ms = kk_clock_wall_ms()};
    return s->ops->assign(s, &a, err);
}

enum kk_err srv_store_assign_at(struct srv_store *s, const struct srv_assign *a, struct kk_buf *err)
{
    return s->ops->assign(s, a, err);
}

enum kk_err srv_store_assign_rollback(struct srv_store *s, const char *kind, const char *target,
                                      const char *pack, const char *who, int64_t at_ms,
                                      struct srv_rollback *out, struct kk_buf *err)
{
    memset(out, 0, sizeof(*out));
    return s->ops->assign_rollback(s, kind, target, pack, who, at_ms, out, err);
}

enum kk_err srv_store_kiosk_windows(struct srv_store *s, const char *kiosk, int64_t since_ms,
                                    struct srv_table *out, struct kk_buf *err)
{
    return s->ops->kiosk_windows(s, kiosk, since_ms, out, err);
}

enum kk_err srv_store_kiosk_by_token(struct srv_store *s, const char *token_hash,
                                     struct kk_buf *kiosk, struct kk_buf *err)
{
    return s->ops->kiosk_by_token(s, token_hash, kiosk, err);
}

enum kk_err srv_store_staff_by_token(struct srv_store *s, const char *token_hash,
                                     struct kk_buf *user, struct kk_buf *err)
{
    return s->ops->staff_by_token(s, token_hash, user, err);
}

enum kk_err srv_store_user_get(struct srv_store *s, const char *name, struct srv_user *out,
                               struct kk_buf *err)
{
    return s->ops->user_get(s, name, out, err);
}

enum kk_err srv_store_session_add(struct srv_store *s, const char *id_hash, const char *user,
                                  const char *csrf, int64_t expires_ms, struct kk_buf *err)
{
    return s->ops->session_add(s, id_hash, user, csrf, expires_ms, err);
}

enum kk_err srv_store_session_get(struct srv_store *s, const char *id_hash, int64_t now_ms,
                                  struct kk_buf *user, struct kk_buf *csrf, struct kk_buf *err)
{
    return s->ops->session_get(s, id_hash, now_ms, user, csrf, err);
}

enum kk_err srv_store_session_delete(struct srv_store *s, const char *id_hash, struct kk_buf *err)
{
    return s->ops->session_delete(s, id_hash, err);
}

enum kk_err srv_store_events_add(struct srv_store *s, const struct srv_event *ev, size_t n,
                                 unsigned char *inserted, int64_t now_ms, struct kk_buf *err)
{
    return s->ops->events_add(s, ev, n, inserted, now_ms, err);
}

enum kk_err srv_store_heartbeat(struct srv_store *s, const char *kiosk,
                                const struct srv_kiosk_status *st, int64_t now_ms,
                                struct kk_buf *err)
{
    return s->ops->heartbeat(s, kiosk, st, now_ms, err);
}

enum kk_err srv_store_kiosk_packs(struct srv_store *s, const char *kiosk, struct srv_table *out,
                                  struct kk_buf *err)
{
    return s->ops->kiosk_packs(s, kiosk, out, err);
}

enum kk_err srv_store_stats(struct srv_store *s, const struct srv_stats_query *q,
                            struct srv_table *out, struct kk_buf *err)
{
    return s->ops->stats(s, q, out, err);
}

enum kk_err srv_store_counters(struct srv_store *s, struct srv_table *out, struct kk_buf *err)
{
    return s->ops->counters(s, out, err);
}

enum kk_err srv_store_pack_add(struct srv_store *s, const char *id, const char *version,
                               const char *manifest_sha256, const void *manifest,
                               size_t manifest_len, const void *sig, size_t sig_len,
                               const struct srv_pack_file *files, size_t nfiles, struct kk_buf *err)
{
    return s->ops->pack_add(s, id, version, manifest_sha256, manifest, manifest_len, sig, sig_len,
                            files, nfiles, err);
}

enum kk_err srv_store_pack_get(struct srv_store *s, const char *id, const char *version,
                               const char *which, struct kk_buf *out, struct kk_buf *err)
{
    return s->ops->pack_get(s, id, version, which, out, err);
}

enum kk_err srv_store_ping(struct srv_store *s, struct kk_buf *err)
{
    return s->ops->ping(s, err);
}

enum kk_err srv_store_login_take(struct srv_store *s, const char *const *keys, size_t n,
                                 int64_t now_ms, int64_t *wait_s, struct kk_buf *err)
{
    return s->ops->login_take(s, keys, n, now_ms, wait_s, err);
}

enum kk_err srv_store_login_clear(struct srv_store *s, const char *const *keys, size_t n,
                                  struct kk_buf *err)
{
    return s->ops->login_clear(s, keys, n, err);
}

enum kk_err srv_store_enrol_add(struct srv_store *s, const char *code_hash, const char *venue,
                                const char *kiosk, int64_t expires_ms, struct kk_buf *err)
{
    return s->ops->enrol_add(s, code_hash, venue, kiosk, expires_ms, err);
}

enum kk_err srv_store_enrol_use(struct srv_store *s, const char *code_hash, const char *token_hash,
                                int64_t now_ms, struct kk_buf *kiosk, struct kk_buf *venue,
                                struct kk_buf *err)
{
    return s->ops->enrol_use(s, code_hash, token_hash, now_ms, kiosk, venue, err);
}

enum kk_err srv_store_kiosk_revoke(struct srv_store *s, const char *id, struct kk_buf *err)
{
    return s->ops->kiosk_revoke(s, id, err);
}

enum kk_err srv_store_kiosk_rotate(struct srv_store *s, const char *id, const char *token_hash,
                                   struct kk_buf *err)
{
    return s->ops->kiosk_rotate(s, id, token_hash, err);
}

enum kk_err srv_store_user_remove(struct srv_store *s, const char *name, struct kk_buf *err)
{
    return s->ops->user_remove(s, name, err);
}

enum kk_err srv_store_user_passwd(struct srv_store *s, const char *name, const char *password_hash,
                                  struct kk_buf *err)
{
    return s->ops->user_passwd(s, name, password_hash, err);
}

enum kk_err srv_store_user_roles(struct srv_store *s, const char *name, const char *roles,
                                 const char *token_hash, struct kk_buf *old, struct kk_buf *err)
{
    return s->ops->user_roles(s, name, roles, token_hash, old, err);
}

enum kk_err srv_store_admin_list(struct srv_store *s, const char *what, struct srv_table *out,
                                 struct kk_buf *err)
{
    return s->ops->admin_list(s, what, out, err);
}

enum kk_err srv_store_events_prune(struct srv_store *s, int64_t before_ms, int64_t *dropped,
                                   struct kk_buf *err)
{
    *dropped = 0;
    return s->ops->events_prune(s, before_ms, dropped, err);
}

enum kk_err srv_store_draft_add(struct srv_store *s, const struct srv_draft_save *d,
                                struct kk_buf *err)
{
    return s->ops->draft_add(s, d, err);
}

enum kk_err srv_store_draft_save(struct srv_store *s, const struct srv_draft_save *d,
                                 int64_t *number, struct kk_buf *err)
{
    *number = 0;
    return s->ops->draft_save(s, d, number, err);
}

enum kk_err srv_store_draft_list(struct srv_store *s, struct srv_table *out, struct kk_buf *err)
{
    return s->ops->draft_list(s, out, err);
}

enum kk_err srv_store_draft_get(struct srv_store *s, const char *id, int64_t number,
                                struct srv_table *out, struct kk_buf *err)
{
    return s->ops->draft_get(s, id, number, out, err);
}

enum kk_err srv_store_draft_revisions(struct srv_store *s, const char *id, struct srv_table *out,
                                      struct kk_buf *err)
{
    return s->ops->draft_revisions(s, id, out, err);
}

enum kk_err srv_store_audit_add(struct srv_store *s, int64_t at_ms, const char *who,
                                const char *what, const char *target, const char *detail,
                                struct kk_buf *err)
{
    struct srv_audit a = {at_ms, who, what, target, detail, NULL, NULL};
    return srv_store_audit_record(s, &a, err);
}

enum kk_err srv_store_audit_record(struct srv_store *s, const struct srv_audit *a,
                                   struct kk_buf *err)
{
    struct srv_audit b = *a;
    b.who = b.who ? b.who : "";
    b.target = b.target ? b.target : "";
    b.detail = b.detail ? b.detail : "";
    return s->ops->audit_add(s, &b, err);
}

enum kk_err srv_store_draft_step(struct srv_store *s, const struct srv_draft_step *st,
                                 struct kk_buf *state, struct kk_buf *err)
{
    return s->ops->draft_step(s, st, state, err);
}

enum kk_err srv_store_pack_versions(struct srv_store *s, const char *pack, struct srv_table *out,
                                    struct kk_buf *err)
{
    return s->ops->pack_versions(s, pack, out, err);
}

enum kk_err srv_store_kiosk_tag(struct srv_store *s, const char *kiosk, const char *tag, int add,
                                struct kk_buf *err)
{
    return s->ops->kiosk_tag(s, kiosk, tag, add, err);
}

enum kk_err srv_store_targets(struct srv_store *s, const char *kind, const char *target,
                              struct srv_table *out, struct kk_buf *err)
{
    return s->ops->targets(s, kind, target, out, err);
}

enum kk_err srv_store_command_add(struct srv_store *s, const struct srv_command *c,
                                  struct kk_buf *err)
{
    return s->ops->command_add(s, c, err);
}

enum kk_err srv_store_commands_pending(struct srv_store *s, const char *kiosk, int64_t now_ms,
                                       struct srv_table *out, struct kk_buf *err)
{
    return s->ops->commands_pending(s, kiosk, now_ms, out, err);
}

enum kk_err srv_store_command_done(struct srv_store *s, const char *kiosk, const char *id, int ok,
                                   const char *detail, int64_t now_ms, struct kk_buf *err)
{
    return s->ops->command_done(s, kiosk, id, ok, detail, now_ms, err);
}

enum kk_err srv_store_screenshot_put(struct srv_store *s, const char *kiosk, const void *png,
                                     size_t len, int64_t now_ms, struct kk_buf *err)
{
    return s->ops->screenshot_put(s, kiosk, png, len, now_ms, err);
}

enum kk_err srv_store_screenshot_get(struct srv_store *s, const char *kiosk, struct kk_buf *png,
                                     int64_t *taken_ms, struct kk_buf *err)
{
    return s->ops->screenshot_get(s, kiosk, png, taken_ms, err);
}

enum kk_err srv_store_fleet_list(struct srv_store *s, const char *what, const char *arg,
                                 struct srv_table *out, struct kk_buf *err)
{
    return s->ops->fleet_list(s, what, arg, out, err);
}

enum kk_err srv_store_setting_set(struct srv_store *s, const char *kind, const char *target,
                                  const char *key, const char *value, int64_t now_ms,
                                  struct kk_buf *err)
{
    return s->ops->setting_set(s, kind, target, key, value, now_ms, err);
}

enum kk_err srv_store_kiosk_settings(struct srv_store *s, const char *kiosk, struct srv_table *out,
                                     struct kk_buf *err)
{
    return s->ops->kiosk_settings(s, kiosk, out, err);
}

enum kk_err srv_store_notice_add(struct srv_store *s, const struct srv_notice *n,
                                 struct kk_buf *err)
{
    return s->ops->notice_add(s, n, err);
}

enum kk_err srv_store_notice_delete(struct srv_store *s, const char *id, struct kk_buf *err)
{
    return s->ops->notice_delete(s, id, err);
}

enum kk_err srv_store_kiosk_notices(struct srv_store *s, const char *kiosk, int64_t now_ms,
                                    struct srv_table *out, struct kk_buf *err)
{
    return s->ops->kiosk_notices(s, kiosk, now_ms, out, err);
}

enum kk_err srv_store_audit_list(struct srv_store *s, const struct srv_audit_query *q,
                                 struct srv_table *out, struct kk_buf *err)
{
    return s->ops->audit_list(s, q, out, err);
}

enum kk_err srv_store_user_venues(struct srv_store *s, const char *user, struct srv_table *out,
                                  struct kk_buf *err)
{
    return s->ops->user_venues(s, user, out, err);
}

enum kk_err srv_store_user_venue_add(struct srv_store *s, const char *user, const char *venue,
                                     struct kk_buf *err)
{
    return s->ops->user_venue_add(s, user, venue, err);
}

enum kk_err srv_store_alert_step(struct srv_store *s, const char *kiosk, const char *kind,
                                 const char *from, const char *to, int64_t since_ms,
                                 const char *detail, int64_t now_ms, int *changed,
                                 struct kk_buf *err)
{
    *changed = 0;
    return s->ops->alert_step(s, kiosk, kind, from, to, since_ms, detail, now_ms, changed, err);
}

enum kk_err srv_store_kv_set(struct srv_store *s, const char *key, const char *value,
                             int64_t now_ms, struct kk_buf *err)
{
    return s->ops->kv_set(s, key, value, now_ms, err);
}

int srv_parse_day(const char *s, int64_t *ms)
{
    int y, m, d;
    char extra;
    if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || y < 2000 ||
        y > 2200 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    time_t t = timegm(&tm);
    struct tm back;
    gmtime_r(&t, &back);
    if (back.tm_mday != d) /* 2026-02-31 */
        return -1;
    *ms = ((int64_t)t - SRV_DAY_OFFSET_S) * 1000;
    return 0;
}
