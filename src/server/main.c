/* kepu-server: the central server (serve) and its administration commands. Subcommands
 * are a static table (git.c's command table); each prints one clear line on stderr and
 * exits non-zero on failure: 1 for a failure, 2 for wrong usage. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "kepu/alloc.h"
#include "kepu/bundle.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "kepu/schedule.h"
#include "kepu/manifest.h"
#include "kepu/pack.h"
#include "srv_admin.h"
#include "srv_alert.h"
#include "srv_api.h"
#include "srv_auth.h"
#include "srv_events.h"
#include "srv_fleet.h"
#include "srv_http.h"
#include "srv_migrate.h"
#include "srv_pack.h"
#include "srv_qr.h"
#include "srv_store.h"
#include "srv_web.h"
#include "srv_preview.h"
#include "srv_review.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_DATA   "./var/kepu-server"
#define MAX_KEYS       16

static const char usage_text[] =
    "usage: kepu-server serve [--listen ADDR:PORT] [--data DIR] [--db URL]\n"
    "                         [--trusted-keys FILE.pub,...] [--threads N] [--timeout S]\n"
    "                         [--max-connections N] [--web DIR] [--retention-days N]\n"
    "                         [--kiosk-bin PATH] [--signing-key FILE.key]\n"
    "                         [--kiosk-rate N] [--kiosk-burst N] [--kiosk-quota-mb N]\n"
    "                         [--min-free-mb N]\n"
    "                         [--header-timeout S] [--max-per-address N]\n"
    "                         [--trusted-proxy ADDR,...] [--metrics-allow ADDR,...]\n"
    "                         [--smtp smtp://HOST:PORT] [--mail-from ADDR] [--alert-down-s N]\n"
    "                         [--alert-not-installed-s N] [--alert-disk-mb N] [--alert-check-s N]\n"
    "       kepu-server venue add ID --name NAME [--data DIR]\n"
    "       kepu-server kiosk add ID --venue ID [--data DIR]   (prints the kiosk's token)\n"
    "       kepu-server kiosk enrol --venue ID [--kiosk ID] [--valid-minutes N] [--url URL]\n"
    "                         [--data DIR] (prints a one-time code for kepu-kiosk --enrol URL\n"
    "                         CODE; with --url, the server's address as kiosks reach it, also\n"
    "                         that command as a QR code for a phone, on stderr)\n"
    "       kepu-server kiosk revoke ID | kiosk rotate ID (prints the new token) [--data DIR]\n"
    "       kepu-server user add NAME --role office|staff|admin[,...] [--data DIR]\n"
    "                         (password on stdin; prints a staff user's token; office review\n"
    "                         and publish, staff edit drafts, admin manage users and keys)\n"
    "       kepu-server user role NAME --role office|staff|admin[,...] [--data DIR]\n"
    "                         (the user's new roles; prints a token when it gains staff)\n"
    "       kepu-server user remove NAME | user passwd NAME (password on stdin) [--data DIR]\n"
    "                         (both end the user's sessions)\n"
    "       kepu-server user venue NAME VENUE [--data DIR]\n"
    "                         (the staff user may edit that venue's drafts)\n"
    "       kepu-server kiosk tag ID [--add T,...] [--remove T,...] [--data DIR]\n"
    "                         (prints the kiosk's tags after the change)\n"
    "       kepu-server assign PACK@VERSION (--venue ID | --kiosk ID | --tag T) [--data DIR]\n"
    "                         [--from DATE] [--to DATE]  (dated: YYYY-MM-DD or YYYY-MM-DDTHH:MM\n"
    "                         in the kiosk's local time; from --to on the undated one again)\n"
    "       kepu-server rollback PACK (--venue ID | --kiosk ID | --tag T) [--data DIR]\n"
    "                         (undoes the target's latest assignment of PACK; prints what)\n"
    "       kepu-server pack add OUT|FILE.kpk [--data DIR]   (stores a signed built pack as\n"
    "                         a published version, checked like a kiosk checks it; audited)\n"
    "       kepu-server command screenshot|restart|sync|logs (--kiosk ID | --venue ID | --tag T)\n"
    "                         [--expires-min N] (prints each command's id and kiosk)\n"
    "       kepu-server command list [--kiosk ID]   (recent commands and their results)\n"
    "       kepu-server settings (--venue ID | --tag T | --kiosk ID) [--set KEY=VALUE,...]\n"
    "                         [--clear KEY,...]  (the remote settings overlay; prints it)\n"
    "       kepu-server alerts list | alerts recipients [--venue ID] [--set JSON]\n"
    "                         (open alerts; who gets them: {\"webhooks\":[{\"url\",\"format\":\n"
    "                         \"json|wecom|dingtalk\"}],\"emails\":[...],\"digest_hour\":8})\n"
    "       kepu-server prune --retention-days N [--data DIR]   (drops older raw events)\n"
    "       kepu-server migrate --from sqlite:PATH --to postgresql://... [--data DIR]\n"
    "                         (copies a SQLite store into an empty PostgreSQL one)\n"
    "       kepu-server --help | --version\n"
    "\n"
    "serve listens on " DEFAULT_LISTEN " and keeps its data in " DEFAULT_DATA " unless told\n"
    "otherwise. Pack signatures are checked against --trusted-keys, or DATA/keys/*.pub.\n"
    "--timeout (default 30) closes idle connections and uploads slower than 16 KiB/s after it.\n"
    "Each kiosk may send --kiosk-rate events/s on average (default 100; 0: no limit) in bursts\n"
    "of --kiosk-burst (5000) and store --kiosk-quota-mb a day (64; 0: none), else 429; below\n"
    "--min-free-mb (256) free in DIR events get 503. Refused kiosks keep their events.\n"
    "--header-timeout (default 10) is the hard deadline of a request's header block;\n"
    "--max-per-address (default 64) bounds one address's connections (not a trusted proxy's).\n"
    "--trusted-proxy: peers whose X-Forwarded-For/-Proto are believed (e.g. nginx on 127.0.0.1).\n"
    "--signing-key: the alliance's secret key (kepu-pack keygen), readable by this user only;\n"
    "publishing an approved draft signs with it, and its public half is trusted too.\n"
    "The office dashboard is served at / from --web (default: the source tree's src/server/web).\n"
    "Alerts (docs/server.md): a kiosk silent --alert-down-s (900) during its opening hours is\n"
    "down; assigned content not installed after --alert-not-installed-s (21600); less than\n"
    "--alert-disk-mb (500) free; a rollback. Sent to webhooks and, through --smtp, by mail from\n"
    "--mail-from (kepu-server@localhost); the watcher looks every --alert-check-s (30).\n";

/* Options every subcommand understands; each command takes what it needs. */
struct opts {
    const char *data, *db, *listen, *name, *venue, *kiosk, *role, *keys, *web, *from, *to,
        *kiosk_bin, *signing_key;
    long kiosk_rate, kiosk_burst, kiosk_quota_mb, min_free_mb; /* -1: the default */
    const char *proxies, *metrics_allow, *add, *remove, *tag, *set, *clear, *url, *smtp, *mail_from;
    long alert_down_s, alert_ni_s, alert_disk_mb, alert_check_s; /* -1: the default */
    long expires_min;
    long threads, timeout, max_conns, header_timeout, max_per_addr, valid_min, retention_days;
    const char *pos[3]; /* positional arguments after the command */
    size_t npos;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "kepu-server: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see kepu-server --help)\n");
    va_end(ap);
    return 2;
}

