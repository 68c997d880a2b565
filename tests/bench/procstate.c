/* procstate.c - the cost of reading what every process of a tree waits
 * on, against one snapshot of the same tree
 *
 *   bench_procstate ROOTPID [RUNS]
 *
 * Prints the best of RUNS (default 20) for: snapshot_take of the tree (the
 * work of one sample), procstate_read of every process (state, cpu, wchan,
 * syscall, and the fd of an fd call), the same given each stat (what a recorder that reads every stat anyway
 * pays), the fd table of every process (what
 * resolving a pipe or socket peer costs, paid only in samples where some
 * process is blocked on one), and their ratios. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "collectors/procstate.h"
#include "collectors/proctree.h"
#include "measure/snapshot.h"
#include "common/util.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_procstate ROOTPID [RUNS]\n");
		return 2;
	}
	int root = atoi(argv[1]);
	int runs = argc > 2 ? atoi(argv[2]) : 20;
	struct proctree t = { 0 };
	if (proctree_scan(NULL, root, &t) < 0) {
		fprintf(stderr, "bench_procstate: pid %d: no such process\n", root);
		return 1;
	}
	int *pids = calloc(t.n, sizeof(*pids));
	for (size_t i = 0; i < t.n; i++)
		pids[i] = t.nodes[i].pid;
	struct procstate *ps = calloc(t.n, sizeof(*ps));
	double snap = 1e18, rd = 1e18, rds = 1e18, tab = 1e18;
	struct proc_stat *st = calloc(t.n, sizeof(*st));
	size_t fd_calls = 0, nrefs = 0;
	for (int r = 0; r < runs; r++) {
		struct snapshot s;
		char err[256];
		struct snapshot_opts o = { 0 };
		double t0 = (util_clock_s(CLOCK_MONOTONIC) * 1e3);
		if (snapshot_take(root, &o, &s, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_procstate: %s\n", err);
			return 1;
		}
		double t1 = (util_clock_s(CLOCK_MONOTONIC) * 1e3);
		snapshot_release(&s);
		fd_calls = 0;
		double t2 = (util_clock_s(CLOCK_MONOTONIC) * 1e3);
		for (size_t i = 0; i < t.n; i++)
			if (procstate_read(NULL, pids[i], &ps[i]) == 0 &&
			    ps[i].wait == SYSCALL_WAIT_FD)
				fd_calls++;
		double t3 = (util_clock_s(CLOCK_MONOTONIC) * 1e3);
		for (size_t i = 0; i < t.n; i++)
			procstate_release(&ps[i]);
		/* what the recorder pays: it has read every stat already */
		for (size_t i = 0; i < t.n; i++)
			proctree_read_stat(NULL, pids[i], &st[i]);
		double t6 = (util_clock_s(CLOCK_MONOTONIC) * 1e3);
		for (size_t i = 0; i < t.n; i++)
			procstate_read_with_stat(NULL, &st[i], &ps[i]);
		double t7 = (util_clock_s(CLOCK_MONOTONIC) * 1e3);
		for (size_t i = 0; i < t.n; i++)
			procstate_release(&ps[i]);
		if (t7 - t6 < rds) rds = t7 - t6;
		struct procstate_fdtab ft = { 0 };
		double t4 = (util_clock_s(CLOCK_MONOTONIC) * 1e3);
		procstate_fdtab_scan(NULL, pids, t.n, &ft);
		double t5 = (util_clock_s(CLOCK_MONOTONIC) * 1e3);
		nrefs = ft.n;
		procstate_fdtab_release(&ft);
		if (t1 - t0 < snap) snap = t1 - t0;
		if (t3 - t2 < rd) rd = t3 - t2;
		if (t5 - t4 < tab) tab = t5 - t4;
	}
	printf("procstate benchmark: tree of %zu processes under %d, best of %d runs\n",
	       t.n, root, runs);
	printf("%-44s %9.3f ms\n", "one snapshot of the tree (a sample's work)", snap);
	printf("%-44s %9.3f ms  (%.1f us per process; %zu in an fd call)\n",
	       "procstate_read of every process", rd, rd * 1e3 / (double)t.n, fd_calls);
	printf("%-44s %9.3f ms  (%.1f us per process)\n",
	       "the same given the stat a sample has read", rds, rds * 1e3 / (double)t.n);
	printf("%-44s %9.3f ms  (%.1f us per process; %zu pipe/socket fds)\n",
	       "fd table of every process", tab, tab * 1e3 / (double)t.n, nrefs);
	printf("procstate / snapshot: %.1f%% (target <= 10%%); given the stat: %.1f%%; "
	       "plus the fd table: %.1f%%\n",
	       100.0 * rd / snap, 100.0 * rds / snap, 100.0 * (rds + tab) / snap);
	free(ps);
	free(st);
	free(pids);
	proctree_release(&t);
	return 0;
}
