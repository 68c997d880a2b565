/* test_analysis.c - figures computed from sessions with known answers */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/analysis.h"
#include "common/format.h"
#include "session_fixture.h"

/* Proc indexes of the golden session (session_fixture.h). */
enum { G1000, G1001, G1002, G1003, G1005, G1004 };

struct golden {
	struct sfx x;
	struct session_data d;
};

static int golden_setup(void **state)
{
	struct golden *g = xcalloc(1, sizeof(*g));
	sfx_write_golden(&g->x);
	sfx_load(&g->x, &g->d);
	*state = g;
	return 0;
}

static int golden_teardown(void **state)
{
	struct golden *g = *state;
	session_data_release(&g->d);
	sfx_remove(&g->x);
	free(g);
	return 0;
}

static const struct session_data *golden_d(void **state)
{
	return &((struct golden *)*state)->d;
}

#define assert_double_equal_(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* ---- the recording ---- */

static void test_analysis_span_from_meta(void **state)
{
	const struct session_data *d = golden_d(state);
	assert_double_equal_(analysis_start_time(d), SFX_T0);
	assert_double_equal_(analysis_end_time(d), SFX_T0 + 19.5);
	assert_double_equal_(analysis_interval_s(d), 1.0);
}

static void test_analysis_span_from_samples_without_meta(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	sfx_open(&x);
	sfx_meta(&x, "ended", "1699999999");   /* before the last sample: ignored */
	sfx_proc(&x, 0, 10, 1, -1, -5, "root");
	double t[] = { 2, 2.5, 3.5, 4 };
	for (int k = 0; k < 4; k++) {
		sfx_sample(&x, t[k], 1, 100, 100);
		sfx_point_cow(&x, 0, 0, 0, 0);
		sfx_end_sample(&x);
	}
	sfx_close(&x);
	sfx_load(&x, &d);
	assert_double_equal_(analysis_start_time(&d), SFX_T0 + 2);
	assert_double_equal_(analysis_end_time(&d), SFX_T0 + 4);
	/* gaps 0.5, 1, 0.5: median 0.5 */
	assert_double_equal_(analysis_interval_s(&d), 0.5);
	session_data_release(&d);
	sfx_remove(&x);
}

static void test_analysis_empty_session(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	struct analysis a;
	sfx_open(&x);
	sfx_close(&x);
	sfx_load(&x, &d);
	assert_double_equal_(analysis_start_time(&d), 0);
	assert_double_equal_(analysis_end_time(&d), 0);
	assert_double_equal_(analysis_interval_s(&d), 0);
	analysis_init(&a, &d);
	assert_int_equal(a.nprocs, 0);
	assert_int_equal(a.ntree, 0);
	assert_int_equal(a.nevents, 0);
	analysis_release(&a);
	struct analysis_strategy s;
	analysis_strategy(&d, &s);
	assert_int_equal(s.workers, 0);
	assert_true(isnan(s.inherited_kb));
	assert_true(isnan(s.copied_kb_max));
	session_data_release(&d);
	sfx_remove(&x);
}

/* ---- one process ---- */

static void test_analysis_roles_by_depth(void **state)
{
	const struct session_data *d = golden_d(state);
	assert_int_equal(analysis_depth(d, G1000), 0);
	assert_int_equal(analysis_depth(d, G1001), 1);
	assert_int_equal(analysis_depth(d, G1005), 2);
	assert_int_equal(analysis_role(d, G1000), ANALYSIS_MASTER);
	assert_int_equal(analysis_role(d, G1004), ANALYSIS_WORKER);
	assert_int_equal(analysis_role(d, G1005), ANALYSIS_CHILD);
	assert_string_equal(analysis_role_name(ANALYSIS_MASTER), "master");
	assert_string_equal(analysis_role_name(ANALYSIS_WORKER), "worker");
	assert_string_equal(analysis_role_name(ANALYSIS_CHILD), "child");
}

static void test_analysis_fork_time_recorded_or_first_sample(void **state)
{
	const struct session_data *d = golden_d(state);
	assert_double_equal_(analysis_fork_time(d, G1000), SFX_T0 - 10);
	assert_double_equal_(analysis_fork_time(d, G1004), SFX_T0 + 9.5);

	struct sfx x;
	struct session_data d2;
	sfx_open(&x);
	sfx_proc(&x, 0, 10, 1, -1, 0, "root");   /* fork time unknown */
	sfx_sample(&x, 3, 1, 100, 100);
	sfx_point_cow(&x, 0, 0, 0, 0);
	sfx_end_sample(&x);
	sfx_close(&x);
	sfx_load(&x, &d2);
	assert_double_equal_(analysis_fork_time(&d2, 0), SFX_T0 + 3);
	session_data_release(&d2);
	sfx_remove(&x);
}

static void test_analysis_lifetime_to_exit_or_end(void **state)
{
	const struct session_data *d = golden_d(state);
	/* forked 10 s before the recording, running at its end (+19.5 s) */
	assert_double_equal_(analysis_lifetime_s(d, G1000), 29.5);
	assert_double_equal_(analysis_lifetime_s(d, G1001), 19.0);
	assert_double_equal_(analysis_lifetime_s(d, G1002), 8.0);
	assert_double_equal_(analysis_lifetime_s(d, G1003), 14.0);
	assert_double_equal_(analysis_lifetime_s(d, G1005), 8.0);
	assert_double_equal_(analysis_lifetime_s(d, G1004), 10.0);
}

