#include "srv_preview.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "kepu/pack.h"
#include "pack_kiosk.h"
#include "srv_drafts.h"
#include "srv_store.h"

#define MAX_MENU_PAGES 200
#define MAX_SCREENS    2000
#define MAX_ROUNDS     40 /* quiz rounds to wait for a question that rounds pick at random */
#define MIN_SIDE       320
#define MAX_SIDE       4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t freed = PTHREAD_COND_INITIALIZER;
static int running, waiting;
static char kiosk_bin[PATH_MAX];

void srv_preview_set_kiosk(const char *path)
{
    snprintf(kiosk_bin, sizeof(kiosk_bin), "%s", path ? path : "");
}

static int executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* --kiosk-bin, else ../app/kepu-kiosk (the build tree) or kepu-kiosk beside kepu-server. */
static int find_kiosk(char *out, size_t size)
{
    if (kiosk_bin[0]) {
        snprintf(out, size, "%s", kiosk_bin);
        return executable(out);
    }
    char self[PATH_MAX - 32]; /* room for the names added below */
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0 || size < PATH_MAX)
        return 0;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    snprintf(out, size, "%s/../app/kepu-kiosk", self);
    if (executable(out))
        return 1;
    snprintf(out, size, "%s/kepu-kiosk", self);
    return executable(out);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes one of the SRV_PREVIEW_RUNNING places, waiting in a queue of SRV_PREVIEW_QUEUE
 * until deadline. Returns 0 when the queue is full or the wait ran out. */
static int take_place(long long deadline)
{
    int ok = 0;
    pthread_mutex_lock(&lock);
    if (running < SRV_PREVIEW_RUNNING) {
        running++;
        ok = 1;
    } else if (waiting < SRV_PREVIEW_QUEUE) {
        waiting++;
        while (running >= SRV_PREVIEW_RUNNING && now_ms() < deadline) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            long long left = deadline - now_ms();
            until.tv_sec += left / 1000;
            until.tv_nsec += (left % 1000) * 1000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&freed, &lock, &until);
        }
        waiting--;
        if (running < SRV_PREVIEW_RUNNING) {
            running++;
            ok = 1;
        }
    }
    pthread_mutex_unlock(&lock);
    return ok;
}

static void give_place(void)
{
    pthread_mutex_lock(&lock);
    running--;
    pthread_cond_signal(&freed);
    pthread_mutex_unlock(&lock);
}

/* What to show. */
struct ask {
    const char *topic;
    int page;             /* 1-based; 0 when a question is asked */
    const char *question; /* question id, or NULL */
    const char *lang;
    int w, h, large;
    int64_t revision;
};

