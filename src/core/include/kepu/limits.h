/* Every size limit of the project, in one place. Untrusted input above these is refused
 * with KK_ERR_TOOBIG and a message naming the file and field. */
#ifndef KEPU_LIMITS_H
#define KEPU_LIMITS_H

#define KK_MAX_JSON_FILE_BYTES  (4u * 1024 * 1024)  /* pack.json, one topic file, MANIFEST */
#define KK_MAX_CONFIG_BYTES     (64u * 1024)        /* kiosk.conf */
#define KK_MAX_IMAGE_FILE_BYTES (16u * 1024 * 1024) /* one PNG, JPEG or SVG */
/* One narration file (kepu/audioprobe.h): five minutes of speech is about 2.4 MB as
 * 64 kbit/s Ogg Vorbis; the limit leaves room for a higher bit rate, not for music. */
#define KK_MAX_AUDIO_FILE_BYTES (8u * 1024 * 1024)
#define KK_MAX_AUDIO_MS         (5L * 60 * 1000) /* one narration, 5 minutes */
#define KK_MAX_IMAGE_DIM        8192             /* width or height, in pixels */
#define KK_MAX_IMAGE_PIXELS     (4096u * 4096u)  /* width * height */
/* Decoding work an image may ask for (kepu/imgprobe.h): SDL_image rasterises an SVG in
 * time that grows with its elements and path segments, and decodes a progressive JPEG
 * once per scan. The sample content uses at most 65 elements, 165 segments and 10 scans;
 * the limits leave room for detailed drawings and refuse files made to stall the kiosk
 * (a 1 MiB path took 81 s to draw, a JPEG of repeated scans about an hour). */
#define KK_MAX_SVG_ELEMENTS        4096  /* elements in one SVG document */
#define KK_MAX_SVG_PATH_SEGMENTS   16384 /* path and polyline segments in one SVG, in all */
#define KK_MAX_JPEG_SCANS          32    /* scans (SOS markers) in one JPEG */
#define KK_MAX_TOPICS_PER_PACK     64
#define KK_MAX_PAGES_PER_TOPIC     64
#define KK_MAX_BLOCKS_PER_PAGE     16
#define KK_MAX_QUESTIONS_PER_TOPIC 100
#define KK_MAX_CHOICES             8
#define KK_MAX_PACKS               64
#define KK_MAX_TEXT_BYTES          (16u * 1024) /* one text in one language */
#define KK_MAX_ID_LEN              64           /* pack, topic and question ids */
#define KK_MAX_PATH_LEN            512          /* a path inside a pack */
/* Folders a file or folder inside a pack may be nested in ("a/b/c.png" is 2 deep, the
 * folder "a/b" too). One limit for build, verify, bundle read, validate and install, so a
 * pack that verifies also installs. */
#define KK_MAX_PATH_DEPTH  64
#define KK_MAX_EVENT_BYTES (16u * 1024) /* one serialised usage event */

/* Built packs and bundles (kepu/manifest.h, kepu/bundle.h). */
#define KK_MAX_PACK_FILES      4096                   /* files in one built pack */
#define KK_MAX_PACK_FILE_BYTES (16u * 1024 * 1024)    /* one file of a built pack */
#define KK_MAX_PACK_BYTES      (256ull * 1024 * 1024) /* all files of one pack together */

/* The kiosk's caches (kepu-kiosk's memory target is 80 MB in all). */
#define KK_TEXT_CACHE_BYTES  (12u * 1024 * 1024) /* rendered lines of text */
#define KK_IMAGE_CACHE_BYTES (16u * 1024 * 1024) /* decoded pictures */
/* One picture's decoding, off the UI thread: past this it is not shown (a placeholder
 * stays) and `kepu-pack validate` refuses it. */
#define KK_IMAGE_DECODE_BUDGET_MS 3000

#endif
