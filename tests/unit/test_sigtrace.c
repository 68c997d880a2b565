/* test_sigtrace.c - decoding signal_generate, mark_victim and
 * sched_process_exit records captured from the perf ring */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collectors/sigtrace.h"
#include "fixture.h"

#define ROOT FIXTURE_DIR "/tracefs"

/* The pids of the capture (tests/fixtures/README, perf/). */
enum { TEST_PID = 9364, SLEEP_TERM = 9365, SLEEP_KILL = 9366, HOG = 9367, SH = 9417 };

static void layout(struct sigtrace_layout *l)
{
	struct tracefs_format f[3];
	assert_int_equal(tracefs_read_format_at(ROOT, "signal/signal_generate", &f[0]), 0);
	assert_int_equal(tracefs_read_format_at(ROOT, "oom/mark_victim", &f[1]), 0);
	assert_int_equal(tracefs_read_format_at(ROOT, "sched/sched_process_exit", &f[2]), 0);
	assert_int_equal(sigtrace_layout_init(l, &f[0], &f[1], &f[2]), 0);
	for (int i = 0; i < 3; i++)
		tracefs_format_release(&f[i]);
}

static int parse_fixture(const char *name, struct sigtrace_event *ev)
{
	struct sigtrace_layout l;
	layout(&l);
	char path[128];
	size_t len;
	snprintf(path, sizeof(path), "perf/%s.bin", name);
	char *buf = fixture_read(path, &len);
	int r = sigtrace_parse_record(&l, buf, len, ev);
	free(buf);
	return r;
}

static void test_sigtrace_sigterm_from_shell(void **state)
{
	(void)state;
	struct sigtrace_event ev;
	assert_int_equal(parse_fixture("signal-sigterm-from-sh", &ev), 1);
	assert_int_equal(ev.kind, SIGTRACE_SIGNAL);
	const struct sigtrace_signal *s = &ev.signal;
	assert_int_equal(s->sender_pid, SH);
	assert_int_equal(s->sender_tid, SH);
	assert_int_equal(s->sig, SIGTERM);
	assert_int_equal(s->code, 0);          /* SI_USER */
	assert_int_equal(s->target_tid, SLEEP_TERM);
	assert_string_equal(s->target_comm, "sleep");
	assert_true(s->group);
	assert_int_equal(s->result, SIGTRACE_DELIVERED);
	assert_string_equal(s->sender_comm, "");
	assert_false(s->sender_exited);
	/* no offset in the layout: the sample's own clock (MONOTONIC here) */
	assert_int_equal(s->t_ns, 9499960846613ULL);
}

static void test_sigtrace_sigkill_from_python_and_oom_kernel_kill(void **state)
{
	(void)state;
	struct sigtrace_event ev;
	assert_int_equal(parse_fixture("signal-sigkill-from-python", &ev), 1);
	assert_int_equal(ev.signal.sender_pid, TEST_PID);
	assert_int_equal(ev.signal.sig, SIGKILL);
	assert_int_equal(ev.signal.target_tid, SLEEP_KILL);
	assert_int_equal(ev.signal.code, 0);
	assert_int_equal(parse_fixture("signal-sigkill-oom", &ev), 1);
	assert_int_equal(ev.signal.sig, SIGKILL);
	assert_int_equal(ev.signal.code, 0x80);  /* SI_KERNEL: the OOM killer */
	assert_int_equal(ev.signal.sender_pid, HOG);
	assert_int_equal(ev.signal.target_tid, HOG);
	assert_string_equal(ev.signal.target_comm, "python3");
}

static void test_sigtrace_sigchld_to_an_ignoring_parent(void **state)
{
	(void)state;
	struct sigtrace_event ev;
	assert_int_equal(parse_fixture("signal-sigchld-ignored", &ev), 1);
	assert_int_equal(ev.signal.sig, SIGCHLD);
	assert_int_equal(ev.signal.code, 2);     /* CLD_KILLED */
	assert_int_equal(ev.signal.sender_pid, SLEEP_TERM);
	assert_int_equal(ev.signal.target_tid, TEST_PID);
	assert_int_equal(ev.signal.result, SIGTRACE_IGNORED);
}

