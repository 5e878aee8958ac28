#include "kepu/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong alloc_count;
static atomic_ulong fail_at; /* 0: never fail */

/* True when this allocation should fail for the torture tests. */
static int should_fail(void)
{
    unsigned long n = atomic_fetch_add(&alloc_count, 1) + 1;
    unsigned long at = atomic_load(&fail_at);
    return at != 0 && n >= at;
}

unsigned long kk_alloc_fail_after(unsigned long n)
{
    unsigned long made = atomic_exchange(&alloc_count, 0);
    atomic_store(&fail_at, n);
    return made;
}

void *kk_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *kk_calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *kk_realloc(void *p, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(p, size ? size : 1);
}

void *kk_reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return kk_realloc(p, n * size);
}

int kk_grow(void **v, size_t *alloc, size_t n, size_t size)
{
    if (n < *alloc)
        return 0;
    size_t want = *alloc ? *alloc * 2 : 16;
    if (want <= n)
        want = n + 1;
    void *p = kk_reallocarray(*v, want, size);
    if (!p)
        return -1;
    *v = p;
    *alloc = want;
    return 0;
}

char *kk_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = kk_malloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *kk_strdup(const char *s)
{
    return kk_strndup(s, SIZE_MAX);
}

void kk_free(void *p)
{
    free(p);
}
