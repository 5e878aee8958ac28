/* The staff panel: five taps in the top-right corner within three seconds, then the PIN.
 * It shows what the kiosk runs and lets staff import a pack from a USB stick, roll a pack
 * back, hide or show it, test the touchscreen and quit the app. Visitors have no other
 * way out of the full-screen app. */
#include <dirent.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "app.h"
#include "content.h"
#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/install.h"
#include "kepu/log.h"
#include "ui_text.h"

#define CORNER_TAPS      5
#define CORNER_WINDOW_MS 3000
#define PIN_TRIES        5
#define FIRST_LOCK_MS    (5 * 60 * 1000)
#define MAX_IMPORT_FILES 24

/* Staff words are for staff only: both languages side by side, no table needed. */
static const char *tr(const struct app *a, const char *zh, const char *en)
{
    return a->lang == KK_LANG_EN ? en : zh;
}

void staff_corner_tap(struct app *a, int x, int y)
{
    int c = app_px(a, 140);
    if (x < a->w - c || y >= c)
        return;
    uint64_t now = kk_clock_mono_ms();
    memmove(a->corner_taps, a->corner_taps + 1, sizeof(a->corner_taps) - sizeof(a->corner_taps[0]));
    a->corner_taps[CORNER_TAPS - 1] = now;
    if (!a->corner_taps[0] || now - a->corner_taps[0] > CORNER_WINDOW_MS)
        return;
    memset(a->corner_taps, 0, sizeof(a->corner_taps));
    if (!*a->cfg.staff_pin_hash) {
        kk_warn("staff", "staff panel asked for, but it is disabled (no staff_pin_hash)");
        return;
    }
    kk_info("staff", "staff panel asked for");
    app_session_end(a, "staff");
    a->pin[0] = '\0';
    a->staff_msg[0] = '\0';
    app_reset(a, &scene_staff_pin);
}

/* ---- shared pieces ---- */

static int title(struct app *a, struct ui_list *l, struct ui_rect box, const char *text)
{
    int m = app_px(a, 50);
    return box.y + app_px(a, 30) +
           app_label(a, l, "staff/title", text, UI_FONT_BOLD, app_px(a, 52), UI_PRIMARY_DARK,
                     box.x + m, box.y + app_px(a, 30), box.w - 2 * m, 1, 0) +
           app_px(a, 20);
}

static int message(struct app *a, struct ui_list *l, int x, int y, int w)
{
    if (!a->staff_msg[0])
        return 0;
    int bad = !strncmp(a->staff_msg, "!", 1);
    return app_label(a, l, "staff/message", a->staff_msg + bad, UI_FONT_BOLD, app_px(a, 30),
                     bad ? UI_BAD : UI_GOOD, x, y, w, 4, 0) +
           app_px(a, 16);
}

/* Formats into buf with the format of the screen's language (both are literals, so the
 * compiler checks them). */
#define TR_FMT(a, buf, zh, en, ...)                                                                \
    ((a)->lang == KK_LANG_EN ? snprintf(buf, sizeof(buf), en, __VA_ARGS__)                         \
                             : snprintf(buf, sizeof(buf), zh, __VA_ARGS__))

/* Shows the result of an action on the panel; bad ones in red. */
static void say(struct app *a, int bad, const char *text)
{
    size_t n = strnlen(text, sizeof(a->staff_msg) - 2);
    while (n > 0 && text[n] && ((unsigned char)text[n] & 0xc0) == 0x80)
        n--; /* never cut a character in half */
    a->staff_msg[0] = bad ? '!' : ' ';
    memcpy(a->staff_msg + 1, text, n);
    a->staff_msg[n + 1] = '\0';
    app_invalidate(a);
}

/* ---- PIN ---- */

