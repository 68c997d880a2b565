/* snapshot.c - one measurement of a whole process tree */
#include "measure/snapshot.h"
#include "collectors/kpage.h"
#include "collectors/pagemap.h"
#include "collectors/pagescan.h"
#include "collectors/proctree.h"
#include "common/format.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The kernel's mapcounts, less cowprof's own mappings: cowprof maps libc
 * and ld.so like its target, and a page it maps would otherwise count as
 * shared only while cowprof looks at it. */
struct mapcount_ctx {
	struct kpage *kp;
	uint64_t *self;          /* PFNs of cowprof's own resident file pages, sorted */
	size_t nself;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void collect_self_pfns(struct mapcount_ctx *c)
{
	struct pagescan_proc me;
	if (pagescan_read(NULL, getpid(), &me) < 0)
		return;
	c->self = xmalloc((me.nrec ? me.nrec : 1) * sizeof(uint64_t));
	for (size_t k = 0; k < me.nrec; k++)
		if (pagemap_present(me.pme[k]) && pagemap_file(me.pme[k]))
			c->self[c->nself++] = pagemap_pfn(me.pme[k]);
	qsort(c->self, c->nself, sizeof(uint64_t), cmp_u64);
	pagescan_release(&me);
}

static int kpage_mapcount(void *ctx, const uint64_t *pfns, size_t n,
			  uint64_t *out)
{
	struct mapcount_ctx *c = ctx;
	int r = kpage_read(c->kp, KPAGE_COUNT, pfns, n, out);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (out[i] > 0 && bsearch(&pfns[i], c->self, c->nself,
					  sizeof(uint64_t), cmp_u64))
			out[i]--;
	return r;
}

static int perm_error(char *err, size_t errlen, int r, int pid)
{
	if (r == -EPERM && pid < 0)
		return format_error(err, errlen, r, "page frame numbers are hidden: "
			    "cowprof needs root (CAP_SYS_ADMIN)");
	/* reading pagemap is a ptrace access check: root can still be refused
	 * a process with capabilities it lacks, or by Yama or an LSM */
	return format_error(err, errlen, r, "pid %d: permission denied reading "
			    "/proc/%d/pagemap (%s)", pid, pid, geteuid() ?
			    "cowprof needs root" : "ptrace access refused even to "
			    "root: the process has capabilities cowprof lacks, or "
			    "Yama or a security module forbids it");
}

struct scan_job {
	const char *root;
	const struct proctree *t;
	struct pagescan_proc *out;   /* one per tree node */
	int *rc;
	atomic_size_t next;
};

/* Was the process still alive once its walk ended? One that exited during
 * the walk gave a torn view of its memory (its mm being dismantled): it is
 * left out, like one that exited before. */
static bool alive_after(const char *root, int pid)
{
	struct proc_stat st;
	return proctree_read_stat(root, pid, &st) == 0 && st.state != 'Z' &&
	       st.state != 'X' && st.state != 'x';
}

static void *scan_worker(void *arg)
{
	struct scan_job *j = arg;
	size_t i;
	while ((i = atomic_fetch_add(&j->next, 1)) < j->t->n) {
		int pid = j->t->nodes[i].pid;
		/* cowprof measuring one of its own ancestors is not in the tree */
		int r = pid == getpid() ? -ESRCH : pagescan_read(j->root, pid, &j->out[i]);
		if (r == 0 && !alive_after(j->root, pid)) {
			pagescan_release(&j->out[i]);
			r = -ESRCH;
		}
		j->rc[i] = r;
	}
	return NULL;
}

/* Walk the processes' pagemaps on up to `threads` threads: the walk is
 * kernel time spent per process, so separate processes scale across
 * cores. */
static void scan_parallel(struct scan_job *j, int threads)
{
	pthread_t tid[SNAPSHOT_MAX_THREADS];
	int started = 0;
	for (int k = 1; k < threads && (size_t)k < j->t->n; k++)
		if (pthread_create(&tid[started], NULL, scan_worker, j) == 0)
			started++;
	scan_worker(j);
	for (int k = 0; k < started; k++)
		pthread_join(tid[k], NULL);
}

static int thread_count(const struct snapshot_opts *o)
{
	long n = o->threads > 0 ? o->threads : sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > SNAPSHOT_MAX_THREADS ? SNAPSHOT_MAX_THREADS : (int)n;
}

/* Has pid exited, its parent not having reaped it yet? */
static bool zombie(const char *proc_root, int pid)
{
	struct proc_stat st;
	return proctree_read_stat(proc_root, pid, &st) == 0 &&
	       (st.state == 'Z' || st.state == 'X');
}

/* Walk every process of the tree; drop those that exited. Fills procs and
 * parent (indexes after dropping), keep (tree node -> index or -1). */
static int scan_tree(const struct snapshot_opts *o, const struct proctree *t,
		     struct pagescan_proc *procs, int *parent, int *keep,
		     size_t *n, char *err, size_t errlen)
{
	struct scan_job j = { .root = o->proc_root, .t = t, .out = procs,
			      .rc = xcalloc(t->n, sizeof(int)) };
	atomic_init(&j.next, 0);
	scan_parallel(&j, thread_count(o));
	int r = 0;
	*n = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct proctree_node *nd = &t->nodes[i];
		int e = j.rc[i];
		keep[i] = -1;
		if (r < 0 || (e == -ESRCH && i > 0)) {
			pagescan_release(&procs[i]);
			continue;  /* exited while we walked: normal */
		}
		if (e == -ESRCH && zombie(o->proc_root, nd->pid))
			r = format_error(err, errlen, e, "pid %d has exited and is a "
					 "zombie; its memory is gone", nd->pid);
		else if (e == -ESRCH)
			r = format_error(err, errlen, e, "pid %d: no such process", nd->pid);
		else if (e == -EACCES || e == -EPERM)
			r = perm_error(err, errlen, e, nd->pid);
		else if (e < 0)
			r = format_error(err, errlen, e, "pid %d: reading pagemap: %s",
				 nd->pid, strerror(-e));
		if (r < 0) {
			pagescan_release(&procs[i]);
			continue;
		}
		procs[*n] = procs[i];
		parent[*n] = nd->parent >= 0 ? keep[nd->parent] : -1;
		keep[i] = (int)(*n)++;
	}
	free(j.rc);
	if (r < 0) {
		for (size_t i = 0; i < *n; i++)
			pagescan_release(&procs[i]);
		*n = 0;
	}
	return r;
}

