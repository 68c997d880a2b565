/* burst.c - when to sample a family of processes one fault in N */
#include "faults/burst.h"

bool burst_count(struct burst *b, uint64_t t_ns, uint64_t period)
{
	if (!b->on && (int64_t)(t_ns - b->since_ns) > (int64_t)BURST_ON_NS) {
		b->since_ns = t_ns;
		b->faults = 0;
	}
	b->faults += period;
	if (b->on || b->faults < BURST_ON)
		return false;
	*b = (struct burst){ .on = true, .since_ns = t_ns };
	return true;
}

bool burst_over(struct burst *b, uint64_t now_ns)
{
	if (!b->on || (int64_t)(now_ns - b->since_ns) < (int64_t)BURST_OFF_NS)
		return false;
	bool over = b->faults < BURST_OFF;
	*b = (struct burst){ .on = !over, .since_ns = now_ns };
	return over;
}

uint64_t burst_weight(struct burst *b, uint64_t period, uint64_t burst_period)
{
	uint64_t n = period ? burst_period / period : 0;
	if (!b->on || n <= 1)
		return period;
	return b->thin++ % n ? 0 : period * n;
}
