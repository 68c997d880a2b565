/* preload.c - libcowprof_preload.so: each forked child's first write to every
 * page it inherited, with the native and Python stack that made it
 *
 * Inert unless COWPROF_SPOOL names a directory. Then, in every forked child
 * (pthread_atfork child handler; grandchildren too), it write-protects the
 * present pages of the inherited private anonymous mappings with
 * userfaultfd (UFFDIO_REGISTER_MODE_WP, UFFD_FEATURE_SIGBUS), and the
 * private file mappings (.data) with mprotect: the first write to such a
 * page raises SIGBUS (SIGSEGV) in the writing thread, whose handler records
 * time, thread, address and stacks into <spool>/faults.<pid> (faultring.h),
 * lifts the protection of that one page and returns; the write is then
 * retried and the kernel copies the page as usual. The wrappers below keep
 * the program's own signal handlers and masks working and prepare the
 * buffers the kernel writes. See docs/faults.md for the choices, the costs
 * and the limits.
 *
 * Environment: COWPROF_SPOOL=<dir> (required), COWPROF_STACKS=none|native|all
 * (default all), COWPROF_RING_SLOTS=<n> (default 16384), COWPROF_RING_CODES=<n>
 * (Python code objects named per process, default 4096), COWPROF_FILE_DATA=0
 * (leave private file mappings alone).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "../faultring.h"
#include "../pyframe.h"

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))
#define PAGE 4096ul
#define MAX_EXCL 96

enum stacks { STACKS_NONE, STACKS_NATIVE, STACKS_ALL };

/* An armed range: [start, end), a mapping at fork; bit0 is the index of its
 * first page in the bitmaps (still protected, present at fork). */
struct range {
	uint64_t start, end, bit0;
	bool mprot;   /* protected with mprotect (file-backed), not userfaultfd */
	bool dead;    /* the program changed it (mprotect, munmap): not ours */
	int prot;     /* its protection, for mprot ranges */
};

struct span {
	uint64_t start, end;
};

static struct {
	bool enabled;
	enum stacks stacks;
	bool file_data;     /* arm private file mappings with mprotect */
	uint32_t nslots, ncodes;
	char spool[4096];
	/* RW segments of the objects the handler itself writes (this library,
	 * libunwind, ld.so): never armed */
	struct span own[16];
	int nown;
	struct span text;   /* this library's code */
	struct span unw_text;
	/* static TLS blocks of this library and libunwind, from the thread
	 * pointer (the same offsets in every thread) */
	struct { int64_t off; uint64_t size; } tls[4];
	int ntls;
	/* the kernel writes each thread's rseq area on every return to user
	 * space, and kills the thread if it cannot */
	ptrdiff_t rseq_off;
	unsigned int rseq_size;
	/* memory libunwind mapped (its caches): it writes there with every
	 * signal blocked, where a fault of ours would kill the process */
	struct span unw_mem[32];
	int nunw_mem;
	/* Python, looked up once before the first fork */
	bool py_looked, py_ok;
	struct pyframe_layout py;
	char py_status[FAULTRING_STATUS_MAX];
	/* the program's SIGBUS and SIGSEGV actions while we own the real ones
	 * (SIGSEGV only when some mapping is protected with mprotect) */
	struct sigaction prog_bus, prog_segv;
	bool segv_owned;
	/* per process, reset in each child */
	volatile bool armed;
	int uffd;
	struct faultring_writer ring;
	struct range *ranges;
	size_t nranges, ranges_size;
	uint64_t *bits;      /* pages still protected */
	uint64_t *present;   /* pages present at fork: a first write copies */
	size_t bits_size;
} g = { .uffd = -1 };

static TLS int in_handler;
static TLS uint64_t last_spurious;
static TLS pid_t tid_cache;
static TLS uint64_t tstate_cache;   /* this thread's PyThreadState, once found */
static TLS sigjmp_buf *walk_jmp;    /* set while reading Python frames */

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
static sighandler_t (*real_signal)(int, sighandler_t);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_preadv)(int, const struct iovec *, int, off_t);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *,
				socklen_t *);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static size_t (*real_fread)(void *, size_t, size_t, FILE *);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_sigprocmask)(int, const sigset_t *, sigset_t *);
static int (*real_pthread_sigmask)(int, const sigset_t *, sigset_t *);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int (*real_epoll_pwait)(int, struct epoll_event *, int, int,
			       const sigset_t *);
static int (*real_recvmmsg)(int, struct mmsghdr *, unsigned int, int,
			    struct timespec *);
static DIR *(*real_opendir)(const char *);
static DIR *(*real_fdopendir)(int);
static ssize_t (*real_getdents64)(int, void *, size_t);

static void *next_sym(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* The next definition of a symbol we wrap, looked up on first use when a
 * wrapper runs before our constructor. */
static void **resolved(void **slot, const char *name)
{
	if (!*slot)
		*slot = next_sym(name);
	return slot;
}

#define REAL(fn) (*(__typeof__(real_##fn) *)resolved((void **)&real_##fn, #fn))

static pid_t my_tid(void)
{
	if (!tid_cache)
		tid_cache = (pid_t)syscall(SYS_gettid);
	return tid_cache;
}

/* ---- the armed ranges ---- */

/* The range holding addr, or NULL. */
static struct range *range_of(uint64_t addr)
{
	size_t lo = 0, hi = g.nranges;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (addr < g.ranges[mid].start)
			hi = mid;
		else if (addr >= g.ranges[mid].end)
			lo = mid + 1;
		else
			return &g.ranges[mid];
	}
	return NULL;
}

