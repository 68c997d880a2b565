/* procevents.h - fork, exec and exit events from the netlink proc connector
 *
 * The connector (NETLINK_CONNECTOR, CN_IDX_PROC) reports every process
 * event of the system about when it happens; callers filter by the tree
 * they watch. It needs CAP_NET_ADMIN; multicast can drop events under load
 * (ENOBUFS), after which callers rescan /proc.
 */
#ifndef COWPROF_COLLECTORS_PROCEVENTS_H
#define COWPROF_COLLECTORS_PROCEVENTS_H

#include <stddef.h>
#include <stdint.h>

enum procevents_kind { PROCEV_FORK, PROCEV_EXEC, PROCEV_EXIT };

struct procev {
	enum procevents_kind kind;
	int pid;                 /* the process (thread group) */
	int ppid;                /* FORK: the parent process */
	int exit_code;           /* EXIT: the code if it exited, else -1 */
	int exit_signal;         /* EXIT: the signal that killed it, else -1 */
	uint64_t timestamp_ns;   /* kernel's CLOCK_MONOTONIC time of the event */
};

/* Decode the netlink datagram buf into at most max events (thread events
 * are skipped). Returns the number of events, or -EINVAL if the datagram
 * is malformed. */
int procevents_parse(const void *buf, size_t len, struct procev *out, size_t max);

/* Open and subscribe a connector socket (non-blocking). Returns an fd or
 * -errno (-EPERM/-EACCES: not allowed; -EPROTONOSUPPORT: no connector). */
int procevents_open(void);

/* Read every pending event into out (at most max). Returns the number
 * read, -ENOBUFS if the kernel dropped events (rescan /proc), or -errno. */
int procevents_read(int fd, struct procev *out, size_t max);

/* Unsubscribe and close. */
void procevents_close(int fd);

#endif
