/* model.c - what the TUI shows of a recorded session, with no ncurses */
#include "tui/model.h"

#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const double speeds[TUI_NSPEEDS] = {
	0.25, 0.5, 1, 2, 4, 8, 16, 32, 64,
};

const char *tui_sort_name(enum tui_sort s)
{
	switch (s) {
	case TUI_SORT_TREE: return "tree";
	case TUI_SORT_RSS: return "RSS";
	case TUI_SORT_COPIED: return "copied";
	case TUI_SORT_RATE: return "rate";
	default: return "?";
	}
}

double tui_model_speed(const struct tui_model *m)
{
	return speeds[m->speed];
}

double tui_model_time(const struct tui_model *m)
{
	return m->d->nsamples ? m->d->samples[m->sample].t : m->a->start_time;
}

double tui_model_offset_s(const struct tui_model *m)
{
	return m->d->nsamples ? tui_model_time(m) - m->a->start_time : 0;
}

const struct session_point *tui_point_at(const struct session_data *d,
					 size_t proc, size_t k)
{
	/* points are in sample order: the last one at or before k, by
	 * bisection (timelines ask for every sample of long sessions) */
	const struct session_process *p = &d->procs[proc];
	size_t lo = 0, hi = p->npoints;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->points[mid].sample <= k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &p->points[lo - 1] : NULL;
}

/* ---- why processes wait or die ---- */

char *tui_model_wait_text(const struct tui_model *m, const struct tui_row *r,
			  char *buf, size_t len)
{
	const struct analysis_proc *ap = &m->a->procs[r->proc];
	if (r->exited) {
		snprintf(buf, len, "%s", ap->exit_cause);
		return buf;
	}
	const struct session_wait *w = m->d->nsamples ?
		analysis_wait_at(m->d, r->proc, m->sample) : NULL;
	if (!w) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	double t = m->d->samples[m->sample].t;
	if (ap->hung && t >= ap->hang.since + m->a->hung_after_s &&
	    t <= ap->hang.last_t)
		snprintf(buf, len, "HUNG %.1fs %s", t - ap->hang.since,
			 w->blocked_on && *w->blocked_on ? w->blocked_on : w->syscall);
	else
		snprintf(buf, len, "%c %s", w->state ? w->state : '?',
			 w->blocked_on ? w->blocked_on : "");
	return buf;
}

static int mark_rank(char c)
{
	return c == 'O' ? 4 : c == 'K' ? 3 : c == 'T' ? 2 : c == 'S' ? 1 : 0;
}

static void put_mark(const struct session_data *d, int w, double t, char c,
		     char *marks)
{
	int col = tui_sample_column(d->nsamples, w, analysis_sample_after(d, t));
	if (mark_rank(c) > mark_rank(marks[col]))
		marks[col] = c;
}

size_t tui_model_signal_marks(const struct tui_model *m, int proc, int w,
			      char *marks)
{
	const struct session_data *d = m->d;
	size_t n = 0;
	if (w <= 0)
		return 0;
	memset(marks, ' ', (size_t)w);
	if (!d->nsamples)
		return 0;
	for (size_t k = 0; k < d->nsignals; k++) {
		const struct session_signal *g = &d->signals[k];
		if (g->signal == SIGCHLD || g->process < 0 ||
		    (proc >= 0 && g->process != proc))
			continue;
		put_mark(d, w, g->t, g->signal == SIGKILL ? 'K' : g->signal == SIGTERM ? 'T' : 'S',
			 marks);
		n++;
	}
	for (size_t k = 0; k < d->nooms; k++) {
		const struct session_oom *o = &d->ooms[k];
		if (o->process < 0 || (proc >= 0 && o->process != proc))
			continue;
		put_mark(d, w, o->t, 'O', marks);
		n++;
	}
	return n;
}

/* ---- rows ---- */

