/* bench_server: load and latency figures for kepu-server (docs/performance.md).
 *
 *   bench_server ingest --url URL --kiosks FILE [--clients N] [--batches N] [--batch N]
 *                [--tag N]
 *       N clients (threads, one kiosk and one keep-alive connection each) post batches of
 *       valid events at the same time; the total of --batches is shared among them. The
 *       bodies are made before the clock starts. Prints events/s and fails unless the
 *       server answered every batch with accepted = its size, no duplicates, no rejects.
 *   bench_server load --url URL --kiosks FILE --events N --days A:B [--clients N] [--tag N]
 *       Sends N events over HTTP, spread over the kiosks of FILE and the city days from A
 *       days ago to B days ago (A >= B), and says how long that took.
 *   bench_server seed --data DIR [--db URL] --kiosks FILE --events N --days A:B [--tag N]
 *       The same events, stored without HTTP: each batch goes through the server's own
 *       ingest function (srv_events_batch: the checks, the events table and every rollup,
 *       exactly as POST /api/v1/events) into the store at DIR (or --db, as kepu-server's).
 *       The server must not run (SQLite; PostgreSQL does not mind).
 *   bench_server stats --url URL --user NAME --password P [--reps N] [--days N]
 *       Logs in as an office user and times every GET /api/v1/stats/... call the dashboard
 *       makes, over the last --days city days (the dashboard's default is 30): one warm-up
 *       call, then --reps timed calls each; prints the median and the 95th percentile.
 *
 * FILE has one "KIOSK-ID TOKEN" per line (the tokens of kepu-server kiosk add). --tag
 * makes event ids unique between runs (ids are stored once). Sessions look like a
 * kiosk's: boot once a day; session_start, audience, sometimes language, page views of
 * one to three topics of the real packs, half of them with a quiz (answers and
 * quiz_complete), session_end. Exit 0 on success, 1 when the server's answers were wrong,
 * 2 on a setup failure. Build: cmake --build BUILD --target bench_server; run it all with
 * scripts/bench-server.sh. */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "srv_events.h"
#include "srv_store.h"

#define DAY_MS      (24LL * 3600 * 1000)
#define HOUR_MS     (3600LL * 1000)
#define CITY_OFFSET (8LL * HOUR_MS) /* the server's days are UTC+8 */
#define MAX_KIOSKS  4096
#define MAX_CLIENTS 256
#define MAX_REPS    1000
/* What one session makes on average with the mix below (measured: 14-15). */
#define EVENTS_PER_SESSION 14

/* The topics of the packs in content/ with their page counts and question ids. */
struct topic {
    const char *pack, *id;
    int pages, nq;
    const char *q[12];
};