static int parse_ask(const cJSON *b, struct ask *a, struct srv_reply *out)
{
    memset(a, 0, sizeof(*a));
    a->lang = "zh";
    a->w = 1920;
    a->h = 1080;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "topic");
    if (!cJSON_IsString(v) || !*v->valuestring) {
        srv_reply_error(out, 400, "\"topic\" must be a topic id (a string)");
        return 0;
    }
    a->topic = v->valuestring;
    const cJSON *page = cJSON_GetObjectItemCaseSensitive(b, "page");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(b, "question");
    if ((page != NULL) == (q != NULL)) {
        srv_reply_error(out, 400, "give either \"page\" (a number from 1) or \"question\" (an id)");
        return 0;
    }
    if (page && (!cJSON_IsNumber(page) || page->valuedouble < 1 || page->valuedouble > 10000 ||
                 page->valuedouble != (int)page->valuedouble)) {
        srv_reply_error(out, 400, "\"page\" must be a whole number from 1");
        return 0;
    }
    if (page)
        a->page = page->valueint;
    if (q && (!cJSON_IsString(q) || !*q->valuestring)) {
        srv_reply_error(out, 400, "\"question\" must be a question id (a string)");
        return 0;
    }
    if (q)
        a->question = q->valuestring;
    v = cJSON_GetObjectItemCaseSensitive(b, "lang");
    if (v &&
        (!cJSON_IsString(v) || (strcmp(v->valuestring, "zh") && strcmp(v->valuestring, "en")))) {
        srv_reply_error(out, 400, "\"lang\" must be \"zh\" or \"en\"");
        return 0;
    }
    if (v)
        a->lang = v->valuestring;
    v = cJSON_GetObjectItemCaseSensitive(b, "size");
    if (v) {
        char x;
        if (!cJSON_IsString(v) || sscanf(v->valuestring, "%d%c%d", &a->w, &x, &a->h) != 3 ||
            x != 'x' || a->w < MIN_SIDE || a->h < MIN_SIDE || a->w > MAX_SIDE || a->h > MAX_SIDE) {
            srv_reply_error(out, 400, "\"size\" must be \"WxH\", each side %d to %d pixels",
                            MIN_SIDE, MAX_SIDE);
            return 0;
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(b, "large_text");
    if (v && !cJSON_IsBool(v)) {
        srv_reply_error(out, 400, "\"large_text\" must be true or false");
        return 0;
    }
    a->large = cJSON_IsTrue(v);
    v = cJSON_GetObjectItemCaseSensitive(b, "revision");
    if (v && (!cJSON_IsNumber(v) || v->valuedouble < 1)) {
        srv_reply_error(out, 400, "\"revision\" must be a revision number from 1");
        return 0;
    }
    a->revision = v ? (int64_t)v->valuedouble : 0;
    return 1;
}

/* One preview's kiosk and its deadline: every command gets only the time left. */
struct drive {
    struct pack_kiosk *k;
    long long deadline;
    int timed_out;
    struct kk_buf *err;
};

static enum kk_err command(struct drive *d, const char *key, const char *value)
{
    long long left = d->deadline - now_ms();
    if (left <= 0) {
        d->timed_out = 1;
        return kk_fail(d->err, KK_ERR_IO, "out of time");
    }
    pack_kiosk_set_timeout(d->k, (int)left);
    enum kk_err rc = pack_kiosk_send_str(d->k, key, value, d->err);
    if (rc && now_ms() >= d->deadline)
        d->timed_out = 1;
    return rc;
}

static enum kk_err tap(struct drive *d, const char *id)
{
    return command(d, "tap_id", id);
}

static const char *field(struct drive *d, const char *name)
{
    return pack_kiosk_field(d->k, name);
}

static int number(struct drive *d, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(d->k), name);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

static int is_large(struct drive *d)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(d->k), "large_text"));
}

static enum kk_err expect(struct drive *d, const char *scene, const char *after)
{
    if (!strcmp(field(d, "scene"), scene))
        return KK_OK;
    struct kk_buf where = KK_BUF_INIT;
    pack_kiosk_describe(d->k, &where);
    enum kk_err rc = kk_fail(d->err, KK_ERR_INVALID, "after %s the kiosk shows %s, not the %s",
                             after, kk_buf_str(&where), scene);
    kk_buf_release(&where);
    return rc;
}

/* The first target on screen whose id starts with prefix (other than order/undo) into
 * out. */
static int first_target(struct drive *d, const char *prefix, char *out, size_t size)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(d->k), "targets"))
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
        if (cJSON_IsString(id) && !strncmp(id->valuestring, prefix, strlen(prefix)) &&
            strcmp(id->valuestring, "order/undo")) {
            snprintf(out, size, "%s", id->valuestring);
            return 1;
        }
    }
    return 0;
}

/* A question on screen: a choice target ("choice/<n>"), or a hotspot question's picture
 * or an order question's choices (docs/quiz.md) into out, whichever answers it. */
static int first_choice(struct drive *d, char *out, size_t size)
{
    return first_target(d, "choice/", out, size) || first_target(d, "hotspot-q/", out, size) ||
           first_target(d, "order/", out, size);
}

