#include "kepu/fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"

#define ZONEINFO      "/usr/share/zoneinfo"
#define MAX_TZ_FILE   (256u * 1024)
#define DONE_FILE     "fleet-done.json"
#define MAX_DONE      128   /* results kept (reported ones are dropped oldest first) */
#define MAX_DETAIL    32768 /* a result's detail (logs) */
#define MAX_DONE_FILE (8u * 1024 * 1024)
#define DEFAULT_LINES 100

/* ---- time zones ---------------------------------------------------------------------- */

static int tz_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n >= sizeof(((struct kk_tz *)0)->name) || s[0] == '/' || strstr(s, ".."))
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '/' || *p == '_' || *p == '-' || *p == '+'))
            return 0;
    return 1;
}

static int32_t be32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

enum kk_err kk_tz_load(struct kk_tz *tz, const char *name, struct kk_buf *err)
{
    memset(tz, 0, sizeof(*tz));
    if (!tz_name_ok(name))
        return kk_fail(err, KK_ERR_INVALID, "hours: tz: \"%.64s\" is not a time zone name", name);
    snprintf(tz->name, sizeof(tz->name), "%s", name);
    char path[sizeof(ZONEINFO) + 80];
    snprintf(path, sizeof(path), "%s/%s", ZONEINFO, name);
    struct kk_buf b = KK_BUF_INIT;
    enum kk_err rc = kk_file_read(path, MAX_TZ_FILE, &b, NULL);
    if (rc) {
        kk_buf_release(&b);
        return kk_fail(err, KK_ERR_NOTFOUND, "hours: tz: no time zone \"%s\" in %s", name,
                       ZONEINFO);
    }
    /* TZif version 1 block: header, transition times, their type indices, the types. */
    const unsigned char *p = (const unsigned char *)kk_buf_str(&b);
    size_t len = b.len;
    if (len < 44 || memcmp(p, "TZif", 4)) {
        rc = kk_fail(err, KK_ERR_PARSE, "hours: tz: %s is not a TZif file", path);
        goto done;
    }
    int32_t timecnt = be32(p + 32), typecnt = be32(p + 36);
    if (timecnt < 0 || typecnt < 1 || typecnt > 256 ||
        44 + (size_t)timecnt * 5 + (size_t)typecnt * 6 > len) {
        rc = kk_fail(err, KK_ERR_PARSE, "hours: tz: %s is truncated", path);
        goto done;
    }
    const unsigned char *times = p + 44, *idx = times + (size_t)timecnt * 4, *types = idx + timecnt;
    tz->off0 = be32(types); /* type 0: the time before the first transition */
    size_t first = timecnt > KK_TZ_MAX ? (size_t)timecnt - KK_TZ_MAX : 0;
    for (size_t i = first; i < (size_t)timecnt; i++) {
        if (idx[i] >= typecnt) {
            rc = kk_fail(err, KK_ERR_PARSE, "hours: tz: %s names a missing type", path);
            goto done;
        }
        tz->at[tz->n] = be32(times + 4 * i);
        tz->off[tz->n] = be32(types + 6 * idx[i]);
        tz->n++;
    }
done:
    kk_buf_release(&b);
    return rc;
}

