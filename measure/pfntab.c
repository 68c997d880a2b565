/* pfntab.c - the set of physical pages a tree maps, with per-page counts */
#include "measure/pfntab.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(uint64_t pfn, size_t mask)
{
	return (size_t)((pfn * 0x9E3779B97F4A7C15ULL) >> 17) & mask;
}

static void alloc_slots(struct pfntab *t, size_t cap)
{
	t->keys = xcalloc(cap, sizeof(*t->keys));
	t->vals = xmalloc(cap * sizeof(*t->vals));
	t->mask = cap - 1;
}

void pfntab_init(struct pfntab *t, size_t expected)
{
	memset(t, 0, sizeof(*t));
	size_t cap = 1024;
	while (cap < expected * 2)
		cap *= 2;
	alloc_slots(t, cap);
}

void pfntab_release(struct pfntab *t)
{
	free(t->keys);
	free(t->vals);
	free(t->pfn);
	free(t->count);
	free(t->flags);
	memset(t, 0, sizeof(*t));
}

static void rehash(struct pfntab *t)
{
	uint64_t *okeys = t->keys;
	uint32_t *ovals = t->vals;
	size_t ocap = t->mask + 1;
	alloc_slots(t, ocap * 2);
	for (size_t i = 0; i < ocap; i++) {
		if (!okeys[i])
			continue;
		size_t s = slot_of(okeys[i], t->mask);
		while (t->keys[s])
			s = (s + 1) & t->mask;
		t->keys[s] = okeys[i];
		t->vals[s] = ovals[i];
	}
	free(okeys);
	free(ovals);
}

static void grow_dense(struct pfntab *t)
{
	size_t c = t->cap ? t->cap * 2 : 4096;
	t->pfn = xrealloc(t->pfn, c * sizeof(*t->pfn));
	t->count = xrealloc(t->count, c * sizeof(*t->count));
	t->flags = xrealloc(t->flags, c * sizeof(*t->flags));
	t->cap = c;
}

uint32_t pfntab_insert(struct pfntab *t, uint64_t pfn)
{
	size_t s = slot_of(pfn, t->mask);
	for (; t->keys[s]; s = (s + 1) & t->mask)
		if (t->keys[s] == pfn)
			return t->vals[s];
	if (t->n == t->cap)
		grow_dense(t);
	uint32_t v = (uint32_t)t->n++;
	t->pfn[v] = pfn;
	t->count[v] = 0;
	t->flags[v] = 0;
	t->keys[s] = pfn;
	t->vals[s] = v;
	if (t->n * 2 > t->mask + 1)
		rehash(t);
	return v;
}

uint32_t pfntab_find(const struct pfntab *t, uint64_t pfn)
{
	for (size_t s = slot_of(pfn, t->mask); t->keys[s]; s = (s + 1) & t->mask)
		if (t->keys[s] == pfn)
			return t->vals[s];
	return UINT32_MAX;
}
