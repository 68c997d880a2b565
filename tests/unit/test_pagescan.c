/* test_pagescan.c - one pagemap walk over every region of a process
 *
 * The walk of our own process is done once for the whole group: under
 * ASan the shadow reservations (~20 TiB of address space) make one walk
 * take tens of seconds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectors/pagemap.h"
#include "collectors/pagescan.h"

#define PAGE 4096UL
#define NPAGES 64

/* Pages of the 64-page mapping we write before the walk: runs of 4, 1, 2
 * and 1 pages. */
static const unsigned touched[] = {0, 1, 2, 3, 10, 20, 21, 63};
#define NTOUCHED (sizeof(touched) / sizeof(touched[0]))

struct fixture {
	char *guard;             /* NPAGES + 2 pages: PROT_NONE around ours */
	char *base;              /* our 64 read-write pages */
	uint64_t pme[NPAGES];    /* their entries, read before the walk */
	struct pagescan_proc scan;
	int scan_result;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	/* PROT_NONE neighbours keep the kernel from merging our mapping with
	 * another anonymous one */
	fx->guard = mmap(NULL, (NPAGES + 2) * PAGE, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fx->guard == MAP_FAILED)
		return -1;
	fx->base = fx->guard + PAGE;
	if (mprotect(fx->base, NPAGES * PAGE, PROT_READ | PROT_WRITE) ||
	    madvise(fx->base, NPAGES * PAGE, MADV_NOHUGEPAGE))
		return -1;
	for (size_t i = 0; i < NTOUCHED; i++)
		fx->base[touched[i] * PAGE] = (char)(i + 1);
	int fd = pagemap_open(NULL, getpid());
	if (fd < 0)
		return -1;
	uint64_t a = (uint64_t)(uintptr_t)fx->base;
	ssize_t r = pagemap_read_range(fd, a, a + NPAGES * PAGE, fx->pme);
	close(fd);
	if (r != NPAGES)
		return -1;
	fx->scan_result = pagescan_read(NULL, getpid(), &fx->scan);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	pagescan_release(&fx->scan);
	munmap(fx->guard, (NPAGES + 2) * PAGE);
	free(fx);
	return 0;
}

static const struct pagescan_proc *scan_of(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(fx->scan_result, 0);
	return &fx->scan;
}

static uint64_t vpn_of(const void *addr)
{
	return (uint64_t)(uintptr_t)addr >> 12;
}

static void test_pagescan_read_self_succeeds(void **state)
{
	const struct pagescan_proc *p = scan_of(state);
	assert_int_equal(p->pid, getpid());
	assert_true(p->nregions > 5);
	assert_true(p->nrec >= NTOUCHED);
	assert_true(p->nruns > 0 && p->nruns <= p->nrec);
}

static void test_pagescan_finds_region_of_mmap(void **state)
{
	struct fixture *fx = *state;
	const struct pagescan_proc *p = scan_of(state);
	const struct pagescan_region *g = pagescan_find(p, (uint64_t)(uintptr_t)fx->base + 5 * PAGE);
	assert_non_null(g);
	assert_int_equal(g->map.start, (uint64_t)(uintptr_t)fx->base);
	assert_int_equal(g->map.end, (uint64_t)(uintptr_t)fx->base + NPAGES * PAGE);
	assert_int_equal(g->map.kind, MAPS_ANON);
	assert_true(g->map.read && g->map.write && !g->map.shared);
}

static void test_pagescan_region_has_one_record_per_touched_page(void **state)
{
	struct fixture *fx = *state;
	const struct pagescan_proc *p = scan_of(state);
	const struct pagescan_region *g = pagescan_find(p, (uint64_t)(uintptr_t)fx->base);
	assert_non_null(g);
	assert_int_equal(g->n, NTOUCHED);
}

