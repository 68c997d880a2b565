/* test_format.c - human-readable sizes and pid arguments */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/format.h"

static void check_kb(uint64_t kb, const char *want)
{
	char buf[32];
	char *r = format_kb(kb, buf, sizeof(buf));
	assert_ptr_equal(r, buf);
	assert_string_equal(buf, want);
}

static void test_format_kb_below_one_mib_in_kib(void **state)
{
	(void)state;
	check_kb(0, "0 KiB");
	check_kb(812, "812 KiB");
	check_kb(1023, "1023 KiB");
}

static void test_format_kb_one_mib_boundary(void **state)
{
	(void)state;
	check_kb(1024, "1.0 MiB");
	check_kb(1536, "1.5 MiB");
	check_kb(12595, "12.3 MiB");
}

static void test_format_kb_gib(void **state)
{
	(void)state;
	check_kb(1024 * 1024, "1.00 GiB");
	check_kb(1024 * 1024 * 3 / 2, "1.50 GiB");
	check_kb(1024ULL * 1024 * 1023, "1023.00 GiB");
}

static void test_format_kb_tib(void **state)
{
	(void)state;
	check_kb(1024ULL * 1024 * 1024, "1.00 TiB");
	check_kb(1024ULL * 1024 * 1024 * 5 / 2, "2.50 TiB");
}

static void test_format_kb_just_below_gib_does_not_show_1024_mib(void **state)
{
	(void)state;
	/* 1048575 KiB is 1023.999 MiB: "1024.0 MiB" would name a unit too
	 * small for the figure; the next unit up reads right */
	check_kb(1024 * 1024 - 1, "1.00 GiB");
}

static void test_format_kb_just_below_tib_does_not_show_1024_gib(void **state)
{
	(void)state;
	check_kb(1024ULL * 1024 * 1024 - 1, "1.00 TiB");
}

static void test_format_kb_fits_sixteen_bytes(void **state)
{
	(void)state;
	char buf[16];
	format_kb(1024ULL * 1024 * 1024 * 999, buf, sizeof(buf));
	assert_string_equal(buf, "999.00 TiB");
	format_kb(999, buf, sizeof(buf));
	assert_string_equal(buf, "999 KiB");
}

static void test_format_parse_pid_accepts_positive_decimal(void **state)
{
	(void)state;
	assert_int_equal(format_parse_pid("1"), 1);
	assert_int_equal(format_parse_pid("4242"), 4242);
	assert_int_equal(format_parse_pid("2147483647"), 2147483647);
	assert_int_equal(format_parse_pid("007"), 7);
}

static void test_format_parse_pid_rejects_zero_and_negative(void **state)
{
	(void)state;
	assert_int_equal(format_parse_pid("0"), -1);
	assert_int_equal(format_parse_pid("-1"), -1);
	assert_int_equal(format_parse_pid("000"), -1);
}

static void test_format_parse_pid_rejects_non_digits(void **state)
{
	(void)state;
	assert_int_equal(format_parse_pid("12a"), -1);
	assert_int_equal(format_parse_pid("a12"), -1);
	assert_int_equal(format_parse_pid("+1"), -1);
	assert_int_equal(format_parse_pid(" 1"), -1);
	assert_int_equal(format_parse_pid("1 "), -1);
	assert_int_equal(format_parse_pid("0x10"), -1);
}

static void test_format_parse_pid_rejects_empty_and_null(void **state)
{
	(void)state;
	assert_int_equal(format_parse_pid(""), -1);
	assert_int_equal(format_parse_pid(NULL), -1);
}

static void test_format_parse_pid_rejects_past_int_max(void **state)
{
	(void)state;
	assert_int_equal(format_parse_pid("2147483648"), -1);
	assert_int_equal(format_parse_pid("99999999999999999999999"), -1);
}

/* One name per signal everywhere: the recorder's exit events once said
 * "signal 36" where the reports said "SIGRTMIN+2". */
static void test_format_signal_name_names_standard_realtime_and_unknown(void **state)
{
	(void)state;
	char name[32];
	assert_string_equal(format_signal_name(SIGKILL, name, sizeof(name)), "SIGKILL");
	assert_string_equal(format_signal_name(SIGTERM, name, sizeof(name)), "SIGTERM");
	assert_string_equal(format_signal_name(SIGRTMIN, name, sizeof(name)), "SIGRTMIN+0");
	assert_string_equal(format_signal_name(SIGRTMIN + 2, name, sizeof(name)),
			    "SIGRTMIN+2");
	assert_string_equal(format_signal_name(SIGRTMAX + 1, name, sizeof(name)),
			    "signal 65");
	assert_string_equal(format_signal_name(0, name, sizeof(name)), "signal 0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_kb_below_one_mib_in_kib),
		cmocka_unit_test(test_format_kb_one_mib_boundary),
		cmocka_unit_test(test_format_kb_gib),
		cmocka_unit_test(test_format_kb_tib),
		cmocka_unit_test(test_format_kb_just_below_gib_does_not_show_1024_mib),
		cmocka_unit_test(test_format_kb_just_below_tib_does_not_show_1024_gib),
		cmocka_unit_test(test_format_kb_fits_sixteen_bytes),
		cmocka_unit_test(test_format_parse_pid_accepts_positive_decimal),
		cmocka_unit_test(test_format_parse_pid_rejects_zero_and_negative),
		cmocka_unit_test(test_format_parse_pid_rejects_non_digits),
		cmocka_unit_test(test_format_parse_pid_rejects_empty_and_null),
		cmocka_unit_test(test_format_parse_pid_rejects_past_int_max),
		cmocka_unit_test(test_format_signal_name_names_standard_realtime_and_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
