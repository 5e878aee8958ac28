#include "srv_admin.h"

#include <ctype.h>
#include <string.h>

#include <sodium.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/log.h"
#include "kepu/manifest.h"
#include "srv_pack.h"
#include "srv_store.h"

static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; /* 32: 5 bits each */

void srv_enrol_code_new(char out[SRV_ENROL_CODE_LEN + 1])
{
    size_t o = 0;
    for (int i = 0; i < 12; i++) {
        if (i == 4 || i == 8)
            out[o++] = '-';
        out[o++] = alphabet[randombytes_uniform(32)];
    }
    out[o] = '\0';
}

int srv_enrol_code_hash(const char *code, char hash[SRV_HASH_LEN + 1])
{
    char norm[13];
    size_t n = 0;
    for (const char *p = code; *p; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        char c = (char)toupper((unsigned char)*p);
        if (n == 12 || !strchr(alphabet, c) || c == '\0')
            return -1;
        norm[n++] = c;
    }
    if (n != 12)
        return -1;
    norm[n] = '\0';
    srv_token_hash(norm, hash);
    return 0;
}

void srv_enrol_kiosk_id(char out[11])
{
    unsigned char r[4];
    randombytes_buf(r, sizeof(r));
    memcpy(out, "k-", 2);
    sodium_bin2hex(out + 2, 9, r, sizeof(r));
}

/* --- enrolment ------------------------------------------------------------------------ */

void srv_admin_enrol(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out), *a = NULL;
    struct kk_buf err = KK_BUF_INIT, kiosk = KK_BUF_INIT, venue = KK_BUF_INIT;
    char hash[SRV_HASH_LEN + 1], token[SRV_TOKEN_LEN + 1], thash[SRV_HASH_LEN + 1];
    if (!root)
        return;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
    if (!cJSON_IsString(code) || srv_enrol_code_hash(code->valuestring, hash)) {
        srv_reply_error(out, 400, "code: expected the 12-character code kiosk enrol printed");
        goto done;
    }
    srv_token_new(token);
    srv_token_hash(token, thash);
    enum kk_err rc =
        srv_store_enrol_use(req->store, hash, thash, kk_clock_wall_ms(), &kiosk, &venue, &err);
    if (rc == KK_ERR_NOTFOUND || rc == KK_ERR_PERM) {
        kk_warn("enrol", "refused a code from %s: %s", req->client, kk_buf_str(&err));
        srv_reply_error(out, rc == KK_ERR_NOTFOUND ? 404 : 410, "%s", kk_buf_str(&err));
        goto done;
    }
    if (rc) {
        kk_error("enrol", "%s", kk_buf_str(&err));
        srv_reply_error(out, rc == KK_ERR_EXISTS ? 409 : 503, "%s",
                        rc == KK_ERR_EXISTS ? kk_buf_str(&err) : "store unavailable");
        goto done;
    }
    const struct kk_pubkey *keys;
    size_t nkeys = srv_pack_keys(&keys);
    cJSON *list = NULL;
    a = cJSON_CreateObject();
    if (!a || !cJSON_AddStringToObject(a, "kiosk", kk_buf_str(&kiosk)) ||
        !cJSON_AddStringToObject(a, "venue", kk_buf_str(&venue)) ||
        !cJSON_AddStringToObject(a, "token", token) ||
        !(list = cJSON_AddArrayToObject(a, "trusted_keys")))
        goto nomem;
    for (size_t i = 0; i < nkeys; i++) {
        char b64[sodium_base64_ENCODED_LEN(KK_PUBKEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof(b64), keys[i].key, KK_PUBKEY_BYTES,
                          sodium_base64_VARIANT_ORIGINAL);
        cJSON *s = cJSON_CreateString(b64);
        if (!s || !cJSON_AddItemToArray(list, s)) {
            cJSON_Delete(s);
            goto nomem;
        }
    }
    kk_info("enrol", "kiosk %s of venue %s enrolled from %s", kk_buf_str(&kiosk),
            kk_buf_str(&venue), req->client);
    srv_reply_json(out, 200, a);
    srv_reply_header(out, "Cache-Control", "no-store");
    a = NULL;
    goto done;
nomem:
    srv_reply_error(out, 500, "out of memory");
done:
    sodium_memzero(token, sizeof(token));
    cJSON_Delete(a);
    cJSON_Delete(root);
    kk_buf_release(&err);
    kk_buf_release(&kiosk);
    kk_buf_release(&venue);
}