static void test_analysis_peak_rss(void **state)
{
	const struct session_data *d = golden_d(state);
	/* master: 32768 + 64 * 19 anon + 8192 library */
	assert_int_equal(analysis_peak_rss_kb(d, G1000), 42176);
	/* 1003 at its last sample (k = 14): 32768 + 128 * 13 + 8192 */
	assert_int_equal(analysis_peak_rss_kb(d, G1003), 42624);
}

static void test_analysis_shared_pct(void **state)
{
	(void)state;
	struct cow_figures f = { .shared_with_parent_kb = 300, .copied_kb = 100 };
	assert_double_equal_(analysis_shared_pct(&f), 75.0);
	struct cow_figures none = { .rss_kb = 10, .new_kb = 10 };
	assert_double_equal_(analysis_shared_pct(&none), -1);
}

static void test_analysis_copy_rate_since_fork(void **state)
{
	const struct session_data *d = golden_d(state);
	/* 21760 kB copied at +19 s, forked at +0.5 s */
	assert_double_equal_(analysis_copy_rate_kbps(d, G1001), 21760.0 / 18.5);
	assert_double_equal_(analysis_copy_rate_kbps(d, G1002), 512.0);
	assert_double_equal_(analysis_copy_rate_kbps(d, G1003), 2048.0);
	assert_double_equal_(analysis_copy_rate_kbps(d, G1004), 256.0);
	assert_double_equal_(analysis_copy_rate_kbps(d, G1000), 0.0);
}

static void test_analysis_copy_rate_without_fork_time_from_first_sample(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	sfx_open(&x);
	sfx_proc(&x, 0, 10, 1, -1, -5, "root");
	sfx_proc(&x, 1, 11, 10, 0, 0, "worker");  /* fork time unknown */
	uint64_t copied[] = { 1000, 1000, 3000 };
	for (int k = 0; k < 3; k++) {
		sfx_sample(&x, k, 2, 100, 100);
		sfx_point_cow(&x, 0, 0, 0, 0);
		sfx_point_cow(&x, 1, 8000 - copied[k], copied[k], 0);
		sfx_end_sample(&x);
	}
	sfx_close(&x);
	sfx_load(&x, &d);
	assert_double_equal_(analysis_copy_rate_kbps(&d, 1), 1000.0);
	assert_double_equal_(analysis_recent_copy_rate_kbps(&d, 1, 1), 2000.0);
	session_data_release(&d);
	sfx_remove(&x);
}

static void test_analysis_recent_copy_rate_over_window(void **state)
{
	const struct session_data *d = golden_d(state);
	/* from k = 9 (16640 kB) to k = 19 (21760 kB) */
	assert_double_equal_(analysis_recent_copy_rate_kbps(d, G1001, 10), 512.0);
	/* from k = 16 (16384 + 512 * 7.5) to k = 19 */
	assert_double_equal_(analysis_recent_copy_rate_kbps(d, G1001, 3), 512.0);
	/* from k = 1 (1024 kB) to k = 8 (15360 kB): all in the fast phase */
	assert_double_equal_(analysis_recent_copy_rate_kbps(d, G1003, 7), 2048.0);
	/* 1004 is 9.5 s old at its last sample: the window starts at its fork */
	assert_double_equal_(analysis_recent_copy_rate_kbps(d, G1004, 10), 256.0);
}

static void test_analysis_half_shared_time(void **state)
{
	const struct session_data *d = golden_d(state);
	/* inherited 31744 kB; at k = 10 (age 9.5 s) 32768 - 17152 = 15616 left */
	assert_double_equal_(analysis_half_shared_s(d, G1001), 9.5);
	/* inherited 31744 kB; at k = 9 (age 8.5 s) 32768 - 17408 = 15360 left */
	assert_double_equal_(analysis_half_shared_s(d, G1003), 8.5);
	assert_double_equal_(analysis_half_shared_s(d, G1002), -1);
	assert_double_equal_(analysis_half_shared_s(d, G1000), -1);
}

static void test_analysis_half_shared_exactly_half_counts(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	sfx_open(&x);
	sfx_proc(&x, 0, 10, 1, -1, -5, "root");
	sfx_proc(&x, 1, 11, 10, 0, 1, "worker");
	uint64_t shared[] = { 1000, 501, 500 };
	for (int k = 0; k < 3; k++) {
		sfx_sample(&x, 2 + k, 2, 100, 100);
		sfx_point_cow(&x, 0, 0, 0, 0);
		sfx_point_cow(&x, 1, shared[k], 1000 - shared[k], 0);
		sfx_end_sample(&x);
	}
	sfx_close(&x);
	sfx_load(&x, &d);
	assert_double_equal_(analysis_half_shared_s(&d, 1), 3.0);
	session_data_release(&d);
	sfx_remove(&x);
}

static void test_analysis_shared_pct_at_ages(void **state)
{
	const struct session_data *d = golden_d(state);
	/* first sample 10 s after fork: k = 11, 32768 - 17664 kB left */
	assert_double_equal_(analysis_shared_pct_at_age(d, G1001, 10),
			     100.0 * 15104 / 31744);
	assert_double_equal_(analysis_shared_pct_at_age(d, G1003, 10),
			     100.0 * 11264 / 31744);
	/* killed at 8 s old, and 1004 recorded 9.5 s: never 10 s old */
	assert_double_equal_(analysis_shared_pct_at_age(d, G1002, 10), -1);
	assert_double_equal_(analysis_shared_pct_at_age(d, G1004, 10), -1);
	assert_double_equal_(analysis_shared_pct_at_age(d, G1001, 60), -1);
	assert_double_equal_(analysis_shared_pct_at_age(d, G1002, ANALYSIS_AGE_END),
			     100.0 * 28928 / 32512);
	assert_double_equal_(analysis_shared_pct_at_age(d, G1000, ANALYSIS_AGE_END), -1);
	/* age 0: the first sample itself */
	assert_double_equal_(analysis_shared_pct_at_age(d, G1001, 0), 100.0);
}

