#include "srv_review.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kepu/alloc.h"
#include "kepu/bundle.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "kepu/pack.h"
#include "srv_drafts.h"
#include "srv_pack.h"
#include "srv_tar.h"

#define MAX_COMMENTS      100
#define MAX_COMMENT_TEXT  2000
#define MAX_COMMENT_FIELD 512

/* The alliance key (libsodium's 64 bytes: seed then public key), locked in memory. */
static struct kk_seckey *signing;

void srv_review_set_key(const struct kk_seckey *key)
{
    if (signing) {
        sodium_memzero(signing, sizeof(*signing));
        sodium_munlock(signing, sizeof(*signing));
        kk_free(signing);
        signing = NULL;
    }
    if (key && (signing = kk_calloc(1, sizeof(*signing)))) {
        sodium_mlock(signing, sizeof(*signing));
        memcpy(signing, key, sizeof(*signing));
    }
}

void srv_review_key_fingerprint(const struct kk_pubkey *pub, char out[17])
{
    kk_hex_encode(out, pub->key, 8);
}

/* The signing key's public half and its fingerprint. */
static void signing_fingerprint(char out[17])
{
    struct kk_pubkey pub;
    memcpy(pub.key, signing->key + 32, KK_PUBKEY_BYTES);
    srv_review_key_fingerprint(&pub, out);
}

/* --- version numbers ------------------------------------------------------------------ */

/* Year and month of a day count since 1970-01-01 (Howard Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int *y, int *m)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

void srv_review_next_version(const char *const *versions, size_t n, int64_t now_ms, char out[32])
{
    int y, m;
    long best = 0;
    char prefix[24];
    civil_from_days((now_ms / 1000 + SRV_DAY_OFFSET_S) / 86400, &y, &m);
    int plen = snprintf(prefix, sizeof(prefix), "%04d.%02d.", y, m);
    for (size_t i = 0; i < n; i++) {
        long v;
        if (versions[i] && !strncmp(versions[i], prefix, (size_t)plen) &&
            kk_parse_long(versions[i] + plen, 0, 1000000000L, &v) == 0 && v > best)
            best = v;
    }
    snprintf(out, 32, "%.12s%ld", prefix, (best + 1) % 1000000000L);
}

/* The next version of pack: after every one stored or reserved by an approved draft. */
static enum kk_err next_version(struct srv_req *req, const char *pack, char out[32])
{
    struct srv_table t = {0};
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc = srv_store_pack_versions(req->store, pack, &t, &err);
    const char **v = rc ? NULL : kk_calloc(t.nrows + 1, sizeof(*v));
    if (!rc && !v)
        rc = KK_ERR_NOMEM;
    for (size_t r = 0; v && r < t.nrows; r++)
        v[r] = t.cells[r].kind == SRV_CELL_TEXT ? t.cells[r].s : NULL;
    if (!rc)
        srv_review_next_version(v, t.nrows, kk_clock_wall_ms(), out);
    else
        kk_error("review", "versions of %s: %s", pack, kk_buf_str(&err));
    kk_free(v);
    srv_table_release(&t);
    kk_buf_release(&err);
    return rc;
}

/* --- shared steps ----------------------------------------------------------------------- */

static int is_office(const struct srv_req *req)
{
    return !strcmp(req->role, "office");
}

/* 1 for an office caller; otherwise answers 403 naming the step. */
static int office_only(struct srv_req *req, struct srv_reply *out, const char *what)
{
    if (is_office(req))
        return 1;
    srv_reply_error(out, 403, "draft %.40s: only office users %s; staff submit drafts",
                    req->params[0], what);
    return 0;
}

/* Takes step st on draft d, answering a failure (409 naming the state, 403, 404, 503).
 * 1 when it was taken. why: what the step needs, for the 409. */
