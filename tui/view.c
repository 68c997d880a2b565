/* view.c - draw the TUI model with ncurses and read keys */
#include "tui/view.h"

#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/format.h"
#include "common/util.h"

enum {
	PAIR_SHARED = 1,
	PAIR_COPIED,
	PAIR_NEW,
	PAIR_GREY,
	PAIR_BAR,                /* title and tabs */
	PAIR_ACCENT,
	PAIR_SESSION,            /* PAIR_SESSION + i % NSESSION_COLOURS */
};

/* The compare screen's curves: a colour and a character per session, so
 * monochrome terminals tell them apart too. */
#define NSESSION_COLOURS 6
static const short session_colours[NSESSION_COLOURS] = {
	COLOR_CYAN, COLOR_MAGENTA, COLOR_YELLOW, COLOR_GREEN, COLOR_RED, COLOR_BLUE,
};

/* Rows above and below the body of every screen. */
#define HEAD_LINES 4
#define FOOT_LINES 1

struct tui_view {
	SCREEN *screen;
	bool colour;
	bool utf8;
	attr_t grey;             /* how exited rows look */
	char status[64];         /* at the right of the tabs line */
	/* where the last frame put what a click can hit */
	int tab_x[TUI_NSCREENS + 1];  /* tab s: [tab_x[s], tab_x[s + 1]) */
	int rows_y0, rows_n;     /* tree rows shown: the line of row m->top */
	int legend_y0, legend_n; /* compare legend lines */
	size_t legend_first;     /* the session of its first line */
	int click_x, click_y;    /* the last click */
};

/* ---- terminal ---- */

int tui_view_open(struct tui_view **out, const char *cmd, char *err,
		  size_t errlen)
{
	const char *term = getenv("TERM");
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return format_error(err, errlen, -ENOTTY,
				    "%s: needs a terminal (stdin and stdout)", cmd);
	if (!term || !*term)
		return format_error(err, errlen, -ENOENT,
				    "%s: TERM is not set: cannot draw on this terminal",
				    cmd);
	/* Only the character type: numbers keep the C locale's decimal point. */
	setlocale(LC_CTYPE, "");
	/* newterm returns NULL for an unknown TERM where initscr would exit. */
	SCREEN *s = newterm(NULL, stdout, stdin);
	if (!s)
		return format_error(err, errlen, -ENOENT,
				    "%s: unknown terminal type '%s' (TERM): "
				    "no terminfo entry for it", cmd, term);
	struct tui_view *v = xcalloc(1, sizeof(*v));
	v->screen = s;
	set_term(s);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	/* clicks and the wheel; mouseinterval(0): a press is reported at
	 * once, not held back to tell a click from a drag */
	mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	mouseinterval(0);
	v->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	v->grey = A_DIM;
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(PAIR_SHARED, COLOR_GREEN, -1);
		init_pair(PAIR_COPIED, COLOR_RED, -1);
		init_pair(PAIR_NEW, COLOR_YELLOW, -1);
		init_pair(PAIR_BAR, COLOR_BLACK, COLOR_CYAN);
		init_pair(PAIR_ACCENT, COLOR_CYAN, -1);
		for (int i = 0; i < NSESSION_COLOURS; i++)
			init_pair((short)(PAIR_SESSION + i), session_colours[i], -1);
		if (COLORS >= 16) {
			init_pair(PAIR_GREY, 8, -1);
			v->grey = COLOR_PAIR(PAIR_GREY);
		}
		v->colour = true;
	}
	*out = v;
	return 0;
}

void tui_view_close(struct tui_view *v)
{
	if (!v)
		return;
	endwin();
	delscreen(v->screen);
	free(v);
}

void tui_view_set_status(struct tui_view *v, const char *status)
{
	snprintf(v->status, sizeof(v->status), "%s", status ? status : "");
}

/* A mouse event: the wheel as up/down, a left press as a click the view
 * places with tui_view_click. */
static enum tui_key mouse_key(struct tui_view *v)
{
	MEVENT ev;
	if (getmouse(&ev) != OK)
		return TUI_KEY_NONE;
	if (ev.bstate & BUTTON4_PRESSED)
		return TUI_KEY_UP;
	if (ev.bstate & BUTTON5_PRESSED)
		return TUI_KEY_DOWN;
	if (ev.bstate & BUTTON1_PRESSED) {
		v->click_x = ev.x;
		v->click_y = ev.y;
		return TUI_KEY_CLICK;
	}
	return TUI_KEY_NONE;
}

bool tui_view_click(struct tui_view *v, struct tui_model *m)
{
	int x = v->click_x, y = v->click_y;
	if (y == 3) {
		for (int s = 0; s < TUI_NSCREENS; s++)
			if (x >= v->tab_x[s] && x < v->tab_x[s + 1]) {
				tui_model_show(m, (enum tui_screen)s);
				return true;
			}
		return false;
	}
	if (m->screen == TUI_SCREEN_TREE && y >= v->rows_y0 &&
	    y < v->rows_y0 + v->rows_n) {
		tui_model_select_row(m, m->top + (size_t)(y - v->rows_y0));
		return true;
	}
	if (m->screen == TUI_SCREEN_COMPARE && y >= v->legend_y0 &&
	    y < v->legend_y0 + v->legend_n) {
		tui_model_select_session(m, v->legend_first + (size_t)(y - v->legend_y0));
		return true;
	}
	return false;
}

