/* forktree.c - a deterministic fork tree whose copy-on-write figures are known
 *
 * The root fills a private anonymous buffer, forks children that each write a
 * known number of its pages (and optionally a grandchild), writes a few pages
 * itself, then prints one JSON line with the figures a COW profiler must find:
 * for each process, how many buffer pages it shares with its parent and how
 * many were copied. Every region is a direct mmap (never malloc) so the page
 * counts are exact. Integration tests of cowprof compare against that line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)
#define HUGE_PAGE_BYTES (2 * MIB)
#define MAX_MIB (1024UL * 1024UL)               /* 1 TiB: far beyond use */
#define MAX_CHILDREN 256
#define MAX_NEW_PAGES (1UL << 28)               /* 1 TiB of 4 KiB pages */

/* Marker bytes written at offset 8 of a page, so each write changes the page. */
#define CHILD_MARK 0xc1
#define GRANDCHILD_MARK 0xc2
#define ROOT_MARK 0xa0
#define NEW_MARK 0x5e

struct options {
	unsigned long buffer_mib;
	unsigned long shared_mib;
	unsigned long children;
	unsigned long writes[MAX_CHILDREN];     /* pages child i writes */
	unsigned long grandchild_pages;
	unsigned long parent_pages;
	unsigned long new_pages;
	unsigned long step_pages;   /* -k: pages each child writes per step after ready */
	unsigned long step_ms;      /* -K: milliseconds between steps (0: none) */
	bool thp;
};

struct region {
	char *start;
	size_t pages;
};

/* What each child and the grandchild tell the root once ready. One write()
 * of fewer than PIPE_BUF bytes is atomic, so records never interleave. */
struct ready_msg {
	int32_t pid;
	int32_t ppid;
	uint64_t new_start;
};

static volatile sig_atomic_t got_term;
static size_t page_size;
static sigset_t wait_mask;      /* the mask to wait with: SIGTERM unblocked */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: forktree [-a MIB] [-s MIB] [-n N] [-w LIST] [-g PAGES] [-p PAGES] [-N PAGES]\n"
		"                [-k PAGES -K MS] [-T]\n"
		"  -a MIB    private anonymous buffer size (default 64)\n"
		"  -s MIB    MAP_SHARED|MAP_ANONYMOUS region size (default 4, 0 = none)\n"
		"  -n N      number of children (default 3, at most %d)\n"
		"  -w LIST   comma-separated pages child i writes in the buffer, from page 0;\n"
		"            the last value repeats for further children (default 256)\n"
		"  -g PAGES  child 0 forks a grandchild writing buffer pages [w0, w0+PAGES)\n"
		"            (default 0 = no grandchild)\n"
		"  -p PAGES  the root writes the last PAGES pages of the buffer once all\n"
		"            processes are ready (default 0)\n"
		"  -N PAGES  each child and the grandchild maps and touches PAGES new pages\n"
		"            (default 0)\n"
		"  -k PAGES  with -K: after ready, each child writes PAGES more buffer pages\n"
		"  -K MS     every MS milliseconds (after its -w pages, before the root's\n"
		"            -p pages), until SIGTERM: expected copied pages at time t after\n"
		"            the ready line are w + p + PAGES * floor(t / MS)\n"
		"  -T        back the buffer with transparent huge pages (2 MiB aligned,\n"
		"            MADV_HUGEPAGE)\n"
		"  -h        this help\n"
		"Prints one JSON line with the expected figures once the tree is ready;\n"
		"SIGTERM to the root ends the whole tree.\n",
		MAX_CHILDREN);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("forktree: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (-h for help)\n", stderr);
	exit(2);
}

/* A failed system call. _exit, not exit: a forked process must not flush
 * stdio buffers it inherited. Children left behind by a failing root get
 * SIGTERM from PR_SET_PDEATHSIG. */
static void die(const char *what) __attribute__((noreturn));
static void die(const char *what)
{
	fprintf(stderr, "forktree: pid %d: %s: %s\n", (int)getpid(), what, strerror(errno));
	_exit(1);
}

/* A decimal count in [0, max]. strtoul alone would accept "-1" and " 7". */
static unsigned long parse_count(const char *s, char opt, unsigned long max)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		usage_error("-%c: not a number: '%s'", opt, s);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		usage_error("-%c: not a number: '%s'", opt, s);
	if (errno == ERANGE || v > max)
		usage_error("-%c: %s is too large (at most %lu)", opt, s, max);
	return v;
}

