#include "srv_qr.h"

#include <errno.h>
#include <string.h>
#include <qrencode.h>

#define QUIET 4 /* modules of light border on each side (ISO/IEC 18004) */

/* Dark module at (x, y) of the code with its quiet zone; outside is light. */
static int dark(const QRcode *q, int x, int y)
{
    x -= QUIET;
    y -= QUIET;
    return x >= 0 && y >= 0 && x < q->width && y < q->width && (q->data[y * q->width + x] & 1);
}

enum kk_err srv_qr_print(FILE *f, const char *text, struct kk_buf *err)
{
    errno = 0;
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q)
        return errno == ENOMEM
                   ? kk_fail(err, KK_ERR_NOMEM, "QR code: out of memory")
                   : kk_fail(err, KK_ERR_TOOBIG, "QR code: %zu bytes do not fit one", strlen(text));
    /* A terminal draws light text on dark more often than not, so the light modules are
     * the drawn ones (full, upper and lower half blocks) and the dark ones are spaces. */
    int size = q->width + 2 * QUIET;
    for (int y = 0; y < size; y += 2) {
        for (int x = 0; x < size; x++) {
            int top = !dark(q, x, y), bottom = y + 1 < size ? !dark(q, x, y + 1) : 1;
            fputs(top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ", f);
        }
        fputc('\n', f);
    }
    QRcode_free(q);
    return KK_OK;
}