enum tui_key tui_view_read_key(struct tui_view *v, int timeout_ms,
			       bool *resized)
{
	*resized = false;
	timeout(timeout_ms);
	int c = getch();
	switch (c) {
	case KEY_UP: case 'k': return TUI_KEY_UP;
	case KEY_DOWN: case 'j': return TUI_KEY_DOWN;
	case KEY_PPAGE: return TUI_KEY_PGUP;
	case KEY_NPAGE: return TUI_KEY_PGDN;
	case KEY_LEFT: return TUI_KEY_LEFT;
	case KEY_RIGHT: return TUI_KEY_RIGHT;
	case KEY_HOME: case 'g': return TUI_KEY_HOME;
	case KEY_END: case 'G': return TUI_KEY_END;
	case KEY_ENTER: case '\n': case '\r': return TUI_KEY_ENTER;
	case '\t': return TUI_KEY_TAB;
	case 's': return TUI_KEY_SORT;
	case 'c': return TUI_KEY_CURVE;
	case 'a': return TUI_KEY_ALL;
	case ' ': return TUI_KEY_PLAY;
	case '[': return TUI_KEY_SLOWER;
	case ']': return TUI_KEY_FASTER;
	case '?': case KEY_F(1): return TUI_KEY_HELP;
	case 'q': case 'Q': return TUI_KEY_QUIT;
	case '1': return TUI_KEY_SCREEN_1;
	case '2': return TUI_KEY_SCREEN_2;
	case '3': return TUI_KEY_SCREEN_3;
	case '4': return TUI_KEY_SCREEN_4;
	case '5': return TUI_KEY_SCREEN_5;
	case 'p': return TUI_KEY_PAUSE;
	case '+': return TUI_KEY_INTERVAL_UP;
	case '-': return TUI_KEY_INTERVAL_DOWN;
	case KEY_MOUSE: return mouse_key(v);
	case KEY_RESIZE: *resized = true; return TUI_KEY_NONE;
	case 'L' & 0x1f:         /* Ctrl-L: redraw everything */
		clearok(curscr, TRUE);
		*resized = true;
		return TUI_KEY_NONE;
	default: return TUI_KEY_NONE;
	}
}

/* ---- text helpers ---- */

/* Write fmt at (y, x), cut at the right edge of the screen. */
static void put(int y, int x, attr_t attr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put(int y, int x, attr_t attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (x >= COLS || y >= LINES || y < 0)
		return;
	attrset(attr);
	mvaddnstr(y, x, buf, COLS - x);
	attrset(A_NORMAL);
}

/* Copy s into buf (at most w columns), printable ASCII only, so widths
 * are exact whatever bytes a command line holds. */
static char *ascii(const char *s, char *buf, size_t len, int w)
{
	size_t n = 0;
	for (; s && *s && n + 1 < len && (int)n < w; s++)
		buf[n++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	buf[n] = 0;
	return buf;
}

static void fill_line(int y, attr_t attr)
{
	attrset(attr);
	mvhline(y, 0, ' ', COLS);
	attrset(A_NORMAL);
}

static char *format_age(double s, char *buf, size_t len)
{
	if (s < 100)
		snprintf(buf, len, "%.1fs", s);
	else if (s < 6000)
		snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)s % 60);
	else
		snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
	return buf;
}

/* ---- header and footer ---- */

static void draw_head(struct tui_view *v, const struct tui_model *m,
		      const char *title)
{
	const struct session_data *d = m->d;
	const struct analysis *a = m->a;
	char buf[512], t1[32], t2[32], t3[32];
	attr_t bar = v->colour ? COLOR_PAIR(PAIR_BAR) : A_REVERSE;
	fill_line(0, bar);
	if (m->nsessions > 1)  /* which one the screens other than compare show */
		put(0, 0, bar, " cowprof %s  %zu/%zu %s", title, m->cur + 1,
		    m->nsessions, ascii(m->sessions[m->cur].label, buf,
					sizeof(buf), COLS));
	else
		put(0, 0, bar, " cowprof %s  target: %s", title,
		    ascii(analysis_target(d), buf, sizeof(buf), COLS));

	double span = a->end_time > a->start_time ? a->end_time - a->start_time : 0;
	put(1, 0, A_BOLD, "time +%.1fs of %.1fs", tui_model_offset_s(m), span);
	char play[32] = "";
	if (!v->status[0])  /* replay; live (top) says its state in the status */
		snprintf(play, sizeof(play), "%s %gx  ",
			 m->playing ? "playing" : "paused", tui_model_speed(m));
	put(1, 24, A_NORMAL, "sample %zu/%zu  %ssort: %s  %zu processes",
	    d->nsamples ? m->sample + 1 : 0, d->nsamples, play,
	    tui_sort_name(m->sort),
	    m->sample < a->ntree ? a->tree[m->sample].nprocs : 0);

	if (d->nsamples && m->sample < a->ntree) {
		const struct analysis_tree_point *tp = &a->tree[m->sample];
		put(2, 0, A_NORMAL, "real memory %s  sum of RSS %s  "
		    "sharing saves %s (%.0f%%)",
		    format_kb(tp->unique_kb, t1, sizeof(t1)),
		    format_kb(tp->rss_kb, t2, sizeof(t2)),
		    format_kb(tp->saving_kb, t3, sizeof(t3)), tp->saving_pct);
	} else {
		put(2, 0, A_NORMAL, "tree: no samples yet");
	}

	static const char *const names[TUI_NSCREENS] = {
		"1 Tree", "2 Timeline", "3 Regions", "4 Call sites", "5 Compare",
		"? Help",
	};
	static const char *const short_names[TUI_NSCREENS] = {
		"1 Tree", "2 Time", "3 Regions", "4 Calls", "5 Compare", "? Help",
	};
	const char *const *tabs = COLS >= 100 ? names : short_names;
	int x = 0;
	for (int s = 0; s < TUI_NSCREENS; s++) {
		attr_t at = (int)m->screen == s ? (v->colour ? COLOR_PAIR(PAIR_BAR) | A_BOLD
							     : A_REVERSE) : A_NORMAL;
		put(3, x, at, " %s ", tabs[s]);
		v->tab_x[s] = x;
		x += (int)strlen(tabs[s]) + 3;
	}
	v->tab_x[TUI_NSCREENS] = x;
	int w = (int)strlen(v->status);
	if (w && COLS - w - 1 > x)
		put(3, COLS - w - 1, A_BOLD, "%s", v->status);
}

