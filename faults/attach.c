/* attach.c - fault attribution for a tree cowprof did not start (attach) */
#include "faults/attach.h"
#include "collectors/faultring.h"
#include "collectors/maps.h"
#include "collectors/pftrace.h"
#include "collectors/procfs.h"
#include "collectors/proctree.h"
#include "collectors/pyframe.h"
#include "collectors/symbols.h"
#include "collectors/unwind.h"
#include "common/util.h"
#include "faults/burst.h"
#include "faults/idmap.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>


struct pycode {
	uint64_t code;
	char *name, *file;          /* stable: the drain reads them unlocked */
};

struct bcode;

/* Events waiting for the drain, packed: a header, then the native ips and
 * the Python frames, each left out when equal to the previous event's (a
 * burst repeats its stacks: 40 bytes an event instead of 1.2 KiB). */
struct evqueue {
	uint8_t *buf;
	size_t len, cap;
	size_t n;
	struct faultring_event last;   /* the last pushed */
};

/* A thread's Python frames as last read, for the samples near that read
 * whose fault-time frame is the same (see python_frames). */
#define CHAIN_REUSE_NS 1000000ULL

struct pythread {
	int tid;
	uint64_t tstate;
	uint64_t cframe, frame;     /* of the chain: its loop's _PyCFrame and
				     * the innermost frame, 0 if none */
	uint64_t read_ns;           /* when it was read (perf's clock) */
	uint32_t npy;
	struct pyframe py[FAULTRING_MAX_PY];
};

/* What the reader knows of one process. */
struct pproc {
	int pid;
	int ppid;                   /* from perf's fork record, 0 if unknown */
	struct maps_region *maps;
	size_t nmaps;
	uint64_t layout;            /* unwind_layout of maps */
	int python;                 /* 1 frames read, -1 none, 0 not looked yet */
	char status[FAULTRING_STATUS_MAX];
	struct pyframe_layout pl;
	struct pythread *threads;
	size_t nthreads, capthreads;
	struct bcode *bcodes;       /* reader thread only */
	size_t nbcodes, capbcodes;
	struct idmap *bcode_index;  /* code address -> index in bcodes */
	struct pycode *codes;       /* guarded by fp->lock */
	size_t ncodes, capcodes;
	uint64_t events, written_events;
	bool source_written;
	struct pyframe_cache *cache;  /* its memory since cache_ns */
	uint64_t cache_ns;
};

/* The faults of one attached process's events (and of their inherited
 * copies) lately, for --fault-period auto. The reader's. */
struct family {
	int pid;
	struct burst b;
};

struct attach {
	struct attach_opts o;
	int root;
	struct pftrace *pf;
	struct unwinder *uw;
	struct pyframe_cache *cache;  /* the sample's process's */
	pthread_t thread;
	bool thread_started;
	int wakefd;
	pthread_mutex_t pflock;     /* pf and attached: pftrace is not
				     * thread-safe; never taken with lock */
	int *attached;              /* pids attached directly, still open */
	struct family *fams;        /* the reader's */
	size_t nfams, capfams;
	size_t nattached, capattached;
	pthread_mutex_t lock;       /* queue, procs, codes, stats, passes */
	pthread_cond_t passed;
	uint64_t passes;
	bool stop;
	struct pproc **procs;       /* reader thread only, but codes; each
				     * allocated alone: pointers stay valid */
	size_t nprocs, capprocs;
	struct evqueue queue;       /* the reader's, for the drain */
	struct evqueue spare;       /* the drain's: emptied, given back */
	struct evqueue later;       /* the drain's: of processes not in the
				     * session yet */
	struct attach_stats st;  /* under lock */
	struct attach_stats rst; /* the reader's own, copied to st after
				     * each pass */
	uint64_t lost_written;
	/* events of processes the recorder never learned of (they lived
	 * between two samples and the proc connector missed them), given up
	 * once the process is gone or after UNKNOWN_PID_WAIT_S: counted with
	 * the lost ones (the drain's; read under lock) */
	uint64_t unknown_dropped;
	uint64_t lost_now;          /* pftrace_lost at the reader's last pass */
	uint64_t last_record_ns;    /* the reader's: when records last came */
};

#define UNKNOWN_PID_WAIT_S 10.0

/* ---- per process ---- */

static void load_maps(struct attach *fp, struct pproc *p)
{
	char *text;
	size_t len;
	if (procfs_read(fp->o.proc_root, p->pid, "maps", &text, &len) < 0)
		return;  /* gone: keep the old ones */
	maps_free(p->maps, p->nmaps);
	p->maps = NULL;
	p->nmaps = 0;
	if (maps_parse(text, len, &p->maps, &p->nmaps) < 0)
		p->nmaps = 0;
	free(text);
	p->layout = unwind_layout(p->maps, p->nmaps);
}

static struct pproc *proc_of(struct attach *fp, int pid)
{
	for (size_t i = 0; i < fp->nprocs; i++)
		if (fp->procs[i]->pid == pid)
			return fp->procs[i];
	struct pproc *p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	pthread_mutex_lock(&fp->lock);
	util_grow((void **)&fp->procs, &fp->capprocs, fp->nprocs + 1, sizeof(*fp->procs));
	fp->procs[fp->nprocs++] = p;
	pthread_mutex_unlock(&fp->lock);
	load_maps(fp, p);
	return p;
}

static const struct maps_region *mapping_at(const struct pproc *p, uint64_t a)
{
	return symbols_find_mapping(p->maps, p->nmaps, a);
}

/* A first write that can be a copy: to a private writable mapping. */
static bool cow_region(struct attach *fp, struct pproc *p, uint64_t addr)
{
	const struct maps_region *g = mapping_at(p, addr);
	if (!g) {
		load_maps(fp, p);  /* mapped since we read them */
		g = mapping_at(p, addr);
	}
	return g && g->write && !g->shared;
}

