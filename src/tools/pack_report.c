/* The report of `kepu-pack check`: index.html for the staff who proof-read a pack,
 * report.json with the same findings for scripts. */
#include "pack_report.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"

#define THUMB_LONG 320 /* px of a thumbnail's long side */

static const char *const lang_label[KK_LANG_COUNT] = {"中文 (zh)", "English (en)"};

static const char *kind_name(enum pack_shot_kind k)
{
    switch (k) {
    case PACK_SHOT_MENU:
        return "menu";
    case PACK_SHOT_PAGE:
        return "page";
    case PACK_SHOT_QUESTION:
        return "question";
    case PACK_SHOT_ANSWER:
        return "answer";
    case PACK_SHOT_RESULTS:
        return "results";
    }
    return "?";
}

/* Appends s with &, <, >, " escaped. */
static void html(struct kk_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            kk_buf_adds(b, "&amp;");
            break;
        case '<':
            kk_buf_adds(b, "&lt;");
            break;
        case '>':
            kk_buf_adds(b, "&gt;");
            break;
        case '"':
            kk_buf_adds(b, "&quot;");
            break;
        default:
            kk_buf_add(b, s, 1);
        }
    }
}

/* "page 2, screen 3 of 6" and the like, for captions and tables. */
static void shot_place(struct kk_buf *b, const struct pack_shot *s)
{
    switch (s->kind) {
    case PACK_SHOT_MENU:
        kk_buf_addf(b, "menu page %d", s->index + 1);
        break;
    case PACK_SHOT_PAGE:
        kk_buf_addf(b, "page %d, screen %d of %d", s->page + 1, s->index + 1, s->screens);
        break;
    case PACK_SHOT_QUESTION:
    case PACK_SHOT_ANSWER:
        kk_buf_addf(b, "quiz question %d%s%s%s", s->index + 1, s->question ? " (" : "",
                    s->question ? s->question : "", s->question ? ")" : "");
        if (s->kind == PACK_SHOT_ANSWER)
            kk_buf_adds(b, s->correct == 1   ? ", answered right"
                           : s->correct == 0 ? ", answered wrong"
                                             : ", answered");
        break;
    case PACK_SHOT_RESULTS:
        kk_buf_adds(b, "quiz results");
        break;
    }
}

static size_t count_translations(const struct kk_diags *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        n += pack_check_is_translation(&d->items[i]);
    return n;
}

/* True when question id of topic was shown in at least one variant. */
static int question_shown(const struct pack_check *c, const char *topic, const char *id)
{
    for (size_t i = 0; i < c->nshots; i++) {
        const struct pack_shot *s = &c->shots[i];
        if (s->kind == PACK_SHOT_QUESTION && s->topic && s->question && !strcmp(s->topic, topic) &&
            !strcmp(s->question, id))
            return 1;
    }
    return 0;
}

static const char *result_word(const struct pack_check *c)
{
    return c->failure.len ? "incomplete" : c->overflows ? "problems" : "good";
}

static void diag_row(struct kk_buf *b, const struct kk_diag *d)
{
    kk_buf_adds(b, "<tr><td>");
    html(b, d->file);
    kk_buf_adds(b, "</td><td>");
    html(b, d->field);
    kk_buf_adds(b, "</td><td>");
    html(b, d->message);
    kk_buf_adds(b, "</td></tr>\n");
}

static void image_method(struct kk_buf *b, const struct pack_check *c)
{
    if (c->measured_images)
        kk_buf_adds(b,
                    "<p>Measured: the kiosk reported where it drew each picture, and a PNG "
                    "or JPEG picture is listed when it was drawn larger than its own pixels "
                    "(it looks blurred). SVG pictures scale cleanly and are never listed.</p>\n");
    else
        kk_buf_adds(b, "<p>Estimated: this kiosk does not report where it draws pictures, so "
                       "the largest size each PNG or JPEG page picture can be shown at was "
                       "worked out from the reader's layout rules for each screen size "
                       "(captions ignored, so the estimate leans towards &ldquo;too "
                       "small&rdquo;). Cover and quiz pictures are not estimated. SVG pictures "
                       "scale cleanly and are never listed.</p>\n");
}

/* The shots whose texts did not fit (or, with shortened, whose card summaries were
 * shortened), one row each. */
