/* kepu-server migrate: copies an office's SQLite store into an empty PostgreSQL store,
 * table by table, in one PostgreSQL transaction (nothing is kept when anything fails),
 * then compares both: row counts of every table and the sums of every rollup and day
 * total column. The SQLite file is read in one read transaction (a consistent snapshot
 * even while a server keeps writing to it); the packs' files in the blob folder are
 * shared, not copied. */
#ifndef SRV_MIGRATE_H
#define SRV_MIGRATE_H

#include <stdio.h>

#include "kepu/buf.h"
#include "kepu/error.h"

/* Copies sqlite_path (its schema brought up to date first) to the PostgreSQL database at
 * pg_url (libpq's URI; its schema is created). data_dir is the blob folder both use.
 * Writes one line per table to report (may be NULL). Errors: KK_ERR_EXISTS when the
 * target already holds venues, kiosks, users, packs or events; KK_ERR_DB for a database
 * failure or when the comparison finds a difference (named); KK_ERR_NOMEM. */
enum kk_err srv_migrate(const char *sqlite_path, const char *pg_url, const char *data_dir,
                        FILE *report, struct kk_buf *err);

#endif