/* A fork child gone before its maps were read (its exit's own first
 * writes come last): its parent's, as at the fork, hold what it inherited,
 * which is all a copy-on-write fault can be in. */
static void inherit_maps(struct attach *fp, struct pproc *p)
{
	if (p->ppid <= 0 || p->ppid == p->pid)
		return;
	const struct pproc *q = proc_of(fp, p->ppid);
	if (!q->nmaps)
		return;
	p->maps = xmalloc(q->nmaps * sizeof(*q->maps));
	for (size_t i = 0; i < q->nmaps; i++) {
		p->maps[i] = q->maps[i];
		p->maps[i].path = xstrdup(q->maps[i].path);
	}
	p->nmaps = q->nmaps;
	p->layout = q->layout;
	p->python = -1;
	snprintf(p->status, sizeof(p->status), "exited before its frames were read");
}

/* ---- Python frames ---- */

static void find_python(struct attach *fp, struct pproc *p);

/* A fork child has its parent's layout: the same interpreter at the same
 * addresses. Taken when the mapping holding _PyRuntime is the same (an
 * exec'd child has other mappings). */
static bool inherit_layout(struct attach *fp, struct pproc *p,
			   struct pyframe_layout *pl)
{
	struct proc_stat st;
	if (proctree_read_stat(fp->o.proc_root, p->pid, &st) < 0)
		return false;
	if (st.ppid <= 1 || st.ppid == p->pid)
		return false;
	struct pproc *q = proc_of(fp, st.ppid);
	if (q->python == 0)
		find_python(fp, q);
	{
		if (q->python != 1)
			return false;
		const struct maps_region *a = mapping_at(p, q->pl.runtime_addr);
		const struct maps_region *b = mapping_at(q, q->pl.runtime_addr);
		if (a && b && a->start == b->start && !strcmp(a->path, b->path)) {
			*pl = q->pl;
			return true;
		}
	}
	return false;
}

static void find_python(struct attach *fp, struct pproc *p)
{
	char why[160] = "";
	struct pyframe_layout pl;
	int e = inherit_layout(fp, p, &pl) ? 0
		: pyframe_layout_find(fp->o.proc_root, p->pid, &pl, why, sizeof(why));
	if (e == -EAGAIN)
		return;  /* not initialised yet: look again at the next event */
	pthread_mutex_lock(&fp->lock);  /* the drain reads python and status */
	if (e == 0) {
		p->pl = pl;
		p->python = 1;
	} else {
		p->python = -1;
		snprintf(p->status, sizeof(p->status), "%s",
			 e == -ENOENT ? "no CPython" : why[0] ? why : strerror(-e));
	}
	pthread_mutex_unlock(&fp->lock);
}

static struct pythread *known_thread(struct pproc *p, int tid)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i].tid == tid)
			return &p->threads[i];
	return NULL;
}

