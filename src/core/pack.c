#include "kepu/pack.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "kepu/alloc.h"
#include "kepu/audioprobe.h"
#include "kepu/fs.h"
#include "kepu/imgprobe.h"
#include "kepu/limits.h"
#include "kepu/utf8.h"
#include "pack_private.h"

/* A raster image larger than this is never shown at full size on a 4K screen (a tall image
 * may scroll, hence twice the height); it only costs load time and memory. */
#define KK_IMAGE_WARN_W     3840
#define KK_IMAGE_WARN_H     (2160 * 2)
#define KK_IMAGE_WARN_BYTES (2u * 1024 * 1024)

#define KK_PACK_FORMAT 2 /* the newest format this version reads */

static const char *const audience_names[KK_AUD_COUNT] = {
    "youth", "farmers", "elderly", "workers", "officials", "other",
};

const char *kk_lang_name(enum kk_lang lang)
{
    switch (lang) {
    case KK_LANG_ZH:
        return "zh";
    case KK_LANG_EN:
        return "en";
    case KK_LANG_COUNT:
        break;
    }
    return "?";
}

int kk_lang_parse(const char *s)
{
    for (int i = 0; i < KK_LANG_COUNT; i++)
        if (s && strcmp(s, kk_lang_name((enum kk_lang)i)) == 0)
            return i;
    return -1;
}

const char *kk_audience_name(enum kk_audience a)
{
    if ((unsigned)a >= KK_AUD_COUNT)
        return "?";
    return audience_names[a];
}

int kk_audience_parse(const char *s)
{
    for (int i = 0; i < KK_AUD_COUNT; i++)
        if (s && strcmp(s, audience_names[i]) == 0)
            return i;
    return -1;
}

const char *kk_text_get(const struct kk_text *t, enum kk_lang lang)
{
    if (!t)
        return "";
    if ((unsigned)lang < KK_LANG_COUNT && t->s[lang])
        return t->s[lang];
    return t->s[KK_LANG_ZH] ? t->s[KK_LANG_ZH] : "";
}

/* ---- freeing the model ---- */

static void text_release(struct kk_text *t)
{
    for (int i = 0; i < KK_LANG_COUNT; i++) {
        kk_free(t->s[i]);
        t->s[i] = NULL;
    }
}

static void image_destroy(struct kk_image *img)
{
    if (!img)
        return;
    kk_free(img->src);
    kk_free(img->path);
    kk_free(img);
}

static void narration_release(struct kk_narration *n)
{
    for (int i = 0; i < KK_LANG_COUNT; i++) {
        if (n->a[i]) {
            kk_free(n->a[i]->src);
            kk_free(n->a[i]->path);
            kk_free(n->a[i]);
        }
        n->a[i] = NULL;
    }
}

static void page_release(struct kk_page *pg)
{
    narration_release(&pg->audio);
    text_release(&pg->title);
    for (size_t i = 0; i < pg->nblocks; i++) {
        text_release(&pg->blocks[i].text);
        text_release(&pg->blocks[i].caption);
        image_destroy(pg->blocks[i].image);
        kk_pack_block2_release(&pg->blocks[i]);
    }
    kk_free(pg->blocks);
}

static void question_release(struct kk_question *q)
{
    kk_free(q->id);
    text_release(&q->prompt);
    image_destroy(q->image);
    for (size_t i = 0; i < q->nchoices; i++) {
        text_release(&q->choices[i].text);
        image_destroy(q->choices[i].image);
    }
    kk_free(q->choices);
    text_release(&q->explain);
    narration_release(&q->audio);
    narration_release(&q->explain_audio);
    kk_pack_question2_release(q);
}

static void topic_release(struct kk_topic *t)
{
    kk_free(t->id);
    kk_free(t->file);
    text_release(&t->title);
    text_release(&t->summary);
    image_destroy(t->cover);
    for (size_t i = 0; i < t->npages; i++)
        page_release(&t->pages[i]);
    kk_free(t->pages);
    for (size_t i = 0; i < t->nquestions; i++)
        question_release(&t->questions[i]);
    kk_free(t->questions);
    for (size_t i = 0; i < t->nreferences; i++)
        kk_free(t->references[i]);
    kk_free(t->references);
}

void kk_pack_destroy(struct kk_pack *p)
{
    if (!p)
        return;
    kk_free(p->dir);
    kk_free(p->id);
    kk_free(p->version);
    text_release(&p->title);
    for (size_t i = 0; i < p->ntopics; i++)
        topic_release(&p->topics[i]);
    kk_free(p->topics);
    kk_free(p);
}

/* ---- diagnostics ---- */

void kk_diags_release(struct kk_diags *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        kk_free(d->items[i].file);
        kk_free(d->items[i].field);
        kk_free(d->items[i].message);
    }
    kk_free(d->items);
    d->items = NULL;
    d->n = d->alloc = d->errors = d->warnings = 0;
}

void kk_diags_format(const struct kk_diags *d, size_t i, struct kk_buf *out)
{
    if (!d || i >= d->n || !out)
        return;
    const struct kk_diag *g = &d->items[i];
    if (g->field && *g->field)
        kk_buf_addf(out, "%s: %s: %s", g->file, g->field, g->message);
    else
        kk_buf_addf(out, "%s: %s", g->file, g->message);
}

