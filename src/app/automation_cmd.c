/* One line of the automation channel read into a command: which command, and its
 * arguments checked. Running it is automation.c's. */
#include "automation_cmd.h"

#include <stdio.h>
#include <string.h>

/* Reads n integers from a JSON array; returns 0 on success. */
static int ints(const cJSON *arr, int *out, int n)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != n)
        return -1;
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(arr, i);
        if (!cJSON_IsNumber(v) || v->valuedouble < -100000 || v->valuedouble > 100000)
            return -1;
        out[i] = (int)v->valuedouble;
    }
    return 0;
}

/* The commands, in the order a line naming several is read: the first one found wins. */
static const struct {
    const char *key;
    enum auto_kind kind;
} commands[] = {
    {"tap", AUTO_TAP},
    {"tap_id", AUTO_TAP_ID},
    {"swipe", AUTO_SWIPE},
    {"drag", AUTO_DRAG},
    {"key", AUTO_KEY},
    {"advance_ms", AUTO_ADVANCE},
    {"screenshot", AUTO_SCREENSHOT},
    {"animations", AUTO_ANIMATIONS},
    {"frame_stats", AUTO_FRAME_STATS},
    {"caches", AUTO_CACHES},
    {"stall_ms", AUTO_STALL},
    {"contrast", AUTO_CONTRAST},
    {"quit", AUTO_QUIT},
    {"state", AUTO_STATE},
};

/* Checks the argument v of command c; a reason in err when it is wrong. */
static int arguments(struct auto_cmd *c, const cJSON *v, char *err, size_t errlen)
{
    switch (c->kind) {
    case AUTO_TAP:
        if (ints(v, c->p, 2))
            return snprintf(err, errlen, "tap: expected [x,y]"), -1;
        break;
    case AUTO_SWIPE:
        if (ints(v, c->p, 4))
            return snprintf(err, errlen, "swipe: expected [x1,y1,x2,y2]"), -1;
        break;
    case AUTO_DRAG:
        if (ints(v, c->p, 5) || c->p[4] < 1 || c->p[4] > 1000)
            return snprintf(err, errlen, "drag: expected [x1,y1,x2,y2,steps] with 1 to 1000 steps"),
                   -1;
        break;
    case AUTO_TAP_ID:
    case AUTO_KEY:
    case AUTO_SCREENSHOT:
        if (!cJSON_IsString(v) || !v->valuestring[0]) {
            static const char *what[] = {[AUTO_TAP_ID] = "tap_id: expected a target id",
                                         [AUTO_KEY] = "key: expected a key name",
                                         [AUTO_SCREENSHOT] = "screenshot: expected a file name"};
            return snprintf(err, errlen, "%s", what[c->kind]), -1;
        }
        c->s = v->valuestring;
        break;
    case AUTO_ADVANCE:
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 86400000.0 * 365))
            return snprintf(err, errlen, "advance_ms: expected a number of milliseconds >= 0"), -1;
        c->ms = v->valuedouble;
        break;
    case AUTO_STALL:
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 120000))
            return snprintf(err, errlen, "stall_ms: expected a number of milliseconds 0..120000"),
                   -1;
        c->ms = v->valuedouble;
        break;
    case AUTO_ANIMATIONS:
        c->on = cJSON_IsTrue(v);
        break;
    case AUTO_CACHES: /* "drop" empties them first; any other value only reports */
        c->on = cJSON_IsString(v) && !strcmp(v->valuestring, "drop");
        break;
    case AUTO_FRAME_STATS:
    case AUTO_CONTRAST:
    case AUTO_QUIT:
    case AUTO_STATE:
        break;
    }
    return 0;
}

int auto_cmd_parse(const char *line, struct auto_cmd *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->json = cJSON_Parse(line);
    if (!c->json || !cJSON_IsObject(c->json)) {
        snprintf(err, errlen, "not a JSON object: %.60s", line);
        auto_cmd_release(c);
        return -1;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->json, commands[i].key);
        if (!v)
            continue;
        c->kind = commands[i].kind;
        if (arguments(c, v, err, errlen)) {
            auto_cmd_release(c);
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen, "unknown command: %.60s", line);
    auto_cmd_release(c);
    return -1;
}

void auto_cmd_release(struct auto_cmd *c)
{
    cJSON_Delete(c->json);
    c->json = NULL;
    c->s = NULL;
}