static struct pythread *thread_of(struct attach *fp, struct pproc *p, int tid)
{
	struct pythread *known = known_thread(p, tid);
	if (known)
		return known;
	uint64_t ts = pyframe_thread_state(&p->pl, pyframe_read_cached, fp->cache, tid);
	if (!ts)
		return NULL;
	util_grow((void **)&p->threads, &p->capthreads, p->nthreads + 1,
		  sizeof(*p->threads));
	struct pythread *t = &p->threads[p->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->tstate = ts;
	return t;
}

static bool have_code(struct pproc *p, uint64_t code)
{
	for (size_t i = p->ncodes; i-- > 0;)
		if (p->codes[i].code == code)
			return true;
	return false;
}

static void name_code(struct attach *fp, struct pproc *p, uint64_t code)
{
	if (have_code(p, code))
		return;
	char name[FAULTRING_NAME_MAX], file[FAULTRING_FILE_MAX];
	if (pyframe_code_names(&p->pl, pyframe_read_cached, fp->cache, code, name,
			       sizeof(name), file, sizeof(file)) < 0)
		return;
	struct pycode c = { code, xstrdup(name), xstrdup(file) };
	pthread_mutex_lock(&fp->lock);
	util_grow((void **)&p->codes, &p->capcodes, p->ncodes + 1, sizeof(*p->codes));
	p->codes[p->ncodes++] = c;
	pthread_mutex_unlock(&fp->lock);
}

static bool rd64(struct attach *fp, uint64_t addr, uint64_t *v)
{
	return pyframe_read_cached(fp->cache, addr, v, 8);
}

/* A code object of the process, as the walks and the line lookups need
 * it: read once (a code object does not change while it lives; one freed
 * and another made at its address would be mistaken for it, as its names
 * are). */
struct bcode {
	uint64_t code;
	uint64_t lo, hi;            /* (lo, hi]: where next_instr can point */
	struct pyframe_code c;      /* c.table: our copy of the bytes */
	bool innermost;             /* seen as a fault's innermost frame */
};

static struct bcode *known_bcode(struct pproc *p, uint64_t code)
{
	int64_t i;
	return p->bcode_index && idmap_get(p->bcode_index, &code, sizeof(code), &i)
		? &p->bcodes[i] : NULL;
}

static struct bcode *bcode_of(struct attach *fp, struct pproc *p, uint64_t code)
{
	struct bcode *known = known_bcode(p, code);
	if (known)
		return known;
	const struct pyframe_layout *l = &p->pl;
	struct pyframe_code c;
	if (pyframe_code_read(l, pyframe_read_cached, fp->cache, code, &c) < 0)
		return NULL;
	uint8_t *table = xmalloc(c.tlen ? c.tlen : 1);
	if (c.table_addr &&
	    !pyframe_read_cached(fp->cache, c.table_addr, table, c.tlen))
		c.table_addr = c.tlen = 0;  /* every line -1, as a walk would say */
	c.table = table;
	util_grow((void **)&p->bcodes, &p->capbcodes, p->nbcodes + 1, sizeof(*p->bcodes));
	if (!p->bcode_index)
		p->bcode_index = idmap_new();
	idmap_put(p->bcode_index, &code, sizeof(code), (int64_t)p->nbcodes);
	struct bcode *b = &p->bcodes[p->nbcodes++];
	b->code = code;
	b->lo = code + l->off_code_code_adaptive;
	b->hi = b->lo + 2 * (uint64_t)c.units;
	b->c = c;
	b->innermost = false;
	return b;
}

/* A walk's code objects come from the process's bcodes. */
struct walk_codes {
	struct attach *fp;
	struct pproc *p;
};

static struct pyframe_code *walk_code(void *ctx, uint64_t code)
{
	struct walk_codes *w = ctx;
	struct bcode *b = bcode_of(w->fp, w->p, code);
	return b ? &b->c : NULL;
}

static int walk_from(struct attach *fp, struct pproc *p, uint64_t frame,
		     struct faultring_event *ev)
{
	struct walk_codes w = { fp, p };
	return pyframe_walk_codes(&p->pl, pyframe_read_cached, fp->cache, walk_code, &w,
				  frame, ev->py, FAULTRING_MAX_PY);
}

/* Is v where a running eval loop's next_instr can point in b? Past the
 * first unit (first_instr points at the start), on a code unit. */
static bool in_bytecode(const struct bcode *b, uint64_t v)
{
	return v > b->lo && v <= b->hi && !((v - b->lo) & 1);
}

static int line_at(const struct bcode *b, uint64_t v)
{
	return pyframe_line_from_table(b->c.table, b->c.tlen, b->c.firstlineno,
				       (int)((v - b->lo) / 2) - 1);
}

static const enum unwind_reg reg_order[] = {
	UNWIND_REG_BX, UNWIND_REG_BP, UNWIND_REG_R12, UNWIND_REG_R13,
	UNWIND_REG_R14, UNWIND_REG_R15, UNWIND_REG_AX, UNWIND_REG_CX,
	UNWIND_REG_DX, UNWIND_REG_SI, UNWIND_REG_DI, UNWIND_REG_R8,
	UNWIND_REG_R9, UNWIND_REG_R10, UNWIND_REG_R11,
};
#define NREG_ORDER (sizeof(reg_order) / sizeof(reg_order[0]))

/* The i-th value where the eval loop's next_instr may be at the fault: the
 * sampled registers (a callee that did not save a register leaves the
 * loop's value in it), then the stack words from sp up (where callees
 * saved them). 0 past the end. */
static uint64_t candidate_word(const uint64_t regs[UNWIND_NREGS], const uint8_t *stack,
			       size_t stack_words, size_t i)
{
	if (i < NREG_ORDER)
		return regs[reg_order[i]];
	i -= NREG_ORDER;
	if (i >= stack_words)
		return 0;
	uint64_t w;
	memcpy(&w, stack + i * 8, 8);
	return w;
}

/* The line of b's instruction at the fault, from the loop's next_instr
 * found among the registers and the stack copy; -2 if none points into
 * b's bytecode (or b is NULL). */
static int fault_time_line(const struct bcode *b, const uint64_t regs[UNWIND_NREGS],
			   const uint8_t *stack, size_t stack_words)
{
	if (!b)
		return -2;
	for (size_t i = 0; i < NREG_ORDER + stack_words; i++) {
		uint64_t v = candidate_word(regs, stack, stack_words, i);
		if (in_bytecode(b, v))
			return line_at(b, v);
	}
	return -2;
}

/* When the frames read are not the fault's: the first value among the
 * registers and the stack copy that points into the bytecode of a code
 * object this process was already seen running names the innermost frame
 * (and its line). Returns 1 and fills *out, or 0. */
static int known_code_at_fault(const struct pproc *p, const uint64_t regs[UNWIND_NREGS],
			       const uint8_t *stack, size_t stack_words,
			       struct pyframe *out)
{
	for (size_t i = 0; i < NREG_ORDER + stack_words; i++) {
		uint64_t v = candidate_word(regs, stack, stack_words, i);
		for (size_t k = 0; v && k < p->nbcodes; k++)
			if (p->bcodes[k].innermost && in_bytecode(&p->bcodes[k], v)) {
				out->code = p->bcodes[k].code;
				out->line = line_at(&p->bcodes[k], v);
				return 1;
			}
	}
	return 0;
}

/* Candidates for the innermost _PyCFrame at the fault, in the stack copy
 * below the live one at cframe (3.11: struct _PyCFrame { uint8_t
 * use_tracing; _PyInterpreterFrame *current_frame; _PyCFrame *previous; }):
 * a deeper evaluation loop (a Python function called from C, e.g. through
 * fn(*args)) that may have returned since. A candidate's previous chain,
 * through the copy, reaches cframe. Stores their current_frame, lowest
 * (innermost) first, at most max; the caller keeps the first whose frame
 * walks (a saved copy of the cframe pointer, e.g. a spilled prev_cframe,
 * also matches, with garbage beside it). Returns how many. */
static int fault_time_frames(const uint8_t *stack, uint64_t sp, uint64_t below,
			     uint64_t cframe, uint32_t off_cur, uint64_t *out, int max)
{
	uint32_t off_prev = off_cur + 8;
	int n = 0;
	for (uint64_t base = 0; n < max && base + off_prev + 8 <= below; base += 8) {
		uint64_t at = sp + base, prev, cur;
		memcpy(&prev, stack + base + off_prev, 8);
		if (prev <= at || prev > cframe || (prev & 7))
			continue;
		for (int hops = 0; hops < 16 && prev != cframe; hops++) {
			uint64_t o = prev - sp;
			if (o + off_prev + 8 > below)
				break;
			uint64_t next;
			memcpy(&next, stack + o + off_prev, 8);
			if (next <= prev || next > cframe)
				break;
			prev = next;
		}
		memcpy(&cur, stack + base + off_cur, 8);
		if (prev == cframe && cur && !(cur & 7))
			out[n++] = cur;
	}
	return n;
}

/* Does frame lead to outer through its previous links? A deeper loop's
 * frames do: its entry frame's previous is the frame that called it, the
 * current frame of the loop below (3.11 links frames across loops). */
static bool chains_to(struct attach *fp, struct pproc *p, uint64_t frame,
		      uint64_t outer)
{
	for (int hops = 0; hops < 64 && frame && !(frame & 7); hops++) {
		if (!rd64(fp, frame + p->pl.off_frame_previous, &frame))
			return false;
		if (frame == outer)
			return true;
	}
	return false;
}

/* The process's memory is read through a cache of its pages, emptied
 * when a sample is newer than the cache: what was read after a fault is
 * what a read for it now would see, or older (nearer the fault). A burst
 * read behind by the reader then reads each page once. */
/* Now on perf's clock (the samples' t_ns). */
static uint64_t perf_now(const struct attach *fp)
{
	return util_clock_ns(CLOCK_MONOTONIC) + (uint64_t)pftrace_layout(fp->pf)->time_offset_ns;
}

static void use_cache(struct attach *fp, struct pproc *p, uint64_t t_ns)
{
	if (!p->cache) {
		p->cache = xmalloc(sizeof(*p->cache));
		pyframe_cache_init(p->cache, p->pid);
		p->cache_ns = 0;
	}
	if (t_ns >= p->cache_ns) {
		pyframe_cache_reset(p->cache);
		p->cache_ns = perf_now(fp);
	}
	fp->cache = p->cache;
}

/* The thread's last chain, when the fault was in the same frame of the
 * same evaluation loop (its _PyCFrame's current_frame in the stack copy is
 * that frame, no deeper loop is in the copy) and a fault-time pointer into
 * that frame's bytecode proves its code and gives the line; and the chain
 * was read after the fault, or at most CHAIN_REUSE_NS before it. Then the
 * outer frames are what a read now would give (they wait in their calls),
 * without reading the target: a burst of faults in one loop costs no
 * reads. Returns false to read. */
static bool reuse_chain(struct attach *fp, struct pproc *p, const struct pythread *t,
			const struct pftrace_record *r, const uint64_t regs[UNWIND_NREGS],
			struct faultring_event *ev)
{
	if (!t->frame || (r->t_ns > t->read_ns && r->t_ns - t->read_ns > CHAIN_REUSE_NS))
		return false;
	uint64_t sp = regs[UNWIND_REG_SP], at = t->cframe + p->pl.off_cframe_current_frame;
	if (!r->stack || at < sp || at + 8 > sp + r->stack_len)
		return false;
	uint64_t then, cand[1];
	memcpy(&then, r->stack + (at - sp), 8);
	if (then != t->frame ||
	    fault_time_frames(r->stack, sp, t->cframe - sp, t->cframe,
			      p->pl.off_cframe_current_frame, cand, 1) > 0)
		return false;
	/* the chain's innermost code was proven when it was read: its
	 * bytecode is known, no read (and no page cache) needed */
	int line = fault_time_line(known_bcode(p, t->py[0].code), regs, r->stack,
				   (size_t)(t->cframe - sp) / 8);
	if (line == -2)
		return false;
	memcpy(ev->py, t->py, t->npy * sizeof(*ev->py));
	ev->npy = t->npy;
	ev->py[0].line = line;
	fp->rst.exact_line++;
	fp->rst.python++;
	fp->rst.reused++;
	return true;
}

static void keep_chain(struct attach *fp, struct pythread *t, uint64_t cframe,
		       uint64_t frame, const struct faultring_event *ev)
{
	t->cframe = cframe;
	t->frame = frame;
	t->read_ns = perf_now(fp);
	t->npy = ev->npy;
	memcpy(t->py, ev->py, ev->npy * sizeof(*ev->py));
}

/* Fill ev->py with the thread's frames; see the header for the checks. */
static void python_frames(struct attach *fp, struct pproc *p,
			  const struct pftrace_record *r,
			  const uint64_t regs[UNWIND_NREGS], struct faultring_event *ev)
{
	if (p->python == 0)
		find_python(fp, p);
	if (p->python != 1)
		return;
	struct pythread *t = known_thread(p, r->tid);
	if (t && reuse_chain(fp, p, t, r, regs, ev))
		return;
	use_cache(fp, p, r->t_ns);
	t = thread_of(fp, p, r->tid);
	uint64_t cframe = 0, live = 0, then = 0;
	int nc = 0;
	if (!t || !rd64(fp, t->tstate + p->pl.off_tstate_cframe, &cframe)) {
		fp->rst.no_tstate++;
		return;
	}
	uint64_t sp = regs[UNWIND_REG_SP];
	uint64_t at = cframe + p->pl.off_cframe_current_frame;
	bool checked = r->stack && at >= sp && at + 8 <= sp + r->stack_len;
	if (!rd64(fp, at, &live))
		return;
	then = live;
	size_t words = r->stack_len / 8;
	int n = -1;
	if (checked) {
		memcpy(&then, r->stack + (at - sp), 8);
		uint64_t cand[8];
		nc = fault_time_frames(r->stack, sp, cframe - sp, cframe,
					   p->pl.off_cframe_current_frame, cand, 8);
		for (int i = 0; i < nc && n <= 0; i++) {
			if (!chains_to(fp, p, cand[i], then))
				continue;
			n = walk_from(fp, p, cand[i], ev);
			if (n > 0)
				then = cand[i];
		}
		words = (size_t)(cframe - sp) / 8;
	}
	if (n <= 0)
		n = walk_from(fp, p, then, ev);
	if (n <= 0) {
		fp->rst.no_frames++;
		return;
	}
	struct bcode *inner = bcode_of(fp, p, ev->py[0].code);
	if (inner)
		inner->innermost = true;
	int line = fault_time_line(inner, regs, r->stack, words);
	if (line == -2) {
		/* nothing at the fault points into the code of the frame read:
		 * the thread has left it (a frame's address is reused by the
		 * next call, so an equal address proves nothing). A code object
		 * seen before may still be named by the fault's registers. */
		if (!known_code_at_fault(p, regs, r->stack, words, &ev->py[0])) {
			fp->rst.stale++;
			return;
		}
		n = 1;
		then = 0;
		line = ev->py[0].line;
		fp->rst.innermost_only++;
	}
	if (then && then != live)
		fp->rst.recovered++;
	if (line != -2) {
		ev->py[0].line = line;
		fp->rst.exact_line++;
	}
	if (!checked)
		fp->rst.unchecked++;
	ev->npy = (uint32_t)n;
	fp->rst.python++;
	for (int i = 0; i < n; i++)
		name_code(fp, p, ev->py[i].code);
	if (checked && !nc && then)
		keep_chain(fp, t, cframe, then, ev);
}

/* ---- the queue ---- */

#define EVQ_SAME UINT16_MAX

struct evq_head {
	double t;
	int32_t pid, tid;
	uint64_t addr;
	uint32_t weight;
	uint16_t nnative, npy;      /* EVQ_SAME: the previous event's */
};

static bool same_py(const struct faultring_event *a, const struct faultring_event *b)
{
	if (a->npy != b->npy)
		return false;
	for (uint32_t i = 0; i < a->npy; i++)
		if (a->py[i].code != b->py[i].code || a->py[i].line != b->py[i].line)
			return false;
	return true;
}

static void evq_put(struct evqueue *q, const void *p, size_t n)
{
	util_grow((void **)&q->buf, &q->cap, q->len + n, 1);
	memcpy(q->buf + q->len, p, n);
	q->len += n;
}

static void evq_push(struct evqueue *q, const struct faultring_event *ev)
{
	struct faultring_event *l = &q->last;
	bool sn = q->n && ev->nnative == l->nnative &&
		  !memcmp(ev->native, l->native, ev->nnative * sizeof(*ev->native));
	bool sp = q->n && same_py(ev, l);
	struct evq_head h = { ev->t, ev->pid, ev->tid, ev->addr, (uint32_t)ev->weight,
			      sn ? EVQ_SAME : (uint16_t)ev->nnative,
			      sp ? EVQ_SAME : (uint16_t)ev->npy };
	evq_put(q, &h, sizeof(h));
	if (!sn) {
		evq_put(q, ev->native, ev->nnative * sizeof(*ev->native));
		memcpy(l->native, ev->native, ev->nnative * sizeof(*ev->native));
		l->nnative = ev->nnative;
	}
	if (!sp) {
		evq_put(q, ev->py, ev->npy * sizeof(*ev->py));
		memcpy(l->py, ev->py, ev->npy * sizeof(*ev->py));
		l->npy = ev->npy;
	}
	q->n++;
}

/* The event at *off into ev (which holds the previous one: its stacks are
 * kept where the packed event says "same"); false at the end. */
static bool evq_next(const struct evqueue *q, size_t *off, struct faultring_event *ev)
{
	if (*off + sizeof(struct evq_head) > q->len)
		return false;
	struct evq_head h;
	memcpy(&h, q->buf + *off, sizeof(h));
	*off += sizeof(h);
	ev->t = h.t;
	ev->pid = h.pid;
	ev->tid = h.tid;
	ev->addr = h.addr;
	ev->weight = h.weight;
	if (h.nnative != EVQ_SAME) {
		ev->nnative = h.nnative;
		memcpy(ev->native, q->buf + *off, h.nnative * sizeof(*ev->native));
		*off += h.nnative * sizeof(*ev->native);
	}
	if (h.npy != EVQ_SAME) {
		ev->npy = h.npy;
		memcpy(ev->py, q->buf + *off, h.npy * sizeof(*ev->py));
		*off += h.npy * sizeof(*ev->py);
	}
	return true;
}

static void evq_clear(struct evqueue *q)
{
	q->len = q->n = 0;
}

/* ---- the reader thread ---- */

static void take_sample(struct attach *fp, const struct pftrace_record *r,
			uint64_t weight)
{
	fp->rst.samples++;
	if (r->pid == fp->root) {
		/* as under `run`: the root inherited nothing; its write faults
		 * on pages its children share are theirs to count (and once
		 * they have exited, the kernel reuses the page: no copy) */
		fp->rst.root++;
		return;
	}
	struct pproc *p = proc_of(fp, r->pid);
	if (!p->nmaps)
		inherit_maps(fp, p);
	if (!p->nmaps) {
		/* gone before its maps were read: what the fault was is unknown */
		pthread_mutex_lock(&fp->lock);
		fp->unknown_dropped++;
		pthread_mutex_unlock(&fp->lock);
		return;
	}
	if (!cow_region(fp, p, r->addr)) {
		fp->rst.other++;
		return;
	}
	struct faultring_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.t = (double)r->t_ns / 1e9;
	ev.pid = r->pid;
	ev.tid = r->tid;
	ev.addr = r->addr;
	ev.weight = weight;  /* each sample stands for as many faults */
	fp->rst.burst_kept += weight > 1 && fp->o.burst_period;
	uint64_t regs[UNWIND_NREGS];
	unwind_regs_from_perf(r->regs, r->abi ? pftrace_layout(fp->pf)->regs_mask : 0,
			      regs);
	/* Python first: the thread moves on while we work; one sample in 16
	 * timed (a clock read costs what the rest of a repeat does) */
	bool timed = !(fp->rst.samples & 15);
	uint64_t t0 = timed ? util_clock_ns(CLOCK_MONOTONIC) : 0;
	if (r->abi)
		python_frames(fp, p, r, regs, &ev);
	uint64_t t1 = timed ? util_clock_ns(CLOCK_MONOTONIC) : 0;
	if (r->abi && r->nregs) {
		int n = unwind_snapshot_in(fp->uw, p->layout, r->pid, p->maps, p->nmaps,
					   regs, r->stack, r->stack_len, ev.native, NULL,
					   FAULTRING_MAX_NATIVE);
		ev.nnative = n > 0 ? (uint32_t)n : 0;
	}
	if (!ev.nnative) {
		ev.native[0] = r->ip;
		ev.nnative = 1;
	}
	uint64_t t2 = timed ? util_clock_ns(CLOCK_MONOTONIC) : 0;
	pthread_mutex_lock(&fp->lock);
	fp->rst.python_ns += t1 - t0;
	fp->rst.unwind_ns += t2 - t1;
	fp->rst.timed += timed;
	uint64_t misses;
	unwind_memo_stats(fp->uw, &fp->rst.unwind_memo, &misses);
	fp->rst.kept++;
	p->events += ev.weight;
	evq_push(&fp->queue, &ev);
	pthread_mutex_unlock(&fp->lock);
}

/* ---- bursts (--fault-period auto: faults/burst.h) ---- */

static struct family *family_of(struct attach *fp, int pid)
{
	for (size_t i = 0; i < fp->nfams; i++)
		if (fp->fams[i].pid == pid)
			return &fp->fams[i];
	util_grow((void **)&fp->fams, &fp->capfams, fp->nfams + 1, sizeof(*fp->fams));
	struct family *f = &fp->fams[fp->nfams++];
	*f = (struct family){ .pid = pid };
	return f;
}

static void switch_family(struct attach *fp, struct family *f)
{
	/* -ENOENT: detached (it exited); its inherited copies went too */
	if (pftrace_set_burst(fp->pf, f->pid, f->b.on) == 0 && f->b.on)
		fp->rst.bursts++;
}

/* Each sample, before the reader spends time on it (pftrace's peek). */
static void count_fault(const struct pftrace_record *r, void *ctx)
{
	struct attach *fp = ctx;
	struct family *f = r->family ? family_of(fp, r->family) : NULL;
	if (f && burst_count(&f->b, r->t_ns, r->period))
		switch_family(fp, f);
}

/* After each pass, pflock held. */
static void end_bursts(struct attach *fp)
{
	uint64_t now = perf_now(fp);
	for (size_t i = 0; i < fp->nfams; i++)
		if (burst_over(&fp->fams[i].b, now))
			switch_family(fp, &fp->fams[i]);
}

/* The reader: each sample as it comes, in place in its ring. */
static void on_record(const struct pftrace_record *r, void *ctx)
{
	struct attach *fp = ctx;
	if (r->kind == PFTRACE_SAMPLE) {
		uint64_t weight = fp->o.burst_period && r->family
			? burst_weight(&family_of(fp, r->family)->b, r->period,
				       fp->o.burst_period)
			: r->period;
		if (weight)
			take_sample(fp, r, weight);
		else
			fp->rst.thinned++;
	} else if (r->kind == PFTRACE_FORK && r->pid == r->tid) {
		/* its maps while it lives: a short-lived child may be gone by
		 * its samples */
		proc_of(fp, r->pid)->ppid = r->ppid;
	}  /* LOST is counted by pftrace */
}

/* The maps and the Python layout of each process attached at the start,
 * read now rather than at its first fault: in the middle of a burst, that
 * is the workers' time. */
static void prime(struct attach *fp)
{
	pthread_mutex_lock(&fp->pflock);
	size_t n = fp->nattached;
	int *pids = xmalloc((n ? n : 1) * sizeof(int));
	memcpy(pids, fp->attached, n * sizeof(int));
	pthread_mutex_unlock(&fp->pflock);
	for (size_t i = 0; i < n; i++) {
		struct pproc *p = proc_of(fp, pids[i]);
		if (p->python == 0)
			find_python(fp, p);
	}
	free(pids);
}

static void *reader(void *arg)
{
	struct attach *fp = arg;
	prime(fp);
	/* ahead of the workers being watched: copying a sample out is cheap,
	 * a full ring loses them (raising needs CAP_SYS_NICE: root has it) */
	if (fp->o.reader_nice &&
	    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), fp->o.reader_nice) < 0)
		(void)0;  /* not allowed: the same priority */
	for (;;) {
		struct pollfd pfd[2] = { { pftrace_fd(fp->pf), POLLIN, 0 },
					 { fp->wakefd, POLLIN, 0 } };
		/* samples short of the rings' wake-up mark are read within
		 * 10 ms; with auto (whose mark is ~16 samples) 100 ms once
		 * quiet for a second: a settled tree then costs ~10 wake-ups
		 * a second, not 100 */
		bool quiet = fp->o.burst_period &&
			     util_clock_ns(CLOCK_MONOTONIC) - fp->last_record_ns >= 1000000000ULL;
		poll(pfd, 2, quiet ? 100 : 10);
		bool asked = pfd[1].revents;
		if (asked) {
			uint64_t v;
			if (read(fp->wakefd, &v, sizeof(v)) < 0)
				v = 0;
		}
		pthread_mutex_lock(&fp->lock);
		bool stop = fp->stop;
		pthread_mutex_unlock(&fp->lock);
		pthread_mutex_lock(&fp->pflock);
		/* the lost counts take a read() of every event, an interrupt
		 * of the CPUs the watched threads run on: only when asked, or
		 * when a ring was nearly full (the kernel loses a record only
		 * then) */
		uint64_t lost = fp->lost_now;
		size_t got = pftrace_read(fp->pf, on_record, fp);
		if (got)
			fp->last_record_ns = util_clock_ns(CLOCK_MONOTONIC);
		if (pftrace_may_have_lost(fp->pf) || asked || stop)
			lost = pftrace_lost(fp->pf);
		if (fp->o.burst_period)
			end_bursts(fp);
		pthread_mutex_unlock(&fp->pflock);
		pthread_mutex_lock(&fp->lock);
		fp->lost_now = lost;
		fp->st = fp->rst;
		fp->passes++;
		pthread_cond_broadcast(&fp->passed);
		pthread_mutex_unlock(&fp->lock);
		if (stop)
			break;
	}
	return NULL;
}

