/* session_fixture.h - write synthetic sessions with known figures
 *
 * Unit tests build sessions through the same writer API the recorder uses
 * (store/session.h), in a temporary folder, then load them back. Two
 * levels: a small builder (sfx_*) for tests that spell out every figure,
 * and sfx_write_golden(), the session the golden report files describe.
 */
#ifndef COWPROF_TEST_SESSION_FIXTURE_H
#define COWPROF_TEST_SESSION_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "store/session.h"

#define SFX_MAX_PROCS 16
#define SFX_MAX_REGIONS 8
/* 2023-11-14 22:13:20 UTC: every fixture session starts here. */
#define SFX_T0 1700000000.0

struct sfx {
	struct session *s;
	struct sink out;         /* s as the recorder's sink */
	char *dir, *path;
	int64_t proc_id[SFX_MAX_PROCS];
	int64_t region_id[SFX_MAX_PROCS][SFX_MAX_REGIONS];
	int64_t sample_id;
};

static inline void sfx_check(int r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "session fixture: %s failed (%d)\n", what, r);
		abort();
	}
}

/* A new session file in a new temporary folder. */
static inline void sfx_open(struct sfx *x)
{
	memset(x, 0, sizeof(*x));
	const char *tmp = getenv("TMPDIR");
	if (asprintf(&x->dir, "%s/cowprof-test-XXXXXX", tmp ? tmp : "/tmp") < 0 ||
	    !mkdtemp(x->dir))
		sfx_check(-1, "mkdtemp");
	if (asprintf(&x->path, "%s/session.db", x->dir) < 0)
		sfx_check(-1, "asprintf");
	char err[256];
	sfx_check(session_create(x->path, &x->s, err, sizeof(err)), err);
	session_sink(x->s, &x->out);
}

/* Close the writer; the file stays for session_load. */
static inline void sfx_close(struct sfx *x)
{
	session_close(x->s);
	x->s = NULL;
}

/* Remove the file (and its WAL) and the folder. */
static inline void sfx_remove(struct sfx *x)
{
	char *p;
	session_close(x->s);
	x->s = NULL;
	for (int i = 0; i < 3; i++) {
		if (asprintf(&p, "%s%s", x->path, i == 0 ? "" : i == 1 ? "-wal" : "-shm") >= 0) {
			unlink(p);
			free(p);
		}
	}
	rmdir(x->dir);
	free(x->path);
	free(x->dir);
}

static inline void sfx_meta(struct sfx *x, const char *key, const char *value)
{
	sfx_check(session_set_meta(x->s, key, value), "set_meta");
}

/* Process number idx (0..SFX_MAX_PROCS-1); parent is an idx or -1; times
 * are seconds after SFX_T0. */
static inline void sfx_proc(struct sfx *x, int idx, int pid, int ppid,
			    int parent, double fork_s, const char *cmd)
{
	struct sink_proc info = {
		pid, ppid, parent >= 0 ? x->proc_id[parent] : 0,
		(uint64_t)pid * 100, fork_s == 0 ? 0 : SFX_T0 + fork_s, cmd };
	sfx_check(session_add_process(x->s, &info, &x->proc_id[idx]), "add_process");
}

static inline void sfx_region(struct sfx *x, int idx, int k, uint64_t start,
			      uint64_t end, const char *perms, const char *kind,
			      const char *path)
{
	sfx_check(session_add_region(x->s, x->proc_id[idx], start, end, perms, kind,
				     path, &x->region_id[idx][k]), "add_region");
}

/* Begin a sample at SFX_T0 + t_s with the tree's figures. */
static inline void sfx_sample(struct sfx *x, double t_s, size_t nprocs,
			      uint64_t rss_kb, uint64_t unique_kb)
{
	struct cow_tree_figures tree = { .rss_kb = rss_kb, .pss_kb = unique_kb,
					 .uss_kb = unique_kb / 2,
					 .unique_kb = unique_kb };
	sfx_check(session_begin_sample(x->s, SFX_T0 + t_s, 0.05, &tree, nprocs,
				       &x->sample_id), "begin_sample");
}

