/* fuzz_net_unix.c - libFuzzer target for the /proc/net/unix parser
 * seeds: net/unix
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "collectors/netsock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netsock_unix *v;
	size_t n;
	if (netsock_unix_parse((const char *)data, size, &v, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!v[i].path || strlen(v[i].path) > size)
				__builtin_trap();
		netsock_unix_free(v, n);
	}
	return 0;
}
