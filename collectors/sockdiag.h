/* sockdiag.h - unix sockets through NETLINK_SOCK_DIAG (what `ss -xp` uses) */
#ifndef COWPROF_COLLECTORS_SOCKDIAG_H
#define COWPROF_COLLECTORS_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One unix socket as unix_diag describes it. */
struct sockdiag_unix {
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

struct sockdiag_unix_list {
	struct sockdiag_unix *items;
	size_t n, cap;
};

/* Parse one datagram of SOCK_DIAG_BY_FAMILY replies for AF_UNIX, appending
 * each socket to list (which the caller zeroes first and releases with
 * sockdiag_unix_list_release). *done is set when the datagram holds
 * NLMSG_DONE or an error. Returns 0, the negative errno of an NLMSG_ERROR
 * reply (-ENOENT: no socket has that inode), or -EINVAL if malformed. */
int sockdiag_unix_parse(const void *buf, size_t len,
			struct sockdiag_unix_list *list, bool *done);
void sockdiag_unix_list_release(struct sockdiag_unix_list *list);
void sockdiag_unix_release(struct sockdiag_unix *d);

/* Ask the kernel about the unix socket with this inode, in cowprof's network
 * namespace, with its name, peer, queued connections and queue lengths.
 * Fills *out (release with sockdiag_unix_release). Returns 0, -ENOENT if
 * there is no such socket, or -errno (-EPROTONOSUPPORT without
 * CONFIG_UNIX_DIAG). */
int sockdiag_unix_query(uint64_t inode, struct sockdiag_unix *out);

/* Dump every unix socket whose state bit (1 << TCP_*) is in states_mask,
 * with the same attributes, into list (zeroed by the caller). Returns 0 or
 * -errno. */
int sockdiag_unix_dump(uint32_t states_mask, struct sockdiag_unix_list *list);

#endif
