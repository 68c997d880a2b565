/* pystack.c - print the Python frames of every thread of a CPython 3.11
 * process, innermost first, read from outside with process_vm_readv.
 *
 *   pystack PID [TID]
 *
 * Output: "thread TID" then one "  QUALNAME FILE:LINE" line per frame, for
 * each thread that has a Python thread state. Exit 1 with a one-line reason
 * when the process runs no CPython 3.11 we can read. */
#include "../../collectors/pyframe.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES 256

static int print_thread(const struct pyframe_layout *l, pid_t pid, pid_t tid)
{
	struct pyframe f[MAX_FRAMES];
	char name[256], file[1024];
	uint64_t ts = pyframe_thread_state(l, pyframe_read_pid, &pid, tid);
	int n;

	if (!ts)
		return 0;
	n = pyframe_walk(l, pyframe_read_pid, &pid, ts, f, MAX_FRAMES);
	printf("thread %d\n", (int)tid);
	if (n < 0) {
		printf("  (frame chain unreadable)\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (pyframe_code_names(l, pyframe_read_pid, &pid, f[i].code,
				       name, sizeof(name), file,
				       sizeof(file)) < 0)
			printf("  ? (code 0x%llx) ?:%d\n",
			       (unsigned long long)f[i].code, f[i].line);
		else
			printf("  %s %s:%d\n", name, file, f[i].line);
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct pyframe_layout l;
	char why[512], path[64];
	pid_t pid;
	int r, shown = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: pystack PID [TID]\n");
		return 2;
	}
	pid = atoi(argv[1]);
	r = pyframe_layout_find(NULL, pid, &l, why, sizeof(why));
	if (r < 0) {
		printf("pystack: pid %d: %s\n", (int)pid, why);
		return 1;
	}
	if (argc == 3) {
		shown = print_thread(&l, pid, atoi(argv[2]));
	} else {
		snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
		DIR *d = opendir(path);
		struct dirent *e;
		if (!d) {
			printf("pystack: pid %d: %s\n", (int)pid, strerror(errno));
			return 1;
		}
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				shown += print_thread(&l, pid, atoi(e->d_name));
		closedir(d);
	}
	if (!shown) {
		printf("pystack: pid %d: no thread with a Python thread state\n",
		       (int)pid);
		return 1;
	}
	return 0;
}
