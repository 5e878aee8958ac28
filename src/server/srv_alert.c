/* Alerts: the watcher, the messages and their delivery (srv_alert.h). */
#include "srv_alert.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/fleet.h"
#include "kepu/limits.h"
#include "kepu/log.h"
#include "kepu/utf8.h"
#include "srv_metrics.h"

#define MOD            "alerts"
#define KV_PREFIX      "alerts:"
#define KV_LAST_ERROR  "alerts.last_error"
#define WATCH_PREFIX   "watch:"
#define DROPPED_PREFIX "dropped:"
#define MAX_URL        500
#define MAX_EMAIL      254
#define HOOK_TIMEOUT_S 10
#define MAIL_TIMEOUT_S 20
#define MAX_DETAIL     1000

void srv_alert_cfg_default(struct srv_alert_cfg *cfg)
{
    cfg->down_ms = 15LL * 60 * 1000;
    cfg->not_installed_ms = 6LL * 3600 * 1000;
    cfg->check_ms = 30 * 1000;
    cfg->disk_low_mb = 500;
    cfg->smtp_url = NULL;
    cfg->mail_from = "kepu-server@localhost";
}

/* --- recipients --------------------------------------------------------------------- */

static int url_ok(const char *u)
{
    size_t n = strlen(u);
    if (n > MAX_URL || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)))
        return 0;
    const char *host = u + (u[4] == 's' ? 8 : 7);
    if (!*host || *host == '/' || *host == ':')
        return 0;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return 0;
    return 1;
}

/* A plain address: local@domain.tld, printable ASCII without spaces, <>, quotes or commas. */
static int email_ok(const char *e)
{
    size_t n = strlen(e);
    const char *at = strchr(e, '@');
    if (!n || n > MAX_EMAIL || !at || at == e || strchr(at + 1, '@') || !strchr(at + 1, '.') ||
        at[1] == '.' || e[n - 1] == '.')
        return 0;
    for (const unsigned char *p = (const unsigned char *)e; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("<>\"(),;:[]\\", *p))
            return 0;
    return 1;
}

enum kk_err srv_alert_recipients_check(const cJSON *r, struct kk_buf *err)
{
    const cJSON *x;
    if (!cJSON_IsObject(r))
        return kk_fail(err, KK_ERR_INVALID,
                       "recipients: expected {\"webhooks\":[…],\"emails\":[…],\"digest_hour\":8}");
    cJSON_ArrayForEach(x, r)
    {
        if (strcmp(x->string, "webhooks") && strcmp(x->string, "emails") &&
            strcmp(x->string, "digest_hour") && strcmp(x->string, "venue"))
            return kk_fail(err, KK_ERR_INVALID,
                           "%.64s: unknown (use venue, webhooks, emails and digest_hour)",
                           x->string);
    }
    const cJSON *hooks = cJSON_GetObjectItemCaseSensitive(r, "webhooks");
    if (hooks && !cJSON_IsNull(hooks)) {
        if (!cJSON_IsArray(hooks) || cJSON_GetArraySize(hooks) > SRV_ALERT_WEBHOOKS)
            return kk_fail(err, KK_ERR_INVALID, "webhooks: expected a list of at most %d",
                           SRV_ALERT_WEBHOOKS);
        int i = 0;
        cJSON_ArrayForEach(x, hooks)
        {
            const cJSON *url = cJSON_GetObjectItemCaseSensitive(x, "url");
            const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(x, "format");
            if (!cJSON_IsObject(x))
                return kk_fail(err, KK_ERR_INVALID, "webhooks[%d]: expected {\"url\",\"format\"}",
                               i);
            if (!cJSON_IsString(url) || !url_ok(url->valuestring))
                return kk_fail(err, KK_ERR_INVALID,
                               "webhooks[%d].url: expected an http:// or https:// address of at"
                               " most %d characters, without spaces",
                               i, MAX_URL);
            if (fmt && !cJSON_IsNull(fmt) &&
                !(cJSON_IsString(fmt) &&
                  (!strcmp(fmt->valuestring, "json") || !strcmp(fmt->valuestring, "wecom") ||
                   !strcmp(fmt->valuestring, "dingtalk"))))
                return kk_fail(err, KK_ERR_INVALID,
                               "webhooks[%d].format: expected json, wecom or dingtalk", i);
            i++;
        }
    }
    const cJSON *mails = cJSON_GetObjectItemCaseSensitive(r, "emails");
    if (mails && !cJSON_IsNull(mails)) {
        if (!cJSON_IsArray(mails) || cJSON_GetArraySize(mails) > SRV_ALERT_EMAILS)
            return kk_fail(err, KK_ERR_INVALID, "emails: expected a list of at most %d",
                           SRV_ALERT_EMAILS);
        int i = 0;
        cJSON_ArrayForEach(x, mails)
        {
            if (!cJSON_IsString(x) || !email_ok(x->valuestring))
                return kk_fail(err, KK_ERR_INVALID,
                               "emails[%d]: \"%.60s\" is not a mail address like"
                               " duty@example.org",
                               i, cJSON_IsString(x) ? x->valuestring : "?");
            i++;
        }
    }
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(r, "digest_hour");
    if (h && !cJSON_IsNull(h) &&
        !(cJSON_IsNumber(h) && h->valuedouble == (double)(int)h->valuedouble && h->valueint >= 0 &&
          h->valueint <= 23))
        return kk_fail(err, KK_ERR_INVALID,
                       "digest_hour: expected a whole hour from 0 to 23, or null for no digest");
    return KK_OK;
}