static void report(struct loader *ld, enum kk_severity sev, enum kk_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Diagnostics are printed one per line, and names and values from the pack (even file
 * names) may hold control characters: those become '?'. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

/* Records one problem at the current file and field. */
static void report(struct loader *ld, enum kk_severity sev, enum kk_err code, const char *fmt, ...)
{
    if (sev == KK_SEV_ERROR && ld->first_code == KK_OK)
        ld->first_code = code;
    if (ld->nomem)
        return;
    struct kk_diags *d = ld->diags;
    struct kk_buf msg = KK_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    enum kk_err e = kk_buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    if (!e && d->n == d->alloc) {
        size_t n = d->alloc ? d->alloc * 2 : 16;
        struct kk_diag *items = kk_reallocarray(d->items, n, sizeof(*items));
        if (!items)
            e = KK_ERR_NOMEM;
        else {
            d->items = items;
            d->alloc = n;
        }
    }
    char *message = e ? NULL : kk_buf_detach(&msg, NULL);
    char *file = message ? kk_strdup(ld->file) : NULL;
    char *field = file ? kk_strdup(kk_buf_str(&ld->field)) : NULL;
    if (!field) {
        kk_free(message);
        kk_free(file);
        kk_buf_release(&msg);
        ld->nomem = 1;
        return;
    }
    one_line(message);
    one_line(file);
    one_line(field);
    struct kk_diag *g = &d->items[d->n++];
    g->severity = sev;
    g->file = file;
    g->field = field;
    g->message = message;
    if (sev == KK_SEV_ERROR)
        d->errors++;
    else
        d->warnings++;
}

#define report_error(ld, code, ...) report(ld, KK_SEV_ERROR, code, __VA_ARGS__)
#define report_warning(ld, ...)     report(ld, KK_SEV_WARNING, KK_OK, __VA_ARGS__)

/* Appends ".key" (or "key" at the top) to the current field; returns the length to go
 * back to with pop(). */
static size_t push_key(struct loader *ld, const char *key)
{
    size_t len = ld->field.len;
    if (kk_buf_addf(&ld->field, "%s%s", len ? "." : "", key))
        ld->nomem = 1;
    return len;
}

static size_t push_index(struct loader *ld, size_t i)
{
    size_t len = ld->field.len;
    if (kk_buf_addf(&ld->field, "[%zu]", i))
        ld->nomem = 1;
    return len;
}

static void pop(struct loader *ld, size_t len)
{
    if (ld->field.data && len <= ld->field.len) {
        ld->field.len = len;
        ld->field.data[len] = '\0';
    }
}

static char *dup_or_nomem(struct loader *ld, const char *s)
{
    char *d = kk_strdup(s);
    if (!d)
        ld->nomem = 1;
    return d;
}

/* Zero-filled array of n elements, or NULL (and nomem) when that fails. */
static void *calloc_or_nomem(struct loader *ld, size_t n, size_t size)
{
    void *p = kk_calloc(n, size);
    if (!p)
        ld->nomem = 1;
    return p;
}

/* ---- JSON values ---- */

/* cJSON allocates through our wrappers so the torture tests reach it; the flag tells an
 * allocation failure apart from bad JSON, which cJSON reports the same way. */
static _Thread_local int json_nomem;

static void *json_malloc(size_t n)
{
    void *p = kk_malloc(n);
    if (!p)
        json_nomem = 1;
    return p;
}

static void json_hooks_init(void)
{
    cJSON_Hooks hooks = {json_malloc, kk_free};
    cJSON_InitHooks(&hooks);
}

void kk_json_init(void)
{
    static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
    pthread_once(&hooks_once, json_hooks_init);
}

int kk_json_alloc_failed(int clear)
{
    int failed = json_nomem;
    if (clear)
        json_nomem = 0;
    return failed;
}

cJSON *kk_json_parse(const char *text, enum kk_err *rc)
{
    json_nomem = 0;
    cJSON *root = cJSON_ParseWithOpts(text, NULL, 1);
    *rc = root ? KK_OK : json_nomem ? KK_ERR_NOMEM : KK_ERR_PARSE;
    return root;
}

static const char *json_type(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "true/false";
    if (cJSON_IsNull(v))
        return "null";
    return "not a JSON value";
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* Reads obj[key] as an integer in [min, max] into *out. Missing: returns 0 and leaves *out
 * alone (the caller decides whether that is an error). Returns 1 when set, -1 after
 * reporting a bad value. */
static int get_int(struct loader *ld, const cJSON *obj, const char *key, long min, long max,
                   long *out)
{
    const cJSON *v = member(obj, key);
    if (!v)
        return 0;
    size_t back = push_key(ld, key);
    int rc = 1;
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!cJSON_IsNumber(v) || d != floor(d) || d < (double)min || d > (double)max) {
        if (cJSON_IsNumber(v))
            report_error(ld, KK_ERR_INVALID, "must be a whole number from %ld to %ld", min, max);
        else
            report_error(ld, KK_ERR_INVALID, "must be a whole number from %ld to %ld, not %s", min,
                         max, json_type(v));
        rc = -1;
    } else {
        *out = (long)d;
    }
    pop(ld, back);
    return rc;
}

/* obj[key] as a string, or NULL after reporting (missing when required, or wrong type). */
static const char *get_string(struct loader *ld, const cJSON *obj, const char *key, int required)
{
    const cJSON *v = member(obj, key);
    if (!v && !required)
        return NULL;
    size_t back = push_key(ld, key);
    const char *s = NULL;
    if (!v)
        report_error(ld, KK_ERR_INVALID, "missing");
    else if (!cJSON_IsString(v))
        report_error(ld, KK_ERR_INVALID, "must be a string, not %s", json_type(v));
    else
        s = v->valuestring;
    pop(ld, back);
    return s;
}

/* obj[key] as an array (NULL after reporting when missing and required, or not an array). */
static const cJSON *get_array(struct loader *ld, const cJSON *obj, const char *key, int required)
{
    const cJSON *v = member(obj, key);
    if (!v && !required)
        return NULL;
    size_t back = push_key(ld, key);
    if (!v)
        report_error(ld, KK_ERR_INVALID, "missing");
    else if (!cJSON_IsArray(v)) {
        report_error(ld, KK_ERR_INVALID, "must be an array, not %s", json_type(v));
        v = NULL;
    }
    pop(ld, back);
    return v;
}

/* An id: 1..KK_MAX_ID_LEN of a-z, 0-9 and '-'. Reports at the current field. */
static int check_id(struct loader *ld, const char *s)
{
    size_t n = strlen(s);
    int ok = n >= 1 && n <= KK_MAX_ID_LEN;
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-';
    if (!ok)
        report_error(ld, KK_ERR_INVALID,
                     "\"%s\" is not a valid id: use 1 to %d characters a-z, 0-9 "
                     "and -",
                     s, KK_MAX_ID_LEN);
    return ok;
}

/* obj[key] as an id, copied; NULL after reporting. */
static char *get_id(struct loader *ld, const cJSON *obj, const char *key)
{
    const char *s = get_string(ld, obj, key, 1);
    if (!s)
        return NULL;
    size_t back = push_key(ld, key);
    char *id = check_id(ld, s) ? dup_or_nomem(ld, s) : NULL;
    pop(ld, back);
    return id;
}

/* One language of a text: a non-empty string within KK_MAX_TEXT_BYTES. */
static void get_lang(struct loader *ld, const cJSON *obj, enum kk_lang lang, char **out)
{
    const char *key = kk_lang_name(lang);
    const cJSON *v = member(obj, key);
    size_t back = push_key(ld, key);
    if (!v && lang == KK_LANG_ZH)
        report_error(ld, KK_ERR_INVALID, "missing (every text needs Chinese)");
    else if (v && !cJSON_IsString(v))
        report_error(ld, KK_ERR_INVALID, "must be a string, not %s", json_type(v));
    else if (v && v->valuestring[0] == '\0' && lang == KK_LANG_ZH)
        report_error(ld, KK_ERR_INVALID, "is empty (every text needs Chinese)");
    else if (v && strlen(v->valuestring) > KK_MAX_TEXT_BYTES)
        report_error(ld, KK_ERR_TOOBIG, "is %zu bytes; the limit is %u", strlen(v->valuestring),
                     KK_MAX_TEXT_BYTES);
    else if (v && v->valuestring[0] != '\0')
        *out = dup_or_nomem(ld, v->valuestring);
    pop(ld, back);
    if (lang == KK_LANG_EN && (!v || (cJSON_IsString(v) && v->valuestring[0] == '\0')))
        report_warning(ld, "missing English");
}

/* obj[key] as a text {"zh": "…", "en": "…"}. Returns 1 when present (even if bad). */
static int get_text(struct loader *ld, const cJSON *obj, const char *key, int required,
                    struct kk_text *out)
{
    const cJSON *v = member(obj, key);
    if (!v && !required)
        return 0;
    size_t back = push_key(ld, key);
    if (!v)
        report_error(ld, KK_ERR_INVALID, "missing");
    else if (!cJSON_IsObject(v))
        report_error(ld, KK_ERR_INVALID,
                     "must be an object like {\"zh\": \"…\", \"en\": \"…\"}, not %s", json_type(v));
    else {
        get_lang(ld, v, KK_LANG_ZH, &out->s[KK_LANG_ZH]);
        get_lang(ld, v, KK_LANG_EN, &out->s[KK_LANG_EN]);
    }
    pop(ld, back);
    return v != NULL;
}

/* obj[key] as a list of audience names; *mask is left alone when the key is missing. */
static void get_audiences(struct loader *ld, const cJSON *obj, const char *key, int required,
                          unsigned *mask)
{
    const cJSON *arr = get_array(ld, obj, key, required);
    if (!arr)
        return;
    size_t back = push_key(ld, key);
    unsigned m = 0;
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        size_t back_i = push_index(ld, i++);
        int a = cJSON_IsString(v) ? kk_audience_parse(v->valuestring) : -1;
        if (!cJSON_IsString(v))
            report_error(ld, KK_ERR_INVALID, "must be a string, not %s", json_type(v));
        else if (a < 0)
            report_error(
                ld, KK_ERR_INVALID,
                "unknown audience \"%s\" (use youth, farmers, elderly, workers, officials or "
                "other)",
                v->valuestring);
        else
            m |= KK_AUD_BIT(a);
        pop(ld, back_i);
    }
    if (i == 0)
        report_error(ld, KK_ERR_INVALID, "needs at least one audience");
    else
        *mask = m;
    pop(ld, back);
}

