/* test_fdlink.c - /proc/PID/fd/N links, from captured links
 * (tests/fixtures/proc/wait_*) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <unistd.h>

#include "collectors/fdlink.h"
#include "fixture.h"

#define PROC FIXTURE_DIR "/proc/"

static void link_of(const char *path, struct fdlink *l)
{
	char buf[256];
	ssize_t n = readlink(path, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(fdlink_parse(buf, (size_t)n, l), 0);
}

static void test_fdlink_kinds_from_captured_links(void **state)
{
	(void)state;
	struct fdlink l;
	link_of(PROC "wait_pipe/29236/fd/0", &l);
	assert_int_equal(l.kind, FDLINK_PIPE);
	assert_int_equal(l.inode, 6262724);
	fdlink_release(&l);
	link_of(PROC "wait_unix/29237/fd/3", &l);
	assert_int_equal(l.kind, FDLINK_SOCKET);
	assert_int_equal(l.inode, 6262726);
	fdlink_release(&l);
	link_of(PROC "wait_unix/29237/fd/0", &l);
	assert_int_equal(l.kind, FDLINK_PATH);
	assert_string_equal(l.name, "/dev/null");
	fdlink_release(&l);
	link_of(PROC "wait_epoll/29268/fd/5", &l);
	assert_int_equal(l.kind, FDLINK_ANON);
	assert_string_equal(l.name, "eventpoll");
	fdlink_release(&l);
}

static void test_fdlink_other_forms(void **state)
{
	(void)state;
	struct fdlink l;
	assert_int_equal(fdlink_parse("anon_inode:inotify", 18, &l), 0);
	assert_int_equal(l.kind, FDLINK_ANON);
	assert_string_equal(l.name, "inotify");
	fdlink_release(&l);
	assert_int_equal(fdlink_parse("net:[4026531840]", 16, &l), 0);
	assert_int_equal(l.kind, FDLINK_OTHER);
	assert_string_equal(l.name, "net");
	assert_int_equal(l.inode, 4026531840ULL);
	fdlink_release(&l);
	assert_int_equal(fdlink_parse("pipe:[12x]", 10, &l), 0);
	assert_int_equal(l.kind, FDLINK_OTHER);  /* not a pipe inode: kept as text */
	fdlink_release(&l);
	assert_int_equal(fdlink_parse("", 0, &l), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdlink_kinds_from_captured_links),
		cmocka_unit_test(test_fdlink_other_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
