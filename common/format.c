/* format.c - human-readable sizes and small text helpers for reports */
#include "common/format.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *format_kb(uint64_t kb, char *buf, size_t len)
{
	double mib = (double)kb / 1024, gib = mib / 1024, tib = gib / 1024;
	/* pick the unit after rounding, so 1048575 KiB reads 1.00 GiB, not
	 * 1024.0 MiB */
	if (kb < 1024)
		snprintf(buf, len, "%" PRIu64 " KiB", kb);
	else if (mib < 1023.95)
		snprintf(buf, len, "%.1f MiB", mib);
	else if (gib < 1023.995)
		snprintf(buf, len, "%.2f GiB", gib);
	else
		snprintf(buf, len, "%.2f TiB", tib);
	return buf;
}

int format_parse_pid(const char *s)
{
	long long v = 0;
	if (!s || !*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -1;
	}
	return v > 0 ? (int)v : -1;
}

int format_error(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

int format_utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	uint32_t cp, min;
	int n;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		n = 3, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t format_put_text(FILE *f, const char *s, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	for (; p && *p && n < max_chars; n++) {
		int len = format_utf8_len(p);
		bool control = len == 1 ? *p < 0x20 || *p == 0x7f :
			       len == 2 && p[0] == 0xc2 && p[1] < 0xa0;
		if (len == 0 || control) {
			fputc('?', f);
			p += len ? len : 1;
		} else {
			fwrite(p, 1, (size_t)len, f);
			p += len;
		}
	}
	return n;
}

char *format_text_dup(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		fprintf(stderr, "cowprof: out of memory\n");
		abort();
	}
	format_put_text(f, s, SIZE_MAX);
	if (fclose(f) != 0 || !buf) {
		fprintf(stderr, "cowprof: out of memory\n");
		abort();
	}
	return buf;
}

const char *format_signal_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);
	if (!abbrev && sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
	else if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}
