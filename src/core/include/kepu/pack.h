/* The content-pack model and its source-form parser (DESIGN.md "Content pack").
 *
 * A pack is loaded whole into memory: pack.json, every topic file it lists, and the
 * metadata of every image it references (the image bytes are loaded later by the app).
 * Loading checks everything a kiosk relies on; every problem found is reported as a
 * diagnostic naming file and field, so `kepu-pack validate` can list them all at once. */
#ifndef KEPU_PACK_H
#define KEPU_PACK_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/limits.h"

/* Installs cJSON's allocation hooks, so every cJSON allocation goes through kk_malloc and
 * kk_free (and their failure injection) and the pack parser can tell running out of memory
 * from bad JSON. Each program calls it once at the start of main, before any thread
 * starts; later calls do nothing. Without it cJSON uses malloc and free. */
void kk_json_init(void);
/* Parses the NUL-terminated text as one JSON value (nothing after it). Returns the tree
 * (free with cJSON_Delete), or NULL with *rc KK_ERR_NOMEM when an allocation failed (needs
 * kk_json_init) or KK_ERR_PARSE when the text is not JSON. */
cJSON *kk_json_parse(const char *text, enum kk_err *rc);
/* True when a cJSON allocation on this thread failed since the flag was last cleared (with
 * clear != 0, which clears it after reading). cJSON's builders drop what they cannot
 * allocate, so whoever builds a tree to write out clears the flag first and checks it
 * after: a set flag means the tree is not whole. Needs kk_json_init. */
int kk_json_alloc_failed(int clear);

enum kk_lang { KK_LANG_ZH = 0, KK_LANG_EN = 1, KK_LANG_COUNT };

/* "zh" / "en"; kk_lang_parse returns -1 for anything else. */
const char *kk_lang_name(enum kk_lang lang);
int kk_lang_parse(const char *s);

/* The five groups of the city's plan, plus "other" (DESIGN.md "Who uses it"). */
enum kk_audience {
    KK_AUD_YOUTH = 0,
    KK_AUD_FARMERS,
    KK_AUD_ELDERLY,
    KK_AUD_WORKERS,
    KK_AUD_OFFICIALS,
    KK_AUD_OTHER,
    KK_AUD_COUNT
};
/* Wire names: youth farmers elderly workers officials other. Parse returns -1 if unknown. */
const char *kk_audience_name(enum kk_audience a);
int kk_audience_parse(const char *s);
#define KK_AUD_BIT(a) (1u << (a))
#define KK_AUD_ALL    ((1u << KK_AUD_COUNT) - 1)

/* A text in several languages. zh is always present after a successful load; en may be
 * NULL. */
struct kk_text {
    char *s[KK_LANG_COUNT];
};
/* The text in lang, falling back to zh; never NULL for a loaded text ("" if t is NULL). */
const char *kk_text_get(const struct kk_text *t, enum kk_lang lang);

enum kk_image_type { KK_IMG_PNG, KK_IMG_JPEG, KK_IMG_SVG };

/* An image referenced by the pack, checked at load (kepu/imgprobe.h): exists, within size
 * limits, magic bytes match its type, and declared dimensions > 0 and within
 * KK_MAX_IMAGE_DIM and KK_MAX_IMAGE_PIXELS. For SVG, w/h come from width/height or the
 * viewBox; an SVG with neither is refused. */
struct kk_image {
    char *src;  /* path inside the pack, as written in the JSON */
    char *path; /* absolute or pack-dir-joined path on disk */
    enum kk_image_type type;
    int w, h;
    size_t bytes;
};

/* One narration file (format 2), checked at load (kepu/audioprobe.h): inside the pack, a
 * regular file, Ogg Vorbis, Ogg Opus or MP3 by content, whole, at most KK_MAX_AUDIO_MS
 * long and KK_MAX_AUDIO_FILE_BYTES large. */
struct kk_audio {
    char *src;  /* path inside the pack, as written in the JSON */
    char *path; /* pack-dir-joined path on disk */
    int type;   /* enum kk_audio_type */
    long ms;
    size_t bytes;
};
/* "audio": {"zh": …, "en": …}: a recording per language, each optional (NULL). One file
 * is listed under one language only. */
