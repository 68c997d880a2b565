/* attach.h - fault attribution for a tree cowprof did not start (attach)
 *
 * `cowprof record --faults` and `top --faults`: the copy-on-write faults of
 * the attached processes come from perf (collectors/pftrace.h). One
 * reader thread takes each sample in place in its ring, as it comes (the
 * target keeps running): keeps it if its address is in a private writable
 * mapping, unwinds the native stack from its registers and stack copy
 * (collectors/unwind.h, memoized: a burst repeats its stacks), and takes
 * the thread's CPython 3.11 frames, read from the target's memory
 * (collectors/pyframe.h) or, for the next faults in the same frame, as
 * read for an earlier one; code objects are named then, while they surely
 * exist. Events wait for the drain in a packed queue. Every fault perf
 * kept is recorded or counted as dropped (lost by the kernel, or of a
 * process gone before it was known). With --fault-period N each event
 * stands for N faults (its weight); with --fault-period auto (burst_period)
 * a process's events switch to one in burst_period while it copies in a
 * burst (faults/burst.h), each such event weighing burst_period. The
 * maps and Python layout of the processes attached at the start are read
 * before the first pass, not at their first fault. The recorder's drain
 * (inside its transaction) writes the queued events through faultlog's
 * core, with the method "perf" in fault_sources, and attaches the tree's
 * processes that perf does not follow yet (those that existed before;
 * children forked later are followed by inheritance).
 *
 * Python frames are read after the fault, so the thread may have moved on.
 * The check (docs/faults.md, "Stale Python frames"): the fault-time frame is
 * found from the sample's own stack copy (CPython 3.11 keeps each running
 * evaluation loop's _PyCFrame, whose current_frame is that loop's frame, in
 * the C frame of _PyEval_EvalFrameDefault; tstate->cframe, read live, is the
 * innermost now; a deeper loop that has returned since is found below it in
 * the copy). The frames read from it are kept only if a value among the
 * sampled registers or the stack copy points into the bytecode of the
 * innermost frame's code object (the loop's next_instr at the fault): that
 * proves the frame and gives the faulting instruction's line. Failing that,
 * such a pointer into a code object the process was seen running before
 * names the innermost frame alone ("innermost only"); else the event keeps
 * its native stack only ("stale"). A cframe outside the stack copy:
 * "unchecked" (the live frames, still subject to the bytecode check).
 */
#ifndef COWPROF_FAULTS_ATTACH_H
#define COWPROF_FAULTS_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faults/faultlog.h"
#include "measure/sink.h"

struct attach;

/* --fault-period auto: 1 in this many faults while they come in a burst */
#define FAULT_BURST_PERIOD 32

struct attach_opts {
	uint64_t period;         /* sample every Nth fault (0 or 1: all) */
	/* > 0 (--fault-period auto): a process's faults go to 1 in this
	 * many while they come faster than 5,000/s, back to period after */
	uint64_t burst_period;
	uint32_t stack_size;     /* user stack bytes per sample (0: 4096) */
	unsigned ring_pages;     /* per CPU (0: pftrace's default) */
	const char *proc_root;   /* NULL for /proc */
	int reader_nice;         /* the ring reader's nice (0: the caller's) */
};

struct attach_stats {
	uint64_t samples;        /* COW samples read from the rings */
	uint64_t kept;           /* in a private writable mapping: events */
	uint64_t other;          /* elsewhere (shared, gone): not events */
	uint64_t root;           /* in the root process: not events */
	uint64_t lost;           /* records the kernel lost (rings full) */
	uint64_t unrecorded;     /* events of processes the recorder never
				  * saw (exited first, or unknown for 10 s):
				  * not in the session, counted as dropped */
	uint64_t python;         /* events with Python frames */
	uint64_t stale;          /* Python frames dropped: the thread had
				  * moved to another frame */
	uint64_t unchecked;      /* Python frames kept unchecked */
	uint64_t innermost_only; /* the frames read were not the fault's, but
				  * a fault-time pointer into a code object
				  * seen before named the innermost frame */
	uint64_t no_tstate;      /* in a CPython process, no thread state for
				  * the thread (not a Python thread) */
	uint64_t no_frames;      /* no frame at the fault (the thread ran no
				  * Python code then) or an unreadable chain */
	uint64_t recovered;      /* read from the fault-time frame, the thread
				  * having left it, its code confirmed by a
				  * fault-time pointer into its bytecode */
	uint64_t reused;         /* of them, the thread's chain as read for
				  * an earlier fault in the same frame */
	uint64_t exact_line;     /* innermost line from the fault-time
				  * instruction pointer */
	uint64_t unwind_ns;      /* time spent unwinding, of timed samples */
	uint64_t python_ns;      /* time reading Python frames, of them */
	uint64_t timed;          /* the kept samples timed (one in 16) */
	uint64_t unwind_memo;    /* unwinds answered by the unwinder's memo */
	uint64_t bursts;         /* times a process went 1 in burst_period */
	uint64_t burst_kept;     /* kept events sampled so, each weighing
				  * burst_period */
	uint64_t thinned;        /* samples taken at every fault before a
				  * burst was seen, passed by (one in
				  * burst_period kept) */
	size_t events_open;      /* perf events (one per thread per CPU, two
				  * with burst_period) */
	size_t attached;         /* processes attached directly */
};

/* Open perf and start the reader thread, then attach root and every
 * descendant it has now. Returns 0 and *out, or -errno with a one-line
 * reason in err (not root, no tracefs, perf refused, root gone). */
int attach_new(int root, const struct attach_opts *o, struct attach **out,
		  char *err, size_t errlen);

/* Stop the reader thread, close perf, free fp. NULL does nothing. */
void attach_free(struct attach *fp);

/* Attach the processes of l (alive_pid) perf does not follow yet, then
 * write the events read so far (after one more pass of the reader) into s
 * through fs, and each process's fault_sources row (method "perf").
 * Returns 0 or the sink's -errno. */
int attach_drain(struct attach *fp, struct faultlog *fs, const struct sink *s,
		    const struct faultlog_lookup *l);

/* The sampling period (1: every fault). */
uint64_t attach_period(const struct attach *fp);

/* The period in bursts (--fault-period auto), 0 without. */
uint64_t attach_burst_period(const struct attach *fp);

/* A copy of the counters so far. */
void attach_get_stats(struct attach *fp, struct attach_stats *st);

#endif
