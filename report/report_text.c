/* report_text.c - a recorded session as text for a terminal */
#include "analysis/callsites.h"
#include "common/format.h"
#include "common/util.h"
#include "report/report.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>


/* ---- the header ---- */

/* report_duration's buffers: "1234h59m" and more */
#define DURATION_LEN 24

static const char *meta_or(const struct session_data *d, const char *key,
			   const char *dflt)
{
	const char *v = session_meta(d, key);
	return v && *v ? v : dflt;
}

static void header_recording(FILE *f, const struct report_input *in)
{
	const struct analysis *a = in->a;
	char when[40];
	fputs("recorded   ", f);
	if (!in->d->nsamples) {
		fputs("no samples\n", f);
		return;
	}
	char dur[DURATION_LEN];
	fprintf(f, "%s for %s", report_utc(a->start_time, when, sizeof(when)),
		report_duration(a->end_time - a->start_time, dur, sizeof(dur)));
	fprintf(f, ", %zu sample%s", in->d->nsamples, in->d->nsamples == 1 ? "" : "s");
	if (a->interval_s > 0)
		fprintf(f, " every %gs", a->interval_s);
	fputc('\n', f);
}

static void header_tree_end(FILE *f, const struct analysis *a)
{
	if (!a->ntree)
		return;
	const struct analysis_tree_point *t = &a->tree[a->ntree - 1];
	char b[3][FORMAT_KB_LEN];
	fprintf(f, "at the end %zu process%s: sum of RSS %s, real memory %s; "
		"sharing saves %s (%.0f%%)\n", t->nprocs, t->nprocs == 1 ? "" : "es",
		format_kb(t->rss_kb, b[0], FORMAT_KB_LEN), format_kb(t->unique_kb, b[1], FORMAT_KB_LEN),
		format_kb(t->saving_kb, b[2], FORMAT_KB_LEN), t->saving_pct);
}

static void header(FILE *f, const struct report_input *in)
{
	const struct session_data *d = in->d;
	fputs("cowprof report: ", f);
	format_put_text(f, in->name, SIZE_MAX);
	fputs("\ntarget     ", f);
	format_put_text(f, analysis_target(d), SIZE_MAX);
	fputs("  (root pid ", f);
	format_put_text(f, meta_or(d, SINK_META_ROOT_PID, "?"), SIZE_MAX);
	fputs(")\n", f);
	header_recording(f, in);
	fputs("machine    ", f);
	format_put_text(f, meta_or(d, SINK_META_HOSTNAME, "?"), SIZE_MAX);
	fputs(", Linux ", f);
	format_put_text(f, meta_or(d, SINK_META_KERNEL, "?"), SIZE_MAX);
	fputs(", page size ", f);
	format_put_text(f, meta_or(d, SINK_META_PAGE_SIZE, "?"), SIZE_MAX);
	fputs(", cowprof ", f);
	format_put_text(f, meta_or(d, SINK_META_COWPROF_VERSION, "?"), SIZE_MAX);
	fputs("\nrecorder   ", f);
	format_put_text(f, meta_or(d, SINK_META_COMMAND, "?"), SIZE_MAX);
	fputc('\n', f);
	header_tree_end(f, in->a);
}

/* ---- processes ---- */

static int digits(int v)
{
	int n = 1;
	while (v >= 10 || v <= -10) {
		v /= 10;
		n++;
	}
	return n + (v < 0);
}

/* Width of the PID column: the deepest indent plus the longest pid. */
static int pid_width(const struct report_input *in)
{
	int w = 3;
	for (size_t i = 0; i < in->d->nprocs; i++) {
		int need = 3 * in->a->procs[i].depth + digits(in->d->procs[i].pid);
		if (need > w)
			w = need;
	}
	return w;
}

static void put_pid(FILE *f, const struct report_input *in, size_t i, int width)
{
	int depth = in->a->procs[i].depth;
	for (int k = 1; k < depth; k++)
		fputs("   ", f);
	if (depth)
		fputs("`- ", f);
	fprintf(f, "%-*d", width - 3 * depth, in->d->procs[i].pid);
}

static void put_kb(FILE *f, uint64_t kb, int width)
{
	char b[FORMAT_KB_LEN];
	fprintf(f, " %*s", width, format_kb(kb, b, FORMAT_KB_LEN));
}