static void test_pagescan_runs_match_touched_addresses(void **state)
{
	struct fixture *fx = *state;
	const struct pagescan_proc *p = scan_of(state);
	const struct pagescan_region *g = pagescan_find(p, (uint64_t)(uintptr_t)fx->base);
	assert_non_null(g);
	const uint64_t v0 = vpn_of(fx->base);
	const uint64_t want_vpn[] = {v0, v0 + 10, v0 + 20, v0 + 63};
	const size_t want_n[] = {4, 1, 2, 1};
	assert_int_equal(g->nruns, 4);
	size_t first = g->first;
	for (size_t k = 0; k < 4; k++) {
		const struct pagescan_run *run = &p->runs[g->first_run + k];
		assert_int_equal(run->vpn, want_vpn[k]);
		assert_int_equal(run->n, want_n[k]);
		assert_int_equal(run->first, first);
		first += run->n;
	}
	assert_int_equal(first, g->first + g->n);
}

static void test_pagescan_records_equal_pagemap_entries(void **state)
{
	struct fixture *fx = *state;
	const struct pagescan_proc *p = scan_of(state);
	const struct pagescan_region *g = pagescan_find(p, (uint64_t)(uintptr_t)fx->base);
	assert_non_null(g);
	assert_int_equal(g->n, NTOUCHED);
	for (size_t i = 0; i < NTOUCHED; i++) {
		uint64_t e = p->pme[g->first + i];
		assert_true(pagemap_present(e));
		assert_true(pagemap_exclusive(e));
		assert_true(pagemap_pfn(e) != 0);
		assert_int_equal(pagemap_pfn(e), pagemap_pfn(fx->pme[touched[i]]));
	}
}

static void test_pagescan_cursor_seek_finds_touched_pages(void **state)
{
	struct fixture *fx = *state;
	const struct pagescan_proc *p = scan_of(state);
	struct pagescan_cursor c = { p, 0 };
	const uint64_t v0 = vpn_of(fx->base);
	size_t found = 0, k = 0;
	for (unsigned i = 0; i < NPAGES; i++) {
		ssize_t x = pagescan_seek(&c, v0 + i);
		bool is_touched = k < NTOUCHED && touched[k] == i;
		if (!is_touched) {
			if (x != -1)
				fail_msg("page %u: record %zd, want none", i, x);
			continue;
		}
		assert_true(x >= 0);
		assert_int_equal(pagemap_pfn(p->pme[x]), pagemap_pfn(fx->pme[i]));
		found++;
		k++;
	}
	assert_int_equal(found, NTOUCHED);
	/* past every run */
	assert_int_equal(pagescan_seek(&c, UINT64_MAX >> 12), -1);
}

static void test_pagescan_guard_regions_have_no_records(void **state)
{
	struct fixture *fx = *state;
	const struct pagescan_proc *p = scan_of(state);
	const struct pagescan_region *lo = pagescan_find(p, (uint64_t)(uintptr_t)fx->guard);
	const struct pagescan_region *hi = pagescan_find(p, (uint64_t)(uintptr_t)fx->base + NPAGES * PAGE);
	assert_non_null(lo);
	assert_non_null(hi);
	assert_int_equal(lo->map.end, (uint64_t)(uintptr_t)fx->base);
	assert_int_equal(hi->map.start, (uint64_t)(uintptr_t)fx->base + NPAGES * PAGE);
	assert_false(lo->map.read || lo->map.write);
	assert_int_equal(lo->n, 0);
	assert_int_equal(hi->n, 0);
	assert_int_equal(lo->nruns, 0);
}

static void test_pagescan_regions_and_runs_are_consistent(void **state)
{
	const struct pagescan_proc *p = scan_of(state);
	size_t recs = 0, runs = 0;
	for (size_t i = 0; i < p->nregions; i++) {
		const struct pagescan_region *g = &p->regions[i];
		assert_true(g->map.start < g->map.end);
		if (i)
			assert_true(p->regions[i - 1].map.end <= g->map.start);
		assert_int_equal(g->first, recs);
		assert_int_equal(g->first_run, runs);
		size_t in_runs = 0;
		for (size_t k = g->first_run; k < g->first_run + g->nruns; k++) {
			const struct pagescan_run *r = &p->runs[k];
			assert_true(r->n > 0);
			assert_true(r->vpn >= g->map.start >> 12);
			assert_true(r->vpn + r->n <= g->map.end >> 12);
			assert_int_equal(r->first, g->first + in_runs);
			/* neighbouring pages are one run, not two */
			if (k > g->first_run)
				assert_true(p->runs[k - 1].vpn + p->runs[k - 1].n < r->vpn);
			in_runs += r->n;
		}
		assert_int_equal(in_runs, g->n);
		recs += g->n;
		runs += g->nruns;
	}
	assert_int_equal(recs, p->nrec);
	assert_int_equal(runs, p->nruns);
	for (size_t x = 0; x < p->nrec; x++)
		assert_true(pagemap_present(p->pme[x]) || pagemap_swapped(p->pme[x]));
}

