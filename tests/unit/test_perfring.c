/* test_perfring.c - records out of a perf_event mmap ring: contiguous,
 * wrapping the ring's end, and impossible headers */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/perfring.h"

#define RING 64

/* Write a record of size bytes (header + filler byte fill) at offset pos. */
static void put(unsigned char *ring, uint64_t pos, uint16_t size, unsigned char fill)
{
	unsigned char rec[RING];
	struct perf_event_header h = { .type = PERF_RECORD_SAMPLE, .size = size };
	memset(rec, fill, sizeof(rec));
	memcpy(rec, &h, sizeof(h));
	for (uint16_t i = 0; i < size; i++)
		ring[(pos + i) % RING] = rec[i];
}

static void test_perfring_reads_records_and_wraps(void **state)
{
	(void)state;
	unsigned char ring[RING];
	struct perfring_scratch sc = { 0 };
	/* 40 bytes at 16, then 24 bytes at 56: the second wraps the end */
	put(ring, 16, 40, 0xaa);
	put(ring, 56, 24, 0xbb);
	uint64_t tail = 16, head = 80;
	size_t size;
	const unsigned char *r = perfring_next(ring, RING, &tail, head, &sc, &size);
	assert_ptr_equal(r, ring + 16);   /* contiguous: read in place */
	assert_int_equal(size, 40);
	assert_int_equal(tail, 56);
	r = perfring_next(ring, RING, &tail, head, &sc, &size);
	assert_ptr_equal(r, sc.buf);      /* wrapped: put together */
	assert_int_equal(size, 24);
	assert_int_equal(r[8], 0xbb);
	assert_int_equal(r[23], 0xbb);
	assert_int_equal(tail, 80);
	assert_null(perfring_next(ring, RING, &tail, head, &sc, &size));
	free(sc.buf);
}

/* A header the kernel cannot have written: resynchronize at head. */
static void test_perfring_resyncs_on_impossible_headers(void **state)
{
	(void)state;
	unsigned char ring[RING];
	struct perfring_scratch sc = { 0 };
	size_t size;
	put(ring, 0, 4, 0);                    /* smaller than a header */
	uint64_t tail = 0, head = 32;
	assert_null(perfring_next(ring, RING, &tail, head, &sc, &size));
	assert_int_equal(tail, 32);
	put(ring, 0, 48, 0);                   /* longer than what was written */
	tail = 0;
	assert_null(perfring_next(ring, RING, &tail, head, &sc, &size));
	assert_int_equal(tail, 32);
	tail = 28;                             /* 4 bytes left: no header */
	assert_null(perfring_next(ring, RING, &tail, head, &sc, &size));
	assert_int_equal(tail, 32);
	free(sc.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perfring_reads_records_and_wraps),
		cmocka_unit_test(test_perfring_resyncs_on_impossible_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