struct kk_narration {
    struct kk_audio *a[KK_LANG_COUNT]; /* owned */
};

/* TEXT, IMAGE and FACT are format 1; the rest need "format": 2 (docs/blocks.md). */
enum kk_block_type {
    KK_BLOCK_TEXT,
    KK_BLOCK_IMAGE,
    KK_BLOCK_FACT,
    KK_BLOCK_HOTSPOTS,
    KK_BLOCK_COMPARE,
    KK_BLOCK_SEQUENCE,
    KK_BLOCK_STEPS
};

/* A point on a HOTSPOTS picture: x, y are fractions of the picture (0..1). */
struct kk_spot {
    char *id; /* unique within its block */
    double x, y;
    struct kk_text label, text;
    struct kk_image *image; /* optional */
};

/* A picture with a label: COMPARE's before (frames[0]) and after (frames[1]), or one
 * SEQUENCE frame. text is optional (all NULL), and only read for SEQUENCE. */
struct kk_frame {
    struct kk_image *image;
    struct kk_text label, text;
};

/* One of STEPS' steps. */
struct kk_step {
    struct kk_text title, text;
    struct kk_image *image; /* optional */
};

#define KK_MIN_FRAMES 2
#define KK_MAX_FRAMES 12
#define KK_MIN_STEPS  2
#define KK_MAX_STEPS  10

struct kk_block {
    enum kk_block_type type;
    struct kk_text text;    /* TEXT and FACT */
    struct kk_image *image; /* IMAGE and HOTSPOTS: owned */
    struct kk_text caption; /* IMAGE, HOTSPOTS, COMPARE, SEQUENCE; optional (all NULL) */
    struct kk_spot *spots;  /* HOTSPOTS */
    size_t nspots;
    struct kk_frame *frames; /* COMPARE (2: before, after) and SEQUENCE (2..KK_MAX_FRAMES) */
    size_t nframes;
    struct kk_step *steps; /* STEPS (2..KK_MAX_STEPS) */
    size_t nsteps;
};

struct kk_page {
    struct kk_text title;
    struct kk_block *blocks;
    size_t nblocks;
    struct kk_narration audio; /* format 2, optional */
};

/* HOTSPOT and ORDER need "format": 2 (docs/blocks.md). */
enum kk_question_type { KK_Q_SINGLE, KK_Q_MULTI, KK_Q_TRUEFALSE, KK_Q_HOTSPOT, KK_Q_ORDER };
/* The wire name: "single", "multi", "truefalse", "hotspot" or "order". */
const char *kk_question_type_name(enum kk_question_type t);

struct kk_choice {
    struct kk_text text;    /* may be empty (all NULL) when image is set */
    struct kk_image *image; /* optional: a picture choice */
};

/* A circle on a HOTSPOT question's picture, in fractions of the picture: centre x, y in
 * 0..1, radius r in (0, 1] (a fraction of the picture's width). */
struct kk_region {
    double x, y, r;
};

struct kk_question {
    char *id;
    enum kk_question_type type;
    struct kk_text prompt;
    struct kk_image *image; /* optional */
    struct kk_choice *choices;
    size_t nchoices;
    unsigned answer_mask;      /* bit i set: choice i (HOTSPOT: region i) is right */
    struct kk_region *regions; /* HOTSPOT: 1..KK_MAX_CHOICES, image required */
    size_t nregions;
    /* ORDER: the right sequence of choice indexes, a permutation of 0..nchoices-1;
     * answer_mask has every choice's bit set. */
    unsigned char order[KK_MAX_CHOICES];
    struct kk_text explain;    /* may be empty */
    int difficulty;            /* 1..3, default 1 */
    unsigned audiences;        /* KK_AUD_BIT mask; the topic's when absent */
    int page;                  /* optional "page": index of the page that teaches it, or -1 */
    struct kk_narration audio; /* format 2: the prompt read aloud, optional */
    struct kk_narration explain_audio; /* format 2: the explanation read aloud, optional */
};

struct kk_topic {
    char *id;
    char *file; /* path inside the pack, e.g. "topics/quake.json" */
    struct kk_text title;
    struct kk_text summary;
    struct kk_image *cover; /* may be NULL only if the pack failed validation */
    unsigned audiences;     /* KK_AUD_BIT mask; the pack's when absent */
    struct kk_page *pages;
    size_t npages;
    struct kk_question *questions;
    size_t nquestions;
    char **references; /* optional list of reference strings */
    size_t nreferences;
};

