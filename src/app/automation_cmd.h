/* One line of the automation channel read into a command (docs/automation.md). Plain C
 * and cJSON only, no SDL, so the fuzz target tests/fuzz/fuzz_automation.c runs it as the
 * kiosk does. */
#ifndef AUTOMATION_CMD_H
#define AUTOMATION_CMD_H

#include <stddef.h>

#include <cjson/cJSON.h>

enum auto_kind {
    AUTO_TAP,         /* p[0], p[1] */
    AUTO_TAP_ID,      /* s */
    AUTO_SWIPE,       /* p[0..3] */
    AUTO_DRAG,        /* p[0..3], p[4]: steps 1..1000 */
    AUTO_KEY,         /* s */
    AUTO_ADVANCE,     /* ms */
    AUTO_SCREENSHOT,  /* s: the file */
    AUTO_ANIMATIONS,  /* on */
    AUTO_FRAME_STATS, /* */
    AUTO_CACHES,      /* on: "drop" */
    AUTO_STALL,       /* ms */
    AUTO_CONTRAST,    /* */
    AUTO_QUIT,        /* */
    AUTO_STATE        /* */
};

struct auto_cmd {
    enum auto_kind kind;
    int p[5];
    double ms;
    int on;
    const char *s; /* points into json */
    cJSON *json;   /* owned: the parsed line */
};

/* Reads one line. 0 and c filled (release it with auto_cmd_release), or -1 with a one-line
 * reason in err naming the command ("tap: expected [x,y]") and nothing to release. */
int auto_cmd_parse(const char *line, struct auto_cmd *c, char *err, size_t errlen);
void auto_cmd_release(struct auto_cmd *c);

#endif