static int fail(const struct kk_buf *err)
{
    fprintf(stderr, "kepu-server: %s\n", kk_buf_str(err));
    return 1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct {
        const char *name;
        size_t offset;
    } text_opts[] = {
        {"--data", offsetof(struct opts, data)},
        {"--db", offsetof(struct opts, db)},
        {"--listen", offsetof(struct opts, listen)},
        {"--name", offsetof(struct opts, name)},
        {"--venue", offsetof(struct opts, venue)},
        {"--kiosk", offsetof(struct opts, kiosk)},
        {"--role", offsetof(struct opts, role)},
        {"--trusted-keys", offsetof(struct opts, keys)},
        {"--web", offsetof(struct opts, web)},
        {"--kiosk-bin", offsetof(struct opts, kiosk_bin)},
        {"--signing-key", offsetof(struct opts, signing_key)},
        {"--trusted-proxy", offsetof(struct opts, proxies)},
        {"--metrics-allow", offsetof(struct opts, metrics_allow)},
        {"--from", offsetof(struct opts, from)},
        {"--to", offsetof(struct opts, to)},
        {"--add", offsetof(struct opts, add)},
        {"--remove", offsetof(struct opts, remove)},
        {"--tag", offsetof(struct opts, tag)},
        {"--set", offsetof(struct opts, set)},
        {"--clear", offsetof(struct opts, clear)},
        {"--url", offsetof(struct opts, url)},
        {"--smtp", offsetof(struct opts, smtp)},
        {"--mail-from", offsetof(struct opts, mail_from)},
    };
    static const struct {
        const char *name;
        size_t offset;
        long min, max;
    } num_opts[] = {
        {"--threads", offsetof(struct opts, threads), 1, 256},
        {"--timeout", offsetof(struct opts, timeout), 1, 3600},
        {"--max-connections", offsetof(struct opts, max_conns), 16, 100000},
        {"--kiosk-rate", offsetof(struct opts, kiosk_rate), 0, 1000000},
        {"--kiosk-burst", offsetof(struct opts, kiosk_burst), SRV_MAX_BATCH_EVENTS, 100000000},
        {"--kiosk-quota-mb", offsetof(struct opts, kiosk_quota_mb), 0, 1000000},
        {"--min-free-mb", offsetof(struct opts, min_free_mb), 0, 100000000},
        {"--header-timeout", offsetof(struct opts, header_timeout), 1, 600},
        {"--max-per-address", offsetof(struct opts, max_per_addr), 1, 100000},
        {"--valid-minutes", offsetof(struct opts, valid_min), 1, 30 * 24 * 60},
        {"--retention-days", offsetof(struct opts, retention_days), 1, 36500},
        {"--expires-min", offsetof(struct opts, expires_min), 1, SRV_COMMAND_MAX_S / 60},
        {"--alert-down-s", offsetof(struct opts, alert_down_s), 1, 7 * 86400},
        {"--alert-not-installed-s", offsetof(struct opts, alert_ni_s), 0, 30 * 86400},
        {"--alert-disk-mb", offsetof(struct opts, alert_disk_mb), 0, 10000000},
        {"--alert-check-s", offsetof(struct opts, alert_check_s), 1, 3600},
    };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int known = 0;
        if (a[0] != '-' || !a[1]) {
            if (o->npos == sizeof(o->pos) / sizeof(o->pos[0]))
                return usage_error("unexpected argument %s", a);
            o->pos[o->npos++] = a;
            continue;
        }
        for (size_t k = 0; k < sizeof(text_opts) / sizeof(text_opts[0]) && !known; k++) {
            if (strcmp(a, text_opts[k].name))
                continue;
            if (i + 1 >= argc)
                return usage_error("%s needs a value", a);
            *(const char **)((char *)o + text_opts[k].offset) = argv[++i];
            known = 1;
        }
        for (size_t k = 0; k < sizeof(num_opts) / sizeof(num_opts[0]) && !known; k++) {
            if (strcmp(a, num_opts[k].name))
                continue;
            long v;
            if (i + 1 >= argc || kk_parse_long(argv[i + 1], num_opts[k].min, num_opts[k].max, &v))
                return usage_error("%s needs a whole number in its range", a);
            *(long *)((char *)o + num_opts[k].offset) = v;
            i++;
            known = 1;
        }
        if (!known)
            return usage_error("unknown option %s", a);
    }
    if (!o->data)
        o->data = DEFAULT_DATA;
    return 0;
}

static int open_store(const struct opts *o, struct srv_store **s)
{
    struct kk_buf err = KK_BUF_INIT;
    if (srv_store_open(s, o->data, o->db, &err)) {
        int rc = fail(&err);
        kk_buf_release(&err);
        return rc;
    }
    return 0;
}

/* Records what a command changed in the audit log, as "cli" (a failure is only logged). */
static void cli_audit(struct srv_store *s, const char *what, const char *target, const char *detail)
{
    struct kk_buf err = KK_BUF_INIT;
    if (srv_store_audit_add(s, kk_clock_wall_ms(), "cli", what, target, detail, &err))
        fprintf(stderr, "kepu-server: audit log: %s\n", kk_buf_str(&err));
    kk_buf_release(&err);
}

static int check_id(const char *what, const char *id)
{
    if (!id)
        return usage_error("%s is missing", what);
    if (!srv_id_valid(id)) {
        fprintf(stderr,
                "kepu-server: %s \"%s\": use 1 to 64 of A-Z a-z 0-9 . _ - (not starting with .)\n",
                what, id);
        return 2;
    }
    return 0;
}

/* --- admin commands ------------------------------------------------------------------- */

static int cmd_venue(struct opts *o)
{
    struct srv_store *s = NULL;
    struct kk_buf err = KK_BUF_INIT;
    if (o->npos != 2 || strcmp(o->pos[0], "add"))
        return usage_error("%s", "usage: venue add ID --name NAME");
    int rc = check_id("venue ID", o->pos[1]);
    if (rc)
        return rc;
    if (!o->name || !*o->name || strlen(o->name) > 200)
        return usage_error("%s", "venue add needs --name NAME (at most 200 bytes)");
    if ((rc = open_store(o, &s)))
        return rc;
    if (srv_store_venue_add(s, o->pos[1], o->name, &err))
        rc = fail(&err);
    srv_store_close(s);
    kk_buf_release(&err);
    return rc;
}