/* Wake the reader and wait (at most ~1 s) for a pass that started after
 * now: the faults before the drain are then in the queue. Called with the
 * lock held. */
static void wait_pass(struct attach *fp)
{
	uint64_t want = fp->passes + 2, one = 1;
	if (write(fp->wakefd, &one, sizeof(one)) < 0)
		return;
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 1;
	while (fp->passes < want && fp->thread_started)
		if (pthread_cond_timedwait(&fp->passed, &fp->lock, &dl) != 0)
			break;
}

/* ---- public ---- */

/* Called with pflock held (or before the reader starts). */
static int attach(struct attach *fp, int pid, char *err, size_t errlen)
{
	int n = pftrace_attach(fp->pf, fp->o.proc_root, pid, err, errlen);
	if (n > 0) {
		util_grow((void **)&fp->attached, &fp->capattached, fp->nattached + 1,
			  sizeof(int));
		fp->attached[fp->nattached++] = pid;
	}
	return n < 0 ? n : 0;
}

static int follow_tree(struct attach *fp, int root, char *err, size_t errlen)
{
	struct proctree t = { 0 };
	int e = proctree_scan(fp->o.proc_root, root, &t);
	if (e < 0 || t.n == 0) {
		proctree_release(&t);
		snprintf(err, errlen, "pid %d: no such process", root);
		return -ESRCH;
	}
	for (size_t i = 0; e == 0 && i < t.n; i++)
		e = attach(fp, t.nodes[i].pid, err, errlen);
	proctree_release(&t);
	return e;
}