static const struct topic topics[] = {
    {"farming-and-land@2026.11.1",
     "seeds-smart-farming",
     5,
     10,
     {"main-crops", "trader-seed", "label-quality", "qr-code", "keep-proof", "germination-test",
      "drone-label", "moisture-sensor", "warning-colour", "spray-before-rain"}},
    {"farming-and-land@2026.11.1",
     "soil-and-water",
     6,
     11,
     {"formula-core", "more-fertiliser", "sample-depth", "sample-avoid", "green-band",
      "pre-harvest", "spray-safely", "drink-bottle", "empty-container", "drip-why", "fertigation"}},
    {"farming-and-land@2026.11.1",
     "yangtze-ecology",
     5,
     10,
     {"ban-start", "why-ten-years", "porpoise-count", "porpoise-indicator", "baiji",
      "electric-fishing", "wild-fish", "farmer-help", "report-poaching", "river-law"}},
    {"health-at-home@2026.11.1",
     "first-aid-cpr",
     8,
     11,
     {"q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11"}},
    {"health-at-home@2026.11.1",
     "flood-safety",
     7,
     12,
     {"q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11", "q12"}},
    {"health-at-home@2026.11.1",
     "safe-medicines",
     7,
     12,
     {"q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11", "q12"}},
    {"safety-and-health@2026.11.1",
     "earthquake",
     6,
     11,
     {"q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11"}},
    {"safety-and-health@2026.11.1",
     "health-rumours",
     5,
     11,
     {"q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11"}},
    {"science-for-the-city@2026.11.1",
     "carbon-peak-neutrality",
     6,
     10,
     {"peak-year", "neutral-meaning", "peak-not-zero", "warming", "building-energy", "ac-26",
      "transport-40", "green-transport", "renewables-share", "everyone-acts"}},
    {"science-for-the-city@2026.11.1",
     "chinese-scientists",
     6,
     11,
     {"spirit-parts", "qian-return", "qian-medal", "yuan-dreams", "yuan-1973", "tu-book",
      "tu-ether", "tu-nobel", "huang-field", "who-malaria", "teamwork"}},
    {"science-for-the-city@2026.11.1",
     "work-safety-phishing",
     6,
     11,
     {"refuse-risk", "emergency-stop", "lockout", "hotline-12350", "hazard-first", "phishing-signs",
      "fake-boss", "safe-account", "code-who", "answer-96110", "cheated-110"}},
    {"space-and-ai@2026.11.1",
     "ai-basics",
     7,
     12,
     {"q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11", "q12"}},
    {"space-and-ai@2026.11.1",
     "china-in-space",
     7,
     12,
     {"q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11", "q12"}},
};
#define NTOPICS (sizeof(topics) / sizeof(topics[0]))

static const char *const audiences[] = {"youth",   "farmers",   "elderly",
                                        "workers", "officials", "other"};

struct kiosk {
    char id[65];
    char token[128];
};

struct opts {
    const char *url, *kiosks_file, *data, *db, *user, *password;
    long clients, batches, batch, events, reps, days, days_from, days_to;
    long long tag;
};

static struct kiosk kiosks[MAX_KIOSKS];
static size_t nkiosks;

/* --- random numbers (splitmix64: fast, and the same sequence for the same seed) --------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ULL;
    return mix64(*s);
}

static int pick(uint64_t *s, int n)
{
    return (int)(rnd(s) % (uint64_t)n);
}

static int chance(uint64_t *s, int percent)
{
    return pick(s, 100) < percent;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Midnight of today in the city, as ms since the epoch. */
static int64_t city_today_ms(void)
{
    int64_t now = (int64_t)time(NULL) * 1000;
    return (now + CITY_OFFSET) / DAY_MS * DAY_MS - CITY_OFFSET;
}

/* --- batches of events ---------------------------------------------------------------- */

/* Collects one kiosk's events into batch bodies and hands each full body to flush. */
struct batcher {
    const struct kiosk *kiosk;
    uint64_t rng, id_hi, count;
    struct kk_buf body;
    size_t n, size;         /* events in body; events per batch */
    size_t quota, produced; /* stop after quota events */
    int (*flush)(struct batcher *b);
    void *ctx;
    int failed;
};

static int batch_flush(struct batcher *b)
{
    if (!b->n || b->failed)
        return b->failed;
    if (kk_buf_adds(&b->body, "]}") || b->flush(b))
        b->failed = 1;
    kk_buf_reset(&b->body);
    b->n = 0;
    return b->failed;
}

/* Appends one event; extra holds its type fields (may be ""). */
static void emit(struct batcher *b, int64_t ts, const char *type, const char *session,
                 const char *audience, const char *lang, const char *pack, const char *extra)
{
    if (b->failed || b->produced >= b->quota)
        return;
    if (!b->n)
        kk_buf_addf(&b->body, "{\"kiosk\":\"%s\",\"events\":[", b->kiosk->id);
    else
        kk_buf_adds(&b->body, ",");
    kk_buf_addf(&b->body,
                "{\"id\":\"%016" PRIx64 "%016" PRIx64 "\",\"kiosk\":\"%s\",\"ts\":%lld,"
                "\"type\":\"%s\"",
                b->id_hi, mix64(++b->count), b->kiosk->id, (long long)ts, type);
    if (session)
        kk_buf_addf(&b->body, ",\"session\":\"%s\"", session);
    if (audience)
        kk_buf_addf(&b->body, ",\"audience\":\"%s\"", audience);
    kk_buf_addf(&b->body, ",\"lang\":\"%s\"", lang);
    if (pack)
        kk_buf_addf(&b->body, ",\"pack\":\"%s\"", pack);
    kk_buf_addf(&b->body, "%s%s}", *extra ? "," : "", extra);
    b->produced++;
    if (++b->n == b->size)
        batch_flush(b);
}

