/* POST /api/v1/drafts/{id}/preview (docs/studio.md): a draft's page or question drawn by
 * the real kepu-kiosk, started as a separate process under --automation for each preview,
 * answered as image/png. At most SRV_PREVIEW_RUNNING run at once and SRV_PREVIEW_QUEUE
 * wait; past that the answer is 503 with Retry-After. Each preview has a hard deadline
 * (504, the kiosk killed); a draft that fails validation gets 422 with its messages. */
#ifndef SRV_PREVIEW_H
#define SRV_PREVIEW_H

#include "srv_http.h"

#define SRV_PREVIEW_RUNNING    2
#define SRV_PREVIEW_QUEUE      2 /* each waiting one holds a server thread */
#define SRV_PREVIEW_TIMEOUT_MS 10000

/* The kepu-kiosk program previews run (kepu-server serve --kiosk-bin); without it the one
 * beside kepu-server (../app/kepu-kiosk in the build tree, or the same folder). */
void srv_preview_set_kiosk(const char *path);

void srv_preview(struct srv_req *req, struct srv_reply *out);

#endif
