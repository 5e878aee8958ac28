#include "kepu/clock.h"

#include <stdatomic.h>
#include <time.h>

static atomic_uint_fast64_t offset_ms;

static uint64_t read_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t kk_clock_mono_ms(void)
{
    return read_ms(CLOCK_MONOTONIC) + atomic_load(&offset_ms);
}

int64_t kk_clock_wall_ms(void)
{
    return (int64_t)(read_ms(CLOCK_REALTIME) + atomic_load(&offset_ms));
}

void kk_clock_advance(uint64_t ms)
{
    atomic_fetch_add(&offset_ms, ms);
}
