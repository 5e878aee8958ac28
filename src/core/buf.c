#include "kepu/buf.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kepu/alloc.h"

static atomic_ulong append_count;
static atomic_ulong fail_at; /* 0: never */

unsigned long kk_buf_fail_nth(unsigned long n)
{
    unsigned long made = atomic_exchange(&append_count, 0);
    atomic_store(&fail_at, n);
    return made;
}

/* Counts an append; true when the test hook makes this one fail. */
static int injected_failure(void)
{
    unsigned long n = atomic_fetch_add(&append_count, 1) + 1;
    return atomic_load(&fail_at) == n;
}

void kk_buf_init(struct kk_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->max = max;
    b->failed = KK_OK;
}

enum kk_err kk_buf_error(const struct kk_buf *b)
{
    return b->failed;
}

void kk_buf_release(struct kk_buf *b)
{
    if (!b)
        return;
    kk_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->failed = KK_OK;
}

void kk_buf_reset(struct kk_buf *b)
{
    b->len = 0;
    b->failed = KK_OK;
    if (b->data)
        b->data[0] = '\0';
}

const char *kk_buf_str(const struct kk_buf *b)
{
    return b->data ? b->data : "";
}

/* Makes room for extra more bytes plus the NUL. */
static enum kk_err grow_room(struct kk_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return KK_ERR_TOOBIG;
    size_t need = b->len + extra + 1;
    if (b->max && need - 1 > b->max)
        return KK_ERR_TOOBIG;
    if (need <= b->alloc)
        return KK_OK;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    char *p = kk_realloc(b->data, n);
    if (!p)
        return KK_ERR_NOMEM;
    b->data = p;
    b->alloc = n;
    return KK_OK;
}

/* grow_room for an append, remembering the first failure. */
static enum kk_err grow(struct kk_buf *b, size_t extra)
{
    if (b->failed)
        return b->failed;
    enum kk_err e = injected_failure() ? KK_ERR_NOMEM : grow_room(b, extra);
    if (e)
        b->failed = e;
    return e;
}

enum kk_err kk_buf_add(struct kk_buf *b, const void *data, size_t len)
{
    enum kk_err e = grow(b, len);
    if (e)
        return e;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return KK_OK;
}

enum kk_err kk_buf_adds(struct kk_buf *b, const char *s)
{
    return kk_buf_add(b, s, strlen(s));
}

enum kk_err kk_buf_vaddf(struct kk_buf *b, const char *fmt, va_list ap)
{
    if (b->failed)
        return b->failed;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return b->failed = KK_ERR_INVALID;
    enum kk_err e = grow(b, (size_t)n);
    if (e)
        return e;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return KK_OK;
}

enum kk_err kk_buf_addf(struct kk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum kk_err e = kk_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return e;
}

char *kk_buf_detach(struct kk_buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    if (!p)
        p = kk_strdup("");
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->failed = KK_OK;
    return p;
}

enum kk_err kk_fail(struct kk_buf *err, enum kk_err code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        kk_buf_vaddf(err, fmt, ap);
        va_end(ap);
    }
    return code;
}