static int take_step(struct srv_req *req, struct srv_reply *out, const struct srv_draft_step *st,
                     const char *why)
{
    struct kk_buf state = KK_BUF_INIT, err = KK_BUF_INIT;
    enum kk_err rc = srv_store_draft_step(req->store, st, &state, &err);
    if (rc == KK_ERR_BUSY)
        srv_reply_error(out, 409, "draft %s is %s; %s", st->id, kk_buf_str(&state), why);
    else if (rc == KK_ERR_PERM)
        srv_reply_error(out, 403,
                        "draft %s: you (%s) saved a revision of it since its last approval;"
                        " another office user must approve it",
                        st->id, st->who);
    else if (rc == KK_ERR_EXISTS)
        srv_reply_error(out, 409, "%s; reload it", kk_buf_str(&err));
    else if (rc == KK_ERR_NOTFOUND)
        srv_reply_error(out, 404, "no draft %s", st->id);
    else if (rc) {
        kk_error("review", "%s: %s", st->id, kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
    }
    kk_buf_release(&state);
    kk_buf_release(&err);
    return rc == KK_OK ? 1 : rc == KK_ERR_PERM ? -1 : 0;
}

/* Answers 200 {"draft","state","revision"[,"version"]}. */
static void answer_state(struct srv_reply *out, const char *id, const char *state, int64_t revision,
                         const char *version)
{
    cJSON *a = cJSON_CreateObject();
    if (a &&
        (!cJSON_AddStringToObject(a, "draft", id) || !cJSON_AddStringToObject(a, "state", state) ||
         !cJSON_AddNumberToObject(a, "revision", (double)revision) ||
         (version && !cJSON_AddStringToObject(a, "version", version)))) {
        cJSON_Delete(a);
        a = NULL;
    }
    srv_reply_json(out, 200, a);
}

/* --- submit, approve, request changes ---------------------------------------------------- */

void srv_review_submit(struct srv_req *req, struct srv_reply *out)
{
    struct srv_draft d;
    char detail[64];
    if (!srv_draft_load(req, out, 0, &d))
        return;
    struct srv_draft_step st = {
        .id = d.id, .from = "draft|changes_requested", .to = "in_review", .who = req->who};
    if (take_step(req, out, &st, "only a draft or one with changes requested can be submitted")) {
        snprintf(detail, sizeof(detail), "revision %lld", (long long)d.head);
        srv_drafts_audit(req, "draft.submit", d.id, detail, d.venue, d.pack);
        answer_state(out, d.id, "in_review", d.head, NULL);
        kk_info("review", "%s submitted draft %s revision %lld", req->who, d.id, (long long)d.head);
    }
    srv_draft_release(&d);
}

void srv_review_approve(struct srv_req *req, struct srv_reply *out)
{
    struct srv_draft d;
    char version[32], detail[128];
    if (!office_only(req, out, "approve"))
        return;
    if (!srv_draft_load(req, out, 0, &d))
        return;
    if (next_version(req, d.pack, version)) {
        srv_reply_error(out, 503, "store unavailable");
        goto done;
    }
    struct srv_draft_step st = {.id = d.id,
                                .from = "in_review",
                                .to = "approved",
                                .who = req->who,
                                .self_check = 1,
                                .approve = d.head,
                                .version = version};
    int taken = take_step(req, out, &st, "only a draft in review can be approved");
    if (taken > 0) {
        snprintf(detail, sizeof(detail), "revision %lld, to be published as %s", (long long)d.head,
                 version);
        srv_drafts_audit(req, "draft.approve", d.id, detail, d.venue, d.pack);
        answer_state(out, d.id, "approved", d.head, version);
        kk_info("review", "%s approved draft %s revision %lld", req->who, d.id, (long long)d.head);
    } else if (taken < 0) {
        /* The refused try is recorded too: nobody approves their own change. */
        snprintf(detail, sizeof(detail),
                 "revision %lld: refused, saved a revision since the last approval",
                 (long long)d.head);
        srv_drafts_audit(req, "draft.approve_refused", d.id, detail, d.venue, d.pack);
        kk_warn("review", "%s may not approve draft %s: saved a revision of it", req->who, d.id);
    }
done:
    srv_draft_release(&d);
}

/* The topic of source (the draft's {"pack","topics"}) whose id is id, or NULL. */
static const cJSON *find_topic(const cJSON *source, const char *id)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(source, "topics"))
    {
        const cJSON *tid = cJSON_GetObjectItemCaseSensitive(t, "id");
        if (cJSON_IsString(tid) && !strcmp(tid->valuestring, id))
            return t;
    }
    return NULL;
}

/* 1 when topic t has a quiz question whose id is id. */
static int has_question(const cJSON *t, const char *id)
{
    const cJSON *q;
    cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(t, "quiz"), "questions"))
    {
        const cJSON *qid = cJSON_GetObjectItemCaseSensitive(q, "id");
        if (cJSON_IsString(qid) && !strcmp(qid->valuestring, id))
            return 1;
    }
    return 0;
}

/* 1 when s is a field name: 1 to 64 of letters, digits, '_', '.', '[', ']', '-'. */
static int field_name(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("_.[]-", *s)))
            return 0;
    return 1;
}

/* Checks one comment c (index i) against the draft's source and adds it, as stored, to
 * keep. 0, 400 with msg set, or 503. A plain string is a general comment. */
