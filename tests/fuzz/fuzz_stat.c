/* fuzz_stat.c - libFuzzer target for the /proc/PID/stat and cmdline parsers
 * seeds: stat cmdline
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/proctree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct proc_stat st;
	if (proctree_stat_parse(text, size, &st) == 0) {
		if (st.pid <= 0 || memchr(st.comm, '\0', sizeof(st.comm)) == NULL)
			__builtin_trap();
	}
	char *cmd = proctree_cmdline_parse(text, size);
	if (!cmd || strlen(cmd) > size)
		__builtin_trap();
	free(cmd);
	return 0;
}
