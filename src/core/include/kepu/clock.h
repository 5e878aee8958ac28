/* All time is read here so tests can move the clock instead of sleeping (LVGL's
 * fast-forward). Monotonic milliseconds drive timeouts and animations; wall-clock
 * milliseconds stamp events. */
#ifndef KEPU_CLOCK_H
#define KEPU_CLOCK_H

#include <stdint.h>

/* Milliseconds on a monotonic clock plus any offset added by kk_clock_advance. */
uint64_t kk_clock_mono_ms(void);
/* Milliseconds since the Unix epoch plus any offset added by kk_clock_advance. */
int64_t kk_clock_wall_ms(void);
/* Moves both clocks forward by ms (the automation channel's advance_ms). Thread-safe. */
void kk_clock_advance(uint64_t ms);

#endif
