/* kepu-kiosk: the full-screen touch app. */
#include <errno.h>
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "fleet_ui.h"
#include "automation.h"
#include "content.h"
#include "kepu/alloc.h"
#include "kepu/enrol.h"
#include "kepu/fs.h"
#include "kepu/imgprobe.h"
#include "kepu/log.h"
#include "ui_ctx.h"
#include "ui_image.h"

#define KK_ENROL_CONFIG "/etc/kepu/kiosk.conf"

static const char usage[] =
    "usage: kepu-kiosk [--config FILE] [--content DIR] [--state DIR] [--window WxH]\n"
    "                  [--automation]\n"
    "       kepu-kiosk --enrol URL CODE [--config FILE] [--state DIR]\n"
    "\n"
    "  --config FILE   read settings from FILE (kiosk.conf; see README)\n"
    "  --content DIR   show the source-form packs in DIR (each subfolder a pack)\n"
    "  --state DIR     keep the journal and installed packs in DIR\n"
    "  --window WxH    run in a window of W x H pixels instead of full screen\n"
    "  --automation    read JSON commands on stdin, write the screen as JSON on stdout\n"
    "  --hash-pin      read a staff PIN on stdin, print its hash for staff_pin_hash\n"
    "  --decode png|jpeg|svg WxH FILE  decode one picture as shown at up to WxH\n"
    "  --enrol URL CODE  join the server at URL with the one-time CODE of\n"
    "                  kepu-server kiosk enrol: writes the token (mode 0600) and the keys and\n"
    "                  sets kiosk_id, server_url, token_file, trusted_keys in the config\n"
    "                  (default " KK_ENROL_CONFIG ")\n"
    "  --help, --version\n";

/* Reads a PIN (digits, 4 to 12) on stdin and prints its Argon2id hash for kiosk.conf. The
 * cost is moderate on purpose: the panel locks after five wrong PINs anyway. */
static int hash_pin(void)
{
    char pin[64], hash[crypto_pwhash_STRBYTES];
    if (!fgets(pin, sizeof(pin), stdin)) {
        fprintf(stderr, "kepu-kiosk: --hash-pin: expected the PIN on standard input\n");
        return 1;
    }
    pin[strcspn(pin, "\r\n")] = '\0';
    size_t n = strlen(pin);
    if (n < 4 || n > 12 || strspn(pin, "0123456789") != n) {
        fprintf(stderr, "kepu-kiosk: --hash-pin: the PIN must be 4 to 12 digits\n");
        return 1;
    }
    if (sodium_init() < 0 || crypto_pwhash_str(hash, pin, n, 3, 8u * 1024 * 1024) != 0) {
        fprintf(stderr, "kepu-kiosk: --hash-pin: cannot hash (out of memory)\n");
        return 1;
    }
    sodium_memzero(pin, sizeof(pin));
    printf("%s\n", hash);
    return 0;
}

/* --decode png|jpeg|svg WxH FILE: decodes one picture as the kiosk draws it (an SVG
 * rasterised to fit WxH) and prints "ok WxH" or the reason it cannot be shown, for
 * `kepu-pack validate`, which times it. */
static int decode_picture(const char *type, const char *size, const char *path)
{
    static const char *types[] = {
        [KK_IMG_PNG] = "png", [KK_IMG_JPEG] = "jpeg", [KK_IMG_SVG] = "svg"};
    struct kk_image img = {.src = (char *)path, .path = (char *)path, .type = KK_IMG_PNG};
    int w = 0, h = 0;
    while (img.type <= KK_IMG_SVG && strcmp(types[img.type], type))
        img.type++;
    if (img.type > KK_IMG_SVG || sscanf(size, "%dx%d", &w, &h) != 2 || w < 1 || h < 1) {
        fprintf(stderr, "kepu-kiosk: --decode: expected png|jpeg|svg WxH FILE\n");
        return 2;
    }
    struct kk_buf err = KK_BUF_INIT;
    SDL_Surface *s = NULL;
    if (!kk_image_probe(path, img.type, &img, &err)) {
        int fw, fh;
        ui_fit(&img, w, h, &fw, &fh);
        s = ui_image_decode(&img, fw, fh, &err);
    }
    if (s)
        printf("ok %dx%d\n", s->w, s->h);
    else
        printf("%s\n", kk_buf_str(&err));
    SDL_FreeSurface(s);
    kk_buf_release(&err);
    return s ? 0 : 1;
}

/* --enrol: fetches the kiosk's identity with the code and writes it (kepu/enrol.h). */
static int enrol(const char *url, const char *code, const char *config, const char *state,
                 const char *ca_file)
{
    struct kk_buf err = KK_BUF_INIT;
    struct kk_enrol_result res;
    struct kk_enrol_opts o = {
        .url = url, .code = code, .config_path = config, .state_dir = state, .ca_file = ca_file};
    int rc = kk_enrol_run(&o, &res, &err) ? 1 : 0;
    if (rc)
        fprintf(stderr, "kepu-kiosk: %s\n", kk_buf_str(&err));
    else
        printf("kepu-kiosk: enrolled as kiosk %s of venue %s (%zu trusted key(s)); %s updated.\n"
               "Restart the app to use it: systemctl restart kepu-kiosk\n",
               res.kiosk_id, res.venue, res.nkeys, config);
    kk_buf_release(&err);
    return rc;
}

/* Starts the background sync when a server is configured; the kiosk runs offline
 * without it. */
