/* syscall.h - the system call a process is in: /proc/PID/syscall and wchan */
#ifndef COWPROF_COLLECTORS_SYSCALL_H
#define COWPROF_COLLECTORS_SYSCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse /proc/PID/wchan: a kernel symbol, or "0" when the process is not
 * sleeping in the kernel. Returns a new string the caller frees, or NULL
 * for "0", an empty file or anything that is not a symbol name. */
char *syscall_wchan_parse(const char *text, size_t len);

enum syscall_kind {
	SYSCALL_RUNNING,         /* "running": on a CPU, no registers to show */
	SYSCALL_NONE,            /* "-1 sp pc": blocked, but not in a system call */
	SYSCALL_IN,              /* "NR a0 .. a5 sp pc": in system call nr */
};

/* One /proc/PID/syscall, parsed. */
struct syscall_info {
	enum syscall_kind kind;
	long nr;                 /* -1 unless kind is SYSCALL_IN */
	uint64_t args[6];
	uint64_t sp, pc;
};

/* Parse /proc/PID/syscall (Documentation/filesystems/proc.rst). Only the main
 * thread's is shown there. Returns 0 or -EINVAL. */
int syscall_parse(const char *text, size_t len, struct syscall_info *sc);

/* What a blocking system call waits for (x86_64 numbers, <sys/syscall.h>). */
enum syscall_wait {
	SYSCALL_WAIT_OTHER,      /* a call not listed below */
	SYSCALL_WAIT_FD,         /* read, write, recvfrom, accept, connect ...: on args[fd_arg] */
	SYSCALL_WAIT_POLL,       /* poll, ppoll (args[1] fds), select, pselect6 (fds < args[0]) */
	SYSCALL_WAIT_EPOLL,      /* epoll_wait, epoll_pwait(2): on the epoll fd args[0] */
	SYSCALL_WAIT_CHILD,      /* wait4, waitid */
	SYSCALL_WAIT_FUTEX,      /* futex: a lock or a condition */
	SYSCALL_WAIT_SLEEP,      /* nanosleep, clock_nanosleep */
	SYSCALL_WAIT_SIGNAL,     /* pause, rt_sigsuspend, rt_sigtimedwait */
};

/* What cowprof knows of one system call. */
struct syscall_class {
	long nr;
	const char *name;        /* "read" */
	enum syscall_wait wait;
	signed char fd_arg;      /* the index of its fd argument, -1 if none */
	bool writes;             /* it writes to that fd (write, sendto ...) */
};

/* The entry of system call nr (static), or NULL for one cowprof does not
 * know. */
const struct syscall_class *syscall_lookup(long nr);

/* The name of system call nr ("read"), or NULL for one cowprof does not
 * know; *wait its class and *fd_arg the index of its fd argument (-1 when it
 * has none). Either pointer may be NULL. */
const char *syscall_name(long nr, enum syscall_wait *wait, int *fd_arg);

#endif
