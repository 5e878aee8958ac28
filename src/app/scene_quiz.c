/* The quiz scene (issue 4): placeholder until the quiz screens land. */
#include "app.h"

static void build(struct app *a, struct ui_list *l, struct ui_rect box)
{
    app_label(a, l, "quiz/title", ui_str(S_TAKE_QUIZ, a->lang), UI_FONT_BOLD, app_px(a, 56),
              UI_PRIMARY_DARK, box.x + app_px(a, 60), box.y + app_px(a, 60),
              box.w - 2 * app_px(a, 60), 1, 1);
}

const struct scene scene_quiz = {
    .name = "quiz",
    .build = build,
    .chrome = 1,
    .back = 1,
};
