/* test_maps.c - /proc/PID/maps parsing and region classification */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/maps.h"
#include "fixture.h"

/* Parse one line given as a C string; the region's path must be freed. */
static int parse(const char *line, struct maps_region *r)
{
	return maps_parse_line(line, strlen(line), r);
}

/* The kind of the region the line describes (asserting it parses). */
static enum maps_kind kind_of(const char *line)
{
	struct maps_region r;
	int e = parse(line, &r);
	if (e)
		fail_msg("did not parse (%d): %s", e, line);
	enum maps_kind k = r.kind;
	free(r.path);
	return k;
}

static void check_kind(const char *line, enum maps_kind want)
{
	enum maps_kind got = kind_of(line);
	if (got != want)
		fail_msg("%s: kind %s, want %s", line, maps_kind_name(got),
			 maps_kind_name(want));
}

static void check_einval(const char *line)
{
	struct maps_region r;
	int e = parse(line, &r);
	if (e == 0)
		free(r.path);
	if (e != -EINVAL)
		fail_msg("parsed (%d), want -EINVAL: \"%s\"", e, line);
}

/* ---- one line ---- */

static void test_maps_parse_line_reads_every_field(void **state)
{
	(void)state;
	struct maps_region r;
	assert_int_equal(parse("55d0c0e00000-55d0c0e2a000 r-xp 00004000 fd:01 "
			       "1835021                    /usr/bin/python3.11", &r), 0);
	assert_int_equal(r.start, 0x55d0c0e00000ULL);
	assert_int_equal(r.end, 0x55d0c0e2a000ULL);
	assert_true(r.read);
	assert_false(r.write);
	assert_true(r.exec);
	assert_false(r.shared);
	assert_int_equal(r.offset, 0x4000);
	assert_int_equal(r.dev_major, 0xfd);
	assert_int_equal(r.dev_minor, 1);
	assert_int_equal(r.inode, 1835021);
	assert_false(r.deleted);
	assert_string_equal(r.path, "/usr/bin/python3.11");
	assert_int_equal(r.kind, MAPS_FILE_PRIVATE);
	free(r.path);
}

static void test_maps_parse_line_anonymous_with_trailing_space(void **state)
{
	(void)state;
	/* the kernel ends a nameless line with the space after the inode */
	struct maps_region r;
	assert_int_equal(parse("7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0 ", &r), 0);
	assert_string_equal(r.path, "");
	assert_int_equal(r.inode, 0);
	assert_true(r.write);
	assert_int_equal(r.kind, MAPS_ANON);
	free(r.path);
	assert_int_equal(parse("7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0", &r), 0);
	assert_string_equal(r.path, "");
	assert_int_equal(r.kind, MAPS_ANON);
	free(r.path);
}

static void test_maps_parse_line_path_with_spaces_kept(void **state)
{
	(void)state;
	struct maps_region r;
	assert_int_equal(parse("7f0000000000-7f0000001000 r--p 00000000 08:02 42 "
			       "          /tmp/my dir/a (1).so", &r), 0);
	assert_string_equal(r.path, "/tmp/my dir/a (1).so");
	assert_false(r.deleted);
	assert_int_equal(r.kind, MAPS_FILE_PRIVATE);
	free(r.path);
}

static void test_maps_parse_line_deleted_suffix_stripped(void **state)
{
	(void)state;
	struct maps_region r;
	assert_int_equal(parse("7f0000000000-7f0000001000 rw-s 00000000 08:02 42 "
			       "/var/tmp/data.bin (deleted)", &r), 0);
	assert_string_equal(r.path, "/var/tmp/data.bin");
	assert_true(r.deleted);
	assert_int_equal(r.kind, MAPS_FILE_SHARED);
	free(r.path);
}