/* One visitor at the kiosk from start: returns the time the session ended. */
static int64_t gen_session(struct batcher *b, int64_t start)
{
    uint64_t *r = &b->rng;
    char session[33], extra[256];
    snprintf(session, sizeof(session), "%016" PRIx64 "%016" PRIx64, rnd(r), rnd(r));
    const char *aud = NULL, *lang = chance(r, 15) ? "en" : "zh";
    int64_t t = start;
    emit(b, t, "session_start", session, NULL, "zh", NULL, "");
    if (chance(r, 80)) {
        aud = audiences[pick(r, 6)];
        t += 2000 + pick(r, 6000);
        emit(b, t, "audience", session, aud, "zh", NULL, "");
    }
    if (!strcmp(lang, "en")) {
        t += 1000 + pick(r, 3000);
        emit(b, t, "language", session, aud, lang, NULL, "\"lang\":\"en\"");
    }
    int ntopics = 1 + pick(r, 3);
    for (int i = 0; i < ntopics; i++) {
        const struct topic *tp = &topics[pick(r, (int)NTOPICS)];
        /* Visitors read on from page 0 and drop off along the way. */
        for (int p = 0; p < tp->pages; p++) {
            int dwell = 3000 + pick(r, 40000);
            snprintf(extra, sizeof(extra), "\"topic\":\"%s\",\"page\":%d,\"dwell_ms\":%d", tp->id,
                     p, dwell);
            t += dwell;
            emit(b, t, "page_view", session, aud, lang, tp->pack, extra);
            if (!chance(r, 65))
                break;
        }
        if (!chance(r, 50))
            continue;
        int nq = 3 + pick(r, 3), score = 0;
        for (int q = 0; q < nq; q++) {
            int correct = chance(r, 70), ms = 2000 + pick(r, 15000);
            score += correct;
            snprintf(extra, sizeof(extra),
                     "\"topic\":\"%s\",\"question\":\"%s\",\"choice\":[%d],\"correct\":%s,"
                     "\"ms\":%d",
                     tp->id, tp->q[pick(r, tp->nq)], pick(r, 4), correct ? "true" : "false", ms);
            t += ms;
            emit(b, t, "quiz_answer", session, aud, lang, tp->pack, extra);
        }
        snprintf(extra, sizeof(extra), "\"topic\":\"%s\",\"score\":%d,\"total\":%d", tp->id, score,
                 nq);
        emit(b, t + 500, "quiz_complete", session, aud, lang, tp->pack, extra);
    }
    int idle = chance(r, 30);
    t += idle ? 90000 : 1000;
    snprintf(extra, sizeof(extra), "\"duration_ms\":%lld,\"reason\":\"%s\"", (long long)(t - start),
             idle ? "idle" : "home");
    emit(b, t, "session_end", session, aud, lang, NULL, extra);
    return t;
}

/* Fills the batcher's quota with sessions on the city days from days_from to days_to days
 * ago, open 8:00 to 18:00, with a boot each morning that has visitors. The first pass
 * gives the days sessions in even shares (a little under the quota); later passes add one
 * session to each day in turn, so every day has about as many events. */
