/* Alerts (issue 17, DESIGN.md "Fleet operations", docs/server.md "Alerts"): the server
 * watches its kiosks and tells the office by webhook (plain JSON, WeCom or DingTalk group
 * robots) and by mail (SMTP through libcurl) when a kiosk is down during its opening
 * hours and when it is back up, when assigned content is not installed after some hours,
 * when a kiosk rolled content back after failed starts and when its disk runs low, with
 * a daily digest of what is still open.
 *
 * Every alert's state lives in the store (srv_store_alert_step), so a restarted server
 * neither raises an open alert again nor forgets to say it is over, and of several
 * servers sharing one store exactly one sends each message. Recipients are set per
 * venue (or for all venues) in the store under "alerts:VENUE" ("alerts:" for all):
 *   {"webhooks":[{"url":"https://…","format":"json|wecom|dingtalk"}],
 *    "emails":["duty@example.org"], "digest_hour":8}
 * digest_hour (0..23, the city's time; null: no digest) sends one message a day from
 * that hour on, listing the open alerts and the kiosks offline of that scope. */
#ifndef SRV_ALERT_H
#define SRV_ALERT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "srv_http.h"
#include "srv_store.h"

#define SRV_ALERT_WEBHOOKS 10 /* per scope */
#define SRV_ALERT_EMAILS   20 /* per scope */
/* How long the office watching a kiosk's page keeps it on 15 s heartbeats. */
#define SRV_WATCH_MS (60 * 1000)
/* A rollback alert stays open (and in the digest) this long: it is an event, not a state. */
#define SRV_ROLLBACK_OPEN_MS (24LL * 3600 * 1000)
#define SRV_DROPPED_OPEN_MS  (24LL * 3600 * 1000) /* an events-dropped alert holds a day */

struct srv_alert_cfg {
    int64_t down_ms;          /* silent this long during opening hours: down (15 min) */
    int64_t not_installed_ms; /* assigned, uploaded, not installed this long (6 h) */
    int64_t check_ms;         /* how often the watcher looks (30 s) */
    int64_t disk_low_mb;      /* below this free: disk low (500; 0: never) */
    const char *smtp_url;     /* smtp://host:port or smtps://…; NULL: mail is not sent */
    const char *mail_from;    /* the sender address (kepu-server@localhost) */
};

/* Fills cfg with the defaults above. */
void srv_alert_cfg_default(struct srv_alert_cfg *cfg);

struct srv_alert;

/* Starts the watcher thread (it looks at once, then every check_ms). cfg's strings must
 * outlive it. KK_ERR_NOMEM or KK_ERR_IO when the thread cannot start. */
enum kk_err srv_alert_start(struct srv_alert **out, struct srv_store *s,
                            const struct srv_alert_cfg *cfg, struct kk_buf *err);
void srv_alert_stop(struct srv_alert *a); /* a may be NULL */

/* One look at every kiosk at now_ms: raises, clears and sends what changed, and the
 * digests that are due. The watcher calls it; exposed for kepu-server alerts check. */
void srv_alert_check(struct srv_store *s, const struct srv_alert_cfg *cfg, int64_t now_ms);

/* Checks a recipients object (see above); err names the field, e.g. "webhooks[1].url". */
enum kk_err srv_alert_recipients_check(const cJSON *r, struct kk_buf *err);

/* The events handler's hook: an "error" event with code "rollback" was stored for the
 * first time. Notes a rollback alert (sent by the watcher's next look). */
void srv_alert_rollback(struct srv_store *s, const char *kiosk, const char *detail, int64_t now_ms);

/* True while someone in the office watches kiosk (POST kiosks/ID/watch, a screenshot
 * fetched) within SRV_WATCH_MS: the heartbeat answer asks for 15 s heartbeats. */
int srv_alert_watched(struct srv_store *s, const char *kiosk, int64_t now_ms);
/* Marks kiosk watched from now_ms. */
enum kk_err srv_alert_watch(struct srv_store *s, const char *kiosk, int64_t now_ms,
                            struct kk_buf *err);

/* Routes (srv_api.c's table). */
void srv_alert_list(struct srv_req *req, struct srv_reply *out); /* GET alerts */
void srv_alert_recipients_post(struct srv_req *req,
                               struct srv_reply *out);                 /* POST alerts/recipients */
void srv_alert_watch_post(struct srv_req *req, struct srv_reply *out); /* POST kiosks/ID/watch */

#endif
