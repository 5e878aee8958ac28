/* The content studio's drafts over HTTP (docs/studio.md): import a pack as a draft, read
 * and save it as source JSON with every revision kept (a save on a stale revision is
 * refused with what changed), upload pictures, validate with the core's own pack parser,
 * export the source folder as a tar.gz, list, restore and compare revisions (the audit
 * log they write is read by GET /api/v1/audit in srv_api.c). Staff see only the drafts of
 * their venues; office users see all. The routes are SRV_EDITOR (office session or staff
 * token) and are listed in srv_api.c. */
#ifndef SRV_DRAFTS_H
#define SRV_DRAFTS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "srv_http.h"

#define SRV_MAX_DRAFT_IMPORT (64u * 1024 * 1024) /* one uploaded tar, tar.gz or .kpk */
#define SRV_MAX_DRAFT_SAVE   (8u * 1024 * 1024)  /* one PUT's JSON */
#define SRV_MAX_DRAFT_NOTE   500                 /* bytes of a revision's note */

void srv_drafts_import(struct srv_req *req, struct srv_reply *out);
void srv_drafts_list(struct srv_req *req, struct srv_reply *out);
void srv_drafts_get(struct srv_req *req, struct srv_reply *out);
void srv_drafts_put(struct srv_req *req, struct srv_reply *out);
void srv_drafts_file(struct srv_req *req, struct srv_reply *out);
void srv_drafts_validate(struct srv_req *req, struct srv_reply *out);
void srv_drafts_export(struct srv_req *req, struct srv_reply *out);
void srv_drafts_revisions(struct srv_req *req, struct srv_reply *out);
void srv_drafts_restore(struct srv_req *req, struct srv_reply *out);
void srv_drafts_diff(struct srv_req *req, struct srv_reply *out);
/* The studio's editor: POST …/validate checks the body's {"source"} (unsaved text, files
 * optional as for PUT) exactly as GET …/validate checks a revision, storing nothing; GET
 * …/files?path=P[&revision=N] answers a stored picture's bytes. */
void srv_drafts_check(struct srv_req *req, struct srv_reply *out);
void srv_drafts_file_get(struct srv_req *req, struct srv_reply *out);

/* One stored revision of a draft, as srv_draft_load reads it (strings point into t). */
struct srv_draft {
    struct srv_table t;
    const char *id, *pack, *venue, *state, *who, *note;
    int64_t revision, at_ms, head;
    int64_t approved;                             /* the revision last approved, 0 for none */
    const char *approved_by, *version, *comments; /* NULL when none */
    cJSON *source;                                /* {"pack":{…},"topics":{…}} */
    cJSON *files;                                 /* {"path":"sha256",…} */
};

/* Loads revision number (0: the latest) of the draft named by req->params[0], checking
 * the caller may see it. 1 on success (release d with srv_draft_release); otherwise 0
 * with out holding the answer (400, 403, 404, 500, 503) and d released. */
int srv_draft_load(struct srv_req *req, struct srv_reply *out, int64_t number, struct srv_draft *d);
void srv_draft_release(struct srv_draft *d);

/* Writes d's source folder into the new folder dir, pack.json saying version instead of
 * its own when version is not NULL (exactly the bytes GET …/export gives). */
enum kk_err srv_draft_write(const char *data_dir, const struct srv_draft *d, const char *version,
                            const char *dir, struct kk_buf *err);

/* Records one row of the audit log as req's caller (a failure is logged, not answered). */
void srv_drafts_audit(struct srv_req *req, const char *what, const char *target, const char *detail,
                      const char *venue, const char *pack);

/* Makes a new draft of the pack folder root (a source or built folder, read as POST
 * …/import reads the archive's), in state ("draft" or "in_review"), with the venue from
 * ?venue= as for import. Answers 201 (or status when not 0) {"draft","pack","revision",
 * "state"} or the error; returns 1 when the draft was made, with its id in did. */
int srv_drafts_import_folder(struct srv_req *req, struct srv_reply *out, const char *root,
                             const char *state, int status, const char *note, char did[18]);

/* A scratch folder name under DATA/tmp, what-RANDOM (kk_free it), or NULL. */
char *srv_drafts_scratch(struct srv_req *req, const char *what);
/* The folder under tree holding the file marker (pack.json for a source form,
 * MANIFEST.json for a built pack): tree itself or its only subfolder; NULL when neither
 * holds it. Free with kk_free. */
char *srv_drafts_find_root(const char *tree, const char *marker);

/* For other studio calls on a draft (the preview worker): loads revision (0: the latest)
 * of the draft named by req->params[0], checking the caller may see it, and writes its
 * source folder (pack.json, topics, pictures) into the new folder dir, which the caller
 * removes. Returns 1 with *pack_id the draft's pack id (kk_free it); otherwise 0 with out
 * holding the answer to send (404, 403, 503) and *pack_id NULL. */
int srv_drafts_checkout(struct srv_req *req, struct srv_reply *out, int64_t revision,
                        const char *dir, char **pack_id);

/* The pack parser's messages on the source folder dir, as GET .../validate answers them
 * (an array of {"file","field","severity","message"}; NULL when out of memory), with
 * *errors the number of errors among them. */
cJSON *srv_drafts_check_dir(const char *dir, size_t *errors);

/* Why an SVG document (data[0..len)) may not go on a kiosk, or NULL when it may: a
 * <script> or <foreignObject> element, an on...= event attribute, or a reference to
 * anything outside itself (href, xlink:href, url(...) or @import not naming a "#" part
 * of the same file). The result is a static string. */
const char *srv_svg_problem(const char *data, size_t len);

#endif
