#include "audio.h"

#include <SDL.h>
#include <SDL_mixer.h>
#include <string.h>
#include <time.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/log.h"
#include "scene_env.h"

#define AUDIO_RATE  48000
#define AUDIO_CHUNK 1024 /* samples: 21 ms, so a stop is heard at once */
/* How often the button's progress moves while a recording plays. */
#define AUDIO_TICK_MS 250
/* The device stays open this long after a recording, so the next one starts at once. */
#define AUDIO_LINGER_MS  5000
#define AUDIO_MAX_BROKEN 32 /* recordings SDL2_mixer could not play, remembered */

/* The recording playing, copied: the pack it came from may go before the event is made. */
struct clip {
    char *src, *path, *topic;
    size_t page;
    enum kk_lang lang;
    long ms;
};

struct audio {
    const struct kk_config *cfg;
    struct session *session;
    int available; /* there is a sound device */
    int open;      /* it is open now */
    uint64_t close_at;

    /* What the screen being built offers (pointers into the pack on screen). */
    const struct kk_audio *offer;
    const char *offer_topic;
    size_t offer_page;
    enum kk_lang offer_lang;
    char *last_offer; /* the path the last screen offered, to tell a new one */

    Mix_Music *music; /* NULL when nothing plays */
    struct clip playing;
    uint64_t started; /* SDL ticks */

    char *broken[AUDIO_MAX_BROKEN];
    size_t nbroken, next_broken;
};

static void clip_release(struct clip *c)
{
    kk_free(c->src);
    kk_free(c->path);
    kk_free(c->topic);
    memset(c, 0, sizeof(*c));
}

struct audio *audio_create(const struct kk_config *cfg, struct session *session)
{
    struct audio *au = kk_calloc(1, sizeof(*au));
    if (!au)
        return NULL;
    au->cfg = cfg;
    au->session = session;
    if (SDL_InitSubSystem(SDL_INIT_AUDIO) < 0) {
        kk_warn("audio", "no sound device (%s): read aloud is off", SDL_GetError());
        return au;
    }
    int want = MIX_INIT_OGG | MIX_INIT_OPUS | MIX_INIT_MP3, got = Mix_Init(want);
    if ((got & want) != want)
        kk_debug("audio", "SDL2_mixer lacks some decoders (%s)", Mix_GetError());
    uint64_t t0 = SDL_GetTicks64();
    if (Mix_OpenAudioDevice(AUDIO_RATE, AUDIO_S16SYS, 2, AUDIO_CHUNK, NULL, 0) < 0) {
        kk_warn("audio", "no sound device (%s): read aloud is off", Mix_GetError());
        Mix_Quit();
        SDL_QuitSubSystem(SDL_INIT_AUDIO);
        return au;
    }
    /* Closing waits for SDL's audio thread to finish its buffer (about 40 ms here): not
     * before the first frame, but from audio_tick a while later. */
    au->available = au->open = 1;
    au->close_at = SDL_GetTicks64() + AUDIO_LINGER_MS;
    kk_info("audio", "sound device found (SDL driver %s, opened in %u ms)",
            SDL_GetCurrentAudioDriver() ? SDL_GetCurrentAudioDriver() : "?",
            (unsigned)(SDL_GetTicks64() - t0));
    return au;
}

void audio_destroy(struct audio *au)
{
    if (!au)
        return;
    audio_stop(au);
    if (au->open)
        Mix_CloseAudio();
    if (au->available) {
        Mix_Quit();
        SDL_QuitSubSystem(SDL_INIT_AUDIO);
    }
    for (size_t i = 0; i < au->nbroken; i++)
        kk_free(au->broken[i]);
    kk_free(au->last_offer);
    kk_free(au);
}

int audio_available(const struct audio *au)
{
    return au && au->available;
}

/* ---- broken recordings: each logged once, then never offered again ---- */

