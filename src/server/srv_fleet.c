/* Fleet operations over the heartbeat (srv_fleet.h). */
#include "srv_fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kepu/clock.h"
#include "kepu/config.h"
#include "kepu/fs.h"
#include "kepu/imgprobe.h"
#include "kepu/log.h"
#include "kepu/utf8.h"
#include "srv_alert.h"

#define MAX_DONE     64
#define MAX_TEXT     2000 /* bytes of one language of a notice */
#define MAX_TARGETS  200
#define MAX_SETTINGS 32

void srv_fleet_id_new(char out[33])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof(b));
    sodium_bin2hex(out, 33, b, sizeof(b));
}

/* --- checks ----------------------------------------------------------------------------- */

/* The overlay's whitelist. core: checked by kk_config_set as kiosk.conf is; otherwise a
 * whole number from lo to hi (booleans are 0..1, given as true/false). */
static const struct {
    const char *key;
    int core, boolean;
    long lo, hi;
} overlay_keys[] = {
    {"idle_timeout_s", 1, 0, 0, 0}, {"idle_countdown_s", 1, 0, 0, 0},
    {"default_lang", 1, 0, 0, 0},   {"audiences", 1, 0, 0, 0},
    {"staff_pin_hash", 1, 0, 0, 0}, {"sync_interval_s", 1, 0, 0, 0},
    {"volume", 0, 0, 0, 100},       {"quiet_volume", 0, 0, 0, 100},
    {"high_contrast", 0, 1, 0, 1},  {"large_text", 0, 1, 0, 1},
};
#define NOVERLAY (sizeof(overlay_keys) / sizeof(overlay_keys[0]))

static int overlay_known(const char *key)
{
    for (size_t i = 0; i < NOVERLAY; i++)
        if (!strcmp(overlay_keys[i].key, key))
            return 1;
    return 0;
}

enum kk_err srv_fleet_setting_check(const char *key, const cJSON *value, struct kk_buf *text,
                                    struct kk_buf *err)
{
    size_t i = 0;
    while (i < NOVERLAY && strcmp(overlay_keys[i].key, key))
        i++;
    if (i == NOVERLAY)
        return kk_fail(err, KK_ERR_INVALID,
                       "%.64s: not a remote setting (use idle_timeout_s, idle_countdown_s,"
                       " default_lang, audiences, staff_pin_hash, sync_interval_s, volume,"
                       " quiet_volume, high_contrast or large_text)",
                       key);
    char num[32];
    const char *v = NULL;
    if (cJSON_IsString(value))
        v = value->valuestring;
    else if (cJSON_IsBool(value))
        v = cJSON_IsTrue(value) ? "1" : "0";
    else if (cJSON_IsNumber(value) && value->valuedouble == (double)(long)value->valuedouble) {
        snprintf(num, sizeof(num), "%ld", (long)value->valuedouble);
        v = num;
    }
    if (!v || strlen(v) > 512)
        return kk_fail(err, KK_ERR_INVALID, "%s: expected a whole number, true/false or a string",
                       key);
    if (!strcmp(key, "staff_pin_hash") && !cJSON_IsString(value))
        return kk_fail(err, KK_ERR_INVALID, "staff_pin_hash: expected the hash as a string");
    if (overlay_keys[i].core) {
        struct kk_config cfg;
        struct kk_buf why = KK_BUF_INIT;
        if (kk_config_init(&cfg))
            return kk_fail(err, KK_ERR_NOMEM, "out of memory");
        enum kk_err rc = kk_config_set(&cfg, key, v, &why);
        kk_config_release(&cfg);
        if (rc)
            kk_fail(err, rc, "%s", kk_buf_str(&why));
        kk_buf_release(&why);
        if (rc)
            return rc;
    } else {
        long n;
        if ((overlay_keys[i].boolean && !cJSON_IsBool(value)) ||
            (!overlay_keys[i].boolean && !cJSON_IsNumber(value)) ||
            kk_parse_long(v, overlay_keys[i].lo, overlay_keys[i].hi, &n))
            return overlay_keys[i].boolean
                       ? kk_fail(err, KK_ERR_INVALID,
                                 "%s: \"%.40s\" is not allowed (expected"
                                 " true or false)",
                                 key, v)
                       : kk_fail(err, KK_ERR_INVALID,
                                 "%s: \"%.40s\" is not allowed (expected a"
                                 " whole number from %ld to %ld)",
                                 key, v, overlay_keys[i].lo, overlay_keys[i].hi);
    }
    kk_buf_reset(text);
    return kk_buf_add(text, v, strlen(v) + 1) ? kk_fail(err, KK_ERR_NOMEM, "out of memory") : KK_OK;
}

