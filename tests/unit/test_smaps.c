/* test_smaps.c - /proc/PID/smaps and smaps_rollup parsing */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/smaps.h"
#include "fixture.h"

static int rollup_of(const char *text, struct smaps_fields *f)
{
	return smaps_rollup_parse(text, strlen(text), f);
}

static void read_rollup(const char *rel, struct smaps_fields *f)
{
	size_t len;
	char *t = fixture_read(rel, &len);
	int r = smaps_rollup_parse(t, len, f);
	free(t);
	assert_int_equal(r, 0);
}

static size_t read_smaps(const char *rel, struct smaps_region **v)
{
	size_t len, n = 0;
	char *t = fixture_read(rel, &len);
	int r = smaps_parse(t, len, v, &n);
	free(t);
	assert_int_equal(r, 0);
	return n;
}

/* The region of v starting at start, or fail. */
static const struct smaps_region *region_at(const struct smaps_region *v,
					    size_t n, uint64_t start)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].map.start == start)
			return &v[i];
	fail_msg("no region at %#llx", (unsigned long long)start);
	return NULL;
}

/* ---- smaps_rollup on real files ---- */

static void test_smaps_rollup_parses_forktree_root(void **state)
{
	(void)state;
	struct smaps_fields f;
	read_rollup("proc/forktree/10573/smaps_rollup", &f);
	assert_int_equal(f.rss_kb, 10800);
	assert_int_equal(f.pss_kb, 2707);
	assert_int_equal(f.pss_dirty_kb, 2516);
	assert_int_equal(f.pss_anon_kb, 2175);
	assert_int_equal(f.pss_file_kb, 190);
	assert_int_equal(f.pss_shmem_kb, 341);
	assert_int_equal(f.shared_clean_kb, 1472);
	assert_int_equal(f.shared_dirty_kb, 9192);
	assert_int_equal(f.private_clean_kb, 4);
	assert_int_equal(f.private_dirty_kb, 132);
	assert_int_equal(f.referenced_kb, 10800);
	assert_int_equal(f.anonymous_kb, 8300);
	assert_int_equal(f.anon_huge_pages_kb, 0);
	assert_int_equal(f.swap_kb, 0);
	/* a rollup has no per-region lines */
	assert_int_equal(f.size_kb, 0);
	assert_string_equal(f.vmflags, "");
}

static void test_smaps_rollup_parses_pss_dirty(void **state)
{
	(void)state;
	struct smaps_fields f;
	read_rollup("proc/forktree/10576/smaps_rollup", &f);
	assert_int_equal(f.pss_dirty_kb, 2142);
	assert_int_equal(f.pss_kb, 2195);
	read_rollup("proc/gunicorn/10806/smaps_rollup", &f);
	assert_int_equal(f.pss_dirty_kb, 19826);
}

static void test_smaps_rollup_parses_gunicorn_worker(void **state)
{
	(void)state;
	struct smaps_fields f;
	read_rollup("proc/gunicorn/10806/smaps_rollup", &f);
	assert_int_equal(f.rss_kb, 35772);
	assert_int_equal(f.pss_kb, 21860);
	assert_int_equal(f.pss_anon_kb, 19826);
	assert_int_equal(f.pss_file_kb, 2034);
	assert_int_equal(f.shared_clean_kb, 8488);
	assert_int_equal(f.shared_dirty_kb, 11176);
	assert_int_equal(f.private_clean_kb, 8);
	assert_int_equal(f.private_dirty_kb, 16100);
	assert_int_equal(f.referenced_kb, 27884);
	assert_int_equal(f.anonymous_kb, 27276);
}

static void test_smaps_rollup_parses_anon_huge_pages(void **state)
{
	(void)state;
	struct smaps_fields f;
	read_rollup("proc/forktree_thp/10661/smaps_rollup", &f);
	assert_int_equal(f.rss_kb, 9900);
	assert_int_equal(f.anon_huge_pages_kb, 6144);
	assert_int_equal(f.private_dirty_kb, 96);
}

static void test_smaps_rollup_parses_special_maps_shmem(void **state)
{
	(void)state;
	struct smaps_fields f;
	read_rollup("proc/special_maps/11299/smaps_rollup", &f);
	assert_int_equal(f.rss_kb, 1892);
	assert_int_equal(f.pss_kb, 619);
	assert_int_equal(f.pss_shmem_kb, 192);
	assert_int_equal(f.anonymous_kb, 200);
}

/* ---- smaps_rollup on made-up text ---- */

static void test_smaps_rollup_missing_rss_einval(void **state)
{
	(void)state;
	struct smaps_fields f;
	assert_int_equal(rollup_of("Pss: 10 kB\nAnonymous: 4 kB\n", &f), -EINVAL);
	assert_int_equal(rollup_of("", &f), -EINVAL);
	/* a name that only starts with Rss is not Rss */
	assert_int_equal(rollup_of("Rss_Foo: 10 kB\n", &f), -EINVAL);
}

