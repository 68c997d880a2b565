/* pyframe_inproc.c - a shared library loaded with ctypes into a CPython 3.11
 * process that reads the calling thread's own Python frames the way the
 * preload library's fault handler does (pyframe_read_self, gettid()), to
 * check the in-process path against Python's own view and to time it.
 * Built to build/libpyframe_inproc.so; used by tests/bench/bench_pyframe.py
 * and tests/integration/test_pyframe.py. */
#include "collectors/pyframe.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAMES 128

int pyframe_inproc_walk(int iters, int names, double *ns_per_walk, char *out,
			size_t outlen);

static struct pyframe_layout layout;
static int found;   /* 0 not yet, 1 found, <0 -errno */

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Walk the calling thread's frames iters times (with the names of every
 * frame when names), put the mean time of one walk in *ns_per_walk and the
 * last walk's frames in out, one "QUALNAME FILE:LINE" line each. Returns
 * the number of frames, or -1 with the reason in out. */
int pyframe_inproc_walk(int iters, int names, double *ns_per_walk, char *out,
			size_t outlen)
{
	struct pyframe f[MAX_FRAMES];
	char name[256], file[512];
	int n = 0;
	size_t o = 0;

	if (!found) {
		int r = pyframe_layout_find(NULL, 0, &layout, out, outlen);
		found = r < 0 ? r : 1;
		if (r < 0)
			return -1;
	}
	if (found < 0) {
		snprintf(out, outlen, "layout not found (%d)", found);
		return -1;
	}
	pid_t tid = gettid();
	double t0 = now_ns();
	for (int i = 0; i < iters; i++) {
		uint64_t ts = pyframe_thread_state(&layout, pyframe_read_self,
						   NULL, tid);
		n = pyframe_walk(&layout, pyframe_read_self, NULL, ts, f,
				 MAX_FRAMES);
		for (int j = 0; names && j < n; j++)
			pyframe_code_names(&layout, pyframe_read_self, NULL,
					   f[j].code, name, sizeof(name), file,
					   sizeof(file));
	}
	*ns_per_walk = (now_ns() - t0) / (iters ? iters : 1);
	out[0] = 0;
	for (int j = 0; j < n && o < outlen; j++) {
		pyframe_code_names(&layout, pyframe_read_self, NULL, f[j].code,
				   name, sizeof(name), file, sizeof(file));
		o += (size_t)snprintf(out + o, outlen - o, "%s %s:%d\n", name,
				      file, f[j].line);
	}
	return n;
}
