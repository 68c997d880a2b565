/* report_json.c - a recorded session as one JSON object (sizes in kB,
 * times in seconds since the epoch, durations and ages in seconds) */
#include "analysis/callsites.h"
#include "common/format.h"
#include "report/json.h"
#include "report/report.h"

#include <math.h>
#include <string.h>

/* A value that may be unknown: negative (or NaN) is written as null. */
static void kv_known(struct json *j, const char *key, double v, int decimals)
{
	json_key(j, key);
	if (isnan(v) || v < 0)
		json_null(j);
	else
		json_double(j, v, decimals);
}

/* A process index as its pid, or null. */
static void kv_pid_of(struct json *j, const struct report_input *in,
		      const char *key, int proc)
{
	json_key(j, key);
	if (proc >= 0)
		json_int(j, in->d->procs[proc].pid);
	else
		json_null(j);
}

static void meta(struct json *j, const struct session_data *d)
{
	json_key(j, "meta");
	json_object_begin(j);
	for (size_t i = 0; i < d->nmeta; i++)
		json_kv_string(j, d->meta[i].key, d->meta[i].value);
	json_object_end(j);
}

static void recording(struct json *j, const struct report_input *in)
{
	const struct analysis *a = in->a;
	json_key(j, "recording");
	json_object_begin(j);
	json_kv_string(j, "target", analysis_target(in->d));
	json_kv_double(j, "start", a->start_time, 3);
	json_kv_double(j, "end", a->end_time, 3);
	json_kv_double(j, "duration_s", a->end_time - a->start_time, 3);
	json_kv_uint(j, "samples", in->d->nsamples);
	json_kv_double(j, "interval_s", a->interval_s, 3);
	json_kv_int(j, "session_version", in->d->version);
	json_object_end(j);
}

static void figures(struct json *j, const char *key, bool sampled, double t,
		    const struct cow_figures *f)
{
	json_key(j, key);
	if (!sampled) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_kv_double(j, "time", t, 3);
	report_json_figures(j, f);
	json_object_end(j);
}

void report_json_figures(struct json *j, const struct cow_figures *f)
{
	json_kv_uint(j, "rss_kb", f->rss_kb);
	json_kv_uint(j, "pss_kb", f->pss_kb);
	json_kv_uint(j, "uss_kb", f->uss_kb);
	json_kv_uint(j, "swap_kb", f->swap_kb);
	json_kv_uint(j, "anon_kb", f->anon_kb);
	json_kv_uint(j, "shmem_kb", f->shmem_kb);
	json_kv_uint(j, "file_kb", f->file_kb);
	json_kv_uint(j, "shared_with_parent_kb", f->shared_with_parent_kb);
	json_kv_uint(j, "copied_kb", f->copied_kb);
	json_kv_uint(j, "new_kb", f->new_kb);
	json_kv_uint(j, "shared_anywhere_kb", f->shared_anywhere_kb);
}

static const char *exit_name(enum analysis_exit e)
{
	switch (e) {
	case ANALYSIS_RUNNING: return "running";
	case ANALYSIS_EXITED: return "exited";
	case ANALYSIS_KILLED: return "killed";
	case ANALYSIS_VANISHED: return "vanished";
	}
	return "?";
}

static void process_exit(struct json *j, const struct session_process *p,
			 const struct analysis_proc *a)
{
	json_kv_string(j, "state", exit_name(a->exit));
	json_kv_string(j, "exit", a->exit_desc);
	json_kv_string(j, "exit_cause", a->exit_cause);
	kv_known(j, "exit_time", p->exit_time > 0 ? p->exit_time : -1, 3);
	json_key(j, "exit_code");
	if (a->exit == ANALYSIS_EXITED)
		json_int(j, p->exit_code);
	else
		json_null(j);
	json_key(j, "exit_signal");
	if (a->exit == ANALYSIS_KILLED)
		json_int(j, p->exit_signal);
	else
		json_null(j);
}

