/* test_pagemap.c - pagemap entry decoders, and reads of our own pagemap */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectors/pagemap.h"
#include "fixture.h"

#define PAGE 4096UL
#define BIT(n) (1ULL << (n))

/* ---- decoders on synthetic entries ---- */

/* Every decoder of e, so one assertion shows which bit decoded wrong. */
static unsigned decoded_bits(uint64_t e)
{
	return (unsigned)pagemap_present(e) << 0 | (unsigned)pagemap_swapped(e) << 1 |
	       (unsigned)pagemap_file(e) << 2 | (unsigned)pagemap_exclusive(e) << 3 |
	       (unsigned)pagemap_soft_dirty(e) << 4 | (unsigned)pagemap_uffd_wp(e) << 5;
}

static void test_pagemap_decoders_of_zero_entry_all_false(void **state)
{
	(void)state;
	assert_int_equal(decoded_bits(0), 0);
	assert_int_equal(pagemap_pfn(0), 0);
}

static void test_pagemap_present_is_bit_63(void **state)
{
	(void)state;
	assert_int_equal(decoded_bits(BIT(63)), 1 << 0);
	assert_int_equal(pagemap_pfn(BIT(63)), 0);
}

static void test_pagemap_swapped_is_bit_62(void **state)
{
	(void)state;
	assert_int_equal(decoded_bits(BIT(62)), 1 << 1);
}

static void test_pagemap_file_is_bit_61(void **state)
{
	(void)state;
	assert_int_equal(decoded_bits(BIT(61)), 1 << 2);
}

static void test_pagemap_exclusive_is_bit_56(void **state)
{
	(void)state;
	assert_int_equal(decoded_bits(BIT(56)), 1 << 3);
}

static void test_pagemap_soft_dirty_is_bit_55(void **state)
{
	(void)state;
	assert_int_equal(decoded_bits(BIT(55)), 1 << 4);
	/* bit 55 is not part of the PFN */
	assert_int_equal(pagemap_pfn(BIT(55)), 0);
}

static void test_pagemap_uffd_wp_is_bit_57(void **state)
{
	(void)state;
	assert_int_equal(decoded_bits(BIT(57)), 1 << 5);
}

static void test_pagemap_guard_bit_58_decodes_as_nothing(void **state)
{
	(void)state;
	assert_int_equal(decoded_bits(BIT(58)), 0);
	assert_int_equal(pagemap_pfn(BIT(58)), 0);
}

static void test_pagemap_pfn_is_low_55_bits(void **state)
{
	(void)state;
	uint64_t e = BIT(63) | BIT(61) | BIT(57) | BIT(56) | BIT(55) | 0x1234567ULL;
	assert_int_equal(pagemap_pfn(e), 0x1234567ULL);
	assert_int_equal(pagemap_pfn(BIT(63) | PAGEMAP_PFN_MASK), BIT(55) - 1);
	assert_int_equal(decoded_bits(e), 1 << 0 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 5);
}

static void test_pagemap_swap_type_and_offset(void **state)
{
	(void)state;
	uint64_t e = BIT(62) | (0x12345ULL << 5) | 3;
	assert_true(pagemap_swapped(e));
	assert_false(pagemap_present(e));
	assert_int_equal(pagemap_swap_type(e), 3);
	assert_int_equal(pagemap_swap_offset(e), 0x12345);
	/* the largest type and offset, with flag bits that must not leak in */
	e = BIT(62) | BIT(56) | BIT(55) | PAGEMAP_PFN_MASK;
	assert_int_equal(pagemap_swap_type(e), 31);
	assert_int_equal(pagemap_swap_offset(e), (BIT(55) - 1) >> 5);
}

static void test_pagemap_is_zero_small_and_huge(void **state)
{
	(void)state;
	struct pagemap_zero z = { .pfn = 100, .huge_pfn = 2048, .huge_pages = 512 };
	assert_true(pagemap_is_zero(&z, 100));
	assert_false(pagemap_is_zero(&z, 99));
	assert_false(pagemap_is_zero(&z, 101));
	assert_false(pagemap_is_zero(&z, 2047));
	assert_true(pagemap_is_zero(&z, 2048));
	assert_true(pagemap_is_zero(&z, 2048 + 511));
	assert_false(pagemap_is_zero(&z, 2048 + 512));
	assert_false(pagemap_is_zero(&z, 0));
}