static int parse_comment(const cJSON *c, int i, const cJSON *source, cJSON *keep,
                         struct kk_buf *msg)
{
    const cJSON *text = cJSON_IsString(c) ? c : cJSON_GetObjectItemCaseSensitive(c, "text");
    const cJSON *topic = NULL, *page = NULL, *question = NULL, *field = NULL, *file = NULL;
    const cJSON *t = NULL;
    if (!cJSON_IsString(c) && !cJSON_IsObject(c)) {
        kk_fail(msg, KK_ERR_INVALID,
                "comments[%d]: must be a string or {\"topic\",\"page\"|\"question\",\"field\","
                "\"text\"}",
                i);
        return 400;
    }
    if (cJSON_IsObject(c)) {
        topic = cJSON_GetObjectItemCaseSensitive(c, "topic");
        page = cJSON_GetObjectItemCaseSensitive(c, "page");
        question = cJSON_GetObjectItemCaseSensitive(c, "question");
        field = cJSON_GetObjectItemCaseSensitive(c, "field");
        file = cJSON_GetObjectItemCaseSensitive(c, "file");
    }
    if (!cJSON_IsString(text) || !text->valuestring[0] ||
        strlen(text->valuestring) > MAX_COMMENT_TEXT) {
        kk_fail(msg, KK_ERR_INVALID, "comments[%d].text: must be a string of 1 to %d bytes", i,
                MAX_COMMENT_TEXT);
        return 400;
    }
    if (topic && !cJSON_IsNull(topic)) {
        if (!cJSON_IsString(topic) || !(t = find_topic(source, topic->valuestring))) {
            kk_fail(msg, KK_ERR_INVALID, "comments[%d].topic: the draft has no topic %.80s", i,
                    cJSON_IsString(topic) ? topic->valuestring : "(not a string)");
            return 400;
        }
    } else if (cJSON_IsString(file) &&
               (t = cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(source, "topics"), file->valuestring)) &&
               cJSON_IsString(cJSON_GetObjectItemCaseSensitive(t, "id"))) {
        /* An older caller names the topic by its file. */
        topic = cJSON_GetObjectItemCaseSensitive(t, "id");
    } else if ((page && !cJSON_IsNull(page)) || (question && !cJSON_IsNull(question))) {
        kk_fail(msg, KK_ERR_INVALID, "comments[%d]: a page or question needs its \"topic\"", i);
        return 400;
    }
    if (!cJSON_IsString(topic))
        t = NULL;
    const char *tid = t ? topic->valuestring : "";
    if (page && !cJSON_IsNull(page)) {
        int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t, "pages"));
        if (!cJSON_IsNumber(page) || page->valuedouble < 0 || page->valuedouble >= n ||
            page->valuedouble != (double)(int)page->valuedouble) {
            kk_fail(msg, KK_ERR_INVALID,
                    "comments[%d].page: topic %s has pages 0 to %d (0-based), not %g", i, tid,
                    n - 1, cJSON_IsNumber(page) ? page->valuedouble : -1.0);
            return 400;
        }
    }
    if (question && !cJSON_IsNull(question) &&
        (!cJSON_IsString(question) || !has_question(t, question->valuestring))) {
        kk_fail(msg, KK_ERR_INVALID, "comments[%d].question: topic %s has no question %.80s", i,
                tid, cJSON_IsString(question) ? question->valuestring : "(not a string)");
        return 400;
    }
    if (page && question && !cJSON_IsNull(page) && !cJSON_IsNull(question)) {
        kk_fail(msg, KK_ERR_INVALID, "comments[%d]: name a page or a question, not both", i);
        return 400;
    }
    if (field && !cJSON_IsNull(field) &&
        (!cJSON_IsString(field) || !field_name(field->valuestring))) {
        kk_fail(msg, KK_ERR_INVALID,
                "comments[%d].field: must be a field name such as title, text, image or"
                " choices (at most 64 letters, digits, _ . [ ])",
                i);
        return 400;
    }
    if (file && !cJSON_IsNull(file) &&
        (!cJSON_IsString(file) || strlen(file->valuestring) > MAX_COMMENT_FIELD)) {
        kk_fail(msg, KK_ERR_INVALID, "comments[%d].file: must be a path of at most %d bytes", i,
                MAX_COMMENT_FIELD);
        return 400;
    }
    cJSON *k = cJSON_CreateObject();
    if (!k || !cJSON_AddItemToArray(keep, k) ||
        (t && !cJSON_AddStringToObject(k, "topic", topic->valuestring)) ||
        (page && cJSON_IsNumber(page) && !cJSON_AddNumberToObject(k, "page", page->valuedouble)) ||
        (question && cJSON_IsString(question) &&
         !cJSON_AddStringToObject(k, "question", question->valuestring)) ||
        (field && cJSON_IsString(field) &&
         !cJSON_AddStringToObject(k, "field", field->valuestring)) ||
        (file && cJSON_IsString(file) && !cJSON_AddStringToObject(k, "file", file->valuestring)) ||
        !cJSON_AddStringToObject(k, "text", text->valuestring)) {
        kk_fail(msg, KK_ERR_NOMEM, "out of memory");
        return 503;
    }
    return 0;
}

