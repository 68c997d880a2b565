/* procstate.h - what a process waits on: state, system call, fd and peer */
#ifndef COWPROF_COLLECTORS_PROCSTATE_H
#define COWPROF_COLLECTORS_PROCSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/fdlink.h"
#include "collectors/netsock.h"
#include "collectors/proctree.h"
#include "collectors/syscall.h"

/* ---- which processes hold a pipe or socket ------------------------------ */

struct procstate_fdref {
	int pid;
	int fd;
	enum fdlink_kind kind;   /* FDLINK_PIPE or FDLINK_SOCKET */
	uint64_t inode;
};

/* The pipe and socket fds of a set of processes. */
struct procstate_fdtab {
	struct procstate_fdref *refs;
	size_t n, cap;
};

/* Read the fd/ links of each of pids[0..npids) under proc root (NULL for
 * /proc) and append their pipes and sockets to t (zeroed by the caller).
 * Processes that vanish or refuse are skipped. Costs one getdents and one
 * readlink per fd. Returns 0. */
int procstate_fdtab_scan(const char *root, const int *pids, size_t npids,
			 struct procstate_fdtab *t);
void procstate_fdtab_release(struct procstate_fdtab *t);

/* ---- one process ------------------------------------------------------- */

/* A process named in a wait: who holds the other end, which children. */
struct procstate_ref {
	int pid;
	char comm[17];           /* "" if it vanished */
};

enum procstate_sock {
	PROCSTATE_SOCK_NONE,     /* not a socket, or not found in the tables */
	PROCSTATE_SOCK_UNIX,
	PROCSTATE_SOCK_INET,     /* see inet */
	PROCSTATE_SOCK_OTHER,    /* netlink, packet ...: found in no table */
};

enum procstate_peer {
	PROCSTATE_PEER_NONE,         /* not resolved, or nothing to resolve */
	PROCSTATE_PEER_PIPE,         /* refs: holders of the pipe's other end */
	PROCSTATE_PEER_UNIX,         /* refs: holders of the peer socket */
	PROCSTATE_PEER_UNIX_QUEUED,  /* connected, not accepted yet: refs hold
				      * the listener it is queued on (listener) */
	PROCSTATE_PEER_UNIX_GONE,    /* a connected unix socket whose peer no
				      * longer exists (peer inode unknown) */
	PROCSTATE_PEER_INET,         /* refs: holders of the other end of a
				      * loopback TCP connection */
	PROCSTATE_PEER_INET_QUEUED,  /* loopback TCP, not accepted yet: refs
				      * hold the listener (listener: its address) */
	PROCSTATE_PEER_CHILDREN,     /* refs: the children waited for */
};

struct procstate {
	int pid;
	int tid;                 /* the thread read: pid for the main thread */
	char comm[64];
	char state;              /* R S D T t Z X I */
	bool exiting;            /* PF_EXITING (0x4) in stat's flags */
	unsigned flags;          /* PF_* */
	uint64_t cpu_ticks;      /* utime + stime, in clock ticks (sysconf(_SC_CLK_TCK)) */
	char *wchan;             /* owned; NULL when not sleeping in the kernel */
	struct syscall_info sc;  /* sc.nr is -2 when the file could not be read
				  * (no ptrace access, zombie) */
	const char *sc_name;     /* static; NULL when unknown or not in a call */
	enum syscall_wait wait;
	int fd;                  /* the fd argument of the call, -1 if none */
	struct fdlink link;      /* what fd is (kind FDLINK_UNKNOWN if fd < 0) */
	bool fd_write_side;      /* the call writes to fd (write, sendto ...) */
	enum procstate_sock sock;
	struct netsock_unix ux;  /* sock == PROCSTATE_SOCK_UNIX (path owned) */
	struct netsock_inet inet; /* sock == PROCSTATE_SOCK_INET */
	int64_t nfds;            /* poll: nfds; select: highest fd + 1; epoll:
				  * fds registered (-1 unknown) */
	/* filled by procstate_resolve_peer */
	enum procstate_peer peer;
	struct procstate_ref *refs;  /* owned */
	size_t nrefs;
	char *listener;          /* owned; PEER_*_QUEUED: the listener's name or address */
	int wait_pid;            /* wait4/waitid: the pid argument (-1: any child) */
};

/* Read what process pid is doing under proc root (NULL for /proc): stat,
 * wchan, syscall, and for a call on an fd, that fd's link and, for a
 * socket, its line of the process's net/{unix,tcp,tcp6,udp,udp6}; for epoll
 * the number of fds registered (fdinfo); for wait4/waitid the children.
 * Fills *out (release with procstate_release). Returns 0, -ESRCH when the
 * process is gone, or -errno. Unreadable details (wchan, syscall without
 * ptrace access) are left empty, not errors. */
int procstate_read(const char *root, int pid, struct procstate *out);

/* The same, from a stat the caller has just read (the recorder reads every
 * process's stat each sample already): saves one of the three reads.
 * Returns 0: a vanished process is not detected here (the later reads
 * just come back empty). */
int procstate_read_with_stat(const char *root, const struct proc_stat *st,
			     struct procstate *out);

/* The same for one thread tid of process pid (task/TID/{stat,wchan,syscall};
 * fds are the process's): in a Python program the main thread often waits
 * in futex on a condition that another thread, blocked in read, would
 * signal. Returns 0, -ESRCH when the thread is gone, or -errno. */
int procstate_read_thread(const char *root, int pid, int tid,
			  struct procstate *out);

/* The thread ids of pid (its task/ folder), in increasing order, into a
 * new array the caller frees. Returns 0, -ESRCH, or -errno. */
int procstate_list_threads(const char *root, int pid, int **tids, size_t *n);

/* Find who is at the other end of what ps waits on, among the processes of
 * tab (scanned by the caller, once per sample, for the tree's pids, and only
 * when procstate_needs_fdtab is true of some process): the other end of a
 * pipe (the fds opened for writing when ps reads, for reading when it
 * writes, from fdinfo), the peer of a unix socket (sock_diag, in cowprof's
 * network namespace; for a connection not accepted yet, the listener it is
 * queued on), the other end of a loopback TCP connection (or the listener
 * it waits in). Fills ps->peer, refs and listener. Returns 0 or -errno
 * (sock_diag refused or another namespace: ps->peer stays NONE). */
int procstate_resolve_peer(const char *root, struct procstate *ps,
			   const struct procstate_fdtab *tab);

/* Whether ps is blocked on a pipe or socket, so that resolving its peer
 * needs an fd table. */
bool procstate_needs_fdtab(const struct procstate *ps);

/* One line saying what ps waits on, into a new string the caller frees:
 * "read(fd 7) on unix stream socket, peer held by 1234 (python3)",
 * "read(fd 3) on pipe, write end held by 88 (sleep), 90 (itself)",
 * "recvfrom(fd 5) on TCP 127.0.0.1:41132 <- 127.0.0.1:8000, peer held by 12 (python3)",
 * "read(fd 10) on unix stream socket, connection not accepted yet: queued on
 * listener /tmp/x/data.sock held by 731 (python3)", "epoll_wait(fd 5) on 2 fds",
 * "futex wait (a lock or condition)", "wait4 (children 12 (sh), 13 (sh))",
 * "sleeping (clock_nanosleep)", "running", "zombie (exited, not reaped)".
 * Pure: reads nothing. */
char *procstate_describe_wait(const struct procstate *ps);

void procstate_release(struct procstate *ps);

#endif
