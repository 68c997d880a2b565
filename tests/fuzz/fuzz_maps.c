/* fuzz_maps.c - libFuzzer target for the /proc/PID/maps parser
 * seeds: maps
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct maps_region *v;
	size_t n;
	if (maps_parse(text, size, &v, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			/* what a parsed region promises its users */
			if (v[i].end < v[i].start || !v[i].path ||
			    (unsigned)v[i].kind >= MAPS_KIND_COUNT ||
			    strlen(v[i].path) > size)
				__builtin_trap();
			(void)maps_kind_name(v[i].kind);
		}
		maps_free(v, n);
	}
	/* the first line alone, through the one-line entry point */
	const char *nl = memchr(text, '\n', size);
	struct maps_region r;
	if (maps_parse_line(text, nl ? (size_t)(nl - text) : size, &r) == 0)
		free(r.path);
	return 0;
}
