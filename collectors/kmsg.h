/* kmsg.h - OOM kills from the kernel log (/dev/kmsg)
 *
 * The fallback where the oom:mark_victim tracepoint cannot be opened, and
 * the source of the cgroup an OOM kill happened in (mark_victim does not
 * carry it). The OOM killer writes, per kill (mm/oom_kill.c):
 *
 *   oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,
 *     mems_allowed=0,oom_memcg=/a,task_memcg=/a/b,task=python3,pid=42,uid=0
 *   Memory cgroup out of memory: Killed process 42 (python3) total-vm:...kB,
 *     anon-rss:...kB, file-rss:...kB, shmem-rss:...kB, UID:0 pgtables:...kB
 *     oom_score_adj:0
 *
 * (each one line; "Out of memory: Killed process" for a system-wide OOM).
 * Callers join the two records by pid.
 */
#ifndef COWPROF_COLLECTORS_KMSG_H
#define COWPROF_COLLECTORS_KMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kmsg_oom_kind {
	KMSG_OOM_CONTEXT,        /* the "oom-kill:" line: constraint and cgroups */
	KMSG_OOM_KILLED,         /* the "Killed process" line: victim's memory */
};

struct kmsg_oom {
	enum kmsg_oom_kind kind;
	uint64_t seq;            /* the record's sequence number */
	uint64_t ts_us;          /* printk clock: µs since boot (about
				  * CLOCK_MONOTONIC) */
	int pid;                 /* the victim */
	char *comm;              /* the victim's comm (kernel escapes \xNN kept) */
	/* KMSG_OOM_CONTEXT; NULL where the line lacks the key */
	char *constraint;        /* CONSTRAINT_MEMCG, CONSTRAINT_NONE, ... */
	char *oom_memcg;         /* the cgroup whose limit was hit */
	char *task_memcg;        /* the victim's own cgroup */
	/* KMSG_OOM_KILLED; -1 where absent */
	bool memcg;              /* "Memory cgroup out of memory" */
	int64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, pgtables_kb;
	int64_t uid;
	int oom_score_adj;
};

/* Parse one /dev/kmsg record ("PRIO,SEQ,TS_US,FLAGS;TEXT\n" and optional
 * " KEY=VALUE" continuation lines). Returns 1 and fills *out if it is an
 * OOM kill line, 0 for any other record, -EINVAL if it is not a kmsg
 * record. On 1, out owns strings freed by kmsg_oom_release(). */
int kmsg_parse_record(const char *rec, size_t len, struct kmsg_oom *out);

/* Free the strings o holds (not o). */
void kmsg_oom_release(struct kmsg_oom *o);

/* Open /dev/kmsg non-blocking, positioned at its end (only records logged
 * from now on are read). Returns an fd (pollable), or -errno (-EACCES/-EPERM:
 * needs CAP_SYSLOG when kernel.dmesg_restrict is set). */
int kmsg_open(void);

/* Read every record logged since the last call; store the OOM lines in out
 * (at most max; each to be released by the caller). Never blocks. Returns
 * the number stored (== max: call again), or -errno. Records the kernel
 * overwrote before they were read are skipped. */
int kmsg_read(int fd, struct kmsg_oom *out, size_t max);

#endif
