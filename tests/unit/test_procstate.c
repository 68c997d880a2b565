/* test_procstate.c - what a process waits on, read, resolved and described on
 * captured /proc trees (tests/fixtures/proc/wait_*, running, vanished) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

#include "collectors/procstate.h"
#include "fixture.h"

#define PROC FIXTURE_DIR "/proc/"

static char *describe_case(const char *cas, int pid, const int *tree, size_t ntree,
			   struct procstate *ps)
{
	char root[256];
	snprintf(root, sizeof(root), PROC "%s", cas);
	assert_int_equal(procstate_read(root, pid, ps), 0);
	if (tree) {
		struct procstate_fdtab tab = { 0 };
		assert_true(procstate_needs_fdtab(ps));
		assert_int_equal(procstate_fdtab_scan(root, tree, ntree, &tab), 0);
		procstate_resolve_peer(root, ps, &tab);
		procstate_fdtab_release(&tab);
	}
	return procstate_describe_wait(ps);
}

static void test_read_pipe_names_the_writer(void **state)
{
	(void)state;
	struct procstate ps;
	const int tree[] = { 29235, 29236 };
	char *d = describe_case("wait_pipe", 29236, tree, 2, &ps);
	assert_string_equal(d, "read(fd 0) on pipe, write end held by 29235 (sleep)");
	assert_int_equal(ps.state, 'S');
	assert_string_equal(ps.wchan, "anon_pipe_read");
	assert_int_equal(ps.link.kind, FDLINK_PIPE);
	assert_int_equal(ps.peer, PROCSTATE_PEER_PIPE);
	assert_int_equal(ps.nrefs, 1);
	free(d);
	procstate_release(&ps);
}

static void test_read_pipe_without_writer_in_the_tree(void **state)
{
	(void)state;
	struct procstate ps;
	const int tree[] = { 29236 };
	char *d = describe_case("wait_pipe", 29236, tree, 1, &ps);
	assert_string_equal(d, "read(fd 0) on pipe, write end held by no process of the tree");
	free(d);
	procstate_release(&ps);
}

static void test_read_with_stat_matches_read(void **state)
{
	(void)state;
	struct proc_stat st;
	struct procstate a, b;
	const char *root = PROC "wait_wait4";
	assert_int_equal(proctree_read_stat(root, 29261, &st), 0);
	assert_int_equal(procstate_read_with_stat(root, &st, &a), 0);
	assert_int_equal(procstate_read(root, 29261, &b), 0);
	char *da = procstate_describe_wait(&a), *db = procstate_describe_wait(&b);
	assert_string_equal(da, db);
	assert_int_equal(a.cpu_ticks, b.cpu_ticks);
	assert_int_equal(a.nrefs, 2);
	free(da);
	free(db);
	procstate_release(&a);
	procstate_release(&b);
	/* a zombie: nothing more is read */
	st.state = 'Z';
	assert_int_equal(procstate_read_with_stat(root, &st, &a), 0);
	assert_null(a.wchan);
	da = procstate_describe_wait(&a);
	assert_string_equal(da, "zombie (exited, not reaped)");
	free(da);
	procstate_release(&a);
}