static inline void sfx_point(struct sfx *x, int idx, char state,
			     const struct cow_figures *f)
{
	sfx_check(session_add_proc_sample(x->s, x->sample_id, x->proc_id[idx], state,
					  f), "add_proc_sample");
}

/* A point with only the parent figures given; the rest follows them. */
static inline void sfx_point_cow(struct sfx *x, int idx, uint64_t shared_kb,
				 uint64_t copied_kb, uint64_t new_kb)
{
	struct cow_figures f = { 0 };
	f.shared_with_parent_kb = shared_kb;
	f.copied_kb = copied_kb;
	f.new_kb = new_kb;
	f.anon_kb = shared_kb + copied_kb + new_kb;
	f.rss_kb = f.anon_kb;
	sfx_point(x, idx, 'S', &f);
}

static inline void sfx_region_point(struct sfx *x, int idx, int k,
				    const struct cow_figures *f)
{
	sfx_check(session_add_region_sample(x->s, x->sample_id, x->region_id[idx][k],
					    f), "add_region_sample");
}

static inline void sfx_end_sample(struct sfx *x)
{
	sfx_check(session_end_sample(x->s), "end_sample");
}

static inline void sfx_exit(struct sfx *x, int idx, double t_s, int code,
			    int signal)
{
	sfx_check(session_set_exit(x->s, x->proc_id[idx], SFX_T0 + t_s, code, signal),
		  "set_exit");
}

static inline void sfx_event(struct sfx *x, double t_s, int idx, int pid,
			     const char *kind, const char *detail)
{
	sfx_check(session_add_event(x->s, SFX_T0 + t_s, idx >= 0 ? x->proc_id[idx] : 0,
				    pid, kind, detail), "add_event");
}

/* Load the session written so far; aborts on error. */
static inline void sfx_load(struct sfx *x, struct session_data *d)
{
	char err[512];
	sfx_check(session_load(x->path, d, err, sizeof(err)), err);
}

/* ---- the golden session ----
 *
 * 20 samples, one a second from SFX_T0 (k = 0..19), of a master (pid 1000,
 * forked 10 s before the recording) and its workers, forked at +0.5 s:
 *   1001  copies 2048 kB/s for its first 8 s, then 512 kB/s; runs to the end;
 *         forks 1005 at +4.5 s, which copies 128 kB/s and exits 0 at +12.5 s
 *   1002  copies 512 kB/s; killed by SIGKILL at +8.5 s
 *   1003  copies 2048 kB/s; exits with code 3 at +14.5 s
 *   1004  forked at +9.5 s, the respawn of 1002; copies 256 kB/s
 * Every worker inherits 32768 kB of anonymous memory (a 16 MiB heap, an
 * 8 MiB anonymous map and an 8 MiB written private file mapping) and maps
 * 8 MiB of library text; it copies half its copies in the heap and a
 * quarter in each of the other two. Each sample, a worker gets 128 kB of
 * new memory and the master grows by 64 kB. Real memory (unique) is the
 * master's RSS plus every other process's copied and new memory.
 */

struct sfx_golden_proc {
	int pid, ppid, parent;
	double fork_s, exit_s;   /* exit_s 0: runs to the end */
	int code, signal;
	const char *cmd;
	uint64_t inherited_kb;
};

static const struct sfx_golden_proc sfx_golden[] = {
	{ 1000, 1, -1, -10, 0, -1, -1,
	  "python3 server.py --workers 3 --name \"a<b>&c\"", 0 },
	{ 1001, 1000, 0, 0.5, 0, -1, -1, "server: worker 1", 32768 },
	{ 1002, 1000, 0, 0.5, 8.5, -1, 9, "server: worker 2", 32768 },
	{ 1003, 1000, 0, 0.5, 14.5, 3, -1, "server: worker 3", 32768 },
	{ 1005, 1001, 1, 4.5, 12.5, 0, -1, "server: task 'reindex'", 8192 },
	{ 1004, 1000, 0, 9.5, 0, -1, -1, "server: worker 2", 32768 },
};
#define SFX_GOLDEN_N (sizeof(sfx_golden) / sizeof(sfx_golden[0]))
#define SFX_GOLDEN_SAMPLES 20
#define SFX_LIB_KB 8192