/* Texts under the contrast minimum, per theme: measured by the kiosk on the pixels it drew
 * (every line of text against the commonest colour behind its glyphs). */
static void contrast_section(struct kk_buf *b, const struct pack_check *c)
{
    kk_buf_addf(b, "<h2 id=\"contrast\">Contrast (%zu)</h2>\n", c->nlow);
    kk_buf_addf(b,
                "<p>Every line of text on every screen walked, against the colour the kiosk "
                "drew behind it: %zu in the everyday theme (at least 4.5:1 wanted; lowest "
                "%.2f:1), %zu in high contrast (at least 7:1 wanted; lowest %.2f:1).</p>\n",
                c->texts_measured[0], c->least_ratio[0], c->texts_measured[1], c->least_ratio[1]);
    if (!c->nlow) {
        kk_buf_adds(b, "<p class=\"good\">No text falls under its theme&rsquo;s minimum.</p>\n");
        return;
    }
    kk_buf_adds(b, "<table><tr><th>theme</th><th>text</th><th>colour</th><th>behind it</th>"
                   "<th>contrast</th><th>first seen</th></tr>\n");
    for (size_t i = 0; i < c->nlow; i++) {
        const struct pack_low_contrast *l = &c->low[i];
        kk_buf_addf(b, "<tr><td>%s</td><td>", l->high_contrast ? "high contrast" : "everyday");
        html(b, l->text);
        kk_buf_addf(b, "</td><td>%s</td><td>%s</td><td>%.2f:1 (under %.1f)</td><td><a href=\"",
                    l->ink, l->bg, l->ratio, l->need);
        html(b, l->shot);
        kk_buf_adds(b, "\">");
        html(b, l->shot);
        kk_buf_adds(b, "</a></td></tr>\n");
    }
    kk_buf_adds(b, "</table>\n");
}

static void text_table(struct kk_buf *b, const struct pack_check *c, int shortened)
{
    kk_buf_adds(b, "<table><tr><th>topic</th><th>where</th><th>language</th><th>screen</th>"
                   "<th>text size</th><th>what</th><th>screenshot</th></tr>\n");
    for (size_t i = 0; i < c->nshots; i++) {
        const struct pack_shot *s = &c->shots[i];
        const char *ids = shortened ? s->shortened : s->overflow;
        if (!ids)
            continue;
        kk_buf_adds(b, "<tr><td>");
        html(b, s->topic ? s->topic : "(menu)");
        kk_buf_adds(b, "</td><td>");
        shot_place(b, s);
        kk_buf_addf(b, "</td><td>%s</td><td>%dx%d</td><td>%s</td><td>", kk_lang_name(s->lang), s->w,
                    s->h, s->large ? "large" : "normal");
        html(b, ids);
        kk_buf_adds(b, "</td><td><a href=\"");
        html(b, s->path);
        kk_buf_adds(b, "\">view</a></td></tr>\n");
    }
    kk_buf_adds(b, "</table>\n");
}

static void thumb(struct kk_buf *b, const struct pack_shot *s)
{
    int tw = s->w >= s->h ? THUMB_LONG : THUMB_LONG * s->w / s->h;
    kk_buf_addf(b, "<figure%s><a href=\"", s->overflow ? " class=\"over\"" : "");
    html(b, s->path);
    kk_buf_adds(b, "\"><img src=\"");
    html(b, s->path);
    kk_buf_addf(b, "\" width=\"%d\" loading=\"lazy\" alt=\"", tw);
    shot_place(b, s);
    kk_buf_adds(b, "\"></a><figcaption>");
    shot_place(b, s);
    if (s->overflow) {
        kk_buf_adds(b, "<br><b>text does not fit:</b> ");
        html(b, s->overflow);
    }
    if (s->shortened) {
        kk_buf_adds(b, "<br>summary shortened: ");
        html(b, s->shortened);
    }
    kk_buf_adds(b, "</figcaption></figure>\n");
}

