/* pagescan.h - one walk of a process's pagemap over all its regions
 *
 * The raw facts the figures are computed from: for every region of
 * /proc/PID/maps, the pagemap entries of its resident or swapped pages
 * (absent pages are not kept, so memory follows RSS, not address space).
 */
#ifndef COWPROF_PAGESCAN_H
#define COWPROF_PAGESCAN_H

#include <stddef.h>
#include <stdint.h>

#include "maps.h"

struct pagescan_region {
	struct maps_region map;
	size_t first;            /* index of its first record in the process's arrays */
	size_t n;                /* its records: present or swapped pages */
};

struct pagescan_proc {
	int pid;
	struct pagescan_region *regions;  /* address order */
	size_t nregions;
	uint64_t *vpn;           /* virtual page number (address >> 12), ascending */
	uint64_t *pme;           /* raw pagemap entry of that page */
	size_t nrec, cap;
	uint64_t pages_walked;   /* pagemap entries read (the cost of the walk) */
};

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
