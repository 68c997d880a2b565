/* pagemap.c - read and decode /proc/PID/pagemap */
#include "collectors/pagemap.h"
#include "collectors/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE_SHIFT_4K 12
#define READ_PAGES (2u << 20 >> 3)   /* 2 MiB of entries per pread */

/* PAGEMAP_SCAN (include/uapi/linux/fs.h, Linux 6.7), defined here since
 * Debian 12's headers predate it. */
#ifndef PAGEMAP_SCAN
struct page_region {
	uint64_t start, end, categories;
};

struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask,
		 return_mask;
};

#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

ssize_t pagemap_scan_present(int fd, uint64_t start, uint64_t end,
			     uint64_t (*ranges)[2], size_t max, uint64_t *next)
{
	struct page_region vec[64];
	struct pm_scan_arg a = {
		.size = sizeof(a), .start = start, .end = end,
		.vec = (uint64_t)(uintptr_t)vec,
		.vec_len = max < 64 ? max : 64,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
	};
	int n = ioctl(fd, PAGEMAP_SCAN, &a);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		ranges[i][0] = vec[i].start;
		ranges[i][1] = vec[i].end;
	}
	*next = a.walk_end;
	return n;
}

int pagemap_open(const char *root, int pid)
{
	return procfs_open(root, pid, "pagemap", O_RDONLY);
}

ssize_t pagemap_read_range(int fd, uint64_t start, uint64_t end,
			   uint64_t *out)
{
	uint64_t total = (end - start) >> PAGE_SHIFT_4K, done = 0;
	while (done < total) {
		uint64_t want = total - done;
		if (want > READ_PAGES)
			want = READ_PAGES;
		off_t off = (off_t)(((start >> PAGE_SHIFT_4K) + done) * 8);
		ssize_t r = pread(fd, out + done, want * 8, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == ESRCH && done ? (ssize_t)done : -errno;
		if (r == 0)
			break;
		done += (uint64_t)r / 8;
	}
	return (ssize_t)done;
}

static int self_entry(const void *addr, uint64_t *e)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	uint64_t a = (uint64_t)(uintptr_t)addr;
	ssize_t r = pread(fd, e, 8, (off_t)(a >> PAGE_SHIFT_4K) * 8);
	close(fd);
	return r == 8 ? 0 : -EIO;
}

/* Whether reads of THP-eligible memory map the huge zero page at all. */
static bool huge_zero_enabled(void)
{
	char c = '0';
	int fd = open("/sys/kernel/mm/transparent_hugepage/use_zero_page",
		      O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '0';
		close(fd);
	}
	return c == '1';
}

/* Map the huge zero page by reading a 2 MiB-aligned THP-eligible range. */
static void detect_huge_zero(struct pagemap_zero *z)
{
	if (!huge_zero_enabled())
		return;
	const size_t huge = 2u << 20;
	char *m = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
	char *a = (char *)(((uintptr_t)m + huge - 1) & ~(uintptr_t)(huge - 1));
	uint64_t e;
	if (madvise(a, huge, MADV_HUGEPAGE) == 0) {
		(void)*(volatile char *)a;
		if (self_entry(a, &e) == 0 && pagemap_present(e) &&
		    !pagemap_exclusive(e) && pagemap_pfn(e) != z->pfn &&
		    self_entry(a + 4096, &e) == 0 && pagemap_present(e)) {
			/* both pages present after one read: a PMD mapping */
			z->huge_pfn = pagemap_pfn(e) - 1;
			z->huge_pages = huge >> PAGE_SHIFT_4K;
		}
	}
	munmap(m, 2 * huge);
}

int pagemap_detect_zero(struct pagemap_zero *z)
{
	memset(z, 0, sizeof(*z));
	char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	(void)*(volatile char *)m;
	uint64_t e;
	int r = self_entry(m, &e);
	munmap(m, 4096);
	if (r < 0)
		return r;
	if (!pagemap_present(e) || !pagemap_pfn(e))
		return -EPERM;
	/* Some kernels give a read fault a page of its own instead of the
	 * shared zero page: such a page is exclusively mapped, and its PFN,
	 * freed by the munmap above, is soon a real page of someone else. */
	if (!pagemap_exclusive(e))
		z->pfn = pagemap_pfn(e);
	detect_huge_zero(z);
	return 0;
}

bool pagemap_soft_dirty_supported(void)
{
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return false;
	m[0] = 1;
	bool ok = false;
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ok = write(fd, "4", 1) == 1;
		close(fd);
	}
	uint64_t e;
	ok = ok && self_entry(m, &e) == 0 && !pagemap_soft_dirty(e);
	m[0] = 2;
	ok = ok && self_entry(m, &e) == 0 && pagemap_soft_dirty(e);
	munmap(m, 4096);
	return ok;
}