struct kk_pack {
    char *dir; /* folder it was loaded from */
    char *id;
    char *version;
    int format; /* 1, or 2 when it uses narration or the interactive blocks */
    struct kk_text title;
    unsigned audiences;
    struct kk_topic *topics;
    size_t ntopics;
};

/* One problem found while loading. */
enum kk_severity { KK_SEV_WARNING, KK_SEV_ERROR };
struct kk_diag {
    enum kk_severity severity;
    char *file;  /* path inside the pack, e.g. "topics/quake.json" */
    char *field; /* JSON path, e.g. "pages[2].blocks[0].src" */
    char *message;
};
struct kk_diags {
    struct kk_diag *items;
    size_t n, alloc;
    size_t errors, warnings;
};
void kk_diags_release(struct kk_diags *d); /* d may be NULL */
/* "file: field: message" for item i, into out (appending); "file: message" when the
 * problem concerns the whole file (field ""). Does nothing if d is NULL or i >= d->n. */
void kk_diags_format(const struct kk_diags *d, size_t i, struct kk_buf *out);

/* Loads the source-form pack in dir. On KK_OK *out is a new pack (free with
 * kk_pack_destroy). On failure *out is NULL, and err gets one line naming the first
 * error's file and field. When diags is not NULL every problem found is appended to it,
 * warnings included (missing English, quiz question without explanation, image much
 * larger than needed). Errors: KK_ERR_NOTFOUND (no pack.json), KK_ERR_PARSE (bad JSON or
 * UTF-8), KK_ERR_INVALID (wrong type or value, unsafe path, missing image),
 * KK_ERR_TOOBIG, KK_ERR_NOMEM.
 * Ids (pack, topic, question) are 1..KK_MAX_ID_LEN characters of a-z, 0-9 and '-'; topic
 * ids are unique in a pack, question ids in a topic. */
enum kk_err kk_pack_load(const char *dir, struct kk_pack **out, struct kk_diags *diags,
                         struct kk_buf *err);
void kk_pack_destroy(struct kk_pack *p); /* p may be NULL */

/* Calls fn once for every picture p shows (covers, pictures of blocks, spots, frames and
 * steps, of questions and choices), each file once however often it is used, in the order
 * of the pack, with the topic file it is first used in. Stops at and returns fn's first
 * non-zero result. */
int kk_pack_each_image(const struct kk_pack *p,
                       int (*fn)(void *ctx, const struct kk_topic *t, const struct kk_image *img),
                       void *ctx);

/* Every usable pack found in a content folder: each subfolder holding a pack.json. */
struct kk_library {
    struct kk_pack **packs;
    size_t npacks;
};
/* Loads every pack under dir: its subfolders holding a pack.json, in name order (names
 * starting with '.' are ignored), appended to lib (start from {0}; release lib afterwards
 * even on failure). Packs that fail are skipped; for each, one line
 * "<dir>/<sub>: <file>: <field>: <message>" is appended to skipped (if not NULL),
 * newline-terminated; so is a pack whose id is already in lib, and any pack past
 * KK_MAX_PACKS. A missing or empty dir is not an error: the library is empty.
 * Errors only for KK_ERR_NOMEM or an unreadable dir (KK_ERR_IO). */
enum kk_err kk_library_load(struct kk_library *lib, const char *dir, struct kk_buf *skipped,
                            struct kk_buf *err);
/* Adds one already-loaded pack. Takes ownership always: on failure p is destroyed.
 * Errors: KK_ERR_EXISTS (a pack with p's id is in lib), KK_ERR_TOOBIG (lib already holds
 * KK_MAX_PACKS), KK_ERR_NOMEM, KK_ERR_INVALID (p is NULL). */
enum kk_err kk_library_add(struct kk_library *lib, struct kk_pack *p);
void kk_library_release(struct kk_library *lib);
/* Finds a topic by "packid/topicid" or by bare topic id (first match). NULL if none. */
const struct kk_topic *kk_library_find_topic(const struct kk_library *lib, const char *id,
                                             const struct kk_pack **pack_out);

#endif