static void test_sigtrace_mark_victim(void **state)
{
	(void)state;
	struct sigtrace_event ev;
	assert_int_equal(parse_fixture("oom-mark-victim", &ev), 1);
	assert_int_equal(ev.kind, SIGTRACE_OOM);
	const struct sigtrace_oom *o = &ev.oom;
	assert_int_equal(o->victim_pid, HOG);
	assert_int_equal(o->trigger_pid, HOG);
	assert_string_equal(o->victim_comm, "python3");
	/* the same figures as the kernel log line of this kill */
	assert_int_equal(o->total_vm_kb, 79876);
	assert_int_equal(o->anon_rss_kb, 68736);
	assert_int_equal(o->file_rss_kb, 5536);
	assert_int_equal(o->shmem_rss_kb, 0);
	assert_int_equal(o->pgtables_kb, 196);
	assert_int_equal(o->uid, 0);
	assert_true(o->has_oom_score_adj);
	assert_int_equal(o->oom_score_adj, 0);
}

static void test_sigtrace_exit_record(void **state)
{
	(void)state;
	struct sigtrace_event ev;
	assert_int_equal(parse_fixture("exit-sleep", &ev), 1);
	assert_int_equal(ev.kind, SIGTRACE_EXIT);
	assert_int_equal(ev.exit.pid, SLEEP_TERM);
	assert_int_equal(ev.exit.tid, SLEEP_TERM);
	assert_true(ev.exit.group_dead);
	assert_string_equal(ev.exit.comm, "sleep");
}

/* Without mark_victim in the layout its records are skipped, not misread. */
static void test_sigtrace_unknown_tracepoint_is_skipped(void **state)
{
	(void)state;
	struct tracefs_format f;
	struct sigtrace_layout l;
	assert_int_equal(tracefs_read_format_at(ROOT, "signal/signal_generate", &f), 0);
	assert_int_equal(sigtrace_layout_init(&l, &f, NULL, NULL), 0);
	tracefs_format_release(&f);
	size_t len;
	char *buf = fixture_read("perf/oom-mark-victim.bin", &len);
	struct sigtrace_event ev;
	assert_int_equal(sigtrace_parse_record(&l, buf, len, &ev), 0);
	free(buf);
}

static void test_sigtrace_layout_needs_its_fields(void **state)
{
	(void)state;
	const char *text = "name: signal_generate\nID: 261\nformat:\n"
			   "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
			   "\tfield:int sig;\toffset:8;\tsize:4;\tsigned:1;\n";
	struct tracefs_format f;
	struct sigtrace_layout l;
	assert_int_equal(tracefs_format_parse(text, strlen(text), &f), 0);
	assert_int_equal(sigtrace_layout_init(&l, &f, NULL, NULL), -EINVAL);
	tracefs_format_release(&f);
	const char *odd = "name: signal_generate\nID: 261\nformat:\n"
			  "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
			  "\tfield:int sig;\toffset:8;\tsize:3;\tsigned:1;\n"
			  "\tfield:int pid;\toffset:12;\tsize:4;\tsigned:1;\n"
			  "\tfield:int result;\toffset:16;\tsize:4;\tsigned:1;\n";
	assert_int_equal(tracefs_format_parse(odd, strlen(odd), &f), 0);
	assert_int_equal(sigtrace_layout_init(&l, &f, NULL, NULL), -EINVAL);
	tracefs_format_release(&f);
}

static void test_sigtrace_lost_and_truncated_records(void **state)
{
	(void)state;
	struct sigtrace_layout l;
	layout(&l);
	struct { struct perf_event_header h; uint64_t id, lost; } lost = {
		{ PERF_RECORD_LOST, 0, sizeof(lost) }, 1, 42 };
	struct sigtrace_event ev;
	assert_int_equal(sigtrace_parse_record(&l, &lost, sizeof(lost), &ev), 1);
	assert_int_equal(ev.kind, SIGTRACE_LOST);
	assert_int_equal(ev.lost, 42);
	size_t len;
	char *buf = fixture_read("perf/oom-mark-victim.bin", &len);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(sigtrace_parse_record(&l, buf, n, &ev), -EINVAL);
	/* a raw size past the record */
	buf[32] = (char)0xff;
	assert_int_equal(sigtrace_parse_record(&l, buf, len, &ev), -EINVAL);
	free(buf);
}

/* The live kernel: a signal this process sends shows up with us as sender. */
static int only_ours(const struct sigtrace_event *ev, void *ctx)
{
	int child = *(int *)ctx;
	return ev->kind == SIGTRACE_SIGNAL && ev->signal.target_tid == child;
}

