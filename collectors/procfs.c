/* procfs.c - open and read files of /proc/PID relative to a proc root */
#include "collectors/procfs.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *path_of(const char *root, int pid, const char *name)
{
	if (!root)
		root = PROCFS_DEFAULT_ROOT;
	return pid > 0 ? xasprintf("%s/%d/%s", root, pid, name)
		       : xasprintf("%s/%s", root, name);
}

/* A file of a vanished process reads as ENOENT (folder gone) or ESRCH (mm
 * gone while we read): both mean the same thing to callers. */
static int normalize(int err)
{
	return err == -ENOENT ? -ESRCH : err;
}

int procfs_read(const char *root, int pid, const char *name, char **buf,
		size_t *len)
{
	char *p = path_of(root, pid, name);
	int r = util_read_file(p, buf, len);
	free(p);
	return pid > 0 ? normalize(r) : r;
}

int procfs_open(const char *root, int pid, const char *name, int flags)
{
	char *p = path_of(root, pid, name);
	int fd = open(p, flags | O_CLOEXEC);
	int r = fd < 0 ? -errno : fd;
	free(p);
	return pid > 0 ? normalize(r) : r;
}

int procfs_exists(const char *root, int pid)
{
	char *p = path_of(root, pid, "");
	struct stat st;
	int r = stat(p, &st) == 0;
	free(p);
	return r;
}