static void test_pagemap_is_zero_unknown_matches_nothing(void **state)
{
	(void)state;
	struct pagemap_zero z = {0};
	assert_false(pagemap_is_zero(&z, 0));
	assert_false(pagemap_is_zero(&z, 1));
	z.pfn = 7;
	/* no huge zero page known: PFNs near 0 must not match */
	assert_false(pagemap_is_zero(&z, 0));
	assert_false(pagemap_is_zero(&z, 3));
	assert_true(pagemap_is_zero(&z, 7));
}

/* ---- our own pagemap ---- */

/* A child that waits to be killed, and dies with us if a failed
 * assertion skips the kill. */
static pid_t fork_paused_child(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		for (;;)
			pause();
	}
	return pid;
}

/* A fresh private anonymous mapping of n pages, never huge. */
static char *map_anon(size_t n)
{
	char *m = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(madvise(m, n * PAGE, MADV_NOHUGEPAGE), 0);
	return m;
}

static uint64_t self_entry(const void *addr)
{
	int fd = pagemap_open(NULL, getpid());
	assert_true(fd >= 0);
	uint64_t a = (uint64_t)(uintptr_t)addr & ~(PAGE - 1), e = 0;
	assert_int_equal(pagemap_read_range(fd, a, a + PAGE, &e), 1);
	close(fd);
	return e;
}

static void test_pagemap_open_missing_pid_gives_esrch(void **state)
{
	(void)state;
	/* above any pid_max (at most 2^22) */
	assert_int_equal(pagemap_open(NULL, 0x7ffffff0), -ESRCH);
}

static void test_pagemap_read_range_counts_touched_pages(void **state)
{
	(void)state;
	char *m = map_anon(16);
	for (int i = 0; i < 16; i += 2)
		m[i * PAGE] = (char)i;
	uint64_t e[16];
	int fd = pagemap_open(NULL, getpid());
	assert_true(fd >= 0);
	uint64_t a = (uint64_t)(uintptr_t)m;
	assert_int_equal(pagemap_read_range(fd, a, a + 16 * PAGE, e), 16);
	close(fd);
	int present = 0;
	for (int i = 0; i < 16; i++) {
		present += pagemap_present(e[i]);
		assert_int_equal(pagemap_present(e[i]), i % 2 == 0);
		assert_false(pagemap_swapped(e[i]));
		if (i % 2)
			continue;
		assert_true(pagemap_exclusive(e[i]));
		assert_false(pagemap_file(e[i]));
		assert_true(pagemap_pfn(e[i]) != 0);
		for (int k = 0; k < i; k += 2)
			assert_true(pagemap_pfn(e[k]) != pagemap_pfn(e[i]));
	}
	assert_int_equal(present, 8);
	munmap(m, 16 * PAGE);
}

static void test_pagemap_read_range_of_empty_range_reads_nothing(void **state)
{
	(void)state;
	int fd = pagemap_open(NULL, getpid());
	assert_true(fd >= 0);
	uint64_t e = 0xabc;
	assert_int_equal(pagemap_read_range(fd, 0x10000, 0x10000, &e), 0);
	assert_int_equal(e, 0xabc);
	close(fd);
}

static void test_pagemap_read_range_spans_several_reads(void **state)
{
	(void)state;
	/* more than one 2 MiB read of entries: 1 GiB + 4 pages of address space */
	const size_t n = (1UL << 30) / PAGE + 4;
	char *m = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(madvise(m, n * PAGE, MADV_NOHUGEPAGE), 0);
	const size_t touched[] = {0, 262143, 262144, n - 1};
	for (size_t k = 0; k < 4; k++)
		m[touched[k] * PAGE] = 1;
	uint64_t *e = calloc(n, sizeof(*e));
	assert_non_null(e);
	int fd = pagemap_open(NULL, getpid());
	assert_true(fd >= 0);
	uint64_t a = (uint64_t)(uintptr_t)m;
	assert_int_equal(pagemap_read_range(fd, a, a + n * PAGE, e), n);
	close(fd);
	size_t present = 0;
	for (size_t i = 0; i < n; i++)
		present += pagemap_present(e[i]);
	assert_int_equal(present, 4);
	for (size_t k = 0; k < 4; k++)
		assert_true(pagemap_present(e[touched[k]]));
	free(e);
	munmap(m, n * PAGE);
}

static void test_pagemap_read_range_after_exit_reads_nothing(void **state)
{
	(void)state;
	pid_t pid = fork_paused_child();
	int fd = pagemap_open(NULL, pid);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_true(fd >= 0);
	uint64_t e[4] = {0};
	uint64_t a = (uint64_t)(uintptr_t)&e & ~(PAGE - 1);
	assert_int_equal(pagemap_read_range(fd, a, a + 4 * PAGE, e), 0);
	close(fd);
}

