#include "pack_cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sodium.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/bundle.h"
#include "kepu/fs.h"
#include "kepu/limits.h"
#include "kepu/manifest.h"
#include "kepu/pack.h"
#include "pack_kiosk.h"
#include "pack_opts.h"

const struct pack_command pack_commands[] = {
    {"keygen", pack_cmd_keygen, 0, PACK_OPT_OUT, PACK_OPT_OUT, "-o NAME",
     "make a signing key pair: NAME.pub (for kiosks) and NAME.key (keep it secret)"},
    {"validate", pack_cmd_validate, 1, 0, 0, "DIR", "list every problem in the source pack DIR"},
    {"build", pack_cmd_build, 1, PACK_OPT_OUT | PACK_OPT_KEY, PACK_OPT_OUT | PACK_OPT_KEY,
     "DIR -o OUT --key NAME.key",
     "check DIR, then write its signed built form into the new folder OUT"},
    {"bundle", pack_cmd_bundle, 1, PACK_OPT_OUT, PACK_OPT_OUT, "OUT -o FILE.kpk",
     "pack the built folder OUT into one file for a USB stick"},
    {"verify", pack_cmd_verify, 1, PACK_OPT_PUBKEY, PACK_OPT_PUBKEY,
     "OUT|FILE.kpk --pubkey NAME.pub", "check a built pack or bundle exactly as a kiosk does"},
    {"publish", pack_cmd_publish, 1, PACK_OPT_SERVER | PACK_OPT_TOKEN, PACK_OPT_SERVER,
     "OUT|FILE.kpk --server URL (--token T | --token-file F)",
     "upload a built pack to the central server for review (a staff token; or KEPU_STAFF_TOKEN)"},
    {"preview", pack_cmd_preview, 1, PACK_OPT_SIZE, 0, "DIR [--size WxH]",
     "open the kiosk in a window (1920x1080 unless --size) on this pack alone"},
    {"check", pack_cmd_check, 1, PACK_OPT_OUT | PACK_OPT_TIMEOUT | PACK_OPT_SIZE, PACK_OPT_OUT,
     "DIR -o REPORT [--timeout SECONDS] [--size WxH]... (1920x1080 and 1080x1920 unless --size)",
     "screenshot every screen on the real kiosk and write REPORT/index.html"},
    {NULL, NULL, 0, 0, 0, NULL, NULL},
};

static int fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "kepu-pack: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return PACK_EXIT_FAIL;
}

