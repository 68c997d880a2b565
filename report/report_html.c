/* report_html.c - a recorded session as one self-contained HTML page
 *
 * No script, no network, no external font: inline CSS and SVG only. The
 * page is also well-formed XML (XHTML syntax: closed void elements, every
 * string escaped), so XML tools can check and read it.
 */
#include "common/format.h"
#include "common/util.h"
#include "report/report.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* More points than this in one curve are thinned to it. */
#define CHART_MAX_POINTS 1500

/* ---- charts ---- */

struct chart_series {
	const char *label, *color;
	double *x, *y;           /* seconds, MiB */
	size_t n;
	bool dashed;
};

struct chart_marker {
	double x;
	const char *color;
	char *title;             /* owned */
};

struct chart {
	int width, height;
	double x_min, x_max, y_max;
	bool x_from_zero;        /* start the x axis at 0 (the fork) */
	const char *x_label;
	struct chart_series series[4];
	size_t nseries;
	struct chart_marker *markers;
	size_t nmarkers, markers_cap;
};

enum { PAD_LEFT = 64, PAD_RIGHT = 16, PAD_TOP = 28, PAD_BOTTOM = 40 };

/* A step of 1, 2 or 5 times a power of ten giving about 5 ticks; never
 * more than MAX_TICKS drawn. */
#define MAX_TICKS 20

static double nice_step(double range)
{
	if (!(range > 0))
		return 1;
	double raw = range / 5, mag = pow(10, floor(log10(raw)));
	double m = raw / mag;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * mag;
}

static double px_x(const struct chart *c, double x)
{
	double w = c->width - PAD_LEFT - PAD_RIGHT;
	return PAD_LEFT + (x - c->x_min) / (c->x_max - c->x_min) * w;
}

static double px_y(const struct chart *c, double y)
{
	double h = c->height - PAD_TOP - PAD_BOTTOM;
	return c->height - PAD_BOTTOM - y / c->y_max * h;
}

/* Fit the axes to the series: x over their span, y from 0 to a tick. */
static void chart_fit(struct chart *c)
{
	double lo = INFINITY, hi = -INFINITY, top = 0;
	for (size_t s = 0; s < c->nseries; s++)
		for (size_t k = 0; k < c->series[s].n; k++) {
			lo = fmin(lo, c->series[s].x[k]);
			hi = fmax(hi, c->series[s].x[k]);
			top = fmax(top, c->series[s].y[k]);
		}
	c->x_min = isfinite(lo) ? lo : 0;
	if (c->x_from_zero && c->x_min > 0)
		c->x_min = 0;
	c->x_max = isfinite(hi) && hi > c->x_min ? hi : c->x_min + 1;
	double step = nice_step(top);
	c->y_max = top > 0 ? ceil(top / step) * step : 1;
	if (c->y_max < top)
		c->y_max = top;
}

static void chart_axes(FILE *f, const struct chart *c)
{
	double ystep = nice_step(c->y_max), xstep = nice_step(c->x_max - c->x_min);
	/* ticks counted, not stepped to the end: a step below the values'
	 * precision would never get there */
	for (int i = 0; i <= MAX_TICKS; i++) {
		double y = i * ystep;
		if (y > c->y_max + ystep / 1e6)
			break;
		fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
			"<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			PAD_LEFT, c->width - PAD_RIGHT, px_y(c, y), px_y(c, y),
			PAD_LEFT - 6, px_y(c, y) + 4, y);
	}
	double x0 = ceil(c->x_min / xstep) * xstep;
	for (int i = 0; i <= MAX_TICKS; i++) {
		double x = x0 + i * xstep;
		if (x > c->x_max + xstep / 1e6)
			break;
		fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
			px_x(c, x), c->height - PAD_BOTTOM + 16, x);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>\n",
		PAD_LEFT, c->width - PAD_RIGHT, c->height - PAD_BOTTOM,
		c->height - PAD_BOTTOM);
	fprintf(f, "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
		(PAD_LEFT + c->width - PAD_RIGHT) / 2, c->height - 6);
	report_put_html(f, c->x_label);
	fprintf(f, "</text>\n<text class=\"label\" x=\"12\" y=\"%d\" "
		"transform=\"rotate(-90 12 %d)\" text-anchor=\"middle\">MiB</text>\n",
		c->height / 2, c->height / 2);
}

