/* proctree.c - find every descendant of a process, with its stat facts */
#include "collectors/proctree.h"
#include "collectors/procfs.h"
#include "common/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse the next space-separated decimal field at *p (a leading '-' gives
 * its two's complement, as the kernel prints negative fields). */
static int next_u64(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	while (s < end && *s == ' ')
		s++;
	bool neg = s < end && *s == '-';
	if (neg)
		s++;
	if (s >= end || !isdigit((unsigned char)*s))
		return -EINVAL;
	uint64_t x = 0;
	while (s < end && isdigit((unsigned char)*s)) {
		unsigned d = (unsigned)(*s++ - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
	}
	*v = neg ? 0 - x : x;
	*p = s;
	return 0;
}

int proctree_stat_parse(const char *text, size_t len, struct proc_stat *st)
{
	const char *end = text + len;
	const char *open = memchr(text, '(', len);
	const char *close = NULL;
	for (const char *c = end; c > text; c--)
		if (c[-1] == ')') {
			close = c - 1;
			break;
		}
	if (!open || !close || close < open)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	const char *p0 = text;
	uint64_t pid;
	if (next_u64(&p0, open, &pid) < 0 || pid == 0 || pid > INT32_MAX)
		return -EINVAL;
	st->pid = (int)pid;
	size_t clen = (size_t)(close - open - 1);
	if (clen >= sizeof(st->comm))
		clen = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, clen);
	st->comm[clen] = '\0';

	const char *p = close + 1;
	while (p < end && *p == ' ')
		p++;
	if (p >= end)
		return -EINVAL;
	st->state = *p++;
	/* fields 4.. (ppid onwards) */
	uint64_t f[22];
	int n = 0;
	while (n < 22 && next_u64(&p, end, &f[n]) == 0)
		n++;
	if (n < 21)
		return -EINVAL;
	st->ppid = (int)f[0];
	st->flags = (unsigned)f[5];
	st->utime_ticks = f[10];
	st->stime_ticks = f[11];
	st->num_threads = (long)f[16];
	st->start_ticks = f[18];
	st->vsize_bytes = f[19];
	st->rss_pages = (int64_t)f[20];
	return 0;
}

char *proctree_cmdline_parse(const char *buf, size_t len)
{
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	char *s = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		s[i] = buf[i] == '\0' ? ' ' : buf[i];
	s[len] = '\0';
	return s;
}

int proctree_read_stat(const char *root, int pid, struct proc_stat *st)
{
	char *buf;
	size_t len;
	int r = procfs_read(root, pid, "stat", &buf, &len);
	if (r < 0)
		return r;
	r = proctree_stat_parse(buf, len, st);
	free(buf);
	return r;
}

static char *read_cmd(const char *root, int pid, const struct proc_stat *st)
{
	char *buf, *cmd = NULL;
	size_t len;
	if (procfs_read(root, pid, "cmdline", &buf, &len) == 0) {
		cmd = proctree_cmdline_parse(buf, len);
		free(buf);
	}
	if (!cmd || !*cmd) {
		free(cmd);
		size_t n = strlen(st->comm) + 3;
		cmd = xmalloc(n);
		snprintf(cmd, n, "[%s]", st->comm);
	}
	return cmd;
}

/* Append pid as a child of nodes[parent]; 0, or -ESRCH if it is gone. */
static int add_node(const char *root, struct proctree *t, int pid, int parent)
{
	struct proc_stat st;
	int r = proctree_read_stat(root, pid, &st);
	if (r < 0)
		return r;
	/* a pid reused by an unrelated process between listing and reading */
	if (parent >= 0 && st.ppid != t->nodes[parent].pid)
		return -ESRCH;
	util_grow((void **)&t->nodes, &t->cap, t->n + 1, sizeof(*t->nodes));
	struct proctree_node *nd = &t->nodes[t->n++];
	nd->pid = pid;
	nd->ppid = st.ppid;
	nd->parent = parent;
	nd->depth = parent >= 0 ? t->nodes[parent].depth + 1 : 0;
	nd->stat = st;
	nd->cmd = read_cmd(root, pid, &st);
	return 0;
}

