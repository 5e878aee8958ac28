/* A growable byte buffer with a size cap (curl's dynbuf, git's strbuf). The contents are
 * always NUL-terminated. An append that would exceed the cap fails with KK_ERR_TOOBIG
 * and leaves the buffer as it was. */
#ifndef KEPU_BUF_H
#define KEPU_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "kepu/error.h"

struct kk_buf {
    char *data; /* NUL-terminated; "" until something is appended */
    size_t len;
    size_t alloc;
    size_t max; /* 0: no cap */
};

#define KK_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

/* Prepares b with cap max (0 for none). Needs no release if nothing was appended. */
void kk_buf_init(struct kk_buf *b, size_t max);
/* Frees the memory; b may be NULL. b is empty and reusable afterwards. */
void kk_buf_release(struct kk_buf *b);
void kk_buf_reset(struct kk_buf *b);
/* Returns the contents as "" when nothing was appended; never NULL. */
const char *kk_buf_str(const struct kk_buf *b);
enum kk_err kk_buf_add(struct kk_buf *b, const void *data, size_t len);
enum kk_err kk_buf_adds(struct kk_buf *b, const char *s);
enum kk_err kk_buf_addf(struct kk_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum kk_err kk_buf_vaddf(struct kk_buf *b, const char *fmt, va_list ap);
/* Hands the memory to the caller (free with kk_free) and empties b. Never NULL. */
char *kk_buf_detach(struct kk_buf *b, size_t *len);

/* Appends a formatted message to err when err is not NULL, and returns code. The idiom
 * for failure paths: return kk_fail(err, KK_ERR_IO, "%s: %s", path, strerror(errno)); */
enum kk_err kk_fail(struct kk_buf *err, enum kk_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
