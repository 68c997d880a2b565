/* test_procstate.c - what a process waits on, from captured /proc files and
 * sock_diag replies (tests/fixtures/proc/wait_*, running, netlink/unix_diag_*) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fixture.h"
#include "collectors/procstate.h"

#define PROC FIXTURE_DIR "/proc/"

/* ---- wchan, syscall ---------------------------------------------------- */

static char *wchan_of(const char *rel)
{
	size_t len;
	char *buf = fixture_read(rel, &len);
	char *w = procstate_wchan_parse(buf, len);
	free(buf);
	return w;
}

static void test_wchan_parses_symbol_and_zero(void **state)
{
	(void)state;
	char *w = wchan_of("proc/wait_pipe/29236/wchan");
	assert_string_equal(w, "anon_pipe_read");
	free(w);
	w = wchan_of("proc/wait_unix/29237/wchan");
	assert_string_equal(w, "unix_stream_read_generic");
	free(w);
	/* a running process reads "0" */
	assert_null(wchan_of("proc/running/29267/wchan"));
	assert_null(procstate_wchan_parse("", 0));
	assert_null(procstate_wchan_parse("a b", 3));
	w = procstate_wchan_parse("poll_schedule_timeout.constprop.0\n", 34);
	assert_string_equal(w, "poll_schedule_timeout.constprop.0");
	free(w);
}

static int syscall_of(const char *rel, struct procstate_syscall *sc)
{
	size_t len;
	char *buf = fixture_read(rel, &len);
	int r = procstate_syscall_parse(buf, len, sc);
	free(buf);
	return r;
}

static void test_syscall_parses_read_on_fd0(void **state)
{
	(void)state;
	struct procstate_syscall sc;
	assert_int_equal(syscall_of("proc/wait_pipe/29236/syscall", &sc), 0);
	assert_int_equal(sc.kind, PROCSTATE_SC_IN);
	assert_int_equal(sc.nr, SYS_read);
	assert_int_equal(sc.args[0], 0);
	assert_int_equal(sc.args[2], 0x20000);  /* cat's buffer size */
	assert_true(sc.sp != 0 && sc.pc != 0);
}

static void test_syscall_wait4_pid_is_minus_one_in_32_bits(void **state)
{
	(void)state;
	struct procstate_syscall sc;
	assert_int_equal(syscall_of("proc/wait_wait4/29261/syscall", &sc), 0);
	assert_int_equal(sc.nr, SYS_wait4);
	assert_int_equal(sc.args[0], 0xffffffffu);
	assert_int_equal(syscall_of("proc/wait_futex/29264/syscall", &sc), 0);
	assert_int_equal(sc.nr, SYS_futex);
	assert_int_equal(sc.args[1], 0x189);  /* WAIT_BITSET | PRIVATE | CLOCK_REALTIME */
}

static void test_syscall_running_and_not_in_a_call(void **state)
{
	(void)state;
	struct procstate_syscall sc;
	assert_int_equal(syscall_of("proc/running/29267/syscall", &sc), 0);
	assert_int_equal(sc.kind, PROCSTATE_SC_RUNNING);
	/* the kernel's format for a task blocked outside a system call
	 * (proc_pid_syscall: "%d 0x%lx 0x%lx\n" with nr -1) */
	const char *none = "-1 0x7ffd3eda7ad0 0x7f72fcaa22ad\n";
	assert_int_equal(procstate_syscall_parse(none, strlen(none), &sc), 0);
	assert_int_equal(sc.kind, PROCSTATE_SC_NONE);
	assert_int_equal(sc.nr, -1);
	assert_int_equal(sc.pc, 0x7f72fcaa22adULL);
}

