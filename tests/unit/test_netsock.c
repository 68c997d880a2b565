/* test_netsock.c - /proc/PID/net/{unix,tcp,tcp6,udp}, from captured tables
 * (tests/fixtures/proc/wait_*) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "collectors/netsock.h"
#include "fixture.h"

static void test_net_unix_finds_socketpair_and_listener(void **state)
{
	(void)state;
	size_t len, n;
	struct netsock_unix *v;
	char *buf = fixture_read("proc/wait_unix/29237/net/unix", &len);
	assert_int_equal(netsock_unix_parse(buf, len, &v, &n), 0);
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
	netsock_unix_free(v, n);

	buf = fixture_read("proc/wait_unix_unaccepted/29269/net/unix", &len);
	assert_int_equal(netsock_unix_parse(buf, len, &v, &n), 0);
	free(buf);
	int listeners = 0, embryos = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].inode == 6264232) {
			assert_true(v[i].flags & NETSOCK_UNIX_LISTENING);
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
	netsock_unix_free(v, n);
}

static struct netsock_inet *inet_find(struct netsock_inet *v, size_t n,
				       uint64_t ino)
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
	struct netsock_inet *v;
	char *buf = fixture_read("proc/wait_recv_tcp/29258/net/tcp", &len);
	assert_int_equal(netsock_inet_parse(buf, len, AF_INET, NETSOCK_TCP, &v, &n), 0);
	free(buf);
	assert_int_equal(n, 5);
	struct netsock_inet *l = inet_find(v, n, 6264867);
	assert_int_equal(l->state, 10);
	assert_int_equal(l->local_port, 51519);
	char *a = netsock_inet_addr(AF_INET, l->local, l->local_port);
	assert_string_equal(a, "127.0.0.1:51519");
	free(a);
	struct netsock_inet *c = inet_find(v, n, 6264892);
	assert_int_equal(c->state, 1);
	assert_int_equal(c->local_port, 41132);
	assert_int_equal(c->remote_port, 51519);
	a = netsock_inet_addr(AF_INET, c->remote, c->remote_port);
	assert_string_equal(a, "127.0.0.1:51519");
	free(a);
	/* a TIME_WAIT line has inode 0 */
	assert_int_equal(inet_find(v, n, 0)->state, 6);
	assert_string_equal(netsock_tcp_state_name(6), "TIME_WAIT");
	free(v);
}

static void test_net_tcp6_and_udp(void **state)
{
	(void)state;
	size_t len, n;
	struct netsock_inet *v;
	char *buf = fixture_read("proc/wait_accept6/29259/net/tcp6", &len);
	assert_int_equal(netsock_inet_parse(buf, len, AF_INET6, NETSOCK_TCP, &v, &n), 0);
	free(buf);
	assert_int_equal(n, 1);
	char *a = netsock_inet_addr(AF_INET6, v[0].local, v[0].local_port);
	assert_string_equal(a, "[::1]:36939");
	free(a);
	free(v);
	buf = fixture_read("proc/wait_udp/29260/net/udp", &len);
	assert_int_equal(netsock_inet_parse(buf, len, AF_INET, NETSOCK_UDP, &v, &n), 0);
	free(buf);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].inode, 6264924);
	assert_int_equal(v[0].local_port, 58010);
	assert_int_equal(v[0].proto, NETSOCK_UDP);
	free(v);
	/* tcp6 text read as IPv4 does not parse */
	buf = fixture_read("proc/wait_accept6/29259/net/tcp6", &len);
	assert_int_equal(netsock_inet_parse(buf, len, AF_INET, NETSOCK_TCP, &v, &n), -EINVAL);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_unix_finds_socketpair_and_listener),
		cmocka_unit_test(test_net_tcp_listener_and_connection),
		cmocka_unit_test(test_net_tcp6_and_udp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
