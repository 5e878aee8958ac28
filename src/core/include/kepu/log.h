/* Structured log lines for operators: one line per record on stderr, as
 *   2026-11-26T10:00:00.123Z info scene: entered menu lang=zh
 * Core modules return errors rather than log; the programs log. The one exception is the
 * sync thread (sync.h), which has no caller to return to and logs each cause once.
 * Thread-safe. */
#ifndef KEPU_LOG_H
#define KEPU_LOG_H

#include "kepu/buf.h"

enum kk_log_level { KK_LOG_DEBUG, KK_LOG_INFO, KK_LOG_WARN, KK_LOG_ERROR };

/* Records below level are dropped. Default: KK_LOG_INFO, or KEPU_LOG=debug|info|warn|error. */
void kk_log_set_level(enum kk_log_level level);
void kk_log(enum kk_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define kk_debug(mod, ...) kk_log(KK_LOG_DEBUG, mod, __VA_ARGS__)
#define kk_info(mod, ...)  kk_log(KK_LOG_INFO, mod, __VA_ARGS__)
#define kk_warn(mod, ...)  kk_log(KK_LOG_WARN, mod, __VA_ARGS__)
#define kk_error(mod, ...) kk_log(KK_LOG_ERROR, mod, __VA_ARGS__)

/* Appends the last n records logged (at most KK_FLEET_LOG_LINES, each cut at 511 bytes),
 * oldest first, one per line: the office's "logs" command. */
void kk_log_tail(struct kk_buf *out, unsigned n);

/* Impossible states: abort loudly with file and line (git's BUG()). */
#define KK_BUG(...) kk_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void kk_bug(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
