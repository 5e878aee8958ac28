#include "kepu/error.h"

const char *kk_strerror(enum kk_err code)
{
    /* A case for every value and no default, so -Wswitch-enum flags a missing message. */
    switch (code) {
    case KK_OK:
        return "no error";
    case KK_ERR_NOMEM:
        return "out of memory";
    case KK_ERR_IO:
        return "input/output error";
    case KK_ERR_NOTFOUND:
        return "not found";
    case KK_ERR_PARSE:
        return "cannot parse";
    case KK_ERR_INVALID:
        return "invalid value";
    case KK_ERR_TOOBIG:
        return "too big";
    case KK_ERR_VERIFY:
        return "verification failed";
    case KK_ERR_DB:
        return "database error";
    case KK_ERR_NET:
        return "network error";
    case KK_ERR_PERM:
        return "permission denied";
    case KK_ERR_EXISTS:
        return "already exists";
    case KK_ERR_BUSY:
        return "busy";
    }
    return "unknown error";
}
