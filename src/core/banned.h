/* Force-included into every translation unit (see CMakeLists.txt): the C functions that
 * invite buffer overflows or hidden global state become compile errors. Use snprintf,
 * kk_buf, strtol/kk_parse_int and gmtime_r/localtime_r instead (git's banned.h). */
#ifndef KK_BANNED_H
#define KK_BANNED_H

/* Pull in the declarations first so the macros below cannot break them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KK_BANNED(func) sorry_##func##_is_banned_in_kepu

#undef strcpy
#define strcpy(x, y) KK_BANNED(strcpy)
#undef strcat
#define strcat(x, y) KK_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) KK_BANNED(strncpy)
#undef sprintf
#define sprintf(...) KK_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) KK_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) KK_BANNED(strtok)
#undef atoi
#define atoi(x) KK_BANNED(atoi)
#undef gmtime
#define gmtime(t) KK_BANNED(gmtime)
#undef localtime
#define localtime(t) KK_BANNED(localtime)

#endif
