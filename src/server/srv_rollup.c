#include "srv_rollup.h"

#include <string.h>

#include "kepu/alloc.h"
#include "kepu/log.h"

/* At most this many rollup rows change per event (a page view). */
#define SRV_ROLLS_PER_EVENT 6

enum kk_err srv_rollups_init(struct srv_rollups *r, size_t nevents)
{
    memset(r, 0, sizeof(*r));
    r->cap = (nevents ? nevents : 1) * SRV_ROLLS_PER_EVENT;
    r->nslots = 16;
    while (r->nslots < 2 * r->cap)
        r->nslots *= 2;
    r->keys = kk_malloc(r->cap * sizeof(*r->keys));
    r->slot = kk_calloc(r->nslots, sizeof(*r->slot));
    return r->keys && r->slot ? KK_OK : KK_ERR_NOMEM;
}

void srv_rollups_reset(struct srv_rollups *r)
{
    r->n = 0;
    memset(r->slot, 0, r->nslots * sizeof(*r->slot));
}

void srv_rollups_release(struct srv_rollups *r)
{
    kk_free(r->keys);
    kk_free(r->slot);
    memset(r, 0, sizeof(*r));
}

static uint64_t hash_mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x100000001b3ULL;
}

static uint64_t key_hash(const struct srv_roll_key *k)
{
    uint64_t h = hash_mix(0xcbf29ce484222325ULL, (uint64_t)k->table);
    h = hash_mix(h, (uint64_t)k->when);
    h = hash_mix(h, (uint64_t)k->page);
    for (int i = 0; i < SRV_ROLL_TEXTS; i++)
        for (const char *c = k->s[i]; c && *c; c++)
            h = hash_mix(h, (unsigned char)*c);
    return h ^ (h >> 29);
}

static int key_same(const struct srv_roll_key *a, const struct srv_roll_key *b)
{
    if (a->table != b->table || a->when != b->when || a->page != b->page)
        return 0;
    for (int i = 0; i < SRV_ROLL_TEXTS; i++)
        if ((a->s[i] == NULL) != (b->s[i] == NULL) || (a->s[i] && strcmp(a->s[i], b->s[i])))
            return 0;
    return 1;
}

/* Adds one to the count and sum to the sum of the key (table, when, page, s0..s3). */
static void add5(struct srv_rollups *r, enum srv_roll table, int64_t when, int64_t page,
                 const char *s0, const char *s1, const char *s2, const char *s3, const char *s4,
                 int64_t sum)
{
    struct srv_roll_key k = {table, when, page, {s0, s1, s2, s3, s4}, 1, sum};
    size_t mask = r->nslots - 1, i = (size_t)key_hash(&k) & mask;
    for (; r->slot[i]; i = (i + 1) & mask) {
        struct srv_roll_key *old = &r->keys[r->slot[i] - 1];
        if (key_same(old, &k)) {
            old->count++;
            old->sum += sum;
            return;
        }
    }
    if (r->n >= r->cap)
        KK_BUG("more than %zu rollup keys", r->cap);
    r->keys[r->n++] = k;
    r->slot[i] = (uint32_t)r->n;
}

static void add(struct srv_rollups *r, enum srv_roll table, int64_t when, int64_t page,
                const char *s0, const char *s1, const char *s2, const char *s3, int64_t sum)
{
    add5(r, table, when, page, s0, s1, s2, s3, NULL, sum);
}

void srv_rollups_event(struct srv_rollups *r, const struct srv_event *e)
{
    int64_t hour = e->ts / 3600000, day = (hour * 3600 + SRV_DAY_OFFSET_S) / 86400;
    add(r, SRV_ROLL_HOUR, hour, 0, e->type, e->kiosk, NULL, NULL, 0);
    add(r, SRV_DAY_TYPE, day, 0, e->type, NULL, NULL, NULL, 0);
    if (!strcmp(e->type, "session_start"))
        add(r, SRV_DAY_KIOSK, day, 0, e->kiosk, NULL, NULL, NULL, 0);
    if (!strcmp(e->type, "page_view")) {
        add(r, SRV_ROLL_TOPIC, hour, 0, e->kiosk, e->topic, NULL, NULL, e->dwell_ms);
        add(r, SRV_DAY_TOPIC, day, 0, e->topic, NULL, NULL, NULL, e->dwell_ms);
        add(r, SRV_ROLL_PAGE, hour, e->page, e->kiosk, e->topic, NULL, NULL, e->dwell_ms);
        add(r, SRV_DAY_PAGE, day, e->page, e->topic, NULL, NULL, NULL, e->dwell_ms);
    }
    if (!strcmp(e->type, "audience")) {
        add(r, SRV_ROLL_AUDIENCE, hour, 0, e->kiosk, e->audience, NULL, NULL, 0);
        add(r, SRV_DAY_AUDIENCE, day, 0, e->audience, NULL, NULL, NULL, 0);
    }
    if (!strcmp(e->type, "quiz_answer")) {
        int64_t c = e->correct;
        add(r, SRV_ROLL_QUESTION, hour, 0, e->kiosk, e->topic, e->question, e->audience, c);
        add(r, SRV_DAY_QUESTION, day, 0, e->topic, e->question, e->audience, NULL, c);
        add(r, SRV_DAY_QUIZ, day, 0, e->audience, NULL, NULL, NULL, c);
    }
    /* Interactive blocks: every use per target, and who used each block and target (one
     * row per visit, so visitors are counted, not taps). */
    if (!strcmp(e->type, "interact")) {
        add5(r, SRV_DAY_INTERACT, day, e->page, e->kiosk, e->topic, e->block, e->action, e->target,
             0);
        add(r, SRV_DAY_BLOCK_VISIT, day, e->page, e->kiosk, e->topic, e->block, e->session, 0);
        if (*e->target)
            add5(r, SRV_DAY_TARGET_VISIT, day, e->page, e->kiosk, e->topic, e->block, e->target,
                 e->session, 0);
    }
    if (!strcmp(e->type, "audio_play"))
        add(r, SRV_DAY_AUDIO, day, e->page, e->kiosk, e->topic, e->lang, e->audience, e->ms_heard);
}
