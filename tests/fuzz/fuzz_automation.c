/* The automation channel's commands (src/app/automation_cmd.c), one line at a time as the
 * kiosk's reader thread hands them over. A command that parses names a known kind with
 * its arguments in range; one that does not says why in one line. */
#include "fuzz_util.h"

#include "automation_cmd.h"

static void check_one(const char *line)
{
    char err[256] = "";
    struct auto_cmd c;
    if (auto_cmd_parse(line, &c, err, sizeof(err))) {
        if (!err[0] || strchr(err, '\n') || c.json)
            abort(); /* a refusal without its reason, on two lines, or leaving the tree */
        return;
    }
    switch (c.kind) {
    case AUTO_TAP_ID:
    case AUTO_KEY:
    case AUTO_SCREENSHOT:
        if (!c.s || !c.s[0])
            abort();
        break;
    case AUTO_DRAG:
        if (c.p[4] < 1 || c.p[4] > 1000)
            abort();
        /* fall through */
    case AUTO_TAP:
    case AUTO_SWIPE:
        for (int i = 0; i < 4; i++)
            if (c.p[i] < -100000 || c.p[i] > 100000)
                abort();
        break;
    case AUTO_ADVANCE:
    case AUTO_STALL:
        if (!(c.ms >= 0 && c.ms <= 86400000.0 * 365))
            abort();
        break;
    case AUTO_ANIMATIONS:
    case AUTO_FRAME_STATS:
    case AUTO_CACHES:
    case AUTO_CONTRAST:
    case AUTO_QUIT:
    case AUTO_STATE:
        break;
    default:
        abort(); /* a kind no command has */
    }
    auto_cmd_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        check_one(line);
    }
    free(text);
    return 0;
}
