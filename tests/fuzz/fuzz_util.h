/* Shared by the libFuzzer targets: a private scratch folder per process (removed at exit)
 * and a helper that writes one input into a file in it, for the parsers that take a path.
 * Every function here aborts on a failure of its own: that is a broken fuzz run, not a
 * finding. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kepu/buf.h"
#include "kepu/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char fuzz_dir[256];

static inline void fuzz_cleanup(void)
{
    if (fuzz_dir[0])
        kk_remove_tree(fuzz_dir, NULL);
}

/* The scratch folder, created on first use. */
static inline const char *fuzz_scratch(void)
{
    if (!fuzz_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/kk-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fuzz_dir)) {
            perror(fuzz_dir);
            abort();
        }
        atexit(fuzz_cleanup);
    }
    return fuzz_dir;
}

/* fuzz_scratch()/rel, into out (a buffer of size bytes). */
static inline const char *fuzz_path(char *out, size_t size, const char *rel)
{
    snprintf(out, size, "%s/%s", fuzz_scratch(), rel);
    return out;
}

/* Writes data[0..len) to the file rel inside the scratch folder, replacing it. */
static inline void fuzz_write(const char *rel, const void *data, size_t len)
{
    char path[512];
    FILE *f = fopen(fuzz_path(path, sizeof(path), rel), "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f)) {
        perror(path);
        abort();
    }
}

/* Splits data at the first occurrence of sep: [data, *first_len) and the rest after sep
 * (*rest, *rest_len; NULL and 0 when sep does not occur). */
static inline void fuzz_split(const uint8_t *data, size_t size, const char *sep, size_t *first_len,
                              const uint8_t **rest, size_t *rest_len)
{
    size_t n = strlen(sep);
    *first_len = size;
    *rest = NULL;
    *rest_len = 0;
    for (size_t i = 0; n && i + n <= size; i++) {
        if (!memcmp(data + i, sep, n)) {
            *first_len = i;
            *rest = data + i + n;
            *rest_len = size - i - n;
            return;
        }
    }
}

#endif