static void test_analysis_exit_descriptions(void **state)
{
	const struct session_data *d = golden_d(state);
	char desc[ANALYSIS_EXIT_DESC_LEN];
	assert_int_equal(analysis_exit_of(d, G1002, desc), ANALYSIS_KILLED);
	assert_string_equal(desc, "killed by SIGKILL");
	assert_int_equal(analysis_exit_of(d, G1003, desc), ANALYSIS_EXITED);
	assert_string_equal(desc, "exit 3");
	assert_int_equal(analysis_exit_of(d, G1005, desc), ANALYSIS_EXITED);
	assert_string_equal(desc, "exit 0");
	assert_int_equal(analysis_exit_of(d, G1001, desc), ANALYSIS_RUNNING);
	assert_string_equal(desc, "running");
	assert_int_equal(analysis_exit_of(d, G1000, NULL), ANALYSIS_RUNNING);
}

static void test_analysis_exit_unknown_is_vanished(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	char desc[ANALYSIS_EXIT_DESC_LEN];
	sfx_open(&x);
	sfx_proc(&x, 0, 10, 1, -1, -5, "root");
	sfx_proc(&x, 1, 11, 10, 0, 0.5, "exit unknown");
	sfx_proc(&x, 2, 12, 10, 0, 0.5, "no exit record, gone");
	sfx_proc(&x, 3, 13, 10, 0, 0.5, "realtime signal");
	for (int k = 1; k <= 3; k++) {
		sfx_sample(&x, k, 4, 100, 100);
		sfx_point_cow(&x, 0, 0, 0, 0);
		sfx_point_cow(&x, 1, 10, 0, 0);
		if (k < 3)
			sfx_point_cow(&x, 2, 10, 0, 0);
		sfx_point_cow(&x, 3, 10, 0, 0);
		sfx_end_sample(&x);
	}
	sfx_exit(&x, 1, 3.5, -1, -1);
	sfx_exit(&x, 3, 3.5, -1, 36);
	sfx_close(&x);
	sfx_load(&x, &d);
	assert_int_equal(analysis_exit_of(&d, 1, desc), ANALYSIS_VANISHED);
	assert_string_equal(desc, "vanished");
	assert_int_equal(analysis_exit_of(&d, 2, desc), ANALYSIS_VANISHED);
	assert_string_equal(desc, "vanished");
	/* lifetime to its last sample at +2 s */
	assert_double_equal_(analysis_lifetime_s(&d, 2), 1.5);
	assert_int_equal(analysis_exit_of(&d, 3, desc), ANALYSIS_KILLED);
	assert_string_equal(desc, "killed by SIGRTMIN+2");
	session_data_release(&d);
	sfx_remove(&x);
}

static void test_analysis_respawn_of_killed_worker(void **state)
{
	const struct session_data *d = golden_d(state);
	int of[SFX_GOLDEN_N];
	analysis_find_respawns(d, of);
	assert_int_equal(of[G1004], G1002);
	assert_int_equal(of[G1000], -1);
	assert_int_equal(of[G1001], -1);
	assert_int_equal(of[G1002], -1);
	assert_int_equal(of[G1003], -1);
	assert_int_equal(of[G1005], -1);
}

/* Siblings: 1 and 2 exit, 3 and 4 fork after; 5 has another parent; 6
 * exited before the recording started. */
static void test_analysis_respawns_claim_each_exit_once(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	sfx_open(&x);
	sfx_meta(&x, "started", "1700000001");
	sfx_proc(&x, 0, 10, 1, -1, -5, "root");
	sfx_proc(&x, 1, 11, 10, 0, 0.5, "a");
	sfx_proc(&x, 2, 12, 10, 0, 0.5, "b");
	sfx_proc(&x, 6, 16, 10, 0, 0.2, "gone before");
	sfx_proc(&x, 3, 13, 10, 0, 3.0, "c");
	sfx_proc(&x, 5, 15, 11, 1, 3.5, "grandchild");
	sfx_proc(&x, 4, 14, 10, 0, 4.0, "d");
	sfx_proc(&x, 7, 17, 10, 0, 5.0, "e");
	sfx_sample(&x, 1, 1, 100, 100);
	sfx_point_cow(&x, 0, 0, 0, 0);
	sfx_end_sample(&x);
	sfx_exit(&x, 6, 0.8, 0, -1);
	sfx_exit(&x, 1, 2.0, -1, 9);
	sfx_exit(&x, 2, 2.5, 1, -1);
	sfx_close(&x);
	sfx_load(&x, &d);
	int of[8];
	analysis_find_respawns(&d, of);
	/* session order: 0 root, 1 a, 2 b, 3 gone, 4 c, 5 grandchild, 6 d, 7 e */
	assert_int_equal(of[4], 2);   /* c: the latest exit before it, b */
	assert_int_equal(of[6], 1);   /* d: a, the one left */
	assert_int_equal(of[5], -1);  /* another parent */
	assert_int_equal(of[7], -1);  /* every exit during the recording taken */
	assert_int_equal(of[0], -1);
	session_data_release(&d);
	sfx_remove(&x);
}

static void test_analysis_tree_order_depth_first(void **state)
{
	const struct session_data *d = golden_d(state);
	size_t *order = analysis_tree_order(d);
	size_t want[] = { G1000, G1001, G1005, G1002, G1003, G1004 };
	for (size_t i = 0; i < SFX_GOLDEN_N; i++)
		assert_int_equal(order[i], want[i]);
	free(order);
}

