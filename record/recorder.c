/* recorder.c - sample a process tree at a fixed interval into a session */
#include "record/recorder.h"
#include "collectors/procevents.h"
#include "collectors/procfs.h"
#include "collectors/proctree.h"
#include "common/format.h"
#include "common/util.h"
#include "faults/faultlog.h"
#include "measure/snapshot.h"
#include "record/why.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A region of a process whose figures the session has. */
struct track_region {
	uint64_t start, end;
	enum maps_kind kind;
	int64_t id;
	struct cow_figures last;
};

/* A process the session has. */
struct track {
	int pid, ppid;
	uint64_t start_ticks;
	int64_t id;
	double fork_time;
	bool alive, seen, exit_recorded;
	double exit_t;           /* when it exited (exit_recorded) */
	struct track_region *regions;   /* sorted by start */
	size_t nregions, capregions;
};

/* What the proc connector said about a process, kept until a sample uses it. */
struct note {
	int pid, ppid;
	double t;
	int code, signal;
};

struct rec {
	const struct recorder_opts *o;
	const struct sink *s;
	int root;
	struct track *tr;
	size_t ntr, captr;
	struct note *forks, *exits;
	size_t nforks, capforks, nexits, capexits;
	int evfd;
	double boot_epoch, mono_epoch;
	long hz;
	struct recorder_summary *sum;
	int64_t sample_id;
	struct faultlog *faults;    /* NULL without fault attribution */
	double last_drain;           /* monotonic time of the last drain */
	double last_sample_t;        /* the last sample's time (epoch seconds) */
	int drain_err;               /* a drain between samples failed */
	struct why *w;         /* wait states, signals, OOM kills */
	struct why_tree wt;
	char why_notice[512];  /* what why.c cannot see, said once */
};

static struct track *find_track(struct rec *r, int pid, uint64_t start_ticks)
{
	for (size_t i = r->ntr; i-- > 0;)
		if (r->tr[i].pid == pid && r->tr[i].start_ticks == start_ticks)
			return &r->tr[i];
	return NULL;
}

static struct track *find_alive(struct rec *r, int pid)
{
	for (size_t i = r->ntr; i-- > 0;)
		if (r->tr[i].pid == pid && r->tr[i].alive)
			return &r->tr[i];
	return NULL;
}

static void add_note(struct note **v, size_t *n, size_t *cap, struct note nt)
{
	util_grow((void **)v, cap, *n + 1, sizeof(**v));
	(*v)[(*n)++] = nt;
}

static void drop_note(struct note *v, size_t *n, size_t i)
{
	v[i] = v[--*n];
}

static ssize_t find_note(const struct note *v, size_t n, int pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].pid == pid)
			return (ssize_t)i;
	return -1;
}

/* ---- events between samples ---- */

/* The root before the first sample tracks it, a process of the tree, or
 * one forked from it since the last sample. */
static bool watched(struct rec *r, int pid)
{
	return pid == r->root || find_alive(r, pid) ||
	       find_note(r->forks, r->nforks, pid) >= 0;
}

static void take_event(struct rec *r, const struct procev *ev)
{
	double t = r->mono_epoch + (double)ev->timestamp_ns / 1e9;
	struct note nt = { ev->pid, ev->ppid, t, ev->exit_code, ev->exit_signal };
	if (ev->kind == PROCEV_FORK && watched(r, ev->ppid))
		add_note(&r->forks, &r->nforks, &r->capforks, nt);
	else if (ev->kind == PROCEV_EXIT && watched(r, ev->pid))
		add_note(&r->exits, &r->nexits, &r->capexits, nt);
}

#define DRAIN_EVENTS_MAX 8192

static void drain_events(struct rec *r)
{
	struct procev ev[64];
	int n;
	/* bounded: the connector tells every fork and exit of the machine,
	 * and a busy one can outrun the reader */
	for (size_t read = 0; read < DRAIN_EVENTS_MAX; read += 64) {
		n = procevents_read(r->evfd, ev, 64);
		if (n == -ENOBUFS) {
			/* the kernel dropped events: each sample rescans
			 * /proc, but what forked and exited in between is
			 * gone; the summary says how often */
			r->sum->events_overrun++;
			continue;
		}
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			take_event(r, &ev[i]);
	}
}

