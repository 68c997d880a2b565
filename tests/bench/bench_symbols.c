/* bench_symbols.c - cost of the symbol cache: loading libpython3.11's and
 * the interpreter's symbols, and lookups per second over the executable
 * mappings of a running /usr/bin/python3. Prints figures, asserts nothing. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../collectors/maps.h"
#include "../../collectors/symbols.h"
#include "../../collectors/util.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median time of a cold load (new cache, first lookup) of path. */
static void bench_load(const char *path)
{
	enum { RUNS = 15 };
	double t[RUNS];
	struct symbols_frame f;
	int err = 0;
	for (int i = 0; i < RUNS; i++) {
		struct symbols *s = symbols_new();
		double t0 = now_s();
		err = symbols_resolve(s, path, 0x30000, &f);
		t[i] = now_s() - t0;
		symbols_free(s);
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	printf("load %-45s %7.2f ms median (min %.2f) %s\n", path,
	       t[RUNS / 2] * 1e3, t[0] * 1e3, err ? "(failed)" : "");
}

int main(void)
{
	bench_load("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0");
	bench_load("/usr/bin/python3.11");
	bench_load("/usr/lib/x86_64-linux-gnu/libc.so.6");
	bench_load("build/symtarget/symtarget");

	pid_t pid = fork();
	if (pid == 0) {
		execl("/usr/bin/python3", "python3", "-c",
		      "import json, decimal, ssl, time; time.sleep(60)", (char *)NULL);
		_exit(127);
	}
	sleep(1);
	char path[64], *text;
	size_t len, n;
	struct maps_region *maps;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if (util_read_file(path, &text, &len) < 0 ||
	    maps_parse(text, len, &maps, &n) < 0) {
		kill(pid, SIGKILL);
		return 1;
	}
	free(text);
	/* random addresses in the executable file mappings */
	enum { NIPS = 1 << 16, LOOKUPS = 2000000 };
	uint64_t *ips = xmalloc(NIPS * sizeof(*ips));
	size_t nexec = 0;
	uint64_t exec_bytes = 0;
	for (size_t i = 0; i < n; i++)
		if (maps[i].exec && maps[i].path[0] == '/') {
			nexec++;
			exec_bytes += maps[i].end - maps[i].start;
		}
	srandom(1);
	for (int k = 0; k < NIPS; k++) {
		uint64_t x = ((uint64_t)random() << 31 | random()) % exec_bytes;
		for (size_t i = 0; i < n; i++) {
			if (!maps[i].exec || maps[i].path[0] != '/')
				continue;
			uint64_t sz = maps[i].end - maps[i].start;
			if (x < sz) {
				ips[k] = maps[i].start + x;
				break;
			}
			x -= sz;
		}
	}
	struct symbols *s = symbols_new();
	struct symbols_frame f;
	double t0 = now_s();
	for (int k = 0; k < NIPS; k++)
		symbols_resolve_ip(s, pid, maps, n, ips[k], &f);
	double warm = now_s() - t0;
	size_t named = 0;
	t0 = now_s();
	for (int k = 0; k < LOOKUPS; k++) {
		symbols_resolve_ip(s, pid, maps, n, ips[k % NIPS], &f);
		named += f.function != NULL;
	}
	double dt = now_s() - t0;
	printf("python3 pid %d: %zu executable file mappings, first pass over "
	       "%d ips (loads every file) %.1f ms\n", (int)pid, nexec, NIPS,
	       warm * 1e3);
	printf("lookups: %d in %.3f s = %.2f M/s (%.0f ns each), %.1f%% named\n",
	       LOOKUPS, dt, LOOKUPS / dt / 1e6, dt / LOOKUPS * 1e9,
	       100.0 * named / LOOKUPS);
	symbols_free(s);
	maps_free(maps, n);
	free(ips);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}