/* "HH:MM" from 00:00 to 24:00; its minutes in *m. */
static int hhmm(const cJSON *x, int *m)
{
    int h, mm;
    char extra;
    if (!cJSON_IsString(x) || strlen(x->valuestring) != 5 ||
        sscanf(x->valuestring, "%2d:%2d%c", &h, &mm, &extra) != 2 || h < 0 || mm < 0 || mm > 59 ||
        h * 60 + mm > 24 * 60)
        return 0;
    *m = h * 60 + mm;
    return 1;
}

enum kk_err srv_fleet_hours_check(const cJSON *hours, struct kk_buf *err)
{
    const cJSON *tz = cJSON_GetObjectItemCaseSensitive(hours, "tz");
    const cJSON *week = cJSON_GetObjectItemCaseSensitive(hours, "week");
    const cJSON *closed = cJSON_GetObjectItemCaseSensitive(hours, "closed");
    if (!cJSON_IsObject(hours))
        return kk_fail(err, KK_ERR_INVALID, "hours: expected {\"tz\",\"week\",\"closed\"}");
    /* A zone name as the tz database spells them: Area/City of letters, digits, _+-/. */
    if (!cJSON_IsString(tz) || !*tz->valuestring || strlen(tz->valuestring) > 64 ||
        strspn(tz->valuestring,
               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/") !=
            strlen(tz->valuestring) ||
        strstr(tz->valuestring, "..") || tz->valuestring[0] == '/')
        return kk_fail(err, KK_ERR_INVALID, "hours.tz: expected a time zone like Asia/Shanghai");
    if (!cJSON_IsArray(week) || cJSON_GetArraySize(week) != 7)
        return kk_fail(err, KK_ERR_INVALID,
                       "hours.week: expected 7 days (Monday first) of [[\"09:00\",\"17:00\"],…]");
    int d = 0;
    const cJSON *day, *range;
    cJSON_ArrayForEach(day, week)
    {
        int last = -1;
        if (!cJSON_IsArray(day) || cJSON_GetArraySize(day) > 8)
            return kk_fail(err, KK_ERR_INVALID, "hours.week[%d]: expected at most 8 ranges", d);
        cJSON_ArrayForEach(range, day)
        {
            int a, b;
            if (!cJSON_IsArray(range) || cJSON_GetArraySize(range) != 2 ||
                !hhmm(cJSON_GetArrayItem(range, 0), &a) || !hhmm(cJSON_GetArrayItem(range, 1), &b))
                return kk_fail(err, KK_ERR_INVALID,
                               "hours.week[%d]: a range must be [\"HH:MM\",\"HH:MM\"]", d);
            if (b <= a || a < last)
                return kk_fail(err, KK_ERR_INVALID,
                               "hours.week[%d]: ranges must end after they start, in order", d);
            last = b;
        }
        d++;
    }
    if (closed && !cJSON_IsNull(closed)) {
        const cJSON *c;
        int64_t ms;
        if (!cJSON_IsArray(closed) || cJSON_GetArraySize(closed) > 400)
            return kk_fail(err, KK_ERR_INVALID, "hours.closed: expected at most 400 dates");
        cJSON_ArrayForEach(c, closed)
        {
            if (!cJSON_IsString(c) || srv_parse_day(c->valuestring, &ms))
                return kk_fail(err, KK_ERR_INVALID,
                               "hours.closed: \"%.20s\" is not a date YYYY-MM-DD",
                               cJSON_IsString(c) ? c->valuestring : "?");
        }
    }
    return KK_OK;
}

enum kk_err srv_fleet_command_check(const char *type, const cJSON *args, struct kk_buf *args_text,
                                    struct kk_buf *err)
{
    static const char *const types[] = {"screenshot", "restart", "sync", "logs"};
    size_t i = 0;
    while (i < 4 && strcmp(types[i], type))
        i++;
    if (i == 4)
        return kk_fail(err, KK_ERR_INVALID,
                       "type: \"%.32s\" is not a command (use screenshot, restart, sync or logs)",
                       type);
    if (args && !cJSON_IsNull(args) && !cJSON_IsObject(args))
        return kk_fail(err, KK_ERR_INVALID, "args: expected an object");
    if (!strcmp(type, "logs") && args) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(args, "lines");
        if (n && (!cJSON_IsNumber(n) || n->valuedouble < 1 || n->valuedouble > 1000 ||
                  n->valuedouble != (int)n->valuedouble))
            return kk_fail(err, KK_ERR_INVALID, "args.lines: expected a whole number, 1 to 1000");
    }
    char *text = args && cJSON_IsObject(args) ? cJSON_PrintUnformatted(args) : NULL;
    kk_buf_reset(args_text);
    enum kk_err rc = KK_OK;
    if (text && strlen(text) > 4096)
        rc = kk_fail(err, KK_ERR_INVALID, "args: at most 4096 bytes");
    else if (kk_buf_add(args_text, text ? text : "{}", strlen(text ? text : "{}") + 1))
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
    cJSON_free(text);
    return rc;
}

