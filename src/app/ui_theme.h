/* Themes: the app's own look as data (assets/, DESIGN.md). A theme is one JSON file,
 * assets/themes/<name>.json:
 *
 *   {"format": 1, "name": "default",
 *    "colours": {"primary": "#0063a6", ...},      any of struct ui_palette's members
 *    "sizes": {"top_bar": 120, ...},              any of struct ui_sizes' (design px)
 *    "icons": {"content-updating": "icons/content-updating.svg"}}   SVG, inside assets/
 *
 * A member a theme leaves out keeps the built-in value, so a second theme (high contrast)
 * is one more file that lists only what differs. The assets folder is $KEPU_ASSETS, else
 * <prefix>/share/kepu-kiosk/assets beside the installed program, else the source tree's
 * assets/ (a build run in place); the theme is $KEPU_THEME, else "default". A theme that
 * cannot be read or is malformed is logged in one line naming the file and the field, and
 * the built-in look is used; an icon that cannot be used is logged and drawn built-in. */
#ifndef UI_THEME_H
#define UI_THEME_H

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/pack.h"
#include "ui.h"
#include "ui_ctx.h"

struct ui_theme {
    char name[64];
    struct ui_palette colours;
    struct ui_sizes sizes;
    struct kk_image icons[UI_ICON_COUNT]; /* path NULL: none (drawn built-in) */
};

/* The built-in look, with no icons. */
void ui_theme_init(struct ui_theme *t);
/* Frees the icons' paths; t is the built-in look again. Accepts NULL. */
void ui_theme_release(struct ui_theme *t);

/* Reads theme name from the assets folder dir into t (released first). On failure t is
 * the built-in look and err says which file and field. An icon that cannot be used is
 * logged (one line naming the file, the icon and why) and left out: it does not fail the
 * theme. Errors: KK_ERR_NOTFOUND, KK_ERR_IO, KK_ERR_PARSE, KK_ERR_INVALID, KK_ERR_NOMEM. */
enum kk_err ui_theme_load(struct ui_theme *t, const char *dir, const char *name,
                          struct kk_buf *err);

/* The assets folder to use (see above): a string to free with kk_free, or NULL when out
 * of memory. */
char *ui_theme_assets_dir(void);

/* Loads the theme the environment asks for, logs what went wrong (one line each), makes
 * it the look in use (ui_palette, ui_sizes) and points u's icons at t's. */
void ui_theme_start(struct ui_theme *t, struct ui_ctx *u);

/* Loads the high-contrast theme into hc: $KEPU_THEME_HIGH_CONTRAST, else "high-contrast",
 * from the same assets folder (a member it leaves out keeps the built-in value). Returns 1
 * when it loaded (the top bar offers the switch), 0 when it did not (logged in one line
 * naming the file and field; no switch is offered). Does not change the look in use. */
int ui_theme_start_high_contrast(struct ui_theme *hc);

/* Makes t the look in use and points u's icons at t's (u may be NULL). */
void ui_theme_apply(const struct ui_theme *t, struct ui_ctx *u);

#endif
