/* preload.h - what the files of libcowprof_preload.so share (internal)
 *
 * preload.c: state, start-up, fork handlers, arming; handler.c: recording
 * and the fault handler; wrappers.c: the libc functions the library
 * replaces. Everything here is hidden: only the wrappers are exported.
 */
#ifndef COWPROF_PRELOAD_PRELOAD_H
#define COWPROF_PRELOAD_PRELOAD_H

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

#include "collectors/faultring.h"
#include "collectors/pyframe.h"

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

struct preload_state {
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
};

extern struct preload_state g;

extern TLS int in_handler;
extern TLS uint64_t last_spurious;
extern TLS pid_t tid_cache;
extern TLS uint64_t tstate_cache;   /* this thread's PyThreadState, once found */
extern TLS sigjmp_buf *walk_jmp;    /* set while reading Python frames */


extern int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
extern sighandler_t (*real_signal)(int, sighandler_t);
extern ssize_t (*real_read)(int, void *, size_t);
extern ssize_t (*real_pread)(int, void *, size_t, off_t);
extern ssize_t (*real_readv)(int, const struct iovec *, int);
extern ssize_t (*real_preadv)(int, const struct iovec *, int, off_t);
extern ssize_t (*real_recv)(int, void *, size_t, int);
extern ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *,
				socklen_t *);
extern ssize_t (*real_recvmsg)(int, struct msghdr *, int);
extern size_t (*real_fread)(void *, size_t, size_t, FILE *);
extern void *(*real_mmap)(void *, size_t, int, int, int, off_t);
extern int (*real_sigprocmask)(int, const sigset_t *, sigset_t *);
extern int (*real_pthread_sigmask)(int, const sigset_t *, sigset_t *);
extern int (*real_epoll_wait)(int, struct epoll_event *, int, int);
extern int (*real_epoll_pwait)(int, struct epoll_event *, int, int,
			       const sigset_t *);
extern int (*real_recvmmsg)(int, struct mmsghdr *, unsigned int, int,
			    struct timespec *);
extern DIR *(*real_opendir)(const char *);
extern DIR *(*real_fdopendir)(int);
extern ssize_t (*real_getdents64)(int, void *, size_t);


/* preload.c */
void *preload_next_sym(const char *name);
/* The next definition of a symbol we wrap, looked up on first use when a
 * wrapper runs before our constructor. */
void **preload_resolved(void **slot, const char *name);
#define REAL(fn) (*(__typeof__(real_##fn) *)preload_resolved((void **)&real_##fn, #fn))
pid_t preload_my_tid(void);

/* handler.c */
struct range *preload_range_of(uint64_t addr);
void preload_set_bit(uint64_t *map, uint64_t b, bool on);
bool preload_take_page(const struct range *r, uint64_t addr);
bool preload_was_present(const struct range *r, uint64_t addr);
int preload_sys_mprotect(uint64_t start, uint64_t len, int prot);
int preload_unprotect(const struct range *r, uint64_t start, uint64_t len);
void preload_record(uint64_t addr, ucontext_t *uc, uint16_t flags);
struct sigaction *preload_prog_of(int sig);
bool preload_owned(int sig);
void preload_on_fault(int sig, siginfo_t *si, void *uc);

/* wrappers.c */
const sigset_t *preload_strip_mask(int how, const sigset_t *set, sigset_t *keep);
void preload_release(uint64_t addr, uint64_t len);
void preload_mprot_all(bool protect);

#endif
