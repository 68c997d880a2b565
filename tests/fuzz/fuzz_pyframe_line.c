/* fuzz_pyframe_line.c - CPython 3.11 location tables (pyframe_line_from_table)
 * and the same tables decoded through a reader in chunks, as a frame's line
 * in a walk over fuzzed memory.
 *
 * Input: firstlineno (4 bytes LE), lasti (4 bytes LE), then the table.
 * seeds: pyframe
 */
#include "collectors/pyframe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE 0x10000000ULL

struct mem {
	const uint8_t *p;
	size_t len;
};

static bool rd(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct mem *m = ctx;
	if (addr < BASE || addr - BASE > m->len || len > m->len - (addr - BASE))
		return false;
	memcpy(buf, m->p + (addr - BASE), len);
	return true;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int32_t first, lasti;
	struct pyframe_layout l;
	struct pyframe f[4];

	if (size < 8)
		return 0;
	memcpy(&first, data, 4);
	memcpy(&lasti, data + 4, 4);
	size_t tlen = size - 8;
	int line = pyframe_line_from_table(data + 8, tlen, first, lasti);

	/* the same table behind a bytes object, in a frame's code object:
	 * the chunked reader must give the same line */
	size_t code_units = (size_t)(lasti < 0 ? 0 : lasti) + 1;
	if (code_units > 1 << 20)
		return 0;
	size_t off_ts = 0, off_cf = 256, off_fr = 512, off_code = 1024,
	       off_bytes = 2048, total = off_bytes + 32 + tlen;
	uint8_t *m = calloc(1, total);
	if (!m)
		return 0;
	pyframe_layout_init_311(&l);
	put64(m + off_ts + l.off_tstate_cframe, BASE + off_cf);
	put64(m + off_cf + l.off_cframe_current_frame, BASE + off_fr);
	put64(m + off_fr + l.off_frame_code, BASE + off_code);
	put64(m + off_fr + l.off_frame_prev_instr, BASE + off_code +
	      l.off_code_code_adaptive + 2 * (uint64_t)(int64_t)lasti);
	m[off_fr + l.off_frame_owner] = 1;   /* a generator: never skipped */
	put64(m + off_code + l.off_bytes_size, code_units);
	memcpy(m + off_code + l.off_code_firstlineno, &first, 4);
	put64(m + off_code + l.off_code_linetable, BASE + off_bytes);
	put64(m + off_bytes + l.off_bytes_size, tlen);
	memcpy(m + off_bytes + l.off_bytes_data, data + 8, tlen);
	struct mem mm = { m, total };
	int n = pyframe_walk(&l, rd, &mm, BASE + off_ts, f, 4);
	if (n != 1 || f[0].line != line)
		abort();
	free(m);
	return 0;
}
