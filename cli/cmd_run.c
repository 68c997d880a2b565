/* cmd_run.c - `cowprof run`: start a command with the preload library and
 * record its tree from its first instant */
#include "cli/commands.h"
#include "cli/recording.h"
#include "common/format.h"
#include "common/util.h"
#include "faults/preloadenv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const struct cli_command cli_run = {
	.name = "run",
	.fn = cmd_run,
	.synopsis = "[-i SEC] [-d SEC] [-o FILE] [--no-faults] [--hung-after SEC]\n-- CMD [ARG...]",
	.summary = "start CMD, record its tree and which code copies each page",
	.help =
		"Start CMD and record its tree from its first instant, as 'record' does,\n"
		"until CMD exits (or -d passes). Also records, for every forked process,\n"
		"the first write to each page it inherited, with native and Python\n"
		"stacks (libcowprof_preload.so in LD_PRELOAD): 'cowprof report' then\n"
		"shows which code copied the pages. Ctrl-C and SIGTERM sent to cowprof\n"
		"are passed on to CMD; cowprof exits with CMD's status (128+N if a\n"
		"signal N ended it).\n"
		"\n"
		"  -i, --interval SEC  seconds between samples (default 1, at least 0.05)\n"
		"  -d, --duration SEC  stop recording after SEC seconds (CMD keeps running)\n"
		"  -o, --output FILE   session file (default cowprof-PID-YYYYmmdd-HHMMSS.db)\n"
		"      --no-faults     do not record who copied pages (no LD_PRELOAD)\n"
		"      --hung-after SEC  call a process hung when it stays blocked in one\n"
		"                      place, using no CPU and no memory, this long (10)\n"
		"  -h, --help          show this help\n"
		"      --version\n",
};

static int child_status = -1;
static pid_t child;

static bool child_done(void *ctx)
{
	(void)ctx;  /* the child of this process: child and child_status */
	int st;
	if (child_status < 0 && waitpid(child, &st, WNOHANG) == child)
		child_status = st;
	return child_status >= 0;
}

/* Fork CMD held at a pipe until the session exists; returns its pid. A
 * failed exec is reported through a close-on-exec pipe. */
static pid_t start_child(char **cmd, const struct preloadenv *pl, int *go_fd,
			 int *exec_fd)
{
	int go[2], ex[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		close(ex[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		int e = pl->lib ? preloadenv_child_env(pl) : 0;
		if (e == 0)
			execvp(cmd[0], cmd);
		e = e ? -e : errno;
		(void)!write(ex[1], &e, sizeof(e));
		_exit(127);
	}
	close(go[0]);
	close(ex[1]);
	*go_fd = go[1];
	*exec_fd = ex[0];
	return pid;
}

/* run's command, held at its go pipe */
struct held {
	int go, exec_fd;
	const char *name;
};

/* Let it exec, and wait until it did (the exec pipe closes) or could not
 * (it sends errno). */
static int release(void *ctx, char *err, size_t errlen)
{
	struct held *h = ctx;
	/* a signal passed on while it was held ended it: its status is
	 * run's, as when it ends before the first sample */
	if (child_done(NULL))
		return format_error(err, errlen, -ESRCH, "run: %s ended before it started",
				    h->name);
	(void)!write(h->go, "g", 1);
	close(h->go);
	h->go = -1;
	int e = 0;
	ssize_t n;
	do
		n = read(h->exec_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(h->exec_fd);
	if (n == (ssize_t)sizeof(e))
		return format_error(err, errlen, -e, "run: cannot run %s: %s",
				    h->name, strerror(e));
	return 0;
}

static int exit_status_of(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return EXIT_RUNTIME;
}

int cmd_run(int argc, char **argv)
{
	struct recording_args a;
	int r = recording_parse_args(&cli_run, argc, argv, &a);
	if (r >= 0)
		return r;
	if (a.first_arg >= argc) {
		cmd_error("run: missing CMD (see 'cowprof run --help')");
		return EXIT_USAGE;
	}
	struct preloadenv pl = { 0 };
	char err[512];
	if (!a.no_faults && preloadenv_init(&pl, err, sizeof(err)) < 0) {
		cmd_error("run: %s", err);
		return EXIT_RUNTIME;
	}
	int go, exfd;
	pid_t pid = start_child(argv + a.first_arg, &pl, &go, &exfd);
	if (pid < 0) {
		cmd_error("run: cannot start %s: %s", argv[a.first_arg], strerror(errno));
		preloadenv_release(&pl);
		return EXIT_RUNTIME;
	}
	child = pid;
	recording_set_child(pid);
	recording_install_handlers();
	/* the held command may die before it reads its go byte (a signal
	 * passed on to it): writing it must not kill run */
	signal(SIGPIPE, SIG_IGN);
	char *path = a.output ? xstrdup(a.output) : recording_default_output(pid);
	/* CMD waits at its go pipe until the session exists and the recorder
	 * can see its first fork: nothing it does is missed, and when the
	 * recording cannot be made (the file exists, the folder is read-only)
	 * it never runs */
	struct held h = { go, exfd, argv[a.first_arg] };
	struct recording_child rc = { child_done, release, &h, pl.spool };
	r = recording_into(path, argc, argv, pid, &a, &rc);
	if (h.go >= 0) {  /* never released: it ends at the closed pipe */
		close(h.go);
		close(h.exec_fd);
	}
	free(path);
	preloadenv_release(&pl);
	while (child_status < 0) {
		int st;
		if (waitpid(pid, &st, 0) == pid)
			child_status = st;
		else if (errno != EINTR)
			break;
	}
	recording_set_child(0);
	if (r != EXIT_OK)
		return r;
	return child_status >= 0 ? exit_status_of(child_status) : EXIT_RUNTIME;
}