/* --- the heartbeat ---------------------------------------------------------------------- */

/* The longest prefix of s of at most max bytes that ends on a character boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

int srv_fleet_heartbeat_in(struct srv_store *s, const char *kiosk, const cJSON *root,
                           const char **state, int64_t now, struct srv_reply *out)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "state");
    *state = NULL;
    if (st && !cJSON_IsNull(st)) {
        if (!cJSON_IsString(st) ||
            (strcmp(st->valuestring, "open") && strcmp(st->valuestring, "sleeping"))) {
            srv_reply_error(out, 400, "state: must be \"open\" or \"sleeping\"");
            return 0;
        }
        *state = st->valuestring;
    }
    const cJSON *done = cJSON_GetObjectItemCaseSensitive(root, "done"), *d;
    if (!done || cJSON_IsNull(done))
        return 1;
    if (!cJSON_IsArray(done) || cJSON_GetArraySize(done) > MAX_DONE) {
        srv_reply_error(out, 400, "done: must be an array of at most %d {\"id\",\"ok\",\"detail\"}",
                        MAX_DONE);
        return 0;
    }
    int i = 0;
    cJSON_ArrayForEach(d, done)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(d, "id");
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(d, "ok");
        const cJSON *detail = cJSON_GetObjectItemCaseSensitive(d, "detail");
        if (!cJSON_IsObject(d) || !cJSON_IsString(id) || strlen(id->valuestring) > 64 ||
            !cJSON_IsBool(ok) || (detail && !cJSON_IsNull(detail) && !cJSON_IsString(detail))) {
            srv_reply_error(out, 400,
                            "done[%d]: expected {\"id\": string, \"ok\": true|false,"
                            " \"detail\": string}",
                            i);
            return 0;
        }
        i++;
    }
    cJSON_ArrayForEach(d, done)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(d, "id");
        const cJSON *detail = cJSON_GetObjectItemCaseSensitive(d, "detail");
        struct kk_buf err = KK_BUF_INIT, text = KK_BUF_INIT;
        const char *dv = cJSON_IsString(detail) ? detail->valuestring : "";
        size_t n = utf8_cut(dv, strlen(dv), SRV_DETAIL_MAX);
        if (!kk_buf_add(&text, dv, n) && !kk_buf_add(&text, "", 1)) {
            enum kk_err rc = srv_store_command_done(
                s, kiosk, id->valuestring, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "ok")),
                kk_buf_str(&text), now, &err);
            /* A repeat (the kiosk did not see our answer) is no error: done once. */
            if (rc && rc != KK_ERR_NOTFOUND)
                kk_error("heartbeat", "%s: %s", kiosk, kk_buf_str(&err));
            else if (!rc)
                kk_info("command", "%s did %s", kiosk, id->valuestring);
        }
        kk_buf_release(&text);
        kk_buf_release(&err);
    }
    return 1;
}

/* Adds a JSON value parsed from stored text (stored by us, so it parses). */
static int add_parsed(cJSON *to, const char *name, const char *text)
{
    cJSON *v = cJSON_Parse(text);
    if (!v)
        return 0;
    if (name ? !cJSON_AddItemToObject(to, name, v) : !cJSON_AddItemToArray(to, v)) {
        cJSON_Delete(v);
        return 0;
    }
    return 1;
}

