/* procstate.h - what a process is doing: state, wchan, system call, and what
 * the file descriptor it is blocked on leads to */
#ifndef COWPROF_PROCSTATE_H
#define COWPROF_PROCSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/proctree.h"

/* ---- /proc/PID/wchan and /proc/PID/syscall ------------------------------ */

/* Parse /proc/PID/wchan: a kernel symbol, or "0" when the process is not
 * sleeping in the kernel. Returns a new string the caller frees, or NULL
 * for "0", an empty file or anything that is not a symbol name. */
char *procstate_wchan_parse(const char *text, size_t len);

enum procstate_sc_kind {
	PROCSTATE_SC_RUNNING,    /* "running": on a CPU, no registers to show */
	PROCSTATE_SC_NONE,       /* "-1 sp pc": blocked, but not in a system call */
	PROCSTATE_SC_IN,         /* "NR a0 .. a5 sp pc": in system call nr */
};

struct procstate_syscall {
	enum procstate_sc_kind kind;
	long nr;                 /* -1 unless kind is PROCSTATE_SC_IN; in
				  * struct procstate, -2 when the file could
				  * not be read (no ptrace access, zombie) */
	uint64_t args[6];
	uint64_t sp, pc;
};

/* Parse /proc/PID/syscall (Documentation/filesystems/proc.rst). Only the main
 * thread's is shown there. Returns 0 or -EINVAL. */
int procstate_syscall_parse(const char *text, size_t len,
			    struct procstate_syscall *sc);

/* What a blocking system call waits for (x86_64 numbers, <sys/syscall.h>). */
enum procstate_wait {
	PROCSTATE_WAIT_OTHER,    /* a call not listed below */
	PROCSTATE_WAIT_FD,       /* read, write, recvfrom, accept, connect ...: on args[fd_arg] */
	PROCSTATE_WAIT_POLL,     /* poll, ppoll (args[1] fds), select, pselect6 (fds < args[0]) */
	PROCSTATE_WAIT_EPOLL,    /* epoll_wait, epoll_pwait(2): on the epoll fd args[0] */
	PROCSTATE_WAIT_CHILD,    /* wait4, waitid */
	PROCSTATE_WAIT_FUTEX,    /* futex: a lock or a condition */
	PROCSTATE_WAIT_SLEEP,    /* nanosleep, clock_nanosleep */
	PROCSTATE_WAIT_SIGNAL,   /* pause, rt_sigsuspend, rt_sigtimedwait */
};

/* The name of system call nr ("read"), or NULL for one cowprof does not
 * know; *wait its class and *fd_arg the index of its fd argument (-1 when it
 * has none). */
const char *procstate_syscall_name(long nr, enum procstate_wait *wait,
				   int *fd_arg);

/* ---- what a file descriptor is: readlink of /proc/PID/fd/N -------------- */

enum procstate_fd_kind {
	PROCSTATE_FD_UNKNOWN,    /* not read, or unreadable */
	PROCSTATE_FD_PATH,       /* a path: file, device, tty, directory */
	PROCSTATE_FD_PIPE,       /* "pipe:[ino]" */
	PROCSTATE_FD_SOCKET,     /* "socket:[ino]" */
	PROCSTATE_FD_ANON,       /* "anon_inode:[eventfd]", "anon_inode:inotify" */
	PROCSTATE_FD_OTHER,      /* another "type:[ino]" ("net:[...]", "pidfd:[...]") */
};

struct procstate_fdlink {
	enum procstate_fd_kind kind;
	uint64_t inode;          /* pipe, socket and other "type:[ino]" links */
	char *name;              /* owned: the path, the anon inode's name
				  * ("eventpoll"), the other link's type ("net");
				  * "" for pipes and sockets */
};

/* Parse the target of a /proc/PID/fd/N link. Returns 0 or -EINVAL (empty).
 * Release with procstate_fdlink_release. */
int procstate_fdlink_parse(const char *text, size_t len,
			   struct procstate_fdlink *l);
void procstate_fdlink_release(struct procstate_fdlink *l);

/* ---- sockets: /proc/PID/net/{unix,tcp,tcp6,udp,udp6} -------------------- */

struct procstate_unix_sock {
	uint64_t inode;          /* 0 for a connection not yet accepted */
	unsigned flags;          /* __SO_ACCEPTCON (0x10000): listening */
	int type;                /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	int state;               /* SS_UNCONNECTED 1, SS_CONNECTING 2, SS_CONNECTED 3 ... */
	char *path;              /* owned; "" if unbound; abstract names start with '@' */
};

#define PROCSTATE_UNIX_LISTENING 0x10000u

