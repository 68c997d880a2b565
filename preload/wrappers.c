/* wrappers.c - the libc functions libcowprof_preload.so replaces: buffers
 * the kernel writes, mappings the program changes, signal masks and
 * handlers */
#include "preload/preload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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
		struct range *r = preload_range_of(a);
		if (!r) {
			a += PAGE;
			continue;
		}
		for (; a < end && a < r->end; a += PAGE) {
			if (!preload_take_page(r, a))
				continue;
			if (preload_was_present(r, a)) {
				preload_record(a, NULL, FAULTRING_SLOT_KERNEL);
				faultring_writer_count(&g.ring.h->kernel_writes, 1);
			}
			preload_unprotect(r, a, PAGE);
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
				preload_set_bit(g.bits, b, false);
		}
		if (on && !run)
			run = a;
		if (!on && run) {
			preload_sys_mprotect(run, a - run,
				     protect ? r->prot & ~PROT_WRITE : r->prot);
			run = 0;
		}
	}
}

/* The program changes [addr, +len) itself (mprotect, munmap, mremap,
 * mmap over it): the mprotect ranges it touches are no longer ours. */
void preload_release(uint64_t addr, uint64_t len)
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
void preload_mprot_all(bool protect)
{
	if (!g.armed || !g.segv_owned)
		return;
	for (size_t i = 0; i < g.nranges; i++)
		if (g.ranges[i].mprot && !g.ranges[i].dead)
			mprot_pages(&g.ranges[i], protect, false);
}

EXPORT int mprotect(void *addr, size_t len, int prot)
{
	preload_release((uint64_t)addr, len);
	return preload_sys_mprotect((uint64_t)addr, len, prot);
}

EXPORT int munmap(void *addr, size_t len)
{
	preload_release((uint64_t)addr, len);
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
		preload_release((uint64_t)target, new_len);
	}
	preload_release((uint64_t)old, old_len);
	return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, target);
}

/* ---- libunwind's memory ---- */

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (flags & MAP_FIXED)
		preload_release((uint64_t)addr, len);
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
const sigset_t *preload_strip_mask(int how, const sigset_t *set, sigset_t *keep)
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
	return REAL(sigprocmask)(how, preload_strip_mask(how, set, &keep), old);
}

EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t keep;
	return REAL(pthread_sigmask)(how, preload_strip_mask(how, set, &keep), old);
}

/* ---- the program's signal handlers ---- */

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!preload_owned(sig)) {
		if (!g.armed || !act)
			return REAL(sigaction)(sig, act, old);
		struct sigaction keep = *act;
		preload_strip_mask(SIG_BLOCK, &act->sa_mask, &keep.sa_mask);
		return REAL(sigaction)(sig, &keep, old);
	}
	if (old)
		*old = *preload_prog_of(sig);
	if (act)
		*preload_prog_of(sig) = *act;
	return 0;
}

EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	if (!preload_owned(sig))
		return REAL(signal)(sig, h);
	/* glibc's signal(): BSD semantics */
	struct sigaction act = { .sa_handler = h, .sa_flags = SA_RESTART }, old;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	sigaction(sig, &act, &old);
	return (old.sa_flags & SA_SIGINFO) ? (sighandler_t)(void (*)(void))old.sa_sigaction
					   : old.sa_handler;
}

