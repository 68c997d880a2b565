/* why.c - what the recorder's wait states add to a sample
 *
 *   bench_why ROOTPID [RUNS]
 *
 * Per run, as the recorder does each sample: snapshot_take of the tree with
 * regions (the walk), then in one session transaction the process rows
 * (written once, before the runs) and why_write_waits: procstate of every
 * process from the stat the walk read, the fd table of the tree and peer
 * resolution when some process waits on a pipe or socket, the describe
 * line, one proc_waits row each. Prints the best and the median of RUNS
 * (default 20) of each and the ratio (target: <= 10%). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "measure/snapshot.h"
#include "record/why.h"
#include "store/session.h"
#include "common/util.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The tree's rows: pid i of the first snapshot has row ids[i]. */
static struct { int *pids; int64_t *ids; size_t n; } rows;

static int64_t id_of(void *ctx, int pid, uint64_t start_ticks)
{
	(void)ctx;
	(void)start_ticks;
	for (size_t i = 0; i < rows.n; i++)
		if (rows.pids[i] == pid)
			return rows.ids[i];
	return 0;
}

static int64_t id_at(void *ctx, int pid, double t)
{
	(void)t;
	return id_of(ctx, pid, 0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_why ROOTPID [RUNS]\n");
		return 2;
	}
	int root = atoi(argv[1]);
	int runs = argc > 2 ? atoi(argv[2]) : 20;
	char path[] = "/tmp/cowprof-bench-why-XXXXXX", db[64], err[256], notice[256];
	if (!mkdtemp(path))
		return 1;
	snprintf(db, sizeof(db), "%s/w.db", path);
	struct session *s;
	if (session_create(db, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_why: %s\n", err);
		return 1;
	}
	struct why *w;
	struct why_opts wo = { .interval_s = 1, .no_perf = true, .no_kmsg = true };
	why_open(&wo, &w, notice, sizeof(notice));
	struct why_tree tree = { id_of, id_at, NULL };
	struct snapshot_opts so = { .regions = true, .threads = 1 };
	double *snap_ms = calloc((size_t)runs, sizeof(double));
	double *wait_ms = calloc((size_t)runs, sizeof(double));
	size_t nprocs = 0;
	for (int r = 0; r < runs; r++) {
		struct snapshot snap;
		double t0 = (util_clock_s(CLOCK_MONOTONIC) * 1e3);
		if (snapshot_take(root, &so, &snap, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_why: %s\n", err);
			return 1;
		}
		double t1 = (util_clock_s(CLOCK_MONOTONIC) * 1e3);
		if (r == 0) {
			rows.n = snap.n;
			rows.pids = calloc(snap.n, sizeof(int));
			rows.ids = calloc(snap.n, sizeof(int64_t));
			for (size_t i = 0; i < snap.n; i++) {
				struct sink_proc pi = { snap.procs[i].pid, snap.procs[i].ppid,
								0, snap.procs[i].start_ticks, 0,
								snap.procs[i].cmd };
				rows.pids[i] = snap.procs[i].pid;
				session_add_process(s, &pi, &rows.ids[i]);
			}
		}
		int64_t sample_id;
		double t2 = (util_clock_s(CLOCK_MONOTONIC) * 1e3);
		session_begin_sample(s, snap.time, snap.duration_s, &snap.tree, snap.n,
				     &sample_id);
		struct sink out;
		session_sink(s, &out);
		int e = why_write_waits(w, &out, sample_id, &snap, &tree);
		session_end_sample(s);
		double t3 = (util_clock_s(CLOCK_MONOTONIC) * 1e3);
		if (e < 0) {
			fprintf(stderr, "bench_why: writing waits: %d\n", e);
			return 1;
		}
		snap_ms[r] = t1 - t0;
		wait_ms[r] = t3 - t2;
		nprocs = snap.n;
		snapshot_release(&snap);
	}
	double best_snap = snap_ms[0], best_wait = wait_ms[0];
	for (int r = 0; r < runs; r++) {
		best_snap = snap_ms[r] < best_snap ? snap_ms[r] : best_snap;
		best_wait = wait_ms[r] < best_wait ? wait_ms[r] : best_wait;
	}
	qsort(snap_ms, (size_t)runs, sizeof(double), cmp_double);
	qsort(wait_ms, (size_t)runs, sizeof(double), cmp_double);
	double med_snap = snap_ms[runs / 2], med_wait = wait_ms[runs / 2];
	printf("wait states per sample, %zu processes, %d runs:\n", nprocs, runs);
	printf("  %-44s best %8.2f ms  median %8.2f ms\n", "sample walk (snapshot_take, regions)",
	       best_snap, med_snap);
	printf("  %-44s best %8.2f ms  median %8.2f ms\n",
	       "wait states (procstate, fd table, rows)", best_wait, med_wait);
	printf("  added cost: %.1f%% of the walk (best), %.1f%% (median); target <= 10%%\n",
	       100 * best_wait / best_snap, 100 * med_wait / med_snap);
	why_close(w);
	session_close(s);
	char rm[128];
	snprintf(rm, sizeof(rm), "%s/w.db", path);
	unlink(rm);
	snprintf(rm, sizeof(rm), "%s/w.db-wal", path);
	unlink(rm);
	snprintf(rm, sizeof(rm), "%s/w.db-shm", path);
	unlink(rm);
	rmdir(path);
	return 0;
}
