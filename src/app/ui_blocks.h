/* Format 2's interactive blocks in the reader (docs/blocks.md): hotspots, compare,
 * sequence and steps. The page layout (ui_layout.h) keeps a slot of one screen for each
 * block; at every build the reader asks this module to fill the slots of the screen shown
 * with what each block's state says. The state of every block of the topic lives here,
 * apart from the layout, so it survives a relayout (language, large text, screen size).
 * Taps, the compare handle's drag and the handle's animation come here through the
 * reader; each use is an `interact` event. No SDL: tests can drive it with fake metrics.
 *
 * Target ids (DESIGN.md): hotspot/<spot id>, hotspot/all, hotspot/prev, hotspot/next,
 * hotspot/close; compare/before, compare/after, compare/handle; sequence/<i>,
 * sequence/prev, sequence/next; steps/<i>, steps/next, steps/all. */
#ifndef UI_BLOCKS_H
#define UI_BLOCKS_H

#include <stdint.h>

#include "kepu/pack.h"
#include "ui.h"
#include "ui_layout.h"

struct cJSON;
struct scene_env;
struct ui_blocks;

/* The state of every interactive block of topic t, each at its start (no spot open,
 * handle in the middle, first frame, first step). NULL when out of memory. Free with
 * ui_blocks_destroy (NULL is fine). t must outlive it. */
struct ui_blocks *ui_blocks_create(const struct kk_topic *t);
void ui_blocks_destroy(struct ui_blocks *b);

/* Appends to l what the blocks in the slots of page's screen `screen` show now (s is that
 * page's layout; ox, oy where the layout's box sits on the screen). Remembers which
 * blocks are shown for the taps, drags and report that follow. */
void ui_blocks_build(struct ui_blocks *b, struct scene_env *e, const struct ui_screens *s,
                     size_t page, size_t screen, int ox, int oy, const struct ui_page_style *st,
                     struct ui_list *l);

/* A tap on target id: acts on the block shown and returns 1 when id is a block's. */
int ui_blocks_tap(struct ui_blocks *b, struct scene_env *e, const char *id);

/* A finger went down on target id at (x, y): returns 1 when a block takes the drag (the
 * compare handle); then moves come to ui_blocks_drag_move and the end to _drag_end. */
int ui_blocks_drag_begin(struct ui_blocks *b, struct scene_env *e, const char *id, int x, int y);
void ui_blocks_drag_move(struct ui_blocks *b, struct scene_env *e, int x, int y);
void ui_blocks_drag_end(struct ui_blocks *b, struct scene_env *e, int x, int y);

/* Runs the handle's animation: returns ms until it wants to run again (-1: nothing moves)
 * and sets *changed when what is shown moved. */
int ui_blocks_tick(struct ui_blocks *b, uint64_t now, int *changed);

/* Appends one object per block shown to arr (the screen line's "blocks", DESIGN.md). */
void ui_blocks_report(const struct ui_blocks *b, struct cJSON *arr);

/* The wire name of an interactive block type ("hotspots", "compare", "sequence",
 * "steps"), or NULL for the format 1 types. */
const char *ui_blocks_type_name(enum kk_block_type t);

#endif
