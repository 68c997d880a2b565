/* analysis.c - figures computed from a recorded session, for every report */
#include "analysis/analysis.h"
#include "common/format.h"
#include "common/util.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the recording ---- */

/* A metadata value as a number; NaN when missing or malformed. */
static double meta_number(const struct session_data *d, const char *key)
{
	const char *v = session_meta(d, key);
	char *end;
	if (!v || !*v)
		return NAN;
	double x = strtod(v, &end);
	return *end || !isfinite(x) ? NAN : x;
}

const char *analysis_target(const struct session_data *d)
{
	const char *t = session_meta(d, SINK_META_TARGET);
	if (t && *t)
		return t;
	for (size_t i = 0; i < d->nprocs; i++)
		if (d->procs[i].parent < 0)
			return d->procs[i].cmd;
	return "";
}

double analysis_start_time(const struct session_data *d)
{
	double started = meta_number(d, SINK_META_STARTED);
	if (!d->nsamples)
		return isnan(started) ? 0 : started;
	double first = d->samples[0].t;
	return isnan(started) || started > first ? first : started;
}

double analysis_end_time(const struct session_data *d)
{
	double ended = meta_number(d, SINK_META_ENDED);
	if (!d->nsamples)
		return isnan(ended) ? 0 : ended;
	double last = d->samples[d->nsamples - 1].t;
	return isnan(ended) || ended < last ? last : ended;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double analysis_median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double analysis_interval_s(const struct session_data *d)
{
	double meta = meta_number(d, SINK_META_INTERVAL_S);
	if (!isnan(meta) && meta > 0)
		return meta;
	if (d->nsamples < 2)
		return 0;
	double *gaps = xmalloc((d->nsamples - 1) * sizeof(*gaps));
	for (size_t k = 1; k < d->nsamples; k++)
		gaps[k - 1] = d->samples[k].t - d->samples[k - 1].t;
	double m = analysis_median(gaps, d->nsamples - 1);
	free(gaps);
	return m;
}

/* ---- one process ---- */

int analysis_depth(const struct session_data *d, size_t i)
{
	int depth = 0;
	/* parents come before children; the bound guards a corrupted file */
	for (int p = d->procs[i].parent; p >= 0 && (size_t)depth < d->nprocs;
	     p = d->procs[p].parent)
		depth++;
	return depth;
}

enum analysis_role analysis_role(const struct session_data *d, size_t i)
{
	int depth = analysis_depth(d, i);
	return depth == 0 ? ANALYSIS_MASTER : depth == 1 ? ANALYSIS_WORKER
							 : ANALYSIS_CHILD;
}

const char *analysis_role_name(enum analysis_role r)
{
	switch (r) {
	case ANALYSIS_MASTER: return "master";
	case ANALYSIS_WORKER: return "worker";
	case ANALYSIS_CHILD: return "child";
	}
	return "?";
}

static double point_time(const struct session_data *d,
			 const struct session_point *p)
{
	return d->samples[p->sample].t;
}

double analysis_fork_time(const struct session_data *d, size_t i)
{
	const struct session_process *p = &d->procs[i];
	if (p->fork_time > 0)
		return p->fork_time;
	return p->npoints ? point_time(d, &p->points[0]) : 0;
}

/* Was the process in the last sample? */
/* Alive at the end of the recording (its exit aside): in the last sample,
 * or forked after it (the recorder writes those at the end). */
static bool alive_at_end(const struct session_data *d, size_t i)
{
	const struct session_process *p = &d->procs[i];
	if (!d->nsamples)
		return false;
	if (!p->npoints)
		return p->fork_time > d->samples[d->nsamples - 1].t;
	return p->points[p->npoints - 1].sample == d->nsamples - 1;
}

double analysis_lifetime_s(const struct session_data *d, size_t i)
{
	const struct session_process *p = &d->procs[i];
	double end;
	if (p->exit_time > 0)
		end = p->exit_time;
	else if (alive_at_end(d, i) || !p->npoints)
		end = analysis_end_time(d);
	else
		end = point_time(d, &p->points[p->npoints - 1]);
	double life = end - analysis_fork_time(d, i);
	return life > 0 ? life : 0;
}

uint64_t analysis_peak_rss_kb(const struct session_data *d, size_t i)
{
	const struct session_process *p = &d->procs[i];
	uint64_t peak = 0;
	for (size_t k = 0; k < p->npoints; k++)
		if (p->points[k].fig.rss_kb > peak)
			peak = p->points[k].fig.rss_kb;
	return peak;
}

double analysis_shared_pct(const struct cow_figures *f)
{
	uint64_t inherited = f->shared_with_parent_kb + f->copied_kb;
	return inherited ? 100.0 * (double)f->shared_with_parent_kb /
			   (double)inherited : -1;
}

/* The rate between (t0, c0) and (t1, c1), 0 without time between. */
static double rate(double t0, double c0, double t1, double c1)
{
	return t1 > t0 ? (c1 - c0) / (t1 - t0) : 0;
}

/* Where copying starts: the fork with 0 copied, or the first sample. */
static void copy_origin(const struct session_data *d, size_t i, double *t,
			double *copied_kb)
{
	const struct session_process *p = &d->procs[i];
	double first_t = point_time(d, &p->points[0]);
	if (p->fork_time > 0 && p->fork_time <= first_t) {
		*t = p->fork_time;
		*copied_kb = 0;
	} else {
		*t = first_t;
		*copied_kb = (double)p->points[0].fig.copied_kb;
	}
}

double analysis_copy_rate_kbps(const struct session_data *d, size_t i)
{
	const struct session_process *p = &d->procs[i];
	if (!p->npoints)
		return 0;
	double t0, c0;
	copy_origin(d, i, &t0, &c0);
	const struct session_point *last = &p->points[p->npoints - 1];
	return rate(t0, c0, point_time(d, last), (double)last->fig.copied_kb);
}

double analysis_recent_copy_rate_kbps(const struct session_data *d, size_t i,
				      double window_s)
{
	const struct session_process *p = &d->procs[i];
	if (!p->npoints)
		return 0;
	const struct session_point *last = &p->points[p->npoints - 1];
	double t1 = point_time(d, last), t0, c0;
	copy_origin(d, i, &t0, &c0);
	for (size_t k = p->npoints; k-- > 0;) {
		double t = point_time(d, &p->points[k]);
		if (t <= t1 - window_s) {
			t0 = t;
			c0 = (double)p->points[k].fig.copied_kb;
			break;
		}
	}
	return rate(t0, c0, t1, (double)last->fig.copied_kb);
}

double analysis_half_shared_s(const struct session_data *d, size_t i)
{
	const struct session_process *p = &d->procs[i];
	if (!p->npoints)
		return -1;
	uint64_t inherited_kb = p->points[0].fig.shared_with_parent_kb;
	if (!inherited_kb)
		return -1;
	for (size_t k = 1; k < p->npoints; k++)
		if (2 * p->points[k].fig.shared_with_parent_kb <= inherited_kb) {
			double age = point_time(d, &p->points[k]) - analysis_fork_time(d, i);
			return age > 0 ? age : 0;  /* a fork time after the sample */
		}
	return -1;
}

double analysis_shared_pct_at_age(const struct session_data *d, size_t i,
				  double age_s)
{
	const struct session_process *p = &d->procs[i];
	if (!p->npoints || !p->points[0].fig.shared_with_parent_kb)
		return -1;
	double inherited_kb = (double)p->points[0].fig.shared_with_parent_kb;
	const struct session_point *at = NULL;
	if (age_s < 0) {
		at = &p->points[p->npoints - 1];
	} else {
		double fork = analysis_fork_time(d, i);
		for (size_t k = 0; k < p->npoints && !at; k++)
			if (point_time(d, &p->points[k]) - fork >= age_s)
				at = &p->points[k];
	}
	return at ? 100.0 * (double)at->fig.shared_with_parent_kb / inherited_kb
		  : -1;
}

static void signal_desc(int sig, char *desc)
{
	char name[32];
	snprintf(desc, ANALYSIS_EXIT_DESC_LEN, "killed by %s",
		 format_signal_name(sig, name, sizeof(name)));
}

enum analysis_exit analysis_exit_of(const struct session_data *d, size_t i,
				    char desc[ANALYSIS_EXIT_DESC_LEN])
{
	const struct session_process *p = &d->procs[i];
	char buf[ANALYSIS_EXIT_DESC_LEN];
	char *out = desc ? desc : buf;
	if (p->exit_time > 0 && p->exit_signal > 0) {
		signal_desc(p->exit_signal, out);
		return ANALYSIS_KILLED;
	}
	if (p->exit_time > 0 && p->exit_code >= 0) {
		snprintf(out, ANALYSIS_EXIT_DESC_LEN, "exit %d", p->exit_code);
		return ANALYSIS_EXITED;
	}
	enum analysis_exit e = p->exit_time <= 0 && alive_at_end(d, i) ?
			       ANALYSIS_RUNNING : ANALYSIS_VANISHED;
	snprintf(out, ANALYSIS_EXIT_DESC_LEN, "%s",
		 e == ANALYSIS_RUNNING ? "running" : "vanished");
	return e;
}

/* The OOM kill of process i, -1 if none. */
static int oom_of(const struct session_data *d, size_t i)
{
	for (size_t k = d->nooms; k-- > 0;)
		if (d->ooms[k].process == (int)i)
			return (int)k;
	return -1;
}

/* The last signal sig sent to process i up to its exit (a moment after:
 * the two clocks are read apart), -1 if none. */
static int killing_signal(const struct session_data *d, size_t i, int sig)
{
	double end = d->procs[i].exit_time > 0 ? d->procs[i].exit_time + 1.0 : 0;
	for (size_t k = d->nsignals; k-- > 0;) {
		const struct session_signal *g = &d->signals[k];
		if (g->process == (int)i && g->signal == sig && (!end || g->t <= end))
			return (int)k;
	}
	return -1;
}

bool analysis_signal_by_kernel(const struct session_signal *g)
{
	return g->code == SI_KERNEL || g->sender_pid == 0;
}

static void signal_cause(const struct session_data *d, size_t i,
			 const struct session_signal *g, char *buf, size_t len)
{
	char name[24];
	format_signal_name(g->signal, name, sizeof(name));
	if (analysis_signal_by_kernel(g))
		snprintf(buf, len, "%s from the kernel", name);
	else if (g->sender_pid == d->procs[i].pid)
		snprintf(buf, len, "%s from itself", name);
	else
		snprintf(buf, len, "%s from %d (%.40s%s)", name, g->sender_pid,
			 g->sender_cmd && *g->sender_cmd ? g->sender_cmd : "?",
			 g->sender_exiting ? ", exiting" : "");
}

enum analysis_exit analysis_exit_cause(const struct session_data *d, size_t i,
				       char *buf, size_t len, int *oom,
				       int *signal)
{
	char desc[ANALYSIS_EXIT_DESC_LEN], mib[24];
	enum analysis_exit e = analysis_exit_of(d, i, desc);
	int o = -1, g = -1;
	if (e == ANALYSIS_KILLED) {
		int sig = d->procs[i].exit_signal;
		o = sig == SIGKILL ? oom_of(d, i) : -1;
		g = killing_signal(d, i, sig);
	}
	if (o >= 0) {
		const struct session_oom *k = &d->ooms[o];
		snprintf(mib, sizeof(mib), "%.0f MiB", (double)k->anon_rss_kb / 1024.0);
		if (k->cgroup && *k->cgroup)
			snprintf(buf, len, "SIGKILL by the OOM killer (cgroup %.120s, anon %s)",
				 k->cgroup, mib);
		else
			snprintf(buf, len, "SIGKILL by the OOM killer (anon %s)", mib);
	} else if (g >= 0) {
		signal_cause(d, i, &d->signals[g], buf, len);
	} else {
		snprintf(buf, len, "%s", desc);
	}
	if (oom)
		*oom = o;
	if (signal)
		*signal = g;
	return e;
}

double analysis_hung_after_s(const struct session_data *d)
{
	const char *v = session_meta(d, SINK_META_HUNG_AFTER_S);
	char *end;
	double s = v ? strtod(v, &end) : 0;
	return v && end != v && s > 0 ? s : ANALYSIS_HUNG_AFTER_S;
}

size_t analysis_sample_after(const struct session_data *d, double t)
{
	size_t lo = 0, hi = d->nsamples;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->samples[mid].t < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->nsamples ? lo : d->nsamples ? d->nsamples - 1 : 0;
}

const struct session_wait *analysis_wait_at(const struct session_data *d,
					    size_t i, size_t k)
{
	const struct session_process *p = &d->procs[i];
	size_t lo = 0, hi = p->nwaits;
	while (lo < hi) {  /* the first wait after sample k */
		size_t mid = lo + (hi - lo) / 2;
		if (p->waits[mid].sample <= k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &p->waits[lo - 1] : NULL;
}

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

bool analysis_idle_syscall(const char *syscall)
{
	static const char *const idle[] = {
		"accept", "accept4", "poll", "ppoll", "select", "pselect6",
		"epoll_wait", "epoll_pwait", "epoll_pwait2", "nanosleep",
		"clock_nanosleep", "pause", "rt_sigsuspend", "rt_sigtimedwait",
		"wait4", "waitid",
	};
	if (!syscall)
		return false;
	size_t n = strcspn(syscall, "(");
	for (size_t k = 0; k < sizeof(idle) / sizeof(idle[0]); k++)
		if (strlen(idle[k]) == n && !strncmp(syscall, idle[k], n))
			return true;
	return false;
}

/* Blocked somewhere: asleep (S, D, I), in a system call or a wait channel,
 * and not waiting for work. */
static bool blocked(const struct session_wait *w)
{
	return (w->state == 'S' || w->state == 'D' || w->state == 'I') &&
	       ((w->syscall && *w->syscall) || (w->wchan && *w->wchan)) &&
	       !analysis_idle_syscall(w->syscall);
}

/* Does wait b (with figures fb) continue the stretch that began at a? */
static bool same_place(const struct session_wait *a, const struct cow_figures *fa,
		       const struct session_wait *b, const struct cow_figures *fb)
{
	return blocked(b) && str_eq(a->syscall, b->syscall) &&
	       str_eq(a->wchan, b->wchan) && a->cpu_s == b->cpu_s &&
	       fa->rss_kb == fb->rss_kb && fa->anon_kb == fb->anon_kb;
}

/* Wait rows hold until the process's next row (the recorder writes one
 * when something changed), so the stretches are found over the samples the
 * process was in, each with the row in force then. */
bool analysis_hang_of(const struct session_data *d, size_t i,
		      double hung_after_s, struct analysis_hang *out)
{
	const struct session_process *p = &d->procs[i];
	struct analysis_hang best = { 0 };
	bool found = false;
	for (size_t a = 0; a < p->npoints;) {
		const struct session_wait *wa = analysis_wait_at(d, i, p->points[a].sample);
		if (!wa || !blocked(wa)) {
			a++;
			continue;
		}
		const struct cow_figures *fa = &p->points[a].fig;
		const struct session_wait *wb = wa;
		size_t b = a;
		while (b + 1 < p->npoints) {
			const struct session_wait *w = analysis_wait_at(d, i, p->points[b + 1].sample);
			if (!w || !same_place(wa, fa, w, &p->points[b + 1].fig))
				break;
			wb = w;
			b++;
		}
		double t0 = d->samples[p->points[a].sample].t;
		double t1 = d->samples[p->points[b].sample].t;
		if (t1 - t0 >= hung_after_s && (!found || t1 - t0 >= best.seconds)) {
			best = (struct analysis_hang){ t0, t1, t1 - t0, b + 1 == p->npoints,
						       (size_t)(wa - p->waits),
						       (size_t)(wb - p->waits), wb->syscall,
						       wb->wchan, wb->blocked_on,
						       wb->python ? wb->python : "", wb->state };
			found = true;
		}
		a = b + 1;
	}
	if (found && out)
		*out = best;
	return found;
}

/* The sibling of i that exited during the recording last before i's fork
 * and that no one replaced yet; -1 if none. */
static int replaced_sibling(const struct session_data *d, size_t i,
			    const bool *claimed, double start)
{
	const struct session_process *p = &d->procs[i];
	int best = -1;
	for (size_t s = 0; s < d->nprocs; s++) {
		const struct session_process *q = &d->procs[s];
		if (s == i || claimed[s] || q->parent != p->parent ||
		    q->exit_time <= 0 || q->exit_time < start ||
		    q->exit_time > p->fork_time)
			continue;
		if (best < 0 || q->exit_time > d->procs[best].exit_time)
			best = (int)s;
	}
	return best;
}

static int cmp_fork(const void *a, const void *b, void *ctx)
{
	const struct session_data *d = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	double x = d->procs[i].fork_time, y = d->procs[j].fork_time;
	if (x != y)
		return x < y ? -1 : 1;
	return i < j ? -1 : i > j;
}

void analysis_find_respawns(const struct session_data *d, int *out)
{
	size_t *by_fork = xmalloc((d->nprocs + 1) * sizeof(*by_fork));
	bool *claimed = xcalloc(d->nprocs + 1, sizeof(*claimed));
	double start = analysis_start_time(d);
	for (size_t i = 0; i < d->nprocs; i++) {
		by_fork[i] = i;
		out[i] = -1;
	}
	qsort_r(by_fork, d->nprocs, sizeof(*by_fork), cmp_fork, (void *)d);
	for (size_t k = 0; k < d->nprocs; k++) {
		size_t i = by_fork[k];
		if (d->procs[i].parent < 0 || d->procs[i].fork_time <= 0)
			continue;
		out[i] = replaced_sibling(d, i, claimed, start);
		if (out[i] >= 0)
			claimed[out[i]] = true;
	}
	free(claimed);
	free(by_fork);
}

static void visit(const struct session_data *d, size_t i, size_t *order,
		  size_t *n, bool *seen)
{
	if (seen[i])
		return;
	seen[i] = true;
	order[(*n)++] = i;
	for (size_t k = 0; k < d->nprocs; k++)
		if (d->procs[k].parent == (int)i)
			visit(d, k, order, n, seen);
}

size_t *analysis_tree_order(const struct session_data *d)
{
	size_t *order = xmalloc((d->nprocs + 1) * sizeof(*order));
	bool *seen = xcalloc(d->nprocs + 1, sizeof(*seen));
	size_t n = 0;
	for (size_t i = 0; i < d->nprocs; i++)
		if (d->procs[i].parent < 0)
			visit(d, i, order, &n, seen);
	/* a parent loop in a corrupted file: list what is left as it comes */
	for (size_t i = 0; i < d->nprocs; i++)
		if (!seen[i])
			order[n++] = i;
	free(seen);
	return order;
}

/* ---- the tree and regions ---- */

void analysis_tree_point(const struct session_data *d, size_t k,
			 struct analysis_tree_point *out)
{
	const struct session_sample *s = &d->samples[k];
	out->t = s->t;
	out->nprocs = s->nprocs;
	out->rss_kb = s->tree.rss_kb;
	out->unique_kb = s->tree.unique_kb;
	out->saving_kb = s->tree.rss_kb > s->tree.unique_kb ?
			 s->tree.rss_kb - s->tree.unique_kb : 0;
	out->saving_pct = s->tree.rss_kb ? 100.0 * (double)out->saving_kb /
					   (double)s->tree.rss_kb : 0;
}

/* Does a come before b in the top regions? */
static bool region_before(const struct analysis_region *a,
			  const struct analysis_region *b)
{
	if (a->fig.copied_kb != b->fig.copied_kb)
		return a->fig.copied_kb > b->fig.copied_kb;
	if (a->proc != b->proc)
		return a->proc < b->proc;
	return a->region < b->region;
}

/* Insert r into the sorted top list out[0..*len) of at most n. */
static void top_insert(struct analysis_region *out, size_t *len, size_t n,
		       const struct analysis_region *r)
{
	size_t pos = *len;
	while (pos > 0 && region_before(r, &out[pos - 1]))
		pos--;
	if (pos >= n)
		return;
	size_t keep = *len < n ? *len : n - 1;
	memmove(&out[pos + 1], &out[pos], (keep - pos) * sizeof(*out));
	out[pos] = *r;
	if (*len < n)
		(*len)++;
}

size_t analysis_top_regions(const struct session_data *d, size_t n,
			    struct analysis_region *out)
{
	size_t len = 0;
	if (!n)
		return 0;
	for (size_t i = 0; i < d->nprocs; i++) {
		const struct session_process *p = &d->procs[i];
		for (size_t k = 0; k < p->nregions; k++) {
			const struct session_region *g = &p->regions[k];
			if (!g->npoints || !g->points[g->npoints - 1].fig.copied_kb)
				continue;
			struct analysis_region r = {
				i, k, g->points[g->npoints - 1].sample,
				g->points[g->npoints - 1].fig };
			top_insert(out, &len, n, &r);
		}
	}
	return len;
}

size_t analysis_pick_rows(size_t n, size_t k, size_t *out)
{
	if (n <= k) {
		for (size_t i = 0; i < n; i++)
			out[i] = i;
		return n;
	}
	if (k == 1) {
		out[0] = n - 1;
		return 1;
	}
	/* rounded to the nearest: i * (n - 1) / (k - 1) */
	for (size_t i = 0; i < k; i++)
		out[i] = (i * (n - 1) + (k - 1) / 2) / (k - 1);
	return k;
}

/* ---- events ---- */

/* Which processes have a fork (or start) event, and an exit event. */
static void events_present(const struct session_data *d, bool *forked,
			   bool *exited)
{
	for (size_t e = 0; e < d->nevents; e++) {
		int i = d->events[e].process;
		const char *kind = d->events[e].kind;
		if (i < 0 || (size_t)i >= d->nprocs)
			continue;
		if (!strcmp(kind, "fork") || !strcmp(kind, "start"))
			forked[i] = true;
		else if (!strcmp(kind, "exit"))
			exited[i] = true;
	}
}

static void push_event(struct analysis_event **v, size_t *n, size_t *cap,
		       const struct analysis_event *e)
{
	util_grow((void **)v, cap, *n + 1, sizeof(**v));
	(*v)[(*n)++] = *e;
}

/* Time order, keeping the order of v for equal times (a stable sort). */
static int cmp_event(const void *a, const void *b, void *ctx)
{
	const struct analysis_event *v = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	if (v[i].t != v[j].t)
		return v[i].t < v[j].t ? -1 : 1;
	return i < j ? -1 : i > j;
}

static void sort_events(struct analysis_event *v, size_t n)
{
	if (n < 2)
		return;
	size_t *idx = xmalloc((n + 1) * sizeof(*idx));
	struct analysis_event *copy = xmalloc((n + 1) * sizeof(*copy));
	for (size_t k = 0; k < n; k++)
		idx[k] = k;
	qsort_r(idx, n, sizeof(*idx), cmp_event, v);
	for (size_t k = 0; k < n; k++)
		copy[k] = v[idx[k]];
	memcpy(v, copy, n * sizeof(*v));
	free(copy);
	free(idx);
}

/* Fork and exit events the session lacks, made from process times. */
static void add_missing_events(const struct session_data *d,
			       struct analysis_event **v, size_t *n, size_t *cap)
{
	double start = analysis_start_time(d);
	bool *forked = xcalloc(d->nprocs + 1, sizeof(*forked));
	bool *exited = xcalloc(d->nprocs + 1, sizeof(*exited));
	events_present(d, forked, exited);
	for (size_t i = 0; i < d->nprocs; i++) {
		const struct session_process *p = &d->procs[i];
		if (p->fork_time >= start && p->fork_time > 0 && !forked[i]) {
			struct analysis_event e = { p->fork_time, "fork", (int)i,
						    p->pid, p->cmd, -1 };
			push_event(v, n, cap, &e);
		}
		if (p->exit_time > 0 && !exited[i]) {
			struct analysis_event e = { p->exit_time, "exit", (int)i,
						    p->pid, "", -1 };
			push_event(v, n, cap, &e);
		}
	}
	free(forked);
	free(exited);
}

struct analysis_event *analysis_events(const struct session_data *d,
				       const int *respawn_of, size_t *n)
{
	struct analysis_event *v = NULL;
	size_t cap = 0;
	*n = 0;
	for (size_t k = 0; k < d->nevents; k++) {
		const struct session_event *s = &d->events[k];
		struct analysis_event e = { s->t, s->kind, s->process, s->pid,
					    s->detail, -1 };
		push_event(&v, n, &cap, &e);
	}
	add_missing_events(d, &v, n, &cap);
	sort_events(v, *n);
	for (size_t k = 0; k < *n; k++)
		if (v[k].proc >= 0 && !strcmp(v[k].kind, "fork") && respawn_of)
			v[k].respawn_of = respawn_of[v[k].proc];
	return v;
}

/* ---- the whole analysis ---- */

static void analyse_proc(const struct session_data *d, size_t i,
			 struct analysis_proc *a)
{
	const struct session_process *p = &d->procs[i];
	memset(a, 0, sizeof(*a));
	a->depth = analysis_depth(d, i);
	a->role = analysis_role(d, i);
	a->fork_time = analysis_fork_time(d, i);
	a->lifetime_s = analysis_lifetime_s(d, i);
	a->end_time = a->fork_time + a->lifetime_s;
	a->sampled = p->npoints > 0;
	if (a->sampled) {
		a->first_t = point_time(d, &p->points[0]);
		a->last_t = point_time(d, &p->points[p->npoints - 1]);
		a->first = p->points[0].fig;
		a->last = p->points[p->npoints - 1].fig;
	}
	a->peak_rss_kb = analysis_peak_rss_kb(d, i);
	a->shared_pct_first = analysis_shared_pct(&a->first);
	a->shared_pct_last = analysis_shared_pct(&a->last);
	a->copy_rate_kbps = analysis_copy_rate_kbps(d, i);
	a->recent_copy_rate_kbps =
		analysis_recent_copy_rate_kbps(d, i, ANALYSIS_RECENT_WINDOW_S);
	a->half_shared_s = analysis_half_shared_s(d, i);
	a->exit = analysis_exit_of(d, i, a->exit_desc);
	analysis_exit_cause(d, i, a->exit_cause, sizeof(a->exit_cause), &a->oom,
			    &a->kill_signal);
	a->respawn_of = -1;
}

void analysis_init(struct analysis *a, const struct session_data *d)
{
	memset(a, 0, sizeof(*a));
	a->start_time = analysis_start_time(d);
	a->end_time = analysis_end_time(d);
	a->interval_s = analysis_interval_s(d);
	a->nprocs = d->nprocs;
	a->procs = xcalloc(d->nprocs + 1, sizeof(*a->procs));
	int *respawn_of = xmalloc((d->nprocs + 1) * sizeof(*respawn_of));
	analysis_find_respawns(d, respawn_of);
	a->hung_after_s = analysis_hung_after_s(d);
	for (size_t i = 0; i < d->nprocs; i++) {
		analyse_proc(d, i, &a->procs[i]);
		a->procs[i].respawn_of = respawn_of[i];
		a->procs[i].hung = analysis_hang_of(d, i, a->hung_after_s,
						    &a->procs[i].hang);
		a->hung += a->procs[i].hung;
		a->killed += a->procs[i].exit == ANALYSIS_KILLED;
	}
	a->order = analysis_tree_order(d);
	a->ntree = d->nsamples;
	a->tree = xcalloc(d->nsamples + 1, sizeof(*a->tree));
	for (size_t k = 0; k < d->nsamples; k++)
		analysis_tree_point(d, k, &a->tree[k]);
	a->events = analysis_events(d, respawn_of, &a->nevents);
	free(respawn_of);
}

void analysis_release(struct analysis *a)
{
	free(a->procs);
	free(a->order);
	free(a->tree);
	free(a->events);
	memset(a, 0, sizeof(*a));
}

/* ---- comparing strategies ---- */

/* The most workers present in one sample. */
static size_t most_workers(const struct session_data *d)
{
	size_t *count = xcalloc(d->nsamples + 1, sizeof(*count));
	size_t most = 0;
	for (size_t i = 0; i < d->nprocs; i++) {
		if (analysis_role(d, i) != ANALYSIS_WORKER)
			continue;
		for (size_t k = 0; k < d->procs[i].npoints; k++) {
			size_t s = d->procs[i].points[k].sample;
			if (++count[s] > most)
				most = count[s];
		}
	}
	free(count);
	return most;
}

/* Median over sampled workers of one figure (NaN: unknown for that one). */
static double worker_median(const struct session_data *d,
			    double (*figure)(const struct session_data *, size_t,
					     double),
			    double arg)
{
	double *v = xmalloc((d->nprocs + 1) * sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < d->nprocs; i++) {
		if (analysis_role(d, i) != ANALYSIS_WORKER || !d->procs[i].npoints)
			continue;
		double x = figure(d, i, arg);
		if (!isnan(x))
			v[n++] = x;
	}
	double m = analysis_median(v, n);
	free(v);
	return m;
}

static double fig_inherited(const struct session_data *d, size_t i, double arg)
{
	(void)arg;
	return (double)d->procs[i].points[0].fig.shared_with_parent_kb;
}

static double fig_copied(const struct session_data *d, size_t i, double arg)
{
	(void)arg;
	const struct session_process *p = &d->procs[i];
	return (double)p->points[p->npoints - 1].fig.copied_kb;
}

static double fig_shared_pct(const struct session_data *d, size_t i,
			     double age_s)
{
	double pct = analysis_shared_pct_at_age(d, i, age_s);
	return pct < 0 ? NAN : pct;
}

static double fig_rate(const struct session_data *d, size_t i, double arg)
{
	(void)arg;
	return analysis_copy_rate_kbps(d, i);
}

static double max_copied(const struct session_data *d)
{
	double most = NAN;
	for (size_t i = 0; i < d->nprocs; i++)
		if (analysis_role(d, i) == ANALYSIS_WORKER && d->procs[i].npoints &&
		    !(fig_copied(d, i, 0) <= most))
			most = fig_copied(d, i, 0);
	return most;
}

void analysis_strategy(const struct session_data *d,
		       struct analysis_strategy *out)
{
	memset(out, 0, sizeof(*out));
	out->duration_s = analysis_end_time(d) - analysis_start_time(d);
	out->workers = most_workers(d);
	double hung_after_s = analysis_hung_after_s(d);
	for (size_t i = 0; i < d->nprocs; i++) {
		out->workers_seen += analysis_role(d, i) == ANALYSIS_WORKER;
		out->hung += analysis_hang_of(d, i, hung_after_s, NULL);
		if (analysis_exit_of(d, i, NULL) == ANALYSIS_KILLED) {
			out->killed++;
			out->oom_killed += d->procs[i].exit_signal == SIGKILL &&
					   oom_of(d, i) >= 0;
		}
	}
	out->inherited_kb = worker_median(d, fig_inherited, 0);
	out->shared_pct_10s = worker_median(d, fig_shared_pct, 10);
	out->shared_pct_60s = worker_median(d, fig_shared_pct, 60);
	out->shared_pct_end = worker_median(d, fig_shared_pct,
					    ANALYSIS_AGE_END);
	out->copied_kb_median = worker_median(d, fig_copied, 0);
	out->copied_kb_max = max_copied(d);
	out->copy_rate_kbps = worker_median(d, fig_rate, 0);
	if (d->nsamples) {
		out->rss_kb_end = d->samples[d->nsamples - 1].tree.rss_kb;
		out->unique_kb_end = d->samples[d->nsamples - 1].tree.unique_kb;
	}
}

void analysis_saving(const struct analysis_strategy *base,
		     const struct analysis_strategy *s, double *saving_kb,
		     double *saving_pct)
{
	*saving_kb = (double)base->unique_kb_end - (double)s->unique_kb_end;
	*saving_pct = base->unique_kb_end ?
		      100.0 * *saving_kb / (double)base->unique_kb_end : 0;
}
