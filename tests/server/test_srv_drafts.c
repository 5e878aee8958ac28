/* Unit tests of the content studio's SVG safety check (srv_svg_problem in
 * src/server/srv_drafts.c): scripts, foreignObject, event attributes and references
 * outside the file are refused; references to parts of the same file are not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "srv_drafts.h"

#define SVG(body)                                                                                  \
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">" body "</svg>"

static const char *problem(const char *s)
{
    return srv_svg_problem(s, strlen(s));
}

static void test_refused(void **state)
{
    (void)state;
    assert_non_null(problem(SVG("<script>alert(1)</script>")));
    assert_non_null(problem(SVG("<SCRIPT type=\"text/javascript\"/>")));
    assert_non_null(problem(SVG("<foreignObject><p>x</p></foreignObject>")));
    assert_non_null(problem(SVG("<rect onload=\"x()\"/>")));
    assert_non_null(problem(SVG("<rect\n\tonClick = 'x()'/>")));
    assert_non_null(problem(SVG("<image href=\"http://example.org/a.png\"/>")));
    assert_non_null(problem(SVG("<image xlink:href='file:///etc/passwd'/>")));
    assert_non_null(problem(SVG("<use href=\"other.svg#a\"/>")));
    assert_non_null(problem(SVG("<rect style=\"fill:url(http://x/y)\"/>")));
    assert_non_null(problem(SVG("<rect fill=\"url( 'data:image/png;base64,AAAA')\"/>")));
    assert_non_null(problem(SVG("<style>@import url(#a);</style>")));
    assert_string_equal(problem(SVG("<script/>")), "holds a <script> element");
}

static void test_allowed(void **state)
{
    (void)state;
    assert_null(problem(SVG("<rect width=\"5\" height=\"5\" fill=\"#0a0\"/>")));
    assert_null(problem(SVG("<defs><linearGradient id=\"g\"/></defs><rect fill=\"url(#g)\"/>")));
    assert_null(problem(SVG("<use href=\"#g\"/><use xlink:href='#g'/>")));
    /* Words that only look like attributes or references. */
    assert_null(problem(SVG("<text>only one hrefless line, done</text>")));
    assert_null(problem(SVG("<g id=\"on\" class=\"onward\"/>")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
