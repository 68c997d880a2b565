/* cmd_view.c - `cowprof view`: replay a recorded session in the terminal */
#include "analysis/analysis.h"
#include "cli/commands.h"
#include "store/session.h"
#include "common/util.h"
#include "tui/model.h"
#include "tui/view.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char usage[] =
	"usage: cowprof view FILE [FILE...]\n"
	"\n"
	"Replay a session recorded by 'cowprof record' or 'cowprof run' in the\n"
	"terminal: the tree with what each process shares with its parent, what\n"
	"it copied and how fast, at any time position of the recording; the\n"
	"copy-on-write timeline of a process or of the whole tree; its regions.\n"
	"With several files, it opens on the compare screen: their copy-on-write\n"
	"curves aligned on time since fork, and the figures 'cowprof compare'\n"
	"prints, side by side.\n"
	"A session still being written is followed as it grows.\n"
	"Needs a terminal of at least 80x24. Press ? for the keys, q to quit.\n"
	"\n"
	"  -h, --help           show this help\n"
	"      --version\n"
	"\n"
	"docs/tui.md describes the screens and keys.\n";

/* How often a growing session file is checked, in seconds. */
#define RELOAD_CHECK_S 1.0
/* How long a key is waited for: the replay's frame time. */
#define FRAME_MS 100

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

void view_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int view_signal(void)
{
	return stop_signal;
}

/* Parse the options; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTIONS,
		{ 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1)
		return cmd_other_option("view", usage, c, argv);
	if (optind >= argc) {
		cmd_error("view: missing FILE (see 'cowprof view --help')");
		return EXIT_USAGE;
	}
	return -1;
}

/* A loaded session and its analysis. */
struct loaded {
	struct session_data d;
	struct analysis a;
};

static int load(const char *path, struct loaded *l, char *err, size_t errlen)
{
	if (session_load(path, &l->d, err, errlen) < 0)
		return -1;
	analysis_init(&l->a, &l->d);
	return 0;
}

static void unload(struct loaded *l)
{
	analysis_release(&l->a);
	session_data_release(&l->d);
}

/* What tells that the file (and its WAL) changed. */
struct file_stamp {
	off_t size, wal_size;
	struct timespec mtime, wal_mtime;
};

static void stamp_of(const char *path, struct file_stamp *s)
{
	struct stat st;
	char wal[4096];
	memset(s, 0, sizeof(*s));
	if (stat(path, &st) == 0) {
		s->size = st.st_size;
		s->mtime = st.st_mtim;
	}
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &st) == 0) {
		s->wal_size = st.st_size;
		s->wal_mtime = st.st_mtim;
	}
}

static bool stamp_equal(const struct file_stamp *a, const struct file_stamp *b)
{
	return a->size == b->size && a->wal_size == b->wal_size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->wal_mtime.tv_sec == b->wal_mtime.tv_sec &&
	       a->wal_mtime.tv_nsec == b->wal_mtime.tv_nsec;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One followed file: its last stamp and two buffers, the one shown and a
 * spare the next load goes into. */
struct followed {
	const char *path;
	struct file_stamp stamp;
	struct loaded bufs[2];
	struct loaded *cur, *spare;
};

/* Reload file i if it changed; a failed read (a write in progress) keeps
 * what is shown. cur and spare swap on success. */
static bool maybe_reload(struct followed *f, size_t i, struct tui_model *m)
{
	struct file_stamp now;
	char err[256];
	stamp_of(f->path, &now);
	if (stamp_equal(&now, &f->stamp))
		return false;
	if (load(f->path, f->spare, err, sizeof(err)) < 0)
		return false;
	f->stamp = now;
	tui_model_set_source(m, i, &f->spare->d, &f->spare->a);
	unload(f->cur);
	struct loaded *t = f->cur;
	f->cur = f->spare;
	f->spare = t;
	return true;
}

static void run(struct tui_view *v, const struct view_opts *o,
		struct followed *files, size_t n)
{
	struct tui_model m;
	struct tui_source *src = xcalloc(n, sizeof(*src));
	for (size_t i = 0; i < n; i++)
		src[i] = (struct tui_source){ files[i].path, &files[i].cur->d,
					      &files[i].cur->a };
	tui_model_init_sessions(&m, src, n);
	free(src);
	double last = now_s(), checked = last, load_s = 0;
	bool dirty = true, paused = false;
	const char *status = NULL;
	while (!m.quit && !stop_signal) {
		const char *st = o->status ? o->status(o->ctx) : NULL;
		if (st != status) {
			status = st;
			tui_view_set_status(v, st);
			dirty = true;
		}
		if (dirty)
			tui_view_draw(v, &m, o->title);
		bool resized;
		enum tui_key k = tui_view_read_key(v, FRAME_MS, &resized);
		dirty = resized || tui_model_key(&m, k);
		if (k == TUI_KEY_CLICK)
			dirty |= tui_view_click(v, &m);
		if (o->live_key && (k == TUI_KEY_PAUSE || k == TUI_KEY_INTERVAL_UP ||
				    k == TUI_KEY_INTERVAL_DOWN))
			paused = o->live_key(o->ctx, k);
		double t = now_s();
		dirty |= tui_model_tick(&m, t - last);
		last = t;
		/* a large session takes a while to load: leave the CPU to the
		 * rest at least four times as long */
		if (!paused && t - checked >= o->check_s && t - checked >= 4 * load_s) {
			for (size_t i = 0; i < n; i++)
				dirty |= maybe_reload(&files[i], i, &m);
			checked = now_s();
			load_s = checked - t;
		}
	}
	tui_model_release(&m);
}

int view_run(const char *const *paths, size_t n, struct tui_view *v,
	     const struct view_opts *o, char *err, size_t errlen)
{
	struct followed *files = xcalloc(n, sizeof(*files));
	size_t loaded = 0;
	int r = 0;
	for (; loaded < n; loaded++) {
		struct followed *f = &files[loaded];
		f->path = paths[loaded];
		f->cur = &f->bufs[0];
		f->spare = &f->bufs[1];
		stamp_of(f->path, &f->stamp);
		if (load(f->path, f->cur, err, errlen) < 0) {
			r = -1;
			goto out;
		}
	}
	struct tui_view *own = NULL;
	if (!v) {
		view_catch_signals();
		if (tui_view_open(&own, "view", err, errlen) < 0) {
			r = -1;
			goto out;
		}
		v = own;
	}
	run(v, o, files, n);
	tui_view_close(own);
	r = stop_signal;
out:
	for (size_t i = 0; i < loaded; i++)
		unload(files[i].cur);
	free(files);
	return r;
}

int cmd_view(int argc, char **argv)
{
	int status = parse_args(argc, argv);
	if (status >= 0)
		return status;
	size_t n = (size_t)(argc - optind);
	char err[1024], *title = NULL;
	/* with several files the header names the one shown instead */
	if (asprintf(&title, "view%s%s", n > 1 ? "" : " ", n > 1 ? "" : argv[optind]) < 0)
		abort();
	struct view_opts o = { .title = title, .check_s = RELOAD_CHECK_S };
	int r = view_run((const char *const *)&argv[optind], n, NULL, &o, err,
			 sizeof(err));
	free(title);
	if (r < 0) {
		cmd_error("%s", err);
		return EXIT_RUNTIME;
	}
	return r ? 128 + r : EXIT_OK;
}
