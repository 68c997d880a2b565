/* sigwatch.c - print the signal and OOM records of given pids as JSON lines
 *
 *   sigwatch [--kmsg] [--no-perf] [--quiet] [--raw DIR] [--filter EXPR] [PID...]
 *
 * Opens collectors/sigtrace (and with --kmsg the /dev/kmsg OOM reader),
 * prints {"ready":...} once the events are open, then one JSON object per
 * signal whose target or sender is one of the PIDs (every signal if none
 * given), per OOM kill of one of them, and per kmsg OOM line. On SIGTERM or
 * SIGINT it prints {"end":...} with the counts and exits 0. --quiet keeps
 * and prints no events, only the counts (for benchmarks). --raw DIR writes each printed perf record,
 * byte-exact, to DIR/signal-N.bin or DIR/oom-N.bin (fixture capture).
 * --filter sets a kernel-side signal_generate filter (sigtrace_opts). Exit 1
 * with {"error":"reason"} if nothing could be opened.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/kmsg.h"
#include "collectors/sigtrace.h"

static volatile sig_atomic_t stop;
static int *pids;
static size_t npids;
static bool quiet;
static const char *raw_dir;
static unsigned long records, kept_count;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static bool watched(int pid)
{
	if (npids == 0)
		return true;
	for (size_t i = 0; i < npids; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

static bool keep(const struct sigtrace_event *ev)
{
	switch (ev->kind) {
	case SIGTRACE_SIGNAL:
		return watched(ev->signal.target_tid) || watched(ev->signal.sender_pid);
	case SIGTRACE_OOM:
		return watched(ev->oom.victim_pid);
	case SIGTRACE_EXIT:
		return watched(ev->exit.pid) && ev->exit.group_dead;
	default:
		return true;
	}
}

/* --quiet keeps nothing: like a recorder whose tree sees none of the
 * system's signals, it only pays for decoding and filtering. */
static int want(const struct sigtrace_event *ev, void *ctx)
{
	(void)ctx;
	records++;
	return !quiet && keep(ev);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_signal(const struct sigtrace_signal *s)
{
	printf("{\"kind\":\"signal\",\"t_ns\":%llu,\"sender_pid\":%d,\"sender_tid\":%d,"
	       "\"sender_comm\":", (unsigned long long)s->t_ns, s->sender_pid, s->sender_tid);
	json_str(s->sender_comm);
	printf(",\"cpu\":%d,\"sig\":%d,\"code\":%d,\"errno\":%d,\"target\":%d,"
	       "\"target_comm\":", s->cpu, s->sig, s->code, s->err, s->target_tid);
	json_str(s->target_comm);
	printf(",\"group\":%s,\"result\":%d,\"sender_exited\":%s}\n",
	       s->group ? "true" : "false", s->result, s->sender_exited ? "true" : "false");
}

static void print_oom(const struct sigtrace_oom *o)
{
	printf("{\"kind\":\"oom\",\"t_ns\":%llu,\"trigger_pid\":%d,\"trigger_tid\":%d,"
	       "\"cpu\":%d,\"victim\":%d,\"victim_comm\":", (unsigned long long)o->t_ns,
	       o->trigger_pid, o->trigger_tid, o->cpu, o->victim_pid);
	json_str(o->victim_comm);
	printf(",\"total_vm_kb\":%lld,\"anon_rss_kb\":%lld,\"file_rss_kb\":%lld,"
	       "\"shmem_rss_kb\":%lld,\"pgtables_kb\":%lld,\"uid\":%lld,"
	       "\"oom_score_adj\":%d}\n", (long long)o->total_vm_kb,
	       (long long)o->anon_rss_kb, (long long)o->file_rss_kb,
	       (long long)o->shmem_rss_kb, (long long)o->pgtables_kb, (long long)o->uid,
	       o->oom_score_adj);
}

static void print_exit(const struct sigtrace_exit *x)
{
	printf("{\"kind\":\"exit\",\"t_ns\":%llu,\"pid\":%d,\"tid\":%d,\"cpu\":%d,"
	       "\"group_dead\":%s,\"comm\":", (unsigned long long)x->t_ns, x->pid, x->tid,
	       x->cpu, x->group_dead ? "true" : "false");
	json_str(x->comm);
	printf("}\n");
}

static void print_kmsg(const struct kmsg_oom *k)
{
	printf("{\"kind\":\"kmsg\",\"line\":\"%s\",\"seq\":%llu,\"ts_us\":%llu,\"pid\":%d,"
	       "\"comm\":", k->kind == KMSG_OOM_KILLED ? "killed" : "context",
	       (unsigned long long)k->seq, (unsigned long long)k->ts_us, k->pid);
	json_str(k->comm ? k->comm : "");
	if (k->kind == KMSG_OOM_CONTEXT) {
		printf(",\"constraint\":");
		json_str(k->constraint ? k->constraint : "");
		printf(",\"oom_memcg\":");
		json_str(k->oom_memcg ? k->oom_memcg : "");
		printf(",\"task_memcg\":");
		json_str(k->task_memcg ? k->task_memcg : "");
	} else {
		printf(",\"memcg\":%s,\"total_vm_kb\":%lld,\"anon_rss_kb\":%lld,"
		       "\"file_rss_kb\":%lld,\"shmem_rss_kb\":%lld",
		       k->memcg ? "true" : "false", (long long)k->total_vm_kb,
		       (long long)k->anon_rss_kb, (long long)k->file_rss_kb,
		       (long long)k->shmem_rss_kb);
	}
	printf("}\n");
}

/* --raw: save each record that the filter keeps. */
static void raw_hook(const void *rec, size_t len, void *ctx)
{
	const struct sigtrace_layout *l = ctx;
	struct sigtrace_event ev;
	if (sigtrace_parse_record(l, rec, len, &ev) != 1 || ev.kind == SIGTRACE_LOST)
		return;
	if (!keep(&ev))
		return;
	static unsigned n;
	static const char *const kinds[] = { "signal", "oom", "exit" };
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s-%u.bin", raw_dir, kinds[ev.kind], n++);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(rec, 1, len, f);
		fclose(f);
	}
}

