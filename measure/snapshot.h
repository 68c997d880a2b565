/* snapshot.h - one measurement of a whole process tree */
#ifndef COWPROF_MEASURE_SNAPSHOT_H
#define COWPROF_MEASURE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/maps.h"
#include "collectors/proctree.h"
#include "measure/cow.h"

struct snapshot_region {
	uint64_t start, end;
	enum maps_kind kind;
	char perms[5];           /* "rw-p" */
	char *path;              /* "" for anonymous memory */
	struct cow_figures fig;
};

struct snapshot_proc {
	int pid, ppid;
	int parent;              /* index in procs[], -1 for the root */
	int depth;               /* 0 for the root */
	char state;
	uint64_t start_ticks;
	struct proc_stat stat;   /* /proc/PID/stat as the walk read it */
	char *cmd;
	struct cow_figures fig;
	struct snapshot_region *regions;  /* only with snapshot_opts.regions */
	size_t nregions;
};

struct snapshot {
	int root;
	double time;             /* seconds since the epoch, when it started */
	double duration_s;       /* how long it took */
	long page_size;
	struct snapshot_proc *procs;  /* parents before children */
	size_t n;
	struct cow_tree_figures tree;
	uint64_t pages_walked;   /* pagemap entries read over the tree */
};

#define SNAPSHOT_MAX_THREADS 4

struct snapshot_opts {
	const char *proc_root;   /* NULL for /proc */
	bool regions;            /* keep per-region figures */
	int threads;             /* pagemap walkers; 0: one per CPU, at most SNAPSHOT_MAX_THREADS */
};

/* Measure root_pid and its descendants. Processes that exit meanwhile are
 * left out. Returns 0, or -errno with a one-line reason (no "cowprof:"
 * prefix) in err: -ESRCH the root does not exist, -EINVAL a kernel thread,
 * -EACCES/-EPERM not allowed (names the file), -ENOTSUP unsupported
 * page size. */
int snapshot_take(int root_pid, const struct snapshot_opts *o,
		  struct snapshot *s, char *err, size_t errlen);

/* Free what s holds (not s). */
void snapshot_release(struct snapshot *s);

/* The indexes of s->procs in depth-first order (each process followed by
 * its descendants), for printing as a tree. The caller frees it. */
size_t *snapshot_tree_order(const struct snapshot *s);

/* The share of inherited memory still shared, in percent: shared /
 * (shared + copied); -1 when nothing was inherited (the root). */
double snapshot_shared_pct(const struct cow_figures *f);

#endif
