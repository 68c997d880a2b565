/* test_cow.c - the shared/copied/new and rss/pss/uss computation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fixture.h"
#include "measure/cow.h"

#define P (1ULL << 63)   /* present */
#define S (1ULL << 62)   /* swapped */
#define F (1ULL << 61)   /* file page or shared anon */
#define X (1ULL << 56)   /* exclusive */
#define ZERO_PFN 0x999

#define BASE 0x10000ULL  /* first vpn of the test regions */

struct rec {
	uint64_t vpn;
	uint64_t pme;
};

/* A process with the given regions (kind, inode, first vpn, pages) and
 * records, which must be in address order. */
static void make_proc(struct pagescan_proc *p, int nreg,
		      const enum maps_kind *kinds, const uint64_t *inodes,
		      const uint64_t *starts, const uint64_t *pages,
		      const struct rec *recs, size_t nrec)
{
	memset(p, 0, sizeof(*p));
	p->regions = xcalloc((size_t)nreg, sizeof(*p->regions));
	p->nregions = (size_t)nreg;
	p->runs = xcalloc(nrec + 1, sizeof(*p->runs));
	p->pme = xmalloc((nrec + 1) * sizeof(uint64_t));
	p->nrec = nrec;
	size_t k = 0;
	for (int g = 0; g < nreg; g++) {
		struct pagescan_region *r = &p->regions[g];
		r->map.start = starts[g] << 12;
		r->map.end = (starts[g] + pages[g]) << 12;
		r->map.kind = kinds[g];
		r->map.inode = inodes[g];
		r->map.shared = maps_kind_is_shared(kinds[g]);
		r->map.path = xstrdup("");
		r->first = k;
		r->first_run = p->nruns;
		for (; k < nrec && recs[k].vpn < starts[g] + pages[g]; k++) {
			struct pagescan_run *last = p->nruns > r->first_run ?
						    &p->runs[p->nruns - 1] : NULL;
			if (!last || last->vpn + last->n != recs[k].vpn)
				p->runs[p->nruns++] = (struct pagescan_run){ recs[k].vpn, k, 0 };
			p->runs[p->nruns - 1].n++;
			p->pme[k] = recs[k].pme;
		}
		r->n = k - r->first;
		r->nruns = p->nruns - r->first_run;
	}
}

/* One anonymous region of 64 pages at BASE. */
static void anon_proc(struct pagescan_proc *p, const struct rec *recs, size_t n)
{
	enum maps_kind k = MAPS_ANON;
	uint64_t ino = 0, start = BASE, pages = 64;
	make_proc(p, 1, &k, &ino, &start, &pages, recs, n);
}

static int kernel_count;  /* what the fake kpagecount answers, 0 = tree's */

static int fake_mapcount(void *ctx, const uint64_t *pfns, size_t n, uint64_t *out)
{
	(void)ctx;
	(void)pfns;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint64_t)kernel_count;
	return 0;
}

static void compute(struct pagescan_proc *procs, const int *parent, size_t n,
		    struct cow_result *res)
{
	struct cow_input in = { .procs = procs, .parent = parent, .n = n,
				.zero = { .pfn = ZERO_PFN },
				.mapcount = fake_mapcount };
	assert_int_equal(cow_compute(&in, res), 0);
}

static void release(struct pagescan_proc *procs, size_t n, struct cow_result *res)
{
	for (size_t i = 0; i < n; i++)
		pagescan_release(&procs[i]);
	cow_result_release(res);
}

static void test_cow_root_alone_is_all_private(void **state)
{
	(void)state;
	struct rec r[] = { { BASE, P | X | 100 }, { BASE + 1, P | X | 101 },
			   { BASE + 2, P | X | 102 } };
	struct pagescan_proc procs[1];
	anon_proc(&procs[0], r, 3);
	int parent[] = { -1 };
	struct cow_result res;
	compute(procs, parent, 1, &res);
	assert_int_equal(res.proc[0].rss_kb, 12);
	assert_int_equal(res.proc[0].pss_kb, 12);
	assert_int_equal(res.proc[0].uss_kb, 12);
	assert_int_equal(res.proc[0].anon_kb, 12);
	assert_int_equal(res.proc[0].shared_with_parent_kb, 0);
	assert_int_equal(res.proc[0].copied_kb, 0);
	assert_int_equal(res.tree.unique_kb, 12);
	release(procs, 1, &res);
}

