#include "srv_web.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"

#ifndef KK_SERVER_WEB_DIR
#define KK_SERVER_WEB_DIR "web"
#endif

/* Inline scripts are never needed; Chart.js sets canvas sizes through element styles. blob:
 * images are the kiosks' screenshots, fetched with the session and shown from memory. */
#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'"      \
    " data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action "      \
    "'self'"

static char web_dir[1024] = KK_SERVER_WEB_DIR;

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
};

/* The libraries of /vendor/: a name the page asks for, and the packaged file. */
static const struct {
    const char *name, *path;
} vendor[] = {
    {"chart.js", SRV_CHARTJS_PATH},
};

void srv_web_set_dir(const char *dir)
{
    snprintf(web_dir, sizeof(web_dir), "%s", dir);
}

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return NULL;
}

/* A flat file name: letters, digits, "-", "_" and ".", not starting with a dot. */
static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (!n || n > 64 || name[0] == '.' ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n)
        return 0;
    return 1;
}

/* Answers with the file at path, or 404. */
static void send_file(struct srv_reply *out, const char *path, const char *type, int flags,
                      const char *cache)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        srv_reply_error(out, 404, "no such page");
        return;
    }
    out->fd = fd;
    out->offset = 0;
    out->length = (uint64_t)st.st_size;
    out->status = 200;
    out->content_type = type;
    srv_reply_header(out, "Cache-Control", cache);
    srv_reply_header(out, "Content-Security-Policy", CSP);
    srv_reply_header(out, "X-Frame-Options", "DENY");
    srv_reply_header(out, "Referrer-Policy", "no-referrer");
}

static void serve_web(struct srv_reply *out, const char *name)
{
    const char *type = type_of(name);
    if (!name_ok(name) || !type) {
        srv_reply_error(out, 404, "no such page");
        return;
    }
    char *path = kk_path_join(web_dir, name);
    if (!path) {
        srv_reply_error(out, 500, "out of memory");
        return;
    }
    /* no-cache: the browser revalidates, so a new dashboard shows at the next load. */
    send_file(out, path, type, O_NOFOLLOW, "no-cache");
    kk_free(path);
}

void srv_web_index(struct srv_req *req, struct srv_reply *out)
{
    (void)req;
    serve_web(out, "index.html");
}

void srv_web_file(struct srv_req *req, struct srv_reply *out)
{
    serve_web(out, req->params[0]);
}

void srv_web_vendor(struct srv_req *req, struct srv_reply *out)
{
    for (size_t i = 0; i < sizeof(vendor) / sizeof(vendor[0]); i++) {
        if (strcmp(req->params[0], vendor[i].name))
            continue;
        /* The packaged path is ours, not the client's; Debian may make it a link. */
        send_file(out, vendor[i].path, "text/javascript; charset=utf-8", 0,
                  "public, max-age=86400");
        return;
    }
    srv_reply_error(out, 404, "no such library");
}