static void test_pagemap_written_page_after_fork_not_exclusive(void **state)
{
	(void)state;
	char *m = map_anon(1);
	m[0] = 1;
	assert_true(pagemap_exclusive(self_entry(m)));
	pid_t pid = fork_paused_child();
	uint64_t shared = self_entry(m);
	m[0] = 2;  /* copy on write: ours again alone */
	uint64_t copied = self_entry(m);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_true(pagemap_present(shared));
	assert_false(pagemap_exclusive(shared));
	assert_true(pagemap_exclusive(copied));
	assert_true(pagemap_pfn(copied) != pagemap_pfn(shared));
	munmap(m, PAGE);
}

static void test_pagemap_shared_pages_have_file_bit(void **state)
{
	(void)state;
	/* a shared anonymous page and a page of a shared file */
	char *s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(s != MAP_FAILED);
	s[0] = 1;
	FILE *tf = tmpfile();
	assert_non_null(tf);
	assert_int_equal(ftruncate(fileno(tf), (off_t)PAGE), 0);
	char *f = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fileno(tf), 0);
	assert_true(f != MAP_FAILED);
	f[0] = 1;
	uint64_t es = self_entry(s), ef = self_entry(f);
	char *p = map_anon(1);
	p[0] = 1;
	uint64_t ep = self_entry(p);
	assert_true(pagemap_present(es) && pagemap_file(es));
	assert_true(pagemap_present(ef) && pagemap_file(ef));
	assert_true(pagemap_present(ep) && !pagemap_file(ep));
	munmap(s, PAGE);
	munmap(f, PAGE);
	munmap(p, PAGE);
	fclose(tf);
}

static void test_pagemap_detect_zero_matches_read_only_page(void **state)
{
	(void)state;
	struct pagemap_zero z;
	assert_int_equal(pagemap_detect_zero(&z), 0);
	char *m = map_anon(4);
	volatile char c = m[2 * PAGE];  /* read only: maps the zero page */
	(void)c;
	m[3 * PAGE] = 1;                 /* written: a page of its own */
	uint64_t er = self_entry(m + 2 * PAGE), ew = self_entry(m + 3 * PAGE);
	assert_true(pagemap_present(er));
	if (z.pfn == 0) {
		/* this kernel gave the read a page of its own: nothing to
		 * learn, and that page must not be taken for the zero page */
		assert_true(pagemap_exclusive(er));
		assert_false(pagemap_is_zero(&z, pagemap_pfn(er)));
		munmap(m, 4 * PAGE);
		return;
	}
	assert_false(pagemap_exclusive(er));
	assert_int_equal(pagemap_pfn(er), z.pfn);
	assert_true(pagemap_is_zero(&z, pagemap_pfn(er)));
	assert_false(pagemap_is_zero(&z, pagemap_pfn(ew)));
	munmap(m, 4 * PAGE);
}

/* Whether reading MADV_HUGEPAGE memory maps the huge zero page here. */
static bool huge_zero_expected(void)
{
	char *buf;
	size_t len;
	bool thp = false, zero = false;
	if (util_read_file("/sys/kernel/mm/transparent_hugepage/enabled",
			   &buf, &len) == 0) {
		thp = !strstr(buf, "[never]");
		free(buf);
	}
	if (util_read_file("/sys/kernel/mm/transparent_hugepage/use_zero_page",
			   &buf, &len) == 0) {
		zero = buf[0] == '1';
		free(buf);
	}
	return thp && zero;
}

