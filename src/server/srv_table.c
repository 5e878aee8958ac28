#include "srv_table.h"

#include <stdio.h>
#include <string.h>

#include "kepu/alloc.h"

enum kk_err srv_table_init(struct srv_table *t, const char *const *columns, size_t n)
{
    memset(t, 0, sizeof(*t));
    t->columns = kk_calloc(n, sizeof(char *));
    if (!t->columns)
        return KK_ERR_NOMEM;
    t->ncolumns = n;
    for (size_t i = 0; i < n; i++) {
        t->columns[i] = kk_strdup(columns[i]);
        if (!t->columns[i]) {
            srv_table_release(t);
            return KK_ERR_NOMEM;
        }
    }
    return KK_OK;
}

void srv_table_release(struct srv_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncolumns; i++)
        kk_free(t->cells[i].s);
    kk_free(t->cells);
    for (size_t i = 0; i < t->ncolumns; i++)
        kk_free(t->columns ? t->columns[i] : NULL);
    kk_free(t->columns);
    memset(t, 0, sizeof(*t));
}

struct srv_cell *srv_table_add_row(struct srv_table *t)
{
    if (t->nrows == t->alloc_rows) {
        size_t n = t->alloc_rows ? t->alloc_rows * 2 : 16;
        struct srv_cell *c = kk_reallocarray(t->cells, n * t->ncolumns, sizeof(*c));
        if (!c)
            return NULL;
        t->cells = c;
        t->alloc_rows = n;
    }
    struct srv_cell *row = t->cells + t->nrows * t->ncolumns;
    memset(row, 0, t->ncolumns * sizeof(*row));
    t->nrows++;
    return row;
}

enum kk_err srv_cell_set_text(struct srv_cell *c, const char *s)
{
    char *copy = kk_strdup(s ? s : "");
    if (!copy)
        return KK_ERR_NOMEM;
    kk_free(c->s);
    c->s = copy;
    c->kind = SRV_CELL_TEXT;
    return KK_OK;
}

static cJSON *cell_json(const struct srv_cell *c)
{
    switch (c->kind) {
    case SRV_CELL_NULL:
        return cJSON_CreateNull();
    case SRV_CELL_INT:
        return cJSON_CreateNumber((double)c->i);
    case SRV_CELL_REAL:
        return cJSON_CreateNumber(c->r);
    case SRV_CELL_TEXT:
        return cJSON_CreateString(c->s ? c->s : "");
    }
    return NULL;
}

cJSON *srv_table_to_json(const struct srv_table *t)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *cols = cJSON_AddArrayToObject(root, "columns");
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    if (!root || !cols || !rows)
        goto fail;
    for (size_t i = 0; i < t->ncolumns; i++) {
        cJSON *s = cJSON_CreateString(t->columns[i]);
        if (!s || !cJSON_AddItemToArray(cols, s))
            goto fail;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        cJSON *row = cJSON_CreateArray();
        if (!row || !cJSON_AddItemToArray(rows, row))
            goto fail;
        for (size_t i = 0; i < t->ncolumns; i++) {
            cJSON *v = cell_json(&t->cells[r * t->ncolumns + i]);
            if (!v || !cJSON_AddItemToArray(row, v))
                goto fail;
        }
    }
    return root;
fail:
    cJSON_Delete(root);
    return NULL;
}

/* Quotes a field when it holds a comma, quote, CR or LF; doubles the quotes inside. A
 * leading = + - @ TAB or CR is prefixed with ' so a spreadsheet never runs it as a
 * formula (OWASP's CSV injection list: a spreadsheet skips a leading TAB or CR and then
 * reads the formula after it). */
static enum kk_err csv_field(struct kk_buf *out, const char *s)
{
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    enum kk_err rc = KK_OK;
    if (quote)
        rc = kk_buf_adds(out, "\"");
    if (!rc && s[0] && strchr("=+-@\t\r", s[0]))
        rc = kk_buf_adds(out, "'");
    for (const char *p = s; !rc && *p; p++)
        rc = *p == '"' ? kk_buf_adds(out, "\"\"") : kk_buf_add(out, p, 1);
    if (!rc && quote)
        rc = kk_buf_adds(out, "\"");
    return rc;
}

enum kk_err srv_table_to_csv(const struct srv_table *t, struct kk_buf *out)
{
    enum kk_err rc = kk_buf_adds(out, "\xEF\xBB\xBF");
    for (size_t i = 0; !rc && i < t->ncolumns; i++) {
        if (i)
            rc = kk_buf_adds(out, ",");
        if (!rc)
            rc = csv_field(out, t->columns[i]);
    }
    if (!rc)
        rc = kk_buf_adds(out, "\r\n");
    for (size_t r = 0; !rc && r < t->nrows; r++) {
        for (size_t i = 0; !rc && i < t->ncolumns; i++) {
            const struct srv_cell *c = &t->cells[r * t->ncolumns + i];
            if (i)
                rc = kk_buf_adds(out, ",");
            if (rc)
                break;
            switch (c->kind) {
            case SRV_CELL_NULL:
                break;
            case SRV_CELL_INT:
                rc = kk_buf_addf(out, "%lld", (long long)c->i);
                break;
            case SRV_CELL_REAL:
                rc = kk_buf_addf(out, "%.4f", c->r);
                break;
            case SRV_CELL_TEXT:
                rc = csv_field(out, c->s ? c->s : "");
                break;
            }
        }
        if (!rc)
            rc = kk_buf_adds(out, "\r\n");
    }
    return rc;
}

cJSON *srv_table_to_objects(const struct srv_table *t)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t r = 0; a && r < t->nrows; r++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(a, o)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            return NULL;
        }
        for (size_t c = 0; c < t->ncolumns; c++) {
            const struct srv_cell *x = &t->cells[r * t->ncolumns + c];
            cJSON *v = x->kind == SRV_CELL_TEXT   ? cJSON_CreateString(x->s)
                       : x->kind == SRV_CELL_INT  ? cJSON_CreateNumber((double)x->i)
                       : x->kind == SRV_CELL_REAL ? cJSON_CreateNumber(x->r)
                                                  : cJSON_CreateNull();
            if (!v || !cJSON_AddItemToObject(o, t->columns[c], v)) {
                cJSON_Delete(v);
                cJSON_Delete(a);
                return NULL;
            }
        }
    }
    return a;
}
