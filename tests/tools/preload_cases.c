/* preload_cases.c - programs that must behave the same with and without
 * libcowprof_preload.so (tests/integration/test_preload.py)
 *
 *   preload_cases segv-recover   child recovers from its own SIGSEGV and
 *                                SIGBUS with the program's own handlers
 *   preload_cases crash          child dies by SIGSEGV; so does the parent
 *   preload_cases crash-bus      child dies by a real SIGBUS (past EOF of
 *                                a mapped file); so does the parent
 *   preload_cases exec PROG...   child writes inherited pages, then execs
 *   preload_cases syscalls       child reads into inherited buffers with
 *                                read, pread, readv, recv, fread
 *   preload_cases vmas           THP, mremap, munmap and a mapping made
 *                                after fork (addresses on stderr)
 *   preload_cases fork-thread    a thread forks; its child writes
 *   preload_cases data           the child writes the program's .data
 *                                (armed with mprotect), then changes the
 *                                protection of part of it itself
 *   preload_cases grandchild     a child and its own child write the
 *                                region and .data
 *   preload_cases blocked        the child writes with every signal
 *                                blocked, from a handler whose mask is
 *                                full, and from a thread that blocks all;
 *                                then crashes into a SIGSEGV handler on
 *                                an alternate stack malloc'd before fork
 *
 * Each prints a deterministic result on stdout.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static unsigned char *inherited(size_t pages)
{
	unsigned char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(90);
	for (size_t i = 0; i < pages * PAGE; i++)
		p[i] = (unsigned char)(i * 7);
	return p;
}

static uint64_t sum(const unsigned char *p, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = s * 131 + p[i];
	return s;
}

/* Fork; the child runs fn and exits with its status; the parent returns
 * the child's wait status. */
static int in_child(int (*fn)(void *), void *arg)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		exit(91);
	if (pid == 0) {
		int rc = fn(arg);
		fflush(stdout);
		_exit(rc);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		exit(92);
	return st;
}

static void report(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
	else
		printf("%s: signal %d\n", what, WTERMSIG(st));
}

/* ---- segv-recover ---- */

static sigjmp_buf jb;
static volatile sig_atomic_t caught;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	caught = sig;
	siglongjmp(jb, 1);
}

static int segv_child(void *arg)
{
	unsigned char *p = arg;
	for (int i = 0; i < 16; i++)
		p[i * PAGE] ^= 0x5a;
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	unsigned char *none = mmap(NULL, PAGE, PROT_NONE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sigsetjmp(jb, 1) == 0)
		none[0] = 1;
	printf("child: caught signal %d\n", (int)caught);
	/* a real SIGBUS: past the end of a mapped file */
	char path[] = "/tmp/cowprof-cases-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	if (fd < 0 || ftruncate(fd, PAGE) < 0)
		return 3;
	volatile unsigned char *f = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
					 MAP_SHARED, fd, 0);
	caught = 0;
	if (sigsetjmp(jb, 1) == 0)
		f[PAGE] = 1;
	printf("child: caught signal %d\n", (int)caught);
	struct sigaction old;
	sigaction(SIGBUS, NULL, &old);
	printf("child: SIGBUS handler kept %d\n", old.sa_sigaction == on_fault);
	for (int i = 16; i < 32; i++)
		p[i * PAGE] ^= 0x5a;
	printf("child: sum %016llx\n", (unsigned long long)sum(p, 64 * PAGE));
	return 0;
}

/* ---- crash ---- */

static int crash_child(void *arg)
{
	unsigned char *p = arg;
	for (int i = 0; i < 8; i++)
		p[i * PAGE] = 1;
	printf("child: about to crash\n");
	fflush(stdout);
	volatile int *volatile bad = NULL;
	*bad = 1;
	return 0;
}

static int crash_bus_child(void *arg)
{
	unsigned char *p = arg;
	for (int i = 0; i < 8; i++)
		p[i * PAGE] = 1;
	char path[] = "/tmp/cowprof-cases-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	if (fd < 0 || ftruncate(fd, PAGE) < 0)
		return 3;
	volatile unsigned char *f = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
					 MAP_SHARED, fd, 0);
	printf("child: about to touch past EOF\n");
	fflush(stdout);
	f[PAGE] = 1;
	return 0;
}

