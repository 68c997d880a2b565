/* why.c - wait states each sample; signals and OOM kills between samples */
#include "record/why.h"
#include "collectors/fdlink.h"
#include "collectors/kmsg.h"
#include "collectors/pyframe.h"
#include "collectors/sigtrace.h"
#include "collectors/syscall.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CAP_LEN 160

struct held_signal {
	double t;
	struct sigtrace_signal s;
};

struct held_exit {
	double t;
	int pid;
};

struct held_oom {
	double t;
	int pid;
	int64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb;
};

/* a kmsg "oom-kill:" line: the cgroup of the kill of pid */
struct held_ctx {
	double t;
	int pid;
	char *cgroup;
};

/* The last wait row written for a process: rows are written only when
 * something changed (a process asleep for an hour costs one row). */
struct last_wait {
	int64_t id;
	char state;
	double cpu_s;
	char *wchan, *syscall, *blocked_on;
};

/* A process's CPython layout, found once (err: -ENOENT no CPython, ...). */
struct py_proc {
	int pid;
	uint64_t start_ticks;
	int err;
	struct pyframe_layout l;
};

/* Python frames named in a wait row */
#define WHY_PY_FRAMES 16

struct why {
	struct why_opts o;
	struct sigtrace *st;
	int kfd;
	long hz;
	double mono_epoch;       /* CLOCK_REALTIME - CLOCK_MONOTONIC at open */
	char signals_cap[CAP_LEN], oom_cap[CAP_LEN];
	struct held_signal *sig;
	size_t nsig, capsig;
	struct held_exit *ex;
	size_t nex, capex;
	struct held_oom *oom;
	size_t noom, capoom;
	struct held_ctx *ctx;
	size_t nctx, capctx;
	struct why_counts counts;
	struct last_wait *last;  /* by increasing id */
	size_t nlast, caplast;
	struct py_proc *py;
	size_t npy, cappy;
};

static bool env_set(const char *name)
{
	const char *v = getenv(name);
	return v && *v == '1';
}

/* Open the tracepoints; on failure say why in reason. */
static void open_perf(struct why *w, char *reason, size_t len)
{
	struct sigtrace_opts so = { .signal_filter = SIGTRACE_FILTER_NO_FAULTS };
	*reason = 0;
	/* COWPROF_NO_PERF=1 forces the fallback (for tests: root always can) */
	if (w->o.no_perf || env_set("COWPROF_NO_PERF")) {
		snprintf(reason, len, "disabled by COWPROF_NO_PERF");
		return;
	}
	if (sigtrace_open(&so, &w->st, reason, len) < 0) {
		w->st = NULL;
		if (!*reason)
			snprintf(reason, len, "cannot open the tracepoints");
	}
}

int why_open(const struct why_opts *o, struct why **out, char *notice,
	       size_t noticelen)
{
	struct why *w = xcalloc(1, sizeof(*w));
	char reason[CAP_LEN], kreason[CAP_LEN] = "";
	w->o = *o;
	w->hz = sysconf(_SC_CLK_TCK);
	w->mono_epoch = (double)util_realtime_offset_ns() / 1e9;
	open_perf(w, reason, sizeof(reason));
	w->kfd = -1;
	if (!w->o.no_kmsg && !env_set("COWPROF_NO_KMSG")) {
		w->kfd = kmsg_open();
		if (w->kfd < 0)
			snprintf(kreason, sizeof(kreason), "/dev/kmsg: %s",
				 strerror(-w->kfd));
	} else {
		snprintf(kreason, sizeof(kreason), "/dev/kmsg not read");
	}
	bool perf_oom = w->st && sigtrace_has_oom(w->st);
	if (w->st)
		snprintf(w->signals_cap, CAP_LEN, "perf");
	else
		snprintf(w->signals_cap, CAP_LEN, "absent: %.150s", reason);
	if (perf_oom || w->kfd >= 0)
		snprintf(w->oom_cap, CAP_LEN, "%s%s%s", perf_oom ? "perf" : "",
			 perf_oom && w->kfd >= 0 ? "+" : "", w->kfd >= 0 ? "kmsg" : "");
	else
		snprintf(w->oom_cap, CAP_LEN, "absent: %.150s", kreason);
	if (!w->st)
		snprintf(notice, noticelen, "signal senders not recorded (%s); "
			 "exit statuses from the proc connector, OOM kills %s",
			 reason, w->kfd >= 0 ? "from /dev/kmsg" : "not recorded either");
	else if (notice && noticelen)
		*notice = 0;
	*out = w;
	return 0;
}

