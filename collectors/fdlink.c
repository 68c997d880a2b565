/* fdlink.c - what a file descriptor is: its /proc/PID/fd/N link and fdinfo */
#include "collectors/fdlink.h"
#include "collectors/procfs.h"
#include "collectors/textscan.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fdlink_parse(const char *text, size_t len, struct fdlink *l)
{
	memset(l, 0, sizeof(*l));
	while (len > 0 && text[len - 1] == '\n')
		len--;
	if (len == 0)
		return -EINVAL;
	if (text[0] == '/') {
		l->kind = FDLINK_PATH;
		l->name = textscan_strndup(text, len);
		return 0;
	}
	const char *colon = memchr(text, ':', len);
	if (colon && len > 11 && memcmp(text, "anon_inode:", 11) == 0) {
		const char *n = text + 11, *e = text + len;
		if (e - n >= 2 && n[0] == '[' && e[-1] == ']') {
			n++;
			e--;
		}
		l->kind = FDLINK_ANON;
		l->name = textscan_strndup(n, (size_t)(e - n));
		return 0;
	}
	/* "type:[inode]" */
	if (colon && (size_t)(colon - text) + 3 < len && colon[1] == '['
	    && text[len - 1] == ']') {
		const char *p = colon + 2, *e = text + len - 1;
		uint64_t ino;
		if (textscan_u64(&p, e, 10, &ino) == 0 && p == e) {
			size_t tlen = (size_t)(colon - text);
			l->inode = ino;
			if (tlen == 4 && memcmp(text, "pipe", 4) == 0) {
				l->kind = FDLINK_PIPE;
				l->name = xstrdup("");
			} else if (tlen == 6 && memcmp(text, "socket", 6) == 0) {
				l->kind = FDLINK_SOCKET;
				l->name = xstrdup("");
			} else {
				l->kind = FDLINK_OTHER;
				l->name = textscan_strndup(text, tlen);
			}
			return 0;
		}
	}
	/* anything else the kernel may show ("/dev/pts/0 (deleted)" starts
	 * with '/'; "pidfd:..." forms without brackets): keep the text */
	l->kind = FDLINK_OTHER;
	l->name = textscan_strndup(text, len);
	return 0;
}

void fdlink_release(struct fdlink *l)
{
	free(l->name);
	l->name = NULL;
}

/* The target of the link root/pid/name into *out (a new string the caller
 * frees). Returns 0 or -errno. */
static int read_link_at(const char *root, int pid, const char *name, char **out)
{
	char *path = NULL;
	path = xasprintf("%s/%d/%s", root ? root : PROCFS_DEFAULT_ROOT, pid, name);
	size_t cap = 128;
	char *buf = NULL;
	int r = 0;
	for (;;) {
		buf = xrealloc(buf, cap);
		ssize_t n = readlink(path, buf, cap);
		if (n < 0) {
			r = -errno;
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
	*out = buf;
	return r;
}

int fdlink_read(const char *root, int pid, int fd, struct fdlink *l)
{
	char name[32];
	snprintf(name, sizeof(name), "fd/%d", fd);
	char *target;
	int r = read_link_at(root, pid, name, &target);
	if (r == 0)
		r = fdlink_parse(target, strlen(target), l);
	if (r < 0)
		memset(l, 0, sizeof(*l));
	free(target);
	return r;
}

/* Read /proc/PID/fdinfo/FD whole. Returns 0 or -errno. */
static int read_fdinfo(const char *root, int pid, int fd, char **buf, size_t *len)
{
	char name[32];
	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	return procfs_read(root, pid, name, buf, len);
}

int fdlink_accmode(const char *root, int pid, int fd)
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
		p = textscan_skip_blank(p, end);
		if (textscan_u64(&p, end, 8, &v) == 0)
			mode = (int)(v & O_ACCMODE);
	}
	free(buf);
	return mode;
}

int64_t fdlink_epoll_count(const char *root, int pid, int fd)
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