static const char *question_id(struct drive *d)
{
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(d->k), "quiz");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(q, "question");
    return cJSON_IsString(id) ? id->valuestring : "";
}

/* Plays quiz rounds, answering with the first choice, until question id shows. */
static enum kk_err to_question(struct drive *d, const char *id)
{
    char choice[96];
    enum kk_err rc = KK_OK;
    for (int i = 0; !rc && i < MAX_SCREENS && !pack_kiosk_has(d->k, "quiz/start"); i++) {
        if (!pack_kiosk_has(d->k, "page/next"))
            return kk_fail(d->err, KK_ERR_INVALID, "the topic's last page offers no quiz");
        rc = tap(d, "page/next");
    }
    if (!rc)
        rc = tap(d, "quiz/start");
    for (int round = 0; !rc && round < MAX_ROUNDS; round++) {
        for (int q = 0; !rc && q < 200 && first_choice(d, choice, sizeof(choice)); q++) {
            if (!strcmp(question_id(d), id))
                return KK_OK;
            rc = tap(d, choice);
            /* An order question is answered once every choice is placed, in any order. */
            for (int k = 0; !rc && k < KK_MAX_CHOICES && !strncmp(choice, "order/", 6) &&
                            first_target(d, "order/", choice, sizeof(choice));
                 k++)
                rc = tap(d, choice);
            if (!rc && pack_kiosk_has(d->k, "quiz/confirm"))
                rc = tap(d, "quiz/confirm");
            if (!rc && pack_kiosk_has(d->k, "quiz/next"))
                rc = tap(d, "quiz/next");
            else if (!rc && pack_kiosk_has(d->k, "quiz/results"))
                rc = tap(d, "quiz/results");
        }
        if (!rc && pack_kiosk_has(d->k, "quiz/results"))
            rc = tap(d, "quiz/results");
        if (!rc && !pack_kiosk_has(d->k, "quiz/again"))
            break;
        if (!rc)
            rc = tap(d, "quiz/again");
    }
    return rc ? rc
              : kk_fail(d->err, KK_ERR_INVALID, "question \"%s\" did not come up in %d quiz rounds",
                        id, MAX_ROUNDS);
}

static enum kk_err show(struct drive *d, const struct ask *a, const char *audience)
{
    char target[160];
    enum kk_err rc = expect(d, "attract", "starting");
    if (!rc)
        rc = tap(d, "start");
    if (!rc)
        rc = expect(d, "audience", "tapping start");
    snprintf(target, sizeof(target), "audience/%s", audience);
    if (!rc)
        rc = tap(d, target);
    if (!rc)
        rc = expect(d, "menu", "choosing a group");
    for (int i = 0; !rc && i < 3 && strcmp(field(d, "lang"), a->lang); i++)
        rc = tap(d, "lang");
    if (!rc && is_large(d) != a->large)
        rc = tap(d, "large_text");
    if (!rc && (strcmp(field(d, "lang"), a->lang) || is_large(d) != a->large))
        rc = kk_fail(d->err, KK_ERR_INVALID, "the kiosk would not switch to %s with %s text",
                     a->lang, a->large ? "large" : "normal");
    snprintf(target, sizeof(target), "topic/%s", a->topic);
    for (int i = 0; !rc && !pack_kiosk_has(d->k, target); i++) {
        if (i == MAX_MENU_PAGES || !pack_kiosk_has(d->k, "menu/next"))
            return kk_fail(d->err, KK_ERR_INVALID, "topic \"%s\" is not on the kiosk's menu",
                           a->topic);
        rc = tap(d, "menu/next");
    }
    if (!rc)
        rc = tap(d, target);
    if (!rc)
        rc = expect(d, "reader", target);
    if (!rc && a->question)
        return to_question(d, a->question);
    for (int i = 0; !rc && i < MAX_SCREENS && number(d, "page") < a->page - 1; i++) {
        if (!pack_kiosk_has(d->k, "page/next"))
            return kk_fail(d->err, KK_ERR_INVALID, "the kiosk shows no page %d", a->page);
        rc = tap(d, "page/next");
        if (!rc && strcmp(field(d, "scene"), "reader"))
            return kk_fail(d->err, KK_ERR_INVALID, "the kiosk shows no page %d", a->page);
    }
    return rc;
}

