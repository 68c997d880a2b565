/* recording.h - what `record`, `run` and `top` share: their options, the
 * session's meta data, the perf attach path's start and end, the summary */
#ifndef COWPROF_CLI_RECORDING_H
#define COWPROF_CLI_RECORDING_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/commands.h"

struct attach;
struct recorder_summary;
struct session;

struct recording_args {
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
int recording_parse_args(const struct cli_command *cmd, int argc, char **argv,
			 struct recording_args *a);

/* With a->faults: open the perf attach path on root's tree and say on
 * stderr how many processes it follows. Returns 0 (*out NULL without
 * --faults), or EXIT_RUNTIME after a one-line message. */
int recording_open_faults(const struct recording_args *a, int root, struct attach **out);

/* "following the copy-on-write faults of N processes", on stderr. */
void recording_say_following(struct attach *fp);

/* Store what the perf attach path saw in the session's meta data (fault_*
 * keys; s may be NULL), print it on stderr if say, then free fp. NULL
 * does nothing. */
void recording_close_faults(struct attach *fp, struct session *s, bool say);

/* Parse the one PID argument at argv[first_arg]. Returns -1 to go on, or
 * EXIT_USAGE after a one-line message. */
int recording_parse_pid(const char *cmd, int argc, char **argv, int first_arg,
			int *pid);

/* Store a->hung_after_s as the session's meta hung_after_s. */
void recording_write_hung_after(struct session *s, const struct recording_args *a);

/* Parse a number of seconds >= min; returns 0, or -1 if s is not one. */
int recording_parse_seconds(const char *s, double min, double *out);

/* Can pid be recorded at all? Returns -1 to go on, or EXIT_RUNTIME after
 * a one-line message (no such process, a kernel thread). */
int recording_check_root(int pid);

/* The session's meta data at its start (the command line argv, the target:
 * argv from target_arg on, or with 0 the root's command line, the
 * interval, the machine) and at its end. */
void recording_write_meta(struct session *s, int argc, char **argv, int root,
			  int target_arg, double interval_s);
void recording_write_end_meta(struct session *s, const struct recorder_summary *sum);

/* Run the calling thread at the recorder's lower priority (nice 10). */
void recording_lower_priority(void);

/* Under sudo, give the session at path to the user who ran sudo: 0600
 * and root's, they could not read their own recording (SQLite gives its
 * -wal and -shm the same owner). */
void recording_give_to_sudo_user(const char *path);

/* The session file a recording of pid goes to by default:
 * cowprof-PID-YYYYmmdd-HHMMSS.db in the current folder (caller frees). */
char *recording_default_output(int pid);

/* Catch SIGINT, SIGTERM and SIGHUP: they stop the recording, or, while
 * recording_set_child names run's CMD (0: none), are passed on to it. */
void recording_install_handlers(void);
void recording_set_child(int pid);

/* How run hands its command to the recording. */
struct recording_child {
	/* true when the root has exited (run reaps it there) */
	bool (*done)(void *ctx);
	/* start it: called once the session exists and the recorder can see
	 * its first fork (recorder_opts.ready) */
	int (*start)(void *ctx, char *err, size_t errlen);
	void *ctx;
	const char *spool;       /* the preload spool folder, or NULL */
};

/* Create the session at path, record root's tree into it until the root
 * exits (child->done with run), -d or a caught signal, finish it, and
 * print the summary. child: run's command, NULL for record. Returns the
 * exit status (after a one-line message when it is not EXIT_OK). */
int recording_into(const char *path, int argc, char **argv, int root,
		   const struct recording_args *a,
		   const struct recording_child *child);

/* "cowprof: recorded N samples of M processes over S s into PATH (SIZE)". */
void recording_print_summary(const char *path, const struct recorder_summary *sum);

#endif
