#include "srv_drafts.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kepu/alloc.h"
#include "kepu/audioprobe.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/imgprobe.h"
#include "kepu/limits.h"
#include "kepu/log.h"
#include "kepu/pack.h"
#include "srv_pack.h"
#include "srv_tar.h"

#define DRAFT_ID_BYTES 8 /* a draft id is "d" and 16 hex digits */

/* --- small helpers --------------------------------------------------------------------- */

static const char *cell_s(const struct srv_cell *c)
{
    return c->kind == SRV_CELL_TEXT ? c->s : NULL;
}

static int64_t cell_i(const struct srv_cell *c)
{
    return c->kind == SRV_CELL_INT ? c->i : c->kind == SRV_CELL_TEXT ? strtoll(c->s, NULL, 10) : 0;
}

static int draft_id_ok(const char *s)
{
    if (!s || s[0] != 'd' || strlen(s) != 1 + 2 * DRAFT_ID_BYTES)
        return 0;
    for (const char *c = s + 1; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return 0;
    return 1;
}

/* A revision number from the query string: 0 when absent, -1 when malformed. */
static int64_t arg_revision(struct srv_req *req, const char *name)
{
    const char *v = srv_req_arg(req, name);
    long n;
    if (!v)
        return 0;
    return kk_parse_long(v, 1, 1L << 40, &n) < 0 ? -1 : n;
}

void srv_drafts_audit(struct srv_req *req, const char *what, const char *target, const char *detail,
                      const char *venue, const char *pack)
{
    struct kk_buf err = KK_BUF_INIT;
    struct srv_audit a = {kk_clock_wall_ms(), req->who, what, target, detail, venue, pack};
    if (srv_store_audit_record(req->store, &a, &err))
        kk_error("audit", "%s %s %s: %s", req->who, what, target, kk_buf_str(&err));
    kk_buf_release(&err);
}

/* --- who may edit what ----------------------------------------------------------------- */

/* For a staff caller: 1 when venue is one of theirs, 0 when not (names holds their venues,
 * ", "-separated, for the message; only holds the single one in *only when exactly one),
 * -1 when the store failed. */
static int staff_venue(struct srv_req *req, const char *venue, struct kk_buf *names,
                       struct kk_buf *only)
{
    struct srv_table t = {0};
    int found = 0;
    if (srv_store_user_venues(req->store, req->who, &t, NULL)) {
        srv_table_release(&t);
        return -1;
    }
    for (size_t r = 0; r < t.nrows; r++) {
        const char *v = cell_s(&t.cells[r]);
        if (!v)
            continue;
        if (venue && !strcmp(v, venue))
            found = 1;
        if (names)
            kk_buf_addf(names, "%s%s", names->len ? ", " : "", v);
    }
    if (only && t.nrows == 1 && cell_s(&t.cells[0]))
        kk_buf_adds(only, cell_s(&t.cells[0]));
    srv_table_release(&t);
    return found;
}

static int is_office(const struct srv_req *req)
{
    return !strcmp(req->role, "office");
}

/* 1 when the caller may read and change drafts of venue (NULL: no venue, office only);
 * otherwise answers 403 (or 503) and returns 0. */
static int may_edit(struct srv_req *req, struct srv_reply *out, const char *id, const char *venue)
{
    struct kk_buf names = KK_BUF_INIT;
    if (is_office(req))
        return 1;
    int ok = staff_venue(req, venue, &names, NULL);
    if (ok < 0)
        srv_reply_error(out, 503, "store unavailable");
    else if (!ok)
        srv_reply_error(out, 403, "draft %s: your venues (%s) may not edit %s%s", id,
                        names.len ? kk_buf_str(&names) : "none", venue ? "venue " : "",
                        venue ? venue : "a draft without a venue");
    kk_buf_release(&names);
    return ok > 0;
}

/* --- a stored revision --------------------------------------------------------------- */

void srv_draft_release(struct srv_draft *d)
{
    srv_table_release(&d->t);
    cJSON_Delete(d->source);
    cJSON_Delete(d->files);
    memset(d, 0, sizeof(*d));
}

/* Loads revision number (0: the latest) of the draft named in the path, checking the
 * caller may see it. 1 on success; otherwise out has the answer and d is released. */
int srv_draft_load(struct srv_req *req, struct srv_reply *out, int64_t number, struct srv_draft *d)
{
    const char *id = req->params[0];
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc;
    memset(d, 0, sizeof(*d));
    if (number < 0) {
        srv_reply_error(out, 400, "revision: must be a whole number of at least 1");
        return 0;
    }
    if (!draft_id_ok(id)) {
        srv_reply_error(out, 404, "no draft %.40s", id);
        return 0;
    }
    rc = srv_store_draft_get(req->store, id, number, &d->t, &err);
    if (rc == KK_ERR_NOTFOUND && number > 0) {
        struct srv_table head = {0};
        int exists = !srv_store_draft_get(req->store, id, 0, &head, NULL);
        /* Whether the draft exists is told only to those who may see it. */
        if (exists && may_edit(req, out, id, cell_s(&head.cells[2])))
            srv_reply_error(out, 404, "draft %s: no revision %lld", id, (long long)number);
        else if (!exists)
            srv_reply_error(out, 404, "no draft %s", id);
        srv_table_release(&head);
        goto fail;
    }
    if (rc == KK_ERR_NOTFOUND) {
        srv_reply_error(out, 404, "no draft %s", id);
        goto fail;
    }
    if (rc) {
        kk_error("drafts", "%s: %s", id, kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
        goto fail;
    }
    const struct srv_cell *c = d->t.cells;
    d->id = cell_s(&c[0]);
    d->pack = cell_s(&c[1]);
    d->venue = cell_s(&c[2]);
    d->state = cell_s(&c[3]);
    d->revision = cell_i(&c[4]);
    d->who = cell_s(&c[5]);
    d->at_ms = cell_i(&c[6]);
    d->note = cell_s(&c[7]) ? cell_s(&c[7]) : "";
    d->head = cell_i(&c[10]);
    d->approved = cell_i(&c[11]);
    d->approved_by = cell_s(&c[12]);
    d->version = cell_s(&c[13]);
    d->comments = cell_s(&c[14]);
    if (!may_edit(req, out, id, d->venue))
        goto fail;
    enum kk_err jrc;
    d->source = cell_s(&c[8]) ? kk_json_parse(cell_s(&c[8]), &jrc) : NULL;
    d->files = cell_s(&c[9]) ? kk_json_parse(cell_s(&c[9]), &jrc) : NULL;
    if (!cJSON_IsObject(d->source) || !cJSON_IsObject(d->files)) {
        srv_reply_error(out, 500, "draft %s: revision %lld: the stored source is unreadable", id,
                        (long long)d->revision);
        goto fail;
    }
    kk_buf_release(&err);
    return 1;
fail:
    kk_buf_release(&err);
    srv_draft_release(d);
    return 0;
}

/* --- pictures -------------------------------------------------------------------------- */

/* Case-insensitive search for needle in hay[0..len). */
static const char *find_ci(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (!strncasecmp(hay + i, needle, n))
            return hay + i;
    return NULL;
}

/* After an attribute name at p: skips blanks and '=' and an opening quote; NULL when no
 * '=' follows (then it was not an attribute). */
static const char *attr_value(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p >= end || *p != '=')
        return NULL;
    p++;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p < end && (*p == '"' || *p == '\''))
        p++;
    return p;
}