/* --- delivery ----------------------------------------------------------------------- */

/* The scheme and host of url, for logs (a robot's key sits in its query). */
static void url_site(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://");
    size_t len = p ? (size_t)(p + 3 - url) + strcspn(p + 3, "/?#") : strlen(url);
    snprintf(out, n, "%.*s", (int)len, url);
}

static void note_failure(struct srv_store *s, int64_t now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note_failure(struct srv_store *s, int64_t now, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kk_warn(MOD, "%s", msg);
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (o && cJSON_AddStringToObject(o, "error", msg) &&
        cJSON_AddNumberToObject(o, "at_ms", (double)now) && (text = cJSON_PrintUnformatted(o)))
        srv_store_kv_set(s, KV_LAST_ERROR, text, now, NULL);
    cJSON_free(text);
    cJSON_Delete(o);
}

static size_t discard(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    (void)user;
    return size * n;
}

/* Posts body to one webhook; 0 when it answered 2xx. */
static int post_hook(struct srv_store *s, const char *url, const char *body, int64_t now)
{
    char site[160];
    url_site(url, site, sizeof(site));
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    long status = 0;
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    if (c && h) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)HOOK_TIMEOUT_S);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "kepu-server/" KK_VERSION);
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(h);
    if (c)
        curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        note_failure(s, now, "webhook %s: %s", site, curl_easy_strerror(rc));
        return -1;
    }
    if (status < 200 || status > 299) {
        note_failure(s, now, "webhook %s: answered HTTP %ld", site, status);
        return -1;
    }
    return 0;
}

struct mail_src {
    const char *p;
    size_t left;
};

static size_t mail_read(char *buf, size_t size, size_t n, void *user)
{
    struct mail_src *m = user;
    size_t k = size * n < m->left ? size * n : m->left;
    memcpy(buf, m->p, k);
    m->p += k;
    m->left -= k;
    return k;
}

/* Appends text as an RFC 2047 encoded word (UTF-8, base64). */
static void add_encoded(struct kk_buf *b, const char *text)
{
    size_t n = strlen(text), cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *enc = kk_malloc(cap);
    if (!enc) {
        kk_buf_adds(b, "kepu-server");
        return;
    }
    sodium_bin2base64(enc, cap, (const unsigned char *)text, n, sodium_base64_VARIANT_ORIGINAL);
    kk_buf_addf(b, "=?UTF-8?B?%s?=", enc);
    kk_free(enc);
}

