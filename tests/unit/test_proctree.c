/* test_proctree.c - stat and cmdline parsing, and tree discovery */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectors/proctree.h"
#include "fixture.h"

static int parse(const char *s, struct proc_stat *st)
{
	return proctree_stat_parse(s, strlen(s), st);
}

/* Fields 4-24 numbered so a field read from the wrong place shows. */
#define TAIL_AFTER_STATE \
	" 77 1001 1002 34817 -1 4194560 11 12 13 14 150 160 17 18 20 0 3 0 " \
	"5555 1234567 890 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 " \
	"0 0 0 0 0 0 0 0 0 0 0 0 0\n"

/* ---- proctree_stat_parse ---- */

static void test_proc_stat_parse_reads_numbered_fields(void **state)
{
	(void)state;
	struct proc_stat st;
	assert_int_equal(parse("123 (python3) S" TAIL_AFTER_STATE, &st), 0);
	assert_int_equal(st.pid, 123);
	assert_string_equal(st.comm, "python3");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 77);
	assert_int_equal(st.flags, 4194560);
	assert_int_equal(st.utime_ticks, 150);
	assert_int_equal(st.stime_ticks, 160);
	assert_int_equal(st.num_threads, 3);
	assert_int_equal(st.start_ticks, 5555);
	assert_int_equal(st.vsize_bytes, 1234567);
	assert_int_equal(st.rss_pages, 890);
}

static void test_proc_stat_parse_comm_with_parens_and_spaces(void **state)
{
	(void)state;
	struct proc_stat st;
	assert_int_equal(parse("123 (a) b) (c) S" TAIL_AFTER_STATE, &st), 0);
	assert_string_equal(st.comm, "a) b) (c");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 77);
	assert_int_equal(st.start_ticks, 5555);
	assert_int_equal(parse("9 (gunicorn: worker [app]) R" TAIL_AFTER_STATE, &st), 0);
	assert_string_equal(st.comm, "gunicorn: worker [app]");
	assert_int_equal(st.state, 'R');
	assert_int_equal(parse("9 ()) Z" TAIL_AFTER_STATE, &st), 0);
	assert_string_equal(st.comm, ")");
	assert_int_equal(st.state, 'Z');
	assert_int_equal(st.rss_pages, 890);
}

static void test_proc_stat_parse_empty_comm(void **state)
{
	(void)state;
	struct proc_stat st;
	assert_int_equal(parse("5 () D" TAIL_AFTER_STATE, &st), 0);
	assert_string_equal(st.comm, "");
	assert_int_equal(st.state, 'D');
}

static void test_proc_stat_parse_long_comm_is_bounded(void **state)
{
	(void)state;
	char line[512], comm[101];
	memset(comm, 'x', 100);
	comm[100] = '\0';
	snprintf(line, sizeof(line), "5 (%s) S" TAIL_AFTER_STATE, comm);
	struct proc_stat st;
	assert_int_equal(parse(line, &st), 0);
	assert_int_equal(strlen(st.comm), sizeof(st.comm) - 1);
	assert_int_equal(st.ppid, 77);
}

static void test_proc_stat_parse_kernel_thread_flag(void **state)
{
	(void)state;
	struct proc_stat st;
	/* kthreadd: PF_KTHREAD | PF_NOFREEZE | PF_FORKNOEXEC */
	assert_int_equal(parse("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 "
			       "20 0 1 0 0 0 0 18446744073709551615 0 0 0 0 0 0 "
			       "0 2147483647 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", &st), 0);
	assert_true(st.flags & PROCTREE_PF_KTHREAD);
	assert_int_equal(st.ppid, 0);
	assert_int_equal(parse("123 (python3) S" TAIL_AFTER_STATE, &st), 0);
	assert_false(st.flags & PROCTREE_PF_KTHREAD);
}

