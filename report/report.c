/* report.c - report formats by name, and helpers the formatters share */
#include "report/report.h"
#include "analysis/callsites.h"
#include "common/format.h"
#include "common/util.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static const char *const format_names[] = {
	[REPORT_TEXT] = "text",
	[REPORT_JSON] = "json",
	[REPORT_CSV] = "csv",
	[REPORT_HTML] = "html",
	[REPORT_OPENMETRICS] = "openmetrics",
	[REPORT_FOLDED] = "folded",
};

#define NFORMATS (sizeof(format_names) / sizeof(format_names[0]))

int report_format_parse(const char *name, enum report_format *out)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (!strcmp(name, format_names[i])) {
			*out = (enum report_format)i;
			return 0;
		}
	return -EINVAL;
}

const char *report_format_names(void)
{
	return "text, json, csv, html, openmetrics, folded";
}

int report_write(FILE *f, enum report_format fmt, const struct report_input *in)
{
	switch (fmt) {
	case REPORT_TEXT: report_text(f, in); break;
	case REPORT_JSON: report_json(f, in); break;
	case REPORT_CSV: report_csv(f, in); break;
	case REPORT_HTML: report_html(f, in); break;
	case REPORT_OPENMETRICS: report_openmetrics(f, in); break;
	case REPORT_FOLDED: report_folded(f, in); break;
	}
	return ferror(f) ? -EIO : 0;
}

size_t report_folded(FILE *f, const struct report_input *in)
{
	return callsites_folded(f, in->d);
}

char *report_column_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash && slash[1] ? slash + 1 : path;
	char *name = xstrdup(base);
	size_t len = strlen(name);
	if (len > 3 && !strcmp(name + len - 3, ".db"))
		name[len - 3] = 0;
	return name;
}

/* Call put(f, c) for each byte of valid UTF-8 and U+FFFD for each invalid
 * byte; ASCII bytes go through put(), longer sequences are copied. */
static void put_utf8(FILE *f, const char *str, void (*put)(FILE *, unsigned char))
{
	const unsigned char *s = (const unsigned char *)str;
	while (*s) {
		int n = format_utf8_len(s);
		if (n == 1)
			put(f, *s);
		else if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
			/* a C1 control (U+0080..U+009F), which terminals obey
			 * when the file is shown on one: kept out */
			fputs("\xef\xbf\xbd", f);
		else if (n > 1)
			fwrite(s, 1, (size_t)n, f);
		else
			fputs("\xef\xbf\xbd", f);
		s += n ? n : 1;
	}
}

static void put_html_char(FILE *f, unsigned char c)
{
	switch (c) {
	case '&': fputs("&amp;", f); break;
	case '<': fputs("&lt;", f); break;
	case '>': fputs("&gt;", f); break;
	case '"': fputs("&quot;", f); break;
	case '\'': fputs("&#39;", f); break;
	default:
		/* XML 1.0 allows no control characters but tab, LF and CR;
		 * CR as a reference, so the file is also safe to cat */
		if (c == '\r')
			fputs("&#13;", f);
		else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			fputs("\xef\xbf\xbd", f);
		else
			fputc(c, f);
	}
}

void report_put_html(FILE *f, const char *s)
{
	put_utf8(f, s, put_html_char);
}

static void put_om_char(FILE *f, unsigned char c)
{
	if (c == '\\' || c == '"')
		fprintf(f, "\\%c", c);
	else if (c == '\n')
		fputs("\\n", f);
	else if (c < 0x20 || c == 0x7f)
		fputs("\xef\xbf\xbd", f);  /* keep other control characters out */
	else
		fputc(c, f);
}

void report_put_om_label(FILE *f, const char *s)
{
	put_utf8(f, s, put_om_char);
}

void report_put_csv(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}
char *report_duration(double s, char *buf, size_t len)
{
	if (!isfinite(s) || s < 0)
		s = 0;
	if (s > 1e12)
		s = 1e12;  /* a corrupted time: keep the text short */
	long total = lround(s);
	if (s < 59.95)
		snprintf(buf, len, "%.1fs", s);
	else if (total < 3600)
		snprintf(buf, len, "%ldm%02lds", total / 60, total % 60);
	else
		snprintf(buf, len, "%ldh%02ldm", total / 3600, total / 60 % 60);
	return buf;
}

char *report_utc(double t, char *buf, size_t len)
{
	time_t secs = (time_t)floor(t);
	struct tm tm;
	if (!gmtime_r(&secs, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "%.0f", t);
	return buf;
}
