/* procwait.c - print what each given process waits on, as JSON lines
 *
 *   procwait [-r PROCROOT] [-T ROOTPID | -t PID,PID...] [-n RUNS] [-a] PID...
 *
 * For each PID: procstate_read, then (when it waits on a pipe or socket)
 * procstate_resolve_peer against the fd table of the tree (-T: the tree
 * under ROOTPID; -t: the pids listed; neither: the PIDs given), then one
 * JSON object per line with the raw facts and procstate_describe_wait.
 * -n RUNS repeats the whole read RUNS times and prints, on stderr, the best
 * time per run (used by tests/bench). -a prints every thread of each PID
 * (its "tid"), not only the main thread. Exit status 0, 1 when a pid is gone,
 * 2 on a usage error. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collectors/procstate.h"
#include "collectors/proctree.h"
#include "common/util.h"
#include "report/json.h"

static const char *fd_kind_name(enum fdlink_kind k)
{
	static const char *const n[] = { "unknown", "path", "pipe", "socket", "anon", "other" };
	return n[k];
}

static const char *peer_name(enum procstate_peer p)
{
	static const char *const n[] = { "none", "pipe", "unix", "unix_queued",
					 "unix_gone", "inet", "inet_queued", "children" };
	return n[p];
}

static const char *sock_name(const struct procstate *ps)
{
	switch (ps->sock) {
	case PROCSTATE_SOCK_UNIX: return "unix";
	case PROCSTATE_SOCK_INET:
		return ps->inet.proto == NETSOCK_TCP
		       ? (ps->inet.family == 10 ? "tcp6" : "tcp")
		       : (ps->inet.family == 10 ? "udp6" : "udp");
	case PROCSTATE_SOCK_OTHER: return "other";
	default: return NULL;
	}
}

static void print_one(const struct procstate *ps)
{
	struct json j;
	json_init(&j, stdout);
	json_object_begin(&j);
	json_kv_int(&j, "pid", ps->pid);
	json_kv_int(&j, "tid", ps->tid);
	char st[2] = { ps->state, 0 };
	json_kv_string(&j, "state", st);
	json_kv_string(&j, "comm", ps->comm);
	json_kv_uint(&j, "cpu_ticks", ps->cpu_ticks);
	json_key(&j, "exiting");
	json_bool(&j, ps->exiting);
	json_key(&j, "wchan");
	if (ps->wchan)
		json_string(&j, ps->wchan);
	else
		json_null(&j);
	json_key(&j, "syscall");
	if (ps->sc.kind == SYSCALL_IN)
		json_int(&j, ps->sc.nr);
	else
		json_null(&j);
	json_key(&j, "syscall_name");
	if (ps->sc_name)
		json_string(&j, ps->sc_name);
	else
		json_null(&j);
	json_kv_int(&j, "fd", ps->fd);
	json_kv_string(&j, "fd_kind", fd_kind_name(ps->link.kind));
	json_kv_uint(&j, "inode", ps->link.inode);
	json_key(&j, "sock");
	const char *sn = sock_name(ps);
	if (sn)
		json_string(&j, sn);
	else
		json_null(&j);
	json_kv_int(&j, "nfds", ps->nfds);
	json_kv_string(&j, "peer", peer_name(ps->peer));
	json_key(&j, "peer_pids");
	json_array_begin(&j);
	for (size_t i = 0; i < ps->nrefs; i++)
		json_int(&j, ps->refs[i].pid);
	json_array_end(&j);
	json_key(&j, "listener");
	if (ps->listener)
		json_string(&j, ps->listener);
	else
		json_null(&j);
	char *line = procstate_describe_wait(ps);
	json_kv_string(&j, "describe", line);
	free(line);
	json_object_end(&j);
	fputc('\n', stdout);
}

/* One full read of pids: states, then the fd table only if one of them
 * needs it, then the peers. Returns how many pids were gone. */
static int read_all(const char *root, const int *pids, size_t n,
		    const int *tree, size_t ntree, struct procstate *out,
		    bool *scanned)
{
	int gone = 0;
	bool need = false;
	for (size_t i = 0; i < n; i++) {
		if (procstate_read(root, pids[i], &out[i]) < 0) {
			out[i].pid = -pids[i];
			gone++;
			continue;
		}
		need |= procstate_needs_fdtab(&out[i]);
	}
	*scanned = need;
	if (need) {
		struct procstate_fdtab tab = { 0 };
		procstate_fdtab_scan(root, tree, ntree, &tab);
		for (size_t i = 0; i < n; i++)
			if (out[i].pid > 0)
				procstate_resolve_peer(root, &out[i], &tab);
		procstate_fdtab_release(&tab);
	}
	return gone;
}

