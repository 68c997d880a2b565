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

/* ---- shared by record, run and top (cli/recording.c) ---- */

struct session;
struct recorder_summary;

struct rec_args {
	double interval_s, duration_s;
	double hung_after_s;     /* --hung-after: stored in the session's meta */
	const char *output;
	int first_arg;           /* argv index of PID or CMD */
	bool no_faults;          /* run --no-faults */
	bool faults;             /* record/top --faults: perf attach path */
	uint64_t fault_period;   /* --fault-period N (0: every fault) */
	bool fault_auto;         /* --fault-period auto */
};

/* Parse -i, -d, -o (and --help, --version) for record, run and top.
 * Returns -1 to go on, or an exit status. */
int record_parse_args(const struct cli_command *cmd, int argc, char **argv,
		      struct rec_args *a);

/* With a->faults: open the perf attach path on root's tree and say on
 * stderr how many processes it follows. Returns 0 (*out NULL without
 * --faults), or EXIT_RUNTIME after a one-line message. */
struct attach;
int record_open_faults(const struct rec_args *a, int root, struct attach **out);

/* "following the copy-on-write faults of N processes", on stderr. */
void record_say_following(struct attach *fp);

/* Store what the perf attach path saw in the session's meta data (fault_*
 * keys; s may be NULL), print it on stderr if say, then free fp. NULL
 * does nothing. */
struct session;
void record_close_faults(struct attach *fp, struct session *s, bool say);

/* Parse the one PID argument at argv[first_arg]. Returns -1 to go on, or
 * EXIT_USAGE after a one-line message. */
int record_parse_pid(const char *cmd, int argc, char **argv, int first_arg,
		     int *pid);

/* Store a->hung_after_s as the session's meta hung_after_s. */
void record_write_hung_after(struct session *s, const struct rec_args *a);

/* Parse a number of seconds >= min; returns 0, or -1 if s is not one. */
int record_parse_seconds(const char *s, double min, double *out);

/* Can pid be recorded at all? Returns -1 to go on, or EXIT_RUNTIME after
 * a one-line message (no such process, a kernel thread). */
int record_check_root(int pid);

/* The session's meta data at its start (the command line argv, the root's
 * command line as target, the interval, the machine) and at its end. */
void record_write_meta(struct session *s, int argc, char **argv, int root,
		       double interval_s);
void record_write_end_meta(struct session *s, const struct recorder_summary *sum);

/* Run the calling thread at the recorder's lower priority (nice 10). */
void record_lower_priority(void);

/* The session file a recording of pid goes to by default:
 * cowprof-PID-YYYYmmdd-HHMMSS.db in the current folder (caller frees). */
char *record_default_output(int pid);

/* Catch SIGINT, SIGTERM and SIGHUP: they stop the recording, or, while
 * record_set_child names run's CMD (0: none), are passed on to it. */
void record_install_handlers(void);
void record_set_child(int pid);

/* Create the session at path, record root's tree into it until root_done
 * (NULL: the root's exit), -d or a caught signal, finish it, and print the
 * summary. spool: run's preload spool folder, or NULL. Returns the exit
 * status (after a one-line message when it is not EXIT_OK). */
int record_into(const char *path, int argc, char **argv, int root,
		const struct rec_args *a, bool (*root_done)(void *),
		const char *spool);

/* "cowprof: recorded N samples of M processes over S s into PATH (SIZE)". */
void record_print_summary(const char *path, const struct recorder_summary *sum);

#endif