/* The contact sheet: by topic (the menu first), then size, language and text size. */
static void contact_sheet(struct kk_buf *b, const struct pack_check *c)
{
    kk_buf_adds(b, "<h2 id=\"sheet\">Contact sheet</h2>\n<p>Every screen the walk saw; click a "
                   "picture to see it full size. A red frame marks text that does not "
                   "fit.</p>\n");
    for (size_t t = 0; t <= c->pack->ntopics; t++) {
        const struct kk_topic *tp = t ? &c->pack->topics[t - 1] : NULL;
        const char *id = tp ? tp->id : NULL;
        kk_buf_addf(b, "<section class=\"topic\"><h3 id=\"topic-%s\">", id ? id : "menu");
        if (tp) {
            html(b, kk_text_get(&tp->title, KK_LANG_ZH));
            if (tp->title.s[KK_LANG_EN]) {
                kk_buf_adds(b, " &middot; ");
                html(b, tp->title.s[KK_LANG_EN]);
            }
            kk_buf_adds(b, " <small>(");
            html(b, id);
            kk_buf_adds(b, ")</small>");
        } else {
            kk_buf_adds(b, "Topic menu");
        }
        kk_buf_adds(b, "</h3>\n");
        for (int s = 0; s < c->nsizes; s++) {
            int w = c->sizes[s][0], h = c->sizes[s][1];
            kk_buf_addf(b, "<h4>%dx%d (%s)</h4>\n", w, h, w >= h ? "landscape" : "portrait");
            for (int lang = 0; lang < KK_LANG_COUNT; lang++)
                for (int large = 0; large < 2; large++) {
                    size_t n = 0;
                    for (size_t i = 0; i < c->nshots; i++) {
                        const struct pack_shot *sh = &c->shots[i];
                        if (sh->w != w || sh->h != h || (int)sh->lang != lang ||
                            sh->large != large || (id == NULL) != (sh->topic == NULL) ||
                            (id && strcmp(id, sh->topic)))
                            continue;
                        if (!n++)
                            kk_buf_addf(b,
                                        "<div class=\"group\"><h5>%s &middot; %s text &middot; "
                                        "%dx%d</h5><div class=\"row\">\n",
                                        lang_label[lang], large ? "large" : "normal", w, h);
                        thumb(b, sh);
                    }
                    if (n)
                        kk_buf_adds(b, "</div></div>\n");
                    else
                        kk_buf_addf(b, "<p class=\"none\">%s &middot; %s text: not reached</p>\n",
                                    lang_label[lang], large ? "large" : "normal");
                }
        }
        kk_buf_adds(b, "</section>\n");
    }
}

