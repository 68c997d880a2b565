/* util.h - allocation that aborts on exhaustion, whole-file reads, clocks */
#ifndef COWPROF_COMMON_UTIL_H
#define COWPROF_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Allocators that print one line and abort when memory runs out, so callers
 * never handle NULL. xmalloc(0) returns a unique pointer. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* asprintf that aborts the same way; returns the new string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow *arr (of *cap elements of size elem) so that it holds at least need
 * elements, doubling. */
void util_grow(void **arr, size_t *cap, size_t need, size_t elem);

/* Read the whole file at path into a NUL-terminated buffer the caller frees.
 * Works for /proc files whose size reads as 0. Returns 0 and sets *buf and
 * *len (without the NUL), or -errno (-ENOENT, -ESRCH, -EACCES, ...). */
int util_read_file(const char *path, char **buf, size_t *len);

/* The time on clock c in seconds: CLOCK_MONOTONIC for intervals,
 * CLOCK_REALTIME for the times a session stores (seconds since the epoch). */
double util_clock_s(clockid_t c);

/* The time on clock c in nanoseconds. */
uint64_t util_clock_ns(clockid_t c);

/* CLOCK_REALTIME minus CLOCK_MONOTONIC now, in nanoseconds: added to a
 * monotonic timestamp (a perf record's), it gives the wall-clock time. */
int64_t util_realtime_offset_ns(void);

#endif
