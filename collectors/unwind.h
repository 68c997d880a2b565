/* unwind.h - native unwinding of a thread from a snapshot of its registers
 * and user stack (what perf's PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER
 * give), with libunwind's remote API and the process's ELF files.
 *
 * Unwind info comes from the .eh_frame_hdr of each mapped ELF file (as
 * perf's unwind-libunwind-local.c does); memory reads come from the stack
 * copy, else from the mapped file. Where a function has no unwind info,
 * libunwind falls back to the frame-pointer chain (rbp), and the frame says
 * so. .debug_frame is not used (libunwind 1.6 does not export the search for
 * it). What libunwind learns about an ip is cached per layout of file
 * mappings, so processes with the same layout (pre-fork workers) share it.
 * A snapshot that reads the same values as an earlier one (a loop faulting
 * at one place) is answered from a memo of that unwind, exactly.
 * x86_64 only. Not for signal handlers: it allocates and opens files.
 */
#ifndef COWPROF_COLLECTORS_UNWIND_H
#define COWPROF_COLLECTORS_UNWIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "collectors/maps.h"

/* Register indices: perf's x86_64 numbering (asm/perf_regs.h,
 * enum perf_event_x86_regs), so a PERF_SAMPLE_REGS_USER sample expands into
 * this array directly (unwind_regs_from_perf). */
enum unwind_reg {
	UNWIND_REG_AX, UNWIND_REG_BX, UNWIND_REG_CX, UNWIND_REG_DX,
	UNWIND_REG_SI, UNWIND_REG_DI, UNWIND_REG_BP, UNWIND_REG_SP,
	UNWIND_REG_IP, UNWIND_REG_FLAGS, UNWIND_REG_CS, UNWIND_REG_SS,
	UNWIND_REG_DS, UNWIND_REG_ES, UNWIND_REG_FS, UNWIND_REG_GS,
	UNWIND_REG_R8, UNWIND_REG_R9, UNWIND_REG_R10, UNWIND_REG_R11,
	UNWIND_REG_R12, UNWIND_REG_R13, UNWIND_REG_R14, UNWIND_REG_R15,
	UNWIND_NREGS
};

/* The sample_regs_user mask to ask perf for: every general register, ip,
 * flags, cs, ss (perf refuses ds, es, fs, gs on x86_64). */
#define UNWIND_PERF_REGS_MASK \
	(((1ULL << UNWIND_NREGS) - 1) & ~(0xfULL << UNWIND_REG_DS))

/* How the caller of a frame was found. */
enum unwind_method {
	UNWIND_FIRST,  /* the sampled ip itself */
	UNWIND_DWARF,  /* from the .eh_frame of the callee's file */
	UNWIND_FP,     /* no unwind info for the callee: frame-pointer chain */
};

struct unwinder;

/* A new unwinder with an empty cache of ELF files, or NULL if libunwind
 * cannot create an address space. Aborts on memory exhaustion. */
struct unwinder *unwind_new(void);

/* Free it and close its files; unwind_free(NULL) does nothing. */
void unwind_free(struct unwinder *u);

/* Expand a PERF_SAMPLE_REGS_USER sample (one value per set bit of mask, in
 * bit order) into regs indexed by enum unwind_reg; absent ones become 0. */
void unwind_regs_from_perf(const uint64_t *sample, uint64_t mask,
			   uint64_t regs[UNWIND_NREGS]);

/* Unwind the thread whose registers are regs and whose user stack holds
 * stack[0..stack_len), copied from address regs[UNWIND_REG_SP] up, in
 * process pid (used only to reach deleted or replaced files through
 * /proc/PID/map_files/; <= 0 for none) with mappings maps[0..nmaps) sorted
 * by address. Stores up to max instruction addresses in ips, innermost
 * first: ips[0] is regs[UNWIND_REG_IP], the others are return addresses.
 * When how is not NULL, how[i] says how ips[i] was found. Returns the number
 * of addresses stored (>= 1 when max >= 1); the walk ends at the outermost
 * frame, at max, or where neither unwind info nor frame pointers lead on
 * (e.g. the stack copy is too short). */
int unwind_snapshot(struct unwinder *u, pid_t pid,
		    const struct maps_region *maps, size_t nmaps,
		    const uint64_t regs[UNWIND_NREGS],
		    const uint8_t *stack, size_t stack_len,
		    uint64_t *ips, enum unwind_method *how, int max);

/* The same, for callers that keep maps for many snapshots: layout is
 * unwind_layout(maps, nmaps), computed once per reading of the maps. */
uint64_t unwind_layout(const struct maps_region *maps, size_t nmaps);
int unwind_snapshot_in(struct unwinder *u, uint64_t layout, pid_t pid,
		       const struct maps_region *maps, size_t nmaps,
		       const uint64_t regs[UNWIND_NREGS],
		       const uint8_t *stack, size_t stack_len,
		       uint64_t *ips, enum unwind_method *how, int max);

/* How many unwind_snapshot calls were answered from the memo of earlier
 * unwinds (the same layout, ip and sp, and the same values wherever that
 * unwind read the registers and the stack copy) and how many were unwound. */
void unwind_memo_stats(const struct unwinder *u, uint64_t *hits, uint64_t *misses);

#endif