/* Checks a request's comments against the draft's source and writes them, as stored
 * (each with who, revision and at_ms: the review round), into *out (cJSON_free it) and
 * their count into *n: 0, or 400 with msg set. */
static int parse_comments(const cJSON *root, const cJSON *source, const char *who, int64_t revision,
                          int64_t at_ms, char **out, int *n, struct kk_buf *msg)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "comments"), *c;
    cJSON *keep = NULL, *k;
    int i = 0, status;
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 ||
        cJSON_GetArraySize(list) > MAX_COMMENTS) {
        kk_fail(msg, KK_ERR_INVALID,
                "comments: must be an array of 1 to %d comments, each a string or"
                " {\"topic\",\"page\"|\"question\",\"field\",\"text\"}",
                MAX_COMMENTS);
        return 400;
    }
    if (!(keep = cJSON_CreateArray()))
        goto nomem;
    cJSON_ArrayForEach(c, list)
    {
        if ((status = parse_comment(c, i, source, keep, msg)))
            goto fail;
        i++;
    }
    cJSON_ArrayForEach(k, keep)
    {
        if (!cJSON_AddStringToObject(k, "who", who) ||
            !cJSON_AddNumberToObject(k, "revision", (double)revision) ||
            !cJSON_AddNumberToObject(k, "at_ms", (double)at_ms))
            goto nomem;
    }
    if (!(*out = cJSON_PrintUnformatted(keep)))
        goto nomem;
    *n = i;
    cJSON_Delete(keep);
    return 0;
nomem:
    status = 503;
    kk_fail(msg, KK_ERR_NOMEM, "out of memory");
fail:
    cJSON_Delete(keep);
    return status;
}

void srv_review_request_changes(struct srv_req *req, struct srv_reply *out)
{
    struct srv_draft d;
    struct kk_buf msg = KK_BUF_INIT, detail = KK_BUF_INIT;
    cJSON *root = NULL;
    char *comments = NULL;
    int status, n;
    if (!office_only(req, out, "request changes"))
        return;
    if (!srv_draft_load(req, out, 0, &d))
        return;
    if (!(root = srv_req_json(req, out)))
        goto done;
    if ((status = parse_comments(root, d.source, req->who, d.head, kk_clock_wall_ms(), &comments,
                                 &n, &msg))) {
        srv_reply_error(out, status, "%s", kk_buf_str(&msg));
        goto done;
    }
    struct srv_draft_step st = {.id = d.id,
                                .from = "in_review|approved",
                                .to = "changes_requested",
                                .who = req->who,
                                .comments = comments};
    if (take_step(req, out, &st, "changes can be requested of a draft in review or approved") > 0) {
        const cJSON *first =
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "comments"), 0);
        const cJSON *ft =
            cJSON_IsString(first) ? first : cJSON_GetObjectItemCaseSensitive(first, "text");
        kk_buf_addf(&detail, "revision %lld: %d comment(s): %.200s", (long long)d.head, n,
                    ft->valuestring);
        srv_drafts_audit(req, "draft.request_changes", d.id, kk_buf_str(&detail), d.venue, d.pack);
        answer_state(out, d.id, "changes_requested", d.head, NULL);
    }
done:
    cJSON_Delete(root);
    cJSON_free(comments);
    kk_buf_release(&msg);
    kk_buf_release(&detail);
    srv_draft_release(&d);
}

/* --- publish ------------------------------------------------------------------------------ */

/* Builds the approved revision ar (published as version) into the new folder built,
 * through the source folder src, signed with key. 0, or the status with out answered
 * (422 with the validation messages when it has errors). */
