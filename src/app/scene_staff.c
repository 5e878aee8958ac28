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

#include "content.h"
#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/install.h"
#include "kepu/log.h"
#include "kepu/schedule.h"
#include "kepu/sync.h"
#include "scene_env.h"
#include "scenes.h"
#include "visit.h"

#define PIN_TRIES        5
#define FIRST_LOCK_MS    (5 * 60 * 1000)
#define MAX_IMPORT_FILES 24

struct pin_screen {
    char pin[16];
};

struct import_screen {
    char **files;
    size_t n;
};

struct touch_screen {
    int marks[64][2];
    size_t n;
};

/* What outlives the panel's screens. The PIN lock must hold when the PIN screen is closed
 * and opened again, and the panel's last message is shown by whichever of its screens
 * comes next (an import's result on the panel). */
static struct {
    int failures;          /* wrong PINs since the last lock */
    uint64_t locked_until; /* monotonic ms */
    uint64_t lock_ms;      /* the next lock's length: 5 min, doubling */
    int loaded;            /* read from the state folder once */
} pin_lock;

/* The lock survives a restart or a power cut (a visitor cannot pull the plug to get five
 * more tries): <state>/staff-lock.json holds the wrong tries, the next lock's length and
 * when the current lock ends on the wall clock. */
#define PIN_LOCK_FILE "staff-lock.json"

static void pin_lock_save(struct scene_env *e)
{
    if (!e->cfg->state_dir || !*e->cfg->state_dir)
        return;
    char *path = kk_path_join(e->cfg->state_dir, PIN_LOCK_FILE);
    uint64_t now = kk_clock_mono_ms();
    long long left = pin_lock.locked_until > now ? (long long)(pin_lock.locked_until - now) : 0;
    char text[160];
    int len = snprintf(text, sizeof(text), "{\"failures\":%d,\"lock_ms\":%llu,\"until_ms\":%lld}\n",
                       pin_lock.failures, (unsigned long long)pin_lock.lock_ms,
                       left ? (long long)kk_clock_wall_ms() + left : 0LL);
    struct kk_buf err = KK_BUF_INIT;
    if (path && kk_file_write_atomic(path, text, (size_t)len, &err))
        kk_warn("staff", "the PIN lock will not survive a restart: %s", kk_buf_str(&err));
    kk_buf_release(&err);
    kk_free(path);
}

static void pin_lock_load(struct scene_env *e)
{
    if (pin_lock.loaded)
        return;
    pin_lock.loaded = 1;
    if (!e->cfg->state_dir || !*e->cfg->state_dir)
        return;
    char *path = kk_path_join(e->cfg->state_dir, PIN_LOCK_FILE);
    struct kk_buf data = KK_BUF_INIT;
    if (path && !kk_file_read(path, 4096, &data, NULL)) {
        cJSON *j = cJSON_ParseWithLength(data.data, data.len);
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "failures");
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "lock_ms");
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "until_ms");
        if (cJSON_IsNumber(f) && f->valueint >= 0 && f->valueint < PIN_TRIES)
            pin_lock.failures = f->valueint;
        if (cJSON_IsNumber(l) && l->valuedouble >= 0 && l->valuedouble <= 86400000.0 * 7)
            pin_lock.lock_ms = (uint64_t)l->valuedouble;
        if (cJSON_IsNumber(u) && pin_lock.lock_ms) {
            /* Never longer than the lock itself, whatever the clock did meanwhile. */
            double left = u->valuedouble - (double)kk_clock_wall_ms();
            if (left > (double)pin_lock.lock_ms)
                left = (double)pin_lock.lock_ms;
            if (left > 0)
                pin_lock.locked_until = kk_clock_mono_ms() + (uint64_t)left;
        }
        if (pin_lock.locked_until)
            kk_warn("staff", "the staff panel is still locked after wrong PINs before the restart");
        cJSON_Delete(j);
    }
    kk_buf_release(&data);
    kk_free(path);
}
static char panel_msg[512];

/* Staff words are for staff only: both languages side by side, no table needed. */
static const char *tr(const struct scene_env *e, const char *zh, const char *en)
{
    return e->session->lang == KK_LANG_EN ? en : zh;
}

/* ---- shared pieces ---- */