/* Fill o->writes from "10,20,30"; the last value repeats up to MAX_CHILDREN. */
static void parse_writes(const char *list, struct options *o)
{
	const char *p = list;
	size_t n = 0;

	for (;;) {
		char digits[24];
		size_t len = strcspn(p, ",");

		if (len == 0 || len >= sizeof(digits))
			usage_error("-w: bad list '%s'", list);
		if (n == MAX_CHILDREN)
			usage_error("-w: more than %d values", MAX_CHILDREN);
		memcpy(digits, p, len);
		digits[len] = '\0';
		o->writes[n++] = parse_count(digits, 'w', ULONG_MAX);
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	for (; n < MAX_CHILDREN; n++)
		o->writes[n] = o->writes[n - 1];
}

static void parse_options(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){ .buffer_mib = 64, .shared_mib = 4, .children = 3 };
	parse_writes("256", o);
	while ((c = getopt(argc, argv, ":a:s:n:w:g:p:N:k:K:Th")) != -1) {
		switch (c) {
		case 'a': o->buffer_mib = parse_count(optarg, 'a', MAX_MIB); break;
		case 's': o->shared_mib = parse_count(optarg, 's', MAX_MIB); break;
		case 'n': o->children = parse_count(optarg, 'n', MAX_CHILDREN); break;
		case 'w': parse_writes(optarg, o); break;
		case 'g': o->grandchild_pages = parse_count(optarg, 'g', ULONG_MAX); break;
		case 'p': o->parent_pages = parse_count(optarg, 'p', ULONG_MAX); break;
		case 'N': o->new_pages = parse_count(optarg, 'N', MAX_NEW_PAGES); break;
		case 'k': o->step_pages = parse_count(optarg, 'k', ULONG_MAX); break;
		case 'K': o->step_ms = parse_count(optarg, 'K', 3600000); break;
		case 'T': o->thp = true; break;
		case 'h': usage(stdout); exit(0);
		case ':': usage_error("-%c needs a value", optopt);
		default: usage_error("unknown option -%c", optopt);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

/* The figures are exact only if no two writers touch the same page: children
 * write from page 0, the grandchild after child 0's range, the root at the
 * end of the buffer. */
static void check_ranges(const struct options *o, size_t pages)
{
	unsigned long last;     /* the first page the root writes */

	if (o->buffer_mib == 0)
		usage_error("-a: the buffer needs at least 1 MiB");
	if (o->grandchild_pages > 0 && o->children == 0)
		usage_error("-g needs at least one child (-n)");
	if (o->parent_pages > pages)
		usage_error("-p %lu: the buffer has only %zu pages", o->parent_pages, pages);
	last = pages - o->parent_pages;
	for (unsigned long i = 0; i < o->children; i++)
		if (o->writes[i] > last)
			usage_error("-w: child %lu writes %lu pages, but only %lu fit before the root's -p %lu",
				    i, o->writes[i], last, o->parent_pages);
	if (o->grandchild_pages > last ||
	    (o->children > 0 && o->writes[0] + o->grandchild_pages > last))
		usage_error("-g %lu: grandchild pages [%lu, %lu) do not fit before page %lu",
			    o->grandchild_pages, o->writes[0],
			    o->writes[0] + o->grandchild_pages, last);
}

static char *map_anon(size_t bytes, int share)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, share | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* A 2 MiB aligned buffer, so the kernel can back whole huge pages with PMDs:
 * over-allocate by one huge page and unmap the unaligned head and tail. */
static char *map_thp(size_t bytes)
{
	char *raw = map_anon(bytes + HUGE_PAGE_BYTES, MAP_PRIVATE);
	uintptr_t aligned = ((uintptr_t)raw + HUGE_PAGE_BYTES - 1) & ~(HUGE_PAGE_BYTES - 1);
	char *start = (char *)aligned;
	size_t head = (size_t)(start - raw);
	size_t tail = HUGE_PAGE_BYTES - head;

	if (head > 0 && munmap(raw, head) < 0)
		die("munmap");
	if (tail > 0 && munmap(start + bytes, tail) < 0)
		die("munmap");
	/* Before the first touch: THP is often "madvise" only. */
	if (madvise(start, bytes, MADV_HUGEPAGE) < 0)
		die("madvise(MADV_HUGEPAGE)");
	return start;
}

/* Give every page distinct non-zero content (its index + 1), so each is a
 * real page, never the shared zero page. */
static void fill_pages(struct region r)
{
	for (size_t i = 0; i < r.pages; i++)
		*(uint64_t *)(r.start + i * page_size) = i + 1;
}

/* Change one byte in each of pages [first, first + count): enough to break
 * copy-on-write sharing of a private page. */
static void write_pages(struct region r, size_t first, size_t count, unsigned char mark)
{
	for (size_t i = first; i < first + count; i++)
		r.start[i * page_size + 8] = (char)mark;
}

/* A private mapping made after fork, so a profiler counts it as new. */
static struct region map_new(size_t pages)
{
	struct region r = { NULL, pages };

	if (pages == 0)
		return r;
	r.start = map_anon(pages * page_size, MAP_PRIVATE);
	write_pages(r, 0, pages, NEW_MARK);
	return r;
}

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

/* SIGTERM stays blocked except while waiting, so it can never be lost
 * between testing got_term and going to sleep. */
static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_term };
	sigset_t term;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0)
		die("sigaction");
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &term, &wait_mask) < 0)
		die("sigprocmask");
	sigdelset(&wait_mask, SIGTERM);
}