static void test_pagemap_detect_zero_huge_covers_thp_read(void **state)
{
	(void)state;
	struct pagemap_zero z;
	assert_int_equal(pagemap_detect_zero(&z), 0);
	if (!huge_zero_expected()) {
		assert_int_equal(z.huge_pfn, 0);
		return;
	}
	/* a fresh read-only THP range: the huge zero page, unless this kernel
	 * gives reads a huge page of their own (exclusively mapped) */
	const size_t huge = 2UL << 20;
	char *m = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	char *a = (char *)(((uintptr_t)m + huge - 1) & ~(uintptr_t)(huge - 1));
	assert_int_equal(madvise(a, huge, MADV_HUGEPAGE), 0);
	volatile char c = a[5 * PAGE];
	(void)c;
	uint64_t e[512];
	int fd = pagemap_open(NULL, getpid());
	assert_true(fd >= 0);
	uint64_t va = (uint64_t)(uintptr_t)a;
	assert_int_equal(pagemap_read_range(fd, va, va + huge, e), 512);
	close(fd);
	if (pagemap_present(e[0]) && pagemap_exclusive(e[0])) {
		assert_int_equal(z.huge_pfn, 0);
		assert_false(pagemap_is_zero(&z, pagemap_pfn(e[0])));
		munmap(m, 2 * huge);
		return;
	}
	assert_true(z.huge_pfn != 0);
	assert_int_equal(z.huge_pages, 512);
	assert_int_equal(z.huge_pfn % 512, 0);  /* a PMD-aligned compound page */
	for (int i = 0; i < 512; i++) {
		assert_true(pagemap_present(e[i]));
		assert_int_equal(pagemap_pfn(e[i]), z.huge_pfn + (uint64_t)i);
		assert_true(pagemap_is_zero(&z, pagemap_pfn(e[i])));
	}
	munmap(m, 2 * huge);
}

static void test_pagemap_soft_dirty_supported_agrees_with_written_page(void **state)
{
	(void)state;
	bool supported = pagemap_soft_dirty_supported();
	char *m = map_anon(1);
	m[0] = 1;
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "4", 1), 1);
	close(fd);
	bool cleared = !pagemap_soft_dirty(self_entry(m));
	m[0] = 2;
	bool set = pagemap_soft_dirty(self_entry(m));
	assert_int_equal(supported, cleared && set);
	munmap(m, PAGE);
}

/* ---- entries captured from real processes (tests/fixtures/pagemap) ---- */

#define FX_MAX 128

struct pm_fixture {
	size_t n;
	uint64_t va[FX_MAX];
	uint64_t e[FX_MAX];
};

/* Load pagemap/<name>.txt: "VADDR ENTRY" lines in hex, '#' comments. */
static void load_pm(const char *name, struct pm_fixture *f)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "pagemap/%s.txt", name);
	size_t len;
	char *text = fixture_read(rel, &len);
	f->n = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		assert_true(f->n < FX_MAX);
		char *end;
		f->va[f->n] = strtoull(line, &end, 16);
		f->e[f->n] = strtoull(end, &end, 16);
		assert_true(*end == '\0' || *end == ' ');
		f->n++;
	}
	free(text);
}

static void test_pagemap_fixture_entry_decodes(void **state)
{
	(void)state;
	struct pm_fixture f;
	load_pm("forktree_root", &f);
	assert_int_equal(f.va[0], 0x7fc0f0000000ULL);
	assert_int_equal(f.e[0], 0x8100000000302603ULL);
	assert_true(pagemap_present(f.e[0]));
	assert_true(pagemap_exclusive(f.e[0]));
	assert_false(pagemap_file(f.e[0]));
	assert_false(pagemap_swapped(f.e[0]));
	assert_false(pagemap_soft_dirty(f.e[0]));
	assert_false(pagemap_uffd_wp(f.e[0]));
	assert_int_equal(pagemap_pfn(f.e[0]), 0x302603);
	/* page 16: shared with the children, so not exclusive */
	assert_int_equal(f.va[16], 0x7fc0f0010000ULL);
	assert_false(pagemap_exclusive(f.e[16]));
	assert_int_equal(pagemap_pfn(f.e[16]), 0x301bf3);
}

/* forktree buffer pages in the fixtures: 0-23, then 2044-2047 */
static int fx_page(size_t i)
{
	return i < 24 ? (int)i : 2044 + (int)(i - 24);
}

static void test_pagemap_fixture_forktree_children_copied_and_shared(void **state)
{
	(void)state;
	static struct pm_fixture root, kid[2];
	load_pm("forktree_root", &root);
	load_pm("forktree_child0", &kid[0]);
	load_pm("forktree_child1", &kid[1]);
	assert_int_equal(root.n, 28);
	for (int c = 0; c < 2; c++) {
		assert_int_equal(kid[c].n, 28);
		int copied = 0, shared = 0;
		for (size_t i = 0; i < 28; i++) {
			int pg = fx_page(i);
			assert_int_equal(kid[c].va[i], 0x7fc0f0000000ULL + (uint64_t)pg * PAGE);
			assert_true(pagemap_present(kid[c].e[i]));
			bool same = pagemap_pfn(kid[c].e[i]) == pagemap_pfn(root.e[i]);
			bool want_copied = pg < 16 || pg >= 2046;
			if (same == want_copied)
				fail_msg("child%d page %d: %s, want %s", c, pg,
					 same ? "shared" : "copied",
					 want_copied ? "copied" : "shared");
			copied += !same;
			shared += same;
			/* child1's copies are its own; child0's are shared
			 * with its grandchild */
			if (pg < 16)
				assert_int_equal(pagemap_exclusive(kid[c].e[i]), c == 1);
			else
				assert_false(pagemap_exclusive(kid[c].e[i]));
		}
		/* ready.json: buffer_copied_pages 18 for each child */
		assert_int_equal(copied, 18);
		assert_int_equal(shared, 10);
	}
}

