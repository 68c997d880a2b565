/* test_tui_model.c - the TUI model, headless: rows at a time position,
 * selection, sort, seek and playback, screens, and the bar and chart
 * helpers
 *
 * Most tests run on the golden session of session_fixture.h (samples at
 * +0..+19 s; workers 1001-1003 forked at +0.5 s, 1005 at +4.5 s exiting 0
 * at +12.5 s, 1002 killed by SIGKILL at +8.5 s, 1003 exiting 3 at +14.5 s,
 * 1004 forked at +9.5 s). Tree order: 1000, 1001, 1005, 1002, 1003, 1004.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "session_fixture.h"
#include "tui/model.h"

struct golden {
	struct sfx x;
	struct session_data d;
	struct analysis a;
	struct tui_model m;
};

static int setup(void **state)
{
	struct golden *g = xcalloc(1, sizeof(*g));
	sfx_write_golden(&g->x);
	sfx_load(&g->x, &g->d);
	analysis_init(&g->a, &g->d);
	tui_model_init(&g->m, &g->d, &g->a);
	tui_model_set_page(&g->m, 10);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct golden *g = *state;
	tui_model_release(&g->m);
	analysis_release(&g->a);
	session_data_release(&g->d);
	sfx_remove(&g->x);
	free(g);
	return 0;
}

static int proc_of_pid(const struct session_data *d, int pid)
{
	for (size_t i = 0; i < d->nprocs; i++)
		if (d->procs[i].pid == pid)
			return (int)i;
	fail_msg("no pid %d", pid);
	return -1;
}

static const struct tui_row *row_of_pid(const struct tui_model *m, int pid)
{
	return tui_model_row_of(m, (size_t)proc_of_pid(m->d, pid));
}

static int selected_pid(const struct tui_model *m)
{
	int i = tui_model_selected(m);
	return i < 0 ? -1 : m->d->procs[i].pid;
}

/* Select pid by moving the cursor, as a user would. */
static void select_pid(struct tui_model *m, int pid)
{
	tui_model_key(m, TUI_KEY_PGUP);
	tui_model_key(m, TUI_KEY_PGUP);
	for (size_t i = 0; i < m->nrows && selected_pid(m) != pid; i++)
		tui_model_key(m, TUI_KEY_DOWN);
	assert_int_equal(selected_pid(m), pid);
}

/* ---- rows at a time position ---- */

static void test_model_starts_at_end_with_root_selected(void **state)
{
	struct golden *g = *state;
	assert_int_equal(g->m.sample, SFX_GOLDEN_SAMPLES - 1);
	assert_int_equal(g->m.screen, TUI_SCREEN_TREE);
	assert_false(g->m.playing);
	assert_true(tui_model_speed(&g->m) == 1.0);
	assert_int_equal(selected_pid(&g->m), 1000);
	assert_int_equal(g->m.nrows, 6);
	static const int order[] = { 1000, 1001, 1005, 1002, 1003, 1004 };
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(g->d.procs[g->m.rows[i].proc].pid, order[i]);
}

static void test_rows_hide_processes_not_yet_forked(void **state)
{
	struct golden *g = *state;
	tui_model_seek(&g->m, 0);
	assert_int_equal(g->m.nrows, 1);
	assert_non_null(row_of_pid(&g->m, 1000));
	assert_null(row_of_pid(&g->m, 1001));
	tui_model_seek(&g->m, 5);
	assert_int_equal(g->m.nrows, 5);
	assert_non_null(row_of_pid(&g->m, 1005));
	assert_null(row_of_pid(&g->m, 1004));
	tui_model_seek(&g->m, 10);
	assert_non_null(row_of_pid(&g->m, 1004));
}

static void test_rows_show_figures_of_latest_point(void **state)
{
	struct golden *g = *state;
	tui_model_seek(&g->m, 5);
	const struct tui_row *r = row_of_pid(&g->m, 1001);
	assert_non_null(r);
	assert_true(r->sampled);
	assert_false(r->exited);
	assert_int_equal(r->fig.copied_kb, sfx_golden_copied(1, 4.5));
	assert_int_equal(r->fig.copied_kb, 9216);
	assert_true(r->rate_kbps > 2047.99 && r->rate_kbps < 2048.01);
	assert_true(r->age_s > 4.49 && r->age_s < 4.51);
	assert_true(r->point_t == SFX_T0 + 5);
	assert_true(tui_model_offset_s(&g->m) == 5.0);
}

static void test_rows_grey_exited_processes_after_exit(void **state)
{
	struct golden *g = *state;
	tui_model_seek(&g->m, 8);
	const struct tui_row *r = row_of_pid(&g->m, 1002);
	assert_false(r->exited);
	tui_model_seek(&g->m, 9);
	r = row_of_pid(&g->m, 1002);
	assert_non_null(r);
	assert_true(r->exited);
	/* its figures stay those of its last point (+8 s), its age stops */
	assert_int_equal(r->fig.copied_kb, 3840);
	assert_true(r->age_s > 7.99 && r->age_s < 8.01);
	assert_string_equal(g->a.procs[r->proc].exit_desc, "killed by SIGKILL");
	tui_model_seek(&g->m, 19);
	assert_true(row_of_pid(&g->m, 1003)->exited);
	assert_true(row_of_pid(&g->m, 1005)->exited);
	assert_false(row_of_pid(&g->m, 1001)->exited);
}

/* ---- selection, sort ---- */