/* ---- exec ---- */

static char **exec_argv;

static int exec_child(void *arg)
{
	unsigned char *p = arg;
	for (int i = 0; i < 10; i++)
		p[i * PAGE] = 2;
	fflush(stdout);
	execv(exec_argv[0], exec_argv);
	return 127;
}

/* ---- syscalls ---- */

static int syscalls_child(void *arg)
{
	unsigned char *p = arg;  /* 64 pages */
	int fds[2];
	char path[] = "/tmp/cowprof-cases-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	unsigned char *src = malloc(16 * PAGE);
	for (int i = 0; i < 16 * PAGE; i++)
		src[i] = (unsigned char)(i * 3 + 1);
	if (fd < 0 || write(fd, src, 16 * PAGE) != 16 * PAGE)
		return 3;
	/* read and pread straight into untouched inherited pages */
	if (pread(fd, p + 1, 4 * PAGE, 0) != 4 * PAGE)
		return 4;
	lseek(fd, 0, SEEK_SET);
	if (read(fd, p + 5 * PAGE + 3, 4 * PAGE) != 4 * PAGE)
		return 5;
	struct iovec iov[2] = { { p + 10 * PAGE, PAGE }, { p + 12 * PAGE, 2 * PAGE } };
	if (preadv(fd, iov, 2, 0) != 3 * PAGE)
		return 6;
	lseek(fd, 0, SEEK_SET);
	if (readv(fd, iov, 1) != PAGE)
		return 7;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
		return 8;
	if (write(fds[0], src, 2 * PAGE) != 2 * PAGE)
		return 9;
	ssize_t got = 0;
	while (got < 2 * PAGE) {
		ssize_t n = recv(fds[1], p + 20 * PAGE + got, (size_t)(2 * PAGE - got), 0);
		if (n <= 0)
			return 10;
		got += n;
	}
	FILE *f = fdopen(fd, "r");
	fseek(f, 0, SEEK_SET);
	if (fread(p + 30 * PAGE, 1, 8 * PAGE, f) != 8 * PAGE)
		return 11;
	/* the kernel fills epoll events and directory entries */
	int ep = epoll_create1(0);
	struct epoll_event want = { .events = EPOLLIN };
	epoll_ctl(ep, EPOLL_CTL_ADD, fds[1], &want);
	if (write(fds[0], "x", 1) != 1)
		return 12;
	int ne = epoll_wait(ep, (struct epoll_event *)(p + 41 * PAGE - 4), 64, 1000);
	printf("child: epoll_wait %d\n", ne);
	int dfd = open("/proc/self", O_RDONLY | O_DIRECTORY);
	ssize_t nd = getdents64(dfd, p + 44 * PAGE + 8, 3 * PAGE);
	printf("child: getdents64 %s\n", nd > 0 ? "ok" : "failed");
	printf("child: sum %016llx\n", (unsigned long long)sum(p, 40 * PAGE));
	return 0;
}

/* ---- vmas ---- */

struct vmas {
	unsigned char *thp, *moved, *gone;
	size_t thp_len;
};

