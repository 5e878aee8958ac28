/* Fault injection for SQLite, as SQLite's own tests do it (header-only; include it in one
 * test program). A VFS named "kkfault" wraps the default one and becomes the default: it
 * counts every xWrite and xSync of every file (database, WAL, journal) and fails the n-th
 * (SQLITE_IOERR_WRITE / SQLITE_IOERR_FSYNC). SQLite's allocator is wrapped the same way
 * (SQLITE_CONFIG_MALLOC) and fails its n-th allocation. Call fault_sqlite_install() first,
 * before anything opens a database. */
#ifndef FAULT_SQLITE_H
#define FAULT_SQLITE_H

#include <stdatomic.h>
#include <string.h>

#include <sqlite3.h>

enum fault_sqlite_kind { FAULT_SQL_WRITE, FAULT_SQL_SYNC, FAULT_SQL_MALLOC, FAULT_SQL_KINDS };

static atomic_ulong fault_sql_calls[FAULT_SQL_KINDS];
static atomic_ulong fault_sql_at[FAULT_SQL_KINDS];
static atomic_int fault_sql_persistent[FAULT_SQL_KINDS];
static sqlite3_vfs *fault_sql_real;
static sqlite3_mem_methods fault_sql_mem_real;

/* Like kk_fault_after (kepu/fs.h) for SQLite's writes, syncs and allocations. */
static unsigned long fault_sqlite_after(enum fault_sqlite_kind kind, unsigned long n,
                                        int persistent)
{
    unsigned long made = atomic_exchange(&fault_sql_calls[kind], 0);
    atomic_store(&fault_sql_persistent[kind], persistent);
    atomic_store(&fault_sql_at[kind], n);
    return made;
}

static int fault_sql_hit(enum fault_sqlite_kind kind)
{
    unsigned long n = atomic_fetch_add(&fault_sql_calls[kind], 1) + 1;
    unsigned long at = atomic_load(&fault_sql_at[kind]);
    return at != 0 && n >= at && (n == at || atomic_load(&fault_sql_persistent[kind]));
}

struct fault_file {
    sqlite3_file base;
    sqlite3_file *real; /* follows this struct, szOsFile of the real VFS */
};

#define REAL(f) (((struct fault_file *)(f))->real)

static int ff_close(sqlite3_file *f)
{
    int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
    return rc;
}
static int ff_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int ff_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    if (fault_sql_hit(FAULT_SQL_WRITE))
        return SQLITE_IOERR_WRITE;
    return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int ff_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int ff_sync(sqlite3_file *f, int flags)
{
    if (fault_sql_hit(FAULT_SQL_SYNC))
        return SQLITE_IOERR_FSYNC;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int ff_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int ff_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int ff_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int ff_check_lock(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int ff_control(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int ff_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int ff_device(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int ff_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}
static int ff_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void ff_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int ff_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int ff_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    *pp = NULL; /* no memory-mapped reads: every page goes through xRead */
    (void)f, (void)off, (void)n;
    return SQLITE_OK;
}
static int ff_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    (void)f, (void)off, (void)p;
    return SQLITE_OK;
}

static const sqlite3_io_methods fault_io = {
    3,           ff_close,       ff_read,       ff_write,   ff_truncate, ff_sync,   ff_size,
    ff_lock,     ff_unlock,      ff_check_lock, ff_control, ff_sector,   ff_device, ff_shm_map,
    ff_shm_lock, ff_shm_barrier, ff_shm_unmap,  ff_fetch,   ff_unfetch,
};

static int fv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    (void)vfs;
    struct fault_file *ff = (struct fault_file *)f;
    ff->real = (sqlite3_file *)(ff + 1);
    ff->real->pMethods = NULL;
    int rc = fault_sql_real->xOpen(fault_sql_real, name, ff->real, flags, out_flags);
    /* SQLite calls xClose even after a failed xOpen when pMethods is set. */
    f->pMethods = ff->real->pMethods ? &fault_io : NULL;
    return rc;
}
static int fv_delete(sqlite3_vfs *v, const char *name, int sync)
{
    (void)v;
    return fault_sql_real->xDelete(fault_sql_real, name, sync);
}
static int fv_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return fault_sql_real->xAccess(fault_sql_real, name, flags, out);
}
static int fv_full(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    return fault_sql_real->xFullPathname(fault_sql_real, name, n, out);
}
static int fv_random(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return fault_sql_real->xRandomness(fault_sql_real, n, out);
}
static int fv_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return fault_sql_real->xSleep(fault_sql_real, us);
}
static int fv_time(sqlite3_vfs *v, double *out)
{
    (void)v;
    return fault_sql_real->xCurrentTime(fault_sql_real, out);
}
static int fv_last_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return fault_sql_real->xGetLastError(fault_sql_real, n, out);
}
static int fv_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    (void)v;
    return fault_sql_real->xCurrentTimeInt64(fault_sql_real, out);
}

static void *fm_malloc(int n)
{
    return fault_sql_hit(FAULT_SQL_MALLOC) ? NULL : fault_sql_mem_real.xMalloc(n);
}
static void fm_free(void *p)
{
    fault_sql_mem_real.xFree(p);
}
static void *fm_realloc(void *p, int n)
{
    return fault_sql_hit(FAULT_SQL_MALLOC) ? NULL : fault_sql_mem_real.xRealloc(p, n);
}
static int fm_size(void *p)
{
    return fault_sql_mem_real.xSize(p);
}
static int fm_roundup(int n)
{
    return fault_sql_mem_real.xRoundup(n);
}
static int fm_init(void *x)
{
    return fault_sql_mem_real.xInit(x);
}
static void fm_shutdown(void *x)
{
    fault_sql_mem_real.xShutdown(x);
}

/* Installs the wrapping allocator and the "kkfault" VFS as the default. Returns 0, or -1
 * when SQLite refused (then the test cannot run). */
static int fault_sqlite_install(void)
{
    static sqlite3_vfs vfs;
    static sqlite3_mem_methods mem = {fm_malloc,  fm_free, fm_realloc,  fm_size,
                                      fm_roundup, fm_init, fm_shutdown, NULL};
    sqlite3_shutdown();
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &fault_sql_mem_real) != SQLITE_OK ||
        sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK ||
        sqlite3_initialize() != SQLITE_OK)
        return -1;
    fault_sql_real = sqlite3_vfs_find(NULL);
    if (!fault_sql_real)
        return -1;
    vfs = (sqlite3_vfs){.iVersion = 2,
                        .szOsFile = (int)sizeof(struct fault_file) + fault_sql_real->szOsFile,
                        .mxPathname = fault_sql_real->mxPathname,
                        .zName = "kkfault",
                        .xOpen = fv_open,
                        .xDelete = fv_delete,
                        .xAccess = fv_access,
                        .xFullPathname = fv_full,
                        .xDlOpen = NULL,
                        .xRandomness = fv_random,
                        .xSleep = fv_sleep,
                        .xCurrentTime = fv_time,
                        .xGetLastError = fv_last_error,
                        .xCurrentTimeInt64 = fv_time64};
    return sqlite3_vfs_register(&vfs, 1) == SQLITE_OK ? 0 : -1;
}

#undef REAL

#endif