/* *stop is set by a signal handler (record) or by another thread (top):
 * read it atomically. */
static bool stop_set(const struct rec *r)
{
	return r->o->stop && __atomic_load_n(r->o->stop, __ATOMIC_RELAXED);
}

static bool should_stop(struct rec *r)
{
	return stop_set(r) ||
	       (r->o->root_done && r->o->root_done(r->o->ctx));
}

static int drain_faults(struct rec *r);

/* The preload rings hold 16384 events per process and a worker can copy
 * 80,000 pages in a burst: empty them every FAULT_DRAIN_S, not only at
 * samples. */
#define FAULT_DRAIN_S 0.1

static void drain_faults_between(struct rec *r)
{
	if (!r->faults || r->drain_err ||
	    util_clock_s(CLOCK_MONOTONIC) - r->last_drain < FAULT_DRAIN_S)
		return;
	int e = sink_begin(r->s);
	if (e == 0)
		e = drain_faults(r);
	int c = sink_commit(r->s);
	r->drain_err = e ? e : c;
}

/* Wait until the monotonic time deadline, reading events meanwhile.
 * Returns false if told to stop. */
static bool wait_until(struct rec *r, double deadline)
{
	for (;;) {
		if (should_stop(r))
			return false;
		drain_faults_between(r);
		double left = deadline - util_clock_s(CLOCK_MONOTONIC);
		if (left <= 0)
			return true;
		int ms = left > 0.1 ? 100 : (int)(left * 1000) + 1;
		struct pollfd p[1 + WHY_MAX_FDS] = { { r->evfd, POLLIN, 0 } };
		nfds_t np = 1 + why_pollfds(r->w, p + 1);
		if (r->evfd >= 0 || np > 1) {
			if (poll(p, np, ms) > 0) {
				if (p[0].revents)
					drain_events(r);
				why_drain(r->w);
			}
		} else {
			struct timespec ts = { 0, (long)ms * 1000000 };
			nanosleep(&ts, NULL);
		}
	}
}

/* ---- writing samples ---- */

/* The connector's exit note of pid. The kernel sends it just after the
 * process turns zombie, so a walk can see the zombie (or the process gone)
 * first: wait a moment for the note before giving up. */
static ssize_t find_exit_note(struct rec *r, int pid)
{
	ssize_t k = find_note(r->exits, r->nexits, pid);
	for (int tries = 0; k < 0 && r->evfd >= 0 && tries < 5; tries++) {
		struct pollfd p = { r->evfd, POLLIN, 0 };
		if (poll(&p, 1, 10) > 0)
			drain_events(r);
		k = find_note(r->exits, r->nexits, pid);
	}
	return k;
}

static int record_exit(struct rec *r, struct track *t, double fallback_t)
{
	ssize_t k = find_exit_note(r, t->pid);
	struct note nt = { t->pid, 0, fallback_t, -1, -1 };
	if (k >= 0 && r->exits[k].t >= t->fork_time - 1) {
		nt = r->exits[k];
		drop_note(r->exits, &r->nexits, (size_t)k);
	}
	char detail[64], sig[32];
	if (nt.signal > 0)
		snprintf(detail, sizeof(detail), "killed by %s",
			 format_signal_name(nt.signal, sig, sizeof(sig)));
	else if (nt.code >= 0)
		snprintf(detail, sizeof(detail), "exit %d", nt.code);
	else
		snprintf(detail, sizeof(detail), "vanished between samples");
	t->alive = false;
	t->exit_recorded = true;
	t->exit_t = nt.t;
	r->sum->exits++;
	int e = sink_set_exit(r->s, t->id, nt.t, nt.code, nt.signal);
	return e ? e : sink_add_event(r->s, nt.t, t->id, t->pid, "exit", detail);
}

static struct track *add_track(struct rec *r, int pid, int ppid,
			       uint64_t start_ticks, double fork_time)
{
	util_grow((void **)&r->tr, &r->captr, r->ntr + 1, sizeof(*r->tr));
	struct track *t = &r->tr[r->ntr++];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->ppid = ppid;
	t->start_ticks = start_ticks;
	t->fork_time = fork_time;
	t->alive = true;
	r->sum->processes++;
	return t;
}

