/* idmap.h - a hash map from byte strings to int64 ids
 *
 * The recorder's caches: a raw instruction address of a process to the
 * session id of its frame, a list of frame ids to the id of the stack, so
 * that each distinct thing is symbolized and stored once.
 */
#ifndef COWPROF_FAULTS_IDMAP_H
#define COWPROF_FAULTS_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idmap;

struct idmap *idmap_new(void);
void idmap_free(struct idmap *m);  /* NULL is fine */

/* The id stored under key (len bytes): true and *id, or false. */
bool idmap_get(const struct idmap *m, const void *key, size_t len, int64_t *id);

/* Store id under key (a copy of it), replacing any previous id. */
void idmap_put(struct idmap *m, const void *key, size_t len, int64_t id);

/* Number of keys stored. */
size_t idmap_count(const struct idmap *m);

#endif