/* ---- the tree and regions ---- */

static void test_analysis_tree_point_saving(void **state)
{
	const struct session_data *d = golden_d(state);
	struct analysis_tree_point p;
	analysis_tree_point(d, 19, &p);
	/* master 42176; 1001: 32768 + 2304 + 8192; 1004: 32768 + 1152 + 8192 */
	assert_int_equal(p.nprocs, 3);
	assert_int_equal(p.rss_kb, 42176 + 43264 + 42112);
	/* master 42176 + 1001: 21760 + 2304 + 1004: 2432 + 1152 */
	assert_int_equal(p.unique_kb, 42176 + 24064 + 3584);
	assert_int_equal(p.saving_kb, 127552 - 69824);
	assert_double_equal_(p.saving_pct, 100.0 * 57728 / 127552);
	assert_double_equal_(p.t, SFX_T0 + 19);
}

static void test_analysis_tree_point_never_negative(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	struct analysis_tree_point p;
	sfx_open(&x);
	sfx_sample(&x, 0, 0, 0, 0);
	sfx_end_sample(&x);
	sfx_sample(&x, 1, 1, 100, 120);  /* page cache outside RSS */
	sfx_end_sample(&x);
	sfx_close(&x);
	sfx_load(&x, &d);
	analysis_tree_point(&d, 0, &p);
	assert_int_equal(p.saving_kb, 0);
	assert_double_equal_(p.saving_pct, 0);
	analysis_tree_point(&d, 1, &p);
	assert_int_equal(p.saving_kb, 0);
	assert_double_equal_(p.saving_pct, 0);
	session_data_release(&d);
	sfx_remove(&x);
}

static void test_analysis_top_regions_by_copied(void **state)
{
	const struct session_data *d = golden_d(state);
	struct analysis_region r[12];
	size_t n = analysis_top_regions(d, 10, r);
	assert_int_equal(n, 10);
	const struct { size_t proc, region; uint64_t copied_kb; size_t sample; } want[] = {
		{ G1003, SFX_HEAP, 13824, 14 }, { G1001, SFX_HEAP, 10880, 19 },
		{ G1003, SFX_ANON, 6912, 14 }, { G1003, SFX_DATA, 6912, 14 },
		{ G1001, SFX_ANON, 5440, 19 }, { G1001, SFX_DATA, 5440, 19 },
		{ G1002, SFX_HEAP, 1920, 8 }, { G1004, SFX_HEAP, 1216, 19 },
		{ G1002, SFX_ANON, 960, 8 }, { G1002, SFX_DATA, 960, 8 },
	};
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].proc, want[i].proc);
		assert_int_equal(r[i].region, want[i].region);
		assert_int_equal(r[i].fig.copied_kb, want[i].copied_kb);
		assert_int_equal(r[i].sample, want[i].sample);
	}
	/* 1003's heap: 16384 - 13824 still shared */
	assert_int_equal(r[0].fig.shared_with_parent_kb, 2560);
	assert_int_equal(r[0].fig.rss_kb, 16384);
	/* with room for all: 13 regions copied something (not the master's,
	 * not the library's) */
	struct analysis_region all[32];
	assert_int_equal(analysis_top_regions(d, 32, all), 13);
	assert_int_equal(all[10].proc, G1005);
	assert_int_equal(all[12].fig.copied_kb, 608);
	assert_int_equal(analysis_top_regions(d, 0, all), 0);
	assert_int_equal(analysis_top_regions(d, 1, all), 1);
	assert_int_equal(all[0].fig.copied_kb, 13824);
}

static void test_analysis_pick_rows_evenly(void **state)
{
	(void)state;
	size_t out[8];
	assert_int_equal(analysis_pick_rows(20, 6, out), 6);
	size_t want[] = { 0, 4, 8, 11, 15, 19 };
	for (int i = 0; i < 6; i++)
		assert_int_equal(out[i], want[i]);
	assert_int_equal(analysis_pick_rows(3, 6, out), 3);
	assert_int_equal(out[2], 2);
	assert_int_equal(analysis_pick_rows(5, 1, out), 1);
	assert_int_equal(out[0], 4);
	assert_int_equal(analysis_pick_rows(0, 6, out), 0);
	assert_int_equal(analysis_pick_rows(7, 2, out), 2);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 6);
}

/* ---- events ---- */

static void test_analysis_events_with_respawn(void **state)
{
	const struct session_data *d = golden_d(state);
	int of[SFX_GOLDEN_N];
	size_t n;
	analysis_find_respawns(d, of);
	struct analysis_event *e = analysis_events(d, of, &n);
	const struct { double t; const char *kind; int pid, respawn_of; } want[] = {
		{ 0, "start", 1000, -1 }, { 0.5, "fork", 1001, -1 },
		{ 0.5, "fork", 1002, -1 }, { 0.5, "fork", 1003, -1 },
		{ 4.5, "fork", 1005, -1 }, { 8.5, "exit", 1002, -1 },
		{ 9.5, "fork", 1004, G1002 }, { 12.5, "exit", 1005, -1 },
		{ 14.5, "exit", 1003, -1 }, { 19.5, "end", 1000, -1 },
	};
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++) {
		assert_double_equal_(e[i].t, SFX_T0 + want[i].t);
		assert_string_equal(e[i].kind, want[i].kind);
		assert_int_equal(e[i].pid, want[i].pid);
		assert_int_equal(e[i].respawn_of, want[i].respawn_of);
	}
	assert_string_equal(e[5].detail, "killed by SIGKILL");
	assert_int_equal(e[5].proc, G1002);
	assert_int_equal(e[9].proc, -1);
	free(e);
}

