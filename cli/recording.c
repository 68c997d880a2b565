/* recording.c - what `record`, `run` and `top` share: their options, the
 * session's meta data, the perf attach path's start and end, the summary */
#include "analysis/analysis.h"
#include "cli/commands.h"
#include "cli/recording.h"
#include "collectors/procfs.h"
#include "collectors/proctree.h"
#include "common/format.h"
#include "common/util.h"
#include "faults/attach.h"
#include "record/recorder.h"
#include "store/session.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#define RECORDER_NICE 10

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t child_pid;  /* run's CMD, which gets our signals */

int recording_parse_seconds(const char *s, double min, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min) || v > 1e7)
		return -1;
	*out = v;
	return 0;
}

enum { OPT_HUNG_AFTER = 256 };

void recording_write_hung_after(struct session *s, const struct recording_args *a)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%g", a->hung_after_s);
	session_set_meta(s, SINK_META_HUNG_AFTER_S, buf);
}

int recording_parse_args(const struct cli_command *command, int argc, char **argv,
			 struct recording_args *a)
{
	const char *cmd = command->name;
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "no-faults", no_argument, NULL, 'F' },
		{ "faults", no_argument, NULL, 'A' },
		{ "fault-period", required_argument, NULL, 'P' },
		{ "hung-after", required_argument, NULL, OPT_HUNG_AFTER },
		CMD_COMMON_OPTIONS,
		{ 0 },
	};
	*a = (struct recording_args){ .interval_s = 1.0,
				.hung_after_s = ANALYSIS_HUNG_AFTER_S };
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:i:d:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (recording_parse_seconds(optarg, RECORDER_MIN_INTERVAL_S, &a->interval_s) < 0) {
				cmd_error("%s: -i wants seconds, at least %.2f, not '%s'",
					  cmd, RECORDER_MIN_INTERVAL_S, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			if (recording_parse_seconds(optarg, 0.001, &a->duration_s) < 0) {
				cmd_error("%s: -d wants a positive number of seconds, not '%s'",
					  cmd, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o': a->output = optarg; break;
		case 'F':
			if (strcmp(cmd, "run"))
				return cmd_other_option(command, '?', argv);
			a->no_faults = true;
			break;
		case 'A':
		case 'P':
			if (!strcmp(cmd, "run"))  /* run has its faults already */
				return cmd_other_option(command, '?', argv);
			if (c == 'A') {
				a->faults = true;
				break;
			}
			char *end;
			errno = 0;
			unsigned long long n = strtoull(optarg, &end, 10);
			a->fault_auto = !strcmp(optarg, "auto");
			if (!a->fault_auto &&
			    (errno || end == optarg || *end || n < 1 || *optarg == '-')) {
				cmd_error("%s: --fault-period wants 'auto' or a whole number "
					  ">= 1, not '%s'", cmd, optarg);
				return EXIT_USAGE;
			}
			a->fault_period = a->fault_auto ? 1 : n;
			break;
		case OPT_HUNG_AFTER:
			if (recording_parse_seconds(optarg, 0.001, &a->hung_after_s) < 0) {
				cmd_error("%s: --hung-after wants a positive number of "
					  "seconds, not '%s'", cmd, optarg);
				return EXIT_USAGE;
			}
			break;
		default: return cmd_other_option(command, c, argv);
		}
	}
	if (a->fault_period && !a->faults) {
		cmd_error("%s: --fault-period needs --faults", cmd);
		return EXIT_USAGE;
	}
	a->first_arg = optind;
	return -1;
}

char *recording_default_output(int pid)
{
	char stamp[32], *p = NULL;
	time_t now = time(NULL);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
	p = xasprintf("cowprof-%d-%s.db", pid, stamp);
	return p;
}

/* The root's command line, for the session's "target". */
static char *target_of(int pid)
{
	char *buf, *cmd = NULL;
	size_t len;
	if (procfs_read(NULL, pid, "cmdline", &buf, &len) == 0) {
		cmd = proctree_cmdline_parse(buf, len);
		free(buf);
	}
	return cmd ? cmd : xstrdup("");
}

/* argv[from..argc) joined with spaces, after prefix (caller frees). */
static char *joined(const char *prefix, int argc, char **argv, int from)
{
	size_t len = strlen(prefix) + 1;
	for (int i = from; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *out = xcalloc(1, len);
	strcpy(out, prefix);
	for (int i = from; i < argc; i++) {
		if (*out)
			strcat(out, " ");
		strcat(out, argv[i]);
	}
	return out;
}

void recording_write_meta(struct session *s, int argc, char **argv, int root,
			  int target_arg, double interval_s)
{
	char *target = target_arg > 0 ? joined("", argc, argv, target_arg)
				      : target_of(root);
	char *cmdline = joined("cowprof", argc, argv, 0);
	char buf[64];
	struct utsname u;
	uname(&u);
	session_set_meta(s, SINK_META_COMMAND, cmdline);
	session_set_meta(s, SINK_META_TARGET, target);
	free(target);
	snprintf(buf, sizeof(buf), "%d", root);
	session_set_meta(s, SINK_META_ROOT_PID, buf);
	snprintf(buf, sizeof(buf), "%g", interval_s);
	session_set_meta(s, SINK_META_INTERVAL_S, buf);
	session_set_meta(s, SINK_META_KERNEL, u.release);
	session_set_meta(s, SINK_META_HOSTNAME, u.nodename);
	snprintf(buf, sizeof(buf), "%ld", sysconf(_SC_PAGESIZE));
	session_set_meta(s, SINK_META_PAGE_SIZE, buf);
	session_set_meta(s, SINK_META_COWPROF_VERSION, COWPROF_VERSION);
	snprintf(buf, sizeof(buf), "%.3f", util_clock_s(CLOCK_REALTIME));
	session_set_meta(s, SINK_META_STARTED, buf);
	free(cmdline);
}

void recording_write_end_meta(struct session *s, const struct recorder_summary *sum)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%.3f", util_clock_s(CLOCK_REALTIME));
	session_set_meta(s, SINK_META_ENDED, buf);
	snprintf(buf, sizeof(buf), "%zu", sum->samples);
	session_set_meta(s, SINK_META_SAMPLES, buf);
}

static void on_stop(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int child = child_pid;
	/* pass on what was sent to cowprof; a terminal's Ctrl-C already
	 * reached CMD, which is in our process group */
	if (child > 0 && si->si_code != SI_KERNEL)
		kill(child, sig);
	if (child <= 0)
		stop_flag = 1;
}

void recording_install_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_stop;
	sa.sa_flags = SA_SIGINFO;  /* no SA_RESTART: let poll() return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void recording_print_summary(const char *path, const struct recorder_summary *sum)
{
	char sz[FORMAT_KB_LEN];
	fprintf(stderr, "cowprof: recorded %zu sample%s of %zu process%s over %.1f s "
		"into %s (%s)%s\n", sum->samples, sum->samples == 1 ? "" : "s",
		sum->processes, sum->processes == 1 ? "" : "es", sum->seconds, path,
		format_kb(sum->file_bytes / 1024, sz, sizeof(sz)),
		sum->connector ? "" : "; fork and exit events by polling (no "
		"netlink proc connector: needs CAP_NET_ADMIN)");
	if (sum->fault_pages != sum->fault_events)
		fprintf(stderr, "cowprof: %llu first writes to inherited pages recorded "
			"with their stacks (estimated from %llu sampled ones)\n",
			(unsigned long long)sum->fault_pages,
			(unsigned long long)sum->fault_events);
	else if (sum->fault_events || sum->fault_dropped)
		fprintf(stderr, "cowprof: %llu first writes to inherited pages recorded "
			"with their stacks\n", (unsigned long long)sum->fault_events);
	if (sum->fault_dropped)
		fprintf(stderr, "cowprof: %llu more were dropped: the processes wrote "
			"faster than the recorder read\n",
			(unsigned long long)sum->fault_dropped);
	if (sum->unseen)
		fprintf(stderr, "cowprof: %zu process%s forked and left the tree "
			"(reparented) before any sample saw %s; %s exit%s unknown\n",
			sum->unseen, sum->unseen == 1 ? "" : "es",
			sum->unseen == 1 ? "it" : "them", sum->unseen == 1 ? "its" : "their",
			sum->unseen == 1 ? " is" : "s are");
	if (sum->signals_shed)
		fprintf(stderr, "cowprof: %llu signal records were dropped in a storm of "
			"signals (a traced process signals its tracer at every system "
			"call): the tree's signals may be among them\n",
			(unsigned long long)sum->signals_shed);
	if (sum->events_overrun)
		fprintf(stderr, "cowprof: the kernel dropped fork and exit events %zu "
			"time%s (proc connector overrun): processes that forked and "
			"exited between two samples then may be missing\n",
			sum->events_overrun, sum->events_overrun == 1 ? "" : "s");
}

#define SUMMARY_ROWS 20

static void print_row(FILE *f, const struct session_data *d,
		      const struct analysis *a, size_t i)
{
	const struct analysis_proc *p = &a->procs[i];
	char b[4][FORMAT_KB_LEN], shared[64] = "-";
	if (p->sampled && p->shared_pct_first >= 0)
		snprintf(shared, sizeof(shared), "%s %3.0f%% -> %s %3.0f%%",
			 format_kb(p->first.shared_with_parent_kb, b[0], FORMAT_KB_LEN),
			 p->shared_pct_first,
			 format_kb(p->last.shared_with_parent_kb, b[1], FORMAT_KB_LEN),
			 p->shared_pct_last);
	fprintf(f, "%*s%-*d %-7s %-34s %10s  %-22s ", 2 * (p->depth < 4 ? p->depth : 4), "",
		8 - 2 * (p->depth < 4 ? p->depth : 4), d->procs[i].pid,
		analysis_role_name(p->role), shared,
		p->sampled ? format_kb(p->last.copied_kb, b[2], FORMAT_KB_LEN) : "-",
		p->exit_desc);
	format_put_text(f, d->procs[i].cmd, 60);
	fputc('\n', f);
}

/* One screen on f: every process's sharing and how it ended, then the
 * tree. */
static void print_table(FILE *f, const char *path)
{
	struct session_data d;
	char err[512], b[3][FORMAT_KB_LEN];
	if (session_load(path, &d, err, sizeof(err)) < 0)
		return;
	struct analysis a;
	analysis_init(&a, &d);
	fprintf(f, "%-8s %-7s %-34s %10s  %-22s %s\n", "PID", "ROLE",
		"SHARED WITH PARENT FIRST -> LAST", "COPIED", "EXIT", "COMMAND");
	for (size_t k = 0; k < a.nprocs && k < SUMMARY_ROWS; k++)
		print_row(f, &d, &a, a.order[k]);
	if (a.nprocs > SUMMARY_ROWS)
		fprintf(f, "... and %zu more processes\n", a.nprocs - SUMMARY_ROWS);
	if (a.ntree) {
		const struct analysis_tree_point *t = &a.tree[a.ntree - 1];
		fprintf(f, "tree at the end: %zu processes, sum of RSS %s, real memory %s "
			"(sharing saves %s, %.0f%%)\n", t->nprocs,
			format_kb(t->rss_kb, b[0], FORMAT_KB_LEN),
			format_kb(t->unique_kb, b[1], FORMAT_KB_LEN),
			format_kb(t->saving_kb, b[2], FORMAT_KB_LEN), t->saving_pct);
	}
	fprintf(f, "'cowprof report %s' has the rest.\n", path);
	analysis_release(&a);
	session_data_release(&d);
}

/* A recorder on a production server yields the CPU to the workers it
 * watches; its sample times are measured, so lateness shows. On Linux this
 * lowers the calling thread only (top's recorder thread, not its screen). */
void recording_lower_priority(void)
{
	if (setpriority(PRIO_PROCESS, 0, RECORDER_NICE) < 0)
		(void)0;  /* not allowed to lower it: record at the same priority */
}

int recording_open_faults(const struct recording_args *a, int root, struct attach **out)
{
	*out = NULL;
	if (!a->faults)
		return 0;
	char err[512];
	/* the ring reader ahead of the watched workers: a full ring loses
	 * samples */
	struct attach_opts fo = { .period = a->fault_period, .reader_nice = -10,
				     .burst_period = a->fault_auto ? FAULT_BURST_PERIOD : 0 };
	if (attach_new(root, &fo, out, err, sizeof(err)) < 0) {
		cmd_error("--faults: %s", err);
		return EXIT_RUNTIME;
	}
	return 0;
}

void recording_say_following(struct attach *fp)
{
	struct attach_stats st;
	attach_get_stats(fp, &st);
	fprintf(stderr, "cowprof: following the copy-on-write faults of %zu process%s "
		"(%zu perf events)\n", st.attached, st.attached == 1 ? "" : "es",
		st.events_open);
}

/* After the first sample: the tree is in the session (a process that
 * exits from now on keeps its faults; one gone before it would be
 * unknown, its faults dropped), so say what is followed; then yield the
 * CPU to the workers. */
static void first_sample_taken(void *fp)
{
	if (fp)
		recording_say_following(fp);
	recording_lower_priority();
}

void recording_close_faults(struct attach *fp, struct session *s, bool say)
{
	if (!fp)
		return;
	struct attach_stats st;
	attach_get_stats(fp, &st);
	char buf[512];
	unsigned long long bp = attach_burst_period(fp);
	if (s) {
		const struct { const char *key; uint64_t v; } meta[] = {
			{ SINK_META_FAULT_PERIOD, attach_period(fp) },
			{ SINK_META_FAULT_PERF_SAMPLES, st.samples },
			{ SINK_META_FAULT_PERF_LOST, st.lost },
			{ SINK_META_FAULT_PERF_PYTHON, st.python },
			{ SINK_META_FAULT_PERF_PYTHON_STALE, st.stale },
			{ SINK_META_FAULT_PERF_PYTHON_RECOVERED, st.recovered },
			{ SINK_META_FAULT_PERF_PYTHON_INNERMOST, st.innermost_only },
			{ SINK_META_FAULT_PERF_PYTHON_UNCHECKED, st.unchecked },
			{ SINK_META_FAULT_PERF_EXACT_LINE, st.exact_line },
			{ SINK_META_FAULT_BURST_PERIOD, attach_burst_period(fp) },
			{ SINK_META_FAULT_PERF_BURSTS, st.bursts },
			{ SINK_META_FAULT_PERF_THINNED, st.thinned },
		};
		session_set_meta(s, SINK_META_FAULT_METHOD, "perf");
		for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
			snprintf(buf, sizeof(buf), "%llu", (unsigned long long)meta[i].v);
			session_set_meta(s, meta[i].key, buf);
		}
		if (bp)
			session_set_meta(s, SINK_META_FAULT_PERIOD, "auto");
	}
	char bursts[48] = "";
	if (bp)
		snprintf(bursts, sizeof(bursts), ", one in %llu in bursts", bp);
	if (say)
		fprintf(stderr, "cowprof: perf: %llu copy-on-write faults sampled, %llu in private "
		"writable memory (one in %llu%s); Python frames on %llu (%llu as read for an earlier fault, %llu from a frame the thread "
		"had left, %llu innermost only), %llu dropped as stale, %llu unchecked, %llu without a thread "
		"state, %llu without frames; %.1f us per unwind (%llu from the memo), %.1f us per "
		"Python read\n",
		(unsigned long long)st.samples, (unsigned long long)st.kept,
		(unsigned long long)attach_period(fp),
		bursts,
		(unsigned long long)st.python, (unsigned long long)st.reused,
		(unsigned long long)st.recovered,
		(unsigned long long)st.innermost_only,
		(unsigned long long)st.stale,
		(unsigned long long)st.unchecked, (unsigned long long)st.no_tstate,
		(unsigned long long)st.no_frames,
		st.timed ? (double)st.unwind_ns / 1e3 / (double)st.timed : 0.0,
		(unsigned long long)st.unwind_memo,
		st.timed ? (double)st.python_ns / 1e3 / (double)st.timed : 0.0);
	if (say && st.bursts)
		fprintf(stderr, "cowprof: perf: %llu burst%s sampled one in %llu: %llu events, "
			"each standing for %llu faults (%llu samples taken before a "
			"burst was seen passed by)\n", (unsigned long long)st.bursts,
			st.bursts == 1 ? "" : "s", bp, (unsigned long long)st.burst_kept, bp,
			(unsigned long long)st.thinned);
	if (st.lost || st.unrecorded)
		fprintf(stderr, "cowprof: perf: %llu lost by the kernel (rings full), %llu "
			"of processes gone before the recorder saw them\n",
			(unsigned long long)st.lost, (unsigned long long)st.unrecorded);
	attach_free(fp);
}