/* Sends one mail to the addresses of the JSON array mails; 0 when the server took it. */
static int send_mail(struct srv_store *s, const struct srv_alert_cfg *cfg, const cJSON *mails,
                     const char *subject, const char *text, int64_t now)
{
    if (!cJSON_GetArraySize(mails))
        return 0;
    if (!cfg->smtp_url) {
        note_failure(s, now, "mail to %d address(es) not sent: the server has no --smtp URL",
                     cJSON_GetArraySize(mails));
        return -1;
    }
    struct kk_buf msg = KK_BUF_INIT;
    struct curl_slist *rcpt = NULL;
    const cJSON *x;
    char date[64];
    time_t t = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    char id[33];
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(id, sizeof(id), rnd, sizeof(rnd));
    kk_buf_addf(&msg, "Date: %s\r\nFrom: <%s>\r\nTo: ", date, cfg->mail_from);
    int first = 1;
    cJSON_ArrayForEach(x, mails)
    {
        kk_buf_addf(&msg, "%s<%s>", first ? "" : ", ", x->valuestring);
        first = 0;
        rcpt = curl_slist_append(rcpt, x->valuestring);
    }
    kk_buf_adds(&msg, "\r\nSubject: ");
    add_encoded(&msg, subject);
    kk_buf_addf(
        &msg,
        "\r\nMessage-ID: <%s@kepu-server>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        id);
    /* The body with CRLF line ends (a lone "." line cannot occur: every line is text). */
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            kk_buf_adds(&msg, "\r\n");
        else
            kk_buf_add(&msg, p, 1);
    }
    kk_buf_adds(&msg, "\r\n");
    CURL *c = curl_easy_init();
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    if (c && rcpt && !kk_buf_error(&msg)) {
        struct mail_src src = {msg.data, msg.len};
        curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, cfg->mail_from);
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, mail_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &src);
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)MAIL_TIMEOUT_S);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        rc = curl_easy_perform(c);
    }
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(rcpt);
    kk_buf_release(&msg);
    if (rc != CURLE_OK) {
        char site[160];
        url_site(cfg->smtp_url, site, sizeof(site));
        note_failure(s, now, "mail through %s: %s", site, curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

/* The recipients of scope ("" for all venues) as stored; NULL when none. */
static cJSON *recipients_of(struct srv_store *s, const char *venue)
{
    struct srv_table t = {0};
    char key[80];
    cJSON *r = NULL;
    snprintf(key, sizeof(key), "%s%s", KV_PREFIX, venue ? venue : "");
    if (!srv_store_fleet_list(s, "kv", key, &t, NULL)) {
        for (size_t i = 0; i < t.nrows && !r; i++)
            if (!strcmp(t.cells[i * 3].s, key))
                r = cJSON_Parse(t.cells[i * 3 + 1].s);
    }
    srv_table_release(&t);
    return r;
}

/* Sends one message (a JSON object with "text" and "subject") to the recipients of one
 * scope. */
static void deliver_scope(struct srv_store *s, const struct srv_alert_cfg *cfg, const cJSON *rcpt,
                          const cJSON *msg, int64_t now)
{
    const cJSON *hooks = cJSON_GetObjectItemCaseSensitive(rcpt, "webhooks"), *h;
    const char *text = cJSON_GetObjectItemCaseSensitive(msg, "text")->valuestring;
    const char *subject = cJSON_GetObjectItemCaseSensitive(msg, "subject")->valuestring;
    char *plain = cJSON_PrintUnformatted(msg), *robot = NULL;
    cJSON *r = cJSON_CreateObject(), *inner = NULL;
    if (r && cJSON_AddStringToObject(r, "msgtype", "text") &&
        (inner = cJSON_AddObjectToObject(r, "text")) &&
        cJSON_AddStringToObject(inner, "content", text))
        robot = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    cJSON_ArrayForEach(h, hooks)
    {
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(h, "url");
        const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(h, "format");
        int is_robot = cJSON_IsString(fmt) && strcmp(fmt->valuestring, "json");
        const char *body = is_robot ? robot : plain;
        if (cJSON_IsString(url) && body)
            post_hook(s, url->valuestring, body, now);
    }
    const cJSON *mails = cJSON_GetObjectItemCaseSensitive(rcpt, "emails");
    if (cJSON_IsArray(mails))
        send_mail(s, cfg, mails, subject, text, now);
    cJSON_free(plain);
    cJSON_free(robot);
}

/* Sends msg to everyone for all venues and to venue's own recipients. */
static void deliver(struct srv_store *s, const struct srv_alert_cfg *cfg, const char *venue,
                    const cJSON *msg, int64_t now)
{
    cJSON *all = recipients_of(s, ""), *own = venue && *venue ? recipients_of(s, venue) : NULL;
    if (all)
        deliver_scope(s, cfg, all, msg, now);
    if (own)
        deliver_scope(s, cfg, own, msg, now);
    if (!all && !own)
        kk_info(MOD, "no recipients for %s: %s", venue && *venue ? venue : "all venues",
                cJSON_GetObjectItemCaseSensitive(msg, "subject")->valuestring);
    cJSON_Delete(all);
    cJSON_Delete(own);
}

/* --- messages ------------------------------------------------------------------------ */

static void minutes_text(int64_t ms, char *out, size_t n)
{
    int64_t min = ms / 60000;
    if (min < 120)
        snprintf(out, n, "%lld min", (long long)(min < 1 ? 1 : min));
    else
        snprintf(out, n, "%lld h", (long long)(min / 60));
}

/* The words of one alert (zh first, then en). raised 1: it starts; 0: it is over. */
static void alert_words(const char *kind, int raised, const char *kiosk, const char *venue,
                        const char *detail, int64_t for_ms, struct kk_buf *zh, struct kk_buf *en)
{
    char dur[32];
    minutes_text(for_ms, dur, sizeof(dur));
    const char *v = venue ? venue : "?";
    if (!strcmp(kind, "down") && raised) {
        kk_buf_addf(zh, "终端 %s（场馆 %s）离线：开放时间内 %s 没有心跳", kiosk, v, dur);
        kk_buf_addf(en, "Kiosk %s (venue %s) is down: no heartbeat for %s during opening hours",
                    kiosk, v, dur);
    } else if (!strcmp(kind, "down")) {
        kk_buf_addf(zh, "终端 %s（场馆 %s）恢复在线，离线 %s", kiosk, v, dur);
        kk_buf_addf(en, "Kiosk %s (venue %s) is back up after %s", kiosk, v, dur);
    } else if (!strcmp(kind, "not_installed") && raised) {
        kk_buf_addf(zh, "终端 %s（场馆 %s）已分配的内容 %s 仍未安装：%s", kiosk, v, dur, detail);
        kk_buf_addf(en, "Kiosk %s (venue %s) has not installed its assigned content for %s: %s",
                    kiosk, v, dur, detail);
    } else if (!strcmp(kind, "not_installed")) {
        kk_buf_addf(zh, "终端 %s（场馆 %s）已安装分配的内容", kiosk, v);
        kk_buf_addf(en, "Kiosk %s (venue %s) has installed its assigned content", kiosk, v);
    } else if (!strcmp(kind, "rollback")) {
        kk_buf_addf(zh, "终端 %s（场馆 %s）多次启动失败，已退回上一版内容：%s", kiosk, v, detail);
        kk_buf_addf(en, "Kiosk %s (venue %s) rolled content back after failed starts: %s", kiosk, v,
                    detail);
    } else if (!strcmp(kind, "events_dropped") && raised) {
        kk_buf_addf(zh, "终端 %s（场馆 %s）的事件日志已满，丢弃了最早的事件：%s", kiosk, v, detail);
        kk_buf_addf(en, "Kiosk %s (venue %s) dropped its oldest events, its journal was full: %s",
                    kiosk, v, detail);
    } else if (!strcmp(kind, "events_dropped")) {
        kk_buf_addf(zh, "终端 %s（场馆 %s）一天内没有再丢弃事件", kiosk, v);
        kk_buf_addf(en, "Kiosk %s (venue %s) has dropped no more events for a day", kiosk, v);
    } else if (!strcmp(kind, "disk_low") && raised) {
        kk_buf_addf(zh, "终端 %s（场馆 %s）磁盘空间不足：%s", kiosk, v, detail);
        kk_buf_addf(en, "Kiosk %s (venue %s) is low on disk space: %s", kiosk, v, detail);
    } else {
        kk_buf_addf(zh, "终端 %s（场馆 %s）磁盘空间已恢复", kiosk, v);
        kk_buf_addf(en, "Kiosk %s (venue %s) has enough disk space again", kiosk, v);
    }
}

/* Sends the message of one alert raised or cleared. */
static void send_alert(struct srv_store *s, const struct srv_alert_cfg *cfg, const char *kiosk,
                       const char *venue, const char *kind, int raised, int64_t since,
                       const char *detail, int64_t now)
{
    struct kk_buf zh = KK_BUF_INIT, en = KK_BUF_INIT, text = KK_BUF_INIT, subj = KK_BUF_INIT;
    alert_words(kind, raised, kiosk, venue, detail, now - since, &zh, &en);
    kk_buf_addf(&text, "%s\n%s\n", kk_buf_str(&zh), kk_buf_str(&en));
    kk_buf_addf(&subj, "[Kepu] %s", kk_buf_str(&en));
    cJSON *m = cJSON_CreateObject();
    if (m && cJSON_AddStringToObject(m, "source", "kepu-server") &&
        cJSON_AddStringToObject(m, "event", raised ? "raised" : "cleared") &&
        cJSON_AddStringToObject(m, "alert", kind) && cJSON_AddStringToObject(m, "kiosk", kiosk) &&
        (venue ? cJSON_AddStringToObject(m, "venue", venue) : cJSON_AddNullToObject(m, "venue")) &&
        cJSON_AddNumberToObject(m, "since_ms", (double)since) &&
        cJSON_AddNumberToObject(m, "at_ms", (double)now) &&
        cJSON_AddStringToObject(m, "detail", detail ? detail : "") &&
        cJSON_AddStringToObject(m, "subject", kk_buf_str(&subj)) &&
        cJSON_AddStringToObject(m, "text", kk_buf_str(&text))) {
        kk_info(MOD, "%s", kk_buf_str(&en));
        deliver(s, cfg, venue, m, now);
    }
    cJSON_Delete(m);
    kk_buf_release(&zh);
    kk_buf_release(&en);
    kk_buf_release(&text);
    kk_buf_release(&subj);
}

/* --- the watcher --------------------------------------------------------------------- */

struct alert_row {
    const char *state, *detail;
    int64_t since;
};

/* The row of kiosk and kind in the alerts table t; NULL when none. */
static const struct srv_cell *find_alert(const struct srv_table *t, const char *kiosk,
                                         const char *kind)
{
    for (size_t r = 0; r < t->nrows; r++) {
        const struct srv_cell *c = &t->cells[r * 7];
        if (!strcmp(c[0].s, kiosk) && !strcmp(c[1].s, kind))
            return c;
    }
    return NULL;
}

/* Moves an alert through its states for condition cond (with its detail) held since
 * since; raise_after: how long it must hold before it is raised; clear_msg: whether its
 * end is told. */
static void judge(struct srv_store *s, const struct srv_alert_cfg *cfg,
                  const struct srv_table *alerts, const char *kiosk, const char *venue,
                  const char *kind, int cond, int64_t since, const char *detail,
                  int64_t raise_after, int64_t now)
{
    const struct srv_cell *a = find_alert(alerts, kiosk, kind);
    int changed = 0;
    if (cond && !a) {
        int now_due = now - since >= raise_after;
        if (srv_store_alert_step(s, kiosk, kind, NULL, now_due ? "open" : "pending", since, detail,
                                 now, &changed, NULL) == KK_OK &&
            changed && now_due)
            send_alert(s, cfg, kiosk, venue, kind, 1, since, detail, now);
    } else if (cond && !strcmp(a[2].s, "pending") && now - a[3].i >= raise_after) {
        if (srv_store_alert_step(s, kiosk, kind, "pending", "open", 0, detail, now, &changed,
                                 NULL) == KK_OK &&
            changed)
            send_alert(s, cfg, kiosk, venue, kind, 1, a[3].i, detail, now);
    } else if (!cond && a) {
        int was_open = !strcmp(a[2].s, "open");
        if (srv_store_alert_step(s, kiosk, kind, a[2].s, NULL, 0, NULL, now, &changed, NULL) ==
                KK_OK &&
            changed && was_open)
            send_alert(s, cfg, kiosk, venue, kind, 0, a[3].i, a[5].s, now);
    }
}

/* Events dropped: the kiosk's journal, full (offline for long), dropped its oldest events;
 * dropped is the count it reports in its heartbeats, which only grows (it starts again at 0
 * with a new journal). The count last seen and when it last grew are kept in the store
 * (server_kv "dropped:KIOSK" = "COUNT GREW_MS"); the alert holds for a day after it grew. */
static void judge_dropped(struct srv_store *s, const struct srv_alert_cfg *cfg,
                          const struct srv_table *alerts, const struct srv_table *counts,
                          const char *kiosk, const char *venue, int64_t dropped, int64_t now)
{
    char key[KK_MAX_ID_LEN + sizeof(DROPPED_PREFIX)], value[48], detail[64];
    long long base = 0, grew = 0;
    snprintf(key, sizeof(key), "%s%s", DROPPED_PREFIX, kiosk);
    for (size_t r = 0; r < counts->nrows; r++)
        if (!strcmp(counts->cells[r * 3].s, key) &&
            sscanf(counts->cells[r * 3 + 1].s, "%lld %lld", &base, &grew) != 2)
            base = grew = 0;
    if (dropped != base) {
        if (dropped > base)
            grew = now;
        snprintf(value, sizeof(value), "%lld %lld", (long long)dropped, grew);
        srv_store_kv_set(s, key, value, now, NULL);
    }
    snprintf(detail, sizeof(detail), "%lld events dropped in all", (long long)dropped);
    judge(s, cfg, alerts, kiosk, venue, "events_dropped",
          dropped > 0 && grew && now - grew < SRV_DROPPED_OPEN_MS, grew, detail, 0, now);
}

/* The packs the kiosk should have now (dated assignments in force count, those to come or
 * over do not: srv_kiosk_wanted) and does not report installed, as "id@version, …" in
 * missing; a version nobody uploaded yet is named as such (the kiosk cannot install it). */
static void not_installed(struct srv_store *s, const char *kiosk, const char *packs_json,
                          int64_t now, struct kk_buf *missing)
{
    struct srv_wanted w[KK_MAX_PACKS];
    size_t n = 0;
    cJSON *have = cJSON_Parse(packs_json ? packs_json : "[]");
    if (!srv_kiosk_wanted(s, kiosk, now, w, KK_MAX_PACKS, &n, NULL)) {
        for (size_t r = 0; r < n; r++) {
            char want[2 * KK_MAX_ID_LEN + 2];
            snprintf(want, sizeof(want), "%.64s@%.64s", w[r].id, w[r].version);
            int found = 0;
            const cJSON *x;
            cJSON_ArrayForEach(x, have) found |= cJSON_IsString(x) && !strcmp(x->valuestring, want);
            if (!found)
                kk_buf_addf(missing, "%s%s%s", missing->len ? ", " : "", want,
                            w[r].uploaded ? "" : " (not uploaded to the server)");
        }
    }
    cJSON_Delete(have);
}

/* Whether kiosk is inside its opening hours at now (no hours: always). The latest
 * "hours" of its overlay wins (venue < tag < kiosk), as the kiosk's own does. */
static int open_now(struct srv_store *s, const char *kiosk, int64_t now, struct kk_hours *h)
{
    struct srv_table t = {0};
    const char *text = NULL;
    int open = 1;
    if (!srv_store_kiosk_settings(s, kiosk, &t, NULL))
        for (size_t r = 0; r < t.nrows; r++)
            if (!strcmp(t.cells[r * 4 + 2].s, "hours"))
                text = t.cells[r * 4 + 3].s;
    if (text && strcmp(text, "null")) {
        struct kk_buf err = KK_BUF_INIT;
        if (kk_hours_parse(text, strlen(text), h, &err))
            kk_warn(MOD, "kiosk %s: its opening hours: %s", kiosk, kk_buf_str(&err));
        else
            open = kk_hours_open(h, now, NULL);
        kk_buf_release(&err);
    }
    srv_table_release(&t);
    return open;
}

static void city_date(int64_t ms, char out[11], int *hour)
{
    time_t t = (time_t)(ms / 1000 + SRV_DAY_OFFSET_S);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
    if (hour)
        *hour = tm.tm_hour;
}

/* The daily digest of one scope (venue "" for all) when its hour has come and no server
 * sent today's yet. */
static void digest(struct srv_store *s, const struct srv_alert_cfg *cfg, const char *venue,
                   const cJSON *rcpt, const struct srv_table *kiosks,
                   const struct srv_table *alerts, int64_t now)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(rcpt, "digest_hour");
    char today[11], yesterday[11], kind[120];
    int hour;
    if (!cJSON_IsNumber(h))
        return;
    city_date(now, today, &hour);
    if (hour < h->valueint)
        return;
    int changed = 0;
    snprintf(kind, sizeof(kind), "digest:%s:%s", venue, today);
    if (srv_store_alert_step(s, "", kind, NULL, "sent", now, "", now, &changed, NULL) || !changed)
        return;
    city_date(now - 86400000LL, yesterday, NULL);
    snprintf(kind, sizeof(kind), "digest:%s:%s", venue, yesterday);
    srv_store_alert_step(s, "", kind, "sent", NULL, 0, NULL, now, &changed, NULL);

    struct kk_buf text = KK_BUF_INIT, subj = KK_BUF_INIT, zh = KK_BUF_INIT, en = KK_BUF_INIT;
    cJSON *m = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(m, "alerts"), *off = cJSON_AddArrayToObject(m, "offline");
    size_t nopen = 0, noff = 0;
    kk_buf_addf(&text, "%s 科普终端日报 / Kepu kiosks daily digest (%s)\n\n", today,
                *venue ? venue : "all venues");
    for (size_t r = 0; r < alerts->nrows; r++) {
        const struct srv_cell *c = &alerts->cells[r * 7];
        if (strcmp(c[2].s, "open") || c[6].kind != SRV_CELL_TEXT ||
            (*venue && strcmp(c[6].s, venue)))
            continue;
        kk_buf_reset(&zh);
        kk_buf_reset(&en);
        alert_words(c[1].s, 1, c[0].s, c[6].s, c[5].s, now - c[3].i, &zh, &en);
        kk_buf_addf(&text, "- %s\n  %s\n", kk_buf_str(&zh), kk_buf_str(&en));
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(list, o);
        cJSON_AddStringToObject(o, "kiosk", c[0].s);
        cJSON_AddStringToObject(o, "venue", c[6].s);
        cJSON_AddStringToObject(o, "alert", c[1].s);
        cJSON_AddNumberToObject(o, "since_ms", (double)c[3].i);
        cJSON_AddStringToObject(o, "detail", c[5].s);
        nopen++;
    }
    if (!nopen)
        kk_buf_adds(&text, "没有未结束的告警 / No open alerts.\n");
    kk_buf_adds(&text, "\n离线终端 / Kiosks offline:\n");
    for (size_t r = 0; r < kiosks->nrows; r++) {
        const struct srv_cell *c = &kiosks->cells[r * 8];
        if (*venue && strcmp(c[1].s, venue))
            continue;
        if (c[2].kind == SRV_CELL_INT && now - c[2].i < cfg->down_ms)
            continue;
        char dur[32] = "-";
        if (c[2].kind == SRV_CELL_INT)
            minutes_text(now - c[2].i, dur, sizeof(dur));
        kk_buf_addf(&text, "- %s (%s): %s\n", c[0].s, c[1].s,
                    c[2].kind == SRV_CELL_INT ? dur : "never seen / 从未连接");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(off, o);
        cJSON_AddStringToObject(o, "kiosk", c[0].s);
        cJSON_AddStringToObject(o, "venue", c[1].s);
        if (c[2].kind == SRV_CELL_INT)
            cJSON_AddNumberToObject(o, "last_seen_ms", (double)c[2].i);
        else
            cJSON_AddNullToObject(o, "last_seen_ms");
        noff++;
    }
    if (!noff)
        kk_buf_adds(&text, "- 无 / none\n");
    kk_buf_addf(&subj, "[Kepu] daily digest %s: %zu open alert(s), %zu kiosk(s) offline", today,
                nopen, noff);
    if (cJSON_AddStringToObject(m, "source", "kepu-server") &&
        cJSON_AddStringToObject(m, "event", "digest") &&
        cJSON_AddStringToObject(m, "venue", venue) && cJSON_AddStringToObject(m, "day", today) &&
        cJSON_AddNumberToObject(m, "at_ms", (double)now) &&
        cJSON_AddStringToObject(m, "subject", kk_buf_str(&subj)) &&
        cJSON_AddStringToObject(m, "text", kk_buf_str(&text))) {
        kk_info(MOD, "%s (%s)", kk_buf_str(&subj), *venue ? venue : "all venues");
        deliver_scope(s, cfg, rcpt, m, now);
    }
    cJSON_Delete(m);
    kk_buf_release(&text);
    kk_buf_release(&subj);
    kk_buf_release(&zh);
    kk_buf_release(&en);
}

void srv_alert_check(struct srv_store *s, const struct srv_alert_cfg *cfg, int64_t now)
{
    struct srv_table kiosks = {0}, alerts = {0}, scopes = {0}, counts = {0};
    struct kk_buf err = KK_BUF_INIT, missing = KK_BUF_INIT;
    struct kk_hours *h = kk_malloc(sizeof(*h));
    if (!h || srv_store_fleet_list(s, "watch", NULL, &kiosks, &err) ||
        srv_store_fleet_list(s, "alerts", NULL, &alerts, &err) ||
        srv_store_fleet_list(s, "kv", DROPPED_PREFIX, &counts, &err)) {
        kk_warn(MOD, "cannot look at the kiosks: %s", kk_buf_str(&err));
        goto done;
    }
    for (size_t r = 0; r < kiosks.nrows; r++) {
        const struct srv_cell *c = &kiosks.cells[r * 8];
        const char *kiosk = c[0].s, *venue = c[1].s;
        if (c[2].kind != SRV_CELL_INT)
            continue; /* never heard of: nothing to judge yet */
        int64_t seen = c[2].i;
        int silent = now - seen >= cfg->down_ms;
        /* Down: silent during opening hours. Silent while closed raises nothing; an alert
         * raised before closing stays open until the kiosk speaks again. */
        const struct srv_cell *down = find_alert(&alerts, kiosk, "down");
        int cond = silent && (down || open_now(s, kiosk, now, h));
        judge(s, cfg, &alerts, kiosk, venue, "down", cond, seen, "", 0, now);
        if (silent)
            continue; /* what a silent kiosk has installed or free is not known */
        kk_buf_reset(&missing);
        not_installed(s, kiosk, c[4].kind == SRV_CELL_TEXT ? c[4].s : NULL, now, &missing);
        if (c[6].kind == SRV_CELL_TEXT && *c[6].s && missing.len)
            kk_buf_addf(&missing, " (the kiosk says: %.300s)", c[6].s);
        const struct srv_cell *ni = find_alert(&alerts, kiosk, "not_installed");
        judge(s, cfg, &alerts, kiosk, venue, "not_installed", missing.len > 0, ni ? ni[3].i : now,
              kk_buf_str(&missing), cfg->not_installed_ms, now);
        char disk[64] = "";
        int low = c[5].kind == SRV_CELL_INT && cfg->disk_low_mb && c[5].i < cfg->disk_low_mb;
        if (low)
            snprintf(disk, sizeof(disk), "%lld MB free", (long long)c[5].i);
        const struct srv_cell *dl = find_alert(&alerts, kiosk, "disk_low");
        judge(s, cfg, &alerts, kiosk, venue, "disk_low", low, dl ? dl[3].i : now, disk, 0, now);
        judge_dropped(s, cfg, &alerts, &counts, kiosk, venue,
                      c[7].kind == SRV_CELL_INT ? c[7].i : 0, now);
    }
    /* Rollbacks: noted by the events handler; raised here, closed after a day. */
    for (size_t r = 0; r < alerts.nrows; r++) {
        const struct srv_cell *c = &alerts.cells[r * 7];
        if (strcmp(c[1].s, "rollback"))
            continue;
        const char *venue = c[6].kind == SRV_CELL_TEXT ? c[6].s : NULL;
        int changed = 0;
        if (!strcmp(c[2].s, "pending")) {
            if (!srv_store_alert_step(s, c[0].s, "rollback", "pending", "open", 0, NULL, now,
                                      &changed, NULL) &&
                changed)
                send_alert(s, cfg, c[0].s, venue, "rollback", 1, c[3].i, c[5].s, now);
        } else if (now - c[3].i >= SRV_ROLLBACK_OPEN_MS) {
            srv_store_alert_step(s, c[0].s, "rollback", c[2].s, NULL, 0, NULL, now, &changed, NULL);
        }
    }
    /* The digests, with the alerts as they are after this look. */
    srv_table_release(&alerts);
    if (srv_store_fleet_list(s, "alerts", NULL, &alerts, &err) ||
        srv_store_fleet_list(s, "kv", KV_PREFIX, &scopes, &err)) {
        kk_warn(MOD, "digest: %s", kk_buf_str(&err));
        goto done;
    }
    for (size_t r = 0; r < scopes.nrows; r++) {
        cJSON *rcpt = cJSON_Parse(scopes.cells[r * 3 + 1].s);
        if (rcpt)
            digest(s, cfg, scopes.cells[r * 3].s + strlen(KV_PREFIX), rcpt, &kiosks, &alerts, now);
        cJSON_Delete(rcpt);
    }
done:
    kk_free(h);
    srv_table_release(&kiosks);
    srv_table_release(&alerts);
    srv_table_release(&scopes);
    srv_table_release(&counts);
    kk_buf_release(&err);
    kk_buf_release(&missing);
}

void srv_alert_rollback(struct srv_store *s, const char *kiosk, const char *detail, int64_t now)
{
    int changed = 0;
    char cut[MAX_DETAIL + 1];
    snprintf(cut, sizeof(cut), "%s", detail ? detail : "");
    struct kk_buf err = KK_BUF_INIT;
    if (srv_store_alert_step(s, kiosk, "rollback", NULL, "pending", now, cut, now, &changed, &err))
        kk_warn(MOD, "kiosk %s: a rollback alert could not be noted: %s", kiosk, kk_buf_str(&err));
    kk_buf_release(&err);
}

struct srv_alert {
    struct srv_store *store;
    struct srv_alert_cfg cfg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
};

static void *watcher(void *arg)
{
    struct srv_alert *a = arg;
    pthread_mutex_lock(&a->lock);
    while (!a->stop) {
        pthread_mutex_unlock(&a->lock);
        srv_alert_check(a->store, &a->cfg, kk_clock_wall_ms());
        pthread_mutex_lock(&a->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(a->cfg.check_ms / 1000);
        until.tv_nsec += (long)(a->cfg.check_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!a->stop && pthread_cond_timedwait(&a->wake, &a->lock, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

enum kk_err srv_alert_start(struct srv_alert **out, struct srv_store *s,
                            const struct srv_alert_cfg *cfg, struct kk_buf *err)
{
    struct srv_alert *a = kk_calloc(1, sizeof(*a));
    *out = NULL;
    if (!a)
        return kk_fail(err, KK_ERR_NOMEM, "alerts: out of memory");
    a->store = s;
    a->cfg = *cfg;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->wake, NULL);
    if (pthread_create(&a->thread, NULL, watcher, a)) {
        kk_free(a);
        return kk_fail(err, KK_ERR_IO, "alerts: cannot start the watcher thread");
    }
    *out = a;
    return KK_OK;
}

void srv_alert_stop(struct srv_alert *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->stop = 1;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->wake);
    kk_free(a);
}

/* --- watching ------------------------------------------------------------------------ */

int srv_alert_watched(struct srv_store *s, const char *kiosk, int64_t now)
{
    struct srv_table t = {0};
    char key[80];
    int watched = 0;
    snprintf(key, sizeof(key), "%s%s", WATCH_PREFIX, kiosk);
    if (!srv_store_fleet_list(s, "kv", key, &t, NULL))
        for (size_t r = 0; r < t.nrows; r++)
            if (!strcmp(t.cells[r * 3].s, key) && strtoll(t.cells[r * 3 + 1].s, NULL, 10) > now)
                watched = 1;
    srv_table_release(&t);
    return watched;
}

enum kk_err srv_alert_watch(struct srv_store *s, const char *kiosk, int64_t now, struct kk_buf *err)
{
    char key[80], until[32];
    snprintf(key, sizeof(key), "%s%s", WATCH_PREFIX, kiosk);
    snprintf(until, sizeof(until), "%lld", (long long)(now + SRV_WATCH_MS));
    return srv_store_kv_set(s, key, until, now, err);
}

/* --- routes -------------------------------------------------------------------------- */

/* GET /api/v1/alerts: {"alerts":[…open and pending…],"recipients":[{"venue",…}],
 * "last_error":{"error","at_ms"}|null} */
void srv_alert_list(struct srv_req *req, struct srv_reply *out)
{
    struct srv_table a = {0}, r = {0}, e = {0};
    struct kk_buf err = KK_BUF_INIT;
    if (srv_store_fleet_list(req->store, "alerts", NULL, &a, &err) ||
        srv_store_fleet_list(req->store, "kv", KV_PREFIX, &r, &err) ||
        srv_store_fleet_list(req->store, "kv", KV_LAST_ERROR, &e, &err)) {
        kk_error(MOD, "%s", kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
        goto done;
    }
    cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, "alerts");
    cJSON *rl = cJSON_AddArrayToObject(o, "recipients");
    for (size_t i = 0; list && i < a.nrows; i++) {
        const struct srv_cell *c = &a.cells[i * 7];
        if (!*c[0].s)
            continue; /* a digest's mark */
        cJSON *x = cJSON_CreateObject();
        cJSON_AddItemToArray(list, x);
        cJSON_AddStringToObject(x, "kiosk", c[0].s);
        cJSON_AddStringToObject(x, "alert", c[1].s);
        cJSON_AddStringToObject(x, "state", c[2].s);
        cJSON_AddNumberToObject(x, "since_ms", (double)c[3].i);
        cJSON_AddNumberToObject(x, "updated_ms", (double)c[4].i);
        cJSON_AddStringToObject(x, "detail", c[5].s);
        if (c[6].kind == SRV_CELL_TEXT)
            cJSON_AddStringToObject(x, "venue", c[6].s);
        else
            cJSON_AddNullToObject(x, "venue");
    }
    for (size_t i = 0; rl && i < r.nrows; i++) {
        cJSON *x = cJSON_Parse(r.cells[i * 3 + 1].s);
        if (!x)
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(x, "venue");
        cJSON_AddStringToObject(x, "venue", r.cells[i * 3].s + strlen(KV_PREFIX));
        cJSON_AddNumberToObject(x, "updated_ms", (double)r.cells[i * 3 + 2].i);
        cJSON_AddItemToArray(rl, x);
    }
    cJSON *le = NULL;
    for (size_t i = 0; i < e.nrows && !le; i++)
        if (!strcmp(e.cells[i * 3].s, KV_LAST_ERROR))
            le = cJSON_Parse(e.cells[i * 3 + 1].s);
    if (le)
        cJSON_AddItemToObject(o, "last_error", le);
    else
        cJSON_AddNullToObject(o, "last_error");
    srv_reply_json(out, 200, o);
done:
    srv_table_release(&a);
    srv_table_release(&r);
    srv_table_release(&e);
    kk_buf_release(&err);
}

/* POST /api/v1/alerts/recipients {"venue":"" or ID,"webhooks":[…],"emails":[…],
 * "digest_hour":8}: replaces that scope's recipients; all empty removes them. */
void srv_alert_recipients_post(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out);
    struct kk_buf err = KK_BUF_INIT;
    struct srv_table t = {0};
    char *text = NULL;
    if (!root)
        return;
    if (srv_alert_recipients_check(root, &err)) {
        srv_reply_error(out, 400, "%s", kk_buf_str(&err));
        goto done;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "venue");
    char venue[KK_MAX_ID_LEN + 2];
    snprintf(venue, sizeof(venue), "%s", cJSON_IsString(v) ? v->valuestring : "");
    if (v && !cJSON_IsNull(v) && !cJSON_IsString(v)) {
        srv_reply_error(out, 400, "venue: expected a venue id, or \"\" for all venues");
        goto done;
    }
    if (*venue) {
        if (!srv_id_valid(venue)) {
            srv_reply_error(out, 400, "venue: \"%.64s\" is not a venue id", venue);
            goto done;
        }
        enum kk_err rc = srv_store_targets(req->store, "venue", venue, &t, &err);
        if (rc == KK_ERR_NOTFOUND) {
            srv_reply_error(out, 404, "venue %s does not exist", venue);
            goto done;
        } else if (rc) {
            srv_reply_error(out, 503, "store unavailable");
            goto done;
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(root, "venue");
    const cJSON *hooks = cJSON_GetObjectItemCaseSensitive(root, "webhooks");
    const cJSON *mails = cJSON_GetObjectItemCaseSensitive(root, "emails");
    const cJSON *hour = cJSON_GetObjectItemCaseSensitive(root, "digest_hour");
    int empty = cJSON_GetArraySize(hooks) == 0 && cJSON_GetArraySize(mails) == 0 &&
                (!hour || cJSON_IsNull(hour));
    if (!empty && !(text = cJSON_PrintUnformatted(root))) {
        srv_reply_error(out, 500, "out of memory");
        goto done;
    }
    char key[80];
    snprintf(key, sizeof(key), "%s%s", KV_PREFIX, venue);
    int64_t now = kk_clock_wall_ms();
    if (srv_store_kv_set(req->store, key, text, now, &err)) {
        kk_error(MOD, "%s", kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
        goto done;
    }
    srv_store_audit_add(req->store, now, req->who, "alerts.recipients", *venue ? venue : "*",
                        text ? text : "{}", NULL);
    kk_info(MOD, "%s set the alert recipients of %s", req->who, *venue ? venue : "all venues");
    srv_reply_text(out, 200, "application/json", "{\"ok\":true}", 11);
done:
    cJSON_free(text);
    cJSON_Delete(root);
    srv_table_release(&t);
    kk_buf_release(&err);
}

/* POST /api/v1/kiosks/ID/watch: the office has the kiosk's page open. */
void srv_alert_watch_post(struct srv_req *req, struct srv_reply *out)
{
    struct kk_buf err = KK_BUF_INIT;
    struct srv_table t = {0};
    const char *kiosk = req->params[0];
    enum kk_err rc = srv_id_valid(kiosk) ? srv_store_targets(req->store, "kiosk", kiosk, &t, &err)
                                         : KK_ERR_NOTFOUND;
    if (rc == KK_ERR_NOTFOUND)
        srv_reply_error(out, 404, "kiosk %.64s does not exist", kiosk);
    else if (rc || srv_alert_watch(req->store, kiosk, kk_clock_wall_ms(), &err))
        srv_reply_error(out, 503, "store unavailable");
    else
        srv_reply_text(out, 200, "application/json", "{\"ok\":true,\"watch_s\":60}", 24);
    srv_table_release(&t);
    kk_buf_release(&err);
}
