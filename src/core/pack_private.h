/* What pack.c shares with pack_blocks.c: the loader's state and the helpers that read
 * JSON values and report problems at the current file and field. Not a public API. */
#ifndef KEPU_PACK_PRIVATE_H
#define KEPU_PACK_PRIVATE_H

#include <cjson/cJSON.h>

#include "kepu/pack.h"

/* The state of one kk_pack_load: where problems go and where in the pack we are. */
struct loader {
    const char *dir;
    struct kk_diags *diags; /* the caller's, or own_diags */
    struct kk_diags own_diags;
    size_t first;           /* index of this load's first item in diags */
    enum kk_err first_code; /* code of this load's first error, KK_OK if none yet */
    int nomem;              /* an allocation failed: stop and report KK_ERR_NOMEM */
    int format;             /* pack.json's "format", 0 until read */
    const char *file;       /* the file being read, relative to dir */
    struct kk_buf field;    /* JSON path of the value being read */
    struct kk_buf tmp;      /* scratch for messages from other modules */
    /* Every narration file seen so far and the language it was listed under, so one
     * recording is never claimed for two languages. */
    struct audio_seen {
        char *src;
        enum kk_lang lang;
        char *where; /* "file: field" of its first listing */
    } * audio_seen;
    size_t naudio_seen, audio_seen_alloc;
};

void kk_pack_report(struct loader *ld, enum kk_severity sev, enum kk_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define kk_pack_error(ld, code, ...) kk_pack_report(ld, KK_SEV_ERROR, code, __VA_ARGS__)

size_t kk_pack_push_key(struct loader *ld, const char *key);
size_t kk_pack_push_index(struct loader *ld, size_t i);
void kk_pack_pop(struct loader *ld, size_t len);
void *kk_pack_calloc(struct loader *ld, size_t n, size_t size);
const char *kk_pack_json_type(const cJSON *v);
const char *kk_pack_get_string(struct loader *ld, const cJSON *obj, const char *key, int required);
const cJSON *kk_pack_get_array(struct loader *ld, const cJSON *obj, const char *key, int required);
int kk_pack_get_text(struct loader *ld, const cJSON *obj, const char *key, int required,
                     struct kk_text *out);
struct kk_image *kk_pack_get_image(struct loader *ld, const cJSON *obj, const char *key,
                                   int required);
void kk_pack_text_release(struct kk_text *t);
void kk_pack_image_destroy(struct kk_image *img);

/* pack_blocks.c: the format 2 block and question types. */

/* Reads block v of type `type` into b when the type is one of format 2's. Returns 0 when
 * the type is not one of them (nothing reported), 1 when it is (problems reported). */
int kk_pack_block2(struct loader *ld, const cJSON *v, const char *type, struct kk_block *b);
void kk_pack_block2_release(struct kk_block *b);
/* Sets q->type for "hotspot" and "order" and returns 1 (reporting when the pack is not
 * format 2), else returns 0. */
int kk_pack_question2_type(struct loader *ld, const char *type, struct kk_question *q);
/* Reads a HOTSPOT or ORDER question's regions or choices and answer. */
void kk_pack_question2(struct loader *ld, const cJSON *v, struct kk_question *q);
void kk_pack_question2_release(struct kk_question *q);

#endif
