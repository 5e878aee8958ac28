/* A growable byte buffer with a size cap (curl's dynbuf, git's strbuf). The contents are
 * always NUL-terminated. An append that would exceed the cap fails with KK_ERR_TOOBIG,
 * one that runs out of memory with KK_ERR_NOMEM; either way the buffer keeps what it had.
 *
 * A buffer remembers its first failure: after it every append does nothing and returns
 * that failure again, so the contents are never a text with a piece missing from its
 * middle. Appends may therefore be made without checking each one, as long as the code
 * that uses the buffer (writes it to a file, sends it, returns it) checks kk_buf_error once
 * and treats a failure as the failure of the whole text. Reset and release clear it. */
#ifndef KEPU_BUF_H
#define KEPU_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "kepu/error.h"

struct kk_buf {
    char *data; /* NUL-terminated; "" until something is appended */
    size_t len;
    size_t alloc;
    size_t max;         /* 0: no cap */
    enum kk_err failed; /* the first failed append; KK_OK while none failed */
};

#define KK_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0, KK_OK                                                                       \
    }

/* Prepares b with cap max (0 for none). Needs no release if nothing was appended. */
void kk_buf_init(struct kk_buf *b, size_t max);
/* Frees the memory; b may be NULL. b is empty, without a failure and reusable afterwards. */
void kk_buf_release(struct kk_buf *b);
/* Empties b (keeping its memory) and clears its failure. */
void kk_buf_reset(struct kk_buf *b);
/* The first append that failed since init, reset or release (KK_ERR_NOMEM or
 * KK_ERR_TOOBIG), or KK_OK: check it once where the contents are used. */
enum kk_err kk_buf_error(const struct kk_buf *b);
/* Returns the contents as "" when nothing was appended; never NULL. */
const char *kk_buf_str(const struct kk_buf *b);
enum kk_err kk_buf_add(struct kk_buf *b, const void *data, size_t len);
enum kk_err kk_buf_adds(struct kk_buf *b, const char *s);
enum kk_err kk_buf_addf(struct kk_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum kk_err kk_buf_vaddf(struct kk_buf *b, const char *fmt, va_list ap);
/* Hands the memory to the caller (free with kk_free) and empties b (and clears its
 * failure: check kk_buf_error before). NULL only when b is empty and out of memory. */
char *kk_buf_detach(struct kk_buf *b, size_t *len);

/* Test hook: the n-th append from now (1 = the next, on any buffer) fails with
 * KK_ERR_NOMEM, that one only; 0 turns it off. Returns the appends made since the last
 * call, so a test can count them first and then fail each one in turn. */
unsigned long kk_buf_fail_nth(unsigned long n);

/* Appends a formatted message to err when err is not NULL, and returns code. The idiom
 * for failure paths: return kk_fail(err, KK_ERR_IO, "%s: %s", path, strerror(errno)); */
enum kk_err kk_fail(struct kk_buf *err, enum kk_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
