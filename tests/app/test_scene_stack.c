/* The scene stack (src/app/scene_stack.c): a scene's state is allocated zeroed when it
 * comes on and freed after its leave; switches wait for scene_stack_apply; scenes at the
 * bottom of both stacks stay (a pop uncovers the one below, which keeps its state); a
 * scene whose enter asks for a switch gets it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "scene_stack.h"

struct counter {
    int value;
};

static char trace[512];

static void note(const char *what, const char *name)
{
    size_t n = strlen(trace);
    snprintf(trace + n, sizeof(trace) - n, "%s%s:%s", n ? " " : "", what, name);
}

#define SCENE(x)                                                                                   \
    static void x##_enter(struct scene_env *e, void *self)                                         \
    {                                                                                              \
        (void)e;                                                                                   \
        struct counter *c = self;                                                                  \
        assert_int_equal(c->value, 0);                                                             \
        c->value = 1;                                                                              \
        note("enter", #x);                                                                         \
    }                                                                                              \
    static void x##_leave(struct scene_env *e, void *self)                                         \
    {                                                                                              \
        (void)e;                                                                                   \
        (void)self;                                                                                \
        note("leave", #x);                                                                         \
    }                                                                                              \
    static void x##_uncover(struct scene_env *e, void *self)                                       \
    {                                                                                              \
        (void)e;                                                                                   \
        ((struct counter *)self)->value++;                                                         \
        note("uncover", #x);                                                                       \
    }                                                                                              \
    static const struct scene x = {.name = #x,                                                     \
                                   .size = sizeof(struct counter),                                 \
                                   .enter = x##_enter,                                             \
                                   .leave = x##_leave,                                             \
                                   .uncover = x##_uncover}

SCENE(a);
SCENE(b);
SCENE(c);

static void test_push_pop_reset(void **state)
{
    (void)state;
    trace[0] = '\0';
    struct scene_stack st;
    scene_stack_init(&st, NULL);
    scene_stack_reset(&st, &a);
    assert_int_equal(scene_stack_depth(&st), 0); /* nothing before apply */
    assert_true(scene_stack_switching(&st));
    assert_int_equal(scene_stack_apply(&st), 1);
    assert_ptr_equal(scene_stack_top(&st), &a);
    struct counter *sa = scene_stack_top_self(&st);
    assert_int_equal(sa->value, 1);
    sa->value = 41;
    scene_stack_push(&st, &b);
    scene_stack_push(&st, &c);
    scene_stack_apply(&st);
    assert_int_equal(scene_stack_depth(&st), 3);
    assert_ptr_equal(scene_stack_below(&st, 1), &b);
    assert_ptr_equal(scene_stack_below(&st, 2), &a);
    assert_null(scene_stack_below(&st, 3));
    /* Popped: c and b leave, top first; a is uncovered with its state kept. */
    scene_stack_pop(&st);
    scene_stack_pop(&st);
    scene_stack_pop(&st); /* never below one scene */
    scene_stack_apply(&st);
    assert_int_equal(scene_stack_depth(&st), 1);
    assert_ptr_equal(scene_stack_top_self(&st), sa);
    assert_int_equal(sa->value, 42);
    assert_string_equal(trace, "enter:a enter:b enter:c leave:c leave:b uncover:a");
    /* A reset to the same bottom scene keeps it; another replaces it. */
    trace[0] = '\0';
    scene_stack_reset(&st, &a);
    scene_stack_push(&st, &b);
    scene_stack_apply(&st);
    assert_ptr_equal(scene_stack_below(&st, 1), &a);
    assert_string_equal(trace, "enter:b");
    trace[0] = '\0';
    scene_stack_reset(&st, &c);
    scene_stack_apply(&st);
    assert_string_equal(trace, "leave:b leave:a enter:c");
    trace[0] = '\0';
    scene_stack_release(&st);
    assert_int_equal(scene_stack_depth(&st), 0);
    assert_string_equal(trace, "leave:c");
}

static void test_apply_without_switch(void **state)
{
    (void)state;
    struct scene_stack st;
    scene_stack_init(&st, NULL);
    scene_stack_reset(&st, &a);
    scene_stack_apply(&st);
    st.dirty = 0;
    assert_int_equal(scene_stack_apply(&st), 0);
    assert_int_equal(st.dirty, 0);
    scene_stack_invalidate(&st);
    assert_int_equal(st.dirty, 1);
    scene_stack_release(&st);
}

/* A scene that cannot open asks for a pop from its enter: it is gone after one apply. */
static struct scene_stack *bouncer_stack;

static void bouncer_enter(struct scene_env *e, void *self)
{
    (void)e;
    (void)self;
    scene_stack_pop(bouncer_stack);
}

static const struct scene bouncer = {.name = "bouncer", .enter = bouncer_enter};

static void test_enter_may_switch(void **state)
{
    (void)state;
    trace[0] = '\0';
    struct scene_stack st;
    scene_stack_init(&st, NULL);
    bouncer_stack = &st;
    scene_stack_reset(&st, &a);
    scene_stack_push(&st, &bouncer);
    scene_stack_apply(&st);
    assert_ptr_equal(scene_stack_top(&st), &a);
    assert_int_equal(scene_stack_depth(&st), 1);
    assert_false(scene_stack_switching(&st));
    assert_string_equal(trace, "enter:a uncover:a");
    scene_stack_release(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_pop_reset),
        cmocka_unit_test(test_apply_without_switch),
        cmocka_unit_test(test_enter_may_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
