/* loop.h - the TUI's loop, shared by `cowprof view` (replay) and `top` (live)
 *
 * Loads sessions through the store, follows each file as it grows, and
 * drives the model (tui/model.h) and the view (tui/view.h) until q or a
 * caught signal. It knows nothing of the commands: what is live (pause,
 * interval keys, a status text) comes in through tui_loop_opts.
 */
#ifndef COWPROF_TUI_LOOP_H
#define COWPROF_TUI_LOOP_H

#include <stdbool.h>
#include <stddef.h>

struct tui_view;

struct tui_loop_opts {
	const char *title;       /* the header after "cowprof ": "view FILE" */
	double check_s;          /* how often the file is checked for growth */
	/* Called every frame: the status the header shows at its right (NULL:
	 * none). May be NULL. */
	const char *(*status)(void *ctx);
	/* Live mode: called with p, + and - (TUI_KEY_PAUSE, _INTERVAL_UP,
	 * _INTERVAL_DOWN); returns true while following is paused. NULL in
	 * replay, where those keys do nothing. */
	bool (*live_key)(void *ctx, int key);
	void *ctx;
};

/* Catch SIGINT, SIGTERM and SIGHUP (before curses starts, so that it does
 * not install its own handlers); tui_loop_signal() is the last one caught, 0
 * if none. */
void tui_loop_catch_signals(void);
int tui_loop_signal(void);

/* Load the sessions at paths[0..n) (n >= 1) and run the TUI on them,
 * following each file as it grows, until q or a caught signal; with
 * several, it opens on the compare screen. With v NULL, the terminal is
 * taken after the sessions loaded and restored before returning; else v
 * is used and left open. Returns 0 after q, the signal's number after a
 * signal, or -1 with a one-line message in err (a path is not a readable
 * session, or the terminal cannot be used) with the terminal untouched. */
int tui_loop(const char *const *paths, size_t n, struct tui_view *v,
	     const struct tui_loop_opts *o, char *err, size_t errlen);

#endif
