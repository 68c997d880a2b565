/* preloadenv.c - set up fault attribution for `cowprof run` */
#include "faults/preloadenv.h"
#include "common/format.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define LIB_NAME "libcowprof_preload.so"
#define PRELOAD_RING_SLOTS "65536"

static char *exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	char *slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	return xstrdup(buf);
}

static char *find_lib(void)
{
	const char *env = getenv("COWPROF_PRELOAD_LIB");
	if (env && *env)
		return access(env, R_OK) == 0 ? realpath(env, NULL) : NULL;
	char *dir = exe_dir(), *path = NULL;
	static const char *const rel[] = { "/" LIB_NAME, "/../lib/cowprof/" LIB_NAME };
	for (size_t i = 0; dir && !path && i < 2; i++) {
		char *p = NULL;
		p = xasprintf("%s%s", dir, rel[i]);
		if (access(p, R_OK) == 0)
			path = realpath(p, NULL);
		free(p);
	}
	free(dir);
	return path;
}

/* Remove a spool folder and the ring files in it. */
static void remove_spool(const char *spool)
{
	DIR *d = opendir(spool);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	rmdir(spool);
}

/* A `run` killed with SIGKILL leaves its spool (cowprof-spool-PID-XXXXXX,
 * ring files of up to 64 MiB apparent size each): remove those of ours
 * whose cowprof is gone. */
static void remove_stale_spools(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		int pid;
		char rest[16];
		struct stat st;
		if (sscanf(de->d_name, "cowprof-spool-%d-%15s", &pid, rest) != 2 ||
		    pid <= 0 || pid == getpid() ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
		    kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		char *path = xasprintf("%s/%s", tmp, de->d_name);
		remove_spool(path);
		free(path);
	}
	if (d)
		closedir(d);
}

/* Where the spool goes: COWPROF_SPOOL_DIR, else /dev/shm when it is a
 * tmpfs this process can write, else TMPDIR or /tmp. Memory-backed is
 * what a fork storm needs: on a disk file system, truncating each exited
 * process's ring file (page cache of up to 64 MiB, sparse) took most of
 * the recorder's time (at 300 forks a second: 4 samples in 10 s at
 * -i 0.05 on ext4, 106 on tmpfs). */
static const char *spool_base(void)
{
	const char *dir = getenv("COWPROF_SPOOL_DIR");
	if (dir && *dir)
		return dir;
	struct statfs fs;
	if (statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC &&
	    access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	dir = getenv("TMPDIR");
	return dir && *dir ? dir : "/tmp";
}

int preloadenv_init(struct preloadenv *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->lib = find_lib();
	if (!p->lib)
		return format_error(err, errlen, -ENOENT, LIB_NAME " not found beside "
				    "cowprof or in its ../lib/cowprof/ (set "
				    "COWPROF_PRELOAD_LIB, or use --no-faults)");
	const char *tmp = spool_base();
	remove_stale_spools(tmp);
	p->spool = xasprintf("%s/cowprof-spool-%d-XXXXXX", tmp, (int)getpid());
	if (!mkdtemp(p->spool)) {
		int e = -errno;
		format_error(err, errlen, e, "cannot make a spool folder %s: %s",
			     p->spool, strerror(-e));
		preloadenv_release(p);
		return e;
	}
	return 0;
}

int preloadenv_child_env(const struct preloadenv *p)
{
	const char *old = getenv("LD_PRELOAD");
	char *v = NULL;
	if (asprintf(&v, "%s%s%s", p->lib, old && *old ? ":" : "", old ? old : "") < 0)
		return -ENOMEM;
	/* 65536 one-KiB slots: a gunicorn worker's read pass over a big dict
	 * copies ~25,000 pages in a second while a niced recorder competes
	 * with busy workers for the CPU; the file is sparse, so only slots
	 * used cost memory */
	int r = setenv("LD_PRELOAD", v, 1) == 0 &&
		setenv("COWPROF_SPOOL", p->spool, 1) == 0 &&
		setenv("COWPROF_RING_SLOTS", PRELOAD_RING_SLOTS, 0) == 0 ? 0 : -errno;
	free(v);
	return r;
}

void preloadenv_release(struct preloadenv *p)
{
	if (p->spool)
		remove_spool(p->spool);
	free(p->lib);
	free(p->spool);
	memset(p, 0, sizeof(*p));
}
