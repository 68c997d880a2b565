/* procevents.c - fork, exec and exit events from the netlink proc connector */
#include "collectors/procevents.h"

#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stddef.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int send_op(int fd, enum proc_cn_mcast_op op)
{
	union {
		struct nlmsghdr nl;
		char bytes[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(op))];
	} msg;
	memset(&msg, 0, sizeof(msg));
	struct cn_msg *cn = NLMSG_DATA(&msg.nl);
	msg.nl.nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + sizeof(op));
	msg.nl.nlmsg_type = NLMSG_DONE;
	msg.nl.nlmsg_pid = (uint32_t)getpid();
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	ssize_t n = send(fd, &msg, msg.nl.nlmsg_len, 0);
	return n == (ssize_t)msg.nl.nlmsg_len ? 0 : -errno;
}

/* The kernel answers LISTEN with a PROC_EVENT_NONE message whose ack.err
 * says whether it was allowed (send() succeeds either way). */
static int read_ack(int fd)
{
	char buf[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct pollfd p = { fd, POLLIN, 0 };
	for (int tries = 0; tries < 10; tries++) {
		if (poll(&p, 1, 50) <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		const size_t at = NLMSG_HDRLEN + sizeof(struct cn_msg);
		if (n < (ssize_t)(at + offsetof(struct proc_event, event_data) + 4))
			continue;
		struct proc_event ev;
		memset(&ev, 0, sizeof(ev));
		memcpy(&ev, buf + at, (size_t)n - at < sizeof(ev) ? (size_t)n - at : sizeof(ev));
		if (ev.what == PROC_EVENT_NONE)
			return ev.event_data.ack.err ? -(int)ev.event_data.ack.err : 0;
	}
	return 0;  /* no ack: an older kernel; events will tell */
}

int procevents_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			NETLINK_CONNECTOR);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC,
				  .nl_pid = 0 };
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	if (r == 0) {
		int big = 4 << 20;  /* room for bursts of forks between reads */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
		r = send_op(fd, PROC_CN_MCAST_LISTEN);
	}
	if (r == 0)
		r = read_ack(fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

void procevents_close(int fd)
{
	if (fd < 0)
		return;
	send_op(fd, PROC_CN_MCAST_IGNORE);
	close(fd);
}

/* Decode one proc_event; returns 1 if it is an event we report. */
static int decode(const struct proc_event *ev, struct procev *o)
{
	memset(o, 0, sizeof(*o));
	o->timestamp_ns = ev->timestamp_ns;
	o->exit_code = o->exit_signal = -1;
	switch (ev->what) {
	case PROC_EVENT_FORK:
		if (ev->event_data.fork.child_pid != ev->event_data.fork.child_tgid)
			return 0;  /* a new thread */
		o->kind = PROCEV_FORK;
		o->pid = ev->event_data.fork.child_tgid;
		o->ppid = ev->event_data.fork.parent_tgid;
		return 1;
	case PROC_EVENT_EXEC:
		o->kind = PROCEV_EXEC;
		o->pid = ev->event_data.exec.process_tgid;
		return 1;
	case PROC_EVENT_EXIT:
		if (ev->event_data.exit.process_pid != ev->event_data.exit.process_tgid)
			return 0;  /* a thread */
		o->kind = PROCEV_EXIT;
		o->pid = ev->event_data.exit.process_tgid;
		/* exit_code is a wait(2) status: signal in the low 7 bits */
		unsigned st = ev->event_data.exit.exit_code;
		if (st & 0x7f)
			o->exit_signal = (int)(st & 0x7f);
		else
			o->exit_code = (int)(st >> 8 & 0xff);
		return 1;
	default:
		return 0;
	}
}

/* Decode the proc_event inside one netlink message of plen payload bytes. */
static int decode_message(const char *payload, size_t plen, struct procev *o)
{
	struct cn_msg cn;
	if (plen < sizeof(cn))
		return -EINVAL;
	memcpy(&cn, payload, sizeof(cn));
	if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC)
		return 0;
	if (cn.len > plen - sizeof(cn) ||
	    cn.len < offsetof(struct proc_event, event_data))
		return 0;  /* an ack, or a message of another shape */
	struct proc_event ev;
	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, payload + sizeof(cn), cn.len < sizeof(ev) ? cn.len : sizeof(ev));
	return decode(&ev, o);
}

int procevents_parse(const void *buf, size_t len, struct procev *out, size_t max)
{
	const char *p = buf;
	size_t off = 0;
	int n = 0;
	/* walk by hand: NLMSG_NEXT's int arithmetic breaks on short tails */
	while (len - off >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr nl;
		memcpy(&nl, p + off, sizeof(nl));
		if (nl.nlmsg_len < sizeof(nl) || nl.nlmsg_len > len - off)
			return n ? n : -EINVAL;
		if (nl.nlmsg_type != NLMSG_ERROR && nl.nlmsg_type != NLMSG_NOOP &&
		    (size_t)n < max) {
			int r = decode_message(p + off + NLMSG_HDRLEN,
					       nl.nlmsg_len - NLMSG_HDRLEN, &out[n]);
			if (r < 0)
				return n ? n : r;
			n += r;
		}
		size_t step = NLMSG_ALIGN(nl.nlmsg_len);
		if (step > len - off)
			break;
		off += step;
	}
	return n;
}

int procevents_read(int fd, struct procev *out, size_t max)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int total = 0;
	while ((size_t)total < max) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0)
			return -errno;
		int n = procevents_parse(buf, (size_t)r, out + total, max - (size_t)total);
		if (n > 0)
			total += n;
	}
	return total;
}