static int gen_days(struct batcher *b, long days_from, long days_to)
{
    long ndays = days_from - days_to + 1;
    int64_t today = city_today_ms();
    double per_day = (double)b->quota / (double)ndays / EVENTS_PER_SESSION, credit = 0;
    int64_t slot = (int64_t)(10 * HOUR_MS / (per_day < 1 ? 1 : per_day));
    for (long pass = 0; b->produced < b->quota && !b->failed; pass++) {
        for (long d = 0; d < ndays && b->produced < b->quota; d++) {
            int64_t day = today - (days_from - d) * DAY_MS, open = day + 8 * HOUR_MS;
            if (pass) {
                gen_session(b, open + pick(&b->rng, (int)(9 * HOUR_MS)));
                continue;
            }
            credit += per_day;
            long n = (long)credit;
            credit -= (double)n;
            if (n)
                emit(b, open - 600000 + pick(&b->rng, 300000), "boot", NULL, NULL, "zh", NULL, "");
            for (long s = 0; s < n && b->produced < b->quota; s++)
                gen_session(b, open + s * slot + pick(&b->rng, (int)(slot / 2 + 1)));
        }
    }
    return batch_flush(b);
}

static void batcher_init(struct batcher *b, const struct kiosk *k, size_t kiosk_index,
                         long long tag, size_t size, size_t quota)
{
    memset(b, 0, sizeof(*b));
    b->kiosk = k;
    b->id_hi = mix64(((uint64_t)tag << 16) | kiosk_index);
    b->rng = b->id_hi ^ 0x5eed;
    kk_buf_init(&b->body, 0);
    b->size = size;
    b->quota = quota;
}

/* --- HTTP ----------------------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    return kk_buf_add(ud, p, size * n) ? 0 : size * n;
}

struct client {
    pthread_t thread;
    CURL *curl;
    const struct opts *o;
    size_t first_kiosk, nk; /* kiosks first_kiosk.. of this client (every nth with stride) */
    size_t stride;
    size_t quota_per_kiosk, quota_last;
    char **bodies; /* ingest: the bodies made beforehand */
    size_t *counts, nbodies, cap;
    size_t accepted, duplicates, rejected, batches, failures;
    const struct kiosk *kiosk; /* the kiosk being sent */
    struct curl_slist *headers;
};

/* POSTs one batch of n events and checks the answer. */
static int post_batch(struct client *c, const struct kiosk *k, const char *body, size_t n)
{
    struct kk_buf answer = KK_BUF_INIT;
    char url[512], auth[200];
    long status = 0;
    int bad = 0;
    snprintf(url, sizeof(url), "%s/api/v1/events", c->o->url);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", k->token);
    if (c->kiosk != k) {
        curl_slist_free_all(c->headers);
        c->headers = curl_slist_append(NULL, auth);
        c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
        c->kiosk = k;
    }
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &answer);
    CURLcode cc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    cJSON *j = cc == CURLE_OK ? cJSON_Parse(kk_buf_str(&answer)) : NULL;
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(j, "accepted");
    const cJSON *dup = cJSON_GetObjectItemCaseSensitive(j, "duplicates");
    const cJSON *rej = cJSON_GetObjectItemCaseSensitive(j, "rejected");
    if (status != 200 || !cJSON_IsNumber(acc) || !cJSON_IsNumber(dup) || !cJSON_IsArray(rej)) {
        fprintf(stderr, "bench_server: %s: HTTP %ld %s: %.300s\n", k->id, status,
                curl_easy_strerror(cc), kk_buf_str(&answer));
        c->failures++;
        bad = 1;
    } else {
        c->accepted += (size_t)acc->valuedouble;
        c->duplicates += (size_t)dup->valuedouble;
        c->rejected += (size_t)cJSON_GetArraySize(rej);
        if ((size_t)acc->valuedouble != n) {
            fprintf(stderr, "bench_server: %s: %zu sent, answer %.300s\n", k->id, n,
                    kk_buf_str(&answer));
            bad = 1;
        }
    }
    c->batches++;
    cJSON_Delete(j);
    kk_buf_release(&answer);
    return bad;
}