enum kk_err srv_fleet_heartbeat_out(struct srv_store *s, const char *kiosk, cJSON *answer,
                                    int64_t now, struct kk_buf *err)
{
    struct srv_table t = {0};
    enum kk_err rc = srv_store_commands_pending(s, kiosk, now, &t, err);
    cJSON *cmds = cJSON_AddArrayToObject(answer, "commands");
    if (!rc && !cmds)
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
    for (size_t r = 0; !rc && r < t.nrows; r++) {
        const struct srv_cell *c = &t.cells[r * 4];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(cmds, o) || !cJSON_AddStringToObject(o, "id", c[0].s) ||
            !cJSON_AddStringToObject(o, "type", c[1].s) || !add_parsed(o, "args", c[2].s) ||
            !cJSON_AddNumberToObject(o, "expires", (double)c[3].i))
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
    }
    /* Commands wait, or the office has the kiosk's page open (srv_alert_watched). */
    if (!rc && (t.nrows || srv_alert_watched(s, kiosk, now)) &&
        !cJSON_AddNumberToObject(answer, "next_heartbeat_s", SRV_FLEET_BUSY_HEARTBEAT_S))
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
    srv_table_release(&t);
    if (rc)
        return rc;

    /* The overlay: venue, then tags, then the kiosk's own, the later winning. */
    rc = srv_store_kiosk_settings(s, kiosk, &t, err);
    cJSON *config = cJSON_AddObjectToObject(answer, "config"), *hours = NULL;
    if (!rc && !config)
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
    for (size_t r = 0; !rc && r < t.nrows; r++) {
        const struct srv_cell *c = &t.cells[r * 4];
        cJSON *v = cJSON_Parse(c[3].s);
        if (!v) {
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        } else if (!strcmp(c[2].s, "hours")) {
            cJSON_Delete(hours);
            hours = v;
        } else {
            cJSON_DeleteItemFromObjectCaseSensitive(config, c[2].s);
            if (!cJSON_AddItemToObject(config, c[2].s, v)) {
                cJSON_Delete(v);
                rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
            }
        }
    }
    srv_table_release(&t);
    if (!rc && !(hours ? cJSON_AddItemToObject(answer, "hours", hours)
                       : cJSON_AddNullToObject(answer, "hours") != NULL)) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        cJSON_Delete(hours);
    } else if (rc) {
        cJSON_Delete(hours);
    }
    if (rc)
        return rc;

    rc = srv_store_kiosk_notices(s, kiosk, now, &t, err);
    cJSON *notices = cJSON_AddArrayToObject(answer, "notices");
    if (!rc && !notices)
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
    for (size_t r = 0; !rc && r < t.nrows; r++) {
        const struct srv_cell *c = &t.cells[r * 5];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(notices, o) || !cJSON_AddStringToObject(o, "id", c[0].s) ||
            !cJSON_AddStringToObject(o, "level", c[1].s) || !add_parsed(o, "text", c[2].s) ||
            !cJSON_AddNumberToObject(o, "from", (double)c[3].i) ||
            !cJSON_AddNumberToObject(o, "to", (double)c[4].i))
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
    }
    srv_table_release(&t);
    return rc;
}

/* --- office routes ---------------------------------------------------------------------- */

static void reply_store(struct srv_reply *out, enum kk_err rc, struct kk_buf *err)
{
    if (rc == KK_ERR_NOTFOUND)
        srv_reply_error(out, 404, "%s", kk_buf_str(err));
    else if (rc == KK_ERR_INVALID || rc == KK_ERR_EXISTS)
        srv_reply_error(out, rc == KK_ERR_EXISTS ? 409 : 400, "%s", kk_buf_str(err));
    else if (rc)
        srv_reply_error(out, 503, "store unavailable");
    else
        srv_reply_text(out, 200, "application/json", "{\"ok\":true}", 11);
}

static void reply_table(struct srv_reply *out, enum kk_err rc, struct srv_table *t,
                        struct kk_buf *err)
{
    if (rc) {
        kk_error("fleet", "%s", kk_buf_str(err));
        reply_store(out, rc, err);
    } else {
        srv_reply_json(out, 200, srv_table_to_json(t));
    }
}

/* Checks an array of ids (tags), at most max; 0 with a 400 in out when bad. */
static int id_list(const cJSON *a, const char *name, size_t max, struct srv_reply *out)
{
    const cJSON *x;
    if (!a || cJSON_IsNull(a))
        return 1;
    if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) > max) {
        srv_reply_error(out, 400, "%s: expected an array of at most %zu ids", name, max);
        return 0;
    }
    cJSON_ArrayForEach(x, a)
    {
        if (!cJSON_IsString(x) || !srv_id_valid(x->valuestring)) {
            srv_reply_error(out, 400,
                            "%s: \"%.64s\" is not a valid id (1 to 64 of A-Z a-z 0-9 . _ -)", name,
                            cJSON_IsString(x) ? x->valuestring : "?");
            return 0;
        }
    }
    return 1;
}

