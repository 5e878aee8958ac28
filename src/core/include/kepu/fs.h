/* Small file-system helpers with the project's safety rules built in. */
#ifndef KEPU_FS_H
#define KEPU_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "kepu/buf.h"
#include "kepu/error.h"

/* Reads the whole regular file at path into out (appending), refusing files larger than
 * max bytes (KK_ERR_TOOBIG), missing files (KK_ERR_NOTFOUND), and anything that is not a
 * regular file (KK_ERR_INVALID). */
enum kk_err kk_file_read(const char *path, size_t max, struct kk_buf *out, struct kk_buf *err);

/* Replaces path with data so that a power cut leaves the old or the new content, never
 * half: write path.tmp, fsync, rename over path, fsync the folder. */
enum kk_err kk_file_write_atomic(const char *path, const void *data, size_t len,
                                 struct kk_buf *err);
/* The same with the file's mode (kk_file_write_atomic uses 0644): the temporary file is
 * created with it, so a secret is never readable by others, not even for a moment. */
enum kk_err kk_file_write_atomic_mode(const char *path, const void *data, size_t len, mode_t mode,
                                      struct kk_buf *err);

/* mkdir -p with mode for every folder it creates. */
enum kk_err kk_mkdirs(const char *path, mode_t mode, struct kk_buf *err);

/* True when rel is a safe path inside a pack: relative, non-empty, at most
 * KK_MAX_PATH_LEN bytes, no "..", "." or empty components, no backslashes or NUL. */
int kk_path_is_safe(const char *rel);

/* How many folders the file rel lies in: the number of '/' in it ("a/b/c.png" is 2). A
 * folder named rel lies one deeper for the purposes of KK_MAX_PATH_DEPTH. */
size_t kk_path_depth(const char *rel);

/* Joins a and b with one '/'. Returns a string to free with kk_free, or NULL. */
char *kk_path_join(const char *a, const char *b);

/* Parses a whole decimal string into [min, max]. Returns 0 on success, -1 otherwise. */
int kk_parse_long(const char *s, long min, long max, long *out);

/* Writes all n bytes of p to fd, retrying after signals and short writes. Returns 0, or
 * -1 with errno set. */
int kk_write_all(int fd, const void *p, size_t n);
/* fsync(fd) and rename(from, to), with their return values and errno. Core code writes,
 * syncs and renames through kk_write_all, kk_fsync and kk_rename so that the fault
 * injection below reaches every one of them. */
int kk_fsync(int fd);
int kk_rename(const char *from, const char *to);

/* Test hook (fault injection, as in SQLite's tests): the n-th call of kind from now (1 =
 * the next) fails with EIO (a rename with EIO too), and so does every later one when
 * persistent, or only that one when not; n 0 turns failure off. Counts kk_write_all,
 * kk_fsync and kk_rename calls. Returns how many calls of kind were made since the last
 * call for that kind, so a test can first count and then fail each one in turn. */
enum kk_fault { KK_FAULT_WRITE, KK_FAULT_FSYNC, KK_FAULT_RENAME, KK_FAULT_KINDS };
unsigned long kk_fault_after(enum kk_fault kind, unsigned long n, int persistent);

/* Parses "WIDTHxHEIGHT" (e.g. "1920x1080") with each side in [min, max]. Returns 0 on
 * success, -1 otherwise. */
int kk_parse_size(const char *s, long min, long max, int *w, int *h);

/* Writes 2*n lowercase hex digits of n random bytes and a NUL into out (size >= 2n+1). */
void kk_random_hex(char *out, size_t n);
/* Lowercase hex of n bytes into out (size >= 2n+1). */
void kk_hex_encode(char *out, const unsigned char *in, size_t n);

/* rm -rf path without following symbolic links (a link is removed, never its target).
 * A missing path is not an error. Errors: KK_ERR_IO, KK_ERR_PERM, KK_ERR_NOMEM. */
enum kk_err kk_remove_tree(const char *path, struct kk_buf *err);

#endif