/* --- the office's admin page ------------------------------------------------------------ */

static void reply_list(struct srv_req *req, struct srv_reply *out, const char *what)
{
    struct srv_table t;
    struct kk_buf err = KK_BUF_INIT;
    if (srv_store_admin_list(req->store, what, &t, &err)) {
        kk_error("admin", "%s", kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
    } else {
        srv_reply_json(out, 200, srv_table_to_json(&t));
    }
    srv_table_release(&t);
    kk_buf_release(&err);
}

void srv_admin_kiosks(struct srv_req *req, struct srv_reply *out)
{
    reply_list(req, out, "kiosks");
}

void srv_admin_users(struct srv_req *req, struct srv_reply *out)
{
    reply_list(req, out, "users");
}

/* Answers a store call's result: 404 with its message, 503, or {"ok":true}. */
static void reply_done(struct srv_reply *out, enum kk_err rc, const struct kk_buf *err)
{
    if (rc == KK_ERR_NOTFOUND)
        srv_reply_error(out, 404, "%s", kk_buf_str(err));
    else if (rc)
        srv_reply_error(out, 503, "store unavailable");
    else
        srv_reply_text(out, 200, "application/json", "{\"ok\":true}", 11);
}

void srv_admin_kiosk_revoke(struct srv_req *req, struct srv_reply *out)
{
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc = srv_store_kiosk_revoke(req->store, req->params[0], &err);
    reply_done(out, rc, &err);
    if (!rc) {
        kk_info("admin", "%s revoked kiosk %s", req->who, req->params[0]);
        srv_store_audit_add(req->store, kk_clock_wall_ms(), req->who, "kiosk.revoke",
                            req->params[0], "", NULL);
    }
    kk_buf_release(&err);
}

void srv_admin_kiosk_rotate(struct srv_req *req, struct srv_reply *out)
{
    struct kk_buf err = KK_BUF_INIT;
    char token[SRV_TOKEN_LEN + 1], hash[SRV_HASH_LEN + 1];
    srv_token_new(token);
    srv_token_hash(token, hash);
    enum kk_err rc = srv_store_kiosk_rotate(req->store, req->params[0], hash, &err);
    if (rc) {
        reply_done(out, rc, &err);
    } else {
        cJSON *a = cJSON_CreateObject();
        if (a && !cJSON_AddStringToObject(a, "token", token)) {
            cJSON_Delete(a);
            a = NULL;
        }
        srv_reply_json(out, 200, a);
        srv_reply_header(out, "Cache-Control", "no-store");
        kk_info("admin", "%s gave kiosk %s a new token", req->who, req->params[0]);
        srv_store_audit_add(req->store, kk_clock_wall_ms(), req->who, "kiosk.rotate",
                            req->params[0], "", NULL);
    }
    sodium_memzero(token, sizeof(token));
    kk_buf_release(&err);
}

void srv_admin_user_remove(struct srv_req *req, struct srv_reply *out)
{
    struct kk_buf err = KK_BUF_INIT;
    if (!strcmp(req->params[0], req->who)) {
        srv_reply_error(out, 409, "you cannot remove yourself; another admin can");
        return;
    }
    enum kk_err rc = srv_store_user_remove(req->store, req->params[0], &err);
    reply_done(out, rc, &err);
    if (!rc) {
        kk_info("admin", "%s removed user %s", req->who, req->params[0]);
        srv_store_audit_add(req->store, kk_clock_wall_ms(), req->who, "user.remove", req->params[0],
                            "", NULL);
    }
    kk_buf_release(&err);
}

void srv_admin_user_passwd(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out);
    struct kk_buf err = KK_BUF_INIT;
    char phash[256];
    if (!root)
        return;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "password");
    if (!cJSON_IsString(p) || strlen(p->valuestring) < 8 || strlen(p->valuestring) > 256) {
        srv_reply_error(out, 400, "password: expected a string of 8 to 256 bytes");
        goto done;
    }
    if (srv_password_hash(p->valuestring, phash, sizeof(phash))) {
        srv_reply_error(out, 500, "out of memory");
        goto done;
    }
    enum kk_err rc = srv_store_user_passwd(req->store, req->params[0], phash, &err);
    reply_done(out, rc, &err);
    if (!rc) {
        kk_info("admin", "%s set a new password for %s", req->who, req->params[0]);
        srv_store_audit_add(req->store, kk_clock_wall_ms(), req->who, "user.passwd", req->params[0],
                            "", NULL);
    }