void recording_set_child(int pid)
{
	child_pid = pid;
}

void recording_give_to_sudo_user(const char *path)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
	char *end;
	if (geteuid() != 0 || !u || !g || !*u || !*g)
		return;
	unsigned long uid = strtoul(u, &end, 10);
	if (*end)
		return;
	unsigned long gid = strtoul(g, &end, 10);
	if (*end)
		return;
	if (chown(path, (uid_t)uid, (gid_t)gid) < 0)
		(void)0;  /* a file system without owners: root's it stays */
}

static const struct recording_child *the_child;

static bool child_done(void *unused)
{
	(void)unused;
	return the_child->done(the_child->ctx);
}

static int child_start(void *unused, char *err, size_t errlen)
{
	(void)unused;
	return the_child->start(the_child->ctx, err, errlen);
}

int recording_into(const char *path, int argc, char **argv, int root,
		   const struct recording_args *a,
		   const struct recording_child *child)
{
	char err[512] = "";
	struct session *s;
	if (session_create(path, &s, err, sizeof(err)) < 0) {
		cmd_error("%s", err);
		return EXIT_RUNTIME;
	}
	recording_give_to_sudo_user(path);
	/* run's command has not started yet: its target is its argv */
	recording_write_meta(s, argc, argv, root, child ? a->first_arg : 0,
			     a->interval_s);
	recording_write_hung_after(s, a);
	/* before lowering our priority: the reader thread keeps the normal one,
	 * it must keep up with the kernel's rings */
	struct attach *fp;
	int r = recording_open_faults(a, root, &fp);
	if (r) {
		session_close(s);
		unlink(path);
		return r;
	}
	struct recorder_opts o = { .interval_s = a->interval_s,
				   .duration_s = a->duration_s,
				   .after_first = first_sample_taken, .ctx = fp,
				   .progress = isatty(STDERR_FILENO),
				   .stop = &stop_flag,
				   .root_done = child ? child_done : NULL,
				   .ready = child ? child_start : NULL,
				   .fault_spool = child ? child->spool : NULL,
				   .fault_perf = fp };
	the_child = child;
	struct recorder_summary sum;
	struct sink out;
	session_sink(s, &out);
	int e = recorder_run(root, &out, &o, &sum, err, sizeof(err));
	recording_write_end_meta(s, &sum);
	recording_close_faults(fp, s, true);
	session_close(s);
	if (e < 0 && sum.samples == 0)
		unlink(path);
	if (e == -ESRCH && child && child->done(child->ctx)) {
		cmd_error("run: the command exited before the first sample; "
			  "nothing recorded");
		return EXIT_OK;
	}
	if (e < 0) {
		cmd_error("%s", err);
		return EXIT_RUNTIME;
	}
	struct stat st;
	if (stat(path, &st) == 0)
		sum.file_bytes = (uint64_t)st.st_size;
	recording_print_summary(path, &sum);
	/* a summary, as the line above: standard output is run's command's */
	print_table(stderr, path);
	return EXIT_OK;
}