static void test_proc_stat_parse_own_stat(void **state)
{
	(void)state;
	char *buf, *comm;
	size_t len, clen;
	assert_int_equal(util_read_file("/proc/self/stat", &buf, &len), 0);
	assert_int_equal(util_read_file("/proc/self/comm", &comm, &clen), 0);
	if (clen && comm[clen - 1] == '\n')
		comm[clen - 1] = '\0';
	struct proc_stat st;
	assert_int_equal(proctree_stat_parse(buf, len, &st), 0);
	assert_int_equal(st.pid, getpid());
	assert_int_equal(st.ppid, getppid());
	assert_int_equal(st.state, 'R');
	assert_string_equal(st.comm, comm);
	assert_int_equal(st.num_threads, 1);
	assert_false(st.flags & PROCTREE_PF_KTHREAD);
	assert_true(st.vsize_bytes > 0);
	assert_true(st.rss_pages > 0);
	free(buf);
	free(comm);
}

static void test_proc_stat_parse_truncated_einval(void **state)
{
	(void)state;
	struct proc_stat st;
	/* 20 fields after the state: one short of rss (field 24) */
	assert_int_equal(parse("1 (a) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 4096", &st),
			 -EINVAL);
	assert_int_equal(parse("1 (a) S", &st), -EINVAL);
	assert_int_equal(parse("1 (a) ", &st), -EINVAL);
	assert_int_equal(parse("1 (a", &st), -EINVAL);
	assert_int_equal(parse("1 (a)", &st), -EINVAL);
	assert_int_equal(parse("", &st), -EINVAL);
	/* 21 fields is enough */
	assert_int_equal(parse("1 (a) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 7", &st), 0);
	assert_int_equal(st.rss_pages, 7);
}

static void test_proc_stat_parse_respects_len(void **state)
{
	(void)state;
	const char *s = "1 (a) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 7 8 9";
	struct proc_stat st;
	/* cut inside the rss field: "...4096 " then nothing */
	size_t cut = strlen("1 (a) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 ");
	assert_int_equal(proctree_stat_parse(s, cut, &st), -EINVAL);
	/* cut inside the comm: no ')' within len */
	assert_int_equal(proctree_stat_parse(s, 4, &st), -EINVAL);
}

static void test_proc_stat_parse_missing_parens_einval(void **state)
{
	(void)state;
	struct proc_stat st;
	assert_int_equal(parse("1 a S" TAIL_AFTER_STATE, &st), -EINVAL);
	assert_int_equal(parse("1 )a( S" TAIL_AFTER_STATE, &st), -EINVAL);
}

static void test_proc_stat_parse_non_numeric_field_einval(void **state)
{
	(void)state;
	struct proc_stat st;
	assert_int_equal(parse("1 (a) S 0 1 1 0 -1 x 0 0 0 0 0 0 0 0 20 0 1 0 100 4096 7", &st),
			 -EINVAL);
}

static void test_proc_stat_parse_pid_zero_or_missing_einval(void **state)
{
	(void)state;
	struct proc_stat st;
	assert_int_equal(parse("0 (a) S" TAIL_AFTER_STATE, &st), -EINVAL);
	assert_int_equal(parse("(a) S" TAIL_AFTER_STATE, &st), -EINVAL);
	assert_int_equal(parse("-5 (a) S" TAIL_AFTER_STATE, &st), -EINVAL);
}

static void test_proc_stat_parse_pid_past_int_max_einval(void **state)
{
	(void)state;
	struct proc_stat st;
	/* 2^32 + 1 must not wrap to pid 1 */
	int r = parse("4294967297 (a) S" TAIL_AFTER_STATE, &st);
	if (r == 0)
		fail_msg("parsed as pid %d, want -EINVAL", st.pid);
	assert_int_equal(r, -EINVAL);
}

/* ---- proctree_cmdline_parse ---- */