static void test_syscall_rejects_malformed(void **state)
{
	(void)state;
	struct procstate_syscall sc;
	const char *bad[] = { "", "runnin", "0 0x1 0x2", "-2 0x1 0x2", "x 0x0",
			      "0 0x0 0x0 0x0 0x0 0x0 0x0 0x0 0x0 0x0",
			      "0 0x0 0x0 0x0 0x0 0x0 0x0 0x0 0xz" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(procstate_syscall_parse(bad[i], strlen(bad[i]), &sc), -EINVAL);
}

static void test_syscall_names_and_classes(void **state)
{
	(void)state;
	enum procstate_wait w;
	int fd_arg;
	assert_string_equal(procstate_syscall_name(SYS_recvfrom, &w, &fd_arg), "recvfrom");
	assert_int_equal(w, PROCSTATE_WAIT_FD);
	assert_int_equal(fd_arg, 0);
	assert_string_equal(procstate_syscall_name(SYS_epoll_wait, &w, &fd_arg), "epoll_wait");
	assert_int_equal(w, PROCSTATE_WAIT_EPOLL);
	assert_string_equal(procstate_syscall_name(SYS_waitid, &w, &fd_arg), "waitid");
	assert_int_equal(w, PROCSTATE_WAIT_CHILD);
	assert_int_equal(fd_arg, -1);
	assert_string_equal(procstate_syscall_name(SYS_clock_nanosleep, &w, NULL), "clock_nanosleep");
	assert_int_equal(w, PROCSTATE_WAIT_SLEEP);
	assert_null(procstate_syscall_name(100000, &w, &fd_arg));
	assert_int_equal(w, PROCSTATE_WAIT_OTHER);
}

/* ---- fd links ---------------------------------------------------------- */

static void link_of(const char *path, struct procstate_fdlink *l)
{
	char buf[256];
	ssize_t n = readlink(path, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(procstate_fdlink_parse(buf, (size_t)n, l), 0);
}

static void test_fdlink_kinds_from_captured_links(void **state)
{
	(void)state;
	struct procstate_fdlink l;
	link_of(PROC "wait_pipe/29236/fd/0", &l);
	assert_int_equal(l.kind, PROCSTATE_FD_PIPE);
	assert_int_equal(l.inode, 6262724);
	procstate_fdlink_release(&l);
	link_of(PROC "wait_unix/29237/fd/3", &l);
	assert_int_equal(l.kind, PROCSTATE_FD_SOCKET);
	assert_int_equal(l.inode, 6262726);
	procstate_fdlink_release(&l);
	link_of(PROC "wait_unix/29237/fd/0", &l);
	assert_int_equal(l.kind, PROCSTATE_FD_PATH);
	assert_string_equal(l.name, "/dev/null");
	procstate_fdlink_release(&l);
	link_of(PROC "wait_epoll/29268/fd/5", &l);
	assert_int_equal(l.kind, PROCSTATE_FD_ANON);
	assert_string_equal(l.name, "eventpoll");
	procstate_fdlink_release(&l);
}

static void test_fdlink_other_forms(void **state)
{
	(void)state;
	struct procstate_fdlink l;
	assert_int_equal(procstate_fdlink_parse("anon_inode:inotify", 18, &l), 0);
	assert_int_equal(l.kind, PROCSTATE_FD_ANON);
	assert_string_equal(l.name, "inotify");
	procstate_fdlink_release(&l);
	assert_int_equal(procstate_fdlink_parse("net:[4026531840]", 16, &l), 0);
	assert_int_equal(l.kind, PROCSTATE_FD_OTHER);
	assert_string_equal(l.name, "net");
	assert_int_equal(l.inode, 4026531840ULL);
	procstate_fdlink_release(&l);
	assert_int_equal(procstate_fdlink_parse("pipe:[12x]", 10, &l), 0);
	assert_int_equal(l.kind, PROCSTATE_FD_OTHER);  /* not a pipe inode: kept as text */
	procstate_fdlink_release(&l);
	assert_int_equal(procstate_fdlink_parse("", 0, &l), -EINVAL);
}

/* ---- /proc/net --------------------------------------------------------- */

static void test_net_unix_finds_socketpair_and_listener(void **state)
{
	(void)state;
	size_t len, n;
	struct procstate_unix_sock *v;
	char *buf = fixture_read("proc/wait_unix/29237/net/unix", &len);
	assert_int_equal(procstate_net_unix_parse(buf, len, &v, &n), 0);
	free(buf);
	assert_int_equal(n, 4);
	bool seen = false;
	for (size_t i = 0; i < n; i++)
		if (v[i].inode == 6262726) {
			seen = true;
			assert_int_equal(v[i].type, SOCK_STREAM);
			assert_int_equal(v[i].state, 3);  /* SS_CONNECTED */
			assert_string_equal(v[i].path, "");
		}
	assert_true(seen);
	procstate_unix_socks_free(v, n);

	buf = fixture_read("proc/wait_unix_unaccepted/29269/net/unix", &len);
	assert_int_equal(procstate_net_unix_parse(buf, len, &v, &n), 0);
	free(buf);
	int listeners = 0, embryos = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].inode == 6264232) {
			assert_true(v[i].flags & PROCSTATE_UNIX_LISTENING);
			assert_string_equal(v[i].path, "/tmp/cowprof-fixture-listener");
			listeners++;
		}
		if (v[i].inode == 0) {  /* the connection nobody accepted */
			assert_int_equal(v[i].state, 2);
			embryos++;
		}
	}
	assert_int_equal(listeners, 1);
	assert_int_equal(embryos, 1);
	procstate_unix_socks_free(v, n);
}