void srv_fleet_kiosk_tags(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out);
    struct kk_buf err = KK_BUF_INIT;
    if (!root)
        return;
    const cJSON *add = cJSON_GetObjectItemCaseSensitive(root, "add");
    const cJSON *rem = cJSON_GetObjectItemCaseSensitive(root, "remove");
    if (!cJSON_IsObject(root)) {
        srv_reply_error(out, 400, "body: expected {\"add\":[tags], \"remove\":[tags]}");
    } else if (id_list(add, "add", 32, out) && id_list(rem, "remove", 32, out)) {
        enum kk_err rc = KK_OK;
        const cJSON *x;
        cJSON_ArrayForEach(x, rem)
        {
            if (!rc)
                rc = srv_store_kiosk_tag(req->store, req->params[0], x->valuestring, 0, &err);
        }
        cJSON_ArrayForEach(x, add)
        {
            if (!rc)
                rc = srv_store_kiosk_tag(req->store, req->params[0], x->valuestring, 1, &err);
        }
        reply_store(out, rc, &err);
        if (!rc)
            kk_info("tags", "%s changed the tags of kiosk %s", req->who, req->params[0]);
    }
    cJSON_Delete(root);
    kk_buf_release(&err);
}

void srv_fleet_tags(struct srv_req *req, struct srv_reply *out)
{
    struct srv_table t = {0};
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc = srv_store_fleet_list(req->store, "tags", srv_req_arg(req, "kiosk"), &t, &err);
    reply_table(out, rc, &t, &err);
    srv_table_release(&t);
    kk_buf_release(&err);
}

/* The one target of a body: exactly one of "kiosk", "venue", "tag" (or "city": true when
 * city_ok). 0 with a 400 in out when not. */
static int one_target(const cJSON *root, int city_ok, const char **kind, const char **target,
                      struct srv_reply *out)
{
    static const char *const kinds[] = {"kiosk", "venue", "tag"};
    int n = 0;
    *kind = *target = NULL;
    for (size_t i = 0; i < 3; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, kinds[i]);
        if (!x)
            continue;
        n++;
        if (!cJSON_IsString(x) || !srv_id_valid(x->valuestring)) {
            srv_reply_error(out, 400, "%s: not a valid id", kinds[i]);
            return 0;
        }
        *kind = kinds[i];
        *target = x->valuestring;
    }
    if (city_ok && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "city"))) {
        n++;
        *kind = "city";
        *target = "";
    }
    if (n != 1) {
        srv_reply_error(out, 400, "give exactly one of kiosk, venue and tag%s",
                        city_ok ? " (or \"city\":true)" : "");
        return 0;
    }
    return 1;
}

void srv_fleet_command_post(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out), *answer = NULL;
    struct kk_buf err = KK_BUF_INIT, args = KK_BUF_INIT;
    struct srv_table t = {0};
    const char *kind, *target;
    if (!root)
        return;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "expires_s");
    if (!cJSON_IsObject(root) || !cJSON_IsString(type)) {
        srv_reply_error(out, 400, "type: missing (screenshot, restart, sync or logs)");
        goto done;
    }
    if (srv_fleet_command_check(type->valuestring, cJSON_GetObjectItemCaseSensitive(root, "args"),
                                &args, &err)) {
        srv_reply_error(out, 400, "%s", kk_buf_str(&err));
        goto done;
    }
    if (exp &&
        (!cJSON_IsNumber(exp) || exp->valuedouble < 60 || exp->valuedouble > SRV_COMMAND_MAX_S)) {
        srv_reply_error(out, 400, "expires_s: expected seconds from 60 to %d", SRV_COMMAND_MAX_S);
        goto done;
    }
    if (!one_target(root, 0, &kind, &target, out))
        goto done;
    enum kk_err rc = srv_store_targets(req->store, kind, target, &t, &err);
    if (!rc && t.nrows == 0)
        rc = kk_fail(&err, KK_ERR_NOTFOUND, "no kiosk has tag %s", target);
    if (rc) {
        reply_store(out, rc, &err);
        goto done;
    }
    int64_t now = kk_clock_wall_ms();
    answer = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(answer, "commands");
    if (!list) {
        srv_reply_error(out, 500, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < t.nrows; r++) {
        char id[33];
        srv_fleet_id_new(id);
        struct srv_command c = {
            .id = id,
            .kiosk = t.cells[r].s,
            .type = type->valuestring,
            .args = kk_buf_str(&args),
            .who = req->who,
            .created_ms = now,
            .expires_ms = now + (exp ? (int64_t)exp->valuedouble : SRV_COMMAND_DEFAULT_S) * 1000,
        };
        if ((rc = srv_store_command_add(req->store, &c, &err))) {
            reply_store(out, rc, &err);
            goto done;
        }
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(list, o) || !cJSON_AddStringToObject(o, "id", id) ||
            !cJSON_AddStringToObject(o, "kiosk", c.kiosk)) {
            srv_reply_error(out, 500, "out of memory");
            goto done;
        }
        kk_info("command", "%s asked kiosk %s for %s (%s)", req->who, c.kiosk, c.type, id);
    }
    srv_reply_json(out, 200, answer);
    answer = NULL;