static void test_maps_parse_line_sixteen_digit_addresses(void **state)
{
	(void)state;
	struct maps_region r;
	assert_int_equal(parse("ffffffffff600000-ffffffffff601000 --xp 00000000 "
			       "00:00 0                  [vsyscall]", &r), 0);
	assert_int_equal(r.start, 0xffffffffff600000ULL);
	assert_int_equal(r.end, 0xffffffffff601000ULL);
	assert_false(r.read);
	assert_true(r.exec);
	assert_int_equal(r.kind, MAPS_VSYSCALL);
	free(r.path);
}

static void test_maps_parse_line_prot_none(void **state)
{
	(void)state;
	struct maps_region r;
	assert_int_equal(parse("7f0000001000-7f0000200000 ---p 00000000 00:00 0 ", &r), 0);
	assert_false(r.read || r.write || r.exec || r.shared);
	assert_int_equal(r.kind, MAPS_ANON);
	free(r.path);
}

static void test_maps_parse_line_empty_region_start_equals_end(void **state)
{
	(void)state;
	struct maps_region r;
	assert_int_equal(parse("1000-1000 r--p 00000000 00:00 0 ", &r), 0);
	assert_int_equal(r.start, r.end);
	free(r.path);
}

/* ---- classification of every kind ---- */

static void test_maps_classify_bracketed_names(void **state)
{
	(void)state;
	check_kind("5600-5700 rw-p 00000000 00:00 0 [heap]", MAPS_HEAP);
	check_kind("7ffd0000-7ffd1000 rw-p 00000000 00:00 0 [stack]", MAPS_STACK);
	check_kind("7ffd0000-7ffd1000 rw-p 00000000 00:00 0 [stack:4242]", MAPS_STACK);
	check_kind("7ffd0000-7ffd1000 r-xp 00000000 00:00 0 [vdso]", MAPS_VDSO);
	check_kind("7ffd0000-7ffd1000 r--p 00000000 00:00 0 [vvar]", MAPS_VVAR);
	check_kind("7ffd0000-7ffd1000 r--p 00000000 00:00 0 [vvar_vclock]", MAPS_VVAR);
	check_kind("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]",
		   MAPS_VSYSCALL);
	check_kind("7ffd0000-7ffd1000 r-xp 00000000 00:00 0 [uprobes]", MAPS_SPECIAL);
}

static void test_maps_classify_named_anonymous(void **state)
{
	(void)state;
	/* prctl(PR_SET_VMA_ANON_NAME) names */
	check_kind("7f00-7f10 rw-p 00000000 00:00 0 [anon:arena 1]", MAPS_ANON);
	check_kind("7f00-7f10 rw-s 00000000 00:01 7 [anon_shmem:ring]", MAPS_SHMEM);
}

static void test_maps_classify_anonymous_private_and_shared(void **state)
{
	(void)state;
	check_kind("7f00-7f10 rw-p 00000000 00:00 0 ", MAPS_ANON);
	check_kind("7f00-7f10 rw-s 00000000 00:01 1044 ", MAPS_SHMEM);
}

static void test_maps_classify_dev_zero(void **state)
{
	(void)state;
	/* MAP_SHARED|MAP_ANONYMOUS shows as a deleted /dev/zero */
	struct maps_region r;
	assert_int_equal(parse("7f00-7f10 rw-s 00000000 00:01 1043 /dev/zero (deleted)", &r), 0);
	assert_int_equal(r.kind, MAPS_SHMEM);
	assert_true(r.deleted);
	assert_string_equal(r.path, "/dev/zero");
	free(r.path);
	/* a private mapping of /dev/zero is private anonymous memory */
	check_kind("7f00-7f10 rw-p 00000000 00:05 4 /dev/zero", MAPS_ANON);
}

static void test_maps_classify_sysv(void **state)
{
	(void)state;
	check_kind("7f00-7f10 rw-s 00000000 00:01 32768 /SYSV0000162e (deleted)",
		   MAPS_SYSV);
	check_kind("7f00-7f10 r--s 00000000 00:01 32769 /SYSV00000000 (deleted)",
		   MAPS_SYSV);
}

