/* perfring.h - records out of a perf_event mmap ring
 *
 * The kernel writes records (struct perf_event_header first) into a ring
 * of data_size bytes (a power of two) after the mmap's first page, moving
 * data_head; the reader consumes from data_tail. A record may wrap the
 * ring's end: it is then copied whole into a scratch buffer. Shared by
 * the tracepoint readers (sigtrace.c, pftrace.c).
 */
#ifndef COWPROF_COLLECTORS_PERFRING_H
#define COWPROF_COLLECTORS_PERFRING_H

#include <stddef.h>
#include <stdint.h>

/* Where wrapped records are put together; zero it first, free buf. */
struct perfring_scratch {
	unsigned char *buf;
	size_t cap;
};

/* The record at *tail, before head (data_head read with acquire order):
 * its bytes, contiguous, and its size in *size; *tail moves past it.
 * Returns NULL when no record is left, or when the header is impossible
 * (then *tail = head: the reader resynchronizes, losing what was there). */
const unsigned char *perfring_next(const unsigned char *data, uint64_t data_size,
				   uint64_t *tail, uint64_t head,
				   struct perfring_scratch *sc, size_t *size);

#endif