static void draw_foot(void)
{
	put(LINES - 1, 0, A_REVERSE, "%-*s", COLS,
	    " q quit ? help Tab/1-5 screen <-/-> seek space play "
	    "[ ] speed g/G ends s sort");
}

/* ---- tree screen ---- */

struct tree_layout {
	int name_w, bar_w, exit_w;
};

/* PID, then name and bar sharing what the fixed columns leave. */
#define PID_W 7
#define NUM_COLS 6
#define NUM_W 7                  /* " 123.4M" */
#define EXIT_W 18

static struct tree_layout tree_layout(void)
{
	struct tree_layout l;
	/* what it waits on, or how it ended: wider on wide screens */
	l.exit_w = COLS >= 110 ? EXIT_W + (COLS - 110) / 2 : 0;
	if (l.exit_w > 64)
		l.exit_w = 64;
	int rest = COLS - PID_W - NUM_COLS * NUM_W - l.exit_w - 2;
	l.name_w = rest / 2 > 48 ? 48 : rest / 2;
	l.bar_w = rest - l.name_w > 100 ? 100 : rest - l.name_w;
	return l;
}

static void draw_bar(struct tui_view *v, int y, int x, int w,
		     const struct tui_row *r, uint64_t scale_kb)
{
	int cells[3];
	tui_bar_split(r->fig.shared_with_parent_kb, r->fig.copied_kb, r->fig.new_kb,
		      scale_kb, w, cells);
	static const char chars[3] = { '=', '#', '+' };
	static const short pairs[3] = { PAIR_SHARED, PAIR_COPIED, PAIR_NEW };
	move(y, x);
	for (int p = 0; p < 3; p++) {
		attrset(v->colour ? COLOR_PAIR(pairs[p]) | A_BOLD : A_NORMAL);
		for (int c = 0; c < cells[p]; c++)
			addch((chtype)chars[p]);
	}
	attrset(A_NORMAL);
}

static void draw_exit_in_bar(struct tui_view *v, int y, int x, int w,
			     const char *desc)
{
	if ((int)strlen(desc) > w && !strncmp(desc, "killed by ", 10))
		desc += 10;
	put(y, x, v->grey, "%-*.*s", w, w, desc);
}

static void draw_row(struct tui_view *v, const struct tui_model *m,
		     const struct tree_layout *l, int y, size_t ri,
		     uint64_t scale_kb)
{
	const struct tui_row *r = &m->rows[ri];
	const struct session_process *p = &m->d->procs[r->proc];
	const struct analysis_proc *ap = &m->a->procs[r->proc];
	bool sel = ri == m->sel_row;
	attr_t at = sel ? A_REVERSE : r->exited ? v->grey : A_NORMAL;
	char name[512], s[NUM_COLS][16], age[16];

	/* "`- " under the parent's name, three columns a level */
	int indent = m->sort == TUI_SORT_TREE ? 3 * r->depth : 0;
	if (indent > l->name_w / 2)
		indent = l->name_w / 2;
	if (indent < 0 || indent > 255)
		indent = 0;
	memset(name, ' ', (size_t)indent);
	if (indent >= 3)
		memcpy(name + indent - 3, "`- ", 3);
	ascii(p->cmd, name + indent, sizeof(name) - (size_t)indent, l->name_w);
	put(y, 0, at, "%*d %-*.*s ", PID_W - 1, p->pid, l->name_w, l->name_w, name);
	int x = PID_W + l->name_w + 1;
	if (r->exited && !l->exit_w)
		draw_exit_in_bar(v, y, x, l->bar_w, ap->exit_desc);
	else if (r->sampled)
		draw_bar(v, y, x, l->bar_w, r, scale_kb);
	x += l->bar_w + 1;
	tui_format_size(r->fig.rss_kb, s[0], sizeof(s[0]));
	tui_format_size(r->fig.pss_kb, s[1], sizeof(s[1]));
	tui_format_size(r->fig.uss_kb, s[2], sizeof(s[2]));
	tui_format_size(r->fig.copied_kb, s[3], sizeof(s[3]));
	snprintf(s[4], sizeof(s[4]), "%.0f", r->rate_kbps);
	if (!r->sampled)
		for (int i = 0; i < 5; i++)
			snprintf(s[i], sizeof(s[i]), "-");
	put(y, x, at, "%6s %6s %6s %6s %6s %6s", s[0], s[1], s[2], s[3], s[4],
	    format_age(r->age_s, age, sizeof(age)));
	if (l->exit_w) {
		char wait[256];
		tui_model_wait_text(m, r, wait, sizeof(wait));
		ascii(wait, wait, sizeof(wait), l->exit_w - 1);
		attr_t wat = at;
		if (!sel && !strncmp(wait, "HUNG ", 5))
			wat = A_BOLD;
		put(y, x + NUM_COLS * NUM_W, wat, " %-*.*s", l->exit_w - 1,
		    l->exit_w - 1, wait);
	}
}

