/* The sync client's parsers of server answers, exposed for the fuzz targets
 * (tests/fuzz/fuzz_sync.c) and nothing else; the client itself calls them internally. */
#ifndef KEPU_SYNC_PRIVATE_H
#define KEPU_SYNC_PRIVATE_H

#include <stddef.h>

#include "kepu/buf.h"
#include "kepu/error.h"

/* Reads body[0..len) as every answer the client reads: a heartbeat's assignment, the answer
 * to a batch of the n events whose ids are ids[0..n), and an error answer's message. Returns
 * the first parser's error (KK_ERR_NET, as the client reports an unusable answer) with its
 * message in err, or KK_OK when the body is a good answer to both. */
enum kk_err kk_sync_parse_answers(const char *body, size_t len, char *const *ids, size_t n,
                                  struct kk_buf *err);

#endif