/* Fill r for process i at sample k; false if it is hidden there. */
static bool make_row(const struct tui_model *m, size_t i, size_t k,
		     struct tui_row *r)
{
	const struct session_data *d = m->d;
	const struct analysis_proc *ap = &m->a->procs[i];
	const struct session_process *p = &d->procs[i];
	double t = d->samples[k].t;
	const struct session_point *pt = tui_point_at(d, i, k);
	double fork = ap->fork_time;
	if (!pt && (fork <= 0 || fork > t))
		return false;
	memset(r, 0, sizeof(*r));
	r->proc = i;
	r->depth = ap->depth;
	r->sampled = pt != NULL;
	double end = t;
	if (p->exit_time > 0 && p->exit_time <= t) {
		r->exited = true;
		end = p->exit_time;
	} else if (ap->exit == ANALYSIS_VANISHED && pt && pt->sample < k) {
		r->exited = true;
		end = d->samples[pt->sample].t;
	}
	/* the exited stay, greyed, for a while: then respawns do not pile up */
	if (r->exited && t - end > m->exited_keep_s)
		return false;
	if (pt) {
		r->fig = pt->fig;
		r->point_t = d->samples[pt->sample].t;
		if (r->point_t - fork > 0)
			r->rate_kbps = (double)r->fig.copied_kb / (r->point_t - fork);
	}
	r->age_s = fork > 0 && end > fork ? end - fork : 0;
	return true;
}

static double sort_key(const struct tui_row *r, enum tui_sort s)
{
	switch (s) {
	case TUI_SORT_RSS: return (double)r->fig.rss_kb;
	case TUI_SORT_COPIED: return (double)r->fig.copied_kb;
	case TUI_SORT_RATE: return r->rate_kbps;
	default: return 0;
	}
}

/* Largest first, stable (tree order breaks ties): an insertion sort, as
 * trees have tens of processes. */
static void sort_rows(struct tui_row *rows, size_t n, enum tui_sort s)
{
	if (s == TUI_SORT_TREE)
		return;
	for (size_t i = 1; i < n; i++) {
		struct tui_row r = rows[i];
		double key = sort_key(&r, s);
		size_t j = i;
		while (j > 0 && sort_key(&rows[j - 1], s) < key) {
			rows[j] = rows[j - 1];
			j--;
		}
		rows[j] = r;
	}
}

static int proc_of_id(const struct session_data *d, int64_t id)
{
	for (size_t i = 0; i < d->nprocs; i++)
		if (d->procs[i].id == id)
			return (int)i;
	return -1;
}

static int row_of_proc(const struct tui_model *m, size_t proc)
{
	for (size_t r = 0; r < m->nrows; r++)
		if (m->rows[r].proc == proc)
			return (int)r;
	return -1;
}

/* The selected row: the selected process's, else its nearest shown
 * ancestor's, else the first. */
static void place_selection(struct tui_model *m)
{
	m->sel_row = 0;
	int i = proc_of_id(m->d, m->sel_id);
	/* bounded: a session's tree has no cycles (session_load refuses them),
	 * and a walk up it takes at most one step per process */
	for (size_t steps = 0; i >= 0 && steps <= m->d->nprocs; steps++) {
		int r = row_of_proc(m, (size_t)i);
		if (r >= 0) {
			m->sel_row = (size_t)r;
			break;
		}
		i = m->d->procs[i].parent;
	}
	if (m->sel_id == 0 && m->nrows)
		m->sel_id = m->d->procs[m->rows[0].proc].id;
}

static void keep_in_view(struct tui_model *m)
{
	size_t page = m->page_rows ? m->page_rows : 1;
	if (m->sel_row < m->top)
		m->top = m->sel_row;
	else if (m->sel_row >= m->top + page)
		m->top = m->sel_row - page + 1;
	if (m->nrows <= page)
		m->top = 0;
	else if (m->top > m->nrows - page)
		m->top = m->nrows - page;
}

static void rebuild(struct tui_model *m)
{
	free(m->rows);
	m->rows = NULL;
	m->nrows = 0;
	if (m->d->nsamples == 0 || m->a->nprocs == 0)
		return;
	if (m->exited_keep_s <= 0)
		m->exited_keep_s = TUI_EXITED_KEEP_S;
	m->rows = xcalloc(m->a->nprocs, sizeof(*m->rows));
	for (size_t j = 0; j < m->a->nprocs; j++)
		if (make_row(m, m->a->order[j], m->sample, &m->rows[m->nrows]))
			m->nrows++;
	sort_rows(m->rows, m->nrows, m->sort);
	place_selection(m);
	keep_in_view(m);
}

/* ---- sessions and their compare curves ---- */

/* Process i's point at sample k if it is alive there (forked, sampled,
 * not exited), else NULL: what make_row shows as neither hidden nor grey. */
