/* Narration (issue 14, docs/accessibility.md "Read aloud"): the recordings a pack carries
 * for a page, a quiz question or its explanation, played with SDL2_mixer.
 *
 * What plays is always what the screen on top offers: a scene names its recordings while
 * it builds its screen (audio_offer), and when a rebuilt screen no longer offers the one
 * playing (a page turn, a language switch, another scene) it stops. Scenes that leave stop
 * it themselves (audio_stop), so its audio_play event still carries their pack. One
 * stream at most: a new one stops the old.
 *
 * The sound device is opened only while something plays (an open SDL audio device mixes
 * silence on its own thread, which an idle kiosk must not pay for), and at the start to
 * learn whether there is one: with none the kiosk logs one line and offers nothing.
 * Loading is Mix_LoadMUS, which reads the headers and streams the rest while it plays.
 *
 * Times here are the sound card's, not the kiosk's clock (kepu/clock.h): the automation
 * channel's advance_ms does not move a recording along. No SDL in this header. */
#ifndef AUDIO_H
#define AUDIO_H

#include <stdint.h>

#include "kepu/config.h"
#include "kepu/pack.h"
#include "session.h"

struct audio;
struct scene_env;

/* Opens the sound device to see that there is one (audio_tick closes it a while later). cfg
 * (volume, quiet_volume, busy_hours, autoplay_elderly, read at each start of a recording) and
 * session (its events) must outlive the handle. Never NULL unless out of memory; without a
 * device the handle offers nothing. Free with audio_destroy. */
struct audio *audio_create(const struct kk_config *cfg, struct session *session);
/* Stops what plays (recording its event) and frees au. NULL is fine. */
void audio_destroy(struct audio *au);
/* 1 when there is a sound device. */
int audio_available(const struct audio *au);

/* ---- what the screen offers (the app calls begin/end around each rebuild) ---- */

void audio_frame_begin(struct audio *au);
/* From a scene's build: n's recording in the visitor's language (if any, and not found
 * broken at run time) may be read aloud; topic and page are what its audio_play event
 * names. n may be NULL. */
void audio_offer(struct scene_env *e, const struct kk_narration *n, const char *topic, size_t page);
/* Stops a recording the new screen does not offer; starts the offered one by itself when
 * the kiosk plays narration for seniors (autoplay_elderly) and it is new on screen. */
void audio_frame_end(struct audio *au);

/* 1 when the screen offers a recording (the top bar shows Read aloud). */
int audio_offered(const struct audio *au);
/* 1 while a recording plays. */
int audio_playing(const struct audio *au);
/* How far the playing recording is, 0..1 (0 when nothing plays). */
double audio_progress(const struct audio *au);
/* 1 when topic t has any recording in lang (and there is a device): on its pages, or
 * (quiz) in its questions and explanations. The top bar keeps room for the button through
 * the whole reader or quiz, so the screens below do not jump. */
int audio_topic_narrated(const struct audio *au, const struct kk_topic *t, enum kk_lang lang,
                         int quiz);

/* Read aloud was tapped: plays the offered recording, or stops the one playing. */
void audio_toggle(struct audio *au);
/* Stops what plays and records audio_play{topic,page,lang,ms_heard}. NULL is fine. */
void audio_stop(struct audio *au);
/* Notices the end of a recording, moves the button's progress and closes the device a
 * while after the last recording; sets *changed when the screen should be built again.
 * Returns ms until it wants to run again, or -1. */
long audio_tick(struct audio *au, int *changed);
/* The screen line's "audio": {"playing","pos_ms","duration_ms"} or null. */
void audio_report(const struct audio *au, struct cJSON *screen);

#endif