static int parse_list(const char *s, int **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	while (*s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s || v <= 0)
			return -1;
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = (int)v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *root = NULL;
	int tree_root = 0, runs = 0, opt;
	bool all_threads = false;
	int *tree = NULL;
	size_t ntree = 0;
	while ((opt = getopt(argc, argv, "r:T:t:n:a")) != -1) {
		switch (opt) {
		case 'r': root = optarg; break;
		case 'T': tree_root = atoi(optarg); break;
		case 't':
			if (parse_list(optarg, &tree, &ntree) < 0) {
				fprintf(stderr, "procwait: -t: bad list\n");
				return 2;
			}
			break;
		case 'n': runs = atoi(optarg); break;
		case 'a': all_threads = true; break;
		default:
			fprintf(stderr, "usage: procwait [-r PROCROOT] [-T ROOTPID | -t PID,...] [-n RUNS] [-a] PID...\n");
			return 2;
		}
	}
	size_t n = (size_t)(argc - optind);
	if (n == 0) {
		fprintf(stderr, "usage: procwait [-r PROCROOT] [-T ROOTPID | -t PID,...] [-n RUNS] [-a] PID...\n");
		return 2;
	}
	int *pids = xcalloc(n, sizeof(*pids));
	for (size_t i = 0; i < n; i++)
		pids[i] = atoi(argv[optind + (int)i]);
	if (tree_root > 0) {
		struct proctree t = { 0 };
		if (proctree_scan(root, tree_root, &t) < 0) {
			fprintf(stderr, "procwait: pid %d: no such process\n", tree_root);
			return 1;
		}
		tree = xcalloc(t.n, sizeof(*tree));
		for (size_t i = 0; i < t.n; i++)
			tree[i] = t.nodes[i].pid;
		ntree = t.n;
		proctree_release(&t);
	} else if (!tree) {
		tree = xcalloc(n, sizeof(*tree));
		memcpy(tree, pids, n * sizeof(*tree));
		ntree = n;
	}
	struct procstate *ps = xcalloc(n, sizeof(*ps));
	bool scanned;
	if (runs > 0) {
		double best = 1e9, best_scan = 1e9;
		for (int r = 0; r < runs; r++) {
			double t0 = (util_clock_s(CLOCK_MONOTONIC));
			read_all(root, pids, n, tree, ntree, ps, &scanned);
			double t1 = (util_clock_s(CLOCK_MONOTONIC));
			for (size_t i = 0; i < n; i++)
				procstate_release(&ps[i]);
			struct procstate_fdtab tab = { 0 };
			double t2 = (util_clock_s(CLOCK_MONOTONIC));
			procstate_fdtab_scan(root, tree, ntree, &tab);
			double t3 = (util_clock_s(CLOCK_MONOTONIC));
			procstate_fdtab_release(&tab);
			if (t1 - t0 < best)
				best = t1 - t0;
			if (t3 - t2 < best_scan)
				best_scan = t3 - t2;
		}
		fprintf(stderr, "procwait: %zu pids, best of %d: read %.3f ms (fd table %s), "
			"fd table of %zu pids %.3f ms\n", n, runs, best * 1e3,
			scanned ? "scanned" : "not needed", ntree, best_scan * 1e3);
	}
	if (all_threads) {
		/* each thread of each pid, peers resolved against the tree */
		struct procstate_fdtab tab = { 0 };
		procstate_fdtab_scan(root, tree, ntree, &tab);
		int gone = 0;
		for (size_t i = 0; i < n; i++) {
			int *tids;
			size_t nt;
			if (procstate_list_threads(root, pids[i], &tids, &nt) < 0) {
				fprintf(stderr, "procwait: pid %d: no such process\n", pids[i]);
				gone++;
				continue;
			}
			for (size_t k = 0; k < nt; k++) {
				struct procstate t;
				if (procstate_read_thread(root, pids[i], tids[k], &t) == 0) {
					procstate_resolve_peer(root, &t, &tab);
					print_one(&t);
				}
				procstate_release(&t);
			}
			free(tids);
		}
		procstate_fdtab_release(&tab);
		free(ps);
		free(pids);
		free(tree);
		return gone ? 1 : 0;
	}
	int gone = read_all(root, pids, n, tree, ntree, ps, &scanned);
	for (size_t i = 0; i < n; i++) {
		if (ps[i].pid > 0)
			print_one(&ps[i]);
		else
			fprintf(stderr, "procwait: pid %d: no such process\n", -ps[i].pid);
		procstate_release(&ps[i]);
	}
	free(ps);
	free(pids);
	free(tree);
	return gone ? 1 : 0;
}
