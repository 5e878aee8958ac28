/* Fleet operations (issue 17, DESIGN.md "Fleet operations", docs/server.md): tags,
 * commands and screenshots, the remote settings overlay, opening hours and notices, all
 * over the kiosk's heartbeat. The office's routes are in srv_fleet_routes; the heartbeat
 * handler (srv_api.c) calls srv_fleet_heartbeat_in before storing a heartbeat and
 * srv_fleet_heartbeat_out to add the fleet's part of its answer. */
#ifndef SRV_FLEET_H
#define SRV_FLEET_H

#include <cjson/cJSON.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "srv_http.h"
#include "srv_store.h"

/* A kiosk asked to come back this soon while commands wait for it. */
#define SRV_FLEET_BUSY_HEARTBEAT_S 15
/* A command's default and longest life. */
#define SRV_COMMAND_DEFAULT_S (60 * 60)
#define SRV_COMMAND_MAX_S     (7 * 24 * 60 * 60)
/* A screenshot upload's cap, and a done detail's (a logs result is cut to it). */
#define SRV_SCREENSHOT_MAX (4u * 1024 * 1024)
#define SRV_DETAIL_MAX     (32u * 1024)

/* Checks the heartbeat body's "state" ("open", "sleeping" or absent: *state NULL) and
 * "done" (at most 64 {"id","ok","detail"}), and marks each done command of kiosk (a
 * repeat is ignored: each is done once). 0 with a 400 in out when the body is bad. */
int srv_fleet_heartbeat_in(struct srv_store *s, const char *kiosk, const cJSON *root,
                           const char **state, int64_t now_ms, struct srv_reply *out);
/* Adds "commands", "config", "notices", "hours" and, while commands wait,
 * "next_heartbeat_s" to answer. */
enum kk_err srv_fleet_heartbeat_out(struct srv_store *s, const char *kiosk, cJSON *answer,
                                    int64_t now_ms, struct kk_buf *err);

/* Checks one settings overlay key and its JSON value with the kiosk's own config checks;
 * on KK_OK text gets the value as the kiosk.conf text. err names key and value. */
enum kk_err srv_fleet_setting_check(const char *key, const cJSON *value, struct kk_buf *text,
                                    struct kk_buf *err);
/* Checks opening hours {"tz","week":[7 days of [["HH:MM","HH:MM"]…]],"closed":["YYYY-MM-DD"…]}. */
enum kk_err srv_fleet_hours_check(const cJSON *hours, struct kk_buf *err);
/* Checks a command type and makes its args (NULL: {}) JSON text into args_text. */
enum kk_err srv_fleet_command_check(const char *type, const cJSON *args, struct kk_buf *args_text,
                                    struct kk_buf *err);
/* A new random command or notice id: 32 hex digits. */
void srv_fleet_id_new(char out[33]);

/* The routes (srv_api.c's table; docs/server.md has each with an example). */
void srv_fleet_kiosk_tags(struct srv_req *req, struct srv_reply *out);   /* POST kiosks/ID/tags */
void srv_fleet_tags(struct srv_req *req, struct srv_reply *out);         /* GET tags */
void srv_fleet_command_post(struct srv_req *req, struct srv_reply *out); /* POST commands */
void srv_fleet_command_list(struct srv_req *req, struct srv_reply *out); /* GET commands */
void srv_fleet_screenshot_put(struct srv_req *req, struct srv_reply *out);
void srv_fleet_screenshot_get(struct srv_req *req, struct srv_reply *out);
void srv_fleet_settings_post(struct srv_req *req, struct srv_reply *out);
void srv_fleet_settings_list(struct srv_req *req, struct srv_reply *out);
void srv_fleet_hours_post(struct srv_req *req, struct srv_reply *out); /* POST venues/ID/hours */
void srv_fleet_notice_post(struct srv_req *req, struct srv_reply *out);
void srv_fleet_notice_list(struct srv_req *req, struct srv_reply *out);
void srv_fleet_notice_delete(struct srv_req *req, struct srv_reply *out);

#endif