static int title(struct scene_env *e, struct ui_list *l, struct ui_rect box, const char *text)
{
    int m = ui_px(e->ui, 50);
    return box.y + ui_px(e->ui, 30) +
           ui_label(e->ui, l, "staff/title", text, UI_FONT_BOLD, ui_px(e->ui, 52), UI_PRIMARY_DARK,
                    box.x + m, box.y + ui_px(e->ui, 30), box.w - 2 * m, 1, 0) +
           ui_px(e->ui, 20);
}

static int message(struct scene_env *e, struct ui_list *l, int x, int y, int w)
{
    if (!panel_msg[0])
        return 0;
    int bad = !strncmp(panel_msg, "!", 1);
    return ui_label(e->ui, l, "staff/message", panel_msg + bad, UI_FONT_BOLD, ui_px(e->ui, 30),
                    bad ? UI_BAD : UI_GOOD, x, y, w, 4, 0) +
           ui_px(e->ui, 16);
}

/* Formats into buf with the format of the screen's language (both are literals, so the
 * compiler checks them). */
#define TR_FMT(e, buf, zh, en, ...)                                                                \
    ((e)->session->lang == KK_LANG_EN ? snprintf(buf, sizeof(buf), en, __VA_ARGS__)                \
                                      : snprintf(buf, sizeof(buf), zh, __VA_ARGS__))

/* Shows the result of an action on the panel; bad ones in red. */
static void say(struct scene_env *e, int bad, const char *text)
{
    size_t n = strnlen(text, sizeof(panel_msg) - 2);
    while (n > 0 && text[n] && ((unsigned char)text[n] & 0xc0) == 0x80)
        n--; /* never cut a character in half */
    panel_msg[0] = bad ? '!' : ' ';
    memcpy(panel_msg + 1, text, n);
    panel_msg[n + 1] = '\0';
    scene_stack_invalidate(e->stack);
}

/* ---- PIN ---- */

static void pin_enter(struct scene_env *e, void *self)
{
    (void)self;
    pin_lock_load(e);
    panel_msg[0] = '\0';
}

static void pin_build(struct scene_env *e, void *self, struct ui_list *l, struct ui_rect box)
{
    struct pin_screen *p = self;
    int y = title(e, l, box, tr(e, "工作人员 · 请输入密码", "Staff · Enter the PIN"));
    int m = ui_px(e->ui, 50);
    uint64_t now = kk_clock_mono_ms();
    if (now < pin_lock.locked_until) {
        char text[160];
        unsigned mins = (unsigned)((pin_lock.locked_until - now + 59999) / 60000);
        TR_FMT(e, text, "密码错误次数过多，已锁定，请 %u 分钟后再试。",
               "Too many wrong PINs: locked, try again in %u min.", mins);
        ui_label(e->ui, l, "pin/locked", text, UI_FONT_BOLD, ui_px(e->ui, 40), UI_BAD, box.x + m, y,
                 box.w - 2 * m, 3, 1);
        return;
    }
    char dots[64] = "";
    size_t n = strlen(p->pin);
    for (size_t i = 0; i < n && i < 12; i++)
        memcpy(dots + i * 4, "● ", 4);
    y += message(e, l, box.x + m, y, box.w - 2 * m);
    ui_label(e->ui, l, "pin/dots", n ? dots : "—", UI_FONT_BOLD, ui_px(e->ui, 56), UI_INK,
             box.x + m, y, box.w - 2 * m, 1, 1);
    y += ui_px(e->ui, 100);
    int k = ui_min_target(e->ui) * 3 / 2, gap = ui_px(e->ui, 20);
    int avail = box.y + box.h - y - m;
    if (4 * k + 3 * gap > avail)
        k = (avail - 3 * gap) / 4 > ui_min_target(e->ui) ? (avail - 3 * gap) / 4
                                                         : ui_min_target(e->ui);
    int x0 = box.x + (box.w - 3 * k - 2 * gap) / 2;
    static const char *const keys[12] = {"1", "2", "3", "4",     "5", "6",
                                         "7", "8", "9", "clear", "0", "ok"};
    for (int i = 0; i < 12; i++) {
        char id[16];
        snprintf(id, sizeof(id), "pin/%s", keys[i]);
        const char *label = i == 9    ? tr(e, "清除", "Clear")
                            : i == 11 ? tr(e, "确定", "OK")
                                      : keys[i];
        ui_button(e->ui, l,
                  (struct ui_rect){x0 + (i % 3) * (k + gap), y + (i / 3) * (k + gap), k, k}, id,
                  label, i == 11);
    }
}

