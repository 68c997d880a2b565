/* cmd_snapshot.c - `cowprof snapshot`: one measurement of a tree */
#include "cli/commands.h"
#include "common/format.h"
#include "measure/snapshot.h"
#include "report/json.h"
#include "report/report.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const struct cli_command cli_snapshot = {
	.name = "snapshot",
	.fn = cmd_snapshot,
	.synopsis = "[--json] [--regions] [--threads N] PID",
	.summary = "one measurement of the tree under PID",
	.help =
		"Measure the process PID and all its descendants once: for each, RSS,\n"
		"PSS, USS, swap, anonymous memory, and what it still shares with its\n"
		"parent, what it copied, and what is new since fork.\n"
		"\n"
		"  --json       print one JSON object (sizes in kB)\n"
		"  --regions    also list every memory region's figures\n"
		"  --threads N  walk pagemaps on N threads (default: one per CPU, at most 4)\n"
		"  -h, --help   show this help\n"
		"      --version\n",
};

static void json_regions(struct json *j, const struct snapshot_proc *p)
{
	json_key(j, "regions");
	json_array_begin(j);
	for (size_t k = 0; k < p->nregions; k++) {
		const struct snapshot_region *r = &p->regions[k];
		json_object_begin(j);
		json_kv_uint(j, "start", r->start);
		json_kv_uint(j, "end", r->end);
		json_kv_string(j, "perms", r->perms);
		json_kv_string(j, "kind", maps_kind_name(r->kind));
		json_kv_string(j, "path", r->path);
		report_json_figures(j, &r->fig);
		json_object_end(j);
	}
	json_array_end(j);
}

static void print_json(const struct snapshot *s, bool regions)
{
	struct json j;
	json_init(&j, stdout);
	json_object_begin(&j);
	json_kv_int(&j, "root", s->root);
	json_kv_double(&j, "time", s->time, 3);
	json_kv_int(&j, "page_size", s->page_size);
	json_kv_double(&j, "duration_s", s->duration_s, 4);
	json_key(&j, "processes");
	json_array_begin(&j);
	for (size_t i = 0; i < s->n; i++) {
		const struct snapshot_proc *p = &s->procs[i];
		char st[2] = { p->state, 0 };
		json_object_begin(&j);
		json_kv_int(&j, "pid", p->pid);
		json_kv_int(&j, "ppid", p->ppid);
		json_kv_string(&j, "cmd", p->cmd);
		json_kv_string(&j, "state", st);
		report_json_figures(&j, &p->fig);
		double pct = snapshot_shared_pct(&p->fig);
		json_key(&j, "shared_pct");
		if (pct < 0)
			json_null(&j);
		else
			json_double(&j, pct, 2);
		if (regions)
			json_regions(&j, p);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "tree");
	json_object_begin(&j);
	json_kv_uint(&j, "processes", s->n);
	json_kv_uint(&j, "rss_kb", s->tree.rss_kb);
	json_kv_uint(&j, "pss_kb", s->tree.pss_kb);
	json_kv_uint(&j, "uss_kb", s->tree.uss_kb);
	json_kv_uint(&j, "swap_kb", s->tree.swap_kb);
	json_kv_uint(&j, "unique_kb", s->tree.unique_kb);
	json_object_end(&j);
	json_object_end(&j);
	fputc('\n', stdout);
}

#define TABLE_LEFT 106  /* columns before COMMAND */

/* Columns the command may use: the terminal's width when printing to
 * one, else no limit. */
static int command_width(void)
{
	struct winsize ws;
	if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 ||
	    ws.ws_col < 100)
		return INT_MAX;
	return ws.ws_col - TABLE_LEFT;
}

static void print_command(const struct snapshot_proc *p, int width)
{
	int indent = p->depth ? 3 * p->depth : 0;
	for (int d = 1; d < p->depth; d++)
		fputs("   ", stdout);
	if (p->depth)
		fputs("`- ", stdout);
	int room = width - indent;
	format_put_text(stdout, p->cmd, (size_t)(room > 8 ? room : 8));
	fputc('\n', stdout);
}

