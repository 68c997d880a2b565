/* report_compare.c - sessions side by side, one column each, as text or JSON */
#include "common/format.h"
#include "common/util.h"
#include "report/json.h"
#include "report/report.h"

#include <math.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>

/* Bytes of the target's short form before it is cut with "...". */
#define TARGET_SHORT_BYTES 28
/* Longest column header (file base name). */
#define NAME_MAX_BYTES 64

static char *cell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *cell(const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s ? s : xstrdup("?");
}

static char *cell_mib(double kb)
{
	return isnan(kb) ? xstrdup("-") : cell("%.1f MiB", kb / 1024);
}

static char *cell_pct(double pct)
{
	return isnan(pct) ? xstrdup("-") : cell("%.1f%%", pct);
}

/* The first max_bytes bytes of s, cut at a character boundary and followed
 * by "..." if cut, control characters as '?'. */
static char *shorten(const char *s, size_t max_bytes)
{
	size_t len = 0, n = strlen(s);
	while (len < n) {
		int k = format_utf8_len((const unsigned char *)s + len);
		if (len + (size_t)(k ? k : 1) > max_bytes)
			break;
		len += (size_t)(k ? k : 1);
	}
	char *out = cell("%.*s%s", (int)len, s, len < n ? "..." : "");
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return out;
}

static const char *const row_labels[REPORT_CMP_NROWS] = {
	[REPORT_CMP_NAME] = "",
	[REPORT_CMP_TARGET] = "target",
	[REPORT_CMP_DURATION] = "recorded",
	[REPORT_CMP_WORKERS] = "workers",
	[REPORT_CMP_INHERITED] = "inherited per worker",
	[REPORT_CMP_SHARED_10S] = "still shared after 10 s",
	[REPORT_CMP_SHARED_60S] = "still shared after 60 s",
	[REPORT_CMP_SHARED_END] = "still shared at the end",
	[REPORT_CMP_COPIED_MEDIAN] = "copied per worker (median)",
	[REPORT_CMP_COPIED_MAX] = "copied per worker (max)",
	[REPORT_CMP_RATE] = "copy rate per worker",
	[REPORT_CMP_RSS_END] = "tree: sum of RSS at the end",
	[REPORT_CMP_REAL_END] = "tree: real memory at the end",
	[REPORT_CMP_SAVING] = "real memory saved vs the first",
	[REPORT_CMP_HUNG] = "processes hung",
	[REPORT_CMP_KILLED] = "processes killed (by OOM)",
};

const char *report_compare_label(enum report_compare_row r)
{
	return r >= 0 && r < REPORT_CMP_NROWS ? row_labels[r] : "";
}

static char *cell_saving(const struct report_column *base,
			 const struct report_column *c)
{
	if (c == base)
		return xstrdup("(base)");
	double kb, pct;
	analysis_saving(&base->s, &c->s, &kb, &pct);
	return cell("%+.1f MiB (%+.1f%%)", kb / 1024, pct);
}

static char *cell_workers(const struct analysis_strategy *s)
{
	if (s->workers_seen != s->workers)
		return cell("%zu (%zu seen)", s->workers, s->workers_seen);
	return cell("%zu", s->workers);
}

/* "3", or "3 (1)" with the OOM kills among them. */
static char *cell_count(size_t n, size_t of_which, bool show)
{
	char *p;
	p = xasprintf(show ? "%zu (%zu)" : "%zu", n, of_which);
	return p;
}

char *report_compare_cell(enum report_compare_row r,
			  const struct report_column *base,
			  const struct report_column *c)
{
	const struct analysis_strategy *s = &c->s;
	char dur[32];
	switch (r) {
	case REPORT_CMP_NAME: return shorten(c->name, NAME_MAX_BYTES);
	case REPORT_CMP_TARGET: return shorten(c->target, TARGET_SHORT_BYTES);
	case REPORT_CMP_DURATION:
		return xstrdup(report_duration(s->duration_s, dur, sizeof(dur)));
	case REPORT_CMP_WORKERS: return cell_workers(s);
	case REPORT_CMP_INHERITED: return cell_mib(s->inherited_kb);
	case REPORT_CMP_SHARED_10S: return cell_pct(s->shared_pct_10s);
	case REPORT_CMP_SHARED_60S: return cell_pct(s->shared_pct_60s);
	case REPORT_CMP_SHARED_END: return cell_pct(s->shared_pct_end);
	case REPORT_CMP_COPIED_MEDIAN: return cell_mib(s->copied_kb_median);
	case REPORT_CMP_COPIED_MAX: return cell_mib(s->copied_kb_max);
	case REPORT_CMP_RATE:
		return isnan(s->copy_rate_kbps) ? xstrdup("-")
			: cell("%.1f KiB/s", s->copy_rate_kbps);
	case REPORT_CMP_RSS_END: return cell_mib((double)s->rss_kb_end);
	case REPORT_CMP_REAL_END: return cell_mib((double)s->unique_kb_end);
	case REPORT_CMP_SAVING: return cell_saving(base, c);
	case REPORT_CMP_HUNG: return cell_count(s->hung, 0, false);
	case REPORT_CMP_KILLED: return cell_count(s->killed, s->oom_killed, true);
	case REPORT_CMP_NROWS: break;
	}
	return xstrdup("");
}

