/* faultwatch.c - count (and capture) the copy-on-write faults of a process
 * through collectors/pftrace
 *
 *   faultwatch [--raw DIR] [--stack BYTES] [--ring PAGES] [--period N] [--quiet] PID
 *
 * Attaches to PID, prints {"ready":..., "events":N} once the events are
 * open, then one JSON line per fault (pid, tid, addr, ip, error_code,
 * stack bytes) and per fork/exit/lost record; --quiet prints none. On
 * SIGTERM/SIGINT it prints {"end":...} with counts per pid and exits 0.
 * --raw DIR writes the first record of each kind, byte-exact, to
 * DIR/{sample,fork,exit,lost}.bin, and the first sample of another process
 * (a child) to DIR/sample-child.bin (fixture capture).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/pftrace.h"
#include "collectors/unwind.h"

static volatile sig_atomic_t stop;
static bool quiet;
static const char *raw_dir;
static bool raw_done[4];
static unsigned long counts[4];
static struct { int pid; unsigned long n; } per[256];
static size_t nper;
static struct pftrace *pf;
static int root_pid;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *const kind_name[] = { "sample", "lost", "fork", "exit" };

static void raw_hook(const void *rec, size_t len, void *ctx)
{
	(void)ctx;
	struct pftrace_record r;
	if (pftrace_parse_record(pftrace_layout(pf), rec, len, &r) != 1 ||
	    (r.kind == PFTRACE_SAMPLE && !pftrace_is_cow(&r)))
		return;
	char path[4096];
	/* samples: the first of the root, the first of its first child */
	static int sample_pid;
	if (r.kind == PFTRACE_SAMPLE && raw_done[r.kind] && !sample_pid &&
	    r.pid != root_pid)
		sample_pid = r.pid;
	else if (raw_done[r.kind])
		return;
	snprintf(path, sizeof(path), "%s/%s%s.bin", raw_dir, kind_name[r.kind],
		 sample_pid ? "-child" : "");
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(rec, 1, len, f);
		fclose(f);
		raw_done[r.kind] = true;
	}
}

static void count_pid(int pid)
{
	for (size_t i = 0; i < nper; i++)
		if (per[i].pid == pid) {
			per[i].n++;
			return;
		}
	if (nper < 256)
		per[nper++] = (typeof(per[0])){ pid, 1 };
}

static void on_record(const struct pftrace_record *r, void *ctx)
{
	(void)ctx;
	counts[r->kind]++;
	if (r->kind == PFTRACE_SAMPLE)
		count_pid(r->pid);
	if (quiet)
		return;
	if (r->kind == PFTRACE_SAMPLE)
		printf("{\"sample\":{\"pid\":%d,\"tid\":%d,\"t\":%.6f,\"addr\":%llu,\"ip\":%llu,"
		       "\"error_code\":%llu,\"nregs\":%zu,\"stack\":%zu}}\n",
		       r->pid, r->tid, (double)r->t_ns / 1e9, (unsigned long long)r->addr,
		       (unsigned long long)r->ip, (unsigned long long)r->error_code,
		       r->nregs, r->stack_len);
	else if (r->kind == PFTRACE_LOST)
		printf("{\"lost\":%llu}\n", (unsigned long long)r->lost);
	else
		printf("{\"%s\":{\"pid\":%d,\"ppid\":%d,\"tid\":%d}}\n", kind_name[r->kind],
		       r->pid, r->ppid, r->tid);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct pftrace_opts o = { .regs_mask = UNWIND_PERF_REGS_MASK };
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--quiet"))
			quiet = true;
		else if (!strcmp(argv[i], "--raw") && i + 1 < argc)
			raw_dir = argv[++i];
		else if (!strcmp(argv[i], "--stack") && i + 1 < argc)
			o.stack_size = (uint32_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--ring") && i + 1 < argc)
			o.ring_pages = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--period") && i + 1 < argc)
			o.period = (uint64_t)atoll(argv[++i]);
		else
			break;
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: faultwatch [--raw DIR] [--stack BYTES] [--ring PAGES] [--period N] [--quiet] PID\n");
		return 2;
	}
	int pid = atoi(argv[i]);
	root_pid = pid;
	char err[256];
	int e = pftrace_open(&o, &pf, err, sizeof(err));
	if (e == 0 && (e = pftrace_attach(pf, NULL, pid, err, sizeof(err))) == 0) {
		snprintf(err, sizeof(err), "pid %d: no such process", pid);
		e = -ESRCH;
	}
	if (e < 0) {
		printf("{\"error\":\"%s\"}\n", err);
		return 1;
	}
	if (raw_dir)
		pftrace_set_raw_hook(pf, raw_hook, NULL);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("{\"ready\":%d,\"events\":%zu}\n", pid, pftrace_nevents(pf));
	fflush(stdout);
	while (!stop) {
		struct pollfd p = { pftrace_fd(pf), POLLIN, 0 };
		poll(&p, 1, 50);
		pftrace_read(pf, on_record, NULL);
	}
	pftrace_read(pf, on_record, NULL);
	printf("{\"end\":{\"samples\":%lu,\"forks\":%lu,\"exits\":%lu,\"lost\":%llu,\"pids\":{",
	       counts[PFTRACE_SAMPLE], counts[PFTRACE_FORK], counts[PFTRACE_EXIT],
	       (unsigned long long)pftrace_lost(pf));
	for (size_t k = 0; k < nper; k++)
		printf("%s\"%d\":%lu", k ? "," : "", per[k].pid, per[k].n);
	printf("}}}\n");
	pftrace_close(pf);
	return 0;
}
