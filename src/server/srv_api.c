#include "srv_api.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/event.h"
#include "kepu/limits.h"
#include "kepu/log.h"
#include "kepu/schedule.h"
#include "srv_admin.h"
#include "srv_alert.h"
#include "srv_auth.h"
#include "srv_drafts.h"
#include "srv_preview.h"
#include "srv_review.h"
#include "srv_events.h"
#include "srv_fleet.h"
#include "srv_metrics.h"
#include "srv_pack.h"
#include "srv_web.h"

#define SMALL_BODY (64u * 1024)
#define DAY_MS     (24LL * 3600 * 1000)

/* --- health -------------------------------------------------------------------------- */

static void h_healthz(struct srv_req *req, struct srv_reply *out)
{
    struct kk_buf err = KK_BUF_INIT;
    if (srv_store_ping(req->store, &err)) {
        kk_error("healthz", "%s", kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
    } else {
        srv_reply_text(out, 200, "application/json", "{\"status\":\"ok\"}", 15);
    }
    kk_buf_release(&err);
}

/* The event contract with the audience and language lists (kepu/event.h), so the
 * dashboard writes none of them down itself. */
static void h_contract(struct srv_req *req, struct srv_reply *out)
{
    (void)req;
    srv_reply_json(out, 200, kk_event_contract_json());
}

/* --- kiosks --------------------------------------------------------------------------- */

static void h_events(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out);
    if (!root)
        return;
    struct srv_batch_result res;
    if (srv_events_batch(req->store, req->who, root, kk_clock_wall_ms(), &res)) {
        srv_reply_error(out, 500, "out of memory");
    } else {
        srv_server_count_events(req->srv, res.accepted, res.duplicates, res.rejected);
        srv_reply_text(out, res.status, "application/json", kk_buf_str(&res.body), res.body.len);
        char retry[16];
        snprintf(retry, sizeof(retry), "%u", res.retry_after_s);
        if (res.retry_after_s)
            srv_reply_header(out, "Retry-After", retry);
    }
    kk_buf_release(&res.body);
    cJSON_Delete(root);
}

/* An optional non-negative whole number field; -1 when absent. */
static int opt_count(const cJSON *o, const char *name, int64_t *v)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);
    *v = -1;
    if (!x || cJSON_IsNull(x))
        return 1;
    if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 9.0e15 ||
        x->valuedouble != (double)(int64_t)x->valuedouble)
        return 0;
    *v = (int64_t)x->valuedouble;
    return 1;
}

static const char *opt_text(const cJSON *o, const char *name, size_t max, int *ok)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!x || cJSON_IsNull(x))
        return NULL;
    if (!cJSON_IsString(x) || strlen(x->valuestring) > max) {
        *ok = 0;
        return NULL;
    }
    return x->valuestring;
}

