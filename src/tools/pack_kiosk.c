#include "pack_kiosk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"

extern char **environ;

/* A screen line lists every target with its label; a few hundred kilobytes would already
 * be absurd. */
#define MAX_LINE (4u << 20)

struct pack_kiosk {
    pid_t pid;
    int in_fd;  /* the kiosk's stdin */
    int out_fd; /* the kiosk's stdout */
    int timeout_ms;
    int dead; /* stopped, died or hung: every later call fails */
    char *log_path;
    struct kk_buf pending; /* bytes read but not yet a whole line */
    cJSON *screen;
    cJSON *reply; /* the last {"ok":true,...} answer */
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

void pack_kiosk_catch_interrupts(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll and waitpid return EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int pack_kiosk_interrupted(void)
{
    return interrupted != 0;
}

static int executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* dir/name if it is an executable file, else NULL. */
static char *try_path(const char *dir, const char *name)
{
    char *p = kk_path_join(dir, name);
    if (p && executable(p))
        return p;
    kk_free(p);
    return NULL;
}

char *pack_kiosk_find(struct kk_buf *err)
{
    const char *env = getenv("KEPU_KIOSK");
    if (env && *env) {
        if (executable(env))
            return kk_strdup(env);
        kk_fail(err, KK_ERR_NOTFOUND, "KEPU_KIOSK=%s is not an executable program", env);
        return NULL;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *found = NULL;
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            found = try_path(self, "../app/kepu-kiosk");
            if (!found)
                found = try_path(self, "kepu-kiosk");
        }
    }
    const char *path = getenv("PATH");
    if (!found && path) {
        char *copy = kk_strdup(path);
        for (char *save = NULL, *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !found;
             d = strtok_r(NULL, ":", &save))
            found = try_path(*d ? d : ".", "kepu-kiosk");
        kk_free(copy);
    }
    if (!found)
        kk_fail(err, KK_ERR_NOTFOUND,
                "cannot find the kepu-kiosk program (looked beside kepu-pack and on PATH; "
                "set KEPU_KIOSK to its path)");
    return found;
}

enum kk_err pack_sandbox_make(struct pack_sandbox *sb, const char *pack_dir, const char *id,
                              struct kk_buf *err)
{
    memset(sb, 0, sizeof(*sb));
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir)
        tmpdir = "/tmp";
    char tmpl[PATH_MAX];
    char real[PATH_MAX];
    char *link = NULL;
    enum kk_err rc = KK_OK;
    if (!realpath(pack_dir, real))
        return kk_fail(err, KK_ERR_IO, "%s: %s", pack_dir, strerror(errno));
    snprintf(tmpl, sizeof(tmpl), "%s/kepu-pack-XXXXXX", tmpdir);
    if (!mkdtemp(tmpl))
        return kk_fail(err, KK_ERR_IO, "cannot make a temporary folder in %s: %s", tmpdir,
                       strerror(errno));
    sb->root = kk_strdup(tmpl);
    sb->content = kk_path_join(tmpl, "content");
    sb->state = kk_path_join(tmpl, "state");
    link = sb->content ? kk_path_join(sb->content, id) : NULL;
    if (!sb->root || !sb->state || !link) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (mkdir(sb->content, 0700) < 0 || mkdir(sb->state, 0700) < 0 || symlink(real, link) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", tmpl, strerror(errno));
        goto done;
    }
done:
    kk_free(link);
    return rc;
}

void pack_sandbox_release(struct pack_sandbox *sb)
{
    if (!sb)
        return;
    if (sb->root)
        kk_remove_tree(sb->root, NULL);
    kk_free(sb->root);
    kk_free(sb->content);
    kk_free(sb->state);
    memset(sb, 0, sizeof(*sb));
}

