/* main.c - the cowprof command line: dispatch to one function per command */
#include "cli/commands.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *synopsis;    /* its options and arguments */
	const char *summary;     /* what it does */
} commands[] = {
	{ "snapshot", cmd_snapshot, "[--json] [--regions] [--threads N] PID",
	  "one measurement of the tree under PID" },
	{ "record", cmd_record, "[-i SEC] [-d SEC] [-o FILE] [--faults [--fault-period N]]\n"
	  "            [--hung-after SEC] PID",
	  "sample the tree until it exits, -d ends, or Ctrl-C; --faults: who copies" },
	{ "run", cmd_run, "[-i SEC] [-d SEC] [-o FILE] [--no-faults] [--hung-after SEC] -- CMD...",
	  "start CMD, record its tree and which code copies each page" },
	{ "top", cmd_top, "[-i SEC] [-d SEC] [-o FILE] [--faults [--fault-period N]]\n"
	  "            [--hung-after SEC] PID",
	  "watch the tree under PID live in the terminal" },
	{ "view", cmd_view, "FILE [FILE...]",
	  "replay recorded sessions in the terminal, side by side with several" },
	{ "report", cmd_report, "[--format FORMAT] FILE",
	  "a recorded session as text, json, csv, html, openmetrics or folded" },
	{ "compare", cmd_compare, "[--json] FILE FILE...",
	  "sessions side by side" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

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

static void usage(FILE *f)
{
	fputs("usage: cowprof COMMAND [OPTIONS] ...\n\n"
	      "cowprof shows what the processes of a fork tree still share with\n"
	      "their parent, what they copied, and what they cost.\n\n"
	      "commands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n            %s\n", commands[i].name,
			commands[i].synopsis, commands[i].summary);
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
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	cmd_error("unknown command '%s' (see 'cowprof --help')", argv[1]);
	return EXIT_USAGE;
}