static void test_maps_classify_memfd_and_dev_shm(void **state)
{
	(void)state;
	check_kind("7f00-7f10 rw-s 00000000 00:01 2049 /memfd:pool (deleted)", MAPS_SHMEM);
	check_kind("7f00-7f10 rw-s 00000000 00:19 12 /dev/shm/psm_a1b2", MAPS_SHMEM);
	/* a private mapping of either is copied on write like a file */
	check_kind("7f00-7f10 rw-p 00000000 00:01 2049 /memfd:pool (deleted)",
		   MAPS_FILE_PRIVATE);
	check_kind("7f00-7f10 r--p 00000000 00:19 12 /dev/shm/psm_a1b2", MAPS_FILE_PRIVATE);
}

static void test_maps_classify_hugetlbfs_file(void **state)
{
	(void)state;
	check_kind("7f00-7f10 rw-s 00000000 00:2e 3 /dev/hugepages/buf", MAPS_HUGETLB);
}

static void test_maps_classify_anon_hugetlb_as_kernel_prints_it(void **state)
{
	(void)state;
	/* mmap(MAP_ANONYMOUS|MAP_HUGETLB) and SHM-less hugetlb: the kernel's
	 * pseudo file "anon_hugepage" on its internal hugetlbfs mount prints
	 * with a leading '/' and " (deleted)" (like /SYSV..., /dev/zero) */
	check_kind("7f5a00000000-7f5a00200000 rw-p 00000000 00:0f 10395 "
		   "/anon_hugepage (deleted)", MAPS_HUGETLB);
	check_kind("7f5a00000000-7f5a00200000 rw-s 00000000 00:0f 10396 "
		   "/anon_hugepage (deleted)", MAPS_HUGETLB);
}

static void test_maps_classify_files(void **state)
{
	(void)state;
	check_kind("7f00-7f10 r--p 00000000 08:02 173521 /usr/lib/libc.so.6",
		   MAPS_FILE_PRIVATE);
	check_kind("7f00-7f10 rw-s 00000000 08:02 99 /srv/data.db", MAPS_FILE_SHARED);
	check_kind("7f00-7f10 rw-p 00000000 08:02 99 /srv/data.db (deleted)",
		   MAPS_FILE_PRIVATE);
}

static void test_maps_kind_names(void **state)
{
	(void)state;
	assert_string_equal(maps_kind_name(MAPS_ANON), "anon");
	assert_string_equal(maps_kind_name(MAPS_HEAP), "heap");
	assert_string_equal(maps_kind_name(MAPS_STACK), "stack");
	assert_string_equal(maps_kind_name(MAPS_FILE_PRIVATE), "file");
	assert_string_equal(maps_kind_name(MAPS_FILE_SHARED), "file-shared");
	assert_string_equal(maps_kind_name(MAPS_SHMEM), "shmem");
	assert_string_equal(maps_kind_name(MAPS_SYSV), "sysv");
	assert_string_equal(maps_kind_name(MAPS_HUGETLB), "hugetlb");
	assert_string_equal(maps_kind_name(MAPS_VDSO), "vdso");
	assert_string_equal(maps_kind_name(MAPS_VVAR), "vvar");
	assert_string_equal(maps_kind_name(MAPS_VSYSCALL), "vsyscall");
	assert_string_equal(maps_kind_name(MAPS_SPECIAL), "special");
	assert_string_equal(maps_kind_name(MAPS_KIND_COUNT), "?");
	assert_string_equal(maps_kind_name((enum maps_kind)-1), "?");
}

static void test_maps_kind_shared_and_anon_sets(void **state)
{
	(void)state;
	for (int k = 0; k < MAPS_KIND_COUNT; k++) {
		bool shared = k == MAPS_SHMEM || k == MAPS_SYSV || k == MAPS_FILE_SHARED;
		bool anon = k == MAPS_ANON || k == MAPS_HEAP || k == MAPS_STACK;
		assert_int_equal(maps_kind_is_shared((enum maps_kind)k), shared);
		assert_int_equal(maps_kind_is_anon((enum maps_kind)k), anon);
	}
}