static void draw_selected_line(const struct tui_model *m, int y)
{
	int sel = tui_model_selected(m);
	if (sel < 0)
		return;
	const struct tui_row *r = &m->rows[m->sel_row];
	const struct session_process *p = &m->d->procs[sel];
	const struct analysis_proc *ap = &m->a->procs[sel];
	double pct = analysis_shared_pct(&r->fig);
	char pcts[32] = "", wait[256];
	if (pct >= 0)
		snprintf(pcts, sizeof(pcts), ", %.1f%% still shared", pct);
	tui_model_wait_text(m, r, wait, sizeof(wait));
	ascii(wait, wait, sizeof(wait), (int)sizeof(wait) - 1);
	put(y, 0, A_BOLD, "pid %d %s: shared %" PRIu64 " KiB, copied %" PRIu64
	    " KiB, new %" PRIu64 " KiB%s; %s", p->pid, analysis_role_name(ap->role),
	    r->fig.shared_with_parent_kb, r->fig.copied_kb, r->fig.new_kb,
	    pcts, wait);
}

static void draw_tree(struct tui_view *v, struct tui_model *m)
{
	struct tree_layout l = tree_layout();
	int y0 = HEAD_LINES + 1, page = LINES - y0 - FOOT_LINES - 1;
	tui_model_set_page(m, (size_t)page);
	attr_t head = v->colour ? COLOR_PAIR(PAIR_ACCENT) | A_BOLD : A_BOLD;
	put(HEAD_LINES, 0, head, "%*s %-*s %-*.*s %6s %6s %6s %6s %6s %6s%s",
	    PID_W - 1, "PID", l.name_w, "PROCESS", l.bar_w, l.bar_w,
	    l.bar_w >= 20 ? "=shared #copied +new" : "=shr #cop +new", "RSS", "PSS", "USS", "COPIED", "KiB/s",
	    "AGE", l.exit_w ? " WAIT / EXIT" : "");
	/* the sort column's heading in reverse: RSS, COPIED, KiB/s */
	static const int sort_col[TUI_NSORTS] = { -1, 0, 3, 4 };
	if (sort_col[m->sort] >= 0)
		mvchgat(HEAD_LINES, PID_W + l.name_w + l.bar_w + 2 +
			sort_col[m->sort] * NUM_W, NUM_W - 1, A_REVERSE | A_BOLD,
			v->colour ? PAIR_ACCENT : 0, NULL);
	uint64_t scale = 0;
	for (size_t i = 0; i < m->nrows; i++) {
		const struct cow_figures *f = &m->rows[i].fig;
		uint64_t t = f->shared_with_parent_kb + f->copied_kb + f->new_kb;
		if (t > scale)
			scale = t;
	}
	v->rows_y0 = y0;
	v->rows_n = 0;
	for (int i = 0; i < page && m->top + (size_t)i < m->nrows; i++) {
		draw_row(v, m, &l, y0 + i, m->top + (size_t)i, scale);
		v->rows_n++;
	}
	if (m->nrows == 0)
		put(y0, 0, A_NORMAL, "no process recorded at this time");
	draw_selected_line(m, LINES - FOOT_LINES - 1);
}

/* ---- timeline screen ---- */

static void draw_chart_column(struct tui_view *v, int x, int ybottom, int h,
			      uint64_t lower, uint64_t upper, uint64_t scale,
			      bool cursor)
{
	int cells[3];
	tui_bar_split(lower, upper, 0, scale, h, cells);
	const char *lo = v->utf8 ? "\u2592" : ":";   /* medium shade */
	const char *up = v->utf8 ? "\u2588" : "#";   /* full block */
	attr_t cur = cursor ? A_REVERSE : A_NORMAL;
	for (int i = 0; i < h; i++) {
		int y = ybottom - i;
		if (i < cells[0]) {
			attrset((v->colour ? COLOR_PAIR(PAIR_SHARED) : A_NORMAL) | cur);
			mvaddstr(y, x, lo);
		} else if (i < cells[0] + cells[1]) {
			attrset((v->colour ? COLOR_PAIR(PAIR_COPIED) : A_NORMAL) | cur);
			mvaddstr(y, x, up);
		} else if (cursor) {
			attrset(v->colour ? COLOR_PAIR(PAIR_ACCENT) : A_NORMAL);
			mvaddch(y, x, '|');
		}
	}
	attrset(A_NORMAL);
}

/* Events of the process sel (and forks and exits of its children), or
 * all of them for the tree, as letters under the chart. */
static void draw_events(const struct tui_model *m, int sel, bool tree, int y,
			int x0, int w)
{
	const struct analysis *a = m->a;
	for (size_t e = 0; e < a->nevents; e++) {
		const struct analysis_event *ev = &a->events[e];
		char mark = !strcmp(ev->kind, "fork") ? (ev->respawn_of >= 0 ? 'R' : 'F')
			    : !strcmp(ev->kind, "exit") ? 'X' : 0;
		if (!mark || ev->proc < 0)
			continue;
		if (!tree && ev->proc != sel && m->d->procs[ev->proc].parent != sel)
			continue;
		size_t k = analysis_sample_after(m->d, ev->t);
		int c = tui_sample_column(m->d->nsamples, w, k);
		put(y, x0 + c, mark == 'X' ? A_BOLD : A_NORMAL, "%c", mark);
	}
}

/* Signals sent to proc (-1: the tree) and OOM kills, as letters. */
static void draw_signals(const struct tui_model *m, int proc, int y, int x0, int w)
{
	char *marks = xmalloc((size_t)w + 1);
	put(y, 0, A_NORMAL, "%8s", "signals");
	tui_model_signal_marks(m, proc, w, marks);
	for (int c = 0; c < w; c++)
		if (marks[c] != ' ')
			put(y, x0 + c, marks[c] == 'O' || marks[c] == 'K' ? A_BOLD : A_NORMAL,
			    "%c", marks[c]);
	free(marks);
}

