/* util.h - allocation that aborts on exhaustion, and whole-file reads */
#ifndef COWPROF_UTIL_H
#define COWPROF_UTIL_H

#include <stddef.h>

/* Allocators that print one line and abort when memory runs out, so callers
 * never handle NULL. xmalloc(0) returns a unique pointer. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Grow *arr (of *cap elements of size elem) so that it holds at least need
 * elements, doubling. */
void util_grow(void **arr, size_t *cap, size_t need, size_t elem);

/* Read the whole file at path into a NUL-terminated buffer the caller frees.
 * Works for /proc files whose size reads as 0. Returns 0 and sets *buf and
 * *len (without the NUL), or -errno (-ENOENT, -ESRCH, -EACCES, ...). */
int util_read_file(const char *path, char **buf, size_t *len);

#endif
