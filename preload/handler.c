/* handler.c - the fault handler of libcowprof_preload.so: which faults are
 * ours, what an event records, and what is handed on to the program */
#include "common/util.h"
#include "preload/preload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---- the armed ranges ---- */

/* The range holding addr, or NULL. */
struct range *preload_range_of(uint64_t addr)
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

void preload_set_bit(uint64_t *map, uint64_t b, bool on)
{
	if (on)
		map[b / 64] |= 1ull << (b % 64);
	else
		map[b / 64] &= ~(1ull << (b % 64));
}

/* Clear the bit of page addr of r: true if it was set (still protected). */
bool preload_take_page(const struct range *r, uint64_t addr)
{
	uint64_t b = r->bit0 + (addr - r->start) / PAGE;
	uint64_t m = 1ull << (b % 64);
	return __atomic_fetch_and(&g.bits[b / 64], ~m, __ATOMIC_ACQ_REL) & m;
}

bool preload_was_present(const struct range *r, uint64_t addr)
{
	uint64_t b = r->bit0 + (addr - r->start) / PAGE;
	return g.present[b / 64] >> (b % 64) & 1;
}

/* mprotect without our wrapper */
int preload_sys_mprotect(uint64_t start, uint64_t len, int prot)
{
	return (int)syscall(SYS_mprotect, start, len, prot);
}

int preload_unprotect(const struct range *r, uint64_t start, uint64_t len)
{
	if (r->mprot)
		return preload_sys_mprotect(start, len, r->prot);
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
void preload_record(uint64_t addr, ucontext_t *uc, uint16_t flags)
{
	uint64_t idx;
	struct faultring_slot *s = faultring_writer_reserve(&g.ring, &idx);
	if (!s)
		return;
	pid_t tid = preload_my_tid();
	s->t_ns = util_clock_ns(CLOCK_REALTIME);  /* clock_gettime: signal-safe */
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

struct sigaction *preload_prog_of(int sig)
{
	return sig == SIGSEGV ? &g.prog_segv : &g.prog_bus;
}

bool preload_owned(int sig)
{
	return g.armed && (sig == SIGBUS || (sig == SIGSEGV && g.segv_owned));
}

/* Hand a SIGBUS or SIGSEGV that is not ours to what the program asked for. */
static void chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction p = *preload_prog_of(sig);
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
		*preload_prog_of(sig) = dfl;
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
		memset(preload_prog_of(sig), 0, sizeof(p));
		preload_prog_of(sig)->sa_handler = SIG_DFL;
	}
	if (p.sa_flags & SA_SIGINFO)
		p.sa_sigaction(sig, si, uc);
	else
		p.sa_handler(sig);
	REAL(pthread_sigmask)(SIG_SETMASK, &old, NULL);
}

/* SIGBUS (userfaultfd) and SIGSEGV (mprotect) of a first write. */
void preload_on_fault(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	uint64_t addr = (uint64_t)si->si_addr;
	uint64_t page = addr & ~(PAGE - 1);
	struct range *r = NULL;
	if (g.armed && ((sig == SIGBUS && si->si_code == BUS_ADRERR) ||
			(sig == SIGSEGV && si->si_code == SEGV_ACCERR))) {
		r = preload_range_of(addr);
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
		if (preload_take_page(r, page) && preload_was_present(r, page))
			faultring_writer_count(&g.ring.h->self_faults, 1);
		preload_unprotect(r, page, PAGE);
		errno = saved;
		return;
	}
	in_handler = 1;
	if (preload_take_page(r, page)) {
		last_spurious = 0;
		/* a page absent at fork (mprotect covers those too) is new, not
		 * a copy */
		if (preload_was_present(r, page))
			preload_record(addr, uc, 0);
		preload_unprotect(r, page, PAGE);
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

