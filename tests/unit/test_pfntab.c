/* test_pfntab.c - the PFN set with dense indexes */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "measure/pfntab.h"

static void test_pfntab_insert_then_find(void **state)
{
	(void)state;
	struct pfntab t;
	pfntab_init(&t, 0);
	uint32_t i = pfntab_insert(&t, 0x12345);
	assert_int_equal(i, 0);
	assert_int_equal(pfntab_find(&t, 0x12345), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.pfn[0], 0x12345);
	pfntab_release(&t);
}

static void test_pfntab_find_absent_gives_uint32_max(void **state)
{
	(void)state;
	struct pfntab t;
	pfntab_init(&t, 10);
	assert_int_equal(pfntab_find(&t, 42), UINT32_MAX);
	pfntab_insert(&t, 41);
	pfntab_insert(&t, 43);
	assert_int_equal(pfntab_find(&t, 42), UINT32_MAX);
	pfntab_release(&t);
}

static void test_pfntab_indexes_are_dense_in_insert_order(void **state)
{
	(void)state;
	struct pfntab t;
	pfntab_init(&t, 4);
	const uint64_t pfns[] = {900, 3, 0x7fffffffffffffULL, 17, 1};
	for (uint32_t k = 0; k < 5; k++)
		assert_int_equal(pfntab_insert(&t, pfns[k]), k);
	assert_int_equal(t.n, 5);
	for (uint32_t k = 0; k < 5; k++) {
		assert_int_equal(t.pfn[k], pfns[k]);
		assert_int_equal(pfntab_find(&t, pfns[k]), k);
	}
	pfntab_release(&t);
}

static void test_pfntab_insert_existing_returns_same_index(void **state)
{
	(void)state;
	struct pfntab t;
	pfntab_init(&t, 4);
	assert_int_equal(pfntab_insert(&t, 77), 0);
	assert_int_equal(pfntab_insert(&t, 78), 1);
	t.count[0] = 5;
	t.flags[0] = 0x3;
	assert_int_equal(pfntab_insert(&t, 77), 0);
	assert_int_equal(t.n, 2);
	/* a repeated insert keeps the caller's per-page facts */
	assert_int_equal(t.count[0], 5);
	assert_int_equal(t.flags[0], 0x3);
	pfntab_release(&t);
}

static void test_pfntab_counts_and_flags_start_at_zero(void **state)
{
	(void)state;
	struct pfntab t;
	pfntab_init(&t, 0);
	for (uint64_t p = 1; p <= 5000; p++) {
		uint32_t i = pfntab_insert(&t, p);
		assert_int_equal(t.count[i], 0);
		assert_int_equal(t.flags[i], 0);
		/* dirty them so a reused allocation would show */
		t.count[i] = 0xdeadbeef;
		t.flags[i] = 0xff;
	}
	pfntab_release(&t);
	pfntab_init(&t, 0);
	for (uint64_t p = 1; p <= 5000; p++) {
		uint32_t i = pfntab_insert(&t, p * 7);
		assert_int_equal(t.count[i], 0);
		assert_int_equal(t.flags[i], 0);
	}
	pfntab_release(&t);
}

static void test_pfntab_grows_past_initial_capacity(void **state)
{
	(void)state;
	struct pfntab t;
	pfntab_init(&t, 16);
	size_t first_slots = t.mask + 1;
	const uint32_t n = 100000;
	/* PFNs spread like real memory: clustered runs and far-apart pages */
	for (uint32_t k = 0; k < n; k++) {
		uint64_t pfn = (k % 2) ? (1ULL << 40) + k : (uint64_t)k * 4099 + 1;
		assert_int_equal(pfntab_insert(&t, pfn), k);
	}
	assert_int_equal(t.n, n);
	assert_true(t.mask + 1 > first_slots);
	assert_true(t.cap >= n);
	/* the table stays at most half full */
	assert_true(t.n * 2 <= t.mask + 1);
	for (uint32_t k = 0; k < n; k++) {
		uint64_t pfn = (k % 2) ? (1ULL << 40) + k : (uint64_t)k * 4099 + 1;
		uint32_t i = pfntab_find(&t, pfn);
		if (i != k)
			fail_msg("pfn %#llx: index %u, want %u",
				 (unsigned long long)pfn, i, k);
		assert_int_equal(t.pfn[i], pfn);
	}
	assert_int_equal(pfntab_find(&t, 1ULL << 40), UINT32_MAX);
	pfntab_release(&t);
}

static void test_pfntab_init_sizes_for_expected(void **state)
{
	(void)state;
	struct pfntab t;
	pfntab_init(&t, 3000);
	assert_true(t.mask + 1 >= 6000);
	assert_int_equal((t.mask + 1) & t.mask, 0);  /* a power of two */
	assert_int_equal(t.n, 0);
	pfntab_release(&t);
}

static void test_pfntab_keys_colliding_in_low_bits(void **state)
{
	(void)state;
	struct pfntab t;
	pfntab_init(&t, 0);
	/* multiples of a large power of two: the same low bits */
	for (uint32_t k = 0; k < 3000; k++)
		assert_int_equal(pfntab_insert(&t, ((uint64_t)k + 1) << 30), k);
	for (uint32_t k = 0; k < 3000; k++)
		assert_int_equal(pfntab_find(&t, ((uint64_t)k + 1) << 30), k);
	pfntab_release(&t);
}

static void test_pfntab_release_empties(void **state)
{
	(void)state;
	struct pfntab t;
	pfntab_init(&t, 0);
	pfntab_insert(&t, 5);
	pfntab_release(&t);
	assert_null(t.keys);
	assert_null(t.pfn);
	assert_int_equal(t.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pfntab_insert_then_find),
		cmocka_unit_test(test_pfntab_find_absent_gives_uint32_max),
		cmocka_unit_test(test_pfntab_indexes_are_dense_in_insert_order),
		cmocka_unit_test(test_pfntab_insert_existing_returns_same_index),
		cmocka_unit_test(test_pfntab_counts_and_flags_start_at_zero),
		cmocka_unit_test(test_pfntab_grows_past_initial_capacity),
		cmocka_unit_test(test_pfntab_init_sizes_for_expected),
		cmocka_unit_test(test_pfntab_keys_colliding_in_low_bits),
		cmocka_unit_test(test_pfntab_release_empties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
