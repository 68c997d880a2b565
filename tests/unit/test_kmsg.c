/* test_kmsg.c - OOM kill lines of /dev/kmsg */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "collectors/kmsg.h"
#include "fixture.h"

static int parse_fixture(const char *name, struct kmsg_oom *o)
{
	char path[128];
	size_t len;
	snprintf(path, sizeof(path), "kmsg/%s.txt", name);
	char *buf = fixture_read(path, &len);
	int r = kmsg_parse_record(buf, len, o);
	free(buf);
	return r;
}

static void test_kmsg_killed_line_gives_pid_comm_and_memory(void **state)
{
	(void)state;
	struct kmsg_oom o;
	assert_int_equal(parse_fixture("memcg-killed", &o), 1);
	assert_int_equal(o.kind, KMSG_OOM_KILLED);
	assert_int_equal(o.seq, 507);
	assert_int_equal(o.ts_us, 9393665074ULL);
	assert_int_equal(o.pid, 5088);
	assert_string_equal(o.comm, "python3");
	assert_true(o.memcg);
	assert_int_equal(o.total_vm_kb, 79864);
	assert_int_equal(o.anon_rss_kb, 68736);
	assert_int_equal(o.file_rss_kb, 5508);
	assert_int_equal(o.shmem_rss_kb, 0);
	assert_int_equal(o.uid, 0);
	assert_int_equal(o.pgtables_kb, 196);
	assert_int_equal(o.oom_score_adj, 0);
	assert_null(o.oom_memcg);
	kmsg_oom_release(&o);
}

static void test_kmsg_context_line_gives_cgroups(void **state)
{
	(void)state;
	struct kmsg_oom o;
	assert_int_equal(parse_fixture("memcg-context", &o), 1);
	assert_int_equal(o.kind, KMSG_OOM_CONTEXT);
	assert_int_equal(o.pid, 5088);
	assert_string_equal(o.comm, "python3");
	assert_string_equal(o.constraint, "CONSTRAINT_MEMCG");
	const char *cg = "/process_api/fc694e73b4b7a995ca28196c29bb15ca/cowprof-oom-4918";
	assert_string_equal(o.oom_memcg, cg);
	assert_string_equal(o.task_memcg, cg);
	assert_int_equal(o.uid, 0);
	kmsg_oom_release(&o);
}

static void test_kmsg_other_oom_lines_are_not_kills(void **state)
{
	(void)state;
	struct kmsg_oom o;
	assert_int_equal(parse_fixture("invoked", &o), 0);
	assert_int_equal(o.seq, 428);
	assert_int_equal(parse_fixture("tasks-state", &o), 0);
	assert_null(o.comm);
}

/* Commas and ") total-vm:" inside names must not cut them. */
static void test_kmsg_odd_names(void **state)
{
	(void)state;
	const char *ctx = "6,9,10,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),"
			  "cpuset=/,mems_allowed=0,oom_memcg=/a,b,task_memcg=/a,b/c=d,"
			  "task=x,pid=1,pid=42,uid=1000\n";
	struct kmsg_oom o;
	assert_int_equal(kmsg_parse_record(ctx, strlen(ctx), &o), 1);
	assert_string_equal(o.oom_memcg, "/a,b");
	assert_string_equal(o.task_memcg, "/a,b/c=d");
	assert_string_equal(o.comm, "x,pid=1");
	assert_int_equal(o.pid, 42);
	assert_int_equal(o.uid, 1000);
	kmsg_oom_release(&o);
	const char *kill = "3,10,11,-;Out of memory: Killed process 7 (a) total-vm:1kB) "
			   "total-vm:5kB, anon-rss:2kB, file-rss:1kB, shmem-rss:0kB, UID:0 "
			   "pgtables:4kB oom_score_adj:-17\n SUBSYSTEM=x\n";
	assert_int_equal(kmsg_parse_record(kill, strlen(kill), &o), 1);
	assert_false(o.memcg);
	assert_int_equal(o.pid, 7);
	assert_string_equal(o.comm, "a) total-vm:1kB");
	assert_int_equal(o.total_vm_kb, 5);
	assert_int_equal(o.oom_score_adj, -17);
	kmsg_oom_release(&o);
}

static void test_kmsg_truncated_records(void **state)
{
	(void)state;
	size_t len;
	char *buf = fixture_read("kmsg/memcg-killed.txt", &len);
	struct kmsg_oom o;
	for (size_t n = 0; n < len; n++) {
		char *copy = malloc(n ? n : 1);
		memcpy(copy, buf, n);
		int r = kmsg_parse_record(copy, n, &o);
		assert_true(r >= -22 && r <= 1);
		if (r == 1)
			kmsg_oom_release(&o);
		free(copy);
	}
	assert_int_equal(kmsg_parse_record("garbage", 7, &o), -22);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kmsg_killed_line_gives_pid_comm_and_memory),
		cmocka_unit_test(test_kmsg_context_line_gives_cgroups),
		cmocka_unit_test(test_kmsg_other_oom_lines_are_not_kills),
		cmocka_unit_test(test_kmsg_odd_names),
		cmocka_unit_test(test_kmsg_truncated_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