/* "exit status 3" or "killed by signal 11 (Segmentation fault)". */
static void describe_status(int status, struct kk_buf *out)
{
    if (WIFEXITED(status))
        kk_buf_addf(out, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        kk_buf_addf(out, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        kk_buf_addf(out, "wait status %d", status);
}

/* Spawns exe with args; stdin/stdout from the given fds (-1: inherit), stderr to log_path
 * (NULL: inherit). */
static enum kk_err spawn(pid_t *pid, const char *exe, char *const *args, int in_fd, int out_fd,
                         const char *log_path, struct kk_buf *err)
{
    posix_spawn_file_actions_t fa;
    int r = posix_spawn_file_actions_init(&fa);
    if (!r && in_fd >= 0)
        r = posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
    if (!r && out_fd >= 0)
        r = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    if (!r && log_path)
        r = posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log_path,
                                             O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!r)
        r = posix_spawn(pid, exe, &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r)
        return kk_fail(err, KK_ERR_IO, "cannot start %s: %s", exe, strerror(r));
    return KK_OK;
}

enum kk_err pack_kiosk_run(const char *exe, const struct pack_sandbox *sb, int w, int h,
                           struct kk_buf *err)
{
    char size[32];
    snprintf(size, sizeof(size), "%dx%d", w, h);
    char *args[] = {(char *)exe, "--window", size,      "--content",
                    sb->content, "--state",  sb->state, NULL};
    pid_t pid;
    int status;
    enum kk_err rc = spawn(&pid, exe, args, -1, -1, NULL, err);
    if (rc)
        return rc;
    int passed_on = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return kk_fail(err, KK_ERR_IO, "waiting for the kiosk: %s", strerror(errno));
        if (interrupted && !passed_on) { /* Ctrl-C reaches it anyway; SIGTERM may not */
            kill(pid, SIGTERM);
            passed_on = 1;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return KK_OK;
    struct kk_buf how = KK_BUF_INIT;
    describe_status(status, &how);
    rc = kk_fail(err, KK_ERR_IO, "the kiosk ended with %s", kk_buf_str(&how));
    kk_buf_release(&how);
    return rc;
}

/* pipe2(O_CLOEXEC) is a GNU extension; the build is plain POSIX. kepu-server starts
 * kiosks from several threads (its previews): pack_kiosk_start makes its pipes and spawns
 * under spawn_lock, so no other kiosk is spawned between pipe and fcntl and inherits them. */
static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;

static int cloexec_pipe(int fds[2])
{
    if (pipe(fds) < 0)
        return -1;
    for (int i = 0; i < 2; i++)
        if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0) {
            close(fds[0]);
            close(fds[1]);
            fds[0] = fds[1] = -1;
            return -1;
        }
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The last non-empty line of the kiosk's log, for an error message. */
static void last_log_line(const struct pack_kiosk *k, struct kk_buf *out)
{
    struct kk_buf log = KK_BUF_INIT;
    if (!k->log_path || kk_file_read(k->log_path, 64u << 20, &log, NULL) || !log.len) {
        kk_buf_release(&log);
        return;
    }
    char *end = log.data + log.len;
    while (end > log.data && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    char *start = end;
    while (start > log.data && start[-1] != '\n')
        start--;
    if (end > start)
        kk_buf_addf(out, "; its log ends: %.*s", (int)(end - start), start);
    kk_buf_release(&log);
}

/* Stops a kiosk that died or hung, and records how it ended into err's message. */
static void stop(struct pack_kiosk *k, int kill_it, struct kk_buf *how)
{
    int status = 0;
    if (k->pid > 0) {
        if (kill_it)
            kill(k->pid, SIGKILL);
        pid_t r;
        while ((r = waitpid(k->pid, &status, 0)) < 0 && errno == EINTR)
            ;
        if (r == k->pid && how && !kill_it)
            describe_status(status, how);
        k->pid = -1;
    }
    k->dead = 1;
}

enum wait_end { ENDED_OK, ENDED_GONE, ENDED_TIMEOUT, ENDED_INTERRUPT };

/* Reads one whole line (without its newline) into line; waits until deadline. */
static enum kk_err read_line(struct pack_kiosk *k, long long deadline, struct kk_buf *line,
                             enum wait_end *why)
{
    *why = ENDED_GONE;
    for (;;) {
        if (interrupted) {
            *why = ENDED_INTERRUPT;
            return KK_ERR_IO;
        }
        char *nl = k->pending.len ? memchr(k->pending.data, '\n', k->pending.len) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - k->pending.data);
            kk_buf_reset(line);
            if (kk_buf_add(line, k->pending.data, n))
                return KK_ERR_NOMEM;
            memmove(k->pending.data, nl + 1, k->pending.len - n - 1);
            k->pending.len -= n + 1;
            k->pending.data[k->pending.len] = '\0';
            return KK_OK;
        }
        long long left = deadline - now_ms();
        if (left <= 0) {
            *why = ENDED_TIMEOUT;
            return KK_ERR_IO;
        }
        struct pollfd p = {k->out_fd, POLLIN, 0};
        int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return KK_ERR_IO;
        if (r == 0)
            continue; /* the deadline check above ends it */
        char chunk[65536];
        ssize_t got = read(k->out_fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) { /* end of output: the kiosk is gone (also when Ctrl-C reached it) */
            if (interrupted)
                *why = ENDED_INTERRUPT;
            return KK_ERR_IO;
        }
        enum kk_err e = kk_buf_add(&k->pending, chunk, (size_t)got);
        if (e)
            return e; /* KK_ERR_TOOBIG for an absurd line */
    }
}

/* Reads lines until a reply (want_reply) or a screen (!want_reply). */
static enum kk_err read_until(struct pack_kiosk *k, int want_reply, const char *what,
                              struct kk_buf *err)
{
    struct kk_buf line = KK_BUF_INIT;
    enum kk_err rc = KK_OK;
    long long deadline = now_ms() + k->timeout_ms;
    for (;;) {
        enum wait_end why = ENDED_OK;
        rc = read_line(k, deadline, &line, &why);
        if (rc) {
            struct kk_buf how = KK_BUF_INIT, where = KK_BUF_INIT;
            pack_kiosk_describe(k, &where);
            if (rc == KK_ERR_NOMEM || rc == KK_ERR_TOOBIG) {
                stop(k, 1, NULL);
                rc = kk_fail(err, KK_ERR_IO, "the kiosk wrote a line too long to read (%s)", what);
            } else if (why == ENDED_INTERRUPT) {
                stop(k, 1, NULL);
                rc = kk_fail(err, KK_ERR_IO, "interrupted on %s; stopped the kiosk",
                             kk_buf_str(&where));
            } else if (why == ENDED_TIMEOUT) {
                stop(k, 1, NULL);
                rc = kk_fail(err, KK_ERR_IO,
                             "the kiosk did not answer %s within %d s on %s; stopped it (log: %s)",
                             what, (k->timeout_ms + 999) / 1000, kk_buf_str(&where), k->log_path);
            } else {
                struct kk_buf last = KK_BUF_INIT;
                stop(k, 0, &how);
                last_log_line(k, &last);
                rc = kk_fail(err, KK_ERR_IO, "the kiosk stopped (%s) on %s, at %s%s (log: %s)",
                             kk_buf_str(&how), kk_buf_str(&where), what, kk_buf_str(&last),
                             k->log_path);
                kk_buf_release(&last);
            }
            kk_buf_release(&how);
            kk_buf_release(&where);
            break;
        }
        cJSON *j = cJSON_Parse(kk_buf_str(&line));
        if (!j || !cJSON_IsObject(j)) {
            cJSON_Delete(j);
            continue; /* not one of ours: ignore, as the Python driver would choke */
        }
        if (cJSON_GetObjectItemCaseSensitive(j, "scene")) {
            cJSON_Delete(k->screen);
            k->screen = j;
            if (!want_reply)
                break;
            continue;
        }
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "ok");
        if (want_reply && ok) {
            if (!cJSON_IsTrue(ok)) {
                const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
                rc = kk_fail(err, KK_ERR_INVALID, "the kiosk refused %s: %s", what,
                             cJSON_IsString(e) ? e->valuestring : "(no reason given)");
            }
            cJSON_Delete(k->reply);
            k->reply = j;
            break;
        }
        cJSON_Delete(j);
    }
    kk_buf_release(&line);
    return rc;
}