static void print_row(const struct snapshot_proc *p, int width)
{
	char b[9][FORMAT_KB_LEN];
	const struct cow_figures *f = &p->fig;
	printf("%7d %10s %10s %10s %10s %10s %10s %10s %10s", p->pid,
	       format_kb(f->rss_kb, b[0], FORMAT_KB_LEN), format_kb(f->pss_kb, b[1], FORMAT_KB_LEN),
	       format_kb(f->uss_kb, b[2], FORMAT_KB_LEN), format_kb(f->swap_kb, b[3], FORMAT_KB_LEN),
	       format_kb(f->anon_kb, b[4], FORMAT_KB_LEN),
	       format_kb(f->shared_with_parent_kb, b[5], FORMAT_KB_LEN),
	       format_kb(f->copied_kb, b[6], FORMAT_KB_LEN), format_kb(f->new_kb, b[7], FORMAT_KB_LEN));
	double pct = snapshot_shared_pct(f);
	if (p->parent < 0 || pct < 0)
		printf(" %7s  ", "-");
	else
		printf(" %6.1f%%  ", pct);
	print_command(p, width);
}

static void print_regions(const struct snapshot_proc *p)
{
	for (size_t k = 0; k < p->nregions; k++) {
		const struct snapshot_region *r = &p->regions[k];
		char b[4][FORMAT_KB_LEN];
		if (!r->fig.rss_kb)
			continue;
		printf("        %012llx-%012llx %s %-11s rss %s shared %s copied %s new %s ",
		       (unsigned long long)r->start, (unsigned long long)r->end,
		       r->perms, maps_kind_name(r->kind),
		       format_kb(r->fig.rss_kb, b[0], FORMAT_KB_LEN),
		       format_kb(r->fig.shared_with_parent_kb, b[1], FORMAT_KB_LEN),
		       format_kb(r->fig.copied_kb, b[2], FORMAT_KB_LEN),
		       format_kb(r->fig.new_kb, b[3], FORMAT_KB_LEN));
		format_put_text(stdout, r->path, SIZE_MAX);
		fputc('\n', stdout);
	}
}

static void print_totals(const struct snapshot *s)
{
	char b[4][FORMAT_KB_LEN];
	const struct cow_tree_figures *t = &s->tree;
	uint64_t saved = t->rss_kb > t->unique_kb ? t->rss_kb - t->unique_kb : 0;
	printf("\ntree: %zu process%s, sum of RSS %s, sum of PSS %s, real memory "
	       "(each page once) %s\n", s->n, s->n == 1 ? "" : "es",
	       format_kb(t->rss_kb, b[0], FORMAT_KB_LEN), format_kb(t->pss_kb, b[1], FORMAT_KB_LEN),
	       format_kb(t->unique_kb, b[2], FORMAT_KB_LEN));
	printf("sharing saves %s (%.0f%% of the sum of RSS); measured in %.0f ms\n",
	       format_kb(saved, b[3], FORMAT_KB_LEN),
	       t->rss_kb ? 100.0 * (double)saved / (double)t->rss_kb : 0.0,
	       s->duration_s * 1000);
}

static void print_text(const struct snapshot *s, bool regions)
{
	printf("%7s %10s %10s %10s %10s %10s %10s %10s %10s %7s  %s\n", "PID",
	       "RSS", "PSS", "USS", "SWAP", "ANON", "SHARED", "COPIED", "NEW",
	       "SHARED%", "COMMAND");
	size_t *order = snapshot_tree_order(s);
	int width = command_width();
	for (size_t i = 0; i < s->n; i++) {
		print_row(&s->procs[order[i]], width);
		if (regions)
			print_regions(&s->procs[order[i]]);
	}
	free(order);
	print_totals(s);
}

int cmd_snapshot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "regions", no_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 't' },
		CMD_COMMON_OPTIONS,
		{ 0 },
	};
	bool json = false;
	struct snapshot_opts o = {0};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'r': o.regions = true; break;
		case 't':
			o.threads = format_parse_pid(optarg);
			if (o.threads < 1 || o.threads > SNAPSHOT_MAX_THREADS) {
				cmd_error("snapshot: --threads wants 1 to %d, not '%s'",
					  SNAPSHOT_MAX_THREADS, optarg);
				return EXIT_USAGE;
			}
			break;
		default: return cmd_other_option(&cli_snapshot, c, argv);
		}
	}
	if (optind != argc - 1) {
		cmd_error(optind >= argc ? "snapshot: missing PID (see 'cowprof "
			  "snapshot --help')" : "snapshot: too many arguments");
		return EXIT_USAGE;
	}
	int pid = format_parse_pid(argv[optind]);
	if (pid < 0) {
		cmd_error("snapshot: '%s' is not a valid pid", argv[optind]);
		return EXIT_USAGE;
	}
	struct snapshot s;
	char err[512];
	if (snapshot_take(pid, &o, &s, err, sizeof(err)) < 0) {
		cmd_error("%s", err);
		return EXIT_RUNTIME;
	}
	if (json)
		print_json(&s, o.regions);
	else
		print_text(&s, o.regions);
	snapshot_release(&s);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
}