static void start_sync(struct app *a)
{
    struct kk_buf err = KK_BUF_INIT;
    struct kk_sync_opts o;
    if (!*a->cfg.server_url) {
        kk_info("sync", "no server_url: running offline");
        return;
    }
    kk_sync_opts_from_config(&o, &a->cfg, a->session.journal);
    o.app_version = KK_VERSION;
    if (kk_sync_create(&a->content.sync, &o, &err) || kk_sync_start(a->content.sync, &err)) {
        kk_error("sync", "not started: %s", kk_buf_str(&err));
        kk_sync_destroy(a->content.sync);
        a->content.sync = NULL;
    }
    kk_buf_release(&err);
}

/* Opens the journal in the state folder; without it the kiosk still runs. */
static void open_journal(struct app *a)
{
    struct kk_buf err = KK_BUF_INIT;
    char *path = NULL;
    if (kk_mkdirs(a->cfg.state_dir, 0700, &err) ||
        !(path = kk_path_join(a->cfg.state_dir, "journal.db")) ||
        kk_journal_open(&a->session.journal, path, (uint64_t)a->cfg.journal_max_mb * 1024 * 1024,
                        &err))
        kk_error("journal", "usage events will not be recorded: %s",
                 err.len ? kk_buf_str(&err) : "out of memory");
    else
        kk_info("journal", "%s", path);
    kk_free(path);
    kk_buf_release(&err);
}

int main(int argc, char **argv)
{
    static struct app app;
    struct app *a = &app;
    struct kk_buf err = KK_BUF_INIT;
    const char *config = NULL, *content = NULL, *state = NULL, *enrol_url = NULL, *code = NULL;
    int automation = 0, rc = 1;
    /* Before any thread starts. A picture or a line of text is a buffer of 100 KB to a few
     * MB (the software renderer's textures): at a fixed threshold each has pages of its
     * own, handed back when it is evicted. By default glibc raises the threshold to the
     * largest buffer freed so far, after which they come from the heap and, once freed,
     * stay resident as holes between smaller blocks. One arena: the decoder, sync and
     * audio threads' few blocks need no arena of their own each (about 1 MB resident
     * apiece). The whole-content walk peaked at 91 MB without these, 80 MB with them
     * (docs/performance.md). */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_ARENA_MAX, 1);
    kk_json_init();
    a->ui.w = 1920;
    a->ui.h = 1080;
    a->fullscreen = 1;
    if (kk_config_init(&a->cfg)) {
        fprintf(stderr, "kepu-kiosk: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--help")) {
            fputs(usage, stdout);
            rc = 0;
            goto done;
        } else if (!strcmp(arg, "--version")) {
            printf("kepu-kiosk %s\n", KK_VERSION);
            rc = 0;
            goto done;
        } else if (!strcmp(arg, "--hash-pin")) {
            rc = hash_pin();
            goto done;
        } else if (!strcmp(arg, "--decode")) {
            rc = i + 3 < argc ? decode_picture(argv[i + 1], argv[i + 2], argv[i + 3])
                              : decode_picture("", "", "");
            goto done;
        } else if (!strcmp(arg, "--automation")) {
            automation = 1;
            continue;
        } else if (!strcmp(arg, "--enrol")) {
            if (i + 2 >= argc) {
                fprintf(stderr, "kepu-kiosk: --enrol needs the server's URL and the code\n");
                goto done;
            }
            enrol_url = argv[++i];
            code = argv[++i];
            continue;
        }
        if (!val || strncmp(arg, "--", 2)) {
            fprintf(stderr, "kepu-kiosk: %s: %s (see --help)\n", arg,
                    val ? "unknown argument" : "needs a value");
            goto done;
        }
        i++;
        if (!strcmp(arg, "--config"))
            config = val;
        else if (!strcmp(arg, "--content"))
            content = val;
        else if (!strcmp(arg, "--state"))
            state = val;
        else if (!strcmp(arg, "--window")) {
            if (kk_parse_size(val, 320, 16384, &a->ui.w, &a->ui.h)) {
                fprintf(stderr, "kepu-kiosk: --window %s: expected WIDTHxHEIGHT, e.g. 1920x1080\n",
                        val);
                goto done;
            }
            a->fullscreen = 0;
        } else {
            fprintf(stderr, "kepu-kiosk: %s: unknown option (see --help)\n", arg);
            goto done;
        }
    }
    /* The file first, then the command line wins. Enrolment may create the file. */
    if (enrol_url && !config)
        config = KK_ENROL_CONFIG;
    if ((config && !(enrol_url && access(config, F_OK)) && kk_config_load(&a->cfg, config, &err)) ||
        (content && kk_config_set(&a->cfg, "content_dir", content, &err)) ||
        (state && kk_config_set(&a->cfg, "state_dir", state, &err))) {
        fprintf(stderr, "kepu-kiosk: %s\n", kk_buf_str(&err));
        goto done;
    }
    if (enrol_url) {
        rc = enrol(enrol_url, code, config, a->cfg.state_dir, a->cfg.ca_file);
        goto done;
    }
    app_setup(a);
    if (app_init(a, &err)) {
        fprintf(stderr, "kepu-kiosk: %s\n", kk_buf_str(&err));
        goto done;
    }
    if (automation)
        automation_start(a);
    fleet_ui_attach(a);
    open_journal(a);
    start_sync(a);
    content_startup_check(&a->content);
    content_load(&a->content);
    app_run(a);
    content_startup_ok(&a->content); /* a clean stop is not a failed start */
    kk_info("app", "stopped");
    rc = a->exit_code;
done:
    app_release(a);
    fleet_ui_detach(a);
    kk_buf_release(&err);
    return rc;
}
