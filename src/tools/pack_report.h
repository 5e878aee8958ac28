/* The report of `kepu-pack check`: REPORT/index.html (a contact sheet for the staff who
 * proof-read a pack) and REPORT/report.json (the same findings for scripts). */
#ifndef KEPU_TOOLS_PACK_REPORT_H
#define KEPU_TOOLS_PACK_REPORT_H

#include "kepu/buf.h"
#include "kepu/error.h"
#include "pack_findings.h"

/* Writes c->report/index.html and c->report/report.json (pack_report.c). Errors: KK_ERR_IO,
 * KK_ERR_NOMEM. */
enum kk_err pack_report_write(const struct pack_check *c, struct kk_buf *err);

#endif
