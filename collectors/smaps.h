/* smaps.h - parse /proc/PID/smaps and /proc/PID/smaps_rollup */
#ifndef COWPROF_COLLECTORS_SMAPS_H
#define COWPROF_COLLECTORS_SMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/maps.h"

/* Every numeric field the kernel prints (Documentation/filesystems/proc.rst),
 * in kB unless named otherwise. Fields a kernel does not print stay 0. */
struct smaps_fields {
	uint64_t size_kb, kernel_page_size_kb, mmu_page_size_kb;
	uint64_t rss_kb, pss_kb, pss_dirty_kb, pss_anon_kb, pss_file_kb,
		 pss_shmem_kb;
	uint64_t shared_clean_kb, shared_dirty_kb;
	uint64_t private_clean_kb, private_dirty_kb;
	uint64_t referenced_kb, anonymous_kb, ksm_kb, lazyfree_kb;
	uint64_t anon_huge_pages_kb, shmem_pmd_mapped_kb, file_pmd_mapped_kb;
	uint64_t shared_hugetlb_kb, private_hugetlb_kb;
	uint64_t swap_kb, swap_pss_kb, locked_kb;
	uint64_t thp_eligible;       /* 0 or 1 */
	uint64_t protection_key;
	char vmflags[128];           /* "rd wr mr ..." (bounded; the kernel prints < 100 bytes) */
};

struct smaps_region {
	struct maps_region map;
	struct smaps_fields f;
};

/* Fill r from the text of /proc/PID/smaps_rollup. Fields are found by name;
 * unknown ones are ignored. Returns 0, or -EINVAL if a known field is
 * malformed or the text has no Rss line. */
int smaps_rollup_parse(const char *text, size_t len, struct smaps_fields *r);

/* Parse the whole text of /proc/PID/smaps into a new array (*out, free with
 * smaps_free) of *n regions. Returns 0 or -EINVAL. */
int smaps_parse(const char *text, size_t len, struct smaps_region **out,
		size_t *n);

void smaps_free(struct smaps_region *regions, size_t n);

/* Whether the region's VmFlags hold the two-letter flag (e.g. "hg"). */
bool smaps_has_vmflag(const struct smaps_fields *f, const char *flag);

#endif
