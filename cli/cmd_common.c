/* cmd_common.c - option handling every command shares */
#include "cli/commands.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

void cmd_print_synopsis(FILE *f, const char *synopsis, int indent)
{
	for (const char *p = synopsis; *p; p++) {
		fputc(*p, f);
		if (*p == '\n')
			fprintf(f, "%*s", indent, "");
	}
}

void cmd_print_usage(FILE *f, const struct cli_command *cmd)
{
	int n = fprintf(f, "usage: cowprof %s ", cmd->name);
	cmd_print_synopsis(f, cmd->synopsis, n);
	fprintf(f, "\n\n%s", cmd->help);
}

int cmd_other_option(const struct cli_command *cmd, int c, char **argv)
{
	switch (c) {
	case 'h':
		cmd_print_usage(stdout, cmd);
		return EXIT_OK;
	case 'V':
		printf("cowprof %s\n", COWPROF_VERSION);
		return EXIT_OK;
	case ':':
		cmd_error("%s: %s needs a value (see 'cowprof %s --help')",
			  cmd->name, argv[optind - 1], cmd->name);
		return EXIT_USAGE;
	default:
		return cmd_bad_option(cmd->name, argv[optind - 1]);
	}
}

void cmd_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cowprof: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int cmd_bad_option(const char *command, const char *arg)
{
	cmd_error("%s: unknown option '%s' (see 'cowprof %s --help')", command,
		  arg, command);
	return EXIT_USAGE;
}