/* "31.0 MiB 97% -> 10.8 MiB 34%", or "-" for the master. */
static void put_shared(FILE *f, const struct analysis_proc *p)
{
	char b[2][FORMAT_KB_LEN], cell[64];
	if (p->role == ANALYSIS_MASTER || !p->sampled || p->shared_pct_first < 0) {
		fprintf(f, "  %-34s", "-");
		return;
	}
	snprintf(cell, sizeof(cell), "%s %.0f%% -> %s %.0f%%",
		 format_kb(p->first.shared_with_parent_kb, b[0], FORMAT_KB_LEN),
		 p->shared_pct_first,
		 format_kb(p->last.shared_with_parent_kb, b[1], FORMAT_KB_LEN),
		 p->shared_pct_last < 0 ? 0 : p->shared_pct_last);
	fprintf(f, "  %-34s", cell);
}

static void put_rate(FILE *f, const struct analysis_proc *p)
{
	if (p->role == ANALYSIS_MASTER || !p->sampled)
		fprintf(f, " %8s %8s", "-", "-");
	else
		fprintf(f, " %8.1f %8.1f", p->copy_rate_kbps, p->recent_copy_rate_kbps);
}

static void put_half(FILE *f, const struct analysis_proc *p)
{
	char b[DURATION_LEN];
	fprintf(f, " %7s", p->half_shared_s < 0 ? "-" :
		report_duration(p->half_shared_s, b, sizeof(b)));
}

static void process_row(FILE *f, const struct report_input *in, size_t i,
			int width)
{
	const struct analysis_proc *p = &in->a->procs[i];
	put_pid(f, in, i, width);
	fprintf(f, "  %-6s ", analysis_role_name(p->role));
	char life[DURATION_LEN];
	fprintf(f, "%8s", report_duration(p->lifetime_s, life, sizeof(life)));
	if (p->sampled) {
		put_kb(f, p->first.rss_kb, 9);
		put_kb(f, p->first.anon_kb, 9);
	} else {
		fprintf(f, " %9s %9s", "-", "-");
	}
	put_shared(f, p);
	if (p->role == ANALYSIS_MASTER || !p->sampled)
		fprintf(f, " %9s", "-");
	else
		put_kb(f, p->last.copied_kb, 9);
	put_rate(f, p);
	put_half(f, p);
	put_kb(f, p->peak_rss_kb, 9);
	fprintf(f, "  %-18s ", p->exit_desc);
	format_put_text(f, in->d->procs[i].cmd, SIZE_MAX);
	fputc('\n', f);
}

static void processes(FILE *f, const struct report_input *in)
{
	int width = pid_width(in);
	fputs("\nprocesses (memory at the first sample; shared with the parent "
	      "at the first sample -> the last;\n"
	      "copy rate since fork and over the last 10 s, in KiB/s; age when "
	      "half the inherited memory was copied)\n", f);
	fprintf(f, "%-*s  %-6s %8s %9s %9s  %-34s %9s %8s %8s %7s %9s  %-18s %s\n",
		width, "PID", "ROLE", "LIFETIME", "RSS", "ANON",
		"SHARED FIRST -> LAST", "COPIED", "RATE", "RECENT", "HALF",
		"PEAK RSS", "EXIT", "COMMAND");
	for (size_t k = 0; k < in->d->nprocs; k++)
		process_row(f, in, in->a->order[k], width);
}

/* ---- the tree over time ---- */

static void tree_rows(FILE *f, const struct report_input *in)
{
	const struct analysis *a = in->a;
	if (!a->ntree)
		return;
	size_t rows[REPORT_TREE_ROWS];
	size_t n = analysis_pick_rows(a->ntree, REPORT_TREE_ROWS, rows);
	fputs("\ntree over time (sum of RSS counts a shared page in every process "
	      "that maps it;\nreal memory counts it once)\n", f);
	fprintf(f, "%9s %6s %11s %11s %11s %7s\n", "TIME", "PROCS", "SUM OF RSS",
		"REAL", "SAVING", "SAVING%");
	for (size_t r = 0; r < n; r++) {
		const struct analysis_tree_point *t = &a->tree[rows[r]];
		char b[3][FORMAT_KB_LEN];
		fprintf(f, "%+8.1fs %6zu %11s %11s %11s %6.0f%%\n",
			t->t - a->start_time, t->nprocs,
			format_kb(t->rss_kb, b[0], FORMAT_KB_LEN), format_kb(t->unique_kb, b[1], FORMAT_KB_LEN),
			format_kb(t->saving_kb, b[2], FORMAT_KB_LEN), t->saving_pct);
	}
}