static enum kk_err write_html(const struct pack_check *c, struct kk_buf *err)
{
    struct kk_buf b = KK_BUF_INIT;
    const struct kk_pack *p = c->pack;
    const struct kk_diags *d = c->diags;
    size_t missing = count_translations(d);
    char when[64] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);

    kk_buf_adds(&b, "<!doctype html>\n<html lang=\"zh-Hans\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<title>Pack check: ");
    html(&b, p->id);
    kk_buf_adds(&b, " ");
    html(&b, p->version);
    kk_buf_adds(
        &b, "</title>\n<style>\n"
            "body{font-family:sans-serif;margin:1.5em;color:#222;background:#faf8f3}\n"
            "table{border-collapse:collapse;margin:.5em 0}\n"
            "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\n"
            ".good{color:#1e7b34}.bad{color:#b3261e;font-weight:bold}\n"
            ".row{display:flex;flex-wrap:wrap;gap:10px}\n"
            "figure{margin:0;padding:4px;border:3px solid transparent;background:#fff}\n"
            "figure.over{border-color:#d32f2f}\n"
            "figcaption{font-size:.8em;max-width:320px}\n"
            "img{display:block;border:1px solid #ddd}\n"
            "section.topic{border-top:2px solid #999;margin-top:2em}\n"
            "h5{margin:.8em 0 .3em}.none{color:#888;font-size:.9em}\n"
            "</style>\n</head>\n<body>\n<h1>Pack check: ");
    html(&b, kk_text_get(&p->title, KK_LANG_ZH));
    if (p->title.s[KK_LANG_EN]) {
        kk_buf_adds(&b, " &middot; ");
        html(&b, p->title.s[KK_LANG_EN]);
    }
    kk_buf_adds(&b, "</h1>\n<p>Pack <b>");
    html(&b, p->id);
    kk_buf_adds(&b, "</b> version <b>");
    html(&b, p->version);
    kk_buf_adds(&b, "</b> from <code>");
    html(&b, c->dir);
    kk_buf_addf(&b,
                "</code>, checked %s on the real kiosk in %.0f s: %zu screenshots at "
                "1920x1080 and 1080x1920, in Chinese and English, with normal and large "
                "text, and in high contrast.</p>\n",
                when, c->seconds, c->nshots);
    kk_buf_addf(&b,
                "<p class=\"%s\">Result: %s. %zu screen%s with text that does not fit, %zu "
                "missing translation%s, %zu too-small picture%s, %zu warning%s.</p>\n",
                c->failure.len || c->overflows ? "bad" : "good", result_word(c), c->overflows,
                c->overflows == 1 ? "" : "s", missing, missing == 1 ? "" : "s", c->nsmall,
                c->nsmall == 1 ? "" : "s", d->warnings, d->warnings == 1 ? "" : "s");
    if (c->failure.len) {
        kk_buf_adds(&b, "<p class=\"bad\">The walk stopped early: ");
        html(&b, kk_buf_str(&c->failure));
        kk_buf_adds(&b, "</p>\n");
    }
    kk_buf_adds(&b, "<p><a href=\"#overflow\">Text that does not fit</a> &middot; <a "
                    "href=\"#translations\">Missing translations</a> &middot; <a "
                    "href=\"#images\">Too-small pictures</a> &middot; <a "
                    "href=\"#contrast\">Contrast</a> &middot; <a "
                    "href=\"#warnings\">Warnings</a> &middot; <a href=\"#quiz\">Quiz</a> "
                    "&middot; <a href=\"#sheet\">Contact sheet</a></p>\n");

    kk_buf_addf(&b, "<h2 id=\"overflow\">Text that does not fit (%zu)</h2>\n", c->overflows);
    if (c->overflows) {
        kk_buf_adds(&b, "<p>The kiosk cut these texts short. Shorten the text, or split the "
                        "page.</p>\n");
        text_table(&b, c, 0);
    } else {
        kk_buf_adds(&b, "<p class=\"good\">Every text fits on every screen walked.</p>\n");
    }
    if (c->shortened) {
        kk_buf_addf(&b,
                    "<h3>Summaries shortened on the menu (%zu screens)</h3>\n<p>The menu "
                    "shortens a long summary with &ldquo;&hellip;&rdquo; to fit its card; this "
                    "is by design and does not fail the check, but visitors see only the "
                    "start of these summaries.</p>\n",
                    c->shortened);
        text_table(&b, c, 1);
    }

    kk_buf_addf(&b, "<h2 id=\"translations\">Missing translations (%zu)</h2>\n", missing);
    if (missing) {
        kk_buf_adds(&b, "<p>Visitors who choose English see the Chinese text here.</p>\n<table>"
                        "<tr><th>file</th><th>field</th><th>problem</th></tr>\n");
        for (size_t i = 0; i < d->n; i++)
            if (pack_check_is_translation(&d->items[i]))
                diag_row(&b, &d->items[i]);
        kk_buf_adds(&b, "</table>\n");
    } else {
        kk_buf_adds(&b, "<p class=\"good\">Every text has English.</p>\n");
    }

    kk_buf_addf(&b, "<h2 id=\"images\">Too-small pictures (%zu)</h2>\n", c->nsmall);
    image_method(&b, c);
    if (c->nsmall) {
        kk_buf_adds(&b, "<table><tr><th>picture</th><th>topic</th><th>page</th><th>its "
                        "pixels</th><th>shown at</th><th>screen</th><th>language, text "
                        "size</th></tr>\n");
        for (size_t i = 0; i < c->nsmall; i++) {
            const struct pack_small_image *s = &c->small[i];
            kk_buf_adds(&b, "<tr><td>");
            html(&b, s->src);
            kk_buf_adds(&b, "</td><td>");
            html(&b, s->topic);
            if (s->page >= 0)
                kk_buf_addf(&b, "</td><td>%d", s->page + 1);
            else
                kk_buf_adds(&b, "</td><td>-");
            kk_buf_addf(&b, "</td><td>%dx%d</td><td>%dx%d%s</td><td>%dx%d</td><td>", s->img_w,
                        s->img_h, s->shown_w, s->shown_h, s->measured ? "" : " (estimated)", s->w,
                        s->h);
            if (s->lang < 0)
                kk_buf_adds(&b, "all");
            else
                kk_buf_addf(&b, "%s, %s", kk_lang_name((enum kk_lang)s->lang),
                            s->large ? "large" : "normal");
            kk_buf_adds(&b, "</td></tr>\n");
        }
        kk_buf_adds(&b, "</table>\n");
    }

    contrast_section(&b, c);

    kk_buf_addf(&b, "<h2 id=\"warnings\">Warnings from the validator (%zu)</h2>\n", d->warnings);
    if (d->warnings) {
        kk_buf_adds(&b, "<table><tr><th>file</th><th>field</th><th>warning</th></tr>\n");
        for (size_t i = 0; i < d->n; i++)
            if (d->items[i].severity == KK_SEV_WARNING)
                diag_row(&b, &d->items[i]);
        kk_buf_adds(&b, "</table>\n");
    } else {
        kk_buf_adds(&b, "<p class=\"good\">None.</p>\n");
    }

    kk_buf_adds(&b, "<h2 id=\"quiz\">Quiz</h2>\n");
    if (c->questions_shown)
        kk_buf_addf(&b,
                    "<p>%zu quiz question screens were walked: for each topic, language, "
                    "text size and screen size, rounds were played until every question had "
                    "been shown once (a question meant only for some visitor groups was "
                    "reached by picking such a group), each answered with its first choice "
                    "and shown again with the kiosk's answer.</p>\n",
                    c->questions_shown);
    else if (c->quiz_missing)
        kk_buf_adds(&b, "<p>This kiosk has no quiz screens yet: the quiz questions were not "
                        "walked. Check them again with a newer kiosk.</p>\n");
    else
        kk_buf_adds(&b, "<p>No topic offered a quiz.</p>\n");
    if (c->questions_shown && !c->failure.len) {
        size_t missed = 0;
        for (size_t t = 0; t < p->ntopics; t++)
            for (size_t q = 0; q < p->topics[t].nquestions; q++) {
                const char *id = p->topics[t].questions[q].id;
                if (question_shown(c, p->topics[t].id, id))
                    continue;
                kk_buf_addf(&b, "%s", missed++ ? ", " : "<p class=\"bad\">Never shown: ");
                html(&b, p->topics[t].id);
                kk_buf_adds(&b, "/");
                html(&b, id);
            }
        kk_buf_adds(&b, missed ? "</p>\n" : "<p class=\"good\">Every question was shown.</p>\n");
    }

    contact_sheet(&b, c);
    kk_buf_adds(&b, "</body>\n</html>\n");

    /* Every append above is checked here, once: a page with a part missing is never
     * written (the buffer stops at its first failure). */
    char *path = kk_path_join(c->report, "index.html");
    enum kk_err rc;
    if (kk_buf_error(&b) || !path)
        rc = kk_fail(err, KK_ERR_NOMEM, "%s/index.html: out of memory while writing the report",
                     c->report);
    else
        rc = kk_file_write_atomic(path, b.data, b.len, err);
    kk_free(path);
    kk_buf_release(&b);
    return rc;
}

