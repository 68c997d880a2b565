/* cmd_report.c - `cowprof report`: a recorded session in one format */
#include "analysis/analysis.h"
#include "analysis/callsites.h"
#include "cli/commands.h"
#include "report/report.h"
#include "store/session.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

const struct cli_command cli_report = {
	.name = "report",
	.fn = cmd_report,
	.synopsis = "[--format FORMAT] FILE",
	.summary = "a recorded session as text, json, csv, html, openmetrics or folded",
	.help =
		"Report a session recorded by 'cowprof record' or 'cowprof run': per\n"
		"process (as a tree) its lifetime, memory at fork, what it still shares\n"
		"with its parent, what it copied and how fast, its peak and its exit;\n"
		"the tree's sum of RSS against its real memory over time; the regions\n"
		"copied most; forks, exits and respawns.\n"
		"\n"
		"  -f, --format FORMAT  text (default), json, csv (one row per process\n"
		"                       per sample), html (one self-contained page with\n"
		"                       charts), openmetrics (the last sample as gauges),\n"
		"                       folded (stacks weighted by copied pages)\n"
		"  -h, --help           show this help\n"
		"      --version\n"
		"\n"
		"docs/reports.md describes every format and column.\n",
};

/* Parse the options; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, enum report_format *fmt)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		CMD_COMMON_OPTIONS,
		{ 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (report_format_parse(optarg, fmt) < 0) {
				cmd_error("report: unknown format '%s' (one of %s)",
					  optarg, report_format_names());
				return EXIT_USAGE;
			}
			break;
		default: return cmd_other_option(&cli_report, c, argv);
		}
	}
	if (optind != argc - 1) {
		cmd_error(optind >= argc ? "report: missing FILE (see 'cowprof "
			  "report --help')" : "report: too many arguments");
		return EXIT_USAGE;
	}
	return -1;
}

int cmd_report(int argc, char **argv)
{
	enum report_format fmt = REPORT_TEXT;
	int status = parse_args(argc, argv, &fmt);
	if (status >= 0)
		return status;
	const char *path = argv[optind];
	struct session_data d;
	char err[1024];
	if (session_load(path, &d, err, sizeof(err)) < 0) {
		cmd_error("%s", err);
		return EXIT_RUNTIME;
	}
	struct analysis a;
	analysis_init(&a, &d);
	struct report_input in = { &d, &a, path };
	status = report_write(stdout, fmt, &in) == 0 && fflush(stdout) == 0
		 ? EXIT_OK : EXIT_RUNTIME;
	if (status != EXIT_OK)
		cmd_error("report: cannot write the report: %m");
	else if (fmt == REPORT_FOLDED && !callsites_recorded(&d))
		cmd_error("%s has no fault attribution; record with `cowprof run` "
			  "to get stacks of copied pages (the folded output is empty)",
			  path);
	analysis_release(&a);
	session_data_release(&d);
	return status;
}