/* ---- malformed lines ---- */

static void test_maps_parse_line_missing_fields_einval(void **state)
{
	(void)state;
	check_einval("");
	check_einval("7f00-7f10");
	check_einval("7f00-7f10 rw-p");
	check_einval("7f00-7f10 rw-p 00000000");
	check_einval("7f00-7f10 rw-p 00000000 00:00");
	check_einval("7f00-7f10 rw-p 00000000 00:00 ");
	check_einval("7f00 rw-p 00000000 00:00 0");
	check_einval("7f00-7f10 rw-p 00000000 0000 0");
}

static void test_maps_parse_line_bad_hex_einval(void **state)
{
	(void)state;
	check_einval("7g00-7f10 rw-p 00000000 00:00 0");
	check_einval("7f00-zz10 rw-p 00000000 00:00 0");
	check_einval("7f00-7f10 rw-p 0000x000 00:00 0");
	check_einval("7f00-7f10 rw-p 00000000 0q:00 0");
	check_einval("-7f10 rw-p 00000000 00:00 0");
}

static void test_maps_parse_line_bad_perms_or_inode_einval(void **state)
{
	(void)state;
	check_einval("7f00-7f10 rw-x 00000000 00:00 0");
	check_einval("7f00-7f10 rw- 00000000 00:00 0");
	check_einval("7f00-7f10 RW-P 00000000 00:00 0");
	check_einval("7f00-7f10 rw-p 00000000 00:00 12a /x");
	check_einval("7f00-7f10 rw-p 00000000 00:00 -1");
	/* 2^64: an inode that does not fit */
	check_einval("7f00-7f10 rw-p 00000000 00:00 18446744073709551616 /x");
}

static void test_maps_parse_line_end_before_start_einval(void **state)
{
	(void)state;
	check_einval("7f10-7f00 rw-p 00000000 00:00 0 ");
}

static void test_maps_parse_line_seventeen_digit_hex_einval(void **state)
{
	(void)state;
	check_einval("10000000000000000-10000000000001000 rw-p 00000000 00:00 0");
	check_einval("7f00-10000000000000000 rw-p 00000000 00:00 0");
	check_einval("7f00-7f10 rw-p 00000000000000000 00:00 0");
	/* leading zeros count too: the kernel never prints more than 16 */
	check_einval("00000000000007f00-7f10 rw-p 00000000 00:00 0");
}

static void test_maps_parse_line_largest_inode_parses(void **state)
{
	(void)state;
	struct maps_region r;
	assert_int_equal(parse("7f00-7f10 rw-p 00000000 00:00 18446744073709551615 /x", &r), 0);
	assert_int_equal(r.inode, UINT64_MAX);
	free(r.path);
}

/* ---- whole files ---- */

static void test_maps_parse_empty_text_gives_no_regions(void **state)
{
	(void)state;
	struct maps_region *v = (void *)1;
	size_t n = 99;
	assert_int_equal(maps_parse("", 0, &v, &n), 0);
	assert_int_equal(n, 0);
	maps_free(v, n);
	assert_int_equal(maps_parse("\n\n", 2, &v, &n), 0);
	assert_int_equal(n, 0);
	maps_free(v, n);
}

static void test_maps_parse_last_line_without_newline(void **state)
{
	(void)state;
	const char *t = "1000-2000 r--p 00000000 08:02 5 /bin/a\n"
			"3000-4000 rw-p 00000000 00:00 0 [heap]";
	struct maps_region *v;
	size_t n;
	assert_int_equal(maps_parse(t, strlen(t), &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].path, "/bin/a");
	assert_int_equal(v[1].start, 0x3000);
	assert_int_equal(v[1].end, 0x4000);
	assert_int_equal(v[1].kind, MAPS_HEAP);
	maps_free(v, n);
}