static int build_revision(struct srv_req *req, struct srv_reply *out, const struct srv_draft *ar,
                          const char *version, const char *src, const char *built,
                          const struct kk_seckey *key)
{
    struct kk_buf err = KK_BUF_INIT;
    size_t errors = 0;
    int status = 0;
    cJSON *messages = NULL;
    if (srv_draft_write(req->store->data_dir, ar, version, src, &err)) {
        kk_error("review", "publish %s: %s", ar->id, kk_buf_str(&err));
        srv_reply_error(out, status = 503, "cannot write the approved revision out");
        goto done;
    }
    /* A pack with errors is never signed (as kepu-pack build refuses it). */
    if (!(messages = srv_drafts_check_dir(src, &errors))) {
        srv_reply_error(out, status = 503, "out of memory");
        goto done;
    }
    if (errors) {
        cJSON *a = cJSON_CreateObject();
        char line[160];
        snprintf(line, sizeof(line),
                 "draft %s: revision %lld does not pass validation; nothing"
                 " was published",
                 ar->id, (long long)ar->revision);
        if (a && cJSON_AddStringToObject(a, "error", line)) {
            cJSON_AddItemToObject(a, "messages", messages);
            messages = NULL;
        }
        srv_reply_json(out, status = 422, a);
        goto done;
    }
    if (kk_manifest_build(src, built, key, &err)) {
        kk_error("review", "publish %s: %s", ar->id, kk_buf_str(&err));
        srv_reply_error(out, status = 422, "cannot build the approved revision: %s",
                        kk_buf_str(&err));
    }
done:
    cJSON_Delete(messages);
    kk_buf_release(&err);
    return status;
}

/* The first difference between the uploaded manifest up and the one expected, written
 * into msg; 0 when they list the same pack, version and files. */
static int manifest_differs(const struct kk_manifest *up, const struct kk_manifest *want,
                            int64_t revision, struct kk_buf *msg)
{
    if (strcmp(up->id, want->id)) {
        kk_buf_addf(msg, "MANIFEST.json: pack %s, but the draft is pack %s", up->id, want->id);
        return 1;
    }
    if (strcmp(up->version, want->version)) {
        kk_buf_addf(msg,
                    "MANIFEST.json: version %s, but approved revision %lld is published as %s"
                    " (build the export of the approved revision)",
                    up->version, (long long)revision, want->version);
        return 1;
    }
    size_t i = 0, j = 0;
    while (i < up->nfiles || j < want->nfiles) {
        int c = i == up->nfiles     ? 1
                : j == want->nfiles ? -1
                                    : strcmp(up->files[i].path, want->files[j].path);
        if (c < 0) {
            kk_buf_addf(msg, "%s: not in approved revision %lld", up->files[i].path,
                        (long long)revision);
            return 1;
        }
        if (c > 0) {
            kk_buf_addf(msg, "%s: in approved revision %lld but missing from the upload",
                        want->files[j].path, (long long)revision);
            return 1;
        }
        if (up->files[i].size != want->files[j].size ||
            memcmp(up->files[i].sha256, want->files[j].sha256, 32)) {
            kk_buf_addf(msg, "%s: differs from approved revision %lld", up->files[i].path,
                        (long long)revision);
            return 1;
        }
        i++;
        j++;
    }
    return 0;
}

/* Reads and parses the MANIFEST.json of built folder dir (no signature check: it is one
 * we just built). */
static enum kk_err read_manifest(const char *dir, struct kk_manifest **m, struct kk_buf *err)
{
    struct kk_buf text = KK_BUF_INIT;
    char *path = kk_path_join(dir, KK_MANIFEST_FILE);
    enum kk_err rc = path ? kk_file_read(path, KK_MAX_JSON_FILE_BYTES, &text, err) : KK_ERR_NOMEM;
    if (!rc)
        rc = kk_manifest_parse(text.data ? text.data : "", text.len, m, err);
    kk_free(path);
    kk_buf_release(&text);
    return rc;
}

/* An offline-signed upload (the body): checked like a kiosk checks a bundle against the
 * trusted keys, then against the approved revision ar file by file. Returns the
 * verified manifest (root: its folder) or NULL with out answered. */
