/* commands.h - the cowprof commands, one function each */
#ifndef COWPROF_CLI_COMMANDS_H
#define COWPROF_CLI_COMMANDS_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define COWPROF_VERSION "0.1.0"

/* Exit statuses shared by every command. */
#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

/* A command: its entry, in the command's own file, is the one place its
 * usage is written; `cowprof --help` and `cowprof NAME --help` print it. */
struct cli_command {
	const char *name;
	/* Takes the arguments after the command name (argv[0] is the name)
	 * and returns the process exit status. */
	int (*fn)(int argc, char **argv);
	const char *synopsis;    /* options and arguments; '\n' where it breaks */
	const char *summary;     /* one line: what it does */
	const char *help;        /* the rest of `cowprof NAME --help` */
};

extern const struct cli_command cli_snapshot, cli_record, cli_run, cli_top,
	cli_view, cli_report, cli_compare;

int cmd_snapshot(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_view(int argc, char **argv);
int cmd_top(int argc, char **argv);

/* Print "usage: cowprof NAME SYNOPSIS" and the command's help to f. */
void cmd_print_usage(FILE *f, const struct cli_command *cmd);

/* Print the synopsis, its continuation lines indented by indent columns. */
void cmd_print_synopsis(FILE *f, const char *synopsis, int indent);

/* Print "cowprof: " and the message to stderr, with a newline. */
void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The option table entries every command has. */
#define CMD_COMMON_OPTIONS \
	{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }

/* The end of every command's option switch (getopt_long with a leading ':'
 * in its short options): --help prints usage, --version the version, a
 * missing value or an unknown option one line. Returns the exit status. */
int cmd_other_option(const struct cli_command *cmd, int c, char **argv);

/* Report an unknown option of a command; returns EXIT_USAGE. */
int cmd_bad_option(const char *command, const char *arg);

#endif
