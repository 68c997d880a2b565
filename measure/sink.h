/* sink.h - where a recording goes: the rows measurement and recording write
 *
 * The recorder (record/recorder.h), the why-it-waits watcher (record/why.h)
 * and fault attribution (faults/) write what they learn through a struct
 * sink: a table of functions and their context. They know nothing of
 * SQLite or files; the session store (store/session.h: session_sink) is
 * the sink that writes a session file, and anything else that keeps
 * samples (a test, a live screen) can be one. Ids are the sink's own row
 * ids (> 0), handed back so later rows can refer to earlier ones.
 *
 * Every function returns 0 or a negative errno. Strings are borrowed for
 * the call only. Rows written between begin_sample (or begin) and
 * commit belong together: a sink that commits commits them at once.
 */
#ifndef COWPROF_MEASURE_SINK_H
#define COWPROF_MEASURE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "measure/cow.h"

/* The metadata keys a recording writes, and the reports read. */
#define SINK_META_COMMAND          "command"
#define SINK_META_TARGET           "target"
#define SINK_META_ROOT_PID         "root_pid"
#define SINK_META_INTERVAL_S       "interval_s"
#define SINK_META_KERNEL           "kernel"
#define SINK_META_HOSTNAME         "hostname"
#define SINK_META_PAGE_SIZE        "page_size"
#define SINK_META_COWPROF_VERSION  "cowprof_version"
#define SINK_META_STARTED          "started"
#define SINK_META_ENDED            "ended"
#define SINK_META_SAMPLES          "samples"
#define SINK_META_HUNG_AFTER_S     "hung_after_s"
#define SINK_META_CONNECTOR        "connector"
#define SINK_META_SIGNALS          "signals"
#define SINK_META_OOM_KILLS        "oom_kills"
#define SINK_META_FAULT_METHOD     "fault_method"
#define SINK_META_FAULT_PERIOD     "fault_period"
/* attach mode's counts (docs/session-format.md) */
#define SINK_META_FAULT_PERF_SAMPLES          "fault_perf_samples"
#define SINK_META_FAULT_PERF_LOST             "fault_perf_lost"
#define SINK_META_FAULT_PERF_PYTHON           "fault_perf_python"
#define SINK_META_FAULT_PERF_PYTHON_STALE     "fault_perf_python_stale"
#define SINK_META_FAULT_PERF_PYTHON_RECOVERED "fault_perf_python_recovered"
#define SINK_META_FAULT_PERF_PYTHON_INNERMOST "fault_perf_python_innermost_only"
#define SINK_META_FAULT_PERF_PYTHON_UNCHECKED "fault_perf_python_unchecked"
#define SINK_META_FAULT_PERF_EXACT_LINE       "fault_perf_exact_line"
#define SINK_META_FAULT_BURST_PERIOD          "fault_burst_period"
#define SINK_META_FAULT_PERF_BURSTS           "fault_perf_bursts"
#define SINK_META_FAULT_PERF_THINNED          "fault_perf_thinned"

/* A process of the tree, when it is first seen. */
struct sink_proc {
	int pid, ppid;
	int64_t parent_id;       /* sink id of the parent process, 0 if none */
	uint64_t start_ticks;    /* /proc/PID/stat starttime: tells reused pids apart */
	double fork_time;        /* seconds since the epoch */
	const char *cmd;
};

/* One symbolized frame. Native: function (NULL when unknown), module (the
 * mapped file), offset (ip minus the function's start, or the file offset
 * when the function is unknown), source and line where debug info says.
 * Python: function (qualified name), module (file name), line. */
struct sink_frame {
	bool python;
	const char *function;
	const char *module;
	uint64_t offset;
	const char *source;
	int line;
};

/* What a process was doing at a sample (written when it changed since the
 * process's previous row): state, CPU seconds used since it started, kernel
 * wait channel ("" when running), the system call it is blocked in ("" if
 * none) and what that call waits on (one line, ""). */
