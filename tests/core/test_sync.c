/* kk_sync against the real kepu-server on a loopback port (redis's start_server), and
 * against a tiny fake HTTP server in this file for the failures a real one does not make
 * on purpose: 500s, garbage, truncated or huge answers, closed connections, silence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sodium.h>
#include <sqlite3.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/buf.h"
#include "kepu/bundle.h"
#include "kepu/config.h"
#include "kepu/event.h"
#include "kepu/fs.h"
#include "kepu/install.h"
#include "kepu/journal.h"
#include "kepu/manifest.h"
#include "kepu/sync.h"

/* ---- helpers ------------------------------------------------------------------------- */

static char tmp[64];
static char bin[512];
static char data_dir[600], log_path[600], key_name[600], pub_path[600];
static pid_t server_pid;
static int server_port;
static char staff_token[128];
static char kiosk_tokens[10][128]; /* k-0001 .. k-0010 */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static char *path_in(const char *dir, const char *rel)
{
    char *p = kk_path_join(dir, rel);
    assert_non_null(p);
    return p;
}

/* Runs a shell command and returns its first output line (trimmed) in out. */
static int run_cmd(char *out, size_t size, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[512] = "";
    if (!fgets(line, sizeof(line), p))
        line[0] = '\0';
    while (fgets(cmd, sizeof(cmd), p))
        ;
    int rc = pclose(p);
    line[strcspn(line, "\r\n")] = '\0';
    if (out)
        snprintf(out, size, "%s", line);
    return rc;
}

/* Starts kepu-server on port (0: any) and waits until it listens. */
static void server_start(int port)
{
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    truncate(log_path, 0);
    server_pid = fork();
    assert_true(server_pid >= 0);
    if (server_pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        unsetenv("KEPU_LOG"); /* its "listening on ... port N" line is info */
        /* No rate limit: these tests send tens of thousands of events at once. */
        execl(bin, bin, "serve", "--listen", listen, "--data", data_dir, "--trusted-keys", pub_path,
              "--kiosk-rate", "0", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        struct kk_buf b = KK_BUF_INIT;
        if (kk_file_read(log_path, 1 << 20, &b, NULL) == KK_OK) {
            const char *p = strstr(kk_buf_str(&b), " port ");
            long port_seen = p ? strtol(p + 6, NULL, 10) : 0;
            if (port_seen > 0) {
                server_port = (int)port_seen;
                kk_buf_release(&b);
                return;
            }
        }
        kk_buf_release(&b);
        sleep_ms(25);
    }
    fail_msg("kepu-server did not start; see %s", log_path);
}

static void server_stop(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
}

static char *server_url(int port)
{
    static char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    return url;
}

/* The server's database, read-only, waiting for its writer when busy. */
static sqlite3 *open_server_db(void)
{
    sqlite3 *db;
    char *db_path = path_in(data_dir, "kepu.db");
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    kk_free(db_path);
    return db;
}

/* Events of kiosk in the server's database: how many, and how many distinct ids. */
static void server_count(const char *kiosk, long *n, long *distinct)
{
    sqlite3 *db = open_server_db();
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*), count(DISTINCT id) FROM events"
                                        " WHERE kiosk = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, kiosk, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    *n = sqlite3_column_int64(st, 0);
    *distinct = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static struct kk_journal *journal_with(const char *name, const char *kiosk, int n)
{
    struct kk_journal *j;
    char *p = path_in(tmp, name);
    assert_int_equal(kk_journal_open(&j, p, 0, NULL), KK_OK);
    kk_free(p);
    struct kk_event_ctx ctx = {.kiosk = kiosk, .audience = -1, .lang = KK_LANG_ZH};
    kk_event_new_session(&ctx);
    for (int i = 0; i < n; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "topic", "quake");
        cJSON_AddNumberToObject(f, "page", i % 10);
        cJSON_AddNumberToObject(f, "dwell_ms", 1000 + i);
        char *ev = kk_event_make(&ctx, "page_view", f, NULL);
        assert_non_null(ev);
        enum kk_err rc;
        while ((rc = kk_journal_append(j, ev)) == KK_ERR_BUSY)
            sleep_ms(5);
        assert_int_equal(rc, KK_OK);
        kk_free(ev);
    }
    assert_int_equal(kk_journal_flush(j, NULL), KK_OK);
    assert_int_equal(kk_journal_count(j), (uint64_t)n);
    return j;
}

static uint32_t batch_max;         /* 0: the default */
static uint32_t request_timeout_s; /* 0: the default */

static struct kk_sync *make_sync(const char *url, int kiosk_no, struct kk_journal *j,
                                 const char *state_name)
{
    struct kk_sync_opts o;
    struct kk_sync *s;
    struct kk_buf err = KK_BUF_INIT;
    char kiosk[16];
    snprintf(kiosk, sizeof(kiosk), "k-%04d", kiosk_no);
    char *state = path_in(tmp, state_name);
    assert_int_equal(kk_mkdirs(state, 0755, NULL), KK_OK);
    kk_sync_opts_init(&o);
    o.server_url = url;
    o.kiosk_id = kiosk;
    o.token = kiosk_tokens[kiosk_no - 1];
    o.trusted_keys = pub_path;
    o.state_dir = state;
    o.journal = j;
    o.app_version = "test";
    o.backoff_min_ms = 50;
    o.backoff_max_ms = 200;
    o.interval_ms = 60000;
    o.connect_timeout_s = 2;
    o.stall_s = 5;
    o.batch_max = batch_max;
    o.request_timeout_s = request_timeout_s;
    if (kk_sync_create(&s, &o, &err))
        fail_msg("kk_sync_create: %s", kk_buf_str(&err));
    kk_free(state);
    kk_buf_release(&err);
    return s;
}

static void wait_for(struct kk_sync *s, int (*done)(const struct kk_sync_status *, long), long arg,
                     unsigned timeout_ms, struct kk_sync_status *st)
{
    uint64_t end = now_ms() + timeout_ms;
    do {
        kk_sync_status(s, st);
        if (done(st, arg))
            return;
        sleep_ms(20);
    } while (now_ms() < end);
    fail_msg("timed out; last result: %s", st->last_result);
}

static int queue_empty(const struct kk_sync_status *st, long arg)
{
    (void)arg;
    return st->runs > 0 && st->queue == 0 && st->failures == 0;
}

static int failed_n(const struct kk_sync_status *st, long n)
{
    return st->failures >= (unsigned)n;
}

/* ---- the fake server ----------------------------------------------------------------- */

enum fake_mode {
    FAKE_500,
    FAKE_GARBAGE,
    FAKE_TRUNCATED,
    FAKE_CLOSE,
    FAKE_WRONG_COUNT,
    FAKE_HUGE,
    FAKE_HANG,
    FAKE_DRIP /* answers every request with a long body sent a few bytes at a time */
};

