/* main.c - the cowprof command line: dispatch to one function per command */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

/* In the order `cowprof --help` lists them. */
static const struct cli_command *const commands[] = {
	&cli_snapshot, &cli_record, &cli_run, &cli_top, &cli_view, &cli_report,
	&cli_compare,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fputs("usage: cowprof COMMAND [OPTIONS] ...\n\n"
	      "cowprof shows what the processes of a fork tree still share with\n"
	      "their parent, what they copied, and what they cost.\n\n"
	      "commands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		fprintf(f, "  %-9s ", commands[i]->name);
		cmd_print_synopsis(f, commands[i]->synopsis, 12);
		fprintf(f, "\n            %s\n", commands[i]->summary);
	}
	fputs("\n'cowprof COMMAND --help' describes a command.\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("cowprof %s\n", COWPROF_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i]->name))
			return commands[i]->fn(argc - 1, argv + 1);
	cmd_error("unknown command '%s' (see 'cowprof --help')", argv[1]);
	return EXIT_USAGE;
}