static void pin_tap(struct scene_env *e, void *self, const char *id)
{
    struct pin_screen *p = self;
    if (strncmp(id, "pin/", 4) || kk_clock_mono_ms() < pin_lock.locked_until)
        return;
    const char *key = id + 4;
    size_t n = strlen(p->pin);
    if (!strcmp(key, "clear")) {
        p->pin[0] = '\0';
    } else if (!strcmp(key, "ok")) {
        int ok = n > 0 && crypto_pwhash_str_verify(e->cfg->staff_pin_hash, p->pin, n) == 0;
        sodium_memzero(p->pin, sizeof(p->pin));
        if (ok) {
            kk_info("staff", "staff panel opened");
            pin_lock.failures = 0;
            pin_lock.lock_ms = 0;
            pin_lock_save(e);
            panel_msg[0] = '\0';
            scene_stack_reset(e->stack, &scene_staff);
        } else if (++pin_lock.failures >= PIN_TRIES) {
            pin_lock.lock_ms = pin_lock.lock_ms ? pin_lock.lock_ms * 2 : FIRST_LOCK_MS;
            pin_lock.locked_until = kk_clock_mono_ms() + pin_lock.lock_ms;
            pin_lock.failures = 0;
            pin_lock_save(e);
            kk_warn("staff", "%d wrong PINs: staff panel locked for %llu s", PIN_TRIES,
                    (unsigned long long)(pin_lock.lock_ms / 1000));
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "code", "staff_locked");
            cJSON_AddStringToObject(f, "detail", "five wrong staff PINs");
            session_event(e->session, "error", f);
        } else {
            pin_lock_save(e);
            kk_warn("staff", "wrong PIN (%d of %d)", pin_lock.failures, PIN_TRIES);
            char text[96];
            TR_FMT(e, text, "密码错误（%d/%d）", "Wrong PIN (%d of %d)", pin_lock.failures,
                   PIN_TRIES);
            say(e, 1, text);
        }
    } else if (n + 1 < sizeof(p->pin) && key[0] >= '0' && key[0] <= '9' && !key[1]) {
        p->pin[n] = key[0];
        p->pin[n + 1] = '\0';
    }
    scene_stack_invalidate(e->stack);
}

static int pin_tick(struct scene_env *e, void *self, uint64_t now)
{
    (void)self;
    if (!pin_lock.locked_until)
        return -1;
    if (now >= pin_lock.locked_until) { /* the lock is over: the keypad comes back */
        pin_lock.locked_until = 0;
        scene_stack_invalidate(e->stack);
        return -1;
    }
    scene_stack_invalidate(e->stack); /* refresh the minutes left */
    return (int)((pin_lock.locked_until - now) % 60000) + 1;
}

/* ---- the panel ---- */

static void free_disk(const struct scene_env *e, char *out, size_t size)
{
    struct statvfs sv;
    if (statvfs(e->cfg->state_dir, &sv) == 0)
        snprintf(out, size, "%llu MB",
                 (unsigned long long)sv.f_bavail * sv.f_frsize / (1024 * 1024));
    else
        snprintf(out, size, "?");
}

/* A date of the schedule as staff read it: "2026-12-10 09:00" for "2026-12-10T09:00". */
static void when_text(char *out, size_t size, const char *when)
{
    snprintf(out, size, "%s", when);
    char *t = strchr(out, 'T');
    if (t)
        *t = ' ';
}

/* The dated assignments the kiosk keeps (issue 16), one line each in its local time, the
 * one in force now marked, from y down to at most limit. Returns the height used. */
