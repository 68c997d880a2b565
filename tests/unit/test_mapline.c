/* test_mapline.c - the preload library's in-place maps line parser, checked
 * line by line against collectors/maps.c on real maps files */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/maps.h"
#include "fixture.h"
#include "preload/mapline.h"

/* Every line of the fixture parses to the same start, end, permissions,
 * inode and path as maps_parse gives (the path up to " (deleted)", which
 * mapline keeps). Returns the number of lines. */
static size_t same_as_maps_parse(const char *rel)
{
	size_t len;
	char *text = fixture_read(rel, &len);
	struct maps_region *v;
	size_t n;
	assert_int_equal(maps_parse(text, len, &v, &n), 0);
	const char *p = text;
	struct mapline m;
	size_t i = 0;
	while (mapline_next(&p, &m)) {
		assert_true(i < n);
		assert_int_equal(m.start, v[i].start);
		assert_int_equal(m.end, v[i].end);
		assert_int_equal(m.perms[0] == 'r', v[i].read);
		assert_int_equal(m.perms[1] == 'w', v[i].write);
		assert_int_equal(m.perms[2] == 'x', v[i].exec);
		assert_int_equal(m.perms[3] == 's', v[i].shared);
		assert_int_equal(m.inode, v[i].inode);
		size_t plen = strlen(v[i].path);
		assert_true(m.pathlen >= plen);
		assert_memory_equal(m.path, v[i].path, plen);
		if (m.pathlen > plen)
			assert_true(v[i].deleted);
		i++;
	}
	assert_int_equal(i, n);
	maps_free(v, n);
	free(text);
	return n;
}

static void test_mapline_matches_maps_parse_on_special_mappings(void **state)
{
	(void)state;
	/* heap, stack, vdso, vvar, shmem, SysV, memfd, deleted, spaces */
	assert_true(same_as_maps_parse("proc/special_maps/11299/maps") > 20);
}

static void test_mapline_matches_maps_parse_on_python_and_forktree(void **state)
{
	(void)state;
	assert_true(same_as_maps_parse("proc/gunicorn/10806/maps") > 100);
	assert_true(same_as_maps_parse("proc/forktree/10574/maps") > 10);
	assert_true(same_as_maps_parse("proc/forktree_thp/10660/maps") > 10);
}

static void test_mapline_last_line_without_newline_and_end(void **state)
{
	(void)state;
	const char *text = "7f00-7f10 rw-p 00000000 00:00 0 \n"
			   "7f20-7f30 r--p 00001000 fe:00 42     /lib/x y.so";
	const char *p = text;
	struct mapline m;
	assert_true(mapline_next(&p, &m));
	assert_int_equal(m.start, 0x7f00);
	assert_int_equal(m.end, 0x7f10);
	assert_string_equal(m.perms, "rw-p");
	assert_int_equal(m.inode, 0);
	assert_int_equal(m.pathlen, 0);
	assert_true(mapline_next(&p, &m));
	assert_int_equal(m.inode, 42);
	assert_int_equal(m.pathlen, strlen("/lib/x y.so"));
	assert_memory_equal(m.path, "/lib/x y.so", m.pathlen);
	assert_false(mapline_next(&p, &m));
	assert_false(mapline_next(&p, &m));
}

static void test_mapline_malformed_line_gives_dashes(void **state)
{
	(void)state;
	const char *p = "zz\n";
	struct mapline m;
	assert_true(mapline_next(&p, &m));
	assert_int_equal(m.start, 0);
	assert_int_equal(m.end, 0);
	assert_int_equal(m.pathlen, 0);
	assert_false(mapline_next(&p, &m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapline_matches_maps_parse_on_special_mappings),
		cmocka_unit_test(test_mapline_matches_maps_parse_on_python_and_forktree),
		cmocka_unit_test(test_mapline_last_line_without_newline_and_end),
		cmocka_unit_test(test_mapline_malformed_line_gives_dashes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