struct fake {
    int lfd, port, stop_pipe[2];
    enum fake_mode mode;
    atomic_int requests, event_posts, hanging;
    int held[64];
    int nheld;
    pthread_t thread;
    int drip_bytes;          /* FAKE_DRIP: bytes per 100 ms, for at most 15 s */
    char heartbeat[4][2048]; /* the bodies of the first heartbeats */
    atomic_int heartbeats;
};

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void answer(int fd, const char *status, const char *body)
{
    char head[256];
    snprintf(head, sizeof(head),
             "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n",
             status, strlen(body));
    send_all(fd, head, strlen(head));
    send_all(fd, body, strlen(body));
}

/* Reads one request (headers and body) and sets *is_events for POST /api/v1/events; keeps
 * the start of the body in body (cap bytes, NUL-terminated) when body is not NULL. Returns 0,
 * or -1 when the connection broke. */
static int read_request(int fd, int *is_events, char *body, size_t cap)
{
    char buf[65536];
    size_t have = 0;
    char *end = NULL;
    while (!end) {
        ssize_t r = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
        if (r <= 0)
            return -1;
        have += (size_t)r;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (!end && have == sizeof(buf) - 1)
            return -1;
    }
    *is_events = !strncmp(buf, "POST /api/v1/events", 19);
    long len = 0;
    const char *cl = strstr(buf, "\r\nContent-Length:");
    if (cl)
        len = strtol(cl + 17, NULL, 10);
    long got = (long)(have - (size_t)(end + 4 - buf));
    if (body && cap)
        snprintf(body, cap, "%.*s", (int)got, end + 4);
    while (got < len) {
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r <= 0)
            return -1;
        got += r;
    }
    return 0;
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    for (;;) {
        struct pollfd p[2] = {{f->lfd, POLLIN, 0}, {f->stop_pipe[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno == EINTR)
            continue;
        if (p[1].revents)
            break;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        atomic_fetch_add(&f->requests, 1);
        if (f->mode == FAKE_HANG) {
            if (f->nheld < 64)
                f->held[f->nheld++] = fd;
            else
                close(fd);
            atomic_fetch_add(&f->hanging, 1);
            continue;
        }
        int is_events = 0;
        char body[2048] = "";
        if (f->mode == FAKE_CLOSE || read_request(fd, &is_events, body, sizeof(body)) < 0) {
            close(fd);
            continue;
        }
        if (f->mode == FAKE_DRIP) {
            const char *t = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            "Content-Length: 10000000\r\n\r\n";
            send_all(fd, t, strlen(t));
            char drip[512];
            memset(drip, ' ', sizeof(drip));
            for (int tick = 0; tick < 150; tick++) {
                struct pollfd q = {f->stop_pipe[0], POLLIN, 0};
                if (poll(&q, 1, 100) > 0)
                    break;
                if (send(fd, drip, (size_t)f->drip_bytes, MSG_NOSIGNAL) <= 0)
                    break;
            }
            close(fd);
            continue;
        }
        if (!is_events) {
            int h = atomic_fetch_add(&f->heartbeats, 1);
            if (h < 4)
                snprintf(f->heartbeat[h], sizeof(f->heartbeat[h]), "%s", body);
            answer(fd, "200 OK", "{\"time\":1,\"packs\":[]}");
            close(fd);
            continue;
        }
        atomic_fetch_add(&f->event_posts, 1);
        switch (f->mode) {
        case FAKE_500:
            answer(fd, "500 Internal Server Error", "{\"error\":\"the store broke\"}");
            break;
        case FAKE_GARBAGE:
            answer(fd, "200 OK", "<html>\x01\x02 not json at all");
            break;
        case FAKE_TRUNCATED: {
            const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"accepted\":";
            send_all(fd, t, strlen(t));
            break;
        }
        case FAKE_WRONG_COUNT:
            answer(fd, "200 OK", "{\"accepted\":1,\"duplicates\":0,\"rejected\":[]}");
            break;
        case FAKE_HUGE: {
            const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 8388608\r\n\r\n";
            send_all(fd, t, strlen(t));
            static char junk[65536];
            memset(junk, 'x', sizeof(junk));
            for (int i = 0; i < 128; i++)
                send_all(fd, junk, sizeof(junk));
            break;
        }
        case FAKE_CLOSE:
        case FAKE_HANG:
        case FAKE_DRIP:
            break;
        }
        close(fd);
    }
    return NULL;
}

static void fake_start(struct fake *f, enum fake_mode mode)
{
    memset(f, 0, sizeof(*f));
    f->mode = mode;
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->lfd, 16), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &alen), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pipe(f->stop_pipe), 0);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    assert_int_equal(write(f->stop_pipe[1], "x", 1), 1);
    pthread_join(f->thread, NULL);
    for (int i = 0; i < f->nheld; i++)
        close(f->held[i]);
    close(f->lfd);
    close(f->stop_pipe[0]);
    close(f->stop_pipe[1]);
}

