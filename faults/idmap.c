/* idmap.c - a hash map from byte strings to int64 ids (open addressing) */
#include "faults/idmap.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

struct slot {
	uint64_t hash;           /* 0: empty */
	void *key;
	size_t len;
	int64_t id;
};

struct idmap {
	struct slot *slots;
	size_t cap, n;           /* cap is a power of two */
};

/* FNV-1a, never 0 (0 marks an empty slot). */
static uint64_t hash_of(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h ? h : 1;
}

struct idmap *idmap_new(void)
{
	struct idmap *m = xcalloc(1, sizeof(*m));
	m->cap = 64;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	return m;
}

void idmap_free(struct idmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	free(m);
}

static struct slot *find(const struct idmap *m, uint64_t h, const void *key,
			 size_t len)
{
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct slot *s = &m->slots[i];
		if (!s->hash || (s->hash == h && s->len == len &&
				 !memcmp(s->key, key, len)))
			return s;
	}
}

bool idmap_get(const struct idmap *m, const void *key, size_t len, int64_t *id)
{
	const struct slot *s = find(m, hash_of(key, len), key, len);
	if (s->hash)
		*id = s->id;
	return s->hash != 0;
}

static void grow(struct idmap *m)
{
	struct slot *old = m->slots;
	size_t oldcap = m->cap;
	m->cap *= 2;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].hash)
			*find(m, old[i].hash, old[i].key, old[i].len) = old[i];
	free(old);
}

void idmap_put(struct idmap *m, const void *key, size_t len, int64_t id)
{
	uint64_t h = hash_of(key, len);
	struct slot *s = find(m, h, key, len);
	if (!s->hash) {
		if ((m->n + 1) * 4 > m->cap * 3) {
			grow(m);
			s = find(m, h, key, len);
		}
		s->hash = h;
		s->key = xmalloc(len ? len : 1);
		memcpy(s->key, key, len);
		s->len = len;
		m->n++;
	}
	s->id = id;
}

size_t idmap_count(const struct idmap *m)
{
	return m->n;
}
