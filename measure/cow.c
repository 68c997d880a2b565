/* cow.c - what each process of a tree shares with its parent, and costs */
#include "measure/cow.h"
#include "common/util.h"
#include "measure/pfntab.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_KB 4
#define PSS_UNIT_PAGE (4096ULL << 12)  /* smaps' PSS_SHIFT fixed point */

/* A record's slot: the page's dense index in the PFN table, and two facts
 * about the parent's page at the same address found during the merge. */
#define SLOT_INDEX   0x3fffffffu
#define SLOT_NONE    SLOT_INDEX        /* not resident, or the zero page */
#define SLOT_PARENT  (1u << 30)        /* the parent has a page at this address */
#define SLOT_LINKED  (1u << 31)        /* ... and it is the same physical page */

#define PF_NONEXCL 1  /* some mapping of it lacks the exclusive bit */
#define PF_FILE    2  /* page cache or shmem: may be mapped outside the tree */

/* Pages checked against kpagecount to confirm that anonymous pages seen
 * more than once in the tree are mapped nowhere else. */
#define SPOT_CHECKS 64

enum page_class { PC_ANON, PC_SHMEM, PC_FILE, PC_HUGETLB };

/* PSS_UNIT_PAGE / mapcount for common mapcounts: a division per page is
 * a noticeable share of a snapshot. */
#define PSS_TABLE 256
static uint64_t pss_table[PSS_TABLE];

static void init_pss_table(void)
{
	pss_table[0] = PSS_UNIT_PAGE;
	for (unsigned m = 1; m < PSS_TABLE; m++)
		pss_table[m] = PSS_UNIT_PAGE / m;
}

struct walk {
	const struct cow_input *in;
	struct pfntab tab;
	uint32_t **slot;         /* per process, parallel to its records */
	uint32_t *mapcount;      /* per dense PFN index */
};

static bool usable(const struct walk *w, uint64_t e)
{
	return pagemap_present(e) && !pagemap_is_zero(&w->in->zero, pagemap_pfn(e));
}

static uint32_t link_record(struct walk *w, size_t i, size_t k, uint64_t vpn,
			    struct pagescan_cursor *rc)
{
	const struct pagescan_proc *p = &w->in->procs[i];
	int pi = w->in->parent[i];
	uint64_t e = p->pme[k];
	uint32_t s = 0;
	if (pi >= 0) {
		ssize_t rj = pagescan_seek(rc, vpn);
		uint64_t re = rj >= 0 ? rc->p->pme[rj] : 0;
		if (rj >= 0 && (usable(w, re) || pagemap_swapped(re)))
			s = SLOT_PARENT;
		if (rj >= 0 && usable(w, e) && usable(w, re) &&
		    pagemap_pfn(re) == pagemap_pfn(e))
			s = SLOT_PARENT | SLOT_LINKED |
			    (w->slot[pi][rj] & SLOT_INDEX);
	}
	if (!usable(w, e))
		return s | SLOT_NONE;
	if (!(s & SLOT_LINKED))
		s |= pfntab_insert(&w->tab, pagemap_pfn(e));
	uint32_t x = s & SLOT_INDEX;
	w->tab.count[x]++;
	w->tab.flags[x] |= (pagemap_exclusive(e) ? 0 : PF_NONEXCL) |
			   (pagemap_file(e) ? PF_FILE : 0);
	return s;
}

/* Pass 1: give every resident page its PFN index, reusing the parent's
 * index where the page is the parent's own (no hashing on that path). */
static void link_all(struct walk *w)
{
	/* Most pages of a fork tree are the root's, shared by the others: size
	 * for those and a little more, and let the table grow if need be. */
	size_t expect = 0;
	for (size_t i = 0; i < w->in->n; i++)
		expect += w->in->procs[i].nrec / (w->in->parent[i] < 0 ? 1 : 16);
	pfntab_init(&w->tab, expect);
	w->slot = xcalloc(w->in->n, sizeof(*w->slot));
	for (size_t i = 0; i < w->in->n; i++) {
		const struct pagescan_proc *p = &w->in->procs[i];
		int pi = w->in->parent[i];
		struct pagescan_cursor rc = { pi >= 0 ? &w->in->procs[pi] : NULL, 0 };
		w->slot[i] = xmalloc((p->nrec ? p->nrec : 1) * sizeof(uint32_t));
		for (size_t u = 0; u < p->nruns; u++) {
			const struct pagescan_run *run = &p->runs[u];
			for (size_t t = 0; t < run->n; t++)
				w->slot[i][run->first + t] =
					link_record(w, i, run->first + t,
						    run->vpn + t, &rc);
		}
	}
}