static void test_analysis_events_made_up_when_missing(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	size_t n;
	sfx_open(&x);
	sfx_proc(&x, 0, 10, 1, -1, -5, "root");
	sfx_proc(&x, 1, 11, 10, 0, 1.5, "worker");
	sfx_proc(&x, 2, 12, 10, 0, 2.5, "other");
	sfx_sample(&x, 1, 1, 100, 100);
	sfx_point_cow(&x, 0, 0, 0, 0);
	sfx_end_sample(&x);
	sfx_event(&x, 2.5, 2, 12, "fork", "from the session");
	sfx_event(&x, 3.0, -1, 10, "end", "");
	sfx_exit(&x, 1, 3.0, 0, -1);
	sfx_close(&x);
	sfx_load(&x, &d);
	struct analysis_event *e = analysis_events(&d, NULL, &n);
	/* root forked before the recording: no event made up for it */
	assert_int_equal(n, 4);
	assert_string_equal(e[0].kind, "fork");
	assert_int_equal(e[0].pid, 11);
	assert_string_equal(e[0].detail, "worker");
	assert_string_equal(e[1].detail, "from the session");
	/* equal times: the session's event first */
	assert_string_equal(e[2].kind, "end");
	assert_string_equal(e[3].kind, "exit");
	assert_int_equal(e[3].proc, 1);
	free(e);
	session_data_release(&d);
	sfx_remove(&x);
}

/* ---- the whole analysis ---- */

static void test_analysis_init_fills_every_process(void **state)
{
	const struct session_data *d = golden_d(state);
	struct analysis a;
	analysis_init(&a, d);
	assert_int_equal(a.nprocs, 6);
	assert_int_equal(a.ntree, 20);
	assert_int_equal(a.nevents, 10);
	assert_int_equal(a.order[2], G1005);
	const struct analysis_proc *p = &a.procs[G1001];
	assert_int_equal(p->role, ANALYSIS_WORKER);
	assert_true(p->sampled);
	assert_int_equal(p->first.rss_kb, 40960);
	assert_int_equal(p->first.anon_kb, 32768);
	assert_int_equal(p->first.shared_with_parent_kb, 31744);
	assert_int_equal(p->last.shared_with_parent_kb, 11008);
	assert_int_equal(p->last.copied_kb, 21760);
	assert_double_equal_(p->shared_pct_first, 100.0 * 31744 / 32768);
	assert_double_equal_(p->shared_pct_last, 100.0 * 11008 / 32768);
	assert_double_equal_(p->first_t, SFX_T0 + 1);
	assert_double_equal_(p->last_t, SFX_T0 + 19);
	assert_double_equal_(p->end_time, SFX_T0 + 19.5);
	assert_double_equal_(p->recent_copy_rate_kbps, 512.0);
	assert_double_equal_(p->half_shared_s, 9.5);
	assert_int_equal(a.procs[G1004].respawn_of, G1002);
	assert_string_equal(a.procs[G1002].exit_desc, "killed by SIGKILL");
	assert_double_equal_(a.procs[G1002].end_time, SFX_T0 + 8.5);
	assert_int_equal(a.procs[G1002].peak_rss_kb, 32768 + 128 * 7 + 8192);
	assert_int_equal(a.events[6].respawn_of, G1002);
	analysis_release(&a);
}

/* ---- comparing strategies ---- */

static void test_analysis_strategy_medians_over_workers(void **state)
{
	const struct session_data *d = golden_d(state);
	struct analysis_strategy s;
	analysis_strategy(d, &s);
	assert_double_equal_(s.duration_s, 19.5);
	assert_int_equal(s.workers, 3);
	assert_int_equal(s.workers_seen, 4);
	/* inherited 31744, 32512, 31744, 32640 */
	assert_double_equal_(s.inherited_kb, (31744.0 + 32512) / 2);
	assert_double_equal_(s.shared_pct_10s,
			     (100.0 * 15104 / 31744 + 100.0 * 11264 / 31744) / 2);
	assert_true(isnan(s.shared_pct_60s));
	/* at the end: 16.1% (1003), 34.7% (1001), 89.0% (1002), 92.9% (1004) */
	assert_double_equal_(s.shared_pct_end,
			     (100.0 * 11008 / 31744 + 100.0 * 28928 / 32512) / 2);
	/* copied: 2432, 3840, 21760, 27648 */
	assert_double_equal_(s.copied_kb_median, 12800.0);
	assert_double_equal_(s.copied_kb_max, 27648.0);
	/* rates: 256, 512, 1176.2, 2048 */
	assert_double_equal_(s.copy_rate_kbps, (512 + 21760.0 / 18.5) / 2);
	assert_int_equal(s.rss_kb_end, 127552);
	assert_int_equal(s.unique_kb_end, 69824);
}

static void test_analysis_saving_against_base(void **state)
{
	(void)state;
	struct analysis_strategy base = { .unique_kb_end = 200000 };
	struct analysis_strategy better = { .unique_kb_end = 150000 };
	double kb, pct;
	analysis_saving(&base, &better, &kb, &pct);
	assert_double_equal_(kb, 50000);
	assert_double_equal_(pct, 25.0);
	analysis_saving(&better, &base, &kb, &pct);
	assert_double_equal_(kb, -50000);
	assert_double_equal_(pct, -100.0 / 3);
	struct analysis_strategy empty = { 0 };
	analysis_saving(&empty, &better, &kb, &pct);
	assert_double_equal_(kb, -150000);
	assert_double_equal_(pct, 0);
}

