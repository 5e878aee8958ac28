/* A QR code drawn with text, for a terminal: `kepu-server kiosk enrol --url` prints the
 * kiosk's enrol command as one, so staff can carry it to the kiosk on a phone. */
#ifndef SRV_QR_H
#define SRV_QR_H

#include <stdio.h>

#include "kepu/buf.h"
#include "kepu/error.h"

/* Writes text as a QR code (error correction M) to f, two modules per character cell with
 * Unicode half blocks, dark on light with the quiet zone the standard asks for.
 * KK_ERR_TOOBIG when text does not fit a QR code, KK_ERR_NOMEM. */
enum kk_err srv_qr_print(FILE *f, const char *text, struct kk_buf *err);

#endif
