/* test_kpage.c - kpagecount/kpageflags reads for PFNs of our own pages */
#include <errno.h>
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

#include "collectors/kpage.h"
#include "collectors/pagemap.h"

#define PAGE 4096UL

static char *map_anon(size_t n)
{
	char *m = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(madvise(m, n * PAGE, MADV_NOHUGEPAGE), 0);
	return m;
}

/* The PFNs of n pages from m (all present), from our own pagemap. */
static void pfns_of(const char *m, size_t n, uint64_t *pfn)
{
	int fd = pagemap_open(NULL, getpid());
	assert_true(fd >= 0);
	uint64_t a = (uint64_t)(uintptr_t)m;
	assert_int_equal(pagemap_read_range(fd, a, a + n * PAGE, pfn), n);
	close(fd);
	for (size_t i = 0; i < n; i++) {
		assert_true(pagemap_present(pfn[i]));
		pfn[i] = pagemap_pfn(pfn[i]);
		assert_true(pfn[i] != 0);
	}
}

static uint64_t read_one(const struct kpage *k, int which, uint64_t pfn)
{
	uint64_t v = 0xdeadbeef;
	assert_int_equal(kpage_read(k, which, &pfn, 1, &v), 0);
	return v;
}

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

static void end_child(pid_t pid)
{
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void test_kpage_open_fixture_root_without_files_gives_enoent(void **state)
{
	(void)state;
	struct kpage k;
	assert_int_equal(kpage_open(&k, "tests/fixtures/proc/forktree"), -ENOENT);
	assert_true(k.count_fd < 0);
	assert_true(k.flags_fd < 0);
	kpage_close(&k);  /* safe after a failed open */
	assert_int_equal(k.count_fd, -1);
	assert_int_equal(k.flags_fd, -1);
}

static void test_kpage_count_of_private_page_written_once_is_one(void **state)
{
	(void)state;
	struct kpage k;
	assert_int_equal(kpage_open(&k, NULL), 0);
	char *m = map_anon(1);
	m[0] = 1;
	uint64_t pfn;
	pfns_of(m, 1, &pfn);
	assert_int_equal(read_one(&k, KPAGE_COUNT, pfn), 1);
	uint64_t flags = read_one(&k, KPAGE_FLAGS, pfn);
	assert_true(kpage_flag(flags, KPF_ANON));
	assert_false(kpage_flag(flags, KPF_ZERO_PAGE));
	assert_false(kpage_flag(flags, KPF_NOPAGE));
	munmap(m, PAGE);
	kpage_close(&k);
}

static void test_kpage_count_after_fork_is_two(void **state)
{
	(void)state;
	struct kpage k;
	assert_int_equal(kpage_open(&k, NULL), 0);
	char *m = map_anon(1);
	m[0] = 1;
	uint64_t pfn;
	pfns_of(m, 1, &pfn);
	pid_t pid = fork_paused_child();
	uint64_t shared = read_one(&k, KPAGE_COUNT, pfn);
	end_child(pid);
	uint64_t after = read_one(&k, KPAGE_COUNT, pfn);
	assert_int_equal(shared, 2);
	assert_int_equal(after, 1);
	munmap(m, PAGE);
	kpage_close(&k);
}

static void test_kpage_windowed_reads_match_single_reads(void **state)
{
	(void)state;
	struct kpage k;
	assert_int_equal(kpage_open(&k, NULL), 0);
	/* 512 pages shared with a child (count 2); we then copy the odd ones
	 * (count 1). Their PFNs come in runs (one window) and far apart. */
	const size_t n = 512;
	char *m = map_anon(n);
	for (size_t i = 0; i < n; i++)
		m[i * PAGE] = 1;
	pid_t pid = fork_paused_child();
	for (size_t i = 1; i < n; i += 2)
		m[i * PAGE] = 2;
	uint64_t *pfn = calloc(n, sizeof(*pfn));
	assert_non_null(pfn);
	pfns_of(m, n, pfn);
	/* sorted, with duplicates, and the expected count of each */
	const size_t total = n + 8;
	uint64_t *sorted = calloc(total, sizeof(*sorted));
	uint64_t *want = calloc(total, sizeof(*want));
	uint64_t *got = calloc(total, sizeof(*got));
	uint64_t *one = calloc(total, sizeof(*one));
	assert_true(sorted && want && got && one);
	memcpy(sorted, pfn, n * sizeof(*pfn));
	for (size_t i = 0; i < 8; i++)
		sorted[n + i] = pfn[i * 37 % n];
	qsort(sorted, total, sizeof(*sorted), cmp_u64);
	for (size_t x = 0; x < total; x++)
		for (size_t i = 0; i < n; i++)
			if (pfn[i] == sorted[x])
				want[x] = i % 2 ? 1 : 2;
	int r = kpage_read(&k, KPAGE_COUNT, sorted, total, got);
	for (size_t x = 0; x < total; x++)
		one[x] = read_one(&k, KPAGE_COUNT, sorted[x]);
	end_child(pid);
	assert_int_equal(r, 0);
	size_t close_pairs = 0;
	for (size_t x = 1; x < total; x++)
		close_pairs += sorted[x] - sorted[x - 1] <= 8;
	assert_true(close_pairs > 0);  /* windows were exercised */
	for (size_t x = 0; x < total; x++) {
		if (got[x] != want[x] || one[x] != want[x])
			fail_msg("pfn %#llx: windowed %llu, single %llu, want %llu",
				 (unsigned long long)sorted[x],
				 (unsigned long long)got[x],
				 (unsigned long long)one[x],
				 (unsigned long long)want[x]);
	}
	free(sorted);
	free(want);
	free(got);
	free(one);
	free(pfn);
	munmap(m, n * PAGE);
	kpage_close(&k);
}

static void test_kpage_window_longer_than_window_max(void **state)
{
	(void)state;
	struct kpage k;
	assert_int_equal(kpage_open(&k, NULL), 0);
	/* a chain of PFNs 8 apart spanning more than 4096 entries: one
	 * window cannot hold it; kernel pages around our zero page are
	 * stable, so a second pass one by one must read the same */
	struct pagemap_zero z;
	assert_int_equal(pagemap_detect_zero(&z), 0);
	const size_t n = 1200;
	uint64_t *p = calloc(n, sizeof(*p)), *got = calloc(n, sizeof(*got));
	assert_true(p && got);
	uint64_t base = z.pfn > 4 * n ? z.pfn - 4 * n : 1;
	for (size_t i = 0; i < n; i++)
		p[i] = base + 8 * i;
	assert_int_equal(kpage_read(&k, KPAGE_FLAGS, p, n, got), 0);
	for (size_t i = 0; i < n; i++)
		if (got[i] != read_one(&k, KPAGE_FLAGS, p[i]))
			fail_msg("pfn %#llx differs", (unsigned long long)p[i]);
	free(p);
	free(got);
	kpage_close(&k);
}

static void test_kpage_pfn_past_end_of_memory_reads_zero(void **state)
{
	(void)state;
	struct kpage k;
	assert_int_equal(kpage_open(&k, NULL), 0);
	char *m = map_anon(1);
	m[0] = 1;
	uint64_t pfn[3], out[3] = {7, 7, 7};
	pfns_of(m, 1, &pfn[0]);
	pfn[1] = 1ULL << 40;        /* 4 PiB: past any memory */
	pfn[2] = (1ULL << 40) + 1;
	assert_int_equal(kpage_read(&k, KPAGE_COUNT, pfn, 3, out), 0);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], 0);
	assert_int_equal(kpage_read(&k, KPAGE_FLAGS, pfn + 1, 2, out), 0);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 0);
	munmap(m, PAGE);
	kpage_close(&k);
}

