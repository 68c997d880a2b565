/* pystack.c - print the Python frames of every thread of a CPython 3.11
 * process, innermost first, read from outside with process_vm_readv.
 *
 *   pystack [-b ITERS] PID [TID]
 *
 * Memory is read through pyframe_read_cached, or with one
 * process_vm_readv a read (pyframe_read_pid) when PYSTACK_NOCACHE is set.
 * -b ITERS also times ITERS walks (with names) of each thread and prints
 * the mean time of one to stderr.
 * Output: "thread TID" then one "  QUALNAME FILE:LINE" line per frame, for
 * each thread that has a Python thread state. Exit 1 with a one-line reason
 * when the process runs no CPython 3.11 we can read. */
#include "collectors/pyframe.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FRAMES 256

static int bench_iters;

/* Time bench_iters walks of thread state ts, names included. */
static void bench(const struct pyframe_layout *l, pid_t pid, pid_t tid,
		  uint64_t ts)
{
	struct pyframe f[MAX_FRAMES];
	char name[256], file[1024];
	int n = 0;
	double t0 = (util_clock_s(CLOCK_MONOTONIC) * 1e6);
	for (int i = 0; i < bench_iters; i++)
		n = pyframe_walk(l, pyframe_read_pid, &pid, ts, f, MAX_FRAMES);
	fprintf(stderr, "thread %d: %d frames, %.2f us a walk\n", (int)tid, n,
		((util_clock_s(CLOCK_MONOTONIC) * 1e6) - t0) / bench_iters);
	t0 = (util_clock_s(CLOCK_MONOTONIC) * 1e6);
	for (int i = 0; i < bench_iters; i++) {
		n = pyframe_walk(l, pyframe_read_pid, &pid, ts, f, MAX_FRAMES);
		for (int j = 0; j < n; j++)
			pyframe_code_names(l, pyframe_read_pid, &pid, f[j].code,
					   name, sizeof(name), file,
					   sizeof(file));
	}
	fprintf(stderr, "thread %d: %d frames, %.2f us a walk with names\n",
		(int)tid, n, ((util_clock_s(CLOCK_MONOTONIC) * 1e6) - t0) / bench_iters);
	struct pyframe_cache *c = malloc(sizeof(*c));
	pyframe_cache_init(c, pid);
	t0 = (util_clock_s(CLOCK_MONOTONIC) * 1e6);
	for (int i = 0; i < bench_iters; i++) {
		pyframe_cache_reset(c);
		n = pyframe_walk(l, pyframe_read_cached, c, ts, f, MAX_FRAMES);
	}
	fprintf(stderr, "thread %d: %d frames, %.2f us a walk (page cache)\n",
		(int)tid, n, ((util_clock_s(CLOCK_MONOTONIC) * 1e6) - t0) / bench_iters);
	t0 = (util_clock_s(CLOCK_MONOTONIC) * 1e6);
	for (int i = 0; i < bench_iters; i++) {
		pyframe_cache_reset(c);
		n = pyframe_walk(l, pyframe_read_cached, c, ts, f, MAX_FRAMES);
		for (int j = 0; j < n; j++)
			pyframe_code_names(l, pyframe_read_cached, c, f[j].code,
					   name, sizeof(name), file,
					   sizeof(file));
	}
	fprintf(stderr, "thread %d: %d frames, %.2f us a walk with names "
		"(page cache)\n", (int)tid, n, ((util_clock_s(CLOCK_MONOTONIC) * 1e6) - t0) / bench_iters);
	free(c);
}

/* Print the frames of thread tid, read through the page cache c (or, when
 * c is NULL, one process_vm_readv a read). Returns 1 if it has a thread
 * state. */
static int print_thread(const struct pyframe_layout *l, pid_t pid, pid_t tid,
			struct pyframe_cache *c)
{
	struct pyframe f[MAX_FRAMES];
	char name[256], file[1024];
	pyframe_read_fn rd = c ? pyframe_read_cached : pyframe_read_pid;
	void *ctx = c ? (void *)c : (void *)&pid;
	uint64_t ts = pyframe_thread_state(l, pyframe_read_pid, &pid, tid);
	int n;

	if (!ts)
		return 0;
	if (bench_iters > 0)
		bench(l, pid, tid, ts);
	if (c)
		pyframe_cache_reset(c);
	n = pyframe_walk(l, rd, ctx, ts, f, MAX_FRAMES);
	printf("thread %d\n", (int)tid);
	if (n < 0) {
		printf("  (frame chain unreadable)\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (pyframe_code_names(l, rd, ctx, f[i].code, name,
				       sizeof(name), file, sizeof(file)) < 0)
			printf("  ? (code 0x%llx) ?:%d\n",
			       (unsigned long long)f[i].code, f[i].line);
		else
			printf("  %s %s:%d\n", name, file, f[i].line);
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct pyframe_layout l;
	char why[512], path[64];
	pid_t pid;
	int r, shown = 0;

	if (argc > 2 && !strcmp(argv[1], "-b")) {
		bench_iters = atoi(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: pystack [-b ITERS] PID [TID]\n");
		return 2;
	}
	pid = atoi(argv[1]);
	struct pyframe_cache *c = NULL;
	if (!getenv("PYSTACK_NOCACHE")) {
		c = malloc(sizeof(*c));
		if (!c)
			return 1;
		pyframe_cache_init(c, pid);
	}
	r = pyframe_layout_find(NULL, pid, &l, why, sizeof(why));
	if (r < 0) {
		printf("pystack: pid %d: %s\n", (int)pid, why);
		return 1;
	}
	if (argc == 3) {
		shown = print_thread(&l, pid, atoi(argv[2]), c);
	} else {
		snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
		DIR *d = opendir(path);
		struct dirent *e;
		if (!d) {
			printf("pystack: pid %d: %s\n", (int)pid, strerror(errno));
			return 1;
		}
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				shown += print_thread(&l, pid, atoi(e->d_name), c);
		closedir(d);
	}
	free(c);
	if (!shown) {
		printf("pystack: pid %d: no thread with a Python thread state\n",
		       (int)pid);
		return 1;
	}
	return 0;
}
