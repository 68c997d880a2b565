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

/* Print "cowprof: " and the message to stderr, with a newline. */
void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Report an unknown option of a command; returns EXIT_USAGE. */
int cmd_bad_option(const char *command, const char *arg);

#endif