static void h_heartbeat(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out), *answer = NULL;
    char *packs_text = NULL;
    struct srv_table t = {0};
    struct kk_buf err = KK_BUF_INIT;
    if (!root)
        return;
    if (!cJSON_IsObject(root)) {
        srv_reply_error(out, 400, "body: must be a JSON object");
        goto done;
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "kiosk");
    if (!cJSON_IsString(k)) {
        srv_reply_error(out, 400, "kiosk: missing or not a string");
        goto done;
    }
    if (strcmp(k->valuestring, req->who)) {
        srv_reply_error(out, 403, "kiosk: does not match the kiosk of the token");
        goto done;
    }
    struct srv_kiosk_status st = {0};
    int ok = 1;
    st.app_version = opt_text(root, "app_version", KK_MAX_ID_LEN, &ok);
    if (!ok) {
        srv_reply_error(out, 400, "app_version: must be a string of at most 64 bytes");
        goto done;
    }
    st.last_error = opt_text(root, "last_error", 1024, &ok);
    if (!ok) {
        srv_reply_error(out, 400, "last_error: must be a string of at most 1024 bytes");
        goto done;
    }
    const cJSON *packs = cJSON_GetObjectItemCaseSensitive(root, "packs");
    if (packs && !cJSON_IsNull(packs)) {
        const cJSON *p;
        if (!cJSON_IsArray(packs) || cJSON_GetArraySize(packs) > KK_MAX_PACKS) {
            srv_reply_error(out, 400, "packs: must be an array of at most 64 \"id@version\"");
            goto done;
        }
        cJSON_ArrayForEach(p, packs)
        {
            if (!cJSON_IsString(p) || strlen(p->valuestring) > 2 * KK_MAX_ID_LEN + 1) {
                srv_reply_error(out, 400, "packs: must hold \"id@version\" strings");
                goto done;
            }
        }
        packs_text = cJSON_PrintUnformatted(packs);
        st.packs = packs_text;
    }
    static const char *const counts[] = {"queue", "dropped", "uptime_s", "disk_free_mb"};
    int64_t *slots[] = {&st.queue, &st.dropped, &st.uptime_s, &st.disk_free_mb};
    for (size_t i = 0; i < 4; i++) {
        if (!opt_count(root, counts[i], slots[i])) {
            srv_reply_error(out, 400, "%s: must be a whole number of at least 0", counts[i]);
            goto done;
        }
    }
    /* The kiosk's clock error (server minus kiosk, ms), null until it knows. */
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(root, "clock_offset_ms");
    if (off && !cJSON_IsNull(off)) {
        if (!cJSON_IsNumber(off) || off->valuedouble != (double)(int64_t)off->valuedouble ||
            off->valuedouble < -9.0e15 || off->valuedouble > 9.0e15) {
            srv_reply_error(out, 400, "clock_offset_ms: must be a whole number or null");
            goto done;
        }
        st.has_clock_offset = 1;
        st.clock_offset_ms = (int64_t)off->valuedouble;
    }
    int64_t now = kk_clock_wall_ms();
    /* Fleet operations: the state it reports and the commands it did (srv_fleet.h). */
    if (!srv_fleet_heartbeat_in(req->store, req->who, root, &st.state, now, out))
        goto done;
    if (srv_store_heartbeat(req->store, req->who, &st, now, &err) ||
        srv_store_kiosk_packs(req->store, req->who, &t, &err)) {
        kk_error("heartbeat", "%s: %s", req->who, kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
        goto done;
    }
    answer = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(answer, "packs");
    if (!answer || !list || !cJSON_AddNumberToObject(answer, "time", (double)now)) {
        srv_reply_error(out, 500, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < t.nrows; r++) {
        const struct srv_cell *c = &t.cells[r * t.ncolumns];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(list, o) || !cJSON_AddStringToObject(o, "id", c[0].s) ||
            !cJSON_AddStringToObject(o, "version", c[1].s) ||
            !(c[2].kind == SRV_CELL_TEXT ? cJSON_AddStringToObject(o, "manifest_sha256", c[2].s)
                                         : cJSON_AddNullToObject(o, "manifest_sha256")) ||
            (c[3].kind == SRV_CELL_INT && c[3].i && !cJSON_AddTrueToObject(o, "rollback"))) {
            srv_reply_error(out, 500, "out of memory");
            goto done;
        }
    }
    /* Dated assignments (issue 16), until a week after their end by the city's clock, so
     * a kiosk whose clock or zone differs still learns of each. */
    srv_table_release(&t);
    if (srv_store_kiosk_windows(req->store, req->who, now - 7 * DAY_MS, &t, &err)) {
        kk_error("heartbeat", "%s: %s", req->who, kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
        goto done;
    }
    cJSON *sched = cJSON_AddArrayToObject(answer, "scheduled");
    for (size_t r = 0; sched && r < t.nrows; r++) {
        const struct srv_cell *c = &t.cells[r * t.ncolumns];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(sched, o) || !cJSON_AddStringToObject(o, "id", c[0].s) ||
            !cJSON_AddStringToObject(o, "version", c[1].s) ||
            !(c[2].kind == SRV_CELL_TEXT ? cJSON_AddStringToObject(o, "manifest_sha256", c[2].s)
                                         : cJSON_AddNullToObject(o, "manifest_sha256")) ||
            !(c[3].kind == SRV_CELL_TEXT ? cJSON_AddStringToObject(o, "starts", c[3].s)
                                         : cJSON_AddNullToObject(o, "starts")) ||
            !(c[4].kind == SRV_CELL_TEXT ? cJSON_AddStringToObject(o, "ends", c[4].s)
                                         : cJSON_AddNullToObject(o, "ends"))) {
            sched = NULL;
        }
    }
    if (!sched) {
        srv_reply_error(out, 500, "out of memory");
        goto done;
    }
    if (srv_fleet_heartbeat_out(req->store, req->who, answer, now, &err)) {
        kk_error("heartbeat", "%s: %s", req->who, kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
        goto done;
    }
    srv_reply_json(out, 200, answer);
    answer = NULL;
done:
    cJSON_Delete(root);
    cJSON_Delete(answer);
    cJSON_free(packs_text);
    srv_table_release(&t);
    kk_buf_release(&err);
}

/* --- office login --------------------------------------------------------------------- */

/* Argon2id takes 64 MiB and a good fraction of a second per check: two run at once and
 * two more may wait. Past that a login is told 503 at once, so a login flood holds at
 * most four of the pool's threads and heartbeats keep being answered. */
#define VERIFY_RUNNING 2
#define VERIFY_WAITING 2
static sem_t verify_slots;
static atomic_int verify_admitted;
static pthread_once_t verify_once = PTHREAD_ONCE_INIT;
static void verify_init(void)
{
    sem_init(&verify_slots, 0, VERIFY_RUNNING);
}

/* Takes a place in the password-check queue; 0 when it is full. */
static int verify_admit(void)
{
    if (atomic_fetch_add(&verify_admitted, 1) >= VERIFY_RUNNING + VERIFY_WAITING) {
        atomic_fetch_sub(&verify_admitted, 1);
        return 0;
    }
    return 1;
}

/* Checks password against hash in an admitted place, and gives the place back. */
static int check_password(const char *hash, const char *password)
{
    pthread_once(&verify_once, verify_init);
    sem_wait(&verify_slots);
    int ok = srv_password_verify(hash, password);
    sem_post(&verify_slots);
    atomic_fetch_sub(&verify_admitted, 1);
    return ok;
}

static void h_login(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out);
    struct kk_buf err = KK_BUF_INIT;
    char key[128], ukey[SRV_HASH_LEN + 1], ikey[SRV_HASH_LEN + 1];
    if (!root)
        return;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "user");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "password");
    if (!cJSON_IsObject(root) || !cJSON_IsString(u) || !cJSON_IsString(p)) {
        srv_reply_error(out, 400, "body: expected {\"user\": string, \"password\": string}");
        goto done;
    }
    /* The store sees only hashes of the name and the address. */
    snprintf(key, sizeof(key), "u:%.100s", u->valuestring);
    srv_token_hash(key, ukey);
    snprintf(key, sizeof(key), "i:%s", req->client);
    srv_token_hash(key, ikey);
    if (!verify_admit()) {
        srv_reply_error(out, 503, "busy checking other logins; try again in a second");
        srv_reply_header(out, "Retry-After", "1");
        goto done;
    }
    /* The try is counted before the check, so concurrent tries cannot outrun the count;
     * a success clears it. */
    const char *const keys[] = {ukey, ikey};
    int64_t wait = 0;
    if (srv_store_login_take(req->store, keys, 2, kk_clock_wall_ms(), &wait, &err)) {
        atomic_fetch_sub(&verify_admitted, 1);
        kk_error("login", "%s", kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
        goto done;
    }
    if (wait > 0) {
        atomic_fetch_sub(&verify_admitted, 1);
        char retry[32];
        snprintf(retry, sizeof(retry), "%lld", (long long)wait);
        srv_reply_error(out, 429, "too many failed logins; try again in %lld s", (long long)wait);
        srv_reply_header(out, "Retry-After", retry);
        goto done;
    }
    struct srv_user user;
    enum kk_err rc = srv_store_user_get(req->store, u->valuestring, &user, &err);
    if (rc && rc != KK_ERR_NOTFOUND) {
        atomic_fetch_sub(&verify_admitted, 1);
        srv_reply_error(out, 503, "store unavailable");
        goto done;
    }
    /* Without such a user, still spend the time of a check so timing tells nothing. */
    static const char dummy[] = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
                                "9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ";
    int ok = check_password(rc ? dummy : user.password_hash, p->valuestring);
    /* Only the office and admin roles log in; staff use their token. */
    if (rc || !ok || !(srv_roles_parse(user.role, NULL) & (SRV_ROLE_OFFICE | SRV_ROLE_ADMIN))) {
        kk_warn("login", "failed login for a user from %s", req->client);
        char name[KK_MAX_ID_LEN + 1];
        snprintf(name, sizeof(name), "%s", u->valuestring);
        srv_store_audit_add(req->store, kk_clock_wall_ms(), name, "login.refused", req->client,
                            "wrong user name or password", NULL);
        out->status = 401;
        goto done;
    }
    srv_store_login_clear(req->store, keys, 2, NULL);
    char sid[SRV_TOKEN_LEN + 1], hash[SRV_HASH_LEN + 1], csrf[SRV_TOKEN_LEN + 1], cookie[200];
    srv_token_new(sid);
    srv_token_new(csrf);
    srv_token_hash(sid, hash);
    if (srv_store_session_add(req->store, hash, user.name, csrf,
                              kk_clock_wall_ms() + SRV_SESSION_MS, &err)) {
        srv_reply_error(out, 503, "store unavailable");
        goto done;
    }
    snprintf(cookie, sizeof(cookie),
             "kepu_session=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s", sid,
             (long long)(SRV_SESSION_MS / 1000), req->https ? "; Secure" : "");
    cJSON *a = cJSON_CreateObject();
    if (a &&
        (!cJSON_AddStringToObject(a, "user", user.name) ||
         !cJSON_AddStringToObject(a, "csrf", csrf) ||
         !cJSON_AddItemToObject(a, "roles", srv_roles_json(srv_roles_parse(user.role, NULL))))) {
        cJSON_Delete(a);
        a = NULL;
    }
    srv_reply_json(out, 200, a);
    srv_reply_header(out, "Set-Cookie", cookie);
    kk_info("login", "%s logged in from %s", user.name, req->client);
    srv_store_audit_add(req->store, kk_clock_wall_ms(), user.name, "login", req->client, "", NULL);
done:
    cJSON_Delete(root);
    kk_buf_release(&err);
}