static struct kk_manifest *offline_pack(struct srv_req *req, struct srv_reply *out,
                                        const struct srv_draft *ar, const char *version,
                                        const char *top, char **root)
{
    struct kk_buf err = KK_BUF_INIT, msg = KK_BUF_INIT;
    struct kk_manifest *m = NULL, *want = NULL;
    const struct kk_pubkey *keys;
    size_t nkeys = srv_pack_keys(&keys);
    char *scratch = kk_path_join(top, "upload"), *tree = kk_path_join(top, "tree");
    char *src = kk_path_join(top, "expect-src"), *built = kk_path_join(top, "expect");
    *root = NULL;
    if (!scratch || !tree || !src || !built) {
        srv_reply_error(out, 503, "out of memory");
        goto fail;
    }
    enum kk_err rc = srv_tar_unpack(req->body.data, req->body.len, scratch, tree, &err);
    if (rc) {
        srv_reply_error(out, rc == KK_ERR_IO || rc == KK_ERR_NOMEM ? 503 : 422,
                        "signed pack refused: %s", kk_buf_str(&err));
        goto fail;
    }
    if (!(*root = srv_drafts_find_root(tree, KK_MANIFEST_FILE))) {
        srv_reply_error(out, 422,
                        "signed pack refused: no MANIFEST.json at the top or in one"
                        " folder (upload a built pack or its .kpk)");
        goto fail;
    }
    if (!nkeys) {
        srv_reply_error(out, 409, "signed pack refused: the server trusts no pack key");
        goto fail;
    }
    if ((rc = kk_manifest_verify(*root, keys, nkeys, &m, &err))) {
        /* Messages may name the temporary folder: show only the part inside the pack. */
        const char *e = kk_buf_str(&err);
        size_t rl = strlen(*root);
        if (!strncmp(e, *root, rl) && e[rl] == '/')
            e += rl + 1;
        srv_reply_error(out, rc == KK_ERR_IO || rc == KK_ERR_NOMEM ? 503 : 422,
                        "signed pack refused: %s", e);
        goto fail;
    }
    /* The expected manifest: the approved revision built by the same code with a key of
     * the moment (the signature is not compared, only the files). */
    struct kk_seckey scratch_key;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    crypto_sign_keypair(pk, scratch_key.key);
    int status = build_revision(req, out, ar, version, src, built, &scratch_key);
    sodium_memzero(&scratch_key, sizeof(scratch_key));
    if (status)
        goto fail;
    if (read_manifest(built, &want, &err)) {
        srv_reply_error(out, 503, "cannot read the expected manifest");
        goto fail;
    }
    if (manifest_differs(m, want, ar->revision, &msg)) {
        srv_reply_error(out, 422, "signed pack refused: %s; nothing was published",
                        kk_buf_str(&msg));
        goto fail;
    }
    kk_manifest_destroy(want);
    kk_free(scratch);
    kk_free(tree);
    kk_free(src);
    kk_free(built);
    kk_buf_release(&err);
    kk_buf_release(&msg);
    return m;
fail:
    kk_manifest_destroy(m);
    kk_manifest_destroy(want);
    kk_free(*root);
    *root = NULL;
    kk_free(scratch);
    kk_free(tree);
    kk_free(src);
    kk_free(built);
    kk_buf_release(&err);
    kk_buf_release(&msg);
    return NULL;
}