/* Copied kB of golden process i at age_s after its fork. */
static inline uint64_t sfx_golden_copied(size_t i, double age_s)
{
	switch (sfx_golden[i].pid) {
	case 1001:
		return age_s <= 8 ? (uint64_t)(2048 * age_s)
				  : 16384 + (uint64_t)(512 * (age_s - 8));
	case 1002: return (uint64_t)(512 * age_s);
	case 1003: return (uint64_t)(2048 * age_s);
	case 1004: return (uint64_t)(256 * age_s);
	case 1005: return (uint64_t)(128 * age_s);
	}
	return 0;
}

/* Is golden process i present at sample k? */
static inline int sfx_golden_alive(size_t i, int k)
{
	const struct sfx_golden_proc *g = &sfx_golden[i];
	return k >= g->fork_s && (g->exit_s == 0 || k <= g->exit_s);
}

/* The figures of golden process i at sample k. */
static inline struct cow_figures sfx_golden_figures(size_t i, int k)
{
	const struct sfx_golden_proc *g = &sfx_golden[i];
	struct cow_figures f = { 0 };
	if (g->parent < 0) {
		f.anon_kb = 32768 + 64 * (uint64_t)k;
		f.rss_kb = f.anon_kb + SFX_LIB_KB;
		f.uss_kb = f.anon_kb;
		f.pss_kb = f.rss_kb / 2;
	} else {
		int first_k = (int)g->fork_s + 1;
		f.copied_kb = sfx_golden_copied(i, k - g->fork_s);
		f.shared_with_parent_kb = g->inherited_kb - f.copied_kb;
		f.new_kb = 128 * (uint64_t)(k - first_k);
		f.anon_kb = g->inherited_kb + f.new_kb;
		f.rss_kb = f.anon_kb + SFX_LIB_KB;
		f.uss_kb = f.copied_kb + f.new_kb;
		f.pss_kb = f.uss_kb + (f.shared_with_parent_kb + SFX_LIB_KB) / 2;
	}
	f.file_kb = SFX_LIB_KB;
	f.shared_anywhere_kb = f.rss_kb - f.uss_kb;
	return f;
}

enum { SFX_HEAP, SFX_ANON, SFX_LIB, SFX_DATA, SFX_NREGIONS };

static const struct {
	uint64_t start, end;
	const char *perms, *kind, *path;
} sfx_golden_regions[SFX_NREGIONS] = {
	{ 0x55d0c0000000, 0x55d0c1000000, "rw-p", "heap", "[heap]" },
	{ 0x7f0000000000, 0x7f0002000000, "rw-p", "anon", "" },
	{ 0x7f1000000000, 0x7f1000800000, "r-xp", "file",
	  "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0" },
	{ 0x7f2000000000, 0x7f2000800000, "rw-p", "file",
	  "/srv/app/data <v2> & \"big\".bin" },
};

/* Region k's figures for process figures f (heap 16 MiB, anon and data
 * 8 MiB each; the task process 1005 has its memory in the anon map). */
static inline struct cow_figures sfx_golden_region(size_t i, int k,
						   const struct cow_figures *f)
{
	struct cow_figures r = { 0 };
	int task = sfx_golden[i].pid == 1005;
	uint64_t copied = f->copied_kb;
	switch (k) {
	case SFX_HEAP:
		r.copied_kb = copied / 2;
		r.anon_kb = 16384;
		break;
	case SFX_ANON:
		r.copied_kb = task ? copied : copied / 4;
		r.new_kb = f->new_kb;
		r.anon_kb = (task ? f->anon_kb - f->new_kb : 8192) + f->new_kb;
		if (sfx_golden[i].parent < 0)
			r.anon_kb = f->anon_kb - 24576;
		break;
	case SFX_DATA:
		r.copied_kb = copied / 4;
		r.anon_kb = 8192;
		break;
	case SFX_LIB:
		r.rss_kb = SFX_LIB_KB;
		return r;
	}
	r.rss_kb = r.anon_kb;
	if (sfx_golden[i].parent >= 0)
		r.shared_with_parent_kb = r.anon_kb - r.new_kb - r.copied_kb;
	return r;
}