static void draw_timeline(struct tui_view *v, struct tui_model *m)
{
	const struct session_data *d = m->d;
	int sel = tui_model_selected(m);
	char t1[32], t2[32], cmd[128];
	int y = HEAD_LINES;
	if (d->nsamples == 0 || sel < 0) {
		put(y + 1, 0, A_NORMAL, "no samples in this session yet");
		return;
	}
	size_t n = d->nsamples;
	uint64_t *lower = xcalloc(n, sizeof(*lower));
	uint64_t *upper = xcalloc(n, sizeof(*upper));
	bool tree = tui_model_series(m, lower, upper);
	const struct session_process *p = &d->procs[sel];
	if (tree)
		put(y, 0, A_BOLD, "the whole tree (root pid %d selected): real memory "
		    "and what sharing saves; together the sum of RSS", p->pid);
	else
		put(y, 0, A_BOLD, "pid %d %s (%s): shared with parent and copied since fork",
		    p->pid, analysis_role_name(m->a->procs[sel].role),
		    ascii(p->cmd, cmd, sizeof(cmd), 40));

	const int axis_w = 10;
	int x0 = axis_w, w = COLS - axis_w - 1;
	int top = y + 1, h = LINES - top - FOOT_LINES - 6;
	uint64_t scale = 0;
	for (size_t k = 0; k < n; k++)
		if (lower[k] + upper[k] > scale)
			scale = lower[k] + upper[k];
	uint64_t *lo = xcalloc((size_t)w, sizeof(*lo));
	uint64_t *up = xcalloc((size_t)w, sizeof(*up));
	tui_downsample(lower, n, w, TUI_DOWNSAMPLE_LAST, lo);
	tui_downsample(upper, n, w, TUI_DOWNSAMPLE_LAST, up);
	int cursor = tui_sample_column(n, w, m->sample);
	for (int c = 0; c < w; c++)
		draw_chart_column(v, x0 + c, top + h - 1, h, lo[c], up[c], scale,
				  c == cursor);
	put(top, 0, A_NORMAL, "%8s", tui_format_size(scale, t1, sizeof(t1)));
	put(top + h / 2, 0, A_NORMAL, "%8s", tui_format_size(scale / 2, t1, sizeof(t1)));
	put(top + h - 1, 0, A_NORMAL, "%8s", "0");
	for (int i = 0; i < h; i++)
		put(top + i, x0 - 1, A_NORMAL, "|");

	int yev = top + h;
	put(yev, 0, A_NORMAL, "%8s", "events");
	draw_events(m, sel, tree, yev, x0, w);
	draw_signals(m, tree ? -1 : sel, yev + 1, x0, w);
	double span = d->samples[n - 1].t - m->a->start_time;
	put(yev + 2, x0 + cursor, A_BOLD, "^");
	put(yev + 3, x0, A_NORMAL, "+%.1fs", d->samples[0].t - m->a->start_time);
	snprintf(t1, sizeof(t1), "+%.1fs", span);
	put(yev + 3, x0 + w - (int)strlen(t1), A_NORMAL, "%s", t1);
	static const char key[] = "F fork  R respawn  X exit  signals: "
				  "T SIGTERM  K SIGKILL  S other  O OOM kill  ^ now";
	put(yev + 3, x0 + (w - (int)sizeof(key)) / 2, A_NORMAL, "%s", key);

	const char *lo_name = tree ? "real memory" : "shared";
	const char *up_name = tree ? "saved by sharing" : "copied";
	put(yev + 4, 0, A_NORMAL, "at +%.1fs: %s %s %s, %s %s %s",
	    tui_model_offset_s(m),
	    v->utf8 ? "\u2592" : ":", lo_name,
	    format_kb(lower[m->sample], t1, sizeof(t1)),
	    v->utf8 ? "\u2588" : "#", up_name,
	    format_kb(upper[m->sample], t2, sizeof(t2)));
	free(lo);
	free(up);
	free(lower);
	free(upper);
}

/* ---- regions, call sites, help ---- */

static void draw_regions(struct tui_view *v, struct tui_model *m)
{
	int sel = tui_model_selected(m);
	char cmd[128], path[256], s[4][16];
	int y = HEAD_LINES;
	if (sel < 0) {
		put(y + 1, 0, A_NORMAL, "no process at this time");
		return;
	}
	const struct session_process *p = &m->d->procs[sel];
	struct tui_region_row *rows;
	size_t n = tui_model_regions(m, &rows);
	put(y, 0, A_BOLD, "regions of pid %d (%s) at +%.1fs, most copied first: %zu",
	    p->pid, ascii(p->cmd, cmd, sizeof(cmd), 40), tui_model_offset_s(m), n);
	attr_t head = v->colour ? COLOR_PAIR(PAIR_ACCENT) | A_BOLD : A_BOLD;
	put(y + 1, 0, head, "%-25s %-4s %-6s %6s %6s %6s %6s  %s", "ADDRESS", "PERM",
	    "KIND", "RSS", "SHARED", "COPIED", "NEW", "PATH");
	int page = LINES - (y + 2) - FOOT_LINES;
	if (page < 1)
		page = 1;
	if (m->region_top + (size_t)page > n)
		m->region_top = n > (size_t)page ? n - (size_t)page : 0;
	for (int i = 0; i < page && m->region_top + (size_t)i < n; i++) {
		const struct tui_region_row *r = &rows[m->region_top + (size_t)i];
		const struct session_region *reg = &p->regions[r->region];
		tui_format_size(r->fig.rss_kb, s[0], sizeof(s[0]));
		tui_format_size(r->fig.shared_with_parent_kb, s[1], sizeof(s[1]));
		tui_format_size(r->fig.copied_kb, s[2], sizeof(s[2]));
		tui_format_size(r->fig.new_kb, s[3], sizeof(s[3]));
		put(y + 2 + i, 0, r->fig.copied_kb ? A_NORMAL : v->grey,
		    "%012" PRIx64 "-%012" PRIx64 " %-4s %-6.6s %6s %6s %6s %6s  %s",
		    reg->start, reg->end, reg->perms, reg->kind ? reg->kind : "",
		    s[0], s[1], s[2], s[3],
		    ascii(reg->path, path, sizeof(path), COLS));
	}
	if (n == 0)
		put(y + 2, 0, A_NORMAL, "no region recorded for this process at this time");
	free(rows);
}