static void set_bit(uint64_t *map, uint64_t b, bool on)
{
	if (on)
		map[b / 64] |= 1ull << (b % 64);
	else
		map[b / 64] &= ~(1ull << (b % 64));
}

/* Clear the bit of page addr of r: true if it was set (still protected). */
static bool take_page(const struct range *r, uint64_t addr)
{
	uint64_t b = r->bit0 + (addr - r->start) / PAGE;
	uint64_t m = 1ull << (b % 64);
	return __atomic_fetch_and(&g.bits[b / 64], ~m, __ATOMIC_ACQ_REL) & m;
}

static bool was_present(const struct range *r, uint64_t addr)
{
	uint64_t b = r->bit0 + (addr - r->start) / PAGE;
	return g.present[b / 64] >> (b % 64) & 1;
}

/* mprotect without our wrapper */
static int sys_mprotect(uint64_t start, uint64_t len, int prot)
{
	return (int)syscall(SYS_mprotect, start, len, prot);
}

static int unprotect(const struct range *r, uint64_t start, uint64_t len)
{
	if (r->mprot)
		return sys_mprotect(start, len, r->prot);
	struct uffdio_writeprotect wp = {
		.range = { .start = start, .len = len }, .mode = 0 };
	return ioctl(g.uffd, UFFDIO_WRITEPROTECT, &wp);
}

/* ---- recording ---- */

/* The walk reads the interpreter's memory with plain loads. Should a
 * pointer be stale (a frame chain in flux, a thread state freed since we
 * cached it), the read faults: on_fault jumps back here and the event goes
 * without Python frames instead of killing the program. */
static void record_python(struct faultring_slot *s, pid_t tid)
{
	struct pyframe fr[FAULTRING_MAX_PY];
	sigjmp_buf jb;
	struct faultring_code *volatile pending = NULL;
	if (sigsetjmp(jb, 0)) {
		walk_jmp = NULL;
		tstate_cache = 0;
		if (pending) {
			memcpy(pending->name, "?", 2);
			pending->file[0] = '\0';
			faultring_writer_code_done(pending);
		}
		s->npy = 0;
		return;
	}
	walk_jmp = &jb;
	uint64_t ts = tstate_cache;
	if (!ts)
		ts = tstate_cache = pyframe_thread_state(&g.py, pyframe_read_self,
							 NULL, tid);
	int n = ts ? pyframe_walk(&g.py, pyframe_read_self, NULL, ts, fr,
				  FAULTRING_MAX_PY) : 0;
	for (int i = 0; i < n; i++) {
		s->py_code[i] = fr[i].code;
		s->py_line[i] = fr[i].line;
		struct faultring_code *c =
			faultring_writer_code_claim(&g.ring, fr[i].code);
		if (!c)
			continue;
		pending = c;
		if (pyframe_code_names(&g.py, pyframe_read_self, NULL, fr[i].code,
				       c->name, sizeof(c->name), c->file,
				       sizeof(c->file)) < 0) {
			memcpy(c->name, "?", 2);
			c->file[0] = '\0';
		}
		faultring_writer_code_done(c);
		pending = NULL;
	}
	walk_jmp = NULL;
	s->npy = (uint8_t)(n > 0 ? n : 0);
}

/* Record one event for page addr. uc is the signal context (the stack then
 * starts at the faulting instruction), or NULL for a syscall wrapper (the
 * stack starts at the wrapper's caller). */
static void record(uint64_t addr, ucontext_t *uc, uint16_t flags)
{
	uint64_t idx;
	struct faultring_slot *s = faultring_writer_reserve(&g.ring, &idx);
	if (!s)
		return;
	pid_t tid = my_tid();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->t_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	s->addr = addr;
	s->tid = tid;
	s->flags = flags;
	s->nnative = 0;
	s->npy = 0;
	if (g.stacks >= STACKS_NATIVE) {
		unw_cursor_t cur;
		unw_context_t ctx;
		int rc;
		if (uc) {
			rc = unw_init_local2(&cur, (unw_context_t *)uc,
					     UNW_INIT_SIGNAL_FRAME);
		} else {
			unw_getcontext(&ctx);
			rc = unw_init_local(&cur, &ctx);
			/* skip this library's frames: start at the caller */
			unw_word_t ip = 0;
			while (rc == 0 && unw_get_reg(&cur, UNW_REG_IP, &ip) == 0 &&
			       ip >= g.text.start && ip < g.text.end)
				if (unw_step(&cur) <= 0)
					rc = -1;
		}
		int n = 0;
		while (rc == 0 && n < FAULTRING_MAX_NATIVE) {
			unw_word_t ip;
			if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || !ip)
				break;
			s->native[n++] = ip;
			if (unw_step(&cur) <= 0)
				break;
		}
		s->nnative = (uint8_t)n;
	}
	if (g.stacks == STACKS_ALL && g.py_ok)
		record_python(s, tid);
	faultring_writer_commit(&g.ring, s, idx);
}

/* ---- the fault handler ---- */

static struct sigaction *prog_of(int sig)
{
	return sig == SIGSEGV ? &g.prog_segv : &g.prog_bus;
}

static bool owned(int sig)
{
	return g.armed && (sig == SIGBUS || (sig == SIGSEGV && g.segv_owned));
}

