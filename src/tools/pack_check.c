/* `kepu-pack check DIR -o REPORT` and `kepu-pack preview DIR`: how staff proof-read a pack
 * on the real kiosk without a programmer. check validates the pack, walks it on the kiosk
 * (pack_walk.h) and writes what was found (pack_findings.h) as a report (pack_report.h);
 * preview opens the kiosk in a window on the pack alone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"
#include "pack_cmd.h"
#include "pack_kiosk.h"
#include "pack_opts.h"
#include "pack_report.h"
#include "pack_walk.h"

/* ---- the commands ---- */

/* Loads and validates the pack; on errors lists them (as validate does) and returns the
 * exit code, else -1 with *out loaded. */
static int load_pack(const char *cmd, const char *dir, struct kk_pack **out, struct kk_diags *diags)
{
    struct kk_buf err = KK_BUF_INIT, line = KK_BUF_INIT;
    int rc = -1;
    if (kk_pack_load(dir, out, diags, &err)) {
        if (diags->errors) {
            for (size_t i = 0; i < diags->n; i++)
                if (diags->items[i].severity == KK_SEV_ERROR) {
                    kk_buf_reset(&line);
                    kk_diags_format(diags, i, &line);
                    printf("%s\n", kk_buf_str(&line));
                }
            fprintf(stderr,
                    "kepu-pack: %s: %s: the pack has %zu error%s (listed above); fix %s first "
                    "(kepu-pack validate %s)\n",
                    cmd, dir, diags->errors, diags->errors == 1 ? "" : "s",
                    diags->errors == 1 ? "it" : "them", dir);
        } else {
            fprintf(stderr, "kepu-pack: %s: %s: %s\n", cmd, dir, kk_buf_str(&err));
        }
        rc = PACK_EXIT_FAIL;
    }
    kk_buf_release(&err);
    kk_buf_release(&line);
    return rc;
}

int pack_cmd_preview(int argc, char **argv)
{
    struct pack_opts o;
    int rc = pack_opts_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct kk_diags diags = {0};
    struct kk_pack *p = NULL;
    struct kk_buf err = KK_BUF_INIT;
    struct pack_sandbox sb = {0};
    char *exe = NULL;
    rc = load_pack(argv[0], o.arg, &p, &diags);
    if (rc >= 0)
        goto done;
    if (!(exe = pack_kiosk_find(&err)) || pack_sandbox_make(&sb, o.arg, p->id, &err)) {
        fprintf(stderr, "kepu-pack: %s: %s\n", argv[0], kk_buf_str(&err));
        rc = PACK_EXIT_FAIL;
        goto done;
    }
    pack_kiosk_catch_interrupts();
    printf("showing %s (pack %s version %s) in a %dx%d window; close the window to end\n", o.arg,
           p->id, p->version, o.w, o.h);
    fflush(stdout);
    if (pack_kiosk_run(exe, &sb, o.w, o.h, &err)) {
        fprintf(stderr, "kepu-pack: %s: %s\n", argv[0], kk_buf_str(&err));
        rc = PACK_EXIT_FAIL;
    } else {
        rc = PACK_EXIT_OK;
    }
done:
    pack_sandbox_release(&sb);
    kk_free(exe);
    kk_pack_destroy(p);
    kk_diags_release(&diags);
    kk_buf_release(&err);
    return rc;
}

int pack_cmd_check(int argc, char **argv)
{
    struct pack_opts o;
    int rc = pack_opts_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct kk_diags diags = {0};
    struct kk_pack *p = NULL;
    struct kk_buf err = KK_BUF_INIT;
    struct pack_check c = {0};
    char *report = NULL;
    rc = load_pack(argv[0], o.arg, &p, &diags);
    if (rc >= 0)
        goto done;
    /* The kiosk writes screenshots where it is told: give it absolute paths. */
    if (kk_mkdirs(o.out, 0755, &err) || !(report = realpath(o.out, NULL))) {
        fprintf(stderr, "kepu-pack: %s: %s: %s\n", argv[0], o.out,
                err.len ? kk_buf_str(&err) : strerror(errno));
        rc = PACK_EXIT_FAIL;
        goto done;
    }
    pack_kiosk_catch_interrupts();
    /* No display needed, unless the caller asked for one. */
    setenv("SDL_VIDEODRIVER", "offscreen", 0);
    setenv("SDL_AUDIODRIVER", "dummy", 0);
    c.dir = o.arg;
    c.report = report;
    c.timeout_ms = o.timeout_s * 1000;
    c.pack = p;
    c.diags = &diags;
    if (o.nsizes) { /* else pack_check_run's two */
        memcpy(c.sizes, o.sizes, sizeof(o.sizes));
        c.nsizes = o.nsizes;
    }
    if (pack_check_run(&c, &err) || pack_report_write(&c, &err)) {
        fprintf(stderr, "kepu-pack: %s: %s\n", argv[0], kk_buf_str(&err));
        rc = PACK_EXIT_FAIL;
        goto done;
    }
    size_t missing = 0;
    for (size_t i = 0; i < diags.n; i++)
        missing += pack_check_is_translation(&diags.items[i]);
    printf("%s: pack %s %s: %zu screens, %zu overflowing, %zu missing translation%s, %zu "
           "too-small image%s, %zu warning%s, %zu shortened card summar%s, %zu low-contrast "
           "text%s; %.0f s; report: %s/index.html\n",
           c.failure.len ? "incomplete" : (c.overflows ? "problems" : "good"), p->id, p->version,
           c.nshots, c.overflows, missing, missing == 1 ? "" : "s", c.nsmall,
           c.nsmall == 1 ? "" : "s", diags.warnings, diags.warnings == 1 ? "" : "s", c.shortened,
           c.shortened == 1 ? "y" : "ies", c.nlow, c.nlow == 1 ? "" : "s", c.seconds, o.out);
    if (c.failure.len)
        fprintf(stderr, "kepu-pack: %s: %s\n", argv[0], kk_buf_str(&c.failure));
    rc = c.failure.len || c.overflows ? PACK_EXIT_FAIL : PACK_EXIT_OK;
done:
    pack_check_release(&c);
    free(report);
    kk_pack_destroy(p);
    kk_diags_release(&diags);
    kk_buf_release(&err);
    return rc;
}
