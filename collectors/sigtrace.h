/* sigtrace.h - who sent each signal, and whom the OOM killer chose
 *
 * The tracepoints signal:signal_generate (one record per signal sent, in the
 * sender's context), oom:mark_victim (one per OOM kill) and
 * sched:sched_process_exit (one per exiting thread, with its comm), opened with
 * perf_event_open system-wide: one event of each per CPU, pid = -1, both
 * writing into one mmapped ring per CPU. Needs root (or CAP_PERFMON with
 * access to tracefs). Records are of the whole system: callers filter by
 * their tree. Field offsets come from the tracepoints' tracefs format files
 * (collectors/tracefs.h), never from constants.
 */
#ifndef COWPROF_COLLECTORS_SIGTRACE_H
#define COWPROF_COLLECTORS_SIGTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/tracefs.h"

#define SIGTRACE_COMM_LEN 16     /* TASK_COMM_LEN; names are cut to 15 + NUL */

/* signal_generate's result (include/trace/events/signal.h) */
enum sigtrace_result {
	SIGTRACE_DELIVERED,          /* queued to the target */
	SIGTRACE_IGNORED,            /* the target ignores it (or is exiting) */
	SIGTRACE_ALREADY_PENDING,    /* a standard signal already pending */
	SIGTRACE_OVERFLOW_FAIL,      /* realtime queue full */
	SIGTRACE_LOSE_INFO,          /* queued without its siginfo */
};

struct sigtrace_signal {
	uint64_t t_ns;               /* CLOCK_REALTIME ns since the epoch */
	int sender_pid;              /* thread group of the task that sent it */
	int sender_tid;
	int cpu;
	int sig;
	int code;                    /* si_code: <= 0 from a process (SI_USER 0,
				      * SI_TKILL -6, SI_QUEUE -1), > 0 by the
				      * kernel (SI_KERNEL 0x80, CLD_*, SEGV_*) */
	int err;                     /* si_errno */
	int target_tid;              /* the task it was sent to: the thread id
				      * (the process's pid for a kill(2)) */
	bool group;                  /* sent to the whole thread group */
	int result;                  /* enum sigtrace_result (others possible) */
	char target_comm[SIGTRACE_COMM_LEN];
	/* The sender's comm, filled by sigtrace_read() for the records the
	 * caller keeps (the record itself does not carry it): from the
	 * sender's sched_process_exit record if it has exited by then
	 * (sender_exited), else from /proc; "" if neither is known. */
	char sender_comm[SIGTRACE_COMM_LEN];
	bool sender_exited;
};

struct sigtrace_exit {
	uint64_t t_ns;               /* CLOCK_REALTIME ns since the epoch */
	int pid;                     /* thread group of the exiting thread */
	int tid;
	int cpu;
	bool group_dead;             /* the last thread: the process is gone */
	char comm[SIGTRACE_COMM_LEN];
};

struct sigtrace_oom {
	uint64_t t_ns;               /* CLOCK_REALTIME ns since the epoch */
	int trigger_pid;             /* the task whose allocation hit the limit */
	int trigger_tid;
	int cpu;
	int victim_pid;              /* the process chosen and killed */
	char victim_comm[SIGTRACE_COMM_LEN];
	/* the victim's memory at the kill, in kB; -1 where this kernel's
	 * mark_victim lacks the field */
	int64_t total_vm_kb;
	int64_t anon_rss_kb;
	int64_t file_rss_kb;
	int64_t shmem_rss_kb;
	int64_t pgtables_kb;
	int64_t uid;                 /* -1 if absent */
	int oom_score_adj;           /* 0 if absent (has_oom_score_adj) */
	bool has_oom_score_adj;
};

enum sigtrace_kind { SIGTRACE_SIGNAL, SIGTRACE_OOM, SIGTRACE_EXIT, SIGTRACE_LOST };

struct sigtrace_event {
	enum sigtrace_kind kind;
	union {
		struct sigtrace_signal signal;
		struct sigtrace_oom oom;
		struct sigtrace_exit exit;
		uint64_t lost;           /* LOST: records the kernel dropped (ring full) */
	};
};

/* Where the fields of the tracepoints are, from their format files. */
struct sigtrace_layout {
	int signal_id;               /* 0: no signal_generate */
	int oom_id;                  /* 0: no mark_victim */
	int exit_id;                 /* 0: no sched_process_exit */
	/* offsets into the raw record; size 0 = field absent */
	struct sigtrace_loc { uint32_t off, size; bool data_loc; }
		common_type, sig, err, code, comm, pid, group, result,
		v_pid, v_comm, total_vm, anon_rss, file_rss, shmem_rss,
		uid, pgtables, oom_score_adj,
		x_comm, x_pid, x_group_dead;
	/* added to each sample's time: 0 when the kernel stamped
	 * CLOCK_REALTIME itself, else REALTIME - MONOTONIC at open */
	int64_t time_offset_ns;
};

/* Fill l from the formats of signal_generate, mark_victim and
 * sched_process_exit (any may be NULL or empty when the kernel lacks it).
 * Returns 0, or -EINVAL if a format lacks a field the decoder needs (sig,
 * pid, result; victim pid; exit pid) or has a size the decoder cannot read. */