static void h_logout(struct srv_req *req, struct srv_reply *out)
{
    const char *sid = srv_req_cookie(req, "kepu_session");
    char hash[SRV_HASH_LEN + 1];
    if (sid && srv_token_well_formed(sid)) {
        srv_token_hash(sid, hash);
        srv_store_session_delete(req->store, hash, NULL);
    }
    srv_reply_text(out, 200, "application/json", "{}", 2);
    srv_reply_header(out, "Set-Cookie",
                     req->https ? "kepu_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict;"
                                  " Secure"
                                : "kepu_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
}

static void h_session(struct srv_req *req, struct srv_reply *out)
{
    cJSON *a = cJSON_CreateObject(), *roles = srv_roles_json(req->roles);
    if (!a || !roles || !cJSON_AddItemToObject(a, "roles", roles)) {
        cJSON_Delete(roles);
        cJSON_Delete(a);
        a = NULL;
    } else if (!cJSON_AddStringToObject(a, "user", req->who) ||
               !cJSON_AddStringToObject(a, "csrf", req->csrf)) {
        cJSON_Delete(a);
        a = NULL;
    }
    srv_reply_json(out, 200, a);
}

/* --- assignments ---------------------------------------------------------------------- */

/* The target of an assignment or rollback: exactly one of venue, kiosk and tag. Replies
 * 400 and returns NULL when that is not so. */
static const char *assign_target(struct srv_req *req, const cJSON *root, const char **kind,
                                 struct srv_reply *out)
{
    const cJSON *venue = cJSON_GetObjectItemCaseSensitive(root, "venue");
    const cJSON *kiosk = cJSON_GetObjectItemCaseSensitive(root, "kiosk");
    const cJSON *tag = cJSON_GetObjectItemCaseSensitive(root, "tag");
    (void)req;
    if ((venue != NULL) + (kiosk != NULL) + (tag != NULL) != 1) {
        srv_reply_error(out, 400, "give exactly one of venue, kiosk and tag");
        return NULL;
    }
    const cJSON *target = venue ? venue : kiosk ? kiosk : tag;
    *kind = venue ? "venue" : kiosk ? "kiosk" : "tag";
    if (!cJSON_IsString(target) || !srv_id_valid(target->valuestring)) {
        srv_reply_error(out, 400, "%s: not a valid id", *kind);
        return NULL;
    }
    return target->valuestring;
}

/* An optional date of a dated assignment: absent, null or "" is none (*text NULL). */
static int assign_when(const cJSON *root, const char *name, const char **text, int64_t *ms,
                       struct srv_reply *out)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, name);
    struct kk_when w;
    *text = NULL;
    if (!x || cJSON_IsNull(x) || (cJSON_IsString(x) && !*x->valuestring))
        return 1;
    if (!cJSON_IsString(x) || kk_when_parse(x->valuestring, &w)) {
        srv_reply_error(out, 400,
                        "%s: must be a date YYYY-MM-DD or a local time YYYY-MM-DDTHH:MM"
                        " (the kiosk's own time zone)",
                        name);
        return 0;
    }
    *text = x->valuestring;
    *ms = kk_when_ms(&w, SRV_DAY_OFFSET_S);
    return 1;
}

