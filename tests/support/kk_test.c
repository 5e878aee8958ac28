#include "kk_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"

char *tt_join(const char *a, const char *b)
{
    char *p = kk_path_join(a, b);
    assert_non_null(p);
    return p;
}

int tt_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

void tt_write_file(const char *dir, const char *rel, const char *text)
{
    char *path = tt_join(dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    assert_int_equal(kk_mkdirs(path, 0755, NULL), KK_OK);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    kk_free(path);
}
