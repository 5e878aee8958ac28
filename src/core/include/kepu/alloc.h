/* Every allocation in the project goes through these wrappers, so a test can make the
 * N-th allocation fail and prove that no crash or leak follows (curl's torture tests).
 * They return NULL on failure like the libc functions; kk_free accepts NULL. */
#ifndef KEPU_ALLOC_H
#define KEPU_ALLOC_H

#include <stddef.h>

void *kk_malloc(size_t size);
void *kk_calloc(size_t n, size_t size);
void *kk_realloc(void *p, size_t size);
/* reallocarray: fails (NULL, p untouched) when n * size overflows. */
void *kk_reallocarray(void *p, size_t n, size_t size);
/* Makes room in the growable array *v (capacity *alloc elements of size bytes) for
 * element n, doubling the capacity (from 16) when it is full. Returns 0, or -1 when out
 * of memory (the array is left as it was). */
int kk_grow(void **v, size_t *alloc, size_t n, size_t size);
char *kk_strdup(const char *s);
char *kk_strndup(const char *s, size_t n);
void kk_free(void *p);

/* Test hook: the n-th allocation from now (1 = the next) and every one after it fail;
 * 0 turns failure injection off. Returns how many allocations were made since the last
 * call, so a test can first count and then fail each one in turn. */
unsigned long kk_alloc_fail_after(unsigned long n);

#endif
