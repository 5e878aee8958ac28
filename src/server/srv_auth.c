#include "srv_auth.h"

#include <pthread.h>
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

/* A small open table of recent failures; an old entry is overwritten when the table is
 * full, which only ever shortens someone's wait. */
#define SLOTS 1024
struct slot {
    unsigned char key[crypto_generichash_BYTES_MIN];
    int used;
    unsigned failures;
    uint64_t last_ms;
};
static struct slot slots[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct slot *find(const char *key, int create, uint64_t now_ms)
{
    unsigned char h[crypto_generichash_BYTES_MIN];
    crypto_generichash(h, sizeof(h), (const unsigned char *)key, strlen(key), NULL, 0);
    size_t start = ((size_t)h[0] << 8 | h[1]) % SLOTS, oldest = start;
    for (size_t i = 0; i < 8; i++) {
        struct slot *s = &slots[(start + i) % SLOTS];
        if (s->used && !memcmp(s->key, h, sizeof(h)))
            return s;
        if (!s->used || s->last_ms < slots[oldest].last_ms)
            oldest = (start + i) % SLOTS;
    }
    if (!create)
        return NULL;
    struct slot *s = &slots[oldest];
    memcpy(s->key, h, sizeof(h));
    s->used = 1;
    s->failures = 0;
    s->last_ms = now_ms;
    return s;
}

static int64_t wait_of(const struct slot *s, uint64_t now_ms)
{
    if (s->failures < SRV_LOGIN_FREE_TRIES)
        return 0;
    unsigned shift = s->failures - SRV_LOGIN_FREE_TRIES;
    int64_t wait = shift >= 10 ? SRV_LOGIN_MAX_WAIT_S : (int64_t)1 << shift;
    if (wait > SRV_LOGIN_MAX_WAIT_S)
        wait = SRV_LOGIN_MAX_WAIT_S;
    uint64_t until = s->last_ms + (uint64_t)wait * 1000;
    return until > now_ms ? (int64_t)((until - now_ms + 999) / 1000) : 0;
}

int64_t srv_backoff_wait_s(const char *key, uint64_t now_ms)
{
    pthread_mutex_lock(&lock);
    struct slot *s = find(key, 0, now_ms);
    int64_t w = s ? wait_of(s, now_ms) : 0;
    pthread_mutex_unlock(&lock);
    return w;
}

void srv_backoff_fail(const char *key, uint64_t now_ms)
{
    pthread_mutex_lock(&lock);
    struct slot *s = find(key, 1, now_ms);
    s->failures++;
    s->last_ms = now_ms;
    pthread_mutex_unlock(&lock);
}

void srv_backoff_clear(const char *key)
{
    pthread_mutex_lock(&lock);
    struct slot *s = find(key, 0, 0);
    if (s)
        memset(s, 0, sizeof(*s));
    pthread_mutex_unlock(&lock);
}