static void test_pagemap_fixture_forktree_grandchild_copies_four(void **state)
{
	(void)state;
	static struct pm_fixture parent, gc;
	load_pm("forktree_child0", &parent);
	load_pm("forktree_grandchild", &gc);
	assert_int_equal(gc.n, 28);
	int copied = 0;
	for (size_t i = 0; i < gc.n; i++) {
		int pg = fx_page(i);
		bool same = pagemap_pfn(gc.e[i]) == pagemap_pfn(parent.e[i]);
		assert_int_equal(same, !(pg >= 16 && pg < 20));
		if (!same) {
			copied++;
			assert_true(pagemap_exclusive(gc.e[i]));
		}
	}
	assert_int_equal(copied, 4);  /* ready.json: buffer_copied_pages 4 */
}

static void test_pagemap_fixture_zero_page(void **state)
{
	(void)state;
	struct pm_fixture f;
	load_pm("zero_page", &f);
	assert_int_equal(f.n, 16);
	struct pagemap_zero z = { .pfn = 0x3b34 };
	for (size_t i = 0; i < 16; i++) {
		assert_true(pagemap_present(f.e[i]));
		bool written = i < 8;
		assert_int_equal(pagemap_exclusive(f.e[i]), written);
		assert_int_equal(pagemap_is_zero(&z, pagemap_pfn(f.e[i])), !written);
	}
	assert_int_equal(pagemap_pfn(f.e[0]), 0x1a1081);
	assert_int_equal(pagemap_pfn(f.e[15]), 0x3b34);
}

static void test_pagemap_fixture_not_present_entries_are_zero(void **state)
{
	(void)state;
	struct pm_fixture f;
	load_pm("not_present", &f);
	assert_int_equal(f.n, 32);
	for (size_t i = 0; i < f.n; i++) {
		assert_int_equal(f.e[i], 0);
		assert_int_equal(decoded_bits(f.e[i]), 0);
	}
	assert_int_equal(f.va[16], 0x7fe6273ae000ULL);  /* the PROT_NONE part */
}

static void test_pagemap_fixture_libc_text_is_file_pages(void **state)
{
	(void)state;
	struct pm_fixture f;
	load_pm("file_so", &f);
	assert_int_equal(f.n, 66);
	int file = 0, absent = 0;
	for (size_t i = 0; i < 64; i++) {
		if (!pagemap_present(f.e[i])) {
			assert_int_equal(f.e[i], 0);
			absent++;
			continue;
		}
		assert_true(pagemap_file(f.e[i]));
		assert_false(pagemap_exclusive(f.e[i]));
		file++;
	}
	assert_int_equal(file, 57);
	assert_int_equal(absent, 7);
	/* libc's data pages: relocated, so private anonymous copies */
	for (size_t i = 64; i < 66; i++) {
		assert_true(pagemap_present(f.e[i]));
		assert_true(pagemap_exclusive(f.e[i]));
		assert_false(pagemap_file(f.e[i]));
	}
	assert_int_equal(f.va[64], 0x7fe6275e4000ULL);
}

static void test_pagemap_fixture_private_file_written_page_is_anon(void **state)
{
	(void)state;
	struct pm_fixture f;
	load_pm("file_private_deleted", &f);
	assert_int_equal(f.n, 8);
	assert_true(pagemap_present(f.e[0]));
	assert_false(pagemap_file(f.e[0]));
	assert_true(pagemap_exclusive(f.e[0]));
	assert_int_equal(pagemap_pfn(f.e[0]), 0x119021);
	for (size_t i = 1; i < 8; i++) {
		assert_true(pagemap_present(f.e[i]));
		assert_true(pagemap_file(f.e[i]));
		assert_int_equal(pagemap_pfn(f.e[i]), 0x119022 + i);
	}
}