static void test_smaps_rollup_malformed_value_einval(void **state)
{
	(void)state;
	struct smaps_fields f;
	assert_int_equal(rollup_of("Rss: abc kB\n", &f), -EINVAL);
	assert_int_equal(rollup_of("Rss: 10 kB\nPss:\n", &f), -EINVAL);
	assert_int_equal(rollup_of("Rss: 10 kB\nPss: -3 kB\n", &f), -EINVAL);
	assert_int_equal(rollup_of("Rss: 99999999999999999999999 kB\n", &f), -EINVAL);
}

static void test_smaps_rollup_unknown_fields_ignored(void **state)
{
	(void)state;
	struct smaps_fields f;
	assert_int_equal(rollup_of("00400000-7ffe ---p 00000000 00:00 0   [rollup]\n"
				   "Rss: 100 kB\n"
				   "Pss_Future: 7 kB\n"
				   "NewThing: not a number\n"
				   "Pss: 40 kB\n"
				   "Swap: 3 kB\n", &f), 0);
	assert_int_equal(f.rss_kb, 100);
	assert_int_equal(f.pss_kb, 40);
	assert_int_equal(f.swap_kb, 3);
	assert_int_equal(f.pss_dirty_kb, 0);
}

static void test_smaps_rollup_last_line_without_newline(void **state)
{
	(void)state;
	struct smaps_fields f;
	assert_int_equal(rollup_of("Pss: 5 kB\nRss: 12 kB", &f), 0);
	assert_int_equal(f.rss_kb, 12);
	assert_int_equal(f.pss_kb, 5);
}

static void test_smaps_rollup_clears_fields_first(void **state)
{
	(void)state;
	struct smaps_fields f;
	memset(&f, 0x5a, sizeof(f));
	assert_int_equal(rollup_of("Rss: 1 kB\n", &f), 0);
	assert_int_equal(f.pss_kb, 0);
	assert_int_equal(f.locked_kb, 0);
	assert_string_equal(f.vmflags, "");
}

/* ---- smaps on real files ---- */

static void test_smaps_parse_region_count_matches_maps(void **state)
{
	(void)state;
	struct smaps_region *v;
	size_t n = read_smaps("proc/special_maps/11299/smaps", &v);
	assert_int_equal(n, 32);
	smaps_free(v, n);
	n = read_smaps("proc/gunicorn/10806/smaps", &v);
	assert_int_equal(n, 130);
	smaps_free(v, n);
	n = read_smaps("proc/forktree/10576/smaps", &v);
	assert_int_equal(n, 27);
	smaps_free(v, n);
}

static void test_smaps_parse_kthread_is_empty(void **state)
{
	(void)state;
	struct smaps_region *v;
	size_t n = read_smaps("proc/kthread/2/smaps", &v);
	assert_int_equal(n, 0);
	smaps_free(v, n);
}

static void test_smaps_parse_thp_buffer_has_anon_huge_pages(void **state)
{
	(void)state;
	struct smaps_region *v;
	size_t n = read_smaps("proc/forktree_thp/10660/smaps", &v);
	assert_int_equal(n, 26);
	const struct smaps_region *b = region_at(v, n, 0x7f269e800000ULL);
	assert_int_equal(b->map.end, 0x7f269f000000ULL);
	assert_int_equal(b->map.kind, MAPS_ANON);
	assert_int_equal(b->f.size_kb, 8192);
	assert_int_equal(b->f.kernel_page_size_kb, 4);
	assert_int_equal(b->f.rss_kb, 8192);
	assert_int_equal(b->f.pss_kb, 2778);
	assert_int_equal(b->f.shared_dirty_kb, 8120);
	assert_int_equal(b->f.private_dirty_kb, 72);
	assert_int_equal(b->f.anonymous_kb, 8192);
	assert_int_equal(b->f.anon_huge_pages_kb, 6144);
	assert_int_equal(b->f.thp_eligible, 1);
	smaps_free(v, n);
}

static void test_smaps_parse_thp_buffer_has_vmflag_hg(void **state)
{
	(void)state;
	struct smaps_region *v;
	size_t n = read_smaps("proc/forktree_thp/10661/smaps", &v);
	const struct smaps_region *b = region_at(v, n, 0x7f269e800000ULL);
	assert_string_equal(b->f.vmflags, "rd wr mr mw me ac hg ");
	assert_true(smaps_has_vmflag(&b->f, "hg"));
	assert_true(smaps_has_vmflag(&b->f, "rd"));
	assert_true(smaps_has_vmflag(&b->f, "ac"));
	assert_false(smaps_has_vmflag(&b->f, "nh"));
	assert_false(smaps_has_vmflag(&b->f, "sh"));
	assert_false(smaps_has_vmflag(&b->f, "h"));
	assert_int_equal(b->f.anon_huge_pages_kb, 6144);
	assert_int_equal(b->f.private_dirty_kb, 64);
	/* the shmem region is shared, not huge */
	const struct smaps_region *s = region_at(v, n, 0x7f269f130000ULL);
	assert_true(smaps_has_vmflag(&s->f, "sh"));
	assert_false(smaps_has_vmflag(&s->f, "hg"));
	assert_int_equal(s->map.kind, MAPS_SHMEM);
	smaps_free(v, n);
}

