/* fuzz_mapline.c - libFuzzer target for the preload library's in-place maps
 * line parser
 * seeds: maps
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preload/mapline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the library reads a NUL-terminated buffer */
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	const char *p = text, *end = text + strlen(text);
	struct mapline m;
	size_t lines = 0;
	while (mapline_next(&p, &m)) {
		if (p > end || m.path < text || m.path + m.pathlen > end ||
		    strlen(m.perms) != 4 || ++lines > size + 1)
			__builtin_trap();
	}
	free(text);
	return 0;
}