static void test_kpage_read_of_no_pfns_succeeds(void **state)
{
	(void)state;
	struct kpage k;
	assert_int_equal(kpage_open(&k, NULL), 0);
	uint64_t out = 5;
	assert_int_equal(kpage_read(&k, KPAGE_COUNT, NULL, 0, &out), 0);
	assert_int_equal(out, 5);
	kpage_close(&k);
}

static void test_kpage_flags_of_zero_pages(void **state)
{
	(void)state;
	struct kpage k;
	assert_int_equal(kpage_open(&k, NULL), 0);
	struct pagemap_zero z;
	assert_int_equal(pagemap_detect_zero(&z), 0);
	if (z.pfn)  /* 0: this kernel maps no zero page on a read */
		assert_true(kpage_flag(read_one(&k, KPAGE_FLAGS, z.pfn),
				       KPF_ZERO_PAGE));
	if (z.huge_pfn) {
		/* what detect_zero calls the huge zero page must be it, not a
		 * freshly allocated THP */
		uint64_t f = read_one(&k, KPAGE_FLAGS, z.huge_pfn);
		assert_true(kpage_flag(f, KPF_ZERO_PAGE));
		assert_true(kpage_flag(f, KPF_COMPOUND_HEAD));
		f = read_one(&k, KPAGE_FLAGS, z.huge_pfn + z.huge_pages - 1);
		assert_true(kpage_flag(f, KPF_ZERO_PAGE));
		assert_true(kpage_flag(f, KPF_COMPOUND_TAIL));
	}
	kpage_close(&k);
}

static void test_kpage_close_twice_is_safe(void **state)
{
	(void)state;
	struct kpage k;
	assert_int_equal(kpage_open(&k, NULL), 0);
	assert_true(k.count_fd >= 0 && k.flags_fd >= 0);
	kpage_close(&k);
	assert_int_equal(k.count_fd, -1);
	assert_int_equal(k.flags_fd, -1);
	kpage_close(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kpage_open_fixture_root_without_files_gives_enoent),
		cmocka_unit_test(test_kpage_count_of_private_page_written_once_is_one),
		cmocka_unit_test(test_kpage_count_after_fork_is_two),
		cmocka_unit_test(test_kpage_windowed_reads_match_single_reads),
		cmocka_unit_test(test_kpage_window_longer_than_window_max),
		cmocka_unit_test(test_kpage_pfn_past_end_of_memory_reads_zero),
		cmocka_unit_test(test_kpage_read_of_no_pfns_succeeds),
		cmocka_unit_test(test_kpage_flags_of_zero_pages),
		cmocka_unit_test(test_kpage_close_twice_is_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