/* Hand a SIGBUS or SIGSEGV that is not ours to what the program asked for. */
static void chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction p = *prog_of(sig);
	if (!(p.sa_flags & SA_SIGINFO) && p.sa_handler == SIG_IGN &&
	    si->si_code <= 0)
		return;
	if ((p.sa_flags & SA_SIGINFO) ? !p.sa_sigaction
				      : (p.sa_handler == SIG_DFL ||
					 p.sa_handler == SIG_IGN)) {
		/* default action: a fault re-executes and dies with a core; a
		 * sent signal is sent again */
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		sigemptyset(&dfl.sa_mask);
		*prog_of(sig) = dfl;
		REAL(sigaction)(sig, &dfl, NULL);
		if (si->si_code <= 0)
			raise(sig);
		return;
	}
	sigset_t old, mask = p.sa_mask;
	sigdelset(&mask, SIGBUS);
	if (g.segv_owned)
		sigdelset(&mask, SIGSEGV);
	REAL(pthread_sigmask)(SIG_BLOCK, &mask, &old);
	if (p.sa_flags & SA_RESETHAND) {
		memset(prog_of(sig), 0, sizeof(p));
		prog_of(sig)->sa_handler = SIG_DFL;
	}
	if (p.sa_flags & SA_SIGINFO)
		p.sa_sigaction(sig, si, uc);
	else
		p.sa_handler(sig);
	REAL(pthread_sigmask)(SIG_SETMASK, &old, NULL);
}

/* SIGBUS (userfaultfd) and SIGSEGV (mprotect) of a first write. */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	uint64_t addr = (uint64_t)si->si_addr;
	uint64_t page = addr & ~(PAGE - 1);
	struct range *r = NULL;
	if (g.armed && ((sig == SIGBUS && si->si_code == BUS_ADRERR) ||
			(sig == SIGSEGV && si->si_code == SEGV_ACCERR))) {
		r = range_of(addr);
		if (r && (r->dead || r->mprot != (sig == SIGSEGV)))
			r = NULL;
	}
	if (!r) {
		if (walk_jmp && si->si_code > 0)
			siglongjmp(*walk_jmp, 1);
		chain(sig, si, uc);
		errno = saved;
		return;
	}
	if (in_handler) {
		/* the handler itself wrote a protected page (libunwind's or
		 * libc's state): let it through, uncounted as an event */
		if (take_page(r, page) && was_present(r, page))
			faultring_writer_count(&g.ring.h->self_faults, 1);
		unprotect(r, page, PAGE);
		errno = saved;
		return;
	}
	in_handler = 1;
	if (take_page(r, page)) {
		last_spurious = 0;
		/* a page absent at fork (mprotect covers those too) is new, not
		 * a copy */
		if (was_present(r, page))
			record(addr, uc, 0);
		unprotect(r, page, PAGE);
	} else if (last_spurious == page) {
		/* the page is no longer ours and still faults: a SIGBUS of the
		 * program's own */
		last_spurious = 0;
		in_handler = 0;
		chain(sig, si, uc);
		errno = saved;
		return;
	} else {
		/* another thread took this page and is about to lift the
		 * protection: retry the write */
		last_spurious = page;
	}
	in_handler = 0;
	errno = saved;
}

/* ---- syscall buffers ---- */

/* The kernel cannot take our SIGBUS: its write to a protected page fails
 * with EFAULT. Before a call that makes the kernel write into [buf, +len),
 * lift the protection of the pages still protected, recording each as an
 * event at the caller. */
static void prepare_buffer(uintptr_t buf, size_t len)
{
	if (!g.armed || !len || in_handler)
		return;
	uint64_t a = buf & ~(PAGE - 1);
	uint64_t end = buf + len;
	int saved = errno;
	in_handler = 1;
	while (a < end) {
		struct range *r = range_of(a);
		if (!r) {
			a += PAGE;
			continue;
		}
		for (; a < end && a < r->end; a += PAGE) {
			if (!take_page(r, a))
				continue;
			if (was_present(r, a)) {
				record(a, NULL, FAULTRING_SLOT_KERNEL);
				faultring_writer_count(&g.ring.h->kernel_writes, 1);
			}
			unprotect(r, a, PAGE);
		}
	}
	in_handler = 0;
	errno = saved;
}

static void prepare_iov(const struct iovec *iov, int n)
{
	for (int i = 0; g.armed && iov && i < n; i++)
		prepare_buffer((uintptr_t)iov[i].iov_base, iov[i].iov_len);
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	prepare_buffer((uintptr_t)buf, n);
	return REAL(read)(fd, buf, n);
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	prepare_buffer((uintptr_t)buf, n);
	return REAL(pread)(fd, buf, n, off);
}

EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	prepare_buffer((uintptr_t)buf, n);
	return REAL(pread)(fd, buf, n, off);
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	prepare_iov(iov, n);
	return REAL(readv)(fd, iov, n);
}

EXPORT ssize_t preadv(int fd, const struct iovec *iov, int n, off_t off)
{
	prepare_iov(iov, n);
	return REAL(preadv)(fd, iov, n, off);
}

EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	prepare_buffer((uintptr_t)buf, n);
	return REAL(recv)(fd, buf, n, flags);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
			struct sockaddr *from, socklen_t *fromlen)
{
	prepare_buffer((uintptr_t)buf, n);
	prepare_buffer((uintptr_t)from, fromlen ? *fromlen : 0);
	return REAL(recvfrom)(fd, buf, n, flags, from, fromlen);
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	if (m) {
		prepare_iov(m->msg_iov, (int)m->msg_iovlen);
		prepare_buffer((uintptr_t)m->msg_name, m->msg_namelen);
		prepare_buffer((uintptr_t)m->msg_control, m->msg_controllen);
	}
	return REAL(recvmsg)(fd, m, flags);
}

EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
		    struct timespec *timeout)
{
	for (unsigned int i = 0; g.armed && v && i < n; i++) {
		prepare_iov(v[i].msg_hdr.msg_iov, (int)v[i].msg_hdr.msg_iovlen);
		prepare_buffer((uintptr_t)v[i].msg_hdr.msg_name, v[i].msg_hdr.msg_namelen);
		prepare_buffer((uintptr_t)v[i].msg_hdr.msg_control,
			       v[i].msg_hdr.msg_controllen);
	}
	return REAL(recvmmsg)(fd, v, n, flags, timeout);
}