static int keep_body(struct batcher *b)
{
    struct client *c = b->ctx;
    if (c->nbodies == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        char **nb = kk_realloc(c->bodies, cap * sizeof(*nb));
        size_t *nc = nb ? kk_realloc(c->counts, cap * sizeof(*nc)) : NULL;
        if (nb)
            c->bodies = nb;
        if (!nc)
            return 1;
        c->counts = nc;
        c->cap = cap;
    }
    c->counts[c->nbodies] = b->n;
    c->bodies[c->nbodies++] = kk_buf_detach(&b->body, NULL);
    return 0;
}

static int send_body(struct batcher *b)
{
    return post_batch(b->ctx, b->kiosk, kk_buf_str(&b->body), b->n);
}

static void *ingest_thread(void *arg)
{
    struct client *c = arg;
    for (size_t i = 0; i < c->nbodies; i++)
        post_batch(c, &kiosks[c->first_kiosk], c->bodies[i], c->counts[i]);
    return NULL;
}

static void *load_thread(void *arg)
{
    struct client *c = arg;
    for (size_t k = c->first_kiosk; k < nkiosks; k += c->stride) {
        struct batcher b;
        size_t quota = c->quota_per_kiosk + (k == nkiosks - 1 ? c->quota_last : 0);
        batcher_init(&b, &kiosks[k], k, c->o->tag, (size_t)c->o->batch, quota);
        b.flush = send_body;
        b.ctx = c;
        gen_days(&b, c->o->days_from, c->o->days_to);
        kk_buf_release(&b.body);
    }
    return NULL;
}

static int client_open(struct client *c, const struct opts *o)
{
    memset(c, 0, sizeof(*c));
    c->o = o;
    c->curl = curl_easy_init();
    if (!c->curl)
        return 1;
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
    return 0;
}

static void client_close(struct client *c)
{
    for (size_t i = 0; i < c->nbodies; i++)
        kk_free(c->bodies[i]);
    kk_free(c->bodies);
    kk_free(c->counts);
    curl_slist_free_all(c->headers);
    curl_easy_cleanup(c->curl);
}

/* Runs n clients through fn at once; sums their results; returns wall seconds. */
static double run_clients(struct client *cl, long n, void *(*fn)(void *), struct client *sum)
{
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        pthread_create(&cl[i].thread, NULL, fn, &cl[i]);
    for (long i = 0; i < n; i++) {
        pthread_join(cl[i].thread, NULL);
        sum->accepted += cl[i].accepted;
        sum->duplicates += cl[i].duplicates;
        sum->rejected += cl[i].rejected;
        sum->batches += cl[i].batches;
        sum->failures += cl[i].failures;
    }
    return now_s() - t0;
}

static int cmd_ingest(const struct opts *o)
{
    static struct client cl[MAX_CLIENTS];
    struct client sum = {0};
    size_t sent = 0;
    int rc = 2;
    if (o->clients > (long)nkiosks) {
        fprintf(stderr, "bench_server: %ld clients need %ld kiosks in the file\n", o->clients,
                o->clients);
        return 2;
    }
    for (long i = 0; i < o->clients; i++) {
        if (client_open(&cl[i], o))
            goto done;
        size_t nb = (size_t)(o->batches / o->clients + (i < o->batches % o->clients));
        struct batcher b;
        cl[i].first_kiosk = (size_t)i;
        batcher_init(&b, &kiosks[i], (size_t)i, o->tag, (size_t)o->batch, nb * (size_t)o->batch);
        b.flush = keep_body;
        b.ctx = &cl[i];
        int bad = gen_days(&b, 0, 0);
        kk_buf_release(&b.body);
        if (bad)
            goto done;
        sent += b.produced;
    }
    double secs = run_clients(cl, o->clients, ingest_thread, &sum);
    printf("ingest: %ld client(s), %zu batches of %ld, %zu events in %.2f s: %.0f events/s"
           " (server: accepted %zu, duplicates %zu, rejected %zu, failed batches %zu)\n",
           o->clients, sum.batches, o->batch, sent, secs, (double)sent / secs, sum.accepted,
           sum.duplicates, sum.rejected, sum.failures);
    rc = sum.accepted == sent && !sum.duplicates && !sum.rejected && !sum.failures ? 0 : 1;
    if (rc)
        fprintf(stderr, "bench_server: the server did not accept every event exactly once\n");
done:
    for (long i = 0; i < o->clients; i++)
        client_close(&cl[i]);
    return rc;
}