void report_compare_text(FILE *f, const struct report_column *cols, size_t n)
{
	char **cells = xcalloc(REPORT_CMP_NROWS * n + 1, sizeof(*cells));
	size_t *width = xcalloc(n + 1, sizeof(*width));
	int label_width = 0;
	for (int r = 0; r < REPORT_CMP_NROWS; r++) {
		int w = (int)strlen(row_labels[r]);
		label_width = w > label_width ? w : label_width;
		for (size_t c = 0; c < n; c++) {
			/* cells hold target text: shown as on a terminal */
			char *raw = report_compare_cell(r, &cols[0], &cols[c]);
			char *s = cells[r * n + c] = format_text_dup(raw);
			free(raw);
			if (strlen(s) > width[c])
				width[c] = strlen(s);
		}
	}
	for (int r = 0; r < REPORT_CMP_NROWS; r++) {
		fprintf(f, "%-*s", label_width, row_labels[r]);
		for (size_t c = 0; c < n; c++) {
			const char *s = cells[r * n + c];
			/* pad by bytes of the cell: a multibyte name may look narrower */
			fprintf(f, "  %*s", (int)width[c], s);
		}
		fputc('\n', f);
	}
	for (size_t k = 0; k < REPORT_CMP_NROWS * n; k++)
		free(cells[k]);
	free(cells);
	free(width);
}

static void json_column(struct json *j, const struct report_column *base,
			const struct report_column *c)
{
	const struct analysis_strategy *s = &c->s;
	double kb, pct;
	analysis_saving(&base->s, s, &kb, &pct);
	json_object_begin(j);
	json_kv_string(j, "file", c->path);
	json_kv_string(j, "name", c->name);
	json_kv_string(j, "target", c->target);
	json_kv_double(j, "duration_s", s->duration_s, 3);
	json_kv_uint(j, "workers", s->workers);
	json_kv_uint(j, "workers_seen", s->workers_seen);
	json_kv_double(j, "inherited_kb", s->inherited_kb, 1);
	json_kv_double(j, "shared_pct_10s", s->shared_pct_10s, 2);
	json_kv_double(j, "shared_pct_60s", s->shared_pct_60s, 2);
	json_kv_double(j, "shared_pct_end", s->shared_pct_end, 2);
	json_kv_double(j, "copied_kb_median", s->copied_kb_median, 1);
	json_kv_double(j, "copied_kb_max", s->copied_kb_max, 1);
	json_kv_double(j, "copy_rate_kbps", s->copy_rate_kbps, 2);
	json_kv_uint(j, "tree_rss_kb_end", s->rss_kb_end);
	json_kv_uint(j, "tree_unique_kb_end", s->unique_kb_end);
	json_kv_double(j, "saving_kb", kb, 0);
	json_kv_double(j, "saving_pct", pct, 2);
	json_kv_uint(j, "hung", s->hung);
	json_kv_uint(j, "killed", s->killed);
	json_kv_uint(j, "oom_killed", s->oom_killed);
	json_object_end(j);
}

void report_compare_json(FILE *f, const struct report_column *cols, size_t n)
{
	struct json j;
	json_init(&j, f);
	json_object_begin(&j);
	json_kv_string(&j, "base", n ? cols[0].name : "");
	json_key(&j, "sessions");
	json_array_begin(&j);
	for (size_t c = 0; c < n; c++)
		json_column(&j, &cols[0], &cols[c]);
	json_array_end(&j);
	json_object_end(&j);
	fputc('\n', f);
}

void report_column_init(struct report_column *col, const char *path,
			const struct session_data *d)
{
	col->path = path;
	col->name = report_column_name(path);
	col->target = xstrdup(analysis_target(d));
	analysis_strategy(d, &col->s);
}

void report_column_release(struct report_column *col)
{
	free((char *)col->name);
	free((char *)col->target);
	col->name = col->target = NULL;
}

void report_compare_unique_names(struct report_column *cols, size_t n)
{
	bool *dup = xcalloc(n + 1, sizeof(*dup));
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n; k++)
			if (k != i && !strcmp(cols[i].name, cols[k].name))
				dup[i] = true;
	for (size_t i = 0; i < n; i++)
		if (dup[i]) {
			free((char *)cols[i].name);
			cols[i].name = xstrdup(cols[i].path);
		}
	free(dup);
}