/* ---- regions ---- */

static void regions(FILE *f, const struct report_input *in)
{
	struct analysis_region top[REPORT_TOP_REGIONS];
	size_t n = analysis_top_regions(in->d, REPORT_TOP_REGIONS, top);
	fputs("\nregions copied most (at their last sample)\n", f);
	if (!n) {
		fputs("  no region copied anything\n", f);
		return;
	}
	fprintf(f, "%7s %-11s %-4s %-25s %9s %9s %9s  %s\n", "PID", "KIND", "PERM",
		"ADDRESS", "COPIED", "SHARED", "RSS", "PATH");
	for (size_t k = 0; k < n; k++) {
		const struct session_process *p = &in->d->procs[top[k].proc];
		const struct session_region *r = &p->regions[top[k].region];
		fprintf(f, "%7d %-11s %-4s %012" PRIx64 "-%012" PRIx64, p->pid,
			r->kind, r->perms, r->start, r->end);
		put_kb(f, top[k].fig.copied_kb, 9);
		put_kb(f, top[k].fig.shared_with_parent_kb, 9);
		put_kb(f, top[k].fig.rss_kb, 9);
		fputs("  ", f);
		format_put_text(f, r->path, SIZE_MAX);
		fputc('\n', f);
	}
}

/* ---- call sites ---- */

#define TOP_SITES 10
#define TOP_SITES_PER_PROC 3

static void site_rows(FILE *f, const struct session_data *d, int proc,
		      bool python, size_t n, const char *indent)
{
	struct callsite top[TOP_SITES];
	size_t k = callsites_top(d, proc, python, n, top);
	uint64_t page_kb = callsites_page_kb(d);
	for (size_t i = 0; i < k; i++) {
		fprintf(f, "%s%-6s %9" PRIu64, indent, python ? "python" : "native",
			top[i].pages);
		put_kb(f, top[i].pages * page_kb, 10);
		if (proc == CALLSITES_TREE)
			fprintf(f, " %5zu", top[i].nprocs);
		fputs("  ", f);
		callsites_put_frame(f, &d->frames[top[i].frame]);
		if (!python) {
			fputs("  (", f);
			format_put_text(f, d->frames[top[i].frame].module, SIZE_MAX);
			fputc(')', f);
		}
		fputc('\n', f);
	}
	if (!k && !python)  /* no Python stacks: not a Python process */
		fprintf(f, "%s%-6s  no native stacks\n", indent, "native");
}

static void sources_line(FILE *f, const struct session_data *d)
{
	uint64_t dropped = 0;
	size_t nprocs = 0;
	const char *method = "?";
	for (size_t i = 0; i < d->nprocs; i++)
		if (d->procs[i].fault_method) {
			method = d->procs[i].fault_method;
			dropped += d->procs[i].fault_dropped;
			nprocs++;
		}
	fprintf(f, "\ncopied pages by call site (first writes caught by %s in %zu "
		"process%s: %" PRIu64 " pages, %" PRIu64 " dropped)\n", method,
		nprocs, nprocs == 1 ? "" : "es", callsites_pages(d, CALLSITES_TREE),
		dropped);
}

static void callsites_proc(FILE *f, const struct session_data *d, size_t i)
{
	const struct session_process *p = &d->procs[i];
	uint64_t pages = callsites_pages(d, (int)i);
	if (!pages && !p->fault_dropped)
		return;
	fprintf(f, "%7d  %" PRIu64 " pages", p->pid, pages);
	if (p->fault_dropped)
		fprintf(f, ", %" PRIu64 " dropped", p->fault_dropped);
	if (p->python_status && *p->python_status && strcmp(p->python_status,
							    "no CPython")) {
		fputs(", no Python frames: ", f);
		format_put_text(f, p->python_status, SIZE_MAX);
	}
	fputs("  ", f);
	format_put_text(f, p->cmd, SIZE_MAX);
	fputc('\n', f);
	site_rows(f, d, (int)i, true, TOP_SITES_PER_PROC, "         ");
	site_rows(f, d, (int)i, false, TOP_SITES_PER_PROC, "         ");
}

