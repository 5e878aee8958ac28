/* Scenes and the stack that switches them (LVGL's screens and widget classes are the
 * model). A scene is a table of functions plus the size of its own state: the stack
 * allocates that state (zeroed) when the scene comes on, calls enter, and calls leave and
 * frees it when the scene goes. A switch is only asked for from a handler (push, pop,
 * reset) and applied by the host after the handler returns, so a scene is never destroyed
 * from inside its own handler. */
#ifndef SCENE_STACK_H
#define SCENE_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "ui.h"

struct cJSON;
struct scene_env; /* what every scene is given (scene_env.h) */

/* The phases of a drag (a finger that went down on a target and moves). */
enum scene_drag { SCENE_DRAG_BEGIN, SCENE_DRAG_MOVE, SCENE_DRAG_END };

struct scene {
    const char *name; /* as reported on the automation channel */
    size_t size;      /* bytes of the scene's own state (self), allocated zeroed */
    /* The scene comes on (self is new). */
    void (*enter)(struct scene_env *e, void *self);
    /* The scene goes (self is freed right after). */
    void (*leave)(struct scene_env *e, void *self);
    /* Optional: the scene above was taken off; this one is on top again. */
    void (*uncover)(struct scene_env *e, void *self);
    /* Describes the screen below the top bar into l (box = the content area). */
    void (*build)(struct scene_env *e, void *self, struct ui_list *l, struct ui_rect box);
    /* A target of this scene was tapped. */
    void (*tap)(struct scene_env *e, void *self, const char *id);
    /* A horizontal swipe: dir -1 = towards the previous, +1 = towards the next. */
    void (*swipe)(struct scene_env *e, void *self, int dir);
    /* Optional: a finger went down on target id at (x, y) (SCENE_DRAG_BEGIN: return 1 to
     * take the drag; then it is neither a tap nor a swipe), moved (MOVE) or lifted (END).
     * Dragging is always a shortcut: every drag target also works by taps. */
    int (*drag)(struct scene_env *e, void *self, enum scene_drag phase, const char *id, int x,
                int y);
    /* Time passed; returns ms until it wants to be called again, or -1 for never. */
    int (*tick)(struct scene_env *e, void *self, uint64_t now);
    /* Optional: warm the caches for what is likely shown next (called when idle). */
    void (*prepare)(struct scene_env *e, void *self);
    /* Optional: adds this scene's own keys to the automation channel's screen object. */
    void (*report)(struct scene_env *e, const void *self, struct cJSON *screen);
    int chrome; /* draw the top bar with home/back/language/large text */
    int staff;  /* a staff screen: no visitor session, but it still times out */
    int back;   /* the top bar has a back button */
};

#define SCENE_STACK_MAX 8

struct scene_slot {
    const struct scene *cls;
    void *self;
};

struct scene_stack {
    struct scene_slot v[SCENE_STACK_MAX];
    int depth;
    const struct scene *pending[SCENE_STACK_MAX];
    int pending_depth; /* -1: no switch asked for */
    struct scene_env *env;
    int dirty; /* the screen must be rebuilt */
};

/* An empty stack whose scenes get env. */
void scene_stack_init(struct scene_stack *st, struct scene_env *env);
/* Takes every scene off now (leave, free). Only outside a scene's handler. */
void scene_stack_release(struct scene_stack *st);

/* Switches asked for, applied by scene_stack_apply. */
void scene_stack_push(struct scene_stack *st, const struct scene *s);
void scene_stack_pop(struct scene_stack *st);                          /* never below one scene */
void scene_stack_reset(struct scene_stack *st, const struct scene *s); /* just s */
int scene_stack_switching(const struct scene_stack *st);

/* Applies the switch asked for: scenes at the bottom of both the old and the new stack
 * stay as they are; the others leave (top first) and the new ones are created and
 * entered (bottom first); a scene uncovered as the new top is told so. Returns 1 when
 * the stack changed. A scene whose state cannot be allocated is left out (logged), with
 * the scenes that were to come above it. */
int scene_stack_apply(struct scene_stack *st);

/* The top scene and its state; the one n below the top (NULL when there is none). */
const struct scene *scene_stack_top(const struct scene_stack *st);
void *scene_stack_top_self(const struct scene_stack *st);
const struct scene *scene_stack_below(const struct scene_stack *st, int n);
int scene_stack_depth(const struct scene_stack *st);

/* Marks the screen for rebuilding (what a scene shows changed). */
void scene_stack_invalidate(struct scene_stack *st);

#endif