struct sink_wait {
	char state;
	double cpu_s;
	const char *wchan, *syscall, *blocked_on;
	/* the main thread's innermost Python frames, "post_fork
	 * (conf.py:31) < on_starting (...)"; "" or NULL when none */
	const char *python;
};

/* A signal sent to process_id (pid) at t by sender_pid ("kernel" senders
 * have pid 0); sender_process_id is the sender's row when it is in the
 * tree, 0 otherwise; result is the kernel's delivery result in words. */
struct sink_signal {
	double t;
	int64_t process_id;
	int pid, signal, code;
	int sender_pid;
	const char *sender_cmd;
	int64_t sender_process_id;
	bool sender_exiting;
	const char *result;
};

/* An OOM kill of process_id (pid) at t, its memory then, and the memory
 * cgroup whose limit was hit ("" when unknown). */
struct sink_oom {
	double t;
	int64_t process_id;
	int pid;
	uint64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb;
	const char *cgroup;
};

struct sink_ops {
	int (*set_meta)(void *ctx, const char *key, const char *value);
	/* Start the rows of a sample taken at t (seconds since the epoch). */
	int (*begin_sample)(void *ctx, double t, double duration_s,
			    const struct cow_tree_figures *tree, size_t nprocs,
			    int64_t *sample_id);
	/* Start rows that belong to no sample (written after the last one). */
	int (*begin)(void *ctx);
	/* Commit the rows since begin_sample or begin. */
	int (*commit)(void *ctx);
	/* The id of a process, adding it if it is new. */
	int (*add_process)(void *ctx, const struct sink_proc *p, int64_t *id);
	int (*add_proc_sample)(void *ctx, int64_t sample_id, int64_t process_id,
			       char state, const struct cow_figures *f);
	/* The id of a region of a process, adding it if new. */
	int (*add_region)(void *ctx, int64_t process_id, uint64_t start,
			  uint64_t end, const char *perms, const char *kind,
			  const char *path, int64_t *id);
	/* A region's figures, written only when they changed since the last
	 * sample that wrote them (the caller tracks that). */
	int (*add_region_sample)(void *ctx, int64_t sample_id, int64_t region_id,
				 const struct cow_figures *f);
	/* A process exited at t with exit_code (if signal == 0) or by signal;
	 * both -1 when unknown (it vanished between samples). */
	int (*set_exit)(void *ctx, int64_t process_id, double t, int exit_code,
			int signal);
	/* An event: kind is "fork", "exit", "exec", "start" or "end". */
	int (*add_event)(void *ctx, double t, int64_t process_id, int pid,
			 const char *kind, const char *detail);
	/* The id of a frame, adding it if new. */
	int (*add_frame)(void *ctx, const struct sink_frame *f, int64_t *id);
	/* The id of the stack made of frame ids (innermost first), adding it
	 * if new; n == 0 gives *id = 0 (no stack). */
	int (*add_stack)(void *ctx, const int64_t *frame_ids, size_t n,
			 int64_t *id);
	/* The first write of process_id to an inherited page at addr, by
	 * thread tid, at t; ids are 0 when unknown or absent. weight: the
	 * faults this one stands for (1: itself; a sampled fault, its period;
	 * 0 is taken as 1). */
	int (*add_fault)(void *ctx, int64_t process_id, double t, int tid,
			 uint64_t addr, int64_t region_id, int64_t native_stack_id,
			 int64_t python_stack_id, uint64_t weight);
	/* How a process's faults were caught (method "preload" or "perf"), how
	 * many were recorded and dropped, and why Python frames are off (""
	 * when on). Replaces the previous figures of that process. */
	int (*set_fault_source)(void *ctx, int64_t process_id, const char *method,
				uint64_t events, uint64_t dropped,
				const char *python_status);
	int (*add_wait)(void *ctx, int64_t sample_id, int64_t process_id,
			const struct sink_wait *w);
	int (*add_signal)(void *ctx, const struct sink_signal *g);
	int (*add_oom)(void *ctx, const struct sink_oom *o);
	/* Bytes the recording takes so far (a file and its journal). */
	uint64_t (*size_bytes)(void *ctx);
};