struct pidlist {
	int *pid;
	size_t n, cap;
};

static void pidlist_add(struct pidlist *l, int pid)
{
	util_grow((void **)&l->pid, &l->cap, l->n + 1, sizeof(int));
	l->pid[l->n++] = pid;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static void parse_pids(const char *buf, struct pidlist *out)
{
	const char *p = buf;
	while (*p) {
		char *e;
		long v = strtol(p, &e, 10);
		if (e == p)
			break;
		if (v > 0 && v <= INT32_MAX)
			pidlist_add(out, (int)v);
		p = e;
	}
}

/* Children of pid from task/TID/children of every thread. Returns 0, or
 * -ENOTSUP when the kernel has no children files (or the root is a fixture
 * folder without them). */
static int children_from_tasks(const char *root, int pid, struct pidlist *out)
{
	char *taskdir = NULL;
	taskdir = xasprintf("%s/%d/task", root ? root : PROCFS_DEFAULT_ROOT,
		     pid);
	DIR *d = opendir(taskdir);
	free(taskdir);
	if (!d && errno == ENOENT && procfs_exists(root, pid))
		return -ENOTSUP;  /* a fixture folder without task/ */
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	int r = 0, seen = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		char name[300];
		snprintf(name, sizeof(name), "task/%s/children", de->d_name);
		char *buf;
		size_t len;
		int e = procfs_read(root, pid, name, &buf, &len);
		if (e == 0) {
			parse_pids(buf, out);
			free(buf);
			seen++;
		}
	}
	closedir(d);
	if (!seen)
		r = -ENOTSUP;
	if (out->n)
		qsort(out->pid, out->n, sizeof(int), cmp_int);
	return r;
}

/* Every pid under root with its ppid, for the scan fallback. */
static void scan_all(const char *root, struct pidlist *pids,
		     struct pidlist *ppids)
{
	DIR *d = opendir(root ? root : PROCFS_DEFAULT_ROOT);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *e;
		long v = strtol(de->d_name, &e, 10);
		if (*e || v <= 0 || v > INT32_MAX)
			continue;
		struct proc_stat st;
		if (proctree_read_stat(root, (int)v, &st) < 0)
			continue;
		pidlist_add(pids, (int)v);
		pidlist_add(ppids, st.ppid);
	}
	closedir(d);
}

static void add_children(const char *root, struct proctree *t, size_t i,
			 const struct pidlist *kids)
{
	for (size_t k = 0; k < kids->n; k++)
		add_node(root, t, kids->pid[k], (int)i);
}

int proctree_scan(const char *root, int root_pid, struct proctree *t)
{
	memset(t, 0, sizeof(*t));
	int r = add_node(root, t, root_pid, -1);
	if (r < 0)
		return r;
	struct pidlist all = {0}, allpp = {0};
	bool scanned = false;
	for (size_t i = 0; i < t->n; i++) {
		struct pidlist kids = {0};
		r = scanned ? -ENOTSUP : children_from_tasks(root, t->nodes[i].pid, &kids);
		if (r == -ENOTSUP) {
			if (!scanned)
				scan_all(root, &all, &allpp);
			scanned = true;
			kids.n = 0;
			for (size_t k = 0; k < all.n; k++)
				if (allpp.pid[k] == t->nodes[i].pid)
					pidlist_add(&kids, all.pid[k]);
			if (kids.n)
				qsort(kids.pid, kids.n, sizeof(int), cmp_int);
		}
		add_children(root, t, i, &kids);
		free(kids.pid);
	}
	free(all.pid);
	free(allpp.pid);
	return 0;
}

void proctree_release(struct proctree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->nodes[i].cmd);
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}
