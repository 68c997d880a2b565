/* fuzz_tracefs.c - libFuzzer target for the tracefs format parser
 * seeds: find:tests/fixtures/tracefs:format
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "collectors/tracefs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tracefs_format f;
	if (tracefs_format_parse((const char *)data, size, &f) == 0) {
		if (f.id <= 0 || !f.name)
			__builtin_trap();
		for (size_t i = 0; i < f.nfields; i++) {
			const struct tracefs_field *fd = &f.fields[i];
			if (!fd->name[0] || fd->offset + (uint64_t)fd->size > f.record_size)
				__builtin_trap();
			if (tracefs_format_field(&f, fd->name) == NULL)
				__builtin_trap();
		}
		tracefs_format_release(&f);
	} else if (f.fields || f.name) {
		__builtin_trap();  /* an error leaves f empty */
	}
	return 0;
}