static int schedule_lines(struct scene_env *e, struct ui_list *l, int x, int y, int w, int limit,
                          int px)
{
    static struct kk_window win[KK_MAX_PACKS];
    if (!e->content->sync)
        return 0;
    size_t n = kk_sync_windows(e->content->sync, win, KK_MAX_PACKS);
    int y0 = y, lh = ui_label_height(e->ui, "Ag", UI_FONT_REGULAR, px, w, 1);
    if (y + lh > limit)
        return 0;
    y += ui_label(e->ui, l, "staff/schedule",
                  n ? tr(e, "排期（本机时间）", "Schedule (this kiosk's local time)")
                    : tr(e, "排期：没有按日期的分配", "Schedule: no dated assignments"),
                  UI_FONT_BOLD, px, UI_INK, x, y, w, 1, 0);
    int64_t now = kk_clock_wall_ms();
    for (size_t i = 0; i < n; i++) {
        char line[512], id[40], from[24], to[24]; /* id: "staff/window/" and a size_t */
        if (y + 2 * lh > limit && i + 1 < n) {
            TR_FMT(e, line, "……另有 %zu 条", "… and %zu more", n - i);
            y += ui_label(e->ui, l, "staff/window/more", line, UI_FONT_REGULAR, px, UI_INK_SOFT, x,
                          y, w, 1, 0);
            break;
        }
        const struct kk_window *v = &win[i];
        int64_t a = *v->starts ? kk_when_text_ms(v->starts, KK_WHEN_LOCAL) : INT64_MIN;
        int64_t b = *v->ends ? kk_when_text_ms(v->ends, KK_WHEN_LOCAL) : INT64_MAX;
        int in_force = kk_window_pick(win, n, v->id, now) == (long)i;
        const char *state = in_force ? tr(e, "现在生效", "In force now")
                            : (*v->starts && a == INT64_MIN) || (*v->ends && b == INT64_MIN)
                                ? tr(e, "日期无法识别", "Unreadable date")
                            : now >= b ? tr(e, "已结束", "Ended")
                            : now < a  ? tr(e, "未开始", "Not started")
                                       : tr(e, "被另一条取代", "Overridden");
        when_text(from, sizeof(from), v->starts);
        when_text(to, sizeof(to), v->ends);
        /* The state and the dates first: a long pack id wraps at its space, not a word. */
        if (e->session->lang == KK_LANG_EN)
            snprintf(line, sizeof(line), "%s:  from %s%s%s   %s %s", state, *from ? from : "now",
                     *to ? " to " : ", no end", to, v->id, v->version);
        else
            snprintf(line, sizeof(line), "%s：%s%s%s%s   %s %s", state, from,
                     *from ? " 起" : "即日起", *to ? "至 " : "，长期", to, v->id, v->version);
        snprintf(id, sizeof(id), "staff/window/%zu", i);
        y += ui_label(e->ui, l, id, line, in_force ? UI_FONT_BOLD : UI_FONT_REGULAR, px,
                      in_force ? UI_GOOD : UI_INK, x, y, w, 2, 0);
    }
    return y - y0;
}

