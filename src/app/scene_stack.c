#include "scene_stack.h"

#include <string.h>

#include "kepu/alloc.h"
#include "kepu/log.h"

void scene_stack_init(struct scene_stack *st, struct scene_env *env)
{
    memset(st, 0, sizeof(*st));
    st->pending_depth = -1;
    st->env = env;
}

static void take_off(struct scene_stack *st, int i)
{
    struct scene_slot *s = &st->v[i];
    if (s->cls->leave)
        s->cls->leave(st->env, s->self);
    kk_free(s->self);
    s->self = NULL;
    s->cls = NULL;
}

void scene_stack_release(struct scene_stack *st)
{
    for (int i = st->depth - 1; i >= 0; i--)
        take_off(st, i);
    st->depth = 0;
    st->pending_depth = -1;
}

static void begin_change(struct scene_stack *st)
{
    if (st->pending_depth < 0) {
        for (int i = 0; i < st->depth; i++)
            st->pending[i] = st->v[i].cls;
        st->pending_depth = st->depth;
    }
}

void scene_stack_push(struct scene_stack *st, const struct scene *s)
{
    begin_change(st);
    if (st->pending_depth == SCENE_STACK_MAX)
        KK_BUG("scene stack overflow pushing %s", s->name);
    st->pending[st->pending_depth++] = s;
}

void scene_stack_pop(struct scene_stack *st)
{
    begin_change(st);
    if (st->pending_depth > 1)
        st->pending_depth--;
}

void scene_stack_reset(struct scene_stack *st, const struct scene *s)
{
    begin_change(st);
    st->pending[0] = s;
    st->pending_depth = 1;
}

int scene_stack_switching(const struct scene_stack *st)
{
    return st->pending_depth >= 0;
}

int scene_stack_apply(struct scene_stack *st)
{
    if (st->pending_depth < 0)
        return 0;
    const struct scene *old_top = st->depth ? st->v[st->depth - 1].cls : NULL;
    int keep = 0; /* scenes at the bottom of both stacks stay */
    while (keep < st->depth && keep < st->pending_depth && st->v[keep].cls == st->pending[keep])
        keep++;
    for (int i = st->depth - 1; i >= keep; i--)
        take_off(st, i);
    int want = st->pending_depth;
    st->depth = keep;
    st->pending_depth = -1;
    for (int i = keep; i < want; i++) {
        const struct scene *s = st->pending[i];
        void *self = kk_calloc(1, s->size ? s->size : 1);
        if (!self) {
            kk_error("scene", "out of memory opening %s", s->name);
            break;
        }
        st->v[i] = (struct scene_slot){s, self};
        st->depth = i + 1;
        if (s->enter)
            s->enter(st->env, self);
    }
    if (!st->depth)
        KK_BUG("no scene left on the stack");
    const struct scene_slot *top = &st->v[st->depth - 1];
    if (top->cls != old_top) {
        kk_info("scene", "%s -> %s", old_top ? old_top->name : "(start)", top->cls->name);
        if (st->depth <= keep && top->cls->uncover)
            top->cls->uncover(st->env, top->self);
    }
    st->dirty = 1;
    /* A scene's enter may ask for another switch (the quiz when it cannot start). */
    if (st->pending_depth >= 0)
        scene_stack_apply(st);
    return 1;
}

const struct scene *scene_stack_top(const struct scene_stack *st)
{
    return st->depth ? st->v[st->depth - 1].cls : NULL;
}

void *scene_stack_top_self(const struct scene_stack *st)
{
    return st->depth ? st->v[st->depth - 1].self : NULL;
}

const struct scene *scene_stack_below(const struct scene_stack *st, int n)
{
    return n >= 0 && n < st->depth ? st->v[st->depth - 1 - n].cls : NULL;
}

int scene_stack_depth(const struct scene_stack *st)
{
    return st->depth;
}

void scene_stack_invalidate(struct scene_stack *st)
{
    st->dirty = 1;
}