enum kk_err pack_kiosk_start(struct pack_kiosk **out, const char *exe,
                             const struct pack_sandbox *sb, int w, int h, const char *log_path,
                             int timeout_ms, struct kk_buf *err)
{
    *out = NULL;
    int in[2] = {-1, -1}, outp[2] = {-1, -1};
    enum kk_err rc = KK_OK;
    struct pack_kiosk *k = kk_calloc(1, sizeof(*k));
    if (!k)
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    k->pid = -1;
    k->in_fd = k->out_fd = -1;
    k->timeout_ms = timeout_ms;
    k->log_path = kk_strdup(log_path);
    if (!k->log_path) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* A kiosk that dies must not take kepu-pack with it when we write to its stdin. */
    signal(SIGPIPE, SIG_IGN);
    char size[32];
    snprintf(size, sizeof(size), "%dx%d", w, h);
    char *args[] = {(char *)exe, "--automation", "--window", size, "--content",
                    sb->content, "--state",      sb->state,  NULL};
    pthread_mutex_lock(&spawn_lock);
    if (cloexec_pipe(in) < 0 || cloexec_pipe(outp) < 0)
        rc = kk_fail(err, KK_ERR_IO, "cannot make pipes: %s", strerror(errno));
    else
        rc = spawn(&k->pid, exe, args, in[0], outp[1], log_path, err);
    pthread_mutex_unlock(&spawn_lock);
    if (rc)
        goto done;
    k->in_fd = in[1];
    k->out_fd = outp[0];
    in[1] = outp[0] = -1;
    rc = read_until(k, 0, "its first screen", err);
done:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (outp[i] >= 0)
            close(outp[i]);
    }
    if (rc)
        pack_kiosk_close(k);
    else
        *out = k;
    return rc;
}