static void staff_build(struct scene_env *e, void *self, struct ui_list *l, struct ui_rect box)
{
    (void)self;
    int y = title(e, l, box, tr(e, "工作人员面板", "Staff panel"));
    int m = ui_px(e->ui, 50), gap = ui_px(e->ui, 16);
    int portrait = e->ui->h > e->ui->w;
    int col = portrait ? box.w - 2 * m : (box.w - 3 * m) * 11 / 20;
    int px = ui_px(e->ui, 30);
    char line[512], disk[32];
    free_disk(e, disk, sizeof(disk));
    snprintf(line, sizeof(line), "%s %s   %s %s   %s %s", tr(e, "版本", "Version"), KK_VERSION,
             tr(e, "终端", "Kiosk"), e->cfg->kiosk_id, tr(e, "磁盘剩余", "Free disk"), disk);
    y += ui_label(e->ui, l, "staff/info", line, UI_FONT_REGULAR, px, UI_INK, box.x + m, y, col, 2,
                  0);
    snprintf(
        line, sizeof(line), "%s %llu   %s %llu   %s %s", tr(e, "待上传事件", "Queued events"),
        (unsigned long long)(e->session->journal ? kk_journal_count(e->session->journal) : 0),
        tr(e, "已丢弃", "dropped"),
        (unsigned long long)(e->session->journal ? kk_journal_dropped(e->session->journal) : 0),
        tr(e, "同步", "Sync"),
        *e->cfg->server_url ? e->cfg->server_url : tr(e, "未配置（离线）", "not set (offline)"));
    y += ui_label(e->ui, l, "staff/queue", line, UI_FONT_REGULAR, px, UI_INK, box.x + m, y, col, 3,
                  0);
    const char *remote = e->remote_settings && *e->remote_settings ? e->remote_settings : NULL;
    if (remote)
        snprintf(line, sizeof(line), "%s%s%s", tr(e, "办公室远程设置：", "Set by the office: "),
                 remote, tr(e, "；其余来自 kiosk.conf", "; the rest from kiosk.conf"));
    else
        snprintf(line, sizeof(line), "%s",
                 tr(e, "全部设置来自 kiosk.conf（办公室未远程设置）",
                    "All settings from kiosk.conf (none set by the office)"));
    y += ui_label(e->ui, l, "staff/settings", line, UI_FONT_REGULAR, px, UI_INK, box.x + m, y, col,
                  3, 0);
    if (e->content->sync) {
        struct kk_sync_status st;
        kk_sync_status(e->content->sync, &st);
        char when[32] = "—";
        if (st.last_attempt_ms) {
            time_t t = (time_t)(st.last_attempt_ms / 1000);
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(when, sizeof(when), "%m-%d %H:%M:%S", &tm);
        }
        snprintf(line, sizeof(line), "%s %s%s %s", tr(e, "上次同步", "Last sync"), when,
                 st.running ? tr(e, "（进行中）", " (running)") : "",
                 st.last_result[0] ? st.last_result : "");
        y += ui_label(e->ui, l, "staff/sync", line, UI_FONT_REGULAR, px,
                      st.failures ? UI_BAD : UI_INK, box.x + m, y, col, 3, 0);
        if (st.token_refused)
            y += ui_label(
                e->ui, l, "staff/revoked",
                tr(e,
                   "⚠ "
                   "服务器不再接受本终端的令牌（已停用或已更换）：请联系科普办公室重新登记本终端。",
                   "⚠ The server no longer accepts this kiosk's token (revoked or "
                   "replaced): ask the office to enrol this kiosk again."),
                UI_FONT_BOLD, px, UI_BAD, box.x + m, y, col, 3, 0);
        long long off = st.clock_offset_ms / 1000;
        if (st.clock_known && (off > 60 || off < -60)) {
            snprintf(line, sizeof(line), "%s %+lld %s",
                     tr(e, "⚠ 本机时钟偏差", "⚠ This PC's clock is off by"), -off,
                     tr(e, "秒（按服务器时间）", "s (against the server's time)"));
            y += ui_label(e->ui, l, "staff/clock", line, UI_FONT_REGULAR, px, UI_BAD, box.x + m, y,
                          col, 2, 0);
        }
    }
    y += gap;
    y += message(e, l, box.x + m, y, col);

    /* One row per pack: what runs, and its buttons. */
    struct kk_install_list inst = {0};
    if (!*e->cfg->content_dir)
        kk_install_list_read(e->cfg->state_dir, &inst, NULL);
    int bh = ui_min_target(e->ui), bw = ui_px(e->ui, 210) > bh ? ui_px(e->ui, 210) : bh;
    for (size_t i = 0; i < e->content->lib.npacks && y + bh <= box.y + box.h - m; i++) {
        const struct kk_pack *p = e->content->lib.packs[i];
        const char *prev = NULL;
        for (size_t k = 0; k < inst.n; k++)
            if (!strcmp(inst.items[k].id, p->id))
                prev = inst.items[k].previous;
        int hidden = content_hidden(e->content, p->id);
        snprintf(line, sizeof(line), "%s  %s%s%s%s", p->id, p->version,
                 prev ? tr(e, "（上一版 ", " (previous ") : "", prev ? prev : "",
                 prev ? tr(e, "）", ")") : "");
        int bx = box.x + m + col - 2 * bw - gap;
        ui_label(e->ui, l, "staff/pack", line, hidden ? UI_FONT_REGULAR : UI_FONT_BOLD, px,
                 hidden ? UI_INK_SOFT : UI_INK, box.x + m, y + (bh - px * 3 / 2) / 2,
                 bx - box.x - m - gap, 1, 0);
        char id[160];
        snprintf(id, sizeof(id), "staff/%s/%s", hidden ? "show" : "hide", p->id);
        ui_button(e->ui, l, (struct ui_rect){bx, y, bw, bh}, id,
                  hidden ? tr(e, "显示", "Show") : tr(e, "隐藏", "Hide"), 0);
        if (prev) {
            snprintf(id, sizeof(id), "staff/rollback/%s", p->id);
            ui_button(e->ui, l, (struct ui_rect){bx + bw + gap, y, bw, bh}, id,
                      tr(e, "回滚", "Roll back"), 0);
        }
        y += bh + gap;
    }
    kk_install_list_release(&inst);
    int rows = e->content->sync ? 3 : 2;
    schedule_lines(e, l, box.x + m, y, col,
                   box.y + box.h - m - (portrait ? rows * (bh + gap) + gap : 0), px);

    /* The actions. */
    static const char *const ids[] = {"staff/import", "staff/sync", "staff/touch", "staff/close",
                                      "staff/quit"};
    const char *labels[] = {tr(e, "从U盘导入内容包", "Import a pack (USB)"),
                            tr(e, "立即同步", "Sync now"), tr(e, "触摸测试", "Touch test"),
                            tr(e, "关闭面板", "Close"), tr(e, "退出程序", "Quit the app")};
    int aw = portrait ? (box.w - 3 * m) / 2 : box.w - 3 * m - col;
    /* Sync now only where there is a server; portrait puts the buttons in rows of two at
     * the bottom, landscape in a column on the right. */
    int n = 0;
    for (int i = 0; i < 5; i++) {
        if (i == 1 && !e->content->sync)
            continue;
        struct ui_rect r =
            portrait ? (struct ui_rect){box.x + m + (n % 2) * (aw + m),
                                        box.y + box.h - m - (rows - n / 2) * (bh + gap), aw, bh}
                     : (struct ui_rect){box.x + 2 * m + col,
                                        box.y + ui_px(e->ui, 130) + n * (bh + gap * 2), aw, bh};
        ui_button(e->ui, l, r, ids[i], labels[i], i == 0);
        n++;
    }
}

