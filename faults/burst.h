/* burst.h - when to sample a family of processes one fault in N
 *
 * `--fault-period auto` (faults/attach.c): perf's cost per sampled
 * fault (~2.5 us in the faulting thread on the 2-core VM of
 * docs/faults.md, as much again in the reader) is nothing for a trickle of
 * first writes and a third of a worker's time in a first-write burst. A
 * family (an attached process's perf events and their inherited copies)
 * is sampled at every fault until BURST_ON of its faults fall within
 * BURST_ON_NS (5,000 a second: at most ~3% of a CPU sampled at every
 * fault), then one in its burst period until a BURST_OFF_NS window has
 * fewer than BURST_OFF. Times are the samples' (the reader lags behind the
 * kernel), except for the end of a burst (no samples: the reader's clock
 * in the same time base). Pure: unit-tested.
 */
#ifndef COWPROF_FAULTS_BURST_H
#define COWPROF_FAULTS_BURST_H

#include <stdbool.h>
#include <stdint.h>

#define BURST_ON 50
#define BURST_ON_NS 10000000ULL     /* 10 ms */
#define BURST_OFF 200
#define BURST_OFF_NS 200000000ULL   /* 200 ms */

struct burst {
	bool on;                    /* sampled one in the burst period now */
	uint64_t since_ns;          /* the window's start */
	uint64_t faults;            /* in it, as the samples weigh */
	uint64_t thin;              /* samples taken at every fault, read
				     * while on */
};

/* A sample standing for period faults, taken at t_ns: true when the
 * family must go to one in N now (b is then on, a new window from t_ns). */
bool burst_count(struct burst *b, uint64_t t_ns, uint64_t period);

/* At now_ns, with no more samples to read: true when the family's burst
 * is over (b is then off). */
bool burst_over(struct burst *b, uint64_t now_ns);

/* The faults a sample taken with period stands for when read, burst_period
 * being the period of the family's events in a burst; 0: pass it by. While
 * the family is on, the samples the kernel took at a shorter period before
 * the switch was seen are thinned to one in burst_period / period, each
 * then standing for burst_period faults (the reader's time is the
 * workers' on a busy machine). */
uint64_t burst_weight(struct burst *b, uint64_t period, uint64_t burst_period);

#endif