/* ---- fixture: a fleet on one real server --------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    /* Proxies come from the environment; these tests talk to loopback only. */
    setenv("no_proxy", "127.0.0.1", 1);
    const char *build = getenv("KK_BUILD_DIR");
    if (!build)
        fail_msg("KK_BUILD_DIR is not set");
    snprintf(bin, sizeof(bin), "%s/src/server/kepu-server", build);
    if (access(bin, X_OK))
        fail_msg("%s is not built", bin);
    snprintf(tmp, sizeof(tmp), "/tmp/kk-sync-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    snprintf(data_dir, sizeof(data_dir), "%s/data", tmp);
    snprintf(log_path, sizeof(log_path), "%s/server.log", tmp);
    snprintf(key_name, sizeof(key_name), "%s/packkey", tmp);
    snprintf(pub_path, sizeof(pub_path), "%s/packkey.pub", tmp);
    assert_int_equal(kk_manifest_keygen(key_name, NULL), KK_OK);
    assert_int_equal(
        run_cmd(NULL, 0, "'%s' venue add v1 --name 'Museum' --data '%s'", bin, data_dir), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(run_cmd(kiosk_tokens[i], sizeof(kiosk_tokens[i]),
                                 "'%s' kiosk add k-%04d --venue v1 --data '%s'", bin, i + 1,
                                 data_dir),
                         0);
    assert_int_equal(run_cmd(staff_token, sizeof(staff_token),
                             "echo staff-pass-1 | '%s' user add bob --role staff --data '%s'", bin,
                             data_dir),
                     0);
    assert_true(strlen(staff_token) > 10);
    server_start(0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    server_stop();
    kk_remove_tree(tmp, NULL);
    return 0;
}

/* ---- events -------------------------------------------------------------------------- */

static void test_events_exactly_once(void **state)
{
    (void)state;
    struct kk_journal *j = journal_with("j1.db", "k-0001", 10000);
    struct kk_sync *s = make_sync(server_url(server_port), 1, j, "state1");
    struct kk_buf err = KK_BUF_INIT;
    struct kk_sync_status st;
    long n, distinct;
    kk_sync_status(s, &st);
    assert_int_equal(st.queue, 10000); /* known before any run */
    assert_int_equal(st.runs, 0);

    if (kk_sync_run(s, &err))
        fail_msg("run: %s", kk_buf_str(&err));
    kk_sync_status(s, &st);
    assert_int_equal(st.events_sent, 10000);
    assert_int_equal(st.queue, 0);
    assert_int_equal(st.failures, 0);
    assert_true(st.last_success_ms > 0);
    assert_non_null(strstr(st.last_result, "10000 events"));
    assert_int_equal(kk_journal_count(j), 0);
    server_count("k-0001", &n, &distinct);
    assert_int_equal(n, 10000);
    assert_int_equal(distinct, 10000);

    /* An answer that was lost: the same events again are duplicates and leave the journal. */
    struct kk_journal *j2 = journal_with("j1b.db", "k-0001", 300);
    struct kk_journal_batch b = {0};
    assert_int_equal(kk_journal_peek(j2, 300, &b, NULL), KK_OK);
    struct kk_sync *s2 = make_sync(server_url(server_port), 1, j2, "state1");
    assert_int_equal(kk_sync_run(s2, NULL), KK_OK);
    for (size_t i = 0; i < b.n; i++)
        assert_int_equal(kk_journal_append(j2, b.json[i]), KK_OK);
    assert_int_equal(kk_journal_flush(j2, NULL), KK_OK);
    assert_int_equal(kk_journal_count(j2), 300);
    assert_int_equal(kk_sync_run(s2, NULL), KK_OK);
    assert_int_equal(kk_journal_count(j2), 0);
    server_count("k-0001", &n, &distinct);
    assert_int_equal(n, 10300);
    kk_journal_batch_release(&b);

    /* The thread: events appended while it runs arrive after "sync now". */
    assert_int_equal(kk_sync_start(s, NULL), KK_OK);
    assert_int_equal(kk_sync_start(s, NULL), KK_ERR_BUSY);
    wait_for(s, queue_empty, 0, 10000, &st);
    struct kk_event_ctx ctx = {.kiosk = "k-0001", .audience = -1, .lang = KK_LANG_EN};
    for (int i = 0; i < 50; i++) {
        char *ev = kk_event_make(&ctx, "idle_reset", NULL, NULL);
        assert_int_equal(kk_journal_append(j, ev), KK_OK);
        kk_free(ev);
    }
    assert_int_equal(kk_journal_flush(j, NULL), KK_OK);
    uint64_t runs = st.runs;
    kk_sync_now(s);
    uint64_t end = now_ms() + 10000;
    do {
        sleep_ms(20);
        kk_sync_status(s, &st);
    } while ((st.runs == runs || st.queue) && now_ms() < end);
    assert_int_equal(st.queue, 0);
    assert_true(st.next_attempt_ms > st.last_attempt_ms + 50000); /* the interval, not now */
    kk_sync_stop(s);
    server_count("k-0001", &n, &distinct);
    assert_int_equal(n, 10350);
    assert_int_equal(distinct, 10350);

    kk_sync_destroy(s);
    kk_sync_destroy(s2);
    kk_journal_close(j);
    kk_journal_close(j2);
    kk_buf_release(&err);
}

/* Rejected events (the server can never take them) are deleted and counted. */
static void test_rejected_events(void **state)
{
    (void)state;
    /* Events of another kiosk in this kiosk's journal: every one is rejected. */
    struct kk_journal *j = journal_with("j-rej.db", "k-0003", 20);
    struct kk_sync *s = make_sync(server_url(server_port), 2, j, "state-rej");
    struct kk_sync_status st;
    assert_int_equal(kk_sync_run(s, NULL), KK_OK);
    kk_sync_status(s, &st);
    assert_int_equal(st.events_rejected, 20);
    assert_int_equal(st.events_sent, 0);
    assert_int_equal(kk_journal_count(j), 0);
    long n, distinct;
    server_count("k-0003", &n, &distinct);
    assert_int_equal(n, 0);
    kk_sync_destroy(s);
    kk_journal_close(j);
}

/* The server down for a while: the backlog stays, then drains when it is back. */
static void test_server_down_then_up(void **state)
{
    (void)state;
    struct kk_journal *j = journal_with("j2.db", "k-0002", 1200);
    int port = server_port;
    server_stop();
    struct kk_sync *s = make_sync(server_url(port), 2, j, "state2");
    struct kk_sync_status st;
    assert_int_equal(kk_sync_start(s, NULL), KK_OK);
    wait_for(s, failed_n, 4, 10000, &st);
    assert_non_null(strstr(st.last_result, "heartbeat"));
    assert_int_equal(st.queue, 1200);
    assert_int_equal(kk_journal_count(j), 1200);
    assert_true(st.next_attempt_ms > 0);
    server_start(port);
    assert_int_equal(server_port, port);
    wait_for(s, queue_empty, 0, 15000, &st);
    kk_sync_stop(s);
    long n, distinct;
    server_count("k-0002", &n, &distinct);
    assert_int_equal(n, 1200);
    assert_int_equal(distinct, 1200);
    kk_sync_destroy(s);
    kk_journal_close(j);
}

/* ---- crashes ------------------------------------------------------------------------- */

/* The kiosk killed (SIGKILL) at random moments during uploads, then restarted: every event
 * arrives exactly once (an answer lost with the process makes duplicates the server
 * recognises by id). */
static void test_kiosk_killed(void **state)
{
    (void)state;
    const int n = 3000;
    struct kk_journal *j = journal_with("j9.db", "k-0009", n);
    kk_journal_close(j);
    char *jpath = path_in(tmp, "j9.db");
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    print_message("seed %u\n", seed);
    for (int round = 0; round < 50; round++) { /* issue 6: 50 kills of the kiosk */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct kk_journal *cj;
            if (kk_journal_open(&cj, jpath, 0, NULL))
                _exit(3);
            batch_max = 25;
            struct kk_sync *s = make_sync(server_url(server_port), 9, cj, "state9");
            kk_sync_run(s, NULL);
            _exit(0);
        }
        sleep_ms(10 + (unsigned)(rand() % 60));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    assert_int_equal(kk_journal_open(&j, jpath, 0, NULL), KK_OK);
    long before, distinct;
    server_count("k-0009", &before, &distinct);
    print_message("%ld of %d events arrived before the last restart\n", before, n);
    struct kk_sync *s = make_sync(server_url(server_port), 9, j, "state9");
    struct kk_buf err = KK_BUF_INIT;
    if (kk_sync_run(s, &err))
        fail_msg("run: %s", kk_buf_str(&err));
    assert_int_equal(kk_journal_count(j), 0);
    long got;
    server_count("k-0009", &got, &distinct);
    assert_int_equal(got, n);
    assert_int_equal(distinct, n);
    kk_sync_destroy(s);
    kk_journal_close(j);
    kk_free(jpath);
    kk_buf_release(&err);
}

/* The server killed (SIGKILL) at random moments while the sync thread uploads, and
 * restarted on the same port: the backlog drains, every event stored once. */
static void test_server_killed(void **state)
{
    (void)state;
    const int n = 20000; /* enough that uploads go on through all 50 kills */
    struct kk_journal *j = journal_with("j10.db", "k-0010", n);
    struct kk_sync_opts o;
    struct kk_sync *s;
    char *sdir = path_in(tmp, "state10");
    assert_int_equal(kk_mkdirs(sdir, 0755, NULL), KK_OK);
    kk_sync_opts_init(&o);
    o.server_url = server_url(server_port);
    o.kiosk_id = "k-0010";
    o.token = kiosk_tokens[9];
    o.state_dir = sdir;
    o.journal = j;
    o.batch_max = 20;
    o.backoff_min_ms = 20;
    o.backoff_max_ms = 100;
    o.connect_timeout_s = 2;
    o.stall_s = 3;
    assert_int_equal(kk_sync_create(&s, &o, NULL), KK_OK);
    int port = server_port;
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    print_message("seed %u\n", seed);
    assert_int_equal(kk_sync_start(s, NULL), KK_OK);
    for (int round = 0; round < 50; round++) { /* issue 6: 50 kills of the server */
        sleep_ms(30 + (unsigned)(rand() % 150));
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
        server_start(port);
        kk_sync_now(s);
    }
    long got, distinct;
    server_count("k-0010", &got, &distinct);
    print_message("%ld of %d events arrived during the kills\n", got, n);
    struct kk_sync_status st;
    wait_for(s, queue_empty, 0, 30000, &st);
    kk_sync_stop(s);
    server_count("k-0010", &got, &distinct);
    assert_int_equal(got, n);
    assert_int_equal(distinct, n);
    kk_sync_destroy(s);
    kk_journal_close(j);
    kk_free(sdir);
}

/* ---- a misbehaving server ------------------------------------------------------------ */

/* Counts lines of captured stderr that contain needle. */
static int count_lines(const char *path, const char *needle)
{
    struct kk_buf b = KK_BUF_INIT;
    int n = 0;
    if (kk_file_read(path, 1 << 24, &b, NULL) == KK_OK)
        for (const char *p = kk_buf_str(&b); (p = strstr(p, needle)) != NULL; p++)
            n++;
    kk_buf_release(&b);
    return n;
}

static void test_bad_servers(void **state)
{
    (void)state;
    static const struct {
        enum fake_mode mode;
        const char *cause; /* in the status and the log */
    } cases[] = {
        {FAKE_500, "HTTP 500: the store broke"},   {FAKE_GARBAGE, "not {\"accepted\""},
        {FAKE_TRUNCATED, "POST /api/v1/events: "}, {FAKE_CLOSE, "POST /api/v1/heartbeat: "},
        {FAKE_WRONG_COUNT, "do not add up"},       {FAKE_HUGE, "larger than allowed"},
    };
    struct kk_journal *j = journal_with("j3.db", "k-0004", 700);
    char *errlog = path_in(tmp, "stderr.log");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fake f;
        struct kk_sync_status st;
        fake_start(&f, cases[i].mode);
        struct kk_sync *s = make_sync(server_url(f.port), 4, j, "state3");
        /* Capture this sync's log lines. */
        fflush(stderr);
        int saved = dup(2);
        int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        close(fd);
        assert_int_equal(kk_sync_start(s, NULL), KK_OK);
        wait_for(s, failed_n, 8, 15000, &st);
        kk_sync_stop(s);
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        if (!strstr(st.last_result, cases[i].cause))
            fail_msg("case %zu: last result [%s] lacks [%s]", i, st.last_result, cases[i].cause);
        assert_int_equal(st.queue, 700);
        assert_int_equal(kk_journal_count(j), 700);
        assert_int_equal(st.events_sent, 0);
        /* Logged once per cause, not once per retry (a closed connection may show as one of
         * two or three reasons of libcurl). */
        int logged = count_lines(errlog, cases[i].cause);
        if (logged < 1 || logged > (cases[i].mode == FAKE_CLOSE ? 3 : 1))
            fail_msg("case %zu: cause logged %d times over %u failures", i, logged, st.failures);
        assert_true(atomic_load(&f.requests) >= 8);
        kk_sync_destroy(s);
        fake_stop(&f);
    }
    /* Nothing was lost: the real server gets all of them, once. */
    struct kk_sync *s = make_sync(server_url(server_port), 4, j, "state3");
    assert_int_equal(kk_sync_run(s, NULL), KK_OK);
    long n, distinct;
    server_count("k-0004", &n, &distinct);
    assert_int_equal(n, 700);
    assert_int_equal(distinct, 700);
    kk_sync_destroy(s);
    kk_journal_close(j);
    kk_free(errlog);
}

/* A server that accepts and never answers: stop still returns at once. */
static void test_stop_while_hanging(void **state)
{
    (void)state;
    struct fake f;
    struct kk_journal *j = journal_with("j4.db", "k-0005", 10);
    fake_start(&f, FAKE_HANG);
    struct kk_sync *s = make_sync(server_url(f.port), 5, j, "state4");
    assert_int_equal(kk_sync_start(s, NULL), KK_OK);
    uint64_t end = now_ms() + 5000;
    while (atomic_load(&f.hanging) == 0 && now_ms() < end)
        sleep_ms(10);
    assert_true(atomic_load(&f.hanging) > 0);
    sleep_ms(300);
    struct kk_sync_status st;
    kk_sync_status(s, &st);
    assert_int_equal(st.running, 1);
    uint64_t t0 = now_ms();
    kk_sync_stop(s);
    uint64_t took = now_ms() - t0;
    if (took > 2000)
        fail_msg("kk_sync_stop took %llu ms", (unsigned long long)took);
    kk_sync_status(s, &st);
    assert_int_equal(st.running, 0);
    assert_string_equal(st.last_result, "stopped");
    assert_int_equal(st.failures, 0);
    assert_int_equal(kk_journal_count(j), 10);
    kk_sync_destroy(s);
    kk_journal_close(j);
    fake_stop(&f);
}

/* ---- content ------------------------------------------------------------------------- */

static char pack_id[80];

/* Builds the sample pack (with version and optionally one image changed), bundles it,
 * stores it with kepu-server pack add and assigns it to kiosk k-0006. */
static void publish(const char *version, const char *image, const char *extra)
{
    char src[700], out[700], kpk[700], keyfile[700];
    const char *source = getenv("KK_SOURCE_DIR");
    assert_non_null(source);
    snprintf(src, sizeof(src), "%s/src-%s", tmp, version);
    snprintf(out, sizeof(out), "%s/built-%s", tmp, version);
    snprintf(kpk, sizeof(kpk), "%s/pack-%s.kpk", tmp, version);
    snprintf(keyfile, sizeof(keyfile), "%s.key", key_name);
    assert_int_equal(run_cmd(NULL, 0, "cp -r '%s/content/safety-and-health' '%s'", source, src), 0);
    /* The new version in pack.json. */
    struct kk_buf b = KK_BUF_INIT;
    char *pj = path_in(src, "pack.json");
    assert_int_equal(kk_file_read(pj, 1 << 20, &b, NULL), KK_OK);
    cJSON *root = cJSON_Parse(kk_buf_str(&b));
    assert_non_null(root);
    snprintf(pack_id, sizeof(pack_id), "%s",
             cJSON_GetObjectItemCaseSensitive(root, "id")->valuestring);
    cJSON_ReplaceItemInObjectCaseSensitive(root, "version", cJSON_CreateString(version));
    char *text = cJSON_Print(root);
    assert_int_equal(kk_file_write_atomic(pj, text, strlen(text), NULL), KK_OK);
    cJSON_free(text);
    cJSON_Delete(root);
    kk_buf_release(&b);
    kk_free(pj);
    /* Issue 6 measures a 20 MB pack: eight 2.5 MB photographs that stay the same in every
     * version (the same seed each time), so only what changed should travel. */
    for (int i = 0; i < 8; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "images/photo-%d.bin", i);
        char *fp_path = path_in(src, rel);
        FILE *fp = fopen(fp_path, "wb");
        assert_non_null(fp);
        unsigned state = 12345u + (unsigned)i;
        for (int k = 0; k < (5 << 19); k++) {
            state = state * 1103515245u + 12345u;
            fputc((int)(state >> 16) & 0xff, fp);
        }
        fclose(fp);
        kk_free(fp_path);
    }
    /* Changed images: a comment after the root element changes the bytes only. */
    for (const char *img = image; img; img = img == image ? extra : NULL) {
        char *ip = path_in(src, img);
        FILE *fp = fopen(ip, "ab");
        assert_non_null(fp);
        fprintf(fp, "<!-- changed for %s -->\n", version);
        fclose(fp);
        kk_free(ip);
    }
    struct kk_seckey sec;
    assert_int_equal(kk_manifest_seckey_read(keyfile, &sec, NULL), KK_OK);
    assert_int_equal(kk_manifest_build(src, out, &sec, NULL), KK_OK);
    assert_int_equal(kk_bundle_write(out, kpk, NULL), KK_OK);
    /* Stored as a version the way an operator does (a staff upload goes to review,
     * docs/review.md), while the server runs. */
    assert_int_equal(run_cmd(NULL, 0, "'%s' pack add '%s' --trusted-keys '%s' --data '%s'", bin,
                             kpk, pub_path, data_dir),
                     0);
    assert_int_equal(run_cmd(NULL, 0, "'%s' assign '%s@%s' --kiosk k-0006 --data '%s'", bin,
                             pack_id, version, data_dir),
                     0);
}