done:
    cJSON_Delete(root);
    cJSON_Delete(answer);
    srv_table_release(&t);
    kk_buf_release(&err);
    kk_buf_release(&args);
}

void srv_fleet_command_list(struct srv_req *req, struct srv_reply *out)
{
    struct srv_table t = {0};
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc =
        srv_store_fleet_list(req->store, "commands", srv_req_arg(req, "kiosk"), &t, &err);
    reply_table(out, rc, &t, &err);
    srv_table_release(&t);
    kk_buf_release(&err);
}

void srv_fleet_screenshot_put(struct srv_req *req, struct srv_reply *out)
{
    struct kk_buf err = KK_BUF_INIT;
    struct kk_image img;
    const char *ct = srv_req_header(req, "Content-Type");
    if (strcmp(req->params[0], req->who)) {
        srv_reply_error(out, 403, "kiosk: does not match the kiosk of the token");
    } else if (!ct || strncmp(ct, "image/png", 9) || (ct[9] && ct[9] != ';' && ct[9] != ' ')) {
        srv_reply_error(out, 415, "Content-Type: must be image/png");
    } else if (kk_image_probe_mem(req->body.data, req->body.len, KK_IMG_PNG, &img, &err)) {
        srv_reply_error(out, 400, "body: not a PNG image we accept: %s", kk_buf_str(&err));
    } else {
        enum kk_err rc = srv_store_screenshot_put(req->store, req->who, req->body.data,
                                                  req->body.len, kk_clock_wall_ms(), &err);
        if (rc)
            kk_error("screenshot", "%s: %s", req->who, kk_buf_str(&err));
        reply_store(out, rc, &err);
        if (!rc)
            kk_info("screenshot", "%s sent a %dx%d screenshot", req->who, img.w, img.h);
    }
    kk_buf_release(&err);
}

void srv_fleet_screenshot_get(struct srv_req *req, struct srv_reply *out)
{
    struct kk_buf err = KK_BUF_INIT;
    int64_t taken = 0;
    enum kk_err rc = srv_store_screenshot_get(req->store, req->params[0], &out->body, &taken, &err);
    /* Looking at a kiosk's screenshot is watching it: 15 s heartbeats for a minute. */
    if (srv_id_valid(req->params[0]))
        srv_alert_watch(req->store, req->params[0], kk_clock_wall_ms(), NULL);
    if (rc) {
        kk_buf_reset(&out->body);
        reply_store(out, rc, &err);
    } else {
        char when[32];
        out->status = 200;
        out->content_type = "image/png";
        snprintf(when, sizeof(when), "%lld", (long long)taken);
        srv_reply_header(out, "X-Taken-Ms", when);
        srv_reply_header(out, "Cache-Control", "no-store");
    }
    kk_buf_release(&err);
}

/* POST /api/v1/settings {"venue"|"tag"|"kiosk": ID, "set":{key:value…}, "clear":[key…]}:
 * every value checked first, so a bad one changes nothing. */
void srv_fleet_settings_post(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out);
    struct kk_buf err = KK_BUF_INIT, text = KK_BUF_INIT;
    const char *kind, *target;
    if (!root)
        return;
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(root, "set");
    const cJSON *clear = cJSON_GetObjectItemCaseSensitive(root, "clear"), *x;
    if (!cJSON_IsObject(root) || !one_target(root, 0, &kind, &target, out))
        goto done;
    if ((set && !cJSON_IsObject(set)) || (clear && !cJSON_IsArray(clear)) ||
        cJSON_GetArraySize(set) + cJSON_GetArraySize(clear) > MAX_SETTINGS) {
        srv_reply_error(out, 400, "set, clear: expected {\"set\":{key:value…},\"clear\":[key…]}");
        goto done;
    }
    cJSON_ArrayForEach(x, set)
    {
        if (srv_fleet_setting_check(x->string, x, &text, &err)) {
            srv_reply_error(out, 400, "%s", kk_buf_str(&err));
            goto done;
        }
    }
    cJSON_ArrayForEach(x, clear)
    {
        if (!cJSON_IsString(x) || !overlay_known(x->valuestring)) {
            srv_reply_error(out, 400, "clear: \"%.64s\" is not a remote setting",
                            cJSON_IsString(x) ? x->valuestring : "?");
            goto done;
        }
    }
    enum kk_err rc = KK_OK;
    int64_t now = kk_clock_wall_ms();
    cJSON_ArrayForEach(x, set)
    {
        char *v = cJSON_PrintUnformatted(x);
        if (!v)
            rc = kk_fail(&err, KK_ERR_NOMEM, "out of memory");
        if (!rc)
            rc = srv_store_setting_set(req->store, kind, target, x->string, v, now, &err);
        cJSON_free(v);
        if (rc)
            break;
    }
    cJSON_ArrayForEach(x, clear)
    {
        if (!rc)
            rc = srv_store_setting_set(req->store, kind, target, x->valuestring, NULL, now, &err);
    }
    reply_store(out, rc, &err);
    if (!rc) {
        char *detail = cJSON_PrintUnformatted(root);
        srv_store_audit_add(req->store, now, req->who, "settings.set", target,
                            detail ? detail : "{}", NULL);
        cJSON_free(detail);
        kk_info("settings", "%s changed the settings of %s %s", req->who, kind, target);
    }