EXPORT int epoll_wait(int fd, struct epoll_event *ev, int n, int timeout)
{
	if (n > 0)
		prepare_buffer((uintptr_t)ev, (size_t)n * sizeof(*ev));
	return REAL(epoll_wait)(fd, ev, n, timeout);
}

EXPORT int epoll_pwait(int fd, struct epoll_event *ev, int n, int timeout,
		       const sigset_t *mask)
{
	if (n > 0)
		prepare_buffer((uintptr_t)ev, (size_t)n * sizeof(*ev));
	return REAL(epoll_pwait)(fd, ev, n, timeout, mask);
}

EXPORT ssize_t getdents64(int fd, void *buf, size_t n)
{
	prepare_buffer((uintptr_t)buf, n);
	return REAL(getdents64)(fd, buf, n);
}

/* readdir fills the DIR's buffer with getdents64 from inside libc, where no
 * wrapper sees it: prepare the whole DIR when it is made. glibc's DIR starts
 * with int fd, a lock word and size_t allocation, the buffer's size. */
static DIR *prepare_dir(DIR *d)
{
	if (d && g.armed) {
		size_t alloc;
		memcpy(&alloc, (char *)d + 8, sizeof(alloc));
		if (alloc < 4096 || alloc > (1u << 20))
			alloc = 32768;
		prepare_buffer((uintptr_t)d, alloc + 64);
	}
	return d;
}

EXPORT DIR *opendir(const char *name)
{
	return prepare_dir(REAL(opendir)(name));
}

EXPORT DIR *fdopendir(int fd)
{
	return prepare_dir(REAL(fdopendir)(fd));
}

EXPORT size_t fread(void *p, size_t size, size_t n, FILE *f)
{
	if (size && n <= SIZE_MAX / size)
		prepare_buffer((uintptr_t)p, size * n);
	return REAL(fread)(p, size, n, f);
}

/* ---- mappings protected with mprotect ---- */

/* Give the still-protected pages of r their protection back (protect
 * false) or take it again (true); with forget, clear their bits too. */
static void mprot_pages(struct range *r, bool protect, bool forget)
{
	uint64_t run = 0;
	for (uint64_t a = r->start; a <= r->end; a += PAGE) {
		bool on = false;
		if (a < r->end) {
			uint64_t b = r->bit0 + (a - r->start) / PAGE;
			on = g.bits[b / 64] >> (b % 64) & 1;
			if (on && forget)
				set_bit(g.bits, b, false);
		}
		if (on && !run)
			run = a;
		if (!on && run) {
			sys_mprotect(run, a - run,
				     protect ? r->prot & ~PROT_WRITE : r->prot);
			run = 0;
		}
	}
}

/* The program changes [addr, +len) itself (mprotect, munmap, mremap,
 * mmap over it): the mprotect ranges it touches are no longer ours. */
static void release(uint64_t addr, uint64_t len)
{
	if (!g.armed || !g.segv_owned)
		return;
	for (size_t i = 0; i < g.nranges; i++) {
		struct range *r = &g.ranges[i];
		if (!r->mprot || r->dead || addr >= r->end || addr + len <= r->start)
			continue;
		mprot_pages(r, false, true);
		r->dead = true;
	}
}

/* Around a fork of an armed process: the child must not inherit pages
 * that only our handler here knows are protected. */
static void mprot_all(bool protect)
{
	if (!g.armed || !g.segv_owned)
		return;
	for (size_t i = 0; i < g.nranges; i++)
		if (g.ranges[i].mprot && !g.ranges[i].dead)
			mprot_pages(&g.ranges[i], protect, false);
}

EXPORT int mprotect(void *addr, size_t len, int prot)
{
	release((uint64_t)addr, len);
	return sys_mprotect((uint64_t)addr, len, prot);
}

EXPORT int munmap(void *addr, size_t len)
{
	release((uint64_t)addr, len);
	return (int)syscall(SYS_munmap, addr, len);
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *target = NULL;
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		target = va_arg(ap, void *);
		va_end(ap);
		release((uint64_t)target, new_len);
	}
	release((uint64_t)old, old_len);
	return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, target);
}

/* ---- libunwind's memory ---- */

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (flags & MAP_FIXED)
		release((uint64_t)addr, len);
	void *p = REAL(mmap)(addr, len, prot, flags, fd, off);
	uint64_t ra = (uint64_t)__builtin_return_address(0);
	if (p != MAP_FAILED && ra >= g.unw_text.start && ra < g.unw_text.end) {
		int i = __atomic_fetch_add(&g.nunw_mem, 1, __ATOMIC_RELAXED);
		if (i < (int)(sizeof(g.unw_mem) / sizeof(g.unw_mem[0]))) {
			g.unw_mem[i].start = (uint64_t)p;
			g.unw_mem[i].end = (uint64_t)p + len;
		}
	}
	return p;
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

/* A synchronous SIGBUS (or our SIGSEGV) that finds itself blocked kills the
 * process (the kernel resets it to the default action): while armed, no
 * thread may block them, nor any handler's mask hold them. Returns set, or
 * keep holding set without them. */
static const sigset_t *strip_mask(int how, const sigset_t *set, sigset_t *keep)
{
	if (!g.armed || !set || how == SIG_UNBLOCK)
		return set;
	*keep = *set;
	sigdelset(keep, SIGBUS);
	if (g.segv_owned)
		sigdelset(keep, SIGSEGV);
	return keep;
}