static void h_assign(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out);
    struct kk_buf err = KK_BUF_INIT, what = KK_BUF_INIT;
    if (!root)
        return;
    const cJSON *pack = cJSON_GetObjectItemCaseSensitive(root, "pack");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    const char *kind = NULL, *target;
    struct srv_assign a = {.ends_ms = SRV_WHEN_NEVER, .who = req->who, .at_ms = kk_clock_wall_ms()};
    if (!cJSON_IsObject(root)) {
        srv_reply_error(out, 400, "body: must be a JSON object");
        goto done;
    }
    if (!cJSON_IsString(pack) || !srv_id_valid(pack->valuestring)) {
        srv_reply_error(out, 400, "pack: missing or not a valid id");
        goto done;
    }
    if (!cJSON_IsString(ver) || !srv_id_valid(ver->valuestring)) {
        srv_reply_error(out, 400, "version: missing or not a valid version");
        goto done;
    }
    if (!(target = assign_target(req, root, &kind, out)))
        goto done;
    if (!assign_when(root, "starts", &a.starts, &a.starts_ms, out) ||
        !assign_when(root, "ends", &a.ends, &a.ends_ms, out))
        goto done;
    if (a.starts && a.ends && a.ends_ms <= a.starts_ms) {
        srv_reply_error(out, 400, "ends: must be after starts (%s)", a.starts);
        goto done;
    }
    if (a.ends && a.ends_ms <= a.at_ms - DAY_MS) {
        srv_reply_error(out, 400, "ends: %s has passed", a.ends);
        goto done;
    }
    a.kind = kind;
    a.target = target;
    a.pack = pack->valuestring;
    a.version = ver->valuestring;
    enum kk_err rc = srv_store_assign_at(req->store, &a, &err);
    if (rc == KK_ERR_NOTFOUND) {
        srv_reply_error(out, 404, "%s", kk_buf_str(&err));
        goto done;
    }
    if (rc) {
        kk_error("assign", "%s", kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
        goto done;
    }
    kk_buf_addf(&what, "%s@%s", a.pack, a.version);
    if (a.starts || a.ends)
        kk_buf_addf(&what, " from %s to %s", a.starts ? a.starts : "now",
                    a.ends ? a.ends : "open end");
    char tgt[80];
    snprintf(tgt, sizeof(tgt), "%s:%s", kind, target);
    kk_buf_reset(&err);
    struct srv_audit au = {a.at_ms, req->who,          "assignment.add",
                           tgt,     kk_buf_str(&what), !strcmp(kind, "venue") ? target : NULL,
                           a.pack};
    if (srv_store_audit_record(req->store, &au, &err))
        kk_error("assign", "audit: %s", kk_buf_str(&err));
    srv_reply_text(out, 200, "application/json", "{\"ok\":true}", 11);
    kk_info("assign", "%s assigned %s to %s", req->who, kk_buf_str(&what), tgt);
done:
    cJSON_Delete(root);
    kk_buf_release(&err);
    kk_buf_release(&what);
}