static void pin_build(struct app *a, struct ui_list *l, struct ui_rect box)
{
    int y = title(a, l, box, tr(a, "工作人员 · 请输入密码", "Staff · Enter the PIN"));
    int m = app_px(a, 50);
    uint64_t now = kk_clock_mono_ms();
    if (now < a->pin_locked_until) {
        char text[160];
        unsigned mins = (unsigned)((a->pin_locked_until - now + 59999) / 60000);
        TR_FMT(a, text, "密码错误次数过多，已锁定，请 %u 分钟后再试。",
               "Too many wrong PINs: locked, try again in %u min.", mins);
        app_label(a, l, "pin/locked", text, UI_FONT_BOLD, app_px(a, 40), UI_BAD, box.x + m, y,
                  box.w - 2 * m, 3, 1);
        return;
    }
    char dots[64] = "";
    size_t n = strlen(a->pin);
    for (size_t i = 0; i < n && i < 12; i++)
        memcpy(dots + i * 4, "● ", 4);
    y += message(a, l, box.x + m, y, box.w - 2 * m);
    app_label(a, l, "pin/dots", n ? dots : "—", UI_FONT_BOLD, app_px(a, 56), UI_INK, box.x + m, y,
              box.w - 2 * m, 1, 1);
    y += app_px(a, 100);
    int k = app_min_target(a) * 3 / 2, gap = app_px(a, 20);
    int avail = box.y + box.h - y - m;
    if (4 * k + 3 * gap > avail)
        k = (avail - 3 * gap) / 4 > app_min_target(a) ? (avail - 3 * gap) / 4 : app_min_target(a);
    int x0 = box.x + (box.w - 3 * k - 2 * gap) / 2;
    static const char *const keys[12] = {"1", "2", "3", "4",     "5", "6",
                                         "7", "8", "9", "clear", "0", "ok"};
    for (int i = 0; i < 12; i++) {
        char id[16];
        snprintf(id, sizeof(id), "pin/%s", keys[i]);
        const char *label = i == 9    ? tr(a, "清除", "Clear")
                            : i == 11 ? tr(a, "确定", "OK")
                                      : keys[i];
        app_button(a, l, (struct ui_rect){x0 + (i % 3) * (k + gap), y + (i / 3) * (k + gap), k, k},
                   id, label, i == 11);
    }
}

static void pin_tap(struct app *a, const char *id)
{
    if (strncmp(id, "pin/", 4) || kk_clock_mono_ms() < a->pin_locked_until)
        return;
    const char *key = id + 4;
    size_t n = strlen(a->pin);
    if (!strcmp(key, "clear")) {
        a->pin[0] = '\0';
    } else if (!strcmp(key, "ok")) {
        int ok = n > 0 && crypto_pwhash_str_verify(a->cfg.staff_pin_hash, a->pin, n) == 0;
        sodium_memzero(a->pin, sizeof(a->pin));
        if (ok) {
            kk_info("staff", "staff panel opened");
            a->pin_failures = 0;
            a->pin_lock_ms = 0;
            a->staff_msg[0] = '\0';
            app_reset(a, &scene_staff);
        } else if (++a->pin_failures >= PIN_TRIES) {
            a->pin_lock_ms = a->pin_lock_ms ? a->pin_lock_ms * 2 : FIRST_LOCK_MS;
            a->pin_locked_until = kk_clock_mono_ms() + a->pin_lock_ms;
            a->pin_failures = 0;
            kk_warn("staff", "%d wrong PINs: staff panel locked for %llu s", PIN_TRIES,
                    (unsigned long long)(a->pin_lock_ms / 1000));
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "code", "staff_locked");
            cJSON_AddStringToObject(f, "detail", "five wrong staff PINs");
            app_event(a, "error", f);
        } else {
            kk_warn("staff", "wrong PIN (%d of %d)", a->pin_failures, PIN_TRIES);
            char text[96];
            TR_FMT(a, text, "密码错误（%d/%d）", "Wrong PIN (%d of %d)", a->pin_failures,
                   PIN_TRIES);
            say(a, 1, text);
        }
    } else if (n + 1 < sizeof(a->pin) && key[0] >= '0' && key[0] <= '9' && !key[1]) {
        a->pin[n] = key[0];
        a->pin[n + 1] = '\0';
    }
    app_invalidate(a);
}

static int pin_tick(struct app *a, uint64_t now)
{
    if (!a->pin_locked_until)
        return -1;
    if (now >= a->pin_locked_until) { /* the lock is over: the keypad comes back */
        a->pin_locked_until = 0;
        app_invalidate(a);
        return -1;
    }
    app_invalidate(a); /* refresh the minutes left */
    return (int)((a->pin_locked_until - now) % 60000) + 1;
}

/* ---- the panel ---- */

static void free_disk(const struct app *a, char *out, size_t size)
{
    struct statvfs sv;
    if (statvfs(a->cfg.state_dir, &sv) == 0)
        snprintf(out, size, "%llu MB",
                 (unsigned long long)sv.f_bavail * sv.f_frsize / (1024 * 1024));
    else
        snprintf(out, size, "?");
}