static void staff_tap(struct scene_env *e, void *self, const char *id)
{
    (void)self;
    struct kk_buf err = KK_BUF_INIT;
    if (!strcmp(id, "staff/close")) {
        kk_info("staff", "staff panel closed");
        visit_go_home(e);
    } else if (!strcmp(id, "staff/quit")) {
        kk_info("staff", "quit from the staff panel");
        e->quit = 1;
    } else if (!strcmp(id, "staff/sync") && e->content->sync) {
        kk_info("staff", "sync asked for from the staff panel");
        kk_sync_now(e->content->sync);
        say(e, 0, tr(e, "正在同步……", "Syncing…"));
    } else if (!strcmp(id, "staff/touch")) {
        scene_stack_push(e->stack, &scene_staff_touch);
    } else if (!strcmp(id, "staff/import")) {
        panel_msg[0] = '\0';
        scene_stack_push(e->stack, &scene_staff_import);
    } else if (!strncmp(id, "staff/rollback/", 15)) {
        char text[512];
        if (content_rollback(e->content, id + 15, &err)) {
            snprintf(text, sizeof(text), "%s: %s", id + 15, kk_buf_str(&err));
            say(e, 1, text);
        } else {
            TR_FMT(e, text, "%s 已回滚，关闭面板后生效。",
                   "%s rolled back; it goes live when you close the panel.", id + 15);
            say(e, 0, text);
        }
    } else if (!strncmp(id, "staff/hide/", 11) || !strncmp(id, "staff/show/", 11)) {
        int hide = id[6] == 'h';
        char text[256];
        if (content_set_hidden(e->content, id + 11, hide, &err)) {
            say(e, 1, kk_buf_str(&err));
        } else {
            snprintf(text, sizeof(text), "%s: %s", id + 11,
                     hide ? tr(e, "已隐藏", "hidden") : tr(e, "已显示", "shown"));
            say(e, 0, text);
        }
    }
    kk_buf_release(&err);
}

/* ---- import from removable media ---- */

static void add_file(struct import_screen *s, const char *dir, const char *name)
{
    size_t len = strlen(name);
    if (s->n >= MAX_IMPORT_FILES || len < 5 || strcmp(name + len - 4, ".kpk"))
        return;
    char *path = kk_path_join(dir, name);
    char **grown = path ? kk_reallocarray(s->files, s->n + 1, sizeof(*grown)) : NULL;
    if (!grown) {
        kk_free(path);
        return;
    }
    s->files = grown;
    s->files[s->n++] = path;
}

/* Looks for .kpk files in dir and, depth levels down, in its subfolders. */
static void scan(struct import_screen *s, const char *dir, int depth)
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
                add_file(s, dir, de->d_name);
            else if (S_ISDIR(st.st_mode) && depth > 0)
                scan(s, sub, depth - 1);
        }
        kk_free(sub);
    }
    closedir(d);
}