/* kiosk enrol: a one-time code that makes a new kiosk of the venue (srv_admin.h). */
static int kiosk_enrol(struct opts *o, struct srv_store *s, struct kk_buf *err)
{
    char code[SRV_ENROL_CODE_LEN + 1], hash[SRV_HASH_LEN + 1], id[11];
    const char *kiosk = o->kiosk;
    if (!kiosk) {
        srv_enrol_kiosk_id(id);
        kiosk = id;
    }
    if (o->url && strncmp(o->url, "https://", 8) && strncmp(o->url, "http://", 7))
        return usage_error("--url %.200s: expected the server's http:// or https:// address",
                           o->url);
    long minutes = o->valid_min ? o->valid_min : SRV_ENROL_DEFAULT_MIN;
    int64_t until = kk_clock_wall_ms() + (int64_t)minutes * 60 * 1000;
    srv_enrol_code_new(code);
    srv_enrol_code_hash(code, hash);
    if (srv_store_enrol_add(s, hash, o->venue, kiosk, until, err))
        return fail(err);
    time_t t = (time_t)(until / 1000);
    struct tm tm;
    char when[32] = "";
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
    printf("%s\n", code);
    fflush(stdout);
    char command[600];
    snprintf(command, sizeof(command), "sudo kepu-kiosk --enrol %s %s",
             o->url ? o->url : "https://THIS-SERVER", code);
    fprintf(
        stderr,
        "kepu-server: code for kiosk %s of venue %s, valid once until %s; on the kiosk run\n  %s\n",
        kiosk, o->venue, when, command);
    if (o->url) {
        fprintf(stderr, "The same command as a QR code, for a phone:\n");
        if (srv_qr_print(stderr, command, err))
            return fail(err);
    }
    return 0;
}

/* Calls fn for each item of a comma-separated list; stops at the first failure. */
static int each_item(const char *list, int (*fn)(const char *item, void *ctx), void *ctx)
{
    char item[256];
    while (list && *list) {
        size_t n = strcspn(list, ",");
        if (n >= sizeof(item))
            return usage_error("%.40s...: too long", list);
        memcpy(item, list, n);
        item[n] = '\0';
        int rc = fn(item, ctx);
        if (rc)
            return rc;
        list += n + (list[n] == ',');
    }
    return 0;
}

static int check_tag(const char *tag, void *ctx)
{
    (void)ctx;
    return check_id("tag", tag);
}

struct tag_ctx {
    struct srv_store *s;
    const char *kiosk;
    int add;
    struct kk_buf *err;
};

static int apply_tag(const char *tag, void *ctx)
{
    struct tag_ctx *t = ctx;
    return srv_store_kiosk_tag(t->s, t->kiosk, tag, t->add, t->err) ? fail(t->err) : 0;
}

static int print_table(const struct srv_table *t)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncolumns; c++) {
            const struct srv_cell *x = &t->cells[r * t->ncolumns + c];
            if (c)
                putchar('\t');
            if (x->kind == SRV_CELL_TEXT)
                fputs(x->s, stdout);
            else if (x->kind == SRV_CELL_INT)
                printf("%lld", (long long)x->i);
            else if (x->kind == SRV_CELL_REAL)
                printf("%g", x->r);
        }
        putchar('\n');
    }
    return 0;
}

/* kiosk tag ID --add T,... --remove T,...: prints the kiosk's tags, one a line. */
static int kiosk_tag(struct opts *o)
{
    struct srv_store *s = NULL;
    struct kk_buf err = KK_BUF_INIT;
    struct srv_table t = {0};
    int rc = check_id("kiosk ID", o->pos[1]);
    if (!rc)
        rc = each_item(o->add, check_tag, NULL);
    if (!rc)
        rc = each_item(o->remove, check_tag, NULL);
    if (rc || (rc = open_store(o, &s)))
        return rc;
    struct tag_ctx ctx = {s, o->pos[1], 0, &err};
    rc = each_item(o->remove, apply_tag, &ctx);
    ctx.add = 1;
    if (!rc)
        rc = each_item(o->add, apply_tag, &ctx);
    if (!rc && (o->add || o->remove))
        srv_store_audit_add(s, kk_clock_wall_ms(), "cli", "kiosk.tag", o->pos[1], "", NULL);
    if (!rc && !o->add && !o->remove &&
        srv_store_targets(s, "kiosk", o->pos[1], &t, &err)) /* only: does it exist */
        rc = fail(&err);
    srv_table_release(&t);
    if (!rc && srv_store_fleet_list(s, "tags", o->pos[1], &t, &err))
        rc = fail(&err);
    for (size_t r = 0; !rc && r < t.nrows; r++)
        printf("%s\n", t.cells[r * 2 + 1].s);
    srv_table_release(&t);
    srv_store_close(s);
    kk_buf_release(&err);
    return rc;
}

static int cmd_kiosk(struct opts *o)
{
    if (o->npos == 2 && !strcmp(o->pos[0], "tag"))
        return kiosk_tag(o);
    struct srv_store *s = NULL;
    struct kk_buf err = KK_BUF_INIT;
    char token[SRV_TOKEN_LEN + 1], hash[SRV_HASH_LEN + 1];
    const char *verb = o->npos ? o->pos[0] : "";
    int enrol = !strcmp(verb, "enrol");
    if (enrol ? o->npos != 1
              : (o->npos != 2 ||
                 (strcmp(verb, "add") && strcmp(verb, "revoke") && strcmp(verb, "rotate"))))
        return usage_error("%s", "usage: kiosk add ID --venue ID | kiosk enrol --venue ID"
                                 " | kiosk revoke ID | kiosk rotate ID"
                                 " | kiosk tag ID [--add T,...] [--remove T,...]");
    int rc = enrol ? 0 : check_id("kiosk ID", o->pos[1]);
    if (!rc && enrol && o->kiosk)
        rc = check_id("--kiosk", o->kiosk);
    if (!rc && (enrol || !strcmp(verb, "add")))
        rc = check_id("--venue", o->venue);
    if (rc)
        return rc;
    if ((rc = open_store(o, &s)))
        return rc;
    srv_token_new(token);
    srv_token_hash(token, hash);
    if (enrol) {
        rc = kiosk_enrol(o, s, &err);
    } else if (!strcmp(verb, "revoke")) {
        if (srv_store_kiosk_revoke(s, o->pos[1], &err))
            rc = fail(&err);
        else {
            fprintf(stderr, "kepu-server: kiosk %s revoked: its requests now get 401\n", o->pos[1]);
            cli_audit(s, "kiosk.revoke", o->pos[1], "");
        }
    } else if (!strcmp(verb, "rotate") ? srv_store_kiosk_rotate(s, o->pos[1], hash, &err)
                                       : srv_store_kiosk_add(s, o->pos[1], o->venue, hash, &err)) {
        rc = fail(&err);
    } else {
        printf("%s\n", token);
        cli_audit(s, !strcmp(verb, "rotate") ? "kiosk.rotate" : "kiosk.add", o->pos[1],
                  o->venue ? o->venue : "");
    }
    sodium_memzero(token, sizeof(token));
    srv_store_close(s);
    kk_buf_release(&err);
    return rc;
}

static int read_password(char *pw, size_t size)
{
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "password: ");
    if (!fgets(pw, (int)size, stdin))
        return usage_error("%s", "the password is read from stdin; got nothing");
    size_t n = strcspn(pw, "\r\n");
    if (pw[n] == '\0' && n == size - 1)
        return usage_error("%s", "password longer than 256 bytes");
    pw[n] = '\0';
    if (n < 8)
        return usage_error("%s", "password shorter than 8 characters");
    return 0;
}