static int usage_error(const char *cmd, const char *what)
{
    fprintf(stderr, "kepu-pack: %s: %s (see: kepu-pack %s --help)\n", cmd, what, cmd);
    return PACK_EXIT_USAGE;
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

int pack_cmd_keygen(int argc, char **argv)
{
    struct pack_opts o;
    int rc = pack_opts_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct kk_buf err = KK_BUF_INIT;
    if (kk_manifest_keygen(o.out, &err)) {
        rc = fail(argv[0], "%s", kk_buf_str(&err));
    } else {
        printf("wrote %s.pub (copy it to the kiosks) and %s.key (keep it secret and backed "
               "up)\n",
               o.out, o.out);
        rc = PACK_EXIT_OK;
    }
    kk_buf_release(&err);
    return rc;
}

/* Prints one problem as "file: field: error: message". */
static void print_diag(FILE *f, const struct kk_diag *d)
{
    const char *sev = d->severity == KK_SEV_ERROR ? "error" : "warning";
    if (d->field && *d->field)
        fprintf(f, "%s: %s: %s: %s\n", d->file, d->field, sev, d->message);
    else
        fprintf(f, "%s: %s: %s\n", d->file, sev, d->message);
}

/* The pictures decoded by the real kiosk within the budget it gives each (ui_image.h),
 * fitted to 1920x1080: a picture that loads but takes seconds to draw is refused here,
 * before it is signed. */
struct decode_walk {
    char *exe;
    size_t errors;
};

static int decode_one(void *ctx, const struct kk_topic *t, const struct kk_image *img)
{
    struct decode_walk *w = ctx;
    struct kk_buf err = KK_BUF_INIT;
    long long ms = 0;
    enum kk_err rc =
        pack_kiosk_decode(w->exe, img, 1920, 1080, KK_IMAGE_DECODE_BUDGET_MS, &ms, &err);
    if (rc) {
        printf("%s: error: %s: %s\n", t->file, img->src, kk_buf_str(&err));
        w->errors++;
    }
    kk_buf_release(&err);
    return pack_kiosk_interrupted();
}

/* Decodes every picture of p; the number that failed. Without the kiosk program it says
 * so on stderr and checks nothing. */
static size_t decode_pictures(const struct kk_pack *p)
{
    struct kk_buf err = KK_BUF_INIT;
    struct decode_walk w = {pack_kiosk_find(&err), 0};
    if (!w.exe)
        fprintf(stderr, "kepu-pack: validate: note: pictures not test-decoded: %s\n",
                kk_buf_str(&err));
    else
        kk_pack_each_image(p, decode_one, &w);
    kk_free(w.exe);
    kk_buf_release(&err);
    return w.errors;
}

int pack_cmd_validate(int argc, char **argv)
{
    struct pack_opts o;
    int rc = pack_opts_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct kk_diags diags = {0};
    struct kk_buf err = KK_BUF_INIT;
    struct kk_pack *p = NULL;
    enum kk_err lrc = kk_pack_load(o.arg, &p, &diags, &err);
    for (size_t i = 0; i < diags.n; i++)
        print_diag(stdout, &diags.items[i]);
    if (lrc && diags.errors == 0) {
        /* Not a problem in the pack's content: no pack.json, or out of memory. */
        rc = fail(argv[0], "%s: %s", o.arg, kk_buf_str(&err));
    } else {
        size_t errors = diags.errors + (p ? decode_pictures(p) : 0);
        printf("%zu %s, %zu %s\n", errors, plural(errors, "error", "errors"), diags.warnings,
               plural(diags.warnings, "warning", "warnings"));
        rc = errors ? PACK_EXIT_FAIL : PACK_EXIT_OK;
        if (errors)
            fprintf(stderr, "kepu-pack: validate: %s: the pack has %zu %s (listed above)\n", o.arg,
                    errors, plural(errors, "error", "errors"));
    }
    kk_pack_destroy(p);
    kk_diags_release(&diags);
    kk_buf_release(&err);
    return rc;
}

int pack_cmd_build(int argc, char **argv)
{
    struct pack_opts o;
    int rc = pack_opts_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct kk_diags diags = {0};
    struct kk_buf err = KK_BUF_INIT;
    struct kk_pack *p = NULL;
    struct kk_seckey key;
    if (kk_manifest_seckey_read(o.key, &key, &err)) {
        rc = fail(argv[0], "%s", kk_buf_str(&err));
        goto done;
    }
    /* A pack with errors is never signed: a signature says "this is fit for kiosks". */
    if (kk_pack_load(o.arg, &p, &diags, &err)) {
        if (diags.errors)
            rc =
                fail(argv[0], "%s: the pack has %zu %s, the first: %s (run: kepu-pack validate %s)",
                     o.arg, diags.errors, plural(diags.errors, "error", "errors"), kk_buf_str(&err),
                     o.arg);
        else
            rc = fail(argv[0], "%s: %s", o.arg, kk_buf_str(&err));
        goto done;
    }
    kk_buf_reset(&err);
    if (kk_manifest_build(o.arg, o.out, &key, &err)) {
        rc = fail(argv[0], "%s", kk_buf_str(&err));
        goto done;
    }
    printf("built %s: pack %s version %s, signed with %s", o.out, p->id, p->version, o.key);
    if (diags.warnings)
        printf(" (%zu %s: see kepu-pack validate)", diags.warnings,
               plural(diags.warnings, "warning", "warnings"));
    printf("\n");
    rc = PACK_EXIT_OK;
done:
    sodium_memzero(&key, sizeof(key));
    kk_pack_destroy(p);
    kk_diags_release(&diags);
    kk_buf_release(&err);
    return rc;
}

int pack_cmd_bundle(int argc, char **argv)
{
    struct pack_opts o;
    int rc = pack_opts_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct kk_buf err = KK_BUF_INIT;
    if (kk_bundle_write(o.arg, o.out, &err)) {
        rc = fail(argv[0], "%s: %s", o.arg, kk_buf_str(&err));
    } else {
        printf("wrote %s\n", o.out);
        rc = PACK_EXIT_OK;
    }
    kk_buf_release(&err);
    return rc;
}

/* After the signature and hashes, a kiosk loads the pack: a verified pack that would not
 * load is no use on a kiosk either. */
static int check_loads(const char *cmd, const char *shown, const char *dir)
{
    struct kk_pack *p = NULL;
    struct kk_buf err = KK_BUF_INIT;
    int rc = PACK_EXIT_OK;
    if (kk_pack_load(dir, &p, NULL, &err))
        rc = fail(cmd, "%s: signature and files are good, but the pack does not load: %s", shown,
                  kk_buf_str(&err));
    kk_pack_destroy(p);
    kk_buf_release(&err);
    return rc;
}

int pack_cmd_verify(int argc, char **argv)
{
    struct pack_opts o;
    int rc = pack_opts_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct kk_buf err = KK_BUF_INIT;
    struct kk_pubkey keys[PACK_MAX_PUBKEYS];
    struct kk_manifest *m = NULL;
    char tmp[4096] = "";
    char *staging = NULL;
    for (int i = 0; i < o.npubkeys; i++) {
        if (kk_manifest_pubkey_read(o.pubkeys[i], &keys[i], &err)) {
            rc = fail(argv[0], "%s", kk_buf_str(&err));
            goto done;
        }
    }
    struct stat st;
    if (stat(o.arg, &st) < 0) {
        rc = fail(argv[0], "%s: no such file or folder", o.arg);
        goto done;
    }
    if (S_ISDIR(st.st_mode)) {
        if (kk_manifest_verify(o.arg, keys, (size_t)o.npubkeys, &m, &err)) {
            rc = fail(argv[0], "%s: %s", o.arg, kk_buf_str(&err));
            goto done;
        }
        rc = check_loads(argv[0], o.arg, o.arg);
    } else {
        const char *tmpdir = getenv("TMPDIR");
        snprintf(tmp, sizeof(tmp), "%s/kepu-pack-verify-XXXXXX",
                 tmpdir && *tmpdir ? tmpdir : "/tmp");
        if (!mkdtemp(tmp)) {
            tmp[0] = '\0';
            rc = fail(argv[0], "cannot make a temporary folder in %s",
                      tmpdir && *tmpdir ? tmpdir : "/tmp");
            goto done;
        }
        staging = kk_path_join(tmp, "pack");
        if (!staging) {
            rc = fail(argv[0], "out of memory");
            goto done;
        }
        if (kk_bundle_read(o.arg, staging, keys, (size_t)o.npubkeys, &m, &err)) {
            rc = fail(argv[0], "%s", kk_buf_str(&err));
            goto done;
        }
        rc = check_loads(argv[0], o.arg, staging);
    }
    if (rc == PACK_EXIT_OK)
        printf("good: %s is pack %s version %s, %zu %s, signed by a trusted key\n", o.arg, m->id,
               m->version, m->nfiles, plural(m->nfiles, "file", "files"));
done:
    if (tmp[0])
        kk_remove_tree(tmp, NULL);
    kk_free(staging);
    kk_manifest_destroy(m);
    kk_buf_release(&err);
    return rc;
}

static size_t collect(char *data, size_t size, size_t n, void *user)
{
    return kk_buf_add(user, data, size * n) ? 0 : size * n;
}

/* The staff token: --token, --token-file, or KEPU_STAFF_TOKEN (keeps it out of `ps`). */
static int read_token(const char *cmd, const struct pack_opts *o, struct kk_buf *token)
{
    struct kk_buf err = KK_BUF_INIT;
    int rc = PACK_EXIT_OK;
    if (o->token)
        kk_buf_adds(token, o->token);
    else if (o->token_file) {
        if (kk_file_read(o->token_file, 4096, token, &err))
            rc = fail(cmd, "%s", kk_buf_str(&err));
    } else if (getenv("KEPU_STAFF_TOKEN"))
        kk_buf_adds(token, getenv("KEPU_STAFF_TOKEN"));
    else
        rc = usage_error(cmd, "missing --token, --token-file or KEPU_STAFF_TOKEN");
    while (token->len && strchr(" \t\r\n", token->data[token->len - 1]))
        token->data[--token->len] = '\0';
    if (!rc && kk_buf_error(token))
        rc = fail(cmd, "the staff token: %s", kk_strerror(kk_buf_error(token)));
    if (!rc && !token->len)
        rc = fail(cmd, "the staff token is empty");
    kk_buf_release(&err);
    return rc;
}

int pack_cmd_publish(int argc, char **argv)
{
    struct pack_opts o;
    int rc = pack_opts_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    const char *cmd = argv[0];
    struct kk_buf token = KK_BUF_INIT, body = KK_BUF_INIT, answer = KK_BUF_INIT, err = KK_BUF_INIT,
                  url = KK_BUF_INIT, auth = KK_BUF_INIT;
    char tmpdir[] = "/tmp/kepu-publish-XXXXXX";
    char *kpk = NULL;
    CURL *curl = NULL;
    struct curl_slist *headers = NULL;
    struct stat st;
    if ((rc = read_token(cmd, &o, &token)))
        goto done;
    /* A built folder is bundled first: the server takes bundles. */
    if (stat(o.arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (!mkdtemp(tmpdir) || !(kpk = kk_path_join(tmpdir, "pack.kpk"))) {
            rc = fail(cmd, "cannot make a temporary folder");
            goto done;
        }
        if (kk_bundle_write(o.arg, kpk, &err)) {
            rc = fail(cmd, "%s: %s", o.arg, kk_buf_str(&err));
            goto done;
        }
    }
    if (kk_file_read(kpk ? kpk : o.arg, 256u * 1024 * 1024, &body, &err)) {
        rc = fail(cmd, "%s", kk_buf_str(&err));
        goto done;
    }
    size_t slen = strlen(o.server);
    kk_buf_addf(&url, "%.*s/api/v1/packs",
                (int)(slen && o.server[slen - 1] == '/' ? slen - 1 : slen), o.server);
    kk_buf_addf(&auth, "Authorization: Bearer %s", kk_buf_str(&token));
    if (kk_buf_error(&url) || kk_buf_error(&auth)) {
        rc = fail(cmd, "out of memory");
        goto done;
    }
    curl = curl_easy_init();
    headers = curl_slist_append(headers, kk_buf_str(&auth));
    headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
    if (!curl || !headers) {
        rc = fail(cmd, "out of memory");
        goto done;
    }
    curl_easy_setopt(curl, CURLOPT_URL, kk_buf_str(&url));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 600L);
    kk_buf_init(&answer, 64 * 1024);
    CURLcode cc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        rc = fail(cmd, "%s: %s", kk_buf_str(&url), curl_easy_strerror(cc));
    } else if (status < 200 || status > 299) {
        /* The server's answer says why: {"error":"..."}. */
        cJSON *j = cJSON_ParseWithLength(answer.data ? answer.data : "", answer.len);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        rc = fail(cmd, "%s: the server answered %ld: %s", kk_buf_str(&url), status,
                  cJSON_IsString(e) ? e->valuestring : "(no reason given)");
        cJSON_Delete(j);
    } else {
        cJSON *j = cJSON_ParseWithLength(answer.data ? answer.data : "", answer.len);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
        const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "version");
        const cJSON *draft = cJSON_GetObjectItemCaseSensitive(j, "draft");
        const cJSON *pack = cJSON_GetObjectItemCaseSensitive(j, "pack");
        /* A staff upload goes to the office's review (docs/review.md), not to kiosks. */
        if (cJSON_IsString(draft))
            printf("submitted %s for review on %s as draft %s; an office user approves and"
                   " publishes it\n",
                   cJSON_IsString(pack) ? pack->valuestring : "?", o.server, draft->valuestring);
        else
            printf("published %s@%s to %s\n", cJSON_IsString(id) ? id->valuestring : "?",
                   cJSON_IsString(ver) ? ver->valuestring : "?", o.server);
        cJSON_Delete(j);
        rc = PACK_EXIT_OK;
    }
done:
    curl_slist_free_all(headers);
    if (curl)
        curl_easy_cleanup(curl);
    if (kpk) {
        unlink(kpk);
        rmdir(tmpdir);
    }
    kk_free(kpk);
    sodium_memzero(token.data ? token.data : tmpdir, token.data ? token.len : 0);
    kk_buf_release(&token);
    kk_buf_release(&body);
    kk_buf_release(&answer);
    kk_buf_release(&err);
    kk_buf_release(&url);
    kk_buf_release(&auth);
    return rc;
}