/* ---- files inside the pack ---- */

/* Checks that rel names a regular file under the pack folder, reached without following a
 * symbolic link in any component. Returns the joined path (free with kk_free) or NULL
 * after reporting. missing is the code for a file that is not there. */
static char *pack_file(struct loader *ld, const char *rel, enum kk_err missing)
{
    if (!kk_path_is_safe(rel)) {
        report_error(ld, KK_ERR_INVALID,
                     "unsafe path \"%s\": it must be relative and inside the pack, without \"..\", "
                     "\".\", empty parts or backslashes",
                     rel);
        return NULL;
    }
    if (kk_path_depth(rel) > KK_MAX_PATH_DEPTH) {
        report_error(ld, KK_ERR_TOOBIG, "path \"%s\": folders nested more than %d deep", rel,
                     KK_MAX_PATH_DEPTH);
        return NULL;
    }
    char *path = kk_path_join(ld->dir, rel);
    if (!path) {
        ld->nomem = 1;
        return NULL;
    }
    /* Walk the components: path[0..cut) is the part checked so far. */
    size_t base = strlen(path) - strlen(rel);
    for (size_t cut = base;;) {
        char *slash = strchr(path + cut, '/');
        char saved = '\0';
        if (slash) {
            saved = *slash;
            *slash = '\0';
        }
        struct stat st;
        int r = lstat(path, &st);
        int last = slash == NULL;
        const char *part = path + base;
        if (r < 0 && (errno == ENOENT || errno == ENOTDIR))
            report_error(ld, missing, "\"%s\" not found in the pack", rel);
        else if (r < 0)
            report_error(ld, KK_ERR_IO, "\"%s\": %s", part, strerror(errno));
        else if (S_ISLNK(st.st_mode))
            report_error(ld, KK_ERR_INVALID,
                         "\"%s\" is a symbolic link; packs may not contain links", part);
        else if (!last && !S_ISDIR(st.st_mode))
            report_error(ld, missing, "\"%s\" not found in the pack (\"%s\" is not a folder)", rel,
                         part);
        else if (last && !S_ISREG(st.st_mode))
            report_error(ld, KK_ERR_INVALID, "\"%s\" is not a regular file", part);
        else if (last)
            return path;
        else {
            *slash = saved;
            cut = (size_t)(slash - path) + 1;
            continue;
        }
        kk_free(path);
        return NULL;
    }
}

/* Byte offset off in data as "line L, column C" (columns count characters). */
static void position(struct kk_buf *out, const char *data, size_t off)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
        if (data[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)data[i] & 0xc0) != 0x80) {
            col++;
        }
    }
    kk_buf_addf(out, "line %zu, column %zu (byte %zu)", line, col, off);
}

/* Offset of the first byte of data[0..len) that is not valid UTF-8 (data known invalid). */
static size_t utf8_error_offset(const char *data, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)data[i];
        size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        if (n > len - i)
            n = len - i;
        if (!kk_utf8_valid(data + i, n))
            return i;
        i += n;
    }
    return len;
}

/* Reads and parses the JSON file rel of the pack. Returns the root object (free with
 * cJSON_Delete) or NULL after reporting. */
static cJSON *read_json(struct loader *ld, const char *rel, enum kk_err missing)
{
    cJSON *root = NULL;
    struct kk_buf data = KK_BUF_INIT;
    char *path = pack_file(ld, rel, missing);
    if (!path)
        goto done;
    kk_buf_reset(&ld->tmp);
    enum kk_err e = kk_file_read(path, KK_MAX_JSON_FILE_BYTES, &data, &ld->tmp);
    if (e == KK_ERR_NOMEM) {
        ld->nomem = 1;
        goto done;
    }
    if (e == KK_ERR_TOOBIG) {
        report_error(ld, e, "the file is larger than the limit of %u bytes",
                     KK_MAX_JSON_FILE_BYTES);
        goto done;
    }
    if (e) {
        report_error(ld, e, "%s", kk_buf_str(&ld->tmp));
        goto done;
    }
    if (data.len == 0) {
        report_error(ld, KK_ERR_PARSE, "the file is empty");
        goto done;
    }
    const char *nul = memchr(data.data, '\0', data.len);
    if (nul || !kk_utf8_valid(data.data, data.len)) {
        size_t off = nul ? (size_t)(nul - data.data) : utf8_error_offset(data.data, data.len);
        kk_buf_reset(&ld->tmp);
        position(&ld->tmp, data.data, off);
        report_error(ld, KK_ERR_PARSE, "%s at %s", nul ? "a NUL byte" : "not valid UTF-8",
                     kk_buf_str(&ld->tmp));
        goto done;
    }
    const char *end = NULL;
    json_nomem = 0;
    /* The length includes the buffer's NUL so require_null_terminated can see the end. */
    root = cJSON_ParseWithLengthOpts(data.data, data.len + 1, &end, 1);
    if (!root) {
        if (json_nomem) {
            ld->nomem = 1;
            goto done;
        }
        size_t off = end && end >= data.data ? (size_t)(end - data.data) : 0;
        if (off > data.len)
            off = data.len;
        kk_buf_reset(&ld->tmp);
        position(&ld->tmp, data.data, off);
        report_error(ld, KK_ERR_PARSE, "not valid JSON: error at %s", kk_buf_str(&ld->tmp));
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        report_error(ld, KK_ERR_INVALID, "must be a JSON object {…}, not %s", json_type(root));
        cJSON_Delete(root);
        root = NULL;
    }
done:
    kk_free(path);
    kk_buf_release(&data);
    return root;
}

/* An image path at obj[key]: safe, a regular file, a known type whose header checks out.
 * Returns NULL when missing (reported if required) or bad (reported). */