/* Fork time: the connector's, else from the process's start time. */
static double fork_time_of(struct rec *r, int pid, uint64_t start_ticks)
{
	ssize_t k = find_note(r->forks, r->nforks, pid);
	double t = r->boot_epoch + (double)start_ticks / (double)r->hz;
	if (k >= 0) {
		t = r->forks[k].t;
		drop_note(r->forks, &r->nforks, (size_t)k);
	}
	return t;
}

static int new_process(struct rec *r, const struct snapshot *snap,
		       const struct snapshot_proc *sp, struct track **out)
{
	int64_t parent_id = 0;
	if (sp->parent >= 0) {
		const struct snapshot_proc *pp = &snap->procs[sp->parent];
		struct track *pt = find_track(r, pp->pid, pp->start_ticks);
		parent_id = pt ? pt->id : 0;
	}
	double ft = fork_time_of(r, sp->pid, sp->start_ticks);
	struct track *t = add_track(r, sp->pid, sp->ppid, sp->start_ticks, ft);
	struct sink_proc info = { sp->pid, sp->ppid, parent_id,
					  sp->start_ticks, ft, sp->cmd };
	int e = sink_add_process(r->s, &info, &t->id);
	bool first = r->sum->samples == 0;
	if (e == 0)
		e = sink_add_event(r->s, first ? snap->time : ft, t->id, t->pid,
				      first ? "start" : "fork", sp->cmd);
	*out = t;
	return e;
}

static bool same_figures(const struct cow_figures *a, const struct cow_figures *b)
{
	return a->rss_kb == b->rss_kb && a->anon_kb == b->anon_kb &&
	       a->shared_with_parent_kb == b->shared_with_parent_kb &&
	       a->copied_kb == b->copied_kb && a->new_kb == b->new_kb;
}

static struct track_region *find_region(struct track *t, uint64_t start,
					enum maps_kind kind, size_t *pos)
{
	size_t lo = 0, hi = t->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->regions[mid].start < start ||
		    (t->regions[mid].start == start && t->regions[mid].kind < kind))
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	if (lo < t->nregions && t->regions[lo].start == start &&
	    t->regions[lo].kind == kind)
		return &t->regions[lo];
	return NULL;
}

/* A region's figures go to the session when they change, and only for
 * memory that can be shared or copied (anonymous, shmem): page cache
 * regions of every library would otherwise fill the file. */
static int write_region(struct rec *r, struct track *t,
			const struct snapshot_region *g)
{
	size_t pos;
	struct track_region *tr = find_region(t, g->start, g->kind, &pos);
	if (!tr && g->fig.anon_kb == 0 && g->fig.shmem_kb == 0)
		return 0;
	if (!tr) {
		util_grow((void **)&t->regions, &t->capregions, t->nregions + 1,
			  sizeof(*t->regions));
		memmove(&t->regions[pos + 1], &t->regions[pos],
			(t->nregions - pos) * sizeof(*t->regions));
		t->nregions++;
		tr = &t->regions[pos];
		memset(tr, 0, sizeof(*tr));
		tr->start = g->start;
		tr->end = g->end;
		tr->kind = g->kind;
		int e = sink_add_region(r->s, t->id, g->start, g->end, g->perms,
					   maps_kind_name(g->kind), g->path, &tr->id);
		if (e < 0)
			return e;
	} else if (same_figures(&tr->last, &g->fig)) {
		return 0;
	}
	tr->last = g->fig;
	return sink_add_region_sample(r->s, r->sample_id, tr->id, &g->fig);
}

static int write_process(struct rec *r, const struct snapshot *snap,
			 const struct snapshot_proc *sp)
{
	struct track *t = find_track(r, sp->pid, sp->start_ticks);
	int e = t ? 0 : new_process(r, snap, sp, &t);
	if (e < 0)
		return e;
	t->seen = true;
	e = sink_add_proc_sample(r->s, r->sample_id, t->id, sp->state, &sp->fig);
	for (size_t k = 0; e == 0 && k < sp->nregions; k++)
		e = write_region(r, t, &sp->regions[k]);
	/* a zombie has exited: its parent has not reaped it yet */
	if (e == 0 && (sp->state == 'Z' || sp->state == 'X') && !t->exit_recorded)
		e = record_exit(r, t, snap->time);
	return e;
}