static void test_selection_survives_sort(void **state)
{
	struct golden *g = *state;
	select_pid(&g->m, 1003);
	tui_model_key(&g->m, TUI_KEY_SORT);
	assert_int_equal(g->m.sort, TUI_SORT_RSS);
	assert_int_equal(selected_pid(&g->m), 1003);
	tui_model_key(&g->m, TUI_KEY_SORT);
	assert_int_equal(g->m.sort, TUI_SORT_COPIED);
	assert_int_equal(selected_pid(&g->m), 1003);
	/* copied at +19 s: 1003 27648 (exited at 14.5), 1001 21760, ... */
	assert_int_equal(g->d.procs[g->m.rows[0].proc].pid, 1003);
	assert_int_equal(g->d.procs[g->m.rows[1].proc].pid, 1001);
	for (size_t i = 1; i < g->m.nrows; i++)
		assert_true(g->m.rows[i - 1].fig.copied_kb >= g->m.rows[i].fig.copied_kb);
	tui_model_key(&g->m, TUI_KEY_SORT);
	assert_int_equal(g->m.sort, TUI_SORT_RATE);
	for (size_t i = 1; i < g->m.nrows; i++)
		assert_true(g->m.rows[i - 1].rate_kbps >= g->m.rows[i].rate_kbps);
	tui_model_key(&g->m, TUI_KEY_SORT);
	assert_int_equal(g->m.sort, TUI_SORT_TREE);
	assert_int_equal(selected_pid(&g->m), 1003);
}

static void test_selection_survives_time_moves(void **state)
{
	struct golden *g = *state;
	select_pid(&g->m, 1005);
	tui_model_seek(&g->m, 2);
	/* not forked yet: the cursor rests on its parent, the choice stays */
	assert_int_equal(selected_pid(&g->m), 1001);
	tui_model_seek(&g->m, 6);
	assert_int_equal(selected_pid(&g->m), 1005);
	tui_model_key(&g->m, TUI_KEY_RIGHT);
	assert_int_equal(g->m.sample, 7);
	assert_int_equal(selected_pid(&g->m), 1005);
}

static void test_selection_survives_process_exiting(void **state)
{
	struct golden *g = *state;
	tui_model_seek(&g->m, 5);
	select_pid(&g->m, 1002);
	size_t row = g->m.sel_row;
	tui_model_key(&g->m, TUI_KEY_END);
	assert_int_equal(selected_pid(&g->m), 1002);
	assert_true(g->m.rows[g->m.sel_row].exited);
	assert_int_equal(g->m.sel_row, row + 0);
}

static void test_cursor_clamps_and_scrolls(void **state)
{
	struct golden *g = *state;
	tui_model_set_page(&g->m, 3);
	tui_model_key(&g->m, TUI_KEY_UP);
	assert_int_equal(g->m.sel_row, 0);
	for (int i = 0; i < 10; i++)
		tui_model_key(&g->m, TUI_KEY_DOWN);
	assert_int_equal(g->m.sel_row, 5);
	assert_int_equal(selected_pid(&g->m), 1004);
	assert_int_equal(g->m.top, 3);
	tui_model_key(&g->m, TUI_KEY_PGUP);
	assert_int_equal(g->m.sel_row, 3);
	assert_int_equal(g->m.top, 3);
	tui_model_key(&g->m, TUI_KEY_PGUP);
	assert_int_equal(g->m.sel_row, 1);
	assert_int_equal(g->m.top, 1);
}

/* ---- time ---- */

static void test_seek_clamps(void **state)
{
	struct golden *g = *state;
	tui_model_seek(&g->m, 1000);
	assert_int_equal(g->m.sample, 19);
	tui_model_key(&g->m, TUI_KEY_RIGHT);
	assert_int_equal(g->m.sample, 19);
	tui_model_key(&g->m, TUI_KEY_HOME);
	assert_int_equal(g->m.sample, 0);
	tui_model_key(&g->m, TUI_KEY_LEFT);
	assert_int_equal(g->m.sample, 0);
	tui_model_key(&g->m, TUI_KEY_RIGHT);
	assert_int_equal(g->m.sample, 1);
	tui_model_key(&g->m, TUI_KEY_END);
	assert_int_equal(g->m.sample, 19);
}

static void test_play_advances_by_speed(void **state)
{
	struct golden *g = *state;
	tui_model_key(&g->m, TUI_KEY_HOME);
	assert_false(tui_model_tick(&g->m, 1.0));  /* paused: nothing moves */
	assert_int_equal(g->m.sample, 0);
	tui_model_key(&g->m, TUI_KEY_PLAY);
	assert_true(g->m.playing);
	tui_model_key(&g->m, TUI_KEY_FASTER);
	assert_true(tui_model_speed(&g->m) == 2.0);
	assert_true(tui_model_tick(&g->m, 1.0));   /* 2 s of session time */
	assert_int_equal(g->m.sample, 2);
	assert_false(tui_model_tick(&g->m, 0.25)); /* +2.5 s: same sample */
	assert_int_equal(g->m.sample, 2);
	assert_true(tui_model_tick(&g->m, 0.25));
	assert_int_equal(g->m.sample, 3);
	tui_model_key(&g->m, TUI_KEY_SLOWER);
	tui_model_key(&g->m, TUI_KEY_SLOWER);
	assert_true(tui_model_speed(&g->m) == 0.5);
	assert_true(tui_model_tick(&g->m, 2.0));
	assert_int_equal(g->m.sample, 4);
	/* pause holds, play again goes on; the end stops playback */
	tui_model_key(&g->m, TUI_KEY_PLAY);
	assert_false(tui_model_tick(&g->m, 10));
	assert_int_equal(g->m.sample, 4);
	tui_model_key(&g->m, TUI_KEY_PLAY);
	assert_true(tui_model_tick(&g->m, 1000));
	assert_int_equal(g->m.sample, 19);
	assert_false(g->m.playing);
	/* play at the end starts over */
	tui_model_key(&g->m, TUI_KEY_PLAY);
	assert_true(g->m.playing);
	assert_int_equal(g->m.sample, 0);
}