static void test_pagescan_vvar_and_vsyscall_have_no_records(void **state)
{
	const struct pagescan_proc *p = scan_of(state);
	int special = 0;
	for (size_t i = 0; i < p->nregions; i++) {
		const struct pagescan_region *g = &p->regions[i];
		if (g->map.kind == MAPS_VVAR || g->map.kind == MAPS_VSYSCALL) {
			special++;
			assert_int_equal(g->n, 0);
			assert_int_equal(g->nruns, 0);
		}
		if (g->map.kind == MAPS_HEAP || g->map.kind == MAPS_STACK)
			assert_true(g->n > 0);
	}
	assert_true(special > 0);  /* every x86-64 process has [vvar] */
}

/* Regions under 1 GiB are read entry by entry; larger ones only where
 * PAGEMAP_SCAN finds populated ranges. */
static void test_pagescan_pages_walked_is_sum_of_walked_regions(void **state)
{
	const struct pagescan_proc *p = scan_of(state);
	uint64_t small = 0, large = 0;
	for (size_t i = 0; i < p->nregions; i++) {
		const struct pagescan_region *g = &p->regions[i];
		uint64_t pages = (g->map.end - g->map.start) >> 12;
		if (g->map.kind == MAPS_VVAR || g->map.kind == MAPS_VSYSCALL)
			continue;
		if (pages < (1u << 18))
			small += pages;
		else
			large += pages;
	}
	assert_true(p->pages_walked >= small + 0);
	assert_true(p->pages_walked <= small + large);
	assert_true(p->pages_walked >= p->nrec);
}

static void test_pagescan_large_sparse_region_reads_only_its_pages(void **state)
{
	(void)state;
	size_t len = 4UL << 30;  /* 4 GiB reserved, 3 pages touched */
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(m != MAP_FAILED);
	m[0] = 1;
	m[len / 2] = 1;
	m[len - 4096] = 1;
	struct pagescan_proc p;
	assert_int_equal(pagescan_read(NULL, getpid(), &p), 0);
	const struct pagescan_region *g = pagescan_find(&p, (uint64_t)(uintptr_t)m);
	assert_non_null(g);
	assert_int_equal(g->n, 3);
	assert_int_equal(g->nruns, 3);
	assert_int_equal(p.runs[g->first_run + 1].vpn, (uint64_t)(uintptr_t)(m + len / 2) >> 12);
	assert_true(p.pages_walked < (len >> 12) / 2);  /* not 1M entries */
	pagescan_release(&p);
	munmap(m, len);
}

static void test_pagescan_read_missing_pid_gives_esrch(void **state)
{
	(void)state;
	struct pagescan_proc p;
	assert_int_equal(pagescan_read(NULL, 0x7ffffff0, &p), -ESRCH);
	assert_null(p.regions);
	assert_null(p.runs);
	assert_null(p.pme);
	assert_int_equal(p.nregions, 0);
	assert_int_equal(p.nrec, 0);
	pagescan_release(&p);
}

/* ---- pagescan_find and pagescan_seek on hand-made walks ---- */

