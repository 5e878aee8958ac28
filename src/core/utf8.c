#include "kepu/utf8.h"

/* Length of the sequence a lead byte starts, 0 for a byte that cannot lead. */
static int seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef)
        return 3;
    if (c >= 0xf0 && c <= 0xf4)
        return 4;
    return 0;
}

int kk_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        int n = seq_len(p[i]);
        if (n == 0 || (size_t)n > len - i)
            return 0;
        for (int k = 1; k < n; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
        /* Overlong three- and four-byte forms, surrogates, and values past U+10FFFF. */
        if (n == 3 && ((p[i] == 0xe0 && p[i + 1] < 0xa0) || (p[i] == 0xed && p[i + 1] > 0x9f)))
            return 0;
        if (n == 4 && ((p[i] == 0xf0 && p[i + 1] < 0x90) || (p[i] == 0xf4 && p[i + 1] > 0x8f)))
            return 0;
        i += (size_t)n;
    }
    return 1;
}

uint32_t kk_utf8_next(const char *s, size_t len, size_t *pos)
{
    const unsigned char *p = (const unsigned char *)s + *pos;
    size_t left = len - *pos;
    int n = seq_len(p[0]);
    if (n == 0 || (size_t)n > left) { /* not valid: consume one byte as U+FFFD */
        (*pos)++;
        return 0xfffd;
    }
    uint32_t cp = n == 1 ? p[0] : (uint32_t)(p[0] & (0xff >> (n + 1)));
    for (int k = 1; k < n; k++)
        cp = (cp << 6) | (p[k] & 0x3f);
    *pos += (size_t)n;
    return cp;
}
