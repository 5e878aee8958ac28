#include "kk_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"
#include "kepu/pack.h"

/* Every test program allocates through cJSON the way the three programs do (each calls
 * kk_json_init at the start of main), so the failure injection reaches cJSON. */
__attribute__((constructor)) static void tt_json_hooks(void)
{
    kk_json_init();
}

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

void tt_read_file(const char *path, struct kk_buf *out)
{
    kk_buf_reset(out);
    assert_int_equal(kk_file_read(path, 64u << 20, out, NULL), KK_OK);
}

int tt_spawn(const char *tmpdir, char *const *argv, const char *in_path, struct kk_buf *out,
             struct kk_buf *err)
{
    extern char **environ;
    char *op = tt_join(tmpdir, "run.out"), *ep = tt_join(tmpdir, "run.err");
    posix_spawn_file_actions_t fa;
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    posix_spawn_file_actions_addopen(&fa, 0, in_path ? in_path : "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, op, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, ep, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    tt_read_file(op, out);
    tt_read_file(ep, err);
    unlink(op);
    unlink(ep);
    kk_free(op);
    kk_free(ep);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int tt_run(const char *tmpdir, struct kk_buf *out, struct kk_buf *err, const char *tool, ...)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)tool;
    va_list ap;
    va_start(ap, tool);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL) {
        assert_true(argc < 15);
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    argv[argc] = NULL;
    return tt_spawn(tmpdir, argv, NULL, out, err);
}

void tt_assert_one_line(const char *text, const char *want)
{
    const char *nl = strchr(text, '\n');
    if (!strstr(text, want) || !nl || nl[1] != '\0')
        fail_msg("stderr was \"%s\", wanted one line containing \"%s\"", text, want);
}
