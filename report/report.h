/* report.h - a recorded session as text, JSON, CSV, HTML, OpenMetrics or
 * folded stacks, and several sessions compared side by side
 *
 * Every formatter reads a loaded session and its analysis (analysis.h) and
 * writes to a FILE; none allocates what it returns or prints errors. The
 * formats and every column are described in docs/reports.md. One file per
 * format: report_text.c, report_json.c, report_csv.c, report_html.c,
 * report_openmetrics.c, report_compare.c; shared helpers in report.c.
 */
#ifndef COWPROF_REPORT_REPORT_H
#define COWPROF_REPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "analysis/analysis.h"
#include "store/session.h"

enum report_format {
	REPORT_TEXT,
	REPORT_JSON,
	REPORT_CSV,
	REPORT_HTML,
	REPORT_OPENMETRICS,
	REPORT_FOLDED,
};

/* How many regions the text, JSON and HTML reports list. */
#define REPORT_TOP_REGIONS 10
/* How many rows of the tree over time the text report shows. */
#define REPORT_TREE_ROWS 6

/* What every formatter reads. */
struct report_input {
	const struct session_data *d;
	const struct analysis *a;   /* analysis_init(a, d) */
	const char *name;           /* the session as the user named it */
};

/* The format called name ("text", "json", ...). Returns 0, or -EINVAL for
 * an unknown name. */
int report_format_parse(const char *name, enum report_format *out);

/* The list of format names, for messages: "text, json, ...". */
const char *report_format_names(void);

/* Write the report of in in format fmt to f. Returns 0, or -EIO when f
 * reports a write error. */
int report_write(FILE *f, enum report_format fmt, const struct report_input *in);

struct json;

/* Write the figures of f as "rss_kb": ... "shared_anywhere_kb" members of
 * the JSON object being written (snapshot --json and report --format json
 * share these names). */
void report_json_figures(struct json *j, const struct cow_figures *f);

/* The formatters report_write calls. */
void report_text(FILE *f, const struct report_input *in);
void report_json(FILE *f, const struct report_input *in);
void report_csv(FILE *f, const struct report_input *in);
void report_html(FILE *f, const struct report_input *in);
void report_openmetrics(FILE *f, const struct report_input *in);

/* Folded stacks ("frame;frame;frame COUNT" per line) weighted by copied
 * pages (callsites_folded); nothing without fault attribution. Returns the
 * number of stacks written. */
size_t report_folded(FILE *f, const struct report_input *in);

/* ---- compare ---- */

struct report_column {
	const char *path;           /* the session file as given */
	const char *name;           /* column header: the file's base name */
	const char *target;         /* the target's command line, or "" */
	struct analysis_strategy s;
};

/* The rows of the comparison, in the order it prints them. */
enum report_compare_row {
	REPORT_CMP_NAME, REPORT_CMP_TARGET, REPORT_CMP_DURATION,
	REPORT_CMP_WORKERS, REPORT_CMP_INHERITED, REPORT_CMP_SHARED_10S,
	REPORT_CMP_SHARED_60S, REPORT_CMP_SHARED_END, REPORT_CMP_COPIED_MEDIAN,
	REPORT_CMP_COPIED_MAX, REPORT_CMP_RATE, REPORT_CMP_RSS_END,
	REPORT_CMP_REAL_END, REPORT_CMP_SAVING, REPORT_CMP_HUNG,
	REPORT_CMP_KILLED, REPORT_CMP_NROWS
};

/* Fill col from the loaded session d: path is borrowed, name (the base
 * name) and target are allocated (report_column_release frees them). */
void report_column_init(struct report_column *col, const char *path,
			const struct session_data *d);

/* Free the name and target of col (not col). */
void report_column_release(struct report_column *col);

/* Columns with the same base name are named by their path instead. */
void report_compare_unique_names(struct report_column *cols, size_t n);

/* The label of row r as the text comparison prints it ("" for the name
 * row, "copied per worker (median)", ...); static. */
const char *report_compare_label(enum report_compare_row r);

/* The cell of row r for column c as the text comparison prints it
 * ("1.2 MiB", "93.5%", "-"), base being the column savings count from.
 * The caller frees it. */
char *report_compare_cell(enum report_compare_row r,
			  const struct report_column *base,
			  const struct report_column *c);

/* One column per session, the first one being the base of the savings. */
void report_compare_text(FILE *f, const struct report_column *cols, size_t n);
void report_compare_json(FILE *f, const struct report_column *cols, size_t n);

/* The base name of path without a ".db" suffix, in a string the caller
 * frees. */
char *report_column_name(const char *path);

/* ---- helpers shared by the formatters ---- */

/* Write s escaped for HTML and XML text or attribute values: & < > " '
 * as entities, control characters and invalid UTF-8 as U+FFFD, so the
 * page stays well-formed whatever the session holds. */
void report_put_html(FILE *f, const char *s);

/* Write s as an OpenMetrics label value (without the quotes): \ " and
 * newline escaped, other control characters and invalid UTF-8 as U+FFFD. */
void report_put_om_label(FILE *f, const char *s);

/* Write s as one CSV field (RFC 4180): quoted when it holds a comma, a
 * quote, CR or LF, with quotes doubled. */
void report_put_csv(FILE *f, const char *s);


/* Format a duration into buf (at least 24 bytes): "9.5s", "12m05s",
 * "3h02m"; negative or not finite as "0.0s". Returns buf. */
char *report_duration(double s, char *buf, size_t len);

/* Format t (seconds since the epoch) as "2023-11-14 22:13:20 UTC" into buf
 * (at least 32 bytes). Returns buf. */
char *report_utc(double t, char *buf, size_t len);

#endif