static inline int sfx_golden_has_region(size_t i, int k)
{
	return sfx_golden[i].pid != 1005 || k == SFX_ANON || k == SFX_LIB;
}

static inline void sfx_golden_meta(struct sfx *x)
{
	sfx_meta(x, "command", "cowprof record -i 1 -o golden.db 1000");
	sfx_meta(x, "root_pid", "1000");
	sfx_meta(x, "interval_s", "1");
	sfx_meta(x, "kernel", "6.1.0-test-amd64");
	sfx_meta(x, "hostname", "testhost");
	sfx_meta(x, "page_size", "4096");
	sfx_meta(x, "cowprof_version", "0.1.0");
	sfx_meta(x, "started", "1700000000.000");
	sfx_meta(x, "ended", "1700000019.500");
	sfx_meta(x, "target", sfx_golden[0].cmd);
}

/* Events due in (from_s, to_s]: forks, exits, as the recorder writes them. */
static inline void sfx_golden_events(struct sfx *x, double from_s, double to_s)
{
	for (size_t i = 1; i < SFX_GOLDEN_N; i++) {
		const struct sfx_golden_proc *g = &sfx_golden[i];
		if (g->fork_s > from_s && g->fork_s <= to_s)
			sfx_event(x, g->fork_s, (int)i, g->pid, "fork", g->cmd);
		if (g->exit_s > 0 && g->exit_s > from_s && g->exit_s <= to_s) {
			char detail[32];
			if (g->signal > 0)
				snprintf(detail, sizeof(detail), "killed by SIGKILL");
			else
				snprintf(detail, sizeof(detail), "exit %d", g->code);
			sfx_exit(x, (int)i, g->exit_s, g->code, g->signal);
			sfx_event(x, g->exit_s, (int)i, g->pid, "exit", detail);
		}
	}
}

/* Add the processes forked by sample k (their fork is before it). */
static inline void sfx_golden_procs(struct sfx *x, int k, int *added)
{
	for (size_t i = 0; i < SFX_GOLDEN_N; i++) {
		const struct sfx_golden_proc *g = &sfx_golden[i];
		if (added[i] || !sfx_golden_alive(i, k))
			continue;
		sfx_proc(x, (int)i, g->pid, g->ppid, g->parent, g->fork_s, g->cmd);
		for (int r = 0; r < SFX_NREGIONS; r++)
			if (sfx_golden_has_region(i, r))
				sfx_region(x, (int)i, r, sfx_golden_regions[r].start,
					   sfx_golden_regions[r].end,
					   sfx_golden_regions[r].perms,
					   sfx_golden_regions[r].kind,
					   sfx_golden_regions[r].path);
		added[i] = 1;
	}
}

/* The tree's figures at sample k. */
static inline void sfx_golden_tree(int k, size_t *n, uint64_t *rss_kb,
				   uint64_t *unique_kb)
{
	*n = 0;
	*rss_kb = *unique_kb = 0;
	for (size_t i = 0; i < SFX_GOLDEN_N; i++) {
		if (!sfx_golden_alive(i, k))
			continue;
		struct cow_figures f = sfx_golden_figures(i, k);
		(*n)++;
		*rss_kb += f.rss_kb;
		*unique_kb += sfx_golden[i].parent < 0 ? f.rss_kb
						       : f.copied_kb + f.new_kb;
	}
}

/* Write region points of process i at sample k where they changed. */
static inline void sfx_golden_region_points(struct sfx *x, size_t i, int k)
{
	struct cow_figures f = sfx_golden_figures(i, k);
	int first = k == (sfx_golden[i].parent < 0 ? 0 : (int)sfx_golden[i].fork_s + 1);
	struct cow_figures before = first ? f : sfx_golden_figures(i, k - 1);
	for (int r = 0; r < SFX_NREGIONS; r++) {
		if (!sfx_golden_has_region(i, r))
			continue;
		struct cow_figures now = sfx_golden_region(i, r, &f);
		struct cow_figures was = sfx_golden_region(i, r, &before);
		if (first || memcmp(&now, &was, sizeof(now)))
			sfx_region_point(x, (int)i, r, &now);
	}
}