static void hang(struct json *j, const struct analysis_proc *a)
{
	json_key(j, "hung");
	if (!a->hung) {
		json_null(j);
		return;
	}
	char st[2] = { a->hang.state, 0 };
	json_object_begin(j);
	json_kv_double(j, "since", a->hang.since, 3);
	json_kv_double(j, "seconds", a->hang.seconds, 3);
	json_key(j, "to_end");
	json_bool(j, a->hang.to_end);
	json_kv_string(j, "state", st);
	json_kv_string(j, "syscall", a->hang.syscall ? a->hang.syscall : "");
	json_kv_string(j, "wchan", a->hang.wchan ? a->hang.wchan : "");
	json_kv_string(j, "blocked_on", a->hang.blocked_on ? a->hang.blocked_on : "");
	json_kv_string(j, "python", a->hang.python ? a->hang.python : "");
	json_object_end(j);
}

static void process(struct json *j, const struct report_input *in, size_t i)
{
	const struct session_process *p = &in->d->procs[i];
	const struct analysis_proc *a = &in->a->procs[i];
	json_object_begin(j);
	json_kv_int(j, "pid", p->pid);
	json_kv_int(j, "ppid", p->ppid);
	kv_pid_of(j, in, "parent_pid", p->parent);
	json_kv_int(j, "depth", a->depth);
	json_kv_string(j, "role", analysis_role_name(a->role));
	json_kv_string(j, "cmd", p->cmd);
	json_kv_double(j, "fork_time", a->fork_time, 3);
	json_kv_double(j, "lifetime_s", a->lifetime_s, 3);
	process_exit(j, p, a);
	kv_pid_of(j, in, "respawn_of", a->respawn_of);
	hang(j, a);
	json_kv_uint(j, "samples", p->npoints);
	figures(j, "first", a->sampled, a->first_t, &a->first);
	figures(j, "last", a->sampled, a->last_t, &a->last);
	kv_known(j, "shared_pct_first", a->shared_pct_first, 2);
	kv_known(j, "shared_pct_last", a->shared_pct_last, 2);
	json_kv_uint(j, "copied_kb", a->last.copied_kb);
	json_kv_uint(j, "peak_rss_kb", a->peak_rss_kb);
	json_kv_double(j, "copy_rate_kbps", a->copy_rate_kbps, 2);
	json_kv_double(j, "recent_copy_rate_kbps", a->recent_copy_rate_kbps, 2);
	kv_known(j, "half_shared_s", a->half_shared_s, 3);
	json_object_end(j);
}

static void processes(struct json *j, const struct report_input *in)
{
	json_key(j, "processes");
	json_array_begin(j);
	for (size_t k = 0; k < in->d->nprocs; k++)
		process(j, in, in->a->order[k]);
	json_array_end(j);
}

static void tree(struct json *j, const struct report_input *in)
{
	json_key(j, "tree");
	json_array_begin(j);
	for (size_t k = 0; k < in->a->ntree; k++) {
		const struct analysis_tree_point *t = &in->a->tree[k];
		json_object_begin(j);
		json_kv_double(j, "time", t->t, 3);
		json_kv_double(j, "offset_s", t->t - in->a->start_time, 3);
		json_kv_uint(j, "processes", t->nprocs);
		json_kv_uint(j, "rss_kb", t->rss_kb);
		json_kv_uint(j, "unique_kb", t->unique_kb);
		json_kv_uint(j, "saving_kb", t->saving_kb);
		json_kv_double(j, "saving_pct", t->saving_pct, 2);
		json_object_end(j);
	}
	json_array_end(j);
}