static void staff_build(struct app *a, struct ui_list *l, struct ui_rect box)
{
    int y = title(a, l, box, tr(a, "工作人员面板", "Staff panel"));
    int m = app_px(a, 50), gap = app_px(a, 16);
    int portrait = a->h > a->w;
    int col = portrait ? box.w - 2 * m : (box.w - 3 * m) * 11 / 20;
    int px = app_px(a, 30);
    char line[512], disk[32];
    free_disk(a, disk, sizeof(disk));
    snprintf(line, sizeof(line), "%s %s   %s %s   %s %s", tr(a, "版本", "Version"), KK_VERSION,
             tr(a, "终端", "Kiosk"), a->cfg.kiosk_id, tr(a, "磁盘剩余", "Free disk"), disk);
    y += app_label(a, l, "staff/info", line, UI_FONT_REGULAR, px, UI_INK, box.x + m, y, col, 2, 0);
    snprintf(line, sizeof(line), "%s %llu   %s %llu   %s %s", tr(a, "待上传事件", "Queued events"),
             (unsigned long long)(a->journal ? kk_journal_count(a->journal) : 0),
             tr(a, "已丢弃", "dropped"),
             (unsigned long long)(a->journal ? kk_journal_dropped(a->journal) : 0),
             tr(a, "同步", "Sync"),
             *a->cfg.server_url ? a->cfg.server_url : tr(a, "未配置（离线）", "not set (offline)"));
    y += app_label(a, l, "staff/queue", line, UI_FONT_REGULAR, px, UI_INK, box.x + m, y, col, 3, 0);
    if (a->sync) {
        struct kk_sync_status st;
        kk_sync_status(a->sync, &st);
        char when[32] = "—";
        if (st.last_attempt_ms) {
            time_t t = (time_t)(st.last_attempt_ms / 1000);
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(when, sizeof(when), "%m-%d %H:%M:%S", &tm);
        }
        snprintf(line, sizeof(line), "%s %s%s %s", tr(a, "上次同步", "Last sync"), when,
                 st.running ? tr(a, "（进行中）", " (running)") : "",
                 st.last_result[0] ? st.last_result : "");
        y += app_label(a, l, "staff/sync", line, UI_FONT_REGULAR, px, st.failures ? UI_BAD : UI_INK,
                       box.x + m, y, col, 3, 0);
    }
    y += gap;
    y += message(a, l, box.x + m, y, col);

    /* One row per pack: what runs, and its buttons. */
    struct kk_install_list inst = {0};
    if (!*a->cfg.content_dir)
        kk_install_list_read(a->cfg.state_dir, &inst, NULL);
    int bh = app_min_target(a), bw = app_px(a, 210) > bh ? app_px(a, 210) : bh;
    for (size_t i = 0; i < a->lib.npacks && y + bh <= box.y + box.h - m; i++) {
        const struct kk_pack *p = a->lib.packs[i];
        const char *prev = NULL;
        for (size_t k = 0; k < inst.n; k++)
            if (!strcmp(inst.items[k].id, p->id))
                prev = inst.items[k].previous;
        int hidden = content_hidden(a, p->id);
        snprintf(line, sizeof(line), "%s  %s%s%s%s", p->id, p->version,
                 prev ? tr(a, "（上一版 ", " (previous ") : "", prev ? prev : "",
                 prev ? tr(a, "）", ")") : "");
        int bx = box.x + m + col - 2 * bw - gap;
        app_label(a, l, "staff/pack", line, hidden ? UI_FONT_REGULAR : UI_FONT_BOLD, px,
                  hidden ? UI_INK_SOFT : UI_INK, box.x + m, y + (bh - px * 3 / 2) / 2,
                  bx - box.x - m - gap, 1, 0);
        char id[160];
        snprintf(id, sizeof(id), "staff/%s/%s", hidden ? "show" : "hide", p->id);
        app_button(a, l, (struct ui_rect){bx, y, bw, bh}, id,
                   hidden ? tr(a, "显示", "Show") : tr(a, "隐藏", "Hide"), 0);
        if (prev) {
            snprintf(id, sizeof(id), "staff/rollback/%s", p->id);
            app_button(a, l, (struct ui_rect){bx + bw + gap, y, bw, bh}, id,
                       tr(a, "回滚", "Roll back"), 0);
        }
        y += bh + gap;
    }
    kk_install_list_release(&inst);

    /* The actions. */
    static const char *const ids[] = {"staff/import", "staff/sync", "staff/touch", "staff/close",
                                      "staff/quit"};
    const char *labels[] = {tr(a, "从U盘导入内容包", "Import a pack (USB)"),
                            tr(a, "立即同步", "Sync now"), tr(a, "触摸测试", "Touch test"),
                            tr(a, "关闭面板", "Close"), tr(a, "退出程序", "Quit the app")};
    int aw = portrait ? (box.w - 3 * m) / 2 : box.w - 3 * m - col;
    /* Sync now only where there is a server; portrait puts the buttons in rows of two at
     * the bottom, landscape in a column on the right. */
    int n = 0;
    for (int i = 0; i < 5; i++) {
        if (i == 1 && !a->sync)
            continue;
        int rows = a->sync ? 3 : 2;
        struct ui_rect r =
            portrait ? (struct ui_rect){box.x + m + (n % 2) * (aw + m),
                                        box.y + box.h - m - (rows - n / 2) * (bh + gap), aw, bh}
                     : (struct ui_rect){box.x + 2 * m + col,
                                        box.y + app_px(a, 130) + n * (bh + gap * 2), aw, bh};
        app_button(a, l, r, ids[i], labels[i], i == 0);
        n++;
    }
}

