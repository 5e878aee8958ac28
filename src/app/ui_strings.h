/* Every interface word the kiosk shows, in both languages (CONTENT.md's table). */
#ifndef UI_STRINGS_H
#define UI_STRINGS_H

#include "kepu/pack.h"

enum ui_str {
    S_TOUCH_TO_START,
    S_WHO_IS_VISITING,
    S_AUD_YOUTH,
    S_AUD_FARMERS,
    S_AUD_ELDERLY,
    S_AUD_WORKERS,
    S_AUD_OFFICIALS,
    S_AUD_OTHER,
    S_HOME,
    S_BACK,
    S_PREVIOUS,
    S_NEXT,
    S_TAKE_QUIZ,
    S_CONFIRM,
    S_UNDO,
    S_CORRECT,
    S_NOT_QUITE,
    S_NEXT_QUESTION,
    S_SEE_RESULTS,
    S_TRY_AGAIN,
    S_READ_ABOUT_IT,
    S_LARGE_TEXT,
    S_HIGH_CONTRAST,
    S_READ_ALOUD,
    S_STILL_THERE,
    S_STILL_THERE_HINT,
    S_CONTINUE,
    S_CONTENT_UPDATING,
    S_CONTENT_UPDATING_HINT,
    S_LANG_TOGGLE,
    S_CHOOSE_TOPIC,
    S_FOR_YOU,
    S_END_OF_TOPIC,
    S_QUIZ_YOUR_SCORE,
    S_QUIZ_ALL_RIGHT,
    S_QUIZ_MOST_RIGHT,
    S_QUIZ_SOME_RIGHT,
    S_QUIZ_NONE_RIGHT,
    S_QUIZ_LOOK_AGAIN,
    /* The reader's interactive blocks (ui_blocks.c). */
    S_BLOCK_PREV_SPOT,
    S_BLOCK_NEXT_SPOT,
    S_BLOCK_SHOW_LABELS,
    S_BLOCK_HIDE_LABELS,
    S_BLOCK_CLOSE,
    S_BLOCK_HANDLE,
    S_BLOCK_PREV_FRAME,
    S_BLOCK_NEXT_FRAME,
    S_BLOCK_STEP,
    S_BLOCK_NEXT_STEP,
    S_BLOCK_FIRST_STEP,
    S_BLOCK_ALL_STEPS,
    S_BLOCK_ONE_STEP,
    S_COUNT
};

/* The word in lang. Never NULL. */
const char *ui_str(enum ui_str id, enum kk_lang lang);
/* The picker's label for an audience group. */
enum ui_str ui_str_audience(enum kk_audience a);

#endif