static void import_enter(struct scene_env *e, void *self)
{
    struct import_screen *s = self;
    /* USB sticks mount at /media/<user>/<label> or /run/media/<user>/<label>. */
    scan(s, "/media", 2);
    scan(s, "/run/media", 2);
    char dirs[1024];
    snprintf(dirs, sizeof(dirs), "%s", e->cfg->import_dirs);
    for (char *save = NULL, *p = strtok_r(dirs, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        while (*p == ' ')
            p++;
        scan(s, p, 1);
    }
    kk_info("staff", "import: %zu bundle(s) found", s->n);
}

static void import_build(struct scene_env *e, void *self, struct ui_list *l, struct ui_rect box)
{
    struct import_screen *s = self;
    int y = title(e, l, box, tr(e, "从U盘导入内容包", "Import a pack from a USB stick"));
    int m = ui_px(e->ui, 50), gap = ui_px(e->ui, 16), bh = ui_min_target(e->ui);
    y += message(e, l, box.x + m, y, box.w - 2 * m);
    if (!s->n)
        ui_label(e->ui, l, "import/none",
                 tr(e, "没有找到 .kpk 内容包。请插入U盘后返回再试。",
                    "No .kpk bundle found. Insert the USB stick, go back and try again."),
                 UI_FONT_REGULAR, ui_px(e->ui, 34), UI_INK, box.x + m, y, box.w - 2 * m, 3, 0);
    for (size_t i = 0; i < s->n && y + bh <= box.y + box.h - m; i++) {
        char id[32];
        snprintf(id, sizeof(id), "import/%zu", i);
        ui_button(e->ui, l, (struct ui_rect){box.x + m, y, box.w - 2 * m, bh}, id, s->files[i], 0);
        y += bh + gap;
    }
}

static void import_tap(struct scene_env *e, void *self, const char *id)
{
    struct import_screen *s = self;
    long i;
    if (strncmp(id, "import/", 7) || kk_parse_long(id + 7, 0, (long)s->n - 1, &i))
        return;
    struct kk_buf err = KK_BUF_INIT;
    const char *path = s->files[i];
    char text[512];
    if (content_import(e->content, path, &err)) {
        say(e, 1, kk_buf_str(&err));
    } else {
        TR_FMT(e, text, "已导入 %s，关闭面板后生效。",
               "Imported %s; it goes live when you close the panel.", path);
        say(e, 0, text);
    }
    kk_buf_release(&err);
    scene_stack_pop(e->stack);
}

static void import_leave(struct scene_env *e, void *self)
{
    (void)e;
    struct import_screen *s = self;
    for (size_t i = 0; i < s->n; i++)
        kk_free(s->files[i]);
    kk_free(s->files);
}

/* ---- touch test ---- */

static void touch_build(struct scene_env *e, void *self, struct ui_list *l, struct ui_rect box)
{
    struct touch_screen *s = self;
    int step = ui_px(e->ui, 120);
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
    int d = ui_px(e->ui, 40);
    for (size_t i = 0; i < s->n; i++) {
        struct ui_item *dot = ui_list_push(
            l, UI_RECT, (struct ui_rect){s->marks[i][0] - d / 2, s->marks[i][1] - d / 2, d, d});
        if (dot) {
            dot->color = UI_ACCENT;
            dot->radius = d / 2;
        }
    }
    ui_label(e->ui, l, "touch/hint",
             tr(e, "触摸屏幕的各个位置，圆点应出现在手指下方。",
                "Touch all over: a dot should appear under your finger."),
             UI_FONT_BOLD, ui_px(e->ui, 34), UI_INK, box.x + ui_px(e->ui, 50),
             box.y + ui_px(e->ui, 30), box.w - ui_px(e->ui, 100), 2, 1);
    ui_list_target(l, box, "touch/area", "touch test");
}

static void touch_tap(struct scene_env *e, void *self, const char *id)
{
    struct touch_screen *s = self;
    if (strcmp(id, "touch/area"))
        return;
    size_t max = sizeof(s->marks) / sizeof(s->marks[0]);
    if (s->n == max) {
        memmove(s->marks, s->marks + 1, sizeof(s->marks[0]) * (max - 1));
        s->n--;
    }
    s->marks[s->n][0] = e->tap_x;
    s->marks[s->n][1] = e->tap_y;
    s->n++;
    scene_stack_invalidate(e->stack);
}

const struct scene scene_staff_pin = {
    .name = "staff_pin",
    .size = sizeof(struct pin_screen),
    .enter = pin_enter,
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
    .size = sizeof(struct import_screen),
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
    .size = sizeof(struct touch_screen),
    .build = touch_build,
    .tap = touch_tap,
    .chrome = 1,
    .back = 1,
    .staff = 1,
};