static int cmd_load(const struct opts *o)
{
    static struct client cl[MAX_CLIENTS];
    struct client sum = {0};
    int rc = 2;
    size_t per = (size_t)o->events / nkiosks, last = (size_t)o->events % nkiosks;
    for (long i = 0; i < o->clients; i++) {
        if (client_open(&cl[i], o))
            goto done;
        cl[i].first_kiosk = (size_t)i;
        cl[i].stride = (size_t)o->clients;
        cl[i].quota_per_kiosk = per;
        cl[i].quota_last = last;
    }
    double secs = run_clients(cl, o->clients, load_thread, &sum);
    printf("load over HTTP: %ld events on %zu kiosks, days %ld..%ld ago, %ld client(s): %.1f s,"
           " %.0f events/s (accepted %zu, duplicates %zu, rejected %zu, failed batches %zu)\n",
           o->events, nkiosks, o->days_from, o->days_to, o->clients, secs, (double)o->events / secs,
           sum.accepted, sum.duplicates, sum.rejected, sum.failures);
    rc = sum.accepted == (size_t)o->events && !sum.failures ? 0 : 1;
done:
    for (long i = 0; i < o->clients; i++)
        client_close(&cl[i]);
    return rc;
}

/* --- seeding the store without HTTP ---------------------------------------------------- */

struct seed {
    struct srv_store *store;
    int64_t now;
    size_t accepted;
};

static int store_body(struct batcher *b)
{
    struct seed *sd = b->ctx;
    struct srv_batch_result res;
    cJSON *root = cJSON_Parse(kk_buf_str(&b->body));
    int bad = !root || srv_events_batch(sd->store, b->kiosk->id, root, sd->now, &res);
    if (!bad && (res.status != 200 || res.accepted != b->n)) {
        fprintf(stderr, "bench_server: seed %s: %d %s\n", b->kiosk->id, res.status,
                kk_buf_str(&res.body));
        bad = 1;
    }
    if (root && !bad)
        sd->accepted += res.accepted;
    if (root)
        kk_buf_release(&res.body);
    cJSON_Delete(root);
    return bad;
}

static int cmd_seed(const struct opts *o)
{
    struct kk_buf err = KK_BUF_INIT;
    struct seed sd = {.now = (int64_t)time(NULL) * 1000};
    int rc = 1;
    if (srv_store_open(&sd.store, o->data, o->db, &err)) {
        fprintf(stderr, "bench_server: %s\n", kk_buf_str(&err));
        kk_buf_release(&err);
        return 2;
    }
    /* Seeding writes weeks of a fleet at once: no kiosk's rate, burst or quota applies. */
    struct srv_events_limits lim;
    srv_events_limits_default(&lim);
    lim.rate_per_s = 0;
    lim.quota_bytes_day = 0;
    srv_events_set_limits(&lim);
    size_t per = (size_t)o->events / nkiosks, last = (size_t)o->events % nkiosks;
    double t0 = now_s();
    for (size_t k = 0; k < nkiosks; k++) {
        struct batcher b;
        batcher_init(&b, &kiosks[k], k, o->tag, (size_t)o->batch,
                     per + (k == nkiosks - 1 ? last : 0));
        b.flush = store_body;
        b.ctx = &sd;
        int bad = gen_days(&b, o->days_from, o->days_to);
        kk_buf_release(&b.body);
        if (bad)
            goto done;
    }
    double secs = now_s() - t0;
    printf("seed through srv_events_batch: %zu events on %zu kiosks, days %ld..%ld ago: %.1f s,"
           " %.0f events/s\n",
           sd.accepted, nkiosks, o->days_from, o->days_to, secs, (double)sd.accepted / secs);
    rc = sd.accepted == (size_t)o->events ? 0 : 1;
done:
    srv_store_close(sd.store);
    return rc;
}

