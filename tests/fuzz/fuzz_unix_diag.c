/* fuzz_unix_diag.c - libFuzzer target for the NETLINK_SOCK_DIAG unix reply
 * parser
 * seeds: unix_diag
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "collectors/sockdiag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockdiag_unix_list l = { 0 };
	bool done;
	sockdiag_unix_parse(data, size, &l, &done);
	for (size_t i = 0; i < l.n; i++) {
		if (!l.items[i].name || strlen(l.items[i].name) > size)
			__builtin_trap();
		if (l.items[i].nicons * 4 > size)
			__builtin_trap();
	}
	sockdiag_unix_list_release(&l);
	return 0;
}
