/* pftrace.h - copy-on-write faults of running processes through perf
 *
 * The tracepoint exceptions:page_fault_user (one record per user page
 * fault, with address, ip and the x86 error code) opened with
 * perf_event_open on each thread of each attached process, one event per
 * CPU (a per-task event with inherit=1 cannot be mmapped with cpu = -1),
 * inherit=1 so that threads and processes forked later are followed (their
 * records land in the same rings), task=1 so that their forks are seen. A
 * kernel filter keeps only user write faults on present pages (error_code
 * bits 0, 1 and 2: the write-protect faults of copy-on-write), so other
 * faults cost no stack copy. Each sample carries the thread, the time, the
 * raw record, the user registers and a copy of the top of the user stack
 * (for native unwinding: collectors/unwind.h). Every event of a CPU writes
 * into one ring, owned by a dummy per-CPU event. Needs root (or
 * CAP_PERFMON and tracefs access). Field offsets come from the tracepoint's
 * tracefs format, never from constants.
 */
#ifndef COWPROF_COLLECTORS_PFTRACE_H
#define COWPROF_COLLECTORS_PFTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/tracefs.h"

/* error_code bits (arch/x86/include/asm/trap_pf.h) */
#define PFTRACE_PF_PROT 1u    /* the page was present */
#define PFTRACE_PF_WRITE 2u
#define PFTRACE_PF_USER 4u
#define PFTRACE_COW_MASK (PFTRACE_PF_PROT | PFTRACE_PF_WRITE | PFTRACE_PF_USER)

/* The kernel-side filter that keeps the faults above (an ftrace filter:
 * `field & mask` is true when any bit of mask is set). */
#define PFTRACE_FILTER "error_code & 1 && error_code & 2 && error_code & 4"

struct pftrace_layout {
	int id;                        /* tracepoint id: attr.config */
	struct pftrace_loc { uint32_t off, size; }
		common_type, address, ip, error_code;
	uint64_t regs_mask;            /* attr.sample_regs_user */
	uint32_t stack_size;           /* attr.sample_stack_user */
	/* added to each sample's time: REALTIME - MONOTONIC at open (0 when
	 * the kernel stamped CLOCK_REALTIME itself) */
	int64_t time_offset_ns;
	bool ids;                      /* samples start with the event's id
					* (PERF_SAMPLE_IDENTIFIER) */
};

/* Fill l from page_fault_user's format (address, ip and error_code must be
 * 8-byte fields, common_type 2). regs_mask and stack_size are what the
 * events are opened with (stack_size a multiple of 8, at most 65528).
 * Returns 0 or -EINVAL. */
int pftrace_layout_init(struct pftrace_layout *l, const struct tracefs_format *f,
			  uint64_t regs_mask, uint32_t stack_size);

enum pftrace_kind {
	PFTRACE_SAMPLE,              /* one fault */
	PFTRACE_LOST,                /* records the kernel dropped: ring full */
	PFTRACE_FORK,                /* a followed task forked (task=1) */
	PFTRACE_EXIT,                /* a followed task exited */
};

/* One record. Pointers point into the record (or the reader's copy of a
 * record that wraps the ring's end): valid until the callback returns. */
struct pftrace_record {
	enum pftrace_kind kind;
	int pid, tid;                  /* sample: the faulting task; fork/exit:
					* the new (or exiting) task */
	int ppid, ptid;                /* fork/exit: its parent */
	uint64_t t_ns;                 /* CLOCK_REALTIME ns since the epoch */
	uint64_t addr, ip, error_code; /* sample: the tracepoint's fields */
	uint64_t abi;                  /* PERF_SAMPLE_REGS_ABI_*; 0: no regs
					* (a kernel thread) */
	const uint64_t *regs;          /* one per set bit of regs_mask, in bit
					* order; unaligned-safe copy by caller */
	size_t nregs;
	const uint8_t *stack;          /* the copy of the user stack from the
					* sampled sp up */
	size_t stack_len;              /* bytes valid (dyn_size) */
	uint64_t lost;                 /* LOST: how many */
	uint64_t id;                   /* sample: the id of the event that
					* took it (of the attached event, for
					* an inherited one), 0 without ids */
	/* filled by pftrace_read, not by the decoder: */
	int family;                    /* sample: the attached process whose
					* events (or their inherited copies)
					* took it; 0: not known */
	uint64_t period;               /* sample: the faults it stands for */
};

/* Decode one ring record (struct perf_event_header first, len bytes) of an
 * event opened as pftrace_open() opens them (sample_type
 * TID|TIME|RAW|REGS_USER|STACK_USER, with IDENTIFIER first when l->ids,
 * task=1, no sample_id_all). Returns 1
 * and fills *out for a page_fault_user sample, a LOST, FORK or EXIT
 * record; 0 for another record type or tracepoint; -EINVAL if the record is
 * malformed. Pure: fixture-tested and fuzzed. */
int pftrace_parse_record(const struct pftrace_layout *l, const void *rec,
			   size_t len, struct pftrace_record *out);

/* True for a sample this module keeps: a user write to a present page. */
static inline bool pftrace_is_cow(const struct pftrace_record *r)
{
	return (r->error_code & PFTRACE_COW_MASK) == PFTRACE_COW_MASK;
}