static void copy_regions(struct snapshot_proc *sp, const struct pagescan_proc *p,
			 const struct cow_figures *fig)
{
	sp->nregions = p->nregions;
	sp->regions = xcalloc(p->nregions, sizeof(*sp->regions));
	for (size_t k = 0; k < p->nregions; k++) {
		const struct maps_region *m = &p->regions[k].map;
		struct snapshot_region *r = &sp->regions[k];
		r->start = m->start;
		r->end = m->end;
		r->kind = m->kind;
		snprintf(r->perms, sizeof(r->perms), "%c%c%c%c", m->read ? 'r' : '-',
			 m->write ? 'w' : '-', m->exec ? 'x' : '-',
			 m->shared ? 's' : 'p');
		r->path = xstrdup(m->path);
		r->fig = fig[k];
	}
}

static void fill_procs(struct snapshot *s, const struct snapshot_opts *o,
		       const struct proctree *t, const int *keep,
		       const struct pagescan_proc *procs, const int *parent,
		       const struct cow_result *res)
{
	s->procs = xcalloc(res->n ? res->n : 1, sizeof(*s->procs));
	for (size_t i = 0; i < t->n; i++) {
		if (keep[i] < 0)
			continue;
		const struct proctree_node *nd = &t->nodes[i];
		struct snapshot_proc *sp = &s->procs[keep[i]];
		sp->pid = nd->pid;
		sp->ppid = nd->ppid;
		sp->parent = parent[keep[i]];
		sp->depth = sp->parent >= 0 ? s->procs[sp->parent].depth + 1 : 0;
		sp->state = nd->stat.state;
		sp->start_ticks = nd->stat.start_ticks;
		sp->stat = nd->stat;
		sp->cmd = xstrdup(nd->cmd);
		sp->fig = res->proc[keep[i]];
		if (o->regions)
			copy_regions(sp, &procs[keep[i]], res->region[keep[i]]);
		s->pages_walked += procs[keep[i]].pages_walked;
	}
	s->n = res->n;
	s->tree = res->tree;
}

