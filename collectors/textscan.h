/* textscan.h - blanks, numbers and copies for the parsers of /proc text */
#ifndef COWPROF_COLLECTORS_TEXTSCAN_H
#define COWPROF_COLLECTORS_TEXTSCAN_H

#include <stddef.h>
#include <stdint.h>

/* The first character of [p, end) that is neither a space nor a tab (end
 * if there is none). */
const char *textscan_skip_blank(const char *p, const char *end);

/* Parse an unsigned number in base 8, 10 or 16 at *p, after any blanks (a
 * "0x" prefix is taken in base 16; base 8 takes the digits 8 and 9 too:
 * fdinfo's octal flags never hold them). Returns 0 and advances *p past it, or
 * -EINVAL (no digit, or more than 64 bits) leaving *p alone. */
int textscan_u64(const char **p, const char *end, int base, uint64_t *v);

/* A new NUL-terminated copy of s[0..n) (which may hold NULs), from xmalloc:
 * the caller frees it. */
char *textscan_strndup(const char *s, size_t n);

#endif
