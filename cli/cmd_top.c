/* cmd_top.c - `cowprof top`: the live TUI on a running tree
 *
 * The recorder (record/recorder.c) runs on a second thread and writes a
 * session file: the -o FILE, or a private temporary one deleted on exit.
 * The main thread runs the TUI's loop (tui/loop.c) on that file, which follows
 * it as it grows. The session's SQLite connection is created here before
 * the thread starts and from then on used by that thread alone, which
 * also closes it; the view reads the file through its own read-only
 * connections (the session is in WAL mode, so a reader never waits for
 * the writer nor sees half a sample).
 */
#include "cli/commands.h"
#include "cli/recording.h"
#include "common/format.h"
#include "common/util.h"
#include "record/recorder.h"
#include "store/session.h"
#include "tui/loop.h"
#include "tui/view.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const struct cli_command cli_top = {
	.name = "top",
	.fn = cmd_top,
	.synopsis = "[-i SEC] [-d SEC] [-o FILE] [--faults [--fault-period N|auto]]\n[--hung-after SEC] PID",
	.summary = "watch the tree under PID live in the terminal",
	.help =
		"Watch the running tree under PID live in the terminal (no restart, no\n"
		"change to it): the screens of 'cowprof view' on a recording made while\n"
		"you watch, kept at the newest sample. The recording is thrown away on\n"
		"exit unless -o names a file to keep it in. When the root exits, the\n"
		"screen stays, showing the end. q, Ctrl-C or SIGTERM quit.\n"
		"Needs a terminal of at least 80x24. Press ? for the keys.\n"
		"\n"
		"  -i, --interval SEC  seconds between samples (default 1, at least 0.05)\n"
		"  -d, --duration SEC  stop recording after SEC seconds (the screen stays)\n"
		"  -o, --output FILE   also keep the session in FILE (as 'record' writes)\n"
		"      --faults        also record who copies pages (perf, root): the\n"
		"                      call-sites screen (c) fills as the tree runs\n"
		"      --fault-period N  with --faults, sample every Nth first write (each\n"
		"                      sample then stands for N pages)\n"
		"      --fault-period auto  every first write, but one in 32 while a\n"
		"                      process makes more than 5,000 a second\n"
		"      --hung-after SEC  call a process hung when it stays blocked in one\n"
		"                      place, using no CPU and no memory, this long (10)\n"
		"  -h, --help          show this help\n"
		"      --version\n"
		"\n"
		"docs/tui.md describes the screens and keys.\n",
};

/* The longest interval + may set. */
#define TOP_MAX_INTERVAL_S 60.0
/* How often the view looks at the growing file, at most. */
#define TOP_CHECK_MAX_S 1.0
/* Waiting for the first sample: how often to look. */
#define FIRST_SAMPLE_POLL_NS 10000000L

struct top {
	int root;
	double interval_s;
	double duration_s;       /* 0: until the root exits or q */
	struct session *s;       /* the recorder thread's once it started */
	struct attach *fp;    /* --faults; the recorder thread frees it */
	volatile sig_atomic_t stop;  /* written with __atomic_store_n */
	atomic_bool sampled;     /* the first sample is in the file */
	atomic_bool done;        /* the recorder returned (e, sum, err set) */
	int e;
	struct recorder_summary sum;
	char err[512];
	_Atomic double interval_live;  /* the recorder's interval: + and - change it */
	bool paused;             /* p: the view stops following new samples */
	char live[2][80];        /* the header's status while recording: a new */
	int live_ix;             /* buffer on each change, so the view redraws */
};

/* The recorder calls this between samples: the first call tells that
 * the first sample is committed. The recorder sees the root exit itself. */
static bool sampled_hook(void *ctx)
{
	struct top *t = ctx;
	atomic_store(&t->sampled, true);
	return false;
}

static void lower_priority(void *ctx)
{
	(void)ctx;
	recording_lower_priority();
}

static void *recorder_thread(void *arg)
{
	struct top *t = arg;
	struct recorder_opts o = { .interval_s = t->interval_s,
				   .after_first = lower_priority,
				   .interval_live = &t->interval_live,
				   .duration_s = t->duration_s, .progress = false,
				   .stop = &t->stop, .root_done = sampled_hook,
				   .ctx = t, .fault_perf = t->fp };
	struct sink out;
	session_sink(t->s, &out);
	t->e = recorder_run(t->root, &out, &o, &t->sum, t->err, sizeof(t->err));
	recording_write_end_meta(t->s, &t->sum);
	recording_close_faults(t->fp, t->s, false);
	t->fp = NULL;
	session_close(t->s);
	t->s = NULL;
	atomic_store(&t->done, true);
	return NULL;
}

static void set_live_status(struct top *t)
{
	t->live_ix ^= 1;
	snprintf(t->live[t->live_ix], sizeof(t->live[0]), "%s, every %gs",
		 t->paused ? "paused (p resumes)" : "live",
		 atomic_load(&t->interval_live));
}

/* p pauses following (the recorder goes on); + and - double or halve the
 * interval, within RECORDER_MIN_INTERVAL_S and TOP_MAX_INTERVAL_S. */
static bool live_key(void *ctx, int key)
{
	struct top *t = ctx;
	double i = atomic_load(&t->interval_live);
	if (key == TUI_KEY_PAUSE)
		t->paused = !t->paused;
	else if (key == TUI_KEY_INTERVAL_UP && i * 2 <= TOP_MAX_INTERVAL_S)
		atomic_store(&t->interval_live, i * 2);
	else if (key == TUI_KEY_INTERVAL_DOWN && i / 2 >= RECORDER_MIN_INTERVAL_S)
		atomic_store(&t->interval_live, i / 2);
	set_live_status(t);
	return t->paused;
}