struct pftrace;

struct pftrace_opts {
	unsigned ring_pages;           /* data pages per CPU ring, a power of 2;
					* 0: 32 MiB, less with
					 * many CPUs: 64 MiB in all */
	uint32_t stack_size;           /* user stack bytes per sample, a
					* multiple of 8; 0: 4096 */
	uint64_t period;               /* sample every Nth kept fault; 0: 1 */
	/* > 0: every event has a disabled twin sampling every Nth fault,
	 * for bursts: pftrace_set_burst switches an attached process's
	 * events (and their inherited copies) from one set to the other.
	 * The twins write to rings of their own (a quarter of ring_pages)
	 * that wake the reader only when an eighth full; the first set's
	 * rings wake it at 64 KiB (~16 samples), to see a burst start. */
	uint64_t burst_period;
	uint64_t regs_mask;            /* the registers to sample (callers that
					* unwind pass UNWIND_PERF_REGS_MASK) */
	/* > 0: the kernel filter also drops this thread's faults (the
	 * attached root's main thread: its children are the ones that
	 * copy). Children inherit the filter. */
	int skip_pid;
};

/* Read the tracepoint's format (mounting tracefs privately if needed) and
 * open one dummy event per online CPU owning that CPU's ring. Nothing is
 * traced until pftrace_attach. o may be NULL. Returns 0 and *out, or
 * -errno with a one-line reason in err (-EACCES/-EPERM: not root; -ENODEV:
 * no tracefs; -ENOENT: no such tracepoint; -EINVAL: the kernel refused the
 * event or its filter). */
int pftrace_open(const struct pftrace_opts *o, struct pftrace **out,
		   char *err, size_t errlen);

/* Close every event, unmap the rings, free pf. NULL does nothing. */
void pftrace_close(struct pftrace *pf);

/* Trace process pid: open the event on each of its threads (listed in
 * proc_root/PID/task; NULL: /proc) on each CPU, with inherit=1, writing
 * into the CPUs' rings. Threads and children it creates afterwards are
 * followed by inheritance. Returns the number of events opened (0: the
 * process had vanished), or -errno with a reason in err. Attaching twice
 * opens only events for threads not attached before. */
int pftrace_attach(struct pftrace *pf, const char *proc_root, int pid,
		     char *err, size_t errlen);

/* Close the events opened for pid (after it exited). The events its
 * children inherited go with them. */
void pftrace_detach(struct pftrace *pf, int pid);

/* With burst_period: sample the faults of attached process pid, of its
 * threads and of the processes and threads forked from them since it was
 * attached, every burst_period-th fault (on) or every period-th (off).
 * The kernel passes the switch on to inherited events (which
 * PERF_EVENT_IOC_PERIOD does not). Returns 0, or -errno (-ENOENT: pid is
 * not attached, or no burst_period). */
int pftrace_set_burst(struct pftrace *pf, int pid, bool on);

/* True when pid's faults reach the rings: attached, or seen forked by a
 * followed task in a FORK record read so far. */
bool pftrace_follows(const struct pftrace *pf, int pid);

/* An fd (epoll over the rings) readable when a ring passed its wake-up
 * mark: an eighth of it; with burst_period, the first set's rings at 64
 * KiB (about 16 samples) or an eighth if that is less. */
int pftrace_fd(const struct pftrace *pf);

/* Call fn for each pending record of every ring (SAMPLE records only when
 * pftrace_is_cow), without blocking; a LOST record is also counted.
 * Returns the number of records handed to fn. */
typedef void (*pftrace_fn)(const struct pftrace_record *r, void *ctx);
size_t pftrace_read(struct pftrace *pf, pftrace_fn fn, void *ctx);

/* Records the kernel lost (ring full) since open: the count the events
 * keep (PERF_FORMAT_LOST, read now; it includes losses whose LOST record
 * the kernel has not written yet: it writes one only before the ring's
 * next record, so a ring that overflowed and then got nothing more would
 * never tell; also any lost FORK/EXIT record), else the sum of the LOST
 * records read so far (kernels before 6.0). */
uint64_t pftrace_lost(const struct pftrace *pf);

/* Whether a record may have been lost since the last call (which it
 * clears): a read found a ring with less than a record's largest size
 * (64 KiB) free, the only state in which the kernel drops one. Until
 * then pftrace_lost, a read() of every event that interrupts each CPU
 * running a watched thread, would find nothing new. */
bool pftrace_may_have_lost(struct pftrace *pf);

/* Events open now (one per thread per CPU, two with burst_period). */
size_t pftrace_nevents(const struct pftrace *pf);

/* The layout of the open events. */
const struct pftrace_layout *pftrace_layout(const struct pftrace *pf);

/* Called by pftrace_read with the samples of each batch (up to 64
 * records of a ring) before the batch is handed to fn: the reader can
 * react to a burst before it spends time on its samples. NULL: none. */
void pftrace_set_peek(struct pftrace *pf, pftrace_fn peek, void *ctx);

/* Raw-record hook for capturing fixtures: called with each record before
 * it is decoded. */
void pftrace_set_raw_hook(struct pftrace *pf,
			    void (*hook)(const void *rec, size_t len, void *ctx),
			    void *ctx);

#endif