static cJSON *size_json(int w, int h)
{
    int v[2] = {w, h};
    return cJSON_CreateIntArray(v, 2);
}

static cJSON *diag_json(const struct kk_diag *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", d->file ? d->file : "");
    cJSON_AddStringToObject(o, "field", d->field ? d->field : "");
    cJSON_AddStringToObject(o, "message", d->message ? d->message : "");
    return o;
}

static cJSON *overflow_ids(const char *list)
{
    cJSON *arr = cJSON_CreateArray();
    const char *p = list;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char *one = kk_strndup(p, n);
        if (one)
            cJSON_AddItemToArray(arr, cJSON_CreateString(one));
        kk_free(one);
        p = comma ? comma + 1 : NULL;
    }
    return arr;
}

static cJSON *shot_json(const struct pack_shot *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "shot", s->path);
    cJSON_AddStringToObject(o, "kind", kind_name(s->kind));
    if (s->topic)
        cJSON_AddStringToObject(o, "topic", s->topic);
    else
        cJSON_AddNullToObject(o, "topic");
    cJSON_AddNumberToObject(o, "index", s->index);
    if (s->kind == PACK_SHOT_PAGE) {
        cJSON_AddNumberToObject(o, "page", s->page);
        cJSON_AddNumberToObject(o, "screens", s->screens);
    }
    if (s->question)
        cJSON_AddStringToObject(o, "question", s->question);
    if (s->kind == PACK_SHOT_ANSWER && s->correct >= 0)
        cJSON_AddBoolToObject(o, "correct", s->correct);
    cJSON_AddStringToObject(o, "lang", kk_lang_name(s->lang));
    cJSON_AddItemToObject(o, "size", size_json(s->w, s->h));
    cJSON_AddBoolToObject(o, "large_text", s->large);
    cJSON_AddBoolToObject(o, "high_contrast", s->high_contrast);
    cJSON_AddItemToObject(o, "overflow", overflow_ids(s->overflow));
    cJSON_AddItemToObject(o, "shortened", overflow_ids(s->shortened));
    return o;
}