enum kk_err pack_kiosk_send(struct pack_kiosk *k, const char *key, const char *value,
                            struct kk_buf *err)
{
    struct kk_buf cmd = KK_BUF_INIT;
    enum kk_err rc = KK_OK;
    if (k->dead)
        return kk_fail(err, KK_ERR_IO, "the kiosk is no longer running");
    cJSON *name = cJSON_CreateString(key);
    char *quoted = name ? cJSON_PrintUnformatted(name) : NULL;
    cJSON_Delete(name);
    if (!quoted || kk_buf_addf(&cmd, "{%s:%s}\n", quoted, value)) {
        cJSON_free(quoted);
        kk_buf_release(&cmd);
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    }
    cJSON_free(quoted);
    const char *p = cmd.data;
    size_t left = cmd.len;
    while (left) {
        ssize_t n = write(k->in_fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break; /* EPIPE: it died; reading tells how */
        p += n;
        left -= (size_t)n;
    }
    cmd.data[cmd.len - 1] = '\0'; /* for the message: the command without its newline */
    rc = read_until(k, 1, cmd.data, err);
    kk_buf_release(&cmd);
    return rc;
}

enum kk_err pack_kiosk_send_str(struct pack_kiosk *k, const char *key, const char *value,
                                struct kk_buf *err)
{
    cJSON *s = cJSON_CreateString(value);
    char *json = s ? cJSON_PrintUnformatted(s) : NULL;
    cJSON_Delete(s);
    if (!json)
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    enum kk_err rc = pack_kiosk_send(k, key, json, err);
    cJSON_free(json);
    return rc;
}

const cJSON *pack_kiosk_reply(const struct pack_kiosk *k)
{
    return k->reply;
}

void pack_kiosk_set_timeout(struct pack_kiosk *k, int timeout_ms)
{
    k->timeout_ms = timeout_ms;
}

const cJSON *pack_kiosk_screen(const struct pack_kiosk *k)
{
    return k->screen;
}

const char *pack_kiosk_field(const struct pack_kiosk *k, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(k->screen, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

int pack_kiosk_has(const struct pack_kiosk *k, const char *id)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(k->screen, "targets"))
    {
        const cJSON *tid = cJSON_GetObjectItemCaseSensitive(t, "id");
        if (cJSON_IsString(tid) && !strcmp(tid->valuestring, id))
            return 1;
    }
    return 0;
}

static int screen_int(const cJSON *s, const char *name, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, name);
    if (!cJSON_IsNumber(v))
        return 0;
    *out = v->valueint;
    return 1;
}

void pack_kiosk_describe(const struct pack_kiosk *k, struct kk_buf *out)
{
    const cJSON *s = k->screen;
    if (!s) {
        kk_buf_adds(out, "its start (no screen shown yet)");
        return;
    }
    kk_buf_addf(out, "the %s screen (", pack_kiosk_field(k, "scene"));
    int page, screen, screens, q;
    const char *topic = pack_kiosk_field(k, "topic");
    if (*topic)
        kk_buf_addf(out, "topic %s, ", topic);
    if (screen_int(s, "page", &page))
        kk_buf_addf(out, "page %d, ", page + 1);
    if (screen_int(s, "screen", &screen) && screen_int(s, "screens", &screens))
        kk_buf_addf(out, "screen %d of %d, ", screen + 1, screens);
    const cJSON *quiz = cJSON_GetObjectItemCaseSensitive(s, "quiz");
    const cJSON *qid = cJSON_GetObjectItemCaseSensitive(quiz, "question");
    if (screen_int(quiz, "index", &q))
        kk_buf_addf(out, "question %d%s%s%s, ", q + 1, cJSON_IsString(qid) ? " (" : "",
                    cJSON_IsString(qid) ? qid->valuestring : "", cJSON_IsString(qid) ? ")" : "");
    int size[2] = {0, 0};
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(s, "size");
    for (int i = 0; i < 2 && cJSON_GetArraySize(sz) == 2; i++)
        size[i] = cJSON_GetArrayItem(sz, i)->valueint;
    kk_buf_addf(out, "%s, %dx%d, %s)", pack_kiosk_field(k, "lang"), size[0], size[1],
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "large_text")) ? "large text"
                                                                                : "normal text");
}

