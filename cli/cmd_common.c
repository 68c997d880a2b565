/* cmd_common.c - option handling every command shares */
#include "cli/commands.h"

#include <getopt.h>
#include <stdio.h>

int cmd_other_option(const char *cmd, const char *usage, int c, char **argv)
{
	switch (c) {
	case 'h':
		fputs(usage, stdout);
		return EXIT_OK;
	case 'V':
		printf("cowprof %s\n", COWPROF_VERSION);
		return EXIT_OK;
	case ':':
		cmd_error("%s: %s needs a value (see 'cowprof %s --help')", cmd,
			  argv[optind - 1], cmd);
		return EXIT_USAGE;
	default:
		return cmd_bad_option(cmd, argv[optind - 1]);
	}
}
