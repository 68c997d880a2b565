/* analysis.h - figures computed from a recorded session, for every report
 *
 * Pure computations over a loaded session (session.h): no printing, no I/O.
 * Times are seconds since the epoch unless the name says otherwise (_s for
 * a duration); sizes are kB; rates are kB per second (1 kB = 1 KiB).
 * Processes are named by their index into session_data.procs.
 *
 * Definitions shared by every function (docs/reports.md explains them):
 *   fork time   the process's recorded fork time, or the time of its first
 *               sample when the session does not know it;
 *   inherited   shared_with_parent_kb at the process's first sample;
 *   copied      is 0 at fork by definition, so rates count from the fork.
 */
#ifndef COWPROF_ANALYSIS_ANALYSIS_H
#define COWPROF_ANALYSIS_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/session.h"

/* The window of the recent copy rate. */
#define ANALYSIS_RECENT_WINDOW_S 10.0
/* Pass as age_s to analysis_shared_pct_at_age for the last sample. */
#define ANALYSIS_AGE_END (-1.0)
/* Longest exit description, with its NUL ("killed by SIGRTMIN+15"). */
#define ANALYSIS_EXIT_DESC_LEN 48
/* Longest exit cause, with its NUL (longer cgroups are cut). */
#define ANALYSIS_CAUSE_LEN 192
/* A process blocked in one place this long, using no CPU and no memory,
 * is hung, unless the session's meta hung_after_s says otherwise. */
#define ANALYSIS_HUNG_AFTER_S 10.0

enum analysis_role {
	ANALYSIS_MASTER,         /* the root of the tree */
	ANALYSIS_WORKER,         /* a child of the root */
	ANALYSIS_CHILD,          /* deeper */
};

enum analysis_exit {
	ANALYSIS_RUNNING,        /* present at the last sample, no exit recorded */
	ANALYSIS_EXITED,         /* exit code known */
	ANALYSIS_KILLED,         /* killing signal known */
	ANALYSIS_VANISHED,       /* gone, status unknown */
};

/* A stretch of samples in which a process stayed blocked in the same place
 * (same system call with the same fd, same wchan), in a sleeping state,
 * not waiting for work (analysis_idle_syscall), with the same CPU time and
 * the same rss_kb and anon_kb. */
struct analysis_hang {
	double since;            /* time of the first sample of the stretch */
	double last_t;           /* time of its last sample */
	double seconds;          /* last_t - since */
	bool to_end;             /* it lasted to the process's last sample */
	size_t first_wait, last_wait;  /* indexes into the process's waits */
	/* borrowed from the session: the last wait of the stretch */
	const char *syscall, *wchan, *blocked_on;
	const char *python;      /* its Python frames then, "" if none */
	char state;
};

/* Everything the reports show of one process. */
struct analysis_proc {
	int depth;               /* 0 for a root */
	enum analysis_role role;
	double fork_time;
	double end_time;         /* exit, else end of recording (or last seen) */
	double lifetime_s;
	bool sampled;            /* has at least one sample; else figures are 0 */
	double first_t, last_t;  /* times of its first and last samples */
	struct cow_figures first, last;
	uint64_t peak_rss_kb;
	double shared_pct_first, shared_pct_last;  /* -1: nothing inherited */
	double copy_rate_kbps;
	double recent_copy_rate_kbps;
	double half_shared_s;    /* age when half the inherited was gone; -1: never */
	enum analysis_exit exit;
	char exit_desc[ANALYSIS_EXIT_DESC_LEN];
	/* the exit with its cause: "exit 3", "SIGTERM from 6976 (gunicorn,
	 * exiting)", "SIGKILL by the OOM killer (cgroup /x, anon 61 MiB)";
	 * as exit_desc when no signal or OOM kill explains it */
	char exit_cause[ANALYSIS_CAUSE_LEN];
	int oom;                 /* index into session_data.ooms, -1 if none */
	int kill_signal;         /* index into session_data.signals of the
				  * signal that ended it, -1 if unknown */
	bool hung;               /* a stretch of hung_after_s or longer */
	struct analysis_hang hang;  /* the longest such stretch */
	int respawn_of;          /* index of the sibling it replaced, -1 if none */
};

/* The tree at one sample. */
struct analysis_tree_point {
	double t;
	size_t nprocs;
	uint64_t rss_kb;         /* sum of RSS */
	uint64_t unique_kb;      /* real memory: each physical page once */
	uint64_t saving_kb;      /* rss_kb - unique_kb, 0 if negative */
	double saving_pct;       /* of rss_kb; 0 when rss_kb is 0 */
};

