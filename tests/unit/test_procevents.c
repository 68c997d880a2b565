/* test_procevents.c - decoding proc connector datagrams */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collectors/procevents.h"
#include "fixture.h"

static int parse_fixture(const char *name, struct procev *ev)
{
	size_t len;
	char path[128];
	snprintf(path, sizeof(path), "netlink/%s.bin", name);
	char *buf = fixture_read(path, &len);
	int n = procevents_parse(buf, len, ev, 4);
	free(buf);
	return n;
}

static void test_procevents_fork_names_child_and_parent(void **state)
{
	(void)state;
	struct procev fork_ev, exit_ev;
	assert_int_equal(parse_fixture("fork-exit3", &fork_ev), 1);
	assert_int_equal(fork_ev.kind, PROCEV_FORK);
	assert_true(fork_ev.pid > 0 && fork_ev.ppid > 0);
	assert_int_not_equal(fork_ev.pid, fork_ev.ppid);
	assert_int_equal(parse_fixture("exit-exit3", &exit_ev), 1);
	assert_int_equal(exit_ev.pid, fork_ev.pid);
	assert_true(exit_ev.timestamp_ns > fork_ev.timestamp_ns);
}

static void test_procevents_exit_code_three(void **state)
{
	(void)state;
	struct procev ev;
	assert_int_equal(parse_fixture("exit-exit3", &ev), 1);
	assert_int_equal(ev.kind, PROCEV_EXIT);
	assert_int_equal(ev.exit_code, 3);
	assert_int_equal(ev.exit_signal, -1);
}

static void test_procevents_exit_by_sigkill(void **state)
{
	(void)state;
	struct procev ev;
	assert_int_equal(parse_fixture("exit-sigkill", &ev), 1);
	assert_int_equal(ev.exit_signal, SIGKILL);
	assert_int_equal(ev.exit_code, -1);
}

static void test_procevents_exec_and_exit_zero(void **state)
{
	(void)state;
	struct procev ex, ev;
	assert_int_equal(parse_fixture("exec-true", &ex), 1);
	assert_int_equal(ex.kind, PROCEV_EXEC);
	assert_int_equal(parse_fixture("exit-true", &ev), 1);
	assert_int_equal(ev.pid, ex.pid);
	assert_int_equal(ev.exit_code, 0);
}

static void test_procevents_two_messages_in_one_buffer(void **state)
{
	(void)state;
	size_t a, b;
	char *x = fixture_read("netlink/fork-true.bin", &a);
	char *y = fixture_read("netlink/exit-true.bin", &b);
	char buf[256] __attribute__((aligned(8)));
	assert_true(a + b <= sizeof(buf) && a % 4 == 0);
	memcpy(buf, x, a);
	memcpy(buf + a, y, b);
	struct procev ev[4];
	assert_int_equal(procevents_parse(buf, a + b, ev, 4), 2);
	assert_int_equal(ev[0].kind, PROCEV_FORK);
	assert_int_equal(ev[1].kind, PROCEV_EXIT);
	assert_int_equal(procevents_parse(buf, a + b, ev, 1), 1);  /* max respected */
	free(x);
	free(y);
}

/* A new thread is a fork whose child pid differs from its thread group. */
static void test_procevents_thread_fork_is_skipped(void **state)
{
	(void)state;
	size_t len;
	char *buf = fixture_read("netlink/fork-true.bin", &len);
	uint32_t tgid;
	/* event_data.fork: parent_pid, parent_tgid, child_pid, child_tgid */
	size_t off = 16 + 20 + 16 + 12;
	memcpy(&tgid, buf + off, 4);
	tgid += 1;
	memcpy(buf + off, &tgid, 4);
	struct procev ev;
	assert_int_equal(procevents_parse(buf, len, &ev, 1), 0);
	free(buf);
}

static void test_procevents_truncated_datagrams(void **state)
{
	(void)state;
	size_t len;
	char *buf = fixture_read("netlink/exit-exit3.bin", &len);
	struct procev ev;
	for (size_t n = 0; n < len; n++)
		assert_true(procevents_parse(buf, n, &ev, 1) <= 0);
	free(buf);
}

static void test_procevents_live_fork_and_exit(void **state)
{
	(void)state;
	int fd = procevents_open();
	if (fd < 0)
		skip();  /* no CAP_NET_ADMIN */
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	waitpid(pid, NULL, 0);
	struct procev ev[256];
	int seen_fork = 0, seen_exit = 0;
	for (int tries = 0; tries < 50 && !(seen_fork && seen_exit); tries++) {
		struct pollfd p = { fd, POLLIN, 0 };
		poll(&p, 1, 20);
		int n = procevents_read(fd, ev, 256);
		for (int i = 0; i < n; i++) {
			if (ev[i].kind == PROCEV_FORK && ev[i].pid == pid)
				seen_fork = ev[i].ppid == getpid();
			if (ev[i].kind == PROCEV_EXIT && ev[i].pid == pid)
				seen_exit = ev[i].exit_code == 7;
		}
	}
	procevents_close(fd);
	assert_true(seen_fork);
	assert_true(seen_exit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_procevents_fork_names_child_and_parent),
		cmocka_unit_test(test_procevents_exit_code_three),
		cmocka_unit_test(test_procevents_exit_by_sigkill),
		cmocka_unit_test(test_procevents_exec_and_exit_zero),
		cmocka_unit_test(test_procevents_two_messages_in_one_buffer),
		cmocka_unit_test(test_procevents_thread_fork_is_skipped),
		cmocka_unit_test(test_procevents_truncated_datagrams),
		cmocka_unit_test(test_procevents_live_fork_and_exit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