static enum kk_err write_json(const struct pack_check *c, struct kk_buf *err)
{
    const struct kk_diags *d = c->diags;
    kk_json_alloc_failed(1); /* cJSON drops what it cannot allocate: checked at the end */
    cJSON *j = cJSON_CreateObject();
    cJSON *pk = cJSON_AddObjectToObject(j, "pack");
    cJSON_AddStringToObject(pk, "id", c->pack->id);
    cJSON_AddStringToObject(pk, "version", c->pack->version);
    cJSON_AddStringToObject(pk, "dir", c->dir);
    cJSON_AddStringToObject(j, "result", result_word(c));
    cJSON_AddNumberToObject(j, "exit", c->failure.len || c->overflows ? 1 : 0);
    if (c->failure.len)
        cJSON_AddStringToObject(j, "failure", kk_buf_str(&c->failure));
    else
        cJSON_AddNullToObject(j, "failure");
    cJSON_AddNumberToObject(j, "seconds", c->seconds);
    cJSON *sizes = cJSON_AddArrayToObject(j, "sizes");
    for (int s = 0; s < c->nsizes; s++)
        cJSON_AddItemToArray(sizes, size_json(c->sizes[s][0], c->sizes[s][1]));
    cJSON *counts = cJSON_AddObjectToObject(j, "counts");
    cJSON_AddNumberToObject(counts, "screens", (double)c->nshots);
    cJSON_AddNumberToObject(counts, "overflow", (double)c->overflows);
    cJSON_AddNumberToObject(counts, "shortened", (double)c->shortened);
    cJSON_AddNumberToObject(counts, "missing_translations", (double)count_translations(d));
    cJSON_AddNumberToObject(counts, "small_images", (double)c->nsmall);
    cJSON_AddNumberToObject(counts, "warnings", (double)d->warnings);
    cJSON_AddNumberToObject(counts, "quiz_questions", (double)c->questions_shown);
    cJSON_AddNumberToObject(counts, "low_contrast", (double)c->nlow);
    cJSON *contrast = cJSON_AddObjectToObject(j, "contrast");
    cJSON_AddNumberToObject(contrast, "texts_measured", (double)c->texts_measured[0]);
    cJSON_AddNumberToObject(contrast, "least_ratio", c->least_ratio[0]);
    cJSON_AddNumberToObject(contrast, "texts_measured_high_contrast", (double)c->texts_measured[1]);
    cJSON_AddNumberToObject(contrast, "least_ratio_high_contrast", c->least_ratio[1]);
    cJSON *low = cJSON_AddArrayToObject(contrast, "low");
    for (size_t i = 0; i < c->nlow; i++) {
        const struct pack_low_contrast *l = &c->low[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "theme", l->high_contrast ? "high-contrast" : "default");
        cJSON_AddStringToObject(o, "text", l->text);
        cJSON_AddStringToObject(o, "ink", l->ink);
        cJSON_AddStringToObject(o, "bg", l->bg);
        cJSON_AddNumberToObject(o, "ratio", l->ratio);
        cJSON_AddNumberToObject(o, "need", l->need);
        cJSON_AddStringToObject(o, "shot", l->shot);
        cJSON_AddItemToArray(low, o);
    }

