/* sockdiag.c - unix sockets through NETLINK_SOCK_DIAG (what `ss -xp` uses) */
#include "collectors/sockdiag.h"
#include "collectors/textscan.h"
#include "common/util.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void unix_diag_attrs(const uint8_t *a, size_t len,
			    struct sockdiag_unix *d)
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
				d->name = textscan_strndup((const char *)data,
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

int sockdiag_unix_parse(const void *buf, size_t len,
			struct sockdiag_unix_list *list, bool *done)
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
			struct sockdiag_unix *d = &list->items[list->n++];
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

void sockdiag_unix_release(struct sockdiag_unix *d)
{
	free(d->icons);
	free(d->name);
	d->icons = NULL;
	d->name = NULL;
}

void sockdiag_unix_list_release(struct sockdiag_unix_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		sockdiag_unix_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

/* Send one unix_diag request and parse the replies into list. */
static int unix_diag_request(uint32_t states, uint32_t ino, bool dump,
			     struct sockdiag_unix_list *list)
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
		r = sockdiag_unix_parse(buf, (size_t)n, list, &done);
		if (r < 0 || done || !dump)
			break;
	}
	free(buf);
out:
	close(fd);
	return r;
}

int sockdiag_unix_query(uint64_t inode, struct sockdiag_unix *out)
{
	memset(out, 0, sizeof(*out));
	if (inode == 0 || inode > UINT32_MAX)
		return -ENOENT;  /* udiag_ino is 32 bits */
	struct sockdiag_unix_list l = { 0 };
	int r = unix_diag_request(~0u, (uint32_t)inode, false, &l);
	if (r == 0 && l.n == 0)
		r = -ENOENT;
	if (r == 0) {
		*out = l.items[0];
		l.items[0].icons = NULL;
		l.items[0].name = NULL;
	}
	sockdiag_unix_list_release(&l);
	return r;
}

int sockdiag_unix_dump(uint32_t states_mask, struct sockdiag_unix_list *list)
{
	return unix_diag_request(states_mask, 0, true, list);
}