struct sink {
	const struct sink_ops *ops;
	void *ctx;
};

static inline int sink_set_meta(const struct sink *k, const char *key,
				const char *value)
{
	return k->ops->set_meta(k->ctx, key, value);
}

static inline int sink_begin_sample(const struct sink *k, double t,
				    double duration_s,
				    const struct cow_tree_figures *tree,
				    size_t nprocs, int64_t *sample_id)
{
	return k->ops->begin_sample(k->ctx, t, duration_s, tree, nprocs, sample_id);
}

static inline int sink_begin(const struct sink *k)
{
	return k->ops->begin(k->ctx);
}

static inline int sink_commit(const struct sink *k)
{
	return k->ops->commit(k->ctx);
}

static inline int sink_add_process(const struct sink *k,
				   const struct sink_proc *p, int64_t *id)
{
	return k->ops->add_process(k->ctx, p, id);
}

static inline int sink_add_proc_sample(const struct sink *k, int64_t sample_id,
				       int64_t process_id, char state,
				       const struct cow_figures *f)
{
	return k->ops->add_proc_sample(k->ctx, sample_id, process_id, state, f);
}

static inline int sink_add_region(const struct sink *k, int64_t process_id,
				  uint64_t start, uint64_t end,
				  const char *perms, const char *kind,
				  const char *path, int64_t *id)
{
	return k->ops->add_region(k->ctx, process_id, start, end, perms, kind,
				  path, id);
}

static inline int sink_add_region_sample(const struct sink *k,
					 int64_t sample_id, int64_t region_id,
					 const struct cow_figures *f)
{
	return k->ops->add_region_sample(k->ctx, sample_id, region_id, f);
}

static inline int sink_set_exit(const struct sink *k, int64_t process_id,
				double t, int exit_code, int signal)
{
	return k->ops->set_exit(k->ctx, process_id, t, exit_code, signal);
}

static inline int sink_add_event(const struct sink *k, double t,
				 int64_t process_id, int pid, const char *kind,
				 const char *detail)
{
	return k->ops->add_event(k->ctx, t, process_id, pid, kind, detail);
}

static inline int sink_add_frame(const struct sink *k,
				 const struct sink_frame *f, int64_t *id)
{
	return k->ops->add_frame(k->ctx, f, id);
}

static inline int sink_add_stack(const struct sink *k, const int64_t *frame_ids,
				 size_t n, int64_t *id)
{
	return k->ops->add_stack(k->ctx, frame_ids, n, id);
}

static inline int sink_add_fault(const struct sink *k, int64_t process_id,
				 double t, int tid, uint64_t addr,
				 int64_t region_id, int64_t native_stack_id,
				 int64_t python_stack_id, uint64_t weight)
{
	return k->ops->add_fault(k->ctx, process_id, t, tid, addr, region_id,
				 native_stack_id, python_stack_id, weight);
}

static inline int sink_set_fault_source(const struct sink *k,
					int64_t process_id, const char *method,
					uint64_t events, uint64_t dropped,
					const char *python_status)
{
	return k->ops->set_fault_source(k->ctx, process_id, method, events,
					dropped, python_status);
}

static inline int sink_add_wait(const struct sink *k, int64_t sample_id,
				int64_t process_id, const struct sink_wait *w)
{
	return k->ops->add_wait(k->ctx, sample_id, process_id, w);
}

static inline int sink_add_signal(const struct sink *k,
				  const struct sink_signal *g)
{
	return k->ops->add_signal(k->ctx, g);
}

static inline int sink_add_oom(const struct sink *k, const struct sink_oom *o)
{
	return k->ops->add_oom(k->ctx, o);
}

static inline uint64_t sink_size_bytes(const struct sink *k)
{
	return k->ops->size_bytes(k->ctx);
}

#endif
