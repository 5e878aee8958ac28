/* Enrolment of a new kiosk (docs/deploy.md): with the one-time code `kepu-server kiosk
 * enrol` printed, fetch the kiosk's id, token and the trusted signing keys from the server
 * (POST URL/api/v1/enrol) and write them where kiosk.conf says, so nobody types or copies
 * a secret. */
#ifndef KEPU_ENROL_H
#define KEPU_ENROL_H

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/limits.h"

struct kk_enrol_opts {
    const char *url;         /* the server, http:// or https://, without /api/... */
    const char *code;        /* as printed, XXXX-XXXX-XXXX (case, dashes and spaces free) */
    const char *config_path; /* kiosk.conf to create or update */
    const char *state_dir;   /* the token file goes here (state_dir/token, mode 0600) */
    const char *keys_dir;    /* the keys go here (server-N.pub); NULL: config's folder/keys */
    const char *ca_file;     /* NULL or "": the system's CAs */
    long timeout_s;          /* the whole request; 0: 30 s */
};

struct kk_enrol_result {
    char kiosk_id[KK_MAX_ID_LEN + 1];
    char venue[KK_MAX_ID_LEN + 1];
    size_t nkeys;
};

/* Runs the enrolment. Writes, each atomically (a power cut leaves the old file or the new
 * one): the token file, the key files, then kiosk.conf with kiosk_id, server_url,
 * token_file and trusted_keys set (its other lines and comments kept; created when
 * missing). When run as root, the token file is given to the owner of state_dir (the
 * kiosk's user). Nothing is written unless the server's answer is complete and valid.
 * Errors: KK_ERR_INVALID (bad URL or code, the server refused the code: err has its
 * reason), KK_ERR_NET (no answer, or an unusable one), KK_ERR_IO, KK_ERR_PERM, KK_ERR_NOMEM.
 * res is filled on success. */
enum kk_err kk_enrol_run(const struct kk_enrol_opts *o, struct kk_enrol_result *res,
                         struct kk_buf *err);

#endif