static void regions(struct json *j, const struct report_input *in)
{
	struct analysis_region top[REPORT_TOP_REGIONS];
	size_t n = analysis_top_regions(in->d, REPORT_TOP_REGIONS, top);
	json_key(j, "regions");
	json_array_begin(j);
	for (size_t k = 0; k < n; k++) {
		const struct session_process *p = &in->d->procs[top[k].proc];
		const struct session_region *r = &p->regions[top[k].region];
		json_object_begin(j);
		json_kv_int(j, "pid", p->pid);
		json_kv_uint(j, "start", r->start);
		json_kv_uint(j, "end", r->end);
		json_kv_string(j, "perms", r->perms);
		json_kv_string(j, "kind", r->kind);
		json_kv_string(j, "path", r->path);
		json_kv_double(j, "time", in->d->samples[top[k].sample].t, 3);
		json_kv_uint(j, "rss_kb", top[k].fig.rss_kb);
		json_kv_uint(j, "anon_kb", top[k].fig.anon_kb);
		json_kv_uint(j, "shared_with_parent_kb", top[k].fig.shared_with_parent_kb);
		json_kv_uint(j, "copied_kb", top[k].fig.copied_kb);
		json_kv_uint(j, "new_kb", top[k].fig.new_kb);
		json_object_end(j);
	}
	json_array_end(j);
}

static void event(struct json *j, const struct report_input *in,
		  const struct analysis_event *e)
{
	json_object_begin(j);
	json_kv_double(j, "time", e->t, 3);
	json_kv_double(j, "offset_s", e->t - in->a->start_time, 3);
	json_kv_string(j, "kind", e->kind);
	json_key(j, "pid");
	if (e->proc >= 0 || e->pid > 0)
		json_int(j, e->pid);
	else
		json_null(j);
	json_kv_string(j, "detail", e->detail);
	if (e->proc >= 0 && !strcmp(e->kind, "exit"))
		json_kv_string(j, "exit", in->a->procs[e->proc].exit_desc);
	if (e->proc >= 0 && !strcmp(e->kind, "exit"))
		json_kv_string(j, "cause", in->a->procs[e->proc].exit_cause);
	kv_pid_of(j, in, "respawn_of", e->respawn_of);
	json_object_end(j);
}

static void events(struct json *j, const struct report_input *in)
{
	json_key(j, "events");
	json_array_begin(j);
	for (size_t k = 0; k < in->a->nevents; k++)
		event(j, in, &in->a->events[k]);
	json_array_end(j);
}

/* ---- fault attribution ---- */

#define JSON_TOP_SITES 20

static void frame_obj(struct json *j, const struct session_frame *fr)
{
	json_object_begin(j);
	json_kv_string(j, "function", fr->function);
	json_kv_string(j, fr->python ? "file" : "module", fr->module);
	if (fr->python || fr->line > 0)
		json_kv_int(j, "line", fr->line);
	if (!fr->python) {
		json_kv_uint(j, "offset", fr->offset);
		if (*fr->source)
			json_kv_string(j, "source", fr->source);
	}
	json_object_end(j);
}

static void sites(struct json *j, const struct session_data *d, int proc,
		  bool python)
{
	struct callsite top[JSON_TOP_SITES];
	size_t n = callsites_top(d, proc, python, JSON_TOP_SITES, top);
	json_key(j, python ? "python" : "native");
	json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		json_object_begin(j);
		json_kv_uint(j, "pages", top[i].pages);
		json_kv_uint(j, "kb", top[i].pages * callsites_page_kb(d));
		json_kv_uint(j, "processes", top[i].nprocs);
		json_key(j, "frame");
		frame_obj(j, &d->frames[top[i].frame]);
		json_object_end(j);
	}
	json_array_end(j);
}

static void fault_proc(struct json *j, const struct session_data *d, size_t i)
{
	const struct session_process *p = &d->procs[i];
	json_object_begin(j);
	json_kv_int(j, "pid", p->pid);
	json_kv_string(j, "method", p->fault_method);
	json_kv_uint(j, "pages", callsites_pages(d, (int)i));
	json_kv_uint(j, "recorded", p->fault_events);
	json_kv_uint(j, "dropped", p->fault_dropped);
	json_kv_string(j, "python_status", p->python_status ? p->python_status : "");
	sites(j, d, (int)i, true);
	sites(j, d, (int)i, false);
	json_object_end(j);
}

