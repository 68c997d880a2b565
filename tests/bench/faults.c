/* faults.c - cost of a fork child's first write to an inherited page
 *
 *   bench_faults MODE PAGES [scattered]
 *
 * The parent maps and fills PAGES private pages and forks; the child writes
 * one byte in each page (in order, or in a scattered order) and prints
 * `us_per_page <first pass> <second pass>`. MODE:
 *   plain      nothing armed (run it under LD_PRELOAD for the library)
 *   mprotect   the child write-protects the region with mprotect and a
 *              SIGSEGV handler re-enables each 4 KiB page
 *   uffd       the child write-protects with userfaultfd + UFFD_FEATURE_SIGBUS
 *              and a SIGBUS handler lifts each page (no recording)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096ul

static int uffd = -1;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	uintptr_t p = (uintptr_t)si->si_addr & ~(PAGE - 1);
	if (mprotect((void *)p, PAGE, PROT_READ | PROT_WRITE) < 0)
		_exit(3);
}

static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)si->si_addr & ~(PAGE - 1), .len = PAGE },
		.mode = 0 };
	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) < 0)
		_exit(4);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void arm(const char *mode, unsigned char *p, size_t len)
{
	struct sigaction sa = { .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	if (!strcmp(mode, "mprotect")) {
		sa.sa_sigaction = on_segv;
		sigaction(SIGSEGV, &sa, NULL);
		if (mprotect(p, len, PROT_READ) < 0)
			_exit(5);
	} else if (!strcmp(mode, "uffd")) {
		sa.sa_sigaction = on_bus;
		sigaction(SIGBUS, &sa, NULL);
		uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
		struct uffdio_api api = { .api = UFFD_API,
					  .features = UFFD_FEATURE_SIGBUS |
						      UFFD_FEATURE_PAGEFAULT_FLAG_WP };
		struct uffdio_register reg = {
			.range = { .start = (uintptr_t)p, .len = len },
			.mode = UFFDIO_REGISTER_MODE_WP };
		struct uffdio_writeprotect wp = {
			.range = { .start = (uintptr_t)p, .len = len },
			.mode = UFFDIO_WRITEPROTECT_MODE_WP };
		if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0 ||
		    ioctl(uffd, UFFDIO_REGISTER, &reg) < 0 ||
		    ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) < 0)
			_exit(6);
	} else if (strcmp(mode, "plain")) {
		_exit(7);
	}
}

__attribute__((noinline)) static void write_pages(unsigned char *p, const size_t *order,
						  size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		((volatile unsigned char *)p)[order[i] * PAGE] = v;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_faults plain|mprotect|uffd PAGES [scattered]\n");
		return 2;
	}
	const char *mode = argv[1];
	size_t n = strtoul(argv[2], NULL, 10);
	bool scattered = argc > 3 && !strcmp(argv[3], "scattered");
	size_t len = n * PAGE;
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t *order = malloc(n * sizeof(*order));
	if (p == MAP_FAILED || !order)
		return 1;
	memset(p, 1, len);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	if (scattered) {
		/* a fixed shuffle: every page once, neighbours far apart */
		uint64_t x = 88172645463325252ull;
		for (size_t i = n - 1; i > 0; i--) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			size_t j = x % (i + 1);
			size_t t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		arm(mode, p, len);
		double t0 = now();
		write_pages(p, order, n, 2);
		double t1 = now();
		write_pages(p, order, n, 3);
		double t2 = now();
		printf("us_per_page %.3f %.3f\n", (t1 - t0) * 1e6 / (double)n,
		       (t2 - t1) * 1e6 / (double)n);
		fflush(stdout);
		_exit(0);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
