/* test_syscall.c - /proc/PID/syscall and wchan, from captured /proc files
 * (tests/fixtures/proc/wait_*, running) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

#include "collectors/syscall.h"
#include "fixture.h"

static char *wchan_of(const char *rel)
{
	size_t len;
	char *buf = fixture_read(rel, &len);
	char *w = syscall_wchan_parse(buf, len);
	free(buf);
	return w;
}

static void test_wchan_parses_symbol_and_zero(void **state)
{
	(void)state;
	char *w = wchan_of("proc/wait_pipe/29236/wchan");
	assert_string_equal(w, "anon_pipe_read");
	free(w);
	w = wchan_of("proc/wait_unix/29237/wchan");
	assert_string_equal(w, "unix_stream_read_generic");
	free(w);
	/* a running process reads "0" */
	assert_null(wchan_of("proc/running/29267/wchan"));
	assert_null(syscall_wchan_parse("", 0));
	assert_null(syscall_wchan_parse("a b", 3));
	w = syscall_wchan_parse("poll_schedule_timeout.constprop.0\n", 34);
	assert_string_equal(w, "poll_schedule_timeout.constprop.0");
	free(w);
}

static int syscall_of(const char *rel, struct syscall_info *sc)
{
	size_t len;
	char *buf = fixture_read(rel, &len);
	int r = syscall_parse(buf, len, sc);
	free(buf);
	return r;
}

static void test_syscall_parses_read_on_fd0(void **state)
{
	(void)state;
	struct syscall_info sc;
	assert_int_equal(syscall_of("proc/wait_pipe/29236/syscall", &sc), 0);
	assert_int_equal(sc.kind, SYSCALL_IN);
	assert_int_equal(sc.nr, SYS_read);
	assert_int_equal(sc.args[0], 0);
	assert_int_equal(sc.args[2], 0x20000);  /* cat's buffer size */
	assert_true(sc.sp != 0 && sc.pc != 0);
}

static void test_syscall_wait4_pid_is_minus_one_in_32_bits(void **state)
{
	(void)state;
	struct syscall_info sc;
	assert_int_equal(syscall_of("proc/wait_wait4/29261/syscall", &sc), 0);
	assert_int_equal(sc.nr, SYS_wait4);
	assert_int_equal(sc.args[0], 0xffffffffu);
	assert_int_equal(syscall_of("proc/wait_futex/29264/syscall", &sc), 0);
	assert_int_equal(sc.nr, SYS_futex);
	assert_int_equal(sc.args[1], 0x189);  /* WAIT_BITSET | PRIVATE | CLOCK_REALTIME */
}

static void test_syscall_running_and_not_in_a_call(void **state)
{
	(void)state;
	struct syscall_info sc;
	assert_int_equal(syscall_of("proc/running/29267/syscall", &sc), 0);
	assert_int_equal(sc.kind, SYSCALL_RUNNING);
	/* the kernel's format for a task blocked outside a system call
	 * (proc_pid_syscall: "%d 0x%lx 0x%lx\n" with nr -1) */
	const char *none = "-1 0x7ffd3eda7ad0 0x7f72fcaa22ad\n";
	assert_int_equal(syscall_parse(none, strlen(none), &sc), 0);
	assert_int_equal(sc.kind, SYSCALL_NONE);
	assert_int_equal(sc.nr, -1);
	assert_int_equal(sc.pc, 0x7f72fcaa22adULL);
}

static void test_syscall_rejects_malformed(void **state)
{
	(void)state;
	struct syscall_info sc;
	const char *bad[] = { "", "runnin", "0 0x1 0x2", "-2 0x1 0x2", "x 0x0",
			      "0 0x0 0x0 0x0 0x0 0x0 0x0 0x0 0x0 0x0",
			      "0 0x0 0x0 0x0 0x0 0x0 0x0 0x0 0xz" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(syscall_parse(bad[i], strlen(bad[i]), &sc), -EINVAL);
}

static void test_syscall_names_and_classes(void **state)
{
	(void)state;
	enum syscall_wait w;
	int fd_arg;
	assert_string_equal(syscall_name(SYS_recvfrom, &w, &fd_arg), "recvfrom");
	assert_int_equal(w, SYSCALL_WAIT_FD);
	assert_int_equal(fd_arg, 0);
	assert_string_equal(syscall_name(SYS_epoll_wait, &w, &fd_arg), "epoll_wait");
	assert_int_equal(w, SYSCALL_WAIT_EPOLL);
	assert_string_equal(syscall_name(SYS_waitid, &w, &fd_arg), "waitid");
	assert_int_equal(w, SYSCALL_WAIT_CHILD);
	assert_int_equal(fd_arg, -1);
	assert_string_equal(syscall_name(SYS_clock_nanosleep, &w, NULL), "clock_nanosleep");
	assert_int_equal(w, SYSCALL_WAIT_SLEEP);
	assert_null(syscall_name(100000, &w, &fd_arg));
	assert_int_equal(w, SYSCALL_WAIT_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wchan_parses_symbol_and_zero),
		cmocka_unit_test(test_syscall_parses_read_on_fd0),
		cmocka_unit_test(test_syscall_wait4_pid_is_minus_one_in_32_bits),
		cmocka_unit_test(test_syscall_running_and_not_in_a_call),
		cmocka_unit_test(test_syscall_rejects_malformed),
		cmocka_unit_test(test_syscall_names_and_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
