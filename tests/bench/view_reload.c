/* view_reload.c - what a reload of a growing session costs `view` and `top`
 *
 * Writes a session with the session API as `cowprof record -i 1` would
 * after an hour on a tree of 10 processes (the root and 9 workers, 20
 * regions each, 3 of them changing every sample in each worker), or the
 * SAMPLES, PROCS and REGIONS given, then times what the view does on each
 * reload: session_load, analysis_init and the TUI model's set_data.
 * Prints figures; no assertion.
 *
 * usage: bench_view_reload [SAMPLES [PROCS [REGIONS]]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "store/session.h"
#include "tui/model.h"
#include "common/util.h"

#define CHANGING_REGIONS 3
#define ROUNDS 5

static void check(int r, const char *what, const char *err)
{
	if (r < 0) {
		fprintf(stderr, "bench_view_reload: %s: %s\n", what, err);
		exit(1);
	}
}

static void write_session(const char *path, int nsamples, int nprocs,
			  int nregions)
{
	struct session *s;
	char err[256] = "";
	check(session_create(path, &s, err, sizeof(err)), "create", err);
	session_set_meta(s, "target", "bench");
	session_set_meta(s, "interval_s", "1");
	double t0 = 1700000000.0;
	int64_t *pid = calloc((size_t)nprocs, sizeof(*pid));
	int64_t *rid = calloc((size_t)nprocs * (size_t)nregions, sizeof(*rid));
	for (int p = 0; p < nprocs; p++) {
		struct sink_proc info = {
			1000 + p, p ? 1000 : 1, p ? pid[0] : 0, 100u + (unsigned)p,
			t0 + (p ? 1 : 0), p ? "worker" : "master" };
		check(session_add_process(s, &info, &pid[p]), "process", "");
		for (int r = 0; r < nregions; r++) {
			uint64_t start = 0x10000000ull + (uint64_t)r * 0x100000;
			check(session_add_region(s, pid[p], start, start + 0x100000,
						 "rw-p", "anon", "", &rid[p * nregions + r]),
			      "region", "");
		}
	}
	for (int k = 0; k < nsamples; k++) {
		struct cow_tree_figures tree = { .rss_kb = 200000, .unique_kb = 90000 };
		int64_t sid;
		check(session_begin_sample(s, t0 + k, 0.02, &tree, (size_t)nprocs, &sid),
		      "sample", "");
		for (int p = 0; p < nprocs; p++) {
			struct cow_figures f = { .rss_kb = 20000, .pss_kb = 9000,
						 .uss_kb = 1000 + (uint64_t)k,
						 .anon_kb = 20000 };
			f.copied_kb = p ? (uint64_t)k : 0;
			f.shared_with_parent_kb = p ? 19000 - (uint64_t)k % 19000 : 0;
			check(session_add_proc_sample(s, sid, pid[p], 'S', &f), "point", "");
			for (int r = 0; r < nregions; r++) {
				if (k > 0 && (p == 0 || r >= CHANGING_REGIONS))
					continue;  /* written only when changed */
				check(session_add_region_sample(s, sid, rid[p * nregions + r], &f),
				      "region point", "");
			}
		}
		check(session_end_sample(s), "end sample", "");
	}
	session_close(s);
	free(pid);
	free(rid);
}

int main(int argc, char **argv)
{
	int nsamples = argc > 1 ? atoi(argv[1]) : 3600;
	int nprocs = argc > 2 ? atoi(argv[2]) : 10;
	int nregions = argc > 3 ? atoi(argv[3]) : 20;
	char dir[] = "/tmp/cowprof-bench-XXXXXX", path[64];
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/session.db", dir);
	double t = (util_clock_s(CLOCK_MONOTONIC));
	write_session(path, nsamples, nprocs, nregions);
	struct stat st;
	stat(path, &st);
	printf("session: %d samples, %d processes, %d regions each: %.1f MiB, "
	       "written in %.1f s\n", nsamples, nprocs, nregions,
	       st.st_size / 1048576.0, (util_clock_s(CLOCK_MONOTONIC)) - t);

	double best[3] = { 1e9, 1e9, 1e9 };
	struct session_data d0;
	struct analysis a0;
	char err[256] = "";
	check(session_load(path, &d0, err, sizeof(err)), "load", err);
	analysis_init(&a0, &d0);
	struct tui_model m;
	tui_model_init(&m, &d0, &a0);
	for (int i = 0; i < ROUNDS; i++) {
		struct session_data d;
		struct analysis a;
		double t0 = (util_clock_s(CLOCK_MONOTONIC));
		check(session_load(path, &d, err, sizeof(err)), "load", err);
		double t1 = (util_clock_s(CLOCK_MONOTONIC));
		analysis_init(&a, &d);
		double t2 = (util_clock_s(CLOCK_MONOTONIC));
		tui_model_set_data(&m, &d, &a);
		double t3 = (util_clock_s(CLOCK_MONOTONIC));
		tui_model_set_data(&m, &d0, &a0);
		analysis_release(&a);
		session_data_release(&d);
		double part[3] = { t1 - t0, t2 - t1, t3 - t2 };
		for (int j = 0; j < 3; j++)
			if (part[j] < best[j])
				best[j] = part[j];
	}
	printf("reload (best of %d): session_load %.1f ms, analysis_init %.1f ms, "
	       "tui_model_set_data %.1f ms, total %.1f ms\n", ROUNDS,
	       best[0] * 1e3, best[1] * 1e3, best[2] * 1e3,
	       (best[0] + best[1] + best[2]) * 1e3);
	tui_model_release(&m);
	analysis_release(&a0);
	session_data_release(&d0);
	unlink(path);
	char side[80];
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	rmdir(dir);
	return 0;
}