/* The parent has pages 0-3; the child shares 0-1, copied 2, the parent
 * copied 3 after fork (so both differ), and the child has a new page 5. */
static void test_cow_child_shared_copied_new(void **state)
{
	(void)state;
	struct rec rp[] = { { BASE, P | 100 }, { BASE + 1, P | 101 },
			    { BASE + 2, P | 102 }, { BASE + 3, P | X | 203 } };
	struct rec rc[] = { { BASE, P | 100 }, { BASE + 1, P | 101 },
			    { BASE + 2, P | X | 302 }, { BASE + 3, P | X | 103 },
			    { BASE + 5, P | X | 305 } };
	struct pagescan_proc procs[2];
	anon_proc(&procs[0], rp, 4);
	anon_proc(&procs[1], rc, 5);
	int parent[] = { -1, 0 };
	struct cow_result res;
	compute(procs, parent, 2, &res);
	const struct cow_figures *c = &res.proc[1], *p = &res.proc[0];
	assert_int_equal(c->shared_with_parent_kb, 8);
	assert_int_equal(c->copied_kb, 8);
	assert_int_equal(c->new_kb, 4);
	assert_int_equal(c->rss_kb, 20);
	assert_int_equal(c->uss_kb, 12);
	assert_int_equal(c->shared_anywhere_kb, 8);
	assert_int_equal(c->pss_kb, 4 + 12);   /* 2 pages at half, 3 whole */
	/* the parent's page 102 is mapped once since the child copied it */
	assert_int_equal(p->uss_kb, 8);
	assert_int_equal(p->pss_kb, 4 + 8);
	assert_int_equal(p->copied_kb, 0);
	assert_int_equal(res.tree.unique_kb, 4 * 7);
	assert_int_equal(res.tree.rss_kb, 36);
	release(procs, 2, &res);
}

static void test_cow_zero_page_is_not_memory(void **state)
{
	(void)state;
	struct rec rp[] = { { BASE, P | ZERO_PFN }, { BASE + 1, P | X | 101 } };
	struct rec rc[] = { { BASE, P | ZERO_PFN }, { BASE + 1, P | X | 201 },
			    { BASE + 2, P | ZERO_PFN } };
	struct pagescan_proc procs[2];
	anon_proc(&procs[0], rp, 2);
	anon_proc(&procs[1], rc, 3);
	int parent[] = { -1, 0 };
	struct cow_result res;
	compute(procs, parent, 2, &res);
	assert_int_equal(res.proc[0].rss_kb, 4);
	assert_int_equal(res.proc[1].rss_kb, 4);
	assert_int_equal(res.proc[1].shared_with_parent_kb, 0);
	assert_int_equal(res.proc[1].copied_kb, 4);
	assert_int_equal(res.proc[1].new_kb, 0);
	assert_int_equal(res.tree.unique_kb, 8);
	release(procs, 2, &res);
}

/* A child page written where the parent only had the zero page is new. */
static void test_cow_write_over_zero_page_is_new(void **state)
{
	(void)state;
	struct rec rp[] = { { BASE, P | ZERO_PFN } };
	struct rec rc[] = { { BASE, P | X | 201 } };
	struct pagescan_proc procs[2];
	anon_proc(&procs[0], rp, 1);
	anon_proc(&procs[1], rc, 1);
	int parent[] = { -1, 0 };
	struct cow_result res;
	compute(procs, parent, 2, &res);
	assert_int_equal(res.proc[1].new_kb, 4);
	assert_int_equal(res.proc[1].copied_kb, 0);
	release(procs, 2, &res);
}

/* Shared memory is shared when the parent maps the same object, new when
 * it does not, and never copied. */
