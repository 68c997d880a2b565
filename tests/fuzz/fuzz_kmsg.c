/* fuzz_kmsg.c - libFuzzer target for the /dev/kmsg OOM line parser
 * seeds: find:tests/fixtures/kmsg:*.txt
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/kmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	struct kmsg_oom o;
	int r = kmsg_parse_record(buf, size, &o);
	if (r == 1) {
		if (o.pid < 0)
			__builtin_trap();
		kmsg_oom_release(&o);
	} else if (r != 0 && r != -22) {
		__builtin_trap();
	}
	free(buf);
	return 0;
}