int32_t kk_tz_offset(const struct kk_tz *tz, int64_t t)
{
    size_t lo = 0, hi = tz->n; /* the first transition after t */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (tz->at[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? tz->off[lo - 1] : tz->off0;
}

/* ---- opening hours ------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int32_t civil_days(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_hhmm(const char *s, int allow_24, uint16_t *out)
{
    if (strlen(s) != 5 || s[2] != ':')
        return 0;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return 0;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (m || !allow_24)))
        return 0;
    *out = (uint16_t)(h * 60 + m);
    return 1;
}

static int parse_date(const char *s, int32_t *out)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1970 ||
        m < 1 || m > 12 || d < 1 || d > 31)
        return 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100) || y % 400 == 0;
    if (d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
        return 0;
    *out = civil_days(y, m, d);
    return 1;
}

static enum kk_err hours_from_json(const cJSON *o, struct kk_hours *h, struct kk_buf *err)
{
    memset(h, 0, sizeof(*h));
    const cJSON *tz = cJSON_GetObjectItemCaseSensitive(o, "tz");
    const cJSON *week = cJSON_GetObjectItemCaseSensitive(o, "week");
    const cJSON *closed = cJSON_GetObjectItemCaseSensitive(o, "closed");
    if (!cJSON_IsObject(o) || !cJSON_IsString(tz))
        return kk_fail(err, KK_ERR_PARSE, "hours: not {\"tz\": \"…\", \"week\": [7 days]}");
    if (!cJSON_IsArray(week) || cJSON_GetArraySize(week) != 7)
        return kk_fail(err, KK_ERR_PARSE, "hours: week: not a list of 7 days (Monday first)");
    int day = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, week)
    {
        if (!cJSON_IsArray(d) || cJSON_GetArraySize(d) > KK_HOURS_RANGES)
            return kk_fail(err, KK_ERR_PARSE,
                           "hours: week[%d]: not a list of at most %d [\"HH:MM\", \"HH:MM\"]", day,
                           KK_HOURS_RANGES);
        const cJSON *r;
        cJSON_ArrayForEach(r, d)
        {
            const cJSON *a = cJSON_GetArrayItem(r, 0), *b = cJSON_GetArrayItem(r, 1);
            uint16_t *x = h->ranges[day][h->nranges[day]];
            if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) != 2 || !cJSON_IsString(a) ||
                !cJSON_IsString(b) || !parse_hhmm(a->valuestring, 0, &x[0]) ||
                !parse_hhmm(b->valuestring, 1, &x[1]) || x[0] >= x[1])
                return kk_fail(err, KK_ERR_PARSE,
                               "hours: week[%d]: a range is not [\"HH:MM\", \"HH:MM\"] with "
                               "the start before the end",
                               day);
            h->nranges[day]++;
        }
        day++;
    }
    if (closed && !cJSON_IsNull(closed)) {
        if (!cJSON_IsArray(closed) || cJSON_GetArraySize(closed) > KK_HOURS_CLOSED)
            return kk_fail(err, KK_ERR_PARSE, "hours: closed: not a list of at most %d dates",
                           KK_HOURS_CLOSED);
        const cJSON *c;
        cJSON_ArrayForEach(c, closed)
        {
            if (!cJSON_IsString(c) || !parse_date(c->valuestring, &h->closed[h->nclosed]))
                return kk_fail(err, KK_ERR_PARSE,
                               "hours: closed: \"%.32s\" is not a YYYY-MM-DD date",
                               cJSON_IsString(c) ? c->valuestring : "?");
            h->nclosed++;
        }
    }
    return kk_tz_load(&h->tz, tz->valuestring, err) ? KK_ERR_PARSE : KK_OK;
}

enum kk_err kk_hours_parse(const char *json, size_t len, struct kk_hours *h, struct kk_buf *err)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    enum kk_err rc =
        root ? hours_from_json(root, h, err) : kk_fail(err, KK_ERR_PARSE, "hours: not JSON");
    cJSON_Delete(root);
    return rc;
}

static int open_at(const struct kk_hours *h, int64_t t)
{
    int64_t local = t + kk_tz_offset(&h->tz, t);
    int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int minute = (int)((local - day * 86400) / 60);
    for (unsigned i = 0; i < h->nclosed; i++)
        if (h->closed[i] == day)
            return 0;
    int wd = (int)(((day + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    for (unsigned i = 0; i < h->nranges[wd]; i++)
        if (minute >= h->ranges[wd][i][0] && minute < h->ranges[wd][i][1])
            return 1;
    return 0;
}

int kk_hours_open(const struct kk_hours *h, int64_t wall_ms, int64_t *next_ms)
{
    int64_t t = wall_ms >= 0 ? wall_ms / 1000 : -((-wall_ms + 999) / 1000);
    int open = open_at(h, t);
    if (next_ms) {
        *next_ms = 0;
        /* Every range starts and ends on a whole minute of every zone we know of. */
        for (int64_t m = (t / 60 + 1) * 60; m <= t + 8 * 86400; m += 60)
            if (open_at(h, m) != open) {
                *next_ms = m * 1000;
                break;
            }
    }
    return open;
}

/* ---- the heartbeat answer ------------------------------------------------------------ */

