/* fuzz_symbols.c - libFuzzer target: arbitrary bytes as an ELF file
 *
 * The bytes become a file (a memfd, named through /proc/self/fd) that the
 * symbol cache loads with libelf and libdw, then addresses across it are
 * resolved: a malformed ELF may give no names, never a crash.
 * seeds: files:build/symtarget/symtarget files:build/symtarget/symtarget-stripped files:build/symtarget/symtarget-nopie
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "collectors/symbols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_symbols", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct symbols *s = symbols_new();
	struct symbols_frame f;
	uint64_t tail = 0;
	if (size >= 8)
		memcpy(&tail, data + size - 8, 8);
	symbols_resolve(s, path, tail, &f);
	size_t step = size / 64 + 1;
	for (size_t off = 0; off < size + 0x2000; off += step) {
		symbols_resolve(s, path, off, &f);
		/* what a frame promises: strings that can be read */
		if ((f.function && strlen(f.function) > size) ||
		    (f.source_file && strlen(f.source_file) > size) ||
		    !f.module || f.module_offset != off)
			__builtin_trap();
	}
	symbols_free(s);
	close(fd);
	return 0;
}