static void test_speed_clamps(void **state)
{
	struct golden *g = *state;
	for (int i = 0; i < 20; i++)
		tui_model_key(&g->m, TUI_KEY_FASTER);
	assert_true(tui_model_speed(&g->m) == 64.0);
	for (int i = 0; i < 20; i++)
		tui_model_key(&g->m, TUI_KEY_SLOWER);
	assert_true(tui_model_speed(&g->m) == 0.25);
}

/* ---- screens ---- */

static void test_screens_switch_by_key(void **state)
{
	struct golden *g = *state;
	struct tui_model *m = &g->m;
	tui_model_key(m, TUI_KEY_TAB);
	assert_int_equal(m->screen, TUI_SCREEN_TIMELINE);
	tui_model_key(m, TUI_KEY_TAB);
	assert_int_equal(m->screen, TUI_SCREEN_REGIONS);
	tui_model_key(m, TUI_KEY_TAB);
	assert_int_equal(m->screen, TUI_SCREEN_CALLSITES);
	tui_model_key(m, TUI_KEY_TAB);
	assert_int_equal(m->screen, TUI_SCREEN_COMPARE);
	tui_model_key(m, TUI_KEY_TAB);
	assert_int_equal(m->screen, TUI_SCREEN_TREE);
	tui_model_key(m, TUI_KEY_SCREEN_3);
	assert_int_equal(m->screen, TUI_SCREEN_REGIONS);
	tui_model_key(m, TUI_KEY_HELP);
	assert_int_equal(m->screen, TUI_SCREEN_HELP);
	tui_model_key(m, TUI_KEY_HELP);
	assert_int_equal(m->screen, TUI_SCREEN_REGIONS);
	tui_model_key(m, TUI_KEY_SCREEN_5);
	assert_int_equal(m->screen, TUI_SCREEN_COMPARE);
	tui_model_key(m, TUI_KEY_SCREEN_1);
	assert_int_equal(m->screen, TUI_SCREEN_TREE);
	tui_model_key(m, TUI_KEY_ENTER);
	assert_int_equal(m->screen, TUI_SCREEN_TIMELINE);
	tui_model_key(m, TUI_KEY_ENTER);
	assert_int_equal(m->screen, TUI_SCREEN_TREE);
	assert_false(m->quit);
	assert_false(tui_model_key(m, TUI_KEY_NONE));
	tui_model_key(m, TUI_KEY_QUIT);
	assert_true(m->quit);
}

static void test_regions_at_time_most_copied_first(void **state)
{
	struct golden *g = *state;
	select_pid(&g->m, 1001);
	struct tui_region_row *r;
	size_t n = tui_model_regions(&g->m, &r);
	assert_int_equal(n, 4);
	/* copied 21760 at +19 s: heap half, anon and data a quarter each */
	assert_string_equal(g->d.procs[tui_model_selected(&g->m)]
			    .regions[r[0].region].kind, "heap");
	assert_int_equal(r[0].fig.copied_kb, 10880);
	assert_int_equal(r[1].fig.copied_kb, 5440);
	assert_int_equal(r[2].fig.copied_kb, 5440);
	assert_true(r[1].region < r[2].region);
	assert_int_equal(r[3].fig.copied_kb, 0);
	free(r);
	tui_model_seek(&g->m, 5);
	n = tui_model_regions(&g->m, &r);
	assert_int_equal(n, 4);
	assert_int_equal(r[0].fig.copied_kb, 9216 / 2);
	free(r);
}

/* The call-sites screen lists the selected process's sites; a: the tree. */
/* Exited processes stay listed for a while after their exit, then go. */
static void test_exited_processes_leave_after_a_while(void **state)
{
	struct golden *g = *state;
	g->m.exited_keep_s = 5;      /* 1002 was killed at +8.5 s */
	tui_model_seek(&g->m, 10);
	assert_non_null(row_of_pid(&g->m, 1002));
	assert_true(row_of_pid(&g->m, 1002)->exited);
	tui_model_seek(&g->m, 14);
	assert_null(row_of_pid(&g->m, 1002));
	g->m.exited_keep_s = 0;      /* the default: a minute */
	tui_model_seek(&g->m, 19);
	assert_non_null(row_of_pid(&g->m, 1002));
}

static void test_callsites_of_selection_and_tree(void **state)
{
	struct golden *g = *state;
	struct callsite top[4];
	int proc;
	select_pid(&g->m, 1001);
	assert_int_equal(tui_model_callsites(&g->m, true, top, 4, &proc), 2);
	assert_int_equal(g->d.procs[proc].pid, 1001);
	assert_string_equal(g->d.frames[top[0].frame].function, "handler");
	assert_int_equal(top[0].pages, 40);
	assert_int_equal(tui_model_callsites(&g->m, false, top, 4, &proc), 2);
	assert_int_equal(top[1].pages, 10);
	tui_model_key(&g->m, TUI_KEY_ALL);
	assert_int_equal(tui_model_callsites(&g->m, true, top, 4, &proc), 2);
	assert_int_equal(proc, CALLSITES_TREE);
	assert_int_equal(top[0].pages, 45);
	assert_int_equal(top[0].nprocs, 2);
	tui_model_key(&g->m, TUI_KEY_ALL);
	select_pid(&g->m, 1003);
	assert_int_equal(tui_model_callsites(&g->m, true, top, 4, &proc), 0);
	assert_int_equal(tui_model_callsites(&g->m, false, top, 4, &proc), 1);
	assert_int_equal(top[0].pages, 25);
}