static const struct session_point *live_point(const struct session_data *d,
					      const struct analysis *a,
					      size_t i, size_t k)
{
	const struct session_point *pt = tui_point_at(d, i, k);
	if (!pt)
		return NULL;
	double t = d->samples[k].t;
	double exit_t = d->procs[i].exit_time;
	if (exit_t > 0 && exit_t <= t)
		return NULL;
	if (a->procs[i].exit == ANALYSIS_VANISHED && pt->sample < k)
		return NULL;
	return pt;
}

static void curves_release(struct tui_session *s)
{
	free(s->t_s);
	s->t_s = NULL;
	for (int c = 0; c < TUI_NCURVES; c++) {
		free(s->curve[c]);
		s->curve[c] = NULL;
	}
	s->n = 0;
}

/* The workers' average and the tree's sum at sample k into v[]. */
static void curves_at(const struct session_data *d, const struct analysis *a,
		      size_t k, uint64_t v[TUI_NCURVES])
{
	uint64_t wshared = 0, wcopied = 0, nworkers = 0;
	memset(v, 0, TUI_NCURVES * sizeof(*v));
	for (size_t i = 0; i < d->nprocs; i++) {
		if (d->procs[i].parent < 0)
			continue;
		const struct session_point *pt = live_point(d, a, i, k);
		if (!pt)
			continue;
		v[TUI_CURVE_SHARED_TREE] += pt->fig.shared_with_parent_kb;
		v[TUI_CURVE_COPIED_TREE] += pt->fig.copied_kb;
		if (a->procs[i].role == ANALYSIS_WORKER) {
			wshared += pt->fig.shared_with_parent_kb;
			wcopied += pt->fig.copied_kb;
			nworkers++;
		}
	}
	if (nworkers) {  /* rounded to the nearest kB */
		v[TUI_CURVE_SHARED_WORKER] = (wshared + nworkers / 2) / nworkers;
		v[TUI_CURVE_COPIED_WORKER] = (wcopied + nworkers / 2) / nworkers;
	}
}

/* The first child's fork, and the curves from the first sample at or
 * after it. */
static void curves_make(struct tui_session *s)
{
	const struct session_data *d = s->src.d;
	const struct analysis *a = s->src.a;
	curves_release(s);
	s->fork_t = 0;
	for (size_t i = 0; i < d->nprocs; i++) {
		double f = a->procs[i].fork_time;
		if (d->procs[i].parent >= 0 && f > 0 && (s->fork_t == 0 || f < s->fork_t))
			s->fork_t = f;
	}
	if (s->fork_t == 0)
		s->fork_t = a->start_time;
	s->first = 0;
	while (s->first < d->nsamples && d->samples[s->first].t < s->fork_t)
		s->first++;
	s->n = d->nsamples - s->first;
	if (s->n == 0)
		return;
	s->t_s = xcalloc(s->n, sizeof(*s->t_s));
	for (int c = 0; c < TUI_NCURVES; c++)
		s->curve[c] = xcalloc(s->n, sizeof(*s->curve[c]));
	for (size_t j = 0; j < s->n; j++) {
		uint64_t v[TUI_NCURVES];
		size_t k = s->first + j;
		s->t_s[j] = d->samples[k].t - s->fork_t;
		curves_at(d, a, k, v);
		for (int c = 0; c < TUI_NCURVES; c++)
			s->curve[c][j] = v[c];
	}
}

/* Every session's column name (its file's base name, unique among them)
 * and label. */
static void labels_make(struct tui_model *m)
{
	for (size_t k = 0; k < m->nsessions; k++) {
		struct report_column *col = &m->cols[k];
		free((char *)col->name);
		col->name = report_column_name(col->path);
	}
	report_compare_unique_names(m->cols, m->nsessions);
	for (size_t k = 0; k < m->nsessions; k++) {
		free(m->sessions[k].label);
		m->sessions[k].label = xasprintf("%s: %s", m->cols[k].name,
						 m->cols[k].target[0] ? m->cols[k].target : "?");
	}
}

/* Session i's compare figures and curves from its current data. */
static void session_make(struct tui_model *m, size_t i)
{
	struct tui_session *s = &m->sessions[i];
	report_column_release(&m->cols[i]);
	report_column_init(&m->cols[i], s->src.path ? s->src.path : "session",
			   s->src.d);
	curves_make(s);
}

