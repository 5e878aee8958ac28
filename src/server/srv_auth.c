#include "srv_auth.h"

#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"
#include "kepu/log.h"

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

/* The failed-login table: open addressing over SLOTS entries, placed by a keyed hash
 * (SipHash with a random key made at start) so nobody can aim many keys at one place.
 * An entry is reused only once it is forgotten (no failure for SRV_LOGIN_FORGET_S and no
 * wait left): entries under penalty are never evicted. When no place is free the key is
 * refused for a while (fail closed) rather than given fresh tries. */
#define SLOTS       (1u << 16)
#define PROBES      32
#define FULL_WAIT_S 60
struct slot {
    unsigned char id[crypto_generichash_BYTES_MIN];
    int used;
    unsigned failures;
    uint64_t last_ms;
};
static struct slot *slots;
static unsigned char place_key[crypto_shorthash_KEYBYTES];
static unsigned char id_key[crypto_generichash_KEYBYTES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int table_ready(void)
{
    if (slots)
        return 1;
    slots = kk_calloc(SLOTS, sizeof(*slots));
    if (!slots)
        return 0;
    randombytes_buf(place_key, sizeof(place_key));
    randombytes_buf(id_key, sizeof(id_key));
    return 1;
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

static int forgotten(const struct slot *s, uint64_t now_ms)
{
    return !s->used ||
           (wait_of(s, now_ms) == 0 && now_ms - s->last_ms > (uint64_t)SRV_LOGIN_FORGET_S * 1000);
}

/* The entry of key; with create, a new one if there is none. NULL when absent, or (with
 * create) when every place it may take is held by a key not yet forgotten. */
static struct slot *find(const char *key, int create, uint64_t now_ms)
{
    unsigned char id[crypto_generichash_BYTES_MIN], place[crypto_shorthash_BYTES];
    crypto_generichash(id, sizeof(id), (const unsigned char *)key, strlen(key), id_key,
                       sizeof(id_key));
    crypto_shorthash(place, (const unsigned char *)key, strlen(key), place_key);
    uint64_t h;
    memcpy(&h, place, sizeof(h));
    struct slot *free_slot = NULL;
    for (size_t i = 0; i < PROBES; i++) {
        struct slot *s = &slots[(h + i) % SLOTS];
        if (s->used && !memcmp(s->id, id, sizeof(id)))
            return s;
        if (!free_slot && forgotten(s, now_ms))
            free_slot = s;
    }
    if (!create || !free_slot)
        return NULL;
    memcpy(free_slot->id, id, sizeof(id));
    free_slot->used = 1;
    free_slot->failures = 0;
    free_slot->last_ms = now_ms;
    return free_slot;
}

int64_t srv_backoff_wait_s(const char *key, uint64_t now_ms)
{
    pthread_mutex_lock(&lock);
    struct slot *s = table_ready() ? find(key, 0, now_ms) : NULL;
    int64_t w = s ? wait_of(s, now_ms) : 0;
    pthread_mutex_unlock(&lock);
    return w;
}

void srv_backoff_fail(const char *key, uint64_t now_ms)
{
    pthread_mutex_lock(&lock);
    struct slot *s = table_ready() ? find(key, 1, now_ms) : NULL;
    if (s) {
        s->failures++;
        s->last_ms = now_ms;
    }
    pthread_mutex_unlock(&lock);
}

int64_t srv_backoff_take(const char *const *keys, size_t n, uint64_t now_ms)
{
    struct slot *found[4];
    int64_t wait = 0;
    if (n > sizeof(found) / sizeof(found[0]))
        KK_BUG("srv_backoff_take: at most 4 keys");
    pthread_mutex_lock(&lock);
    if (!table_ready()) {
        wait = FULL_WAIT_S;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        found[i] = find(keys[i], 1, now_ms);
        int64_t w = found[i] ? wait_of(found[i], now_ms) : FULL_WAIT_S;
        if (w > wait)
            wait = w;
    }
    for (size_t i = 0; i < n && !wait; i++) {
        found[i]->failures++;
        found[i]->last_ms = now_ms;
    }
done:
    pthread_mutex_unlock(&lock);
    return wait;
}

void srv_backoff_clear(const char *key)
{
    pthread_mutex_lock(&lock);
    struct slot *s = table_ready() ? find(key, 0, 0) : NULL;
    if (s)
        memset(s, 0, sizeof(*s));
    pthread_mutex_unlock(&lock);
}