static int check_root(const struct proctree *t, int pid, char *err, size_t errlen)
{
	if (t->nodes[0].stat.flags & PROCTREE_PF_KTHREAD)
		return format_error(err, errlen, -EINVAL,
			    "pid %d: is a kernel thread (no user memory)", pid);
	return 0;
}

static int measure(const struct snapshot_opts *o, const struct proctree *t,
		   struct snapshot *s, struct kpage *kp, char *err, size_t errlen)
{
	struct pagescan_proc *procs = xcalloc(t->n, sizeof(*procs));
	int *parent = xcalloc(t->n, sizeof(int));
	int *keep = xcalloc(t->n, sizeof(int));
	size_t n = 0;
	struct mapcount_ctx mc = { .kp = kp };
	struct cow_input in = { .procs = procs, .parent = parent,
				.mapcount = kpage_mapcount, .mapcount_ctx = &mc,
				.threads = thread_count(o) };
	struct cow_result res = {0};
	int r = pagemap_detect_zero(&in.zero);
	if (r < 0)
		r = perm_error(err, errlen, r, -1);
	if (r == 0)
		r = scan_tree(o, t, procs, parent, keep, &n, err, errlen);
	if (r == 0 && !o->proc_root)
		collect_self_pfns(&mc);
	in.n = n;
	if (r == 0 && (r = cow_compute(&in, &res)) < 0)
		format_error(err, errlen, r, "reading /proc/kpagecount: %s", strerror(-r));
	if (r == 0)
		fill_procs(s, o, t, keep, procs, parent, &res);
	cow_result_release(&res);
	free(mc.self);
	for (size_t i = 0; i < n; i++)
		pagescan_release(&procs[i]);
	free(procs);
	free(parent);
	free(keep);
	return r;
}

int snapshot_take(int root_pid, const struct snapshot_opts *o,
		  struct snapshot *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->root = root_pid;
	s->page_size = sysconf(_SC_PAGESIZE);
	s->time = util_clock_s(CLOCK_REALTIME);
	double t0 = util_clock_s(CLOCK_MONOTONIC);
	if (s->page_size != 4096)
		return format_error(err, errlen, -ENOTSUP, "page size %ld is not supported "
			    "(only 4096)", s->page_size);
	struct proctree t;
	int r = proctree_scan(o->proc_root, root_pid, &t);
	if (r == -ESRCH)
		return format_error(err, errlen, r, "pid %d: no such process", root_pid);
	if (r < 0)
		return format_error(err, errlen, r, "pid %d: %s", root_pid, strerror(-r));
	struct kpage kp;
	r = check_root(&t, root_pid, err, errlen);
	if (r == 0 && (r = kpage_open(&kp, o->proc_root)) < 0)
		format_error(err, errlen, r, "cannot read /proc/kpagecount: %s "
		     "(cowprof needs root)", strerror(-r));
	if (r == 0) {
		r = measure(o, &t, s, &kp, err, errlen);
		kpage_close(&kp);
	}
	proctree_release(&t);
	s->duration_s = util_clock_s(CLOCK_MONOTONIC) - t0;
	if (r < 0)
		snapshot_release(s);
	return r;
}

void snapshot_release(struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->procs[i].cmd);
		for (size_t k = 0; k < s->procs[i].nregions; k++)
			free(s->procs[i].regions[k].path);
		free(s->procs[i].regions);
	}
	free(s->procs);
	s->procs = NULL;
	s->n = 0;
}

static void visit(const struct snapshot *s, size_t i, size_t *order, size_t *n)
{
	order[(*n)++] = i;
	for (size_t k = i + 1; k < s->n; k++)
		if (s->procs[k].parent == (int)i)
			visit(s, k, order, n);
}

size_t *snapshot_tree_order(const struct snapshot *s)
{
	size_t *order = xcalloc(s->n ? s->n : 1, sizeof(size_t));
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->procs[i].parent < 0)
			visit(s, i, order, &n);
	return order;
}

double snapshot_shared_pct(const struct cow_figures *f)
{
	uint64_t inh = f->shared_with_parent_kb + f->copied_kb;
	return inh ? 100.0 * (double)f->shared_with_parent_kb / (double)inh : -1;
}