done:
    cJSON_Delete(root);
    kk_buf_release(&err);
    kk_buf_release(&text);
}

void srv_fleet_settings_list(struct srv_req *req, struct srv_reply *out)
{
    struct srv_table t = {0};
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc =
        srv_store_fleet_list(req->store, "settings", srv_req_arg(req, "target"), &t, &err);
    reply_table(out, rc, &t, &err);
    srv_table_release(&t);
    kk_buf_release(&err);
}

/* POST /api/v1/venues/ID/hours {"tz","week","closed"}, or null to clear them. */
void srv_fleet_hours_post(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out);
    struct kk_buf err = KK_BUF_INIT;
    if (!root)
        return;
    char *v = NULL;
    if (!cJSON_IsNull(root) && srv_fleet_hours_check(root, &err)) {
        srv_reply_error(out, 400, "%s", kk_buf_str(&err));
        goto done;
    }
    if (!cJSON_IsNull(root) && !(v = cJSON_PrintUnformatted(root))) {
        srv_reply_error(out, 500, "out of memory");
        goto done;
    }
    int64_t now = kk_clock_wall_ms();
    enum kk_err rc =
        srv_store_setting_set(req->store, "venue", req->params[0], "hours", v, now, &err);
    reply_store(out, rc, &err);
    if (!rc) {
        srv_store_audit_add(req->store, now, req->who, "hours.set", req->params[0], v ? v : "null",
                            NULL);
        kk_info("hours", "%s set the opening hours of venue %s", req->who, req->params[0]);
    }
done:
    cJSON_free(v);
    cJSON_Delete(root);
    kk_buf_release(&err);
}

/* A notice's text: {"zh": required, "en": optional}, each 1..MAX_TEXT bytes of UTF-8. */
static int notice_text(const cJSON *text, struct srv_reply *out)
{
    const cJSON *x;
    if (!cJSON_IsObject(text) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(text, "zh"))) {
        srv_reply_error(out, 400, "text: expected {\"zh\": string, \"en\": string}");
        return 0;
    }
    cJSON_ArrayForEach(x, text)
    {
        if ((strcmp(x->string, "zh") && strcmp(x->string, "en")) || !cJSON_IsString(x) ||
            !*x->valuestring || strlen(x->valuestring) > MAX_TEXT) {
            srv_reply_error(out, 400, "text.%.8s: expected zh or en, 1 to %d bytes", x->string,
                            MAX_TEXT);
            return 0;
        }
    }
    return 1;
}

/* A time in ms since the epoch. */
static int ms_field(const cJSON *o, const char *name, int64_t *v)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 9.0e15)
        return 0;
    *v = (int64_t)x->valuedouble;
    return 1;
}

/* POST /api/v1/notices {"level","text","from","to", "city":true | "venues":[] "tags":[]
 * "kiosks":[]}: answer {"id"}. */
