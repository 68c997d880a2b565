/* cmd_record.c - `cowprof record`: attach to a running tree and record it */
#include "cli/commands.h"
#include "cli/recording.h"
#include "common/util.h"

#include <stdlib.h>

const struct cli_command cli_record = {
	.name = "record",
	.fn = cmd_record,
	.synopsis = "[-i SEC] [-d SEC] [-o FILE] [--faults [--fault-period N|auto]]\n[--hung-after SEC] PID",
	.summary = "sample the tree until it exits, -d ends, or Ctrl-C; --faults: who copies",
	.help =
		"Attach to the running tree under PID (no restart, no change to it) and\n"
		"sample it every SEC seconds until the root exits, -d passes, or Ctrl-C\n"
		"or SIGTERM; then print a summary. The session file can be read later\n"
		"with 'cowprof report', 'cowprof compare' or sqlite3.\n"
		"\n"
		"  -i, --interval SEC  seconds between samples (default 1, at least 0.05)\n"
		"  -d, --duration SEC  stop after SEC seconds\n"
		"  -o, --output FILE   session file (default cowprof-PID-YYYYmmdd-HHMMSS.db)\n"
		"      --faults        also record who copies pages: each first write to an\n"
		"                      inherited page with its native and Python stacks,\n"
		"                      through perf (root; see docs/faults.md)\n"
		"      --fault-period N  with --faults, sample every Nth first write (each\n"
		"                      sample then stands for N pages)\n"
		"      --fault-period auto  every first write, but one in 32 while a\n"
		"                      process makes more than 5,000 a second\n"
		"      --hung-after SEC  call a process hung when it stays blocked in one\n"
		"                      place, using no CPU and no memory, this long (10)\n"
		"  -h, --help          show this help\n"
		"      --version\n",
};


int cmd_record(int argc, char **argv)
{
	struct recording_args a;
	int pid, r = recording_parse_args(&cli_record, argc, argv, &a);
	if (r >= 0)
		return r;
	if ((r = recording_parse_pid("record", argc, argv, a.first_arg, &pid)) >= 0)
		return r;
	if ((r = recording_check_root(pid)) >= 0)
		return r;
	recording_install_handlers();
	char *path = a.output ? xstrdup(a.output) : recording_default_output(pid);
	r = recording_into(path, argc, argv, pid, &a, NULL);
	free(path);
	return r;
}