/* A region at its last recorded point. */
struct analysis_region {
	size_t proc;             /* index into session_data.procs */
	size_t region;           /* index into that process's regions */
	size_t sample;           /* sample of that point */
	struct cow_figures fig;  /* rss, anon, shared, copied, new only */
};

/* One event, from the session or made up from a process's fork or exit
 * times when the session has no event for them. */
struct analysis_event {
	double t;
	const char *kind;        /* "start", "fork", "exit", "exec", "end" */
	int proc;                /* index into session_data.procs, -1 if none */
	int pid;
	const char *detail;      /* borrowed from the session, or static */
	int respawn_of;          /* fork of a respawn: the replaced process's index */
};

/* The whole analysis of a session, as the reports use it. */
struct analysis {
	double start_time, end_time;  /* the recording span */
	double interval_s;       /* meta interval_s, else the median gap; 0 */
	double hung_after_s;     /* analysis_hung_after_s() */
	size_t hung, killed;     /* processes hung; ended by a signal */
	struct analysis_proc *procs;  /* one per session process */
	size_t nprocs;
	size_t *order;           /* process indexes in tree order */
	struct analysis_tree_point *tree;  /* one per sample */
	size_t ntree;
	struct analysis_event *events;  /* in time order */
	size_t nevents;
};

/* Fill a (caller-owned) from d. d must outlive a: events borrow its
 * strings. Never fails (aborts on out of memory, like xmalloc). */
void analysis_init(struct analysis *a, const struct session_data *d);

/* Free what a holds (not a). */
void analysis_release(struct analysis *a);

/* ---- the recording ---- */

/* What was recorded, for titles: meta "target" (the root's command line
 * when recording started), else the root process's command, else "".
 * Borrowed from d. The reports and the screens title a session by it. */
const char *analysis_target(const struct session_data *d);

/* Start of the recording: meta "started", or the first sample if earlier
 * or if "started" is missing; 0 for an empty session. */
double analysis_start_time(const struct session_data *d);

/* End of the recording: meta "ended", or the last sample if later or if
 * "ended" is missing (a recorder that was killed); 0 for an empty session. */
double analysis_end_time(const struct session_data *d);

/* The sampling interval: meta "interval_s", else the median gap between
 * samples; 0 with fewer than two samples and no meta. */
double analysis_interval_s(const struct session_data *d);

/* ---- one process ---- */

/* Depth in the tree: 0 for a process without a parent. */
int analysis_depth(const struct session_data *d, size_t i);

/* Master for depth 0, worker for depth 1, child deeper. */
enum analysis_role analysis_role(const struct session_data *d, size_t i);

/* "master", "worker", "child". */
const char *analysis_role_name(enum analysis_role r);

/* The fork time (see the header comment); 0 if unknown and never sampled. */
double analysis_fork_time(const struct session_data *d, size_t i);

/* From fork to exit; to the end of recording while running; to its last
 * sample if it vanished without an exit record. Never negative. */
double analysis_lifetime_s(const struct session_data *d, size_t i);

/* Largest rss_kb over its samples; 0 if never sampled. */
uint64_t analysis_peak_rss_kb(const struct session_data *d, size_t i);

/* shared / (shared + copied) in percent; -1 when both are 0. */
double analysis_shared_pct(const struct cow_figures *f);

/* Average copy rate since fork: copied_kb at the last sample over the time
 * from fork to it. Without a known fork time, the growth between the first
 * and last samples. 0 with no time to divide by. */
double analysis_copy_rate_kbps(const struct session_data *d, size_t i);

/* Copy rate over the last window_s before its last sample: from the latest
 * sample at least window_s older (or the fork, if younger) to the last. */
double analysis_recent_copy_rate_kbps(const struct session_data *d, size_t i,
				      double window_s);

/* Seconds from fork to the first sample where at most half the inherited
 * memory is still shared; -1 if that never happened or nothing was
 * inherited. */
double analysis_half_shared_s(const struct session_data *d, size_t i);

/* Percent of the inherited memory still shared at the first sample at
 * least age_s after fork (ANALYSIS_AGE_END: the last sample); -1 if it was
 * not sampled that late or inherited nothing. */
double analysis_shared_pct_at_age(const struct session_data *d, size_t i,
				  double age_s);

/* How the process ended; writes a description ("exit 3", "killed by
 * SIGKILL", "running", "vanished") into desc if desc is not NULL. */
enum analysis_exit analysis_exit_of(const struct session_data *d, size_t i,
				    char desc[ANALYSIS_EXIT_DESC_LEN]);

/* Whether signal g came from the kernel (si_code SI_KERNEL, or no
 * sender), not from a process. */
bool analysis_signal_by_kernel(const struct session_signal *g);

