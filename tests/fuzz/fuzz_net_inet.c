/* fuzz_net_inet.c - libFuzzer target for the /proc/net/{tcp,tcp6,udp,udp6}
 * parser, read as IPv4 and as IPv6
 * seeds: net/tcp net/tcp6 net/udp
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "collectors/netsock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int families[] = { AF_INET, AF_INET6 };
	for (int f = 0; f < 2; f++) {
		struct netsock_inet *v;
		size_t n;
		if (netsock_inet_parse((const char *)data, size, families[f],
				       NETSOCK_TCP, &v, &n) < 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (v[i].family != families[f])
				__builtin_trap();
			free(netsock_inet_addr(v[i].family, v[i].remote, v[i].remote_port));
			netsock_tcp_state_name(v[i].state);
		}
		free(v);
	}
	return 0;
}
