/* format.h - human-readable sizes, signal names and small text helpers */
#ifndef COWPROF_COMMON_FORMAT_H
#define COWPROF_COMMON_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The size of a buffer format_kb's longest text fits in. */
#define FORMAT_KB_LEN 16

/* Write kb as "812 KiB", "12.3 MiB", "1.50 GiB" into buf (at least
 * FORMAT_KB_LEN bytes). Returns buf. */
char *format_kb(uint64_t kb, char *buf, size_t len);

/* Parse a pid (or any positive count) argument: decimal digits only,
 * 1..INT_MAX. Returns it, or -1 if s is not one. */
int format_parse_pid(const char *s);

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one:
 * overlong forms, surrogates and code points past U+10FFFF are invalid
 * (RFC 3629). Stops at a NUL. */
int format_utf8_len(const unsigned char *s);

/* Write s for a terminal, at most max_chars characters (SIZE_MAX: all):
 * control characters (C0, DEL, and C1 whether a raw byte or UTF-8
 * U+0080..U+009F, which terminals also obey) and bytes that are not valid
 * UTF-8 become '?', so text from a target (a command line, a process
 * name) cannot move the cursor, retitle or clear the operator's terminal.
 * Returns the characters written. */
size_t format_put_text(FILE *f, const char *s, size_t max_chars);

/* A new copy of s as format_put_text writes it (caller frees). */
char *format_text_dup(const char *s);

/* The name of signal sig into buf: "SIGTERM", "SIGRTMIN+3" for a
 * real-time signal, "signal N" for any other number. Returns buf. */
const char *format_signal_name(int sig, char *buf, size_t len);

/* Write a one-line reason into err (errlen bytes; err may be NULL) and
 * return r: for functions that return -errno with a message. */
int format_error(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