static void chart_series_path(FILE *f, const struct chart *c,
			      const struct chart_series *s)
{
	size_t stride = s->n > CHART_MAX_POINTS ? (s->n + CHART_MAX_POINTS - 1) /
						  CHART_MAX_POINTS : 1;
	fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
		s->color, s->dashed ? " stroke-dasharray=\"4 3\"" : "");
	for (size_t k = 0; k < s->n; k += stride)
		fprintf(f, "%s%.1f,%.1f", k ? " " : "", px_x(c, s->x[k]), px_y(c, s->y[k]));
	if ((s->n - 1) % stride)
		fprintf(f, " %.1f,%.1f", px_x(c, s->x[s->n - 1]), px_y(c, s->y[s->n - 1]));
	fputs("\"/>\n", f);
	if (s->n == 1)
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
			px_x(c, s->x[0]), px_y(c, s->y[0]), s->color);
}

static void chart_legend(FILE *f, const struct chart *c)
{
	int x = PAD_LEFT;
	for (size_t s = 0; s < c->nseries; s++) {
		fprintf(f, "<rect x=\"%d\" y=\"8\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			"<text class=\"legend\" x=\"%d\" y=\"18\">", x, c->series[s].color,
			x + 16);
		report_put_html(f, c->series[s].label);
		fputs("</text>\n", f);
		x += 24 + 7 * (int)strlen(c->series[s].label);
	}
}

static void chart_markers(FILE *f, const struct chart *c)
{
	for (size_t m = 0; m < c->nmarkers; m++) {
		const struct chart_marker *k = &c->markers[m];
		if (k->x < c->x_min || k->x > c->x_max)
			continue;
		fprintf(f, "<line class=\"marker\" stroke=\"%s\" x1=\"%.1f\" x2=\"%.1f\" "
			"y1=\"%d\" y2=\"%d\"><title>", k->color, px_x(c, k->x),
			px_x(c, k->x), PAD_TOP, c->height - PAD_BOTTOM);
		report_put_html(f, k->title);
		fputs("</title></line>\n", f);
	}
}

static void chart_write(FILE *f, struct chart *c, const char *title)
{
	chart_fit(c);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">"
		"<title>", c->width, c->height, c->width, c->height);
	report_put_html(f, title);
	fputs("</title>\n", f);
	chart_axes(f, c);
	chart_markers(f, c);
	for (size_t s = 0; s < c->nseries; s++)
		if (c->series[s].n)
			chart_series_path(f, c, &c->series[s]);
	chart_legend(f, c);
	fputs("</svg>\n", f);
}

static struct chart_series *chart_add(struct chart *c, const char *label,
				      const char *color, size_t n)
{
	struct chart_series *s = &c->series[c->nseries++];
	s->label = label;
	s->color = color;
	s->x = xcalloc(n + 1, sizeof(double));
	s->y = xcalloc(n + 1, sizeof(double));
	s->n = n;
	return s;
}

static void chart_mark(struct chart *c, double x, const char *color, char *title)
{
	util_grow((void **)&c->markers, &c->markers_cap, c->nmarkers + 1,
		  sizeof(*c->markers));
	c->markers[c->nmarkers++] = (struct chart_marker){ x, color, title };
}

static void chart_release(struct chart *c)
{
	for (size_t s = 0; s < c->nseries; s++) {
		free(c->series[s].x);
		free(c->series[s].y);
	}
	for (size_t m = 0; m < c->nmarkers; m++)
		free(c->markers[m].title);
	free(c->markers);
}

static double mib(uint64_t kb)
{
	return (double)kb / 1024;
}

/* ---- the page ---- */

static const char style[] =
	"body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
	"h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}"
	"table{border-collapse:collapse;font-size:0.9em}"
	"td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right;"
	"white-space:nowrap}"
	"td.l,th.l{text-align:left}td.cmd{text-align:left;white-space:normal}"
	"table.meta td{text-align:left;border:none}"
	".charts{display:flex;flex-wrap:wrap;gap:12px}"
	"figure{margin:0;border:1px solid #ddd;padding:4px}"
	"figcaption{font-size:0.85em;max-width:420px;overflow-wrap:anywhere}"
	".grid{stroke:#eee}.axis{stroke:#888}.marker{stroke-width:1;"
	"stroke-dasharray:3 3}.tick,.legend,.label{font-size:11px;fill:#444}";

static void td(FILE *f, const char *cls, const char *text)
{
	fputs(cls ? "<td class=\"" : "<td>", f);
	if (cls) {
		fputs(cls, f);
		fputs("\">", f);
	}
	report_put_html(f, text);
	fputs("</td>", f);
}