/* Undoes the latest assignment of a pack to a venue, kiosk or tag (srv_store.h). */
static void h_rollback(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out), *a = NULL;
    struct kk_buf err = KK_BUF_INIT, what = KK_BUF_INIT;
    struct srv_rollback rb;
    const char *kind = NULL, *target;
    if (!root)
        return;
    const cJSON *pack = cJSON_GetObjectItemCaseSensitive(root, "pack");
    if (!cJSON_IsObject(root)) {
        srv_reply_error(out, 400, "body: must be a JSON object");
        goto done;
    }
    if (!cJSON_IsString(pack) || !srv_id_valid(pack->valuestring)) {
        srv_reply_error(out, 400, "pack: missing or not a valid id");
        goto done;
    }
    if (!(target = assign_target(req, root, &kind, out)))
        goto done;
    int64_t now = kk_clock_wall_ms();
    enum kk_err rc = srv_store_assign_rollback(req->store, kind, target, pack->valuestring,
                                               req->who, now, &rb, &err);
    if (rc == KK_ERR_NOTFOUND) {
        srv_reply_error(out, 409, "%s", kk_buf_str(&err));
        goto done;
    }
    if (rc) {
        kk_error("rollback", "%s", kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
        goto done;
    }
    if (rb.window)
        kk_buf_addf(&what, "removed %s@%s from %s to %s", pack->valuestring, rb.from,
                    *rb.starts ? rb.starts : "now", *rb.ends ? rb.ends : "open end");
    else if (*rb.to)
        kk_buf_addf(&what, "%s@%s back to %s", pack->valuestring, rb.from, rb.to);
    else
        kk_buf_addf(&what, "%s@%s removed; no earlier version", pack->valuestring, rb.from);
    char tgt[80];
    snprintf(tgt, sizeof(tgt), "%s:%s", kind, target);
    kk_buf_reset(&err);
    struct srv_audit au = {now,
                           req->who,
                           "assignment.rollback",
                           tgt,
                           kk_buf_str(&what),
                           !strcmp(kind, "venue") ? target : NULL,
                           pack->valuestring};
    if (srv_store_audit_record(req->store, &au, &err))
        kk_error("rollback", "audit: %s", kk_buf_str(&err));
    kk_info("assign", "%s rolled back %s: %s", req->who, tgt, kk_buf_str(&what));
    a = cJSON_CreateObject();
    if (a && (!cJSON_AddBoolToObject(a, "ok", 1) ||
              !cJSON_AddStringToObject(a, "undid", rb.window ? "dated" : "undated") ||
              !cJSON_AddStringToObject(a, "from", rb.from) ||
              !(*rb.to ? cJSON_AddStringToObject(a, "version", rb.to)
                       : cJSON_AddNullToObject(a, "version")) ||
              !cJSON_AddStringToObject(a, "detail", kk_buf_str(&what)))) {
        cJSON_Delete(a);
        a = NULL;
    }
    srv_reply_json(out, 200, a);
done:
    cJSON_Delete(root);
    kk_buf_release(&err);
    kk_buf_release(&what);
}

/* --- stats ------------------------------------------------------------------------------ */

struct stat_kind {
    const char *what, *by;
    enum srv_stat kind;
};