static void callsites(FILE *f, const struct report_input *in)
{
	const struct session_data *d = in->d;
	if (!callsites_recorded(d)) {
		fputs("\ncopied pages by call site: not recorded (`cowprof run` "
		      "records which code copied each page)\n", f);
		return;
	}
	sources_line(f, d);
	fprintf(f, "  %-6s %9s %10s %5s  %s\n", "", "PAGES", "SIZE", "PROCS",
		"INNERMOST FRAME (whole tree)");
	site_rows(f, d, CALLSITES_TREE, true, TOP_SITES, "  ");
	site_rows(f, d, CALLSITES_TREE, false, TOP_SITES, "  ");
	fputs("  per process\n", f);
	for (size_t k = 0; k < in->a->nprocs; k++)
		callsites_proc(f, d, in->a->order[k]);
}

/* ---- why processes hung or died ---- */

static bool has_why_data(const struct session_data *d)
{
	if (d->nsignals || d->nooms || session_meta(d, SINK_META_SIGNALS))
		return true;
	for (size_t i = 0; i < d->nprocs; i++)
		if (d->procs[i].nwaits)
			return true;
	return false;
}

static void why_hung(FILE *f, const struct report_input *in)
{
	const struct analysis *a = in->a;
	char b[2][DURATION_LEN];
	fprintf(f, "  hung (blocked in one place, no CPU used, no memory change, "
		"for %s or more): ", report_duration(a->hung_after_s, b[0], sizeof(b[0])));
	if (!a->hung) {
		fputs("none\n", f);
		return;
	}
	fprintf(f, "%zu\n", a->hung);
	for (size_t k = 0; k < a->nprocs; k++) {
		size_t i = a->order[k];
		const struct analysis_proc *p = &a->procs[i];
		if (!p->hung)
			continue;
		fprintf(f, "    %d %s: hung %s%s since %+.1fs, in %s", in->d->procs[i].pid,
			analysis_role_name(p->role),
			p->hang.to_end ? "for " : "",
			report_duration(p->hang.seconds, b[0], sizeof(b[0])),
			p->hang.since - a->start_time,
			p->hang.syscall && *p->hang.syscall ? p->hang.syscall : "no system call");
		if (p->hang.wchan && *p->hang.wchan)
			fprintf(f, " [%s]", p->hang.wchan);
		fputs(p->hang.to_end ? (p->exit == ANALYSIS_RUNNING ? ", still at the end"
					: ", until it ended") : "", f);
		fputs("\n      ", f);
		format_put_text(f, p->hang.blocked_on, SIZE_MAX);
		if (p->hang.python && *p->hang.python) {
			fputs("\n      in Python: ", f);
			format_put_text(f, p->hang.python, SIZE_MAX);
		}
		fputc('\n', f);
	}
}

static void why_exits(FILE *f, const struct report_input *in)
{
	const struct analysis *a = in->a;
	size_t n = 0;
	for (size_t i = 0; i < a->nprocs; i++)
		n += a->procs[i].exit != ANALYSIS_RUNNING;
	fprintf(f, "  exits:%s\n", n ? "" : " none");
	for (size_t k = 0; k < a->nprocs; k++) {
		size_t i = a->order[k];
		const struct analysis_proc *p = &a->procs[i];
		if (p->exit == ANALYSIS_RUNNING)
			continue;
		fprintf(f, "    %d %s at %+.1fs: ", in->d->procs[i].pid,
			analysis_role_name(p->role), p->end_time - a->start_time);
		format_put_text(f, p->exit_cause, SIZE_MAX);
		fputc('\n', f);
	}
}

static void why_signal(FILE *f, const struct report_input *in,
		       const struct session_signal *g)
{
	char name[24];
	fprintf(f, "    %+8.1fs  %-8s to %d from ", g->t - in->a->start_time,
		format_signal_name(g->signal, name, sizeof(name)), g->pid);
	if (analysis_signal_by_kernel(g)) {
		fputs("the kernel", f);
	} else {
		fprintf(f, "%d (", g->sender_pid);
		format_put_text(f, g->sender_cmd, SIZE_MAX);
		fprintf(f, "%s%s)", g->sender_process >= 0 ? ", in the tree" : "",
			g->sender_exiting ? ", exiting" : "");
	}
	fputs(": ", f);
	format_put_text(f, g->result, SIZE_MAX);
	fputc('\n', f);
}

