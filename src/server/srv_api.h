/* The routes of kepu-server's HTTP API (DESIGN.md "HTTP API of kepu-server"): one row
 * per route with who may call it and its body limit, one handler function per route. */
#ifndef SRV_API_H
#define SRV_API_H

#include <stddef.h>

#include "srv_http.h"

extern const struct srv_route srv_api_routes[];
extern const size_t srv_api_nroutes;

/* Office sessions last this long. */
#define SRV_SESSION_MS (12LL * 3600 * 1000)

#endif