static void test_read_thread_blocked_while_main_joins(void **state)
{
	(void)state;
	const char *root = PROC "wait_thread";
	int *tids;
	size_t n;
	assert_int_equal(procstate_list_threads(root, 27550, &tids, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(tids[0], 27550);
	assert_int_equal(tids[1], 27571);
	free(tids);
	struct procstate ps;
	assert_int_equal(procstate_read_thread(root, 27550, 27571, &ps), 0);
	assert_int_equal(ps.pid, 27550);
	assert_int_equal(ps.tid, 27571);
	assert_string_equal(ps.wchan, "anon_pipe_read");
	const int tree[] = { 27550, 27570 };
	struct procstate_fdtab tab = { 0 };
	procstate_fdtab_scan(root, tree, 2, &tab);
	assert_int_equal(procstate_resolve_peer(root, &ps, &tab), 0);
	char *d = procstate_describe_wait(&ps);
	assert_string_equal(d, "read(fd 3) on pipe, write end held by 27570 (python3)");
	free(d);
	procstate_release(&ps);
	/* the main thread, read either way */
	assert_int_equal(procstate_read_thread(root, 27550, 27550, &ps), 0);
	d = procstate_describe_wait(&ps);
	assert_string_equal(d, "futex wait (a lock or condition)");
	free(d);
	procstate_release(&ps);
	procstate_fdtab_release(&tab);
	assert_int_equal(procstate_read_thread(root, 27550, 4242, &ps), -ESRCH);
}

static void test_read_tcp_recv_names_the_other_end(void **state)
{
	(void)state;
	struct procstate ps;
	const int tree[] = { 29239, 29258 };
	char *d = describe_case("wait_recv_tcp", 29258, tree, 2, &ps);
	assert_string_equal(d, "recvfrom(fd 3) on TCP 127.0.0.1:41132 <- 127.0.0.1:51519, "
			       "peer held by 29239 (python3)");
	assert_int_equal(ps.sock, PROCSTATE_SOCK_INET);
	free(d);
	procstate_release(&ps);
}

static void test_read_each_captured_wait(void **state)
{
	(void)state;
	static const struct {
		const char *cas;
		int pid;
		const char *line;
	} cases[] = {
		{ "wait_accept", 29239, "accept4(fd 3) on TCP 127.0.0.1:51519 (listening)" },
		{ "wait_accept6", 29259, "accept4(fd 3) on TCP [::1]:36939 (listening)" },
		{ "wait_udp", 29260, "recvfrom(fd 3) on UDP 127.0.0.1:58010" },
		{ "wait_unix", 29237, "recvfrom(fd 3) on unix stream socket" },
		{ "wait_wait4", 29261, "wait4 (children 29262, 29263)" },
		{ "wait_futex", 29264, "futex wait (a lock or condition)" },
		{ "wait_sleep", 29266, "sleeping (clock_nanosleep)" },
		{ "running", 29267, "running" },
		{ "wait_epoll", 29268, "epoll_wait(fd 5) on 2 fds" },
		{ "wait_unix_unaccepted", 29269, "recvfrom(fd 4) on unix stream socket" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct procstate ps;
		char *d = describe_case(cases[i].cas, cases[i].pid, NULL, 0, &ps);
		assert_string_equal(d, cases[i].line);
		free(d);
		procstate_release(&ps);
	}
}

static void test_read_vanished_is_esrch(void **state)
{
	(void)state;
	struct procstate ps;
	assert_int_equal(procstate_read(PROC "vanished", 4242, &ps), -ESRCH);
	procstate_release(&ps);
}

static void test_describe_states_without_a_call(void **state)
{
	(void)state;
	struct procstate ps = { .state = 'Z', .fd = -1 };
	char *d = procstate_describe_wait(&ps);
	assert_string_equal(d, "zombie (exited, not reaped)");
	free(d);
	ps.state = 'D';
	ps.sc.kind = SYSCALL_NONE;
	ps.sc.nr = -1;
	ps.wchan = "folio_wait_bit_common";
	ps.exiting = true;
	d = procstate_describe_wait(&ps);
	assert_string_equal(d, "not in a system call, in folio_wait_bit_common (exiting)");
	free(d);
}

static void test_describe_pipe_write_with_no_reader(void **state)
{
	(void)state;
	struct procstate ps = {
		.pid = 10, .state = 'S', .fd = 1, .sc_name = "write",
		.sc = { .kind = SYSCALL_IN, .nr = SYS_write },
		.wait = SYSCALL_WAIT_FD, .fd_write_side = true,
		.link = { .kind = FDLINK_PIPE, .inode = 5 },
		.peer = PROCSTATE_PEER_PIPE,
	};
	char *d = procstate_describe_wait(&ps);
	assert_string_equal(d, "write(fd 1) on pipe, read end held by no process of the tree");
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_pipe_names_the_writer),
		cmocka_unit_test(test_read_pipe_without_writer_in_the_tree),
		cmocka_unit_test(test_read_with_stat_matches_read),
		cmocka_unit_test(test_read_thread_blocked_while_main_joins),
		cmocka_unit_test(test_read_tcp_recv_names_the_other_end),
		cmocka_unit_test(test_read_each_captured_wait),
		cmocka_unit_test(test_read_vanished_is_esrch),
		cmocka_unit_test(test_describe_states_without_a_call),
		cmocka_unit_test(test_describe_pipe_write_with_no_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