static void draw_no_faults(void)
{
	static const char *const text[] = {
		"This session has no fault data: nothing says which code copied the pages.",
		"",
		"Call sites (the stacks and Python lines that triggered copy-on-write",
		"faults, by pages copied) come from fault attribution, which cowprof",
		"records when it starts the command itself:",
		"",
		"    cowprof run -o app.db -- CMD [ARG...]",
		"",
		"Meanwhile the Regions screen (3) shows where each process copied.",
	};
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		put(HEAD_LINES + 1 + (int)i, 2, i == 0 ? A_BOLD : A_NORMAL, "%s", text[i]);
}

/* A frame as callsites_put_frame writes it, cut to fit len. */
static const char *frame_label(const struct session_frame *fr, char *buf,
			       size_t len)
{
	FILE *f = fmemopen(buf, len, "w");
	buf[0] = 0;
	if (f) {
		callsites_put_frame(f, fr);
		if (!fr->python && *fr->function)
			fprintf(f, "  %s", fr->module);
		fclose(f);
	}
	buf[len - 1] = 0;
	return buf;
}

#define VIEW_SITES 32

/* One table of call sites from line y; returns the next free line. */
static int draw_site_table(struct tui_view *v, struct tui_model *m, int y,
			   bool python, int rows)
{
	struct callsite top[VIEW_SITES];
	int proc;
	size_t n = tui_model_callsites(m, python, top, rows < VIEW_SITES ?
				       (size_t)(rows > 0 ? rows : 0) : VIEW_SITES, &proc);
	attr_t head = v->colour ? COLOR_PAIR(PAIR_ACCENT) | A_BOLD : A_BOLD;
	put(y++, 0, head, "%8s %8s %5s  %s", "PAGES", "SIZE", "PROCS",
	    python ? "PYTHON LINE (innermost Python frame)"
		   : "NATIVE FUNCTION (innermost frame)");
	char size[FORMAT_KB_LEN], label[512];
	uint64_t page_kb = callsites_page_kb(m->d);
	for (size_t i = 0; i < n; i++) {
		tui_format_size(top[i].pages * page_kb, size, sizeof(size));
		put(y++, 0, A_NORMAL, "%8" PRIu64 " %8s %5zu  %s", top[i].pages, size,
		    top[i].nprocs, frame_label(&m->d->frames[top[i].frame], label,
					       sizeof(label)));
	}
	if (!n)
		put(y++, 0, v->grey, "%8s  no %s stacks", "", python ? "Python" : "native");
	return y;
}

static void draw_callsites(struct tui_view *v, struct tui_model *m)
{
	if (!callsites_recorded(m->d)) {
		draw_no_faults();
		return;
	}
	struct callsite dummy;
	int proc, y = HEAD_LINES;
	tui_model_callsites(m, true, &dummy, 0, &proc);
	char cmd[128];
	uint64_t pages = callsites_pages(m->d, proc);
	if (proc == CALLSITES_TREE)
		put(y++, 0, A_BOLD, "call sites of the whole tree: %" PRIu64 " pages "
		    "copied with their stacks   (a: selected process)", pages);
	else
		put(y++, 0, A_BOLD, "call sites of pid %d (%s): %" PRIu64 " pages, "
		    "%" PRIu64 " dropped   (a: whole tree)", m->d->procs[proc].pid,
		    ascii(m->d->procs[proc].cmd, cmd, sizeof(cmd), 40), pages,
		    m->d->procs[proc].fault_dropped);
	int rows = (LINES - y - FOOT_LINES - 3) / 2;
	y = draw_site_table(v, m, y, true, rows);
	draw_site_table(v, m, y + 1, false, rows);
}

static void draw_help(void)
{
	static const char *const text[] = {
		"up/down, j/k     select a process (Regions: scroll)",
		"PgUp/PgDn        a page up or down",
		"left/right       seek one sample back or forward",
		"g/G, Home/End    first / last sample",
		"space            play / pause the replay",
		"[ ]              replay slower / faster (0.25x to 64x)",
		"Enter            timeline of the selected process (again: back)",
		"Tab              next screen",
		"1 2 3 4 5        Tree, Timeline, Regions, Call sites, Compare",
		"? F1             this help (again: back)",
		"s                sort: tree order, RSS, copied, copy rate",
		"p                top: pause / resume following new samples",
		"+ -              top: sample half / twice as often",
		"q                quit",
		"c                Compare: next curve (up/down: session, Enter: its tree)",
		"a                Call sites: whole tree / selected process",
		"mouse            click a row, a compare session or a tab; wheel: up/down",
		"Tree bars: = shared with parent, # copied, + new (scaled to the",
		"largest process); exited processes grey. Root: the tree's timeline.",
	};
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		put(HEAD_LINES + (int)i, 2, A_NORMAL, "%s", text[i]);
}

/* ---- compare screen ---- */