static uint64_t sum_rss(const struct smaps_region *v, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i].f.rss_kb;
	return s;
}

static uint64_t sum_pss(const struct smaps_region *v, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i].f.pss_kb;
	return s;
}

/* smaps and smaps_rollup were read one after the other from a quiet
 * process: Rss adds up exactly; Pss is rounded down per region, so the
 * rollup is higher by less than 1 kB per region. */
static void check_sums(const char *dir, uint64_t want_rss)
{
	char rel[256];
	struct smaps_fields roll;
	snprintf(rel, sizeof(rel), "%s/smaps_rollup", dir);
	read_rollup(rel, &roll);
	struct smaps_region *v;
	snprintf(rel, sizeof(rel), "%s/smaps", dir);
	size_t n = read_smaps(rel, &v);
	assert_int_equal(roll.rss_kb, want_rss);
	assert_int_equal(sum_rss(v, n), roll.rss_kb);
	uint64_t pss = sum_pss(v, n);
	assert_true(pss <= roll.pss_kb);
	assert_true(roll.pss_kb - pss < n);
	smaps_free(v, n);
}

static void test_smaps_region_rss_sums_to_rollup_rss(void **state)
{
	(void)state;
	check_sums("proc/forktree_thp/10660", 10796);
	check_sums("proc/forktree_thp/10661", 9900);
	check_sums("proc/forktree/10573", 10800);
	check_sums("proc/gunicorn/10805", 29576);
	check_sums("proc/special_maps/11299", 1892);
}

static void test_smaps_parse_special_maps_regions(void **state)
{
	(void)state;
	struct smaps_region *v;
	size_t n = read_smaps("proc/special_maps/11299/smaps", &v);
	const struct smaps_region *heap = region_at(v, n, 0x557e89ec9000ULL);
	assert_int_equal(heap->map.kind, MAPS_HEAP);
	assert_int_equal(heap->f.size_kb, 132);
	assert_int_equal(heap->f.rss_kb, 72);
	assert_int_equal(heap->f.private_dirty_kb, 72);
	assert_int_equal(heap->f.thp_eligible, 0);
	/* the written page of the deleted private file is anonymous */
	const struct smaps_region *del = region_at(v, n, 0x7fe6273a6000ULL);
	assert_true(del->map.deleted);
	assert_int_equal(del->map.kind, MAPS_FILE_PRIVATE);
	assert_int_equal(del->f.rss_kb, 32);
	assert_int_equal(del->f.anonymous_kb, 4);
	assert_int_equal(del->f.private_dirty_kb, 4);
	const struct smaps_region *sysv = region_at(v, n, 0x7fe6273ce000ULL);
	assert_int_equal(sysv->map.kind, MAPS_SYSV);
	assert_int_equal(sysv->f.rss_kb, 64);
	assert_true(smaps_has_vmflag(&sysv->f, "sh"));
	const struct smaps_region *sp = region_at(v, n, 0x7fe6273a2000ULL);
	assert_string_equal(sp->map.path, "/tmp/fth/specialdir/with space/data file.bin");
	assert_int_equal(sp->f.size_kb, 16);
	smaps_free(v, n);
}

/* ---- smaps on made-up text ---- */

static void test_smaps_parse_fields_go_to_their_region(void **state)
{
	(void)state;
	const char *t =
		"1000-3000 rw-p 00000000 00:00 0 \n"
		"Size:                  8 kB\n"
		"Rss:                   4 kB\n"
		"VmFlags: rd wr mr mw me ac \n"
		"5000-6000 r--p 00000000 08:02 7   /lib/x.so\n"
		"Size:                  4 kB\n"
		"Rss:                   4 kB\n"
		"Swap:                  0 kB\n"
		"VmFlags: rd mr mw me";
	struct smaps_region *v;
	size_t n;
	assert_int_equal(smaps_parse(t, strlen(t), &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].f.size_kb, 8);
	assert_int_equal(v[0].map.kind, MAPS_ANON);
	assert_true(smaps_has_vmflag(&v[0].f, "wr"));
	assert_int_equal(v[1].f.size_kb, 4);
	assert_string_equal(v[1].map.path, "/lib/x.so");
	assert_false(smaps_has_vmflag(&v[1].f, "wr"));
	assert_true(smaps_has_vmflag(&v[1].f, "me"));
	smaps_free(v, n);
}

