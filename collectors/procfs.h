/* procfs.h - open and read files of /proc/PID relative to a proc root */
#ifndef COWPROF_COLLECTORS_PROCFS_H
#define COWPROF_COLLECTORS_PROCFS_H

#include <stddef.h>

/* The proc root used when callers pass NULL. Tests pass a fixture folder
 * laid out like /proc (tests/fixtures/proc/<case>). */
#define PROCFS_DEFAULT_ROOT "/proc"

/* Read root/PID/name whole (NUL-terminated, caller frees *buf). pid <= 0
 * reads root/name. Returns 0, -ESRCH when the process is gone (its folder
 * vanished), -EACCES/-EPERM when not allowed, or another -errno. */
int procfs_read(const char *root, int pid, const char *name, char **buf,
		size_t *len);

/* open(2) root/PID/name with flags | O_CLOEXEC. Returns an fd or -errno,
 * -ESRCH when the process is gone. */
int procfs_open(const char *root, int pid, const char *name, int flags);

/* Whether root/PID exists (a live process, or a fixture folder). */
int procfs_exists(const char *root, int pid);

#endif
