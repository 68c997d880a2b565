/* test_unwind.c - unwinding a stopped process from a register and stack
 * snapshot, compared with libunwind-ptrace unwinding the same process.
 *
 * build/unwtarget/unwtarget (-O2, no frame pointers) and unwtarget-fp
 * (frame pointers, no unwind tables) spin in main -> unw_a -> unw_b ->
 * unw_c; the test stops them with ptrace, takes their registers
 * (PTRACE_GETREGS) and 16 KiB of stack (/proc/PID/mem), and unwinds.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libunwind-ptrace.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectors/maps.h"
#include "collectors/symbols.h"
#include "collectors/unwind.h"
#include "common/util.h"

#define MAXF 64

/* The targets being unwound, killed by the teardown if a failed assertion
 * left them running. */
static pid_t live[2];

static void kill_pid(pid_t pid)
{
	for (int i = 0; i < 2; i++)
		if (live[i] == pid && pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			live[i] = 0;
		}
}

static int kill_target(void **state)
{
	(void)state;
	kill_pid(live[0]);
	kill_pid(live[1]);
	return 0;
}

/* Run children without address space randomization (personality). */
static bool no_aslr;

struct stopped {
	pid_t pid;
	int out_fd;               /* its stdout, open until it ends */
	uint64_t regs[UNWIND_NREGS];
	uint8_t *stack;
	size_t stack_len;
	struct maps_region *maps;
	size_t nmaps;
};

/* Start argv, wait for its "ready" line and then 20 ms more, stop it and
 * take the snapshot. */