static int is_broken(const struct audio *au, const char *path)
{
    for (size_t i = 0; i < au->nbroken; i++)
        if (!strcmp(au->broken[i], path))
            return 1;
    return 0;
}

static void mark_broken(struct audio *au, const struct kk_audio *c, const char *why)
{
    kk_warn("audio", "%s: cannot be played (%s): its Read aloud button is hidden", c->path, why);
    char *p = kk_strdup(c->path);
    if (!p)
        return;
    if (au->nbroken < AUDIO_MAX_BROKEN) {
        au->broken[au->nbroken++] = p;
        return;
    }
    size_t i = au->next_broken++ % AUDIO_MAX_BROKEN; /* the oldest goes */
    kk_free(au->broken[i]);
    au->broken[i] = p;
}

/* ---- playing ---- */

/* The volume for now, in per cent: volume in busy hours, quiet_volume outside them. */
static int volume_now(const struct audio *au)
{
    time_t t = (time_t)(kk_clock_wall_ms() / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return au->cfg->volume;
    return kk_config_volume_at(au->cfg, tm.tm_hour * 60 + tm.tm_min);
}

/* How far the recording playing is: the decoder's position (a chunk ahead of the
 * loudspeaker at most), or the time since it started when the decoder cannot say. */
static long pos_ms(const struct audio *au)
{
    if (!au->music)
        return 0;
    double p = Mix_GetMusicPosition(au->music);
    long ms = p >= 0 ? (long)(p * 1000) : (long)(SDL_GetTicks64() - au->started);
    return ms < 0 ? 0 : ms > au->playing.ms ? au->playing.ms : ms;
}

static void play(struct audio *au)
{
    const struct kk_audio *c = au->offer;
    if (!c || au->music)
        return;
    if (!au->open) {
        if (Mix_OpenAudioDevice(AUDIO_RATE, AUDIO_S16SYS, 2, AUDIO_CHUNK, NULL, 0) < 0) {
            kk_warn("audio", "cannot open the sound device: %s", Mix_GetError());
            return;
        }
        au->open = 1;
    }
    au->close_at = 0;
    Uint64 t0 = SDL_GetPerformanceCounter();
    Mix_Music *m = Mix_LoadMUS(c->path);
    if (!m) {
        mark_broken(au, c, Mix_GetError());
        return;
    }
    Mix_VolumeMusic(volume_now(au) * MIX_MAX_VOLUME / 100);
    if (Mix_PlayMusic(m, 0) < 0) {
        mark_broken(au, c, Mix_GetError());
        Mix_FreeMusic(m);
        return;
    }
    au->playing = (struct clip){kk_strdup(c->src), kk_strdup(c->path), kk_strdup(au->offer_topic),
                                au->offer_page,    au->offer_lang,     c->ms};
    if (!au->playing.src || !au->playing.path || !au->playing.topic) {
        kk_error("audio", "out of memory");
        Mix_HaltMusic();
        Mix_FreeMusic(m);
        clip_release(&au->playing);
        return;
    }
    au->music = m;
    au->started = SDL_GetTicks64();
    Uint64 us = (SDL_GetPerformanceCounter() - t0) * 1000000 / SDL_GetPerformanceFrequency();
    kk_info("audio", "playing %s (%ld ms, volume %d%%, loaded and started in %u us)", c->src, c->ms,
            volume_now(au), (unsigned)us);
}

/* The recording ended or was stopped after ms_heard: the event, then let it go. */
static void finish(struct audio *au, long ms_heard)
{
    Mix_HaltMusic();
    Mix_FreeMusic(au->music);
    au->music = NULL;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "topic", au->playing.topic);
    cJSON_AddNumberToObject(f, "page", (double)au->playing.page);
    cJSON_AddStringToObject(f, "lang", kk_lang_name(au->playing.lang));
    cJSON_AddNumberToObject(f, "ms_heard", (double)ms_heard);
    session_event(au->session, "audio_play", f);
    kk_info("audio", "stopped %s after %ld of %ld ms", au->playing.src, ms_heard, au->playing.ms);
    clip_release(&au->playing);
    au->close_at = SDL_GetTicks64() + AUDIO_LINGER_MS;
}