static void test_smaps_parse_empty_gives_no_regions(void **state)
{
	(void)state;
	struct smaps_region *v;
	size_t n = 5;
	assert_int_equal(smaps_parse("", 0, &v, &n), 0);
	assert_int_equal(n, 0);
	smaps_free(v, n);
}

static void test_smaps_parse_field_before_header_einval(void **state)
{
	(void)state;
	const char *t = "Rss: 4 kB\n1000-2000 rw-p 00000000 00:00 0 \n";
	struct smaps_region *v;
	size_t n;
	assert_int_equal(smaps_parse(t, strlen(t), &v, &n), -EINVAL);
}

static void test_smaps_parse_malformed_header_einval(void **state)
{
	(void)state;
	const char *t = "1000-2000 rw-p 00000000 00:00 0 \nRss: 4 kB\n"
			"3000-2000 rw-p 00000000 00:00 0 \nRss: 4 kB\n";
	struct smaps_region *v;
	size_t n;
	assert_int_equal(smaps_parse(t, strlen(t), &v, &n), -EINVAL);
}

static void test_smaps_parse_malformed_value_einval(void **state)
{
	(void)state;
	const char *t = "1000-2000 rw-p 00000000 00:00 0 \nRss: x kB\n";
	struct smaps_region *v;
	size_t n;
	assert_int_equal(smaps_parse(t, strlen(t), &v, &n), -EINVAL);
}

static void test_smaps_vmflags_long_line_is_bounded(void **state)
{
	(void)state;
	char t[512];
	size_t len = (size_t)snprintf(t, sizeof(t), "1000-2000 rw-p 00000000 00:00 0 \nVmFlags:");
	for (int i = 0; i < 60; i++)
		len += (size_t)snprintf(t + len, sizeof(t) - len, " %c%c", 'a' + i % 26, 'a' + i / 26);
	struct smaps_region *v;
	size_t n;
	assert_int_equal(smaps_parse(t, len, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(v[0].f.vmflags), sizeof(v[0].f.vmflags) - 1);
	assert_true(smaps_has_vmflag(&v[0].f, "aa"));
	smaps_free(v, n);
}

static void test_smaps_has_vmflag_whole_words_only(void **state)
{
	(void)state;
	struct smaps_fields f = {0};
	strcpy(f.vmflags, "rd  wr mr hg");
	assert_true(smaps_has_vmflag(&f, "rd"));
	assert_true(smaps_has_vmflag(&f, "wr"));
	assert_true(smaps_has_vmflag(&f, "hg"));
	assert_false(smaps_has_vmflag(&f, "r"));
	assert_false(smaps_has_vmflag(&f, "rd wr"));
	assert_false(smaps_has_vmflag(&f, "nh"));
	f.vmflags[0] = '\0';
	assert_false(smaps_has_vmflag(&f, "rd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smaps_rollup_parses_forktree_root),
		cmocka_unit_test(test_smaps_rollup_parses_pss_dirty),
		cmocka_unit_test(test_smaps_rollup_parses_gunicorn_worker),
		cmocka_unit_test(test_smaps_rollup_parses_anon_huge_pages),
		cmocka_unit_test(test_smaps_rollup_parses_special_maps_shmem),
		cmocka_unit_test(test_smaps_rollup_missing_rss_einval),
		cmocka_unit_test(test_smaps_rollup_malformed_value_einval),
		cmocka_unit_test(test_smaps_rollup_unknown_fields_ignored),
		cmocka_unit_test(test_smaps_rollup_last_line_without_newline),
		cmocka_unit_test(test_smaps_rollup_clears_fields_first),
		cmocka_unit_test(test_smaps_parse_region_count_matches_maps),
		cmocka_unit_test(test_smaps_parse_kthread_is_empty),
		cmocka_unit_test(test_smaps_parse_thp_buffer_has_anon_huge_pages),
		cmocka_unit_test(test_smaps_parse_thp_buffer_has_vmflag_hg),
		cmocka_unit_test(test_smaps_region_rss_sums_to_rollup_rss),
		cmocka_unit_test(test_smaps_parse_special_maps_regions),
		cmocka_unit_test(test_smaps_parse_fields_go_to_their_region),
		cmocka_unit_test(test_smaps_parse_empty_gives_no_regions),
		cmocka_unit_test(test_smaps_parse_field_before_header_einval),
		cmocka_unit_test(test_smaps_parse_malformed_header_einval),
		cmocka_unit_test(test_smaps_parse_malformed_value_einval),
		cmocka_unit_test(test_smaps_vmflags_long_line_is_bounded),
		cmocka_unit_test(test_smaps_has_vmflag_whole_words_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