static void check_cmdline(const char *buf, size_t len, const char *want)
{
	char *s = proctree_cmdline_parse(buf, len);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void test_proc_cmdline_parse_joins_words_with_spaces(void **state)
{
	(void)state;
	const char b[] = "/usr/bin/python3\0-m\0gunicorn\0app:app\0";
	check_cmdline(b, sizeof(b) - 1, "/usr/bin/python3 -m gunicorn app:app");
}

static void test_proc_cmdline_parse_drops_trailing_nuls(void **state)
{
	(void)state;
	/* setproctitle leaves the rest of the old argv area zeroed */
	const char b[] = "gunicorn: worker [app:app]\0\0\0\0\0\0\0\0";
	check_cmdline(b, sizeof(b) - 1, "gunicorn: worker [app:app]");
}

static void test_proc_cmdline_parse_one_long_word(void **state)
{
	(void)state;
	const char b[] = "celery worker -A proj --concurrency 4";
	check_cmdline(b, sizeof(b) - 1, "celery worker -A proj --concurrency 4");
}

static void test_proc_cmdline_parse_empty(void **state)
{
	(void)state;
	check_cmdline("", 0, "");
	check_cmdline("\0\0\0", 3, "");
}

static void test_proc_cmdline_parse_empty_word_inside(void **state)
{
	(void)state;
	const char b[] = "prog\0\0arg\0";
	check_cmdline(b, sizeof(b) - 1, "prog  arg");
}

static void test_proc_cmdline_parse_respects_len(void **state)
{
	(void)state;
	check_cmdline("abc\0def", 2, "ab");
}

/* ---- real stat and cmdline files ---- */

static void read_stat(const char *rel, struct proc_stat *st)
{
	size_t len;
	char *t = fixture_read(rel, &len);
	int r = proctree_stat_parse(t, len, st);
	free(t);
	assert_int_equal(r, 0);
}

static void test_proc_stat_parse_forktree_child_fixture(void **state)
{
	(void)state;
	struct proc_stat st;
	read_stat("proc/forktree/10574/stat", &st);
	assert_int_equal(st.pid, 10574);
	assert_int_equal(st.ppid, 10573);
	assert_string_equal(st.comm, "forktree");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.flags, 4194368);  /* PF_RANDOMIZE | PF_FORKNOEXEC */
	assert_false(st.flags & PROCTREE_PF_KTHREAD);
	assert_int_equal(st.utime_ticks, 0);
	assert_int_equal(st.num_threads, 1);
	assert_int_equal(st.start_ticks, 193942);
	assert_int_equal(st.vsize_bytes, 11853824);
	assert_int_equal(st.rss_pages, 2453);
}

static void test_proc_stat_parse_gunicorn_master_fixture(void **state)
{
	(void)state;
	struct proc_stat st;
	read_stat("proc/gunicorn/10805/stat", &st);
	assert_int_equal(st.pid, 10805);
	assert_int_equal(st.ppid, 10804);
	assert_string_equal(st.comm, "gunicorn");
	assert_int_equal(st.utime_ticks, 11);
	assert_int_equal(st.stime_ticks, 1);
	assert_int_equal(st.start_ticks, 197368);
	assert_int_equal(st.vsize_bytes, 36192256);
	assert_int_equal(st.rss_pages, 7337);
}

static void test_proc_stat_parse_kthread_fixture_has_kthread_flag(void **state)
{
	(void)state;
	struct proc_stat st;
	read_stat("proc/kthread/2/stat", &st);
	assert_int_equal(st.pid, 2);
	assert_int_equal(st.ppid, 0);
	assert_string_equal(st.comm, "kthreadd");
	assert_int_equal(st.flags, 0x208040);
	assert_true(st.flags & PROCTREE_PF_KTHREAD);
	assert_int_equal(st.vsize_bytes, 0);
	assert_int_equal(st.rss_pages, 0);
	/* no user process of the fixtures is a kernel thread */
	read_stat("proc/special_maps/11299/stat", &st);
	assert_string_equal(st.comm, "special");
	assert_false(st.flags & PROCTREE_PF_KTHREAD);
	read_stat("proc/forktree_thp/10661/stat", &st);
	assert_false(st.flags & PROCTREE_PF_KTHREAD);
}

static char *cmdline_of(const char *rel)
{
	size_t len;
	char *t = fixture_read(rel, &len);
	char *s = proctree_cmdline_parse(t, len);
	free(t);
	return s;
}

