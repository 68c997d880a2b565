/* why.h - why the recorded processes wait or die: each sample, what every
 * process is blocked on; between samples, the signals sent to the tree and
 * the OOM kills of its processes
 *
 * Described in docs/recorder.md. Wait states come from collectors/
 * procstate.h (the fd table of the tree is scanned only in samples where
 * some process waits on a pipe or socket). Signals and OOM kills come from
 * the signal_generate, mark_victim and sched_process_exit tracepoints
 * (collectors/sigtrace.h, kernel-filtered so that page-fault signals, which
 * cowprof's preload library raises by the thousand, never reach the ring);
 * the memory cgroup of an OOM kill from the kernel log (collectors/kmsg.h),
 * which is also the fallback for OOM kills when perf cannot be used.
 *
 * Signals are held for WHY_SETTLE_S before they are stored, so that the
 * sender's exit, if it follows, is known ("SIGTERM from 6976, exiting"), and
 * so that a target forked between two samples has its row by then.
 */
#ifndef COWPROF_RECORD_WHY_H
#define COWPROF_RECORD_WHY_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/procstate.h"
#include "measure/sink.h"
#include "measure/snapshot.h"

/* A sender that exits within this many seconds after sending is "exiting". */
#define WHY_SETTLE_S 1.0
/* Signals and OOM kills whose target never became a tree process within
 * this many seconds (or intervals, whichever is longer) are dropped. */
#define WHY_KEEP_S 5.0
/* Bounds that keep a storm of signals (a tree under strace -f: every
 * system call stops it and signals the tracer) from starving the
 * recorder: records read per why_drain, and signals held at once (more
 * are dropped and counted). */
#define WHY_DRAIN_MAX 4096
#define WHY_HELD_MAX 65536
/* The most fds why_pollfds() fills. */
#define WHY_MAX_FDS 2

struct why;

struct why_opts {
	const char *proc_root;   /* NULL for /proc */
	double interval_s;       /* the recorder's interval */
	bool no_perf;            /* do not try the tracepoints (tests) */
	bool no_kmsg;            /* do not read /dev/kmsg (tests) */
};

/* The session row of a process, for the recorder to answer. id_of: the
 * process pid with start_ticks (0 if unknown). id_at: the process that had
 * pid at time t, alive or exited (0 if none in the tree). */
struct why_tree {
	int64_t (*id_of)(void *ctx, int pid, uint64_t start_ticks);
	int64_t (*id_at)(void *ctx, int pid, double t);
	void *ctx;
};

/* Open what can be opened. Never fails for want of privileges: a source that
 * cannot be opened is left out and *notice gets one line saying so (""
 * when everything opened), for the caller to print once. Returns 0 and
 * *out, or -ENOMEM. */
int why_open(const struct why_opts *o, struct why **out, char *notice,
	       size_t noticelen);

/* Close every source and free w. NULL does nothing. */
void why_close(struct why *w);

/* What the session's meta records: signals "perf" or "absent: REASON";
 * OOM kills "perf+kmsg", "perf", "kmsg" or "absent: REASON". Borrowed
 * from w. */
const char *why_signals_capability(const struct why *w);
const char *why_oom_capability(const struct why *w);

/* Fill p[0..) (room for WHY_MAX_FDS) with the fds to poll for POLLIN;
 * returns how many. After poll() says one is readable, call why_drain. */
size_t why_pollfds(const struct why *w, struct pollfd *p);

/* Read everything pending from the tracepoint rings and the kernel log
 * into w's buffers, without blocking. Call it in the wait loop and before
 * recording exits. */
void why_drain(struct why *w);

/* Write each process's wait state in snap to sample sample_id of s (in the
 * transaction the caller opened), when it differs from the last one
 * written for that process (a row holds until the process's next row).
 * Processes without a row are skipped. Returns 0 or the sink's -errno. */
int why_write_waits(struct why *w, const struct sink *s, int64_t sample_id,
		      const struct snapshot *snap, const struct why_tree *tree);

/* Store the signals and OOM kills of tree processes held in w that are at
 * least WHY_SETTLE_S old at now (every one when final), in the
 * transaction the caller opened; drop those of other processes older than
 * WHY_KEEP_S. Returns 0 or the sink's -errno. */
int why_store(struct why *w, const struct sink *s, double now, bool final,
		const struct why_tree *tree);

/* Counts since open, for the recorder's summary and tests. */
struct why_counts {
	uint64_t signals, ooms;  /* stored */
	uint64_t lost;           /* records the kernel dropped (ring full) */
	uint64_t shed;           /* signals dropped: WHY_HELD_MAX were held */
};
void why_counts(const struct why *w, struct why_counts *out);

/* The "syscall" column of a wait state: "read(fd 7)", "futex", "syscall 435"
 * when the number is unknown, "" when not in a system call. Into buf,
 * which it returns. */
char *why_syscall_text(const struct procstate *ps, char *buf, size_t len);

#endif
