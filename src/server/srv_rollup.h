/* The rollups a batch of new events adds to, summed per key in memory so that each
 * distinct key costs one upsert per batch instead of one per event (a batch from one kiosk
 * holds few hours, topics, pages and questions). Both stores use it, so which rollup rows
 * an event feeds is written once (srv_rollup_event); each store only applies the sums with
 * its own statements. Keys point into the batch's events, which must outlive the sums. */
#ifndef SRV_ROLLUP_H
#define SRV_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#include "kepu/error.h"
#include "srv_store.h"

/* The rollup tables, in the order the PostgreSQL store applies them (one lock order for
 * every batch). Text columns of each, as s[0..3] of its keys, in brackets. */
enum srv_roll {
    SRV_ROLL_HOUR,        /* roll_hour [type, kiosk] */
    SRV_ROLL_TOPIC,       /* roll_topic [kiosk, topic], sum dwell_ms */
    SRV_ROLL_PAGE,        /* roll_page [kiosk, topic], page, sum dwell_ms */
    SRV_ROLL_AUDIENCE,    /* roll_audience [kiosk, audience] */
    SRV_ROLL_QUESTION,    /* roll_question [kiosk, topic, question, audience], sum correct */
    SRV_DAY_KIOSK,        /* day_kiosk [kiosk] (sessions) */
    SRV_DAY_TYPE,         /* day_type [type] */
    SRV_DAY_TOPIC,        /* day_topic [topic], sum dwell_ms */
    SRV_DAY_PAGE,         /* day_page [topic], page, sum dwell_ms */
    SRV_DAY_AUDIENCE,     /* day_audience [audience] */
    SRV_DAY_QUESTION,     /* day_question [topic, question, audience], sum correct */
    SRV_DAY_QUIZ,         /* day_quiz [audience], sum correct */
    SRV_DAY_INTERACT,     /* day_interact [kiosk, topic, block, action, target], page */
    SRV_DAY_BLOCK_VISIT,  /* day_block_visit [kiosk, topic, block, session], page */
    SRV_DAY_TARGET_VISIT, /* day_target_visit [kiosk, topic, block, target, session], page */
    SRV_DAY_AUDIO,        /* day_audio [kiosk, topic, lang, audience], page, sum ms_heard */
    SRV_ROLL_N
};

#define SRV_ROLL_TEXTS 5 /* text columns of a rollup key at most */

struct srv_roll_key {
    enum srv_roll table;
    int64_t when;                  /* hour or city day */
    int64_t page;                  /* roll_page, day_page; 0 otherwise */
    const char *s[SRV_ROLL_TEXTS]; /* the text columns in the order above; NULL when unused */
    int64_t count;                 /* n, views, sessions or total */
    int64_t sum;                   /* dwell_ms or correct */
};

struct srv_rollups {
    struct srv_roll_key *keys; /* n distinct keys, in the order first seen */
    size_t n, cap;
    uint32_t *slot; /* index + 1 into keys, 0 when empty; nslots is a power of two */
    size_t nslots;
};

/* Room for the rollups of up to nevents events (at least 1). KK_ERR_NOMEM when out of
 * memory; release with srv_rollups_release in every case. */
enum kk_err srv_rollups_init(struct srv_rollups *r, size_t nevents);
/* Forgets every key, keeping the room (a batch retried after a deadlock). */
void srv_rollups_reset(struct srv_rollups *r);
void srv_rollups_release(struct srv_rollups *r);
/* Counts one newly stored event into the rollups it feeds (at most
 * SRV_ROLLS_PER_EVENT keys). The caller leaves out duplicates and flagged events. */
void srv_rollups_event(struct srv_rollups *r, const struct srv_event *e);

#endif
