/* recorder.h - sample a process tree at a fixed interval into a sink
 *
 * Each interval: one snapshot of the tree (measure/snapshot.h), written as
 * one committed transaction. Between samples the netlink proc connector
 * tells forks and exits (with exit code or signal) as they happen; without
 * it (no CAP_NET_ADMIN), processes that vanish between samples are recorded
 * as exited with an unknown status.
 */
#ifndef COWPROF_RECORD_RECORDER_H
#define COWPROF_RECORD_RECORDER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faults/attach.h"
#include "measure/sink.h"

#define RECORDER_MIN_INTERVAL_S 0.05

struct recorder_opts {
	double interval_s;       /* >= RECORDER_MIN_INTERVAL_S */
	/* If set, read before each wait instead of interval_s: another thread
	 * (top's +/- keys) may change it while the recorder runs. */
	_Atomic double *interval_live;
	double duration_s;       /* 0: until the root exits or *stop */
	const char *proc_root;   /* NULL for /proc */
	bool progress;           /* a progress line on stderr */
	/* set by a signal handler, or by another thread with an atomic store
	 * (__atomic_store_n), to end */
	volatile sig_atomic_t *stop;
	/* Called between samples; returns true when the root has exited (run
	 * reaps its child there). May be NULL. */
	bool (*root_done)(void *ctx);
	void *ctx;
	/* The spool folder where libcowprof_preload.so writes the tree's
	 * first-write events (run), or NULL: no fault attribution. */
	const char *fault_spool;
	/* The perf attach path (record/top --faults), or NULL; owned by the
	 * caller, drained with the rings. */
	struct attach *fault_perf;
	/* Called once after the first sample, with ctx (lowering the sampling
	 * thread's priority: under load, a first sample at nice 10 can come
	 * seconds late, and a process that exits before it is never known),
	 * or NULL. */
	void (*after_first)(void *ctx);
	/* Called once when the recorder can see the tree's first fork (its
	 * event sources are open), before the first sample: run starts its
	 * command there. Returns 0, or -errno with a line in err, which ends
	 * the recording. May be NULL. */
	int (*ready)(void *ready_ctx, char *err, size_t errlen);
	void *ready_ctx;
};

struct recorder_summary {
	double seconds;          /* from first to last sample */
	size_t samples;
	size_t processes;        /* every process seen */
	size_t exits;
	uint64_t file_bytes;
	bool root_exited;
	size_t unseen;           /* forked, then left the tree before any sample saw
				  * them, their exit untold (reparented) */
	size_t events_overrun;   /* times the kernel dropped proc connector events */
	uint64_t signals_shed;   /* signal records of the system lost in a storm */
	bool connector;          /* fork/exit events came from the proc connector */
	uint64_t fault_events;   /* first writes recorded with their stacks */
	uint64_t fault_pages;    /* the pages they stand for (weights) */
	uint64_t fault_dropped;  /* lost: the rings were full */
};

/* Record root's tree into s until the root exits, duration_s passes or
 * *stop is set. Returns 0, or -errno with a one-line reason in err (the
 * root does not exist or cannot be read, the session cannot be written). */
int recorder_run(int root, const struct sink *s, const struct recorder_opts *o,
		 struct recorder_summary *sum, char *err, size_t errlen);

#endif
