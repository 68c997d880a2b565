/* test_pftrace.c - decoding page_fault_user samples and the fork, exit
 * and lost records captured from the perf ring (tests/fixtures/pftrace) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/pftrace.h"
#include "collectors/unwind.h"
#include "fixture.h"

#define ROOT FIXTURE_DIR "/tracefs"

/* The capture (tests/fixtures/README, pftrace/): cowwriters 2080 and
 * its child 2123. */
enum { PARENT = 2080, CHILD = 2123, GRANDPARENT = 2015 };

static void layout(struct pftrace_layout *l)
{
	struct tracefs_format f;
	assert_int_equal(tracefs_read_format_at(ROOT, "exceptions/page_fault_user", &f), 0);
	assert_int_equal(pftrace_layout_init(l, &f, UNWIND_PERF_REGS_MASK, 4096), 0);
	tracefs_format_release(&f);
}

static char *load(const char *name, size_t *len)
{
	char path[128];
	snprintf(path, sizeof(path), "pftrace/%s.bin", name);
	return fixture_read(path, len);
}

static int parse(const char *name, struct pftrace_record *r, char **keep)
{
	struct pftrace_layout l;
	layout(&l);
	size_t len;
	char *buf = load(name, &len);
	int e = pftrace_parse_record(&l, buf, len, r);
	*keep = buf;
	return e;
}

static void test_pftrace_layout_from_format(void **state)
{
	(void)state;
	struct pftrace_layout l;
	layout(&l);
	assert_int_equal(l.id, 190);
	assert_int_equal(l.address.off, 8);
	assert_int_equal(l.ip.off, 16);
	assert_int_equal(l.error_code.off, 24);
	assert_int_equal(l.stack_size, 4096);
}

static void test_pftrace_layout_refuses_odd_stack(void **state)
{
	(void)state;
	struct tracefs_format f;
	struct pftrace_layout l;
	assert_int_equal(tracefs_read_format_at(ROOT, "exceptions/page_fault_user", &f), 0);
	assert_int_equal(pftrace_layout_init(&l, &f, 0, 4095), -EINVAL);
	assert_int_equal(pftrace_layout_init(&l, &f, 0, 65536), -EINVAL);
	tracefs_format_release(&f);
	/* another tracepoint lacks the fields */
	assert_int_equal(tracefs_read_format_at(ROOT, "signal/signal_generate", &f), 0);
	assert_int_equal(pftrace_layout_init(&l, &f, 0, 4096), -EINVAL);
	tracefs_format_release(&f);
}

static void test_pftrace_child_sample(void **state)
{
	(void)state;
	struct pftrace_record r;
	char *buf;
	assert_int_equal(parse("sample-child", &r, &buf), 1);
	assert_int_equal(r.kind, PFTRACE_SAMPLE);
	assert_int_equal(r.pid, CHILD);
	assert_int_equal(r.tid, CHILD);
	assert_int_equal(r.addr, 139659192916616ULL);
	assert_int_equal(r.ip, 139659191844566ULL);
	assert_int_equal(r.error_code, 7);
	assert_true(pftrace_is_cow(&r));
	assert_int_equal(r.abi, PERF_SAMPLE_REGS_ABI_64);
	assert_int_equal(r.nregs, 20);
	assert_int_equal(r.stack_len, 4096);
	/* the sampled ip is the tracepoint's ip, and sp points into user space */
	uint64_t regs[UNWIND_NREGS];
	unwind_regs_from_perf(r.regs, UNWIND_PERF_REGS_MASK, regs);
	assert_int_equal(regs[UNWIND_REG_IP], r.ip);
	assert_true(regs[UNWIND_REG_SP] > 0x7f0000000000ULL);
	assert_true(regs[UNWIND_REG_SP] < 0x800000000000ULL);
	free(buf);
}

/* The events pftrace opens put their id first (PERF_SAMPLE_IDENTIFIER):
 * the captured child sample with an id spliced in after its header. */