static const struct stat_kind stat_kinds[] = {
    {"sessions", "day", SRV_STAT_SESSIONS_DAY},
    {"sessions", "venue", SRV_STAT_SESSIONS_VENUE},
    {"sessions", "kiosk", SRV_STAT_SESSIONS_KIOSK},
    {"topics", "topic", SRV_STAT_TOPICS},
    {"audiences", "audience", SRV_STAT_AUDIENCES},
    {"quiz", "question", SRV_STAT_QUIZ_QUESTION},
    {"quiz", "audience", SRV_STAT_QUIZ_AUDIENCE},
    {"quiz", "day", SRV_STAT_QUIZ_DAY},
    {"kiosks", "kiosk", SRV_STAT_KIOSKS},
    {"overview", "total", SRV_STAT_OVERVIEW},
    {"events", "day", SRV_STAT_EVENTS_DAY},
    {"pages", "page", SRV_STAT_PAGES},
    {"quiz", "audience_day", SRV_STAT_QUIZ_AUDIENCE_DAY},
    {"packs", "pack", SRV_STAT_PACKS},
    {"assignments", "target", SRV_STAT_ASSIGNMENTS},
    {"blocks", "block", SRV_STAT_BLOCKS},
    {"blocks", "target", SRV_STAT_BLOCK_TARGETS},
    {"narration", "topic", SRV_STAT_NARRATION},
};

