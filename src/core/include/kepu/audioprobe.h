/* Narration file probes (DESIGN.md "Interactive blocks and narration"): the type and
 * length of an Ogg Vorbis, Ogg Opus or MP3 file, told by its content, not its name.
 *
 * Like kepu/imgprobe.h these are minimal readers, not decoders. For Ogg they walk every
 * page, checking each page's CRC, that the pages follow one another to the end of the file
 * and that the last one ends the stream; the first packet names the codec (Vorbis or Opus)
 * and its sample rate, the last granule position gives the length. For MP3 they skip an
 * ID3v2 tag and walk every MPEG audio layer III frame header to the end (an ID3v1 tag may
 * follow), adding up the samples. A file cut short, or with bytes that belong to no page
 * or frame, is refused: SDL2_mixer would play such a file only partly, or not at all.
 * They do not decode audio; SDL2_mixer still must cope with a bad body at run time. */
#ifndef KEPU_AUDIOPROBE_H
#define KEPU_AUDIOPROBE_H

#include <stddef.h>

#include "kepu/buf.h"
#include "kepu/error.h"

enum kk_audio_type { KK_AUDIO_VORBIS, KK_AUDIO_OPUS, KK_AUDIO_MP3 };

/* "Ogg Vorbis", "Ogg Opus" or "MP3". Never NULL. */
const char *kk_audio_type_name(enum kk_audio_type type);

struct kk_audio_info {
    enum kk_audio_type type;
    long ms;      /* length in milliseconds, > 0 */
    size_t bytes; /* file size */
};

/* Probes the file at path (read whole, at most KK_MAX_AUDIO_FILE_BYTES). On KK_OK *out
 * is filled. Errors, with one line in err saying what is wrong: KK_ERR_NOTFOUND (no such
 * file), KK_ERR_IO, KK_ERR_TOOBIG (file over KK_MAX_AUDIO_FILE_BYTES, or longer than
 * KK_MAX_AUDIO_MS), KK_ERR_INVALID (not Ogg Vorbis, Ogg Opus or MP3; cut short; damaged),
 * KK_ERR_NOMEM. */
enum kk_err kk_audio_probe(const char *path, struct kk_audio_info *out, struct kk_buf *err);

/* The same for bytes already in memory. */
enum kk_err kk_audio_probe_mem(const unsigned char *data, size_t len, struct kk_audio_info *out,
                               struct kk_buf *err);

#endif
