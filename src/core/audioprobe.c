#include "kepu/audioprobe.h"

#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "kepu/fs.h"
#include "kepu/limits.h"

const char *kk_audio_type_name(enum kk_audio_type type)
{
    switch (type) {
    case KK_AUDIO_VORBIS:
        return "Ogg Vorbis";
    case KK_AUDIO_OPUS:
        return "Ogg Opus";
    case KK_AUDIO_MP3:
        return "MP3";
    }
    return "?";
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* The Ogg page checksum: CRC-32 with polynomial 0x04c11db7, not reflected, initial value
 * 0, computed with the CRC field itself taken as zero (RFC 3533 section 6). */
static uint32_t ogg_crc(const unsigned char *p, size_t n)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t r = i << 24;
            for (int k = 0; k < 8; k++)
                r = r & 0x80000000u ? (r << 1) ^ 0x04c11db7u : r << 1;
            table[i] = r;
        }
        ready = 1;
    }
    uint32_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (i >= 22 && i < 26) ? 0 : p[i];
        crc = (crc << 8) ^ table[((crc >> 24) ^ b) & 0xff];
    }
    return crc;
}

static enum kk_err probe_ogg(const unsigned char *d, size_t len, struct kk_audio_info *out,
                             struct kk_buf *err)
{
    size_t off = 0;
    int first = 1, ended = 0;
    uint32_t rate = 0, preskip = 0;
    uint64_t granule = 0;
    while (off < len) {
        if (ended)
            return kk_fail(err, KK_ERR_INVALID, "bytes after the end of the Ogg stream at byte %zu",
                           off);
        if (len - off < 27 || memcmp(d + off, "OggS", 4) != 0)
            return kk_fail(err, KK_ERR_INVALID,
                           len - off < 27
                               ? "cut short: the file ends inside an Ogg page at byte %zu"
                               : "damaged: no Ogg page at byte %zu",
                           off);
        const unsigned char *pg = d + off;
        size_t nseg = pg[26], body = 0;
        if (len - off < 27 + nseg)
            return kk_fail(err, KK_ERR_INVALID,
                           "cut short: the file ends inside an Ogg page at byte %zu", off);
        for (size_t i = 0; i < nseg; i++)
            body += pg[27 + i];
        size_t size = 27 + nseg + body;
        if (len - off < size)
            return kk_fail(err, KK_ERR_INVALID,
                           "cut short: the file ends inside an Ogg page at byte %zu", off);
        if (ogg_crc(pg, size) != le32(pg + 22))
            return kk_fail(err, KK_ERR_INVALID,
                           "damaged: the Ogg page at byte %zu fails its checksum", off);
        const unsigned char *pk = pg + 27 + nseg;
        if (first) {
            if (body >= 30 && pk[0] == 1 && memcmp(pk + 1, "vorbis", 6) == 0) {
                out->type = KK_AUDIO_VORBIS;
                rate = le32(pk + 12);
            } else if (body >= 19 && memcmp(pk, "OpusHead", 8) == 0) {
                out->type = KK_AUDIO_OPUS;
                preskip = (uint32_t)pk[10] | (uint32_t)pk[11] << 8;
                rate = 48000; /* Opus granules always count 48 kHz samples */
            } else
                return kk_fail(err, KK_ERR_INVALID,
                               "an Ogg file, but neither Vorbis nor Opus audio");
            if (rate == 0)
                return kk_fail(err, KK_ERR_INVALID, "damaged: the sample rate is 0");
            first = 0;
        }
        uint64_t g = le64(pg + 6);
        if (g != UINT64_MAX)
            granule = g;
        if (pg[5] & 0x04)
            ended = 1;
        off += size;
    }
    if (!ended)
        return kk_fail(err, KK_ERR_INVALID, "cut short: the Ogg stream has no last page");
    if (granule <= preskip)
        return kk_fail(err, KK_ERR_INVALID, "holds no audio");
    uint64_t ms = (granule - preskip) * 1000 / rate;
    out->ms = ms > (uint64_t)KK_MAX_AUDIO_MS * 10 ? KK_MAX_AUDIO_MS * 10 : (long)ms;
    if (out->ms == 0)
        out->ms = 1;
    return KK_OK;
}

/* MPEG audio layer III frame header at p (4 bytes): the frame's size and its samples, or
 * 0 when p holds no valid header. */
