/* loop.c - the TUI's loop: load sessions, follow them as they grow, draw
 * the model and take keys until q or a signal */
#include "tui/loop.h"

#include "analysis/analysis.h"
#include "common/util.h"
#include "store/session.h"
#include "tui/model.h"
#include "tui/view.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* How long a key is waited for: the replay's frame time. */
#define FRAME_MS 100

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

void tui_loop_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int tui_loop_signal(void)
{
	return stop_signal;
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

static void run(struct tui_view *v, const struct tui_loop_opts *o,
		struct followed *files, size_t n)
{
	struct tui_model m;
	struct tui_source *src = xcalloc(n, sizeof(*src));
	for (size_t i = 0; i < n; i++)
		src[i] = (struct tui_source){ files[i].path, &files[i].cur->d,
					      &files[i].cur->a };
	tui_model_init_sessions(&m, src, n);
	free(src);
	double last = util_clock_s(CLOCK_MONOTONIC), checked = last, load_s = 0;
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
		double t = util_clock_s(CLOCK_MONOTONIC);
		dirty |= tui_model_tick(&m, t - last);
		last = t;
		/* a large session takes a while to load: leave the CPU to the
		 * rest at least four times as long */
		if (!paused && t - checked >= o->check_s && t - checked >= 4 * load_s) {
			for (size_t i = 0; i < n; i++)
				dirty |= maybe_reload(&files[i], i, &m);
			checked = util_clock_s(CLOCK_MONOTONIC);
			load_s = checked - t;
		}
	}
	tui_model_release(&m);
}

int tui_loop(const char *const *paths, size_t n, struct tui_view *v,
	     const struct tui_loop_opts *o, char *err, size_t errlen)
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
		tui_loop_catch_signals();
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