static long file_size(const char *dir, const char *rel)
{
    char *p = path_in(dir, rel);
    struct stat st;
    long n = stat(p, &st) == 0 ? (long)st.st_size : -1;
    kk_free(p);
    return n;
}

/* The sum of the sizes of every file of a built pack, MANIFEST.json and .sig included. */
static long tree_bytes(const char *dir)
{
    char out[64];
    assert_int_equal(run_cmd(out, sizeof(out),
                             "find '%s' -type f -printf '%%s\\n' | "
                             "awk '{s+=$1} END {print s}'",
                             dir),
                     0);
    return strtol(out, NULL, 10);
}

static const char *active_version(const char *state, struct kk_install_list *l)
{
    assert_int_equal(kk_install_list_read(state, l, NULL), KK_OK);
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->items[i].id, pack_id))
            return l->items[i].version;
    return NULL;
}

static void test_content(void **state)
{
    (void)state;
    struct kk_sync_status st;
    struct kk_install_list l = {0};
    struct kk_buf err = KK_BUF_INIT;
    char built[700];
    char *sdir = path_in(tmp, "state6");
    struct kk_sync *s = make_sync(server_url(server_port), 6, NULL, "state6");
    struct kk_pubkey pub;
    assert_int_equal(kk_manifest_pubkey_read(pub_path, &pub, NULL), KK_OK);

    /* First version: everything is downloaded, verified and installed. */
    publish("2026.11.1", NULL, NULL);
    if (kk_sync_run(s, &err))
        fail_msg("run: %s", kk_buf_str(&err));
    kk_sync_status(s, &st);
    snprintf(built, sizeof(built), "%s/built-2026.11.1", tmp);
    assert_int_equal(st.content_bytes, tree_bytes(built));
    assert_int_equal(st.installs, 1);
    assert_int_equal(st.install_pending, 1);
    assert_string_equal(active_version(sdir, &l), "2026.11.1");
    kk_install_list_release(&l);
    char *inst = kk_install_path(sdir, pack_id, "2026.11.1");
    assert_int_equal(kk_manifest_verify(inst, &pub, 1, NULL, NULL), KK_OK);
    kk_free(inst);
    kk_sync_install_seen(s);

    /* One image changed: only that image, pack.json (it holds the version), the manifest and
     * its signature travel. */
    publish("2026.11.2", "images/emergency-kit.svg", NULL);
    uint64_t before = st.content_bytes;
    if (kk_sync_run(s, &err))
        fail_msg("run: %s", kk_buf_str(&err));
    kk_sync_status(s, &st);
    snprintf(built, sizeof(built), "%s/built-2026.11.2", tmp);
    long expect = file_size(built, "images/emergency-kit.svg") + file_size(built, "pack.json") +
                  file_size(built, "MANIFEST.json") + file_size(built, "MANIFEST.sig");
    assert_int_equal(st.content_bytes - before, expect);
    assert_string_equal(active_version(sdir, &l), "2026.11.2");
    assert_string_equal(l.items[0].previous, "2026.11.1");
    kk_install_list_release(&l);
    char want[160];
    snprintf(want, sizeof(want), "%s@2026.11.2", pack_id);
    assert_string_equal(st.last_installed, want);

    /* While the app has not switched, a newer version waits. */
    publish("2026.11.3", "images/drop-cover-hold.svg", NULL);
    before = st.content_bytes;
    assert_int_equal(kk_sync_run(s, NULL), KK_OK);
    kk_sync_status(s, &st);
    assert_int_equal(st.installs, 2);
    assert_int_equal(st.content_bytes, before);
    assert_string_equal(active_version(sdir, &l), "2026.11.2");
    kk_install_list_release(&l);
    kk_sync_install_seen(s);

    /* A blob tampered on the server is refused; the old version stays. */
    snprintf(built, sizeof(built), "%s/built-2026.11.3", tmp);
    uint64_t size;
    unsigned char sha[32];
    char hex[65], blob[800];
    char *img = path_in(built, "images/drop-cover-hold.svg");
    struct kk_buf good = KK_BUF_INIT;
    assert_int_equal(kk_file_read(img, 1 << 24, &good, NULL), KK_OK);
    crypto_hash_sha256(sha, (unsigned char *)good.data, good.len);
    size = good.len;
    kk_hex_encode(hex, sha, 32);
    snprintf(blob, sizeof(blob), "%s/blobs/%.2s/%s", data_dir, hex, hex);
    struct kk_buf bad = KK_BUF_INIT;
    assert_int_equal(kk_buf_add(&bad, good.data, good.len), KK_OK);
    bad.data[good.len / 2] ^= 0x20;
    assert_int_equal(kk_file_write_atomic(blob, bad.data, bad.len, NULL), KK_OK);
    assert_int_equal(kk_sync_run(s, &err), KK_ERR_VERIFY);
    kk_sync_status(s, &st);
    assert_non_null(strstr(st.last_result, "sha256 mismatch"));
    assert_int_equal(st.failures, 1);
    assert_int_equal(st.installs, 2);
    assert_string_equal(active_version(sdir, &l), "2026.11.2");
    kk_install_list_release(&l);
    inst = kk_install_path(sdir, pack_id, "2026.11.3");
    struct stat sst;
    assert_int_not_equal(stat(inst, &sst), 0);
    kk_free(inst);

    /* Repaired on the server, and half of it already here: only the rest travels. */
    assert_int_equal(kk_file_write_atomic(blob, good.data, good.len, NULL), KK_OK);
    char part[800];
    snprintf(part, sizeof(part), "%s/downloads/blobs/%s.part", sdir, hex);
    assert_int_equal(kk_file_write_atomic(part, good.data, good.len / 2, NULL), KK_OK);
    before = st.content_bytes;
    kk_buf_reset(&err);
    if (kk_sync_run(s, &err))
        fail_msg("run: %s", kk_buf_str(&err));
    kk_sync_status(s, &st);
    expect = (long)(size - good.len / 2) + file_size(built, "pack.json") +
             file_size(built, "MANIFEST.json") + file_size(built, "MANIFEST.sig");
    assert_int_equal(st.content_bytes - before, expect);
    assert_int_equal(st.failures, 0);
    assert_int_equal(st.installs, 3);
    assert_string_equal(active_version(sdir, &l), "2026.11.3");
    kk_install_list_release(&l);
    inst = kk_install_path(sdir, pack_id, "2026.11.3");
    assert_int_equal(kk_manifest_verify(inst, &pub, 1, NULL, NULL), KK_OK);
    kk_free(inst);
    /* Nothing left over in the download area. */
    char *dl = path_in(sdir, "downloads");
    assert_int_not_equal(stat(dl, &sst), 0);
    kk_free(dl);

    kk_buf_release(&good);
    kk_buf_release(&bad);
    kk_free(img);
    kk_free(sdir);
    kk_buf_release(&err);
    kk_sync_destroy(s);
}

