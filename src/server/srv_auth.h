/* Credentials: random tokens stored only as SHA-256 hashes, Argon2id password hashes
 * (libsodium's crypto_pwhash_str), and the back-off that slows password guessing. */
#ifndef SRV_AUTH_H
#define SRV_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "kepu/buf.h"
#include "kepu/error.h"

#define SRV_TOKEN_LEN 64 /* hex digits of a 256-bit token */
#define SRV_HASH_LEN  64 /* hex digits of a SHA-256 */

/* Must be called once before anything else here (sodium_init). KK_ERR_IO if it fails. */
enum kk_err srv_auth_init(void);

/* Writes a new random token (SRV_TOKEN_LEN hex digits and a NUL) into out. */
void srv_token_new(char out[SRV_TOKEN_LEN + 1]);
/* Writes the hex SHA-256 of s into out. */
void srv_token_hash(const char *s, char out[SRV_HASH_LEN + 1]);
/* True when s is exactly SRV_TOKEN_LEN lowercase hex digits. */
int srv_token_well_formed(const char *s);

/* Argon2id hash of password into out (size at least 128). KK_ERR_NOMEM if it fails. */
enum kk_err srv_password_hash(const char *password, char *out, size_t size);
/* True when password matches hash. Takes a deliberate fraction of a second. */
int srv_password_verify(const char *hash, const char *password);

/* A user's roles (DESIGN.md "Content studio and review"), a set: staff edit their venues'
 * drafts (with a token), office review, approve, publish and assign, admin manage users
 * and keys. The store keeps the set as its text, the names comma-separated in the order
 * office, staff, admin ("office,admin"). */
#define SRV_ROLE_OFFICE 1u
#define SRV_ROLE_STAFF  2u
#define SRV_ROLE_ADMIN  4u
#define SRV_ROLES_LEN   19 /* "office,staff,admin" and a NUL */
/* The set text names, any order, comma-separated: its bits, or 0 with err saying what is
 * wrong (an unknown role, a repeated one, an empty name). */
unsigned srv_roles_parse(const char *text, struct kk_buf *err);
/* The set's text, the names in the stored order ("" for none). */
void srv_roles_text(unsigned roles, char out[SRV_ROLES_LEN]);

/* Failed-login back-off (counted in the store: srv_store_login_take). After
 * SRV_LOGIN_FREE_TRIES failures a key (a user name, a client address) must wait
 * 2^(failures - free) seconds, capped at SRV_LOGIN_MAX_WAIT_S, after its last failure
 * before the next try; a success clears it. A key is forgotten SRV_LOGIN_FORGET_S after
 * its last failure (longer than any wait). */
#define SRV_LOGIN_FREE_TRIES 5
#define SRV_LOGIN_MAX_WAIT_S 900
#define SRV_LOGIN_FORGET_S   3600
/* Seconds a key with failures, the last at last_ms, must still wait at now_ms (0: may
 * try now). */
int64_t srv_backoff_wait_of(unsigned failures, int64_t last_ms, int64_t now_ms);

#endif