int attach_new(int root, const struct attach_opts *o, struct attach **out,
		  char *err, size_t errlen)
{
	struct attach *fp = xcalloc(1, sizeof(*fp));
	*out = NULL;
	fp->o = *o;
	fp->root = root;
	fp->wakefd = -1;
	pthread_mutex_init(&fp->lock, NULL);
	pthread_mutex_init(&fp->pflock, NULL);
	pthread_cond_init(&fp->passed, NULL);
	struct pftrace_opts po = { .ring_pages = o->ring_pages, .stack_size = o->stack_size,
				     .period = o->period, .burst_period = o->burst_period,
				     .regs_mask = UNWIND_PERF_REGS_MASK,
				     .skip_pid = root };
	int e = pftrace_open(&po, &fp->pf, err, errlen);
	if (e == 0 && o->burst_period)
		pftrace_set_peek(fp->pf, count_fault, fp);
	if (e == 0)
		e = follow_tree(fp, root, err, errlen);
	if (e == 0) {
		fp->uw = unwind_new();
		fp->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (!fp->uw || fp->wakefd < 0) {
			snprintf(err, errlen, "cannot set up unwinding");
			e = -ENOMEM;
		}
	}
	if (e == 0 && pthread_create(&fp->thread, NULL, reader, fp) != 0) {
		snprintf(err, errlen, "cannot start the fault reader thread");
		e = -EAGAIN;
	}
	if (e < 0) {
		attach_free(fp);
		return e;
	}
	fp->thread_started = true;
	*out = fp;
	return 0;
}