/* user remove NAME, user passwd NAME: both end the user's sessions. */
static int user_change(struct opts *o)
{
    struct srv_store *s = NULL;
    struct kk_buf err = KK_BUF_INIT;
    char pw[258], phash[256];
    int passwd = !strcmp(o->pos[0], "passwd");
    int rc = check_id("user NAME", o->pos[1]);
    if (rc)
        return rc;
    if (passwd) {
        if ((rc = read_password(pw, sizeof(pw))))
            return rc;
        rc = srv_password_hash(pw, phash, sizeof(phash));
        sodium_memzero(pw, sizeof(pw));
        if (rc) {
            fprintf(stderr, "kepu-server: cannot hash the password (out of memory)\n");
            return 1;
        }
    }
    if ((rc = open_store(o, &s)))
        return rc;
    if (passwd ? srv_store_user_passwd(s, o->pos[1], phash, &err)
               : srv_store_user_remove(s, o->pos[1], &err))
        rc = fail(&err);
    else {
        fprintf(stderr, "kepu-server: user %s %s; its sessions are ended\n", o->pos[1],
                passwd ? "has a new password" : "removed");
        cli_audit(s, passwd ? "user.passwd" : "user.remove", o->pos[1], "");
    }
    srv_store_close(s);
    kk_buf_release(&err);
    return rc;
}

/* user venue NAME VENUE: the staff user may edit the drafts of that venue's packs. */
static int user_venue(struct opts *o)
{
    struct srv_store *s = NULL;
    struct kk_buf err = KK_BUF_INIT;
    int rc = check_id("user NAME", o->pos[1]);
    if (!rc)
        rc = check_id("VENUE", o->pos[2]);
    if (rc || (rc = open_store(o, &s)))
        return rc;
    if (srv_store_user_venue_add(s, o->pos[1], o->pos[2], &err))
        rc = fail(&err);
    else {
        fprintf(stderr, "kepu-server: user %s may edit the drafts of venue %s\n", o->pos[1],
                o->pos[2]);
        cli_audit(s, "user.venue", o->pos[1], o->pos[2]);
    }
    srv_store_close(s);
    kk_buf_release(&err);
    return rc;
}

/* user role NAME --role ...: roles is the new set's text. A user who gains the staff role
 * gets a token, printed. */
static int user_role(struct opts *o, const char *roles, int staff)
{
    struct srv_store *s = NULL;
    struct kk_buf err = KK_BUF_INIT, old = KK_BUF_INIT;
    char token[SRV_TOKEN_LEN + 1], thash[SRV_HASH_LEN + 1];
    int rc = open_store(o, &s);
    if (rc)
        return rc;
    srv_token_new(token);
    srv_token_hash(token, thash);
    if (srv_store_user_roles(s, o->pos[1], roles, staff ? thash : NULL, &old, &err)) {
        rc = fail(&err);
    } else {
        unsigned before = srv_roles_parse(kk_buf_str(&old), NULL);
        if (staff && !(before & SRV_ROLE_STAFF))
            printf("%s\n", token);
        fprintf(stderr, "kepu-server: user %s: roles %s (were %s)\n", o->pos[1], roles,
                kk_buf_str(&old));
        if (strcmp(kk_buf_str(&old), roles)) {
            char detail[64];
            snprintf(detail, sizeof(detail), "%s -> %s", kk_buf_str(&old), roles);
            cli_audit(s, "user.roles", o->pos[1], detail);
        }
    }
    sodium_memzero(token, sizeof(token));
    srv_store_close(s);
    kk_buf_release(&err);
    kk_buf_release(&old);
    return rc;
}

static int cmd_user(struct opts *o)
{
    struct srv_store *s = NULL;
    struct kk_buf err = KK_BUF_INIT;
    char pw[258], phash[256], token[SRV_TOKEN_LEN + 1], thash[SRV_HASH_LEN + 1];
    if (o->npos == 2 && (!strcmp(o->pos[0], "remove") || !strcmp(o->pos[0], "passwd")))
        return user_change(o);
    if (o->npos == 3 && !strcmp(o->pos[0], "venue"))
        return user_venue(o);
    if (o->npos != 2 || (strcmp(o->pos[0], "add") && strcmp(o->pos[0], "role")))
        return usage_error("%s", "usage: user add NAME --role office|staff|admin[,...]"
                                 " | user role NAME --role ... | user remove NAME"
                                 " | user passwd NAME | user venue NAME VENUE");
    int rc = check_id("user NAME", o->pos[1]);
    if (rc)
        return rc;
    if (!o->role)
        return usage_error("user %s needs --role office, staff or admin (or several: office,admin)",
                           o->pos[0]);
    unsigned roles = srv_roles_parse(o->role, &err);
    if (!roles) {
        rc = usage_error("--role %s: %s", o->role, kk_buf_str(&err));
        kk_buf_release(&err);
        return rc;
    }
    char text[SRV_ROLES_LEN];
    srv_roles_text(roles, text);
    int staff = (roles & SRV_ROLE_STAFF) != 0;
    if (!strcmp(o->pos[0], "role"))
        return user_role(o, text, staff);
    if ((rc = read_password(pw, sizeof(pw))))
        return rc;
    if (srv_password_hash(pw, phash, sizeof(phash))) {
        sodium_memzero(pw, sizeof(pw));
        fprintf(stderr, "kepu-server: cannot hash the password (out of memory)\n");
        return 1;
    }
    sodium_memzero(pw, sizeof(pw));
    if ((rc = open_store(o, &s)))
        return rc;
    srv_token_new(token);
    srv_token_hash(token, thash);
    if (srv_store_user_add(s, o->pos[1], text, phash, staff ? thash : NULL, &err)) {
        rc = fail(&err);
    } else {
        if (staff)
            printf("%s\n", token);
        cli_audit(s, "user.add", o->pos[1], text);
    }
    sodium_memzero(token, sizeof(token));
    srv_store_close(s);
    kk_buf_release(&err);
    return rc;
}

/* --from / --to of assign: a date in the kiosk's local time (kepu/schedule.h). */
static int assign_when(const char *flag, const char *text, int64_t *ms)
{
    struct kk_when w;
    if (kk_when_parse(text, &w))
        return usage_error("%s %s: expected a date YYYY-MM-DD or a local time YYYY-MM-DDTHH:MM",
                           flag, text);
    *ms = kk_when_ms(&w, SRV_DAY_OFFSET_S);
    return 0;
}