static void test_proc_cmdline_parse_fixtures(void **state)
{
	(void)state;
	char *s = cmdline_of("proc/forktree/10573/cmdline");
	assert_string_equal(s, "/tmp/forktree -a 8 -s 1 -n 2 -w 16 -g 4 -p 2 -N 3");
	free(s);
	s = cmdline_of("proc/gunicorn/10806/cmdline");
	assert_string_equal(s, "/usr/bin/python3 /usr/bin/gunicorn -w 2 -b "
			       "127.0.0.1:18731 --chdir /tmp/fth hello:app");
	free(s);
	s = cmdline_of("proc/kthread/2/cmdline");
	assert_string_equal(s, "");
	free(s);
}

/* ---- proctree_scan on captured trees (no task/ folders: the scan
 * fallback) ---- */

#define FX "tests/fixtures/proc/"

static void test_proctree_scan_forktree_fixture_breadth_first(void **state)
{
	(void)state;
	struct proctree t;
	assert_int_equal(proctree_scan(FX "forktree", 10573, &t), 0);
	if (t.n != 3) {
		size_t n = t.n;
		proctree_release(&t);
		fail_msg("%zu processes, want 3 (10573, 10574, 10576)", n);
	}
	assert_int_equal(t.nodes[0].pid, 10573);
	assert_int_equal(t.nodes[0].ppid, 10572);
	assert_int_equal(t.nodes[0].parent, -1);
	assert_int_equal(t.nodes[0].depth, 0);
	assert_int_equal(t.nodes[1].pid, 10574);
	assert_int_equal(t.nodes[1].parent, 0);
	assert_int_equal(t.nodes[1].depth, 1);
	assert_int_equal(t.nodes[2].pid, 10576);
	assert_int_equal(t.nodes[2].ppid, 10574);
	assert_int_equal(t.nodes[2].parent, 1);
	assert_int_equal(t.nodes[2].depth, 2);
	assert_string_equal(t.nodes[2].cmd, "/tmp/forktree -a 8 -s 1 -n 2 -w 16 -g 4 -p 2 -N 3");
	assert_int_equal(t.nodes[2].stat.rss_pages, 2197);
	proctree_release(&t);
}

static void test_proctree_scan_fixture_from_a_child(void **state)
{
	(void)state;
	struct proctree t;
	assert_int_equal(proctree_scan(FX "forktree", 10574, &t), 0);
	if (t.n != 2) {
		size_t n = t.n;
		proctree_release(&t);
		fail_msg("%zu processes, want 2 (10574, 10576)", n);
	}
	assert_int_equal(t.nodes[0].pid, 10574);
	assert_int_equal(t.nodes[0].parent, -1);
	assert_int_equal(t.nodes[0].ppid, 10573);
	assert_int_equal(t.nodes[1].pid, 10576);
	assert_int_equal(t.nodes[1].parent, 0);
	assert_int_equal(t.nodes[1].depth, 1);
	proctree_release(&t);
}

static void test_proctree_scan_leaf_fixture_is_alone(void **state)
{
	(void)state;
	struct proctree t;
	assert_int_equal(proctree_scan(FX "forktree", 10576, &t), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.nodes[0].pid, 10576);
	proctree_release(&t);
}

static void test_proctree_scan_gunicorn_fixture(void **state)
{
	(void)state;
	struct proctree t;
	assert_int_equal(proctree_scan(FX "gunicorn", 10805, &t), 0);
	if (t.n != 2) {
		size_t n = t.n;
		proctree_release(&t);
		fail_msg("%zu processes, want 2 (master 10805, worker 10806)", n);
	}
	assert_int_equal(t.nodes[1].pid, 10806);
	assert_int_equal(t.nodes[1].parent, 0);
	assert_string_equal(t.nodes[1].stat.comm, "gunicorn");
	assert_string_equal(t.nodes[1].cmd, "/usr/bin/python3 /usr/bin/gunicorn -w 2 -b "
					    "127.0.0.1:18731 --chdir /tmp/fth hello:app");
	proctree_release(&t);
}