static struct kk_image *get_image(struct loader *ld, const cJSON *obj, const char *key,
                                  int required)
{
    const char *src = get_string(ld, obj, key, required);
    if (!src)
        return NULL;
    size_t back = push_key(ld, key);
    struct kk_image *img = NULL;
    char *path = NULL;
    int type = kk_image_type_from_name(src);
    if (type < 0) {
        report_error(ld, KK_ERR_INVALID, "\"%s\": images must be .png, .jpg, .jpeg or .svg files",
                     src);
        goto done;
    }
    path = pack_file(ld, src, KK_ERR_INVALID);
    if (!path)
        goto done;
    struct kk_image probed = {0};
    kk_buf_reset(&ld->tmp);
    enum kk_err e = kk_image_probe(path, (enum kk_image_type)type, &probed, &ld->tmp);
    if (e == KK_ERR_NOMEM) {
        ld->nomem = 1;
        goto done;
    }
    if (e) {
        report_error(ld, e, "\"%s\": %s", src, kk_buf_str(&ld->tmp));
        goto done;
    }
    if (probed.type != KK_IMG_SVG && (probed.w > KK_IMAGE_WARN_W || probed.h > KK_IMAGE_WARN_H ||
                                      probed.bytes > KK_IMAGE_WARN_BYTES))
        report_warning(ld,
                       "\"%s\" is much larger than it is ever shown (%dx%d pixels, %zu bytes); "
                       "scale it to at most %dx%d pixels and %u bytes",
                       src, probed.w, probed.h, probed.bytes, KK_IMAGE_WARN_W, KK_IMAGE_WARN_H,
                       KK_IMAGE_WARN_BYTES);
    img = calloc_or_nomem(ld, 1, sizeof(*img));
    if (!img)
        goto done;
    *img = probed;
    img->path = path;
    path = NULL;
    img->src = dup_or_nomem(ld, src);
    if (!img->src) {
        image_destroy(img);
        img = NULL;
    }
done:
    kk_free(path);
    pop(ld, back);
    return img;
}

/* ---- narration ---- */

/* The language a file name says it holds: a stem ending in "-zh", "_zh" or ".zh" (or en),
 * as in "audio/p1-zh.ogg". -1 when the name says nothing. */
static int name_lang(const char *src)
{
    const char *base = strrchr(src, '/');
    base = base ? base + 1 : src;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (stem < 3 || !strchr("-_.", base[stem - 3]))
        return -1;
    char tag[3] = {base[stem - 2], base[stem - 1], '\0'};
    return kk_lang_parse(tag);
}

/* Checks that src has not been listed under another language, and remembers it. */
static int audio_claim(struct loader *ld, const char *src, enum kk_lang lang)
{
    for (size_t i = 0; i < ld->naudio_seen; i++) {
        const struct audio_seen *a = &ld->audio_seen[i];
        if (strcmp(a->src, src) != 0)
            continue;
        if (a->lang != lang) {
            report_error(ld, KK_ERR_INVALID,
                         "\"%s\" is listed as %s here and as %s at %s: one recording holds one "
                         "language",
                         src, kk_lang_name(lang), kk_lang_name(a->lang), a->where);
            return -1;
        }
        return 0;
    }
    if (kk_grow((void **)&ld->audio_seen, &ld->audio_seen_alloc, ld->naudio_seen,
                sizeof(*ld->audio_seen)) < 0) {
        ld->nomem = 1;
        return -1;
    }
    struct kk_buf where;
    kk_buf_init(&where, 0);
    kk_buf_addf(&where, "%s: %s", ld->file, kk_buf_str(&ld->field));
    struct audio_seen *a = &ld->audio_seen[ld->naudio_seen];
    a->src = kk_strdup(src);
    a->lang = lang;
    a->where = kk_buf_detach(&where, NULL);
    if (!a->src || !a->where) {
        kk_free(a->src);
        kk_free(a->where);
        ld->nomem = 1;
        return -1;
    }
    ld->naudio_seen++;
    return 0;
}

static struct kk_audio *get_audio_file(struct loader *ld, const char *src, enum kk_lang lang)
{
    struct kk_audio *au = NULL;
    char *path = NULL;
    int named = name_lang(src);
    if (named >= 0 && named != (int)lang) {
        report_error(ld, KK_ERR_INVALID,
                     "\"%s\" is listed under %s but its name says %s: list it under %s, or "
                     "rename it",
                     src, kk_lang_name(lang), kk_lang_name((enum kk_lang)named),
                     kk_lang_name((enum kk_lang)named));
        goto done;
    }
    if (audio_claim(ld, src, lang) < 0)
        goto done;
    path = pack_file(ld, src, KK_ERR_INVALID);
    if (!path)
        goto done;
    struct kk_audio_info info;
    kk_buf_reset(&ld->tmp);
    enum kk_err e = kk_audio_probe(path, &info, &ld->tmp);
    if (e == KK_ERR_NOMEM) {
        ld->nomem = 1;
        goto done;
    }
    if (e) {
        report_error(ld, e, "\"%s\": %s", src, kk_buf_str(&ld->tmp));
        goto done;
    }
    au = calloc_or_nomem(ld, 1, sizeof(*au));
    if (!au)
        goto done;
    au->type = (int)info.type;
    au->ms = info.ms;
    au->bytes = info.bytes;
    au->path = path;
    path = NULL;
    au->src = dup_or_nomem(ld, src);
done:
    kk_free(path);
    return au;
}

/* "audio": {"zh": "audio/p1-zh.ogg", "en": …}, optional, format 2 only. */
static void get_narration(struct loader *ld, const cJSON *obj, const char *key,
                          struct kk_narration *out)
{
    const cJSON *v = member(obj, key);
    if (!v)
        return;
    size_t back = push_key(ld, key);
    if (ld->format < 2)
        report_error(ld, KK_ERR_INVALID,
                     "narration needs \"format\":2 in pack.json (this pack says format %d)",
                     ld->format);
    else if (!cJSON_IsObject(v))
        report_error(
            ld, KK_ERR_INVALID,
            "must be an object of recordings by language, like {\"zh\":\"audio/p1-zh.ogg\"}, "
            "not %s",
            json_type(v));
    else {
        const cJSON *f;
        cJSON_ArrayForEach(f, v)
        {
            if (ld->nomem)
                break;
            int lang = kk_lang_parse(f->string);
            size_t back2 = push_key(ld, f->string ? f->string : "?");
            if (lang < 0)
                report_error(ld, KK_ERR_INVALID, "unknown language \"%s\" (use zh or en)",
                             f->string ? f->string : "");
            else if (!cJSON_IsString(f) || !f->valuestring[0])
                report_error(ld, KK_ERR_INVALID, "must be the path of a recording, not %s",
                             json_type(f));
            else if (!out->a[lang])
                out->a[lang] = get_audio_file(ld, f->valuestring, (enum kk_lang)lang);
            pop(ld, back2);
        }
    }
    pop(ld, back);
}

/* ---- topic files ---- */

/* Checks an array's length against 1..max (min 0 allowed when min0). Returns how many
 * elements to read (at most max), reporting a problem at the array's field. */
static size_t array_count(struct loader *ld, const cJSON *arr, const char *key, size_t max,
                          int min0, const char *what)
{
    size_t n = (size_t)cJSON_GetArraySize(arr);
    size_t back = push_key(ld, key);
    if (n == 0 && !min0)
        report_error(ld, KK_ERR_INVALID, "needs at least one %s", what);
    if (n > max) {
        report_error(ld, KK_ERR_TOOBIG, "has %zu %ss; the limit is %zu", n, what, max);
        n = max;
    }
    pop(ld, back);
    return n;
}