struct pfn_ix {
	uint64_t pfn;
	uint32_t ix;
};

static int cmp_pfn(const void *a, const void *b)
{
	uint64_t x = ((const struct pfn_ix *)a)->pfn;
	uint64_t y = ((const struct pfn_ix *)b)->pfn;
	return (x > y) - (x < y);
}

/* Ask the kernel for the mapcount of the listed pages; keep the larger. */
static int kernel_counts(struct walk *w, struct pfn_ix *v, size_t n,
			 uint64_t *reads)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_pfn);
	uint64_t *pfns = xmalloc(n * sizeof(*pfns));
	uint64_t *out = xmalloc(n * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		pfns[i] = v[i].pfn;
	int r = w->in->mapcount(w->in->mapcount_ctx, pfns, n, out);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (out[i] > w->mapcount[v[i].ix])
			w->mapcount[v[i].ix] = (uint32_t)out[i];
	*reads += n;
	free(pfns);
	free(out);
	return r;
}

/* Pages whose mapcount the tree alone cannot give: page cache and shmem,
 * and pages not exclusive though the tree maps them once. With all=true,
 * every non-exclusive page. */
static size_t list_outside(const struct walk *w, struct pfn_ix *v, bool all)
{
	size_t n = 0;
	for (size_t x = 0; x < w->tab.n; x++) {
		uint8_t f = w->tab.flags[x];
		if ((f & PF_FILE) ||
		    ((f & PF_NONEXCL) && (all || w->tab.count[x] == 1)))
			v[n++] = (struct pfn_ix){ w->tab.pfn[x], (uint32_t)x };
	}
	return n;
}

/* Does the kernel count more mappers than the tree for a few anonymous
 * pages the tree maps several times? (The root shares pages with its own
 * parent, e.g. when the root is itself a forked worker.) */
static int spot_check(struct walk *w, bool *outside, uint64_t *reads)
{
	struct pfn_ix v[SPOT_CHECKS];
	size_t n = 0;
	for (size_t x = 0; x < w->tab.n && n < SPOT_CHECKS; x++)
		if (w->tab.flags[x] == PF_NONEXCL && w->tab.count[x] > 1)
			v[n++] = (struct pfn_ix){ w->tab.pfn[x], (uint32_t)x };
	int r = kernel_counts(w, v, n, reads);
	*outside = false;
	for (size_t i = 0; i < n; i++)
		*outside |= w->mapcount[v[i].ix] > w->tab.count[v[i].ix];
	return r;
}

/* Pass 2: the mapcount of every page. */
static int resolve_mapcounts(struct walk *w, uint64_t *reads)
{
	w->mapcount = xmalloc((w->tab.n ? w->tab.n : 1) * sizeof(uint32_t));
	memcpy(w->mapcount, w->tab.count, w->tab.n * sizeof(uint32_t));
	if (!w->in->mapcount)
		return 0;
	bool outside = false;
	int r = spot_check(w, &outside, reads);
	if (r < 0)
		return r;
	struct pfn_ix *v = xmalloc((w->tab.n ? w->tab.n : 1) * sizeof(*v));
	size_t n = list_outside(w, v, outside);
	r = kernel_counts(w, v, n, reads);
	free(v);
	return r;
}

static enum page_class class_of(enum maps_kind k, uint64_t e)
{
	if (k == MAPS_HUGETLB)
		return PC_HUGETLB;
	if (k == MAPS_SHMEM || k == MAPS_SYSV)
		return PC_SHMEM;
	return pagemap_file(e) ? PC_FILE : PC_ANON;
}

