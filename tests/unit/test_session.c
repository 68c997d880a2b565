/* test_session.c - the session store: write, read back, refuse bad files */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "session_fixture.h"

static struct cow_figures figs(uint64_t rss, uint64_t shared, uint64_t copied)
{
	struct cow_figures f = { 0 };
	f.rss_kb = rss;
	f.pss_kb = rss / 2;
	f.uss_kb = copied;
	f.anon_kb = shared + copied;
	f.shared_with_parent_kb = shared;
	f.copied_kb = copied;
	f.new_kb = 7;
	f.shared_anywhere_kb = shared;
	return f;
}

/* Two processes, three samples, a region written only when it changed. */
static void write_small(struct sfx *x)
{
	sfx_meta(x, "interval_s", "1");
	sfx_proc(x, 0, 100, 1, -1, -5, "master");
	sfx_proc(x, 1, 101, 100, 0, 0.5, "worker");
	sfx_region(x, 1, 0, 0x1000, 0x9000, "rw-p", "anon", "");
	for (int k = 0; k < 3; k++) {
		sfx_sample(x, k, 2, 1000 + (uint64_t)k, 600);
		struct cow_figures m = figs(500, 0, 0), w = figs(500, 400 - 10 * (uint64_t)k,
								   10 * (uint64_t)k);
		sfx_point(x, 0, 'S', &m);
		sfx_point(x, 1, k == 2 ? 'R' : 'S', &w);
		if (k != 1)  /* unchanged at sample 1 */
			sfx_region_point(x, 1, 0, &w);
		sfx_end_sample(x);
	}
	sfx_exit(x, 1, 2.5, -1, 9);
	sfx_event(x, 2.5, 1, 101, "exit", "killed by SIGKILL");
	sfx_event(x, 0.5, 1, 101, "fork", "worker");
}

static void test_session_round_trip(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	write_small(&x);
	sfx_close(&x);
	struct session_data d;
	sfx_load(&x, &d);
	assert_int_equal(d.version, SESSION_SCHEMA_VERSION);
	assert_string_equal(session_meta(&d, "interval_s"), "1");
	assert_null(session_meta(&d, "nothing"));
	assert_int_equal(d.nsamples, 3);
	assert_int_equal(d.samples[2].tree.rss_kb, 1002);
	assert_int_equal(d.samples[1].tree.unique_kb, 600);
	assert_int_equal(d.nprocs, 2);
	assert_int_equal(d.procs[0].parent, -1);
	assert_int_equal(d.procs[1].parent, 0);
	assert_string_equal(d.procs[1].cmd, "worker");
	assert_int_equal(d.procs[1].npoints, 3);
	assert_int_equal(d.procs[1].points[2].fig.copied_kb, 20);
	assert_int_equal(d.procs[1].points[2].state, 'R');
	assert_int_equal(d.procs[1].points[1].fig.shared_with_parent_kb, 390);
	assert_int_equal(d.procs[1].points[0].fig.new_kb, 7);
	sfx_remove(&x);
	session_data_release(&d);
}

static void test_session_region_points_only_where_written(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	write_small(&x);
	sfx_close(&x);
	struct session_data d;
	sfx_load(&x, &d);
	const struct session_process *w = &d.procs[1];
	assert_int_equal(w->nregions, 1);
	assert_int_equal(w->regions[0].start, 0x1000);
	assert_string_equal(w->regions[0].kind, "anon");
	assert_string_equal(w->regions[0].perms, "rw-p");
	assert_int_equal(w->regions[0].npoints, 2);
	assert_int_equal(w->regions[0].points[0].sample, 0);
	assert_int_equal(w->regions[0].points[1].sample, 2);
	assert_int_equal(w->regions[0].points[1].fig.copied_kb, 20);
	sfx_remove(&x);
	session_data_release(&d);
}