/* --- dashboard latency ----------------------------------------------------------------- */

/* The calls the dashboard makes (src/server/web/app.js: pages and exports). */
static const char *const stat_calls[] = {
    "overview",
    "events?by=day",
    "sessions?by=day",
    "sessions?by=venue",
    "sessions?by=kiosk",
    "kiosks",
    "topics",
    "pages",
    "audiences",
    "quiz?by=question",
    "quiz?by=audience",
    "quiz?by=day",
    "quiz?by=audience_day",
    "packs",
    "assignments",
};
#define NCALLS (sizeof(stat_calls) / sizeof(stat_calls[0]))

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void city_day(int64_t ms, char out[11])
{
    time_t t = (time_t)((ms + CITY_OFFSET) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* GETs url; returns the HTTP status, the time taken in ms and the rows in the answer. */
static long get_stat(CURL *curl, const char *url, double *ms, int *rows)
{
    struct kk_buf body = KK_BUF_INIT;
    long status = 0;
    curl_off_t us = 0;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME_T, &us);
    }
    *ms = (double)us / 1000.0;
    cJSON *j = cJSON_Parse(kk_buf_str(&body));
    *rows = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "rows"));
    cJSON_Delete(j);
    kk_buf_release(&body);
    return status;
}

static int cmd_stats(const struct opts *o)
{
    struct client c;
    struct kk_buf body = KK_BUF_INIT;
    static double t[MAX_REPS];
    char url[512], from[11], to[11], login[512];
    long status = 0;
    int rc = 1;
    if (client_open(&c, o))
        return 2;
    curl_easy_setopt(c.curl, CURLOPT_COOKIEFILE, ""); /* keep the session cookie */
    snprintf(url, sizeof(url), "%s/api/v1/login", o->url);
    cJSON *cred = cJSON_CreateObject();
    cJSON_AddStringToObject(cred, "user", o->user);
    cJSON_AddStringToObject(cred, "password", o->password);
    char *cred_text = cJSON_PrintUnformatted(cred);
    snprintf(login, sizeof(login), "%s", cred_text ? cred_text : "");
    cJSON_free(cred_text);
    cJSON_Delete(cred);
    curl_easy_setopt(c.curl, CURLOPT_URL, url);
    curl_easy_setopt(c.curl, CURLOPT_POSTFIELDS, login);
    curl_easy_setopt(c.curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c.curl, CURLOPT_WRITEDATA, &body);
    if (curl_easy_perform(c.curl) == CURLE_OK)
        curl_easy_getinfo(c.curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "bench_server: login as %s: HTTP %ld %s\n", o->user, status,
                kk_buf_str(&body));
        rc = 2;
        goto done;
    }
    int64_t today = city_today_ms();
    city_day(today - (o->days - 1) * DAY_MS, from);
    city_day(today, to);
    printf("dashboard calls from %s to %s (%ld days), %ld timed calls each after one warm-up:\n",
           from, to, o->days, o->reps);
    printf("  %-24s %10s %10s %10s %6s\n", "GET /api/v1/stats/", "median ms", "p95 ms", "max ms",
           "rows");
    double worst_median = 0, worst_p95 = 0;
    rc = 0;
    for (size_t i = 0; i < NCALLS; i++) {
        int rows = 0;
        snprintf(url, sizeof(url), "%s/api/v1/stats/%s%sfrom=%s&to=%s", o->url, stat_calls[i],
                 strchr(stat_calls[i], '?') ? "&" : "?", from, to);
        double ms;
        long st = get_stat(c.curl, url, &ms, &rows); /* warm-up */
        for (long r = 0; r < o->reps && st == 200; r++)
            st = get_stat(c.curl, url, &t[r], &rows);
        if (st != 200) {
            fprintf(stderr, "bench_server: %s: HTTP %ld\n", stat_calls[i], st);
            rc = 1;
            continue;
        }
        qsort(t, (size_t)o->reps, sizeof(t[0]), cmp_double);
        double median = o->reps % 2 ? t[o->reps / 2] : (t[o->reps / 2 - 1] + t[o->reps / 2]) / 2;
        double p95 = t[(o->reps * 95 + 99) / 100 - 1];
        printf("  %-24s %10.2f %10.2f %10.2f %6d\n", stat_calls[i], median, p95, t[o->reps - 1],
               rows);
        if (median > worst_median)
            worst_median = median;
        if (p95 > worst_p95)
            worst_p95 = p95;
    }
    printf("  slowest call: median %.2f ms, p95 %.2f ms\n", worst_median, worst_p95);