static void stop_argv(char *const argv[], struct stopped *t)
{
	int out[2];
	assert_int_equal(pipe(out), 0);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive the test */
		if (no_aslr)
			personality(ADDR_NO_RANDOMIZE);
		dup2(out[1], 1);
		close(out[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	live[live[0] ? 1 : 0] = t->pid;
	close(out[1]);
	t->out_fd = out[0];
	char buf[16] = { 0 };
	size_t got = 0;
	while (got < sizeof(buf) - 1 && !strchr(buf, '\n')) {
		ssize_t r = read(out[0], buf + got, sizeof(buf) - 1 - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
	assert_non_null(strstr(buf, "ready"));
	usleep(20000);   /* well inside the loop */
	if (ptrace(PTRACE_ATTACH, t->pid, 0, 0) != 0)
		fail_msg("PTRACE_ATTACH %d: %s", (int)t->pid, strerror(errno));
	int st;
	assert_int_equal(waitpid(t->pid, &st, 0), t->pid);
	assert_true(WIFSTOPPED(st));

	struct user_regs_struct ur;
	assert_int_equal(ptrace(PTRACE_GETREGS, t->pid, 0, &ur), 0);
	uint64_t *r = t->regs;
	memset(r, 0, sizeof(t->regs));
	r[UNWIND_REG_AX] = ur.rax; r[UNWIND_REG_BX] = ur.rbx;
	r[UNWIND_REG_CX] = ur.rcx; r[UNWIND_REG_DX] = ur.rdx;
	r[UNWIND_REG_SI] = ur.rsi; r[UNWIND_REG_DI] = ur.rdi;
	r[UNWIND_REG_BP] = ur.rbp; r[UNWIND_REG_SP] = ur.rsp;
	r[UNWIND_REG_IP] = ur.rip; r[UNWIND_REG_FLAGS] = ur.eflags;
	r[UNWIND_REG_CS] = ur.cs; r[UNWIND_REG_SS] = ur.ss;
	r[UNWIND_REG_R8] = ur.r8; r[UNWIND_REG_R9] = ur.r9;
	r[UNWIND_REG_R10] = ur.r10; r[UNWIND_REG_R11] = ur.r11;
	r[UNWIND_REG_R12] = ur.r12; r[UNWIND_REG_R13] = ur.r13;
	r[UNWIND_REG_R14] = ur.r14; r[UNWIND_REG_R15] = ur.r15;

	char p[64], *text;
	size_t len;
	snprintf(p, sizeof(p), "/proc/%d/maps", (int)t->pid);
	assert_int_equal(util_read_file(p, &text, &len), 0);
	assert_int_equal(maps_parse(text, len, &t->maps, &t->nmaps), 0);
	free(text);
	/* 16 KiB from sp, or up to the top of the stack if that is nearer */
	const struct maps_region *sr = symbols_find_mapping(t->maps, t->nmaps,
							    ur.rsp);
	assert_non_null(sr);
	t->stack_len = sr->end - ur.rsp < 16384 ? sr->end - ur.rsp : 16384;
	t->stack = xmalloc(t->stack_len);
	snprintf(p, sizeof(p), "/proc/%d/mem", (int)t->pid);
	int fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, t->stack, t->stack_len, (off_t)ur.rsp),
			 (ssize_t)t->stack_len);
	close(fd);
}

static void stop_target(const char *path, struct stopped *t)
{
	char *argv[] = { (char *)path, NULL };
	stop_argv(argv, t);
}

static void end_target(struct stopped *t)
{
	kill_pid(t->pid);
	close(t->out_fd);
	maps_free(t->maps, t->nmaps);
	free(t->stack);
}

/* libunwind-ptrace's own unwinding of the stopped process. */
static int upt_unwind(pid_t pid, uint64_t *ips, int max)
{
	unw_addr_space_t as = unw_create_addr_space(&_UPT_accessors, 0);
	assert_non_null(as);
	void *ui = _UPT_create(pid);
	assert_non_null(ui);
	unw_cursor_t c;
	int n = 0;
	assert_int_equal(unw_init_remote(&c, as, ui), 0);
	do {
		unw_word_t ip;
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0)
			break;
		ips[n++] = ip;
	} while (n < max && unw_step(&c) > 0);
	_UPT_destroy(ui);
	unw_destroy_addr_space(as);
	return n;
}

/* The functions of ips (return addresses resolved at ip - 1). */
static void expect_chain(const struct stopped *t, const uint64_t *ips, int n)
{
	const char *want[] = { "unw_c", "unw_b", "unw_a", "main" };
	assert_true(n >= 4);
	struct symbols *s = symbols_new();
	for (int i = 0; i < 4; i++) {
		struct symbols_frame f;
		assert_int_equal(symbols_resolve_ip(s, t->pid, t->maps, t->nmaps,
						    ips[i] - (i > 0), &f), 0);
		if (!f.function || strcmp(f.function, want[i]))
			fail_msg("frame %d: %s, want %s", i,
				 f.function ? f.function : "(null)", want[i]);
	}
	/* main's caller is libc's */
	struct symbols_frame f;
	assert_int_equal(symbols_resolve_ip(s, t->pid, t->maps, t->nmaps,
					    ips[4] - 1, &f), 0);
	assert_non_null(strstr(f.module, "libc.so"));
	symbols_free(s);
}

static void compare_with_upt(const char *path, enum unwind_method inner)
{
	struct stopped t;
	stop_target(path, &t);
	struct unwinder *u = unwind_new();
	assert_non_null(u);
	uint64_t ips[MAXF], theirs[MAXF];
	enum unwind_method how[MAXF];
	int n = unwind_snapshot(u, t.pid, t.maps, t.nmaps, t.regs, t.stack,
				t.stack_len, ips, how, MAXF);
	int m = upt_unwind(t.pid, theirs, MAXF);
	for (int i = 0; i < (n > m ? n : m); i++)
		print_message("%2d ours %16" PRIx64 " (%d)  upt %16" PRIx64 "\n",
			      i, i < n ? ips[i] : 0, i < n ? (int)how[i] : -1,
			      i < m ? theirs[i] : 0);
	assert_int_equal(n, m);
	for (int i = 0; i < n; i++)
		assert_int_equal(ips[i], theirs[i]);
	expect_chain(&t, ips, n);
	assert_int_equal(how[0], UNWIND_FIRST);
	/* the callers of unw_c, unw_b, unw_a: found by the method the build
	 * allows; main's caller always by libc's .eh_frame */
	for (int i = 1; i <= 3; i++)
		assert_int_equal(how[i], inner);
	assert_int_equal(how[5], UNWIND_DWARF);
	/* the same again from the cache of open files */
	uint64_t again[MAXF];
	assert_int_equal(unwind_snapshot(u, t.pid, t.maps, t.nmaps, t.regs,
					 t.stack, t.stack_len, again, NULL,
					 MAXF), n);
	assert_memory_equal(again, ips, n * sizeof(ips[0]));
	unwind_free(u);
	end_target(&t);
}

static void test_unwind_matches_libunwind_ptrace_without_frame_pointers(void **state)
{
	(void)state;
	compare_with_upt("build/unwtarget/unwtarget", UNWIND_DWARF);
}

static void test_unwind_falls_back_to_frame_pointers(void **state)
{
	(void)state;
	compare_with_upt("build/unwtarget/unwtarget-fp", UNWIND_FP);
}

/* Debian's python3 (statically linked libpython, stripped, .eh_frame only)
 * deep in Python recursion: dozens of interpreter frames. */
static void test_unwind_matches_libunwind_ptrace_in_python(void **state)
{
	(void)state;
	char *argv[] = { "/usr/bin/python3", "-c",
		"import sys\n"
		"def f(n):\n"
		"    if n == 0:\n"
		"        print('ready', flush=True)\n"
		"        while True: pass\n"
		"    return f(n - 1) + 1\n"
		"f(20)\n", NULL };
	struct stopped t;
	stop_argv(argv, &t);
	struct unwinder *u = unwind_new();
	uint64_t ips[MAXF], theirs[MAXF];
	enum unwind_method how[MAXF];
	int n = unwind_snapshot(u, t.pid, t.maps, t.nmaps, t.regs, t.stack,
				t.stack_len, ips, how, MAXF);
	int m = upt_unwind(t.pid, theirs, MAXF);
	print_message("python: ours %d frames, libunwind-ptrace %d\n", n, m);
	/* 16 KiB of stack may end before the outermost frame: ours is then a
	 * prefix of theirs */
	assert_true(n > 10 && n <= m);
	for (int i = 0; i < n; i++)
		assert_int_equal(ips[i], theirs[i]);
	struct symbols *s = symbols_new();
	int eval = 0;
	for (int i = 0; i < n; i++) {
		struct symbols_frame f;
		symbols_resolve_ip(s, t.pid, t.maps, t.nmaps, ips[i] - (i > 0), &f);
		print_message("  %2d %s %s+%" PRIu64 "\n", i, f.module,
			      f.function ? f.function : "?", f.func_offset);
		eval += f.function && !strcmp(f.function, "_PyEval_EvalFrameDefault");
		assert_int_equal(how[i], i ? UNWIND_DWARF : UNWIND_FIRST);
	}
	/* 3.11 runs Python-to-Python calls in one C frame: the spinning
	 * interpreter, called by PyEval_EvalCode */
	assert_int_equal(eval, 1);
	symbols_free(s);
	unwind_free(u);
	end_target(&t);
}

/* Two programs with the same code at the same addresses (no ASLR: both
 * PIEs at 0x555555554000), one with unwind tables and one without (-nocfi),
 * unwound in turn by one unwinder: what libunwind cached about an ip of the
 * first must not unwind the second, which has no unwind info for unw_c. */
static void test_unwind_keeps_caches_of_different_layouts_apart(void **state)
{
	(void)state;
	struct stopped a, b;
	no_aslr = true;
	stop_target("build/unwtarget/unwtarget", &a);
	stop_target("build/unwtarget/unwtarget-nocfi", &b);
	no_aslr = false;
	assert_int_equal(a.maps[0].start, b.maps[0].start);
	assert_int_equal(a.regs[UNWIND_REG_IP] >> 8, b.regs[UNWIND_REG_IP] >> 8);
	uint64_t want[MAXF], got[MAXF], first_b[MAXF];
	enum unwind_method how[MAXF];
	int na = upt_unwind(a.pid, want, MAXF), nb = 0;
	struct unwinder *u = unwind_new();
	for (int round = 0; round < 3; round++) {
		assert_int_equal(unwind_snapshot(u, a.pid, a.maps, a.nmaps, a.regs,
						 a.stack, a.stack_len, got, NULL,
						 MAXF), na);
		assert_memory_equal(got, want, na * sizeof(got[0]));
		int n = unwind_snapshot(u, b.pid, b.maps, b.nmaps, b.regs, b.stack,
					b.stack_len, got, how, MAXF);
		/* not the first program's chain: no unwind info for unw_c */
		assert_true(n < na || memcmp(got, want, na * sizeof(got[0])));
		if (n > 1)
			assert_int_equal(how[1], UNWIND_FP);
		if (round == 0) {
			nb = n;
			memcpy(first_b, got, n * sizeof(got[0]));
		}
		assert_int_equal(n, nb);
		assert_memory_equal(got, first_b, n * sizeof(got[0]));
	}
	unwind_free(u);
	end_target(&a);
	end_target(&b);
}

static void test_unwind_stops_where_the_stack_copy_ends(void **state)
{
	(void)state;
	struct stopped t;
	stop_target("build/unwtarget/unwtarget", &t);
	struct unwinder *u = unwind_new();
	uint64_t ips[MAXF];
	/* no stack at all: only the sampled ip, maybe one guess, no crash */
	int n = unwind_snapshot(u, t.pid, t.maps, t.nmaps, t.regs, t.stack, 0,
				ips, NULL, MAXF);
	assert_true(n >= 1 && n <= 2);
	assert_int_equal(ips[0], t.regs[UNWIND_REG_IP]);
	assert_int_equal(unwind_snapshot(u, t.pid, t.maps, t.nmaps, t.regs,
					 t.stack, t.stack_len, ips, NULL, 2), 2);
	assert_int_equal(unwind_snapshot(u, t.pid, t.maps, t.nmaps, t.regs,
					 t.stack, t.stack_len, ips, NULL, 0), 0);
	unwind_free(u);
	end_target(&t);
}

static void test_unwind_regs_from_perf_expands_by_mask(void **state)
{
	(void)state;
	uint64_t sample[UNWIND_NREGS], regs[UNWIND_NREGS];
	for (int i = 0; i < UNWIND_NREGS; i++)
		sample[i] = 100 + i;
	unwind_regs_from_perf(sample, UNWIND_PERF_REGS_MASK, regs);
	assert_int_equal(regs[UNWIND_REG_AX], 100);
	assert_int_equal(regs[UNWIND_REG_SS], 111);
	assert_int_equal(regs[UNWIND_REG_DS], 0);
	assert_int_equal(regs[UNWIND_REG_GS], 0);
	assert_int_equal(regs[UNWIND_REG_R8], 112);
	assert_int_equal(regs[UNWIND_REG_R15], 119);
	assert_int_equal(__builtin_popcountll(UNWIND_PERF_REGS_MASK), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_unwind_matches_libunwind_ptrace_without_frame_pointers, kill_target),
		cmocka_unit_test_teardown(test_unwind_falls_back_to_frame_pointers, kill_target),
		cmocka_unit_test_teardown(test_unwind_matches_libunwind_ptrace_in_python, kill_target),
		cmocka_unit_test_teardown(test_unwind_keeps_caches_of_different_layouts_apart, kill_target),
		cmocka_unit_test_teardown(test_unwind_stops_where_the_stack_copy_ends, kill_target),
		cmocka_unit_test(test_unwind_regs_from_perf_expands_by_mask),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
