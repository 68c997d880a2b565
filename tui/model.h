/* model.h - what the TUI shows of a recorded session, with no ncurses
 *
 * The model holds the rows of the tree screen at the current time position
 * (a sample index), the selection, scroll, sort, playback and the current
 * screen. It takes abstract keys (enum tui_key) and is driven by the
 * drawing layer (tui/view.c), which alone calls ncurses; tests drive it
 * headless. It reads a session only through session_data and analysis
 * (the same data the reports use), which the caller owns and may replace
 * with tui_model_set_data when the file grows.
 *
 * Time position: sample k. A process's figures at k are those of its
 * latest point at or before k. A process is hidden at k when it was forked
 * after sample k's time and has no point at or before k; it is exited at k
 * when its recorded exit time is at or before sample k's time (or, without
 * an exit record, when it vanished: its last point is before k).
 */
#ifndef COWPROF_TUI_MODEL_H
#define COWPROF_TUI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/analysis.h"
#include "analysis/callsites.h"
#include "report/report.h"
#include "store/session.h"

enum tui_key {
	TUI_KEY_NONE,
	TUI_KEY_UP,
	TUI_KEY_DOWN,
	TUI_KEY_PGUP,
	TUI_KEY_PGDN,
	TUI_KEY_LEFT,            /* seek one sample back */
	TUI_KEY_RIGHT,           /* seek one sample forward */
	TUI_KEY_HOME,            /* g: first sample */
	TUI_KEY_END,             /* G: last sample */
	TUI_KEY_ENTER,           /* focus the selected process: its timeline */
	TUI_KEY_TAB,             /* next screen */
	TUI_KEY_SORT,            /* next sort column */
	TUI_KEY_PLAY,            /* play / pause */
	TUI_KEY_SLOWER,
	TUI_KEY_FASTER,
	TUI_KEY_HELP,            /* help, or back from it */
	TUI_KEY_QUIT,
	TUI_KEY_SCREEN_1,
	TUI_KEY_SCREEN_2,
	TUI_KEY_SCREEN_3,
	TUI_KEY_SCREEN_4,
	TUI_KEY_SCREEN_5,
	TUI_KEY_CURVE,           /* c: the compare screen's next curve */
	TUI_KEY_ALL,             /* a: call sites of the whole tree / the process */
	TUI_KEY_CLICK,           /* a mouse click: the view places it */
	/* live mode (top) only; the model ignores them */
	TUI_KEY_PAUSE,           /* p: stop / resume following new samples */
	TUI_KEY_INTERVAL_UP,     /* +: sample half as often */
	TUI_KEY_INTERVAL_DOWN,   /* -: sample twice as often */
};

enum tui_screen {
	TUI_SCREEN_TREE,
	TUI_SCREEN_TIMELINE,
	TUI_SCREEN_REGIONS,
	TUI_SCREEN_CALLSITES,
	TUI_SCREEN_COMPARE,
	TUI_SCREEN_HELP,
	TUI_NSCREENS,
};

enum tui_sort {
	TUI_SORT_TREE,           /* tree order (parents before children) */
	TUI_SORT_RSS,            /* largest first */
	TUI_SORT_COPIED,
	TUI_SORT_RATE,
	TUI_NSORTS,
};

/* Replay speeds, times real time; index TUI_SPEED_DEFAULT is 1x. */
#define TUI_NSPEEDS 9
#define TUI_SPEED_DEFAULT 2

/* One process as shown at the current time position. */
struct tui_row {
	size_t proc;             /* index into session_data.procs */
	int depth;               /* tree depth (indentation) */
	bool sampled;            /* has a point at or before the time position */
	bool exited;             /* exited at or before the time position */
	struct cow_figures fig;  /* its latest point at or before; 0 if none */
	double point_t;          /* time of that point; 0 if none */
	double age_s;            /* from fork to the time position (or exit) */
	double rate_kbps;        /* copied_kb / (point_t - fork), 0 if no time */
};

/* One region of the selected process at the time position. */
struct tui_region_row {
	size_t region;           /* index into the process's regions */
	struct cow_figures fig;
};

/* The curves of the compare screen, over time since the session's first
 * fork: what workers (children of the root) share with their parent and
 * what they copied, on average over the workers alive at a sample, or
 * summed over the whole tree (every process but the root). */
enum tui_curve {
	TUI_CURVE_COPIED_WORKER,
	TUI_CURVE_SHARED_WORKER,
	TUI_CURVE_COPIED_TREE,
	TUI_CURVE_SHARED_TREE,
	TUI_NCURVES,
};

/* One session as given to the model: borrowed, replaced on reload. */
struct tui_source {
	const char *path;        /* as the user named it; NULL: "session" */
	const struct session_data *d;
	const struct analysis *a;
};

