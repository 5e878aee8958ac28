/* Small file helpers shared by the cmocka tests. Each asserts on failure, so a test reads
 * as a list of steps. Compiled into every unit test program (tests/CMakeLists.txt). */
#ifndef KK_TEST_H
#define KK_TEST_H

#include <stddef.h>

/* a + "/" + b; free with kk_free. */
char *tt_join(const char *a, const char *b);
/* True when path exists (links are not followed). */
int tt_exists(const char *path);
/* Writes text to dir/rel, making the folders on the way. */
void tt_write_file(const char *dir, const char *rel, const char *text);

#endif