static void test_pftrace_sample_with_id(void **state)
{
	(void)state;
	struct pftrace_layout l;
	layout(&l);
	l.ids = true;
	size_t len;
	char *buf = load("sample-child", &len);
	struct perf_event_header h;
	memcpy(&h, buf, sizeof(h));
	char *with = malloc(len + 8);
	uint64_t id = 0x1234567890ULL;
	memcpy(with, buf, sizeof(h));
	memcpy(with + sizeof(h), &id, 8);
	memcpy(with + sizeof(h) + 8, buf + sizeof(h), len - sizeof(h));
	h.size = (uint16_t)(h.size + 8);
	memcpy(with, &h, sizeof(h));
	struct pftrace_record r;
	assert_int_equal(pftrace_parse_record(&l, with, len + 8, &r), 1);
	assert_int_equal(r.id, id);
	assert_int_equal(r.pid, CHILD);
	assert_int_equal(r.addr, 139659192916616ULL);
	assert_int_equal(r.stack_len, 4096);
	assert_int_equal(r.period, 1);
	/* read without ids, the id would be taken for pid and tid */
	l.ids = false;
	assert_int_equal(pftrace_parse_record(&l, buf, len, &r), 1);
	assert_int_equal(r.id, 0);
	free(with);
	free(buf);
}

static void test_pftrace_parent_sample(void **state)
{
	(void)state;
	struct pftrace_record r;
	char *buf;
	assert_int_equal(parse("sample", &r, &buf), 1);
	assert_int_equal(r.pid, PARENT);
	assert_int_equal(r.addr, 140729095486536ULL);   /* its stack */
	assert_int_equal(r.ip, 139659191845006ULL);
	assert_int_equal(r.error_code, 7);
	/* 1795442449.824460 s, as faultwatch printed it (CLOCK_MONOTONIC
	 * shifted by the offset at open: here 0, so the raw stamp) */
	assert_true(r.t_ns > 0);
	free(buf);
}

static void test_pftrace_fork_exit_lost(void **state)
{
	(void)state;
	struct pftrace_record r;
	char *buf;
	assert_int_equal(parse("fork", &r, &buf), 1);
	assert_int_equal(r.kind, PFTRACE_FORK);
	assert_int_equal(r.pid, CHILD);
	assert_int_equal(r.ppid, PARENT);
	assert_int_equal(r.tid, CHILD);
	free(buf);
	assert_int_equal(parse("exit", &r, &buf), 1);
	assert_int_equal(r.kind, PFTRACE_EXIT);
	assert_int_equal(r.pid, CHILD);
	assert_int_equal(r.ppid, PARENT);
	free(buf);
	assert_int_equal(parse("lost", &r, &buf), 1);
	assert_int_equal(r.kind, PFTRACE_LOST);
	assert_true(r.lost > 0);
	free(buf);
}

static void test_pftrace_truncated_sample_is_malformed(void **state)
{
	(void)state;
	struct pftrace_layout l;
	layout(&l);
	size_t len;
	char *buf = load("sample-child", &len);
	struct pftrace_record r;
	/* a header claiming more than there is */
	assert_int_equal(pftrace_parse_record(&l, buf, len - 8, &r), -EINVAL);
	/* a header whose size cuts the stack copy short */
	struct perf_event_header h;
	memcpy(&h, buf, sizeof(h));
	h.size = (uint16_t)(len - 16);
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(pftrace_parse_record(&l, buf, len, &r), -EINVAL);
	assert_null(r.stack);
	free(buf);
	assert_int_equal(pftrace_parse_record(&l, "abc", 3, &r), -EINVAL);
}

static void test_pftrace_other_tracepoint_skipped(void **state)
{
	(void)state;
	struct pftrace_layout l;
	layout(&l);
	size_t len;
	char *buf = load("sample-child", &len);
	/* common_type at the start of the raw data (after pid, tid, time,
	 * raw size): another tracepoint's id */
	size_t at = sizeof(struct perf_event_header) + 8 + 8 + 4;
	uint16_t other = 191;
	memcpy(buf + at, &other, 2);
	struct pftrace_record r;
	assert_int_equal(pftrace_parse_record(&l, buf, len, &r), 0);
	free(buf);
}

static void test_pftrace_read_fault_is_not_cow(void **state)
{
	(void)state;
	struct pftrace_record r = { .error_code = 6 };   /* not present */
	assert_false(pftrace_is_cow(&r));
	r.error_code = 5;                                   /* a read */
	assert_false(pftrace_is_cow(&r));
	r.error_code = 7 | 0x20;
	assert_true(pftrace_is_cow(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pftrace_layout_from_format),
		cmocka_unit_test(test_pftrace_layout_refuses_odd_stack),
		cmocka_unit_test(test_pftrace_child_sample),
		cmocka_unit_test(test_pftrace_sample_with_id),
		cmocka_unit_test(test_pftrace_parent_sample),
		cmocka_unit_test(test_pftrace_fork_exit_lost),
		cmocka_unit_test(test_pftrace_truncated_sample_is_malformed),
		cmocka_unit_test(test_pftrace_other_tracepoint_skipped),
		cmocka_unit_test(test_pftrace_read_fault_is_not_cow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