static void test_session_exit_and_events_in_time_order(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	write_small(&x);
	sfx_close(&x);
	struct session_data d;
	sfx_load(&x, &d);
	assert_int_equal(d.procs[1].exit_signal, 9);
	assert_int_equal(d.procs[1].exit_code, -1);
	assert_true(d.procs[1].exit_time > SFX_T0 + 2.4);
	assert_int_equal(d.procs[0].exit_code, -1);
	assert_true(d.procs[0].exit_time == 0);
	assert_int_equal(d.nevents, 2);
	assert_string_equal(d.events[0].kind, "fork");
	assert_string_equal(d.events[1].detail, "killed by SIGKILL");
	assert_int_equal(d.events[1].process, 1);
	sfx_remove(&x);
	session_data_release(&d);
}

/* The recorder looks processes up by (pid, start time): a reused pid is a
 * new process, the same one is found again. */
static void test_session_add_process_finds_the_same_process(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	struct sink_proc a = { 200, 1, 0, 5000, SFX_T0, "a" };
	struct sink_proc again = { 200, 1, 0, 5000, SFX_T0, "a" };
	struct sink_proc reused = { 200, 1, 0, 9000, SFX_T0 + 9, "b" };
	int64_t ia, iagain, ireused;
	assert_int_equal(session_add_process(x.s, &a, &ia), 0);
	assert_int_equal(session_add_process(x.s, &again, &iagain), 0);
	assert_int_equal(session_add_process(x.s, &reused, &ireused), 0);
	assert_true(ia == iagain);
	assert_true(ireused != ia);
	sfx_remove(&x);
}

/* Only whole samples count: rows of a sample never committed (the
 * recorder was killed mid-sample) are not read. */
static void test_session_uncommitted_sample_is_not_read(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	write_small(&x);
	sfx_sample(&x, 3, 2, 1, 1);  /* begun, never ended */
	struct cow_figures f = figs(1, 1, 1);
	sfx_point(&x, 0, 'S', &f);
	struct session_data d;
	sfx_load(&x, &d);  /* another connection: sees committed data only */
	assert_int_equal(d.nsamples, 3);
	assert_int_equal(d.procs[0].npoints, 3);
	session_data_release(&d);
	sfx_remove(&x);
}

static void test_session_create_refuses_an_existing_file(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	struct session *s = NULL;
	char err[256];
	assert_int_equal(session_create(x.path, &s, err, sizeof(err)), -EEXIST);
	assert_null(s);
	assert_non_null(strstr(err, "File exists"));
	sfx_remove(&x);
}

/* Remove a database copy and what SQLite made beside it. */
static void unlink_db(const char *path)
{
	char *p;
	unlink(path);
	if (asprintf(&p, "%s-wal", path) >= 0) {
		unlink(p);
		free(p);
	}
	if (asprintf(&p, "%s-shm", path) >= 0) {
		unlink(p);
		free(p);
	}
}

static void expect_load_error(const char *path, int code, const char *words)
{
	struct session_data d;
	char err[512] = "";
	assert_int_equal(session_load(path, &d, err, sizeof(err)), code);
	assert_non_null(strstr(err, words));
	assert_null(strchr(err, '\n'));
}

static char *temp_file(const char *content, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	char *p;
	if (asprintf(&p, "%s/cowprof-test-file-XXXXXX", tmp ? tmp : "/tmp") < 0)
		abort();
	int fd = mkstemp(p);
	assert_true(fd >= 0);
	assert_true(write(fd, content, len) == (ssize_t)len);
	close(fd);
	return p;
}

static void test_session_load_refuses_files_that_are_not_sessions(void **state)
{
	(void)state;
	expect_load_error("/nonexistent/x.db", -ENOENT, "No such file");
	char *text = temp_file("hello, this is not a database\n", 30);
	expect_load_error(text, -EINVAL, "not a cowprof session (not an SQLite database)");
	char *empty = temp_file("", 0);
	expect_load_error(empty, -EINVAL, "not an SQLite database");
	unlink(text);
	unlink(empty);
	free(text);
	free(empty);
	/* an SQLite database of something else */
	char *other = temp_file("", 0);
	unlink(other);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	expect_load_error(other, -EINVAL, "without cowprof's schema");
	unlink_db(other);
	free(other);
}