static void why_signals(FILE *f, const struct report_input *in)
{
	const struct session_data *d = in->d;
	size_t chld = 0;
	for (size_t k = 0; k < d->nsignals; k++)
		chld += d->signals[k].signal == SIGCHLD;
	const char *src = session_meta(d, SINK_META_SIGNALS);
	fprintf(f, "  signals sent to the tree (%s):", src ? src : "not recorded");
	if (d->nsignals == chld)
		fputs(" none", f);
	if (chld)
		fprintf(f, "%s %zu SIGCHLD not listed", d->nsignals == chld ? "," : "", chld);
	fputc('\n', f);
	for (size_t k = 0; k < d->nsignals; k++)
		if (d->signals[k].signal != SIGCHLD)
			why_signal(f, in, &d->signals[k]);
}

static void why_ooms(FILE *f, const struct report_input *in)
{
	const struct session_data *d = in->d;
	const char *src = session_meta(d, SINK_META_OOM_KILLS);
	char b[3][FORMAT_KB_LEN];
	fprintf(f, "  OOM kills (%s):%s\n", src ? src : "not recorded",
		d->nooms ? "" : " none");
	for (size_t k = 0; k < d->nooms; k++) {
		const struct session_oom *o = &d->ooms[k];
		fprintf(f, "    %+8.1fs  %d", o->t - in->a->start_time, o->pid);
		if (o->process >= 0) {
			fputs(" (", f);
			format_put_text(f, d->procs[o->process].cmd, SIZE_MAX);
			fputc(')', f);
		}
		fputs(" in cgroup ", f);
		format_put_text(f, o->cgroup && *o->cgroup ? o->cgroup : "(unknown)", SIZE_MAX);
		fprintf(f, ": anon %s, file %s, total vm %s\n",
			format_kb(o->anon_rss_kb, b[0], FORMAT_KB_LEN), format_kb(o->file_rss_kb, b[1], FORMAT_KB_LEN),
			format_kb(o->total_vm_kb, b[2], FORMAT_KB_LEN));
	}
}

static void why(FILE *f, const struct report_input *in)
{
	if (!has_why_data(in->d))
		return;
	fputs("\nwhy processes hung or died\n", f);
	why_hung(f, in);
	why_exits(f, in);
	why_signals(f, in);
	why_ooms(f, in);
}

/* ---- events ---- */

static void fork_text(FILE *f, const struct report_input *in,
		      const struct analysis_event *e)
{
	const struct session_process *p = &in->d->procs[e->proc];
	const struct analysis_proc *ap = &in->a->procs[e->proc];
	fputs(analysis_role_name(ap->role), f);
	if (p->parent >= 0)
		fprintf(f, " of %d", in->d->procs[p->parent].pid);
	if (e->respawn_of >= 0)
		fprintf(f, ", respawn of %d", in->d->procs[e->respawn_of].pid);
	fputs(": ", f);
	format_put_text(f, *e->detail ? e->detail : p->cmd, SIZE_MAX);
}

static void event_row(FILE *f, const struct report_input *in,
		      const struct analysis_event *e)
{
	fprintf(f, "%+8.1fs  %-5s ", e->t - in->a->start_time, e->kind);
	if (e->proc >= 0 || e->pid > 0)
		fprintf(f, "%7d  ", e->pid);
	else
		fprintf(f, "%7s  ", "");
	if (e->proc >= 0 && (!strcmp(e->kind, "fork") || !strcmp(e->kind, "start")))
		fork_text(f, in, e);
	else if (e->proc >= 0 && !strcmp(e->kind, "exit"))
		format_put_text(f, in->a->procs[e->proc].exit_cause, SIZE_MAX);
	else
		format_put_text(f, e->detail, SIZE_MAX);
	fputc('\n', f);
}

static void events(FILE *f, const struct report_input *in)
{
	fputs("\nevents\n", f);
	if (!in->a->nevents)
		fputs("  none recorded\n", f);
	for (size_t k = 0; k < in->a->nevents; k++)
		event_row(f, in, &in->a->events[k]);
}

void report_text(FILE *f, const struct report_input *in)
{
	header(f, in);
	processes(f, in);
	tree_rows(f, in);
	regions(f, in);
	callsites(f, in);
	why(f, in);
	events(f, in);
}
