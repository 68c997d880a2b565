/* perfring.c - records out of a perf_event mmap ring */
#include "collectors/perfring.h"
#include "common/util.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Copy len bytes at ring offset at (wrapping) into out. */
static void copy_out(const unsigned char *data, uint64_t data_size, uint64_t at,
		     void *out, size_t len)
{
	size_t first = (size_t)(data_size - at);
	if (len <= first) {
		memcpy(out, data + at, len);
		return;
	}
	memcpy(out, data + at, first);
	memcpy((unsigned char *)out + first, data, len - first);
}

const unsigned char *perfring_next(const unsigned char *data, uint64_t data_size,
				   uint64_t *tail, uint64_t head,
				   struct perfring_scratch *sc, size_t *size)
{
	struct perf_event_header h;
	if (*tail >= head)
		return NULL;
	uint64_t at = *tail & (data_size - 1);
	if (head - *tail >= sizeof(h))
		copy_out(data, data_size, at, &h, sizeof(h));
	if (head - *tail < sizeof(h) || h.size < sizeof(h) || h.size > head - *tail) {
		*tail = head;  /* cannot happen with a sane kernel: resync */
		return NULL;
	}
	*tail += h.size;
	*size = h.size;
	if (at + h.size <= data_size)
		return data + at;
	util_grow((void **)&sc->buf, &sc->cap, h.size, 1);
	copy_out(data, data_size, at, sc->buf, h.size);
	return sc->buf;
}

int perfring_event_open(struct perf_event_attr *a, int pid, int cpu,
			int group_fd)
{
	long fd = syscall(SYS_perf_event_open, a, pid, cpu, group_fd,
			  PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : (int)fd;
}

int perfring_error(int e, char *err, size_t errlen, const char *what)
{
	if (e == -EACCES || e == -EPERM)
		snprintf(err, errlen, "%s: perf_event_open not allowed (needs root or CAP_PERFMON)",
			 what);
	else
		snprintf(err, errlen, "%s: perf_event_open: %s", what, strerror(-e));
	return e;
}

int perfring_online_cpus(int **cpus)
{
	char *text;
	size_t len;
	*cpus = NULL;
	size_t n = 0, cap = 0;
	if (util_read_file("/sys/devices/system/cpu/online", &text, &len) == 0) {
		char *p = text;
		while (*p >= '0' && *p <= '9') {
			char *end;
			long a = strtol(p, &end, 10), b = a;
			if (*end == '-')
				b = strtol(end + 1, &end, 10);
			for (long c = a; c <= b && c < 65536; c++) {
				util_grow((void **)cpus, &cap, n + 1, sizeof(int));
				(*cpus)[n++] = (int)c;
			}
			p = *end == ',' ? end + 1 : end;
		}
		free(text);
	}
	if (n == 0) {
		long k = sysconf(_SC_NPROCESSORS_ONLN);
		for (long c = 0; c < (k > 0 ? k : 1); c++) {
			util_grow((void **)cpus, &cap, n + 1, sizeof(int));
			(*cpus)[n++] = (int)c;
		}
	}
	return (int)n;
}

int perfring_mmap(int fd, size_t pages, struct perfring_map *m, char *err,
		  size_t errlen)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	memset(m, 0, sizeof(*m));
	void *p = mmap(NULL, (pages + 1) * page, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;
		snprintf(err, errlen, "perf ring mmap (%zu KiB): %s",
			 pages * page / 1024, strerror(e));
		return -e;
	}
	m->len = (pages + 1) * page;
	m->meta = p;
	m->data = (unsigned char *)p + (m->meta->data_offset ? m->meta->data_offset : page);
	m->data_size = m->meta->data_size ? m->meta->data_size : pages * page;
	return 0;
}

int perfring_watch(int epfd, int fd, uint64_t tag, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
		return 0;
	int e = errno;
	snprintf(err, errlen, "epoll_ctl: %s", strerror(e));
	return -e;
}

void perfring_munmap(struct perfring_map *m)
{
	if (m->meta)
		munmap(m->meta, m->len);
	memset(m, 0, sizeof(*m));
}
