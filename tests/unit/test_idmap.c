/* test_idmap.c - the byte-string to id hash map */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "faults/idmap.h"

static void test_idmap_put_get_replace(void **state)
{
	(void)state;
	struct idmap *m = idmap_new();
	int64_t id = 0;
	assert_false(idmap_get(m, "a", 1, &id));
	idmap_put(m, "a", 1, 7);
	idmap_put(m, "ab", 2, 8);
	idmap_put(m, "", 0, 9);
	assert_true(idmap_get(m, "a", 1, &id));
	assert_int_equal(id, 7);
	assert_true(idmap_get(m, "ab", 2, &id));
	assert_int_equal(id, 8);
	assert_true(idmap_get(m, "", 0, &id));
	assert_int_equal(id, 9);
	idmap_put(m, "a", 1, 70);
	assert_true(idmap_get(m, "a", 1, &id));
	assert_int_equal(id, 70);
	assert_int_equal(idmap_count(m), 3);
	idmap_free(m);
	idmap_free(NULL);
}

/* Many binary keys through several growths: every one found again. */
static void test_idmap_many_keys(void **state)
{
	(void)state;
	struct idmap *m = idmap_new();
	for (int64_t i = 0; i < 100000; i++) {
		int64_t key[2] = { i, i * 31 };
		idmap_put(m, key, sizeof(key), i + 1);
	}
	assert_int_equal(idmap_count(m), 100000);
	for (int64_t i = 0; i < 100000; i++) {
		int64_t key[2] = { i, i * 31 }, id = 0;
		assert_true(idmap_get(m, key, sizeof(key), &id));
		assert_int_equal(id, i + 1);
	}
	int64_t miss[2] = { 5, 6 }, id;
	assert_false(idmap_get(m, miss, sizeof(miss), &id));
	idmap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idmap_put_get_replace),
		cmocka_unit_test(test_idmap_many_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