/* libunwind blocks every signal around each use of its caches: two system
 * calls per frame, most of the cost of a stack. Inside our handler that
 * protects nothing (the only signal that can come is our own SIGBUS, whose
 * nested path never unwinds), so there it is skipped; its mutex stays. */
EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	uint64_t ra = (uint64_t)__builtin_return_address(0);
	if (in_handler && ra >= g.unw_text.start && ra < g.unw_text.end) {
		if (old)
			memset(old, 0, sizeof(*old));
		return 0;
	}
	sigset_t keep;
	return REAL(sigprocmask)(how, strip_mask(how, set, &keep), old);
}

EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t keep;
	return REAL(pthread_sigmask)(how, strip_mask(how, set, &keep), old);
}

/* ---- the program's signal handlers ---- */

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!owned(sig)) {
		if (!g.armed || !act)
			return REAL(sigaction)(sig, act, old);
		struct sigaction keep = *act;
		strip_mask(SIG_BLOCK, &act->sa_mask, &keep.sa_mask);
		return REAL(sigaction)(sig, &keep, old);
	}
	if (old)
		*old = *prog_of(sig);
	if (act)
		*prog_of(sig) = *act;
	return 0;
}

EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	if (!owned(sig))
		return REAL(signal)(sig, h);
	/* glibc's signal(): BSD semantics */
	struct sigaction act = { .sa_handler = h, .sa_flags = SA_RESTART }, old;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	sigaction(sig, &act, &old);
	return (old.sa_flags & SA_SIGINFO) ? (sighandler_t)(void (*)(void))old.sa_sigaction
					   : old.sa_handler;
}

/* ---- arming, in the fork child ---- */

/* An anonymous scratch mapping the children do not inherit. */
static void *scratch(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, size, MADV_DONTFORK);
	return p;
}

