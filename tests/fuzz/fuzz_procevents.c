/* fuzz_procevents.c - libFuzzer target for the proc connector decoder
 * seeds: netlink
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/procevents.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* netlink buffers are 4-byte aligned, as recv() gives them */
	void *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	struct procev ev[8];
	int n = procevents_parse(buf, size, ev, 8);
	if (n > 8)
		__builtin_trap();
	for (int i = 0; i < n; i++)
		if (ev[i].kind == PROCEV_EXIT && ev[i].exit_code >= 0 && ev[i].exit_signal >= 0)
			__builtin_trap();
	free(buf);
	return 0;
}
