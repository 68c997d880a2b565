/* fuzz_smaps.c - libFuzzer target for the smaps and smaps_rollup parsers
 * seeds: smaps smaps_rollup
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "collectors/smaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct smaps_region *v;
	size_t n;
	if (smaps_parse(text, size, &v, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (v[i].map.end < v[i].map.start || !v[i].map.path ||
			    strlen(v[i].f.vmflags) >= sizeof(v[i].f.vmflags))
				__builtin_trap();
			(void)smaps_has_vmflag(&v[i].f, "hg");
			(void)smaps_has_vmflag(&v[i].f, "");
		}
		smaps_free(v, n);
	}
	struct smaps_fields r;
	if (smaps_rollup_parse(text, size, &r) == 0)
		(void)smaps_has_vmflag(&r, "wr");
	return 0;
}