done:
    cJSON_Delete(root);
    kk_buf_release(&err);
}

/* --- users' roles ----------------------------------------------------------------------- */

cJSON *srv_roles_json(unsigned roles)
{
    char text[SRV_ROLES_LEN];
    srv_roles_text(roles, text);
    cJSON *a = cJSON_CreateArray();
    for (const char *p = text; a && *p;) {
        size_t n = strcspn(p, ",");
        char name[SRV_ROLES_LEN];
        snprintf(name, sizeof(name), "%.*s", (int)n, p);
        cJSON *one = cJSON_CreateString(name);
        if (!one || !cJSON_AddItemToArray(a, one)) {
            cJSON_Delete(one);
            cJSON_Delete(a);
            return NULL;
        }
        p += n + (p[n] == ',');
    }
    return a;
}

/* "roles" of a request: a non-empty array of role names, each once. Returns the set, or 0
 * after answering 400. */
static unsigned roles_of(const cJSON *root, struct srv_reply *out)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "roles"), *r;
    struct kk_buf text = KK_BUF_INIT, err = KK_BUF_INIT;
    unsigned roles = 0;
    if (!cJSON_IsArray(list) || !cJSON_GetArraySize(list)) {
        srv_reply_error(out, 400, "roles: expected a list of office, staff and admin");
        return 0;
    }
    cJSON_ArrayForEach(r, list)
    {
        if (!cJSON_IsString(r) || !r->valuestring[0] || strchr(r->valuestring, ',')) {
            srv_reply_error(out, 400, "roles: each is one of office, staff and admin");
            goto done;
        }
        if ((text.len && kk_buf_add(&text, ",", 1)) ||
            kk_buf_add(&text, r->valuestring, strlen(r->valuestring))) {
            srv_reply_error(out, 500, "out of memory");
            goto done;
        }
    }
    roles = srv_roles_parse(kk_buf_str(&text), &err);
    if (!roles)
        srv_reply_error(out, 400, "roles: %s", kk_buf_str(&err));
done:
    kk_buf_release(&text);
    kk_buf_release(&err);
    return roles;
}

/* Answers {"user","roles"} with more: before (not NULL) and token (not NULL). */
static void reply_roles(struct srv_reply *out, const char *user, unsigned roles, const char *before,
                        const char *token)
{
    cJSON *a = cJSON_CreateObject(), *list = srv_roles_json(roles);
    if (!a || !list || !cJSON_AddItemToObject(a, "roles", list)) {
        cJSON_Delete(list);
        goto nomem;
    }
    if (!cJSON_AddStringToObject(a, "user", user) ||
        (before &&
         !cJSON_AddItemToObject(a, "before", srv_roles_json(srv_roles_parse(before, NULL)))) ||
        (token && !cJSON_AddStringToObject(a, "token", token)))
        goto nomem;
    srv_reply_json(out, 200, a);
    srv_reply_header(out, "Cache-Control", "no-store");
    return;
nomem:
    cJSON_Delete(a);
    srv_reply_error(out, 500, "out of memory");
}

