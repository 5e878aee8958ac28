/* The shared table of malformed events (issue 12): tests/core/test_event.c runs each
 * through the kiosk's path (kk_event_make, which checks before the event is journaled)
 * and tests/server/test_srv_events.c through the server's ingest (srv_events_batch); both
 * must refuse it with exactly this reason. Every event is sent by kiosk "k-1". */
#ifndef EVENT_CASES_H
#define EVENT_CASES_H

#define EC_ID   "\"id\":\"0123456789abcdef0123456789abcdef\""
#define EC_BASE EC_ID ",\"kiosk\":\"k-1\",\"ts\":1764100000000"

struct event_case {
    const char *json;   /* the event as a kiosk would send it */
    const char *reason; /* the one reason both sides give */
    int makeable;       /* 1: the kiosk's kk_event_make can produce it (id, ts are its own) */
};

static const struct event_case event_cases[] = {
    {"{" EC_BASE ",\"type\":\"dance\"}", "type: unknown event type", 1},
    {"{" EC_BASE "}", "type: missing", 1},
    {"{" EC_BASE ",\"type\":\"boot\",\"lang\":\"fr\"}", "lang: must be zh or en", 1},
    {"{" EC_BASE ",\"type\":\"boot\",\"session\":\"not hex\"}", "session: must be hex digits", 1},
    {"{" EC_BASE ",\"type\":\"boot\",\"pack\":7}", "pack: must be a string", 1},
    {"{" EC_BASE ",\"type\":\"audience\",\"audience\":\"martians\"}",
     "audience: unknown audience group", 1},
    {"{" EC_BASE ",\"type\":\"audience\"}", "audience: missing", 1},
    {"{" EC_BASE ",\"type\":\"language\",\"lang\":null}", "lang: missing", 1},
    {"{" EC_BASE ",\"type\":\"session_end\",\"duration_ms\":5}", "reason: missing", 1},
    {"{" EC_BASE ",\"type\":\"page_view\",\"topic\":\"t\",\"page\":-1,\"dwell_ms\":1}",
     "page: must be a whole number from 0 to 64", 1},
    {"{" EC_BASE ",\"type\":\"page_view\",\"topic\":\"t\",\"page\":\"two\",\"dwell_ms\":1}",
     "page: must be a whole number from 0 to 64", 1},
    {"{" EC_BASE ",\"type\":\"page_view\",\"topic\":\"t\",\"page\":1,\"dwell_ms\":1.5}",
     "dwell_ms: must be a whole number from 0 to 604800000", 1},
    {"{" EC_BASE ",\"type\":\"page_view\",\"topic\":\"\",\"page\":1,\"dwell_ms\":1}",
     "topic: must be text of 1 to 64 bytes without control characters", 1},
    {"{" EC_BASE ",\"type\":\"quiz_answer\",\"topic\":\"t\",\"question\":\"q\",\"choice\":[9],"
     "\"correct\":true,\"ms\":1}",
     "choice: must hold whole numbers from 0 to 7", 1},
    {"{" EC_BASE ",\"type\":\"quiz_answer\",\"topic\":\"t\",\"question\":\"q\",\"choice\":3,"
     "\"correct\":true,\"ms\":1}",
     "choice: must be an array of at most 8 choice numbers", 1},
    {"{" EC_BASE ",\"type\":\"quiz_answer\",\"topic\":\"t\",\"question\":\"q\",\"choice\":[1],"
     "\"correct\":\"yes\",\"ms\":1}",
     "correct: must be true or false", 1},
    {"{" EC_BASE ",\"type\":\"quiz_complete\",\"topic\":\"t\",\"score\":4,\"total\":3}",
     "score: must be a whole number from 0 to 3", 1},
    {"{" EC_BASE ",\"type\":\"error\",\"code\":\"a\\u0001b\"}",
     "code: must be text of 1 to 64 bytes without control characters", 1},
    {"{" EC_BASE ",\"type\":\"interact\",\"topic\":\"eye\",\"page\":0,\"action\":\"open\"}",
     "block: missing", 1},
    {"{" EC_BASE ",\"type\":\"audio_play\",\"topic\":\"eye\",\"page\":0,\"lang\":\"zh\","
     "\"ms_heard\":-5}",
     "ms_heard: must be a whole number from 0 to 604800000", 1},
    {"{" EC_BASE ",\"type\":\"audio_play\",\"topic\":\"eye\",\"page\":0,\"ms_heard\":5,"
     "\"lang\":\"de\"}",
     "lang: must be zh or en", 1},
    {"{\"id\":\"0123456789abcdef0123456789abcdef\",\"kiosk\":\"\",\"ts\":1,\"type\":\"boot\"}",
     "kiosk: must be text of 1 to 64 bytes without control characters", 1},
    /* What only the envelope can get wrong (kk_event_make writes id and ts itself). */
    {"[]", "event: must be an object", 0},
    {"{\"kiosk\":\"k-1\",\"ts\":1,\"type\":\"boot\"}", "id: missing", 0},
    {"{\"id\":\"XYZ\",\"kiosk\":\"k-1\",\"ts\":1,\"type\":\"boot\"}",
     "id: must be 32 lowercase hex digits", 0},
    {"{" EC_ID ",\"kiosk\":\"k-1\",\"type\":\"boot\"}", "ts: missing", 0},
    {"{" EC_ID ",\"kiosk\":\"k-1\",\"ts\":\"yesterday\",\"type\":\"boot\"}",
     "ts: must be a whole number from -9007199254740991 to 9007199254740991", 0},
    {"{" EC_ID ",\"kiosk\":\"k-1\",\"ts\":1.5,\"type\":\"boot\"}",
     "ts: must be a whole number from -9007199254740991 to 9007199254740991", 0},
};

#define EVENT_NCASES (sizeof(event_cases) / sizeof(event_cases[0]))

#endif
