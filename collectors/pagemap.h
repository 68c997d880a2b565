/* pagemap.h - read and decode /proc/PID/pagemap
 *
 * Each virtual page has one 64-bit entry
 * (Documentation/admin-guide/mm/pagemap.rst):
 *   bits 0-54  PFN when present (0 unless CAP_SYS_ADMIN), or swap type
 *              (0-4) and offset (5-54) when swapped
 *   bit 55     soft-dirty (only with CONFIG_MEM_SOFT_DIRTY)
 *   bit 56     page exclusively mapped (mapcount 1; wrong for the parent's
 *              side of a PMD-mapped THP, see docs/kernel.md)
 *   bit 57     write-protected by userfaultfd
 *   bit 58     guard region (6.14+)
 *   bit 61     file page or shared anonymous page
 *   bit 62     swapped
 *   bit 63     present
 */
#ifndef COWPROF_COLLECTORS_PAGEMAP_H
#define COWPROF_COLLECTORS_PAGEMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PAGEMAP_PFN_MASK ((1ULL << 55) - 1)

static inline bool pagemap_present(uint64_t e)    { return e >> 63 & 1; }
static inline bool pagemap_swapped(uint64_t e)    { return e >> 62 & 1; }
static inline bool pagemap_file(uint64_t e)       { return e >> 61 & 1; }
static inline bool pagemap_uffd_wp(uint64_t e)    { return e >> 57 & 1; }
static inline bool pagemap_exclusive(uint64_t e)  { return e >> 56 & 1; }
static inline bool pagemap_soft_dirty(uint64_t e) { return e >> 55 & 1; }
static inline uint64_t pagemap_pfn(uint64_t e)    { return e & PAGEMAP_PFN_MASK; }
static inline unsigned pagemap_swap_type(uint64_t e) { return e & 0x1f; }
static inline uint64_t pagemap_swap_offset(uint64_t e)
{
	return (e & PAGEMAP_PFN_MASK) >> 5;
}

/* Open root/PID/pagemap (root NULL for /proc). Returns an fd or -errno:
 * -ESRCH gone, -EACCES/-EPERM not allowed (ptrace access mode). */
int pagemap_open(const char *root, int pid);

/* Read the entries of [start, end) (page-aligned) of an open pagemap fd
 * into out, one uint64_t per page, in reads of up to 2 MiB. Returns the
 * number of pages read (short if the mapping vanished or the process
 * exited), or -errno. */
ssize_t pagemap_read_range(int fd, uint64_t start, uint64_t end,
			   uint64_t *out);

/* Where in [start, end) an open pagemap fd has resident or swapped pages,
 * found with the PAGEMAP_SCAN ioctl (Linux 6.7+), which skips empty page
 * tables instead of reading one entry per page: a huge sparse region (a
 * sanitizer's shadow, a runtime's reservation) costs little. Fills
 * ranges[] with [start, end) pairs of page-aligned addresses, at most max.
 * Returns the number of ranges and sets *next to where the scan stopped
 * (end when done), or -ENOTTY/-EINVAL where the kernel lacks the ioctl. */
ssize_t pagemap_scan_present(int fd, uint64_t start, uint64_t end,
			     uint64_t (*ranges)[2], size_t max, uint64_t *next);

/* The PFNs of the shared zero page and of the huge zero page, learnt from
 * this process's own pagemap: what a read of never-written anonymous memory
 * maps. The zero page is not memory any process uses. A kernel that maps a
 * page of its own on a read fault (seen on 6.18 builds) has none to learn:
 * pfn stays 0. */
struct pagemap_zero {
	uint64_t pfn;            /* 0 if unknown or not used on reads */
	uint64_t huge_pfn;       /* first PFN of the huge zero page, 0 if none */
	uint64_t huge_pages;     /* its size in base pages (512 on x86-64) */
};

/* Learn the zero page PFNs. Returns 0, or -errno (-EPERM when PFNs are
 * hidden: not CAP_SYS_ADMIN). */
int pagemap_detect_zero(struct pagemap_zero *z);

static inline bool pagemap_is_zero(const struct pagemap_zero *z, uint64_t pfn)
{
	return (z->pfn && pfn == z->pfn) ||
	       (z->huge_pfn && pfn - z->huge_pfn < z->huge_pages);
}

/* Whether this kernel tracks soft-dirty bits, tested on a page of our own:
 * clear_refs accepts "4" even where CONFIG_MEM_SOFT_DIRTY is off, so only
 * bit 55 after a write tells. */
bool pagemap_soft_dirty_supported(void);

#endif
