/* session.h - the session file: one SQLite database per recording
 *
 * The schema is versioned with PRAGMA user_version and documented in
 * docs/session-format.md. The writer commits one transaction per sample in
 * WAL mode, so a recorder killed with SIGKILL loses at most the sample it
 * was writing. All SQL of cowprof lives in session.c.
 */
#ifndef COWPROF_SESSION_H
#define COWPROF_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cow.h"

#define SESSION_SCHEMA_VERSION 1

struct session;  /* an open session file */

/* ---- writing (the recorder) ---- */

/* Create a new session file at path (it must not exist). Returns 0 and
 * *out, or -errno with a one-line reason in err (-EEXIST, -EACCES, ...). */
int session_create(const char *path, struct session **out, char *err,
		   size_t errlen);

/* Close a session opened by session_create or session_open; NULL is fine. */
void session_close(struct session *s);

/* Set a metadata value (command, interval_s, kernel, ...). */
int session_set_meta(struct session *s, const char *key, const char *value);

/* Start a sample taken at t (seconds since the epoch); the rows that follow
 * belong to it until session_end_sample commits them together. */
int session_begin_sample(struct session *s, double t, double duration_s,
			 const struct cow_tree_figures *tree, size_t nprocs,
			 int64_t *sample_id);
int session_end_sample(struct session *s);

struct session_proc_info {
	int pid, ppid;
	int64_t parent_id;       /* session id of the parent process, 0 if none */
	uint64_t start_ticks;    /* /proc/PID/stat starttime: tells reused pids apart */
	double fork_time;        /* seconds since the epoch */
	const char *cmd;
};

/* The session id of a process, adding it if it is new. */
int session_add_process(struct session *s, const struct session_proc_info *p,
			int64_t *id);

/* The figures of one process in the current sample. */
int session_add_proc_sample(struct session *s, int64_t sample_id,
			    int64_t process_id, char state,
			    const struct cow_figures *f);

/* The session id of a region of a process, adding it if new. */
int session_add_region(struct session *s, int64_t process_id, uint64_t start,
		       uint64_t end, const char *perms, const char *kind,
		       const char *path, int64_t *id);

/* A region's figures, written only when they changed since the last sample
 * that wrote them (the caller tracks that). */
int session_add_region_sample(struct session *s, int64_t sample_id,
			      int64_t region_id, const struct cow_figures *f);

/* A process exited at t with exit_code (if signal == 0) or by signal. code
 * and signal are -1 when unknown (the process vanished between samples). */
int session_set_exit(struct session *s, int64_t process_id, double t,
		     int exit_code, int signal);

/* An event: kind is "fork", "exit", "exec", "start" or "end". */
int session_add_event(struct session *s, double t, int64_t process_id, int pid,
		      const char *kind, const char *detail);

/* Bytes the file and its WAL take now. */
uint64_t session_file_size(const struct session *s);

/* ---- reading (reports, compare, TUI) ---- */

struct session_sample {
	int64_t id;
	double t;
	double duration_s;
	size_t nprocs;
	struct cow_tree_figures tree;
};

/* One process's figures at one sample. */
struct session_point {
	size_t sample;           /* index into session_data.samples */
	char state;
	struct cow_figures fig;
};

struct session_region {
	int64_t id;
	uint64_t start, end;
	char perms[5];
	char *kind, *path;
	struct session_point *points;  /* only where its figures changed */
	size_t npoints;
};

struct session_process {
	int64_t id;
	int pid, ppid;
	int parent;              /* index into session_data.procs, -1 if none */
	uint64_t start_ticks;
	double fork_time;
	double exit_time;        /* 0 while alive at the end */
	int exit_code, exit_signal;  /* -1 when unknown */
	char *cmd;
	struct session_point *points;  /* in sample order */
	size_t npoints;
	struct session_region *regions;
	size_t nregions;
};

struct session_event {
	double t;
	int process;             /* index into session_data.procs, -1 if none */
	int pid;
	char *kind, *detail;
};

struct session_meta_kv {
	char *key, *value;
};

struct session_data {
	int version;
	struct session_meta_kv *meta;
	size_t nmeta;
	struct session_sample *samples;
	size_t nsamples;
	struct session_process *procs;  /* parents before children */
	size_t nprocs;
	struct session_event *events;   /* in time order */
	size_t nevents;
};

/* Read a whole session file into d. Returns 0, or -errno with a one-line
 * reason in err: -ENOENT, -EINVAL (not a cowprof session, or corrupted),
 * -EPROTO (written by a newer cowprof: schema version too new). A session
 * still being written, or left by a killed recorder, reads as far as its
 * last committed sample. */
int session_load(const char *path, struct session_data *d, char *err,
		 size_t errlen);

/* Free what d holds (not d). */
void session_data_release(struct session_data *d);

/* The value of a metadata key, or NULL. */
const char *session_meta(const struct session_data *d, const char *key);

#endif
