/* UTF-8 checks for untrusted text. */
#ifndef KEPU_UTF8_H
#define KEPU_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* True when s[0..len) is valid UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
int kk_utf8_valid(const char *s, size_t len);

/* Decodes the code point at s[*pos] (s valid UTF-8, *pos < len) and advances *pos. */
uint32_t kk_utf8_next(const char *s, size_t len, size_t *pos);

#endif