static int vmas_child(void *arg)
{
	struct vmas *v = arg;
	/* 64 pages of the huge-page region */
	for (int i = 0; i < 64; i++)
		v->thp[i * PAGE + 1] ^= 1;
	/* moved after fork: written at its new place */
	unsigned char *m = mremap(v->moved, 16 * PAGE, 16 * PAGE,
				  MREMAP_MAYMOVE | MREMAP_FIXED,
				  v->moved + 64 * PAGE);
	if (m == MAP_FAILED)
		return 3;
	for (int i = 0; i < 16; i++)
		m[i * PAGE] ^= 1;
	/* unmapped, and a new mapping in its place */
	munmap(v->gone, 16 * PAGE);
	unsigned char *n = mmap(v->gone, 16 * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	for (int i = 0; i < 16; i++)
		n[i * PAGE] = 1;
	fprintf(stderr, "vmas: moved=%p\n", (void *)m);
	printf("child: thp %016llx moved %016llx new %016llx\n",
	       (unsigned long long)sum(v->thp, 64 * PAGE),
	       (unsigned long long)sum(m, 16 * PAGE),
	       (unsigned long long)sum(n, 16 * PAGE));
	return 0;
}

static void vmas(void)
{
	struct vmas v;
	v.thp_len = 4u << 20;
	unsigned char *raw = mmap(NULL, v.thp_len * 2, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	v.thp = (unsigned char *)(((uintptr_t)raw + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1));
	madvise(v.thp, v.thp_len, MADV_HUGEPAGE);
	memset(v.thp, 3, v.thp_len);
	/* the moved and the unmapped one are separate mappings, with room
	 * for the move */
	unsigned char *two = mmap(NULL, 128 * PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(two + 16 * PAGE, 48 * PAGE);
	munmap(two + 80 * PAGE, 48 * PAGE);
	v.moved = two;   /* moves onto two + 64 pages */
	v.gone = inherited(16);
	memset(v.moved, 5, 16 * PAGE);
	fprintf(stderr, "vmas: thp=%p moved_from=%p gone=%p\n", (void *)v.thp,
		(void *)v.moved, (void *)v.gone);
	/* whether the kernel gave huge pages (the test reports it) */
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "AnonHugePages:", 14))
			fprintf(stderr, "vmas: %s", line);
	if (f)
		fclose(f);
	report("child", in_child(vmas_child, &v));
}

/* ---- fork-thread ---- */

static unsigned char *ft_region;

static int ft_child(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++)
		ft_region[i * PAGE] ^= 9;
	printf("child: sum %016llx\n", (unsigned long long)sum(ft_region, 100 * PAGE));
	return 0;
}

static void *ft_thread(void *arg)
{
	(void)arg;
	report("child of thread", in_child(ft_child, NULL));
	return NULL;
}

/* ---- data ---- */

/* initialised, so in .data: a private file mapping of the executable */
static unsigned char data_area[64 * PAGE] __attribute__((aligned(4096))) = { 1 };

static int data_child(void *arg)
{
	(void)arg;
	for (int i = 0; i < 32; i++)
		data_area[i * PAGE + 5] ^= 0x11;
	if (mprotect(data_area + 48 * PAGE, 8 * PAGE, PROT_READ) < 0 ||
	    mprotect(data_area + 48 * PAGE, 8 * PAGE, PROT_READ | PROT_WRITE) < 0)
		return 3;
	for (int i = 40; i < 64; i++)
		data_area[i * PAGE + 9] ^= 0x22;
	printf("child: sum %016llx\n", (unsigned long long)sum(data_area, sizeof(data_area)));
	return 0;
}

static void data(void)
{
	/* the parent reads every page and writes the odd ones */
	for (int i = 0; i < 64; i++) {
		if (i % 2)
			data_area[i * PAGE + 1] = (unsigned char)i;
		else
			(void)*(volatile unsigned char *)&data_area[i * PAGE];
	}
	fprintf(stderr, "data: data_area=%p\n", (void *)data_area);
	report("child", in_child(data_child, NULL));
	printf("parent: sum %016llx\n", (unsigned long long)sum(data_area, sizeof(data_area)));
}

/* ---- grandchild ---- */

static unsigned char *gc_region;

static int gc_grandchild(void *arg)
{
	(void)arg;
	for (int i = 16; i < 32; i++) {
		gc_region[i * PAGE] ^= 5;
		data_area[i * PAGE + 3] ^= 5;
	}
	printf("grandchild: sum %016llx %016llx\n",
	       (unsigned long long)sum(gc_region, 32 * PAGE),
	       (unsigned long long)sum(data_area, sizeof(data_area)));
	return 0;
}

