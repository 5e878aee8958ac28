/* The office dashboard's static files: src/server/web (or --web DIR) served at "/", and
 * the chart library read from the Debian package's path at run time (never copied into
 * the repository) at /vendor/chart.js. Only flat file names from a fixed list of types
 * are served; anything else is 404. */
#ifndef SRV_WEB_H
#define SRV_WEB_H

#include "srv_http.h"

/* Where Debian's libjs-chart.js keeps the UMD build the dashboard loads. */
#define SRV_CHARTJS_PATH "/usr/share/javascript/chart.js/chart.min.js"

/* Sets the folder the dashboard is served from (copied). Called once at start-up, before
 * serving. Without a call the build's source folder (KK_SERVER_WEB_DIR) is used. */
void srv_web_set_dir(const char *dir);

/* GET /: the dashboard's index.html. */
void srv_web_index(struct srv_req *req, struct srv_reply *out);
/* GET /NAME: one file of the web folder. */
void srv_web_file(struct srv_req *req, struct srv_reply *out);
/* GET /vendor/NAME: a library from a Debian package. */
void srv_web_vendor(struct srv_req *req, struct srv_reply *out);

#endif
