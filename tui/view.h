/* view.h - draw the TUI model with ncurses and read keys
 *
 * The only part of cowprof that calls ncurses. It owns the terminal from
 * tui_view_open to tui_view_close: every exit path of the caller must
 * close it, so the terminal is restored.
 */
#ifndef COWPROF_TUI_VIEW_H
#define COWPROF_TUI_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "tui/model.h"

/* The smallest terminal the screens are laid out for. */
#define TUI_MIN_COLS 80
#define TUI_MIN_LINES 24

struct tui_view;

/* Take over the terminal (stdin/stdout, TERM). Returns 0 and *out, or
 * -errno with a one-line reason in err, prefixed with cmd ("view: ..."):
 * -ENOTTY (not a terminal), -ENOENT (TERM unset or unknown to terminfo). */
int tui_view_open(struct tui_view **out, const char *cmd, char *err,
		  size_t errlen);

/* A short status the header shows at its right ("live", "root exited");
 * NULL for none. Copied. */
void tui_view_set_status(struct tui_view *v, const char *status);

/* Restore the terminal and free v; NULL is fine. */
void tui_view_close(struct tui_view *v);

/* Wait up to timeout_ms for a key. Returns its tui_key, TUI_KEY_NONE on
 * timeout, on a key without meaning, or after a resize (*resized set).
 * The mouse wheel reads as TUI_KEY_UP and _DOWN, a left click as
 * TUI_KEY_CLICK (see tui_view_click). */
enum tui_key tui_view_read_key(struct tui_view *v, int timeout_ms,
			       bool *resized);

/* Apply the click tui_view_read_key returned TUI_KEY_CLICK for, where
 * the last frame drew things: a screen tab shows that screen, a tree row
 * selects its process, a compare legend line its session. Returns true
 * if anything shown may have changed. */
bool tui_view_click(struct tui_view *v, struct tui_model *m);

/* Draw the model's current screen (or the too-small message) in one
 * update; title is the header's text after "cowprof " ("view FILE",
 * "top PID"). Tells the model its page size. */
void tui_view_draw(struct tui_view *v, struct tui_model *m, const char *title);

#endif