void srv_review_publish(struct srv_req *req, struct srv_reply *out)
{
    struct srv_draft d, ar;
    struct kk_buf err = KK_BUF_INIT, detail = KK_BUF_INIT;
    struct kk_manifest *m = NULL;
    char *top = NULL, *src = NULL, *built = NULL, *root = NULL;
    char fp[17] = "";
    int have_ar = 0, offline = req->body.len > 0;
    if (!office_only(req, out, "publish"))
        return;
    if (!srv_draft_load(req, out, 0, &d))
        return;
    if (!d.state || strcmp(d.state, "approved") || !d.approved || !d.version) {
        srv_reply_error(out, 409, "draft %s is %s; only an approved draft can be published", d.id,
                        d.state ? d.state : "draft");
        goto done;
    }
    /* Checked before anything is written: without the key nothing is half-published. */
    if (!offline && !signing) {
        srv_reply_error(out, 409,
                        "publishing needs the alliance signing key: start kepu-server with"
                        " --signing-key FILE, or upload the pack signed offline to this call"
                        " (docs/review.md); nothing was published");
        goto done;
    }
    if (!(have_ar = srv_draft_load(req, out, d.approved, &ar)))
        goto done;
    top = srv_drafts_scratch(req, "publish");
    src = top ? kk_path_join(top, "src") : NULL;
    built = top ? kk_path_join(top, "built") : NULL;
    if (!src || !built || kk_mkdirs(top, 0700, &err)) {
        kk_error("review", "publish %s: %s", d.id, kk_buf_str(&err));
        srv_reply_error(out, 503, "cannot write the pack to disk");
        goto done;
    }
    if (offline) {
        if (!(m = offline_pack(req, out, &ar, d.version, top, &root)))
            goto done;
    } else {
        if (build_revision(req, out, &ar, d.version, src, built, signing))
            goto done;
        const struct kk_pubkey *keys;
        size_t nkeys = srv_pack_keys(&keys);
        /* The check a kiosk makes, on what we just built (the key must be trusted). */
        if (kk_manifest_verify(built, keys, nkeys, &m, &err)) {
            kk_error("review", "publish %s: %s", d.id, kk_buf_str(&err));
            srv_reply_error(out, 500, "the pack built does not verify with the trusted keys: %s",
                            kk_buf_str(&err));
            goto done;
        }
        signing_fingerprint(fp);
    }
    kk_buf_reset(&err);
    enum kk_err rc = srv_pack_store_dir(req->store, offline ? root : built, m, &err);
    if (rc == KK_ERR_EXISTS) {
        /* The reserved version was taken meanwhile (kepu-server pack add): a new approval
         * reserves the next one. */
        srv_reply_error(out, 409, "%s; request changes and approve it again for a new version",
                        kk_buf_str(&err));
        goto done;
    }
    if (rc) {
        kk_error("review", "publish %s: %s", d.id, kk_buf_str(&err));
        srv_reply_error(out, 503, "cannot store the pack");
        goto done;
    }
    struct srv_draft_step st = {
        .id = d.id, .from = "approved", .to = "published", .who = req->who, .version = m->version};
    if (take_step(req, out, &st, "only an approved draft can be published") <= 0)
        goto done;
    kk_buf_addf(&detail, "%s@%s manifest %s; revision %lld approved by %s; signed %s%s", m->id,
                m->version, m->sha256, (long long)ar.revision, d.approved_by ? d.approved_by : "?",
                offline ? "offline" : "on the server, key ", fp);
    srv_drafts_audit(req, "draft.publish", d.id, kk_buf_str(&detail), d.venue, d.pack);
    cJSON *a = cJSON_CreateObject();
    if (a && (!cJSON_AddStringToObject(a, "draft", d.id) ||
              !cJSON_AddStringToObject(a, "state", "published") ||
              !cJSON_AddStringToObject(a, "pack", m->id) ||
              !cJSON_AddStringToObject(a, "version", m->version) ||
              !cJSON_AddStringToObject(a, "manifest_sha256", m->sha256) ||
              !cJSON_AddNumberToObject(a, "revision", (double)ar.revision) ||
              !cJSON_AddStringToObject(a, "approved_by", d.approved_by ? d.approved_by : "") ||
              !cJSON_AddStringToObject(a, "signed", offline ? "offline" : "server"))) {
        cJSON_Delete(a);
        a = NULL;
    }
    srv_reply_json(out, 200, a);
    kk_info("review", "%s published draft %s as %s@%s (manifest %s)", req->who, d.id, m->id,
            m->version, m->sha256);
done:
    if (top)
        kk_remove_tree(top, NULL);
    kk_manifest_destroy(m);
    kk_free(top);
    kk_free(src);
    kk_free(built);
    kk_free(root);
    if (have_ar)
        srv_draft_release(&ar);
    srv_draft_release(&d);
    kk_buf_release(&err);
    kk_buf_release(&detail);
}

/* --- a staff upload ---------------------------------------------------------------------- */

void srv_review_pack_upload(struct srv_req *req, struct srv_reply *out)
{
    const char *data_dir = req->store->data_dir;
    const struct kk_pubkey *trusted;
    size_t ntrusted = srv_pack_keys(&trusted);
    struct kk_buf err = KK_BUF_INIT, tmp = KK_BUF_INIT;
    struct kk_manifest *m = NULL;
    char *kpk = NULL, *dest = NULL, *top = NULL;
    char name[33], did[18];
    /* Every version kiosks may get goes through the review: an office user publishes a
     * draft (docs/review.md), a staff upload becomes one. */
    if (strcmp(req->role, "staff")) {
        srv_reply_error(out, 403,
                        "office users publish an approved draft: POST /api/v1/drafts/{id}/publish"
                        " (docs/review.md)");
        return;
    }
    if (!ntrusted) {
        srv_reply_error(out, 503, "no trusted pack keys are configured on the server");
        return;
    }
    if (!req->body.len) {
        srv_reply_error(out, 400, "body: empty; upload a .kpk bundle");
        return;
    }
    kk_random_hex(name, 16);
    if (kk_buf_addf(&tmp, "%s/tmp/upload-%s", data_dir, name) ||
        !(kpk = kk_path_join(kk_buf_str(&tmp), "pack.kpk")) ||
        !(dest = kk_path_join(kk_buf_str(&tmp), "pack"))) {
        srv_reply_error(out, 500, "out of memory");
        goto done;
    }
    top = kk_strdup(kk_buf_str(&tmp));
    if (!top || kk_mkdirs(top, 0700, &err) ||
        kk_file_write_atomic(kpk, req->body.data, req->body.len, &err)) {
        kk_error("packs", "%s", kk_buf_str(&err));
        srv_reply_error(out, 503, "cannot write the upload to disk");
        goto done;
    }
    enum kk_err rc = kk_bundle_read(kpk, dest, trusted, ntrusted, &m, &err);
    if (rc) {
        /* Messages name the bundle by its temporary path: show only what follows it. */
        const char *msg = kk_buf_str(&err);
        const char *rel = strstr(msg, "pack.kpk: ");
        srv_reply_error(out, rc == KK_ERR_NOMEM || rc == KK_ERR_IO ? 503 : 422, "pack refused: %s",
                        rel ? rel + 10 : msg);
        goto done;
    }
    /* A staff upload is checked like a kiosk checks it, then becomes a draft in review:
     * never a published version. */
    struct kk_buf note = KK_BUF_INIT;
    kk_buf_addf(&note, "uploaded %s@%s (manifest %.16s…) for review", m->id, m->version, m->sha256);
    if (srv_drafts_import_folder(req, out, dest, "in_review", 202, kk_buf_str(&note), did)) {
        srv_drafts_audit(req, "draft.submit", did, "revision 1 (an uploaded pack)", NULL, m->id);
        kk_info("packs", "%s uploaded %s@%s (%zu files) for review as draft %s", req->who, m->id,
                m->version, m->nfiles, did);
    }
    kk_buf_release(&note);
done:
    if (top)
        kk_remove_tree(top, NULL);
    kk_manifest_destroy(m);
    kk_free(kpk);
    kk_free(dest);
    kk_free(top);
    kk_buf_release(&err);
    kk_buf_release(&tmp);
}