static struct procstate_inet_sock *inet_find(struct procstate_inet_sock *v,
					     size_t n, uint64_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].inode == ino)
			return &v[i];
	fail_msg("inode %llu not found", (unsigned long long)ino);
	return NULL;
}

static void test_net_tcp_listener_and_connection(void **state)
{
	(void)state;
	size_t len, n;
	struct procstate_inet_sock *v;
	char *buf = fixture_read("proc/wait_recv_tcp/29258/net/tcp", &len);
	assert_int_equal(procstate_net_inet_parse(buf, len, AF_INET, PROCSTATE_TCP, &v, &n), 0);
	free(buf);
	assert_int_equal(n, 5);
	struct procstate_inet_sock *l = inet_find(v, n, 6264867);
	assert_int_equal(l->state, 10);
	assert_int_equal(l->local_port, 51519);
	char *a = procstate_inet_addr(AF_INET, l->local, l->local_port);
	assert_string_equal(a, "127.0.0.1:51519");
	free(a);
	struct procstate_inet_sock *c = inet_find(v, n, 6264892);
	assert_int_equal(c->state, 1);
	assert_int_equal(c->local_port, 41132);
	assert_int_equal(c->remote_port, 51519);
	a = procstate_inet_addr(AF_INET, c->remote, c->remote_port);
	assert_string_equal(a, "127.0.0.1:51519");
	free(a);
	/* a TIME_WAIT line has inode 0 */
	assert_int_equal(inet_find(v, n, 0)->state, 6);
	assert_string_equal(procstate_tcp_state_name(6), "TIME_WAIT");
	free(v);
}

static void test_net_tcp6_and_udp(void **state)
{
	(void)state;
	size_t len, n;
	struct procstate_inet_sock *v;
	char *buf = fixture_read("proc/wait_accept6/29259/net/tcp6", &len);
	assert_int_equal(procstate_net_inet_parse(buf, len, AF_INET6, PROCSTATE_TCP, &v, &n), 0);
	free(buf);
	assert_int_equal(n, 1);
	char *a = procstate_inet_addr(AF_INET6, v[0].local, v[0].local_port);
	assert_string_equal(a, "[::1]:36939");
	free(a);
	free(v);
	buf = fixture_read("proc/wait_udp/29260/net/udp", &len);
	assert_int_equal(procstate_net_inet_parse(buf, len, AF_INET, PROCSTATE_UDP, &v, &n), 0);
	free(buf);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].inode, 6264924);
	assert_int_equal(v[0].local_port, 58010);
	assert_int_equal(v[0].proto, PROCSTATE_UDP);
	free(v);
	/* tcp6 text read as IPv4 does not parse */
	buf = fixture_read("proc/wait_accept6/29259/net/tcp6", &len);
	assert_int_equal(procstate_net_inet_parse(buf, len, AF_INET, PROCSTATE_TCP, &v, &n), -EINVAL);
	free(buf);
}

/* ---- sock_diag --------------------------------------------------------- */

