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
#include "preload/preload.h"
#include "preload/mapline.h"

#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct preload_state g = { .uffd = -1 };

TLS int in_handler;
TLS uint64_t last_spurious;
TLS pid_t tid_cache;
TLS uint64_t tstate_cache;   /* this thread's PyThreadState, once found */
TLS sigjmp_buf *walk_jmp;    /* set while reading Python frames */


int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
sighandler_t (*real_signal)(int, sighandler_t);
ssize_t (*real_read)(int, void *, size_t);
ssize_t (*real_pread)(int, void *, size_t, off_t);
ssize_t (*real_readv)(int, const struct iovec *, int);
ssize_t (*real_preadv)(int, const struct iovec *, int, off_t);
ssize_t (*real_recv)(int, void *, size_t, int);
ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *,
				socklen_t *);
ssize_t (*real_recvmsg)(int, struct msghdr *, int);
size_t (*real_fread)(void *, size_t, size_t, FILE *);
void *(*real_mmap)(void *, size_t, int, int, int, off_t);
int (*real_sigprocmask)(int, const sigset_t *, sigset_t *);
int (*real_pthread_sigmask)(int, const sigset_t *, sigset_t *);
int (*real_epoll_wait)(int, struct epoll_event *, int, int);
int (*real_epoll_pwait)(int, struct epoll_event *, int, int,
			       const sigset_t *);
int (*real_recvmmsg)(int, struct mmsghdr *, unsigned int, int,
			    struct timespec *);
DIR *(*real_opendir)(const char *);
DIR *(*real_fdopendir)(int);
ssize_t (*real_getdents64)(int, void *, size_t);

void *preload_next_sym(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

void **preload_resolved(void **slot, const char *name)
{
	if (!*slot)
		*slot = preload_next_sym(name);
	return slot;
}

pid_t preload_my_tid(void)
{
	if (!tid_cache)
		tid_cache = (pid_t)syscall(SYS_gettid);
	return tid_cache;
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
			preload_set_bit(g.present, b, true);
			preload_set_bit(g.bits, b, true);
			n++;
		}
		a += cnt * PAGE;
	}
	if (r->mprot) {
		for (uint64_t a = start; a < end; a += PAGE)
			preload_set_bit(g.bits, bit0 + (a - rstart) / PAGE, true);
		if (preload_sys_mprotect(start, end - start, r->prot & ~PROT_WRITE) == 0)
			return n;
		n = 0;
	}
	struct uffdio_writeprotect wp = {
		.range = { .start = start, .len = end - start },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP };
	if (!n || (!r->mprot && ioctl(g.uffd, UFFDIO_WRITEPROTECT, &wp) < 0)) {
		/* nothing protected: clear what we set */
		for (uint64_t a = start; a < end; a += PAGE) {
			preload_set_bit(g.bits, bit0 + (a - rstart) / PAGE, false);
			preload_set_bit(g.present, bit0 + (a - rstart) / PAGE, false);
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
	while (mapline_next(&p, &m)) {
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
	struct sigaction act = { .sa_sigaction = preload_on_fault,
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
	if (faultring_writer_open(&g.ring, g.spool, getpid(), g.nslots,
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
	preload_mprot_all(true);
}

static void atfork_prepare(void)
{
	preload_mprot_all(false);
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
		uint64_t fn = (uint64_t)&preload_record;
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
	real_sigaction = preload_next_sym("sigaction");
	real_signal = preload_next_sym("signal");
	real_read = preload_next_sym("read");
	real_pread = preload_next_sym("pread");
	real_readv = preload_next_sym("readv");
	real_preadv = preload_next_sym("preadv");
	real_recv = preload_next_sym("recv");
	real_recvfrom = preload_next_sym("recvfrom");
	real_recvmsg = preload_next_sym("recvmsg");
	real_fread = preload_next_sym("fread");
	real_mmap = preload_next_sym("mmap");
	real_sigprocmask = preload_next_sym("sigprocmask");
	real_pthread_sigmask = preload_next_sym("pthread_sigmask");
	real_epoll_wait = preload_next_sym("epoll_wait");
	real_epoll_pwait = preload_next_sym("epoll_pwait");
	real_recvmmsg = preload_next_sym("recvmmsg");
	real_opendir = preload_next_sym("opendir");
	real_fdopendir = preload_next_sym("fdopendir");
	real_getdents64 = preload_next_sym("getdents64");
	const ptrdiff_t *rseq_off = preload_next_sym("__rseq_offset");
	const unsigned int *rseq_size = preload_next_sym("__rseq_size");
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

