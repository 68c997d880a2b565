/* session.h - the session file: one SQLite database per recording
 *
 * The schema is versioned with PRAGMA user_version and documented in
 * docs/session-format.md. The writer commits one transaction per sample in
 * WAL mode, so a recorder killed with SIGKILL loses at most the sample it
 * was writing. All SQL of cowprof lives in session.c.
 */
#ifndef COWPROF_STORE_SESSION_H
#define COWPROF_STORE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "measure/cow.h"
#include "measure/sink.h"

#define SESSION_SCHEMA_VERSION 3

struct session;  /* an open session file */

/* ---- writing (the recorder, through the session's sink) ---- */

/* Create a new session file at path (it must not exist). Returns 0 and
 * *out, or -errno with a one-line reason in err (-EEXIST, -EACCES, ...). */
int session_create(const char *path, struct session **out, char *err,
		   size_t errlen);

/* Close a session opened by session_create; NULL is fine. */
void session_close(struct session *s);

/* Point out at s: the sink (measure/sink.h) whose rows go to this session
 * file, each function below behind its operation of the same name. Valid
 * while s is open. */
void session_sink(struct session *s, struct sink *out);

/* Set a metadata value (SINK_META_* keys). */
int session_set_meta(struct session *s, const char *key, const char *value);

/* Start a sample taken at t (seconds since the epoch); the rows that follow
 * belong to it until session_end_sample commits them together. */
int session_begin_sample(struct session *s, double t, double duration_s,
			 const struct cow_tree_figures *tree, size_t nprocs,
			 int64_t *sample_id);
int session_end_sample(struct session *s);

/* Start a transaction without a sample (rows written after the last
 * sample); session_end_sample commits it. */
int session_begin(struct session *s);

/* The session id of a process, adding it if it is new. */
int session_add_process(struct session *s, const struct sink_proc *p,
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

/* ---- fault attribution (schema 2) ---- */

/* The id of a frame, adding it if new. */
int session_add_frame(struct session *s, const struct sink_frame *f,
		      int64_t *id);

/* The id of the stack made of frame ids (innermost first), adding it if
 * new. n == 0 gives *id = 0 (no stack). */
int session_add_stack(struct session *s, const int64_t *frame_ids, size_t n,
		      int64_t *id);

/* The first write of process_id to an inherited page at addr, by thread
 * tid, at t. region_id, native_stack_id and python_stack_id are 0 when
 * unknown or absent. */
/* weight: the faults this one stands for (1: itself; a sampled fault,
 * perf's period; 0 is taken as 1). Call sites sum weights (format 3). */
int session_add_fault(struct session *s, int64_t process_id, double t, int tid,
		      uint64_t addr, int64_t region_id, int64_t native_stack_id,
		      int64_t python_stack_id, uint64_t weight);

/* How a process's faults were caught (method "preload" or "perf"), how
 * many were recorded and dropped, and why Python frames are off ("" when
 * on). Replaces the previous figures of that process. */
int session_set_fault_source(struct session *s, int64_t process_id,
			     const char *method, uint64_t events,
			     uint64_t dropped, const char *python_status);

/* ---- wait states, signals, OOM kills (schema 2) ---- */

int session_add_wait(struct session *s, int64_t sample_id, int64_t process_id,
		     const struct sink_wait *w);

int session_add_signal(struct session *s, const struct sink_signal *g);

int session_add_oom(struct session *s, const struct sink_oom *o);

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

/* What a process was waiting on from one sample (schema 2) until the
 * sample of its next row: the recorder writes a row when something
 * changed. */
struct session_wait {
	size_t sample;           /* index into session_data.samples */
	char state;
	double cpu_s;
	char *wchan, *syscall, *blocked_on;
	char *python;            /* "" when none (see struct sink_wait) */
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
	struct session_wait *waits;    /* in sample order; none in version 1 */
	size_t nwaits;
	/* fault attribution: method is NULL when none was recorded */
	char *fault_method, *python_status;
	uint64_t fault_events, fault_dropped;
};

struct session_frame {
	int64_t id;
	bool python;
	char *function;          /* "" when unknown */
	char *module, *source;
	uint64_t offset;
	int line;
};

struct session_stack {
	int64_t id;
	size_t *frames;          /* indices into session_data.frames, innermost first */
	size_t nframes;
};

/* The faults of one process with the same native and Python stacks. */
struct session_fault_group {
	int process;             /* index into session_data.procs */
	int native_stack;        /* index into session_data.stacks, -1 if none */
	int python_stack;
	uint64_t pages;
	double first_t, last_t;
};

struct session_signal {
	double t;
	int process;             /* index of the target, -1 if not in the tree */
	int pid, signal, code;
	int sender_pid;          /* 0: the kernel */
	char *sender_cmd;
	int sender_process;      /* index of the sender, -1 if not in the tree */
	bool sender_exiting;
	char *result;
};

struct session_oom {
	double t;
	int process;             /* index of the victim, -1 if not in the tree */
	int pid;
	uint64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb;
	char *cgroup;
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
	/* schema 2: empty in version 1 files */
	struct session_frame *frames;   /* by id */
	size_t nframes;
	struct session_stack *stacks;   /* by id */
	size_t nstacks;
	struct session_fault_group *fault_groups;  /* most pages first */
	size_t nfault_groups;
	struct session_signal *signals; /* in time order */
	size_t nsignals;
	struct session_oom *ooms;       /* in time order */
	size_t nooms;
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
