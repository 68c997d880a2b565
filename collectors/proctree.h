/* proctree.h - find every descendant of a process, with its stat facts */
#ifndef COWPROF_COLLECTORS_PROCTREE_H
#define COWPROF_COLLECTORS_PROCTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fields of /proc/PID/stat that cowprof uses (proc(5) numbering). */
struct proc_stat {
	int pid;
	int ppid;
	char state;              /* R S D T t Z X I ... */
	char comm[64];           /* bounded: the kernel's comm is <= 16 bytes */
	unsigned flags;          /* PF_* (field 9) */
	uint64_t utime_ticks, stime_ticks;
	long num_threads;
	uint64_t start_ticks;    /* clock ticks after boot (field 22) */
	uint64_t vsize_bytes;
	int64_t rss_pages;
};

#define PROCTREE_PF_EXITING 0x00000004u  /* include/linux/sched.h */
#define PROCTREE_PF_KTHREAD 0x00200000u

/* Fill st from the text of /proc/PID/stat. The comm may hold spaces and
 * parentheses: it ends at the last ')'. Returns 0 or -EINVAL. */
int proctree_stat_parse(const char *text, size_t len, struct proc_stat *st);

/* Join the NUL-separated words of /proc/PID/cmdline with spaces into a new
 * string the caller frees. A process that rewrote its argv (gunicorn's
 * setproctitle) may leave trailing NULs or one long word: both are handled.
 * Returns "" for an empty cmdline (kernel threads, zombies). */
char *proctree_cmdline_parse(const char *buf, size_t len);

struct proctree_node {
	int pid;
	int ppid;
	int parent;              /* index of the parent in nodes[], -1 for the root */
	int depth;               /* 0 for the root */
	struct proc_stat stat;
	char *cmd;               /* cmdline, or "[comm]" when it is empty */
};

/* A tree in breadth-first order: nodes[0] is the root, and every node comes
 * after its parent. */
struct proctree {
	struct proctree_node *nodes;
	size_t n;
	size_t cap;
};

/* Discover root_pid and all its descendants under proc root (NULL for
 * /proc), through task/TID/children where the kernel has it, else by a scan
 * of every pid's stat. Processes that exit during the walk are left out.
 * Returns 0, -ESRCH when the root does not exist, or -errno. */
int proctree_scan(const char *root, int root_pid, struct proctree *t);

/* Free what t holds (not t itself). */
void proctree_release(struct proctree *t);

/* Read and parse one process's stat. Returns 0, -ESRCH, -EINVAL. */
int proctree_read_stat(const char *root, int pid, struct proc_stat *st);

#endif