static void wait_for_term(void)
{
	while (!got_term)
		sigsuspend(&wait_mask);
}

/* Die with the parent: without this a killed root would leak the tree. The
 * parent may have died before prctl took effect, hence the getppid check. */
static void follow_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		die("prctl(PR_SET_PDEATHSIG)");
	if (getppid() != parent)
		_exit(1);
}

static void send_ready(int fd, struct region fresh)
{
	struct ready_msg m = {
		.pid = getpid(),
		.ppid = getppid(),
		.new_start = (uint64_t)(uintptr_t)fresh.start,
	};
	ssize_t n;

	do
		n = write(fd, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(m))
		die("write ready");
	if (close(fd) < 0)
		die("close");
}

/* SIGTERM the children and reap them, so nothing is left as a zombie. */
static void stop_children(const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], SIGTERM) < 0 && errno != ESRCH)
			die("kill");
	for (size_t i = 0; i < n; i++)
		while (waitpid(pids[i], NULL, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
}

/* After ready, write step_pages more pages every step_ms, after the child's
 * first writes and before the root's -p pages, until SIGTERM or the end of
 * that range: a copy-on-write curve with a known schedule. */
static void write_in_steps(const struct options *o, size_t index, struct region buf)
{
	size_t next = o->writes[index], end = buf.pages - o->parent_pages;
	struct timespec step = { (time_t)(o->step_ms / 1000),
				 (long)(o->step_ms % 1000) * 1000000L };

	while (!got_term && next < end) {
		size_t n = end - next < o->step_pages ? end - next : o->step_pages;

		if (ppoll(NULL, 0, &step, &wait_mask) < 0 && errno != EINTR)
			die("ppoll");
		if (got_term)
			break;
		write_pages(buf, next, n, CHILD_MARK);
		next += n;
	}
}

static void run_grandchild(const struct options *o, struct region buf, int ready_fd, pid_t parent)
{
	follow_parent(parent);
	write_pages(buf, o->writes[0], o->grandchild_pages, GRANDCHILD_MARK);
	send_ready(ready_fd, map_new(o->new_pages));
	wait_for_term();
	_exit(0);
}

static void run_child(const struct options *o, size_t index, struct region buf,
		      struct region shared, int ready_fd, pid_t parent)
{
	pid_t grandchild = 0;
	struct region fresh;

	follow_parent(parent);
	write_pages(buf, 0, o->writes[index], CHILD_MARK);
	/* A write to MAP_SHARED memory never copies: it stays shared. */
	write_pages(shared, 0, shared.pages, CHILD_MARK);
	fresh = map_new(o->new_pages);
	if (index == 0 && o->grandchild_pages > 0) {
		pid_t self = getpid();

		grandchild = fork();
		if (grandchild < 0)
			die("fork");
		if (grandchild == 0)
			run_grandchild(o, buf, ready_fd, self);
	}
	send_ready(ready_fd, fresh);
	if (o->step_ms > 0 && o->step_pages > 0)
		write_in_steps(o, index, buf);
	wait_for_term();
	if (grandchild > 0)
		stop_children(&grandchild, 1);
	_exit(0);
}

/* Read count ready records. Waits with SIGTERM unblocked (ppoll) so the root
 * can be stopped even while a child is slow. Returns 0, 1 if SIGTERM came
 * first, or -1 if a process exited before it was ready (EOF on the pipe). */
static int read_ready(int fd, struct ready_msg *msgs, size_t count)
{
	char *p = (char *)msgs;
	size_t left = count * sizeof(*msgs);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (left > 0) {
		ssize_t n;

		if (ppoll(&pfd, 1, NULL, &wait_mask) < 0) {
			if (errno != EINTR)
				die("ppoll");
			if (got_term)
				return 1;
			continue;
		}
		n = read(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read ready");
		if (n == 0) {
			fprintf(stderr, "forktree: a process exited before it was ready\n");
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

static void print_process(const struct ready_msg *m, const char *role,
			  size_t copied, size_t shared, size_t new_pages)
{
	printf(",{\"pid\":%" PRId32 ",\"ppid\":%" PRId32 ",\"role\":\"%s\","
	       "\"buffer_copied_pages\":%zu,\"buffer_shared_pages\":%zu,"
	       "\"new_start\":%" PRIu64 ",\"new_pages\":%zu}",
	       m->pid, m->ppid, role, copied, shared,
	       m->new_start, m->new_start ? new_pages : 0);
}

static const struct ready_msg *find_msg(const struct ready_msg *msgs, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (msgs[i].pid == pid)
			return &msgs[i];
	return NULL;
}

/* The expected figures, each relative to the process's own parent. A child
 * has copied its own writes plus the root's: after the root's write the root
 * holds a new page and the child keeps the old one. The grandchild shares
 * child 0's copies, so only its own writes count. */
static int print_ready(const struct options *o, struct region buf, struct region shared,
		       const pid_t *children, const struct ready_msg *msgs, size_t n_msgs)
{
	const struct ready_msg *gc = NULL;
	struct ready_msg root = { .pid = getpid(), .ppid = getppid() };

	printf("{\"ready\":true,\"page_size\":%zu,\"thp\":%s,"
	       "\"buffer\":{\"start\":%" PRIuPTR ",\"pages\":%zu},"
	       "\"shared\":{\"start\":%" PRIuPTR ",\"pages\":%zu},\"processes\":[",
	       page_size, o->thp ? "true" : "false",
	       (uintptr_t)buf.start, buf.pages, (uintptr_t)shared.start, shared.pages);
	printf("{\"pid\":%" PRId32 ",\"ppid\":%" PRId32 ",\"role\":\"root\","
	       "\"buffer_copied_pages\":0,\"buffer_shared_pages\":0,"
	       "\"new_start\":0,\"new_pages\":0}", root.pid, root.ppid);
	for (size_t i = 0; i < o->children; i++) {
		size_t copied = o->writes[i] + o->parent_pages;

		print_process(find_msg(msgs, n_msgs, children[i]), "child",
			      copied, buf.pages - copied, o->new_pages);
	}
	for (size_t i = 0; i < n_msgs; i++)
		if (msgs[i].ppid != root.pid)
			gc = &msgs[i];
	if (gc)
		print_process(gc, "grandchild", o->grandchild_pages,
			      buf.pages - o->grandchild_pages, o->new_pages);
	printf("]}\n");
	return fflush(stdout) == 0 ? 0 : -1;
}

/* Fork the children; each inherits the write end of the ready pipe. Returns
 * 0, or -1 (with the children forked so far stopped) if a fork failed. */
static int spawn_children(const struct options *o, struct region buf, struct region shared,
			  const int ready[2], pid_t *children)
{
	pid_t self = getpid();

	for (size_t i = 0; i < o->children; i++) {
		children[i] = fork();
		if (children[i] < 0) {
			fprintf(stderr, "forktree: fork: %s\n", strerror(errno));
			stop_children(children, i);
			return -1;
		}
		if (children[i] == 0) {
			close(ready[0]);
			run_child(o, i, buf, shared, ready[1], self);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct region buf, shared = { NULL, 0 };
	pid_t children[MAX_CHILDREN];
	struct ready_msg msgs[MAX_CHILDREN + 1];
	size_t n_msgs;
	int ready[2], state;
	long ps = sysconf(_SC_PAGESIZE);

	if (ps <= 0)
		die("sysconf(_SC_PAGESIZE)");
	page_size = (size_t)ps;
	parse_options(argc, argv, &o);
	buf.pages = o.buffer_mib * MIB / page_size;
	check_ranges(&o, buf.pages);
	n_msgs = o.children + (o.grandchild_pages > 0);

	buf.start = o.thp ? map_thp(o.buffer_mib * MIB) : map_anon(o.buffer_mib * MIB, MAP_PRIVATE);
	fill_pages(buf);
	if (o.shared_mib > 0) {
		shared.pages = o.shared_mib * MIB / page_size;
		shared.start = map_anon(o.shared_mib * MIB, MAP_SHARED);
		fill_pages(shared);
	}
	setup_signals();
	if (pipe(ready) < 0)
		die("pipe");
	if (spawn_children(&o, buf, shared, ready, children) < 0)
		return 1;
	/* Only the tree below holds the write end now: EOF means one died. */
	if (close(ready[1]) < 0)
		die("close");

	state = read_ready(ready[0], msgs, n_msgs);
	if (state == 0) {
		write_pages(buf, buf.pages - o.parent_pages, o.parent_pages, ROOT_MARK);
		if (print_ready(&o, buf, shared, children, msgs, n_msgs) < 0) {
			fprintf(stderr, "forktree: stdout: %s\n", strerror(errno));
			state = -1;
		}
	}
	if (state == 0)
		wait_for_term();
	stop_children(children, o.children);
	return state < 0 ? 1 : 0;
}
