/* test_tracefs.c - tracepoint format files */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "collectors/tracefs.h"
#include "fixture.h"

#define ROOT FIXTURE_DIR "/tracefs"

static void expect_field(const struct tracefs_format *f, const char *name,
			 uint32_t off, uint32_t size, bool sgn)
{
	const struct tracefs_field *fd = tracefs_format_field(f, name);
	assert_non_null(fd);
	assert_int_equal(fd->offset, off);
	assert_int_equal(fd->size, size);
	assert_int_equal(fd->is_signed, sgn);
}

static void test_tracefs_signal_generate_fields_by_name(void **state)
{
	(void)state;
	struct tracefs_format f;
	assert_int_equal(tracefs_read_format_at(ROOT, "signal/signal_generate", &f), 0);
	assert_string_equal(f.name, "signal_generate");
	assert_int_equal(f.id, 261);
	assert_int_equal(f.nfields, 11);
	expect_field(&f, "common_type", 0, 2, false);
	expect_field(&f, "common_pid", 4, 4, true);
	expect_field(&f, "sig", 8, 4, true);
	expect_field(&f, "errno", 12, 4, true);
	expect_field(&f, "code", 16, 4, true);
	expect_field(&f, "comm", 20, 16, false);
	expect_field(&f, "pid", 36, 4, true);
	expect_field(&f, "group", 40, 4, true);
	expect_field(&f, "result", 44, 4, true);
	assert_string_equal(tracefs_format_field(&f, "comm")->type, "char comm[16]");
	assert_false(tracefs_format_field(&f, "comm")->data_loc);
	assert_null(tracefs_format_field(&f, "nosuch"));
	assert_int_equal(f.record_size, 48);
	tracefs_format_release(&f);
	assert_null(f.fields);
}

static void test_tracefs_mark_victim_has_data_loc_comm(void **state)
{
	(void)state;
	struct tracefs_format f;
	assert_int_equal(tracefs_read_format_at(ROOT, "oom/mark_victim", &f), 0);
	assert_int_equal(f.id, 609);
	expect_field(&f, "pid", 8, 4, true);
	expect_field(&f, "total_vm", 16, 8, false);
	expect_field(&f, "anon_rss", 24, 8, false);
	expect_field(&f, "file_rss", 32, 8, false);
	expect_field(&f, "shmem_rss", 40, 8, false);
	expect_field(&f, "uid", 48, 4, false);
	expect_field(&f, "pgtables", 56, 8, false);
	expect_field(&f, "oom_score_adj", 64, 2, true);
	const struct tracefs_field *comm = tracefs_format_field(&f, "comm");
	assert_non_null(comm);
	assert_true(comm->data_loc);
	assert_int_equal(comm->offset, 12);
	tracefs_format_release(&f);
}

static void test_tracefs_page_fault_user(void **state)
{
	(void)state;
	struct tracefs_format f;
	assert_int_equal(tracefs_read_format_at(ROOT, "exceptions/page_fault_user", &f), 0);
	assert_int_equal(f.id, 190);
	expect_field(&f, "address", 8, 8, false);
	expect_field(&f, "ip", 16, 8, false);
	expect_field(&f, "error_code", 24, 8, false);
	tracefs_format_release(&f);
}

static void test_tracefs_sched_process_exit(void **state)
{
	(void)state;
	struct tracefs_format f;
	assert_int_equal(tracefs_read_format_at(ROOT, "sched/sched_process_exit", &f), 0);
	assert_int_equal(f.id, 369);
	expect_field(&f, "comm", 8, 16, false);
	expect_field(&f, "pid", 24, 4, true);
	expect_field(&f, "group_dead", 32, 1, false);
	tracefs_format_release(&f);
}

static void test_tracefs_missing_event_is_enoent(void **state)
{
	(void)state;
	struct tracefs_format f;
	assert_int_equal(tracefs_read_format_at(ROOT, "signal/nosuch", &f), -ENOENT);
}

static void test_tracefs_malformed_formats(void **state)
{
	(void)state;
	struct tracefs_format f;
	const char *no_id = "name: x\nformat:\n\tfield:int a;\toffset:8;\tsize:4;\tsigned:1;\n";
	assert_int_equal(tracefs_format_parse(no_id, strlen(no_id), &f), -EINVAL);
	const char *bad_off = "name: x\nID: 3\nformat:\n\tfield:int a;\toffset:x;\tsize:4;\tsigned:1;\n";
	assert_int_equal(tracefs_format_parse(bad_off, strlen(bad_off), &f), -EINVAL);
	const char *no_name = "name: x\nID: 3\nformat:\n\tfield: [4];\toffset:8;\tsize:4;\tsigned:1;\n";
	assert_int_equal(tracefs_format_parse(no_name, strlen(no_name), &f), -EINVAL);
	const char *ok = "name: x\nID: 3\nformat:\n\tfield:unsigned long b[2];\toffset:8;\tsize:16;\tsigned:0;\n";
	assert_int_equal(tracefs_format_parse(ok, strlen(ok), &f), 0);
	expect_field(&f, "b", 8, 16, false);
	tracefs_format_release(&f);
	/* every prefix of a real file parses or fails cleanly */
	size_t len;
	char *text = fixture_read("tracefs/events/oom/mark_victim/format", &len);
	for (size_t n = 0; n < len; n++) {
		int r = tracefs_format_parse(text, n, &f);
		assert_true(r == 0 || r == -EINVAL);
		tracefs_format_release(&f);
	}
	free(text);
}

/* The live kernel: the mounted tracefs or a private mount, and no mount
 * left behind. */
static void test_tracefs_live_read_leaves_no_mount(void **state)
{
	(void)state;
	const char *ev[] = { "signal/signal_generate", "nosuch/event" };
	struct tracefs_format f[2];
	char err[256];
	int r = tracefs_read_formats(ev, 2, f, err, sizeof(err));
	if (r == -EPERM || r == -EACCES)
		skip();
	assert_int_equal(r, 0);
	assert_true(f[0].id > 0);
	assert_non_null(tracefs_format_field(&f[0], "sig"));
	assert_int_equal(f[1].id, 0);
	tracefs_format_release(&f[0]);
	char *mounts;
	size_t len;
	assert_int_equal(util_read_file("/proc/self/mounts", &mounts, &len), 0);
	assert_null(strstr(mounts, "cowprof-tracefs."));
	free(mounts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tracefs_signal_generate_fields_by_name),
		cmocka_unit_test(test_tracefs_mark_victim_has_data_loc_comm),
		cmocka_unit_test(test_tracefs_page_fault_user),
		cmocka_unit_test(test_tracefs_sched_process_exit),
		cmocka_unit_test(test_tracefs_missing_event_is_enoent),
		cmocka_unit_test(test_tracefs_malformed_formats),
		cmocka_unit_test(test_tracefs_live_read_leaves_no_mount),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