void why_close(struct why *w)
{
	if (!w)
		return;
	sigtrace_close(w->st);
	if (w->kfd >= 0)
		close(w->kfd);
	for (size_t i = 0; i < w->nctx; i++)
		free(w->ctx[i].cgroup);
	for (size_t i = 0; i < w->nlast; i++) {
		free(w->last[i].wchan);
		free(w->last[i].syscall);
		free(w->last[i].blocked_on);
	}
	free(w->last);
	free(w->py);
	free(w->sig);
	free(w->ex);
	free(w->oom);
	free(w->ctx);
	free(w);
}

const char *why_signals_capability(const struct why *w)
{
	return w->signals_cap;
}

const char *why_oom_capability(const struct why *w)
{
	return w->oom_cap;
}

size_t why_pollfds(const struct why *w, struct pollfd *p)
{
	size_t n = 0;
	if (w->st)
		p[n++] = (struct pollfd){ sigtrace_fd(w->st), POLLIN, 0 };
	if (w->kfd >= 0)
		p[n++] = (struct pollfd){ w->kfd, POLLIN, 0 };
	return n;
}

/* ---- draining ---- */

/* Every thread exit of the system is a record: keep the last thread of a
 * process only (a sender's exit); signals and OOM kills all. */
static int want(const struct sigtrace_event *ev, void *ctx)
{
	(void)ctx;
	return ev->kind != SIGTRACE_EXIT || ev->exit.group_dead;
}

static void take_sigtrace(struct why *w, const struct sigtrace_event *ev)
{
	if (ev->kind == SIGTRACE_SIGNAL && w->nsig >= WHY_HELD_MAX) {
		w->counts.shed++;
	} else if (ev->kind == SIGTRACE_SIGNAL) {
		util_grow((void **)&w->sig, &w->capsig, w->nsig + 1, sizeof(*w->sig));
		w->sig[w->nsig++] = (struct held_signal){ (double)ev->signal.t_ns / 1e9,
							  ev->signal };
	} else if (ev->kind == SIGTRACE_EXIT) {
		util_grow((void **)&w->ex, &w->capex, w->nex + 1, sizeof(*w->ex));
		w->ex[w->nex++] = (struct held_exit){ (double)ev->exit.t_ns / 1e9,
						      ev->exit.pid };
	} else if (ev->kind == SIGTRACE_OOM) {
		const struct sigtrace_oom *o = &ev->oom;
		util_grow((void **)&w->oom, &w->capoom, w->noom + 1, sizeof(*w->oom));
		w->oom[w->noom++] = (struct held_oom){ (double)o->t_ns / 1e9,
			o->victim_pid, o->total_vm_kb, o->anon_rss_kb, o->file_rss_kb,
			o->shmem_rss_kb };
	}
}

static void take_kmsg(struct why *w, const struct kmsg_oom *k)
{
	double t = w->mono_epoch + (double)k->ts_us / 1e6;
	if (k->kind == KMSG_OOM_CONTEXT) {
		const char *cg = k->oom_memcg ? k->oom_memcg :
				 k->task_memcg ? k->task_memcg : "";
		util_grow((void **)&w->ctx, &w->capctx, w->nctx + 1, sizeof(*w->ctx));
		w->ctx[w->nctx++] = (struct held_ctx){ t, k->pid, xstrdup(cg) };
	} else if (!(w->st && sigtrace_has_oom(w->st))) {
		/* the fallback: the tracepoint did not see it */
		util_grow((void **)&w->oom, &w->capoom, w->noom + 1, sizeof(*w->oom));
		w->oom[w->noom++] = (struct held_oom){ t, k->pid, k->total_vm_kb,
			k->anon_rss_kb, k->file_rss_kb, k->shmem_rss_kb };
	}
}

void why_drain(struct why *w)
{
	struct sigtrace_event ev[64];
	int n;
	size_t read = 0;
	/* bounded: reading may itself make records (a traced recorder) */
	while (w->st && read < WHY_DRAIN_MAX &&
	       (n = sigtrace_read(w->st, ev, 64, want, NULL)) > 0) {
		for (int i = 0; i < n; i++)
			take_sigtrace(w, &ev[i]);
		read += (size_t)n;
		if (n < 64)
			break;
	}
	struct kmsg_oom k[16];
	read = 0;
	while (w->kfd >= 0 && read < WHY_DRAIN_MAX && (n = kmsg_read(w->kfd, k, 16)) > 0) {
		read += (size_t)n;
		for (int i = 0; i < n; i++) {
			take_kmsg(w, &k[i]);
			kmsg_oom_release(&k[i]);
		}
		if (n < 16)
			break;
	}
}