/* Can root be recorded at all? Says why not before a file is created. */
int recording_check_root(int pid)
{
	struct proc_stat st;
	int e = proctree_read_stat(NULL, pid, &st);
	if (e == -ESRCH) {
		cmd_error("pid %d: no such process", pid);
		return EXIT_RUNTIME;
	}
	if (e == 0 && (st.flags & PROCTREE_PF_KTHREAD)) {
		cmd_error("pid %d: is a kernel thread (no user memory)", pid);
		return EXIT_RUNTIME;
	}
	if (e == 0 && (st.state == 'Z' || st.state == 'X')) {
		cmd_error("pid %d has exited and is a zombie; its memory is gone", pid);
		return EXIT_RUNTIME;
	}
	return -1;
}

int recording_parse_pid(const char *cmd, int argc, char **argv, int first_arg,
			int *pid)
{
	if (first_arg != argc - 1) {
		if (first_arg >= argc)
			cmd_error("%s: missing PID (see 'cowprof %s --help')", cmd, cmd);
		else
			cmd_error("%s: too many arguments", cmd);
		return EXIT_USAGE;
	}
	*pid = format_parse_pid(argv[first_arg]);
	if (*pid < 0) {
		cmd_error("%s: '%s' is not a valid pid", cmd, argv[first_arg]);
		return EXIT_USAGE;
	}
	return -1;
}