static void load_block(struct loader *ld, const cJSON *v, struct kk_page *pg)
{
    if (!cJSON_IsObject(v)) {
        report_error(ld, KK_ERR_INVALID, "must be an object, not %s", json_type(v));
        return;
    }
    const char *type = get_string(ld, v, "type", 1);
    if (!type)
        return;
    struct kk_block *b = &pg->blocks[pg->nblocks];
    if (strcmp(type, "text") == 0 || strcmp(type, "fact") == 0) {
        b->type = type[0] == 't' ? KK_BLOCK_TEXT : KK_BLOCK_FACT;
        get_text(ld, v, "text", 1, &b->text);
    } else if (strcmp(type, "image") == 0) {
        b->type = KK_BLOCK_IMAGE;
        b->image = get_image(ld, v, "src", 1);
        get_text(ld, v, "caption", 0, &b->caption);
    } else if (!kk_pack_block2(ld, v, type, b)) {
        size_t back = push_key(ld, "type");
        report_error(ld, KK_ERR_INVALID,
                     "unknown block type \"%s\" (use text, image, fact, hotspots, compare, "
                     "sequence or steps)",
                     type);
        pop(ld, back);
        return;
    }
    pg->nblocks++;
}

static void load_page(struct loader *ld, const cJSON *v, struct kk_page *pg)
{
    if (!cJSON_IsObject(v)) {
        report_error(ld, KK_ERR_INVALID, "must be an object, not %s", json_type(v));
        return;
    }
    get_text(ld, v, "title", 1, &pg->title);
    get_narration(ld, v, "audio", &pg->audio);
    const cJSON *blocks = get_array(ld, v, "blocks", 1);
    if (!blocks)
        return;
    size_t n = array_count(ld, blocks, "blocks", KK_MAX_BLOCKS_PER_PAGE, 0, "block");
    if (n == 0)
        return;
    pg->blocks = calloc_or_nomem(ld, n, sizeof(*pg->blocks));
    if (!pg->blocks)
        return;
    size_t i = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, blocks)
    {
        if (i == n || ld->nomem)
            break;
        size_t back = push_key(ld, "blocks");
        push_index(ld, i++);
        load_block(ld, b, pg);
        pop(ld, back);
    }
    if (pg->nblocks == 0) {
        size_t back = push_key(ld, "blocks");
        report_warning(ld, "no block this version can show; the page shows only its title");
        pop(ld, back);
    }
}

const char *kk_question_type_name(enum kk_question_type t)
{
    switch (t) {
    case KK_Q_SINGLE:
        return "single";
    case KK_Q_MULTI:
        return "multi";
    case KK_Q_TRUEFALSE:
        return "truefalse";
    case KK_Q_HOTSPOT:
        return "hotspot";
    case KK_Q_ORDER:
        return "order";
    }
    return "?";
}

/* The two choices of a true/false question written without "choices". */
static void truefalse_choices(struct loader *ld, struct kk_question *q)
{
    static const char *const words[2][KK_LANG_COUNT] = {{"对", "True"}, {"错", "False"}};
    q->choices = calloc_or_nomem(ld, 2, sizeof(*q->choices));
    if (!q->choices)
        return;
    q->nchoices = 2;
    for (int i = 0; i < 2; i++)
        for (int l = 0; l < KK_LANG_COUNT; l++)
            q->choices[i].text.s[l] = dup_or_nomem(ld, words[i][l]);
}

static void load_choices(struct loader *ld, const cJSON *v, struct kk_question *q)
{
    const cJSON *arr = get_array(ld, v, "choices", q->type != KK_Q_TRUEFALSE);
    if (!arr) {
        if (q->type == KK_Q_TRUEFALSE && !member(v, "choices"))
            truefalse_choices(ld, q);
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    size_t back = push_key(ld, "choices");
    if (n < 2)
        report_error(ld, KK_ERR_INVALID, "needs at least two choices, not %zu", n);
    else if (q->type == KK_Q_TRUEFALSE && n != 2)
        report_error(ld, KK_ERR_INVALID, "a truefalse question has exactly two choices, not %zu",
                     n);
    if (n > KK_MAX_CHOICES) {
        report_error(ld, KK_ERR_TOOBIG, "has %zu choices; the limit is %d", n, KK_MAX_CHOICES);
        n = KK_MAX_CHOICES;
    }
    if (n > 0)
        q->choices = calloc_or_nomem(ld, n, sizeof(*q->choices));
    if (q->choices) {
        q->nchoices = n;
        size_t i = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, arr)
        {
            if (i == n || ld->nomem)
                break;
            struct kk_choice *ch = &q->choices[i];
            size_t back_i = push_index(ld, i++);
            if (!cJSON_IsObject(c))
                report_error(ld, KK_ERR_INVALID, "must be an object like {\"text\": {…}}, not %s",
                             json_type(c));
            else {
                int has_text = get_text(ld, c, "text", 0, &ch->text);
                int has_image = member(c, "image") != NULL;
                ch->image = get_image(ld, c, "image", 0);
                if (!has_text && !has_image)
                    report_error(ld, KK_ERR_INVALID, "a choice needs a text or an image");
            }
            pop(ld, back_i);
        }
    }
    pop(ld, back);
}

/* "answer": choice indexes, in range, unique, as many as the question type needs.
 * nchoices 0 (the choices themselves are bad, already reported): no range check. */
static void load_answer(struct loader *ld, const cJSON *v, struct kk_question *q, size_t nchoices)
{
    const cJSON *arr = get_array(ld, v, "answer", 1);
    if (!arr)
        return;
    size_t back = push_key(ld, "answer");
    size_t i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        size_t back_i = push_index(ld, i++);
        double d = cJSON_IsNumber(a) ? a->valuedouble : -1;
        if (!cJSON_IsNumber(a) || d != floor(d) || d < 0)
            report_error(ld, KK_ERR_INVALID, "must be a choice index (0, 1, …), not %s",
                         cJSON_IsNumber(a) ? "that number" : json_type(a));
        else if (nchoices && d >= (double)nchoices)
            report_error(ld, KK_ERR_INVALID,
                         "choice %.0f does not exist (the question has %zu choices)", d, nchoices);
        else if (d >= KK_MAX_CHOICES)
            report_error(ld, KK_ERR_TOOBIG, "choice %.0f is past the limit of %d choices", d,
                         KK_MAX_CHOICES);
        else if (q->answer_mask & (1u << (unsigned)d))
            report_error(ld, KK_ERR_INVALID, "choice %.0f is listed twice", d);
        else
            q->answer_mask |= 1u << (unsigned)d;
        pop(ld, back_i);
    }
    if (q->type == KK_Q_MULTI && i == 0)
        report_error(ld, KK_ERR_INVALID, "a multi question needs at least one right answer");
    else if (q->type != KK_Q_MULTI && i != 1)
        report_error(ld, KK_ERR_INVALID, "a %s question needs exactly one right answer, not %zu",
                     kk_question_type_name(q->type), i);
    pop(ld, back);
}