/* --- the inbox --------------------------------------------------------------------------- */

void srv_review_inbox(struct srv_req *req, struct srv_reply *out)
{
    struct srv_table t = {0}, mine = {0};
    struct kk_buf err = KK_BUF_INIT;
    int office = is_office(req);
    cJSON *a = cJSON_CreateObject(), *list = a ? cJSON_AddArrayToObject(a, "drafts") : NULL;
    if (!list) {
        srv_reply_error(out, 503, "out of memory");
        goto done;
    }
    if (srv_store_draft_list(req->store, &t, &err) ||
        (!office && srv_store_user_venues(req->store, req->who, &mine, &err))) {
        kk_error("inbox", "%s", kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
        goto done;
    }
    /* Office: what waits for them (in review, approved but not published). Staff: their
     * venues' drafts with changes requested. */
    for (size_t r = 0; r < t.nrows; r++) {
        const struct srv_cell *c = &t.cells[r * t.ncolumns];
        const char *state = c[3].kind == SRV_CELL_TEXT ? c[3].s : "";
        const char *venue = c[2].kind == SRV_CELL_TEXT ? c[2].s : NULL;
        int want = office ? !strcmp(state, "in_review") || !strcmp(state, "approved")
                          : !strcmp(state, "changes_requested");
        if (want && !office) {
            want = 0;
            for (size_t m = 0; venue && m < mine.nrows; m++)
                want |= mine.cells[m].kind == SRV_CELL_TEXT && !strcmp(mine.cells[m].s, venue);
        }
        if (!want)
            continue;
        cJSON *o = cJSON_CreateObject();
        enum kk_err jrc;
        cJSON *comments = c[12].kind == SRV_CELL_TEXT ? kk_json_parse(c[12].s, &jrc) : NULL;
        if (!o || !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            cJSON_Delete(comments);
            srv_reply_error(out, 503, "out of memory");
            goto done;
        }
        cJSON_AddStringToObject(o, "id", c[0].s);
        cJSON_AddStringToObject(o, "pack", c[1].s);
        if (venue)
            cJSON_AddStringToObject(o, "venue", venue);
        else
            cJSON_AddNullToObject(o, "venue");
        cJSON_AddStringToObject(o, "state", state);
        cJSON_AddNumberToObject(o, "revision", (double)c[6].i);
        cJSON_AddNumberToObject(o, "updated_ms", (double)c[7].i);
        cJSON_AddStringToObject(o, "updated_by", c[8].kind == SRV_CELL_TEXT ? c[8].s : "");
        if (!strcmp(state, "changes_requested") && comments)
            cJSON_AddItemToObject(o, "comments", comments);
        else
            cJSON_Delete(comments);
    }
    cJSON_AddNumberToObject(a, "count", cJSON_GetArraySize(list));
    cJSON_AddStringToObject(a, "role", office ? "office" : "staff");
    srv_reply_json(out, 200, a);
    a = NULL;
done:
    cJSON_Delete(a);
    srv_table_release(&t);
    srv_table_release(&mine);
    kk_buf_release(&err);
}