/* ---- wait states ---- */

char *why_syscall_text(const struct procstate *ps, char *buf, size_t len)
{
	if (ps->sc.kind != SYSCALL_IN)
		snprintf(buf, len, "%s", "");
	else if (ps->sc_name && ps->fd >= 0)
		snprintf(buf, len, "%s(fd %d)", ps->sc_name, ps->fd);
	else if (ps->sc_name)
		snprintf(buf, len, "%s", ps->sc_name);
	else
		snprintf(buf, len, "syscall %ld", ps->sc.nr);
	return buf;
}

/* A pool's workers all read one pipe: its other end's holders are the
 * same for each, so the first reader's answer is copied (resolving reads
 * the fdinfo of every holder: readers x holders reads otherwise). */
static bool same_pipe_as_earlier(struct procstate *ps, size_t i)
{
	if (ps[i].link.kind != FDLINK_PIPE)
		return false;
	for (size_t k = 0; k < i; k++) {
		const struct procstate *e = &ps[k];
		if (e->link.kind != FDLINK_PIPE || e->peer != PROCSTATE_PEER_PIPE ||
		    e->link.inode != ps[i].link.inode ||
		    e->fd_write_side != ps[i].fd_write_side)
			continue;
		ps[i].peer = PROCSTATE_PEER_PIPE;
		ps[i].nrefs = e->nrefs;
		ps[i].refs = xmalloc((e->nrefs ? e->nrefs : 1) * sizeof(*e->refs));
		memcpy(ps[i].refs, e->refs, e->nrefs * sizeof(*e->refs));
		return true;
	}
	return false;
}

/* Resolve the peers of the processes that wait on a pipe or socket, against
 * the fd table of the whole tree, read once. */
static void resolve_peers(const char *root, const struct snapshot *snap,
			  struct procstate *ps)
{
	bool need = false;
	for (size_t i = 0; i < snap->n; i++)
		need |= procstate_needs_fdtab(&ps[i]);
	if (!need)
		return;
	int *pids = xcalloc(snap->n, sizeof(*pids));
	for (size_t i = 0; i < snap->n; i++)
		pids[i] = snap->procs[i].pid;
	struct procstate_fdtab tab = { 0 };
	procstate_fdtab_scan(root, pids, snap->n, &tab);
	for (size_t i = 0; i < snap->n; i++)
		if (procstate_needs_fdtab(&ps[i]) && !same_pipe_as_earlier(ps, i))
			procstate_resolve_peer(root, &ps[i], &tab);
	procstate_fdtab_release(&tab);
	free(pids);
}

/* The last row of process id, added (empty) if new. Session ids only
 * grow, so appending keeps the array sorted. */
static struct last_wait *last_of(struct why *w, int64_t id)
{
	size_t lo = 0, hi = w->nlast;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w->last[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < w->nlast && w->last[lo].id == id)
		return &w->last[lo];
	util_grow((void **)&w->last, &w->caplast, w->nlast + 1, sizeof(*w->last));
	memmove(&w->last[lo + 1], &w->last[lo], (w->nlast - lo) * sizeof(*w->last));
	w->nlast++;
	memset(&w->last[lo], 0, sizeof(w->last[lo]));
	w->last[lo].id = id;
	return &w->last[lo];
}

static bool same_str(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static struct py_proc *py_of(struct why *w, const struct proc_stat *st)
{
	for (size_t i = 0; i < w->npy; i++)
		if (w->py[i].pid == st->pid && w->py[i].start_ticks == st->start_ticks) {
			if (w->py[i].err == -EAGAIN)  /* not initialised yet then */
				w->py[i].err = pyframe_layout_find(w->o.proc_root, st->pid,
								   &w->py[i].l, NULL, 0);
			return &w->py[i];
		}
	util_grow((void **)&w->py, &w->cappy, w->npy + 1, sizeof(*w->py));
	struct py_proc *p = &w->py[w->npy++];
	memset(p, 0, sizeof(*p));
	p->pid = st->pid;
	p->start_ticks = st->start_ticks;
	char why[160];
	p->err = pyframe_layout_find(w->o.proc_root, st->pid, &p->l, why, sizeof(why));
	return p;
}

/* The innermost Python frames of the main thread of a process running
 * CPython 3.11 ("post_fork (conf.py:31) < ..."), into a new string; NULL
 * when it runs none or they cannot be read. */
static char *python_frames(struct why *w, const struct proc_stat *st)
{
	struct py_proc *p = py_of(w, st);
	if (p->err < 0)
		return NULL;
	pid_t pid = st->pid;
	uint64_t ts = pyframe_thread_state(&p->l, pyframe_read_pid, &pid, pid);
	struct pyframe f[WHY_PY_FRAMES];
	int n = ts ? pyframe_walk(&p->l, pyframe_read_pid, &pid, ts, f,
				  WHY_PY_FRAMES) : -1;
	if (n <= 0)
		return NULL;
	size_t len = 0, cap = (size_t)n * 400 + 1;
	char *out = xmalloc(cap);
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		char name[128], file[256];
		if (pyframe_code_names(&p->l, pyframe_read_pid, &pid, f[i].code, name,
				       sizeof(name), file, sizeof(file)) < 0)
			break;
		const char *base = strrchr(file, '/');
		int k = snprintf(out + len, cap - len, "%s%s (%s:%d)", i ? " < " : "",
				 name, base ? base + 1 : file, f[i].line);
		if (k < 0 || (size_t)k >= cap - len)
			break;
		len += (size_t)k;
	}
	return out;
}