void attach_free(struct attach *fp)
{
	if (!fp)
		return;
	if (fp->thread_started) {
		pthread_mutex_lock(&fp->lock);
		fp->stop = true;
		pthread_mutex_unlock(&fp->lock);
		uint64_t one = 1;
		if (write(fp->wakefd, &one, sizeof(one)) < 0)
			(void)0;
		pthread_join(fp->thread, NULL);
	}
	pftrace_close(fp->pf);
	unwind_free(fp->uw);
	for (size_t i = 0; i < fp->nprocs; i++) {
		struct pproc *p = fp->procs[i];
		maps_free(p->maps, p->nmaps);
		free(p->threads);
		for (size_t k = 0; k < p->ncodes; k++) {
			free(p->codes[k].name);
			free(p->codes[k].file);
		}
		free(p->codes);
		for (size_t k = 0; k < p->nbcodes; k++)
			free((void *)p->bcodes[k].c.table);
		free(p->bcodes);
		idmap_free(p->bcode_index);
		free(p->cache);
		free(p);
	}
	free(fp->procs);
	free(fp->queue.buf);
	free(fp->spare.buf);
	free(fp->later.buf);
	if (fp->wakefd >= 0)
		close(fp->wakefd);
	pthread_cond_destroy(&fp->passed);
	pthread_mutex_destroy(&fp->lock);
	pthread_mutex_destroy(&fp->pflock);
	free(fp->attached);
	free(fp->fams);
	free(fp);
}

