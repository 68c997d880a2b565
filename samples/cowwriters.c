/* cowwriters.c - forked children that write inherited pages from known
 * functions, for checking fault attribution
 *
 *   cowwriters [CHILDREN [THREADS [LINGER_MS [stdin]]]]
 *
 * The parent maps a private region of 1000 pages and fills it, then forks
 * CHILDREN children (default 2) one after the other. In each child,
 * writer_alpha writes the first 300 pages and writer_beta the other 700
 * (one store per page: exactly 300 and 700 first writes). With THREADS > 1
 * each writer runs in THREADS threads at once, each on its share of the
 * pages. Every child prints its checksum on stdout (deterministic) and exits
 * 0; the addresses of the two writers go to stderr, for resolving stacks.
 * LINGER_MS (default 0) makes the parent wait that long before its first
 * fork and each child before it exits, so that a recorder sampling the tree
 * sees them. A fifth argument "stdin" makes the parent, once its region is
 * filled and the addresses printed, wait for a line on stdin before its
 * first fork (so that a profiler can attach first). COWWRITERS_PAGES in the
 * environment sets the region's pages (default 1000; writer_alpha writes
 * the first 30%).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t npages = 1000, alpha_pages = 300;  /* COWWRITERS_PAGES */

static unsigned char *region;
static size_t page;

struct share {
	size_t first, end;
	unsigned char value;
};

__attribute__((noinline)) static void *writer_alpha(void *arg)
{
	struct share *s = arg;
	for (size_t i = s->first; i < s->end; i++)
		((volatile unsigned char *)region)[i * page + 7] = s->value;
	return NULL;
}

__attribute__((noinline)) static void *writer_beta(void *arg)
{
	struct share *s = arg;
	for (size_t i = s->first; i < s->end; i++)
		((volatile unsigned char *)region)[i * page + 11] = s->value;
	return NULL;
}

/* Run writer over pages [first, end) in nthreads threads (the calling
 * thread alone when 1). */
static void run(void *(*writer)(void *), size_t first, size_t end,
		int nthreads, unsigned char value)
{
	if (nthreads <= 1) {
		struct share s = { first, end, value };
		writer(&s);
		return;
	}
	pthread_t t[64];
	struct share s[64];
	size_t n = end - first;
	for (int i = 0; i < nthreads; i++) {
		s[i].first = first + n * (size_t)i / (size_t)nthreads;
		s[i].end = first + n * (size_t)(i + 1) / (size_t)nthreads;
		s[i].value = value;
		if (pthread_create(&t[i], NULL, writer, &s[i]) != 0)
			exit(3);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
}

static uint64_t checksum(void)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < (size_t)npages * page; i += 7)
		sum = sum * 31 + region[i];
	return sum;
}

int main(int argc, char **argv)
{
	int children = argc > 1 ? atoi(argv[1]) : 2;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	int linger_ms = argc > 3 ? atoi(argv[3]) : 0;
	int wait_stdin = argc > 4 && !strcmp(argv[4], "stdin");
	if (children < 0 || threads < 1 || threads > 64 || linger_ms < 0) {
		fprintf(stderr, "usage: cowwriters [CHILDREN [THREADS<=64 [LINGER_MS]]]\n");
		return 2;
	}
	const char *np = getenv("COWWRITERS_PAGES");
	if (np && atol(np) >= 10) {
		npages = (size_t)atol(np);
		alpha_pages = npages * 3 / 10;
	}
	page = (size_t)sysconf(_SC_PAGESIZE);
	region = mmap(NULL, (size_t)npages * page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < (size_t)npages * page; i++)
		region[i] = (unsigned char)(i * 13);
	fprintf(stderr, "cowwriters: writer_alpha=%p writer_beta=%p\n",
		(void *)writer_alpha, (void *)writer_beta);
	printf("parent: checksum %016llx\n", (unsigned long long)checksum());
	if (wait_stdin) {
		fflush(stdout);
		char line[16];
		if (!fgets(line, sizeof(line), stdin))
			return 1;
	}
	usleep((useconds_t)linger_ms * 1000);
	for (int c = 0; c < children; c++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			run(writer_alpha, 0, alpha_pages, threads, (unsigned char)(c + 1));
			run(writer_beta, alpha_pages, npages, threads, (unsigned char)(c + 101));
			printf("child %d: checksum %016llx\n", c,
			       (unsigned long long)checksum());
			fflush(stdout);
			usleep((useconds_t)linger_ms * 1000);
			_exit(0);
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			return 1;
	}
	printf("parent: checksum %016llx\n", (unsigned long long)checksum());
	return 0;
}