static int cmd_assign(struct opts *o)
{
    struct srv_store *s = NULL;
    struct kk_buf err = KK_BUF_INIT;
    char spec[160];
    if (o->npos != 1)
        return usage_error("%s", "usage: assign PACK@VERSION (--venue ID | --kiosk ID | --tag T)");
    if (strlen(o->pos[0]) >= sizeof(spec) || !strchr(o->pos[0], '@'))
        return usage_error("assign %s: expected PACK@VERSION", o->pos[0]);
    memcpy(spec, o->pos[0], strlen(o->pos[0]) + 1);
    char *at = strchr(spec, '@');
    *at = '\0';
    int rc = check_id("PACK", spec);
    if (!rc)
        rc = check_id("VERSION", at + 1);
    if (rc)
        return rc;
    if ((o->venue != NULL) + (o->kiosk != NULL) + (o->tag != NULL) != 1)
        return usage_error("%s", "assign needs exactly one of --venue ID, --kiosk ID and --tag T");
    const char *target = o->venue ? o->venue : o->kiosk ? o->kiosk : o->tag;
    const char *kind = o->venue ? "venue" : o->kiosk ? "kiosk" : "tag";
    if ((rc = check_id(o->venue ? "--venue" : o->kiosk ? "--kiosk" : "--tag", target)))
        return rc;
    struct srv_assign a = {.kind = kind,
                           .target = target,
                           .pack = spec,
                           .version = at + 1,
                           .starts = o->from,
                           .ends = o->to,
                           .ends_ms = SRV_WHEN_NEVER,
                           .who = "cli",
                           .at_ms = kk_clock_wall_ms()};
    if ((o->from && (rc = assign_when("--from", o->from, &a.starts_ms))) ||
        (o->to && (rc = assign_when("--to", o->to, &a.ends_ms))))
        return rc;
    if (o->from && o->to && a.ends_ms <= a.starts_ms)
        return usage_error("--to %s: must be after --from %s", o->to, o->from);
    if ((rc = open_store(o, &s)))
        return rc;
    if (srv_store_assign_at(s, &a, &err)) {
        rc = fail(&err);
    } else {
        char detail[240];
        snprintf(detail, sizeof(detail), "%s@%s to %s %s", spec, at + 1, kind, target);
        if (o->from || o->to)
            snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), " from %s to %s",
                     o->from ? o->from : "now", o->to ? o->to : "open end");
        struct srv_audit au = {kk_clock_wall_ms(), "cli", "assign", target, detail, NULL, spec};
        srv_store_audit_record(s, &au, NULL);
    }
    srv_store_close(s);
    kk_buf_release(&err);
    return rc;
}

static int cmd_rollback(struct opts *o)
{
    struct srv_store *s = NULL;
    struct kk_buf err = KK_BUF_INIT;
    struct srv_rollback rb;
    if (o->npos != 1)
        return usage_error("%s", "usage: rollback PACK (--venue ID | --kiosk ID | --tag T)");
    int rc = check_id("PACK", o->pos[0]);
    if (rc)
        return rc;
    if ((o->venue != NULL) + (o->kiosk != NULL) + (o->tag != NULL) != 1)
        return usage_error("%s",
                           "rollback needs exactly one of --venue ID, --kiosk ID and --tag T");
    const char *target = o->venue ? o->venue : o->kiosk ? o->kiosk : o->tag;
    const char *kind = o->venue ? "venue" : o->kiosk ? "kiosk" : "tag";
    if ((rc = check_id(o->venue ? "--venue" : o->kiosk ? "--kiosk" : "--tag", target)))
        return rc;
    if ((rc = open_store(o, &s)))
        return rc;
    int64_t now = kk_clock_wall_ms();
    char tgt[80], what[240];
    snprintf(tgt, sizeof(tgt), "%s:%s", kind, target);
    if (srv_store_assign_rollback(s, kind, target, o->pos[0], "cli", now, &rb, &err)) {
        rc = fail(&err);
    } else {
        if (rb.window)
            snprintf(what, sizeof(what), "removed %s@%s from %s to %s", o->pos[0], rb.from,
                     *rb.starts ? rb.starts : "now", *rb.ends ? rb.ends : "open end");
        else if (*rb.to)
            snprintf(what, sizeof(what), "%s@%s back to %s", o->pos[0], rb.from, rb.to);
        else
            snprintf(what, sizeof(what), "%s@%s removed; no earlier version", o->pos[0], rb.from);
        struct srv_audit au = {now, "cli", "assignment.rollback", tgt, what, o->venue, o->pos[0]};
        if (srv_store_audit_record(s, &au, &err))
            rc = fail(&err);
        else
            printf("%s: %s\n", tgt, what);
    }
    srv_store_close(s);
    kk_buf_release(&err);
    return rc;
}

/* --- serve ---------------------------------------------------------------------------- */