static bool same_backing(const struct maps_region *a, const struct maps_region *b)
{
	if (maps_kind_is_anon(a->kind) && maps_kind_is_anon(b->kind))
		return true;
	return a->kind == b->kind && a->inode == b->inode &&
	       a->dev_major == b->dev_major && a->dev_minor == b->dev_minor;
}

/* Is the parent's mapping at addr of the same backing as g? */
static bool parent_backs(const struct pagescan_proc *r,
			 const struct pagescan_region **cache,
			 const struct pagescan_region *g, uint64_t addr)
{
	const struct pagescan_region *rg = *cache;
	if (!rg || addr < rg->map.start || addr >= rg->map.end)
		rg = *cache = pagescan_find(r, addr);
	return rg && same_backing(&g->map, &rg->map);
}

/* Page counts of one region, kept in locals while its pages are summed. */
struct tally {
	uint64_t rss, uss, swap, hugetlb, shared_anywhere, pss_units;
	uint64_t kind[3];        /* by enum page_class: anon, shmem, file */
	uint64_t shared, copied, fresh;
};

/* Which of shared_with_parent, copied or new a page of class c adds to. */
static uint64_t *parent_tally(struct tally *t, enum page_class c, uint32_t s,
			      bool backed)
{
	if (c == PC_SHMEM)
		return backed ? &t->shared : &t->fresh;
	if (s & SLOT_LINKED)
		return &t->shared;
	return (s & SLOT_PARENT) && backed ? &t->copied : &t->fresh;
}

/* Count one page; returns false if it is not resident memory (swapped,
 * the zero page, hugetlb) and so has no parent figure. */
static inline bool tally_page(const struct walk *w, struct tally *t,
			      uint64_t e, uint32_t s, enum page_class c)
{
	if (!pagemap_present(e)) {
		t->swap += pagemap_swapped(e);
		return false;
	}
	if ((s & SLOT_INDEX) == SLOT_NONE)
		return false;  /* the zero page */
	if (c == PC_HUGETLB) {
		t->hugetlb++;  /* smaps keeps hugetlb out of Rss */
		return false;
	}
	uint32_t m = w->mapcount[s & SLOT_INDEX];
	t->rss++;
	t->pss_units += m < PSS_TABLE ? pss_table[m] : PSS_UNIT_PAGE / m;
	t->uss += m <= 1;
	t->shared_anywhere += m > 1;
	t->kind[c]++;
	return true;
}

static void tally_run(const struct walk *w, size_t i,
		      const struct pagescan_region *g,
		      const struct pagescan_run *run, struct tally *t,
		      const struct pagescan_region **cache)
{
	const struct pagescan_proc *p = &w->in->procs[i];
	int pi = w->in->parent[i];
	for (size_t x = 0; x < run->n; x++) {
		size_t k = run->first + x;
		uint64_t e = p->pme[k];
		uint32_t s = w->slot[i][k];
		enum page_class c = class_of(g->map.kind, e);
		if (!tally_page(w, t, e, s, c) || pi < 0 || c == PC_FILE)
			continue;
		bool backed = (c == PC_SHMEM || ((s & SLOT_PARENT) &&
						 !(s & SLOT_LINKED))) &&
			      parent_backs(&w->in->procs[pi], cache, g,
					   (run->vpn + x) << 12);
		(*parent_tally(t, c, s, backed))++;
	}
}

static void account_region(const struct walk *w, size_t i, size_t gi,
			   struct cow_figures *f,
			   const struct pagescan_region **cache)
{
	const struct pagescan_proc *p = &w->in->procs[i];
	const struct pagescan_region *g = &p->regions[gi];
	struct tally t = {0};
	for (size_t u = g->first_run; u < g->first_run + g->nruns; u++)
		tally_run(w, i, g, &p->runs[u], &t, cache);
	f->rss_kb = t.rss * PAGE_KB;
	f->uss_kb = t.uss * PAGE_KB;
	f->swap_kb = t.swap * PAGE_KB;
	f->hugetlb_kb = t.hugetlb * PAGE_KB;
	f->shared_anywhere_kb = t.shared_anywhere * PAGE_KB;
	f->pss_units = t.pss_units;
	f->anon_kb = t.kind[PC_ANON] * PAGE_KB;
	f->shmem_kb = t.kind[PC_SHMEM] * PAGE_KB;
	f->file_kb = t.kind[PC_FILE] * PAGE_KB;
	f->shared_with_parent_kb = t.shared * PAGE_KB;
	f->copied_kb = t.copied * PAGE_KB;
	f->new_kb = t.fresh * PAGE_KB;
}