static void test_proctree_scan_kthread_fixture_cmd_from_comm(void **state)
{
	(void)state;
	struct proctree t;
	assert_int_equal(proctree_scan(FX "kthread", 2, &t), 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.nodes[0].cmd, "[kthreadd]");
	assert_true(t.nodes[0].stat.flags & PROCTREE_PF_KTHREAD);
	proctree_release(&t);
}

static void test_proctree_scan_fixture_missing_pid_gives_esrch(void **state)
{
	(void)state;
	struct proctree t;
	assert_int_equal(proctree_scan(FX "forktree", 4242, &t), -ESRCH);
	assert_int_equal(t.n, 0);
	/* child1 is in ready.json but was not captured */
	assert_int_equal(proctree_scan(FX "forktree", 10575, &t), -ESRCH);
	assert_int_equal(t.n, 0);
}

static void test_proctree_scan_vanished_gives_esrch(void **state)
{
	(void)state;
	struct proctree t;
	assert_int_equal(proctree_scan(FX "vanished", 10575, &t), -ESRCH);
	assert_int_equal(t.n, 0);
	struct proc_stat st;
	assert_int_equal(proctree_read_stat(FX "vanished", 10575, &st), -ESRCH);
}

/* ---- proctree_scan on our own live tree ---- */

/* In a forked child: die with the parent (a test that stops half-way
 * must not leave processes behind), then wait to be killed. */
static void child_wait_for_kill(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	for (;;)
		pause();
}

static void test_proctree_scan_finds_live_children_breadth_first(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t me = getpid();
	pid_t c1 = fork();
	assert_true(c1 >= 0);
	if (c1 == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != me)
			_exit(1);
		pid_t c1pid = getpid();
		pid_t gc = fork();
		if (gc == 0)
			child_wait_for_kill(c1pid);
		if (write(fds[1], &gc, sizeof(gc)) != sizeof(gc))
			_exit(1);
		waitpid(gc, NULL, 0);
		_exit(0);
	}
	pid_t gc;
	assert_int_equal(read(fds[0], &gc, sizeof(gc)), sizeof(gc));
	pid_t c2 = fork();
	assert_true(c2 >= 0);
	if (c2 == 0)
		child_wait_for_kill(me);
	struct proctree t;
	int r = proctree_scan(NULL, getpid(), &t);
	kill(gc, SIGKILL);
	kill(c2, SIGKILL);
	waitpid(c1, NULL, 0);
	waitpid(c2, NULL, 0);
	close(fds[0]);
	close(fds[1]);

	assert_int_equal(r, 0);
	assert_int_equal(t.n, 4);
	assert_int_equal(t.nodes[0].pid, getpid());
	assert_int_equal(t.nodes[0].parent, -1);
	assert_int_equal(t.nodes[0].depth, 0);
	assert_int_equal(t.nodes[0].ppid, getppid());
	/* siblings in pid order */
	int lo = c1 < c2 ? c1 : c2, hi = c1 < c2 ? c2 : c1;
	assert_int_equal(t.nodes[1].pid, lo);
	assert_int_equal(t.nodes[2].pid, hi);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(t.nodes[i].parent, 0);
		assert_int_equal(t.nodes[i].depth, 1);
		assert_int_equal(t.nodes[i].ppid, getpid());
		assert_int_equal(t.nodes[i].stat.pid, t.nodes[i].pid);
	}
	assert_int_equal(t.nodes[3].pid, gc);
	assert_int_equal(t.nodes[3].ppid, c1);
	assert_int_equal(t.nodes[3].depth, 2);
	assert_int_equal(t.nodes[t.nodes[3].parent].pid, c1);
	/* forks share the test's command line */
	assert_string_equal(t.nodes[3].cmd, t.nodes[0].cmd);
	assert_non_null(strstr(t.nodes[0].cmd, "test_proctree"));
	proctree_release(&t);
	assert_int_equal(t.n, 0);
	assert_null(t.nodes);
}

