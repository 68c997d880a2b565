/* cmd_view.c - `cowprof view`: replay a recorded session in the terminal */
#include "cli/commands.h"
#include "common/util.h"
#include "tui/loop.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cli_command cli_view = {
	.name = "view",
	.fn = cmd_view,
	.synopsis = "FILE [FILE...]",
	.summary = "replay recorded sessions in the terminal, side by side with several",
	.help =
		"Replay a session recorded by 'cowprof record' or 'cowprof run' in the\n"
		"terminal: the tree with what each process shares with its parent, what\n"
		"it copied and how fast, at any time position of the recording; the\n"
		"copy-on-write timeline of a process or of the whole tree; its regions.\n"
		"With several files, it opens on the compare screen: their copy-on-write\n"
		"curves aligned on time since fork, and the figures 'cowprof compare'\n"
		"prints, side by side.\n"
		"A session still being written is followed as it grows.\n"
		"Needs a terminal of at least 80x24. Press ? for the keys, q to quit.\n"
		"\n"
		"  -h, --help           show this help\n"
		"      --version\n"
		"\n"
		"docs/tui.md describes the screens and keys.\n",
};

/* How often a growing session file is checked, in seconds. */
#define RELOAD_CHECK_S 1.0
/* Parse the options; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTIONS,
		{ 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1)
		return cmd_other_option(&cli_view, c, argv);
	if (optind >= argc) {
		cmd_error("view: missing FILE (see 'cowprof view --help')");
		return EXIT_USAGE;
	}
	return -1;
}

int cmd_view(int argc, char **argv)
{
	int status = parse_args(argc, argv);
	if (status >= 0)
		return status;
	size_t n = (size_t)(argc - optind);
	char err[1024], *title = NULL;
	/* with several files the header names the one shown instead */
	title = xasprintf("view%s%s", n > 1 ? "" : " ", n > 1 ? "" : argv[optind]);
	struct tui_loop_opts o = { .title = title, .check_s = RELOAD_CHECK_S };
	int r = tui_loop((const char *const *)&argv[optind], n, NULL, &o, err,
			 sizeof(err));
	free(title);
	if (r < 0) {
		cmd_error("%s", err);
		return EXIT_RUNTIME;
	}
	return r ? 128 + r : EXIT_OK;
}