void pack_kiosk_close(struct pack_kiosk *k)
{
    if (!k)
        return;
    if (k->pid > 0 && !k->dead) {
        static const char quit[] = "{\"quit\":true}\n";
        if (write(k->in_fd, quit, sizeof(quit) - 1) < 0) {
            /* already gone: waiting below collects it */
        }
    }
    if (k->in_fd >= 0)
        close(k->in_fd); /* end of input quits the kiosk too */
    if (k->pid > 0) {
        /* Read what it still says until it closes its output, so it never blocks on a full
         * pipe while we wait for it; then collect it, or kill it when time is up. */
        long long deadline = now_ms() + k->timeout_ms;
        char chunk[65536];
        while (k->out_fd >= 0 && now_ms() < deadline) {
            struct pollfd p = {k->out_fd, POLLIN, 0};
            int r = poll(&p, 1, 100);
            if (r < 0 && errno != EINTR)
                break;
            if (r > 0 && read(k->out_fd, chunk, sizeof(chunk)) <= 0)
                break;
        }
        int status;
        pid_t r;
        while ((r = waitpid(k->pid, &status, WNOHANG)) == 0 && now_ms() < deadline) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (r == 0) {
            kill(k->pid, SIGKILL);
            while (waitpid(k->pid, &status, 0) < 0 && errno == EINTR)
                ;
        }
    }
    if (k->out_fd >= 0)
        close(k->out_fd);
    cJSON_Delete(k->screen);
    cJSON_Delete(k->reply);
    kk_buf_release(&k->pending);
    kk_free(k->log_path);
    kk_free(k);
}

enum kk_err pack_kiosk_decode(const char *exe, const struct kk_image *img, int w, int h,
                              int budget_ms, long long *took_ms, struct kk_buf *err)
{
    static const char *types[] = {
        [KK_IMG_PNG] = "png", [KK_IMG_JPEG] = "jpeg", [KK_IMG_SVG] = "svg"};
    char size[32];
    snprintf(size, sizeof(size), "%dx%d", w, h);
    char *args[] = {(char *)exe, "--decode", (char *)types[img->type], size, img->path, NULL};
    int fds[2];
    pid_t pid = -1;
    enum kk_err rc;
    pthread_mutex_lock(&spawn_lock);
    if (cloexec_pipe(fds) < 0) {
        pthread_mutex_unlock(&spawn_lock);
        return kk_fail(err, KK_ERR_IO, "a pipe for the kiosk: %s", strerror(errno));
    }
    long long start = now_ms();
    rc = spawn(&pid, exe, args, -1, fds[1], "/dev/null", err);
    pthread_mutex_unlock(&spawn_lock);
    close(fds[1]);
    char out[512];
    size_t len = 0;
    int timed_out = 0;
    while (!rc && len < sizeof(out) - 1) {
        long long left = start + budget_ms - now_ms();
        struct pollfd pf = {fds[0], POLLIN, 0};
        int r = left > 0 ? poll(&pf, 1, (int)left) : 0;
        if (r < 0 && errno == EINTR && !interrupted)
            continue;
        if (r <= 0) {
            timed_out = r == 0;
            break;
        }
        ssize_t got = read(fds[0], out + len, sizeof(out) - 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fds[0]);
    out[len] = '\0';
    out[strcspn(out, "\n")] = '\0';
    int status = 0;
    if (pid > 0) {
        if (timed_out || interrupted)
            kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    *took_ms = now_ms() - start;
    if (rc)
        return rc;
    if (interrupted)
        return kk_fail(err, KK_ERR_IO, "interrupted");
    if (timed_out)
        return kk_fail(err, KK_ERR_TOOBIG,
                       "decoding takes over %d ms (the kiosk would not show it): simplify it "
                       "(fewer paths and points) or use a PNG",
                       budget_ms);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !strncmp(out, "ok ", 3))
        return KK_OK;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 1 && out[0])
        return kk_fail(err, KK_ERR_INVALID, "cannot be decoded: %s", out);
    struct kk_buf how = KK_BUF_INIT;
    describe_status(status, &how);
    rc = kk_fail(err, KK_ERR_IO, "the kiosk decoding it ended with %s", kk_buf_str(&how));
    kk_buf_release(&how);
    return rc;
}