/* The character of session i's curve: its number, then letters. */
static char session_char(size_t i)
{
	return i < 9 ? (char)('1' + i) : (char)('a' + (i - 9) % 26);
}

static attr_t session_attr(const struct tui_view *v, size_t i, bool sel)
{
	attr_t at = v->colour ? COLOR_PAIR(PAIR_SESSION + (int)(i % NSESSION_COLOURS))
			      : A_NORMAL;
	return sel ? at | A_BOLD : at;
}

/* One session's curve in the chart [x0, x0 + w) x [top, top + h): a mark
 * per column at its value's line, joined to the previous column's. */
static void draw_curve(struct tui_view *v, const struct tui_model *m, size_t i,
		       enum tui_curve c, double span, uint64_t scale, int x0,
		       int top, int w, int h)
{
	uint64_t *val = xcalloc((size_t)w, sizeof(*val));
	bool *present = xcalloc((size_t)w, sizeof(*present));
	tui_compare_columns(&m->sessions[i], c, span, w, val, present);
	attrset(session_attr(v, i, i == m->cur));
	char ch = session_char(i);
	int prev = -1;
	for (int col = 0; col < w; col++) {
		if (!present[col]) {
			prev = -1;
			continue;
		}
		int lv = tui_chart_level(val[col], scale, h);
		int lo = prev < 0 || prev >= lv ? lv : prev + 1;
		int hi = prev < 0 || prev <= lv ? lv : prev - 1;
		for (int l = lo; l <= hi; l++)
			mvaddch(top + h - 1 - l, x0 + col, (chtype)ch);
		prev = lv;
	}
	attrset(A_NORMAL);
	free(val);
	free(present);
}

/* A chart of curve c for every session (the current one on top), its
 * scale at the left. */
static void draw_compare_chart(struct tui_view *v, const struct tui_model *m,
			       enum tui_curve c, int top, int h, int x0, int w,
			       double span)
{
	char t1[32];
	uint64_t scale = tui_compare_scale(m, c);
	put(top, x0, A_BOLD, "%s", tui_curve_name(c));
	top++;
	h--;
	for (int i = 0; i < h; i++)
		put(top + i, x0 - 1, A_NORMAL, "|");
	put(top, 0, A_NORMAL, "%7s", tui_format_size(scale, t1, sizeof(t1)));
	if (h >= 5)
		put(top + h / 2, 0, A_NORMAL, "%7s",
		    tui_format_size((scale + 1) / 2, t1, sizeof(t1)));
	put(top + h - 1, 0, A_NORMAL, "%7s", "0");
	for (size_t i = 0; i < m->nsessions; i++)
		if (i != m->cur)
			draw_curve(v, m, i, c, span, scale, x0, top, w, h);
	draw_curve(v, m, m->cur, c, span, scale, x0, top, w, h);
}

/* The time axis under the charts: its ends and the current session's
 * position (^). */
static void draw_time_axis(const struct tui_model *m, int y, int x0, int w,
			   double span)
{
	char t[32];
	int cur = -1;
	const struct tui_session *s = &m->sessions[m->cur];
	if (m->d->nsamples && m->sample >= s->first)
		cur = tui_time_column(m->d->samples[m->sample].t - s->fork_t, span, w);
	snprintf(t, sizeof(t), "+%.1fs", span);
	int len = (int)strlen(t), right = w - len;
	if (cur >= right - 1)           /* the labels step aside for the ^ */
		right = cur - len - 1;
	if (cur < 0 || cur > 4)
		put(y, x0, A_NORMAL, "+0s");
	if (right > 4)
		put(y, x0 + right, A_NORMAL, "%s", t);
	if (cur >= 0)
		put(y, x0 + cur, A_BOLD, "^");
}

/* The rows of compare's table shown when not all fit: most telling first. */
static const enum report_compare_row cmp_priority[] = {
	REPORT_CMP_COPIED_MEDIAN, REPORT_CMP_SHARED_END, REPORT_CMP_INHERITED,
	REPORT_CMP_WORKERS, REPORT_CMP_REAL_END, REPORT_CMP_SAVING,
	REPORT_CMP_RATE, REPORT_CMP_COPIED_MAX, REPORT_CMP_SHARED_10S,
	REPORT_CMP_SHARED_60S, REPORT_CMP_RSS_END, REPORT_CMP_DURATION,
	REPORT_CMP_HUNG, REPORT_CMP_KILLED,
};
#define CMP_TABLE_ROWS (sizeof(cmp_priority) / sizeof(cmp_priority[0]))
#define CMP_LABEL_W 31
#define CMP_CELL_MAX 24

/* compare's figures, nrows of them (in compare's order), one column per
 * session as far as the width allows. */
