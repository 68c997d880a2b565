/* cow.h - what each process of a tree shares with its parent, and costs
 *
 * Policy on top of the raw pagemap walks (collectors/pagescan.h). For each
 * process P with parent R, every resident page of P is one of:
 *   file   page cache (unwritten private file pages, MAP_SHARED files):
 *          never copied, not in the three figures below;
 *   shmem  shared anonymous, memfd, /dev/shm, SysV: shared_with_parent if
 *          R maps the same object at that address, else new; never copied;
 *   anon   private anonymous (incl. written private file pages):
 *          shared_with_parent if R has the same PFN at the same address,
 *          copied if R has another page there in a mapping of the same
 *          backing, new otherwise.
 * The shared zero page is not memory: it is skipped, as smaps does.
 * rss/pss/uss come from the same walk: mapcounts are counted among the
 * tree's own pagemaps; /proc/kpagecount is read only for pages that are
 * also mapped outside the tree (file pages, non-exclusive pages seen once).
 */
#ifndef COWPROF_MEASURE_COW_H
#define COWPROF_MEASURE_COW_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/pagemap.h"
#include "collectors/pagescan.h"

struct cow_figures {
	uint64_t rss_kb, pss_kb, uss_kb, swap_kb;
	uint64_t anon_kb, shmem_kb, file_kb, hugetlb_kb;
	uint64_t shared_with_parent_kb, copied_kb, new_kb;
	uint64_t shared_anywhere_kb;
	uint64_t pss_units;      /* pss in (4096 << 12) / mapcount units, as smaps sums it */
};

struct cow_tree_figures {
	uint64_t rss_kb, pss_kb, uss_kb, swap_kb;
	uint64_t unique_kb;      /* every physical page the tree maps, counted once */
	uint64_t kpagecount_reads; /* PFNs whose mapcount had to come from the kernel */
};

/* Reads the kernel's mapcount of n sorted PFNs into out; 0 or -errno. */
typedef int (*cow_mapcount_fn)(void *ctx, const uint64_t *pfns, size_t n,
			       uint64_t *out);

struct cow_input {
	const struct pagescan_proc *procs;  /* parents before children */
	const int *parent;                  /* index into procs, -1 for none */
	size_t n;
	struct pagemap_zero zero;
	cow_mapcount_fn mapcount;           /* NULL: trust counts within the tree */
	void *mapcount_ctx;
	int threads;                        /* sum processes on up to this many threads */
};

#define COW_MAX_THREADS 4

struct cow_result {
	struct cow_figures *proc;           /* n entries */
	struct cow_figures **region;        /* region[i][k]: procs[i].regions[k] */
	size_t n;
	struct cow_tree_figures tree;
};

/* Compute every figure. Returns 0, or -errno from the mapcount reader
 * (then out holds nothing). */
int cow_compute(const struct cow_input *in, struct cow_result *out);

/* Free what r holds (not r). */
void cow_result_release(struct cow_result *r);

#endif
