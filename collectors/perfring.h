/* perfring.h - records out of a perf_event mmap ring
 *
 * The kernel writes records (struct perf_event_header first) into a ring
 * of data_size bytes (a power of two) after the mmap's first page, moving
 * data_head; the reader consumes from data_tail. A record may wrap the
 * ring's end: it is then copied whole into a scratch buffer. Also what
 * both tracepoint readers (sigtrace.c, pftrace.c) need to open events and
 * map their rings.
 */
#ifndef COWPROF_COLLECTORS_PERFRING_H
#define COWPROF_COLLECTORS_PERFRING_H

#include <stddef.h>
#include <stdint.h>

struct perf_event_attr;
struct perf_event_mmap_page;

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

/* perf_event_open(a, pid, cpu, group_fd) with FD_CLOEXEC: the fd, or
 * -errno. */
int perfring_event_open(struct perf_event_attr *a, int pid, int cpu,
			int group_fd);

/* Write "WHAT: perf_event_open: REASON" into err (saying that root or
 * CAP_PERFMON is needed for -EACCES and -EPERM); returns e. */
int perfring_error(int e, char *err, size_t errlen, const char *what);

/* The online CPUs (/sys/devices/system/cpu/online, "0-3,6"; else 0 to
 * sysconf's count - 1): fills *cpus (caller frees), returns how many
 * (at least 1). */
int perfring_online_cpus(int **cpus);

/* A mapped ring: its control page, its data, and the mapping's length. */
struct perfring_map {
	struct perf_event_mmap_page *meta;
	unsigned char *data;
	uint64_t data_size;
	size_t len;
};

/* Map the ring of event fd: one control page and pages (a power of two)
 * of data. Returns 0, or -errno with a line in err. */
int perfring_mmap(int fd, size_t pages, struct perfring_map *m, char *err,
		  size_t errlen);

/* Add event fd to epoll set epfd, tagged with tag. Returns 0, or -errno
 * with a line in err. */
int perfring_watch(int epfd, int fd, uint64_t tag, char *err, size_t errlen);

/* Unmap it; a ring never mapped (meta NULL) is fine. */
void perfring_munmap(struct perfring_map *m);

#endif