static void draw_compare_table(struct tui_view *v, const struct tui_model *m,
			       int y, int nrows)
{
	bool show[REPORT_CMP_NROWS] = { false };
	for (int i = 0; i < nrows && (size_t)i < CMP_TABLE_ROWS; i++)
		show[cmp_priority[i]] = true;
	size_t n = m->nsessions;
	char **cells = xcalloc(REPORT_CMP_NROWS * n, sizeof(*cells));
	int *width = xcalloc(n, sizeof(*width));
	for (size_t c = 0; c < n; c++) {
		for (int r = 0; r < REPORT_CMP_NROWS; r++) {
			if (!show[r] && r != REPORT_CMP_NAME)
				continue;
			char *cell = report_compare_cell(r, &m->cols[0], &m->cols[c]);
			if (r == REPORT_CMP_NAME) {  /* "1 name", as in the legend */
				char *named;
				named = xasprintf("%c %s", session_char(c), cell);
				free(cell);
				cell = named;
			}
			cells[r * n + c] = cell;
			int len = (int)strlen(cell);
			if (len > width[c])
				width[c] = len > CMP_CELL_MAX ? CMP_CELL_MAX : len;
		}
	}
	char buf[64];
	size_t fit = 0;
	for (int x = CMP_LABEL_W; fit < n && x + 2 + width[fit] <= COLS; fit++)
		x += 2 + width[fit];
	attr_t head = v->colour ? COLOR_PAIR(PAIR_ACCENT) | A_BOLD : A_BOLD;
	for (int r = 0, line = 0; r < REPORT_CMP_NROWS; r++) {
		if (!show[r] && r != REPORT_CMP_NAME)
			continue;
		put(y + line, 0, r == REPORT_CMP_NAME ? head : A_NORMAL, "%-*.*s",
		    CMP_LABEL_W - 1, CMP_LABEL_W - 1,
		    r == REPORT_CMP_NAME ? "as 'cowprof compare' prints"
					 : report_compare_label(r));
		int x = CMP_LABEL_W;
		for (size_t c = 0; c < fit; c++) {
			attr_t at = r == REPORT_CMP_NAME ? session_attr(v, c, true)
				    : c == m->cur ? A_BOLD : A_NORMAL;
			put(y + line, x + 2, at, "%*s", width[c],
			    ascii(cells[r * n + c], buf, sizeof(buf), width[c]));
			x += 2 + width[c];
		}
		if (fit < n && r == REPORT_CMP_NAME)
			put(y + line, COLS - 12, A_NORMAL, " +%zu: wider", n - fit);
		line++;
	}
	for (size_t k = 0; k < REPORT_CMP_NROWS * n; k++)
		free(cells[k]);
	free(cells);
	free(width);
}

/* Rows of the compare screen's body, top to bottom: a line of keys, one
 * legend line per session, the chart (or two when tall), the time axis,
 * the table's header and as many of its rows as fit (at least six). */
static void draw_compare(struct tui_view *v, struct tui_model *m)
{
	char label[512];
	int y = HEAD_LINES;
	int bottom = LINES - FOOT_LINES;          /* first line not ours */
	size_t n = m->nsessions;
	put(y, 0, A_BOLD, "%zu session%s, by time since the first fork",
	    n, n == 1 ? " (view FILE FILE... compares)" : "s");
	put(y, COLS - 36, A_NORMAL, "%36s", "up/down session  c curve  Enter tree");
	y++;
	int legend = (int)n > 6 ? 6 : (int)n;
	v->legend_y0 = y;
	v->legend_n = legend;
	v->legend_first = n > 6 && m->cur >= 6 ? m->cur - 5 : 0;
	for (int i = 0; i < legend; i++) {
		size_t s = v->legend_first + (size_t)i;
		bool sel = s == m->cur;
		put(y + i, 0, sel ? A_BOLD : A_NORMAL, "%s", sel ? ">" : " ");
		put(y + i, 2, session_attr(v, s, true), "%c", session_char(s));
		put(y + i, 4, sel ? A_BOLD : A_NORMAL, "%s",
		    ascii(m->sessions[s].label, label, sizeof(label), COLS - 4));
	}
	y += legend;
	int room = bottom - y;                    /* charts, axis, table */
	int table = room - 1 - 1 - 8;             /* axis, header, a chart of 8 */
	if (table > (int)CMP_TABLE_ROWS)
		table = (int)CMP_TABLE_ROWS;
	if (table < 1)
		table = 1;
	int charts = room - 1 - 1 - table;
	const int x0 = 8;
	int w = COLS - x0 - 1;
	double span = tui_compare_span_s(m);
	if (charts >= 2 * 9) {
		int h1 = charts / 2;
		draw_compare_chart(v, m, m->curve, y, h1, x0, w, span);
		draw_compare_chart(v, m, tui_curve_other_measure(m->curve), y + h1,
				   charts - h1, x0, w, span);
	} else {
		draw_compare_chart(v, m, m->curve, y, charts, x0, w, span);
	}
	y += charts;
	draw_time_axis(m, y, x0, w, span);
	draw_compare_table(v, m, y + 1, table);
}

static void draw_too_small(void)
{
	static const char msg[] = "terminal too small: need 80x24";
	char now[48];
	snprintf(now, sizeof(now), "(now %dx%d)", COLS, LINES);
	int y = LINES / 2 - 1 > 0 ? LINES / 2 - 1 : 0;
	int x = COLS > (int)strlen(msg) ? (COLS - (int)strlen(msg)) / 2 : 0;
	put(y, x, A_BOLD, "%s", msg);
	x = COLS > (int)strlen(now) ? (COLS - (int)strlen(now)) / 2 : 0;
	put(y + 1, x, A_NORMAL, "%s", now);
}

void tui_view_draw(struct tui_view *v, struct tui_model *m, const char *title)
{
	erase();
	/* nothing to click until this frame says where it is */
	memset(v->tab_x, 0, sizeof(v->tab_x));
	v->rows_n = v->legend_n = 0;
	if (COLS < TUI_MIN_COLS || LINES < TUI_MIN_LINES) {
		draw_too_small();
	} else {
		draw_head(v, m, title);
		switch (m->screen) {
		case TUI_SCREEN_TREE: draw_tree(v, m); break;
		case TUI_SCREEN_TIMELINE: draw_timeline(v, m); break;
		case TUI_SCREEN_REGIONS: draw_regions(v, m); break;
		case TUI_SCREEN_CALLSITES: draw_callsites(v, m); break;
		case TUI_SCREEN_COMPARE: draw_compare(v, m); break;
		default: draw_help(); break;
		}
		draw_foot();
	}
	wnoutrefresh(stdscr);
	doupdate();
}