static inline void sfx_golden_sample(struct sfx *x, int k)
{
	size_t n;
	uint64_t rss_kb, unique_kb;
	sfx_golden_tree(k, &n, &rss_kb, &unique_kb);
	sfx_sample(x, k, n, rss_kb, unique_kb);
	for (size_t i = 0; i < SFX_GOLDEN_N; i++) {
		if (!sfx_golden_alive(i, k))
			continue;
		struct cow_figures f = sfx_golden_figures(i, k);
		sfx_point(x, (int)i, sfx_golden[i].pid == 1001 && k % 2 ? 'R' : 'S', &f);
		sfx_golden_region_points(x, i, k);
	}
	sfx_end_sample(x);
}

static inline int64_t sfx_frame(struct sfx *x, bool python, const char *fn,
				const char *module, uint64_t offset, int line)
{
	struct sink_frame f = { .python = python, .function = fn,
					.module = module, .offset = offset,
					.line = line };
	int64_t id;
	sfx_check(session_add_frame(x->s, &f, &id), "add_frame");
	return id;
}

static inline int64_t sfx_stack(struct sfx *x, const int64_t *ids, size_t n)
{
	int64_t id;
	sfx_check(session_add_stack(x->s, ids, n, &id), "add_stack");
	return id;
}

/* n faults of process i at t_s (from SFX_T0), one page apart. */
static inline void sfx_faults(struct sfx *x, int i, double t_s, int n,
			      int64_t native, int64_t python)
{
	for (int k = 0; k < n; k++)
		sfx_check(session_add_fault(x->s, x->proc_id[i], SFX_T0 + t_s,
					    1001, 0x7f0000000000ULL + 4096ULL * (uint64_t)k,
					    0, native, python, 1), "add_fault");
}

/* The golden session's fault attribution: worker 1001 copies from Python
 * (two lines), 1002 too (and lost some), 1003 from a library without
 * symbols and without Python frames. */
static inline void sfx_golden_faults(struct sfx *x)
{
	const char *py = "/usr/bin/python3.11", *app = "/srv/app/app.py";
	int64_t set = sfx_frame(x, false, "PyDict_SetItem", py, 0x24, 0);
	int64_t eval = sfx_frame(x, false, "_PyEval_EvalFrameDefault", py, 0x1f0, 0);
	int64_t main_ = sfx_frame(x, false, "main", py, 0x12, 0);
	int64_t lib = sfx_frame(x, false, "", "/usr/lib/libfoo.so", 0x1a2b, 0);
	int64_t handler = sfx_frame(x, true, "handler", app, 0, 42);
	int64_t dispatch = sfx_frame(x, true, "dispatch", app, 0, 10);
	int64_t n1[] = { set, eval, eval, main_ }, n2[] = { eval, main_ };
	int64_t n3[] = { lib, main_ };
	int64_t p1[] = { handler, dispatch }, p2[] = { dispatch };
	int64_t ns1 = sfx_stack(x, n1, 4), ns2 = sfx_stack(x, n2, 2);
	int64_t ns3 = sfx_stack(x, n3, 2);
	int64_t ps1 = sfx_stack(x, p1, 2), ps2 = sfx_stack(x, p2, 1);
	sfx_faults(x, 1, 2.5, 40, ns1, ps1);
	sfx_faults(x, 1, 3.5, 10, ns2, ps2);
	sfx_faults(x, 2, 4.5, 5, ns1, ps1);
	sfx_faults(x, 3, 5.5, 25, ns3, 0);
	sfx_check(session_set_fault_source(x->s, x->proc_id[1], "preload", 50, 0, ""),
		  "source");
	sfx_check(session_set_fault_source(x->s, x->proc_id[2], "preload", 5, 7, ""),
		  "source");
	sfx_check(session_set_fault_source(x->s, x->proc_id[3], "preload", 25, 0,
					   "Python 3.12 is not supported"), "source");
}

