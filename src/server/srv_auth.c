#include "srv_auth.h"

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