static void test_pagemap_fixture_shmem_has_file_bit(void **state)
{
	(void)state;
	struct pm_fixture f;
	load_pm("shmem", &f);
	assert_int_equal(f.n, 16);
	for (size_t i = 0; i < 16; i++) {
		assert_true(pagemap_present(f.e[i]));
		assert_true(pagemap_file(f.e[i]));
		assert_true(pagemap_exclusive(f.e[i]));
		assert_int_equal(pagemap_pfn(f.e[i]), 0x1a1089 + i);
	}
}

static void test_pagemap_fixture_thp_split_and_shared_huge_page(void **state)
{
	(void)state;
	static struct pm_fixture root, kid;
	load_pm("thp_root", &root);
	load_pm("thp_child", &kid);
	assert_int_equal(root.n, 64);
	assert_int_equal(kid.n, 64);
	/* each huge page is 512 contiguous PFNs, 2 MiB aligned */
	assert_int_equal(pagemap_pfn(root.e[0]) % 512, 0);
	assert_int_equal(pagemap_pfn(root.e[32]) % 512, 0);
	for (size_t i = 0; i < 64; i++) {
		uint64_t head = pagemap_pfn(root.e[i < 32 ? 0 : 32]);
		assert_int_equal(pagemap_pfn(root.e[i]), head + i % 32);
		bool same = pagemap_pfn(kid.e[i]) == pagemap_pfn(root.e[i]);
		if (i < 16) {
			/* the child's copies after its PMD split */
			assert_false(same);
			assert_true(pagemap_exclusive(kid.e[i]));
		} else {
			assert_true(same);
			assert_false(pagemap_exclusive(kid.e[i]));
		}
		/* the root's bit 56 is 1 on its split huge page although the
		 * child shares 16-31 (docs/kernel.md), 0 on the shared PMD */
		assert_int_equal(pagemap_exclusive(root.e[i]), i < 32);
	}
	assert_int_equal(kid.va[32], 0x7f269ea00000ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pagemap_decoders_of_zero_entry_all_false),
		cmocka_unit_test(test_pagemap_present_is_bit_63),
		cmocka_unit_test(test_pagemap_swapped_is_bit_62),
		cmocka_unit_test(test_pagemap_file_is_bit_61),
		cmocka_unit_test(test_pagemap_exclusive_is_bit_56),
		cmocka_unit_test(test_pagemap_soft_dirty_is_bit_55),
		cmocka_unit_test(test_pagemap_uffd_wp_is_bit_57),
		cmocka_unit_test(test_pagemap_guard_bit_58_decodes_as_nothing),
		cmocka_unit_test(test_pagemap_pfn_is_low_55_bits),
		cmocka_unit_test(test_pagemap_swap_type_and_offset),
		cmocka_unit_test(test_pagemap_is_zero_small_and_huge),
		cmocka_unit_test(test_pagemap_is_zero_unknown_matches_nothing),
		cmocka_unit_test(test_pagemap_fixture_entry_decodes),
		cmocka_unit_test(test_pagemap_fixture_forktree_children_copied_and_shared),
		cmocka_unit_test(test_pagemap_fixture_forktree_grandchild_copies_four),
		cmocka_unit_test(test_pagemap_fixture_zero_page),
		cmocka_unit_test(test_pagemap_fixture_not_present_entries_are_zero),
		cmocka_unit_test(test_pagemap_fixture_libc_text_is_file_pages),
		cmocka_unit_test(test_pagemap_fixture_private_file_written_page_is_anon),
		cmocka_unit_test(test_pagemap_fixture_shmem_has_file_bit),
		cmocka_unit_test(test_pagemap_fixture_thp_split_and_shared_huge_page),
		cmocka_unit_test(test_pagemap_open_missing_pid_gives_esrch),
		cmocka_unit_test(test_pagemap_read_range_counts_touched_pages),
		cmocka_unit_test(test_pagemap_read_range_of_empty_range_reads_nothing),
		cmocka_unit_test(test_pagemap_read_range_spans_several_reads),
		cmocka_unit_test(test_pagemap_read_range_after_exit_reads_nothing),
		cmocka_unit_test(test_pagemap_written_page_after_fork_not_exclusive),
		cmocka_unit_test(test_pagemap_shared_pages_have_file_bit),
		cmocka_unit_test(test_pagemap_detect_zero_matches_read_only_page),
		cmocka_unit_test(test_pagemap_detect_zero_huge_covers_thp_read),
		cmocka_unit_test(test_pagemap_soft_dirty_supported_agrees_with_written_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
