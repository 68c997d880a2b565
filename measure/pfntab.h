/* pfntab.h - the set of physical pages a tree maps, with per-page counts
 *
 * Every distinct PFN gets a dense index (0, 1, 2, ...) so callers keep
 * per-page facts in plain arrays indexed by it and remember the index of a
 * page instead of hashing its PFN again.
 */
#ifndef COWPROF_MEASURE_PFNTAB_H
#define COWPROF_MEASURE_PFNTAB_H

#include <stddef.h>
#include <stdint.h>

struct pfntab {
	uint64_t *keys;          /* open addressing; 0 = empty (PFN 0 is never a user page) */
	uint32_t *vals;          /* dense index of keys[i] */
	size_t mask;             /* capacity - 1 (a power of two) */
	uint64_t *pfn;           /* dense: the PFN of index i */
	uint32_t *count;         /* dense: how many times the tree maps it */
	uint8_t *flags;          /* dense: caller's bits */
	size_t n, cap;           /* dense size and allocated length */
};

/* Set up an empty table sized for about expected PFNs. */
void pfntab_init(struct pfntab *t, size_t expected);

/* Free what t holds (not t). */
void pfntab_release(struct pfntab *t);

/* The dense index of pfn (non-zero), adding it with count 0 and flags 0
 * if it is new. */
uint32_t pfntab_insert(struct pfntab *t, uint64_t pfn);

/* The dense index of pfn, or UINT32_MAX if absent. */
uint32_t pfntab_find(const struct pfntab *t, uint64_t pfn);

#endif