static size_t mp3_frame(const unsigned char *p, unsigned *samples, unsigned *rate)
{
    static const unsigned short kbps[2][16] = {
        {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}, /* MPEG 1 */
        {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},     /* MPEG 2, 2.5 */
    };
    static const unsigned rates[3] = {44100, 48000, 32000};
    if (p[0] != 0xff || (p[1] & 0xe0) != 0xe0)
        return 0;
    unsigned ver = (p[1] >> 3) & 3; /* 0: 2.5, 2: 2, 3: 1 */
    unsigned layer = (p[1] >> 1) & 3;
    unsigned bi = p[2] >> 4, si = (p[2] >> 2) & 3, pad = (p[2] >> 1) & 1;
    if (ver == 1 || layer != 1 || bi == 0 || bi == 15 || si == 3)
        return 0;
    int v1 = ver == 3;
    *rate = rates[si] >> (v1 ? 0 : ver == 2 ? 1 : 2);
    *samples = v1 ? 1152 : 576;
    return (size_t)(v1 ? 144 : 72) * kbps[v1 ? 0 : 1][bi] * 1000 / *rate + pad;
}

static enum kk_err probe_mp3(const unsigned char *d, size_t len, struct kk_audio_info *out,
                             struct kk_buf *err)
{
    size_t off = 0;
    if (len >= 10 && memcmp(d, "ID3", 3) == 0) {
        size_t tag = ((size_t)(d[6] & 0x7f) << 21) | ((size_t)(d[7] & 0x7f) << 14) |
                     ((size_t)(d[8] & 0x7f) << 7) | (size_t)(d[9] & 0x7f);
        off = 10 + tag + ((d[5] & 0x10) ? 10 : 0);
        if (off >= len)
            return kk_fail(err, KK_ERR_INVALID, "cut short: the file ends inside its ID3 tag");
    }
    size_t end = len;
    if (len - off >= 128 && memcmp(d + len - 128, "TAG", 3) == 0)
        end = len - 128;
    unsigned samples, rate = 0, frames = 0;
    uint64_t total = 0;
    while (off < end) {
        unsigned s, r;
        size_t size = end - off >= 4 ? mp3_frame(d + off, &s, &r) : 0;
        if (size == 0)
            return kk_fail(err, KK_ERR_INVALID,
                           frames ? "damaged: no MP3 frame at byte %zu"
                                  : "not Ogg Vorbis, Ogg Opus or MP3 audio (byte %zu)",
                           off);
        if (end - off < size)
            return kk_fail(err, KK_ERR_INVALID,
                           "cut short: the file ends inside the MP3 frame at byte %zu", off);
        if (rate && r != rate)
            return kk_fail(err, KK_ERR_INVALID, "damaged: the sample rate changes at byte %zu",
                           off);
        rate = r;
        samples = s;
        total += samples;
        frames++;
        off += size;
    }
    if (frames < 2)
        return kk_fail(err, KK_ERR_INVALID, "holds no MP3 audio");
    out->type = KK_AUDIO_MP3;
    out->ms = (long)(total * 1000 / rate);
    return KK_OK;
}

enum kk_err kk_audio_probe_mem(const unsigned char *data, size_t len, struct kk_audio_info *out,
                               struct kk_buf *err)
{
    memset(out, 0, sizeof(*out));
    if (len > KK_MAX_AUDIO_FILE_BYTES)
        return kk_fail(err, KK_ERR_TOOBIG, "%zu bytes; a narration file may have at most %u", len,
                       KK_MAX_AUDIO_FILE_BYTES);
    enum kk_err e;
    if (len >= 4 && memcmp(data, "OggS", 4) == 0)
        e = probe_ogg(data, len, out, err);
    else if (len >= 4 &&
             (memcmp(data, "ID3", 3) == 0 || (data[0] == 0xff && (data[1] & 0xe0) == 0xe0)))
        e = probe_mp3(data, len, out, err);
    else
        return kk_fail(err, KK_ERR_INVALID, "not Ogg Vorbis, Ogg Opus or MP3 audio");
    if (e)
        return e;
    out->bytes = len;
    if (out->ms > KK_MAX_AUDIO_MS)
        return kk_fail(err, KK_ERR_TOOBIG,
                       "%s of %ld:%02ld minutes; a narration may last at most %ld minutes",
                       kk_audio_type_name(out->type), out->ms / 60000, out->ms / 1000 % 60,
                       KK_MAX_AUDIO_MS / 60000);
    return KK_OK;
}

enum kk_err kk_audio_probe(const char *path, struct kk_audio_info *out, struct kk_buf *err)
{
    memset(out, 0, sizeof(*out));
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        (unsigned long long)st.st_size > KK_MAX_AUDIO_FILE_BYTES)
        return kk_fail(err, KK_ERR_TOOBIG, "%lld bytes; a narration file may have at most %u",
                       (long long)st.st_size, KK_MAX_AUDIO_FILE_BYTES);
    struct kk_buf b;
    kk_buf_init(&b, 0);
    enum kk_err e = kk_file_read(path, KK_MAX_AUDIO_FILE_BYTES, &b, err);
    if (!e)
        e = kk_audio_probe_mem((const unsigned char *)b.data, b.len, out, err);
    kk_buf_release(&b);
    return e;
}
