/* kpage.h - read /proc/kpagecount and /proc/kpageflags for sets of PFNs
 *
 * Both files hold one uint64_t per PFN (Documentation/admin-guide/mm/
 * pagemap.rst). A single 8-byte pread costs ~0.45 us; a long sequential
 * read ~56 ns per PFN, so PFNs close together are read in one window and
 * isolated ones one by one.
 */
#ifndef COWPROF_COLLECTORS_KPAGE_H
#define COWPROF_COLLECTORS_KPAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* kpageflags bits (include/uapi/linux/kernel-page-flags.h) */
#define KPF_ANON        12
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_HUGE        17
#define KPF_NOPAGE      20
#define KPF_KSM         21
#define KPF_THP         22
#define KPF_ZERO_PAGE   24

static inline bool kpage_flag(uint64_t flags, int bit)
{
	return flags >> bit & 1;
}

struct kpage {
	int count_fd;            /* -1 when not open */
	int flags_fd;
};

/* Open root/kpagecount and root/kpageflags (root NULL for /proc). Returns
 * 0 or -errno (-EACCES/-EPERM: needs CAP_SYS_ADMIN). */
int kpage_open(struct kpage *k, const char *root);
void kpage_close(struct kpage *k);

/* Read the entries of n PFNs, sorted ascending (duplicates allowed), from
 * kpagecount (which = 0) or kpageflags (which = 1) into out[i]. PFNs past
 * the end of memory read as 0. Returns 0 or -errno. */
int kpage_read(const struct kpage *k, int which, const uint64_t *pfns,
	       size_t n, uint64_t *out);

#define KPAGE_COUNT 0
#define KPAGE_FLAGS 1

#endif