static void test_maps_parse_respects_len_not_nul(void **state)
{
	(void)state;
	/* only the first line is inside len */
	const char *t = "1000-2000 r--p 00000000 08:02 5 /bin/ab\nGARBAGE";
	struct maps_region *v;
	size_t n;
	assert_int_equal(maps_parse(t, strlen("1000-2000 r--p 00000000 08:02 5 /bin/a"),
				    &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].path, "/bin/a");
	maps_free(v, n);
}

static void test_maps_parse_malformed_line_fails_whole_text(void **state)
{
	(void)state;
	const char *t = "1000-2000 r--p 00000000 08:02 5 /bin/a\n"
			"3000-4000 rw-p 00000000 00:00\n"
			"5000-6000 rw-p 00000000 00:00 0 \n";
	struct maps_region *v = NULL;
	size_t n = 7;
	assert_int_equal(maps_parse(t, strlen(t), &v, &n), -EINVAL);
}

static void test_maps_parse_many_regions_grow(void **state)
{
	(void)state;
	size_t cap = 200 * 64, len = 0;
	char *t = malloc(cap);
	assert_non_null(t);
	for (unsigned i = 0; i < 200; i++)
		len += (size_t)snprintf(t + len, cap - len,
					"%x-%x rw-p 00000000 00:00 0 \n",
					0x10000 + i * 0x2000, 0x11000 + i * 0x2000);
	struct maps_region *v;
	size_t n;
	assert_int_equal(maps_parse(t, len, &v, &n), 0);
	assert_int_equal(n, 200);
	assert_int_equal(v[199].start, 0x10000 + 199 * 0x2000);
	maps_free(v, n);
	free(t);
}

/* ---- real maps files ---- */

static size_t read_maps(const char *rel, struct maps_region **v)
{
	size_t len, n = 0;
	char *t = fixture_read(rel, &len);
	int r = maps_parse(t, len, v, &n);
	free(t);
	assert_int_equal(r, 0);
	return n;
}