static void test_pagescan_find_binary_search(void **state)
{
	(void)state;
	struct pagescan_region r[4] = {0};
	const uint64_t b[4][2] = {{0x1000, 0x2000}, {0x3000, 0x5000},
				  {0x5000, 0x6000}, {0x10000, 0x20000}};
	for (int i = 0; i < 4; i++) {
		r[i].map.start = b[i][0];
		r[i].map.end = b[i][1];
	}
	struct pagescan_proc p = { .regions = r, .nregions = 4 };
	assert_null(pagescan_find(&p, 0));
	assert_null(pagescan_find(&p, 0xfff));
	assert_ptr_equal(pagescan_find(&p, 0x1000), &r[0]);
	assert_ptr_equal(pagescan_find(&p, 0x1fff), &r[0]);
	assert_null(pagescan_find(&p, 0x2000));
	assert_null(pagescan_find(&p, 0x2fff));
	assert_ptr_equal(pagescan_find(&p, 0x3000), &r[1]);
	assert_ptr_equal(pagescan_find(&p, 0x4fff), &r[1]);
	assert_ptr_equal(pagescan_find(&p, 0x5000), &r[2]);
	assert_null(pagescan_find(&p, 0x6000));
	assert_ptr_equal(pagescan_find(&p, 0x1ffff), &r[3]);
	assert_null(pagescan_find(&p, 0x20000));
	assert_null(pagescan_find(&p, UINT64_MAX));
	struct pagescan_proc empty = {0};
	assert_null(pagescan_find(&empty, 0x1000));
}

static void test_pagescan_find_among_many_regions(void **state)
{
	(void)state;
	const size_t n = 1001;
	struct pagescan_region *r = calloc(n, sizeof(*r));
	assert_non_null(r);
	for (size_t i = 0; i < n; i++) {
		r[i].map.start = 0x100000 + i * 0x3000;
		r[i].map.end = r[i].map.start + 0x2000;
	}
	struct pagescan_proc p = { .regions = r, .nregions = n };
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(pagescan_find(&p, r[i].map.start), &r[i]);
		assert_ptr_equal(pagescan_find(&p, r[i].map.end - 1), &r[i]);
		assert_null(pagescan_find(&p, r[i].map.end));
	}
	free(r);
}

static void test_pagescan_seek_on_hand_made_runs(void **state)
{
	(void)state;
	struct pagescan_run runs[] = {{100, 0, 3}, {200, 3, 1}, {300, 4, 2}};
	struct pagescan_proc p = { .runs = runs, .nruns = 3, .nrec = 6 };
	struct pagescan_cursor c = { &p, 0 };
	assert_int_equal(pagescan_seek(&c, 99), -1);
	assert_int_equal(pagescan_seek(&c, 100), 0);
	assert_int_equal(pagescan_seek(&c, 102), 2);
	assert_int_equal(pagescan_seek(&c, 103), -1);
	assert_int_equal(pagescan_seek(&c, 200), 3);
	assert_int_equal(pagescan_seek(&c, 301), 5);
	assert_int_equal(pagescan_seek(&c, 302), -1);
	assert_int_equal(c.run, 3);
	struct pagescan_proc none = {0};
	struct pagescan_cursor e = { &none, 0 };
	assert_int_equal(pagescan_seek(&e, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pagescan_read_self_succeeds),
		cmocka_unit_test(test_pagescan_finds_region_of_mmap),
		cmocka_unit_test(test_pagescan_region_has_one_record_per_touched_page),
		cmocka_unit_test(test_pagescan_runs_match_touched_addresses),
		cmocka_unit_test(test_pagescan_records_equal_pagemap_entries),
		cmocka_unit_test(test_pagescan_cursor_seek_finds_touched_pages),
		cmocka_unit_test(test_pagescan_guard_regions_have_no_records),
		cmocka_unit_test(test_pagescan_regions_and_runs_are_consistent),
		cmocka_unit_test(test_pagescan_vvar_and_vsyscall_have_no_records),
		cmocka_unit_test(test_pagescan_pages_walked_is_sum_of_walked_regions),
		cmocka_unit_test(test_pagescan_large_sparse_region_reads_only_its_pages),
		cmocka_unit_test(test_pagescan_read_missing_pid_gives_esrch),
		cmocka_unit_test(test_pagescan_find_binary_search),
		cmocka_unit_test(test_pagescan_find_among_many_regions),
		cmocka_unit_test(test_pagescan_seek_on_hand_made_runs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