static int diag_of(const char *name, struct procstate_unix_diag_list *l, bool *done)
{
	size_t len;
	char path[128];
	snprintf(path, sizeof(path), "netlink/%s.bin", name);
	char *buf = fixture_read(path, &len);
	memset(l, 0, sizeof(*l));
	int r = procstate_unix_diag_parse(buf, len, l, done);
	free(buf);
	return r;
}

static void test_unix_diag_peer_of_socketpair(void **state)
{
	(void)state;
	struct procstate_unix_diag_list l;
	bool done;
	assert_int_equal(diag_of("unix_diag_peer", &l, &done), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.items[0].inode, 6262726);
	assert_true(l.items[0].has_peer);
	/* the child's end, fd 4 of 29238 */
	assert_int_equal(l.items[0].peer_inode, 6262727);
	assert_int_equal(l.items[0].state, 1);
	assert_string_equal(l.items[0].name, "");
	procstate_unix_diag_list_release(&l);
}

static void test_unix_diag_unaccepted_has_no_peer_inode(void **state)
{
	(void)state;
	struct procstate_unix_diag_list l;
	bool done;
	assert_int_equal(diag_of("unix_diag_unaccepted", &l, &done), 0);
	assert_int_equal(l.n, 1);
	assert_true(l.items[0].has_peer);
	assert_int_equal(l.items[0].peer_inode, 0);
	procstate_unix_diag_list_release(&l);
}

static void test_unix_diag_listener_lists_queued_client(void **state)
{
	(void)state;
	struct procstate_unix_diag_list l;
	bool done;
	assert_int_equal(diag_of("unix_diag_listeners-0", &l, &done), 0);
	assert_false(done);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.items[0].inode, 6264232);
	assert_int_equal(l.items[0].state, 10);
	assert_string_equal(l.items[0].name, "/tmp/cowprof-fixture-listener");
	assert_int_equal(l.items[0].nicons, 1);
	assert_int_equal(l.items[0].icons[0], 6264233);
	assert_true(l.items[0].has_rqlen);
	assert_int_equal(l.items[0].rqueue, 1);
	assert_int_equal(l.items[0].wqueue, 4);
	procstate_unix_diag_list_release(&l);
	assert_int_equal(diag_of("unix_diag_listeners-1", &l, &done), 0);
	assert_true(done);
	assert_int_equal(l.n, 0);
	procstate_unix_diag_list_release(&l);
}

static void test_unix_diag_error_reply_is_enoent(void **state)
{
	(void)state;
	struct procstate_unix_diag_list l;
	bool done;
	assert_int_equal(diag_of("unix_diag_missing", &l, &done), -ENOENT);
	assert_true(done);
	procstate_unix_diag_list_release(&l);
	/* truncated: a header that claims more than there is */
	size_t len;
	char *buf = fixture_read("netlink/unix_diag_peer.bin", &len);
	memset(&l, 0, sizeof(l));
	assert_int_equal(procstate_unix_diag_parse(buf, len - 4, &l, &done), -EINVAL);
	procstate_unix_diag_list_release(&l);
	free(buf);
}

/* ---- procstate_read, resolve, describe on captured trees ---------------- */

static char *describe_case(const char *cas, int pid, const int *tree, size_t ntree,
			   struct procstate *ps)
{
	char root[256];
	snprintf(root, sizeof(root), PROC "%s", cas);
	assert_int_equal(procstate_read(root, pid, ps), 0);
	if (tree) {
		struct procstate_fdtab tab = { 0 };
		assert_true(procstate_needs_fdtab(ps));
		assert_int_equal(procstate_fdtab_scan(root, tree, ntree, &tab), 0);
		procstate_resolve_peer(root, ps, &tab);
		procstate_fdtab_release(&tab);
	}
	return procstate_describe_wait(ps);
}

static void test_read_pipe_names_the_writer(void **state)
{
	(void)state;
	struct procstate ps;
	const int tree[] = { 29235, 29236 };
	char *d = describe_case("wait_pipe", 29236, tree, 2, &ps);
	assert_string_equal(d, "read(fd 0) on pipe, write end held by 29235 (sleep)");
	assert_int_equal(ps.state, 'S');
	assert_string_equal(ps.wchan, "anon_pipe_read");
	assert_int_equal(ps.link.kind, PROCSTATE_FD_PIPE);
	assert_int_equal(ps.peer, PROCSTATE_PEER_PIPE);
	assert_int_equal(ps.nrefs, 1);
	free(d);
	procstate_release(&ps);
}