static const char *status_of(void *ctx)
{
	struct top *t = ctx;
	if (!atomic_load(&t->done))
		return t->live[t->live_ix];
	if (t->e < 0)
		return "recording failed";
	return t->sum.root_exited ? "root exited" : "recording ended";
}

/* Start the recorder thread with the terminal's signals blocked in it:
 * they go to the main thread, which restores the terminal. */
static int start_recorder(struct top *t, pthread_t *tid)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIGTSTP);
	sigaddset(&block, SIGCONT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int e = pthread_create(tid, NULL, recorder_thread, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -e;
}

/* ---- the session file ---- */

struct top_file {
	char *path;
	char *dir;               /* the private directory of a temporary one */
};

/* A private directory under $TMPDIR (or /tmp) holding session.db. */
static int temp_file(struct top_file *f, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	f->dir = xasprintf("%s/cowprof-top-XXXXXX", tmp);
	if (!mkdtemp(f->dir)) {
		int e = errno;
		format_error(err, errlen, -e, "top: cannot create a temporary "
			     "directory in %s: %s", tmp, strerror(e));
		free(f->dir);
		f->dir = NULL;
		return -e;
	}
	f->path = xasprintf("%s/session.db", f->dir);
	return 0;
}

/* Remove the session file with SQLite's side files. */
static void remove_session(const char *path)
{
	static const char *const side[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		char *p;
		p = xasprintf("%s%s", path, side[i]);
		unlink(p);
		free(p);
	}
}

/* Delete a temporary session (and its directory); keep an -o FILE unless
 * it holds nothing. */
static void finish_file(struct top_file *f, bool keep)
{
	if (f->dir || !keep)
		remove_session(f->path);
	if (f->dir)
		rmdir(f->dir);
	free(f->path);
	free(f->dir);
}

/* ---- the command ---- */

/* Wait for the recorder's first sample (or its end, or a signal). */
static void wait_first_sample(const struct top *t)
{
	struct timespec ts = { 0, FIRST_SAMPLE_POLL_NS };
	while (!atomic_load(&t->sampled) && !atomic_load(&t->done) && !tui_loop_signal())
		nanosleep(&ts, NULL);
}

int cmd_top(int argc, char **argv)
{
	struct recording_args a;
	int pid = 0, r = recording_parse_args(&cli_top, argc, argv, &a);
	if (r < 0)
		r = recording_parse_pid("top", argc, argv, a.first_arg, &pid);
	double interval_s = a.interval_s;
	const char *output = a.output;
	if (r >= 0)
		return r;
	if ((r = recording_check_root(pid)) >= 0)
		return r;

	struct top t;
	memset(&t, 0, sizeof(t));
	t.root = pid;
	t.interval_s = interval_s;
	t.duration_s = a.duration_s;
	atomic_init(&t.interval_live, interval_s);
	set_live_status(&t);

	struct top_file f = { 0 };
	if (output)
		f.path = xstrdup(output);
	else if (temp_file(&f, t.err, sizeof(t.err)) < 0) {
		cmd_error("%s", t.err);
		return EXIT_RUNTIME;
	}
	tui_loop_catch_signals();
	if (session_create(f.path, &t.s, t.err, sizeof(t.err)) < 0) {
		cmd_error("%s", t.err);
		finish_file(&f, true);  /* it was not ours to remove */
		return EXIT_RUNTIME;
	}
	recording_give_to_sudo_user(f.path);
	recording_write_meta(t.s, argc, argv, pid, 0, interval_s);
	recording_write_hung_after(t.s, &a);
	if ((r = recording_open_faults(&a, pid, &t.fp)) > 0) {
		session_close(t.s);
		finish_file(&f, false);
		return r;
	}
	if (t.fp)
		recording_say_following(t.fp);

	struct tui_view *v;
	if (tui_view_open(&v, "top", t.err, sizeof(t.err)) < 0) {
		recording_close_faults(t.fp, NULL, false);
		session_close(t.s);
		finish_file(&f, false);
		cmd_error("%s", t.err);
		return EXIT_RUNTIME;
	}
	pthread_t tid;
	if ((r = start_recorder(&t, &tid)) < 0) {
		tui_view_close(v);
		recording_close_faults(t.fp, NULL, false);
		session_close(t.s);
		finish_file(&f, false);
		cmd_error("top: cannot start the recorder: %s", strerror(-r));
		return EXIT_RUNTIME;
	}

	wait_first_sample(&t);
	char *title = NULL, verr[1024] = "";
	title = xasprintf("top %d", pid);
	struct tui_loop_opts o = {
		.title = title,
		.check_s = interval_s < TOP_CHECK_MAX_S ? interval_s : TOP_CHECK_MAX_S,
		.status = status_of,
		.live_key = live_key,
		.ctx = &t,
	};
	int vr = 0;
	if (atomic_load(&t.sampled) && !tui_loop_signal())
		vr = tui_loop((const char *const *)&f.path, 1, v, &o, verr,
			      sizeof(verr));
	free(title);

	__atomic_store_n(&t.stop, 1, __ATOMIC_RELAXED);
	pthread_join(tid, NULL);
	tui_view_close(v);

	struct stat st;
	if (stat(f.path, &st) == 0)
		t.sum.file_bytes = (uint64_t)st.st_size;
	bool keep = t.sum.samples > 0;
	int status = EXIT_OK;
	if (t.e < 0) {
		cmd_error("%s", t.err);
		status = EXIT_RUNTIME;
	} else if (vr < 0) {
		cmd_error("%s", verr);
		status = EXIT_RUNTIME;
	}
	if (output && keep)
		recording_print_summary(f.path, &t.sum);
	finish_file(&f, keep);
	return status;
}