static int perf_names(void *ctx, int pid, uint64_t code, const char **name,
		      const char **file)
{
	struct attach *fp = ctx;
	int e = -ENOENT;
	pthread_mutex_lock(&fp->lock);
	for (size_t i = 0; i < fp->nprocs && e; i++) {
		struct pproc *p = fp->procs[i];
		for (size_t k = 0; p->pid == pid && k < p->ncodes; k++)
			if (p->codes[k].code == code) {
				*name = p->codes[k].name;
				*file = p->codes[k].file;
				e = 0;
				break;
			}
	}
	pthread_mutex_unlock(&fp->lock);
	return e;
}

/* Is pid still there (its /proc directory)? */
static bool pid_alive(const struct attach *fp, int pid)
{
	char *p;
	p = xasprintf("%s/%d", fp->o.proc_root ? fp->o.proc_root : "/proc", pid);
	bool alive = access(p, F_OK) == 0;
	free(p);
	return alive;
}

/* Attach the live processes perf does not follow (called with pflock). */
static void follow_new(struct attach *fp, const struct faultlog_lookup *l)
{
	char err[256];
	for (size_t i = 0; l->alive_pid; i++) {
		int pid = l->alive_pid(l->ctx, i);
		if (pid < 0)
			break;
		if (!pftrace_follows(fp->pf, pid))
			attach(fp, pid, err, sizeof(err));  /* gone meanwhile: fine */
	}
}