/* One session of the model, with its compare curves. */
struct tui_session {
	struct tui_source src;
	char *label;             /* "name: target" (allocated) */
	double fork_t;           /* its first child's fork, else its start */
	size_t first;            /* its first sample at or after fork_t */
	size_t n;                /* samples from first on */
	double *t_s;             /* their times since fork_t */
	uint64_t *curve[TUI_NCURVES];  /* their values, kB */
	/* where the other screens were on it while another was shown */
	int64_t sel_id;
	size_t sample;
	bool at_end;
};

/* An exited process stays in the tree screen, greyed with how it ended,
 * this long after its exit (at the time position shown). */
#define TUI_EXITED_KEEP_S 60.0

struct tui_model {
	const struct session_data *d;  /* the current session's */
	const struct analysis *a;
	struct tui_session *sessions;  /* every session given, in order */
	struct report_column *cols;    /* their compare figures (cols[0]: base) */
	size_t nsessions;
	size_t cur;              /* the session the other screens show */
	enum tui_curve curve;    /* the compare screen's curve */
	bool sites_tree;         /* call sites of the whole tree, not the selection */
	double exited_keep_s;    /* how long an exited process stays listed
				  * after its exit (0: TUI_EXITED_KEEP_S) */
	struct tui_row *rows;    /* visible processes, in display order */
	size_t nrows;
	size_t sample;           /* time position; 0 when there are no samples */
	int64_t sel_id;          /* session id of the selected process, 0: none */
	size_t sel_row;          /* its row, or its nearest shown ancestor's */
	size_t top;              /* first row shown */
	size_t page_rows;        /* rows the view can show (set by the view) */
	size_t region_top;       /* first region row shown */
	enum tui_sort sort;
	enum tui_screen screen;
	enum tui_screen back;    /* where help returns to */
	bool playing;
	int speed;               /* index into the speeds */
	double play_t;           /* replay clock (session time) while playing */
	bool quit;
};

/* Set up m on d and a (borrowed: they must outlive m or be replaced with
 * tui_model_set_data). Starts at the last sample on the tree screen with
 * the root selected, paused at 1x. */
void tui_model_init(struct tui_model *m, const struct session_data *d,
		    const struct analysis *a);

/* Set up m on n >= 1 sessions (borrowed, as for tui_model_init) on the
 * first one; on the compare screen when n > 1. */
void tui_model_init_sessions(struct tui_model *m, const struct tui_source *src,
			     size_t n);

/* Free what m holds (not m, nor the session). */
void tui_model_release(struct tui_model *m);

/* Replace the session (a reload of a growing file). Keeps the selection
 * (by process), the sort and the screen; stays at the last sample if it
 * was there, else keeps the sample index (clamped). */
void tui_model_set_data(struct tui_model *m, const struct session_data *d,
			const struct analysis *a);

/* Replace session i's data (a reload of its growing file), as
 * tui_model_set_data does for the current one. */
void tui_model_set_source(struct tui_model *m, size_t i,
			  const struct session_data *d, const struct analysis *a);

/* Make session i the one the tree, timeline and regions screens show; each
 * session keeps its own selection and time position. */
void tui_model_select_session(struct tui_model *m, size_t i);

/* Apply one key. Returns true if anything shown may have changed. */
bool tui_model_key(struct tui_model *m, enum tui_key key);

/* Advance playback by dt_s seconds of real time (speed times that of
 * session time); stops at the last sample. Returns true if the time
 * position changed. */
bool tui_model_tick(struct tui_model *m, double dt_s);

/* Move the time position to sample k (clamped) and rebuild the rows. */
void tui_model_seek(struct tui_model *m, size_t k);

/* Select the process of row (clamped to the rows shown), as the cursor
 * keys would. */
void tui_model_select_row(struct tui_model *m, size_t row);

/* Show screen s (help: as the help key does). */
void tui_model_show(struct tui_model *m, enum tui_screen s);

/* Tell the model how many rows the view shows; keeps the selection in view. */
void tui_model_set_page(struct tui_model *m, size_t page_rows);

/* The selected process's index into session_data.procs, or -1 if none. */
int tui_model_selected(const struct tui_model *m);

/* The row with process index proc, or NULL if it is hidden. */
const struct tui_row *tui_model_row_of(const struct tui_model *m, size_t proc);

/* Time of the current sample, and seconds since the recording started. */
double tui_model_time(const struct tui_model *m);
double tui_model_offset_s(const struct tui_model *m);

/* The replay speed (0.25 .. 64). */
double tui_model_speed(const struct tui_model *m);

/* "tree", "RSS", "copied", "rate". */
const char *tui_sort_name(enum tui_sort s);

/* The figures of process proc at sample k: its latest point at or before k.
 * Returns that point, or NULL if it has none. */
const struct session_point *tui_point_at(const struct session_data *d,
					 size_t proc, size_t k);

/* The selected process's regions at the time position (those with a point
 * at or before it), most copied first (ties: region order). Returns how
 * many; *out is allocated (the caller frees it), NULL when none. */