static void test_series_of_process_and_tree(void **state)
{
	struct golden *g = *state;
	size_t n = g->d.nsamples;
	uint64_t *lo = xcalloc(n, sizeof(*lo)), *up = xcalloc(n, sizeof(*up));
	assert_true(tui_model_series(&g->m, lo, up));  /* root: the tree */
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(lo[k], g->a.tree[k].unique_kb);
		assert_int_equal(lo[k] + up[k], g->a.tree[k].rss_kb);
	}
	select_pid(&g->m, 1002);
	assert_false(tui_model_series(&g->m, lo, up));
	assert_int_equal(up[0], 0);                    /* before fork */
	assert_int_equal(up[8], 3840);
	assert_int_equal(lo[8], 32768 - 3840);
	assert_int_equal(up[9], 0);                    /* after its exit */
	free(lo);
	free(up);
}

/* ---- following a growing file ---- */

static void write_small_sample(struct sfx *x, int k)
{
	sfx_sample(x, k, 2, 2000, 1500);
	sfx_point_cow(x, 0, 0, 0, 1000);
	sfx_point_cow(x, 1, 1000 - 10 * (uint64_t)k, 10 * (uint64_t)k, 0);
	sfx_end_sample(x);
}

static void test_reload_keeps_selection_and_end(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	sfx_proc(&x, 0, 500, 1, -1, -5, "root");
	sfx_proc(&x, 1, 501, 500, 0, -1, "child");
	for (int k = 0; k < 3; k++)
		write_small_sample(&x, k);
	struct session_data d1, d2;
	struct analysis a1, a2;
	sfx_load(&x, &d1);
	analysis_init(&a1, &d1);
	struct tui_model m;
	tui_model_init(&m, &d1, &a1);
	tui_model_key(&m, TUI_KEY_DOWN);
	assert_int_equal(selected_pid(&m), 501);
	assert_int_equal(m.sample, 2);
	for (int k = 3; k < 6; k++)
		write_small_sample(&x, k);
	sfx_load(&x, &d2);
	analysis_init(&a2, &d2);
	tui_model_set_data(&m, &d2, &a2);
	assert_int_equal(m.sample, 5);                 /* stayed at the end */
	assert_int_equal(selected_pid(&m), 501);
	assert_int_equal(m.rows[m.sel_row].fig.copied_kb, 50);
	/* not at the end: the time position stays */
	tui_model_seek(&m, 1);
	tui_model_set_data(&m, &d1, &a1);
	assert_int_equal(m.sample, 1);
	tui_model_release(&m);
	analysis_release(&a1);
	analysis_release(&a2);
	session_data_release(&d1);
	session_data_release(&d2);
	sfx_remove(&x);
}

static void test_signal_marks_of_tree_and_process(void **state)
{
	struct golden *g = *state;
	char marks[21] = { 0 };
	/* 1002's OOM kill (and the kernel's SIGKILL) at +8.49 s: the sample at
	 * +9 s; 1003's SIGTERM at +14.4 s: +15 s; 1002's SIGCHLD to the master
	 * is not marked */
	assert_int_equal(tui_model_signal_marks(&g->m, -1, 20, marks), 3);
	assert_string_equal(marks, "         O     T    ");
	assert_int_equal(tui_model_signal_marks(&g->m, proc_of_pid(&g->d, 1003), 20,
						marks), 1);
	assert_string_equal(marks, "               T    ");
	assert_int_equal(tui_model_signal_marks(&g->m, proc_of_pid(&g->d, 1000), 20,
						marks), 0);
	assert_string_equal(marks, "                    ");
}

static void test_wait_text_exit_cause_on_exited_rows(void **state)
{
	struct golden *g = *state;
	char buf[256];
	const struct tui_row *r = row_of_pid(&g->m, 1002);
	assert_true(r->exited);
	assert_string_equal(tui_model_wait_text(&g->m, r, buf, sizeof(buf)),
			    "SIGKILL by the OOM killer (cgroup /system.slice/app.service, "
			    "anon 36 MiB)");
	r = row_of_pid(&g->m, 1003);
	assert_string_equal(tui_model_wait_text(&g->m, r, buf, sizeof(buf)), "exit 3");
	/* no wait states in the golden session */
	r = row_of_pid(&g->m, 1001);
	assert_string_equal(tui_model_wait_text(&g->m, r, buf, sizeof(buf)), "");
}