static void test_proctree_scan_missing_root_gives_esrch(void **state)
{
	(void)state;
	struct proctree t;
	assert_int_equal(proctree_scan(NULL, 0x7ffffff0, &t), -ESRCH);
	assert_int_equal(t.n, 0);
	proctree_release(&t);
}

static void test_proctree_read_stat_missing_gives_esrch(void **state)
{
	(void)state;
	struct proc_stat st;
	assert_int_equal(proctree_read_stat(NULL, 0x7ffffff0, &st), -ESRCH);
	assert_int_equal(proctree_read_stat(NULL, getpid(), &st), 0);
	assert_int_equal(st.pid, getpid());
}

/* Last: under UBSan this input stops the binary (negating INT64_MIN). */
static void test_proc_stat_parse_most_negative_field_is_defined(void **state)
{
	(void)state;
	struct proc_stat st;
	int r = parse("1 (a) S 0 1 1 0 -9223372036854775808 0 0 0 0 0 0 0 0 0 20 0 1 0 "
		      "100 4096 7", &st);
	assert_int_equal(r, 0);
	assert_int_equal(st.rss_pages, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proc_stat_parse_reads_numbered_fields),
		cmocka_unit_test(test_proc_stat_parse_comm_with_parens_and_spaces),
		cmocka_unit_test(test_proc_stat_parse_empty_comm),
		cmocka_unit_test(test_proc_stat_parse_long_comm_is_bounded),
		cmocka_unit_test(test_proc_stat_parse_kernel_thread_flag),
		cmocka_unit_test(test_proc_stat_parse_own_stat),
		cmocka_unit_test(test_proc_stat_parse_truncated_einval),
		cmocka_unit_test(test_proc_stat_parse_respects_len),
		cmocka_unit_test(test_proc_stat_parse_missing_parens_einval),
		cmocka_unit_test(test_proc_stat_parse_non_numeric_field_einval),
		cmocka_unit_test(test_proc_stat_parse_pid_zero_or_missing_einval),
		cmocka_unit_test(test_proc_stat_parse_pid_past_int_max_einval),
		cmocka_unit_test(test_proc_cmdline_parse_joins_words_with_spaces),
		cmocka_unit_test(test_proc_cmdline_parse_drops_trailing_nuls),
		cmocka_unit_test(test_proc_cmdline_parse_one_long_word),
		cmocka_unit_test(test_proc_cmdline_parse_empty),
		cmocka_unit_test(test_proc_cmdline_parse_empty_word_inside),
		cmocka_unit_test(test_proc_cmdline_parse_respects_len),
		cmocka_unit_test(test_proc_stat_parse_forktree_child_fixture),
		cmocka_unit_test(test_proc_stat_parse_gunicorn_master_fixture),
		cmocka_unit_test(test_proc_stat_parse_kthread_fixture_has_kthread_flag),
		cmocka_unit_test(test_proc_cmdline_parse_fixtures),
		cmocka_unit_test(test_proctree_scan_forktree_fixture_breadth_first),
		cmocka_unit_test(test_proctree_scan_fixture_from_a_child),
		cmocka_unit_test(test_proctree_scan_leaf_fixture_is_alone),
		cmocka_unit_test(test_proctree_scan_gunicorn_fixture),
		cmocka_unit_test(test_proctree_scan_kthread_fixture_cmd_from_comm),
		cmocka_unit_test(test_proctree_scan_fixture_missing_pid_gives_esrch),
		cmocka_unit_test(test_proctree_scan_vanished_gives_esrch),
		cmocka_unit_test(test_proctree_scan_missing_root_gives_esrch),
		cmocka_unit_test(test_proctree_read_stat_missing_gives_esrch),
		/* these two stop the ASan+UBSan binary (see the report) */
		cmocka_unit_test(test_proctree_scan_finds_live_children_breadth_first),
		cmocka_unit_test(test_proc_stat_parse_most_negative_field_is_defined),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