static void load_question(struct loader *ld, const cJSON *v, struct kk_question *q,
                          const struct kk_topic *t, size_t npages)
{
    q->page = -1;
    q->difficulty = 1;
    q->audiences = t->audiences;
    if (!cJSON_IsObject(v)) {
        report_error(ld, KK_ERR_INVALID, "must be an object, not %s", json_type(v));
        return;
    }
    q->id = get_id(ld, v, "id");
    const char *type = get_string(ld, v, "type", 1);
    int type_ok = 1;
    if (type && strcmp(type, "single") == 0)
        q->type = KK_Q_SINGLE;
    else if (type && strcmp(type, "multi") == 0)
        q->type = KK_Q_MULTI;
    else if (type && strcmp(type, "truefalse") == 0)
        q->type = KK_Q_TRUEFALSE;
    else if (type && kk_pack_question2_type(ld, type, q))
        type_ok = 2;
    else {
        type_ok = 0;
        if (type) {
            size_t back = push_key(ld, "type");
            report_error(ld, KK_ERR_INVALID,
                         "unknown question type \"%s\" (use single, multi, truefalse, hotspot "
                         "or order)",
                         type);
            pop(ld, back);
        }
    }
    get_text(ld, v, "prompt", 1, &q->prompt);
    q->image = get_image(ld, v, "image", q->type == KK_Q_HOTSPOT && type_ok == 2);
    if (type_ok == 2)
        kk_pack_question2(ld, v, q);
    else if (type_ok) {
        load_choices(ld, v, q);
        /* Range checks use the choices as written, even past the limit. */
        const cJSON *arr = member(v, "choices");
        size_t n = cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : q->nchoices;
        load_answer(ld, v, q, n);
    }
    if (!get_text(ld, v, "explain", 0, &q->explain)) {
        size_t back = push_key(ld, "explain");
        report_warning(ld, "no explanation: say why the answer is right, visitors learn from it");
        pop(ld, back);
    }
    get_narration(ld, v, "audio", &q->audio);
    get_narration(ld, v, "explain_audio", &q->explain_audio);
    long d;
    if (get_int(ld, v, "difficulty", 1, 3, &d) > 0)
        q->difficulty = (int)d;
    get_audiences(ld, v, "audiences", 0, &q->audiences);
    long page;
    if (npages > 0 && get_int(ld, v, "page", 0, (long)npages - 1, &page) > 0)
        q->page = (int)page;
    else if (npages == 0 && member(v, "page")) {
        size_t back = push_key(ld, "page");
        report_error(ld, KK_ERR_INVALID, "the topic has no pages to point to");
        pop(ld, back);
    }
}

static void load_quiz(struct loader *ld, const cJSON *root, struct kk_topic *t, size_t npages)
{
    const cJSON *quiz = member(root, "quiz");
    if (!quiz)
        return;
    size_t back = push_key(ld, "quiz");
    if (!cJSON_IsObject(quiz)) {
        report_error(ld, KK_ERR_INVALID, "must be an object like {\"questions\": […]}, not %s",
                     json_type(quiz));
        goto done;
    }
    const cJSON *qs = get_array(ld, quiz, "questions", 1);
    if (!qs)
        goto done;
    size_t n = array_count(ld, qs, "questions", KK_MAX_QUESTIONS_PER_TOPIC, 1, "question");
    if (n == 0) {
        size_t back_q = push_key(ld, "questions");
        report_warning(ld, "the quiz has no questions");
        pop(ld, back_q);
        goto done;
    }
    t->questions = calloc_or_nomem(ld, n, sizeof(*t->questions));
    if (!t->questions)
        goto done;
    t->nquestions = n;
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, qs)
    {
        if (i == n || ld->nomem)
            break;
        size_t back_q = push_key(ld, "questions");
        push_index(ld, i);
        struct kk_question *q = &t->questions[i++];
        load_question(ld, v, q, t, npages);
        for (size_t k = 0; q->id && k + 1 < i; k++) {
            if (t->questions[k].id && strcmp(t->questions[k].id, q->id) == 0) {
                size_t back_id = push_key(ld, "id");
                report_error(ld, KK_ERR_INVALID, "question id \"%s\" is used twice in this topic",
                             q->id);
                pop(ld, back_id);
                break;
            }
        }
        pop(ld, back_q);
    }
done:
    pop(ld, back);
}

static void load_references(struct loader *ld, const cJSON *root, struct kk_topic *t)
{
    const cJSON *arr = get_array(ld, root, "references", 0);
    size_t back = push_key(ld, "references");
    size_t n = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
    if (n == 0 && !(member(root, "references") && !arr)) {
        report_warning(ld, "no references: name the sources of the science in this topic");
        goto done;
    }
    if (n == 0)
        goto done;
    t->references = calloc_or_nomem(ld, n, sizeof(*t->references));
    if (!t->references)
        goto done;
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        if (ld->nomem)
            break;
        size_t back_i = push_index(ld, i++);
        if (!cJSON_IsString(v))
            report_error(ld, KK_ERR_INVALID, "must be a string, not %s", json_type(v));
        else if (v->valuestring[0] == '\0')
            report_error(ld, KK_ERR_INVALID, "is empty");
        else if (strlen(v->valuestring) > KK_MAX_TEXT_BYTES)
            report_error(ld, KK_ERR_TOOBIG, "is %zu bytes; the limit is %u", strlen(v->valuestring),
                         KK_MAX_TEXT_BYTES);
        else if ((t->references[t->nreferences] = dup_or_nomem(ld, v->valuestring)))
            t->nreferences++;
        pop(ld, back_i);
    }
done:
    pop(ld, back);
}

static void load_topic(struct loader *ld, struct kk_pack *p, const char *rel, struct kk_topic *t)
{
    t->file = dup_or_nomem(ld, rel);
    t->audiences = p->audiences;
    if (!t->file)
        return;
    ld->file = t->file;
    kk_buf_reset(&ld->field);
    cJSON *root = read_json(ld, rel, KK_ERR_INVALID);
    if (!root)
        return;
    t->id = get_id(ld, root, "id");
    get_text(ld, root, "title", 1, &t->title);
    get_text(ld, root, "summary", 1, &t->summary);
    t->cover = get_image(ld, root, "cover", 1);
    get_audiences(ld, root, "audiences", 0, &t->audiences);
    load_references(ld, root, t);

    const cJSON *pages = get_array(ld, root, "pages", 1);
    size_t npages = 0;
    if (pages) {
        npages = (size_t)cJSON_GetArraySize(pages);
        size_t n = array_count(ld, pages, "pages", KK_MAX_PAGES_PER_TOPIC, 0, "page");
        t->pages = n ? calloc_or_nomem(ld, n, sizeof(*t->pages)) : NULL;
        if (t->pages) {
            t->npages = n;
            size_t i = 0;
            const cJSON *v;
            cJSON_ArrayForEach(v, pages)
            {
                if (i == n || ld->nomem)
                    break;
                size_t back = push_key(ld, "pages");
                push_index(ld, i);
                load_page(ld, v, &t->pages[i++]);
                pop(ld, back);
            }
        }
    }
    load_quiz(ld, root, t, npages);
    cJSON_Delete(root);
}

/* ---- pack.json ---- */

static int version_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > KK_MAX_ID_LEN)
        return 0;
    int digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digits++;
        else if (s[i] == '.' && digits > 0)
            digits = 0;
        else
            return 0;
    }
    return digits > 0;
}

