/* Enrolment of new kiosks with one-time codes, and revocation (issue 18, issue 11): the
 * code helpers the command line shares with the HTTP handlers, and the handlers of
 * POST /api/v1/enrol and the office's /api/v1/admin/... routes (rows in srv_api.c). */
#ifndef SRV_ADMIN_H
#define SRV_ADMIN_H

#include <stddef.h>

#include "srv_auth.h"
#include "srv_http.h"

/* A code is 12 characters of an alphabet without look-alikes (I, O, 0, 1), 60 random
 * bits, shown as XXXX-XXXX-XXXX; what a person types may have any case and any dashes or
 * spaces. */
#define SRV_ENROL_CODE_LEN 14 /* with the two dashes */
/* How long a code stays usable unless told otherwise (kiosk enrol --valid-minutes). */
#define SRV_ENROL_DEFAULT_MIN (24 * 60)

/* Writes a new random code, XXXX-XXXX-XXXX and a NUL, into out. */
void srv_enrol_code_new(char out[SRV_ENROL_CODE_LEN + 1]);
/* Writes the hash the store keeps for code (normalised first) into hash. Returns 0, or -1
 * when code is not 12 characters of the alphabet after removing dashes and spaces. */
int srv_enrol_code_hash(const char *code, char hash[SRV_HASH_LEN + 1]);
/* Writes a new kiosk id, "k-" and 8 random hex digits, into out. */
void srv_enrol_kiosk_id(char out[11]);

/* POST /api/v1/enrol {"code"}: anyone with a valid code gets
 * {"kiosk","venue","token","trusted_keys":[base64 ed25519 keys]}; 400 for a malformed code,
 * 404 for an unknown one, 410 for a used or expired one. */
void srv_admin_enrol(struct srv_req *req, struct srv_reply *out);
/* GET /api/v1/admin/kiosks and /api/v1/admin/users: the lists of the admin page. */
void srv_admin_kiosks(struct srv_req *req, struct srv_reply *out);
void srv_admin_users(struct srv_req *req, struct srv_reply *out);
/* POST /api/v1/admin/kiosks/ID/revoke; .../rotate answers {"token"}. */
void srv_admin_kiosk_revoke(struct srv_req *req, struct srv_reply *out);
void srv_admin_kiosk_rotate(struct srv_req *req, struct srv_reply *out);
/* POST /api/v1/admin/users/NAME/remove; .../passwd {"password"} (8 to 256 bytes). Both
 * end that user's sessions; an office user cannot remove itself. */
void srv_admin_user_remove(struct srv_req *req, struct srv_reply *out);
void srv_admin_user_passwd(struct srv_req *req, struct srv_reply *out);
/* POST /api/v1/admin/users {"user","password","roles":["office",...]}: a new user, answered
 * {"user","roles"} and, with the staff role, its "token" (shown once). POST
 * /api/v1/admin/users/NAME/roles {"roles":[...]}: the user's new set of roles, answered
 * {"user","roles","before"} and "token" when it gains the staff role; an admin cannot take
 * the admin role from itself. Each change is an audit row (user.add, user.roles). */
void srv_admin_user_add(struct srv_req *req, struct srv_reply *out);
void srv_admin_user_roles(struct srv_req *req, struct srv_reply *out);

/* The set of roles (SRV_ROLE_...) as a JSON array of names; NULL without memory. */
cJSON *srv_roles_json(unsigned roles);

#endif
