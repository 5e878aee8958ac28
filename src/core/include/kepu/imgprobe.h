/* Image header probes: the type, size and declared dimensions of a PNG, JPEG or SVG file,
 * and the decoding work it asks for, checked against the limits in kepu/limits.h before
 * anything decodes it.
 *
 * These are deliberately minimal readers, not decoders. For the size they read the PNG
 * signature and IHDR chunk, the JPEG SOI marker and the segments up to the first frame
 * header (SOFn), and the start of an SVG document up to the end of its <svg ...> start tag.
 * For the work they walk the rest: a JPEG's markers, counting its scans (SOS; at most
 * KK_MAX_JPEG_SCANS), and an SVG's tags, counting its elements (at most
 * KK_MAX_SVG_ELEMENTS) and the segments of its paths' d and polylines' points (at most
 * KK_MAX_SVG_PATH_SEGMENTS in all). They do not check CRCs, decode pixels or validate the
 * rest of the file; SDL_image decodes the image later in the app and must still cope with
 * a bad body. What they guarantee is that the file is of the type its name says and does
 * not declare a size or an amount of work that would exhaust memory or stall the kiosk
 * when decoded or rasterised.
 *
 * SVG rules (what the probe accepts before the <svg> element): an optional UTF-8 byte-order
 * mark, whitespace, one XML declaration, comments, and a DOCTYPE without an internal
 * subset ("[...]" is refused: it allows entity-expansion tricks). The <svg> start tag must
 * end within the first KK_SVG_HEAD_BYTES bytes. Its size is width and height when both are
 * plain numbers or "px" lengths, otherwise the width and height of its viewBox; a
 * fractional size is rounded up. An SVG with neither is refused. */
#ifndef KEPU_IMGPROBE_H
#define KEPU_IMGPROBE_H

#include <stddef.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/pack.h"

#define KK_SVG_HEAD_BYTES (64u * 1024)

/* The type a file name's extension names: .png, .jpg, .jpeg or .svg, in any letter case.
 * Returns the enum kk_image_type value, or -1 for any other name. */
int kk_image_type_from_name(const char *name);

/* "PNG", "JPEG" or "SVG". Never NULL. */
const char *kk_image_type_name(enum kk_image_type type);

/* Probes the file at path, which must be an image of the given type. It is opened without
 * following a symbolic link in its last component and must be a regular file of at most
 * KK_MAX_IMAGE_FILE_BYTES bytes whose magic bytes match type and whose declared width and
 * height are > 0, at most KK_MAX_IMAGE_DIM each and at most KK_MAX_IMAGE_PIXELS together.
 * On KK_OK sets out->type, out->w, out->h and out->bytes (out->src and out->path are left
 * alone). On failure out is untouched and err (if not NULL) gets a message that does not
 * name the file, so the caller can prefix the file and field it came from.
 * Errors: KK_ERR_NOTFOUND (no such file), KK_ERR_IO, KK_ERR_INVALID (a symbolic link, not
 * a regular file, wrong magic bytes, a truncated or malformed header, no or zero size),
 * KK_ERR_TOOBIG (file bytes, a dimension, the pixel count, JPEG scans, SVG elements or path
 * segments over the limits). */
enum kk_err kk_image_probe(const char *path, enum kk_image_type type, struct kk_image *out,
                           struct kk_buf *err);

/* The same checks on an image held in memory: data[0..len). For images read from an
 * archive, and for fuzzing. */
enum kk_err kk_image_probe_mem(const void *data, size_t len, enum kk_image_type type,
                               struct kk_image *out, struct kk_buf *err);

#endif