/* Reads the trusted keys: the comma-separated list, or every .pub file in DATA/keys. */
static int load_keys(const struct opts *o, struct kk_pubkey *keys, size_t *n)
{
    struct kk_buf err = KK_BUF_INIT, path = KK_BUF_INIT;
    int rc = 0;
    *n = 0;
    if (o->keys) {
        char *list = kk_strdup(o->keys), *save = NULL;
        for (char *p = list ? strtok_r(list, ",", &save) : NULL; p && !rc;
             p = strtok_r(NULL, ",", &save)) {
            if (*n == MAX_KEYS)
                rc = usage_error("%s", "--trusted-keys: at most 16 keys");
            else if (kk_manifest_pubkey_read(p, &keys[*n], &err))
                rc = fail(&err);
            else
                (*n)++;
        }
        kk_free(list);
    } else {
        char *dir = kk_path_join(o->data, "keys");
        DIR *d = dir ? opendir(dir) : NULL;
        struct dirent *e;
        while (d && !rc && (e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (len < 5 || strcmp(e->d_name + len - 4, ".pub") || *n == MAX_KEYS)
                continue;
            kk_buf_reset(&path);
            if (kk_buf_addf(&path, "%s/%s", dir, e->d_name)) {
                fprintf(stderr, "kepu-server: %s/%s: out of memory\n", dir, e->d_name);
                rc = 1;
                break;
            }
            if (kk_manifest_pubkey_read(kk_buf_str(&path), &keys[*n], &err))
                rc = fail(&err);
            else
                (*n)++;
        }
        if (d)
            closedir(d);
        kk_free(dir);
    }
    kk_buf_release(&err);
    kk_buf_release(&path);
    return rc;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Drops the raw events older than days (0: keep them all; the store still prepares its
 * coming months) and logs what it did. 0 on success, 1 on failure. */
static int prune(struct srv_store *store, long days)
{
    struct kk_buf err = KK_BUF_INIT;
    int64_t before = days ? (int64_t)kk_clock_wall_ms() - days * 86400000LL : 0, dropped = 0;
    int rc = 0;
    if (srv_store_events_prune(store, before, &dropped, &err)) {
        kk_warn("retention", "%s", kk_buf_str(&err));
        rc = 1;
    } else if (dropped) {
        kk_info("retention", "dropped %lld raw events older than %ld days (rollups kept)",
                (long long)dropped, days);
    }
    kk_buf_release(&err);
    return rc;
}

static int cmd_prune(struct opts *o)
{
    struct srv_store *store = NULL;
    if (o->npos)
        return usage_error("prune: unexpected argument %s", o->pos[0]);
    if (!o->retention_days)
        return usage_error("%s", "prune needs --retention-days N");
    int rc = open_store(o, &store);
    if (!rc)
        rc = prune(store, o->retention_days);
    srv_store_close(store);
    return rc;
}

/* Reads --signing-key, refusing a file others may read, and adds its public half to the
 * trusted keys (so enrolled kiosks and offline-signed uploads trust it). */
static int load_signing_key(const struct opts *o, struct kk_pubkey *keys, size_t *n, char fp[17])
{
    struct kk_buf err = KK_BUF_INIT;
    struct kk_seckey key;
    struct kk_pubkey pub;
    struct stat st;
    fp[0] = '\0';
    if (!o->signing_key)
        return 0;
    if (stat(o->signing_key, &st) < 0) {
        fprintf(stderr, "kepu-server: --signing-key %s: %s\n", o->signing_key, strerror(errno));
        return 1;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "kepu-server: --signing-key %s: not a regular file\n", o->signing_key);
        return 1;
    }
    /* The alliance's key signs what every kiosk shows: only the server's user reads it. */
    if (st.st_mode & 077) {
        fprintf(stderr,
                "kepu-server: --signing-key %s: mode %04o lets others read the key; make it"
                " readable by the server's user only (chmod 600 %s)\n",
                o->signing_key, (unsigned)(st.st_mode & 07777), o->signing_key);
        return 1;
    }
    if (kk_manifest_seckey_read(o->signing_key, &key, &err)) {
        int rc = fail(&err);
        kk_buf_release(&err);
        return rc;
    }
    memcpy(pub.key, key.key + 32, KK_PUBKEY_BYTES);
    int known = 0;
    for (size_t i = 0; i < *n; i++)
        known |= !memcmp(keys[i].key, pub.key, KK_PUBKEY_BYTES);
    if (!known && *n < MAX_KEYS)
        keys[(*n)++] = pub;
    srv_review_set_key(&key);
    srv_review_key_fingerprint(&pub, fp);
    sodium_memzero(&key, sizeof(key));
    return 0;
}

/* pack add OUT|FILE.kpk: a signed built pack stored as a published version, checked as a
 * kiosk checks it; for the server's operators (it needs the data folder), audited. */
static int cmd_pack(struct opts *o)
{
    struct kk_pubkey keys[MAX_KEYS];
    size_t nkeys = 0;
    struct kk_buf err = KK_BUF_INIT, tmp = KK_BUF_INIT;
    struct kk_manifest *m = NULL;
    struct srv_store *s = NULL;
    struct stat st;
    char fp[17], name[17];
    int rc;
    if (o->npos != 2 || strcmp(o->pos[0], "add"))
        return usage_error("%s", "usage: pack add OUT|FILE.kpk");
    if ((rc = load_keys(o, keys, &nkeys)) || (rc = load_signing_key(o, keys, &nkeys, fp)))
        return rc;
    if (!nkeys) {
        fprintf(stderr,
                "kepu-server: pack add: no trusted keys (DATA/keys/*.pub or --trusted-keys)\n");
        return 1;
    }
    if ((rc = open_store(o, &s)))
        return rc;
    const char *dir = o->pos[1];
    if (stat(o->pos[1], &st) == 0 && !S_ISDIR(st.st_mode)) {
        kk_random_hex(name, 8);
        if (kk_buf_addf(&tmp, "%s/tmp/pack-add-%s", o->data, name) ||
            kk_mkdirs(kk_buf_str(&tmp), 0700, &err) || kk_buf_adds(&tmp, "/pack")) {
            rc = fail(&err);
            goto done;
        }
        dir = kk_buf_str(&tmp);
        rc = kk_bundle_read(o->pos[1], dir, keys, nkeys, &m, &err) ? fail(&err) : 0;
    } else {
        rc = kk_manifest_verify(o->pos[1], keys, nkeys, &m, &err) ? fail(&err) : 0;
    }
    if (!rc && srv_pack_store_dir(s, dir, m, &err))
        rc = fail(&err);
    if (!rc) {
        char detail[200];
        snprintf(detail, sizeof(detail), "%s@%s manifest %s (from the command line)", m->id,
                 m->version, m->sha256);
        struct srv_audit a = {kk_clock_wall_ms(), "cli", "pack.add", m->id, detail, NULL, m->id};
        srv_store_audit_record(s, &a, NULL);
        printf("added %s@%s (manifest %s)\n", m->id, m->version, m->sha256);
    }
done:
    if (tmp.len) {
        char *slash = strrchr(tmp.data, '/');
        *slash = '\0';
        kk_remove_tree(tmp.data, NULL);
    }
    kk_manifest_destroy(m);
    srv_store_close(s);
    kk_buf_release(&err);
    kk_buf_release(&tmp);
    return rc;
}

/* The alert options of serve, checked. */
static int alert_cfg(const struct opts *o, struct srv_alert_cfg *c)
{
    srv_alert_cfg_default(c);
    if (o->alert_down_s >= 0)
        c->down_ms = o->alert_down_s * 1000LL;
    if (o->alert_ni_s >= 0)
        c->not_installed_ms = o->alert_ni_s * 1000LL;
    if (o->alert_disk_mb >= 0)
        c->disk_low_mb = o->alert_disk_mb;
    if (o->alert_check_s >= 0)
        c->check_ms = o->alert_check_s * 1000LL;
    if (o->smtp && strncmp(o->smtp, "smtp://", 7) && strncmp(o->smtp, "smtps://", 8))
        return usage_error("--smtp %.200s: expected smtp://HOST:PORT or smtps://HOST:PORT",
                           o->smtp);
    c->smtp_url = o->smtp;
    if (o->mail_from) {
        const char *at = strchr(o->mail_from, '@');
        if (!at || at == o->mail_from || !at[1] || strpbrk(o->mail_from, " <>\"\r\n,"))
            return usage_error("--mail-from %.200s: expected an address like kepu@example.org",
                               o->mail_from);
        c->mail_from = o->mail_from;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        fprintf(stderr, "kepu-server: libcurl failed to initialise\n");
        return 1;
    }
    return 0;
}

static int cmd_serve(struct opts *o)
{
    struct srv_store *store = NULL;
    struct srv_server *server = NULL;
    struct srv_alert *alerts = NULL;
    struct srv_alert_cfg acfg;
    struct kk_buf err = KK_BUF_INIT;
    struct kk_pubkey keys[MAX_KEYS];
    size_t nkeys = 0;
    int rc;
    if (o->npos)
        return usage_error("serve: unexpected argument %s", o->pos[0]);
    char fp[17];
    if ((rc = alert_cfg(o, &acfg)))
        return rc;
    if ((rc = load_keys(o, keys, &nkeys)) || (rc = load_signing_key(o, keys, &nkeys, fp)))
        return rc;
    srv_pack_set_keys(keys, nkeys);
    if (o->web)
        srv_web_set_dir(o->web);
    if (o->kiosk_bin)
        srv_preview_set_kiosk(o->kiosk_bin);
    /* Previews start kepu-kiosk without a display or sound card. */
    setenv("SDL_VIDEODRIVER", "offscreen", 1);
    setenv("SDL_AUDIODRIVER", "dummy", 1);
    struct srv_events_limits lim;
    srv_events_limits_default(&lim);
    lim.rate_per_s = o->kiosk_rate >= 0 ? (uint32_t)o->kiosk_rate : lim.rate_per_s;
    lim.burst = o->kiosk_burst >= 0 ? (uint32_t)o->kiosk_burst : lim.burst;
    lim.quota_bytes_day =
        o->kiosk_quota_mb >= 0 ? (uint64_t)o->kiosk_quota_mb << 20 : lim.quota_bytes_day;
    lim.min_free_bytes = o->min_free_mb >= 0 ? (uint64_t)o->min_free_mb << 20 : lim.min_free_bytes;
    srv_events_set_limits(&lim);

    /* Signals are taken synchronously by this thread only; the server's threads inherit
     * the blocked mask. A client that hangs up must not kill the server: ignore SIGPIPE. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();

    if ((rc = open_store(o, &store)))
        return rc;
    struct srv_config cfg = {
        .listen = o->listen ? o->listen : DEFAULT_LISTEN,
        .threads = o->threads ? (unsigned)o->threads : 8,
        .timeout_s = o->timeout ? (unsigned)o->timeout : 30,
        .max_conns = o->max_conns ? (unsigned)o->max_conns : 4000,
        .header_timeout_s = o->header_timeout ? (unsigned)o->header_timeout : 10,
        .max_per_addr = o->max_per_addr ? (unsigned)o->max_per_addr : 64,
        .trusted_proxies = o->proxies,
        .metrics_allow = o->metrics_allow,
    };
    if (srv_server_start(&server, &cfg, store, srv_api_routes, srv_api_nroutes, &err)) {
        rc = fail(&err);
        goto done;
    }
    if (fp[0]) {
        /* Which key signs from now on, in the audit log (a rotation shows as a new one). */
        char detail[64];
        snprintf(detail, sizeof(detail), "signing key %s", fp);
        srv_store_audit_add(store, kk_clock_wall_ms(), "kepu-server", "key.signing", fp, detail,
                            NULL);
        kk_info("server", "publishing signs with key %s (%s)", fp, o->signing_key);
    } else {
        kk_info("server", "no --signing-key: drafts can be published only as packs signed"
                          " offline");
    }
    kk_info("server", "listening on %s port %u, data in %s, %zu trusted pack key(s)", cfg.listen,
            srv_server_port(server), o->data, nkeys);
    if (srv_alert_start(&alerts, store, &acfg, &err))
        kk_error("alerts", "%s: no alerts will be sent", kk_buf_str(&err));
    /* Retention and the store's upkeep once an hour (and now), between signals. */
    int sig = 0;
    int64_t next_prune = 0;
    while (sig != SIGTERM && sig != SIGINT) {
        if ((int64_t)kk_clock_wall_ms() >= next_prune) {
            prune(store, o->retention_days);
            next_prune = (int64_t)kk_clock_wall_ms() + 3600 * 1000;
        }
        struct timespec wait = {60, 0};
        sig = sigtimedwait(&set, NULL, &wait);
    }
    kk_info("server", "signal %d: finishing requests in flight", sig);
    srv_alert_stop(alerts);
    srv_server_stop(server, 30000);
    kk_info("server", "stopped");
done:
    srv_store_close(store);
    kk_buf_release(&err);
    return rc;
}