static int gc_child(void *arg)
{
	(void)arg;
	for (int i = 0; i < 8; i++) {
		gc_region[i * PAGE] ^= 6;
		data_area[i * PAGE + 3] ^= 6;
	}
	report("grandchild", in_child(gc_grandchild, NULL));
	/* after the fork: still armed here */
	for (int i = 40; i < 48; i++)
		data_area[i * PAGE + 3] ^= 7;
	printf("child: sum %016llx %016llx\n",
	       (unsigned long long)sum(gc_region, 32 * PAGE),
	       (unsigned long long)sum(data_area, sizeof(data_area)));
	return 0;
}

/* ---- blocked ---- */

static unsigned char *bl_region;

static void on_usr1(int sig)
{
	(void)sig;
	for (int i = 10; i < 20; i++)
		bl_region[i * PAGE] ^= 3;
}

static void *bl_thread(void *arg)
{
	(void)arg;
	for (int i = 20; i < 30; i++)
		bl_region[i * PAGE] ^= 4;
	return NULL;
}

static void on_segv_alt(int sig)
{
	(void)sig;
	static const char msg[] = "child: handler on the alternate stack ran\n";
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(5);
	_exit(7);
}

static int blocked_child(void *arg)
{
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	for (int i = 0; i < 10; i++)
		bl_region[i * PAGE] ^= 2;
	pthread_t t;
	pthread_create(&t, NULL, bl_thread, NULL);  /* inherits the full mask */
	pthread_join(t, NULL);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigaddset(&usr1, SIGSEGV);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	raise(SIGUSR1);
	printf("child: sum %016llx\n", (unsigned long long)sum(bl_region, 30 * PAGE));
	fflush(stdout);
	volatile int *volatile bad = NULL;
	*bad = 1;
	return 0;
}

static void blocked(void)
{
	bl_region = inherited(30);
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigfillset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	stack_t ss = { .ss_sp = malloc(64 * 1024), .ss_size = 64 * 1024 };
	memset(ss.ss_sp, 0, ss.ss_size);
	sigaltstack(&ss, NULL);
	struct sigaction sv = { .sa_handler = on_segv_alt, .sa_flags = SA_ONSTACK };
	sigfillset(&sv.sa_mask);
	sigaction(SIGSEGV, &sv, NULL);
	report("child", in_child(blocked_child, NULL));
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *mode = argv[1];
	if (!strcmp(mode, "segv-recover")) {
		unsigned char *p = inherited(64);
		report("child", in_child(segv_child, p));
		printf("parent: sum %016llx\n", (unsigned long long)sum(p, 64 * PAGE));
	} else if (!strcmp(mode, "crash") || !strcmp(mode, "crash-bus")) {
		unsigned char *p = inherited(16);
		int st = in_child(mode[5] ? crash_bus_child : crash_child, p);
		report("child", st);
		fflush(stdout);
		if (WIFSIGNALED(st)) {
			signal(WTERMSIG(st), SIG_DFL);
			raise(WTERMSIG(st));
		}
		return 1;
	} else if (!strcmp(mode, "exec") && argc > 2) {
		unsigned char *p = inherited(16);
		exec_argv = argv + 2;
		report("child", in_child(exec_child, p));
	} else if (!strcmp(mode, "syscalls")) {
		unsigned char *p = inherited(64);
		report("child", in_child(syscalls_child, p));
	} else if (!strcmp(mode, "grandchild")) {
		gc_region = inherited(32);
		for (int i = 0; i < 64; i++)
			data_area[i * PAGE + 1] = (unsigned char)i;
		fprintf(stderr, "grandchild: region=%p data_area=%p\n",
			(void *)gc_region, (void *)data_area);
		report("child", in_child(gc_child, NULL));
	} else if (!strcmp(mode, "data")) {
		data();
	} else if (!strcmp(mode, "blocked")) {
		blocked();
	} else if (!strcmp(mode, "vmas")) {
		vmas();
	} else if (!strcmp(mode, "fork-thread")) {
		ft_region = inherited(100);
		pthread_t t;
		pthread_create(&t, NULL, ft_thread, NULL);
		pthread_join(t, NULL);
	} else {
		return 2;
	}
	return 0;
}
