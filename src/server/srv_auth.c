#include "srv_auth.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "kepu/fs.h"

enum kk_err srv_auth_init(void)
{
    return sodium_init() < 0 ? KK_ERR_IO : KK_OK;
}

void srv_token_new(char out[SRV_TOKEN_LEN + 1])
{
    kk_random_hex(out, SRV_TOKEN_LEN / 2);
}

void srv_token_hash(const char *s, char out[SRV_HASH_LEN + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    kk_hex_encode(out, h, sizeof(h));
}

int srv_token_well_formed(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return 0;
    return n == SRV_TOKEN_LEN;
}

enum kk_err srv_password_hash(const char *password, char *out, size_t size)
{
    char h[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(h, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return KK_ERR_NOMEM;
    if (strlen(h) >= size)
        return KK_ERR_TOOBIG;
    memcpy(out, h, strlen(h) + 1);
    return KK_OK;
}

int srv_password_verify(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

static const struct {
    const char *name;
    unsigned bit;
} role_names[] = {
    {"office", SRV_ROLE_OFFICE}, {"staff", SRV_ROLE_STAFF}, {"admin", SRV_ROLE_ADMIN}};
#define NROLES (sizeof(role_names) / sizeof(role_names[0]))

unsigned srv_roles_parse(const char *text, struct kk_buf *err)
{
    unsigned roles = 0;
    const char *p = text;
    for (;;) {
        size_t n = strcspn(p, ",");
        size_t i = 0;
        while (i < NROLES && (strlen(role_names[i].name) != n || strncmp(p, role_names[i].name, n)))
            i++;
        if (i == NROLES) {
            kk_fail(err, KK_ERR_INVALID, "role '%.*s': expected office, staff or admin", (int)n, p);
            return 0;
        }
        if (roles & role_names[i].bit) {
            kk_fail(err, KK_ERR_INVALID, "role %s: named twice", role_names[i].name);
            return 0;
        }
        roles |= role_names[i].bit;
        if (!p[n])
            return roles;
        p += n + 1;
    }
}

void srv_roles_text(unsigned roles, char out[SRV_ROLES_LEN])
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NROLES; i++)
        if (roles & role_names[i].bit)
            n += (size_t)snprintf(out + n, SRV_ROLES_LEN - n, "%s%s", n ? "," : "",
                                  role_names[i].name);
}

int64_t srv_backoff_wait_of(unsigned failures, int64_t last_ms, int64_t now_ms)
{
    if (failures < SRV_LOGIN_FREE_TRIES)
        return 0;
    unsigned shift = failures - SRV_LOGIN_FREE_TRIES;
    int64_t wait = shift >= 10 ? SRV_LOGIN_MAX_WAIT_S : (int64_t)1 << shift;
    if (wait > SRV_LOGIN_MAX_WAIT_S)
        wait = SRV_LOGIN_MAX_WAIT_S;
    int64_t until = last_ms + wait * 1000;
    return until > now_ms ? (until - now_ms + 999) / 1000 : 0;
}
