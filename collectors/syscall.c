/* syscall.c - the system call a process is in: /proc/PID/syscall and wchan */
#include "collectors/syscall.h"
#include "collectors/textscan.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/syscall.h>

char *syscall_wchan_parse(const char *text, size_t len)
{
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	if (len == 0 || (len == 1 && text[0] == '0'))
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (!isalnum(c) && c != '_' && c != '.' && c != '$')
			return NULL;
	}
	return textscan_strndup(text, len);
}

int syscall_parse(const char *text, size_t len, struct syscall_info *sc)
{
	const char *end = text + len;
	memset(sc, 0, sizeof(*sc));
	sc->nr = -1;
	while (end > text && isspace((unsigned char)end[-1]))
		end--;
	const char *p = textscan_skip_blank(text, end);
	if ((size_t)(end - p) == 7 && memcmp(p, "running", 7) == 0) {
		sc->kind = SYSCALL_RUNNING;
		return 0;
	}
	uint64_t v[9];
	int n = 0;
	bool neg = p < end && *p == '-';
	if (neg)
		p++;
	if (textscan_u64(&p, end, 10, &v[0]) < 0)
		return -EINVAL;
	n = 1;
	while (n < 9 && textscan_u64(&p, end, 16, &v[n]) == 0)
		n++;
	if (textscan_skip_blank(p, end) != end)
		return -EINVAL;
	if (neg) {
		if (v[0] != 1 || n != 3)
			return -EINVAL;
		sc->kind = SYSCALL_NONE;
		sc->sp = v[1];
		sc->pc = v[2];
		return 0;
	}
	if (n != 9 || v[0] > INT_MAX)
		return -EINVAL;
	sc->kind = SYSCALL_IN;
	sc->nr = (long)v[0];
	memcpy(sc->args, &v[1], sizeof(sc->args));
	sc->sp = v[7];
	sc->pc = v[8];
	return 0;
}

#define FD0(n) { SYS_##n, #n, SYSCALL_WAIT_FD, 0, false }
#define FDW(n) { SYS_##n, #n, SYSCALL_WAIT_FD, 0, true }
#define CLS(n, w, fd) { SYS_##n, #n, SYSCALL_WAIT_##w, fd, false }

static const struct syscall_class sc_table[] = {
	FD0(read), FD0(readv), FD0(pread64), FD0(preadv), FD0(preadv2),
	FDW(write), FDW(writev), FDW(pwrite64), FDW(pwritev), FDW(pwritev2),
	FD0(recvfrom), FD0(recvmsg), FD0(recvmmsg),
	FDW(sendto), FDW(sendmsg), FDW(sendmmsg), FDW(sendfile), FDW(splice),
	FD0(accept), FD0(accept4), FD0(connect), FD0(flock), FD0(fsync),
	FD0(fdatasync), FD0(ioctl), FD0(fcntl),
	CLS(poll, POLL, -1), CLS(ppoll, POLL, -1), CLS(select, POLL, -1),
	CLS(pselect6, POLL, -1),
	CLS(epoll_wait, EPOLL, 0), CLS(epoll_pwait, EPOLL, 0),
#ifdef SYS_epoll_pwait2
	CLS(epoll_pwait2, EPOLL, 0),
#endif
	CLS(wait4, CHILD, -1), CLS(waitid, CHILD, -1),
	CLS(futex, FUTEX, -1),
#ifdef SYS_futex_waitv
	CLS(futex_waitv, FUTEX, -1),
#endif
	CLS(nanosleep, SLEEP, -1), CLS(clock_nanosleep, SLEEP, -1),
	CLS(pause, SIGNAL, -1), CLS(rt_sigsuspend, SIGNAL, -1),
	CLS(rt_sigtimedwait, SIGNAL, -1),
	CLS(open, OTHER, -1), CLS(openat, OTHER, -1), CLS(msgrcv, OTHER, -1),
	CLS(msgsnd, OTHER, -1), CLS(semop, OTHER, -1),
	CLS(semtimedop, OTHER, -1), CLS(mq_timedreceive, OTHER, -1),
	CLS(mq_timedsend, OTHER, -1), CLS(io_getevents, OTHER, -1),
	CLS(io_uring_enter, OTHER, 0), CLS(ptrace, OTHER, -1),
	CLS(exit_group, OTHER, -1), CLS(mmap, OTHER, -1), CLS(munmap, OTHER, -1),
	CLS(close, OTHER, 0), CLS(dup2, OTHER, -1), CLS(execve, OTHER, -1),
};

const struct syscall_class *syscall_lookup(long nr)
{
	for (size_t i = 0; i < sizeof(sc_table) / sizeof(sc_table[0]); i++)
		if (sc_table[i].nr == nr)
			return &sc_table[i];
	return NULL;
}

const char *syscall_name(long nr, enum syscall_wait *wait, int *fd_arg)
{
	const struct syscall_class *s = syscall_lookup(nr);
	if (wait)
		*wait = s ? s->wait : SYSCALL_WAIT_OTHER;
	if (fd_arg)
		*fd_arg = s ? s->fd_arg : -1;
	return s ? s->name : NULL;
}