/* Read /proc/self/maps into a scratch buffer; returns its length or -1. */
static ssize_t read_maps(char **buf, size_t *size)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t cap = 1 << 20, len = 0;
	char *b = scratch(cap);
	while (b) {
		ssize_t n = REAL(read)(fd, b + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (cap - len < 4096) {
			char *nb = mremap(b, cap, cap * 2, MREMAP_MAYMOVE);
			if (nb == MAP_FAILED) {
				munmap(b, cap);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (!b)
		return -1;
	b[len] = '\0';
	*buf = b;
	*size = cap;
	return (ssize_t)len;
}

struct mapline {
	uint64_t start, end;
	char perms[5];
	uint64_t inode;
	const char *path;   /* points into the line; "" when none */
	size_t pathlen;
};

static uint64_t parse_hex(const char **p)
{
	uint64_t v = 0;
	for (;; (*p)++) {
		char c = **p;
		if (c >= '0' && c <= '9')
			v = v * 16 + (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uint64_t)(c - 'a' + 10);
		else
			return v;
	}
}

/* Parse the line at *p (advancing past it). Returns false at the end. */
static bool next_mapline(const char **p, struct mapline *m)
{
	const char *s = *p;
	if (!*s)
		return false;
	const char *eol = strchr(s, '\n');
	if (!eol)
		eol = s + strlen(s);
	*p = *eol ? eol + 1 : eol;
	m->start = parse_hex(&s);
	if (*s == '-')
		s++;
	m->end = parse_hex(&s);
	while (*s == ' ')
		s++;
	for (int i = 0; i < 4; i++)
		m->perms[i] = s < eol ? *s++ : '-';
	m->perms[4] = '\0';
	/* offset, dev, inode */
	for (int f = 0; f < 3; f++) {
		while (s < eol && *s == ' ')
			s++;
		const char *t = s;
		while (s < eol && *s != ' ')
			s++;
		if (f == 2) {
			m->inode = 0;
			for (; t < s; t++)
				m->inode = m->inode * 10 + (uint64_t)(*t - '0');
		}
	}
	while (s < eol && *s == ' ')
		s++;
	m->path = s;
	m->pathlen = (size_t)(eol - s);
	return true;
}

static bool path_is(const struct mapline *m, const char *name)
{
	size_t n = strlen(name);
	return m->pathlen == n && !memcmp(m->path, name, n);
}

static void add_excl(struct span *ex, int *n, uint64_t start, uint64_t end)
{
	if (*n < MAX_EXCL && start < end) {
		ex[*n].start = start & ~(PAGE - 1);
		ex[*n].end = (end + PAGE - 1) & ~(PAGE - 1);
		(*n)++;
	}
}

/* Write-protect the present pages of [start, end) that no exclusion covers
 * and set their bits. Returns how many pages. */
/* Protect [start, end) of r. Userfaultfd protects the present pages only;
 * mprotect covers every page, and the present ones are those whose first
 * write is recorded. Returns the present pages. */
static uint64_t protect_span(int pm, const struct range *r, uint64_t start,
			     uint64_t end)
{
	uint64_t bit0 = r->bit0, rstart = r->start;
	uint64_t n = 0, e[512];
	for (uint64_t a = start; a < end;) {
		uint64_t cnt = (end - a) / PAGE;
		if (cnt > 512)
			cnt = 512;
		ssize_t got = pread(pm, e, cnt * 8, (off_t)(a / PAGE * 8));
		if (got <= 0)
			break;
		cnt = (uint64_t)got / 8;
		for (uint64_t i = 0; i < cnt; i++) {
			/* bit 63 present, 62 swapped
			 * (Documentation/admin-guide/mm/pagemap.rst) */
			if (!(e[i] >> 62))
				continue;
			uint64_t b = bit0 + (a + i * PAGE - rstart) / PAGE;
			set_bit(g.present, b, true);
			set_bit(g.bits, b, true);
			n++;
		}
		a += cnt * PAGE;
	}
	if (r->mprot) {
		for (uint64_t a = start; a < end; a += PAGE)
			set_bit(g.bits, bit0 + (a - rstart) / PAGE, true);
		if (sys_mprotect(start, end - start, r->prot & ~PROT_WRITE) == 0)
			return n;
		n = 0;
	}
	struct uffdio_writeprotect wp = {
		.range = { .start = start, .len = end - start },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP };
	if (!n || (!r->mprot && ioctl(g.uffd, UFFDIO_WRITEPROTECT, &wp) < 0)) {
		/* nothing protected: clear what we set */
		for (uint64_t a = start; a < end; a += PAGE) {
			set_bit(g.bits, bit0 + (a - rstart) / PAGE, false);
			set_bit(g.present, bit0 + (a - rstart) / PAGE, false);
		}
		return 0;
	}
	return n;
}

/* [start, end) minus the exclusions, each piece protected. */
static uint64_t protect_range(int pm, const struct range *r,
			      const struct span *ex, int nex)
{
	uint64_t n = 0, a = r->start;
	while (a < r->end) {
		uint64_t b = r->end;
		bool skipped = false;
		for (int i = 0; i < nex; i++) {
			if (ex[i].start <= a && a < ex[i].end) {
				a = ex[i].end;
				skipped = true;
				break;
			}
			if (ex[i].start > a && ex[i].start < b)
				b = ex[i].start;
		}
		if (skipped)
			continue;
		n += protect_span(pm, r, a, b);
		a = b;
	}
	return n;
}

/* A private writable file mapping (.data of the program and its libraries,
 * MAP_PRIVATE of a file): userfaultfd cannot register those, mprotect can. */
static bool candidate_file(const struct mapline *m)
{
	return m->perms[0] == 'r' && m->perms[1] == 'w' && m->perms[3] == 'p' &&
	       m->inode;
}

static bool candidate(const struct mapline *m, const struct mapline *prev)
{
	if (m->perms[1] != 'w' || m->perms[3] != 'p' || m->inode)
		return false;
	if (m->pathlen && !path_is(m, "[heap]"))
		return false;  /* [stack], [vvar], [vdso], named anon */
	/* a glibc thread stack: its guard page (---p) right below it */
	if (prev && prev->end == m->start && !prev->inode &&
	    !strcmp(prev->perms, "---p"))
		return false;
	return true;
}

static void arm(void)
{
	char *maps = NULL;
	size_t maps_size = 0;
	ssize_t len = read_maps(&maps, &maps_size);
	if (len < 0)
		return;
	size_t nlines = 0, npages = 0, nmprot = 0;
	for (const char *p = maps; *p; p++)
		nlines += *p == '\n';
	g.ranges_size = (nlines + 1) * sizeof(struct range);
	g.ranges = scratch(g.ranges_size);
	if (!g.ranges)
		goto out;

	struct span ex[MAX_EXCL];
	int nex = 0;
	uint64_t sp = (uint64_t)__builtin_frame_address(0);
	uint64_t tp = (uint64_t)__builtin_thread_pointer();
	add_excl(ex, &nex, (uint64_t)maps, (uint64_t)maps + maps_size);
	add_excl(ex, &nex, (uint64_t)g.ranges, (uint64_t)g.ranges + g.ranges_size);
	/* what the handler writes in this thread's TLS and TCB (errno, our
	 * guard); other threads' are on their stacks */
	add_excl(ex, &nex, tp, tp + 4096);
	add_excl(ex, &nex, (uint64_t)&in_handler, (uint64_t)&in_handler + 1);
	add_excl(ex, &nex, (uint64_t)&last_spurious, (uint64_t)&last_spurious + 8);
	add_excl(ex, &nex, (uint64_t)&tid_cache, (uint64_t)&tid_cache + 4);
	add_excl(ex, &nex, (uint64_t)&tstate_cache, (uint64_t)&tstate_cache + 8);
	add_excl(ex, &nex, (uint64_t)&walk_jmp, (uint64_t)&walk_jmp + 8);
	add_excl(ex, &nex, (uint64_t)&errno, (uint64_t)&errno + 4);
	if (g.rseq_size)
		add_excl(ex, &nex, tp + (uint64_t)g.rseq_off,
			 tp + (uint64_t)g.rseq_off + g.rseq_size);
	for (int i = 0; i < g.ntls; i++)
		add_excl(ex, &nex, tp + (uint64_t)g.tls[i].off,
			 tp + (uint64_t)g.tls[i].off + g.tls[i].size);
	for (int i = 0; i < g.nown; i++)
		add_excl(ex, &nex, g.own[i].start, g.own[i].end);
	int nunw = __atomic_load_n(&g.nunw_mem, __ATOMIC_RELAXED);
	for (int i = 0; i < nunw && i < (int)(sizeof(g.unw_mem) / sizeof(g.unw_mem[0])); i++)
		add_excl(ex, &nex, g.unw_mem[i].start, g.unw_mem[i].end);

	const char *p = maps;
	struct mapline m, prev;
	bool have_prev = false;
	while (next_mapline(&p, &m)) {
		bool ok = candidate(&m, have_prev ? &prev : NULL);
		bool file = g.file_data && candidate_file(&m);
		prev = m;
		have_prev = true;
		if ((!ok && !file) || (m.start <= sp && sp < m.end))
			continue;
		if (ok) {
			struct uffdio_register reg = {
				.range = { .start = m.start, .len = m.end - m.start },
				.mode = UFFDIO_REGISTER_MODE_WP };
			if (ioctl(g.uffd, UFFDIO_REGISTER, &reg) < 0)
				continue;
		}
		struct range *r = &g.ranges[g.nranges++];
		memset(r, 0, sizeof(*r));
		r->start = m.start;
		r->end = m.end;
		r->bit0 = npages;
		r->mprot = file;
		r->prot = PROT_READ | PROT_WRITE | (m.perms[2] == 'x' ? PROT_EXEC : 0);
		nmprot += file;
		npages += (m.end - m.start) / PAGE;
	}
	g.bits_size = ((npages + 63) / 64 * 8 + PAGE - 1) & ~(PAGE - 1);
	if (!g.bits_size)
		g.bits_size = PAGE;
	g.bits = scratch(2 * g.bits_size);
	if (!g.bits)
		goto out;
	g.present = (uint64_t *)((char *)g.bits + g.bits_size);
	add_excl(ex, &nex, (uint64_t)g.bits, (uint64_t)g.bits + 2 * g.bits_size);

	/* the signal stack of this thread: the kernel writes frames there */
	stack_t ss;
	if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE))
		add_excl(ex, &nex, (uint64_t)ss.ss_sp, (uint64_t)ss.ss_sp + ss.ss_size);

	/* our signals must never be blocked from now on (see strip_mask) */
	/* SIGSEGV is ours when some .data is armed, or to survive a stale
	 * pointer in the Python frame walk */
	bool segv = nmprot > 0 || (g.stacks == STACKS_ALL && g.py_ok);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction cur;
		if (sig == SIGBUS || sig == SIGSEGV || sig == SIGKILL ||
		    sig == SIGSTOP || REAL(sigaction)(sig, NULL, &cur) < 0)
			continue;
		if (cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN &&
		    (sigismember(&cur.sa_mask, SIGBUS) == 1 ||
		     (segv && sigismember(&cur.sa_mask, SIGSEGV) == 1))) {
			sigdelset(&cur.sa_mask, SIGBUS);
			if (segv)
				sigdelset(&cur.sa_mask, SIGSEGV);
			REAL(sigaction)(sig, &cur, NULL);
		}
	}
	sigset_t ours;
	sigemptyset(&ours);
	sigaddset(&ours, SIGBUS);
	if (segv)
		sigaddset(&ours, SIGSEGV);
	REAL(pthread_sigmask)(SIG_UNBLOCK, &ours, NULL);

	/* our handlers first, then the protection. SIGSEGV runs on the
	 * program's alternate stack when it has one, so that a stack
	 * overflow still reaches the program's own handler. */
	struct sigaction act = { .sa_sigaction = on_fault,
				 .sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART };
	sigemptyset(&act.sa_mask);
	if (REAL(sigaction)(SIGBUS, &act, &g.prog_bus) < 0)
		goto out;
	if (segv) {
		struct sigaction prev_segv;
		act.sa_flags |= SA_ONSTACK;
		if (REAL(sigaction)(SIGSEGV, &act, &prev_segv) == 0) {
			g.prog_segv = prev_segv;
			g.segv_owned = true;
		} else {
			for (size_t i = 0; i < g.nranges; i++)
				g.ranges[i].dead = g.ranges[i].mprot;
		}
	}
	g.armed = true;

	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t armed = 0;
	if (pm >= 0) {
		for (size_t i = 0; i < g.nranges; i++)
			if (!g.ranges[i].dead)
				armed += protect_range(pm, &g.ranges[i], ex, nex);
		close(pm);
	}
	g.ring.h->armed_pages = armed;
	g.ring.h->armed_ranges = g.nranges;
out:
	munmap(maps, maps_size);
}