static void staff_tap(struct app *a, const char *id)
{
    struct kk_buf err = KK_BUF_INIT;
    if (!strcmp(id, "staff/close")) {
        kk_info("staff", "staff panel closed");
        app_go_home(a);
    } else if (!strcmp(id, "staff/quit")) {
        kk_info("staff", "quit from the staff panel");
        a->quit = 1;
    } else if (!strcmp(id, "staff/sync") && a->sync) {
        kk_info("staff", "sync asked for from the staff panel");
        kk_sync_now(a->sync);
        say(a, 0, tr(a, "正在同步……", "Syncing…"));
    } else if (!strcmp(id, "staff/touch")) {
        a->ntouch = 0;
        app_push(a, &scene_staff_touch);
    } else if (!strcmp(id, "staff/import")) {
        a->staff_msg[0] = '\0';
        app_push(a, &scene_staff_import);
    } else if (!strncmp(id, "staff/rollback/", 15)) {
        char text[512];
        if (content_rollback(a, id + 15, &err)) {
            snprintf(text, sizeof(text), "%s: %s", id + 15, kk_buf_str(&err));
            say(a, 1, text);
        } else {
            TR_FMT(a, text, "%s 已回滚，关闭面板后生效。",
                   "%s rolled back; it goes live when you close the panel.", id + 15);
            say(a, 0, text);
        }
    } else if (!strncmp(id, "staff/hide/", 11) || !strncmp(id, "staff/show/", 11)) {
        int hide = id[6] == 'h';
        char text[256];
        if (content_set_hidden(a, id + 11, hide, &err)) {
            say(a, 1, kk_buf_str(&err));
        } else {
            snprintf(text, sizeof(text), "%s: %s", id + 11,
                     hide ? tr(a, "已隐藏", "hidden") : tr(a, "已显示", "shown"));
            say(a, 0, text);
        }
    }
    kk_buf_release(&err);
}

/* ---- import from removable media ---- */

static void add_file(struct app *a, const char *dir, const char *name)
{
    size_t len = strlen(name);
    if (a->nimport >= MAX_IMPORT_FILES || len < 5 || strcmp(name + len - 4, ".kpk"))
        return;
    char *path = kk_path_join(dir, name);
    char **grown = path ? kk_reallocarray(a->import_files, a->nimport + 1, sizeof(*grown)) : NULL;
    if (!grown) {
        kk_free(path);
        return;
    }
    a->import_files = grown;
    a->import_files[a->nimport++] = path;
}

/* Looks for .kpk files in dir and, depth levels down, in its subfolders. */
static void scan(struct app *a, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *sub = kk_path_join(dir, de->d_name);
        struct stat st;
        if (sub && stat(sub, &st) == 0) {
            if (S_ISREG(st.st_mode))
                add_file(a, dir, de->d_name);
            else if (S_ISDIR(st.st_mode) && depth > 0)
                scan(a, sub, depth - 1);
        }
        kk_free(sub);
    }
    closedir(d);
}

