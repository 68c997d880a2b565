/* test_sockdiag.c - unix_diag replies, from captured NETLINK_SOCK_DIAG
 * datagrams (tests/fixtures/netlink/unix_diag_*) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "collectors/sockdiag.h"
#include "fixture.h"

static int diag_of(const char *name, struct sockdiag_unix_list *l, bool *done)
{
	size_t len;
	char path[128];
	snprintf(path, sizeof(path), "netlink/%s.bin", name);
	char *buf = fixture_read(path, &len);
	memset(l, 0, sizeof(*l));
	int r = sockdiag_unix_parse(buf, len, l, done);
	free(buf);
	return r;
}

static void test_unix_diag_peer_of_socketpair(void **state)
{
	(void)state;
	struct sockdiag_unix_list l;
	bool done;
	assert_int_equal(diag_of("unix_diag_peer", &l, &done), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.items[0].inode, 6262726);
	assert_true(l.items[0].has_peer);
	/* the child's end, fd 4 of 29238 */
	assert_int_equal(l.items[0].peer_inode, 6262727);
	assert_int_equal(l.items[0].state, 1);
	assert_string_equal(l.items[0].name, "");
	sockdiag_unix_list_release(&l);
}

static void test_unix_diag_unaccepted_has_no_peer_inode(void **state)
{
	(void)state;
	struct sockdiag_unix_list l;
	bool done;
	assert_int_equal(diag_of("unix_diag_unaccepted", &l, &done), 0);
	assert_int_equal(l.n, 1);
	assert_true(l.items[0].has_peer);
	assert_int_equal(l.items[0].peer_inode, 0);
	sockdiag_unix_list_release(&l);
}

static void test_unix_diag_listener_lists_queued_client(void **state)
{
	(void)state;
	struct sockdiag_unix_list l;
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
	sockdiag_unix_list_release(&l);
	assert_int_equal(diag_of("unix_diag_listeners-1", &l, &done), 0);
	assert_true(done);
	assert_int_equal(l.n, 0);
	sockdiag_unix_list_release(&l);
}

static void test_unix_diag_error_reply_is_enoent(void **state)
{
	(void)state;
	struct sockdiag_unix_list l;
	bool done;
	assert_int_equal(diag_of("unix_diag_missing", &l, &done), -ENOENT);
	assert_true(done);
	sockdiag_unix_list_release(&l);
	/* truncated: a header that claims more than there is */
	size_t len;
	char *buf = fixture_read("netlink/unix_diag_peer.bin", &len);
	memset(&l, 0, sizeof(l));
	assert_int_equal(sockdiag_unix_parse(buf, len - 4, &l, &done), -EINVAL);
	sockdiag_unix_list_release(&l);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unix_diag_peer_of_socketpair),
		cmocka_unit_test(test_unix_diag_unaccepted_has_no_peer_inode),
		cmocka_unit_test(test_unix_diag_listener_lists_queued_client),
		cmocka_unit_test(test_unix_diag_error_reply_is_enoent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