void tui_model_init_sessions(struct tui_model *m, const struct tui_source *src,
			     size_t n)
{
	const struct session_data *d = src[0].d;
	const struct analysis *a = src[0].a;
	memset(m, 0, sizeof(*m));
	m->nsessions = n;
	m->sessions = xcalloc(n, sizeof(*m->sessions));
	m->cols = xcalloc(n, sizeof(*m->cols));
	for (size_t i = 0; i < n; i++) {
		m->sessions[i].src = src[i];
		m->sessions[i].at_end = true;
		session_make(m, i);
	}
	labels_make(m);
	m->d = d;
	m->a = a;
	m->speed = TUI_SPEED_DEFAULT;
	m->page_rows = 1;
	m->sample = d->nsamples ? d->nsamples - 1 : 0;
	m->screen = m->back = n > 1 ? TUI_SCREEN_COMPARE : TUI_SCREEN_TREE;
	if (a->nprocs)
		m->sel_id = d->procs[a->order[0]].id;
	rebuild(m);
}

void tui_model_init(struct tui_model *m, const struct session_data *d,
		    const struct analysis *a)
{
	struct tui_source src = { NULL, d, a };
	tui_model_init_sessions(m, &src, 1);
}

void tui_model_release(struct tui_model *m)
{
	free(m->rows);
	m->rows = NULL;
	m->nrows = 0;
	for (size_t i = 0; i < m->nsessions; i++) {
		curves_release(&m->sessions[i]);
		free(m->sessions[i].label);
		report_column_release(&m->cols[i]);
	}
	free(m->sessions);
	free(m->cols);
	m->sessions = NULL;
	m->cols = NULL;
	m->nsessions = 0;
}

void tui_model_set_source(struct tui_model *m, size_t i,
			  const struct session_data *d, const struct analysis *a)
{
	if (i >= m->nsessions)
		return;
	m->sessions[i].src.d = d;
	m->sessions[i].src.a = a;
	session_make(m, i);
	labels_make(m);
	if (i != m->cur)
		return;
	bool at_end = m->d->nsamples == 0 || m->sample + 1 >= m->d->nsamples;
	m->d = d;
	m->a = a;
	if (d->nsamples == 0)
		m->sample = 0;
	else if (at_end || m->sample >= d->nsamples)
		m->sample = d->nsamples - 1;
	if (m->sel_id == 0 && a->nprocs)
		m->sel_id = d->procs[a->order[0]].id;
	rebuild(m);
}

void tui_model_set_data(struct tui_model *m, const struct session_data *d,
			const struct analysis *a)
{
	tui_model_set_source(m, m->cur, d, a);
}

void tui_model_select_session(struct tui_model *m, size_t i)
{
	if (i >= m->nsessions || i == m->cur)
		return;
	struct tui_session *old = &m->sessions[m->cur], *s = &m->sessions[i];
	old->sel_id = m->sel_id;
	old->sample = m->sample;
	old->at_end = m->d->nsamples == 0 || m->sample + 1 >= m->d->nsamples;
	m->cur = i;
	m->d = s->src.d;
	m->a = s->src.a;
	m->playing = false;
	m->top = m->region_top = 0;
	size_t n = m->d->nsamples;
	m->sample = n == 0 ? 0 : s->at_end || s->sample >= n ? n - 1 : s->sample;
	m->sel_id = s->sel_id;
	if (m->sel_id == 0 && m->a->nprocs)
		m->sel_id = m->d->procs[m->a->order[0]].id;
	rebuild(m);
}

int tui_model_selected(const struct tui_model *m)
{
	return m->nrows ? (int)m->rows[m->sel_row].proc : -1;
}

const struct tui_row *tui_model_row_of(const struct tui_model *m, size_t proc)
{
	int r = row_of_proc(m, proc);
	return r >= 0 ? &m->rows[r] : NULL;
}

void tui_model_set_page(struct tui_model *m, size_t page_rows)
{
	m->page_rows = page_rows ? page_rows : 1;
	keep_in_view(m);
}

/* ---- time ---- */

void tui_model_seek(struct tui_model *m, size_t k)
{
	if (m->d->nsamples == 0)
		return;
	m->sample = k < m->d->nsamples ? k : m->d->nsamples - 1;
	m->play_t = tui_model_time(m);
	m->region_top = 0;
	rebuild(m);
}

static void seek_by(struct tui_model *m, long delta)
{
	long k = (long)m->sample + delta;
	tui_model_seek(m, k < 0 ? 0 : (size_t)k);
}

