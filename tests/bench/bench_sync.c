/* bench_sync: many simulated kiosks (the real kk_sync client, each with its own journal and
 * its own thread, all in this one process) drain their queued events into one real
 * kepu-server on loopback. Prints how long filling and draining took and checks, in the
 * server's database, that every event arrived exactly once.
 *
 *   bench_sync [-n KIOSKS] [-e EVENTS] [-b BATCH] [-s PATH/TO/kepu-server]
 *
 * Defaults: 500 kiosks, 1000 events each, batches of 500, $KK_BUILD_DIR/src/server/
 * kepu-server. KEPU_LOG=warn shows the causes of retried runs (hidden by default).
 * Build and run with tests/bench/bench_sync.sh. Exit 0 when nothing was lost
 * or doubled, 1 otherwise, 2 on a setup failure. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/event.h"
#include "kepu/fs.h"
#include "kepu/journal.h"
#include "kepu/log.h"
#include "kepu/sync.h"

struct kiosk {
    char id[24];
    char token[128];
    struct kk_journal *journal;
    struct kk_sync *sync;
};

static char tmp[64], data_dir[128], log_path[128];
static pid_t server_pid;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_sync: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (server_pid > 0)
        kill(server_pid, SIGKILL);
    if (*tmp)
        kk_remove_tree(tmp, NULL);
    exit(2);
}

/* Runs a shell command; its first output line goes to out. */
static int run_cmd(char *out, size_t size, const char *fmt, ...)
{
    char cmd[1024], line[256] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    if (!fgets(line, sizeof(line), p))
        line[0] = '\0';
    while (fgets(cmd, sizeof(cmd), p))
        ;
    line[strcspn(line, "\r\n")] = '\0';
    if (out)
        snprintf(out, size, "%s", line);
    return pclose(p);
}