    cJSON *over = cJSON_AddArrayToObject(j, "overflow");
    cJSON *cut = cJSON_AddArrayToObject(j, "shortened");
    for (size_t i = 0; i < c->nshots; i++) {
        if (c->shots[i].overflow)
            cJSON_AddItemToArray(over, shot_json(&c->shots[i]));
        if (c->shots[i].shortened)
            cJSON_AddItemToArray(cut, shot_json(&c->shots[i]));
    }
    cJSON *miss = cJSON_AddArrayToObject(j, "missing_translations");
    cJSON *warn = cJSON_AddArrayToObject(j, "warnings");
    for (size_t i = 0; i < d->n; i++) {
        if (pack_check_is_translation(&d->items[i]))
            cJSON_AddItemToArray(miss, diag_json(&d->items[i]));
        if (d->items[i].severity == KK_SEV_WARNING)
            cJSON_AddItemToArray(warn, diag_json(&d->items[i]));
    }
    cJSON *small = cJSON_AddArrayToObject(j, "small_images");
    for (size_t i = 0; i < c->nsmall; i++) {
        const struct pack_small_image *s = &c->small[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "src", s->src);
        cJSON_AddStringToObject(o, "topic", s->topic);
        if (s->page >= 0)
            cJSON_AddNumberToObject(o, "page", s->page);
        else
            cJSON_AddNullToObject(o, "page");
        cJSON_AddItemToObject(o, "pixels", size_json(s->img_w, s->img_h));
        cJSON_AddItemToObject(o, "shown", size_json(s->shown_w, s->shown_h));
        cJSON_AddItemToObject(o, "size", size_json(s->w, s->h));
        if (s->lang >= 0) {
            cJSON_AddStringToObject(o, "lang", kk_lang_name((enum kk_lang)s->lang));
            cJSON_AddBoolToObject(o, "large_text", s->large);
        }
        cJSON_AddStringToObject(o, "method", s->measured ? "measured" : "estimated");
        cJSON_AddItemToArray(small, o);
    }
    cJSON *quiz = cJSON_AddObjectToObject(j, "quiz");
    cJSON_AddNumberToObject(quiz, "questions_shown", (double)c->questions_shown);
    cJSON_AddBoolToObject(quiz, "quiz_screens_missing", c->quiz_missing);
    cJSON *never = cJSON_AddArrayToObject(quiz, "never_shown");
    for (size_t t = 0; c->questions_shown && t < c->pack->ntopics; t++)
        for (size_t q = 0; q < c->pack->topics[t].nquestions; q++) {
            const struct kk_topic *tp = &c->pack->topics[t];
            if (question_shown(c, tp->id, tp->questions[q].id))
                continue;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "topic", tp->id);
            cJSON_AddStringToObject(o, "question", tp->questions[q].id);
            cJSON_AddItemToArray(never, o);
        }
    cJSON *shots = cJSON_AddArrayToObject(j, "shots");
    for (size_t i = 0; i < c->nshots; i++)
        cJSON_AddItemToArray(shots, shot_json(&c->shots[i]));

    char *text = kk_json_alloc_failed(0) ? NULL : cJSON_Print(j);
    cJSON_Delete(j);
    char *path = kk_path_join(c->report, "report.json");
    enum kk_err rc;
    if (!text || !path || kk_json_alloc_failed(1))
        rc = kk_fail(err, KK_ERR_NOMEM, "%s/report.json: out of memory while writing the report",
                     c->report);
    else
        rc = kk_file_write_atomic(path, text, strlen(text), err);
    cJSON_free(text);
    kk_free(path);
    return rc;
}

enum kk_err pack_report_write(const struct pack_check *c, struct kk_buf *err)
{
    if (kk_buf_error(&c->failure)) /* the walk's own account of where it stopped */
        return kk_fail(err, KK_ERR_NOMEM, "%s: out of memory while writing the report", c->report);
    enum kk_err rc = write_html(c, err);
    if (rc || !(rc = write_json(c, err)))
        return rc;
    /* Half a report is not left behind to be taken for a whole one. */
    char *html = kk_path_join(c->report, "index.html");
    if (html)
        unlink(html);
    kk_free(html);
    return rc;
}
