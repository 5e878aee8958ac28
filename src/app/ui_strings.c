#include "ui_strings.h"

static const char *const words[S_COUNT][KK_LANG_COUNT] = {
    [S_TOUCH_TO_START] = {"触摸屏幕开始", "Touch to start"},
    [S_WHO_IS_VISITING] = {"请选择您的身份", "Who is visiting today?"},
    [S_AUD_YOUTH] = {"青少年", "Young people"},
    [S_AUD_FARMERS] = {"农民朋友", "Farmers"},
    [S_AUD_ELDERLY] = {"老年朋友", "Seniors"},
    [S_AUD_WORKERS] = {"城镇劳动者", "Workers"},
    [S_AUD_OFFICIALS] = {"领导干部和公务员", "Officials"},
    [S_AUD_OTHER] = {"其他访客", "Other visitors"},
    [S_HOME] = {"首页", "Home"},
    [S_BACK] = {"返回", "Back"},
    [S_PREVIOUS] = {"上一页", "Previous"},
    [S_NEXT] = {"下一页", "Next"},
    [S_TAKE_QUIZ] = {"开始答题", "Take the quiz"},
    [S_CONFIRM] = {"确定", "Confirm"},
    [S_UNDO] = {"撤销", "Undo"}, /* an order question: takes the last tap back */
    [S_CORRECT] = {"回答正确！", "Correct!"},
    [S_NOT_QUITE] = {"再想想", "Not quite"},
    [S_NEXT_QUESTION] = {"下一题", "Next question"},
    [S_SEE_RESULTS] = {"查看结果", "See results"},
    [S_TRY_AGAIN] = {"再来一次", "Try again"},
    [S_READ_ABOUT_IT] = {"回去看看", "Read about it"},
    [S_LARGE_TEXT] = {"大字模式", "Large text"},
    [S_HIGH_CONTRAST] = {"高对比", "High contrast"},
    [S_READ_ALOUD] = {"朗读", "Read aloud"},
    [S_STILL_THERE] = {"还在吗？", "Still there?"},
    [S_STILL_THERE_HINT] = {"触摸屏幕继续浏览", "Touch the screen to keep reading"},
    [S_CONTINUE] = {"继续", "Continue"},
    [S_CONTENT_UPDATING] = {"内容更新中", "Content is being updated"},
    [S_CONTENT_UPDATING_HINT] = {"请稍后再来看看", "Please come back a little later"},
    [S_LANG_TOGGLE] = {"中文 / EN", "中文 / EN"},
    [S_CHOOSE_TOPIC] = {"选择一个主题", "Choose a topic"},
    [S_FOR_YOU] = {"为您推荐", "For you"},
    [S_END_OF_TOPIC] = {"读完了！", "You have read it all!"},
    /* The quiz's result screen: the score, then a word for its band. */
    [S_QUIZ_YOUR_SCORE] = {"你的得分", "Your score"},
    [S_QUIZ_ALL_RIGHT] = {"全部答对，真了不起！", "All correct. Brilliant!"},
    [S_QUIZ_MOST_RIGHT] = {"答得不错！再看看答错的题吧。",
                           "Well done! Have a look at the ones you missed."},
    [S_QUIZ_SOME_RIGHT] = {"不错的开始！回去看看，再试一次吧。",
                           "A good start! Read about the ones you missed, then try again."},
    [S_QUIZ_NONE_RIGHT] = {"别灰心！回去读一读，再来挑战。",
                           "Don't give up! Read the topic again, then have another go."},
    [S_QUIZ_LOOK_AGAIN] = {"答错的题，点一下回去看看",
                           "Missed questions: tap one to read about it"},
    /* The reader's interactive blocks: markers on a picture, a before/after handle, a
     * row of frames, steps one at a time. */
    [S_BLOCK_PREV_SPOT] = {"上一个", "Previous spot"},
    [S_BLOCK_NEXT_SPOT] = {"下一个", "Next spot"},
    [S_BLOCK_SHOW_LABELS] = {"显示名称", "Show labels"},
    [S_BLOCK_HIDE_LABELS] = {"隐藏名称", "Hide labels"},
    [S_BLOCK_CLOSE] = {"关闭", "Close"},
    [S_BLOCK_HANDLE] = {"拖动对比", "Drag to compare"},
    [S_BLOCK_PREV_FRAME] = {"上一张", "Previous picture"},
    [S_BLOCK_NEXT_FRAME] = {"下一张", "Next picture"},
    [S_BLOCK_STEP] = {"步骤", "Step"},
    [S_BLOCK_NEXT_STEP] = {"下一步", "Next step"},
    [S_BLOCK_FIRST_STEP] = {"从头再看", "Start again"},
    [S_BLOCK_ALL_STEPS] = {"全部步骤", "All steps"},
    [S_BLOCK_ONE_STEP] = {"一步一步看", "One at a time"},
};

const char *ui_str(enum ui_str id, enum kk_lang lang)
{
    if ((unsigned)id >= S_COUNT)
        return "";
    const char *s = words[id][(unsigned)lang < KK_LANG_COUNT ? lang : KK_LANG_ZH];
    return s ? s : words[id][KK_LANG_ZH];
}

enum ui_str ui_str_audience(enum kk_audience a)
{
    switch (a) {
    case KK_AUD_YOUTH:
        return S_AUD_YOUTH;
    case KK_AUD_FARMERS:
        return S_AUD_FARMERS;
    case KK_AUD_ELDERLY:
        return S_AUD_ELDERLY;
    case KK_AUD_WORKERS:
        return S_AUD_WORKERS;
    case KK_AUD_OFFICIALS:
        return S_AUD_OFFICIALS;
    case KK_AUD_OTHER:
    case KK_AUD_COUNT:
        break;
    }
    return S_AUD_OTHER;
}