static void td_kb(FILE *f, uint64_t kb)
{
	char b[FORMAT_KB_LEN];
	td(f, NULL, format_kb(kb, b, FORMAT_KB_LEN));
}

static void meta_row(FILE *f, const char *key, const char *value)
{
	fputs("<tr>", f);
	td(f, NULL, key);
	td(f, NULL, value ? value : "?");
	fputs("</tr>\n", f);
}

static void head(FILE *f, const struct report_input *in)
{
	fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
	      "<head>\n<meta charset=\"utf-8\"/>\n<title>cowprof report: ", f);
	report_put_html(f, in->name);
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>cowprof report: ",
		style);
	report_put_html(f, in->name);
	fputs("</h1>\n", f);
}

static void summary(FILE *f, const struct report_input *in)
{
	const struct session_data *d = in->d;
	char when[40], dur[24], line[128];
	fputs("<table class=\"meta\">\n", f);
	meta_row(f, "target", analysis_target(d));
	meta_row(f, "root pid", session_meta(d, SINK_META_ROOT_PID));
	snprintf(line, sizeof(line), "%s for %s, %zu samples every %gs",
		 report_utc(in->a->start_time, when, sizeof(when)),
		 report_duration(in->a->end_time - in->a->start_time, dur, sizeof(dur)),
		 d->nsamples, in->a->interval_s);
	meta_row(f, "recorded", line);
	meta_row(f, "host", session_meta(d, SINK_META_HOSTNAME));
	meta_row(f, "kernel", session_meta(d, SINK_META_KERNEL));
	meta_row(f, "recorder", session_meta(d, SINK_META_COMMAND));
	meta_row(f, "cowprof", session_meta(d, SINK_META_COWPROF_VERSION));
	fputs("</table>\n", f);
}

/* A marker per fork and exit event, at its offset from start. */
static void event_markers(struct chart *c, const struct report_input *in,
			  double start)
{
	for (size_t k = 0; k < in->a->nevents; k++) {
		const struct analysis_event *e = &in->a->events[k];
		bool fork = !strcmp(e->kind, "fork"), ex = !strcmp(e->kind, "exit");
		if (!fork && !ex)
			continue;
		char *title;
		const char *what = ex && e->proc >= 0 ? in->a->procs[e->proc].exit_desc
						      : e->kind;
		if (asprintf(&title, "%+.1fs pid %d %s", e->t - start, e->pid, what) < 0)
			continue;
		chart_mark(c, e->t - start, fork ? "#2a2" : "#d60", title);
	}
}

static void tree_chart(FILE *f, const struct report_input *in)
{
	const struct analysis *a = in->a;
	struct chart c = { .width = 900, .height = 280,
			   .x_label = "seconds since the start of the recording" };
	struct chart_series *rss = chart_add(&c, "sum of RSS", "#888", a->ntree);
	struct chart_series *real = chart_add(&c, "real memory", "#1f6fb4", a->ntree);
	for (size_t k = 0; k < a->ntree; k++) {
		rss->x[k] = real->x[k] = a->tree[k].t - a->start_time;
		rss->y[k] = mib(a->tree[k].rss_kb);
		real->y[k] = mib(a->tree[k].unique_kb);
	}
	event_markers(&c, in, a->start_time);
	fputs("<h2>The tree's memory over time</h2>\n<p>The sum of RSS counts a "
	      "shared page in every process that maps it; real memory counts it "
	      "once. Lines mark forks (green) and exits (orange).</p>\n", f);
	chart_write(f, &c, "sum of RSS and real memory of the tree");
	chart_release(&c);
}

static void tree_table(FILE *f, const struct report_input *in)
{
	size_t rows[REPORT_TREE_ROWS];
	size_t n = analysis_pick_rows(in->a->ntree, REPORT_TREE_ROWS, rows);
	fputs("<table>\n<tr><th>time</th><th>processes</th><th>sum of RSS</th>"
	      "<th>real memory</th><th>saving</th><th>saving %</th></tr>\n", f);
	for (size_t r = 0; r < n; r++) {
		const struct analysis_tree_point *t = &in->a->tree[rows[r]];
		fprintf(f, "<tr><td>%+.1fs</td><td>%zu</td>", t->t - in->a->start_time,
			t->nprocs);
		td_kb(f, t->rss_kb);
		td_kb(f, t->unique_kb);
		td_kb(f, t->saving_kb);
		fprintf(f, "<td>%.0f%%</td></tr>\n", t->saving_pct);
	}
	fputs("</table>\n", f);
}