static void add_figures(struct cow_figures *to, const struct cow_figures *f)
{
	uint64_t *t = (uint64_t *)to;
	const uint64_t *s = (const uint64_t *)f;
	for (size_t x = 0; x < sizeof(*f) / sizeof(uint64_t); x++)
		t[x] += s[x];
}

/* Pass 3: sum every page into its region's and its process's figures. */
static void account_proc(const struct walk *w, size_t i, struct cow_result *out)
{
	const struct pagescan_proc *p = &w->in->procs[i];
	const struct pagescan_region *cache = NULL;
	struct cow_figures *pf = &out->proc[i];
	out->region[i] = xcalloc(p->nregions, sizeof(**out->region));
	for (size_t gi = 0; gi < p->nregions; gi++) {
		struct cow_figures *f = &out->region[i][gi];
		account_region(w, i, gi, f, &cache);
		f->pss_kb = f->pss_units >> 22;
		add_figures(pf, f);
	}
	pf->pss_kb = pf->pss_units >> 22;
}

struct account_job {
	const struct walk *w;
	struct cow_result *out;
	atomic_size_t next;
};

static void *account_worker(void *arg)
{
	struct account_job *j = arg;
	size_t i;
	while ((i = atomic_fetch_add(&j->next, 1)) < j->w->in->n)
		account_proc(j->w, i, j->out);
	return NULL;
}

/* Pass 3: sum every page into its region's and its process's figures.
 * Processes are independent here (everything shared is read-only), so
 * they are summed on up to in->threads threads. */
static void account_all(const struct walk *w, struct cow_result *out)
{
	struct account_job j = { .w = w, .out = out };
	atomic_init(&j.next, 0);
	pthread_t tid[COW_MAX_THREADS];
	int started = 0;
	for (int k = 1; k < w->in->threads && k < COW_MAX_THREADS &&
			(size_t)k < w->in->n; k++)
		if (pthread_create(&tid[started], NULL, account_worker, &j) == 0)
			started++;
	account_worker(&j);
	for (int k = 0; k < started; k++)
		pthread_join(tid[k], NULL);
	for (size_t i = 0; i < w->in->n; i++) {
		const struct cow_figures *pf = &out->proc[i];
		out->tree.rss_kb += pf->rss_kb;
		out->tree.pss_kb += pf->pss_kb;
		out->tree.uss_kb += pf->uss_kb;
		out->tree.swap_kb += pf->swap_kb;
	}
	out->tree.unique_kb = (uint64_t)w->tab.n * PAGE_KB;
}

static void walk_release(struct walk *w)
{
	for (size_t i = 0; w->slot && i < w->in->n; i++)
		free(w->slot[i]);
	free(w->slot);
	free(w->mapcount);
	pfntab_release(&w->tab);
}

int cow_compute(const struct cow_input *in, struct cow_result *out)
{
	struct walk w = { .in = in };
	memset(out, 0, sizeof(*out));
	if (!pss_table[1])
		init_pss_table();
	link_all(&w);
	int r = resolve_mapcounts(&w, &out->tree.kpagecount_reads);
	if (r == 0) {
		out->n = in->n;
		out->proc = xcalloc(in->n, sizeof(*out->proc));
		out->region = xcalloc(in->n, sizeof(*out->region));
		account_all(&w, out);
	}
	walk_release(&w);
	return r;
}

void cow_result_release(struct cow_result *r)
{
	for (size_t i = 0; r->region && i < r->n; i++)
		free(r->region[i]);
	free(r->region);
	free(r->proc);
	memset(r, 0, sizeof(*r));
}