/* special_maps: one region of each kind, in the order of the file */
static const struct {
	uint64_t start, end;
	const char *perms;
	enum maps_kind kind;
	bool deleted;
	const char *path;
} special[] = {
	{0x557e6f53c000, 0x557e6f53d000, "r--p", MAPS_FILE_PRIVATE, false, "/tmp/fth/special"},
	{0x557e6f53d000, 0x557e6f53e000, "r-xp", MAPS_FILE_PRIVATE, false, "/tmp/fth/special"},
	{0x557e6f53e000, 0x557e6f53f000, "r--p", MAPS_FILE_PRIVATE, false, "/tmp/fth/special"},
	{0x557e6f53f000, 0x557e6f540000, "r--p", MAPS_FILE_PRIVATE, false, "/tmp/fth/special"},
	{0x557e6f540000, 0x557e6f541000, "rw-p", MAPS_FILE_PRIVATE, false, "/tmp/fth/special"},
	{0x557e89ec9000, 0x557e89eea000, "rw-p", MAPS_HEAP, false, "[heap]"},
	{0x7fe6273a2000, 0x7fe6273a6000, "r--s", MAPS_FILE_SHARED, false,
	 "/tmp/fth/specialdir/with space/data file.bin"},
	{0x7fe6273a6000, 0x7fe6273ae000, "rw-p", MAPS_FILE_PRIVATE, true,
	 "/tmp/fth/specialdir/deleted.bin"},
	{0x7fe6273ae000, 0x7fe6273be000, "---p", MAPS_ANON, false, ""},
	{0x7fe6273be000, 0x7fe6273c6000, "rw-s", MAPS_SHMEM, false, "/dev/shm/cowprof-fixture"},
	{0x7fe6273c6000, 0x7fe6273ce000, "rw-s", MAPS_SHMEM, true, "/memfd:cowprof-fixture"},
	{0x7fe6273ce000, 0x7fe6273de000, "rw-s", MAPS_SYSV, true, "/SYSV00000000"},
	{0x7fe6273de000, 0x7fe6273ee000, "rw-s", MAPS_SHMEM, true, "/dev/zero"},
	{0x7fe6273ee000, 0x7fe627411000, "rw-p", MAPS_ANON, false, ""},
	{0x7fe627411000, 0x7fe627437000, "r--p", MAPS_FILE_PRIVATE, false, "/usr/lib/x86_64-linux-gnu/libc.so.6"},
	{0x7fe627437000, 0x7fe62758d000, "r-xp", MAPS_FILE_PRIVATE, false, "/usr/lib/x86_64-linux-gnu/libc.so.6"},
	{0x7fe62758d000, 0x7fe6275e0000, "r--p", MAPS_FILE_PRIVATE, false, "/usr/lib/x86_64-linux-gnu/libc.so.6"},
	{0x7fe6275e0000, 0x7fe6275e4000, "r--p", MAPS_FILE_PRIVATE, false, "/usr/lib/x86_64-linux-gnu/libc.so.6"},
	{0x7fe6275e4000, 0x7fe6275e6000, "rw-p", MAPS_FILE_PRIVATE, false, "/usr/lib/x86_64-linux-gnu/libc.so.6"},
	{0x7fe6275e6000, 0x7fe6275f3000, "rw-p", MAPS_ANON, false, ""},
	{0x7fe6275f6000, 0x7fe6275fe000, "rw-s", MAPS_FILE_SHARED, false, "/tmp/fth/specialdir/shared.bin"},
	{0x7fe6275fe000, 0x7fe627600000, "rw-p", MAPS_ANON, false, ""},
	{0x7fe627600000, 0x7fe627604000, "r--p", MAPS_VVAR, false, "[vvar]"},
	{0x7fe627604000, 0x7fe627606000, "r--p", MAPS_VVAR, false, "[vvar_vclock]"},
	{0x7fe627606000, 0x7fe627608000, "r-xp", MAPS_VDSO, false, "[vdso]"},
	{0x7fe627608000, 0x7fe627609000, "r--p", MAPS_FILE_PRIVATE, false, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
	{0x7fe627609000, 0x7fe62762f000, "r-xp", MAPS_FILE_PRIVATE, false, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
	{0x7fe62762f000, 0x7fe627639000, "r--p", MAPS_FILE_PRIVATE, false, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
	{0x7fe627639000, 0x7fe62763b000, "r--p", MAPS_FILE_PRIVATE, false, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
	{0x7fe62763b000, 0x7fe62763d000, "rw-p", MAPS_FILE_PRIVATE, false, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
	{0x7ffe9e56c000, 0x7ffe9e58d000, "rw-p", MAPS_STACK, false, "[stack]"},
	{0xffffffffff600000, 0xffffffffff601000, "--xp", MAPS_VSYSCALL, false, "[vsyscall]"},
};

static void test_maps_special_maps_fixture_every_region(void **state)
{
	(void)state;
	struct maps_region *v;
	size_t n = read_maps("proc/special_maps/11299/maps", &v);
	assert_int_equal(n, sizeof(special) / sizeof(special[0]));
	for (size_t i = 0; i < n; i++) {
		const struct maps_region *r = &v[i];
		char perms[5] = {
			r->read ? 'r' : '-', r->write ? 'w' : '-',
			r->exec ? 'x' : '-', r->shared ? 's' : 'p', '\0' };
		if (r->start != special[i].start || r->end != special[i].end ||
		    strcmp(perms, special[i].perms) || r->kind != special[i].kind ||
		    r->deleted != special[i].deleted ||
		    strcmp(r->path, special[i].path))
			fail_msg("region %zu: %llx-%llx %s %s%s \"%s\"", i,
				 (unsigned long long)r->start,
				 (unsigned long long)r->end, perms,
				 maps_kind_name(r->kind),
				 r->deleted ? " deleted" : "", r->path);
	}
	maps_free(v, n);
}

static void test_maps_special_maps_fixture_kind_counts(void **state)
{
	(void)state;
	struct maps_region *v;
	size_t n = read_maps("proc/special_maps/11299/maps", &v);
	int count[MAPS_KIND_COUNT] = {0};
	for (size_t i = 0; i < n; i++)
		count[v[i].kind]++;
	assert_int_equal(count[MAPS_ANON], 4);
	assert_int_equal(count[MAPS_HEAP], 1);
	assert_int_equal(count[MAPS_STACK], 1);
	assert_int_equal(count[MAPS_FILE_PRIVATE], 16);
	assert_int_equal(count[MAPS_FILE_SHARED], 2);
	assert_int_equal(count[MAPS_SHMEM], 3);
	assert_int_equal(count[MAPS_SYSV], 1);
	assert_int_equal(count[MAPS_HUGETLB], 0);
	assert_int_equal(count[MAPS_VDSO], 1);
	assert_int_equal(count[MAPS_VVAR], 2);
	assert_int_equal(count[MAPS_VSYSCALL], 1);
	assert_int_equal(count[MAPS_SPECIAL], 0);
	maps_free(v, n);
}

static void test_maps_special_maps_fixture_dev_numbers_and_inodes(void **state)
{
	(void)state;
	struct maps_region *v;
	size_t n = read_maps("proc/special_maps/11299/maps", &v);
	assert_int_equal(n, 32);
	/* libc r-xp: 00026000 fe:00 332835 */
	assert_int_equal(v[15].offset, 0x26000);
	assert_int_equal(v[15].dev_major, 0xfe);
	assert_int_equal(v[15].dev_minor, 0);
	assert_int_equal(v[15].inode, 332835);
	/* /dev/shm on 00:1b, inode 2 */
	assert_int_equal(v[9].dev_minor, 0x1b);
	assert_int_equal(v[9].inode, 2);
	maps_free(v, n);
}

static void test_maps_forktree_fixture_regions(void **state)
{
	(void)state;
	struct maps_region *v;
	size_t n = read_maps("proc/forktree/10573/maps", &v);
	assert_int_equal(n, 26);
	/* the 8 MiB buffer and the 1 MiB shared /dev/zero before it */
	assert_int_equal(v[6].start, 0x7fc0eff00000ULL);
	assert_int_equal(v[6].end - v[6].start, 1 << 20);
	assert_int_equal(v[6].kind, MAPS_SHMEM);
	assert_int_equal(v[7].start, 0x7fc0f0000000ULL);
	assert_int_equal(v[7].end - v[7].start, 8 << 20);
	assert_int_equal(v[7].kind, MAPS_ANON);
	assert_int_equal(v[5].kind, MAPS_HEAP);
	maps_free(v, n);
	/* the grandchild: one more anon VMA (its post-fork mmap), six in all */
	n = read_maps("proc/forktree/10576/maps", &v);
	assert_int_equal(n, 27);
	int anon = 0;
	for (size_t i = 0; i < n; i++)
		anon += v[i].kind == MAPS_ANON;
	assert_int_equal(anon, 6);
	maps_free(v, n);
}

static void test_maps_every_fixture_parses_in_address_order(void **state)
{
	(void)state;
	static const struct { const char *rel; size_t n; } files[] = {
		{"proc/forktree/10573/maps", 26},
		{"proc/forktree/10574/maps", 26},
		{"proc/forktree/10576/maps", 27},
		{"proc/forktree_thp/10660/maps", 26},
		{"proc/forktree_thp/10661/maps", 25},
		{"proc/gunicorn/10805/maps", 92},
		{"proc/gunicorn/10806/maps", 130},
		{"proc/kthread/2/maps", 0},
		{"proc/special_maps/11299/maps", 32},
	};
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		struct maps_region *v;
		size_t n = read_maps(files[f].rel, &v);
		if (n != files[f].n)
			fail_msg("%s: %zu regions, want %zu", files[f].rel, n, files[f].n);
		for (size_t i = 0; i < n; i++) {
			assert_true(v[i].start < v[i].end);
			if (i)
				assert_true(v[i - 1].end <= v[i].start);
			assert_true(v[i].kind < MAPS_KIND_COUNT);
		}
		maps_free(v, n);
	}
}

static void test_maps_gunicorn_fixture_kinds(void **state)
{
	(void)state;
	struct maps_region *v;
	size_t n = read_maps("proc/gunicorn/10806/maps", &v);
	assert_int_equal(n, 130);
	int heap = 0, stack = 0, special_kind = 0;
	for (size_t i = 0; i < n; i++) {
		heap += v[i].kind == MAPS_HEAP;
		stack += v[i].kind == MAPS_STACK;
		special_kind += v[i].kind == MAPS_SPECIAL;
	}
	/* the heap shows as two VMAs after the fork */
	assert_int_equal(heap, 2);
	assert_int_equal(stack, 1);
	assert_int_equal(special_kind, 0);
	assert_string_equal(v[0].path, "/usr/bin/python3.11");
	maps_free(v, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_parse_line_reads_every_field),
		cmocka_unit_test(test_maps_parse_line_anonymous_with_trailing_space),
		cmocka_unit_test(test_maps_parse_line_path_with_spaces_kept),
		cmocka_unit_test(test_maps_parse_line_deleted_suffix_stripped),
		cmocka_unit_test(test_maps_parse_line_sixteen_digit_addresses),
		cmocka_unit_test(test_maps_parse_line_prot_none),
		cmocka_unit_test(test_maps_parse_line_empty_region_start_equals_end),
		cmocka_unit_test(test_maps_classify_bracketed_names),
		cmocka_unit_test(test_maps_classify_named_anonymous),
		cmocka_unit_test(test_maps_classify_anonymous_private_and_shared),
		cmocka_unit_test(test_maps_classify_dev_zero),
		cmocka_unit_test(test_maps_classify_sysv),
		cmocka_unit_test(test_maps_classify_memfd_and_dev_shm),
		cmocka_unit_test(test_maps_classify_hugetlbfs_file),
		cmocka_unit_test(test_maps_classify_anon_hugetlb_as_kernel_prints_it),
		cmocka_unit_test(test_maps_classify_files),
		cmocka_unit_test(test_maps_kind_names),
		cmocka_unit_test(test_maps_kind_shared_and_anon_sets),
		cmocka_unit_test(test_maps_parse_line_missing_fields_einval),
		cmocka_unit_test(test_maps_parse_line_bad_hex_einval),
		cmocka_unit_test(test_maps_parse_line_bad_perms_or_inode_einval),
		cmocka_unit_test(test_maps_parse_line_end_before_start_einval),
		cmocka_unit_test(test_maps_parse_line_seventeen_digit_hex_einval),
		cmocka_unit_test(test_maps_parse_line_largest_inode_parses),
		cmocka_unit_test(test_maps_parse_empty_text_gives_no_regions),
		cmocka_unit_test(test_maps_parse_last_line_without_newline),
		cmocka_unit_test(test_maps_parse_respects_len_not_nul),
		cmocka_unit_test(test_maps_parse_malformed_line_fails_whole_text),
		cmocka_unit_test(test_maps_parse_many_regions_grow),
		cmocka_unit_test(test_maps_special_maps_fixture_every_region),
		cmocka_unit_test(test_maps_special_maps_fixture_kind_counts),
		cmocka_unit_test(test_maps_special_maps_fixture_dev_numbers_and_inodes),
		cmocka_unit_test(test_maps_forktree_fixture_regions),
		cmocka_unit_test(test_maps_every_fixture_parses_in_address_order),
		cmocka_unit_test(test_maps_gunicorn_fixture_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