static void faults(struct json *j, const struct report_input *in)
{
	const struct session_data *d = in->d;
	json_key(j, "faults");
	if (!callsites_recorded(d)) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_kv_uint(j, "pages", callsites_pages(d, CALLSITES_TREE));
	json_kv_uint(j, "page_kb", callsites_page_kb(d));
	json_key(j, "tree");
	json_object_begin(j);
	sites(j, d, CALLSITES_TREE, true);
	sites(j, d, CALLSITES_TREE, false);
	json_object_end(j);
	json_key(j, "processes");
	json_array_begin(j);
	for (size_t k = 0; k < in->a->nprocs; k++)
		if (d->procs[in->a->order[k]].fault_method)
			fault_proc(j, d, in->a->order[k]);
	json_array_end(j);
	json_object_end(j);
}

static void signal_obj(struct json *j, const struct report_input *in,
		       const struct session_signal *g)
{
	char name[24];
	json_object_begin(j);
	json_kv_double(j, "t", g->t, 3);
	json_kv_int(j, "pid", g->pid);
	json_kv_int(j, "signal", g->signal);
	json_kv_string(j, "name", format_signal_name(g->signal, name, sizeof(name)));
	json_kv_int(j, "code", g->code);
	json_kv_int(j, "sender_pid", g->sender_pid);
	json_kv_string(j, "sender_cmd", g->sender_cmd);
	json_key(j, "sender_in_tree");
	json_bool(j, g->sender_process >= 0);
	json_key(j, "sender_exiting");
	json_bool(j, g->sender_exiting);
	json_key(j, "by_kernel");
	json_bool(j, analysis_signal_by_kernel(g));
	json_kv_string(j, "result", g->result);
	(void)in;
	json_object_end(j);
}

static void oom_obj(struct json *j, const struct session_oom *o)
{
	json_object_begin(j);
	json_kv_double(j, "t", o->t, 3);
	json_kv_int(j, "pid", o->pid);
	json_kv_string(j, "cgroup", o->cgroup);
	json_kv_uint(j, "total_vm_kb", o->total_vm_kb);
	json_kv_uint(j, "anon_rss_kb", o->anon_rss_kb);
	json_kv_uint(j, "file_rss_kb", o->file_rss_kb);
	json_kv_uint(j, "shmem_rss_kb", o->shmem_rss_kb);
	json_object_end(j);
}

/* Why processes hung or died: the counts and sources; each process's
 * cause and hang are in its object. */
static void why(struct json *j, const struct report_input *in)
{
	const struct session_data *d = in->d;
	const char *sig = session_meta(d, SINK_META_SIGNALS), *oom = session_meta(d, SINK_META_OOM_KILLS);
	json_key(j, "why");
	json_object_begin(j);
	json_kv_double(j, "hung_after_s", in->a->hung_after_s, 3);
	json_kv_uint(j, "hung", in->a->hung);
	json_kv_uint(j, "killed", in->a->killed);
	json_kv_string(j, "signals_source", sig ? sig : "not recorded");
	json_kv_string(j, "oom_kills_source", oom ? oom : "not recorded");
	json_key(j, "signals");
	json_array_begin(j);
	for (size_t k = 0; k < d->nsignals; k++)
		signal_obj(j, in, &d->signals[k]);
	json_array_end(j);
	json_key(j, "oom_kills");
	json_array_begin(j);
	for (size_t k = 0; k < d->nooms; k++)
		oom_obj(j, &d->ooms[k]);
	json_array_end(j);
	json_object_end(j);
}

void report_json(FILE *f, const struct report_input *in)
{
	struct json j;
	json_init(&j, f);
	json_object_begin(&j);
	json_kv_string(&j, "file", in->name);
	recording(&j, in);
	meta(&j, in->d);
	processes(&j, in);
	tree(&j, in);
	regions(&j, in);
	faults(&j, in);
	why(&j, in);
	events(&j, in);
	json_object_end(&j);
	fputc('\n', f);
}
