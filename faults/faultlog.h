/* faultlog.h - first-write events into the recording, symbolized
 *
 * Under `cowprof run`, libcowprof_preload.so writes each forked process's
 * first writes to inherited pages into a ring file in a spool folder
 * (collectors/faultring.h). The recorder calls faultlog_drain once per
 * sample, inside the sample's rows: every event becomes a fault row
 * written through the sink (measure/sink.h), its native addresses
 * symbolized (once per distinct address of a process) and its Python
 * frames named, frames and stacks written once. The perf attach path
 * (faults/attach.c) hands its events in through faultlog_write_event.
 */
#ifndef COWPROF_FAULTS_FAULTLOG_H
#define COWPROF_FAULTS_FAULTLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "collectors/faultring.h"
#include "measure/sink.h"

struct faultlog;

/* What the fault log asks the recorder about the tree. */
struct faultlog_lookup {
	void *ctx;
	/* The sink id of the latest process with this pid, 0 if none yet. */
	int64_t (*process_id)(void *ctx, int pid);
	/* The sink id of the region of pid holding addr, 0 if none. */
	int64_t (*region_id)(void *ctx, int pid, uint64_t addr);
	/* The parent's pid, 0 if unknown: an exited process's addresses are
	 * looked up in its parent's mappings, which it inherited. */
	int (*parent_pid)(void *ctx, int pid);
	/* Has the process exited? Its ring is then read to its end and
	 * removed. */
	bool (*exited)(void *ctx, int pid);
	/* The pid of the i-th live process of the tree, or -1 past the last
	 * (may be NULL: the perf attach path then follows only what it
	 * attached first and its descendants). */
	int (*alive_pid)(void *ctx, size_t i);
};

/* A fault log reading the rings in spool_dir (NULL: no rings, events come
 * only through faultlog_write_event); proc_root NULL for /proc. */
struct faultlog *faultlog_new(const char *spool_dir, const char *proc_root);

/* Close every ring and free the log (the spool folder stays); NULL is
 * fine. */
void faultlog_free(struct faultlog *fs);

/* Write the events committed so far through s. Events of a process the
 * recorder does not know yet wait for a later call. Returns 0 or the
 * sink's -errno. */
int faultlog_drain(struct faultlog *fs, const struct sink *s,
		    const struct faultlog_lookup *l);

/* How a source names the Python code objects of its events. */
struct faultlog_names {
	void *ctx;
	/* Name and file of code object code seen in process pid; the strings
	 * live until the source drops them (at least until the call that
	 * handed the event returns). Returns 0 or -ENOENT. */
	int (*name)(void *ctx, int pid, uint64_t code, const char **name,
		    const char **file);
};

/* The source-agnostic core (both the preload rings and the perf attach
 * path use it): write one event of process process_id into s, its native
 * IPs (innermost first, the first a faulting address, the others return
 * addresses) symbolized against ev->pid's mappings (or its ancestors'),
 * its Python frames named through nm, frames and stacks stored once.
 * Returns 0 or the sink's -errno. */
int faultlog_write_event(struct faultlog *fs, const struct sink *s,
			  const struct faultring_event *ev, int64_t process_id,
			  const struct faultlog_names *nm,
			  const struct faultlog_lookup *l);

/* Load the symbols (and debug files) of every file pid maps executable,
 * ahead of the first fault to name: attached to a running tree, that is at
 * start-up, not in the middle of its first burst (libc's debug file alone
 * takes ~100 ms). */
void faultlog_preload(struct faultlog *fs, int pid);

/* Events written, the pages they stand for (a sampled
 * event weighs its period), and events the rings dropped (full). */
uint64_t faultlog_events(const struct faultlog *fs);
uint64_t faultlog_pages(const struct faultlog *fs);
uint64_t faultlog_dropped(const struct faultlog *fs);

#endif
