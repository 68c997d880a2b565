/* procstate.c - what a process waits on: state, system call, fd and peer */
#include "collectors/procstate.h"
#include "collectors/fdlink.h"
#include "collectors/netsock.h"
#include "collectors/procfs.h"
#include "collectors/proctree.h"
#include "collectors/sockdiag.h"
#include "collectors/syscall.h"
#include "collectors/textscan.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>


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
		struct fdlink l;
		if (fdlink_parse(link, (size_t)n, &l) < 0)
			continue;
		if (l.kind == FDLINK_PIPE || l.kind == FDLINK_SOCKET) {
			util_grow((void **)&t->refs, &t->cap, t->n + 1, sizeof(*t->refs));
			t->refs[t->n++] = (struct procstate_fdref){
				.pid = pid, .fd = atoi(e->d_name),
				.kind = l.kind, .inode = l.inode,
			};
		}
		fdlink_release(&l);
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
	path = xasprintf("%s/%d/fd/%d", root ? root : PROCFS_DEFAULT_ROOT, pid, fd);
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
		      struct netsock_unix *out)
{
	struct netsock_unix *v;
	size_t n;
	bool found = false;
	if (netsock_unix_parse(text, len, &v, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		if (v[i].inode == ino) {
			*out = v[i];
			v[i].path = NULL;
			found = true;
		}
	netsock_unix_free(v, n);
	return found;
}

static bool find_inet(const char *text, size_t len, int family,
		      enum netsock_proto proto, uint64_t ino,
		      struct netsock_inet *out)
{
	struct netsock_inet *v;
	size_t n;
	bool found = false;
	if (netsock_inet_parse(text, len, family, proto, &v, &n) < 0)
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
		enum netsock_proto proto;
	} tables[] = {
		{ "net/unix", AF_UNIX, NETSOCK_TCP },
		{ "net/tcp", AF_INET, NETSOCK_TCP },
		{ "net/tcp6", AF_INET6, NETSOCK_TCP },
		{ "net/udp", AF_INET, NETSOCK_UDP },
		{ "net/udp6", AF_INET6, NETSOCK_UDP },
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
	while (textscan_u64(&p, end, 10, &v) == 0)
		if (v > 0 && v <= INT_MAX)
			add_ref(root, ps, (int)v);
	free(buf);
}

static void read_wait_target(const char *root, struct procstate *ps)
{
	const struct syscall_class *s = syscall_lookup(ps->sc.nr);
	ps->sc_name = s ? s->name : NULL;
	ps->wait = s ? s->wait : SYSCALL_WAIT_OTHER;
	ps->fd_write_side = s && s->writes;
	if (s && s->fd_arg >= 0 && (ps->wait == SYSCALL_WAIT_FD ||
				    ps->wait == SYSCALL_WAIT_EPOLL))
		ps->fd = (int)(int32_t)ps->sc.args[s->fd_arg];
	switch (ps->wait) {
	case SYSCALL_WAIT_POLL:
		ps->nfds = (int64_t)(ps->sc.nr == SYS_poll || ps->sc.nr == SYS_ppoll
				     ? ps->sc.args[1] : (uint32_t)ps->sc.args[0]);
		break;
	case SYSCALL_WAIT_CHILD:
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
	fdlink_read(root, ps->pid, ps->fd, &ps->link);  /* zeroed if unreadable */
	if (ps->link.kind == FDLINK_SOCKET)
		read_socket(root, ps, sock_table(root, ps->pid, ps->fd));
	if (ps->wait == SYSCALL_WAIT_EPOLL)
		ps->nfds = fdlink_epoll_count(root, ps->pid, ps->fd);
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
	out->sc.kind = SYSCALL_NONE;
	out->sc.nr = -1;
	snprintf(out->comm, sizeof(out->comm), "%s", st->comm);
	out->state = st->state;
	out->flags = st->flags;
	out->exiting = (st->flags & PROCTREE_PF_EXITING) != 0;
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
		out->wchan = syscall_wchan_parse(buf, len);
		free(buf);
	}
	bool have_sc = false;
	if (procfs_read(root, pid, task_file(fname, sizeof(fname), pid, tid, "syscall"),
			&buf, &len) == 0) {
		have_sc = syscall_parse(buf, len, &out->sc) == 0;
		free(buf);
	}
	if (!have_sc) {
		/* unreadable (no ptrace access) or gone: nothing more */
		memset(&out->sc, 0, sizeof(out->sc));
		out->sc.kind = SYSCALL_NONE;
		out->sc.nr = -2;
		return 0;
	}
	if (out->sc.kind == SYSCALL_IN)
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
		r = proctree_stat_parse(buf, len, &st);
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
	return ps->wait == SYSCALL_WAIT_FD &&
	       (ps->link.kind == FDLINK_PIPE ||
		(ps->link.kind == FDLINK_SOCKET &&
		 (ps->sock == PROCSTATE_SOCK_UNIX ||
		  (ps->sock == PROCSTATE_SOCK_INET && ps->inet.proto == NETSOCK_TCP))));
}

static void holders_of(const char *root, struct procstate *ps,
		       const struct procstate_fdtab *tab,
		       enum fdlink_kind kind, uint64_t inode, int want_mode)
{
	for (size_t i = 0; i < tab->n; i++) {
		const struct procstate_fdref *f = &tab->refs[i];
		if (f->kind != kind || f->inode != inode)
			continue;
		if (f->pid == ps->pid && f->fd == ps->fd)
			continue;
		if (want_mode >= 0) {
			int m = fdlink_accmode(root, f->pid, f->fd);
			if (m >= 0 && m != want_mode && m != O_RDWR)
				continue;
		}
		add_ref(root, ps, f->pid);
	}
}

static int resolve_unix(const char *root, struct procstate *ps,
			const struct procstate_fdtab *tab)
{
	struct sockdiag_unix d;
	int r = sockdiag_unix_query(ps->link.inode, &d);
	if (r < 0)
		return r;
	if (d.state == 10 /* TCP_LISTEN */) {
		sockdiag_unix_release(&d);
		return 0;  /* accept(): no peer yet */
	}
	if (d.peer_inode) {
		ps->peer = PROCSTATE_PEER_UNIX;
		holders_of(root, ps, tab, FDLINK_SOCKET, d.peer_inode, -1);
		sockdiag_unix_release(&d);
		return 0;
	}
	bool connected = d.has_peer && d.state == 1 /* TCP_ESTABLISHED */;
	sockdiag_unix_release(&d);
	if (!connected)
		return 0;
	/* A connection not yet accepted: its peer is the embryo socket
	 * queued on the listener, which has no inode of its own
	 * (net/unix/diag.c); the listener lists our inode in its icons. */
	struct sockdiag_unix_list l = { 0 };
	r = sockdiag_unix_dump(1u << 10, &l);
	ps->peer = PROCSTATE_PEER_UNIX_GONE;
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		for (size_t k = 0; k < l.items[i].nicons; k++) {
			if (l.items[i].icons[k] != ps->link.inode)
				continue;
			ps->peer = PROCSTATE_PEER_UNIX_QUEUED;
			ps->listener = xstrdup(l.items[i].name);
			holders_of(root, ps, tab, FDLINK_SOCKET,
				   l.items[i].inode, -1);
			break;
		}
	}
	sockdiag_unix_list_release(&l);
	return r;
}

/* The listening socket of the table that a connection to addr:port not yet
 * accepted waits in: same port, same address or a wildcard one. */
static const struct netsock_inet *
find_listener(const struct netsock_inet *v, size_t n, int family,
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
	const struct netsock_inet *me = &ps->inet;
	if (me->state != 1 /* TCP_ESTABLISHED */)
		return;
	char *buf;
	size_t len;
	if (procfs_read(root, ps->pid, me->family == AF_INET6 ? "net/tcp6" : "net/tcp",
			&buf, &len) < 0)
		return;
	struct netsock_inet *v;
	size_t n;
	size_t alen = me->family == AF_INET6 ? 16 : 4;
	if (netsock_inet_parse(buf, len, me->family, me->proto, &v, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (v[i].local_port != me->remote_port ||
			    v[i].remote_port != me->local_port ||
			    memcmp(v[i].local, me->remote, alen) != 0 ||
			    memcmp(v[i].remote, me->local, alen) != 0)
				continue;
			if (v[i].inode) {
				ps->peer = PROCSTATE_PEER_INET;
				holders_of(root, ps, tab, FDLINK_SOCKET, v[i].inode, -1);
				break;
			}
			/* the other end has no inode until accept() gives
			 * it a file: it is queued on a listener */
			const struct netsock_inet *l =
				find_listener(v, n, me->family, me->remote, me->remote_port);
			if (!l)
				break;
			ps->peer = PROCSTATE_PEER_INET_QUEUED;
			ps->listener = netsock_inet_addr(l->family, l->local, l->local_port);
			holders_of(root, ps, tab, FDLINK_SOCKET, l->inode, -1);
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
	if (ps->link.kind == FDLINK_PIPE) {
		ps->peer = PROCSTATE_PEER_PIPE;
		holders_of(root, ps, tab, FDLINK_PIPE, ps->link.inode,
			   ps->fd_write_side ? O_RDONLY : O_WRONLY);
		return 0;
	}
	if (ps->sock == PROCSTATE_SOCK_UNIX)
		return resolve_unix(root, ps, tab);
	resolve_tcp(root, ps, tab);
	return 0;
}

/* ---- describe ------------------------------------------------------------ */

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
		if (ps->ux.flags & NETSOCK_UNIX_LISTENING)
			sb_printf(b, " (listening)");
		return;
	}
	if (ps->sock == PROCSTATE_SOCK_INET) {
		const struct netsock_inet *s = &ps->inet;
		char *l = netsock_inet_addr(s->family, s->local, s->local_port);
		const char *proto = s->proto == NETSOCK_TCP ? "TCP" : "UDP";
		if (s->proto == NETSOCK_TCP && s->state == 10)
			sb_printf(b, "%s %s (listening)", proto, l);
		else if (s->remote_port) {
			char *r = netsock_inet_addr(s->family, s->remote, s->remote_port);
			sb_printf(b, "%s %s <- %s", proto, l, r);
			if (s->proto == NETSOCK_TCP && s->state != 1)
				sb_printf(b, " (%s)", netsock_tcp_state_name(s->state));
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
	const struct fdlink *l = &ps->link;
	switch (l->kind) {
	case FDLINK_PATH:
		sb_printf(b, " on %s", l->name);
		break;
	case FDLINK_PIPE:
		sb_printf(b, " on pipe");
		break;
	case FDLINK_SOCKET:
		sb_printf(b, " on ");
		sb_socket(b, ps);
		break;
	case FDLINK_ANON:
		sb_printf(b, " on %s", l->name);
		break;
	case FDLINK_OTHER:
		sb_printf(b, " on %s", l->name);
		break;
	case FDLINK_UNKNOWN:
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
	case SYSCALL_WAIT_FD:
		sb_printf(b, "%s(fd %d)", name, ps->fd);
		sb_fd_target(b, ps);
		break;
	case SYSCALL_WAIT_POLL:
		if (ps->sc.nr == SYS_poll || ps->sc.nr == SYS_ppoll)
			sb_printf(b, "%s on %" PRId64 " fds", name, ps->nfds);
		else
			sb_printf(b, "%s on fds < %" PRId64, name, ps->nfds);
		break;
	case SYSCALL_WAIT_EPOLL:
		sb_printf(b, "%s(fd %d)", name, ps->fd);
		if (ps->nfds >= 0)
			sb_printf(b, " on %" PRId64 " fds", ps->nfds);
		break;
	case SYSCALL_WAIT_CHILD:
		if (ps->wait_pid > 0)
			sb_printf(b, "%s (child ", name);
		else if (ps->nrefs == 0)
			sb_printf(b, "%s (no children", name);
		else
			sb_printf(b, "%s (%s ", name, ps->nrefs == 1 ? "child" : "children");
		sb_refs(b, ps);
		sb_printf(b, ")");
		break;
	case SYSCALL_WAIT_FUTEX:
		sb_printf(b, "futex wait (a lock or condition)");
		break;
	case SYSCALL_WAIT_SLEEP:
		sb_printf(b, "sleeping (%s)", name);
		break;
	case SYSCALL_WAIT_SIGNAL:
		sb_printf(b, "waiting for a signal (%s)", name);
		break;
	case SYSCALL_WAIT_OTHER:
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
	else if (ps->state == 'R' || ps->sc.kind == SYSCALL_RUNNING)
		sb_printf(&b, "running");
	else if (ps->sc.kind == SYSCALL_IN)
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
	fdlink_release(&ps->link);
	free(ps->ux.path);
	free(ps->refs);
	free(ps->listener);
	ps->wchan = NULL;
	ps->ux.path = NULL;
	ps->refs = NULL;
	ps->nrefs = 0;
	ps->listener = NULL;
}