/* Does wi equal the last row written for process id (Python frames aside:
 * they are read only when the rest changed)? */
static bool same_as_last(struct why *w, int64_t id,
			 const struct sink_wait *wi)
{
	const struct last_wait *l = last_of(w, id);
	return l->state == wi->state && l->cpu_s == wi->cpu_s &&
	       same_str(l->wchan, wi->wchan) && same_str(l->syscall, wi->syscall) &&
	       same_str(l->blocked_on, wi->blocked_on);
}

/* Write wi for process id unless it equals the process's last row. */
static int write_wait(struct why *w, const struct sink *s, int64_t sample_id,
		      int64_t id, const struct sink_wait *wi)
{
	struct last_wait *l = last_of(w, id);
	if (same_as_last(w, id, wi))
		return 0;
	int e = sink_add_wait(s, sample_id, id, wi);
	if (e < 0)
		return e;
	l->state = wi->state;
	l->cpu_s = wi->cpu_s;
	free(l->wchan);
	free(l->syscall);
	free(l->blocked_on);
	l->wchan = xstrdup(wi->wchan);
	l->syscall = xstrdup(wi->syscall);
	l->blocked_on = xstrdup(wi->blocked_on);
	return 0;
}

int why_write_waits(struct why *w, const struct sink *s, int64_t sample_id,
		      const struct snapshot *snap, const struct why_tree *tree)
{
	if (snap->n == 0)
		return 0;
	struct procstate *ps = xcalloc(snap->n, sizeof(*ps));
	for (size_t i = 0; i < snap->n; i++)
		procstate_read_with_stat(w->o.proc_root, &snap->procs[i].stat, &ps[i]);
	resolve_peers(w->o.proc_root, snap, ps);
	int e = 0;
	for (size_t i = 0; i < snap->n; i++) {
		const struct snapshot_proc *sp = &snap->procs[i];
		int64_t id = tree->id_of(tree->ctx, sp->pid, sp->start_ticks);
		if (e == 0 && id > 0) {
			char sc[64];
			char *line = procstate_describe_wait(&ps[i]);
			struct sink_wait wi = {
				.state = ps[i].state ? ps[i].state : sp->state,
				.cpu_s = (double)ps[i].cpu_ticks / (double)w->hz,
				.wchan = ps[i].wchan ? ps[i].wchan : "",
				.syscall = why_syscall_text(&ps[i], sc, sizeof(sc)),
				.blocked_on = line ? line : "",
			};
			char *py = NULL;
			/* where in Python a blocked process is, read when its
			 * row changes (a hang is one row) */
			if ((wi.state == 'S' || wi.state == 'D') && *wi.syscall &&
			    !same_as_last(w, id, &wi))
				py = python_frames(w, &sp->stat);
			wi.python = py ? py : "";
			e = write_wait(w, s, sample_id, id, &wi);
			free(py);
			free(line);
		}
		procstate_release(&ps[i]);
	}
	free(ps);
	return e;
}

/* ---- storing signals and OOM kills ---- */

static const char *result_name(int r)
{
	switch (r) {
	case SIGTRACE_DELIVERED: return "delivered";
	case SIGTRACE_IGNORED: return "ignored";
	case SIGTRACE_ALREADY_PENDING: return "already pending";
	case SIGTRACE_OVERFLOW_FAIL: return "queue full";
	case SIGTRACE_LOSE_INFO: return "delivered without its info";
	default: return "unknown";
	}
}

/* Did pid exit within WHY_SETTLE_S after t? */
static bool exited_after(const struct why *w, int pid, double t)
{
	for (size_t i = 0; i < w->nex; i++)
		if (w->ex[i].pid == pid && w->ex[i].t >= t - 0.001 &&
		    w->ex[i].t <= t + WHY_SETTLE_S)
			return true;
	return false;
}

