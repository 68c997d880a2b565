/* netsock.h - the socket tables of /proc/PID/net: unix, tcp, tcp6, udp, udp6 */
#ifndef COWPROF_COLLECTORS_NETSOCK_H
#define COWPROF_COLLECTORS_NETSOCK_H

#include <stddef.h>
#include <stdint.h>

/* One line of /proc/net/unix. */
struct netsock_unix {
	uint64_t inode;          /* 0 for a connection not yet accepted */
	unsigned flags;          /* __SO_ACCEPTCON (0x10000): listening */
	int type;                /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	int state;               /* SS_UNCONNECTED 1, SS_CONNECTING 2, SS_CONNECTED 3 ... */
	char *path;              /* owned; "" if unbound; abstract names start with '@' */
};

#define NETSOCK_UNIX_LISTENING 0x10000u

/* Parse /proc/net/unix into a new array (*out, free with netsock_unix_free)
 * of *n sockets. Returns 0 or -EINVAL. */
int netsock_unix_parse(const char *text, size_t len,
		       struct netsock_unix **out, size_t *n);
void netsock_unix_free(struct netsock_unix *s, size_t n);

enum netsock_proto { NETSOCK_TCP, NETSOCK_UDP };

/* One line of /proc/net/{tcp,tcp6,udp,udp6}. */
struct netsock_inet {
	uint64_t inode;
	int family;              /* AF_INET or AF_INET6 */
	enum netsock_proto proto;
	uint8_t local[16], remote[16];  /* network byte order; 4 bytes for AF_INET */
	uint16_t local_port, remote_port;
	int state;               /* the kernel's TCP_* (1 ESTABLISHED, 10 LISTEN, 7 CLOSE) */
};

/* Parse /proc/net/tcp (family AF_INET, proto NETSOCK_TCP), tcp6, udp or
 * udp6 into a new array the caller frees. Returns 0 or -EINVAL. */
int netsock_inet_parse(const char *text, size_t len, int family,
		       enum netsock_proto proto,
		       struct netsock_inet **out, size_t *n);

/* "127.0.0.1:8000", "[::1]:8000" into a new string the caller frees. */
char *netsock_inet_addr(int family, const uint8_t *addr, uint16_t port);

/* Name of a TCP state: "ESTABLISHED", "LISTEN", ... ("?" when unknown). */
const char *netsock_tcp_state_name(int state);

#endif
