/* fdlink.h - what a file descriptor is: its /proc/PID/fd/N link and fdinfo */
#ifndef COWPROF_COLLECTORS_FDLINK_H
#define COWPROF_COLLECTORS_FDLINK_H

#include <stddef.h>
#include <stdint.h>

enum fdlink_kind {
	FDLINK_UNKNOWN,          /* not read, or unreadable */
	FDLINK_PATH,             /* a path: file, device, tty, directory */
	FDLINK_PIPE,             /* "pipe:[ino]" */
	FDLINK_SOCKET,           /* "socket:[ino]" */
	FDLINK_ANON,             /* "anon_inode:[eventfd]", "anon_inode:inotify" */
	FDLINK_OTHER,            /* another "type:[ino]" ("net:[...]", "pidfd:[...]") */
};

/* The target of a /proc/PID/fd/N link, parsed. */
struct fdlink {
	enum fdlink_kind kind;
	uint64_t inode;          /* pipe, socket and other "type:[ino]" links */
	char *name;              /* owned: the path, the anon inode's name
				  * ("eventpoll"), the other link's type ("net");
				  * "" for pipes and sockets */
};

/* Parse the target of a /proc/PID/fd/N link. Returns 0 or -EINVAL (empty).
 * Release with fdlink_release. */
int fdlink_parse(const char *text, size_t len, struct fdlink *l);
void fdlink_release(struct fdlink *l);

/* Read and parse the link of pid's fd under proc root (NULL for /proc).
 * Returns 0, or -errno / -EINVAL with *l zeroed (kind FDLINK_UNKNOWN, name
 * NULL). Release with fdlink_release. */
int fdlink_read(const char *root, int pid, int fd, struct fdlink *l);

/* The access mode (O_RDONLY, O_WRONLY, O_RDWR) of pid's fd, from its
 * fdinfo's octal "flags:", or -1 if unreadable. */
int fdlink_accmode(const char *root, int pid, int fd);

/* The number of fds the epoll instance that is pid's fd watches: its
 * fdinfo's "tfd:" lines. -1 if unreadable. */
int64_t fdlink_epoll_count(const char *root, int pid, int fd);

#endif