static void test_analysis_median_odd_even_empty(void **state)
{
	(void)state;
	double odd[] = { 5, 1, 3 };
	double even[] = { 4, 1, 3, 2 };
	assert_double_equal_(analysis_median(odd, 3), 3);
	assert_double_equal_(analysis_median(even, 4), 2.5);
	assert_true(isnan(analysis_median(NULL, 0)));
}

/* ---- why processes hung or died ---- */

static void sfx_wait(struct sfx *x, int idx, char state, double cpu_s,
		     const char *wchan, const char *syscall, const char *on)
{
	struct sink_wait w = { state, cpu_s, wchan, syscall, on,
				       "f (app.py:3) < main (app.py:9)" };
	sfx_check(session_add_wait(x->s, x->sample_id, x->proc_id[idx], &w), "add_wait");
}

/* One process: 12 samples a second apart; blocked in read(fd 7) from
 * sample 2 on; CPU moves at sample 5 (the stretch restarts there) and
 * memory at sample 9 when mem_moves. */
static void write_hang(struct sfx *x, bool mem_moves, const char *syscall)
{
	sfx_open(x);
	sfx_proc(x, 0, 10, 1, -1, -5, "root");
	for (int k = 0; k < 12; k++) {
		sfx_sample(x, k, 1, 100, 100);
		sfx_point_cow(x, 0, 0, 0, mem_moves && k >= 9 ? 8 : 4);
		if (k < 2)
			sfx_wait(x, 0, 'R', 0.1 * k, "", "", "running");
		else
			sfx_wait(x, 0, 'S', k >= 5 ? 0.6 : 0.5, "unix_stream_read_generic",
				 syscall, "read(fd 7) on unix stream socket");
		sfx_end_sample(x);
	}
	sfx_close(x);
}

static void test_analysis_hang_longest_stretch_same_place_no_cpu(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	struct analysis_hang h;
	write_hang(&x, false, "read(fd 7)");
	sfx_load(&x, &d);
	/* stretches: samples 2-4 (2 s), 5-11 (6 s) */
	assert_true(analysis_hang_of(&d, 0, 6.0, &h));
	assert_double_equal_(h.since, SFX_T0 + 5);
	assert_double_equal_(h.seconds, 6.0);
	assert_true(h.to_end);
	assert_string_equal(h.syscall, "read(fd 7)");
	assert_string_equal(h.wchan, "unix_stream_read_generic");
	assert_string_equal(h.blocked_on, "read(fd 7) on unix stream socket");
	assert_string_equal(h.python, "f (app.py:3) < main (app.py:9)");
	assert_int_equal(h.state, 'S');
	assert_false(analysis_hang_of(&d, 0, 6.5, &h));
	/* the default threshold (no meta) is 10 s */
	assert_double_equal_(analysis_hung_after_s(&d), ANALYSIS_HUNG_AFTER_S);
	struct analysis a;
	analysis_init(&a, &d);
	assert_false(a.procs[0].hung);
	assert_int_equal(a.hung, 0);
	analysis_release(&a);
	session_data_release(&d);
	sfx_remove(&x);
}

static void test_analysis_hang_broken_by_memory_change(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	struct analysis_hang h;
	write_hang(&x, true, "read(fd 7)");
	sfx_load(&x, &d);
	/* 5-8 (3 s), then 9-11 (2 s) */
	assert_true(analysis_hang_of(&d, 0, 3.0, &h));
	assert_double_equal_(h.since, SFX_T0 + 5);
	assert_double_equal_(h.seconds, 3.0);
	assert_false(h.to_end);
	assert_false(analysis_hang_of(&d, 0, 3.5, NULL));
	session_data_release(&d);
	sfx_remove(&x);
}

/* The recorder writes a wait row only when it changed: one row at sample
 * 2 holds for every later sample the process was in. */
static void test_analysis_hang_from_one_row_that_holds(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	struct analysis_hang h;
	sfx_open(&x);
	sfx_proc(&x, 0, 10, 1, -1, -5, "root");
	for (int k = 0; k < 12; k++) {
		sfx_sample(&x, k, 1, 100, 100);
		sfx_point_cow(&x, 0, 0, 0, 4);
		if (k == 0)
			sfx_wait(&x, 0, 'R', 0.1, "", "", "running");
		if (k == 2)
			sfx_wait(&x, 0, 'S', 0.2, "futex_do_wait", "futex",
				 "futex wait (a lock or condition)");
		sfx_end_sample(&x);
	}
	sfx_close(&x);
	sfx_load(&x, &d);
	assert_int_equal(d.procs[0].nwaits, 2);
	assert_true(analysis_hang_of(&d, 0, 9.0, &h));
	assert_double_equal_(h.since, SFX_T0 + 2);
	assert_double_equal_(h.seconds, 9.0);
	assert_true(h.to_end);
	assert_int_equal(h.first_wait, 1);
	assert_int_equal(h.last_wait, 1);
	assert_string_equal(h.syscall, "futex");
	assert_false(analysis_hang_of(&d, 0, 9.5, NULL));
	session_data_release(&d);
	sfx_remove(&x);
}

static void test_analysis_waiting_for_work_is_not_hung(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	write_hang(&x, false, "accept4(fd 5)");
	sfx_load(&x, &d);
	assert_false(analysis_hang_of(&d, 0, 1.0, NULL));
	session_data_release(&d);
	sfx_remove(&x);
	assert_true(analysis_idle_syscall("epoll_wait(fd 4)"));
	assert_true(analysis_idle_syscall("clock_nanosleep"));
	assert_true(analysis_idle_syscall("wait4"));
	assert_false(analysis_idle_syscall("read(fd 7)"));
	assert_false(analysis_idle_syscall("futex"));
	assert_false(analysis_idle_syscall("accept4x"));
	assert_false(analysis_idle_syscall(""));
}