static void set_version(const char *path, int v)
{
	sqlite3 *db;
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_session_load_refuses_a_newer_format(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	write_small(&x);
	sfx_close(&x);
	set_version(x.path, SESSION_SCHEMA_VERSION + 1);
	expect_load_error(x.path, -EPROTO, "written by a newer cowprof (session format 4");
	sfx_remove(&x);
}

/* A small session changed by sql, then loaded: the error must hold want. */
static void expect_crafted_refused(const char *sql, const char *want)
{
	struct sfx x;
	sfx_open(&x);
	write_small(&x);
	sfx_close(&x);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(x.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	expect_load_error(x.path, -EINVAL, want);
	sfx_remove(&x);
}

/* Crafted files that made the view spin and the HTML report loop: a
 * process its own ancestor, absurd times and sizes. */
static void test_session_load_refuses_cycles_and_absurd_values(void **state)
{
	(void)state;
	expect_crafted_refused("UPDATE processes SET parent_id = id WHERE pid = 101",
			       "not a valid session: process 101 is its own ancestor");
	expect_crafted_refused("UPDATE processes SET parent_id = (SELECT id FROM"
			       " processes WHERE pid = 101) WHERE pid = 100",
			       "is its own ancestor");
	expect_crafted_refused("UPDATE samples SET t = 1e300 WHERE id = 2",
			       "not a valid session: sample 2 has time 1e+300");
	expect_crafted_refused("UPDATE samples SET t = -5 WHERE id = 1",
			       "sample 1 has time -5");
	expect_crafted_refused("UPDATE samples SET duration_s = 9e999 WHERE id = 1",
			       "sample 1 took inf s");
	expect_crafted_refused("UPDATE processes SET fork_time = 9e999 WHERE pid = 100",
			       "has time inf");
	expect_crafted_refused("UPDATE proc_samples SET copied_kb = -4",
			       "has a negative size (-4 kB)");
	expect_crafted_refused("UPDATE events SET t = 1e300", "has time 1e+300");
}

static void test_session_load_refuses_truncated_files(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	write_small(&x);
	for (int i = 0; i < 40; i++) {  /* enough pages that a cut hits data */
		sfx_proc(&x, 2 + (i % 10), 300 + i, 100, 0, 1, "a long command line to fill pages");
		sfx_meta(&x, "padding", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	}
	sfx_close(&x);
	struct stat st;
	assert_int_equal(stat(x.path, &st), 0);
	for (off_t cut = 100; cut < st.st_size; cut += st.st_size / 7) {
		char *copy = temp_file("", 0);
		char *buf;
		size_t len;
		assert_int_equal(util_read_file(x.path, &buf, &len), 0);
		int fd = open(copy, O_WRONLY | O_TRUNC);
		assert_true(write(fd, buf, (size_t)cut) == (ssize_t)cut);
		close(fd);
		free(buf);
		struct session_data d;
		char err[512] = "";
		int r = session_load(copy, &d, err, sizeof(err));
		if (r == 0)
			session_data_release(&d);  /* a cut past the data it needs */
		else
			assert_true(r == -EINVAL && (strstr(err, "corrupted") ||
						     strstr(err, "not a cowprof session")));
		unlink_db(copy);
		free(copy);
	}
	sfx_remove(&x);
}

static int64_t frame(struct sfx *x, bool python, const char *fn, const char *mod,
		     uint64_t off, int line)
{
	struct sink_frame f = { .python = python, .function = fn,
					.module = mod, .offset = off, .line = line };
	int64_t id;
	sfx_check(session_add_frame(x->s, &f, &id), "add_frame");
	return id;
}

/* Faults written one by one read back grouped by process and stacks, most
 * pages first; frames and stacks are stored once. */
static void write_faults(struct sfx *x)
{
	int64_t a = frame(x, false, "writer_alpha", "/bin/w", 0x10, 0);
	int64_t b = frame(x, false, "writer_beta", "/bin/w", 0x20, 0);
	int64_t m = frame(x, false, "main", "/bin/w", 0x30, 0);
	int64_t p = frame(x, true, "handler", "app.py", 0, 42);
	assert_int_equal(frame(x, false, "writer_alpha", "/bin/w", 0x10, 0), a);
	assert_int_not_equal(frame(x, false, "writer_alpha", "/bin/w", 0x11, 0), a);
	int64_t sa[] = { a, m }, sb[] = { b, m }, sp[] = { p };
	int64_t ka, kb, kp, again, none;
	sfx_check(session_add_stack(x->s, sa, 2, &ka), "stack");
	sfx_check(session_add_stack(x->s, sb, 2, &kb), "stack");
	sfx_check(session_add_stack(x->s, sp, 1, &kp), "stack");
	sfx_check(session_add_stack(x->s, sa, 2, &again), "stack");
	sfx_check(session_add_stack(x->s, sa, 0, &none), "stack");
	assert_int_equal(again, ka);
	assert_int_equal(none, 0);
	for (int i = 0; i < 3; i++)
		sfx_check(session_add_fault(x->s, x->proc_id[1], SFX_T0 + 1 + i, 101,
					    0x1000 + 4096 * (uint64_t)i, 0, ka, 0, 1),
			  "fault");
	for (int i = 0; i < 5; i++)
		sfx_check(session_add_fault(x->s, x->proc_id[1], SFX_T0 + 2, 102,
					    0x8000, x->region_id[1][0], kb, kp, 0),
			  "fault");
	sfx_check(session_set_fault_source(x->s, x->proc_id[1], "preload", 8, 2,
					   ""), "source");
	sfx_check(session_set_fault_source(x->s, x->proc_id[0], "preload", 0, 0,
					   "no CPython"), "source");
}

static void test_session_faults_round_trip(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	write_small(&x);
	write_faults(&x);
	sfx_close(&x);
	struct session_data d;
	sfx_load(&x, &d);
	assert_int_equal(d.nframes, 5);
	assert_int_equal(d.nstacks, 3);
	assert_int_equal(d.nfault_groups, 2);
	struct session_fault_group *g = &d.fault_groups[0];
	assert_int_equal(g->pages, 5);
	assert_int_equal(g->process, 1);
	assert_int_equal(d.stacks[g->native_stack].nframes, 2);
	struct session_frame *inner = &d.frames[d.stacks[g->native_stack].frames[0]];
	assert_string_equal(inner->function, "writer_beta");
	assert_int_equal(inner->offset, 0x20);
	struct session_frame *py = &d.frames[d.stacks[g->python_stack].frames[0]];
	assert_true(py->python);
	assert_string_equal(py->module, "app.py");
	assert_int_equal(py->line, 42);
	assert_int_equal(d.fault_groups[1].pages, 3);
	assert_int_equal(d.fault_groups[1].python_stack, -1);
	assert_true(d.fault_groups[1].first_t == SFX_T0 + 1);
	assert_true(d.fault_groups[1].last_t == SFX_T0 + 3);
	assert_string_equal(d.procs[1].fault_method, "preload");
	assert_int_equal(d.procs[1].fault_events, 8);
	assert_int_equal(d.procs[1].fault_dropped, 2);
	assert_string_equal(d.procs[0].python_status, "no CPython");
	session_data_release(&d);
	sfx_remove(&x);
}

/* A sampled fault (perf with a period) stands for period faults: the call
 * site's pages are the sum of the weights. */
static void test_session_sampled_faults_weigh_their_period(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	write_small(&x);
	write_faults(&x);
	int64_t stack = 0, f = 0;
	struct sink_frame fi = { .function = "sampled", .module = "/bin/w" };
	sfx_check(session_add_frame(x.s, &fi, &f), "frame");
	sfx_check(session_add_stack(x.s, &f, 1, &stack), "stack");
	sfx_check(session_add_fault(x.s, x.proc_id[1], SFX_T0 + 3, 103, 0x9000, 0, stack,
				    0, 64), "fault");
	sfx_check(session_add_fault(x.s, x.proc_id[1], SFX_T0 + 4, 103, 0xa000, 0, stack,
				    0, 16), "fault");
	sfx_close(&x);
	struct session_data d;
	sfx_load(&x, &d);
	assert_int_equal(d.nfault_groups, 3);
	assert_int_equal(d.fault_groups[0].pages, 80);
	assert_string_equal(d.frames[d.stacks[d.fault_groups[0].native_stack].frames[0]].function,
			    "sampled");
	assert_int_equal(d.fault_groups[1].pages, 5);   /* weight 0 counts as 1 */
	assert_int_equal(d.fault_groups[2].pages, 3);
	session_data_release(&d);
	sfx_remove(&x);
}

static void test_session_waits_signals_ooms_round_trip(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	write_small(&x);
	sfx_sample(&x, 3, 2, 1000, 600);
	struct sink_wait w = { .state = 'S', .cpu_s = 1.25,
				       .wchan = "unix_stream_read_generic",
				       .syscall = "read(fd 7)",
				       .blocked_on = "unix socket, peer 100" };
	sfx_check(session_add_wait(x.s, x.sample_id, x.proc_id[1], &w), "wait");
	struct sink_signal g = { .t = SFX_T0 + 2.4, .process_id = x.proc_id[1],
					 .pid = 101, .signal = 15, .sender_pid = 100,
					 .sender_cmd = "master",
					 .sender_process_id = x.proc_id[0],
					 .sender_exiting = true, .result = "delivered" };
	sfx_check(session_add_signal(x.s, &g), "signal");
	g.t = SFX_T0 + 2.3;
	g.process_id = 0;
	g.pid = 4242;
	g.sender_process_id = 0;
	sfx_check(session_add_signal(x.s, &g), "signal");
	struct sink_oom o = { .t = SFX_T0 + 2.5, .process_id = x.proc_id[1],
				      .pid = 101, .anon_rss_kb = 61000,
				      .cgroup = "/x" };
	sfx_check(session_add_oom(x.s, &o), "oom");
	sfx_end_sample(&x);
	sfx_close(&x);
	struct session_data d;
	sfx_load(&x, &d);
	assert_int_equal(d.procs[1].nwaits, 1);
	assert_int_equal(d.procs[1].waits[0].sample, 3);
	assert_string_equal(d.procs[1].waits[0].syscall, "read(fd 7)");
	assert_true(d.procs[1].waits[0].cpu_s == 1.25);
	assert_int_equal(d.nsignals, 2);
	assert_int_equal(d.signals[0].pid, 4242);   /* time order */
	assert_int_equal(d.signals[0].process, -1);
	assert_int_equal(d.signals[1].process, 1);
	assert_int_equal(d.signals[1].sender_process, 0);
	assert_true(d.signals[1].sender_exiting);
	assert_int_equal(d.nooms, 1);
	assert_int_equal(d.ooms[0].anon_rss_kb, 61000);
	assert_string_equal(d.ooms[0].cgroup, "/x");
	session_data_release(&d);
	sfx_remove(&x);
}

/* A file written by a cowprof of schema version 1 still reads, without
 * fault or wait data. */
static void test_session_reads_version_1_files(void **state)
{
	(void)state;
	struct sfx x;
	sfx_open(&x);
	write_small(&x);
	sfx_close(&x);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(x.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE faults; DROP TABLE stacks;"
				      " DROP TABLE frames; DROP TABLE fault_sources;"
				      " DROP TABLE proc_waits; DROP TABLE signals;"
				      " DROP TABLE oom_kills", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	set_version(x.path, 1);
	struct session_data d;
	sfx_load(&x, &d);
	assert_int_equal(d.version, 1);
	assert_int_equal(d.nsamples, 3);
	assert_int_equal(d.nfault_groups, 0);
	assert_null(d.procs[1].fault_method);
	session_data_release(&d);
	sfx_remove(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_round_trip),
		cmocka_unit_test(test_session_region_points_only_where_written),
		cmocka_unit_test(test_session_exit_and_events_in_time_order),
		cmocka_unit_test(test_session_add_process_finds_the_same_process),
		cmocka_unit_test(test_session_uncommitted_sample_is_not_read),
		cmocka_unit_test(test_session_create_refuses_an_existing_file),
		cmocka_unit_test(test_session_load_refuses_files_that_are_not_sessions),
		cmocka_unit_test(test_session_load_refuses_a_newer_format),
		cmocka_unit_test(test_session_load_refuses_truncated_files),
		cmocka_unit_test(test_session_load_refuses_cycles_and_absurd_values),
		cmocka_unit_test(test_session_faults_round_trip),
		cmocka_unit_test(test_session_sampled_faults_weigh_their_period),
		cmocka_unit_test(test_session_waits_signals_ooms_round_trip),
		cmocka_unit_test(test_session_reads_version_1_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