/* Close the events of attached processes that exited (with pflock). */
static void detach_exited(struct attach *fp, const struct faultlog_lookup *l)
{
	for (size_t i = 0; i < fp->nattached;) {
		if (l->exited(l->ctx, fp->attached[i])) {
			pftrace_detach(fp->pf, fp->attached[i]);
			fp->attached[i] = fp->attached[--fp->nattached];
		} else {
			i++;
		}
	}
}

static int write_sources(struct attach *fp, const struct sink *s,
			 const struct faultlog_lookup *l)
{
	int e = 0;
	uint64_t lost = fp->lost_now + fp->unknown_dropped;
	for (size_t i = 0; e == 0 && i < fp->nprocs; i++) {
		struct pproc *p = fp->procs[i];
		int64_t id = l->process_id(l->ctx, p->pid);
		/* lost records cannot be told apart by process: the root's
		 * row carries them */
		bool root = p->pid == fp->root;
		if (!id || (p->source_written && p->events == p->written_events &&
			    (!root || lost == fp->lost_written)))
			continue;
		e = sink_set_fault_source(s, id, "perf", p->events, root ? lost : 0,
					     p->python == 1 ? "" : p->status[0] ? p->status
									 : "no CPython");
		p->source_written = true;
		p->written_events = p->events;
		if (root)
			fp->lost_written = lost;
	}
	return e;
}

struct drain_ctx {
	struct attach *fp;
	struct faultlog *fs;
	const struct sink *s;
	const struct faultlog_lookup *l;
	int e;
	int gone_pid;
	double now;
	uint64_t given_up;
};

/* Write q's events; keep for the next drain (in fp->later, in order) those
 * of processes not in the session yet, or all once a write failed. One the
 * recorder never learns of is given up once it has exited (the session
 * will never have it) or after a while. */
static void write_queue(struct drain_ctx *c, const struct evqueue *q)
{
	struct faultlog_names nm = { c->fp, perf_names };
	struct faultring_event ev;
	memset(&ev, 0, sizeof(ev));
	for (size_t off = 0; evq_next(q, &off, &ev);) {
		int64_t id = c->e ? 0 : c->l->process_id(c->l->ctx, ev.pid);
		if (id) {
			c->e = faultlog_write_event(c->fs, c->s, &ev, id, &nm, c->l);
			if (c->e == 0)
				continue;
		}
		bool gone = !c->e && (ev.pid == c->gone_pid || !pid_alive(c->fp, ev.pid));
		if (gone)
			c->gone_pid = ev.pid;
		if (c->e || (!gone && c->now - ev.t < UNKNOWN_PID_WAIT_S))
			evq_push(&c->fp->later, &ev);
		else
			c->given_up++;
	}
}

int attach_drain(struct attach *fp, struct faultlog *fs, const struct sink *s,
		    const struct faultlog_lookup *l)
{
	pthread_mutex_lock(&fp->lock);
	wait_pass(fp);
	pthread_mutex_unlock(&fp->lock);
	pthread_mutex_lock(&fp->pflock);
	follow_new(fp, l);
	detach_exited(fp, l);
	size_t nattached = fp->nattached;
	pthread_mutex_unlock(&fp->pflock);
	pthread_mutex_lock(&fp->lock);
	fp->st.attached = nattached;
	struct evqueue q = fp->queue;   /* the reader goes on with the spare */
	fp->queue = fp->spare;
	pthread_mutex_unlock(&fp->lock);
	struct evqueue later = fp->later;
	memset(&fp->later, 0, sizeof(fp->later));
	struct drain_ctx c = { fp, fs, s, l, 0, 0, util_clock_s(CLOCK_REALTIME), 0 };
	write_queue(&c, &later);   /* older: first */
	write_queue(&c, &q);
	free(later.buf);
	evq_clear(&q);
	fp->spare = q;
	int e = c.e;
	pthread_mutex_lock(&fp->lock);
	fp->unknown_dropped += c.given_up;
	if (e == 0)
		e = write_sources(fp, s, l);
	pthread_mutex_unlock(&fp->lock);
	return e;
}

void attach_get_stats(struct attach *fp, struct attach_stats *st)
{
	pthread_mutex_lock(&fp->pflock);
	size_t open = pftrace_nevents(fp->pf), att = fp->nattached;
	pthread_mutex_unlock(&fp->pflock);
	pthread_mutex_lock(&fp->lock);
	*st = fp->st;
	st->lost = fp->lost_now;
	st->unrecorded = fp->unknown_dropped;
	st->events_open = open;
	st->attached = att;
	pthread_mutex_unlock(&fp->lock);
}

uint64_t attach_burst_period(const struct attach *fp)
{
	return fp->o.burst_period;
}

uint64_t attach_period(const struct attach *fp)
{
	return fp->o.period ? fp->o.period : 1;
}