static int cmd_migrate(struct opts *o)
{
    struct kk_buf err = KK_BUF_INIT;
    if (o->npos)
        return usage_error("migrate: unexpected argument %s", o->pos[0]);
    if (!o->from || strncmp(o->from, "sqlite:", 7) || !o->from[7])
        return usage_error("%s", "migrate needs --from sqlite:PATH");
    if (!o->to || (strncmp(o->to, "postgresql://", 13) && strncmp(o->to, "postgres://", 11)))
        return usage_error("%s", "migrate needs --to postgresql://...");
    if (access(o->from + 7, R_OK)) {
        fprintf(stderr, "kepu-server: --from %s: %s\n", o->from + 7, strerror(errno));
        return 1;
    }
    int rc = srv_migrate(o->from + 7, o->to, o->data, stdout, &err) ? fail(&err) : 0;
    kk_buf_release(&err);
    return rc;
}

/* The one target of a fleet command: exactly one of --kiosk, --venue, --tag. */
static int fleet_target(const struct opts *o, const char **kind, const char **target)
{
    if ((o->venue != NULL) + (o->kiosk != NULL) + (o->tag != NULL) != 1)
        return usage_error("%s", "give exactly one of --kiosk ID, --venue ID and --tag T");
    *kind = o->venue ? "venue" : o->kiosk ? "kiosk" : "tag";
    *target = o->venue ? o->venue : o->kiosk ? o->kiosk : o->tag;
    return check_id(o->venue ? "--venue" : o->kiosk ? "--kiosk" : "--tag", *target);
}

/* command TYPE (--kiosk|--venue|--tag) [--expires-min N] | command list [--kiosk ID] */
static int cmd_command(struct opts *o)
{
    struct srv_store *s = NULL;
    struct kk_buf err = KK_BUF_INIT, args = KK_BUF_INIT;
    struct srv_table t = {0};
    const char *kind, *target;
    int rc;
    if (o->npos != 1)
        return usage_error("%s", "usage: command screenshot|restart|sync|logs (--kiosk ID |"
                                 " --venue ID | --tag T) [--expires-min N] | command list");
    int list = !strcmp(o->pos[0], "list");
    if (list) {
        if (o->kiosk && (rc = check_id("--kiosk", o->kiosk)))
            return rc;
    } else {
        if (srv_fleet_command_check(o->pos[0], NULL, &args, &err)) {
            rc = usage_error("%s", kk_buf_str(&err));
            kk_buf_release(&err);
            return rc;
        }
        if ((rc = fleet_target(o, &kind, &target)))
            return rc;
    }
    if ((rc = open_store(o, &s)))
        goto done;
    if (list) {
        if (srv_store_fleet_list(s, "commands", o->kiosk, &t, &err))
            rc = fail(&err);
        else
            print_table(&t);
        goto done;
    }
    if (srv_store_targets(s, kind, target, &t, &err)) {
        rc = fail(&err);
        goto done;
    }
    if (t.nrows == 0) {
        fprintf(stderr, "kepu-server: no kiosk has tag %s\n", target);
        rc = 1;
        goto done;
    }
    int64_t now = kk_clock_wall_ms();
    for (size_t r = 0; r < t.nrows && !rc; r++) {
        char id[33];
        srv_fleet_id_new(id);
        struct srv_command c = {
            .id = id,
            .kiosk = t.cells[r].s,
            .type = o->pos[0],
            .args = kk_buf_str(&args),
            .who = "cli",
            .created_ms = now,
            .expires_ms = now + (o->expires_min ? o->expires_min * 60 : SRV_COMMAND_DEFAULT_S) *
                                    (int64_t)1000,
        };
        if (srv_store_command_add(s, &c, &err))
            rc = fail(&err);
        else
            printf("%s\t%s\n", id, c.kiosk);
    }
done:
    srv_table_release(&t);
    srv_store_close(s);
    kk_buf_release(&err);
    kk_buf_release(&args);
    return rc;
}

struct set_ctx {
    struct srv_store *s;
    const char *kind, *target;
    int clear;
    struct kk_buf *err;
};