static void test_read_pipe_without_writer_in_the_tree(void **state)
{
	(void)state;
	struct procstate ps;
	const int tree[] = { 29236 };
	char *d = describe_case("wait_pipe", 29236, tree, 1, &ps);
	assert_string_equal(d, "read(fd 0) on pipe, write end held by no process of the tree");
	free(d);
	procstate_release(&ps);
}

static void test_read_with_stat_matches_read(void **state)
{
	(void)state;
	struct proc_stat st;
	struct procstate a, b;
	const char *root = PROC "wait_wait4";
	assert_int_equal(proctree_read_stat(root, 29261, &st), 0);
	assert_int_equal(procstate_read_with_stat(root, &st, &a), 0);
	assert_int_equal(procstate_read(root, 29261, &b), 0);
	char *da = procstate_describe_wait(&a), *db = procstate_describe_wait(&b);
	assert_string_equal(da, db);
	assert_int_equal(a.cpu_ticks, b.cpu_ticks);
	assert_int_equal(a.nrefs, 2);
	free(da);
	free(db);
	procstate_release(&a);
	procstate_release(&b);
	/* a zombie: nothing more is read */
	st.state = 'Z';
	assert_int_equal(procstate_read_with_stat(root, &st, &a), 0);
	assert_null(a.wchan);
	da = procstate_describe_wait(&a);
	assert_string_equal(da, "zombie (exited, not reaped)");
	free(da);
	procstate_release(&a);
}