/* The process a fork note's parent was at its fork: the latest one with
 * that pid forked before it. */
static struct track *parent_of_note(struct rec *r, const struct note *f)
{
	for (size_t i = r->ntr; i-- > 0;)
		if (r->tr[i].pid == f->ppid && r->tr[i].fork_time <= f->t + 0.02 &&
		    (r->tr[i].alive || r->tr[i].exit_t + 0.02 >= f->t))
			return &r->tr[i];
	return NULL;
}

/* Is a fork of pid among the first n notes (those kept so far, in time
 * order)? Its children wait for it to be written. */
static bool pending_fork_before(const struct rec *r, size_t n, int pid)
{
	for (size_t k = 0; k < n; k++)
		if (r->forks[k].pid == pid)
			return true;
	return false;
}

/* The command line of pid now, or NULL (caller frees). */
static char *cmdline_of(struct rec *r, int pid)
{
	char *buf, *cmd = NULL;
	size_t len;
	if (procfs_read(r->o->proc_root, pid, "cmdline", &buf, &len) == 0) {
		cmd = proctree_cmdline_parse(buf, len);
		free(buf);
	}
	return cmd;
}

/* Write the process of fork note f, which no sample saw, and its exit if
 * the connector told it. */
static int write_unsampled(struct rec *r, struct note f, const char *detail,
			   bool exited)
{
	const struct track *pt = parent_of_note(r, &f);
	int64_t parent_id = pt ? pt->id : 0;  /* add_track may move the tracks */
	uint64_t ticks = (uint64_t)((f.t - r->boot_epoch) * (double)r->hz);
	struct track *t = add_track(r, f.pid, f.ppid, ticks, f.t);
	/* one alive at the end says what it runs; one gone cannot */
	char *cmd = exited ? NULL : cmdline_of(r, f.pid);
	struct sink_proc info = { f.pid, f.ppid, parent_id, ticks, f.t, cmd ? cmd : "" };
	int e = sink_add_process(r->s, &info, &t->id);
	free(cmd);
	if (e == 0)
		e = sink_add_event(r->s, f.t, t->id, f.pid, "fork", detail);
	if (e == 0 && exited)
		e = record_exit(r, t, f.t);
	return e;
}

static int by_time(const void *a, const void *b)
{
	const struct note *x = a, *y = b;
	return (x->t > y->t) - (x->t < y->t);
}

/* Processes that forked and exited between two samples: the connector saw
 * them, no sample did. Parents before children (notes in time order). At
 * the end (final), every fork note is written: those without an exit
 * note forked after the last sample and were alive then, or their exit
 * was not told. */
static int write_short_lived(struct rec *r, double now, bool final)
{
	int e = 0;
	qsort(r->forks, r->nforks, sizeof(*r->forks), by_time);
	size_t k = 0;
	for (size_t i = 0; i < r->nforks; i++) {
		struct note f = r->forks[i];
		ssize_t x = find_note(r->exits, r->nexits, f.pid);
		if (e == 0 && x < 0 && final) {
			if (f.t <= r->last_sample_t)
				r->sum->unseen++;  /* not in the last sample: left */
			else
				e = write_unsampled(r, f, "forked after the last sample",
						    false);
			continue;
		}
		/* parents before children: a child waits while its parent's
		 * fork is still to be written (notes are in time order) */
		bool wait_parent = !final && pending_fork_before(r, k, f.ppid);
		if (x < 0 || e != 0 || wait_parent) {
			if (e == 0 && now - f.t > 10 * r->o->interval_s + 1)
				r->sum->unseen++;  /* left the tree unseen */
			else
				r->forks[k++] = f;
			continue;
		}
		e = write_unsampled(r, f, "exited before any sample", true);
	}
	r->nforks = final && e == 0 ? 0 : k;
	return e;
}

/* ---- fault attribution: what the fault sink asks of the tree ---- */

static struct track *latest_track(struct rec *r, int pid)
{
	for (size_t i = r->ntr; i-- > 0;)
		if (r->tr[i].pid == pid)
			return &r->tr[i];
	return NULL;
}