static void load_pack_json(struct loader *ld, struct kk_pack *p)
{
    ld->file = "pack.json";
    cJSON *root = read_json(ld, "pack.json", KK_ERR_NOTFOUND);
    if (!root)
        return;
    const cJSON *format = member(root, "format");
    size_t back = push_key(ld, "format");
    if (!format)
        report_error(ld, KK_ERR_INVALID, "missing (this version reads formats 1 to %d)",
                     KK_PACK_FORMAT);
    else if (!cJSON_IsNumber(format))
        report_error(ld, KK_ERR_INVALID, "must be the number 1 or %d, not %s", KK_PACK_FORMAT,
                     json_type(format));
    else if (format->valuedouble != 1 && format->valuedouble != KK_PACK_FORMAT)
        report_error(ld, KK_ERR_INVALID,
                     "unsupported format %g (this version reads formats 1 to %d)",
                     format->valuedouble, KK_PACK_FORMAT);
    else
        p->format = ld->format = (int)format->valuedouble;
    pop(ld, back);
    p->id = get_id(ld, root, "id");
    const char *version = get_string(ld, root, "version", 1);
    if (version) {
        back = push_key(ld, "version");
        if (!version_ok(version))
            report_error(ld, KK_ERR_INVALID,
                         "\"%s\" is not a version: use numbers separated by dots, like 2026.11.1",
                         version);
        else
            p->version = dup_or_nomem(ld, version);
        pop(ld, back);
    }
    get_text(ld, root, "title", 1, &p->title);
    p->audiences = KK_AUD_ALL;
    get_audiences(ld, root, "audiences", 1, &p->audiences);

    const cJSON *topics = get_array(ld, root, "topics", 1);
    size_t n = topics ? array_count(ld, topics, "topics", KK_MAX_TOPICS_PER_PACK, 0, "topic") : 0;
    p->topics = n ? calloc_or_nomem(ld, n, sizeof(*p->topics)) : NULL;
    if (!p->topics)
        goto done;
    p->ntopics = n;
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, topics)
    {
        if (i == n || ld->nomem)
            break;
        struct kk_topic *t = &p->topics[i];
        ld->file = "pack.json";
        kk_buf_reset(&ld->field);
        push_key(ld, "topics");
        push_index(ld, i++);
        if (!cJSON_IsString(v)) {
            report_error(ld, KK_ERR_INVALID, "must be a path like \"topics/quake.json\", not %s",
                         json_type(v));
            continue;
        }
        int dup = 0;
        for (size_t k = 0; k + 1 < i && !dup; k++)
            dup = p->topics[k].file && strcmp(p->topics[k].file, v->valuestring) == 0;
        if (dup) {
            report_error(ld, KK_ERR_INVALID, "\"%s\" is listed twice", v->valuestring);
            continue;
        }
        char *path = pack_file(ld, v->valuestring, KK_ERR_INVALID);
        if (!path)
            continue;
        kk_free(path);
        load_topic(ld, p, v->valuestring, t);
        for (size_t k = 0; t->id && k + 1 < i; k++) {
            if (p->topics[k].id && strcmp(p->topics[k].id, t->id) == 0) {
                kk_buf_reset(&ld->field);
                push_key(ld, "id");
                report_error(ld, KK_ERR_INVALID, "topic id \"%s\" is also used by %s", t->id,
                             p->topics[k].file);
                break;
            }
        }
    }
done:
    ld->file = "pack.json";
    kk_buf_reset(&ld->field);
    cJSON_Delete(root);
}

struct image_walk {
    int (*fn)(void *ctx, const struct kk_topic *t, const struct kk_image *img);
    void *ctx;
    const struct kk_image **seen;
    size_t nseen, alloc;
};

/* fn for img unless its file was seen before; fn's result. */
static int visit_image(struct image_walk *w, const struct kk_topic *t, const struct kk_image *img)
{
    if (!img)
        return 0;
    for (size_t i = 0; i < w->nseen; i++)
        if (!strcmp(w->seen[i]->path, img->path))
            return 0;
    if (!kk_grow((void **)&w->seen, &w->alloc, w->nseen, sizeof(*w->seen)))
        w->seen[w->nseen++] = img; /* out of memory: it may be visited twice, no worse */
    return w->fn(w->ctx, t, img);
}

static int topic_images(struct image_walk *w, const struct kk_topic *t)
{
    int rc = visit_image(w, t, t->cover);
    for (size_t g = 0; !rc && g < t->npages; g++)
        for (size_t b = 0; !rc && b < t->pages[g].nblocks; b++) {
            const struct kk_block *k = &t->pages[g].blocks[b];
            rc = visit_image(w, t, k->image);
            for (size_t i = 0; !rc && i < k->nspots; i++)
                rc = visit_image(w, t, k->spots[i].image);
            for (size_t i = 0; !rc && i < k->nframes; i++)
                rc = visit_image(w, t, k->frames[i].image);
            for (size_t i = 0; !rc && i < k->nsteps; i++)
                rc = visit_image(w, t, k->steps[i].image);
        }
    for (size_t q = 0; !rc && q < t->nquestions; q++) {
        rc = visit_image(w, t, t->questions[q].image);
        for (size_t c = 0; !rc && c < t->questions[q].nchoices; c++)
            rc = visit_image(w, t, t->questions[q].choices[c].image);
    }
    return rc;
}

int kk_pack_each_image(const struct kk_pack *p,
                       int (*fn)(void *ctx, const struct kk_topic *t, const struct kk_image *img),
                       void *ctx)
{
    struct image_walk w = {fn, ctx, NULL, 0, 0};
    int rc = 0;
    for (size_t t = 0; !rc && t < p->ntopics; t++)
        rc = topic_images(&w, &p->topics[t]);
    kk_free(w.seen);
    return rc;
}

enum kk_err kk_pack_load(const char *dir, struct kk_pack **out, struct kk_diags *diags,
                         struct kk_buf *err)
{
    struct loader ld = {.dir = dir, .file = "pack.json"};
    ld.diags = diags ? diags : &ld.own_diags;
    ld.first = ld.diags->n;
    kk_buf_init(&ld.field, 0);
    kk_buf_init(&ld.tmp, 0);
    *out = NULL;
    enum kk_err rc = KK_OK;
    struct kk_pack *p = kk_calloc(1, sizeof(*p));
    if (!p || !(p->dir = kk_strdup(dir))) {
        ld.nomem = 1;
        goto done;
    }
    load_pack_json(&ld, p);
done:
    if (ld.nomem) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory while loading the pack", ld.file);
    } else if (ld.first_code != KK_OK) {
        rc = ld.first_code;
        for (size_t i = ld.first; i < ld.diags->n; i++) {
            if (ld.diags->items[i].severity == KK_SEV_ERROR) {
                if (err)
                    kk_diags_format(ld.diags, i, err);
                break;
            }
        }
    }
    if (rc)
        kk_pack_destroy(p);
    else
        *out = p;
    kk_diags_release(&ld.own_diags);
    for (size_t i = 0; i < ld.naudio_seen; i++) {
        kk_free(ld.audio_seen[i].src);
        kk_free(ld.audio_seen[i].where);
    }
    kk_free(ld.audio_seen);
    kk_buf_release(&ld.field);
    kk_buf_release(&ld.tmp);
    return rc;
}

/* ---- library ---- */