done:
    kk_buf_release(&body);
    client_close(&c);
    return rc;
}

/* --- command line --------------------------------------------------------------------- */

static int read_kiosks(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    if (!f) {
        fprintf(stderr, "bench_server: %s: cannot open\n", path);
        return 1;
    }
    while (nkiosks < MAX_KIOSKS && fgets(line, sizeof(line), f)) {
        struct kiosk *k = &kiosks[nkiosks];
        if (sscanf(line, "%64s %127s", k->id, k->token) == 2)
            nkiosks++;
    }
    fclose(f);
    if (!nkiosks)
        fprintf(stderr, "bench_server: %s: no \"KIOSK TOKEN\" lines\n", path);
    return !nkiosks;
}

static int parse_days(const char *s, struct opts *o)
{
    return sscanf(s, "%ld:%ld", &o->days_from, &o->days_to) != 2 || o->days_to < 0 ||
           o->days_from < o->days_to || o->days_from > 3000;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_server ingest|load|seed|stats [options] (see the comment at"
                    " the top of tests/bench/bench_server.c)\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct opts o = {.clients = 1, .batches = 128, .batch = 500, .reps = 20, .days = 30};
    o.tag = (long long)time(NULL) * 1000 + getpid() % 1000;
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n = 0;
        if (!v)
            return usage();
        i++;
        if (!strcmp(a, "--url"))
            o.url = v;
        else if (!strcmp(a, "--kiosks"))
            o.kiosks_file = v;
        else if (!strcmp(a, "--data"))
            o.data = v;
        else if (!strcmp(a, "--db"))
            o.db = v;
        else if (!strcmp(a, "--user"))
            o.user = v;
        else if (!strcmp(a, "--password"))
            o.password = v;
        else if (!strcmp(a, "--days") && strchr(v, ':')) {
            if (parse_days(v, &o))
                return usage();
        } else if (kk_parse_long(v, 1, 1000000000, &n))
            return usage();
        else if (!strcmp(a, "--clients") && n <= MAX_CLIENTS)
            o.clients = n;
        else if (!strcmp(a, "--batches"))
            o.batches = n;
        else if (!strcmp(a, "--batch") && n <= SRV_MAX_BATCH_EVENTS)
            o.batch = n;
        else if (!strcmp(a, "--events"))
            o.events = n;
        else if (!strcmp(a, "--reps") && n <= MAX_REPS)
            o.reps = n;
        else if (!strcmp(a, "--days") && n <= 3700)
            o.days = n;
        else if (!strcmp(a, "--tag"))
            o.tag = n;
        else
            return usage();
    }
    kk_log_set_level(KK_LOG_WARN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT))
        return 2;
    int rc = 2;
    if (!strcmp(cmd, "stats") && o.url && o.user && o.password)
        rc = cmd_stats(&o);
    else if (!o.kiosks_file || read_kiosks(o.kiosks_file))
        rc = usage();
    else if (!strcmp(cmd, "ingest") && o.url)
        rc = cmd_ingest(&o);
    else if (!strcmp(cmd, "load") && o.url && o.events)
        rc = cmd_load(&o);
    else if (!strcmp(cmd, "seed") && o.data && o.events)
        rc = cmd_seed(&o);
    else
        rc = usage();
    curl_global_cleanup();
    return rc;
}
