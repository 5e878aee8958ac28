/* The kiosk walk of `kepu-pack check`: runs kepu-kiosk under automation (pack_kiosk.h) on
 * one pack alone, at 1920x1080 and 1080x1920 (or the sizes in c->sizes[0..nsizes), when
 * nsizes is set), in every language (zh, en), with large text
 * off and on, and walks every menu page, every screen of every page of every topic and,
 * when the kiosk has quiz screens, the quiz questions, taking a screenshot of each and
 * recording what it found (pack_findings.h). */
#ifndef KEPU_TOOLS_PACK_WALK_H
#define KEPU_TOOLS_PACK_WALK_H

#include "kepu/buf.h"
#include "kepu/error.h"
#include "pack_findings.h"

/* Runs the walk described above, for c->pack loaded from c->dir, writing screenshots
 * under c->report/shots. The kiosk is found with pack_kiosk_find. A kiosk that dies, hangs
 * or refuses a step does not make this fail: the walk stops, c->failure says where, and
 * what was seen so far stays in c. Errors (nothing walked): KK_ERR_NOTFOUND (no kiosk
 * program), KK_ERR_IO (cannot make the report folder or the sandbox), KK_ERR_NOMEM.
 * Release c with pack_check_release afterwards, even on failure. */
enum kk_err pack_check_run(struct pack_check *c, struct kk_buf *err);
void pack_check_release(struct pack_check *c);

#endif