bool tui_model_tick(struct tui_model *m, double dt_s)
{
	if (!m->playing || m->d->nsamples == 0)
		return false;
	m->play_t += dt_s * speeds[m->speed];
	size_t k = m->sample;
	while (k + 1 < m->d->nsamples && m->d->samples[k + 1].t <= m->play_t)
		k++;
	if (k + 1 >= m->d->nsamples)
		m->playing = false;
	if (k == m->sample)
		return !m->playing;
	double play_t = m->play_t;
	tui_model_seek(m, k);
	m->play_t = play_t;
	return true;
}

static void toggle_play(struct tui_model *m)
{
	if (m->playing) {
		m->playing = false;
		return;
	}
	if (m->d->nsamples < 2)
		return;
	if (m->sample + 1 >= m->d->nsamples)
		tui_model_seek(m, 0);
	m->play_t = tui_model_time(m);
	m->playing = true;
}

/* ---- keys ---- */

static void select_row(struct tui_model *m, long r)
{
	if (m->nrows == 0)
		return;
	if (r < 0)
		r = 0;
	if ((size_t)r >= m->nrows)
		r = (long)m->nrows - 1;
	m->sel_row = (size_t)r;
	m->sel_id = m->d->procs[m->rows[r].proc].id;
	m->region_top = 0;
	keep_in_view(m);
}

static void move(struct tui_model *m, long delta)
{
	if (m->screen == TUI_SCREEN_COMPARE) {
		long i = (long)m->cur + delta;
		if (i < 0)
			i = 0;
		if ((size_t)i >= m->nsessions)
			i = (long)m->nsessions - 1;
		tui_model_select_session(m, (size_t)i);
		return;
	}
	if (m->screen == TUI_SCREEN_REGIONS) {
		long top = (long)m->region_top + delta;
		m->region_top = top < 0 ? 0 : (size_t)top;  /* the view clamps */
		return;
	}
	select_row(m, (long)m->sel_row + delta);
}

static void show(struct tui_model *m, enum tui_screen s)
{
	if (s == TUI_SCREEN_HELP) {
		if (m->screen == TUI_SCREEN_HELP) {
			m->screen = m->back;
			return;
		}
		m->back = m->screen;
	}
	m->screen = s;
}

void tui_model_select_row(struct tui_model *m, size_t row)
{
	select_row(m, row > (size_t)LONG_MAX ? LONG_MAX : (long)row);
}

void tui_model_show(struct tui_model *m, enum tui_screen s)
{
	if (s < TUI_NSCREENS)
		show(m, s);
}

bool tui_model_key(struct tui_model *m, enum tui_key key)
{
	long page = m->page_rows > 1 ? (long)m->page_rows - 1 : 1;
	switch (key) {
	case TUI_KEY_UP: move(m, -1); break;
	case TUI_KEY_DOWN: move(m, 1); break;
	case TUI_KEY_PGUP: move(m, -page); break;
	case TUI_KEY_PGDN: move(m, page); break;
	case TUI_KEY_LEFT: seek_by(m, -1); break;
	case TUI_KEY_RIGHT: seek_by(m, 1); break;
	case TUI_KEY_HOME: tui_model_seek(m, 0); break;
	case TUI_KEY_END:
		tui_model_seek(m, m->d->nsamples ? m->d->nsamples - 1 : 0);
		break;
	case TUI_KEY_ENTER:
		show(m, m->screen == TUI_SCREEN_TREE ? TUI_SCREEN_TIMELINE
						     : TUI_SCREEN_TREE);
		break;
	case TUI_KEY_TAB:
		show(m, m->screen >= TUI_SCREEN_COMPARE ? TUI_SCREEN_TREE
							: m->screen + 1);
		break;
	case TUI_KEY_CURVE:
		m->curve = (m->curve + 1) % TUI_NCURVES;
		break;
	case TUI_KEY_ALL:
		m->sites_tree = !m->sites_tree;
		break;
	case TUI_KEY_SORT:
		m->sort = (m->sort + 1) % TUI_NSORTS;
		rebuild(m);
		break;
	case TUI_KEY_PLAY: toggle_play(m); break;
	case TUI_KEY_SLOWER: if (m->speed > 0) m->speed--; break;
	case TUI_KEY_FASTER: if (m->speed + 1 < TUI_NSPEEDS) m->speed++; break;
	case TUI_KEY_HELP: show(m, TUI_SCREEN_HELP); break;
	case TUI_KEY_QUIT: m->quit = true; break;
	case TUI_KEY_SCREEN_1: show(m, TUI_SCREEN_TREE); break;
	case TUI_KEY_SCREEN_2: show(m, TUI_SCREEN_TIMELINE); break;
	case TUI_KEY_SCREEN_3: show(m, TUI_SCREEN_REGIONS); break;
	case TUI_KEY_SCREEN_4: show(m, TUI_SCREEN_CALLSITES); break;
	case TUI_KEY_SCREEN_5: show(m, TUI_SCREEN_COMPARE); break;
	default: return false;
	}
	return true;
}

