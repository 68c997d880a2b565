/* test_util.c - allocation helpers and whole-file reads */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"

/* Write n bytes of a known pattern to a new temporary file; returns its
 * path (caller unlinks and frees). */
static char *temp_file_with(size_t n)
{
	char *path = xstrdup("/tmp/cowprof-test-util-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < n; i++) {
		char c = (char)('a' + i % 26);
		assert_int_equal(write(fd, &c, 1), 1);
	}
	close(fd);
	return path;
}

static void test_read_file_larger_than_first_buffer(void **state)
{
	(void)state;
	const size_t n = 3 * 4096 + 123;
	char *path = temp_file_with(n);
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(util_read_file(path, &buf, &len), 0);
	assert_int_equal(len, n);
	assert_int_equal(buf[len], '\0');
	for (size_t i = 0; i < n; i++)
		if (buf[i] != (char)('a' + i % 26))
			fail_msg("byte %zu is %d", i, buf[i]);
	free(buf);
	unlink(path);
	free(path);
}

static void test_read_file_exactly_4095_bytes_fills_first_buffer(void **state)
{
	(void)state;
	char *path = temp_file_with(4095);
	char *buf;
	size_t len;
	assert_int_equal(util_read_file(path, &buf, &len), 0);
	assert_int_equal(len, 4095);
	assert_int_equal(buf[4094], 'a' + 4094 % 26);
	assert_int_equal(buf[4095], '\0');
	free(buf);
	unlink(path);
	free(path);
}

static void test_read_file_empty_gives_empty_string(void **state)
{
	(void)state;
	char *path = temp_file_with(0);
	char *buf = NULL;
	size_t len = 99;
	assert_int_equal(util_read_file(path, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_non_null(buf);
	assert_string_equal(buf, "");
	free(buf);
	unlink(path);
	free(path);
}

static void test_read_file_proc_file_of_size_zero(void **state)
{
	(void)state;
	/* /proc files stat as 0 bytes: the read must not trust the size */
	char *buf;
	size_t len;
	assert_int_equal(util_read_file("/proc/self/stat", &buf, &len), 0);
	assert_true(len > 20);
	assert_int_equal(strlen(buf), len);
	assert_int_equal(atoi(buf), getpid());
	free(buf);
}

static void test_read_file_missing_gives_enoent(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len;
	assert_int_equal(util_read_file("/nonexistent/cowprof/file", &buf, &len),
			 -ENOENT);
	assert_null(buf);
}

static void test_read_file_directory_gives_eisdir(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len;
	assert_int_equal(util_read_file("/tmp", &buf, &len), -EISDIR);
	assert_null(buf);
}

static void test_grow_from_zero_allocates_sixteen(void **state)
{
	(void)state;
	int *a = NULL;
	size_t cap = 0;
	util_grow((void **)&a, &cap, 1, sizeof(*a));
	assert_non_null(a);
	assert_int_equal(cap, 16);
	a[15] = 7;
	free(a);
}

static void test_grow_doubles_until_need(void **state)
{
	(void)state;
	int *a = NULL;
	size_t cap = 0;
	util_grow((void **)&a, &cap, 17, sizeof(*a));
	assert_int_equal(cap, 32);
	util_grow((void **)&a, &cap, 1000, sizeof(*a));
	assert_int_equal(cap, 1024);
	for (int i = 0; i < 1000; i++)
		a[i] = i;
	assert_int_equal(a[999], 999);
	free(a);
}

static void test_grow_keeps_contents_and_noop_when_enough(void **state)
{
	(void)state;
	int *a = NULL;
	size_t cap = 0;
	util_grow((void **)&a, &cap, 10, sizeof(*a));
	for (int i = 0; i < 10; i++)
		a[i] = i * 3;
	int *before = a;
	util_grow((void **)&a, &cap, 16, sizeof(*a));
	assert_ptr_equal(a, before);
	assert_int_equal(cap, 16);
	util_grow((void **)&a, &cap, 100, sizeof(*a));
	assert_int_equal(cap, 128);
	for (int i = 0; i < 10; i++)
		assert_int_equal(a[i], i * 3);
	free(a);
}

static void test_grow_from_existing_odd_capacity(void **state)
{
	(void)state;
	size_t cap = 5;
	char *a = xmalloc(cap);
	util_grow((void **)&a, &cap, 6, 1);
	assert_int_equal(cap, 10);
	free(a);
}

static void test_xmalloc_zero_gives_unique_pointers(void **state)
{
	(void)state;
	void *a = xmalloc(0), *b = xmalloc(0);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	free(a);
	free(b);
}

static void test_xcalloc_zeroes(void **state)
{
	(void)state;
	uint64_t *a = xcalloc(100, sizeof(*a));
	for (int i = 0; i < 100; i++)
		assert_int_equal(a[i], 0);
	free(a);
}

static void test_xstrdup_copies(void **state)
{
	(void)state;
	const char *s = "gunicorn: worker [app]";
	char *d = xstrdup(s);
	assert_ptr_not_equal(d, s);
	assert_string_equal(d, s);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_file_larger_than_first_buffer),
		cmocka_unit_test(test_read_file_exactly_4095_bytes_fills_first_buffer),
		cmocka_unit_test(test_read_file_empty_gives_empty_string),
		cmocka_unit_test(test_read_file_proc_file_of_size_zero),
		cmocka_unit_test(test_read_file_missing_gives_enoent),
		cmocka_unit_test(test_read_file_directory_gives_eisdir),
		cmocka_unit_test(test_grow_from_zero_allocates_sixteen),
		cmocka_unit_test(test_grow_doubles_until_need),
		cmocka_unit_test(test_grow_keeps_contents_and_noop_when_enough),
		cmocka_unit_test(test_grow_from_existing_odd_capacity),
		cmocka_unit_test(test_xmalloc_zero_gives_unique_pointers),
		cmocka_unit_test(test_xcalloc_zeroes),
		cmocka_unit_test(test_xstrdup_copies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