static int64_t fault_process_id(void *ctx, int pid)
{
	struct track *t = latest_track(ctx, pid);
	return t ? t->id : 0;
}

static int64_t fault_region_id(void *ctx, int pid, uint64_t addr)
{
	struct track *t = latest_track(ctx, pid);
	for (size_t k = 0; t && k < t->nregions; k++)
		if (t->regions[k].start <= addr && addr < t->regions[k].end)
			return t->regions[k].id;
	return 0;
}

static int fault_parent_pid(void *ctx, int pid)
{
	struct track *t = latest_track(ctx, pid);
	return t ? t->ppid : 0;
}

static bool fault_exited(void *ctx, int pid)
{
	struct track *t = latest_track(ctx, pid);
	return t && !t->alive;
}

static int fault_alive_pid(void *ctx, size_t i)
{
	struct rec *r = ctx;
	for (size_t k = 0; k < r->ntr; k++)
		if (r->tr[k].alive && i-- == 0)
			return r->tr[k].pid;
	return -1;
}

static int drain_faults(struct rec *r)
{
	if (!r->faults)
		return 0;
	r->last_drain = util_clock_s(CLOCK_MONOTONIC);
	if (r->drain_err)
		return r->drain_err;
	struct faultlog_lookup l = { r, fault_process_id, fault_region_id,
				      fault_parent_pid, fault_exited, fault_alive_pid };
	int e = faultlog_drain(r->faults, r->s, &l);
	if (e == 0 && r->o->fault_perf)
		e = attach_drain(r->o->fault_perf, r->faults, r->s, &l);
	return e;
}

static int write_sample(struct rec *r, const struct snapshot *snap)
{
	int e = sink_begin_sample(r->s, snap->time, snap->duration_s,
				     &snap->tree, snap->n, &r->sample_id);
	for (size_t i = 0; i < r->ntr; i++)
		r->tr[i].seen = false;
	why_drain(r->w);  /* who sent the signals, before the exits */
	for (size_t i = 0; e == 0 && i < snap->n; i++)
		e = write_process(r, snap, &snap->procs[i]);
	if (e == 0)
		e = why_write_waits(r->w, r->s, r->sample_id, snap, &r->wt);
	for (size_t i = 0; e == 0 && i < r->ntr; i++)
		if (r->tr[i].alive && !r->tr[i].seen && !r->tr[i].exit_recorded)
			e = record_exit(r, &r->tr[i], snap->time);
	if (e == 0)
		e = write_short_lived(r, snap->time, false);
	if (e == 0)
		e = drain_faults(r);
	if (e == 0)
		e = why_store(r->w, r->s, snap->time, false, &r->wt);
	int c = sink_commit(r->s);
	if (e == 0 && c == 0) {
		r->sum->samples++;
		r->last_sample_t = snap->time;
	}
	return e ? e : c;
}

/* ---- the loop ---- */

/* "writing the session failed", with why when it is known. */
static int write_failed(char *err, size_t errlen, int e)
{
	if (e == -EIO)
		return format_error(err, errlen, e, "writing the session failed");
	return format_error(err, errlen, e, "writing the session failed: %s",
			    strerror(-e));
}

static void progress(struct rec *r, double elapsed)
{
	char sz[FORMAT_KB_LEN];
	size_t alive = 0;
	for (size_t i = 0; i < r->ntr; i++)
		alive += r->tr[i].alive;
	fprintf(stderr, "\rcowprof: recording %d: %.0f s, %zu samples, %zu processes, %s   ",
		r->root, elapsed, r->sum->samples, alive,
		format_kb(sink_size_bytes(r->s) / 1024, sz, sizeof(sz)));
}

/* The root is gone: record its exit (the rest, with the processes no
 * sample saw, at the end: flush_notes). */
static int finish_root(struct rec *r, double now)
{
	r->sum->root_exited = true;
	for (size_t i = 0; i < r->ntr; i++) {
		struct track *t = &r->tr[i];
		if (t->alive && !t->exit_recorded && t->pid == r->root)
			return record_exit(r, t, now);
	}
	return 0;
}

