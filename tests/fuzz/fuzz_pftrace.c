/* fuzz_pftrace.c - libFuzzer target for the page_fault_user record
 * decoder, with this machine's layout (tests/fixtures/tracefs; run from the
 * project root)
 * seeds: find:tests/fixtures/pftrace:*.bin
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/pftrace.h"
#include "collectors/unwind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pftrace_layout layout;
static int have_layout;

static void load_layout(void)
{
	struct tracefs_format f;
	if (tracefs_read_format_at("tests/fixtures/tracefs", "exceptions/page_fault_user",
				   &f) < 0)
		abort();  /* run from the project root */
	if (pftrace_layout_init(&layout, &f, UNWIND_PERF_REGS_MASK, 4096) < 0)
		abort();
	tracefs_format_release(&f);
	have_layout = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!have_layout)
		load_layout();
	uint8_t *buf = malloc(size + 8);
	memcpy(buf, data, size);
	struct pftrace_record r;
	/* records with and without the event id first, as the header's
	 * type bits choose (a sample's type is 9) */
	layout.ids = size > 0 && (data[0] & 0x80);
	int e = pftrace_parse_record(&layout, buf, size, &r);
	if (e < -22 || e > 1)
		__builtin_trap();
	if (e == 1 && r.kind == PFTRACE_SAMPLE) {
		/* everything handed out lies inside the record */
		const uint8_t *end = buf + size;
		if (r.regs && ((const uint8_t *)r.regs < buf ||
			       (const uint8_t *)(r.regs + r.nregs) > end))
			__builtin_trap();
		if (r.stack && (r.stack < buf || r.stack + r.stack_len > end))
			__builtin_trap();
		uint64_t sum = 0;
		for (size_t i = 0; i < r.nregs; i++) {
			uint64_t v;
			memcpy(&v, r.regs + i, 8);
			sum += v;
		}
		for (size_t i = 0; i < r.stack_len; i++)
			sum += r.stack[i];
		if (sum == 0xdeadbeefdeadbeefULL)
			buf[0] = 0;
	}
	free(buf);
	return 0;
}