/* Forget what the parent had: its fd, its ring (not mapped here: our
 * mappings are MADV_DONTFORK), its ranges; put the program's SIGBUS action
 * back. */
static void reset_inherited(void)
{
	if (g.armed) {
		g.armed = false;
		REAL(sigaction)(SIGBUS, &g.prog_bus, NULL);
		if (g.segv_owned)
			REAL(sigaction)(SIGSEGV, &g.prog_segv, NULL);
	}
	g.segv_owned = false;
	if (g.uffd >= 0)
		close(g.uffd);
	g.uffd = -1;
	g.ring.h = NULL;
	g.ring.size = 0;
	g.ranges = NULL;
	g.nranges = 0;
	g.bits = NULL;
	g.present = NULL;
}

static void atfork_child(void)
{
	if (!g.enabled)
		return;
	int saved = errno;
	tid_cache = 0;
	tstate_cache = 0;
	reset_inherited();
	uint32_t flags = (g.stacks >= STACKS_NATIVE ? FAULTRING_F_NATIVE : 0) |
			 (g.stacks == STACKS_ALL && g.py_ok ? FAULTRING_F_PYTHON : 0);
	const char *status = g.stacks == STACKS_ALL ? g.py_status
						    : "Python frames off (COWPROF_STACKS)";
	if (faultring_writer_create(&g.ring, g.spool, getpid(), g.nslots,
				    g.ncodes, flags, status) < 0)
		goto out;
	madvise(g.ring.h, g.ring.size, MADV_DONTFORK);
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == EPERM)
		/* vm.unprivileged_userfaultfd = 0: user-mode faults are all we
		 * catch anyway */
		fd = (int)syscall(SYS_userfaultfd,
				  O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0) {
		g.ring.h->arm_error = errno;
		goto out;
	}
	/* out of the way of programs that expect small fd numbers */
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, 512);
	if (hi >= 0) {
		close(fd);
		fd = hi;
	}
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_SIGBUS |
					      UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	if (ioctl(fd, UFFDIO_API, &api) < 0) {
		g.ring.h->arm_error = errno;
		close(fd);
		goto out;
	}
	g.uffd = fd;
	arm();