static void td_shared(FILE *f, const struct analysis_proc *p)
{
	char b[2][FORMAT_KB_LEN];
	if (p->role == ANALYSIS_MASTER || !p->sampled || p->shared_pct_first < 0) {
		fputs("<td>-</td><td>-</td>", f);
		return;
	}
	fprintf(f, "<td>%s (%.0f%%)</td><td>%s (%.0f%%)</td>",
		format_kb(p->first.shared_with_parent_kb, b[0], FORMAT_KB_LEN), p->shared_pct_first,
		format_kb(p->last.shared_with_parent_kb, b[1], FORMAT_KB_LEN),
		p->shared_pct_last < 0 ? 0 : p->shared_pct_last);
}

static void process_row(FILE *f, const struct report_input *in, size_t i)
{
	const struct analysis_proc *p = &in->a->procs[i];
	char b[24];
	/* the tree: each level indented a bit more */
	fprintf(f, "<tr><td class=\"l\" style=\"padding-left:%.1fem\">%d</td>",
		0.5 + 1.2 * p->depth, in->d->procs[i].pid);
	td(f, "l", analysis_role_name(p->role));
	td(f, NULL, report_duration(p->lifetime_s, b, sizeof(b)));
	if (p->sampled) {
		td_kb(f, p->first.rss_kb);
		td_kb(f, p->first.anon_kb);
	} else {
		fputs("<td>-</td><td>-</td>", f);
	}
	td_shared(f, p);
	bool cow = p->role != ANALYSIS_MASTER && p->sampled;
	if (cow) {
		td_kb(f, p->last.copied_kb);
		fprintf(f, "<td>%.1f</td><td>%.1f</td>", p->copy_rate_kbps,
			p->recent_copy_rate_kbps);
	} else {
		fputs("<td>-</td><td>-</td><td>-</td>", f);
	}
	td(f, NULL, p->half_shared_s < 0 ? "-" :
	   report_duration(p->half_shared_s, b, sizeof(b)));
	td_kb(f, p->peak_rss_kb);
	td(f, "l", p->exit_desc);
	td(f, "cmd", in->d->procs[i].cmd);
	fputs("</tr>\n", f);
}

static void process_table(FILE *f, const struct report_input *in)
{
	fputs("<h2>Processes</h2>\n<p>Memory at the first sample; shared with the "
	      "parent at the first sample and the last; copy rates in KiB/s since "
	      "fork and over the last 10 s; age when half the inherited memory was "
	      "copied.</p>\n<table>\n<tr><th class=\"l\">pid</th><th class=\"l\">role</th>"
	      "<th>lifetime</th><th>RSS</th><th>anon</th><th>shared first</th>"
	      "<th>shared last</th><th>copied</th><th>rate</th><th>recent</th>"
	      "<th>half</th><th>peak RSS</th><th class=\"l\">exit</th>"
	      "<th class=\"l\">command</th></tr>\n", f);
	for (size_t k = 0; k < in->d->nprocs; k++)
		process_row(f, in, in->a->order[k]);
	fputs("</table>\n", f);
}

/* Markers of one process's chart: its half-shared age and its exit. */
static void process_markers(struct chart *c, const struct analysis_proc *p)
{
	char *title;
	if (p->half_shared_s >= 0 &&
	    asprintf(&title, "half the inherited memory copied at %.1fs",
		     p->half_shared_s) >= 0)
		chart_mark(c, p->half_shared_s, "#c22", title);
	if (p->exit != ANALYSIS_RUNNING &&
	    asprintf(&title, "%s at %.1fs", p->exit_desc, p->lifetime_s) >= 0)
		chart_mark(c, p->lifetime_s, "#d60", title);
}