/* The golden session's signals and OOM kills: worker 1002 is OOM-killed at
 * +8.5 s (the kernel's SIGKILL; its SIGCHLD to the master, from it, exiting);
 * worker 1003 gets a SIGTERM from a shell outside the tree at +14.4 s and
 * exits 3. */
static inline void sfx_golden_why(struct sfx *x)
{
	sfx_meta(x, "signals", "perf");
	sfx_meta(x, "oom_kills", "perf+kmsg");
	sfx_meta(x, "hung_after_s", "10");
	struct sink_signal kill = {
		SFX_T0 + 8.49, x->proc_id[2], 1002, 9, 0x80, 1002, "python3",
		x->proc_id[2], false, "delivered" };
	struct sink_signal chld = {
		SFX_T0 + 8.5, x->proc_id[0], 1000, 17, 2, 1002, "python3",
		x->proc_id[2], true, "delivered" };
	struct sink_signal term = {
		SFX_T0 + 14.4, x->proc_id[3], 1003, 15, 0, 4242, "bash", 0, false,
		"delivered" };
	struct sink_oom oom = {
		SFX_T0 + 8.49, x->proc_id[2], 1002, 180224, 36864, 8192, 0,
		"/system.slice/app.service" };
	sfx_check(session_add_signal(x->s, &kill), "add_signal");
	sfx_check(session_add_signal(x->s, &chld), "add_signal");
	sfx_check(session_add_signal(x->s, &term), "add_signal");
	sfx_check(session_add_oom(x->s, &oom), "add_oom");
}

/* Write the golden session into a new sfx (open, written, closed). */
static inline void sfx_write_golden(struct sfx *x)
{
	int added[SFX_GOLDEN_N] = { 0 };
	sfx_open(x);
	sfx_golden_meta(x);
	for (int k = 0; k < SFX_GOLDEN_SAMPLES; k++) {
		sfx_golden_procs(x, k, added);
		if (k == 0)
			sfx_event(x, 0, 0, 1000, "start", sfx_golden[0].cmd);
		sfx_golden_events(x, k - 1, k);
		sfx_golden_sample(x, k);
	}
	sfx_golden_events(x, SFX_GOLDEN_SAMPLES - 1, SFX_GOLDEN_SAMPLES);
	sfx_event(x, 19.5, -1, 1000, "end", "recording ended");
	sfx_golden_faults(x);
	sfx_golden_why(x);
	sfx_close(x);
}

/* ---- a strategy session, for compare ----
 *
 * A master (pid 2000) holding inherited_kb of anonymous memory and two
 * workers forked at +0.5 s; worker w copies (w + 1) * rate_kbps kB/s (at
 * most what it inherited) and nothing else changes. 15 samples, one every
 * 5 s from SFX_T0 to +70 s.
 */
static inline void sfx_write_strategy(struct sfx *x, const char *target,
				      uint64_t inherited_kb, double rate_kbps)
{
	sfx_open(x);
	sfx_meta(x, "target", target);
	sfx_meta(x, "interval_s", "5");
	sfx_proc(x, 0, 2000, 1, -1, -30, target);
	sfx_proc(x, 1, 2001, 2000, 0, 0.5, "worker 1");
	sfx_proc(x, 2, 2002, 2000, 0, 0.5, "worker 2");
	for (int k = 0; k < 15; k++) {
		double t = 5.0 * k;
		uint64_t copied[2] = { 0, 0 }, unique_kb = inherited_kb;
		for (int w = 0; w < 2 && k > 0; w++) {
			double c = (w + 1) * rate_kbps * (t - 0.5);
			copied[w] = c < (double)inherited_kb ? (uint64_t)c : inherited_kb;
			unique_kb += copied[w];
		}
		sfx_sample(x, t, k ? 3 : 1, inherited_kb * (k ? 3 : 1), unique_kb);
		sfx_point_cow(x, 0, 0, 0, inherited_kb);
		for (int w = 0; w < 2 && k > 0; w++)
			sfx_point_cow(x, 1 + w, inherited_kb - copied[w], copied[w], 0);
		sfx_end_sample(x);
	}
	sfx_close(x);
}

#endif