/* ---- heartbeat ----------------------------------------------------------------------- */

static void two_packs(void *user, struct kk_buf *out)
{
    (*(int *)user)++;
    kk_buf_adds(out, "quake@2026.11.1\nhealth@3\n");
}

/* What the heartbeat reports lands in the server's kiosk status. */
static void test_heartbeat_fields(void **state)
{
    (void)state;
    struct kk_journal *j = journal_with("j7.db", "k-0007", 30);
    struct kk_sync_opts o;
    struct kk_sync *s;
    int calls = 0;
    char *sdir = path_in(tmp, "state7");
    assert_int_equal(kk_mkdirs(sdir, 0755, NULL), KK_OK);
    kk_sync_opts_init(&o);
    o.server_url = server_url(server_port);
    o.kiosk_id = "k-0007";
    o.token = kiosk_tokens[6];
    o.state_dir = sdir;
    o.journal = j;
    o.app_version = "9.8.7";
    o.packs_fn = two_packs;
    o.packs_user = &calls;
    assert_int_equal(kk_sync_create(&s, &o, NULL), KK_OK);
    assert_int_equal(kk_sync_run(s, NULL), KK_OK);
    assert_int_equal(calls, 1);
    struct kk_sync_status ss;
    kk_sync_status(s, &ss);
    assert_int_equal(ss.clock_known, 1);
    assert_true(ss.clock_offset_ms > -5000 && ss.clock_offset_ms < 5000); /* same machine */

    sqlite3 *db = open_server_db();
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT app_version, packs, queue, dropped, disk_free_mb,"
                                        " last_error, clock_offset_ms FROM kiosk_status"
                                        " WHERE kiosk = 'k-0007'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "9.8.7");
    assert_string_equal((const char *)sqlite3_column_text(st, 1),
                        "[\"quake@2026.11.1\",\"health@3\"]");
    assert_int_equal(sqlite3_column_int64(st, 2), 30); /* sent before the upload */
    assert_int_equal(sqlite3_column_int64(st, 3), 0);
    assert_true(sqlite3_column_int64(st, 4) > 0);
    assert_int_equal(sqlite3_column_type(st, 5), SQLITE_NULL);
    assert_int_equal(sqlite3_column_type(st, 6), SQLITE_NULL); /* not known at the first one */
    sqlite3_finalize(st);
    /* The second heartbeat reports the clock error the first answer showed. */
    assert_int_equal(kk_sync_run(s, NULL), KK_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT clock_offset_ms FROM kiosk_status"
                                        " WHERE kiosk = 'k-0007'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(st, 0), SQLITE_INTEGER);
    assert_true(sqlite3_column_int64(st, 0) > -5000 && sqlite3_column_int64(st, 0) < 5000);
    sqlite3_finalize(st);
    sqlite3_close(db);
    kk_free(sdir);
    kk_sync_destroy(s);
    kk_journal_close(j);
}

static void test_opts_from_config(void **state)
{
    (void)state;
    struct kk_config cfg;
    struct kk_sync_opts o;
    assert_int_equal(kk_config_init(&cfg), KK_OK);
    assert_int_equal(kk_config_set(&cfg, "server_url", "https://kepu.example:8443", NULL), KK_OK);
    assert_int_equal(kk_config_set(&cfg, "sync_interval_s", "60", NULL), KK_OK);
    kk_sync_opts_from_config(&o, &cfg, (struct kk_journal *)&cfg);
    assert_string_equal(o.server_url, "https://kepu.example:8443");
    assert_ptr_equal(o.kiosk_id, cfg.kiosk_id);
    assert_ptr_equal(o.token_file, cfg.token_file);
    assert_ptr_equal(o.ca_file, cfg.ca_file);
    assert_ptr_equal(o.trusted_keys, cfg.trusted_keys);
    assert_ptr_equal(o.state_dir, cfg.state_dir);
    assert_ptr_equal(o.journal, (struct kk_journal *)&cfg);
    assert_int_equal(o.interval_ms, 60000);
    assert_int_equal(o.backoff_min_ms, 5000);
    assert_int_equal(o.backoff_max_ms, 3600000);
    assert_int_equal(o.connect_timeout_s, 10);
    assert_int_equal(o.batch_max, 500);
    kk_config_release(&cfg);
}

/* ---- HTTPS ----------------------------------------------------------------------------- */

/* Certificates are verified: a self-signed server is refused unless ca_file names its
 * certificate (openssl s_server plays the server; it never answers a POST, so getting past
 * TLS shows as a stalled transfer). */
static void test_https_verification(void **state)
{
    (void)state;
    if (run_cmd(NULL, 0, "command -v openssl >/dev/null") != 0)
        skip();
    char cert[700], key[700], url[64];
    snprintf(cert, sizeof(cert), "%s/tls-cert.pem", tmp);
    snprintf(key, sizeof(key), "%s/tls-key.pem", tmp);
    assert_int_equal(run_cmd(NULL, 0,
                             "openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s'"
                             " -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
                             " 2>/dev/null",
                             key, cert),
                     0);
    /* A free port: bind to 0, read it, let it go. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    int port = ntohs(a.sin_port);
    close(fd);
    char accept_arg[64];
    snprintf(accept_arg, sizeof(accept_arg), "127.0.0.1:%d", port);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execlp("openssl", "openssl", "s_server", "-accept", accept_arg, "-cert", cert, "-key", key,
               "-www", "-quiet", (char *)NULL);
        _exit(127);
    }
    int up = 0;
    for (int i = 0; i < 200 && !up; i++) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        up = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(fd);
        if (!up)
            sleep_ms(25);
    }
    assert_true(up);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);

    struct kk_sync_opts o;
    struct kk_sync *s;
    struct kk_buf err = KK_BUF_INIT;
    char *sdir = path_in(tmp, "state-tls");
    assert_int_equal(kk_mkdirs(sdir, 0755, NULL), KK_OK);
    kk_sync_opts_init(&o);
    o.server_url = url;
    o.kiosk_id = "k-0008";
    o.token = kiosk_tokens[7];
    o.state_dir = sdir;
    o.stall_s = 1;
    assert_int_equal(kk_sync_create(&s, &o, NULL), KK_OK);
    assert_int_equal(kk_sync_run(s, &err), KK_ERR_NET);
    if (!strstr(kk_buf_str(&err), "certificate"))
        fail_msg("without ca_file: %s", kk_buf_str(&err));
    kk_sync_destroy(s);

    kk_buf_reset(&err);
    o.ca_file = cert;
    assert_int_equal(kk_sync_create(&s, &o, NULL), KK_OK);
    assert_int_equal(kk_sync_run(s, &err), KK_ERR_NET);
    if (strstr(kk_buf_str(&err), "certificate") || !strstr(kk_buf_str(&err), "Timeout"))
        fail_msg("with ca_file: %s", kk_buf_str(&err));
    kk_sync_destroy(s);

    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    kk_free(sdir);
    kk_buf_release(&err);
}

/* ---- allocation failures ------------------------------------------------------------- */

/* Every allocation of kk_sync_create and of a run failing in turn: no crash, no leak (the
 * sanitizer build checks), and afterwards the events still arrive exactly once. */
static void test_alloc_failures(void **state)
{
    (void)state;
    long before, after, distinct;
    server_count("k-0001", &before, &distinct);
    struct kk_journal *j = journal_with("j-alloc.db", "k-0001", 40);
    struct kk_sync_opts o;
    struct kk_sync *s = NULL;
    char *sdir = path_in(tmp, "state-alloc");
    assert_int_equal(kk_mkdirs(sdir, 0755, NULL), KK_OK);
    kk_sync_opts_init(&o);
    o.server_url = server_url(server_port);
    o.kiosk_id = "k-0001";
    o.token = kiosk_tokens[0];
    o.trusted_keys = pub_path;
    o.state_dir = sdir;
    o.journal = j;
    o.batch_max = 10;
    int creates = 0, runs = 0;
    for (unsigned long n = 1;; n++) {
        kk_alloc_fail_after(n);
        enum kk_err rc = kk_sync_create(&s, &o, NULL);
        unsigned long made = kk_alloc_fail_after(0);
        kk_sync_destroy(s);
        s = NULL;
        if (made < n) {
            assert_int_equal(rc, KK_OK);
            break;
        }
        assert_int_equal(rc, KK_ERR_NOMEM);
        creates++;
    }
    assert_int_equal(kk_sync_create(&s, &o, NULL), KK_OK);
    for (unsigned long n = 1;; n++) {
        kk_alloc_fail_after(n);
        enum kk_err rc = kk_sync_run(s, NULL);
        unsigned long made = kk_alloc_fail_after(0);
        if (made < n) {
            assert_int_equal(rc, KK_OK);
            break;
        }
        runs++;
    }
    print_message("%d allocations in create, %d in runs failed in turn\n", creates, runs);
    assert_true(creates > 3);
    assert_true(runs > 10);
    assert_int_equal(kk_sync_run(s, NULL), KK_OK);
    assert_int_equal(kk_journal_count(j), 0);
    server_count("k-0001", &after, &distinct);
    assert_int_equal(after - before, 40);
    assert_int_equal(after, distinct);
    kk_sync_destroy(s);
    kk_journal_close(j);
    kk_free(sdir);
}

/* ---- options ------------------------------------------------------------------------- */

static void test_create_refuses(void **state)
{
    (void)state;
    struct kk_sync_opts o;
    struct kk_sync *s = (struct kk_sync *)1;
    struct kk_buf err = KK_BUF_INIT;
    kk_sync_opts_init(&o);
    o.kiosk_id = "k-0001";
    o.state_dir = tmp;
    o.token = "abc";
    o.server_url = "ftp://x";
    assert_int_equal(kk_sync_create(&s, &o, &err), KK_ERR_INVALID);
    assert_null(s);
    o.server_url = "http://127.0.0.1:1";
    o.token = "two words";
    assert_int_equal(kk_sync_create(&s, &o, &err), KK_ERR_INVALID);
    o.token = NULL;
    o.token_file = "/nonexistent/token";
    assert_int_equal(kk_sync_create(&s, &o, &err), KK_ERR_NOTFOUND);
    char *tf = path_in(tmp, "token");
    assert_int_equal(kk_file_write_atomic(tf, "  tok-123\n", 10, NULL), KK_OK);
    o.token_file = tf;
    o.trusted_keys = "/nonexistent/key.pub";
    assert_int_not_equal(kk_sync_create(&s, &o, &err), KK_OK);
    o.trusted_keys = NULL;
    assert_int_equal(kk_sync_create(&s, &o, &err), KK_OK);
    assert_non_null(s);
    kk_sync_stop(s); /* not started: nothing to do */
    kk_sync_destroy(s);
    kk_sync_destroy(NULL);
    kk_free(tf);
    kk_buf_release(&err);
}

/* A server that answers a byte at a time must not hold the sync for days (issue 11): the
 * request's overall deadline ends it even when the bytes come fast enough to pass the
 * low-speed check, and the low-speed check ends a slow drip long before that deadline. */
static void test_dripping_server(void **state)
{
    (void)state;
    static const struct {
        int drip_bytes;     /* per 100 ms */
        uint32_t timeout_s; /* request_timeout_s */
        const char *why;    /* libcurl's reason */
    } cases[] = {
        {100, 2, "Timeout was reached"}, /* 1000 B/s: fast enough, but never ends */
        {2, 600, "Timeout was reached"}, /* 20 B/s: below KK_SYNC_MIN_SPEED for stall_s */
    };
    struct kk_journal *j = journal_with("j-drip.db", "k-0010", 5);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fake f;
        struct kk_buf err = KK_BUF_INIT;
        fake_start(&f, FAKE_DRIP);
        f.drip_bytes = cases[i].drip_bytes;
        request_timeout_s = cases[i].timeout_s;
        struct kk_sync *s = make_sync(server_url(f.port), 10, j, "state-drip");
        request_timeout_s = 0;
        uint64_t t0 = now_ms();
        assert_int_equal(kk_sync_run(s, &err), KK_ERR_NET);
        uint64_t took = now_ms() - t0;
        if (took > 8000 || !strstr(kk_buf_str(&err), cases[i].why))
            fail_msg("case %zu: the run took %llu ms (the drip lasts 15 s): %s", i,
                     (unsigned long long)took, kk_buf_str(&err));
        assert_int_equal(kk_journal_count(j), 5); /* nothing lost */
        kk_buf_release(&err);
        kk_sync_destroy(s);
        fake_stop(&f);
    }
    kk_journal_close(j);
}

/* The heartbeat reports the clock error the previous answer showed (null before any). */
static void test_heartbeat_reports_clock_offset(void **state)
{
    (void)state;
    struct fake f;
    struct kk_sync_status st;
    fake_start(&f, FAKE_500); /* its heartbeat answers say the time is 1 ms after 1970 */
    struct kk_sync *s = make_sync(server_url(f.port), 10, NULL, "state-clock");
    kk_sync_run(s, NULL);
    kk_sync_run(s, NULL);
    kk_sync_status(s, &st);
    assert_int_equal(st.clock_known, 1);
    int64_t want = 1 - kk_clock_wall_ms();
    assert_true(st.clock_offset_ms > want - 5000 && st.clock_offset_ms < want + 5000);
    assert_true(atomic_load(&f.heartbeats) >= 2);
    cJSON *first = cJSON_Parse(f.heartbeat[0]), *second = cJSON_Parse(f.heartbeat[1]);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(first, "clock_offset_ms")));
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(second, "clock_offset_ms");
    assert_true(cJSON_IsNumber(off));
    assert_true(off->valuedouble > (double)(want - 5000) &&
                off->valuedouble < (double)(want + 5000));
    cJSON_Delete(first);
    cJSON_Delete(second);
    kk_sync_destroy(s);
    fake_stop(&f);
}