static void process_chart(FILE *f, const struct report_input *in, size_t i)
{
	const struct session_process *sp = &in->d->procs[i];
	const struct analysis_proc *p = &in->a->procs[i];
	bool master = p->role == ANALYSIS_MASTER;
	struct chart c = { .width = 420, .height = 200, .x_from_zero = !master,
			   .x_label = "seconds since fork" };
	struct chart_series *a = chart_add(&c, master ? "anon" : "shared with parent",
					   "#1f6fb4", sp->npoints);
	struct chart_series *b = chart_add(&c, master ? "RSS" : "copied",
					   master ? "#888" : "#c22", sp->npoints);
	for (size_t k = 0; k < sp->npoints; k++) {
		const struct cow_figures *g = &sp->points[k].fig;
		a->x[k] = b->x[k] = in->d->samples[sp->points[k].sample].t - p->fork_time;
		a->y[k] = mib(master ? g->anon_kb : g->shared_with_parent_kb);
		b->y[k] = mib(master ? g->rss_kb : g->copied_kb);
	}
	process_markers(&c, p);
	fprintf(f, "<figure><figcaption>%d %s: ", sp->pid, analysis_role_name(p->role));
	report_put_html(f, sp->cmd);
	fputs("</figcaption>\n", f);
	chart_write(f, &c, "copy-on-write curve");
	fputs("</figure>\n", f);
	chart_release(&c);
}

static void process_charts(FILE *f, const struct report_input *in)
{
	fputs("<h2>Copy-on-write curves</h2>\n<p>For each process since its fork: "
	      "memory still shared with its parent (blue) and copied (red); the "
	      "master shows its anonymous memory and RSS.</p>\n<div class=\"charts\">\n",
	      f);
	for (size_t k = 0; k < in->d->nprocs; k++)
		if (in->d->procs[in->a->order[k]].npoints)
			process_chart(f, in, in->a->order[k]);
	fputs("</div>\n", f);
}

static void regions(FILE *f, const struct report_input *in)
{
	struct analysis_region top[REPORT_TOP_REGIONS];
	size_t n = analysis_top_regions(in->d, REPORT_TOP_REGIONS, top);
	fputs("<h2>Regions copied most</h2>\n", f);
	if (!n) {
		fputs("<p>No region copied anything.</p>\n", f);
		return;
	}
	fputs("<table>\n<tr><th>pid</th><th class=\"l\">kind</th><th class=\"l\">perms"
	      "</th><th class=\"l\">address</th><th>copied</th><th>shared</th>"
	      "<th>RSS</th><th class=\"l\">path</th></tr>\n", f);
	for (size_t k = 0; k < n; k++) {
		const struct session_process *p = &in->d->procs[top[k].proc];
		const struct session_region *r = &p->regions[top[k].region];
		fprintf(f, "<tr><td>%d</td>", p->pid);
		td(f, "l", r->kind);
		td(f, "l", r->perms);
		fprintf(f, "<td class=\"l\">%012" PRIx64 "-%012" PRIx64 "</td>",
			r->start, r->end);
		td_kb(f, top[k].fig.copied_kb);
		td_kb(f, top[k].fig.shared_with_parent_kb);
		td_kb(f, top[k].fig.rss_kb);
		td(f, "cmd", r->path);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void event_row(FILE *f, const struct report_input *in,
		      const struct analysis_event *e)
{
	fprintf(f, "<tr><td>%+.1fs</td>", e->t - in->a->start_time);
	td(f, "l", e->kind);
	if (e->proc >= 0 || e->pid > 0)
		fprintf(f, "<td>%d</td>", e->pid);
	else
		fputs("<td></td>", f);
	fputs("<td class=\"cmd\">", f);
	if (e->proc >= 0 && !strcmp(e->kind, "exit")) {
		report_put_html(f, in->a->procs[e->proc].exit_desc);
	} else {
		if (e->respawn_of >= 0)
			fprintf(f, "respawn of %d: ", in->d->procs[e->respawn_of].pid);
		report_put_html(f, e->detail);
	}
	fputs("</td></tr>\n", f);
}

static void events(FILE *f, const struct report_input *in)
{
	fputs("<h2>Events</h2>\n", f);
	if (!in->a->nevents) {
		fputs("<p>None recorded.</p>\n", f);
		return;
	}
	fputs("<table>\n<tr><th>time</th><th class=\"l\">event</th><th>pid</th>"
	      "<th class=\"l\">detail</th></tr>\n", f);
	for (size_t k = 0; k < in->a->nevents; k++)
		event_row(f, in, &in->a->events[k]);
	fputs("</table>\n", f);
}

void report_html(FILE *f, const struct report_input *in)
{
	head(f, in);
	summary(f, in);
	if (in->a->ntree) {
		tree_chart(f, in);
		tree_table(f, in);
	}
	process_table(f, in);
	process_charts(f, in);
	regions(f, in);
	events(f, in);
	fputs("</body>\n</html>\n", f);
}
