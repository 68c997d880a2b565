/* procstate.c - what a process is doing: state, wchan, system call, and what
 * the file descriptor it is blocked on leads to */
#include "collectors/procstate.h"
#include "collectors/procfs.h"
#include "collectors/proctree.h"
#include "common/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#define PF_EXITING_FLAG 0x00000004u  /* include/linux/sched.h */

/* ---- small text helpers -------------------------------------------------- */

static const char *skip_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Parse an unsigned number in base 10 or 16 at *p (a "0x" prefix is taken in
 * base 16). Returns 0 and advances *p, or -EINVAL. */
static int parse_u64(const char **p, const char *end, int base, uint64_t *v)
{
	const char *s = skip_blank(*p, end);
	if (base == 16 && end - s >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	uint64_t x = 0;
	const char *start = s;
	for (; s < end; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (x > (UINT64_MAX - (unsigned)d) / (unsigned)base)
			return -EINVAL;
		x = x * (unsigned)base + (unsigned)d;
	}
	if (s == start)
		return -EINVAL;
	*v = x;
	*p = s;
	return 0;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* A growing string for procstate_describe_wait. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	util_grow((void **)&b->s, &b->cap, b->len + (size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* ---- wchan and syscall --------------------------------------------------- */

char *procstate_wchan_parse(const char *text, size_t len)
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
	return xstrndup(text, len);
}

int procstate_syscall_parse(const char *text, size_t len,
			    struct procstate_syscall *sc)
{
	const char *end = text + len;
	memset(sc, 0, sizeof(*sc));
	sc->nr = -1;
	while (end > text && isspace((unsigned char)end[-1]))
		end--;
	const char *p = skip_blank(text, end);
	if ((size_t)(end - p) == 7 && memcmp(p, "running", 7) == 0) {
		sc->kind = PROCSTATE_SC_RUNNING;
		return 0;
	}
	uint64_t v[9];
	int n = 0;
	bool neg = p < end && *p == '-';
	if (neg)
		p++;
	if (parse_u64(&p, end, 10, &v[0]) < 0)
		return -EINVAL;
	n = 1;
	while (n < 9 && parse_u64(&p, end, 16, &v[n]) == 0)
		n++;
	if (skip_blank(p, end) != end)
		return -EINVAL;
	if (neg) {
		if (v[0] != 1 || n != 3)
			return -EINVAL;
		sc->kind = PROCSTATE_SC_NONE;
		sc->sp = v[1];
		sc->pc = v[2];
		return 0;
	}
	if (n != 9 || v[0] > INT_MAX)
		return -EINVAL;
	sc->kind = PROCSTATE_SC_IN;
	sc->nr = (long)v[0];
	memcpy(sc->args, &v[1], sizeof(sc->args));
	sc->sp = v[7];
	sc->pc = v[8];
	return 0;
}

struct sc_info {
	long nr;
	const char *name;
	enum procstate_wait wait;
	signed char fd_arg;
	bool writes;
};

#define FD0(n) { SYS_##n, #n, PROCSTATE_WAIT_FD, 0, false }
#define FDW(n) { SYS_##n, #n, PROCSTATE_WAIT_FD, 0, true }
#define CLS(n, w, fd) { SYS_##n, #n, PROCSTATE_WAIT_##w, fd, false }

static const struct sc_info sc_table[] = {
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

static const struct sc_info *sc_lookup(long nr)
{
	for (size_t i = 0; i < sizeof(sc_table) / sizeof(sc_table[0]); i++)
		if (sc_table[i].nr == nr)
			return &sc_table[i];
	return NULL;
}

const char *procstate_syscall_name(long nr, enum procstate_wait *wait,
				   int *fd_arg)
{
	const struct sc_info *s = sc_lookup(nr);
	if (wait)
		*wait = s ? s->wait : PROCSTATE_WAIT_OTHER;
	if (fd_arg)
		*fd_arg = s ? s->fd_arg : -1;
	return s ? s->name : NULL;
}

/* ---- fd links ------------------------------------------------------------ */

int procstate_fdlink_parse(const char *text, size_t len,
			   struct procstate_fdlink *l)
{
	memset(l, 0, sizeof(*l));
	while (len > 0 && text[len - 1] == '\n')
		len--;
	if (len == 0)
		return -EINVAL;
	if (text[0] == '/') {
		l->kind = PROCSTATE_FD_PATH;
		l->name = xstrndup(text, len);
		return 0;
	}
	const char *colon = memchr(text, ':', len);
	if (colon && len > 11 && memcmp(text, "anon_inode:", 11) == 0) {
		const char *n = text + 11, *e = text + len;
		if (e - n >= 2 && n[0] == '[' && e[-1] == ']') {
			n++;
			e--;
		}
		l->kind = PROCSTATE_FD_ANON;
		l->name = xstrndup(n, (size_t)(e - n));
		return 0;
	}
	/* "type:[inode]" */
	if (colon && (size_t)(colon - text) + 3 < len && colon[1] == '['
	    && text[len - 1] == ']') {
		const char *p = colon + 2, *e = text + len - 1;
		uint64_t ino;
		if (parse_u64(&p, e, 10, &ino) == 0 && p == e) {
			size_t tlen = (size_t)(colon - text);
			l->inode = ino;
			if (tlen == 4 && memcmp(text, "pipe", 4) == 0) {
				l->kind = PROCSTATE_FD_PIPE;
				l->name = xstrdup("");
			} else if (tlen == 6 && memcmp(text, "socket", 6) == 0) {
				l->kind = PROCSTATE_FD_SOCKET;
				l->name = xstrdup("");
			} else {
				l->kind = PROCSTATE_FD_OTHER;
				l->name = xstrndup(text, tlen);
			}
			return 0;
		}
	}
	/* anything else the kernel may show ("/dev/pts/0 (deleted)" starts
	 * with '/'; "pidfd:..." forms without brackets): keep the text */
	l->kind = PROCSTATE_FD_OTHER;
	l->name = xstrndup(text, len);
	return 0;
}

void procstate_fdlink_release(struct procstate_fdlink *l)
{
	free(l->name);
	l->name = NULL;
}

/* ---- /proc/net tables ---------------------------------------------------- */

/* Call fn for each line after the header; stops at its first error. */
static int each_line(const char *text, size_t len,
		     int (*fn)(const char *line, const char *end, void *arg),
		     void *arg)
{
	const char *p = text, *end = text + len;
	const char *nl = memchr(p, '\n', len);
	if (!nl)
		return len == 0 ? -EINVAL : 0;  /* a header alone */
	p = nl + 1;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (skip_blank(p, le) != le) {
			int r = fn(p, le, arg);
			if (r < 0)
				return r;
		}
		p = le + 1;
	}
	return 0;
}

struct unix_acc {
	struct procstate_unix_sock *v;
	size_t n, cap;
};

/* "Num RefCount Protocol Flags Type St Inode Path" (net/unix/af_unix.c) */
static int unix_line(const char *p, const char *end, void *arg)
{
	struct unix_acc *a = arg;
	uint64_t f[6];
	const char *colon = memchr(p, ':', (size_t)(end - p));
	if (!colon)
		return -EINVAL;
	p = colon + 1;
	for (int i = 0; i < 6; i++)
		if (parse_u64(&p, end, i < 5 ? 16 : 10, &f[i]) < 0)
			return -EINVAL;
	const char *path = skip_blank(p, end);
	if (path != end && path == p)
		return -EINVAL;
	util_grow((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v));
	struct procstate_unix_sock *s = &a->v[a->n++];
	s->flags = (unsigned)f[2];
	s->type = (int)(f[3] & 0xffff);
	s->state = (int)(f[4] & 0xff);
	s->inode = f[5];
	s->path = xstrndup(path, (size_t)(end - path));
	return 0;
}

int procstate_net_unix_parse(const char *text, size_t len,
			     struct procstate_unix_sock **out, size_t *n)
{
	struct unix_acc a = { 0 };
	int r = each_line(text, len, unix_line, &a);
	if (r < 0) {
		procstate_unix_socks_free(a.v, a.n);
		return r;
	}
	*out = a.v;
	*n = a.n;
	return 0;
}

void procstate_unix_socks_free(struct procstate_unix_sock *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		free(s[i].path);
	free(s);
}

struct inet_acc {
	struct procstate_inet_sock *v;
	size_t n, cap;
	int family;
	enum procstate_proto proto;
};

/* "ADDR:PORT": the address is the __be32 words printed with %08X as native
 * integers (net/ipv4/tcp_ipv4.c, net/ipv6/tcp_ipv6.c), so storing each word
 * back in host order gives the bytes in network order. */
static int inet_addr_field(const char **pp, const char *end, int family,
			   uint8_t *addr, uint16_t *port)
{
	const char *p = skip_blank(*pp, end);
	int words = family == AF_INET6 ? 4 : 1;
	for (int w = 0; w < words; w++) {
		if (end - p < 8)
			return -EINVAL;
		uint64_t v;
		const char *q = p;
		if (parse_u64(&q, p + 8, 16, &v) < 0 || q != p + 8)
			return -EINVAL;
		uint32_t word = (uint32_t)v;
		memcpy(addr + 4 * w, &word, 4);
		p += 8;
	}
	if (p >= end || *p != ':')
		return -EINVAL;
	p++;
	uint64_t pt;
	if (parse_u64(&p, end, 16, &pt) < 0 || pt > 0xffff)
		return -EINVAL;
	*port = (uint16_t)pt;
	*pp = p;
	return 0;
}

/* "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ..." */
static int inet_line(const char *p, const char *end, void *arg)
{
	struct inet_acc *a = arg;
	struct procstate_inet_sock s = { .family = a->family, .proto = a->proto };
	const char *colon = memchr(p, ':', (size_t)(end - p));
	if (!colon)
		return -EINVAL;
	p = colon + 1;
	uint64_t v;
	if (inet_addr_field(&p, end, a->family, s.local, &s.local_port) < 0
	    || inet_addr_field(&p, end, a->family, s.remote, &s.remote_port) < 0
	    || parse_u64(&p, end, 16, &v) < 0)
		return -EINVAL;
	s.state = (int)(v & 0xff);
	/* tx_queue:rx_queue tr:tm->when */
	for (int i = 0; i < 2; i++) {
		if (parse_u64(&p, end, 16, &v) < 0 || p >= end || *p++ != ':'
		    || parse_u64(&p, end, 16, &v) < 0)
			return -EINVAL;
	}
	/* retrnsmt uid timeout inode */
	if (parse_u64(&p, end, 16, &v) < 0 || parse_u64(&p, end, 10, &v) < 0
	    || parse_u64(&p, end, 10, &v) < 0 || parse_u64(&p, end, 10, &v) < 0)
		return -EINVAL;
	s.inode = v;
	util_grow((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v));
	a->v[a->n++] = s;
	return 0;
}

int procstate_net_inet_parse(const char *text, size_t len, int family,
			     enum procstate_proto proto,
			     struct procstate_inet_sock **out, size_t *n)
{
	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	struct inet_acc a = { .family = family, .proto = proto };
	int r = each_line(text, len, inet_line, &a);
	if (r < 0) {
		free(a.v);
		return r;
	}
	*out = a.v;
	*n = a.n;
	return 0;
}

char *procstate_inet_addr(int family, const uint8_t *addr, uint16_t port)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	inet_ntop(family, addr, ip, sizeof(ip));
	char *s = NULL;
	if (asprintf(&s, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port) < 0)
		abort();
	return s;
}

const char *procstate_tcp_state_name(int state)
{
	static const char *const names[] = {
		"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
		"FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
		"LISTEN", "CLOSING", "NEW_SYN_RECV",
	};
	if (state < 0 || (size_t)state >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[state];
}

/* ---- sock_diag ----------------------------------------------------------- */

static void unix_diag_attrs(const uint8_t *a, size_t len,
			    struct procstate_unix_diag *d)
{
	while (len >= sizeof(struct rtattr)) {
		struct rtattr rta;
		memcpy(&rta, a, sizeof(rta));
		if (rta.rta_len < sizeof(rta) || rta.rta_len > len)
			break;
		const uint8_t *data = a + RTA_LENGTH(0);
		size_t dlen = rta.rta_len - RTA_LENGTH(0);
		uint32_t u;
		switch (rta.rta_type) {
		case UNIX_DIAG_NAME:
			free(d->name);
			if (dlen > 0 && data[0] == '\0') {
				/* abstract: a NUL, then the name (shown as '@') */
				size_t n = strnlen((const char *)data + 1, dlen - 1);
				d->name = xmalloc(n + 2);
				d->name[0] = '@';
				memcpy(d->name + 1, data + 1, n);
				d->name[n + 1] = '\0';
			} else
				d->name = xstrndup((const char *)data,
						   strnlen((const char *)data, dlen));
			break;
		case UNIX_DIAG_PEER:
			if (dlen >= 4) {
				memcpy(&u, data, 4);
				d->peer_inode = u;
				d->has_peer = true;
			}
			break;
		case UNIX_DIAG_ICONS:
			free(d->icons);
			d->nicons = dlen / 4;
			d->icons = xmalloc(d->nicons * 4);
			memcpy(d->icons, data, d->nicons * 4);
			break;
		case UNIX_DIAG_RQLEN:
			if (dlen >= sizeof(struct unix_diag_rqlen)) {
				struct unix_diag_rqlen q;
				memcpy(&q, data, sizeof(q));
				d->rqueue = q.udiag_rqueue;
				d->wqueue = q.udiag_wqueue;
				d->has_rqlen = true;
			}
			break;
		}
		size_t step = RTA_ALIGN(rta.rta_len);
		if (step >= len)
			break;
		a += step;
		len -= step;
	}
}

int procstate_unix_diag_parse(const void *buf, size_t len,
			      struct procstate_unix_diag_list *list, bool *done)
{
	const uint8_t *p = buf;
	*done = false;
	while (len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len)
			return -EINVAL;
		const uint8_t *body = p + NLMSG_HDRLEN;
		size_t blen = h.nlmsg_len - NLMSG_HDRLEN;
		if (h.nlmsg_type == NLMSG_DONE) {
			*done = true;
			return 0;
		}
		if (h.nlmsg_type == NLMSG_ERROR) {
			*done = true;
			int err;
			if (blen < sizeof(err))
				return -EINVAL;
			memcpy(&err, body, sizeof(err));
			return err < 0 && err > -4096 ? err : (err == 0 ? 0 : -EINVAL);
		}
		if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			struct unix_diag_msg m;
			if (blen < sizeof(m))
				return -EINVAL;
			memcpy(&m, body, sizeof(m));
			util_grow((void **)&list->items, &list->cap, list->n + 1,
				  sizeof(*list->items));
			struct procstate_unix_diag *d = &list->items[list->n++];
			memset(d, 0, sizeof(*d));
			d->inode = m.udiag_ino;
			d->type = m.udiag_type;
			d->state = m.udiag_state;
			size_t off = NLMSG_ALIGN(sizeof(m));
			if (off < blen)
				unix_diag_attrs(body + off, blen - off, d);
			if (!d->name)
				d->name = xstrdup("");
		}
		size_t step = NLMSG_ALIGN(h.nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

void procstate_unix_diag_release(struct procstate_unix_diag *d)
{
	free(d->icons);
	free(d->name);
	d->icons = NULL;
	d->name = NULL;
}

void procstate_unix_diag_list_release(struct procstate_unix_diag_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		procstate_unix_diag_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

/* Send one unix_diag request and parse the replies into list. */
static int unix_diag_request(uint32_t states, uint32_t ino, bool dump,
			     struct procstate_unix_diag_list *list)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0),
			.nlmsg_seq = 1,
		},
		.r = {
			.sdiag_family = AF_UNIX,
			.udiag_states = states,
			.udiag_ino = ino,
			.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER |
				      UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN,
			/* no cookie check (sock_diag_check_cookie) */
			.udiag_cookie = { ~0u, ~0u },
		},
	};
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	int r = 0;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0) {
		r = -errno;
		goto out;
	}
	size_t cap = 32768;
	uint8_t *buf = xmalloc(cap);
	for (;;) {
		ssize_t n = recv(fd, buf, cap, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		bool done;
		r = procstate_unix_diag_parse(buf, (size_t)n, list, &done);
		if (r < 0 || done || !dump)
			break;
	}
	free(buf);
out:
	close(fd);
	return r;
}

int procstate_unix_diag_query(uint64_t inode, struct procstate_unix_diag *out)
{
	memset(out, 0, sizeof(*out));
	if (inode == 0 || inode > UINT32_MAX)
		return -ENOENT;  /* udiag_ino is 32 bits */
	struct procstate_unix_diag_list l = { 0 };
	int r = unix_diag_request(~0u, (uint32_t)inode, false, &l);
	if (r == 0 && l.n == 0)
		r = -ENOENT;
	if (r == 0) {
		*out = l.items[0];
		l.items[0].icons = NULL;
		l.items[0].name = NULL;
	}
	procstate_unix_diag_list_release(&l);
	return r;
}

int procstate_unix_diag_dump(uint32_t states_mask,
			     struct procstate_unix_diag_list *list)
{
	return unix_diag_request(states_mask, 0, true, list);
}

/* ---- fd tables ----------------------------------------------------------- */

static int scan_pid(const char *root, int pid, struct procstate_fdtab *t)
{
	int dfd = procfs_open(root, pid, "fd", O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return dfd;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	struct dirent *e;
	/* only "pipe:[N]" and "socket:[N]" are kept: a longer target is a
	 * path, and its truncation by readlink does not matter */
	char link[48];
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		if (n <= 0 || (link[0] != 'p' && link[0] != 's'))
			continue;
		link[n] = '\0';
		struct procstate_fdlink l;
		if (procstate_fdlink_parse(link, (size_t)n, &l) < 0)
			continue;
		if (l.kind == PROCSTATE_FD_PIPE || l.kind == PROCSTATE_FD_SOCKET) {
			util_grow((void **)&t->refs, &t->cap, t->n + 1, sizeof(*t->refs));
			t->refs[t->n++] = (struct procstate_fdref){
				.pid = pid, .fd = atoi(e->d_name),
				.kind = l.kind, .inode = l.inode,
			};
		}
		procstate_fdlink_release(&l);
	}
	closedir(d);
	return 0;
}

int procstate_fdtab_scan(const char *root, const int *pids, size_t npids,
			 struct procstate_fdtab *t)
{
	for (size_t i = 0; i < npids; i++)
		scan_pid(root, pids[i], t);  /* gone or refused: skipped */
	return 0;
}

void procstate_fdtab_release(struct procstate_fdtab *t)
{
	free(t->refs);
	memset(t, 0, sizeof(*t));
}

/* ---- one process --------------------------------------------------------- */

static char *read_link_at(const char *root, int pid, const char *name)
{
	char *path = NULL;
	if (asprintf(&path, "%s/%d/%s", root ? root : PROCFS_DEFAULT_ROOT, pid, name) < 0)
		abort();
	size_t cap = 128;
	char *buf = NULL;
	for (;;) {
		buf = xrealloc(buf, cap);
		ssize_t n = readlink(path, buf, cap);
		if (n < 0) {
			free(buf);
			buf = NULL;
			break;
		}
		if ((size_t)n < cap) {
			buf[n] = '\0';
			break;
		}
		cap *= 2;
	}
	free(path);
	return buf;
}

static void ref_comm(const char *root, struct procstate_ref *ref)
{
	struct proc_stat st;
	ref->comm[0] = '\0';
	if (proctree_read_stat(root, ref->pid, &st) == 0)
		snprintf(ref->comm, sizeof(ref->comm), "%.16s", st.comm);
}

static void add_ref(const char *root, struct procstate *ps, int pid)
{
	for (size_t i = 0; i < ps->nrefs; i++)
		if (ps->refs[i].pid == pid)
			return;
	ps->refs = xrealloc(ps->refs, (ps->nrefs + 1) * sizeof(*ps->refs));
	struct procstate_ref *r = &ps->refs[ps->nrefs++];
	r->pid = pid;
	ref_comm(root, r);
}

/* Which socket table holds fd's socket: asked of the socket itself
 * (the "system.sockprotoname" xattr of sockfs), else NULL (try all). */
static const char *sock_table(const char *root, int pid, int fd)
{
	char *path = NULL;
	if (asprintf(&path, "%s/%d/fd/%d", root ? root : PROCFS_DEFAULT_ROOT, pid, fd) < 0)
		abort();
	char name[32];
	ssize_t n = getxattr(path, "system.sockprotoname", name, sizeof(name) - 1);
	free(path);
	if (n <= 0)
		return NULL;
	name[n] = '\0';
	if (strncmp(name, "UNIX", 4) == 0)
		return "net/unix";
	if (strcmp(name, "TCP") == 0)
		return "net/tcp";
	if (strcmp(name, "TCPv6") == 0)
		return "net/tcp6";
	if (strcmp(name, "UDP") == 0)
		return "net/udp";
	if (strcmp(name, "UDPv6") == 0)
		return "net/udp6";
	return "";  /* netlink, packet, ...: no table */
}

static bool find_unix(const char *text, size_t len, uint64_t ino,
		      struct procstate_unix_sock *out)
{
	struct procstate_unix_sock *v;
	size_t n;
	bool found = false;
	if (procstate_net_unix_parse(text, len, &v, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		if (v[i].inode == ino) {
			*out = v[i];
			v[i].path = NULL;
			found = true;
		}
	procstate_unix_socks_free(v, n);
	return found;
}

static bool find_inet(const char *text, size_t len, int family,
		      enum procstate_proto proto, uint64_t ino,
		      struct procstate_inet_sock *out)
{
	struct procstate_inet_sock *v;
	size_t n;
	bool found = false;
	if (procstate_net_inet_parse(text, len, family, proto, &v, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		if (v[i].inode == ino) {
			*out = v[i];
			found = true;
		}
	free(v);
	return found;
}

/* Look the socket up in the table named (or in each when table is NULL). */
static void read_socket(const char *root, struct procstate *ps, const char *table)
{
	static const struct {
		const char *name;
		int family;
		enum procstate_proto proto;
	} tables[] = {
		{ "net/unix", AF_UNIX, PROCSTATE_TCP },
		{ "net/tcp", AF_INET, PROCSTATE_TCP },
		{ "net/tcp6", AF_INET6, PROCSTATE_TCP },
		{ "net/udp", AF_INET, PROCSTATE_UDP },
		{ "net/udp6", AF_INET6, PROCSTATE_UDP },
	};
	ps->sock = PROCSTATE_SOCK_OTHER;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		if (table && strcmp(table, tables[i].name) != 0)
			continue;
		char *buf;
		size_t len;
		if (procfs_read(root, ps->pid, tables[i].name, &buf, &len) < 0)
			continue;
		bool found;
		if (tables[i].family == AF_UNIX) {
			found = find_unix(buf, len, ps->link.inode, &ps->ux);
			if (found)
				ps->sock = PROCSTATE_SOCK_UNIX;
		} else {
			found = find_inet(buf, len, tables[i].family, tables[i].proto,
					  ps->link.inode, &ps->inet);
			if (found)
				ps->sock = PROCSTATE_SOCK_INET;
		}
		free(buf);
		if (found)
			return;
	}
}

/* The number of fds an epoll instance watches: its fdinfo's "tfd:" lines. */
/* Read /proc/PID/fdinfo/FD whole. Returns 0 or -errno. */
static int read_fdinfo(const char *root, int pid, int fd, char **buf, size_t *len)
{
	char name[32];
	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	return procfs_read(root, pid, name, buf, len);
}

static int64_t epoll_count(const char *root, int pid, int fd)
{
	char *buf;
	size_t len;
	if (read_fdinfo(root, pid, fd, &buf, &len) < 0)
		return -1;
	int64_t n = 0;
	for (const char *p = buf; (p = strstr(p, "tfd:")) != NULL; p += 4)
		n++;
	free(buf);
	return n;
}

static void read_children(const char *root, struct procstate *ps)
{
	if (ps->wait_pid > 0) {
		add_ref(root, ps, ps->wait_pid);
		ps->peer = PROCSTATE_PEER_CHILDREN;
		return;
	}
	char name[48];
	snprintf(name, sizeof(name), "task/%d/children", ps->tid);
	char *buf;
	size_t len;
	ps->peer = PROCSTATE_PEER_CHILDREN;
	if (procfs_read(root, ps->pid, name, &buf, &len) < 0)
		return;
	const char *p = buf, *end = buf + len;
	uint64_t v;
	while (parse_u64(&p, end, 10, &v) == 0)
		if (v > 0 && v <= INT_MAX)
			add_ref(root, ps, (int)v);
	free(buf);
}

static void read_wait_target(const char *root, struct procstate *ps)
{
	const struct sc_info *s = sc_lookup(ps->sc.nr);
	ps->sc_name = s ? s->name : NULL;
	ps->wait = s ? s->wait : PROCSTATE_WAIT_OTHER;
	ps->fd_write_side = s && s->writes;
	if (s && s->fd_arg >= 0 && (ps->wait == PROCSTATE_WAIT_FD ||
				    ps->wait == PROCSTATE_WAIT_EPOLL))
		ps->fd = (int)(int32_t)ps->sc.args[s->fd_arg];
	switch (ps->wait) {
	case PROCSTATE_WAIT_POLL:
		ps->nfds = (int64_t)(ps->sc.nr == SYS_poll || ps->sc.nr == SYS_ppoll
				     ? ps->sc.args[1] : (uint32_t)ps->sc.args[0]);
		break;
	case PROCSTATE_WAIT_CHILD:
		/* wait4(pid, ...): a 32-bit pid_t, -1 for any child;
		 * waitid(P_PID 1, id, ...) */
		if (ps->sc.nr == SYS_wait4)
			ps->wait_pid = (int)(int32_t)ps->sc.args[0];
		else
			ps->wait_pid = ps->sc.args[0] == 1 ? (int)(int32_t)ps->sc.args[1] : -1;
		read_children(root, ps);
		break;
	default:
		break;
	}
	if (ps->fd < 0)
		return;
	char name[32];
	snprintf(name, sizeof(name), "fd/%d", ps->fd);
	char *target = read_link_at(root, ps->pid, name);
	if (!target || procstate_fdlink_parse(target, strlen(target), &ps->link) < 0)
		memset(&ps->link, 0, sizeof(ps->link));
	free(target);
	if (ps->link.kind == PROCSTATE_FD_SOCKET)
		read_socket(root, ps, sock_table(root, ps->pid, ps->fd));
	if (ps->wait == PROCSTATE_WAIT_EPOLL)
		ps->nfds = epoll_count(root, ps->pid, ps->fd);
}

int procstate_read(const char *root, int pid, struct procstate *out)
{
	struct proc_stat st;
	int r = proctree_read_stat(root, pid, &st);
	if (r < 0) {
		memset(out, 0, sizeof(*out));
		return r;
	}
	return procstate_read_with_stat(root, &st, out);
}

/* The file name of tid's own copy of a per-thread file: /proc/PID/name for
 * the main thread (so fixtures need no task/ folder), task/TID/name else. */
static const char *task_file(char *buf, size_t size, int pid, int tid,
			     const char *name)
{
	if (tid == pid)
		return name;
	snprintf(buf, size, "task/%d/%s", tid, name);
	return buf;
}

static int read_common(const char *root, int pid, int tid,
		       const struct proc_stat *st, struct procstate *out)
{
	char fname[64];
	memset(out, 0, sizeof(*out));
	out->pid = pid;
	out->tid = tid;
	out->fd = -1;
	out->nfds = -1;
	out->wait_pid = -1;
	out->sc.kind = PROCSTATE_SC_NONE;
	out->sc.nr = -1;
	snprintf(out->comm, sizeof(out->comm), "%s", st->comm);
	out->state = st->state;
	out->flags = st->flags;
	out->exiting = (st->flags & PF_EXITING_FLAG) != 0;
	out->cpu_ticks = st->utime_ticks + st->stime_ticks;

	char *buf;
	size_t len;
	if (st->state == 'Z' || st->state == 'X') {
		out->sc.nr = -2;  /* nothing to read: no syscall, no wchan */
		return 0;
	}
	/* a running task's wchan always reads "0" */
	if (st->state != 'R' &&
	    procfs_read(root, pid, task_file(fname, sizeof(fname), pid, tid, "wchan"),
			&buf, &len) == 0) {
		out->wchan = procstate_wchan_parse(buf, len);
		free(buf);
	}
	bool have_sc = false;
	if (procfs_read(root, pid, task_file(fname, sizeof(fname), pid, tid, "syscall"),
			&buf, &len) == 0) {
		have_sc = procstate_syscall_parse(buf, len, &out->sc) == 0;
		free(buf);
	}
	if (!have_sc) {
		/* unreadable (no ptrace access) or gone: nothing more */
		memset(&out->sc, 0, sizeof(out->sc));
		out->sc.kind = PROCSTATE_SC_NONE;
		out->sc.nr = -2;
		return 0;
	}
	if (out->sc.kind == PROCSTATE_SC_IN)
		read_wait_target(root, out);
	return 0;
}

int procstate_read_with_stat(const char *root, const struct proc_stat *st,
			     struct procstate *out)
{
	return read_common(root, st->pid, st->pid, st, out);
}

int procstate_read_thread(const char *root, int pid, int tid,
			  struct procstate *out)
{
	char name[48];
	snprintf(name, sizeof(name), "task/%d/stat", tid);
	char *buf;
	size_t len;
	struct proc_stat st;
	int r = procfs_read(root, pid, name, &buf, &len);
	if (r == 0) {
		r = proc_stat_parse(buf, len, &st);
		free(buf);
	}
	if (r < 0) {
		memset(out, 0, sizeof(*out));
		return r;
	}
	return read_common(root, pid, tid, &st, out);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int procstate_list_threads(const char *root, int pid, int **tids, size_t *n)
{
	*tids = NULL;
	*n = 0;
	int dfd = procfs_open(root, pid, "task", O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return dfd;
	DIR *d = fdopendir(dfd);
	if (!d) {
		int r = -errno;
		close(dfd);
		return r;
	}
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long v = strtol(e->d_name, &end, 10);
		if (*end || v <= 0 || v > INT_MAX)
			continue;
		util_grow((void **)tids, &cap, *n + 1, sizeof(**tids));
		(*tids)[(*n)++] = (int)v;
	}
	closedir(d);
	qsort(*tids, *n, sizeof(**tids), cmp_int);
	return 0;
}

/* ---- peers --------------------------------------------------------------- */

bool procstate_needs_fdtab(const struct procstate *ps)
{
	return ps->wait == PROCSTATE_WAIT_FD &&
	       (ps->link.kind == PROCSTATE_FD_PIPE ||
		(ps->link.kind == PROCSTATE_FD_SOCKET &&
		 (ps->sock == PROCSTATE_SOCK_UNIX ||
		  (ps->sock == PROCSTATE_SOCK_INET && ps->inet.proto == PROCSTATE_TCP))));
}

/* The access mode (O_RDONLY, O_WRONLY, O_RDWR) of pid's fd, from fdinfo's
 * octal "flags:", or -1 if unreadable. */
static int fd_accmode(const char *root, int pid, int fd)
{
	char *buf;
	size_t len;
	if (read_fdinfo(root, pid, fd, &buf, &len) < 0)
		return -1;
	int mode = -1;
	const char *f = strstr(buf, "flags:");
	if (f) {
		const char *p = f + 6, *end = buf + len;
		uint64_t v;
		p = skip_blank(p, end);
		if (parse_u64(&p, end, 8, &v) == 0)
			mode = (int)(v & O_ACCMODE);
	}
	free(buf);
	return mode;
}

static void holders_of(const char *root, struct procstate *ps,
		       const struct procstate_fdtab *tab,
		       enum procstate_fd_kind kind, uint64_t inode, int want_mode)
{
	for (size_t i = 0; i < tab->n; i++) {
		const struct procstate_fdref *f = &tab->refs[i];
		if (f->kind != kind || f->inode != inode)
			continue;
		if (f->pid == ps->pid && f->fd == ps->fd)
			continue;
		if (want_mode >= 0) {
			int m = fd_accmode(root, f->pid, f->fd);
			if (m >= 0 && m != want_mode && m != O_RDWR)
				continue;
		}
		add_ref(root, ps, f->pid);
	}
}

static int resolve_unix(const char *root, struct procstate *ps,
			const struct procstate_fdtab *tab)
{
	struct procstate_unix_diag d;
	int r = procstate_unix_diag_query(ps->link.inode, &d);
	if (r < 0)
		return r;
	if (d.state == 10 /* TCP_LISTEN */) {
		procstate_unix_diag_release(&d);
		return 0;  /* accept(): no peer yet */
	}
	if (d.peer_inode) {
		ps->peer = PROCSTATE_PEER_UNIX;
		holders_of(root, ps, tab, PROCSTATE_FD_SOCKET, d.peer_inode, -1);
		procstate_unix_diag_release(&d);
		return 0;
	}
	bool connected = d.has_peer && d.state == 1 /* TCP_ESTABLISHED */;
	procstate_unix_diag_release(&d);
	if (!connected)
		return 0;
	/* A connection not yet accepted: its peer is the embryo socket
	 * queued on the listener, which has no inode of its own
	 * (net/unix/diag.c); the listener lists our inode in its icons. */
	struct procstate_unix_diag_list l = { 0 };
	r = procstate_unix_diag_dump(1u << 10, &l);
	ps->peer = PROCSTATE_PEER_UNIX_GONE;
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		for (size_t k = 0; k < l.items[i].nicons; k++) {
			if (l.items[i].icons[k] != ps->link.inode)
				continue;
			ps->peer = PROCSTATE_PEER_UNIX_QUEUED;
			ps->listener = xstrdup(l.items[i].name);
			holders_of(root, ps, tab, PROCSTATE_FD_SOCKET,
				   l.items[i].inode, -1);
			break;
		}
	}
	procstate_unix_diag_list_release(&l);
	return r;
}

/* The listening socket of the table that a connection to addr:port not yet
 * accepted waits in: same port, same address or a wildcard one. */
static const struct procstate_inet_sock *
find_listener(const struct procstate_inet_sock *v, size_t n, int family,
	      const uint8_t *addr, uint16_t port)
{
	static const uint8_t any[16];
	size_t alen = family == AF_INET6 ? 16 : 4;
	for (size_t i = 0; i < n; i++)
		if (v[i].state == 10 /* TCP_LISTEN */ && v[i].local_port == port &&
		    (memcmp(v[i].local, addr, alen) == 0 || memcmp(v[i].local, any, alen) == 0))
			return &v[i];
	return NULL;
}

static void resolve_tcp(const char *root, struct procstate *ps,
			const struct procstate_fdtab *tab)
{
	const struct procstate_inet_sock *me = &ps->inet;
	if (me->state != 1 /* TCP_ESTABLISHED */)
		return;
	char *buf;
	size_t len;
	if (procfs_read(root, ps->pid, me->family == AF_INET6 ? "net/tcp6" : "net/tcp",
			&buf, &len) < 0)
		return;
	struct procstate_inet_sock *v;
	size_t n;
	size_t alen = me->family == AF_INET6 ? 16 : 4;
	if (procstate_net_inet_parse(buf, len, me->family, me->proto, &v, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (v[i].local_port != me->remote_port ||
			    v[i].remote_port != me->local_port ||
			    memcmp(v[i].local, me->remote, alen) != 0 ||
			    memcmp(v[i].remote, me->local, alen) != 0)
				continue;
			if (v[i].inode) {
				ps->peer = PROCSTATE_PEER_INET;
				holders_of(root, ps, tab, PROCSTATE_FD_SOCKET, v[i].inode, -1);
				break;
			}
			/* the other end has no inode until accept() gives
			 * it a file: it is queued on a listener */
			const struct procstate_inet_sock *l =
				find_listener(v, n, me->family, me->remote, me->remote_port);
			if (!l)
				break;
			ps->peer = PROCSTATE_PEER_INET_QUEUED;
			ps->listener = procstate_inet_addr(l->family, l->local, l->local_port);
			holders_of(root, ps, tab, PROCSTATE_FD_SOCKET, l->inode, -1);
			break;
		}
		free(v);
	}
	free(buf);
}

int procstate_resolve_peer(const char *root, struct procstate *ps,
			   const struct procstate_fdtab *tab)
{
	if (!procstate_needs_fdtab(ps))
		return 0;
	if (ps->link.kind == PROCSTATE_FD_PIPE) {
		ps->peer = PROCSTATE_PEER_PIPE;
		holders_of(root, ps, tab, PROCSTATE_FD_PIPE, ps->link.inode,
			   ps->fd_write_side ? O_RDONLY : O_WRONLY);
		return 0;
	}
	if (ps->sock == PROCSTATE_SOCK_UNIX)
		return resolve_unix(root, ps, tab);
	resolve_tcp(root, ps, tab);
	return 0;
}

/* ---- describe ------------------------------------------------------------ */

static void sb_refs(struct sbuf *b, const struct procstate *ps)
{
	for (size_t i = 0; i < ps->nrefs; i++) {
		const struct procstate_ref *r = &ps->refs[i];
		sb_printf(b, "%s%d", i ? ", " : "", r->pid);
		if (r->pid == ps->pid)
			sb_printf(b, " (itself)");
		else if (r->comm[0])
			sb_printf(b, " (%s)", r->comm);
	}
}

static void sb_socket(struct sbuf *b, const struct procstate *ps)
{
	if (ps->sock == PROCSTATE_SOCK_UNIX) {
		sb_printf(b, "unix %s socket",
			  ps->ux.type == 2 ? "datagram" : ps->ux.type == 5 ? "seqpacket" : "stream");
		if (ps->ux.path && ps->ux.path[0])
			sb_printf(b, " %s", ps->ux.path);
		if (ps->ux.flags & PROCSTATE_UNIX_LISTENING)
			sb_printf(b, " (listening)");
		return;
	}
	if (ps->sock == PROCSTATE_SOCK_INET) {
		const struct procstate_inet_sock *s = &ps->inet;
		char *l = procstate_inet_addr(s->family, s->local, s->local_port);
		const char *proto = s->proto == PROCSTATE_TCP ? "TCP" : "UDP";
		if (s->proto == PROCSTATE_TCP && s->state == 10)
			sb_printf(b, "%s %s (listening)", proto, l);
		else if (s->remote_port) {
			char *r = procstate_inet_addr(s->family, s->remote, s->remote_port);
			sb_printf(b, "%s %s <- %s", proto, l, r);
			if (s->proto == PROCSTATE_TCP && s->state != 1)
				sb_printf(b, " (%s)", procstate_tcp_state_name(s->state));
			free(r);
		} else
			sb_printf(b, "%s %s", proto, l);
		free(l);
		return;
	}
	sb_printf(b, "socket:[%" PRIu64 "]", ps->link.inode);
}

static void sb_fd_target(struct sbuf *b, const struct procstate *ps)
{
	const struct procstate_fdlink *l = &ps->link;
	switch (l->kind) {
	case PROCSTATE_FD_PATH:
		sb_printf(b, " on %s", l->name);
		break;
	case PROCSTATE_FD_PIPE:
		sb_printf(b, " on pipe");
		break;
	case PROCSTATE_FD_SOCKET:
		sb_printf(b, " on ");
		sb_socket(b, ps);
		break;
	case PROCSTATE_FD_ANON:
		sb_printf(b, " on %s", l->name);
		break;
	case PROCSTATE_FD_OTHER:
		sb_printf(b, " on %s", l->name);
		break;
	case PROCSTATE_FD_UNKNOWN:
		break;
	}
	switch (ps->peer) {
	case PROCSTATE_PEER_PIPE:
		sb_printf(b, ", %s end ", ps->fd_write_side ? "read" : "write");
		if (ps->nrefs) {
			sb_printf(b, "held by ");
			sb_refs(b, ps);
		} else
			sb_printf(b, "held by no process of the tree");
		break;
	case PROCSTATE_PEER_UNIX:
	case PROCSTATE_PEER_INET:
		if (ps->nrefs) {
			sb_printf(b, ", peer held by ");
			sb_refs(b, ps);
		} else
			sb_printf(b, ", peer held by no process of the tree");
		break;
	case PROCSTATE_PEER_UNIX_QUEUED:
	case PROCSTATE_PEER_INET_QUEUED:
		sb_printf(b, ", connection not accepted yet: queued on listener %s",
			  ps->listener && ps->listener[0] ? ps->listener : "(unnamed)");
		if (ps->nrefs) {
			sb_printf(b, " held by ");
			sb_refs(b, ps);
		} else
			sb_printf(b, " held by no process of the tree");
		break;
	case PROCSTATE_PEER_UNIX_GONE:
		sb_printf(b, ", peer gone");
		break;
	default:
		break;
	}
}

static void sb_syscall(struct sbuf *b, const struct procstate *ps)
{
	const char *name = ps->sc_name;
	char nbuf[32];
	if (!name) {
		snprintf(nbuf, sizeof(nbuf), "syscall %ld", ps->sc.nr);
		name = nbuf;
	}
	switch (ps->wait) {
	case PROCSTATE_WAIT_FD:
		sb_printf(b, "%s(fd %d)", name, ps->fd);
		sb_fd_target(b, ps);
		break;
	case PROCSTATE_WAIT_POLL:
		if (ps->sc.nr == SYS_poll || ps->sc.nr == SYS_ppoll)
			sb_printf(b, "%s on %" PRId64 " fds", name, ps->nfds);
		else
			sb_printf(b, "%s on fds < %" PRId64, name, ps->nfds);
		break;
	case PROCSTATE_WAIT_EPOLL:
		sb_printf(b, "%s(fd %d)", name, ps->fd);
		if (ps->nfds >= 0)
			sb_printf(b, " on %" PRId64 " fds", ps->nfds);
		break;
	case PROCSTATE_WAIT_CHILD:
		if (ps->wait_pid > 0)
			sb_printf(b, "%s (child ", name);
		else if (ps->nrefs == 0)
			sb_printf(b, "%s (no children", name);
		else
			sb_printf(b, "%s (%s ", name, ps->nrefs == 1 ? "child" : "children");
		sb_refs(b, ps);
		sb_printf(b, ")");
		break;
	case PROCSTATE_WAIT_FUTEX:
		sb_printf(b, "futex wait (a lock or condition)");
		break;
	case PROCSTATE_WAIT_SLEEP:
		sb_printf(b, "sleeping (%s)", name);
		break;
	case PROCSTATE_WAIT_SIGNAL:
		sb_printf(b, "waiting for a signal (%s)", name);
		break;
	case PROCSTATE_WAIT_OTHER:
		sb_printf(b, "%s", name);
		if (ps->wchan)
			sb_printf(b, " in %s", ps->wchan);
		break;
	}
}

char *procstate_describe_wait(const struct procstate *ps)
{
	struct sbuf b = { 0 };
	sb_printf(&b, "%s", "");  /* never NULL, even if nothing matches below */
	if (ps->state == 'Z' || ps->state == 'X')
		sb_printf(&b, "zombie (exited, not reaped)");
	else if (ps->state == 'T')
		sb_printf(&b, "stopped");
	else if (ps->state == 't')
		sb_printf(&b, "stopped by a tracer");
	else if (ps->state == 'R' || ps->sc.kind == PROCSTATE_SC_RUNNING)
		sb_printf(&b, "running");
	else if (ps->sc.kind == PROCSTATE_SC_IN)
		sb_syscall(&b, ps);
	else if (ps->sc.nr == -1)
		sb_printf(&b, "not in a system call%s%s", ps->wchan ? ", in " : "",
			  ps->wchan ? ps->wchan : "");
	else
		sb_printf(&b, "asleep%s%s", ps->wchan ? " in " : "",
			  ps->wchan ? ps->wchan : "");
	if (ps->exiting)
		sb_printf(&b, " (exiting)");
	return b.s;
}

void procstate_release(struct procstate *ps)
{
	free(ps->wchan);
	procstate_fdlink_release(&ps->link);
	free(ps->ux.path);
	free(ps->refs);
	free(ps->listener);
	ps->wchan = NULL;
	ps->ux.path = NULL;
	ps->refs = NULL;
	ps->nrefs = 0;
	ps->listener = NULL;
}