static void h_stats(struct srv_req *req, struct srv_reply *out)
{
    const char *what = req->params[0];
    const char *by = srv_req_arg(req, "by");
    const struct stat_kind *k = NULL;
    struct srv_table t = {0};
    struct kk_buf err = KK_BUF_INIT;
    for (size_t i = 0; i < sizeof(stat_kinds) / sizeof(stat_kinds[0]) && !k; i++)
        if (!strcmp(stat_kinds[i].what, what) && (!by || !strcmp(stat_kinds[i].by, by)))
            k = &stat_kinds[i];
    if (!k) {
        srv_reply_error(out, 404,
                        "no such statistic; use sessions?by=day|venue|kiosk, topics, pages,"
                        " audiences, quiz?by=question|audience|day|audience_day, kiosks,"
                        " overview, events, packs, assignments, blocks?by=block|target,"
                        " narration");
        return;
    }
    struct srv_stats_query q = {.kind = k->kind, .now_ms = kk_clock_wall_ms()};
    const char *from = srv_req_arg(req, "from"), *to = srv_req_arg(req, "to");
    int64_t today;
    srv_parse_day("2000-01-01", &today);
    today += (q.now_ms - today) / DAY_MS * DAY_MS;
    q.to_ms = today + DAY_MS;
    q.from_ms = q.to_ms - 30 * DAY_MS;
    if (from && srv_parse_day(from, &q.from_ms)) {
        srv_reply_error(out, 400, "from: must be a date YYYY-MM-DD");
        return;
    }
    if (to && srv_parse_day(to, &q.to_ms)) {
        srv_reply_error(out, 400, "to: must be a date YYYY-MM-DD");
        return;
    }
    if (to)
        q.to_ms += DAY_MS; /* "to" names the last day included */
    if (q.to_ms <= q.from_ms || q.to_ms - q.from_ms > 3700 * DAY_MS) {
        srv_reply_error(out, 400, "from, to: from must not be after to, at most 10 years apart");
        return;
    }
    q.venue = srv_req_arg(req, "venue");
    q.kiosk = srv_req_arg(req, "kiosk");
    q.topic = srv_req_arg(req, "topic");
    q.question = srv_req_arg(req, "question");
    q.audience = srv_req_arg(req, "audience");
    const char *format = srv_req_arg(req, "format");
    if (format && strcmp(format, "csv") && strcmp(format, "json")) {
        srv_reply_error(out, 400, "format: must be json or csv");
        return;
    }
    if (srv_store_stats(req->store, &q, &t, &err) ||
        (k->kind == SRV_STAT_KIOSKS && srv_kiosks_assigned_now(req->store, &t, q.now_ms, &err))) {
        kk_error("stats", "%s", kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
    } else if (format && !strcmp(format, "csv")) {
        out->status = srv_table_to_csv(&t, &out->body) ? 500 : 200;
        out->content_type = "text/csv; charset=utf-8";
        char disp[128];
        snprintf(disp, sizeof(disp), "attachment; filename=\"kepu-%s-by-%s.csv\"", k->what, k->by);
        srv_reply_header(out, "Content-Disposition", disp);
    } else {
        srv_reply_json(out, 200, srv_table_to_json(&t));
    }
    srv_table_release(&t);
    kk_buf_release(&err);
}

/* --- the audit log (docs/studio.md) ------------------------------------------------- */

static void h_audit(struct srv_req *req, struct srv_reply *out)
{
    struct srv_table t = {0};
    struct kk_buf err = KK_BUF_INIT;
    const char *from = srv_req_arg(req, "from"), *to = srv_req_arg(req, "to");
    const char *format = srv_req_arg(req, "format");
    int64_t f = 0, e = INT64_MAX;
    if (strcmp(req->role, "office")) {
        srv_reply_error(out, 403, "the audit log is for office users");
        return;
    }
    if (from && srv_parse_day(from, &f)) {
        srv_reply_error(out, 400, "from: must be a date YYYY-MM-DD");
        return;
    }
    if (to && srv_parse_day(to, &e)) {
        srv_reply_error(out, 400, "to: must be a date YYYY-MM-DD");
        return;
    }
    if (to)
        e += DAY_MS; /* "to" names the last day included */
    if (format && strcmp(format, "csv") && strcmp(format, "json")) {
        srv_reply_error(out, 400, "format: must be json or csv");
        return;
    }
    struct srv_audit_query q = {.from_ms = f,
                                .to_ms = e,
                                .who = srv_req_arg(req, "who"),
                                .venue = srv_req_arg(req, "venue"),
                                .pack = srv_req_arg(req, "pack")};
    static const char *const names[] = {"who", "venue", "pack"};
    const char *values[] = {q.who, q.venue, q.pack};
    for (size_t i = 0; i < 3; i++) {
        if (values[i] && !srv_id_valid(values[i])) {
            srv_reply_error(out, 400, "%s: not a valid name (A-Z a-z 0-9 . _ -, at most 64)",
                            names[i]);
            return;
        }
    }
    if (srv_store_audit_list(req->store, &q, &t, &err)) {
        kk_error("audit", "%s", kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
    } else if (format && !strcmp(format, "csv")) {
        out->status = srv_table_to_csv(&t, &out->body) ? 500 : 200;
        out->content_type = "text/csv; charset=utf-8";
        srv_reply_header(out, "Content-Disposition", "attachment; filename=\"kepu-audit.csv\"");
    } else {
        srv_reply_json(out, 200, srv_table_to_objects(&t));
    }
    srv_table_release(&t);
    kk_buf_release(&err);
}

const struct srv_route srv_api_routes[] = {
    {"GET", "/healthz", h_healthz, SRV_ANYONE, 0, "healthz"},
    {"GET", "/metrics", srv_metrics_get, SRV_LOCAL, 0, "metrics"},
    {"POST", "/api/v1/events", h_events, SRV_KIOSK, SRV_MAX_BATCH_BYTES, "events"},
    {"POST", "/api/v1/heartbeat", h_heartbeat, SRV_KIOSK, SMALL_BODY, "heartbeat"},
    {"GET", "/api/v1/packs/*/*/manifest", srv_pack_get_manifest, SRV_KIOSK, 0, "manifest"},
    {"GET", "/api/v1/packs/*/*/signature", srv_pack_get_signature, SRV_KIOSK, 0, "signature"},
    {"GET", "/api/v1/blobs/*", srv_pack_get_blob, SRV_KIOSK, 0, "blobs"},
    {"POST", "/api/v1/packs", srv_review_pack_upload, SRV_EDITOR, SRV_MAX_PACK_UPLOAD, "packs"},
    {"POST", "/api/v1/login", h_login, SRV_ANYONE, SMALL_BODY, "login"},
    {"POST", "/api/v1/logout", h_logout, SRV_SESSION, SMALL_BODY, "logout"},
    {"GET", "/api/v1/session", h_session, SRV_SESSION, 0, "session"},
    {"GET", "/api/v1/contract", h_contract, SRV_ANYONE, 0, "contract"},
    {"POST", "/api/v1/assignments", h_assign, SRV_OFFICE, SMALL_BODY, "assignments"},
    {"POST", "/api/v1/assignments/rollback", h_rollback, SRV_OFFICE, SMALL_BODY, "assignments"},
    {"GET", "/api/v1/stats/*", h_stats, SRV_OFFICE, 0, "stats"},
    {"POST", "/api/v1/enrol", srv_admin_enrol, SRV_ANYONE, SMALL_BODY, "enrol"},
    /* Users and keys: the admin role (srv_admin.c, docs/server.md). */
    {"GET", "/api/v1/admin/kiosks", srv_admin_kiosks, SRV_ADMIN, 0, "admin"},
    {"GET", "/api/v1/admin/users", srv_admin_users, SRV_ADMIN, 0, "admin"},
    {"POST", "/api/v1/admin/users", srv_admin_user_add, SRV_ADMIN, SMALL_BODY, "admin"},
    {"POST", "/api/v1/admin/kiosks/*/revoke", srv_admin_kiosk_revoke, SRV_ADMIN, SMALL_BODY,
     "admin"},
    {"POST", "/api/v1/admin/kiosks/*/rotate", srv_admin_kiosk_rotate, SRV_ADMIN, SMALL_BODY,
     "admin"},
    {"POST", "/api/v1/admin/users/*/remove", srv_admin_user_remove, SRV_ADMIN, SMALL_BODY, "admin"},
    {"POST", "/api/v1/admin/users/*/passwd", srv_admin_user_passwd, SRV_ADMIN, SMALL_BODY, "admin"},
    {"POST", "/api/v1/admin/users/*/roles", srv_admin_user_roles, SRV_ADMIN, SMALL_BODY, "admin"},
    /* The content studio (srv_drafts.c, docs/studio.md). */
    {"POST", "/api/v1/drafts/import", srv_drafts_import, SRV_EDITOR, SRV_MAX_DRAFT_IMPORT,
     "drafts"},
    {"GET", "/api/v1/drafts", srv_drafts_list, SRV_EDITOR, 0, "drafts"},
    {"GET", "/api/v1/drafts/*", srv_drafts_get, SRV_EDITOR, 0, "drafts"},
    {"PUT", "/api/v1/drafts/*", srv_drafts_put, SRV_EDITOR, SRV_MAX_DRAFT_SAVE, "drafts"},
    {"POST", "/api/v1/drafts/*/files", srv_drafts_file, SRV_EDITOR, KK_MAX_IMAGE_FILE_BYTES,
     "drafts"},
    {"GET", "/api/v1/drafts/*/files", srv_drafts_file_get, SRV_EDITOR, 0, "drafts"},
    {"POST", "/api/v1/drafts/*/validate", srv_drafts_check, SRV_EDITOR, SRV_MAX_DRAFT_SAVE,
     "drafts"},
    {"GET", "/api/v1/drafts/*/validate", srv_drafts_validate, SRV_EDITOR, 0, "drafts"},
    {"GET", "/api/v1/drafts/*/export", srv_drafts_export, SRV_EDITOR, 0, "drafts"},
    {"GET", "/api/v1/drafts/*/revisions", srv_drafts_revisions, SRV_EDITOR, 0, "drafts"},
    {"POST", "/api/v1/drafts/*/restore", srv_drafts_restore, SRV_EDITOR, SMALL_BODY, "drafts"},
    {"GET", "/api/v1/drafts/*/diff", srv_drafts_diff, SRV_EDITOR, 0, "drafts"},
    {"POST", "/api/v1/drafts/*/preview", srv_preview, SRV_EDITOR, SMALL_BODY, "preview"},
    /* The review (srv_review.c, docs/review.md). */
    {"POST", "/api/v1/drafts/*/submit", srv_review_submit, SRV_EDITOR, SMALL_BODY, "review"},
    {"POST", "/api/v1/drafts/*/approve", srv_review_approve, SRV_EDITOR, SMALL_BODY, "review"},
    {"POST", "/api/v1/drafts/*/request-changes", srv_review_request_changes, SRV_EDITOR, SMALL_BODY,
     "review"},
    {"POST", "/api/v1/drafts/*/publish", srv_review_publish, SRV_EDITOR, SRV_MAX_PACK_UPLOAD,
     "review"},
    {"GET", "/api/v1/inbox", srv_review_inbox, SRV_EDITOR, 0, "review"},
    {"GET", "/api/v1/audit", h_audit, SRV_EDITOR, 0, "audit"},
    {"POST", "/api/v1/kiosks/*/tags", srv_fleet_kiosk_tags, SRV_OFFICE, SMALL_BODY, "tags"},
    {"GET", "/api/v1/tags", srv_fleet_tags, SRV_OFFICE, 0, "tags"},
    {"POST", "/api/v1/commands", srv_fleet_command_post, SRV_OFFICE, SMALL_BODY, "commands"},
    {"GET", "/api/v1/commands", srv_fleet_command_list, SRV_OFFICE, 0, "commands"},
    {"POST", "/api/v1/kiosks/*/screenshot", srv_fleet_screenshot_put, SRV_KIOSK, SRV_SCREENSHOT_MAX,
     "screenshot"},
    {"GET", "/api/v1/kiosks/*/screenshot", srv_fleet_screenshot_get, SRV_OFFICE, 0, "screenshot"},
    {"POST", "/api/v1/settings", srv_fleet_settings_post, SRV_OFFICE, SMALL_BODY, "settings"},
    {"GET", "/api/v1/settings", srv_fleet_settings_list, SRV_OFFICE, 0, "settings"},
    {"POST", "/api/v1/venues/*/hours", srv_fleet_hours_post, SRV_OFFICE, SMALL_BODY, "hours"},
    {"POST", "/api/v1/notices", srv_fleet_notice_post, SRV_OFFICE, SMALL_BODY, "notices"},
    {"GET", "/api/v1/notices", srv_fleet_notice_list, SRV_OFFICE, 0, "notices"},
    {"POST", "/api/v1/notices/*/delete", srv_fleet_notice_delete, SRV_OFFICE, SMALL_BODY,
     "notices"},
    {"GET", "/api/v1/alerts", srv_alert_list, SRV_OFFICE, 0, "alerts"},
    {"POST", "/api/v1/alerts/recipients", srv_alert_recipients_post, SRV_OFFICE, SMALL_BODY,
     "alerts"},
    {"POST", "/api/v1/kiosks/*/watch", srv_alert_watch_post, SRV_OFFICE, SMALL_BODY, "watch"},
    {"GET", "/", srv_web_index, SRV_ANYONE, 0, "web_index"},
    {"GET", "/vendor/*", srv_web_vendor, SRV_ANYONE, 0, "web_vendor"},
    {"GET", "/*", srv_web_file, SRV_ANYONE, 0, "web_file"},
};
const size_t srv_api_nroutes = sizeof(srv_api_routes) / sizeof(srv_api_routes[0]);