/* ---- call sites ---- */

size_t tui_model_callsites(const struct tui_model *m, bool python,
			   struct callsite *out, size_t n, int *proc)
{
	int sel = tui_model_selected(m);
	*proc = m->sites_tree || sel < 0 ? CALLSITES_TREE : sel;
	return callsites_top(m->d, *proc, python, n, out);
}

/* ---- regions ---- */

static int cmp_region_row(const void *pa, const void *pb)
{
	const struct tui_region_row *a = pa, *b = pb;
	if (a->fig.copied_kb != b->fig.copied_kb)
		return a->fig.copied_kb > b->fig.copied_kb ? -1 : 1;
	return a->region < b->region ? -1 : a->region > b->region;
}

size_t tui_model_regions(const struct tui_model *m, struct tui_region_row **out)
{
	*out = NULL;
	int sel = tui_model_selected(m);
	if (sel < 0)
		return 0;
	const struct session_process *p = &m->d->procs[sel];
	if (p->nregions == 0)
		return 0;
	struct tui_region_row *v = xcalloc(p->nregions, sizeof(*v));
	size_t n = 0;
	for (size_t r = 0; r < p->nregions; r++) {
		const struct session_region *reg = &p->regions[r];
		const struct session_point *best = NULL;
		for (size_t j = 0; j < reg->npoints; j++)
			if (reg->points[j].sample <= m->sample &&
			    (!best || reg->points[j].sample >= best->sample))
				best = &reg->points[j];
		if (!best)
			continue;
		v[n].region = r;
		v[n].fig = best->fig;
		n++;
	}
	qsort(v, n, sizeof(*v), cmp_region_row);
	if (n == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	return n;
}

/* ---- bars and charts ---- */

void tui_bar_split(uint64_t shared_kb, uint64_t copied_kb, uint64_t new_kb,
		   uint64_t scale_kb, int width, int out[3])
{
	uint64_t v[3] = { shared_kb, copied_kb, new_kb };
	uint64_t total = shared_kb + copied_kb + new_kb;
	out[0] = out[1] = out[2] = 0;
	if (width <= 0 || scale_kb == 0 || total == 0)
		return;
	double f = (double)total * width / (double)scale_kb + 0.5;
	int filled = f >= width ? width : (int)f;
	if (filled <= 0)
		return;
	uint64_t rem[3];
	int sum = 0;
	for (int i = 0; i < 3; i++) {
		/* v * filled fits in 64 bits for any real memory size */
		out[i] = (int)(v[i] * (uint64_t)filled / total);
		rem[i] = v[i] * (uint64_t)filled % total;
		sum += out[i];
	}
	while (sum < filled) {  /* largest remainder first, then earlier part */
		int best = 0;
		for (int i = 1; i < 3; i++)
			if (rem[i] > rem[best])
				best = i;
		out[best]++;
		rem[best] = 0;
		sum++;
	}
	/* A part that exists gets a cell, taken from the largest part. */
	for (int i = 0; i < 3; i++) {
		if (v[i] == 0 || out[i] > 0)
			continue;
		int big = 0;
		for (int j = 1; j < 3; j++)
			if (out[j] > out[big])
				big = j;
		if (out[big] > 1) {
			out[big]--;
			out[i]++;
		}
	}
}

size_t tui_column_first(size_t n, int w, int c)
{
	if (w <= 0 || c >= w)
		return n;
	return (size_t)c * n / (size_t)w;
}

int tui_sample_column(size_t n, int w, size_t k)
{
	if (n == 0 || w <= 0)
		return 0;
	size_t c;
	if (n >= (size_t)w)
		c = ((k + 1) * (size_t)w - 1) / n;
	else
		c = (k * (size_t)w + n - 1) / n;
	return c >= (size_t)w ? w - 1 : (int)c;
}

void tui_downsample(const uint64_t *v, size_t n, int w,
		    enum tui_downsample how, uint64_t *out)
{
	for (int c = 0; c < w; c++) {
		out[c] = 0;
		if (n == 0)
			continue;
		size_t lo = tui_column_first(n, w, c);
		size_t hi = tui_column_first(n, w, c + 1);
		if (hi <= lo)
			hi = lo + 1;
		if (hi > n)
			hi = n;
		for (size_t k = lo; k < hi; k++)
			if (how == TUI_DOWNSAMPLE_LAST || v[k] > out[c])
				out[c] = v[k];
	}
}

char *tui_format_size(uint64_t kb, char *buf, size_t len)
{
	static const char units[] = "MGT";
	if (kb < 10000) {
		snprintf(buf, len, "%" PRIu64 "K", kb);
		return buf;
	}
	double v = (double)kb / 1024;
	int u = 0;
	while (v >= 999.95 && u < 2) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f%c", v, units[u]);
	return buf;
}

bool tui_model_series(const struct tui_model *m, uint64_t *lower,
		      uint64_t *upper)
{
	const struct session_data *d = m->d;
	int sel = tui_model_selected(m);
	bool tree = sel < 0 || d->procs[sel].parent < 0;
	for (size_t k = 0; k < d->nsamples; k++) {
		lower[k] = upper[k] = 0;
		if (tree) {
			if (k < m->a->ntree) {
				lower[k] = m->a->tree[k].unique_kb;
				upper[k] = m->a->tree[k].saving_kb;
			}
			continue;
		}
		struct tui_row r;
		if (make_row(m, (size_t)sel, k, &r) && r.sampled && !r.exited) {
			lower[k] = r.fig.shared_with_parent_kb;
			upper[k] = r.fig.copied_kb;
		}
	}
	return tree;
}

/* ---- the compare screen ---- */

const char *tui_curve_name(enum tui_curve c)
{
	switch (c) {
	case TUI_CURVE_COPIED_WORKER: return "copied per worker (average)";
	case TUI_CURVE_SHARED_WORKER: return "shared with parent per worker (average)";
	case TUI_CURVE_COPIED_TREE: return "copied, whole tree";
	case TUI_CURVE_SHARED_TREE: return "shared with parent, whole tree";
	default: return "?";
	}
}

enum tui_curve tui_curve_other_measure(enum tui_curve c)
{
	return (enum tui_curve)((int)c ^ 1);
}

double tui_compare_span_s(const struct tui_model *m)
{
	double span = 0;
	for (size_t i = 0; i < m->nsessions; i++) {
		const struct tui_session *s = &m->sessions[i];
		if (s->n && s->t_s[s->n - 1] > span)
			span = s->t_s[s->n - 1];
	}
	return span;
}

uint64_t tui_compare_scale(const struct tui_model *m, enum tui_curve c)
{
	uint64_t scale = 0;
	for (size_t i = 0; i < m->nsessions; i++) {
		const struct tui_session *s = &m->sessions[i];
		for (size_t j = 0; j < s->n; j++)
			if (s->curve[c][j] > scale)
				scale = s->curve[c][j];
	}
	return scale;
}

int tui_time_column(double t_s, double span_s, int w)
{
	if (w <= 0 || span_s <= 0 || t_s <= 0)
		return 0;
	double c = t_s * w / span_s;
	return c >= w ? w - 1 : (int)c;
}

void tui_compare_columns(const struct tui_session *s, enum tui_curve c,
			 double span_s, int w, uint64_t *out, bool *present)
{
	size_t j = 0;
	bool seen = false;
	int last = s->n ? tui_time_column(s->t_s[s->n - 1], span_s, w) : -1;
	for (int col = 0; col < w; col++) {
		while (j < s->n && tui_time_column(s->t_s[j], span_s, w) <= col) {
			out[col] = s->curve[c][j];
			seen = true;
			j++;
		}
		if (!seen || col > last)
			out[col] = 0;
		else if (j > 0)
			out[col] = s->curve[c][j - 1];
		present[col] = seen && col <= last;
	}
}

int tui_chart_level(uint64_t v, uint64_t scale, int h)
{
	if (scale == 0 || h <= 1)
		return 0;
	if (v >= scale)
		return h - 1;
	return (int)(((double)v * (h - 1)) / (double)scale + 0.5);
}