const char *srv_svg_problem(const char *data, size_t len)
{
    const char *end = data + len;
    if (find_ci(data, len, "<script"))
        return "holds a <script> element";
    if (find_ci(data, len, "<foreignobject"))
        return "holds a <foreignObject> element";
    if (find_ci(data, len, "@import"))
        return "references something outside itself (@import)";
    for (const char *p = data; p < end; p++) {
        /* on...= : an event handler attribute, after a blank inside a tag. */
        if ((*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') && end - p > 3 &&
            (p[1] == 'o' || p[1] == 'O') && (p[2] == 'n' || p[2] == 'N')) {
            const char *q = p + 3;
            while (q < end && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')))
                q++;
            if (q > p + 3 && attr_value(q, end))
                return "holds an event attribute (on...=)";
        }
        /* href= and xlink:href= must name a part of this file. */
        if (end - p >= 4 && !strncasecmp(p, "href", 4) &&
            (p == data || p[-1] == ' ' || p[-1] == ':' || p[-1] == '\t' || p[-1] == '\n' ||
             p[-1] == '\r')) {
            const char *v = attr_value(p + 4, end);
            if (v && (v >= end || *v != '#'))
                return "references something outside itself (href not starting with #)";
        }
        /* url(...) in a style must too. */
        if (end - p >= 4 && !strncasecmp(p, "url(", 4)) {
            const char *v = p + 4;
            while (v < end && (*v == ' ' || *v == '"' || *v == '\''))
                v++;
            if (v >= end || *v != '#')
                return "references something outside itself (url() not starting with #)";
        }
    }
    return NULL;
}

/* The type an image's first bytes say, or -1. */
static int sniff_type(const unsigned char *d, size_t len)
{
    if (len >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8))
        return KK_IMG_PNG;
    if (len >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
        return KK_IMG_JPEG;
    size_t i = len >= 3 && !memcmp(d, "\xef\xbb\xbf", 3) ? 3 : 0;
    while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r'))
        i++;
    if (i < len && d[i] == '<')
        return KK_IMG_SVG;
    return -1;
}

/* Checks a picture for path inside the pack: its type by content and name, the kiosk's
 * size and pixel limits, and an SVG's safety. 0, or the HTTP status with msg set. */
static int check_picture(const char *path, const void *data, size_t len, struct kk_image *img,
                         struct kk_buf *msg)
{
    struct kk_buf perr = KK_BUF_INIT;
    int type = kk_image_type_from_name(path), status = 0;
    int got = sniff_type(data, len);
    memset(img, 0, sizeof(*img));
    if (type < 0) {
        kk_fail(msg, KK_ERR_INVALID, "%s: only .png, .jpg, .jpeg and .svg pictures are taken",
                path);
        return 422;
    }
    if (got < 0) {
        kk_fail(msg, KK_ERR_INVALID, "%s: the content is not a PNG, JPEG or SVG picture", path);
        return 422;
    }
    if (got != type) {
        kk_fail(msg, KK_ERR_INVALID, "%s: the content is %s, the name says %s", path,
                kk_image_type_name(got), kk_image_type_name(type));
        return 422;
    }
    enum kk_err rc = kk_image_probe_mem(data, len, type, img, &perr);
    if (rc) {
        kk_fail(msg, rc, "%s: %s: %s", path, kk_image_type_name(type), kk_buf_str(&perr));
        status = rc == KK_ERR_NOMEM ? 503 : 422;
    } else if (type == KK_IMG_SVG) {
        const char *why = srv_svg_problem(data, len);
        if (why) {
            kk_fail(msg, KK_ERR_INVALID, "%s: SVG: %s", path, why);
            status = 422;
        }
    }
    kk_buf_release(&perr);
    return status;
}

/* Whether path names a recording (narration, DESIGN.md "<pack>/audio/…"): .ogg, .oga,
 * .opus or .mp3. */
static int sound_name(const char *path)
{
    static const char *const ext[] = {".ogg", ".oga", ".opus", ".mp3"};
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
        size_t e = strlen(ext[i]);
        if (n > e && !strcasecmp(path + n - e, ext[i]))
            return 1;
    }
    return 0;
}

/* What a draft's file holds: a picture, or (sound set) a recording. */
struct draft_file {
    int sound;
    struct kk_image img;
    struct kk_audio_info au;
};

/* Checks a file of a draft: a recording by its name's ending (kk_audio_probe_mem: Ogg
 * Vorbis, Ogg Opus or MP3, whole, within the limits), else a picture (check_picture).
 * 0, or the status to answer with msg set. */
static int check_file(const char *path, const void *data, size_t len, struct draft_file *f,
                      struct kk_buf *msg)
{
    memset(f, 0, sizeof(*f));
    if (!sound_name(path))
        return check_picture(path, data, len, &f->img, msg);
    struct kk_buf perr = KK_BUF_INIT;
    f->sound = 1;
    enum kk_err rc = kk_audio_probe_mem(data, len, &f->au, &perr);
    if (rc)
        kk_fail(msg, rc, "%s: %s", path, kk_buf_str(&perr));
    kk_buf_release(&perr);
    return rc == KK_ERR_NOMEM ? 503 : rc ? 422 : 0;
}

/* Why path may not name a file (picture or recording) of a draft, or NULL. */
static const char *file_path_problem(const char *path)
{
    if (!*path)
        return "empty";
    if (path[0] == '/')
        return "an absolute path";
    for (const char *c = path; (c = strstr(c, "..")) != NULL; c += 2)
        if ((c == path || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
            return "a \"..\" path component";
    if (!kk_path_is_safe(path))
        return "not a safe pack path (empty or \".\" part, backslash, over 512 bytes)";
    if (kk_path_depth(path) > KK_MAX_PATH_DEPTH)
        return "folders nested more than 64 deep";
    for (const char *c = path; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return "a control character";
    if (path[0] == '.' || strstr(path, "/."))
        return "a name starting with a dot";
    size_t n = strlen(path);
    if (n >= 5 && !strcasecmp(path + n - 5, ".json"))
        return "a .json file is a topic or pack.json, not a picture";
    return NULL;
}

/* --- source documents ------------------------------------------------------------------- */

/* Checks a source document's shape: {"pack":{…},"topics":{"PATH.json":{…},…}}.
 * 0, or 400 with msg naming the field. */
static int check_source(const cJSON *src, struct kk_buf *msg)
{
    const cJSON *pack = cJSON_GetObjectItemCaseSensitive(src, "pack");
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(src, "topics");
    const cJSON *t;
    if (!cJSON_IsObject(src)) {
        kk_fail(msg, KK_ERR_INVALID, "source: must be an object {\"pack\", \"topics\"}");
        return 400;
    }
    if (!cJSON_IsObject(pack)) {
        kk_fail(msg, KK_ERR_INVALID, "source.pack: missing or not an object (pack.json)");
        return 400;
    }
    if (!cJSON_IsObject(topics)) {
        kk_fail(msg, KK_ERR_INVALID, "source.topics: missing or not an object of topic files");
        return 400;
    }
    cJSON_ArrayForEach(t, topics)
    {
        size_t n = strlen(t->string);
        if (!kk_path_is_safe(t->string) || n < 6 || strcmp(t->string + n - 5, ".json") ||
            !strcmp(t->string, "pack.json") || t->string[0] == '.' || strstr(t->string, "/.")) {
            kk_fail(msg, KK_ERR_INVALID,
                    "source.topics: \"%.100s\": not a safe path of a .json file in the pack",
                    t->string);
            return 400;
        }
        if (!cJSON_IsObject(t)) {
            kk_fail(msg, KK_ERR_INVALID, "source.topics[\"%.100s\"]: must be an object", t->string);
            return 400;
        }
    }
    return 0;
}

/* One leaf value of a document: its file, JSON path and value. */
struct leaf {
    const char *file;
    char *field;
    const cJSON *v;
};

struct leaves {
    struct leaf *v;
    size_t n, alloc;
    int oom;
};

static void leaves_release(struct leaves *l)
{
    for (size_t i = 0; i < l->n; i++)
        kk_free(l->v[i].field);
    kk_free(l->v);
    memset(l, 0, sizeof(*l));
}

static void leaf_add(struct leaves *l, const char *file, const char *field, const cJSON *v)
{
    char *f = kk_strdup(field);
    if (!f || kk_grow((void **)&l->v, &l->alloc, l->n + 1, sizeof(*l->v))) {
        kk_free(f);
        l->oom = 1;
        return;
    }
    l->v[l->n++] = (struct leaf){file, f, v};
}

static void flatten(struct leaves *l, const char *file, struct kk_buf *path, const cJSON *j)
{
    const cJSON *c;
    size_t i = 0, keep = path->len;
    if ((!cJSON_IsObject(j) && !cJSON_IsArray(j)) || !j->child) {
        leaf_add(l, file, kk_buf_str(path), j);
        return;
    }
    cJSON_ArrayForEach(c, j)
    {
        if (cJSON_IsArray(j))
            kk_buf_addf(path, "[%zu]", i++);
        else
            kk_buf_addf(path, "%s%s", keep ? "." : "", c->string);
        if (kk_buf_error(path)) {
            l->oom = 1;
            return;
        }
        flatten(l, file, path, c);
        path->len = keep;
        path->data[keep] = '\0';
    }
}

static int leaf_cmp(const void *a, const void *b)
{
    const struct leaf *x = a, *y = b;
    int r = strcmp(x->file, y->file);
    return r ? r : strcmp(x->field, y->field);
}

/* Every leaf of a source document and its files, sorted by file and field. 0, or -1 when
 * out of memory. */
static int doc_leaves(struct leaves *l, const cJSON *src, const cJSON *files)
{
    struct kk_buf path = KK_BUF_INIT;
    const cJSON *t;
    memset(l, 0, sizeof(*l));
    flatten(l, "pack.json", &path, cJSON_GetObjectItemCaseSensitive(src, "pack"));
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(src, "topics"))
    {
        kk_buf_reset(&path);
        flatten(l, t->string, &path, t);
    }
    cJSON_ArrayForEach(t, files) leaf_add(l, t->string, "", t);
    kk_buf_release(&path);
    if (l->n)
        qsort(l->v, l->n, sizeof(*l->v), leaf_cmp);
    return l->oom ? -1 : 0;
}

static const cJSON *leaf_find(const struct leaves *l, const struct leaf *key)
{
    const struct leaf *f = l->n ? bsearch(key, l->v, l->n, sizeof(*l->v), leaf_cmp) : NULL;
    return f ? f->v : NULL;
}

static int add_value(cJSON *o, const char *name, const cJSON *v)
{
    cJSON *x = v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
    if (!x || !cJSON_AddItemToObject(o, name, x)) {
        cJSON_Delete(x);
        return -1;
    }
    return 0;
}

/* The changes from document a to document b, one per leaf, as an array of
 * {"file","field",a_name:…,b_name:…} (and "yours" from y when y is not NULL). */
static cJSON *doc_diff(const struct leaves *a, const struct leaves *b, const char *a_name,
                       const char *b_name, const struct leaves *y)
{
    cJSON *arr = cJSON_CreateArray();
    size_t i = 0, j = 0;
    while (arr && (i < a->n || j < b->n)) {
        int c = i >= a->n ? 1 : j >= b->n ? -1 : leaf_cmp(&a->v[i], &b->v[j]);
        const struct leaf *k = c <= 0 ? &a->v[i] : &b->v[j];
        const cJSON *va = c <= 0 ? a->v[i].v : NULL, *vb = c >= 0 ? b->v[j].v : NULL;
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
        if (va && vb && cJSON_Compare(va, vb, 1))
            continue;
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return NULL;
        }
        if (!cJSON_AddStringToObject(o, "file", k->file) ||
            !cJSON_AddStringToObject(o, "field", k->field) || add_value(o, a_name, va) ||
            add_value(o, b_name, vb) || (y && add_value(o, "yours", leaf_find(y, k)))) {
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

/* The files of a document as an archive's entries or a folder's: pack.json, the topic
 * files (cJSON's indented print) and the pictures' bytes from the blob store. */
struct folder {
    struct srv_tar_entry *e;
    size_t n;
    char **texts;         /* owned printed JSON */
    struct kk_buf *blobs; /* owned picture bytes */
    size_t ntexts, nblobs;
};

static void folder_release(struct folder *f)
{
    for (size_t i = 0; i < f->ntexts; i++)
        cJSON_free(f->texts[i]);
    for (size_t i = 0; i < f->nblobs; i++)
        kk_buf_release(&f->blobs[i]);
    kk_free(f->texts);
    kk_free(f->blobs);
    kk_free(f->e);
    memset(f, 0, sizeof(*f));
}

/* version not NULL: pack.json says that version (the one an approved revision is
 * published as) instead of its own. */
static enum kk_err folder_make(struct folder *f, const char *data_dir, const struct srv_draft *d,
                               const char *version, struct kk_buf *err)
{
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(d->source, "topics"), *t;
    size_t nt = 1 + (size_t)cJSON_GetArraySize(topics), nb = (size_t)cJSON_GetArraySize(d->files);
    memset(f, 0, sizeof(*f));
    f->e = kk_calloc(nt + nb + 1, sizeof(*f->e));
    f->texts = kk_calloc(nt, sizeof(*f->texts));
    f->blobs = kk_calloc(nb + 1, sizeof(*f->blobs));
    if (!f->e || !f->texts || !f->blobs)
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    cJSON *pack = cJSON_GetObjectItemCaseSensitive(d->source, "pack");
    char *text;
    if (version) {
        cJSON *copy = cJSON_Duplicate(pack, 1);
        cJSON *v = cJSON_CreateString(version);
        if (!copy || !v || !cJSON_IsObject(copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(v);
            return kk_fail(err, KK_ERR_NOMEM, "out of memory");
        }
        if (cJSON_HasObjectItem(copy, "version"))
            cJSON_ReplaceItemInObjectCaseSensitive(copy, "version", v);
        else
            cJSON_AddItemToObject(copy, "version", v);
        text = cJSON_Print(copy);
        cJSON_Delete(copy);
    } else {
        text = cJSON_Print(pack);
    }
    if (!text)
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    f->texts[f->ntexts++] = text;
    f->e[f->n++] = (struct srv_tar_entry){"pack.json", text, strlen(text)};
    cJSON_ArrayForEach(t, topics)
    {
        if (!(text = cJSON_Print(t)))
            return kk_fail(err, KK_ERR_NOMEM, "out of memory");
        f->texts[f->ntexts++] = text;
        f->e[f->n++] = (struct srv_tar_entry){t->string, text, strlen(text)};
    }
    cJSON_ArrayForEach(t, d->files)
    {
        struct kk_buf *b = &f->blobs[f->nblobs++];
        if (!cJSON_IsString(t))
            return kk_fail(err, KK_ERR_INVALID, "%s: no picture stored", t->string);
        enum kk_err rc = srv_blob_get(data_dir, t->valuestring, b, err);
        if (rc)
            return rc;
        f->e[f->n++] = (struct srv_tar_entry){t->string, b->data ? b->data : "", b->len};
    }
    return KK_OK;
}

/* Writes the folder into the new folder dir. */
static enum kk_err folder_write(const struct folder *f, const char *dir, struct kk_buf *err)
{
    enum kk_err rc = kk_mkdirs(dir, 0700, err);
    for (size_t i = 0; !rc && i < f->n; i++) {
        char *path = kk_path_join(dir, f->e[i].path);
        char *slash = path ? strrchr(path, '/') : NULL;
        if (!path)
            return kk_fail(err, KK_ERR_NOMEM, "out of memory");
        *slash = '\0';
        rc = kk_mkdirs(path, 0700, err);
        *slash = '/';
        if (!rc)
            rc = kk_file_write_atomic(path, f->e[i].data, f->e[i].len, err);
        kk_free(path);
    }
    return rc;
}

char *srv_drafts_scratch(struct srv_req *req, const char *what)
{
    struct kk_buf b = KK_BUF_INIT;
    char name[2 * 8 + 1];
    kk_random_hex(name, 8);
    kk_buf_addf(&b, "%s/tmp/%s-%s", req->store->data_dir, what, name);
    if (kk_buf_error(&b)) {
        kk_buf_release(&b);
        return NULL;
    }
    return kk_buf_detach(&b, NULL);
}

/* --- import --------------------------------------------------------------------------- */

struct import {
    const char *data_dir;
    cJSON *topics, *files;
    int status;
    struct kk_buf msg;
};

/* Keeps every picture and recording under dir/rel (a folder) as a blob; other files are
 * dropped. */
static void import_walk(struct import *im, const char *root, const char *rel)
{
    char *dir = rel[0] ? kk_path_join(root, rel) : kk_strdup(root);
    DIR *dh = dir ? opendir(dir) : NULL;
    struct dirent *de;
    if (!dh) {
        im->status = 503;
        kk_fail(&im->msg, KK_ERR_IO, "cannot read the unpacked upload");
        kk_free(dir);
        return;
    }
    while (!im->status && (de = readdir(dh))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *r = rel[0] ? kk_path_join(rel, de->d_name) : kk_strdup(de->d_name);
        char *full = r ? kk_path_join(root, r) : NULL;
        struct stat st;
        if (!full) {
            im->status = 503;
            kk_fail(&im->msg, KK_ERR_NOMEM, "out of memory");
        } else if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            import_walk(im, root, r);
        } else if (S_ISREG(st.st_mode) && (kk_image_type_from_name(r) >= 0 || sound_name(r)) &&
                   !cJSON_GetObjectItemCaseSensitive(im->topics, r)) {
            struct kk_buf data = KK_BUF_INIT;
            struct draft_file df;
            char sha[65];
            unsigned limit = sound_name(r) ? KK_MAX_AUDIO_FILE_BYTES : KK_MAX_IMAGE_FILE_BYTES;
            if (kk_file_read(full, limit, &data, NULL)) {
                im->status = 422;
                kk_fail(&im->msg, KK_ERR_TOOBIG, "%s: over the limit of %u bytes of a %s", r, limit,
                        sound_name(r) ? "recording" : "picture");
            } else if (!(im->status = check_file(r, data.data, data.len, &df, &im->msg))) {
                if (srv_blob_put(im->data_dir, data.data, data.len, sha, &im->msg)) {
                    im->status = 503;
                } else if (!cJSON_AddStringToObject(im->files, r, sha)) {
                    im->status = 503;
                    kk_fail(&im->msg, KK_ERR_NOMEM, "out of memory");
                }
            }
            kk_buf_release(&data);
        }
        kk_free(full);
        kk_free(r);
    }
    closedir(dh);
    kk_free(dir);
}

/* Reads JSON file root/rel into *out. 0, or the status with im->msg set. */
static int import_json(struct import *im, const char *root, const char *rel, cJSON **out)
{
    struct kk_buf text = KK_BUF_INIT;
    char *path = kk_path_join(root, rel);
    enum kk_err rc = path ? kk_file_read(path, KK_MAX_JSON_FILE_BYTES, &text, NULL) : KK_ERR_NOMEM;
    int status = 0;
    *out = NULL;
    if (rc == KK_ERR_NOTFOUND) {
        status = 404; /* the caller decides */
    } else if (rc) {
        status = 422;
        kk_fail(&im->msg, rc, "%s: unreadable or over %u bytes", rel, KK_MAX_JSON_FILE_BYTES);
    } else if (!(*out = kk_json_parse(kk_buf_str(&text), &rc)) || !cJSON_IsObject(*out)) {
        status = 422;
        kk_fail(&im->msg, KK_ERR_PARSE, "%s: not a JSON object", rel);
        cJSON_Delete(*out);
        *out = NULL;
    }
    kk_free(path);
    kk_buf_release(&text);
    return status;
}

char *srv_drafts_find_root(const char *tree, const char *marker)
{
    char *p = kk_path_join(tree, marker), *found = NULL;
    struct stat st;
    int n = 0;
    if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
        kk_free(p);
        return kk_strdup(tree);
    }
    kk_free(p);
    DIR *dh = opendir(tree);
    struct dirent *de;
    while (dh && (de = readdir(dh))) {
        if (de->d_name[0] == '.')
            continue;
        n++;
        kk_free(found);
        found = kk_path_join(tree, de->d_name);
    }
    if (dh)
        closedir(dh);
    p = found && n == 1 ? kk_path_join(found, marker) : NULL;
    if (!p || stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
        kk_free(found);
        found = NULL;
    }
    kk_free(p);
    return found;
}

/* Picks the new draft's venue from ?venue=: 0, or the status with msg set. */
static int import_venue(struct srv_req *req, struct kk_buf *venue, struct kk_buf *msg)
{
    const char *v = srv_req_arg(req, "venue");
    struct kk_buf names = KK_BUF_INIT, only = KK_BUF_INIT;
    int status = 0;
    if (v && !srv_id_valid(v)) {
        kk_fail(msg, KK_ERR_INVALID, "venue: not a valid id");
        return 400;
    }
    if (is_office(req)) {
        if (v)
            kk_buf_adds(venue, v);
        return 0;
    }
    int ok = staff_venue(req, v, &names, &only);
    if (ok < 0) {
        status = 503;
        kk_fail(msg, KK_ERR_DB, "store unavailable");
    } else if (!v && only.len) {
        kk_buf_adds(venue, kk_buf_str(&only));
    } else if (!v) {
        status = 400;
        kk_fail(msg, KK_ERR_INVALID, "venue: give one of your venues (%s)",
                names.len ? kk_buf_str(&names) : "none: ask an office user to add one");
    } else if (!ok) {
        status = 403;
        kk_fail(msg, KK_ERR_PERM, "venue %s: not one of your venues (%s)", v,
                names.len ? kk_buf_str(&names) : "none");
    } else {
        kk_buf_adds(venue, v);
    }
    kk_buf_release(&names);
    kk_buf_release(&only);
    return status;
}

int srv_drafts_import_folder(struct srv_req *req, struct srv_reply *out, const char *root,
                             const char *state, int status_ok, const char *note_text, char did[18])
{
    struct import im = {.data_dir = req->store->data_dir};
    struct kk_buf venue = KK_BUF_INIT, err = KK_BUF_INIT, note = KK_BUF_INIT;
    char *src_text = NULL, *files_text = NULL;
    cJSON *pack = NULL, *doc = NULL;
    int status, made = 0;
    im.topics = cJSON_CreateObject();
    im.files = cJSON_CreateObject();
    did[0] = '\0';
    if ((status = import_venue(req, &venue, &im.msg))) {
        srv_reply_error(out, status, "%s", kk_buf_str(&im.msg));
        goto done;
    }
    if (!im.topics || !im.files) {
        srv_reply_error(out, 503, "out of memory");
        goto done;
    }
    status = import_json(&im, root, "pack.json", &pack);
    if (status) {
        srv_reply_error(out, status == 404 ? 422 : status, "import refused: %s",
                        kk_buf_str(&im.msg));
        goto done;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(pack, "id"), *t;
    if (!cJSON_IsString(id) || !srv_id_valid(id->valuestring)) {
        srv_reply_error(out, 422, "import refused: pack.json: id: missing or not a valid id");
        goto done;
    }
    /* The topic files pack.json lists; a listed file that is missing is left to validate. */
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(pack, "topics"))
    {
        cJSON *topic = NULL;
        if (!cJSON_IsString(t) || !kk_path_is_safe(t->valuestring) ||
            !strcmp(t->valuestring, "pack.json") ||
            cJSON_GetObjectItemCaseSensitive(im.topics, t->valuestring))
            continue;
        status = import_json(&im, root, t->valuestring, &topic);
        if (status == 404)
            continue;
        if (status) {
            srv_reply_error(out, status, "import refused: %s", kk_buf_str(&im.msg));
            goto done;
        }
        cJSON_AddItemToObject(im.topics, t->valuestring, topic);
    }
    import_walk(&im, root, "");
    if (im.status) {
        srv_reply_error(out, im.status, "import refused: %s", kk_buf_str(&im.msg));
        goto done;
    }
    doc = cJSON_CreateObject();
    if (!doc || !cJSON_AddItemReferenceToObject(doc, "pack", pack) ||
        !cJSON_AddItemReferenceToObject(doc, "topics", im.topics) ||
        !(src_text = cJSON_PrintUnformatted(doc)) ||
        !(files_text = cJSON_PrintUnformatted(im.files))) {
        srv_reply_error(out, 503, "out of memory");
        goto done;
    }
    did[0] = 'd';
    kk_random_hex(did + 1, DRAFT_ID_BYTES);
    if (note_text)
        kk_buf_adds(&note, note_text);
    else
        kk_buf_addf(&note, "imported %s", id->valuestring);
    struct srv_draft_save d = {.id = did,
                               .pack = id->valuestring,
                               .venue = venue.len ? kk_buf_str(&venue) : NULL,
                               .who = req->who,
                               .at_ms = kk_clock_wall_ms(),
                               .note = kk_buf_str(&note),
                               .source = src_text,
                               .files = files_text,
                               .state = state};
    enum kk_err rc = srv_store_draft_add(req->store, &d, &err);
    if (rc == KK_ERR_NOTFOUND) {
        srv_reply_error(out, 404, "%s", kk_buf_str(&err));
    } else if (rc) {
        kk_error("drafts", "import: %s", kk_buf_str(&err));
        srv_reply_error(out, 503, "cannot store the draft");
    } else {
        cJSON *a = cJSON_CreateObject();
        if (a && (!cJSON_AddStringToObject(a, "draft", did) ||
                  !cJSON_AddStringToObject(a, "pack", id->valuestring) ||
                  !cJSON_AddNumberToObject(a, "revision", 1) ||
                  !cJSON_AddStringToObject(a, "state", state))) {
            cJSON_Delete(a);
            a = NULL;
        }
        srv_reply_json(out, status_ok, a);
        srv_drafts_audit(req, "draft.import", did, kk_buf_str(&note), d.venue, id->valuestring);
        kk_info("drafts", "%s imported %s as draft %s (%d topics, %d pictures)", req->who,
                id->valuestring, did, cJSON_GetArraySize(im.topics), cJSON_GetArraySize(im.files));
        made = 1;
    }
done:
    if (!made)
        did[0] = '\0';
    cJSON_Delete(doc);
    cJSON_Delete(pack);
    cJSON_Delete(im.topics);
    cJSON_Delete(im.files);
    cJSON_free(src_text);
    cJSON_free(files_text);
    kk_buf_release(&im.msg);
    kk_buf_release(&venue);
    kk_buf_release(&note);
    kk_buf_release(&err);
    return made;
}

void srv_drafts_import(struct srv_req *req, struct srv_reply *out)
{
    struct kk_buf venue = KK_BUF_INIT, err = KK_BUF_INIT, msg = KK_BUF_INIT;
    char *top = NULL, *scratch = NULL, *tree = NULL, *root = NULL;
    char did[18];
    int status;
    if (!req->body.len) {
        srv_reply_error(out, 400, "body: empty; upload a tar, tar.gz or .kpk of a pack folder");
        goto done;
    }
    if ((status = import_venue(req, &venue, &msg))) {
        srv_reply_error(out, status, "%s", kk_buf_str(&msg));
        goto done;
    }
    top = srv_drafts_scratch(req, "import");
    scratch = top ? kk_path_join(top, "upload") : NULL;
    tree = top ? kk_path_join(top, "tree") : NULL;
    if (!scratch || !tree || kk_mkdirs(top, 0700, &err)) {
        kk_error("drafts", "import: %s", kk_buf_str(&err));
        srv_reply_error(out, 503, "cannot write the upload to disk");
        goto done;
    }
    enum kk_err rc = srv_tar_unpack(req->body.data, req->body.len, scratch, tree, &err);
    if (rc) {
        srv_reply_error(out, rc == KK_ERR_IO || rc == KK_ERR_NOMEM ? 503 : 422,
                        "import refused: %s", kk_buf_str(&err));
        goto done;
    }
    if (!(root = srv_drafts_find_root(tree, "pack.json"))) {
        srv_reply_error(out, 422, "import refused: no pack.json at the top or in one folder");
        goto done;
    }
    srv_drafts_import_folder(req, out, root, "draft", 201, NULL, did);
done:
    if (top)
        kk_remove_tree(top, NULL);
    kk_free(top);
    kk_free(scratch);
    kk_free(tree);
    kk_free(root);
    kk_buf_release(&msg);
    kk_buf_release(&venue);
    kk_buf_release(&err);
}

/* --- list, read, save ------------------------------------------------------------------ */

void srv_drafts_list(struct srv_req *req, struct srv_reply *out)
{
    struct srv_table t = {0}, mine = {0};
    struct kk_buf err = KK_BUF_INIT;
    if (srv_store_draft_list(req->store, &t, &err) ||
        (!is_office(req) && srv_store_user_venues(req->store, req->who, &mine, &err))) {
        kk_error("drafts", "list: %s", kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
        goto done;
    }
    if (!is_office(req)) {
        /* Keep only the rows of the staff user's venues. */
        size_t w = 0;
        for (size_t r = 0; r < t.nrows; r++) {
            struct srv_cell *row = &t.cells[r * t.ncolumns];
            int keep = 0;
            for (size_t m = 0; !keep && m < mine.nrows; m++)
                keep = cell_s(&row[2]) && cell_s(&mine.cells[m]) &&
                       !strcmp(cell_s(&row[2]), cell_s(&mine.cells[m]));
            if (keep) {
                if (w != r) {
                    struct srv_cell *to = &t.cells[w * t.ncolumns];
                    for (size_t c = 0; c < t.ncolumns; c++) {
                        kk_free(to[c].s);
                        to[c] = row[c];
                        row[c] = (struct srv_cell){0};
                    }
                }
                w++;
            }
        }
        for (size_t r = w; r < t.nrows; r++)
            for (size_t c = 0; c < t.ncolumns; c++) {
                kk_free(t.cells[r * t.ncolumns + c].s);
                t.cells[r * t.ncolumns + c] = (struct srv_cell){0};
            }
        t.nrows = w;
    }
    srv_reply_json(out, 200, srv_table_to_objects(&t));
done:
    srv_table_release(&t);
    srv_table_release(&mine);
    kk_buf_release(&err);
}

static cJSON *draft_json(struct srv_draft *d)
{
    cJSON *a = cJSON_CreateObject();
    cJSON *src = d->source;
    if (!a || !cJSON_AddStringToObject(a, "id", d->id) ||
        !cJSON_AddStringToObject(a, "pack", d->pack) ||
        !(d->venue ? cJSON_AddStringToObject(a, "venue", d->venue)
                   : cJSON_AddNullToObject(a, "venue")) ||
        !cJSON_AddStringToObject(a, "state", d->state ? d->state : "draft") ||
        !cJSON_AddNumberToObject(a, "revision", (double)d->revision) ||
        !cJSON_AddNumberToObject(a, "head", (double)d->head) ||
        !cJSON_AddStringToObject(a, "who", d->who ? d->who : "") ||
        !cJSON_AddNumberToObject(a, "at_ms", (double)d->at_ms) ||
        !cJSON_AddStringToObject(a, "note", d->note) ||
        !(d->approved ? cJSON_AddNumberToObject(a, "approved", (double)d->approved)
                      : cJSON_AddNullToObject(a, "approved")) ||
        !(d->approved_by ? cJSON_AddStringToObject(a, "approved_by", d->approved_by)
                         : cJSON_AddNullToObject(a, "approved_by")) ||
        !(d->version ? cJSON_AddStringToObject(a, "version", d->version)
                     : cJSON_AddNullToObject(a, "version"))) {
        cJSON_Delete(a);
        return NULL;
    }
    enum kk_err jrc;
    cJSON *comments = d->comments ? kk_json_parse(d->comments, &jrc) : NULL;
    if (!comments)
        comments = cJSON_CreateArray();
    cJSON_AddItemToObject(a, "comments", comments);
    /* The tree moves into the answer. */
    cJSON_AddItemToObject(src, "files", d->files);
    d->files = NULL;
    cJSON_AddItemToObject(a, "source", src);
    d->source = NULL;
    return a;
}

void srv_drafts_get(struct srv_req *req, struct srv_reply *out)
{
    struct srv_draft d;
    if (!srv_draft_load(req, out, arg_revision(req, "revision"), &d))
        return;
    srv_reply_json(out, 200, draft_json(&d));
    srv_draft_release(&d);
}

/* Checks a save's files map: every path a picture path, every hash a stored blob; a
 * path whose hash is new since the latest revision has its blob checked as a picture of
 * that name again (a blob may be any pack file, or a picture uploaded under another
 * name). */
static int check_files(struct srv_req *req, const cJSON *files, const cJSON *head,
                       struct kk_buf *msg)
{
    const cJSON *f;
    if (!cJSON_IsObject(files)) {
        kk_fail(msg, KK_ERR_INVALID, "source.files: must be an object of path: sha256");
        return 400;
    }
    cJSON_ArrayForEach(f, files)
    {
        const char *why = file_path_problem(f->string);
        if (why || kk_image_type_from_name(f->string) < 0) {
            kk_fail(msg, KK_ERR_INVALID, "source.files: \"%.100s\": %s", f->string,
                    why ? why : "only .png, .jpg, .jpeg and .svg pictures are taken");
            return 400;
        }
        if (!cJSON_IsString(f) || !srv_sha256_well_formed(f->valuestring)) {
            kk_fail(msg, KK_ERR_INVALID, "source.files: %s: must be a SHA-256 (64 hex digits)",
                    f->string);
            return 400;
        }
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(head, f->string);
        if (cJSON_IsString(was) && !strcmp(was->valuestring, f->valuestring))
            continue;
        struct kk_buf data = KK_BUF_INIT;
        struct draft_file df;
        enum kk_err rc = srv_blob_get(req->store->data_dir, f->valuestring, &data, NULL);
        int status = rc == KK_ERR_NOTFOUND ? 422 : rc ? 503 : 0;
        if (status)
            kk_fail(msg, rc, "source.files: %s: %s", f->string,
                    rc == KK_ERR_NOTFOUND ? "not uploaded to this draft" : "unreadable");
        else {
            struct kk_buf pic = KK_BUF_INIT;
            if ((status = check_file(f->string, data.data, data.len, &df, &pic)))
                kk_fail(msg, KK_ERR_INVALID, "source.files: %s", kk_buf_str(&pic));
            kk_buf_release(&pic);
        }
        kk_buf_release(&data);
        if (status)
            return status;
    }
    return 0;
}

/* Saves source (and files) as the revision after base: answers 200 {"revision"}, or 409
 * with the changes between base and the latest. mine: the caller's document, for
 * "yours". */
static void save_revision(struct srv_req *req, struct srv_reply *out, struct srv_draft *head,
                          int64_t base, const cJSON *src, const cJSON *files, const char *note,
                          const char *what)
{
    struct kk_buf err = KK_BUF_INIT;
    cJSON *doc = cJSON_CreateObject();
    char *src_text = NULL, *files_text = NULL;
    int64_t number = 0;
    if (!doc ||
        !cJSON_AddItemReferenceToObject(doc, "pack",
                                        cJSON_GetObjectItemCaseSensitive(src, "pack")) ||
        !cJSON_AddItemReferenceToObject(doc, "topics",
                                        cJSON_GetObjectItemCaseSensitive(src, "topics")) ||
        !(src_text = cJSON_PrintUnformatted(doc)) ||
        !(files_text = cJSON_PrintUnformatted(files))) {
        srv_reply_error(out, 503, "out of memory");
        goto done;
    }
    struct srv_draft_save s = {.id = head->id,
                               .who = req->who,
                               .at_ms = kk_clock_wall_ms(),
                               .base = base,
                               .note = note,
                               .source = src_text,
                               .files = files_text};
    enum kk_err rc = srv_store_draft_save(req->store, &s, &number, &err);
    if (rc == KK_ERR_EXISTS) {
        /* What changed between base and the latest, with what this save had. */
        struct srv_table bt = {0};
        struct leaves lb = {0}, lh = {0}, ly = {0};
        cJSON *bsrc = NULL, *bfiles = NULL, *ans = cJSON_CreateObject(), *changes = NULL;
        struct srv_draft latest;
        struct srv_reply scratch = {0};
        enum kk_err jrc;
        int got_latest = 0;
        if (!srv_store_draft_get(req->store, head->id, base, &bt, NULL) && bt.nrows) {
            bsrc = cell_s(&bt.cells[8]) ? kk_json_parse(cell_s(&bt.cells[8]), &jrc) : NULL;
            bfiles = cell_s(&bt.cells[9]) ? kk_json_parse(cell_s(&bt.cells[9]), &jrc) : NULL;
        }
        got_latest = srv_draft_load(req, &scratch, 0, &latest);
        kk_buf_release(&scratch.body);
        for (size_t i = 0; i < scratch.nheaders; i++) {
            kk_free(scratch.headers[i][0]);
            kk_free(scratch.headers[i][1]);
        }
        if (ans && got_latest && bsrc && bfiles && !doc_leaves(&lb, bsrc, bfiles) &&
            !doc_leaves(&lh, latest.source, latest.files) && !doc_leaves(&ly, src, files))
            changes = doc_diff(&lb, &lh, "base", "head", &ly);
        if (!ans || !changes) {
            cJSON_Delete(changes);
            srv_reply_error(out, 409,
                            "draft %s: revision %lld is not the latest (%lld); reload or merge",
                            head->id, (long long)base, (long long)number);
        } else {
            struct kk_buf m = KK_BUF_INIT;
            kk_buf_addf(&m, "draft %s: revision %lld is not the latest (%lld); reload or merge",
                        head->id, (long long)base, (long long)number);
            cJSON_AddStringToObject(ans, "error", kk_buf_str(&m));
            cJSON_AddNumberToObject(ans, "head", (double)number);
            cJSON_AddNumberToObject(ans, "base", (double)base);
            cJSON_AddItemToObject(ans, "changes", changes);
            srv_reply_json(out, 409, ans);
            ans = NULL;
            kk_buf_release(&m);
        }
        cJSON_Delete(ans);
        cJSON_Delete(bsrc);
        cJSON_Delete(bfiles);
        leaves_release(&lb);
        leaves_release(&lh);
        leaves_release(&ly);
        srv_table_release(&bt);
        if (got_latest)
            srv_draft_release(&latest);
    } else if (rc == KK_ERR_NOTFOUND) {
        srv_reply_error(out, 404, "%s", kk_buf_str(&err));
    } else if (rc == KK_ERR_BUSY) {
        srv_reply_error(out, 409, "%s", kk_buf_str(&err)); /* in review or approved */
    } else if (rc) {
        kk_error("drafts", "save %s: %s", head->id, kk_buf_str(&err));
        srv_reply_error(out, 503, "cannot store the revision");
    } else {
        cJSON *a = cJSON_CreateObject();
        if (a && !cJSON_AddNumberToObject(a, "revision", (double)number)) {
            cJSON_Delete(a);
            a = NULL;
        }
        srv_reply_json(out, 200, a);
        struct kk_buf detail = KK_BUF_INIT;
        kk_buf_addf(&detail, "revision %lld: %s", (long long)number, note);
        srv_drafts_audit(req, what, head->id, kk_buf_str(&detail), head->venue, head->pack);
        kk_buf_release(&detail);
    }
done:
    cJSON_Delete(doc);
    cJSON_free(src_text);
    cJSON_free(files_text);
    kk_buf_release(&err);
}

void srv_drafts_put(struct srv_req *req, struct srv_reply *out)
{
    struct srv_draft d;
    struct kk_buf msg = KK_BUF_INIT;
    cJSON *root = NULL;
    int status;
    if (!srv_draft_load(req, out, 0, &d))
        return;
    if (!(root = srv_req_json(req, out)))
        goto done;
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(root, "base_revision");
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(root, "note");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "source");
    if (!cJSON_IsObject(root)) {
        srv_reply_error(out, 400,
                        "body: must be an object {\"base_revision\", \"note\", \"source\"}");
        goto done;
    }
    if (!cJSON_IsNumber(base) || base->valuedouble < 1 || base->valuedouble > 1e12 ||
        base->valuedouble != (double)(int64_t)base->valuedouble) {
        srv_reply_error(out, 400, "base_revision: missing or not a whole number of at least 1");
        goto done;
    }
    if (note && !cJSON_IsNull(note) &&
        (!cJSON_IsString(note) || strlen(note->valuestring) > SRV_MAX_DRAFT_NOTE)) {
        srv_reply_error(out, 400, "note: must be a string of at most %d bytes", SRV_MAX_DRAFT_NOTE);
        goto done;
    }
    if ((status = check_source(src, &msg))) {
        srv_reply_error(out, status, "%s", kk_buf_str(&msg));
        goto done;
    }
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(src, "files");
    if (!files)
        files = d.files;
    else if ((status = check_files(req, files, d.files, &msg))) {
        srv_reply_error(out, status, "%s", kk_buf_str(&msg));
        goto done;
    }
    save_revision(req, out, &d, (int64_t)base->valuedouble, src, files,
                  cJSON_IsString(note) ? note->valuestring : "", "draft.save");
done:
    cJSON_Delete(root);
    srv_draft_release(&d);
    kk_buf_release(&msg);
}

/* --- pictures and recordings --------------------------------------------------------- */

void srv_drafts_file(struct srv_req *req, struct srv_reply *out)
{
    struct srv_draft d;
    struct kk_buf msg = KK_BUF_INIT;
    struct draft_file df;
    char sha[65];
    const char *path = srv_req_arg(req, "path");
    if (!srv_draft_load(req, out, 0, &d))
        return;
    const char *why = path ? file_path_problem(path)
                           : "missing; say where it goes, e.g."
                             " ?path=images/cover.png";
    if (why) {
        srv_reply_error(out, 400, "path: \"%.100s\": %s", path ? path : "", why);
        goto done;
    }
    if (!req->body.len) {
        srv_reply_error(out, 400, "body: empty; send the picture's or recording's bytes");
        goto done;
    }
    int status = check_file(path, req->body.data, req->body.len, &df, &msg);
    if (status) {
        srv_reply_error(out, status, "%s", kk_buf_str(&msg));
        goto done;
    }
    if (srv_blob_put(req->store->data_dir, req->body.data, req->body.len, sha, &msg)) {
        kk_error("drafts", "file %s: %s", path, kk_buf_str(&msg));
        srv_reply_error(out, 503, "cannot store the file");
        goto done;
    }
    cJSON *a = cJSON_CreateObject();
    if (a &&
        (!cJSON_AddStringToObject(a, "path", path) || !cJSON_AddStringToObject(a, "sha256", sha) ||
         !cJSON_AddNumberToObject(a, "size", (double)req->body.len) ||
         !cJSON_AddStringToObject(a, "type",
                                  df.sound ? kk_audio_type_name(df.au.type)
                                           : kk_image_type_name(df.img.type)) ||
         !(df.sound ? cJSON_AddNumberToObject(a, "ms", (double)df.au.ms) != NULL
                    : cJSON_AddNumberToObject(a, "width", df.img.w) &&
                          cJSON_AddNumberToObject(a, "height", df.img.h)))) {
        cJSON_Delete(a);
        a = NULL;
    }
    srv_reply_json(out, 201, a);
    struct kk_buf detail = KK_BUF_INIT;
    kk_buf_addf(&detail, "%s %s", path, sha);
    srv_drafts_audit(req, "draft.file", d.id, kk_buf_str(&detail), d.venue, d.pack);
    kk_buf_release(&detail);
done:
    srv_draft_release(&d);
    kk_buf_release(&msg);
}

/* --- validate, export ------------------------------------------------------------------ */

static int add_diag(cJSON *arr, const char *file, const char *field, const char *sev,
                    const char *message)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        return -1;
    }
    return cJSON_AddStringToObject(o, "file", file) && cJSON_AddStringToObject(o, "field", field) &&
                   cJSON_AddStringToObject(o, "severity", sev) &&
                   cJSON_AddStringToObject(o, "message", message)
               ? 0
               : -1;
}

cJSON *srv_drafts_check_dir(const char *dir, size_t *errors)
{
    struct kk_buf err = KK_BUF_INIT;
    struct kk_diags diags = {0};
    struct kk_pack *p = NULL;
    enum kk_err rc = kk_pack_load(dir, &p, &diags, &err);
    cJSON *arr = cJSON_CreateArray();
    size_t dlen = strlen(dir);
    *errors = diags.errors;
    for (size_t i = 0; arr && i < diags.n; i++) {
        const struct kk_diag *g = &diags.items[i];
        const char *file = g->file ? g->file : "";
        if (!strncmp(file, dir, dlen) && file[dlen] == '/')
            file += dlen + 1;
        if (add_diag(arr, file, g->field ? g->field : "",
                     g->severity == KK_SEV_ERROR ? "error" : "warning",
                     g->message ? g->message : "")) {
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    /* A failure the parser reported only as a message: it concerns pack.json as a whole. */
    if (rc && !diags.errors) {
        const char *m = kk_buf_str(&err);
        if (!strncmp(m, dir, dlen) && m[dlen] == '/')
            m += dlen + 1;
        *errors = 1;
        if (arr && add_diag(arr, "pack.json", "", "error", m)) {
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    kk_pack_destroy(p);
    kk_diags_release(&diags);
    kk_buf_release(&err);
    return arr;
}

void srv_drafts_validate(struct srv_req *req, struct srv_reply *out)
{
    struct srv_draft d;
    struct folder f;
    struct kk_buf err = KK_BUF_INIT;
    char *dir = NULL;
    size_t errors = 0;
    memset(&f, 0, sizeof(f));
    if (!srv_draft_load(req, out, arg_revision(req, "revision"), &d))
        return;
    dir = srv_drafts_scratch(req, "validate");
    if (!dir || folder_make(&f, req->store->data_dir, &d, NULL, &err) ||
        folder_write(&f, dir, &err)) {
        kk_error("drafts", "validate %s: %s", d.id, kk_buf_str(&err));
        srv_reply_error(out, 503, "cannot write the draft out to check it");
        goto done;
    }
    srv_reply_json(out, 200, srv_drafts_check_dir(dir, &errors));
done:
    if (dir)
        kk_remove_tree(dir, NULL);
    kk_free(dir);
    folder_release(&f);
    srv_draft_release(&d);
    kk_buf_release(&err);
}

void srv_drafts_export(struct srv_req *req, struct srv_reply *out)
{
    struct srv_draft d;
    struct folder f;
    struct kk_buf err = KK_BUF_INIT, tgz = KK_BUF_INIT;
    char disp[200];
    memset(&f, 0, sizeof(f));
    if (!srv_draft_load(req, out, arg_revision(req, "revision"), &d))
        return;
    /* The approved revision exports as it will be published: with its version. */
    const char *version =
        d.state && !strcmp(d.state, "approved") && d.approved == d.revision ? d.version : NULL;
    if (folder_make(&f, req->store->data_dir, &d, version, &err) ||
        srv_tar_write_gz(d.pack, f.e, f.n, &tgz, &err)) {
        kk_error("drafts", "export %s: %s", d.id, kk_buf_str(&err));
        srv_reply_error(out, 503, "cannot export the draft");
        goto done;
    }
    srv_reply_text(out, 200, "application/gzip", tgz.data ? tgz.data : "", tgz.len);
    snprintf(disp, sizeof(disp), "attachment; filename=\"%s-r%lld.tar.gz\"", d.pack,
             (long long)d.revision);
    srv_reply_header(out, "Content-Disposition", disp);
done:
    folder_release(&f);
    srv_draft_release(&d);
    kk_buf_release(&err);
    kk_buf_release(&tgz);
}

int srv_drafts_checkout(struct srv_req *req, struct srv_reply *out, int64_t revision,
                        const char *dir, char **pack_id)
{
    struct srv_draft d;
    struct folder f;
    struct kk_buf err = KK_BUF_INIT;
    int ok = 0;
    memset(&f, 0, sizeof(f));
    *pack_id = NULL;
    if (!srv_draft_load(req, out, revision, &d))
        return 0;
    if (folder_make(&f, req->store->data_dir, &d, NULL, &err) || folder_write(&f, dir, &err)) {
        kk_error("drafts", "checkout %s: %s", d.id, kk_buf_str(&err));
        srv_reply_error(out, 503, "cannot write the draft out");
    } else if (!(*pack_id = kk_strdup(d.pack))) {
        srv_reply_error(out, 503, "out of memory");
    } else {
        ok = 1;
    }
    folder_release(&f);
    srv_draft_release(&d);
    kk_buf_release(&err);
    return ok;
}

enum kk_err srv_draft_write(const char *data_dir, const struct srv_draft *d, const char *version,
                            const char *dir, struct kk_buf *err)
{
    struct folder f;
    enum kk_err rc = folder_make(&f, data_dir, d, version, err);
    if (!rc)
        rc = folder_write(&f, dir, err);
    folder_release(&f);
    return rc;
}

/* --- history ---------------------------------------------------------------------------- */

void srv_drafts_revisions(struct srv_req *req, struct srv_reply *out)
{
    struct srv_draft d;
    struct srv_table t = {0};
    if (!srv_draft_load(req, out, 0, &d))
        return;
    if (srv_store_draft_revisions(req->store, d.id, &t, NULL))
        srv_reply_error(out, 503, "store unavailable");
    else
        srv_reply_json(out, 200, srv_table_to_objects(&t));
    srv_table_release(&t);
    srv_draft_release(&d);
}

void srv_drafts_restore(struct srv_req *req, struct srv_reply *out)
{
    struct srv_draft head, old;
    cJSON *root = NULL;
    char note[64];
    if (!srv_draft_load(req, out, 0, &head))
        return;
    if (!(root = srv_req_json(req, out)))
        goto done;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "revision");
    if (!cJSON_IsNumber(r) || r->valuedouble < 1 || r->valuedouble > 1e12 ||
        r->valuedouble != (double)(int64_t)r->valuedouble) {
        srv_reply_error(out, 400, "revision: missing or not a whole number of at least 1");
        goto done;
    }
    if (!srv_draft_load(req, out, (int64_t)r->valuedouble, &old))
        goto done;
    snprintf(note, sizeof(note), "restored revision %lld", (long long)old.revision);
    save_revision(req, out, &head, head.head, old.source, old.files, note, "draft.restore");
    srv_draft_release(&old);
done:
    cJSON_Delete(root);
    srv_draft_release(&head);
}

void srv_drafts_diff(struct srv_req *req, struct srv_reply *out)
{
    struct srv_draft a, b;
    struct leaves la = {0}, lb = {0};
    int64_t from = arg_revision(req, "from"), to = arg_revision(req, "to");
    if (from == 0) {
        srv_reply_error(out, 400, "from: missing; say which revision to compare from");
        return;
    }
    if (!srv_draft_load(req, out, from, &a))
        return;
    if (!srv_draft_load(req, out, to, &b)) {
        srv_draft_release(&a);
        return;
    }
    cJSON *changes = NULL, *ans = cJSON_CreateObject();
    if (!doc_leaves(&la, a.source, a.files) && !doc_leaves(&lb, b.source, b.files))
        changes = doc_diff(&la, &lb, "from", "to", NULL);
    if (!ans || !changes || !cJSON_AddNumberToObject(ans, "from", (double)a.revision) ||
        !cJSON_AddNumberToObject(ans, "to", (double)b.revision)) {
        cJSON_Delete(changes);
        cJSON_Delete(ans);
        srv_reply_error(out, 503, "out of memory");
    } else {
        cJSON_AddItemToObject(ans, "changes", changes);
        srv_reply_json(out, 200, ans);
    }
    leaves_release(&la);
    leaves_release(&lb);
    srv_draft_release(&a);
    srv_draft_release(&b);
}

/* --- the studio's editor: checking unsaved text, showing stored pictures --------------- */

void srv_drafts_check(struct srv_req *req, struct srv_reply *out)
{
    struct srv_draft d;
    struct folder f;
    struct kk_buf msg = KK_BUF_INIT;
    cJSON *root = NULL;
    size_t errors = 0;
    char *dir = NULL;
    int status;
    memset(&f, 0, sizeof(f));
    if (!srv_draft_load(req, out, 0, &d))
        return;
    if (!(root = srv_req_json(req, out)))
        goto done;
    cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "source");
    if (!cJSON_IsObject(root)) {
        srv_reply_error(out, 400, "body: must be an object {\"source\"}");
        goto done;
    }
    if ((status = check_source(src, &msg))) {
        srv_reply_error(out, status, "%s", kk_buf_str(&msg));
        goto done;
    }
    cJSON *files = cJSON_DetachItemFromObjectCaseSensitive(src, "files");
    if (files) {
        if ((status = check_files(req, files, d.files, &msg))) {
            cJSON_Delete(files);
            srv_reply_error(out, status, "%s", kk_buf_str(&msg));
            goto done;
        }
        cJSON_Delete(d.files);
        d.files = files;
    }
    /* The text checked is the body's; nothing is stored. */
    cJSON_Delete(d.source);
    d.source = cJSON_DetachItemFromObjectCaseSensitive(root, "source");
    dir = srv_drafts_scratch(req, "check");
    if (!dir || folder_make(&f, req->store->data_dir, &d, NULL, &msg) ||
        folder_write(&f, dir, &msg)) {
        kk_error("drafts", "check %s: %s", d.id, kk_buf_str(&msg));
        srv_reply_error(out, 503, "cannot write the draft out to check it");
        goto done;
    }
    srv_reply_json(out, 200, srv_drafts_check_dir(dir, &errors));
done:
    if (dir)
        kk_remove_tree(dir, NULL);
    kk_free(dir);
    folder_release(&f);
    cJSON_Delete(root);
    srv_draft_release(&d);
    kk_buf_release(&msg);
}

void srv_drafts_file_get(struct srv_req *req, struct srv_reply *out)
{
    static const char *const types[] = {
        [KK_IMG_PNG] = "image/png", [KK_IMG_JPEG] = "image/jpeg", [KK_IMG_SVG] = "image/svg+xml"};
    struct srv_draft d;
    struct kk_buf data = KK_BUF_INIT, err = KK_BUF_INIT;
    const char *path = srv_req_arg(req, "path");
    if (!srv_draft_load(req, out, arg_revision(req, "revision"), &d))
        return;
    const cJSON *sha = path ? cJSON_GetObjectItemCaseSensitive(d.files, path) : NULL;
    if (!path) {
        srv_reply_error(out, 400, "path: missing; say which picture, e.g. ?path=images/cover.png");
        goto done;
    }
    if (!cJSON_IsString(sha)) {
        srv_reply_error(out, 404, "draft %s: revision %lld has no file \"%.100s\"", d.id,
                        (long long)d.revision, path);
        goto done;
    }
    enum kk_err rc = srv_blob_get(req->store->data_dir, sha->valuestring, &data, &err);
    /* What the file is was checked when it was stored; here it is only told apart. */
    int type = rc ? -1 : sniff_type((const unsigned char *)data.data, data.len);
    const char *ctype = type >= 0 ? types[type] : NULL;
    if (!rc && sound_name(path))
        ctype = data.len >= 4 && !memcmp(data.data, "OggS", 4) ? "audio/ogg" : "audio/mpeg";
    if (!ctype) {
        kk_error("drafts", "file %s %s: %s", d.id, path, rc ? kk_buf_str(&err) : "not a picture");
        srv_reply_error(out, 503, "cannot read the file \"%.100s\"", path);
        goto done;
    }
    srv_reply_text(out, 200, ctype, data.data ? data.data : "", data.len);
    srv_reply_header(out, "ETag", sha->valuestring);
    srv_reply_header(out, "Cache-Control", "private, no-cache");
    srv_reply_header(out, "X-Content-Type-Options", "nosniff");
    /* An SVG opened on its own runs nothing and loads nothing. */
    srv_reply_header(out, "Content-Security-Policy",
                     "default-src 'none'; style-src 'unsafe-inline'; sandbox");
done:
    srv_draft_release(&d);
    kk_buf_release(&data);
    kk_buf_release(&err);
}