/* Which group to choose so the question comes up: "other" unless it is not for them. */
static const char *audience_for(const struct kk_topic *tp, const char *question)
{
    for (size_t i = 0; question && i < tp->nquestions; i++) {
        unsigned m = tp->questions[i].audiences;
        if (strcmp(tp->questions[i].id, question) || (m & KK_AUD_BIT(KK_AUD_OTHER)))
            continue;
        for (int g = 0; g < KK_AUD_COUNT; g++)
            if (m & KK_AUD_BIT(g))
                return kk_audience_name((enum kk_audience)g);
    }
    return "other";
}

/* Checks what is asked against the pack: 404 for an unknown topic or question, 422 for a
 * page it does not have. */
static const struct kk_topic *check_ask(const struct kk_pack *p, const struct ask *a,
                                        struct srv_reply *out)
{
    const struct kk_topic *tp = NULL;
    for (size_t i = 0; !tp && i < p->ntopics; i++)
        if (!strcmp(p->topics[i].id, a->topic))
            tp = &p->topics[i];
    if (!tp) {
        srv_reply_error(out, 404, "the draft has no topic \"%s\"", a->topic);
        return NULL;
    }
    if (a->page && (size_t)a->page > tp->npages) {
        srv_reply_error(out, 422, "topic \"%s\" has %zu pages, not %d", a->topic, tp->npages,
                        a->page);
        return NULL;
    }
    int found = 0;
    for (size_t i = 0; a->question && i < tp->nquestions; i++)
        found |= !strcmp(tp->questions[i].id, a->question);
    if (a->question && !found) {
        srv_reply_error(out, 404, "topic \"%s\" has no question \"%s\"", a->topic, a->question);
        return NULL;
    }
    return tp;
}