static void test_sigtrace_live_kill(void **state)
{
	(void)state;
	struct sigtrace *st;
	char err[256];
	struct sigtrace_opts o = { .wakeup_bytes = 1 };
	if (sigtrace_open(&o, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "skipped: %s\n", err);
		skip();
	}
	pid_t child = fork();
	if (child == 0) {
		/* dies with the test: a failed assertion must not leave it
		 * holding the runner's pipe */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	struct timespec before;
	clock_gettime(CLOCK_REALTIME, &before);
	kill(child, SIGUSR1);
	waitpid(child, NULL, 0);
	struct sigtrace_event ev[16];
	int n = 0;
	for (int tries = 0; tries < 50 && n == 0; tries++) {
		struct pollfd p = { sigtrace_fd(st), POLLIN, 0 };
		poll(&p, 1, 20);
		n = sigtrace_read(st, ev, 16, only_ours, &child);
	}
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].signal.sender_pid, getpid());
	assert_int_equal(ev[0].signal.sig, SIGUSR1);
	assert_string_equal(ev[0].signal.sender_comm, "test_sigtrace");
	uint64_t t0 = (uint64_t)before.tv_sec * 1000000000ULL + (uint64_t)before.tv_nsec;
	/* realtime stamps (or converted ones) within a second of the kill */
	assert_true(ev[0].signal.t_ns + 1000000000ULL > t0);
	assert_true(ev[0].signal.t_ns < t0 + 1000000000ULL);
	assert_int_equal(sigtrace_lost(st), 0);
	sigtrace_close(st);
}

/* A kernel-side filter: only SIGUSR1 reaches the ring. */
static void test_sigtrace_live_signal_filter(void **state)
{
	(void)state;
	struct sigtrace *st;
	char err[256];
	struct sigtrace_opts o = { .wakeup_bytes = 1, .signal_filter = "sig == 10" };
	if (sigtrace_open(&o, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "skipped: %s\n", err);
		skip();
	}
	pid_t child = fork();
	if (child == 0) {
		/* dies with the test: a failed assertion must not leave it
		 * holding the runner's pipe */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGUSR2, SIG_IGN);
		for (;;)
			pause();
	}
	usleep(100000);
	kill(child, SIGUSR2);
	kill(child, SIGUSR1);
	waitpid(child, NULL, 0);
	struct sigtrace_event ev[16];
	int n = 0, got = 0;
	for (int tries = 0; tries < 20; tries++) {
		struct pollfd p = { sigtrace_fd(st), POLLIN, 0 };
		poll(&p, 1, 20);
		n = sigtrace_read(st, ev + got, 16 - (size_t)got, only_ours, &child);
		got += n;
	}
	assert_int_equal(got, 1);
	assert_int_equal(ev[0].signal.sig, SIGUSR1);
	sigtrace_close(st);
	struct sigtrace_opts bad = { .signal_filter = "sig ==" };
	assert_int_equal(sigtrace_open(&bad, &st, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "filter"));
}

/* A one-page ring: 88-byte records wrap its end mid-record; every one must
 * come out whole. */
static void test_sigtrace_live_small_ring_wraps(void **state)
{
	(void)state;
	struct sigtrace *st;
	char err[256];
	struct sigtrace_opts o = { .ring_pages = 1, .wakeup_bytes = 1,
				   .signal_filter = "sig == 12", .no_exit = true };
	if (sigtrace_open(&o, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "skipped: %s\n", err);
		skip();
	}
	pid_t child = fork();
	if (child == 0) {
		/* dies with the test: a failed assertion must not leave it
		 * holding the runner's pipe */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGUSR2, SIG_IGN);
		for (;;)
			pause();
	}
	usleep(100000);
	struct sigtrace_event ev[64];
	int total = 0;
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 30; i++)
			kill(child, SIGUSR2);
		int n;
		while ((n = sigtrace_read(st, ev, 64, only_ours, &child)) > 0) {
			for (int i = 0; i < n; i++) {
				assert_int_equal(ev[i].kind, SIGTRACE_SIGNAL);
				assert_int_equal(ev[i].signal.sig, SIGUSR2);
				assert_int_equal(ev[i].signal.sender_pid, getpid());
			}
			total += n;
		}
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_int_equal(sigtrace_lost(st), 0);
	assert_int_equal(total, 300);
	sigtrace_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigtrace_sigterm_from_shell),
		cmocka_unit_test(test_sigtrace_sigkill_from_python_and_oom_kernel_kill),
		cmocka_unit_test(test_sigtrace_sigchld_to_an_ignoring_parent),
		cmocka_unit_test(test_sigtrace_mark_victim),
		cmocka_unit_test(test_sigtrace_exit_record),
		cmocka_unit_test(test_sigtrace_unknown_tracepoint_is_skipped),
		cmocka_unit_test(test_sigtrace_layout_needs_its_fields),
		cmocka_unit_test(test_sigtrace_lost_and_truncated_records),
		cmocka_unit_test(test_sigtrace_live_kill),
		cmocka_unit_test(test_sigtrace_live_signal_filter),
		cmocka_unit_test(test_sigtrace_live_small_ring_wraps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