static void drain(struct sigtrace *st, int kfd)
{
	struct sigtrace_event ev[64];
	int n;
	while (st && (n = sigtrace_read(st, ev, 64, want, NULL)) > 0) {
		for (int i = 0; i < n; i++) {
			if (ev[i].kind != SIGTRACE_LOST)
				kept_count++;
			if (quiet)
				continue;
			if (ev[i].kind == SIGTRACE_SIGNAL)
				print_signal(&ev[i].signal);
			else if (ev[i].kind == SIGTRACE_OOM)
				print_oom(&ev[i].oom);
			else if (ev[i].kind == SIGTRACE_EXIT)
				print_exit(&ev[i].exit);
			else
				printf("{\"kind\":\"lost\",\"lost\":%llu}\n",
				       (unsigned long long)ev[i].lost);
		}
		if (n < 64)
			break;
	}
	struct kmsg_oom k[16];
	while (kfd >= 0 && (n = kmsg_read(kfd, k, 16)) > 0) {
		for (int i = 0; i < n; i++) {
			if (!quiet && watched(k[i].pid))
				print_kmsg(&k[i]);
			kmsg_oom_release(&k[i]);
		}
		if (n < 16)
			break;
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	bool use_kmsg = false, use_perf = true;
	const char *filter = NULL;
	pids = calloc((size_t)argc, sizeof(int));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--kmsg") == 0)
			use_kmsg = true;
		else if (strcmp(argv[i], "--no-perf") == 0)
			use_perf = false;
		else if (strcmp(argv[i], "--quiet") == 0)
			quiet = true;
		else if (strcmp(argv[i], "--raw") == 0 && i + 1 < argc)
			raw_dir = argv[++i];
		else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc)
			filter = argv[++i];
		else if (atoi(argv[i]) > 0)
			pids[npids++] = atoi(argv[i]);
		else {
			fprintf(stderr, "usage: sigwatch [--kmsg] [--no-perf] [--quiet] [--raw DIR] "
				"[--filter EXPR] [PID...]\n");
			return 2;
		}
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	struct sigtrace *st = NULL;
	char err[256] = "";
	if (use_perf) {
		struct sigtrace_opts o = { .wakeup_bytes = quiet ? 0 : 1,
					   .signal_filter = filter };
		if (sigtrace_open(&o, &st, err, sizeof(err)) < 0)
			st = NULL;
		else if (raw_dir)
			sigtrace_set_raw_hook(st, raw_hook, (void *)sigtrace_layout(st));
	}
	int kfd = use_kmsg ? kmsg_open() : -1;
	if (!st && kfd < 0) {
		printf("{\"error\":");
		json_str(err[0] ? err : strerror(-kfd));
		printf("}\n");
		return 1;
	}
	printf("{\"ready\":true,\"perf\":%s,\"realtime\":%s,\"oom\":%s,\"kmsg\":%s,\"notice\":",
	       st ? "true" : "false", st && sigtrace_realtime(st) ? "true" : "false",
	       st && sigtrace_has_oom(st) ? "true" : "false", kfd >= 0 ? "true" : "false");
	json_str(err);
	printf("}\n");
	fflush(stdout);
	struct pollfd p[2] = { { st ? sigtrace_fd(st) : -1, POLLIN, 0 }, { kfd, POLLIN, 0 } };
	while (!stop) {
		poll(p, 2, 100);
		drain(st, kfd);
	}
	drain(st, kfd);
	printf("{\"end\":true,\"records\":%lu,\"kept\":%lu,\"lost\":%llu}\n", records,
	       kept_count, (unsigned long long)(st ? sigtrace_lost(st) : 0));
	sigtrace_close(st);
	if (kfd >= 0)
		close(kfd);
	free(pids);
	return 0;
}