static void test_wait_text_state_then_hung(void **state)
{
	(void)state;
	struct sfx x;
	struct session_data d;
	struct analysis a;
	struct tui_model m;
	sfx_open(&x);
	sfx_meta(&x, "hung_after_s", "5");
	sfx_proc(&x, 0, 500, 1, -1, -5, "root");
	for (int k = 0; k < 12; k++) {
		sfx_sample(&x, k, 1, 100, 100);
		sfx_point_cow(&x, 0, 0, 0, 100);
		struct sink_wait w = { 'S', 0.25, "anon_pipe_read", "read(fd 3)",
					       "read(fd 3) on pipe, write end held by 500 (itself)",
					       "" };
		struct sink_wait run = { 'R', 0.1, "", "", "running", NULL };
		sfx_check(session_add_wait(x.s, x.sample_id, x.proc_id[0],
					   k ? &w : &run), "add_wait");
		sfx_end_sample(&x);
	}
	sfx_close(&x);
	sfx_load(&x, &d);
	analysis_init(&a, &d);
	tui_model_init(&m, &d, &a);
	char buf[256];
	tui_model_seek(&m, 0);
	assert_string_equal(tui_model_wait_text(&m, &m.rows[0], buf, sizeof(buf)),
			    "R running");
	tui_model_seek(&m, 5);   /* 4 s into it: not yet hung */
	assert_string_equal(tui_model_wait_text(&m, &m.rows[0], buf, sizeof(buf)),
			    "S read(fd 3) on pipe, write end held by 500 (itself)");
	tui_model_seek(&m, 8);
	assert_string_equal(tui_model_wait_text(&m, &m.rows[0], buf, sizeof(buf)),
			    "HUNG 7.0s read(fd 3) on pipe, write end held by 500 (itself)");
	tui_model_release(&m);
	analysis_release(&a);
	session_data_release(&d);
	sfx_remove(&x);
}

static void test_empty_session_has_no_rows(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	struct session_data d;
	struct analysis a;
	sfx_load(&x, &d);
	analysis_init(&a, &d);
	struct tui_model m;
	tui_model_init(&m, &d, &a);
	assert_int_equal(m.nrows, 0);
	assert_int_equal(tui_model_selected(&m), -1);
	for (int k = TUI_KEY_NONE; k <= TUI_KEY_CURVE; k++)
		tui_model_key(&m, (enum tui_key)k);
	assert_false(tui_model_tick(&m, 1));
	tui_model_release(&m);
	analysis_release(&a);
	session_data_release(&d);
	sfx_remove(&x);
}

/* ---- mouse ---- */

static void test_click_selects_row_and_shows_screen(void **state)
{
	struct golden *g = *state;
	struct tui_model *m = &g->m;
	tui_model_select_row(m, 3);                    /* tree order: 1002 */
	assert_int_equal(selected_pid(m), 1002);
	tui_model_select_row(m, 99);                   /* clamps to the last */
	assert_int_equal(selected_pid(m), 1004);
	tui_model_show(m, TUI_SCREEN_COMPARE);
	assert_int_equal(m->screen, TUI_SCREEN_COMPARE);
	tui_model_show(m, TUI_SCREEN_HELP);
	tui_model_show(m, TUI_SCREEN_HELP);            /* as ?: back */
	assert_int_equal(m->screen, TUI_SCREEN_COMPARE);
	assert_false(tui_model_key(m, TUI_KEY_CLICK)); /* the view places it */
}

/* ---- compare ---- */

/* Session A: samples at +0..+10 s, workers 501 and 502 forked at +2 s
 * copying 10 and 30 kB a second of 1000 inherited; session B: samples at
 * +0..+25 s, one worker forked at +5 s copying 20 kB a second, and a
 * grandchild of it forked at +5 s copying 1 kB a second of 100. */
struct two {
	struct sfx xa, xb;
	struct session_data da, db;
	struct analysis aa, ab;
	struct tui_model m;
};

static uint64_t since(double t, double fork, uint64_t per_s)
{
	return t > fork ? (uint64_t)((t - fork) * (double)per_s) : 0;
}

static void write_a(struct sfx *x)
{
	sfx_open(x);
	sfx_meta(x, "target", "forktree -w 10,30");
	sfx_proc(x, 0, 500, 1, -1, -5, "root");
	sfx_proc(x, 1, 501, 500, 0, 2, "w1");
	sfx_proc(x, 2, 502, 500, 0, 2, "w2");
	for (int t = 0; t <= 10; t++) {
		sfx_sample(x, t, t >= 2 ? 3 : 1, 3000, 2000);
		sfx_point_cow(x, 0, 0, 0, 1000);
		if (t >= 2) {
			sfx_point_cow(x, 1, 1000 - since(t, 2, 10), since(t, 2, 10), 0);
			sfx_point_cow(x, 2, 1000 - since(t, 2, 30), since(t, 2, 30), 0);
		}
		sfx_end_sample(x);
	}
}

static void write_b(struct sfx *x)
{
	sfx_open(x);
	sfx_meta(x, "target", "forktree -w 20");
	sfx_proc(x, 0, 600, 1, -1, -5, "root");
	sfx_proc(x, 1, 601, 600, 0, 5, "w");
	sfx_proc(x, 2, 602, 601, 1, 5, "grandchild");
	for (int t = 0; t <= 25; t++) {
		sfx_sample(x, t, t >= 5 ? 3 : 1, 3000, 2000);
		sfx_point_cow(x, 0, 0, 0, 1000);
		if (t >= 5) {
			sfx_point_cow(x, 1, 1000 - since(t, 5, 20), since(t, 5, 20), 0);
			sfx_point_cow(x, 2, 100 - since(t, 5, 1), since(t, 5, 1), 0);
		}
		sfx_end_sample(x);
	}
}

static int setup_two(void **state)
{
	struct two *w = xcalloc(1, sizeof(*w));
	write_a(&w->xa);
	write_b(&w->xb);
	sfx_load(&w->xa, &w->da);
	sfx_load(&w->xb, &w->db);
	analysis_init(&w->aa, &w->da);
	analysis_init(&w->ab, &w->db);
	struct tui_source src[2] = {
		{ "/some/where/a.db", &w->da, &w->aa },
		{ "b.db", &w->db, &w->ab },
	};
	tui_model_init_sessions(&w->m, src, 2);
	tui_model_set_page(&w->m, 10);
	*state = w;
	return 0;
}

