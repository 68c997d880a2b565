/* fuzz_sigtrace.c - libFuzzer target for the perf record decoder, with the
 * layout of this machine's signal_generate, mark_victim and
 * sched_process_exit (tests/fixtures/tracefs; run from the project root)
 * seeds: find:tests/fixtures/perf:*.bin
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/sigtrace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sigtrace_layout layout;
static int have_layout;

static void load_layout(void)
{
	static const char *const ev[] = { "signal/signal_generate", "oom/mark_victim",
					  "sched/sched_process_exit" };
	struct tracefs_format f[3];
	for (int i = 0; i < 3; i++)
		if (tracefs_read_format_at("tests/fixtures/tracefs", ev[i], &f[i]) < 0)
			abort();  /* run from the project root */
	if (sigtrace_layout_init(&layout, &f[0], &f[1], &f[2]) < 0)
		abort();
	for (int i = 0; i < 3; i++)
		tracefs_format_release(&f[i]);
	have_layout = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!have_layout)
		load_layout();
	/* perf records are 8-byte aligned in the ring; the decoder must not
	 * care, so hand it an odd copy */
	uint8_t *buf = malloc(size + 1);
	memcpy(buf + 1, data, size);
	struct sigtrace_event ev;
	int r = sigtrace_parse_record(&layout, buf + 1, size, &ev);
	if (r < -22 || r > 1)
		__builtin_trap();
	if (r == 1 && ev.kind == SIGTRACE_SIGNAL &&
	    memchr(ev.signal.target_comm, 0, sizeof(ev.signal.target_comm)) == NULL)
		__builtin_trap();
	if (r == 1 && ev.kind == SIGTRACE_OOM &&
	    memchr(ev.oom.victim_comm, 0, sizeof(ev.oom.victim_comm)) == NULL)
		__builtin_trap();
	free(buf);
	return 0;
}