out:
	errno = saved;
}

/* Before a fork, until it is known: the interpreter's layout (in the
 * constructor the interpreter is not initialised yet; pyframe says -EAGAIN
 * then, and we ask again at the next fork). */
static void atfork_parent(void)
{
	mprot_all(true);
}

static void atfork_prepare(void)
{
	mprot_all(false);
	if (!g.enabled || g.py_looked || g.stacks != STACKS_ALL)
		return;
	int saved = errno;
	char why[FAULTRING_STATUS_MAX] = "";
	int rc = pyframe_layout_find(NULL, 0, &g.py, why, sizeof(why));
	g.py_looked = rc != -EAGAIN;
	if (rc == 0) {
		g.py_ok = true;
		g.py_status[0] = '\0';
	} else if (rc == -ENOENT) {
		snprintf(g.py_status, sizeof(g.py_status), "no CPython");
	} else {
		snprintf(g.py_status, sizeof(g.py_status), "%s",
			 why[0] ? why : strerror(-rc));
	}
	errno = saved;
}

static int own_segments(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	uint64_t here = (uint64_t)&g, unw = (uint64_t)&unw_init_local2;
	bool mine = false, ld = strstr(info->dlpi_name, "/ld-linux") != NULL;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t a = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD &&
		    ((here >= a && here < a + ph->p_memsz) ||
		     (unw >= a && unw < a + ph->p_memsz)))
			mine = true;
	}
	if (!mine && !ld)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_TLS && info->dlpi_tls_data && g.ntls < 4) {
			g.tls[g.ntls].off = (int64_t)((uint64_t)info->dlpi_tls_data -
						      (uint64_t)__builtin_thread_pointer());
			g.tls[g.ntls].size = ph->p_memsz;
			g.ntls++;
		}
	}
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t a = info->dlpi_addr + ph->p_vaddr;
		uint64_t fn = (uint64_t)&record;
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (fn >= a && fn < a + ph->p_memsz) {
			g.text.start = a;
			g.text.end = a + ph->p_memsz;
		}
		if (unw >= a && unw < a + ph->p_memsz) {
			g.unw_text.start = a;
			g.unw_text.end = a + ph->p_memsz;
		}
	}
	for (int i = 0; i < info->dlpi_phnum && g.nown < 16; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		uint64_t a = info->dlpi_addr + ph->p_vaddr;
		g.own[g.nown].start = a & ~(PAGE - 1);
		g.own[g.nown].end = (a + ph->p_memsz + PAGE - 1) & ~(PAGE - 1);
		g.nown++;
	}
	return 0;
}

__attribute__((constructor)) static void preload_init(void)
{
	const char *spool = getenv("COWPROF_SPOOL");
	if (!spool || !*spool || strlen(spool) >= sizeof(g.spool) - 64)
		return;
	strcpy(g.spool, spool);
	const char *st = getenv("COWPROF_STACKS");
	g.stacks = STACKS_ALL;
	if (st && !strcmp(st, "none"))
		g.stacks = STACKS_NONE;
	else if (st && !strcmp(st, "native"))
		g.stacks = STACKS_NATIVE;
	const char *ns = getenv("COWPROF_RING_SLOTS");
	g.nslots = FAULTRING_DEFAULT_SLOTS;
	if (ns && *ns) {
		char *end;
		unsigned long v = strtoul(ns, &end, 10);
		if (!*end && v > 0 && v <= (1ul << 22))
			g.nslots = (uint32_t)v;
	}
	const char *fd = getenv("COWPROF_FILE_DATA");
	g.file_data = !(fd && !strcmp(fd, "0"));
	const char *nc = getenv("COWPROF_RING_CODES");
	g.ncodes = FAULTRING_DEFAULT_CODES;
	if (nc && *nc) {
		char *end;
		unsigned long v = strtoul(nc, &end, 10);
		if (!*end && v <= (1ul << 20))
			g.ncodes = (uint32_t)v;
	}
	snprintf(g.py_status, sizeof(g.py_status), "no CPython");
	real_sigaction = next_sym("sigaction");
	real_signal = next_sym("signal");
	real_read = next_sym("read");
	real_pread = next_sym("pread");
	real_readv = next_sym("readv");
	real_preadv = next_sym("preadv");
	real_recv = next_sym("recv");
	real_recvfrom = next_sym("recvfrom");
	real_recvmsg = next_sym("recvmsg");
	real_fread = next_sym("fread");
	real_mmap = next_sym("mmap");
	real_sigprocmask = next_sym("sigprocmask");
	real_pthread_sigmask = next_sym("pthread_sigmask");
	real_epoll_wait = next_sym("epoll_wait");
	real_epoll_pwait = next_sym("epoll_pwait");
	real_recvmmsg = next_sym("recvmmsg");
	real_opendir = next_sym("opendir");
	real_fdopendir = next_sym("fdopendir");
	real_getdents64 = next_sym("getdents64");
	const ptrdiff_t *rseq_off = next_sym("__rseq_offset");
	const unsigned int *rseq_size = next_sym("__rseq_size");
	if (rseq_off && rseq_size) {
		g.rseq_off = *rseq_off;
		g.rseq_size = *rseq_size;
	}
	if (!real_sigaction || !real_read)
		return;
	dl_iterate_phdr(own_segments, NULL);
	/* libunwind sets itself up on first use: do it here, not in a handler */
	unw_context_t ctx;
	unw_cursor_t cur;
	unw_getcontext(&ctx);
	if (unw_init_local(&cur, &ctx) == 0)
		while (unw_step(&cur) > 0)
			;
	if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) == 0)
		g.enabled = true;
}
