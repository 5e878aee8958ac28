/* The fault kinds the fault-injection tests (tests/core/test_fault_*.c and others) go through, each
 * for every N: the core's allocations (kk_alloc_fail_after), its writes, fsyncs and renames
 * (kk_fault_after), and SQLite's writes, syncs and allocations (fault_sqlite.h). Header-only;
 * include fault_sqlite.h before it when a test uses SQLite. */
#ifndef FAULT_KINDS_H
#define FAULT_KINDS_H

#include <stdio.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"

enum fault_kind {
    F_ALLOC,
    F_WRITE,
    F_FSYNC,
    F_RENAME,
#ifdef FAULT_SQLITE_H
    F_SQL_WRITE,
    F_SQL_SYNC,
    F_SQL_MALLOC,
#endif
    F_KINDS
};

static const char *const fault_kind_names[] = {
    "alloc",        "write",       "fsync",         "rename",
#ifdef FAULT_SQLITE_H
    "sqlite-write", "sqlite-sync", "sqlite-malloc",
#endif
};

/* Arms kind to fail at its n-th call from now (0: off); returns the calls made since the
 * last arming of kind. Allocations always fail persistently (every later one fails too). */
static unsigned long fault_arm(enum fault_kind kind, unsigned long n, int persistent)
{
    switch (kind) {
    case F_ALLOC:
        return kk_alloc_fail_after(n);
    case F_WRITE:
        return kk_fault_after(KK_FAULT_WRITE, n, persistent);
    case F_FSYNC:
        return kk_fault_after(KK_FAULT_FSYNC, n, persistent);
    case F_RENAME:
        return kk_fault_after(KK_FAULT_RENAME, n, persistent);
#ifdef FAULT_SQLITE_H
    case F_SQL_WRITE:
        return fault_sqlite_after(FAULT_SQL_WRITE, n, persistent);
    case F_SQL_SYNC:
        return fault_sqlite_after(FAULT_SQL_SYNC, n, persistent);
    case F_SQL_MALLOC:
        return fault_sqlite_after(FAULT_SQL_MALLOC, n, persistent);
#endif
    case F_KINDS:
        break;
    }
    return 0;
}

/* What a run found, summed over every N. */
struct fault_tally {
    unsigned long runs, lost, duplicated, half;
    char covered[512]; /* "alloc 1..57, write 1..12, ..." */
};

/* Runs scenario once per N for every kind and both persistences (an allocation is always
 * persistent): first with no fault to count the calls of that kind, then failing call N
 * for N = 1 .. count. scenario(kind, n, persistent, tally) does the work with the fault
 * armed through fault_arm, disarms it, checks the state (adding what it found to the
 * tally) and returns the calls of kind made while armed. half names the third figure. */
typedef unsigned long (*fault_scenario)(enum fault_kind kind, unsigned long n, int persistent,
                                        struct fault_tally *t);

static void fault_run_all(const char *name, const char *half, fault_scenario scenario,
                          struct fault_tally *t)
{
    for (int k = 0; k < F_KINDS; k++) {
        for (int persistent = 1; persistent >= 0; persistent--) {
            if (k == F_ALLOC && !persistent)
                continue;
            unsigned long calls = scenario((enum fault_kind)k, 0, persistent, t);
            for (unsigned long n = 1; n <= calls; n++)
                scenario((enum fault_kind)k, n, persistent, t);
            t->runs += calls;
            if (!calls)
                continue; /* the scenario never calls it */
            size_t used = strlen(t->covered);
            snprintf(t->covered + used, sizeof(t->covered) - used, "%s%s%s N=1..%lu",
                     used ? ", " : "", fault_kind_names[k],
                     k == F_ALLOC ? ""
                     : persistent ? " (persistent)"
                                  : " (once)",
                     calls);
        }
    }
    printf("fault injection: %s: %lu runs (%s): %lu lost, %lu duplicated, %lu %s\n", name, t->runs,
           t->covered, t->lost, t->duplicated, t->half, half);
    fflush(stdout);
}

#endif
