#include "pack_findings.h"

#include <string.h>

#include "kepu/alloc.h"

int pack_check_is_translation(const struct kk_diag *d)
{
    return d->severity == KK_SEV_WARNING && d->message && strstr(d->message, "missing English");
}

void pack_check_release(struct pack_check *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nshots; i++) {
        kk_free(c->shots[i].path);
        kk_free(c->shots[i].topic);
        kk_free(c->shots[i].question);
        kk_free(c->shots[i].overflow);
        kk_free(c->shots[i].shortened);
    }
    kk_free(c->shots);
    for (size_t i = 0; i < c->nsmall; i++) {
        kk_free(c->small[i].src);
        kk_free(c->small[i].topic);
    }
    kk_free(c->small);
    for (size_t i = 0; i < c->nlow; i++) {
        kk_free(c->low[i].text);
        kk_free(c->low[i].shot);
    }
    kk_free(c->low);
    c->low = NULL;
    c->nlow = c->alow = 0;
    kk_buf_release(&c->failure);
    c->shots = NULL;
    c->small = NULL;
    c->nshots = c->ashots = c->nsmall = c->asmall = 0;
}
