/* fuzz_procstate_syscall.c - libFuzzer target for the /proc/PID/syscall and
 * wchan parsers
 * seeds: syscall wchan
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/syscall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct syscall_info sc;
	if (syscall_parse(text, size, &sc) == 0) {
		if (sc.kind == SYSCALL_IN && sc.nr < 0)
			__builtin_trap();
		if (sc.kind != SYSCALL_IN && sc.nr != -1)
			__builtin_trap();
		syscall_name(sc.nr, NULL, NULL);
	}
	char *w = syscall_wchan_parse(text, size);
	if (w && (strlen(w) == 0 || strlen(w) > size))
		__builtin_trap();
	free(w);
	return 0;
}
