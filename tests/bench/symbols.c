/* symbols.c - cost of the symbol cache: loading libpython3.11's and
 * the interpreter's symbols, and lookups per second over the executable
 * mappings of a running /usr/bin/python3; and of unwinding that python3's
 * stack from a ptrace snapshot (registers + 16 KiB of stack). Prints
 * figures, asserts nothing. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collectors/maps.h"
#include "collectors/symbols.h"
#include "collectors/unwind.h"
#include "common/util.h"

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
		double t0 = (util_clock_s(CLOCK_MONOTONIC));
		err = symbols_resolve(s, path, 0x30000, &f);
		t[i] = (util_clock_s(CLOCK_MONOTONIC)) - t0;
		symbols_free(s);
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	printf("load %-45s %7.2f ms median (min %.2f) %s\n", path,
	       t[RUNS / 2] * 1e3, t[0] * 1e3, err ? "(failed)" : "");
}

/* Stop pid, snapshot its registers and stack, unwind it repeatedly. */
static void bench_unwind(pid_t pid, const struct maps_region *maps, size_t n)
{
	if (ptrace(PTRACE_ATTACH, pid, 0, 0) != 0 || waitpid(pid, NULL, 0) != pid)
		return;
	struct user_regs_struct ur;
	uint64_t regs[UNWIND_NREGS] = { 0 };
	ptrace(PTRACE_GETREGS, pid, 0, &ur);
	regs[UNWIND_REG_AX] = ur.rax; regs[UNWIND_REG_BX] = ur.rbx;
	regs[UNWIND_REG_CX] = ur.rcx; regs[UNWIND_REG_DX] = ur.rdx;
	regs[UNWIND_REG_SI] = ur.rsi; regs[UNWIND_REG_DI] = ur.rdi;
	regs[UNWIND_REG_BP] = ur.rbp; regs[UNWIND_REG_SP] = ur.rsp;
	regs[UNWIND_REG_IP] = ur.rip;
	regs[UNWIND_REG_R8] = ur.r8; regs[UNWIND_REG_R9] = ur.r9;
	regs[UNWIND_REG_R10] = ur.r10; regs[UNWIND_REG_R11] = ur.r11;
	regs[UNWIND_REG_R12] = ur.r12; regs[UNWIND_REG_R13] = ur.r13;
	regs[UNWIND_REG_R14] = ur.r14; regs[UNWIND_REG_R15] = ur.r15;
	const struct maps_region *sr = symbols_find_mapping(maps, n, ur.rsp);
	size_t len = sr && sr->end - ur.rsp < 16384 ? sr->end - ur.rsp : 16384;
	uint8_t *stack = xmalloc(len);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, stack, len, (off_t)ur.rsp) != (ssize_t)len)
		len = 0;
	if (fd >= 0)
		close(fd);
	enum { RUNS = 2000 };
	uint64_t ips[128];
	struct unwinder *u = unwind_new();
	double t0 = (util_clock_s(CLOCK_MONOTONIC));
	int frames = unwind_snapshot(u, pid, maps, n, regs, stack, len, ips,
				     NULL, 128);
	double first = (util_clock_s(CLOCK_MONOTONIC)) - t0;
	t0 = (util_clock_s(CLOCK_MONOTONIC));
	for (int i = 0; i < RUNS; i++)
		unwind_snapshot(u, pid, maps, n, regs, stack, len, ips, NULL, 128);
	double dt = (util_clock_s(CLOCK_MONOTONIC)) - t0;
	printf("unwind python3 snapshot: %d frames, first %.2f ms (opens files), "
	       "then %.1f us each (%.0f unwinds/s)\n", frames, first * 1e3,
	       dt / RUNS * 1e6, RUNS / dt);
	unwind_free(u);
	free(stack);
	ptrace(PTRACE_DETACH, pid, 0, 0);
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
		      "import json, decimal, ssl, time\n"
		      "def f(n):\n"
		      "    if n == 0:\n"
		      "        while True: pass\n"
		      "    return f(n - 1)\n"
		      "f(30)\n", (char *)NULL);
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
	double t0 = (util_clock_s(CLOCK_MONOTONIC));
	for (int k = 0; k < NIPS; k++)
		symbols_resolve_ip(s, pid, maps, n, ips[k], &f);
	double warm = (util_clock_s(CLOCK_MONOTONIC)) - t0;
	size_t named = 0;
	t0 = (util_clock_s(CLOCK_MONOTONIC));
	for (int k = 0; k < LOOKUPS; k++) {
		symbols_resolve_ip(s, pid, maps, n, ips[k % NIPS], &f);
		named += f.function != NULL;
	}
	double dt = (util_clock_s(CLOCK_MONOTONIC)) - t0;
	printf("python3 pid %d: %zu executable file mappings, first pass over "
	       "%d ips (loads every file) %.1f ms\n", (int)pid, nexec, NIPS,
	       warm * 1e3);
	printf("lookups: %d in %.3f s = %.2f M/s (%.0f ns each), %.1f%% named\n",
	       LOOKUPS, dt, LOOKUPS / dt / 1e6, dt / LOOKUPS * 1e9,
	       100.0 * named / LOOKUPS);
	symbols_free(s);
	bench_unwind(pid, maps, n);
	maps_free(maps, n);
	free(ips);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}