void audio_stop(struct audio *au)
{
    if (au && au->music)
        finish(au, Mix_PlayingMusic() ? pos_ms(au) : au->playing.ms);
}

void audio_toggle(struct audio *au)
{
    if (!au)
        return;
    if (au->music)
        audio_stop(au);
    else
        play(au);
}

long audio_tick(struct audio *au, int *changed)
{
    if (!au)
        return -1;
    if (au->music) {
        if (Mix_PlayingMusic()) {
            *changed = 1; /* the button's progress */
            return AUDIO_TICK_MS;
        }
        finish(au, au->playing.ms);
        *changed = 1;
    }
    if (au->open && au->close_at) {
        uint64_t now = SDL_GetTicks64();
        if (now < au->close_at)
            return (long)(au->close_at - now);
        Mix_CloseAudio();
        au->open = 0;
        au->close_at = 0;
        kk_debug("audio", "sound device closed in %u ms", (unsigned)(SDL_GetTicks64() - now));
    }
    return -1;
}

/* ---- what the screen offers ---- */

void audio_frame_begin(struct audio *au)
{
    if (au)
        au->offer = NULL;
}

void audio_offer(struct scene_env *e, const struct kk_narration *n, const char *topic, size_t page)
{
    struct audio *au = e->audio;
    if (!au || !au->available || !n)
        return;
    const struct kk_audio *c = n->a[e->session->lang];
    if (!c || is_broken(au, c->path))
        return;
    au->offer = c;
    au->offer_topic = topic;
    au->offer_page = page;
    au->offer_lang = e->session->lang;
}

void audio_frame_end(struct audio *au)
{
    if (!au)
        return;
    const char *offer = au->offer ? au->offer->path : NULL;
    if (au->music &&
        (!offer || strcmp(offer, au->playing.path) || au->offer_lang != au->playing.lang))
        audio_stop(au);
    int fresh = offer && (!au->last_offer || strcmp(offer, au->last_offer));
    if (fresh || !offer) {
        kk_free(au->last_offer);
        au->last_offer = offer ? kk_strdup(offer) : NULL;
    }
    if (fresh && au->cfg->autoplay_elderly && au->session->audience == KK_AUD_ELDERLY)
        play(au);
}

int audio_offered(const struct audio *au)
{
    return au && au->offer;
}

int audio_playing(const struct audio *au)
{
    return au && au->music;
}

double audio_progress(const struct audio *au)
{
    if (!au || !au->music || au->playing.ms <= 0)
        return 0;
    return (double)pos_ms(au) / (double)au->playing.ms;
}

static int has(const struct kk_narration *n, enum kk_lang lang)
{
    return n->a[lang] != NULL;
}

int audio_topic_narrated(const struct audio *au, const struct kk_topic *t, enum kk_lang lang,
                         int quiz)
{
    if (!au || !au->available || !t)
        return 0;
    for (size_t i = 0; !quiz && i < t->npages; i++)
        if (has(&t->pages[i].audio, lang))
            return 1;
    for (size_t i = 0; quiz && i < t->nquestions; i++)
        if (has(&t->questions[i].audio, lang) || has(&t->questions[i].explain_audio, lang))
            return 1;
    return 0;
}

void audio_report(const struct audio *au, cJSON *screen)
{
    if (!au || !au->music) {
        cJSON_AddNullToObject(screen, "audio");
        return;
    }
    cJSON *j = cJSON_AddObjectToObject(screen, "audio");
    cJSON_AddStringToObject(j, "playing", au->playing.src);
    cJSON_AddNumberToObject(j, "pos_ms", (double)pos_ms(au));
    cJSON_AddNumberToObject(j, "duration_ms", (double)au->playing.ms);
    cJSON_AddStringToObject(j, "lang", kk_lang_name(au->playing.lang));
}