static void test_cow_shmem_is_never_copied(void **state)
{
	(void)state;
	enum maps_kind k[] = { MAPS_SHMEM, MAPS_SHMEM };
	uint64_t ino_p[] = { 7, 8 }, ino_c[] = { 7, 9 };
	uint64_t st[] = { BASE, BASE + 64 }, pg[] = { 64, 64 };
	struct rec rp[] = { { BASE, P | F | 100 } };
	struct rec rc[] = { { BASE, P | F | 100 }, { BASE + 1, P | F | 101 },
			    { BASE + 64, P | F | 400 } };
	struct pagescan_proc procs[2];
	make_proc(&procs[0], 2, k, ino_p, st, pg, rp, 1);
	make_proc(&procs[1], 2, k, ino_c, st, pg, rc, 3);
	int parent[] = { -1, 0 };
	struct cow_result res;
	kernel_count = 0;
	compute(procs, parent, 2, &res);
	const struct cow_figures *c = &res.proc[1];
	assert_int_equal(c->shmem_kb, 12);
	assert_int_equal(c->shared_with_parent_kb, 8);
	assert_int_equal(c->new_kb, 4);
	assert_int_equal(c->copied_kb, 0);
	assert_int_equal(c->anon_kb, 0);
	release(procs, 2, &res);
}

/* Page cache counts in rss/pss with the kernel's mapcount, never in the
 * parent figures. */
static void test_cow_file_pages_use_kernel_mapcount(void **state)
{
	(void)state;
	enum maps_kind k = MAPS_FILE_PRIVATE;
	uint64_t ino = 42, st = BASE, pg = 64;
	struct rec rp[] = { { BASE, P | F | 100 }, { BASE + 1, P | F | 101 } };
	struct rec rc[] = { { BASE, P | F | 100 }, { BASE + 2, P | F | 102 } };
	struct pagescan_proc procs[2];
	make_proc(&procs[0], 1, &k, &ino, &st, &pg, rp, 2);
	make_proc(&procs[1], 1, &k, &ino, &st, &pg, rc, 2);
	int parent[] = { -1, 0 };
	struct cow_result res;
	kernel_count = 8;
	compute(procs, parent, 2, &res);
	kernel_count = 0;
	const struct cow_figures *c = &res.proc[1];
	assert_int_equal(c->file_kb, 8);
	assert_int_equal(c->rss_kb, 8);
	assert_int_equal(c->pss_kb, 1);          /* 2 pages * 4 kB / 8 */
	assert_int_equal(c->uss_kb, 0);
	assert_int_equal(c->shared_with_parent_kb + c->copied_kb + c->new_kb, 0);
	assert_int_equal(res.tree.kpagecount_reads, 3);
	release(procs, 2, &res);
}

/* The grandchild shares the root's page although its parent copied it: to
 * its parent it is copied, but the tree holds that page once. */
static void test_cow_grandchild_counts_pages_once(void **state)
{
	(void)state;
	struct rec rr[] = { { BASE, P | 100 } };
	struct rec rc[] = { { BASE, P | X | 200 } };
	struct rec rg[] = { { BASE, P | 100 } };
	struct pagescan_proc procs[3];
	anon_proc(&procs[0], rr, 1);
	anon_proc(&procs[1], rc, 1);
	anon_proc(&procs[2], rg, 1);
	int parent[] = { -1, 0, 1 };
	struct cow_result res;
	compute(procs, parent, 3, &res);
	assert_int_equal(res.proc[2].copied_kb, 4);
	assert_int_equal(res.proc[2].pss_kb, 2);
	assert_int_equal(res.proc[0].pss_kb, 2);
	assert_int_equal(res.proc[1].pss_kb, 4);
	assert_int_equal(res.tree.unique_kb, 8);
	release(procs, 3, &res);
}

/* Anonymous pages the tree maps twice but the kernel counts three times
 * (the root shares them with its own parent) take the kernel's count. */
static void test_cow_spot_check_finds_outside_mappers(void **state)
{
	(void)state;
	struct rec rp[] = { { BASE, P | 100 }, { BASE + 1, P | 101 } };
	struct pagescan_proc procs[2];
	anon_proc(&procs[0], rp, 2);
	anon_proc(&procs[1], rp, 2);
	int parent[] = { -1, 0 };
	struct cow_result res;
	kernel_count = 4;
	compute(procs, parent, 2, &res);
	kernel_count = 0;
	assert_int_equal(res.proc[0].pss_kb, 2);
	assert_int_equal(res.proc[1].pss_kb, 2);
	assert_int_equal(res.proc[1].shared_with_parent_kb, 8);
	release(procs, 2, &res);
}