void srv_fleet_notice_post(struct srv_req *req, struct srv_reply *out)
{
    static const char *const lists[] = {"venues", "tags", "kiosks"};
    static const char *const kinds[] = {"venue", "tag", "kiosk"};
    cJSON *root = srv_req_json(req, out);
    struct kk_buf err = KK_BUF_INIT;
    struct srv_table t = {0};
    const char *tkinds[MAX_TARGETS + 1], *ttargets[MAX_TARGETS + 1];
    size_t n = 0;
    char *text = NULL;
    if (!root)
        return;
    const cJSON *level = cJSON_GetObjectItemCaseSensitive(root, "level"), *x;
    struct srv_notice nt = {0};
    if (!cJSON_IsObject(root) || !cJSON_IsString(level) ||
        (strcmp(level->valuestring, "banner") && strcmp(level->valuestring, "takeover"))) {
        srv_reply_error(out, 400, "level: must be \"banner\" or \"takeover\"");
        goto done;
    }
    if (!notice_text(cJSON_GetObjectItemCaseSensitive(root, "text"), out))
        goto done;
    if (!ms_field(root, "from", &nt.from_ms) || !ms_field(root, "to", &nt.to_ms)) {
        srv_reply_error(out, 400, "from, to: expected times in ms since the epoch");
        goto done;
    }
    if (nt.to_ms <= nt.from_ms) {
        srv_reply_error(out, 400, "to: the end (%lld) must be after the start (%lld)",
                        (long long)nt.to_ms, (long long)nt.from_ms);
        goto done;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "city"))) {
        tkinds[n] = "city";
        ttargets[n++] = "";
    }
    for (size_t k = 0; k < 3; k++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, lists[k]);
        if (!id_list(a, lists[k], MAX_TARGETS, out))
            goto done;
        cJSON_ArrayForEach(x, a)
        {
            if (n == MAX_TARGETS) {
                srv_reply_error(out, 400, "targets: at most %d", MAX_TARGETS);
                goto done;
            }
            /* An unknown venue or kiosk is refused, naming it; a tag may be new. */
            if (k != 1) {
                enum kk_err rc = srv_store_targets(req->store, kinds[k], x->valuestring, &t, &err);
                srv_table_release(&t);
                if (rc) {
                    reply_store(out, rc, &err);
                    goto done;
                }
            }
            tkinds[n] = kinds[k];
            ttargets[n++] = x->valuestring;
        }
    }
    if (n == 0) {
        srv_reply_error(out, 400, "targets: give \"city\":true or venues, tags or kiosks");
        goto done;
    }
    char id[33];
    srv_fleet_id_new(id);
    text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(root, "text"));
    nt.id = id;
    nt.level = level->valuestring;
    nt.text = text;
    nt.who = req->who;
    nt.created_ms = kk_clock_wall_ms();
    nt.kinds = tkinds;
    nt.targets = ttargets;
    nt.ntargets = n;
    enum kk_err rc = text ? srv_store_notice_add(req->store, &nt, &err) : KK_ERR_NOMEM;
    if (rc) {
        reply_store(out, rc, &err);
        goto done;
    }
    char *detail = cJSON_PrintUnformatted(root);
    cJSON *d = cJSON_Parse(detail ? detail : "{}");
    cJSON_free(detail);
    if (d)
        cJSON_AddStringToObject(d, "id", id);
    detail = d ? cJSON_PrintUnformatted(d) : NULL;
    cJSON_Delete(d);
    if (srv_store_audit_add(req->store, nt.created_ms, req->who, "notice.add", id,
                            detail ? detail : "", &err))
        kk_error("audit", "%s", kk_buf_str(&err));
    cJSON_free(detail);
    kk_info("notice", "%s added notice %s", req->who, id);
    cJSON *a = cJSON_CreateObject();
    if (a && !cJSON_AddStringToObject(a, "id", id)) {
        cJSON_Delete(a);
        a = NULL;
    }
    srv_reply_json(out, 200, a);
done:
    cJSON_free(text);
    cJSON_Delete(root);
    kk_buf_release(&err);
}

void srv_fleet_notice_list(struct srv_req *req, struct srv_reply *out)
{
    struct srv_table t = {0};
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc = srv_store_fleet_list(req->store, "notices", NULL, &t, &err);
    reply_table(out, rc, &t, &err);
    srv_table_release(&t);
    kk_buf_release(&err);
}

void srv_fleet_notice_delete(struct srv_req *req, struct srv_reply *out)
{
    struct kk_buf err = KK_BUF_INIT, detail = KK_BUF_INIT;
    enum kk_err rc = srv_store_notice_delete(req->store, req->params[0], &err);
    reply_store(out, rc, &err);
    if (!rc) {
        char d[128];
        snprintf(d, sizeof(d), "{\"id\":\"%.64s\"}", req->params[0]);
        if (srv_store_audit_add(req->store, kk_clock_wall_ms(), req->who, "notice.delete",
                                req->params[0], d, &err))
            kk_error("audit", "%s", kk_buf_str(&err));
        kk_info("notice", "%s deleted notice %s", req->who, req->params[0]);
    }
    kk_buf_release(&err);
    kk_buf_release(&detail);
}