static double keep_s(const struct why *w)
{
	double k = 3 * w->o.interval_s;
	return k > WHY_KEEP_S ? k : WHY_KEEP_S;
}

/* 1: stored (drop it), 0: keep it for later, -errno. */
static int store_signal(struct why *w, const struct sink *s, const struct held_signal *h,
			double now, bool final, const struct why_tree *tree)
{
	const struct sigtrace_signal *g = &h->s;
	int64_t id = tree->id_at(tree->ctx, g->target_tid, h->t);
	if (id == 0)
		return final || now - h->t > keep_s(w) ? 1 : 0;
	if (!final && now - h->t < WHY_SETTLE_S)
		return 0;
	struct sink_signal si = {
		.t = h->t, .process_id = id, .pid = g->target_tid, .signal = g->sig,
		.code = g->code, .sender_pid = g->sender_pid,
		.sender_cmd = g->sender_comm,
		.sender_process_id = tree->id_at(tree->ctx, g->sender_pid, h->t),
		.sender_exiting = g->sender_exited || exited_after(w, g->sender_pid, h->t),
		.result = result_name(g->result),
	};
	int e = sink_add_signal(s, &si);
	if (e == 0)
		w->counts.signals++;
	return e < 0 ? e : 1;
}

static const char *cgroup_of(const struct why *w, int pid, double t)
{
	for (size_t i = w->nctx; i-- > 0;)
		if (w->ctx[i].pid == pid && w->ctx[i].t > t - keep_s(w) &&
		    w->ctx[i].t < t + keep_s(w))
			return w->ctx[i].cgroup;
	return NULL;
}

static int store_oom(struct why *w, const struct sink *s, const struct held_oom *h,
		     double now, bool final, const struct why_tree *tree)
{
	int64_t id = tree->id_at(tree->ctx, h->pid, h->t);
	if (id == 0)
		return final || now - h->t > keep_s(w) ? 1 : 0;
	const char *cg = cgroup_of(w, h->pid, h->t);
	/* the kernel logs the cgroup just after the tracepoint fires */
	if (!cg && w->kfd >= 0 && !final && now - h->t < WHY_SETTLE_S)
		return 0;
	struct sink_oom oi = {
		.t = h->t, .process_id = id, .pid = h->pid,
		.total_vm_kb = h->total_vm_kb > 0 ? (uint64_t)h->total_vm_kb : 0,
		.anon_rss_kb = h->anon_rss_kb > 0 ? (uint64_t)h->anon_rss_kb : 0,
		.file_rss_kb = h->file_rss_kb > 0 ? (uint64_t)h->file_rss_kb : 0,
		.shmem_rss_kb = h->shmem_rss_kb > 0 ? (uint64_t)h->shmem_rss_kb : 0,
		.cgroup = cg ? cg : "",
	};
	int e = sink_add_oom(s, &oi);
	if (e == 0)
		w->counts.ooms++;
	return e < 0 ? e : 1;
}

static void prune(struct why *w, double now)
{
	size_t k = 0;
	for (size_t i = 0; i < w->nex; i++)
		if (now - w->ex[i].t <= keep_s(w) + WHY_SETTLE_S)
			w->ex[k++] = w->ex[i];
	w->nex = k;
	k = 0;
	for (size_t i = 0; i < w->nctx; i++) {
		if (now - w->ctx[i].t <= 2 * keep_s(w))
			w->ctx[k++] = w->ctx[i];
		else
			free(w->ctx[i].cgroup);
	}
	w->nctx = k;
}

int why_store(struct why *w, const struct sink *s, double now, bool final,
		const struct why_tree *tree)
{
	int e = 0;
	size_t k = 0;
	for (size_t i = 0; i < w->nsig; i++) {
		int r = e < 0 ? 0 : store_signal(w, s, &w->sig[i], now, final, tree);
		if (r < 0)
			e = r;
		if (r <= 0)
			w->sig[k++] = w->sig[i];
	}
	w->nsig = k;
	k = 0;
	for (size_t i = 0; i < w->noom; i++) {
		int r = e < 0 ? 0 : store_oom(w, s, &w->oom[i], now, final, tree);
		if (r < 0)
			e = r;
		if (r <= 0)
			w->oom[k++] = w->oom[i];
	}
	w->noom = k;
	prune(w, now);
	return e;
}

void why_counts(const struct why *w, struct why_counts *out)
{
	*out = w->counts;
	out->lost = w->st ? sigtrace_lost(w->st) : 0;
}