size_t tui_model_regions(const struct tui_model *m, struct tui_region_row **out);

/* The call sites the call-sites screen lists: of the whole tree when
 * m->sites_tree, else of the selected process (proc set to it, or
 * CALLSITES_TREE), by innermost Python or native frame, at most n. Returns
 * how many were written to out (0 without fault data). */
size_t tui_model_callsites(const struct tui_model *m, bool python,
			   struct callsite *out, size_t n, int *proc);

/* The timeline of the selected process, one value per sample (arrays of
 * d->nsamples): for a process with a parent, lower = shared with parent and
 * upper = copied kB while it is alive (0 before its fork and after its
 * exit); for a root, the whole tree: lower = real memory (unique_kb) and
 * upper = what sharing saves, so lower + upper is the sum of RSS. Returns
 * true for the tree. */
bool tui_model_series(const struct tui_model *m, uint64_t *lower,
		      uint64_t *upper);

/* ---- why processes wait or die ---- */

/* What row r's process is doing at the time position, into buf: the exit
 * cause for an exited row ("SIGTERM from 6976 (gunicorn, exiting)"); else
 * "HUNG 12.0s " and what it waits on while in its hang (analysis_hang_of)
 * and at least hung_after_s into it; else its state letter and what it
 * waits on ("S futex wait (a lock or condition)", "R running"); "" when
 * the session has no wait state there. Returns buf. */
char *tui_model_wait_text(const struct tui_model *m, const struct tui_row *r,
			  char *buf, size_t len);

/* Marks of the signals sent to process proc (every tree process when proc
 * is -1), SIGCHLD left out, and of OOM kills, in w columns over the
 * session's samples (a signal at the first sample at or after it):
 * marks[c] is 'O' for an OOM kill, 'K' SIGKILL, 'T' SIGTERM, 'S' another
 * signal, ' ' none (the strongest when several share a column). Returns
 * how many were marked. */
size_t tui_model_signal_marks(const struct tui_model *m, int proc, int w,
			      char *marks);

/* ---- the compare screen ---- */

/* "copied per worker (average)", "shared with parent, whole tree", ... */
const char *tui_curve_name(enum tui_curve c);

/* The same measure (copied or shared) of the other scope, and the other
 * measure of the same scope. */
enum tui_curve tui_curve_other_measure(enum tui_curve c);

/* The longest session's time since its first fork, in seconds. */
double tui_compare_span_s(const struct tui_model *m);

/* The largest value of curve c in any session (the chart's scale). */
uint64_t tui_compare_scale(const struct tui_model *m, enum tui_curve c);

/* The column of time t_s (since fork) in w columns spanning span_s
 * seconds: floor(t_s * w / span_s), clamped to [0, w). */
int tui_time_column(double t_s, double span_s, int w);

/* Session s's curve c in w columns spanning span_s seconds since fork:
 * out[c] is the value of its last sample in a column at or before c, and
 * present[c] is false before its first sample's column and after its
 * last one's (a shorter session's curve ends there). */
void tui_compare_columns(const struct tui_session *s, enum tui_curve c,
			 double span_s, int w, uint64_t *out, bool *present);

/* The chart line of v in h lines scaled so scale is the top one:
 * round(v * (h - 1) / scale), 0 the bottom line; 0 when scale is 0. */
int tui_chart_level(uint64_t v, uint64_t scale, int h);

/* ---- pure helpers for drawing ---- */

/* kb in at most 6 characters for table columns: "812K", "9999K", "12.3M",
 * "1.5G" (K = KiB, M = MiB, G = GiB, T = TiB; one decimal above K).
 * Returns buf (at least 8 bytes). */
char *tui_format_size(uint64_t kb, char *buf, size_t len);

/* Split a bar of width cells, scaled so scale_kb fills it, into cells for
 * shared, copied and new kB (out[0..2]). The filled width is
 * round((shared + copied + new) * width / scale_kb), at most width; the
 * parts are rounded so they sum exactly to it (largest remainders first),
 * and a non-zero part gets at least a cell when the filled width allows. */
void tui_bar_split(uint64_t shared_kb, uint64_t copied_kb, uint64_t new_kb,
		   uint64_t scale_kb, int width, int out[3]);

enum tui_downsample {
	TUI_DOWNSAMPLE_MAX,      /* the largest value of a column's samples */
	TUI_DOWNSAMPLE_LAST,     /* its last sample */
};

/* The first sample of column c of w columns over n samples: samples of
 * column c are [first(c), first(c + 1)) (at least one). */
size_t tui_column_first(size_t n, int w, int c);

/* The column of sample k of n in w columns. */
int tui_sample_column(size_t n, int w, size_t k);

/* Reduce n values to w columns (out[0..w)): each column takes the max or
 * the last of its samples. With n < w, samples span several columns.
 * n == 0 gives zeros. */
void tui_downsample(const uint64_t *v, size_t n, int w,
		    enum tui_downsample how, uint64_t *out);

#endif
