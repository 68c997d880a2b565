/* test_json.c - the streaming JSON writer, compared as exact strings */
#include <math.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/json.h"

/* A writer on a memory stream; finish() closes it and returns the text. */
struct out {
	FILE *f;
	char *buf;
	size_t len;
	struct json j;
};

static void start(struct out *o)
{
	o->buf = NULL;
	o->len = 0;
	o->f = open_memstream(&o->buf, &o->len);
	assert_non_null(o->f);
	json_init(&o->j, o->f);
}

static char *finish(struct out *o)
{
	assert_int_equal(fclose(o->f), 0);
	return o->buf;
}

/* The JSON text json_string writes for s. */
static char *string_of(const char *s)
{
	struct out o;
	start(&o);
	json_string(&o.j, s);
	return finish(&o);
}

static void check_string(const char *in, const char *want)
{
	/* compare, free, then report: a failed assertion must not leak, and
	 * the message shows raw bytes as \xNN so it stays readable text */
	char *s = string_of(in);
	bool same = strcmp(s, want) == 0;
	char shown[512];
	size_t k = 0;
	for (const unsigned char *p = (const unsigned char *)s;
	     *p && k + 5 < sizeof(shown); p++)
		k += (size_t)snprintf(shown + k, sizeof(shown) - k,
				      *p < 0x80 ? "%c" : "\\x%02x", *p);
	shown[k] = '\0';
	free(s);
	if (!same)
		fail_msg("wrote %s, want %s", shown, want);
}

static void test_json_string_plain_ascii(void **state)
{
	(void)state;
	check_string("gunicorn: master [app:app]", "\"gunicorn: master [app:app]\"");
	check_string("", "\"\"");
}

static void test_json_string_escapes_quote_and_backslash(void **state)
{
	(void)state;
	check_string("a\"b\\c", "\"a\\\"b\\\\c\"");
	check_string("\\\"", "\"\\\\\\\"\"");
}

static void test_json_string_escapes_control_characters(void **state)
{
	(void)state;
	check_string("a\nb\tc\rd", "\"a\\u000ab\\u0009c\\u000dd\"");
	check_string("\x01\x1f", "\"\\u0001\\u001f\"");
	check_string("\x7f", "\"\\u007f\"");
	/* space is the first character kept as is */
	check_string(" ", "\" \"");
}

static void test_json_string_keeps_valid_multibyte_utf8(void **state)
{
	(void)state;
	check_string("caf\xc3\xa9", "\"caf\xc3\xa9\"");               /* é */
	check_string("\xe2\x82\xac", "\"\xe2\x82\xac\"");              /* € */
	check_string("\xf0\x9f\x90\x8d", "\"\xf0\x9f\x90\x8d\"");      /* 🐍 */
	check_string("\xc2\xa0", "\"\xc2\xa0\"");                      /* U+00A0 */
	check_string("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");      /* U+10FFFF */
}

/* C1 controls are valid UTF-8 a terminal obeys (U+009B is CSI): escaped
 * like C0, so JSON read on a terminal cannot drive it. */
static void test_json_string_escapes_c1_controls(void **state)
{
	(void)state;
	check_string("\xc2\x80", "\"\\u0080\"");
	check_string("a\xc2\x9b" "2J", "\"a\\u009b2J\"");
	check_string("\xc2\x9f\xc2\xa0", "\"\\u009f\xc2\xa0\"");
}

static void test_json_string_replaces_invalid_bytes(void **state)
{
	(void)state;
	/* a lone continuation byte, a Latin-1 byte */
	check_string("a\x80z", "\"a\\ufffdz\"");
	check_string("caf\xe9", "\"caf\\ufffd\"");
	check_string("\xff\xfe", "\"\\ufffd\\ufffd\"");
}

static void test_json_string_replaces_truncated_sequence(void **state)
{
	(void)state;
	/* é cut after its lead byte, and € cut at the string's end */
	check_string("\xc3z", "\"\\ufffdz\"");
	check_string("x\xe2\x82", "\"x\\ufffd\\ufffd\"");
}

static void test_json_string_replaces_overlong_two_byte(void **state)
{
	(void)state;
	/* C0 AF: an overlong '/' */
	check_string("\xc0\xaf", "\"\\ufffd\\ufffd\"");
}

static void test_json_string_replaces_overlong_three_byte(void **state)
{
	(void)state;
	/* E0 80 80: an overlong NUL (RFC 3629 section 3 forbids it) */
	check_string("\xe0\x80\x80", "\"\\ufffd\\ufffd\\ufffd\"");
}

