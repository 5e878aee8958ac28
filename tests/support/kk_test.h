/* Small file helpers shared by the cmocka tests. Each asserts on failure, so a test reads
 * as a list of steps. Compiled into every unit test program (tests/CMakeLists.txt). */
#ifndef KK_TEST_H
#define KK_TEST_H

#include <stddef.h>

#include "kepu/buf.h"

/* a + "/" + b; free with kk_free. */
char *tt_join(const char *a, const char *b);
/* True when path exists (links are not followed). */
int tt_exists(const char *path);
/* Writes text to dir/rel, making the folders on the way. */
void tt_write_file(const char *dir, const char *rel, const char *text);

/* Replaces out's contents with the file at path (at most 64 MB). */
void tt_read_file(const char *path, struct kk_buf *out);

/* Runs argv (NULL-terminated; argv[0] a path) with stdin from in_path (or /dev/null),
 * keeping its stdout and stderr in out and err (files in tmpdir carry them). Returns the
 * exit status, or 128 + the signal that ended it. */
int tt_spawn(const char *tmpdir, char *const *argv, const char *in_path, struct kk_buf *out,
             struct kk_buf *err);
/* tt_spawn of tool with the NULL-terminated arguments that follow. */
int tt_run(const char *tmpdir, struct kk_buf *out, struct kk_buf *err, const char *tool, ...);
/* Fails unless text is exactly one line and contains want (a program's one-line error). */
void tt_assert_one_line(const char *text, const char *want);

#endif