/* The end of the recording (root exited, -d, stopped): what the connector
 * told since the last sample is written too, so no fork or exit is lost:
 * exits of sampled processes, and the processes no sample saw. */
static int flush_notes(struct rec *r)
{
	if (r->evfd >= 0)
		drain_events(r);
	double now = util_clock_s(CLOCK_REALTIME);
	int e = 0;
	for (size_t i = 0; e == 0 && i < r->ntr; i++) {
		struct track *t = &r->tr[i];
		if (t->alive && !t->exit_recorded &&
		    find_note(r->exits, r->nexits, t->pid) >= 0)
			e = record_exit(r, t, now);
	}
	return e ? e : write_short_lived(r, now, true);
}

static int sample_once(struct rec *r, bool *done, char *err, size_t errlen)
{
	struct snapshot_opts so = { .proc_root = r->o->proc_root, .regions = true,
				    .threads = 1 };
	struct snapshot snap;
	if (r->evfd >= 0)
		drain_events(r);
	int e = snapshot_take(r->root, &so, &snap, err, errlen);
	if (e == -ESRCH && r->sum->samples > 0) {
		*done = true;
		e = sink_begin(r->s);
		if (e == 0)
			e = finish_root(r, util_clock_s(CLOCK_REALTIME));
		int c = sink_commit(r->s);
		e = e ? e : c;
		return e ? write_failed(err, errlen, e) : 0;
	}
	if (e < 0)
		return e;
	/* exits during the walk: their events come before the zombie state
	 * the walk may have seen */
	if (r->evfd >= 0)
		drain_events(r);
	e = write_sample(r, &snap);
	*done = snap.n > 0 && (snap.procs[0].state == 'Z' || snap.procs[0].state == 'X');
	r->sum->root_exited |= *done;
	snapshot_release(&snap);
	return e ? write_failed(err, errlen, e) : 0;
}

/* ---- why.c's questions about the tree ---- */

static int64_t id_of(void *ctx, int pid, uint64_t start_ticks)
{
	struct track *t = find_track(ctx, pid, start_ticks);
	return t ? t->id : 0;
}

/* The process that had pid at t: the last one forked before t (fork times
 * from start ticks are 10 ms coarse). */
static int64_t id_at(void *ctx, int pid, double t)
{
	struct rec *r = ctx;
	for (size_t i = r->ntr; i-- > 0;)
		if (r->tr[i].pid == pid && r->tr[i].fork_time <= t + 0.02)
			return r->tr[i].id;
	return 0;
}

static void open_why(struct rec *r)
{
	char *notice = r->why_notice;
	struct why_opts wo = { .proc_root = r->o->proc_root,
				 .interval_s = r->o->interval_s };
	why_open(&wo, &r->w, notice, sizeof(r->why_notice));
	r->wt = (struct why_tree){ id_of, id_at, r };
	/* said after the first sample (loop): when that fails,
	 * its error is the one line; top's screen owns the terminal (the
	 * meta says it there) */
	if (r->o->interval_live)
		*notice = '\0';
	sink_set_meta(r->s, SINK_META_SIGNALS, why_signals_capability(r->w));
	sink_set_meta(r->s, SINK_META_OOM_KILLS, why_oom_capability(r->w));
}

/* Signals and OOM kills still held: store them after the last sample. */
static int close_why(struct rec *r)
{
	why_drain(r->w);
	int e = sink_begin(r->s);
	if (e == 0)
		e = why_store(r->w, r->s, util_clock_s(CLOCK_REALTIME), true, &r->wt);
	int c = sink_commit(r->s);
	struct why_counts wc;
	why_counts(r->w, &wc);
	r->sum->signals_shed = wc.shed + wc.lost;
	why_close(r->w);
	return e ? e : c;
}

static void init_clocks(struct rec *r)
{
	double real = util_clock_s(CLOCK_REALTIME);
	r->boot_epoch = real - util_clock_s(CLOCK_BOOTTIME);
	r->mono_epoch = (double)util_realtime_offset_ns() / 1e9;
	r->hz = sysconf(_SC_CLK_TCK);
}