int sigtrace_layout_init(struct sigtrace_layout *l, const struct tracefs_format *sig,
			 const struct tracefs_format *oom,
			 const struct tracefs_format *exit);

/* Decode one perf ring record (struct perf_event_header first, len bytes)
 * of an event opened as sigtrace_open() opens them (sample_type
 * TID|TIME|CPU|RAW). Returns 1 and fills *out for a signal, OOM, exit or
 * LOST record, 0 for a record of another type or tracepoint (skipped), or
 * -EINVAL if the record is malformed. sender_comm is left "". */
int sigtrace_parse_record(const struct sigtrace_layout *l, const void *rec,
			  size_t len, struct sigtrace_event *out);

struct sigtrace;

struct sigtrace_opts {
	unsigned ring_pages;         /* data pages per CPU ring, a power of 2;
				      * 0: 64 (256 KiB with 4 KiB pages) */
	/* Wake a poll() on sigtrace_fd() when a ring holds this many bytes;
	 * 0: a quarter of the ring. 1: every record. Records are readable
	 * before the wakeup: call sigtrace_read() whenever it matters (before
	 * recording an exit) and at least once per interval. */
	unsigned wakeup_bytes;
	bool no_oom;                 /* do not open mark_victim */
	bool no_exit;                /* do not open sched_process_exit (senders'
				      * comms then come from /proc only) */
	/* A kernel-side filter on signal_generate: an ftrace filter
	 * expression over its fields (Documentation/trace/events.rst, "Event
	 * filtering"), e.g. SIGTRACE_FILTER_NO_FAULTS or "sig == 15 || sig ==
	 * 9". Rejected records cost nearly nothing and never fill the ring.
	 * The kernel lets a perf event's filter be set only once (EEXIST
	 * after), so it is fixed at open. NULL: every signal. */
	const char *signal_filter;
};

/* Read the formats from tracefs and open the tracepoints on every online
 * CPU. o may be NULL. Returns 0 and sets *out, or -errno with a one-line
 * reason in err for the caller to print once (-EACCES/-EPERM: not root;
 * -ENOENT: no such tracepoint; -ENODEV: no tracefs; -EINVAL: a
 * signal_filter the kernel refuses). A kernel without mark_victim still
 * opens (sigtrace_has_oom() says so). */
int sigtrace_open(const struct sigtrace_opts *o, struct sigtrace **out,
		  char *err, size_t errlen);

/* Close every event, unmap the rings and free st. NULL does nothing. */
void sigtrace_close(struct sigtrace *st);

/* One fd (an epoll set of the per-CPU rings) that polls readable when a
 * ring passed its wakeup mark. Valid until sigtrace_close(). Readiness is
 * edge-like: after it fires, read until sigtrace_read() returns < max. */
int sigtrace_fd(const struct sigtrace *st);

/* True if oom:mark_victim is open; false on kernels without it. */
bool sigtrace_has_oom(const struct sigtrace *st);

/* True if the kernel stamps samples with CLOCK_REALTIME (use_clockid);
 * false if they are CLOCK_MONOTONIC shifted by the offset measured at open
 * (wrong by the size of any clock step made since). */
bool sigtrace_realtime(const struct sigtrace *st);

/* Drop the signals the kernel sends a task for its own faults (SIGSEGV,
 * SIGBUS, SIGILL, SIGFPE, SIGTRAP with a positive si_code): a program that
 * catches its page faults on purpose (a write barrier, cowprof's preload
 * library) raises one per fault. A fault that kills still shows as the exit
 * signal in the proc connector's exit event. */
#define SIGTRACE_FILTER_NO_FAULTS \
	"!(code > 0 && (sig == 11 || sig == 7 || sig == 4 || sig == 8 || sig == 5))"

/* Return 1 to keep the event, 0 to drop it. */
typedef int (*sigtrace_want_fn)(const struct sigtrace_event *ev, void *ctx);

/* Drain pending records of every ring into out (at most max), without
 * blocking. want (may be NULL: keep all) filters SIGNAL, OOM and EXIT
 * events before they are stored (every thread exit of the system is an
 * EXIT event: drop those you do not need); LOST events are always stored.
 * Each kept signal gets its sender's comm (see sender_comm). Returns the
 * number stored (== max: more may be pending; call again), or -errno. */
int sigtrace_read(struct sigtrace *st, struct sigtrace_event *out, size_t max,
		  sigtrace_want_fn want, void *ctx);

/* Records lost (ring full) since open, over all CPUs. */
uint64_t sigtrace_lost(const struct sigtrace *st);

/* The layout the open decoder uses (for tests and fixture capture). */
const struct sigtrace_layout *sigtrace_layout(const struct sigtrace *st);

/* Raw-record hook for capturing fixtures: if set, called with each record
 * (header included) before it is decoded. */
void sigtrace_set_raw_hook(struct sigtrace *st,
			   void (*hook)(const void *rec, size_t len, void *ctx),
			   void *ctx);

#endif