static void test_analysis_hung_after_from_meta_and_wait_at(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	sfx_open(&x);
	sfx_meta(&x, "hung_after_s", "2.5");
	sfx_proc(&x, 0, 10, 1, -1, -5, "root");
	for (int k = 0; k < 3; k++) {
		sfx_sample(&x, k, 1, 100, 100);
		sfx_point_cow(&x, 0, 0, 0, 0);
		if (k != 1)
			sfx_wait(&x, 0, 'S', 0, "do_wait", "wait4", "wait4 (children)");
		sfx_end_sample(&x);
	}
	sfx_close(&x);
	sfx_load(&x, &d);
	assert_double_equal_(analysis_hung_after_s(&d), 2.5);
	assert_string_equal(analysis_wait_at(&d, 0, 0)->syscall, "wait4");
	/* no row at sample 1: the latest before it */
	assert_int_equal(analysis_wait_at(&d, 0, 1)->sample, 0);
	assert_int_equal(analysis_wait_at(&d, 0, 2)->sample, 2);
	session_data_release(&d);
	sfx_remove(&x);
}

/* Three processes killed: by an OOM kill, by a SIGTERM from an exiting
 * worker of the tree, by a kernel SIGKILL without OOM record; a fourth
 * killed with no signal recorded; a fifth exits 3. */
static void test_analysis_exit_causes(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	sfx_open(&x);
	sfx_proc(&x, 0, 10, 1, -1, -5, "master");
	sfx_proc(&x, 1, 11, 10, 0, 0.1, "oom victim");
	sfx_proc(&x, 2, 12, 10, 0, 0.1, "data");
	sfx_proc(&x, 3, 13, 10, 0, 0.1, "worker");
	sfx_proc(&x, 4, 14, 10, 0, 0.1, "quiet");
	sfx_proc(&x, 5, 15, 10, 0, 0.1, "exit3");
	sfx_sample(&x, 1, 6, 100, 100);
	for (int i = 0; i < 6; i++)
		sfx_point_cow(&x, i, 0, 0, 0);
	sfx_end_sample(&x);
	sfx_exit(&x, 1, 2, -1, 9);
	sfx_exit(&x, 2, 2, -1, 15);
	sfx_exit(&x, 3, 2.1, 0, -1);
	sfx_exit(&x, 4, 3, -1, 9);
	sfx_exit(&x, 5, 3, 3, -1);
	struct sink_signal g[] = {
		{ SFX_T0 + 1.5, x.proc_id[2], 12, 15, 0, 99, "bash", 0, false, "delivered" },
		{ SFX_T0 + 1.99, x.proc_id[2], 12, 15, 0, 13, "gunicorn", x.proc_id[3],
		  true, "delivered" },
		{ SFX_T0 + 1.99, x.proc_id[1], 11, 9, 0x80, 11, "python3", x.proc_id[1],
		  false, "delivered" },
		{ SFX_T0 + 9, x.proc_id[2], 12, 15, 0, 77, "late", 0, false, "delivered" },
	};
	for (size_t k = 0; k < 4; k++)
		sfx_check(session_add_signal(x.s, &g[k]), "add_signal");
	struct sink_oom o = { SFX_T0 + 1.99, x.proc_id[1], 11, 200000, 62464,
				      1024, 0, "/x" };
	sfx_check(session_add_oom(x.s, &o), "add_oom");
	sfx_close(&x);
	sfx_load(&x, &d);
	char buf[ANALYSIS_CAUSE_LEN];
	int oom, sig;
	assert_int_equal(analysis_exit_cause(&d, 1, buf, sizeof(buf), &oom, &sig),
			 ANALYSIS_KILLED);
	assert_string_equal(buf, "SIGKILL by the OOM killer (cgroup /x, anon 61 MiB)");
	assert_int_equal(oom, 0);
	analysis_exit_cause(&d, 2, buf, sizeof(buf), &oom, &sig);
	/* the last SIGTERM before the exit, not the one after */
	assert_string_equal(buf, "SIGTERM from 13 (gunicorn, exiting)");
	assert_int_equal(oom, -1);
	assert_int_equal(d.signals[sig].sender_pid, 13);
	assert_int_equal(analysis_exit_cause(&d, 3, buf, sizeof(buf), NULL, NULL),
			 ANALYSIS_EXITED);
	assert_string_equal(buf, "exit 0");
	analysis_exit_cause(&d, 4, buf, sizeof(buf), NULL, &sig);
	assert_string_equal(buf, "killed by SIGKILL");
	assert_int_equal(sig, -1);
	analysis_exit_cause(&d, 5, buf, sizeof(buf), NULL, NULL);
	assert_string_equal(buf, "exit 3");
	assert_int_equal(analysis_exit_cause(&d, 0, buf, sizeof(buf), NULL, NULL),
			 ANALYSIS_RUNNING);
	assert_string_equal(buf, "running");
	struct analysis a;
	analysis_init(&a, &d);
	assert_int_equal(a.killed, 3);
	assert_string_equal(a.procs[1].exit_cause,
			    "SIGKILL by the OOM killer (cgroup /x, anon 61 MiB)");
	analysis_release(&a);
	struct analysis_strategy st;
	analysis_strategy(&d, &st);
	assert_int_equal(st.killed, 3);
	assert_int_equal(st.oom_killed, 1);
	session_data_release(&d);
	sfx_remove(&x);
}