/* KEY=VALUE with VALUE as JSON (90, true, "zh") or, when not JSON, as a string. */
static int apply_setting(const char *item, void *ctx)
{
    struct set_ctx *c = ctx;
    struct kk_buf text = KK_BUF_INIT;
    char key[64];
    const char *eq = c->clear ? item + strlen(item) : strchr(item, '=');
    if (!eq || (size_t)(eq - item) >= sizeof(key))
        return usage_error("--set %s: expected KEY=VALUE", item);
    memcpy(key, item, (size_t)(eq - item));
    key[eq - item] = '\0';
    cJSON *v = c->clear ? cJSON_CreateNull() : cJSON_Parse(eq + 1);
    if (!v)
        v = cJSON_CreateString(eq + 1);
    int rc = 0;
    if (!c->clear && srv_fleet_setting_check(key, v, &text, c->err))
        rc = fail(c->err);
    char *json = c->clear ? NULL : cJSON_PrintUnformatted(v);
    if (!rc &&
        srv_store_setting_set(c->s, c->kind, c->target, key, json, kk_clock_wall_ms(), c->err))
        rc = fail(c->err);
    cJSON_free(json);
    cJSON_Delete(v);
    kk_buf_release(&text);
    return rc;
}

static int check_setting(const char *item, void *ctx)
{
    struct set_ctx *c = ctx;
    struct kk_buf text = KK_BUF_INIT;
    const char *eq = strchr(item, '=');
    if (!eq)
        return usage_error("--set %s: expected KEY=VALUE", item);
    char key[64];
    if ((size_t)(eq - item) >= sizeof(key))
        return usage_error("--set %s: expected KEY=VALUE", item);
    memcpy(key, item, (size_t)(eq - item));
    key[eq - item] = '\0';
    cJSON *v = cJSON_Parse(eq + 1);
    if (!v)
        v = cJSON_CreateString(eq + 1);
    int rc = srv_fleet_setting_check(key, v, &text, c->err) ? fail(c->err) : 0;
    cJSON_Delete(v);
    kk_buf_release(&text);
    return rc;
}

/* settings (--venue|--tag|--kiosk) [--set K=V,...] [--clear K,...]: prints the target's
 * overlay after the change. Every value is checked before any is stored. */
static int cmd_settings(struct opts *o)
{
    struct srv_store *s = NULL;
    struct kk_buf err = KK_BUF_INIT;
    struct srv_table t = {0};
    const char *kind, *target;
    int rc = o->npos ? usage_error("%s", "usage: settings (--venue ID | --tag T | --kiosk ID)"
                                         " [--set KEY=VALUE,...] [--clear KEY,...]")
                     : fleet_target(o, &kind, &target);
    if (rc)
        return rc;
    struct set_ctx c = {NULL, kind, target, 0, &err};
    if ((rc = each_item(o->set, check_setting, &c)))
        goto done;
    if ((rc = open_store(o, &s)))
        goto done;
    c.s = s;
    rc = each_item(o->set, apply_setting, &c);
    c.clear = 1;
    if (!rc)
        rc = each_item(o->clear, apply_setting, &c);
    if (!rc && srv_store_fleet_list(s, "settings", target, &t, &err))
        rc = fail(&err);
    for (size_t r = 0; !rc && r < t.nrows; r++)
        if (!strcmp(t.cells[r * 5].s, kind))
            printf("%s = %s\n", t.cells[r * 5 + 2].s, t.cells[r * 5 + 3].s);
done:
    srv_table_release(&t);
    srv_store_close(s);
    kk_buf_release(&err);
    return rc;
}

/* alerts list | alerts recipients [--venue ID] [--set JSON] */
static int cmd_alerts(struct opts *o)
{
    struct srv_store *s = NULL;
    struct kk_buf err = KK_BUF_INIT;
    struct srv_table t = {0};
    cJSON *set = NULL;
    int rc = 0;
    if (o->npos != 1 || (strcmp(o->pos[0], "list") && strcmp(o->pos[0], "recipients")))
        return usage_error("%s",
                           "usage: alerts list | alerts recipients [--venue ID] [--set JSON]");
    int list = !strcmp(o->pos[0], "list");
    if (o->venue && (rc = check_id("--venue", o->venue)))
        return rc;
    if (!list && o->set) {
        set = cJSON_Parse(o->set);
        if (!set)
            return usage_error("%s", "--set: not JSON");
        if (srv_alert_recipients_check(set, &err)) {
            rc = fail(&err);
            goto done;
        }
    }
    if ((rc = open_store(o, &s)))
        goto done;
    if (list) {
        if (srv_store_fleet_list(s, "alerts", NULL, &t, &err))
            rc = fail(&err);
        for (size_t r = 0; !rc && r < t.nrows; r++) {
            const struct srv_cell *c = &t.cells[r * 7];
            if (*c[0].s)
                printf("%s\t%s\t%s\t%lld\t%s\n", c[0].s, c[1].s, c[2].s, (long long)c[3].i, c[5].s);
        }
        goto done;
    }
    char key[80];
    snprintf(key, sizeof(key), "alerts:%s", o->venue ? o->venue : "");
    if (set) {
        if (o->venue && srv_store_targets(s, "venue", o->venue, &t, &err)) {
            rc = fail(&err);
            goto done;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(set, "venue");
        char *text = cJSON_PrintUnformatted(set);
        int64_t now = kk_clock_wall_ms();
        if (!text || srv_store_kv_set(s, key, text, now, &err))
            rc = text ? fail(&err) : 1;
        else
            srv_store_audit_add(s, now, "kepu-server", "alerts.recipients",
                                o->venue ? o->venue : "*", text, NULL);
        cJSON_free(text);
        srv_table_release(&t);
    }
    if (!rc && srv_store_fleet_list(s, "kv", key, &t, &err))
        rc = fail(&err);
    for (size_t r = 0; !rc && r < t.nrows; r++)
        if (!strcmp(t.cells[r * 3].s, key))
            printf("%s\n", t.cells[r * 3 + 1].s);
done:
    cJSON_Delete(set);
    srv_table_release(&t);
    srv_store_close(s);
    kk_buf_release(&err);
    return rc;
}

static const struct {
    const char *name;
    int (*fn)(struct opts *o);
} commands[] = {
    {"serve", cmd_serve},       {"venue", cmd_venue},   {"kiosk", cmd_kiosk},
    {"user", cmd_user},         {"assign", cmd_assign}, {"rollback", cmd_rollback},
    {"migrate", cmd_migrate},   {"prune", cmd_prune},   {"command", cmd_command},
    {"settings", cmd_settings}, {"pack", cmd_pack},     {"alerts", cmd_alerts},
};

int main(int argc, char **argv)
{
    kk_json_init();
    if (argc < 2)
        return usage_error("%s", "no command given");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("kepu-server %s\n", KK_VERSION);
            return 0;
        }
    }
    if (srv_auth_init()) {
        fprintf(stderr, "kepu-server: libsodium failed to initialise\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name))
            continue;
        struct opts o = {.kiosk_rate = -1,
                         .kiosk_burst = -1,
                         .kiosk_quota_mb = -1,
                         .min_free_mb = -1,
                         .alert_down_s = -1,
                         .alert_ni_s = -1,
                         .alert_disk_mb = -1,
                         .alert_check_s = -1};
        int rc = parse_opts(argc - 2, argv + 2, &o);
        return rc ? rc : commands[i].fn(&o);
    }
    return usage_error("unknown command %s", argv[1]);
}