static int teardown_two(void **state)
{
	struct two *w = *state;
	tui_model_release(&w->m);
	analysis_release(&w->aa);
	analysis_release(&w->ab);
	session_data_release(&w->da);
	session_data_release(&w->db);
	sfx_remove(&w->xa);
	sfx_remove(&w->xb);
	free(w);
	return 0;
}

static void test_compare_opens_with_labels_and_figures(void **state)
{
	struct two *w = *state;
	struct tui_model *m = &w->m;
	assert_int_equal(m->nsessions, 2);
	assert_int_equal(m->screen, TUI_SCREEN_COMPARE);
	assert_int_equal(m->cur, 0);
	assert_ptr_equal(m->d, &w->da);
	assert_string_equal(m->sessions[0].label, "a: forktree -w 10,30");
	assert_string_equal(m->sessions[1].label, "b: forktree -w 20");
	/* the figures are compare's: the same strategy, the same cells */
	struct analysis_strategy s;
	analysis_strategy(&w->db, &s);
	assert_true(m->cols[1].s.copied_kb_median == s.copied_kb_median);
	assert_true(s.copied_kb_median == 400);
	char *cell = report_compare_cell(REPORT_CMP_COPIED_MEDIAN, &m->cols[0],
					 &m->cols[1]);
	assert_string_equal(cell, "0.4 MiB");
	free(cell);
}

static void test_compare_aligns_on_first_fork(void **state)
{
	struct two *w = *state;
	const struct tui_session *a = &w->m.sessions[0], *b = &w->m.sessions[1];
	assert_true(a->fork_t == SFX_T0 + 2);
	assert_true(b->fork_t == SFX_T0 + 5);
	assert_int_equal(a->first, 2);
	assert_int_equal(b->first, 5);
	assert_int_equal(a->n, 9);                     /* +2 .. +10 */
	assert_int_equal(b->n, 21);                    /* +5 .. +25 */
	assert_true(a->t_s[0] == 0 && b->t_s[0] == 0);
	assert_true(a->t_s[8] == 8 && b->t_s[20] == 20);
	/* 3 s after fork in each: A's workers average 20 kB/s, B's 20 kB/s */
	assert_int_equal(a->curve[TUI_CURVE_COPIED_WORKER][3], 60);
	assert_int_equal(b->curve[TUI_CURVE_COPIED_WORKER][3], 60);
	assert_int_equal(a->curve[TUI_CURVE_SHARED_WORKER][3], 1000 - 60);
	/* the tree sums every process but the root, grandchildren included */
	assert_int_equal(a->curve[TUI_CURVE_COPIED_TREE][3], 30 + 90);
	assert_int_equal(b->curve[TUI_CURVE_COPIED_TREE][3], 60 + 3);
	assert_int_equal(b->curve[TUI_CURVE_SHARED_TREE][3], 940 + 97);
	assert_true(tui_compare_span_s(&w->m) == 20);
}

static void test_compare_columns_of_sessions_of_different_lengths(void **state)
{
	struct two *w = *state;
	const struct tui_session *a = &w->m.sessions[0], *b = &w->m.sessions[1];
	double span = tui_compare_span_s(&w->m);
	uint64_t v[20];
	bool present[20];
	/* 20 columns of 1 s: A (8 s) ends at column 8, B fills all 20 */
	tui_compare_columns(a, TUI_CURVE_COPIED_WORKER, span, 20, v, present);
	for (int c = 0; c < 20; c++) {
		assert_true(present[c] == (c <= 8));
		if (c <= 8)
			assert_int_equal(v[c], 20 * (uint64_t)c);
	}
	tui_compare_columns(b, TUI_CURVE_COPIED_WORKER, span, 20, v, present);
	for (int c = 0; c < 20; c++)
		assert_true(present[c]);
	assert_int_equal(v[0], 0);
	assert_int_equal(v[10], 200);
	assert_int_equal(v[19], 400);                  /* +19 and +20: the last */
	/* 5 columns of 4 s: the last sample of each column */
	tui_compare_columns(b, TUI_CURVE_COPIED_WORKER, span, 5, v, present);
	assert_int_equal(v[0], 60);
	assert_int_equal(v[4], 400);
	tui_compare_columns(a, TUI_CURVE_COPIED_WORKER, span, 5, v, present);
	assert_true(present[0] && present[1] && present[2]);
	assert_false(present[3]);
	assert_int_equal(v[2], 160);
	/* more columns than samples: a sample holds until the next one */
	uint64_t wide[100];
	bool wp[100];
	tui_compare_columns(a, TUI_CURVE_COPIED_WORKER, span, 100, wide, wp);
	assert_true(wp[0] && wp[4] && wp[40] && !wp[41]);
	assert_int_equal(wide[4], 0);
	assert_int_equal(wide[5], 20);
	assert_int_equal(wide[9], 20);
	assert_int_equal(wide[40], 160);
}

static void test_compare_scales_every_curve_onto_one_chart(void **state)
{
	struct two *w = *state;
	assert_int_equal(tui_compare_scale(&w->m, TUI_CURVE_COPIED_WORKER), 400);
	assert_int_equal(tui_compare_scale(&w->m, TUI_CURVE_SHARED_WORKER), 1000);
	assert_int_equal(tui_compare_scale(&w->m, TUI_CURVE_COPIED_TREE), 420);
	assert_int_equal(tui_chart_level(400, 400, 10), 9);
	assert_int_equal(tui_chart_level(0, 400, 10), 0);
	assert_int_equal(tui_chart_level(100, 400, 10), 2);   /* 2.25 */
	assert_int_equal(tui_chart_level(160, 400, 10), 4);   /* 3.6 */
	assert_int_equal(tui_chart_level(500, 400, 10), 9);
	assert_int_equal(tui_chart_level(5, 0, 10), 0);
	assert_int_equal(tui_time_column(0, 20, 20), 0);
	assert_int_equal(tui_time_column(19.99, 20, 20), 19);
	assert_int_equal(tui_time_column(20, 20, 20), 19);
	assert_int_equal(tui_time_column(5, 0, 20), 0);
}