static void test_analysis_signal_from_itself_and_kernel(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	sfx_open(&x);
	sfx_proc(&x, 0, 10, 1, -1, -5, "master");
	sfx_proc(&x, 1, 11, 10, 0, 0.1, "aborts");
	sfx_proc(&x, 2, 12, 10, 0, 0.1, "kernel");
	sfx_sample(&x, 1, 3, 100, 100);
	for (int i = 0; i < 3; i++)
		sfx_point_cow(&x, i, 0, 0, 0);
	sfx_end_sample(&x);
	sfx_exit(&x, 1, 2, -1, 6);
	sfx_exit(&x, 2, 2, -1, 9);
	struct sink_signal g[] = {
		{ SFX_T0 + 1.9, x.proc_id[1], 11, 6, -6, 11, "python3", x.proc_id[1],
		  false, "delivered" },
		{ SFX_T0 + 1.9, x.proc_id[2], 12, 9, 0x80, 10, "master", x.proc_id[0],
		  false, "delivered" },
	};
	for (size_t k = 0; k < 2; k++)
		sfx_check(session_add_signal(x.s, &g[k]), "add_signal");
	sfx_close(&x);
	sfx_load(&x, &d);
	char buf[ANALYSIS_CAUSE_LEN], name[24];
	analysis_exit_cause(&d, 1, buf, sizeof(buf), NULL, NULL);
	assert_string_equal(buf, "SIGABRT from itself");
	analysis_exit_cause(&d, 2, buf, sizeof(buf), NULL, NULL);
	assert_string_equal(buf, "SIGKILL from the kernel");
	assert_string_equal(format_signal_name(15, name, sizeof(name)), "SIGTERM");
	assert_string_equal(format_signal_name(SIGRTMIN + 2, name, sizeof(name)),
			    "SIGRTMIN+2");
	session_data_release(&d);
	sfx_remove(&x);
}

/* A session is titled by its target, else by its root's command, never by
 * the cowprof command that recorded it (the TUI once fell back to that). */
static void test_analysis_target_falls_back_to_the_root_command(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	sfx_open(&x);
	sfx_meta(&x, SINK_META_COMMAND, "cowprof record 100");
	sfx_proc(&x, 0, 100, 1, -1, 0, "gunicorn: master [app:app]");
	sfx_proc(&x, 1, 101, 100, 0, 1, "gunicorn: worker [app:app]");
	sfx_close(&x);
	sfx_load(&x, &d);
	assert_string_equal(analysis_target(&d), "gunicorn: master [app:app]");
	session_data_release(&d);
	sfx_remove(&x);
	sfx_open(&x);
	sfx_meta(&x, SINK_META_COMMAND, "cowprof record 100");
	sfx_meta(&x, SINK_META_TARGET, "python3 app.py");
	sfx_proc(&x, 0, 100, 1, -1, 0, "renamed by setproctitle");
	sfx_close(&x);
	sfx_load(&x, &d);
	assert_string_equal(analysis_target(&d), "python3 app.py");
	session_data_release(&d);
	sfx_remove(&x);
}

/* A test that reads the golden session, written afresh for it. */
#define GOLDEN(t) cmocka_unit_test_setup_teardown(t, golden_setup, golden_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		GOLDEN(test_analysis_span_from_meta),
		GOLDEN(test_analysis_roles_by_depth),
		GOLDEN(test_analysis_fork_time_recorded_or_first_sample),
		GOLDEN(test_analysis_lifetime_to_exit_or_end),
		GOLDEN(test_analysis_peak_rss),
		GOLDEN(test_analysis_copy_rate_since_fork),
		GOLDEN(test_analysis_recent_copy_rate_over_window),
		GOLDEN(test_analysis_half_shared_time),
		GOLDEN(test_analysis_shared_pct_at_ages),
		GOLDEN(test_analysis_exit_descriptions),
		GOLDEN(test_analysis_respawn_of_killed_worker),
		GOLDEN(test_analysis_tree_order_depth_first),
		GOLDEN(test_analysis_tree_point_saving),
		GOLDEN(test_analysis_top_regions_by_copied),
		GOLDEN(test_analysis_events_with_respawn),
		GOLDEN(test_analysis_init_fills_every_process),
		GOLDEN(test_analysis_strategy_medians_over_workers),
		cmocka_unit_test(test_analysis_span_from_samples_without_meta),
		cmocka_unit_test(test_analysis_empty_session),
		cmocka_unit_test(test_analysis_target_falls_back_to_the_root_command),
		cmocka_unit_test(test_analysis_shared_pct),
		cmocka_unit_test(test_analysis_copy_rate_without_fork_time_from_first_sample),
		cmocka_unit_test(test_analysis_half_shared_exactly_half_counts),
		cmocka_unit_test(test_analysis_exit_unknown_is_vanished),
		cmocka_unit_test(test_analysis_respawns_claim_each_exit_once),
		cmocka_unit_test(test_analysis_tree_point_never_negative),
		cmocka_unit_test(test_analysis_pick_rows_evenly),
		cmocka_unit_test(test_analysis_events_made_up_when_missing),
		cmocka_unit_test(test_analysis_saving_against_base),
		cmocka_unit_test(test_analysis_median_odd_even_empty),
		cmocka_unit_test(test_analysis_hang_longest_stretch_same_place_no_cpu),
		cmocka_unit_test(test_analysis_hang_broken_by_memory_change),
		cmocka_unit_test(test_analysis_hang_from_one_row_that_holds),
		cmocka_unit_test(test_analysis_waiting_for_work_is_not_hung),
		cmocka_unit_test(test_analysis_hung_after_from_meta_and_wait_at),
		cmocka_unit_test(test_analysis_exit_causes),
		cmocka_unit_test(test_analysis_signal_from_itself_and_kernel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
