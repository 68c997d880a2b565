/* pagescan.h - one walk of a process's pagemap over all its regions
 *
 * The raw facts the figures are computed from: for every region of
 * /proc/PID/maps, the pagemap entries of its resident or swapped pages
 * (absent pages are not kept, so memory follows RSS, not address space).
 */
#ifndef COWPROF_COLLECTORS_PAGESCAN_H
#define COWPROF_COLLECTORS_PAGESCAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "collectors/maps.h"

/* Pages [vpn, vpn + n) are resident or swapped, with their entries at
 * pme[first .. first + n). Runs never cross a region boundary. */
struct pagescan_run {
	uint64_t vpn;            /* virtual page number: address >> 12 */
	size_t first;
	size_t n;
};

struct pagescan_region {
	struct maps_region map;
	size_t first_run, nruns; /* its runs */
	size_t first, n;         /* its records: present or swapped pages */
};

struct pagescan_proc {
	int pid;
	struct pagescan_region *regions;  /* address order */
	size_t nregions;
	struct pagescan_run *runs;        /* address order */
	size_t nruns, runcap;
	uint64_t *pme;           /* raw pagemap entries, in address order */
	size_t nrec, cap;
	uint64_t pages_walked;   /* pagemap entries read (the cost of the walk) */
};

/* Finds records by ascending page number: each seek starts where the
 * last one stopped, so a merge over two processes is linear. */
struct pagescan_cursor {
	const struct pagescan_proc *p;
	size_t run;
};

/* Index in c->p->pme of the record at vpn, or -1 if that page has none.
 * vpn must not decrease between calls on the same cursor. */
static inline ssize_t pagescan_seek(struct pagescan_cursor *c, uint64_t vpn)
{
	const struct pagescan_run *runs = c->p->runs;
	size_t n = c->p->nruns;
	while (c->run < n && runs[c->run].vpn + runs[c->run].n <= vpn)
		c->run++;
	if (c->run < n && runs[c->run].vpn <= vpn)
		return (ssize_t)(runs[c->run].first + (vpn - runs[c->run].vpn));
	return -1;
}

/* Read root/PID/maps and the pagemap of every region (root NULL for
 * /proc). Regions with no pagemap ([vsyscall], [vvar]) are kept with no
 * records. Returns 0, -ESRCH if the process exited (or is exiting), -EACCES
 * or -EPERM if not allowed, -EPERM if PFNs are hidden (not CAP_SYS_ADMIN),
 * -EINVAL for unreadable maps. On error p holds nothing. */
int pagescan_read(const char *root, int pid, struct pagescan_proc *p);

/* Free what p holds (not p itself). */
void pagescan_release(struct pagescan_proc *p);

/* The region of p containing addr, or NULL. Binary search. */
const struct pagescan_region *pagescan_find(const struct pagescan_proc *p,
					    uint64_t addr);

#endif
