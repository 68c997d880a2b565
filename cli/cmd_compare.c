/* cmd_compare.c - `cowprof compare`: strategies side by side */
#include "analysis/analysis.h"
#include "cli/commands.h"
#include "common/util.h"
#include "report/report.h"
#include "store/session.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cli_command cli_compare = {
	.name = "compare",
	.fn = cmd_compare,
	.synopsis = "[--json] FILE FILE...",
	.summary = "sessions side by side",
	.help =
		"Compare recorded sessions side by side, one column each (for example\n"
		"a gunicorn app without preload_app, with it, and with gc.freeze()):\n"
		"workers, memory each worker inherited, how much of it is still shared\n"
		"10 s and 60 s after fork and at the end, what the workers copied and\n"
		"how fast, the tree's real memory against its sum of RSS, and what\n"
		"each session saves against the first.\n"
		"\n"
		"  --json       print one JSON object (sizes in kB)\n"
		"  -h, --help   show this help\n"
		"      --version\n"
		"\n"
		"docs/reports.md describes every row.\n",
};

/* Parse the options; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		CMD_COMMON_OPTIONS,
		{ 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': *json = true; break;
		default: return cmd_other_option(&cli_compare, c, argv);
		}
	}
	if (argc - optind < 2) {
		cmd_error("compare: needs at least two sessions (see 'cowprof "
			  "compare --help')");
		return EXIT_USAGE;
	}
	return -1;
}

/* Load one session into its column. Returns 0, or -errno with the message
 * printed. */
static int load_column(const char *path, struct report_column *col)
{
	struct session_data d;
	char err[1024];
	int r = session_load(path, &d, err, sizeof(err));
	if (r < 0) {
		cmd_error("%s", err);
		return r;
	}
	report_column_init(col, path, &d);
	session_data_release(&d);
	return 0;
}

int cmd_compare(int argc, char **argv)
{
	bool json = false;
	int status = parse_args(argc, argv, &json);
	if (status >= 0)
		return status;
	size_t n = (size_t)(argc - optind);
	struct report_column *cols = xcalloc(n, sizeof(*cols));
	size_t loaded = 0;
	status = EXIT_OK;
	while (loaded < n && status == EXIT_OK) {
		if (load_column(argv[optind + (int)loaded], &cols[loaded]) < 0)
			status = EXIT_RUNTIME;
		else
			loaded++;
	}
	if (status == EXIT_OK) {
		report_compare_unique_names(cols, n);
		if (json)
			report_compare_json(stdout, cols, n);
		else
			report_compare_text(stdout, cols, n);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			cmd_error("compare: cannot write the comparison: %m");
			status = EXIT_RUNTIME;
		}
	}
	for (size_t i = 0; i < loaded; i++)
		report_column_release(&cols[i]);
	free(cols);
	return status;
}