void srv_admin_user_add(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out);
    struct kk_buf err = KK_BUF_INIT;
    char phash[256], token[SRV_TOKEN_LEN + 1], thash[SRV_HASH_LEN + 1], text[SRV_ROLES_LEN];
    if (!root)
        return;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "user");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "password");
    unsigned roles;
    if (!cJSON_IsString(u) || !srv_id_valid(u->valuestring)) {
        srv_reply_error(out, 400, "user: use 1 to 64 of A-Z a-z 0-9 . _ - (not starting with .)");
        goto done;
    }
    if (!cJSON_IsString(p) || strlen(p->valuestring) < 8 || strlen(p->valuestring) > 256) {
        srv_reply_error(out, 400, "password: expected a string of 8 to 256 bytes");
        goto done;
    }
    if (!(roles = roles_of(root, out)))
        goto done;
    if (srv_password_hash(p->valuestring, phash, sizeof(phash))) {
        srv_reply_error(out, 500, "out of memory");
        goto done;
    }
    srv_roles_text(roles, text);
    srv_token_new(token);
    srv_token_hash(token, thash);
    int staff = (roles & SRV_ROLE_STAFF) != 0;
    enum kk_err rc =
        srv_store_user_add(req->store, u->valuestring, text, phash, staff ? thash : NULL, &err);
    if (rc == KK_ERR_EXISTS) {
        srv_reply_error(out, 409, "%s", kk_buf_str(&err));
    } else if (rc) {
        kk_error("admin", "%s", kk_buf_str(&err));
        srv_reply_error(out, 503, "store unavailable");
    } else {
        reply_roles(out, u->valuestring, roles, NULL, staff ? token : NULL);
        kk_info("admin", "%s added user %s (%s)", req->who, u->valuestring, text);
        srv_store_audit_add(req->store, kk_clock_wall_ms(), req->who, "user.add", u->valuestring,
                            text, NULL);
    }
done:
    sodium_memzero(token, sizeof(token));
    cJSON_Delete(root);
    kk_buf_release(&err);
}

void srv_admin_user_roles(struct srv_req *req, struct srv_reply *out)
{
    cJSON *root = srv_req_json(req, out);
    struct kk_buf err = KK_BUF_INIT, old = KK_BUF_INIT;
    char token[SRV_TOKEN_LEN + 1], thash[SRV_HASH_LEN + 1], text[SRV_ROLES_LEN];
    unsigned roles;
    if (!root)
        return;
    if (!(roles = roles_of(root, out)))
        goto done;
    if (!strcmp(req->params[0], req->who) && !(roles & SRV_ROLE_ADMIN)) {
        srv_reply_error(out, 409,
                        "you cannot take the admin role from yourself; another admin can");
        goto done;
    }
    srv_roles_text(roles, text);
    srv_token_new(token);
    srv_token_hash(token, thash);
    enum kk_err rc = srv_store_user_roles(req->store, req->params[0], text,
                                          (roles & SRV_ROLE_STAFF) ? thash : NULL, &old, &err);
    if (rc) {
        reply_done(out, rc, &err);
        goto done;
    }
    unsigned before = srv_roles_parse(kk_buf_str(&old), NULL);
    int new_token = (roles & SRV_ROLE_STAFF) && !(before & SRV_ROLE_STAFF);
    reply_roles(out, req->params[0], roles, kk_buf_str(&old), new_token ? token : NULL);
    if (before != roles) {
        char detail[64];
        snprintf(detail, sizeof(detail), "%s -> %s", kk_buf_str(&old), text);
        kk_info("admin", "%s changed the roles of %s: %s", req->who, req->params[0], detail);
        srv_store_audit_add(req->store, kk_clock_wall_ms(), req->who, "user.roles", req->params[0],
                            detail, NULL);
    }
done:
    sodium_memzero(token, sizeof(token));
    cJSON_Delete(root);
    kk_buf_release(&err);
    kk_buf_release(&old);
}