static int id_ok(const cJSON *id)
{
    if (!cJSON_IsString(id))
        return 0;
    size_t n = strlen(id->valuestring);
    if (!n || n > KK_MAX_ID_LEN)
        return 0;
    for (const char *p = id->valuestring; *p; p++)
        if ((unsigned char)*p < 0x21 || *p == '"' || *p == '\\' || (unsigned char)*p >= 0x7f)
            return 0;
    return 1;
}

static int ms_ok(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9.0e15;
}

static enum kk_err commands_from_json(const cJSON *list, struct kk_fleet_answer *a,
                                      struct kk_buf *err)
{
    static const char *const names[] = {"screenshot", "restart", "sync", "logs"};
    if (!cJSON_IsArray(list))
        return kk_fail(err, KK_ERR_PARSE, "heartbeat: commands: not a list");
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, list)
    {
        if (a->ncommands == KK_FLEET_MAX_COMMANDS)
            break; /* the rest come again in the next answers */
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "expires");
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(c, "args");
        struct kk_fleet_command *x = &a->commands[a->ncommands];
        int t = -1;
        for (int k = 0; k < 4 && cJSON_IsString(type); k++)
            if (!strcmp(type->valuestring, names[k]))
                t = k;
        if (!id_ok(id) || t < 0 || (exp && !cJSON_IsNull(exp) && !ms_ok(exp)) ||
            (args && !cJSON_IsNull(args) && !cJSON_IsObject(args)))
            return kk_fail(err, KK_ERR_PARSE,
                           "heartbeat: commands[%d]: not {\"id\", \"type\": screenshot|restart|"
                           "sync|logs, \"args\": {}, \"expires\": ms}",
                           i);
        snprintf(x->id, sizeof(x->id), "%s", id->valuestring);
        x->type = (enum kk_fleet_cmd)t;
        x->expires_ms = ms_ok(exp) ? (int64_t)exp->valuedouble : 0;
        x->lines = DEFAULT_LINES;
        const cJSON *lines = cJSON_GetObjectItemCaseSensitive(args, "lines");
        if (lines) {
            if (!cJSON_IsNumber(lines) || lines->valuedouble < 1 ||
                lines->valuedouble > KK_FLEET_LOG_LINES)
                return kk_fail(err, KK_ERR_PARSE,
                               "heartbeat: commands[%d]: args.lines is not 1..%d", i,
                               KK_FLEET_LOG_LINES);
            x->lines = (unsigned)lines->valuedouble;
        }
        a->ncommands++;
        i++;
    }
    return KK_OK;
}

static enum kk_err notices_from_json(const cJSON *list, struct kk_fleet_answer *a,
                                     struct kk_buf *err)
{
    if (!cJSON_IsArray(list))
        return kk_fail(err, KK_ERR_PARSE, "heartbeat: notices: not a list");
    int i = 0;
    const cJSON *n;
    cJSON_ArrayForEach(n, list)
    {
        if (a->nnotices == KK_FLEET_MAX_NOTICES)
            break;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(n, "id");
        const cJSON *level = cJSON_GetObjectItemCaseSensitive(n, "level");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(n, "text");
        const cJSON *zh = cJSON_GetObjectItemCaseSensitive(text, "zh");
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(text, "en");
        const cJSON *from = cJSON_GetObjectItemCaseSensitive(n, "from");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(n, "to");
        struct kk_notice *x = &a->notices[a->nnotices];
        int takeover = cJSON_IsString(level) && !strcmp(level->valuestring, "takeover");
        int banner = cJSON_IsString(level) && !strcmp(level->valuestring, "banner");
        if (!id_ok(id) || !(takeover || banner) || !cJSON_IsObject(text) ||
            (zh && !cJSON_IsString(zh)) || (en && !cJSON_IsString(en)) || (!zh && !en) ||
            !ms_ok(from) || !ms_ok(to) || to->valuedouble <= from->valuedouble)
            return kk_fail(err, KK_ERR_PARSE,
                           "heartbeat: notices[%d]: not {\"id\", \"level\": banner|takeover, "
                           "\"text\": {\"zh\", \"en\"}, \"from\": ms, \"to\": ms after from}",
                           i);
        if ((zh && strlen(zh->valuestring) >= KK_FLEET_NOTICE_BYTES) ||
            (en && strlen(en->valuestring) >= KK_FLEET_NOTICE_BYTES))
            return kk_fail(err, KK_ERR_PARSE, "heartbeat: notices[%d]: a text is over %d bytes", i,
                           KK_FLEET_NOTICE_BYTES - 1);
        snprintf(x->id, sizeof(x->id), "%s", id->valuestring);
        x->takeover = takeover;
        /* A language missing shows the other one. */
        snprintf(x->zh, sizeof(x->zh), "%s", zh ? zh->valuestring : en->valuestring);
        snprintf(x->en, sizeof(x->en), "%s", en ? en->valuestring : zh->valuestring);
        x->from_ms = (int64_t)from->valuedouble;
        x->to_ms = (int64_t)to->valuedouble;
        a->nnotices++;
        i++;
    }
    return KK_OK;
}

