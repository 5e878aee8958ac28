/* The review of drafts (issue 16, docs/review.md): a draft's life
 *   draft → in_review → (changes_requested → draft …) → approved → published
 * over POST /api/v1/drafts/{id}/submit, /approve, /request-changes and /publish, and
 * GET /api/v1/inbox. Staff submit the drafts of their venues; office users approve,
 * request changes and publish, and nobody approves a draft they saved a revision of
 * since its last approval (403, and the refused try is in the audit log). Publishing
 * builds the approved revision with the core's kk_manifest_build and signs it with the
 * alliance key the server holds (serve --signing-key), or takes a pack signed offline
 * that holds exactly the approved revision; either way it is stored as an uploaded pack
 * is and gets the next version number (YYYY.MM.N). Every step is in the audit log. */
#ifndef SRV_REVIEW_H
#define SRV_REVIEW_H

#include "kepu/manifest.h"
#include "srv_http.h"

/* The alliance signing key publishing uses (copied; NULL: none, publishing on the server
 * answers 409). Set once at start-up, before serving. */
void srv_review_set_key(const struct kk_seckey *key);
/* The first 16 hex digits of the public half of key, for logs and the audit log. */
void srv_review_key_fingerprint(const struct kk_pubkey *pub, char out[17]);

/* The version after those in versions (n strings) for a pack published at now_ms: the
 * city's year and month, and one more than the highest N of "YYYY.MM.N" among them
 * (1 for the first that month). out holds at least 32 bytes. */
void srv_review_next_version(const char *const *versions, size_t n, int64_t now_ms, char out[32]);

void srv_review_submit(struct srv_req *req, struct srv_reply *out);
void srv_review_approve(struct srv_req *req, struct srv_reply *out);
void srv_review_request_changes(struct srv_req *req, struct srv_reply *out);
void srv_review_publish(struct srv_req *req, struct srv_reply *out);
/* POST /api/v1/packs: a staff upload, checked like a kiosk checks it, becomes a draft in
 * review (202 {"draft","pack","revision","state":"in_review"}); office users get 403. */
void srv_review_pack_upload(struct srv_req *req, struct srv_reply *out);
void srv_review_inbox(struct srv_req *req, struct srv_reply *out);

#endif