void srv_preview(struct srv_req *req, struct srv_reply *out)
{
    long long start = now_ms();
    struct ask a;
    struct kk_buf err = KK_BUF_INIT, png = KK_BUF_INIT;
    struct pack_sandbox sb = {0};
    struct kk_diags diags = {0};
    struct kk_pack *p = NULL;
    char exe[PATH_MAX], tmpl[PATH_MAX], *src = NULL, *pack_id = NULL, *pack_dir = NULL;
    char *shot = NULL, *log = NULL;
    int placed = 0;
    cJSON *body = srv_req_json(req, out);
    if (!body)
        return;
    if (!parse_ask(body, &a, out))
        goto done;
    if (!find_kiosk(exe, sizeof(exe))) {
        kk_error("preview", "no kepu-kiosk program at %s", exe);
        srv_reply_error(out, 503, "previews are not available: kepu-server cannot find kepu-kiosk");
        goto done;
    }
    /* A place first: the checkout and the check cost too, and a waiting request holds one
     * of the server's threads. */
    long long deadline = start + SRV_PREVIEW_TIMEOUT_MS;
    if (!take_place(deadline)) {
        srv_reply_header(out, "Retry-After", "2");
        srv_reply_error(out, 503, "too many previews at once; try again in a moment");
        goto done;
    }
    placed = 1;
    snprintf(tmpl, sizeof(tmpl), "%s/tmp", req->store->data_dir);
    if (kk_mkdirs(tmpl, 0700, &err) == KK_OK)
        snprintf(tmpl, sizeof(tmpl), "%s/tmp/preview-XXXXXX", req->store->data_dir);
    if (err.len || !mkdtemp(tmpl)) {
        kk_error("preview", "%s: %s", tmpl, strerror(errno));
        srv_reply_error(out, 503, "cannot make a folder for the preview");
        goto done;
    }
    sb.root = kk_strdup(tmpl);
    sb.content = kk_path_join(tmpl, "content");
    sb.state = kk_path_join(tmpl, "state");
    src = kk_path_join(tmpl, "source");
    shot = kk_path_join(tmpl, "shot.png");
    log = kk_path_join(tmpl, "kiosk.log");
    if (!sb.root || !sb.content || !sb.state || !src || !shot || !log ||
        mkdir(sb.content, 0700) < 0 || mkdir(sb.state, 0700) < 0) {
        srv_reply_error(out, 503, "cannot make a folder for the preview");
        goto done;
    }
    if (!srv_drafts_checkout(req, out, a.revision, src, &pack_id))
        goto done;
    size_t errors = 0;
    cJSON *msgs = srv_drafts_check_dir(src, &errors);
    if (errors) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "error", "the draft does not pass validation; fix it first");
        if (!o || !msgs || !cJSON_AddItemToObject(o, "messages", msgs)) {
            cJSON_Delete(msgs);
            cJSON_Delete(o);
            o = NULL;
        }
        srv_reply_json(out, 422, o);
        goto done;
    }
    cJSON_Delete(msgs);
    if (kk_pack_load(src, &p, &diags, &err)) {
        srv_reply_error(out, 422, "the draft does not load: %s", kk_buf_str(&err));
        goto done;
    }
    const struct kk_topic *tp = check_ask(p, &a, out);
    if (!tp)
        goto done;
    pack_dir = kk_path_join(sb.content, pack_id);
    if (!pack_dir || rename(src, pack_dir) < 0) {
        srv_reply_error(out, 503, "cannot make a folder for the preview");
        goto done;
    }
    struct drive d = {NULL, deadline, 0, &err};
    kk_buf_reset(&err);
    long long left = deadline - now_ms();
    enum kk_err rc = left > 0 ? pack_kiosk_start(&d.k, exe, &sb, a.w, a.h, log, (int)left, &err)
                              : kk_fail(&err, KK_ERR_IO, "out of time");
    if (rc && now_ms() >= deadline)
        d.timed_out = 1;
    if (!rc)
        rc = show(&d, &a, audience_for(tp, a.question));
    if (!rc)
        rc = command(&d, "screenshot", shot);
    pack_kiosk_close(d.k);
    give_place();
    placed = 0;
    if (rc && d.timed_out) {
        kk_error("preview", "draft %s: timed out: %s", req->params[0], kk_buf_str(&err));
        srv_reply_error(out, 504, "the preview took longer than %d s; the kiosk was stopped",
                        SRV_PREVIEW_TIMEOUT_MS / 1000);
        goto done;
    }
    if (rc) {
        kk_error("preview", "draft %s: %s", req->params[0], kk_buf_str(&err));
        srv_reply_error(out, 422, "cannot show that: %s", kk_buf_str(&err));
        goto done;
    }
    if (kk_file_read(shot, 256u << 20, &png, &err) || !png.len) {
        srv_reply_error(out, 503, "the kiosk wrote no picture");
        goto done;
    }
    srv_reply_text(out, 200, "image/png", png.data, png.len);
    srv_reply_header(out, "Cache-Control", "no-store");
    char what[160];
    if (a.question)
        snprintf(what, sizeof(what), "question %s", a.question);
    else
        snprintf(what, sizeof(what), "page %d", a.page);
    kk_info("preview", "draft %s topic %s %s %s %dx%d%s: %lld ms", req->params[0], a.topic, what,
            a.lang, a.w, a.h, a.large ? " large text" : "", now_ms() - start);
done:
    if (placed)
        give_place();
    cJSON_Delete(body);
    kk_pack_destroy(p);
    kk_diags_release(&diags);
    pack_sandbox_release(&sb);
    kk_free(src);
    kk_free(shot);
    kk_free(log);
    kk_free(pack_id);
    kk_free(pack_dir);
    kk_buf_release(&err);
    kk_buf_release(&png);
}
