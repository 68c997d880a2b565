/* test_burst.c - when --fault-period auto goes to one in N and back */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "faults/burst.h"

#define MS 1000000ULL
#define T0 (1000000 * MS)  /* sample times are since the epoch */

static void test_burst_trickle_stays_at_every_fault(void **state)
{
	(void)state;
	struct burst b = { 0 };
	/* 49 faults in each 10 ms: never 50 within one window */
	for (int w = 0; w < 20; w++)
		for (int i = 0; i < 49; i++)
			assert_false(burst_count(&b, T0 + (uint64_t)w * 11 * MS +
						 (uint64_t)i * 100000, 1));
	assert_false(b.on);
	assert_int_equal(burst_weight(&b, 1, 32), 1);
}

static void test_burst_fifty_within_ten_ms_switch_on(void **state)
{
	(void)state;
	struct burst b = { 0 };
	for (int i = 0; i < 49; i++)
		assert_false(burst_count(&b, T0 + (uint64_t)i * 100000, 1));
	assert_true(burst_count(&b, T0 + 49 * 100000, 1));
	assert_true(b.on);
	assert_int_equal(b.since_ns, T0 + 49 * 100000);
	/* once on, more samples do not switch again */
	assert_false(burst_count(&b, T0 + 5 * MS, 32));
}

static void test_burst_window_restarts_after_ten_ms(void **state)
{
	(void)state;
	struct burst b = { 0 };
	for (int i = 0; i < 40; i++)
		assert_false(burst_count(&b, T0 + (uint64_t)i * 1000, 1));
	/* 11 ms later: the 40 are forgotten */
	for (int i = 0; i < 40; i++)
		assert_false(burst_count(&b, T0 + 11 * MS + (uint64_t)i * 1000, 1));
	assert_int_equal(b.faults, 40);
}

static void test_burst_weighted_samples_count_their_faults(void **state)
{
	(void)state;
	struct burst b = { 0 };
	assert_false(burst_count(&b, T0, 32));
	assert_true(burst_count(&b, T0 + MS, 32));  /* 64 faults */
}

static void test_burst_ends_when_samples_stop(void **state)
{
	(void)state;
	struct burst b = { 0 };
	for (int i = 0; i < 50; i++)
		burst_count(&b, T0 + (uint64_t)i * 1000, 1);
	assert_true(b.on);
	uint64_t on_at = b.since_ns;
	/* busy: 10 samples of 32 in the first 200 ms keep it on */
	for (int i = 0; i < 10; i++)
		assert_false(burst_count(&b, on_at + (uint64_t)i * 10 * MS, 32));
	assert_false(burst_over(&b, on_at + 199 * MS));
	assert_false(burst_over(&b, on_at + 200 * MS));
	assert_true(b.on);
	assert_int_equal(b.faults, 0);  /* a new window */
	/* then 6 samples (192 faults) in 200 ms: over */
	for (int i = 0; i < 6; i++)
		burst_count(&b, on_at + 210 * MS + (uint64_t)i * MS, 32);
	assert_false(burst_over(&b, on_at + 300 * MS));
	assert_true(burst_over(&b, on_at + 400 * MS));
	assert_false(b.on);
	assert_false(burst_over(&b, on_at + 900 * MS));  /* off stays off */
}

static void test_burst_thins_every_fault_samples_while_on(void **state)
{
	(void)state;
	struct burst b = { 0 };
	for (int i = 0; i < 50; i++)
		burst_count(&b, T0 + (uint64_t)i * 1000, 1);
	/* 64 samples taken at every fault, read after the switch: 2 kept,
	 * each for 32 */
	uint64_t sum = 0, kept = 0;
	for (int i = 0; i < 64; i++) {
		uint64_t w = burst_weight(&b, 1, 32);
		sum += w;
		kept += w > 0;
	}
	assert_int_equal(kept, 2);
	assert_int_equal(sum, 64);
	/* the burst events' own samples stand for their period */
	assert_int_equal(burst_weight(&b, 32, 32), 32);
	/* a period of 4 before the switch: one in 8, for 32 */
	assert_int_equal(burst_weight(&b, 4, 32) + burst_weight(&b, 4, 32), 32);
}

static void test_burst_older_sample_counts_in_the_window(void **state)
{
	(void)state;
	struct burst b = { 0 };
	burst_count(&b, T0 + 5 * MS, 1);
	/* an older sample from another CPU's ring counts in the window (its
	 * negative age is not taken for a huge one) */
	burst_count(&b, T0, 1);
	assert_true(b.faults <= 2);
	assert_false(b.on);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_trickle_stays_at_every_fault),
		cmocka_unit_test(test_burst_fifty_within_ten_ms_switch_on),
		cmocka_unit_test(test_burst_window_restarts_after_ten_ms),
		cmocka_unit_test(test_burst_weighted_samples_count_their_faults),
		cmocka_unit_test(test_burst_ends_when_samples_stop),
		cmocka_unit_test(test_burst_thins_every_fault_samples_while_on),
		cmocka_unit_test(test_burst_older_sample_counts_in_the_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