static void test_read_thread_blocked_while_main_joins(void **state)
{
	(void)state;
	const char *root = PROC "wait_thread";
	int *tids;
	size_t n;
	assert_int_equal(procstate_list_threads(root, 27550, &tids, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(tids[0], 27550);
	assert_int_equal(tids[1], 27571);
	free(tids);
	struct procstate ps;
	assert_int_equal(procstate_read_thread(root, 27550, 27571, &ps), 0);
	assert_int_equal(ps.pid, 27550);
	assert_int_equal(ps.tid, 27571);
	assert_string_equal(ps.wchan, "anon_pipe_read");
	const int tree[] = { 27550, 27570 };
	struct procstate_fdtab tab = { 0 };
	procstate_fdtab_scan(root, tree, 2, &tab);
	assert_int_equal(procstate_resolve_peer(root, &ps, &tab), 0);
	char *d = procstate_describe_wait(&ps);
	assert_string_equal(d, "read(fd 3) on pipe, write end held by 27570 (python3)");
	free(d);
	procstate_release(&ps);
	/* the main thread, read either way */
	assert_int_equal(procstate_read_thread(root, 27550, 27550, &ps), 0);
	d = procstate_describe_wait(&ps);
	assert_string_equal(d, "futex wait (a lock or condition)");
	free(d);
	procstate_release(&ps);
	procstate_fdtab_release(&tab);
	assert_int_equal(procstate_read_thread(root, 27550, 4242, &ps), -ESRCH);
}

static void test_read_tcp_recv_names_the_other_end(void **state)
{
	(void)state;
	struct procstate ps;
	const int tree[] = { 29239, 29258 };
	char *d = describe_case("wait_recv_tcp", 29258, tree, 2, &ps);
	assert_string_equal(d, "recvfrom(fd 3) on TCP 127.0.0.1:41132 <- 127.0.0.1:51519, "
			       "peer held by 29239 (python3)");
	assert_int_equal(ps.sock, PROCSTATE_SOCK_INET);
	free(d);
	procstate_release(&ps);
}

static void test_read_each_captured_wait(void **state)
{
	(void)state;
	static const struct {
		const char *cas;
		int pid;
		const char *line;
	} cases[] = {
		{ "wait_accept", 29239, "accept4(fd 3) on TCP 127.0.0.1:51519 (listening)" },
		{ "wait_accept6", 29259, "accept4(fd 3) on TCP [::1]:36939 (listening)" },
		{ "wait_udp", 29260, "recvfrom(fd 3) on UDP 127.0.0.1:58010" },
		{ "wait_unix", 29237, "recvfrom(fd 3) on unix stream socket" },
		{ "wait_wait4", 29261, "wait4 (children 29262, 29263)" },
		{ "wait_futex", 29264, "futex wait (a lock or condition)" },
		{ "wait_sleep", 29266, "sleeping (clock_nanosleep)" },
		{ "running", 29267, "running" },
		{ "wait_epoll", 29268, "epoll_wait(fd 5) on 2 fds" },
		{ "wait_unix_unaccepted", 29269, "recvfrom(fd 4) on unix stream socket" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct procstate ps;
		char *d = describe_case(cases[i].cas, cases[i].pid, NULL, 0, &ps);
		assert_string_equal(d, cases[i].line);
		free(d);
		procstate_release(&ps);
	}
}

static void test_read_vanished_is_esrch(void **state)
{
	(void)state;
	struct procstate ps;
	assert_int_equal(procstate_read(PROC "vanished", 4242, &ps), -ESRCH);
	procstate_release(&ps);
}

static void test_describe_states_without_a_call(void **state)
{
	(void)state;
	struct procstate ps = { .state = 'Z', .fd = -1 };
	char *d = procstate_describe_wait(&ps);
	assert_string_equal(d, "zombie (exited, not reaped)");
	free(d);
	ps.state = 'D';
	ps.sc.kind = PROCSTATE_SC_NONE;
	ps.sc.nr = -1;
	ps.wchan = "folio_wait_bit_common";
	ps.exiting = true;
	d = procstate_describe_wait(&ps);
	assert_string_equal(d, "not in a system call, in folio_wait_bit_common (exiting)");
	free(d);
}

static void test_describe_pipe_write_with_no_reader(void **state)
{
	(void)state;
	struct procstate ps = {
		.pid = 10, .state = 'S', .fd = 1, .sc_name = "write",
		.sc = { .kind = PROCSTATE_SC_IN, .nr = SYS_write },
		.wait = PROCSTATE_WAIT_FD, .fd_write_side = true,
		.link = { .kind = PROCSTATE_FD_PIPE, .inode = 5 },
		.peer = PROCSTATE_PEER_PIPE,
	};
	char *d = procstate_describe_wait(&ps);
	assert_string_equal(d, "write(fd 1) on pipe, read end held by no process of the tree");
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wchan_parses_symbol_and_zero),
		cmocka_unit_test(test_syscall_parses_read_on_fd0),
		cmocka_unit_test(test_syscall_wait4_pid_is_minus_one_in_32_bits),
		cmocka_unit_test(test_syscall_running_and_not_in_a_call),
		cmocka_unit_test(test_syscall_rejects_malformed),
		cmocka_unit_test(test_syscall_names_and_classes),
		cmocka_unit_test(test_fdlink_kinds_from_captured_links),
		cmocka_unit_test(test_fdlink_other_forms),
		cmocka_unit_test(test_net_unix_finds_socketpair_and_listener),
		cmocka_unit_test(test_net_tcp_listener_and_connection),
		cmocka_unit_test(test_net_tcp6_and_udp),
		cmocka_unit_test(test_unix_diag_peer_of_socketpair),
		cmocka_unit_test(test_unix_diag_unaccepted_has_no_peer_inode),
		cmocka_unit_test(test_unix_diag_listener_lists_queued_client),
		cmocka_unit_test(test_unix_diag_error_reply_is_enoent),
		cmocka_unit_test(test_read_pipe_names_the_writer),
		cmocka_unit_test(test_read_pipe_without_writer_in_the_tree),
		cmocka_unit_test(test_read_with_stat_matches_read),
		cmocka_unit_test(test_read_thread_blocked_while_main_joins),
		cmocka_unit_test(test_read_tcp_recv_names_the_other_end),
		cmocka_unit_test(test_read_each_captured_wait),
		cmocka_unit_test(test_read_vanished_is_esrch),
		cmocka_unit_test(test_describe_states_without_a_call),
		cmocka_unit_test(test_describe_pipe_write_with_no_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