static void test_compare_selects_curve_and_session(void **state)
{
	struct two *w = *state;
	struct tui_model *m = &w->m;
	assert_int_equal(m->curve, TUI_CURVE_COPIED_WORKER);
	for (int c = 1; c <= TUI_NCURVES; c++) {
		tui_model_key(m, TUI_KEY_CURVE);
		assert_int_equal(m->curve, c % TUI_NCURVES);
	}
	assert_int_equal(tui_curve_other_measure(TUI_CURVE_COPIED_TREE),
			 TUI_CURVE_SHARED_TREE);
	/* down selects B: the other screens show it */
	tui_model_key(m, TUI_KEY_DOWN);
	assert_int_equal(m->cur, 1);
	assert_ptr_equal(m->d, &w->db);
	assert_int_equal(m->sample, 25);
	assert_int_equal(selected_pid(m), 600);
	tui_model_key(m, TUI_KEY_DOWN);                /* clamps */
	assert_int_equal(m->cur, 1);
	/* B's selection and time position stay B's */
	tui_model_key(m, TUI_KEY_SCREEN_1);
	select_pid(m, 602);
	tui_model_seek(m, 7);
	tui_model_key(m, TUI_KEY_SCREEN_5);
	tui_model_key(m, TUI_KEY_UP);
	assert_int_equal(m->cur, 0);
	assert_int_equal(selected_pid(m), 500);
	assert_int_equal(m->sample, 10);
	tui_model_key(m, TUI_KEY_DOWN);
	assert_int_equal(selected_pid(m), 602);
	assert_int_equal(m->sample, 7);
	/* Enter on compare: the selected session's tree */
	tui_model_key(m, TUI_KEY_SCREEN_5);
	tui_model_key(m, TUI_KEY_ENTER);
	assert_int_equal(m->screen, TUI_SCREEN_TREE);
}

static void test_compare_reload_of_one_session(void **state)
{
	struct two *w = *state;
	struct tui_model *m = &w->m;
	tui_model_key(m, TUI_KEY_DOWN);                /* B current */
	/* A grows by a sample: its curve follows; B stays current */
	sfx_sample(&w->xa, 11, 3, 3000, 2000);
	sfx_point_cow(&w->xa, 0, 0, 0, 1000);
	sfx_point_cow(&w->xa, 1, 910, 90, 0);
	sfx_point_cow(&w->xa, 2, 730, 270, 0);
	sfx_end_sample(&w->xa);
	struct session_data d2;
	struct analysis a2;
	sfx_load(&w->xa, &d2);
	analysis_init(&a2, &d2);
	tui_model_set_source(m, 0, &d2, &a2);
	assert_int_equal(m->sessions[0].n, 10);
	assert_int_equal(m->sessions[0].curve[TUI_CURVE_COPIED_WORKER][9], 180);
	assert_ptr_equal(m->d, &w->db);
	assert_string_equal(m->sessions[0].label, "a: forktree -w 10,30");
	tui_model_key(m, TUI_KEY_UP);
	assert_ptr_equal(m->d, &d2);
	assert_int_equal(m->sample, 11);
	/* back to the first data before freeing the new one */
	tui_model_set_source(m, 0, &w->da, &w->aa);
	analysis_release(&a2);
	session_data_release(&d2);
}

/* ---- bars and charts ---- */

static void test_bar_split_parts_sum_to_filled_width(void **state)
{
	(void)state;
	int out[3];
	tui_bar_split(1, 1, 1, 3, 10, out);
	assert_int_equal(out[0] + out[1] + out[2], 10);
	assert_int_equal(out[0], 4);
	assert_int_equal(out[1], 3);
	assert_int_equal(out[2], 3);
	tui_bar_split(500, 250, 250, 2000, 20, out);   /* half filled */
	assert_int_equal(out[0], 5);
	assert_int_equal(out[1], 3);  /* 2.5 and 2.5: the earlier part wins */
	assert_int_equal(out[2], 2);
	tui_bar_split(1000, 1, 0, 1001, 10, out);      /* a tiny part shows */
	assert_int_equal(out[0], 9);
	assert_int_equal(out[1], 1);
	assert_int_equal(out[2], 0);
	tui_bar_split(5, 5, 5, 0, 10, out);            /* nothing to scale by */
	assert_int_equal(out[0] + out[1] + out[2], 0);
	tui_bar_split(0, 0, 0, 100, 10, out);
	assert_int_equal(out[0] + out[1] + out[2], 0);
	tui_bar_split(300, 0, 0, 100, 10, out);        /* over the scale: full */
	assert_int_equal(out[0], 10);
	/* every split sums exactly to the rounded filled width */
	for (uint64_t s = 0; s < 40; s += 3)
		for (uint64_t c = 0; c < 40; c += 7)
			for (uint64_t n = 0; n < 40; n += 5)
				for (int w = 1; w <= 33; w += 4) {
					uint64_t t = s + c + n, scale = 100;
					tui_bar_split(s, c, n, scale, w, out);
					int filled = (int)((double)t * w / scale + 0.5);
					if (filled > w)
						filled = w;
					assert_int_equal(out[0] + out[1] + out[2], filled);
					for (int i = 0; i < 3; i++)
						assert_true(out[i] >= 0);
				}
}