enum kk_err kk_fleet_parse(const char *json, size_t len, struct kk_fleet_answer *out,
                           struct kk_buf *err)
{
    memset(out, 0, sizeof(*out));
    cJSON *root = cJSON_ParseWithLength(json, len);
    enum kk_err rc = KK_OK;
    if (!cJSON_IsObject(root)) {
        rc = kk_fail(err, KK_ERR_PARSE, "heartbeat: the answer is not a JSON object");
        goto done;
    }
    const cJSON *commands = cJSON_GetObjectItemCaseSensitive(root, "commands");
    const cJSON *notices = cJSON_GetObjectItemCaseSensitive(root, "notices");
    const cJSON *hours = cJSON_GetObjectItemCaseSensitive(root, "hours");
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(root, "next_heartbeat_s");
    if (commands && !cJSON_IsNull(commands) && (rc = commands_from_json(commands, out, err)))
        goto done;
    if (notices && !cJSON_IsNull(notices)) {
        if ((rc = notices_from_json(notices, out, err)))
            goto done;
        out->has_notices = 1;
    }
    if (hours && !cJSON_IsNull(hours)) {
        if ((rc = hours_from_json(hours, &out->hours, err)))
            goto done;
        out->has_hours = 1;
    }
    if (next && !cJSON_IsNull(next)) {
        if (!cJSON_IsNumber(next) || next->valuedouble < 1 || next->valuedouble > 86400) {
            rc = kk_fail(err, KK_ERR_PARSE, "heartbeat: next_heartbeat_s is not 1..86400");
            goto done;
        }
        out->next_heartbeat_s = (unsigned)next->valuedouble;
    }
done:
    cJSON_Delete(root);
    return rc;
}

/* ---- commands run once --------------------------------------------------------------- */

struct done_entry {
    char id[KK_MAX_ID_LEN + 1];
    int ok, reported;
    char *detail;
};

struct kk_fleet_done {
    char *path;
    size_t n;
    struct done_entry e[MAX_DONE];
};

static void drop_first(struct kk_fleet_done *d, size_t i)
{
    kk_free(d->e[i].detail);
    memmove(&d->e[i], &d->e[i + 1], (d->n - i - 1) * sizeof(d->e[0]));
    d->n--;
}

static enum kk_err done_write(struct kk_fleet_done *d, struct kk_buf *err)
{
    cJSON *root = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(root, "done");
    char *text = NULL;
    enum kk_err rc = KK_OK;
    for (size_t i = 0; list && i < d->n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (o && !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            o = NULL;
        }
        if (!o || !cJSON_AddStringToObject(o, "id", d->e[i].id) ||
            !cJSON_AddBoolToObject(o, "ok", d->e[i].ok) ||
            !cJSON_AddStringToObject(o, "detail", d->e[i].detail ? d->e[i].detail : "") ||
            !cJSON_AddBoolToObject(o, "reported", d->e[i].reported)) {
            list = NULL;
        }
    }
    if (!list || !(text = cJSON_PrintUnformatted(root)))
        rc = kk_fail(err, KK_ERR_NOMEM, "fleet: out of memory");
    else
        rc = kk_file_write_atomic(d->path, text, strlen(text), err);
    cJSON_free(text);
    cJSON_Delete(root);
    return rc;
}