/* Without outside mappers the tree's own counts stand: no kernel reads for
 * anonymous pages the tree maps more than once, beyond the spot check. */
static void test_cow_trusts_tree_counts(void **state)
{
	(void)state;
	struct rec rp[] = { { BASE, P | 100 }, { BASE + 1, P | 101 } };
	struct pagescan_proc procs[3];
	anon_proc(&procs[0], rp, 2);
	anon_proc(&procs[1], rp, 2);
	anon_proc(&procs[2], rp, 2);
	int parent[] = { -1, 0, 0 };
	struct cow_result res;
	kernel_count = 3;
	compute(procs, parent, 3, &res);
	kernel_count = 0;
	assert_int_equal(res.tree.kpagecount_reads, 2);  /* the spot check */
	assert_int_equal(res.tree.pss_kb, 3 * 2);  /* 8/3 kB each, truncated as smaps does */
	assert_int_equal(res.tree.rss_kb, 24);
	assert_int_equal(res.tree.unique_kb, 8);
	release(procs, 3, &res);
}

static void test_cow_swap_and_hugetlb_stay_out_of_rss(void **state)
{
	(void)state;
	enum maps_kind k[] = { MAPS_ANON, MAPS_HUGETLB };
	uint64_t ino[] = { 0, 5 }, st[] = { BASE, BASE + 64 }, pg[] = { 64, 512 };
	struct rec r[] = { { BASE, S | 0x123 }, { BASE + 1, P | X | 100 },
			   { BASE + 64, P | F | 1000 }, { BASE + 65, P | F | 1001 } };
	struct pagescan_proc procs[1];
	make_proc(&procs[0], 2, k, ino, st, pg, r, 4);
	int parent[] = { -1 };
	struct cow_result res;
	compute(procs, parent, 1, &res);
	assert_int_equal(res.proc[0].swap_kb, 4);
	assert_int_equal(res.proc[0].hugetlb_kb, 8);
	assert_int_equal(res.proc[0].rss_kb, 4);
	assert_int_equal(res.region[0][1].hugetlb_kb, 8);
	release(procs, 1, &res);
}

/* A mapping the child created after fork at an address where the parent
 * has a file mapping is new memory, not a copy. */
static void test_cow_other_backing_is_new(void **state)
{
	(void)state;
	enum maps_kind kp = MAPS_FILE_PRIVATE, kc = MAPS_ANON;
	uint64_t ino_p = 42, ino_c = 0, st = BASE, pg = 64;
	struct rec rp[] = { { BASE, P | X | 100 } };
	struct rec rc[] = { { BASE, P | X | 200 } };
	struct pagescan_proc procs[2];
	make_proc(&procs[0], 1, &kp, &ino_p, &st, &pg, rp, 1);
	make_proc(&procs[1], 1, &kc, &ino_c, &st, &pg, rc, 1);
	int parent[] = { -1, 0 };
	struct cow_result res;
	compute(procs, parent, 2, &res);
	assert_int_equal(res.proc[1].new_kb, 4);
	assert_int_equal(res.proc[1].copied_kb, 0);
	release(procs, 2, &res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cow_root_alone_is_all_private),
		cmocka_unit_test(test_cow_child_shared_copied_new),
		cmocka_unit_test(test_cow_zero_page_is_not_memory),
		cmocka_unit_test(test_cow_write_over_zero_page_is_new),
		cmocka_unit_test(test_cow_shmem_is_never_copied),
		cmocka_unit_test(test_cow_file_pages_use_kernel_mapcount),
		cmocka_unit_test(test_cow_grandchild_counts_pages_once),
		cmocka_unit_test(test_cow_spot_check_finds_outside_mappers),
		cmocka_unit_test(test_cow_trusts_tree_counts),
		cmocka_unit_test(test_cow_swap_and_hugetlb_stay_out_of_rss),
		cmocka_unit_test(test_cow_other_backing_is_new),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