static void import_enter(struct app *a)
{
    for (size_t i = 0; i < a->nimport; i++)
        kk_free(a->import_files[i]);
    a->nimport = 0;
    /* USB sticks mount at /media/<user>/<label> or /run/media/<user>/<label>. */
    scan(a, "/media", 2);
    scan(a, "/run/media", 2);
    char dirs[1024];
    snprintf(dirs, sizeof(dirs), "%s", a->cfg.import_dirs);
    for (char *save = NULL, *p = strtok_r(dirs, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        while (*p == ' ')
            p++;
        scan(a, p, 1);
    }
    kk_info("staff", "import: %zu bundle(s) found", a->nimport);
}

static void import_build(struct app *a, struct ui_list *l, struct ui_rect box)
{
    int y = title(a, l, box, tr(a, "从U盘导入内容包", "Import a pack from a USB stick"));
    int m = app_px(a, 50), gap = app_px(a, 16), bh = app_min_target(a);
    y += message(a, l, box.x + m, y, box.w - 2 * m);
    if (!a->nimport)
        app_label(a, l, "import/none",
                  tr(a, "没有找到 .kpk 内容包。请插入U盘后返回再试。",
                     "No .kpk bundle found. Insert the USB stick, go back and try again."),
                  UI_FONT_REGULAR, app_px(a, 34), UI_INK, box.x + m, y, box.w - 2 * m, 3, 0);
    for (size_t i = 0; i < a->nimport && y + bh <= box.y + box.h - m; i++) {
        char id[32];
        snprintf(id, sizeof(id), "import/%zu", i);
        app_button(a, l, (struct ui_rect){box.x + m, y, box.w - 2 * m, bh}, id, a->import_files[i],
                   0);
        y += bh + gap;
    }
}

static void import_tap(struct app *a, const char *id)
{
    long i;
    if (strncmp(id, "import/", 7) || kk_parse_long(id + 7, 0, (long)a->nimport - 1, &i))
        return;
    struct kk_buf err = KK_BUF_INIT;
    const char *path = a->import_files[i];
    char text[512];
    if (content_import(a, path, &err)) {
        say(a, 1, kk_buf_str(&err));
    } else {
        TR_FMT(a, text, "已导入 %s，关闭面板后生效。",
               "Imported %s; it goes live when you close the panel.", path);
        say(a, 0, text);
    }
    kk_buf_release(&err);
    app_pop(a);
}

static void import_leave(struct app *a)
{
    for (size_t i = 0; i < a->nimport; i++)
        kk_free(a->import_files[i]);
    kk_free(a->import_files);
    a->import_files = NULL;
    a->nimport = 0;
}

/* ---- touch test ---- */

static void touch_build(struct app *a, struct ui_list *l, struct ui_rect box)
{
    int step = app_px(a, 120);
    for (int x = box.x; x < box.x + box.w; x += step) {
        struct ui_item *v = ui_list_push(l, UI_RECT, (struct ui_rect){x, box.y, 2, box.h});
        if (v)
            v->color = UI_LINE;
    }
    for (int y = box.y; y < box.y + box.h; y += step) {
        struct ui_item *h = ui_list_push(l, UI_RECT, (struct ui_rect){box.x, y, box.w, 2});
        if (h)
            h->color = UI_LINE;
    }
    int d = app_px(a, 40);
    for (size_t i = 0; i < a->ntouch; i++) {
        struct ui_item *dot = ui_list_push(
            l, UI_RECT,
            (struct ui_rect){a->touch_marks[i][0] - d / 2, a->touch_marks[i][1] - d / 2, d, d});
        if (dot) {
            dot->color = UI_ACCENT;
            dot->radius = d / 2;
        }
    }
    app_label(a, l, "touch/hint",
              tr(a, "触摸屏幕的各个位置，圆点应出现在手指下方。",
                 "Touch all over: a dot should appear under your finger."),
              UI_FONT_BOLD, app_px(a, 34), UI_INK, box.x + app_px(a, 50), box.y + app_px(a, 30),
              box.w - app_px(a, 100), 2, 1);
    ui_list_target(l, box, "touch/area", "touch test");
}

static void touch_tap(struct app *a, const char *id)
{
    if (strcmp(id, "touch/area"))
        return;
    size_t max = sizeof(a->touch_marks) / sizeof(a->touch_marks[0]);
    if (a->ntouch == max) {
        memmove(a->touch_marks, a->touch_marks + 1, sizeof(a->touch_marks[0]) * (max - 1));
        a->ntouch--;
    }
    a->touch_marks[a->ntouch][0] = a->last_tap_x;
    a->touch_marks[a->ntouch][1] = a->last_tap_y;
    a->ntouch++;
    app_invalidate(a);
}

const struct scene scene_staff_pin = {
    .name = "staff_pin",
    .build = pin_build,
    .tap = pin_tap,
    .tick = pin_tick,
    .chrome = 1,
    .back = 1,
    .staff = 1,
};
const struct scene scene_staff = {
    .name = "staff",
    .build = staff_build,
    .tap = staff_tap,
    .chrome = 1,
    .staff = 1,
};
const struct scene scene_staff_import = {
    .name = "staff_import",
    .enter = import_enter,
    .leave = import_leave,
    .build = import_build,
    .tap = import_tap,
    .chrome = 1,
    .back = 1,
    .staff = 1,
};
const struct scene scene_staff_touch = {
    .name = "staff_touch",
    .build = touch_build,
    .tap = touch_tap,
    .chrome = 1,
    .back = 1,
    .staff = 1,
};
