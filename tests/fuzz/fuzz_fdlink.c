/* fuzz_fdlink.c - libFuzzer target for the /proc/PID/fd/N link parser
 * seeds: fdlinks
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "collectors/fdlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fdlink l;
	if (fdlink_parse((const char *)data, size, &l) == 0) {
		if (!l.name || strlen(l.name) > size)
			__builtin_trap();
		if ((l.kind == FDLINK_PIPE || l.kind == FDLINK_SOCKET) && l.name[0])
			__builtin_trap();
		fdlink_release(&l);
	}
	return 0;
}
