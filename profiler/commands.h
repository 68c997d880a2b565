/* commands.h - the cowprof commands, one function each */
#ifndef COWPROF_COMMANDS_H
#define COWPROF_COMMANDS_H

#include <stdio.h>

#define COWPROF_VERSION "0.1.0"

/* Exit statuses shared by every command. */
#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

/* Each takes the arguments after the command name (argv[0] is the command
 * name) and returns the process exit status. */
int cmd_snapshot(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_view(int argc, char **argv);

/* Print "cowprof: " and the message to stderr, with a newline. */
void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The option table entries every command has. */
#define CMD_COMMON_OPTIONS \
	{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }

/* The end of every command's option switch (getopt_long with a leading ':'
 * in its short options): --help prints usage, --version the version, a
 * missing value or an unknown option one line. Returns the exit status. */
int cmd_other_option(const char *cmd, const char *usage, int c, char **argv);

/* Report an unknown option of a command; returns EXIT_USAGE. */
int cmd_bad_option(const char *command, const char *arg);

#endif