/* The cause of process i's exit into buf (ANALYSIS_CAUSE_LEN): "exit 3";
 * for a process killed by a signal, the OOM kill of it
 * ("SIGKILL by the OOM killer (cgroup /x, anon 61 MiB)"), else the last
 * recorded signal of that number sent to it before its exit ("SIGTERM
 * from 6976 (gunicorn, exiting)", "SIGKILL from the kernel", "SIGABRT
 * from itself"), else "killed by SIGTERM"; "running", "vanished". *oom
 * and *signal get the indexes used (-1 if none); either may be NULL. */
enum analysis_exit analysis_exit_cause(const struct session_data *d, size_t i,
				       char *buf, size_t len, int *oom,
				       int *signal);

/* Whether a wait state's syscall column ("accept4(fd 5)", "epoll_wait",
 * "clock_nanosleep", "wait4") is a wait for work, a timer or a child
 * rather than for an answer: a server idle in accept or poll, a parent
 * waiting for its children, a sleeper are not hung however long they
 * wait. */
bool analysis_idle_syscall(const char *syscall);

/* The threshold: meta "hung_after_s", else ANALYSIS_HUNG_AFTER_S. */
double analysis_hung_after_s(const struct session_data *d);

/* The longest stretch of process i's wait states in one blocking place
 * (see struct analysis_hang); true and *out if it lasted hung_after_s or
 * more. Sessions without wait states (version 1) have none. */
bool analysis_hang_of(const struct session_data *d, size_t i,
		      double hung_after_s, struct analysis_hang *out);

/* The first sample taken at or after t, the last sample if none is, 0 in
 * a session without samples. By bisection: samples are in time order. */
size_t analysis_sample_after(const struct session_data *d, double t);

/* The wait state of process i at sample k (its latest at or before k), or
 * NULL if it has none there. */
const struct session_wait *analysis_wait_at(const struct session_data *d,
					    size_t i, size_t k);

/* Respawns: out[i] is the index of the sibling (same parent) that process
 * i replaced, or -1. A process replaces the sibling that exited during
 * the recording last before its fork, each exit being replaced at most
 * once, claimed in fork order. out has d->nprocs entries. */
void analysis_find_respawns(const struct session_data *d, int *out);

/* Process indexes in tree order (each parent followed by its children,
 * depth first, in session order); the caller frees the array. */
size_t *analysis_tree_order(const struct session_data *d);

/* ---- the tree and regions ---- */

/* The tree at sample k. */
void analysis_tree_point(const struct session_data *d, size_t k,
			 struct analysis_tree_point *out);

/* The n regions with the most copied_kb at their last point, most first
 * (ties: process then region order); regions that copied nothing are left
 * out. Returns how many were written to out (at most n). */
size_t analysis_top_regions(const struct session_data *d, size_t n,
			    struct analysis_region *out);

/* k indexes out of 0..n-1, evenly spaced, first and last included (all of
 * them if n <= k). Returns how many were written to out. */
size_t analysis_pick_rows(size_t n, size_t k, size_t *out);

/* ---- events ---- */

/* The session's events, plus a fork event for every process forked during
 * the recording without one and an exit event for every exit without one,
 * in time order, with respawns marked. *n is set; the caller frees the
 * array (not the strings, which d or static storage own). */
struct analysis_event *analysis_events(const struct session_data *d,
				       const int *respawn_of, size_t *n);

/* ---- comparing strategies (compare) ---- */

struct analysis_strategy {
	double duration_s;       /* recording span */
	size_t workers;          /* most workers present in one sample */
	size_t workers_seen;     /* every worker process recorded */
	/* Medians over the sampled workers; NaN when no worker has the figure. */
	double inherited_kb;
	double shared_pct_10s, shared_pct_60s, shared_pct_end;
	double copied_kb_median;
	double copied_kb_max;
	double copy_rate_kbps;
	/* The tree at the last sample. */
	uint64_t rss_kb_end, unique_kb_end;
	/* Processes hung (analysis_hang_of, the session's threshold), killed
	 * by a signal, and of those, by the OOM killer. */
	size_t hung, killed, oom_killed;
};

/* The strategy figures of one session. */
void analysis_strategy(const struct session_data *d,
		       struct analysis_strategy *out);

/* The saving of s against base: base's real memory at the end minus s's,
 * in kB (positive when s costs less) and in percent of base's (0 when
 * base's is 0). */
void analysis_saving(const struct analysis_strategy *base,
		     const struct analysis_strategy *s, double *saving_kb,
		     double *saving_pct);

/* The median of v[0..n) (sorts v); NaN when n is 0. */
double analysis_median(double *v, size_t n);

#endif