/* Parse /proc/net/unix into a new array (*out, free with
 * procstate_unix_socks_free) of *n sockets. Returns 0 or -EINVAL. */
int procstate_net_unix_parse(const char *text, size_t len,
			     struct procstate_unix_sock **out, size_t *n);
void procstate_unix_socks_free(struct procstate_unix_sock *s, size_t n);

enum procstate_proto { PROCSTATE_TCP, PROCSTATE_UDP };

struct procstate_inet_sock {
	uint64_t inode;
	int family;              /* AF_INET or AF_INET6 */
	enum procstate_proto proto;
	uint8_t local[16], remote[16];  /* network byte order; 4 bytes for AF_INET */
	uint16_t local_port, remote_port;
	int state;               /* the kernel's TCP_* (1 ESTABLISHED, 10 LISTEN, 7 CLOSE) */
};

/* Parse /proc/net/tcp (family AF_INET, proto PROCSTATE_TCP), tcp6, udp or
 * udp6 into a new array the caller frees. Returns 0 or -EINVAL. */
int procstate_net_inet_parse(const char *text, size_t len, int family,
			     enum procstate_proto proto,
			     struct procstate_inet_sock **out, size_t *n);

/* "127.0.0.1:8000", "[::1]:8000" into a new string the caller frees. */
char *procstate_inet_addr(int family, const uint8_t *addr, uint16_t port);

/* Name of a TCP state: "ESTABLISHED", "LISTEN", ... ("?" when unknown). */
const char *procstate_tcp_state_name(int state);

/* ---- NETLINK_SOCK_DIAG for unix sockets (what `ss -xp` uses) ------------ */

struct procstate_unix_diag {
	uint64_t inode;
	int type;                /* SOCK_STREAM ... */
	int state;               /* TCP_ESTABLISHED 1, TCP_LISTEN 10, TCP_CLOSE 7 */
	bool has_peer;           /* the reply carried UNIX_DIAG_PEER */
	uint64_t peer_inode;     /* 0: no peer, or a connection not yet accepted */
	uint32_t *icons;         /* owned: the client inodes of the connections
				  * queued on a listener, not yet accepted */
	size_t nicons;
	char *name;              /* owned: bound name, "" if none, '@' for abstract */
	bool has_rqlen;
	uint32_t rqueue, wqueue; /* listeners: queued connections and backlog */
};

struct procstate_unix_diag_list {
	struct procstate_unix_diag *items;
	size_t n, cap;
};

/* Parse one datagram of SOCK_DIAG_BY_FAMILY replies for AF_UNIX, appending
 * each socket to list (which the caller zeroes first and releases with
 * procstate_unix_diag_list_release). *done is set when the datagram holds
 * NLMSG_DONE or an error. Returns 0, the negative errno of an NLMSG_ERROR
 * reply (-ENOENT: no socket has that inode), or -EINVAL if malformed. */
int procstate_unix_diag_parse(const void *buf, size_t len,
			      struct procstate_unix_diag_list *list, bool *done);
void procstate_unix_diag_list_release(struct procstate_unix_diag_list *list);
void procstate_unix_diag_release(struct procstate_unix_diag *d);

/* Ask the kernel about the unix socket with this inode, in cowprof's network
 * namespace, with its name, peer, queued connections and queue lengths.
 * Fills *out (release with procstate_unix_diag_release). Returns 0, -ENOENT
 * if there is no such socket, or -errno (-EPROTONOSUPPORT without
 * CONFIG_UNIX_DIAG). */
int procstate_unix_diag_query(uint64_t inode, struct procstate_unix_diag *out);

/* Dump every unix socket whose state bit (1 << TCP_*) is in states_mask,
 * with the same attributes, into list (zeroed by the caller). Returns 0 or
 * -errno. */
int procstate_unix_diag_dump(uint32_t states_mask,
			     struct procstate_unix_diag_list *list);

/* ---- which processes hold a pipe or socket ------------------------------ */

struct procstate_fdref {
	int pid;
	int fd;
	enum procstate_fd_kind kind; /* PROCSTATE_FD_PIPE or PROCSTATE_FD_SOCKET */
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
	struct procstate_syscall sc;
	const char *sc_name;     /* static; NULL when unknown or not in a call */
	enum procstate_wait wait;
	int fd;                  /* the fd argument of the call, -1 if none */
	struct procstate_fdlink link;  /* what fd is (kind UNKNOWN if fd < 0) */
	bool fd_write_side;      /* the call writes to fd (write, sendto ...) */
	enum procstate_sock sock;
	struct procstate_unix_sock ux;   /* sock == PROCSTATE_SOCK_UNIX (path owned) */
	struct procstate_inet_sock inet; /* sock == PROCSTATE_SOCK_INET */
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
