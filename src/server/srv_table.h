/* A small result table: named columns and rows of cells, each a text or an integer.
 * The store fills it; the HTTP layer renders it as JSON or CSV without knowing which
 * query made it. */
#ifndef SRV_TABLE_H
#define SRV_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "kepu/buf.h"
#include "kepu/error.h"

enum srv_cell_kind { SRV_CELL_NULL, SRV_CELL_INT, SRV_CELL_REAL, SRV_CELL_TEXT };

struct srv_cell {
    enum srv_cell_kind kind;
    int64_t i;
    double r;
    char *s; /* owned, for SRV_CELL_TEXT */
};

struct srv_table {
    char **columns; /* owned */
    size_t ncolumns;
    struct srv_cell *cells; /* row-major, nrows * ncolumns */
    size_t nrows, alloc_rows;
};

/* Prepares t with the given column names (copied). Release with srv_table_release. */
enum kk_err srv_table_init(struct srv_table *t, const char *const *columns, size_t n);
void srv_table_release(struct srv_table *t); /* t may be NULL */
/* Appends a row of NULL cells and returns it (ncolumns cells), or NULL when out of memory. */
struct srv_cell *srv_table_add_row(struct srv_table *t);
enum kk_err srv_cell_set_text(struct srv_cell *c, const char *s);

/* {"columns":[...],"rows":[[...],...]}; a new object to free with cJSON_Delete, or NULL. */
cJSON *srv_table_to_json(const struct srv_table *t);
/* [{column: value, ...}, ...]: one object per row; a new array to free with cJSON_Delete,
 * or NULL when out of memory. */
cJSON *srv_table_to_objects(const struct srv_table *t);
/* RFC 4180 CSV with a UTF-8 byte-order mark (so Excel reads Chinese), CRLF line ends. */
enum kk_err srv_table_to_csv(const struct srv_table *t, struct kk_buf *out);

#endif