enum kk_err kk_library_add(struct kk_library *lib, struct kk_pack *p)
{
    enum kk_err rc = KK_OK;
    if (!p)
        return KK_ERR_INVALID;
    if (lib->npacks >= KK_MAX_PACKS) {
        rc = KK_ERR_TOOBIG;
        goto done;
    }
    for (size_t i = 0; i < lib->npacks; i++) {
        if (strcmp(lib->packs[i]->id, p->id) == 0) {
            rc = KK_ERR_EXISTS;
            goto done;
        }
    }
    struct kk_pack **packs = kk_reallocarray(lib->packs, lib->npacks + 1, sizeof(*packs));
    if (!packs) {
        rc = KK_ERR_NOMEM;
        goto done;
    }
    lib->packs = packs;
    lib->packs[lib->npacks++] = p;
    p = NULL;
done:
    kk_pack_destroy(p);
    return rc;
}

void kk_library_release(struct kk_library *lib)
{
    if (!lib)
        return;
    for (size_t i = 0; i < lib->npacks; i++)
        kk_pack_destroy(lib->packs[i]);
    kk_free(lib->packs);
    lib->packs = NULL;
    lib->npacks = 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir's entries that are folders holding a pack.json, sorted. */
static enum kk_err pack_folders(const char *dir, char ***names_out, size_t *n_out,
                                struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    char **names = NULL;
    size_t n = 0;
    char *sub = NULL;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            goto done;
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", dir, strerror(errno));
        goto done;
    }
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                rc = kk_fail(err, KK_ERR_IO, "%s: %s", dir, strerror(errno));
            break;
        }
        if (de->d_name[0] == '.') /* ".", "..", and hidden folders such as staging areas */
            continue;
        kk_free(sub);
        sub = kk_path_join(dir, de->d_name);
        if (!sub) {
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", dir);
            break;
        }
        /* Every visible folder is taken for a pack, so one whose pack.json went missing is
         * reported rather than silently ignored. */
        struct stat st;
        if (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        char **grown = kk_reallocarray(names, n + 1, sizeof(*names));
        char *name = grown ? kk_strdup(de->d_name) : NULL;
        if (grown)
            names = grown;
        if (!name) {
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", dir);
            break;
        }
        names[n++] = name;
    }
    if (!rc && n > 1)
        qsort(names, n, sizeof(*names), cmp_names);
done:
    if (d)
        closedir(d);
    kk_free(sub);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            kk_free(names[i]);
        kk_free(names);
        names = NULL;
        n = 0;
    }
    *names_out = names;
    *n_out = n;
    return rc;
}

enum kk_err kk_library_load(struct kk_library *lib, const char *dir, struct kk_buf *skipped,
                            struct kk_buf *err)
{
    char **names = NULL;
    size_t n = 0;
    char *sub = NULL;
    struct kk_buf why = KK_BUF_INIT;
    struct kk_buf line = KK_BUF_INIT;
    enum kk_err rc = pack_folders(dir, &names, &n, err);
    for (size_t i = 0; i < n && !rc; i++) {
        kk_free(sub);
        sub = kk_path_join(dir, names[i]);
        if (!sub) {
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", dir);
            break;
        }
        struct kk_pack *p = NULL;
        kk_buf_reset(&why);
        kk_buf_reset(&line);
        enum kk_err e = kk_pack_load(sub, &p, NULL, &why);
        if (e == KK_ERR_NOMEM) {
            rc = kk_fail(err, e, "%s: %s", sub, kk_buf_str(&why));
            break;
        }
        if (e) {
            kk_buf_addf(&line, "%s: %s\n", sub, kk_buf_str(&why));
        } else {
            const char *id_owner = NULL;
            for (size_t k = 0; k < lib->npacks && !id_owner; k++)
                if (strcmp(lib->packs[k]->id, p->id) == 0)
                    id_owner = lib->packs[k]->dir;
            if (id_owner)
                kk_buf_addf(&line, "%s: pack.json: id: pack \"%s\" is already loaded from %s\n",
                            sub, p->id, id_owner);
            else if (lib->npacks >= KK_MAX_PACKS)
                kk_buf_addf(&line, "%s: skipped: more than %d packs\n", sub, KK_MAX_PACKS);
            e = kk_library_add(lib, p); /* destroys p when it cannot take it */
            if (e == KK_ERR_NOMEM) {
                rc = kk_fail(err, e, "%s: out of memory", sub);
                break;
            }
        }
        if (kk_buf_error(&line) || (line.len == 0 && e)) { /* the line could not be built */
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", sub);
            break;
        }
        if (skipped && line.len && kk_buf_add(skipped, line.data, line.len)) {
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", sub);
            break;
        }
    }
    for (size_t i = 0; i < n; i++)
        kk_free(names[i]);
    kk_free(names);
    kk_free(sub);
    kk_buf_release(&why);
    kk_buf_release(&line);
    return rc;
}

const struct kk_topic *kk_library_find_topic(const struct kk_library *lib, const char *id,
                                             const struct kk_pack **pack_out)
{
    if (pack_out)
        *pack_out = NULL;
    if (!lib || !id)
        return NULL;
    const char *slash = strchr(id, '/');
    const char *topic = slash ? slash + 1 : id;
    size_t pack_len = slash ? (size_t)(slash - id) : 0;
    for (size_t i = 0; i < lib->npacks; i++) {
        const struct kk_pack *p = lib->packs[i];
        if (slash && (strlen(p->id) != pack_len || memcmp(p->id, id, pack_len) != 0))
            continue;
        for (size_t k = 0; k < p->ntopics; k++) {
            if (strcmp(p->topics[k].id, topic) == 0) {
                if (pack_out)
                    *pack_out = p;
                return &p->topics[k];
            }
        }
    }
    return NULL;
}

/* ---- for pack_blocks.c (pack_private.h) ---- */

void kk_pack_report(struct loader *ld, enum kk_severity sev, enum kk_err code, const char *fmt, ...)
{
    struct kk_buf msg = KK_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    enum kk_err e = kk_buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    if (e) {
        if (sev == KK_SEV_ERROR && ld->first_code == KK_OK)
            ld->first_code = code;
        ld->nomem = 1;
    } else {
        report(ld, sev, code, "%s", kk_buf_str(&msg));
    }
    kk_buf_release(&msg);
}

size_t kk_pack_push_key(struct loader *ld, const char *key)
{
    return push_key(ld, key);
}
size_t kk_pack_push_index(struct loader *ld, size_t i)
{
    return push_index(ld, i);
}
void kk_pack_pop(struct loader *ld, size_t len)
{
    pop(ld, len);
}
void *kk_pack_calloc(struct loader *ld, size_t n, size_t size)
{
    return calloc_or_nomem(ld, n, size);
}
const char *kk_pack_json_type(const cJSON *v)
{
    return json_type(v);
}
const char *kk_pack_get_string(struct loader *ld, const cJSON *obj, const char *key, int required)
{
    return get_string(ld, obj, key, required);
}
const cJSON *kk_pack_get_array(struct loader *ld, const cJSON *obj, const char *key, int required)
{
    return get_array(ld, obj, key, required);
}
int kk_pack_get_text(struct loader *ld, const cJSON *obj, const char *key, int required,
                     struct kk_text *out)
{
    return get_text(ld, obj, key, required, out);
}
struct kk_image *kk_pack_get_image(struct loader *ld, const cJSON *obj, const char *key,
                                   int required)
{
    return get_image(ld, obj, key, required);
}
void kk_pack_text_release(struct kk_text *t)
{
    text_release(t);
}
void kk_pack_image_destroy(struct kk_image *img)
{
    image_destroy(img);
}