static void test_json_string_replaces_overlong_four_byte(void **state)
{
	(void)state;
	/* F0 80 80 AF: an overlong '/' in four bytes */
	check_string("\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

static void test_json_string_replaces_utf16_surrogate(void **state)
{
	(void)state;
	/* ED A0 80: U+D800, a surrogate, never valid in UTF-8 */
	check_string("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
}

static void test_json_string_replaces_code_point_above_10ffff(void **state)
{
	(void)state;
	/* F5 lead bytes and F4 90.. encode past U+10FFFF */
	check_string("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	check_string("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

static void test_json_key_is_escaped(void **state)
{
	(void)state;
	struct out o;
	start(&o);
	json_object_begin(&o.j);
	json_kv_string(&o.j, "a\"k", "v\n");
	json_object_end(&o.j);
	char *s = finish(&o);
	assert_string_equal(s, "{\"a\\\"k\":\"v\\u000a\"}");
	free(s);
}

static void test_json_commas_in_flat_object(void **state)
{
	(void)state;
	struct out o;
	start(&o);
	json_object_begin(&o.j);
	json_kv_uint(&o.j, "rss_kb", 812);
	json_kv_int(&o.j, "ppid", -1);
	json_kv_string(&o.j, "cmd", "x");
	json_key(&o.j, "ok");
	json_bool(&o.j, true);
	json_key(&o.j, "no");
	json_bool(&o.j, false);
	json_key(&o.j, "none");
	json_null(&o.j);
	json_object_end(&o.j);
	char *s = finish(&o);
	assert_string_equal(s, "{\"rss_kb\":812,\"ppid\":-1,\"cmd\":\"x\","
			       "\"ok\":true,\"no\":false,\"none\":null}");
	free(s);
}

static void test_json_commas_in_nested_arrays_and_objects(void **state)
{
	(void)state;
	struct out o;
	start(&o);
	json_object_begin(&o.j);
	json_kv_uint(&o.j, "root", 4242);
	json_key(&o.j, "processes");
	json_array_begin(&o.j);
	for (int i = 0; i < 2; i++) {
		json_object_begin(&o.j);
		json_kv_int(&o.j, "pid", 10 + i);
		json_key(&o.j, "kids");
		json_array_begin(&o.j);
		json_array_begin(&o.j);
		json_array_end(&o.j);
		json_int(&o.j, 1);
		json_array_begin(&o.j);
		json_int(&o.j, 2);
		json_int(&o.j, 3);
		json_array_end(&o.j);
		json_array_end(&o.j);
		json_object_end(&o.j);
	}
	json_array_end(&o.j);
	json_key(&o.j, "tree");
	json_object_begin(&o.j);
	json_object_end(&o.j);
	json_kv_uint(&o.j, "after", 1);
	json_object_end(&o.j);
	char *s = finish(&o);
	assert_string_equal(s,
		"{\"root\":4242,\"processes\":["
		"{\"pid\":10,\"kids\":[[],1,[2,3]]},"
		"{\"pid\":11,\"kids\":[[],1,[2,3]]}],"
		"\"tree\":{},\"after\":1}");
	free(s);
}

static void test_json_top_level_array_of_values(void **state)
{
	(void)state;
	struct out o;
	start(&o);
	json_array_begin(&o.j);
	json_string(&o.j, "a");
	json_uint(&o.j, UINT64_MAX);
	json_int(&o.j, INT64_MIN);
	json_array_end(&o.j);
	char *s = finish(&o);
	assert_string_equal(s, "[\"a\",18446744073709551615,-9223372036854775808]");
	free(s);
}

static char *double_of(double v, int decimals)
{
	struct out o;
	start(&o);
	json_double(&o.j, v, decimals);
	return finish(&o);
}

static void check_double(double v, int decimals, const char *want)
{
	char got[256];
	char *s = double_of(v, decimals);
	snprintf(got, sizeof(got), "%s", s);
	free(s);
	assert_string_equal(got, want);
}

static void test_json_double_with_decimals(void **state)
{
	(void)state;
	check_double(1763810000.25, 2, "1763810000.25");
	check_double(1.5, 3, "1.500");
	check_double(2.0 / 3.0, 1, "0.7");
	check_double(-12.345, 2, "-12.35");
	check_double(42.0, 0, "42");
}

static void test_json_double_nan_and_infinity_are_null(void **state)
{
	(void)state;
	check_double(NAN, 2, "null");
	check_double(INFINITY, 2, "null");
	check_double(-INFINITY, 0, "null");
}

static void test_json_kv_double_nan_in_object(void **state)
{
	(void)state;
	struct out o;
	start(&o);
	json_object_begin(&o.j);
	json_kv_double(&o.j, "rate", NAN, 1);
	json_kv_double(&o.j, "time", 0.25, 2);
	json_object_end(&o.j);
	char *s = finish(&o);
	assert_string_equal(s, "{\"rate\":null,\"time\":0.25}");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_string_plain_ascii),
		cmocka_unit_test(test_json_string_escapes_quote_and_backslash),
		cmocka_unit_test(test_json_string_escapes_control_characters),
		cmocka_unit_test(test_json_string_keeps_valid_multibyte_utf8),
		cmocka_unit_test(test_json_string_escapes_c1_controls),
		cmocka_unit_test(test_json_string_replaces_invalid_bytes),
		cmocka_unit_test(test_json_string_replaces_truncated_sequence),
		cmocka_unit_test(test_json_string_replaces_overlong_two_byte),
		cmocka_unit_test(test_json_string_replaces_overlong_three_byte),
		cmocka_unit_test(test_json_string_replaces_overlong_four_byte),
		cmocka_unit_test(test_json_string_replaces_utf16_surrogate),
		cmocka_unit_test(test_json_string_replaces_code_point_above_10ffff),
		cmocka_unit_test(test_json_key_is_escaped),
		cmocka_unit_test(test_json_commas_in_flat_object),
		cmocka_unit_test(test_json_commas_in_nested_arrays_and_objects),
		cmocka_unit_test(test_json_top_level_array_of_values),
		cmocka_unit_test(test_json_double_with_decimals),
		cmocka_unit_test(test_json_double_nan_and_infinity_are_null),
		cmocka_unit_test(test_json_kv_double_nan_in_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