static int start_server(const char *bin)
{
    server_pid = fork();
    if (server_pid < 0)
        die("fork: %s", strerror(errno));
    if (server_pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        unsetenv("KEPU_LOG"); /* its "listening on ... port N" line is info */
        execl(bin, bin, "serve", "--listen", "127.0.0.1:0", "--data", data_dir, "--kiosk-rate", "0",
              "--kiosk-quota-mb", "0", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) {
        struct kk_buf b = KK_BUF_INIT;
        if (kk_file_read(log_path, 1 << 20, &b, NULL) == KK_OK) {
            const char *p = strstr(kk_buf_str(&b), " port ");
            long port = p ? strtol(p + 6, NULL, 10) : 0;
            kk_buf_release(&b);
            if (port > 0)
                return (int)port;
        }
        kk_buf_release(&b);
        sleep_ms(25);
    }
    die("kepu-server did not start; see %s", log_path);
}

int main(int argc, char **argv)
{
    long nk = 500, ne = 1000, batch = 500;
    char bin[512] = "";
    const char *build = getenv("KK_BUILD_DIR");
    if (build)
        snprintf(bin, sizeof(bin), "%s/src/server/kepu-server", build);
    for (int i = 1; i < argc; i++) {
        long *target = !strcmp(argv[i], "-n")   ? &nk
                       : !strcmp(argv[i], "-e") ? &ne
                       : !strcmp(argv[i], "-b") ? &batch
                                                : NULL;
        if (i + 1 < argc && !strcmp(argv[i], "-s")) {
            snprintf(bin, sizeof(bin), "%s", argv[++i]);
        } else if (!target || i + 1 >= argc ||
                   kk_parse_long(argv[++i], 1, target == &ne ? 1000000 : 100000, target)) {
            fprintf(stderr, "usage: bench_sync [-n KIOSKS] [-e EVENTS] [-b BATCH] [-s SERVER]\n");
            return 2;
        }
    }
    if (!*bin || access(bin, X_OK))
        die("no kepu-server (set KK_BUILD_DIR or pass -s PATH)");
    /* Two threads and four files per kiosk, plus one socket. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    setenv("no_proxy", "127.0.0.1", 1);
    if (!getenv("KEPU_LOG"))
        kk_log_set_level(KK_LOG_ERROR); /* retries under load are expected; the totals tell */

    snprintf(tmp, sizeof(tmp), "/tmp/kk-bench-sync-XXXXXX");
    if (!mkdtemp(tmp))
        die("mkdtemp: %s", strerror(errno));
    snprintf(data_dir, sizeof(data_dir), "%s/data", tmp);
    snprintf(log_path, sizeof(log_path), "%s/server.log", tmp);
    struct kiosk *k = kk_calloc((size_t)nk, sizeof(*k));
    if (!k)
        die("out of memory");

    double t0 = now_s();
    if (run_cmd(NULL, 0, "'%s' venue add v1 --name Bench --data '%s'", bin, data_dir))
        die("venue add failed");
    for (long i = 0; i < nk; i++) {
        snprintf(k[i].id, sizeof(k[i].id), "k-%05ld", i + 1);
        if (run_cmd(k[i].token, sizeof(k[i].token), "'%s' kiosk add %s --venue v1 --data '%s'", bin,
                    k[i].id, data_dir) ||
            !*k[i].token)
            die("kiosk add %s failed", k[i].id);
    }
    double t_fleet = now_s() - t0;
    int port = start_server(bin);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);

    /* Fill every journal; the events are the kiosk's own, as the app would write them. */
    t0 = now_s();
    for (long i = 0; i < nk; i++) {
        struct kk_buf err = KK_BUF_INIT;
        char path[160];
        snprintf(path, sizeof(path), "%s/%s.db", tmp, k[i].id);
        if (kk_journal_open(&k[i].journal, path, 0, &err))
            die("%s", kk_buf_str(&err));
        struct kk_event_ctx ctx = {.kiosk = k[i].id, .audience = -1, .lang = KK_LANG_ZH};
        kk_event_new_session(&ctx);
        for (long e = 0; e < ne; e++) {
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "topic", "quake");
            cJSON_AddNumberToObject(f, "page", (double)(e % 8));
            cJSON_AddNumberToObject(f, "dwell_ms", (double)(500 + e));
            char *ev = kk_event_make(&ctx, "page_view", f, NULL);
            if (!ev)
                die("out of memory");
            enum kk_err rc;
            while ((rc = kk_journal_append(k[i].journal, ev)) == KK_ERR_BUSY)
                sleep_ms(2);
            if (rc)
                die("append: %s", kk_strerror(rc));
            kk_free(ev);
        }
    }
    for (long i = 0; i < nk; i++) {
        struct kk_buf err = KK_BUF_INIT;
        if (kk_journal_flush(k[i].journal, &err))
            die("flush: %s", kk_buf_str(&err));
        if (kk_journal_count(k[i].journal) != (uint64_t)ne)
            die("%s: journal holds %llu events, not %ld", k[i].id,
                (unsigned long long)kk_journal_count(k[i].journal), ne);
    }
    double t_fill = now_s() - t0;

    /* All kiosks at once, as after a network outage at every venue. */
    for (long i = 0; i < nk; i++) {
        struct kk_sync_opts o;
        struct kk_buf err = KK_BUF_INIT;
        char state[160];
        snprintf(state, sizeof(state), "%s/state-%s", tmp, k[i].id);
        if (kk_mkdirs(state, 0755, &err))
            die("%s", kk_buf_str(&err));
        kk_sync_opts_init(&o);
        o.server_url = url;
        o.kiosk_id = k[i].id;
        o.token = k[i].token;
        o.state_dir = state;
        o.journal = k[i].journal;
        o.app_version = "bench";
        o.interval_ms = 3600000;
        o.backoff_min_ms = 250;
        o.backoff_max_ms = 5000;
        o.batch_max = (uint32_t)batch;
        if (kk_sync_create(&k[i].sync, &o, &err))
            die("%s", kk_buf_str(&err));
    }
    t0 = now_s();
    for (long i = 0; i < nk; i++)
        if (kk_sync_start(k[i].sync, NULL))
            die("cannot start kiosk %ld", i);
    unsigned long failed_runs = 0;
    long done = 0;
    while (done < nk && now_s() - t0 < 900) {
        sleep_ms(50);
        done = 0;
        for (long i = 0; i < nk; i++) {
            struct kk_sync_status st;
            kk_sync_status(k[i].sync, &st);
            done += st.runs > 0 && st.queue == 0 && st.failures == 0;
        }
    }
    double t_drain = now_s() - t0;
    uint64_t sent = 0;
    for (long i = 0; i < nk; i++) {
        struct kk_sync_status st;
        kk_sync_stop(k[i].sync);
        kk_sync_status(k[i].sync, &st);
        failed_runs += st.runs - 1;
        sent += st.events_sent;
    }

    /* What the server stored. */
    sqlite3 *db;
    sqlite3_stmt *q;
    char dbp[160];
    snprintf(dbp, sizeof(dbp), "%s/kepu.db", data_dir);
    long short_kiosks = 0, stored = 0, distinct = 0;
    if (sqlite3_open_v2(dbp, &db, SQLITE_OPEN_READONLY, NULL) ||
        sqlite3_prepare_v2(db,
                           "SELECT kiosk, count(*), count(DISTINCT id) FROM events"
                           " GROUP BY kiosk",
                           -1, &q, NULL))
        die("%s: %s", dbp, sqlite3_errmsg(db));
    long kiosks_seen = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        long n = (long)sqlite3_column_int64(q, 1), d = (long)sqlite3_column_int64(q, 2);
        kiosks_seen++;
        stored += n;
        distinct += d;
        short_kiosks += n != ne;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
    server_pid = 0;

    long expected = nk * ne;
    long lost = expected - distinct, doubled = stored - distinct;
    int ok = done == nk && lost == 0 && doubled == 0 && short_kiosks == 0 && kiosks_seen == nk;
    printf("bench_sync: %ld kiosks x %ld events = %ld events, batches of %ld\n", nk, ne, expected,
           batch);
    printf("  fleet setup     %.1f s (kepu-server kiosk add, once per kiosk)\n", t_fleet);
    printf("  journals filled %.1f s\n", t_fill);
    printf("  drained         %.1f s (%.0f events/s), %ld of %ld kiosks done, %lu retried runs\n",
           t_drain, t_drain > 0 ? (double)sent / t_drain : 0.0, done, nk, failed_runs);
    printf("  server stored   %ld events, %ld distinct: lost %ld, doubled %ld -> %s\n", stored,
           distinct, lost, doubled, ok ? "ok" : "FAILED");
    for (long i = 0; i < nk; i++) {
        kk_sync_destroy(k[i].sync);
        kk_journal_close(k[i].journal);
    }
    kk_free(k);
    kk_remove_tree(tmp, NULL);
    return ok ? 0 : 1;
}