/* A kiosk whose clock is three days ahead loses nothing: the upload moves the events by
 * the heartbeat's clock offset (the original time in ts_kiosk), the server keeps them as
 * plausible, and what could not be placed is kept too. Runs last: it moves this process's
 * clock. */
static void test_wrong_clock_loses_nothing(void **state)
{
    (void)state;
    const int64_t ahead = 3LL * 86400000;
    int64_t real_now = kk_clock_wall_ms();
    kk_clock_advance((uint64_t)ahead);
    struct kk_journal *j = journal_with("j-clock.db", "k-0006", 40);
    /* One the offset cannot place either: a clock that said 1970 at some time before. */
    assert_int_equal(kk_journal_append(j,
                                       "{\"id\":\"00000000000000000000000000000001\","
                                       "\"kiosk\":\"k-0006\",\"ts\":86400000,\"type\":\"boot\"}"),
                     KK_OK);
    assert_int_equal(kk_journal_flush(j, NULL), KK_OK);
    struct kk_sync *s = make_sync(server_url(server_port), 6, j, "state-wrong-clock");
    assert_int_equal(kk_sync_run(s, NULL), KK_OK);
    struct kk_sync_status st;
    kk_sync_status(s, &st);
    assert_true(st.clock_offset_ms < -ahead + 60000 && st.clock_offset_ms > -ahead - 60000);
    assert_int_equal(st.events_rejected, 0);
    assert_int_equal(kk_journal_count(j), 0);

    sqlite3 *db = open_server_db();
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*), sum(clock_flag),"
                                        " sum(abs(ts - ?1) < 600000),"
                                        " sum(json_extract(body, '$.ts_kiosk') - ts"
                                        "     BETWEEN ?2 - 60000 AND ?2 + 60000)"
                                        " FROM events WHERE kiosk = 'k-0006'",
                                        -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(q, 1, real_now);
    sqlite3_bind_int64(q, 2, ahead);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(q, 0), 41); /* every event kept */
    assert_int_equal(sqlite3_column_int64(q, 1), 1);  /* the 1970 one, flagged */
    assert_int_equal(sqlite3_column_int64(q, 2), 40); /* the others at the real time */
    assert_int_equal(sqlite3_column_int64(q, 3), 40); /* with the kiosk's time beside it */
    sqlite3_finalize(q);
    sqlite3_close(db);
    kk_sync_destroy(s);
    kk_journal_close(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_refuses),
        cmocka_unit_test(test_opts_from_config),
        cmocka_unit_test(test_heartbeat_fields),
        cmocka_unit_test(test_https_verification),
        cmocka_unit_test(test_events_exactly_once),
        cmocka_unit_test(test_rejected_events),
        cmocka_unit_test(test_bad_servers),
        cmocka_unit_test(test_stop_while_hanging),
        cmocka_unit_test(test_content),
        cmocka_unit_test(test_kiosk_killed),
        cmocka_unit_test(test_server_killed),
        cmocka_unit_test(test_server_down_then_up),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_dripping_server),
        cmocka_unit_test(test_heartbeat_reports_clock_offset),
        cmocka_unit_test(test_wrong_clock_loses_nothing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