static int loop(struct rec *r, char *err, size_t errlen)
{
	double t0 = util_clock_s(CLOCK_MONOTONIC), next = t0;
	bool done = false, first = true;
	int e = 0;
	while (e == 0 && !done) {
		e = sample_once(r, &done, err, errlen);
		if (first && e == 0 && r->why_notice[0])
			fprintf(stderr, "cowprof: %s\n", r->why_notice);
		if (first && r->o->after_first)
			r->o->after_first(r->o->ctx);
		if (first && e == 0 && r->o->fault_perf)
			/* after the first sample (the tree is known first: a
			 * worker killed before it would be unknown), before
			 * the first burst */
			faultlog_preload(r->faults, r->root);
		first = false;
		double elapsed = util_clock_s(CLOCK_MONOTONIC) - t0;
		r->sum->seconds = elapsed;
		if (r->o->progress)
			progress(r, elapsed);
		if (r->o->duration_s > 0 && elapsed + 1e-9 >= r->o->duration_s)
			break;
		/* deadlines on a fixed grid, so a slow sample does not drift */
		next += r->o->interval_live ? atomic_load(r->o->interval_live)
					    : r->o->interval_s;
		if (r->o->duration_s > 0 && next - t0 > r->o->duration_s)
			next = t0 + r->o->duration_s;
		if (!done && e == 0 && !wait_until(r, next)) {
			/* told to stop, or run's child exited: one last look */
			if (!stop_set(r))
				e = sample_once(r, &done, err, errlen);
			break;
		}
	}
	if (r->o->progress)
		fputc('\n', stderr);
	return e;
}

int recorder_run(int root, const struct sink *s, const struct recorder_opts *o,
		 struct recorder_summary *sum, char *err, size_t errlen)
{
	struct rec r = { .o = o, .s = s, .root = root, .sum = sum };
	memset(sum, 0, sizeof(*sum));
	init_clocks(&r);
	/* COWPROF_NO_CONNECTOR=1 forces the polling fallback (for tests, run
	 * as root, where the connector is always granted) */
	const char *no = getenv("COWPROF_NO_CONNECTOR");
	r.evfd = no && *no == '1' ? -EPERM : procevents_open();
	sum->connector = r.evfd >= 0;
	sink_set_meta(s, SINK_META_CONNECTOR, sum->connector ? "netlink" : "polling");
	if (o->fault_spool || o->fault_perf)
		r.faults = faultlog_new(o->fault_spool, o->proc_root);
	open_why(&r);
	int e = o->ready ? o->ready(o->ready_ctx, err, errlen) : 0;
	if (e == 0)
		e = loop(&r, err, errlen);
	if (e == 0 && sum->samples > 0) {
		e = sink_begin(s);
		if (e == 0)
			e = flush_notes(&r);
		int c = sink_commit(s);
		e = e ? e : c;
		if (e)
			write_failed(err, errlen, e);
	}
	int we = close_why(&r);
	if (e == 0 && we < 0)
		e = write_failed(err, errlen, we);
	if (e == 0 && r.faults) {
		/* what the last processes wrote before they exited */
		e = sink_begin(s);
		if (e == 0)
			e = drain_faults(&r);
		int c = sink_commit(s);
		e = e ? e : c;
		if (e)
			write_failed(err, errlen, e);
	}
	sum->fault_events = r.faults ? faultlog_events(r.faults) : 0;
	sum->fault_pages = r.faults ? faultlog_pages(r.faults) : 0;
	sum->fault_dropped = r.faults ? faultlog_dropped(r.faults) : 0;
	if (o->fault_perf) {
		struct attach_stats fst;
		attach_get_stats(o->fault_perf, &fst);
		sum->fault_dropped += fst.lost + fst.unrecorded;
	}
	faultlog_free(r.faults);
	if (e == 0) {
		e = sink_add_event(s, util_clock_s(CLOCK_REALTIME), 0, root, "end",
				   sum->root_exited ? "root exited" : "recording ended");
		if (e)
			write_failed(err, errlen, e);
	}
	sum->file_bytes = sink_size_bytes(s);
	procevents_close(r.evfd);
	for (size_t i = 0; i < r.ntr; i++)
		free(r.tr[i].regions);
	free(r.tr);
	free(r.forks);
	free(r.exits);
	return e;
}
