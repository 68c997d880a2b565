/* fuzz_unwind.c - libFuzzer target: unwinding arbitrary register and stack
 * snapshots (what a perf sample of a hostile or corrupted thread carries)
 * over this process's real mappings and files: never a crash, never more
 * frames than asked.
 * seeds: (none: random input)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/maps.h"
#include "collectors/unwind.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct unwinder *u;
static struct maps_region *maps;
static size_t nmaps;
static size_t text[64], ntext;   /* indices of executable file mappings */

static void setup(void)
{
	char *buf;
	size_t len;
	u = unwind_new();
	if (util_read_file("/proc/self/maps", &buf, &len) < 0 ||
	    maps_parse(buf, len, &maps, &nmaps) < 0)
		abort();
	free(buf);
	for (size_t i = 0; i < nmaps && ntext < 64; i++)
		if (maps[i].exec && maps[i].path[0] == '/')
			text[ntext++] = i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!u)
		setup();
	uint64_t regs[UNWIND_NREGS] = { 0 };
	size_t nreg = size / 8 < UNWIND_NREGS ? size / 8 : UNWIND_NREGS;
	memcpy(regs, data, nreg * 8);
	/* the first byte picks the ip's mapping half the time, so the walk
	 * starts in real code with real unwind tables */
	if (size && ntext && data[0] & 1) {
		const struct maps_region *r = &maps[text[data[0] / 2 % ntext]];
		regs[UNWIND_REG_IP] = r->start +
			regs[UNWIND_REG_IP] % (r->end - r->start);
	}
	regs[UNWIND_REG_SP] = 0x7f0000000000ULL + (regs[UNWIND_REG_SP] & 0xfff);
	const uint8_t *stack = data + nreg * 8;
	size_t stack_len = size - nreg * 8;
	uint64_t ips[32];
	enum unwind_method how[32];
	int max = size ? data[size - 1] % 33 : 32;
	int n = unwind_snapshot(u, 0, maps, nmaps, regs, stack, stack_len, ips,
				how, max);
	if (n < 0 || n > max || (max > 0 && (n < 1 || how[0] != UNWIND_FIRST ||
					     ips[0] != regs[UNWIND_REG_IP])))
		__builtin_trap();
	return 0;
}