enum kk_err kk_fleet_done_open(struct kk_fleet_done **out, const char *state_dir,
                               struct kk_buf *err)
{
    struct kk_fleet_done *d = kk_calloc(1, sizeof(*d));
    *out = NULL;
    if (!d || !(d->path = kk_path_join(state_dir, DONE_FILE))) {
        kk_free(d);
        return kk_fail(err, KK_ERR_NOMEM, "fleet: out of memory");
    }
    struct kk_buf b = KK_BUF_INIT;
    enum kk_err rc = kk_file_read(d->path, MAX_DONE_FILE, &b, NULL);
    if (rc == KK_ERR_NOMEM || kk_buf_error(&b)) {
        kk_buf_release(&b);
        kk_fleet_done_close(d);
        return kk_fail(err, KK_ERR_NOMEM, "fleet: out of memory");
    }
    if (rc == KK_OK) {
        cJSON *root = cJSON_ParseWithLength(kk_buf_str(&b), b.len);
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "done"), *o;
        if (!cJSON_IsArray(list))
            kk_fail(err, KK_OK, "fleet: %s is damaged; starting with no command results", d->path);
        cJSON_ArrayForEach(o, list)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
            const cJSON *detail = cJSON_GetObjectItemCaseSensitive(o, "detail");
            if (!id_ok(id) || d->n >= MAX_DONE)
                continue;
            struct done_entry *e = &d->e[d->n++];
            snprintf(e->id, sizeof(e->id), "%s", id->valuestring);
            e->ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok"));
            e->reported = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "reported"));
            e->detail = kk_strdup(cJSON_IsString(detail) ? detail->valuestring : "");
        }
        cJSON_Delete(root);
    }
    kk_buf_release(&b);
    *out = d;
    return KK_OK;
}

void kk_fleet_done_close(struct kk_fleet_done *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        kk_free(d->e[i].detail);
    kk_free(d->path);
    kk_free(d);
}

int kk_fleet_done_has(const struct kk_fleet_done *d, const char *id)
{
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->e[i].id, id))
            return 1;
    return 0;
}

enum kk_err kk_fleet_done_add(struct kk_fleet_done *d, const char *id, int ok, const char *detail,
                              struct kk_buf *err)
{
    if (kk_fleet_done_has(d, id))
        return KK_OK;
    if (d->n == MAX_DONE) {
        size_t i = 0;
        while (i < d->n && !d->e[i].reported)
            i++;
        drop_first(d, i < d->n ? i : 0); /* all unreported: the oldest goes */
    }
    struct done_entry *e = &d->e[d->n];
    memset(e, 0, sizeof(*e));
    snprintf(e->id, sizeof(e->id), "%s", id);
    e->ok = ok;
    size_t n = strlen(detail ? detail : "");
    /* Keep the end of a long detail: the last log lines matter most. */
    e->detail = kk_strdup(n > MAX_DETAIL ? detail + n - MAX_DETAIL : detail ? detail : "");
    if (!e->detail)
        return kk_fail(err, KK_ERR_NOMEM, "fleet: out of memory");
    d->n++;
    return done_write(d, err);
}

char *kk_fleet_done_pending(const struct kk_fleet_done *d, size_t *count)
{
    cJSON *list = cJSON_CreateArray();
    *count = 0;
    for (size_t i = 0; list && i < d->n && *count < KK_FLEET_DONE_BATCH; i++) {
        if (d->e[i].reported)
            continue;
        cJSON *o = cJSON_CreateObject();
        if (o && !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            o = NULL;
        }
        if (!o || !cJSON_AddStringToObject(o, "id", d->e[i].id) ||
            !cJSON_AddBoolToObject(o, "ok", d->e[i].ok) ||
            !cJSON_AddStringToObject(o, "detail", d->e[i].detail)) {
            cJSON_Delete(list);
            return NULL;
        }
        (*count)++;
    }
    char *text = list ? cJSON_PrintUnformatted(list) : NULL;
    cJSON_Delete(list);
    char *copy = text ? kk_strdup(text) : NULL;
    cJSON_free(text);
    return copy;
}

enum kk_err kk_fleet_done_reported(struct kk_fleet_done *d, size_t count, struct kk_buf *err)
{
    size_t marked = 0;
    for (size_t i = 0; i < d->n && marked < count; i++)
        if (!d->e[i].reported) {
            d->e[i].reported = 1;
            marked++;
        }
    return marked ? done_write(d, err) : KK_OK;
}
