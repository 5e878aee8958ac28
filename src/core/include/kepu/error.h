/* One error enum for the whole core. Zero is success. Human detail goes into an optional
 * struct kk_buf *err that the caller passes in; functions append to it only on failure. */
#ifndef KEPU_ERROR_H
#define KEPU_ERROR_H

enum kk_err {
    KK_OK = 0,
    KK_ERR_NOMEM,    /* an allocation failed */
    KK_ERR_IO,       /* a file or folder could not be read or written */
    KK_ERR_NOTFOUND, /* a file, key, record or font is not there */
    KK_ERR_PARSE,    /* input is not valid JSON, UTF-8 or config syntax */
    KK_ERR_INVALID,  /* input parsed but a field has a wrong type or value */
    KK_ERR_TOOBIG,   /* input exceeds one of the limits in kepu/limits.h */
    KK_ERR_VERIFY,   /* a signature, hash or size does not match */
    KK_ERR_DB,       /* SQLite reported an error */
    KK_ERR_NET,      /* network failure or unusable server answer */
    KK_ERR_PERM,     /* permission denied */
    KK_ERR_EXISTS,   /* refusing to overwrite something that exists */
    KK_ERR_BUSY,     /* resource locked or queue full; try later */
};

/* A short, static English description of code. Never NULL. */
const char *kk_strerror(enum kk_err code);

#endif