static void test_downsample_max_and_last(void **state)
{
	(void)state;
	uint64_t v[10] = { 1, 9, 2, 3, 7, 4, 5, 6, 8, 0 }, out[5];
	tui_downsample(v, 10, 5, TUI_DOWNSAMPLE_MAX, out);
	uint64_t max[5] = { 9, 3, 7, 6, 8 };
	assert_memory_equal(out, max, sizeof(max));
	tui_downsample(v, 10, 5, TUI_DOWNSAMPLE_LAST, out);
	uint64_t last[5] = { 9, 3, 4, 6, 0 };
	assert_memory_equal(out, last, sizeof(last));
	/* fewer samples than columns: each spans several */
	uint64_t two[2] = { 4, 8 }, wide[4];
	tui_downsample(two, 2, 4, TUI_DOWNSAMPLE_MAX, wide);
	uint64_t spread[4] = { 4, 4, 8, 8 };
	assert_memory_equal(wide, spread, sizeof(spread));
	tui_downsample(NULL, 0, 4, TUI_DOWNSAMPLE_MAX, wide);
	uint64_t zero[4] = { 0 };
	assert_memory_equal(wide, zero, sizeof(zero));
	/* uneven: 7 samples in 3 columns cover every sample once */
	uint64_t seven[7] = { 1, 2, 3, 4, 5, 6, 7 }, three[3];
	tui_downsample(seven, 7, 3, TUI_DOWNSAMPLE_LAST, three);
	assert_int_equal(three[2], 7);
}

static void test_sample_column_matches_downsampling(void **state)
{
	(void)state;
	size_t ns[] = { 1, 2, 7, 10, 61, 200, 1001 };
	int ws[] = { 1, 3, 5, 60, 110 };
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		for (size_t j = 0; j < sizeof(ws) / sizeof(ws[0]); j++) {
			size_t n = ns[i];
			int w = ws[j];
			assert_int_equal(tui_column_first(n, w, 0), 0);
			assert_int_equal(tui_column_first(n, w, w), n);
			for (size_t k = 0; k < n; k++) {
				int c = tui_sample_column(n, w, k);
				assert_true(c >= 0 && c < w);
				size_t lo = tui_column_first(n, w, c);
				size_t hi = tui_column_first(n, w, c + 1);
				assert_true(lo <= k && (k < hi || hi <= lo));
			}
			if (n >= (size_t)w)
				assert_int_equal(tui_sample_column(n, w, n - 1), w - 1);
		}
	assert_int_equal(tui_sample_column(10, 5, 0), 0);
	assert_int_equal(tui_sample_column(10, 5, 9), 4);
	assert_int_equal(tui_sample_column(2, 4, 1), 2);
}

static void test_format_size_fits_six_columns(void **state)
{
	(void)state;
	char b[16];
	assert_string_equal(tui_format_size(0, b, sizeof(b)), "0K");
	assert_string_equal(tui_format_size(812, b, sizeof(b)), "812K");
	assert_string_equal(tui_format_size(9999, b, sizeof(b)), "9999K");
	assert_string_equal(tui_format_size(10000, b, sizeof(b)), "9.8M");
	assert_string_equal(tui_format_size(21760, b, sizeof(b)), "21.2M");
	assert_string_equal(tui_format_size(1023 * 1024, b, sizeof(b)), "1.0G");
	assert_string_equal(tui_format_size(1536ULL * 1024 * 1024, b, sizeof(b)), "1.5T");
	assert_true(strlen(tui_format_size(999ULL * 1024 * 1024 * 1024, b, sizeof(b))) <= 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_model_starts_at_end_with_root_selected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_hide_processes_not_yet_forked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_show_figures_of_latest_point, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_grey_exited_processes_after_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selection_survives_sort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selection_survives_time_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selection_survives_process_exiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor_clamps_and_scrolls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seek_clamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_play_advances_by_speed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_speed_clamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_screens_switch_by_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regions_at_time_most_copied_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exited_processes_leave_after_a_while,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_callsites_of_selection_and_tree,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_series_of_process_and_tree, setup, teardown),
		cmocka_unit_test(test_reload_keeps_selection_and_end),
		cmocka_unit_test(test_empty_session_has_no_rows),
		cmocka_unit_test_setup_teardown(test_signal_marks_of_tree_and_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_text_exit_cause_on_exited_rows, setup, teardown),
		cmocka_unit_test(test_wait_text_state_then_hung),
		cmocka_unit_test_setup_teardown(test_click_selects_row_and_shows_screen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compare_opens_with_labels_and_figures, setup_two, teardown_two),
		cmocka_unit_test_setup_teardown(test_compare_aligns_on_first_fork, setup_two, teardown_two),
		cmocka_unit_test_setup_teardown(test_compare_columns_of_sessions_of_different_lengths, setup_two, teardown_two),
		cmocka_unit_test_setup_teardown(test_compare_scales_every_curve_onto_one_chart, setup_two, teardown_two),
		cmocka_unit_test_setup_teardown(test_compare_selects_curve_and_session, setup_two, teardown_two),
		cmocka_unit_test_setup_teardown(test_compare_reload_of_one_session, setup_two, teardown_two),
		cmocka_unit_test(test_bar_split_parts_sum_to_filled_width),
		cmocka_unit_test(test_downsample_max_and_last),
		cmocka_unit_test(test_sample_column_matches_downsampling),
		cmocka_unit_test(test_format_size_fits_six_columns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
