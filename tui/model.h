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

#include "../profiler/analysis.h"
#include "../profiler/session.h"

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

struct tui_model {
	const struct session_data *d;
	const struct analysis *a;
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

/* Free what m holds (not m, nor the session). */
void tui_model_release(struct tui_model *m);

/* Replace the session (a reload of a growing file). Keeps the selection
 * (by process), the sort and the screen; stays at the last sample if it
 * was there, else keeps the sample index (clamped). */
void tui_model_set_data(struct tui_model *m, const struct session_data *d,
			const struct analysis *a);

/* Apply one key. Returns true if anything shown may have changed. */
bool tui_model_key(struct tui_model *m, enum tui_key key);

/* Advance playback by dt_s seconds of real time (speed times that of
 * session time); stops at the last sample. Returns true if the time
 * position changed. */
bool tui_model_tick(struct tui_model *m, double dt_s);

/* Move the time position to sample k (clamped) and rebuild the rows. */
void tui_model_seek(struct tui_model *m, size_t k);

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

/* The timeline of the selected process, one value per sample (arrays of
 * d->nsamples): for a process with a parent, lower = shared with parent and
 * upper = copied kB while it is alive (0 before its fork and after its
 * exit); for a root, the whole tree: lower = real memory (unique_kb) and
 * upper = what sharing saves, so lower + upper is the sum of RSS. Returns
 * true for the tree. */
bool tui_model_series(const struct tui_model *m, uint64_t *lower,
		      uint64_t *upper);

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
