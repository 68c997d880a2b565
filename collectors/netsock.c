/* netsock.c - the socket tables of /proc/PID/net: unix, tcp, tcp6, udp, udp6 */
#include "collectors/netsock.h"
#include "collectors/textscan.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
		if (textscan_skip_blank(p, le) != le) {
			int r = fn(p, le, arg);
			if (r < 0)
				return r;
		}
		p = le + 1;
	}
	return 0;
}

struct unix_acc {
	struct netsock_unix *v;
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
		if (textscan_u64(&p, end, i < 5 ? 16 : 10, &f[i]) < 0)
			return -EINVAL;
	const char *path = textscan_skip_blank(p, end);
	if (path != end && path == p)
		return -EINVAL;
	util_grow((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v));
	struct netsock_unix *s = &a->v[a->n++];
	s->flags = (unsigned)f[2];
	s->type = (int)(f[3] & 0xffff);
	s->state = (int)(f[4] & 0xff);
	s->inode = f[5];
	s->path = textscan_strndup(path, (size_t)(end - path));
	return 0;
}

int netsock_unix_parse(const char *text, size_t len,
		       struct netsock_unix **out, size_t *n)
{
	struct unix_acc a = { 0 };
	int r = each_line(text, len, unix_line, &a);
	if (r < 0) {
		netsock_unix_free(a.v, a.n);
		return r;
	}
	*out = a.v;
	*n = a.n;
	return 0;
}

void netsock_unix_free(struct netsock_unix *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		free(s[i].path);
	free(s);
}

struct inet_acc {
	struct netsock_inet *v;
	size_t n, cap;
	int family;
	enum netsock_proto proto;
};

/* "ADDR:PORT": the address is the __be32 words printed with %08X as native
 * integers (net/ipv4/tcp_ipv4.c, net/ipv6/tcp_ipv6.c), so storing each word
 * back in host order gives the bytes in network order. */
static int inet_addr_field(const char **pp, const char *end, int family,
			   uint8_t *addr, uint16_t *port)
{
	const char *p = textscan_skip_blank(*pp, end);
	int words = family == AF_INET6 ? 4 : 1;
	for (int w = 0; w < words; w++) {
		if (end - p < 8)
			return -EINVAL;
		uint64_t v;
		const char *q = p;
		if (textscan_u64(&q, p + 8, 16, &v) < 0 || q != p + 8)
			return -EINVAL;
		uint32_t word = (uint32_t)v;
		memcpy(addr + 4 * w, &word, 4);
		p += 8;
	}
	if (p >= end || *p != ':')
		return -EINVAL;
	p++;
	uint64_t pt;
	if (textscan_u64(&p, end, 16, &pt) < 0 || pt > 0xffff)
		return -EINVAL;
	*port = (uint16_t)pt;
	*pp = p;
	return 0;
}

/* "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ..." */
static int inet_line(const char *p, const char *end, void *arg)
{
	struct inet_acc *a = arg;
	struct netsock_inet s = { .family = a->family, .proto = a->proto };
	const char *colon = memchr(p, ':', (size_t)(end - p));
	if (!colon)
		return -EINVAL;
	p = colon + 1;
	uint64_t v;
	if (inet_addr_field(&p, end, a->family, s.local, &s.local_port) < 0
	    || inet_addr_field(&p, end, a->family, s.remote, &s.remote_port) < 0
	    || textscan_u64(&p, end, 16, &v) < 0)
		return -EINVAL;
	s.state = (int)(v & 0xff);
	/* tx_queue:rx_queue tr:tm->when */
	for (int i = 0; i < 2; i++) {
		if (textscan_u64(&p, end, 16, &v) < 0 || p >= end || *p++ != ':'
		    || textscan_u64(&p, end, 16, &v) < 0)
			return -EINVAL;
	}
	/* retrnsmt uid timeout inode */
	if (textscan_u64(&p, end, 16, &v) < 0 || textscan_u64(&p, end, 10, &v) < 0
	    || textscan_u64(&p, end, 10, &v) < 0 || textscan_u64(&p, end, 10, &v) < 0)
		return -EINVAL;
	s.inode = v;
	util_grow((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v));
	a->v[a->n++] = s;
	return 0;
}

int netsock_inet_parse(const char *text, size_t len, int family,
		       enum netsock_proto proto,
		       struct netsock_inet **out, size_t *n)
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

char *netsock_inet_addr(int family, const uint8_t *addr, uint16_t port)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	inet_ntop(family, addr, ip, sizeof(ip));
	char *s = NULL;
	s = xasprintf(family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
	return s;
}

const char *netsock_tcp_state_name(int state)
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
