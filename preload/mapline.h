/* mapline.h - one line of /proc/self/maps, parsed in place
 *
 * For the preload library, which must not allocate: the fields point into
 * the text. collectors/maps.c is the full parser for cowprof itself.
 */
#ifndef COWPROF_PRELOAD_MAPLINE_H
#define COWPROF_PRELOAD_MAPLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mapline {
	/* [start, end), "rwxp", the inode (0: anonymous) and the path, which
	 * is the rest of the line after the inode's spaces */
	uint64_t start, end;
	char perms[5];
	uint64_t inode;
	const char *path;   /* points into the line; "" when none */
	size_t pathlen;
};

/* Parse the line at *p of the NUL-terminated text (advancing *p past its
 * newline) into m. Returns false at the end of the text. Never reads past
 * the NUL; a malformed line gives zeros and dashes, not an error. */
bool mapline_next(const char **p, struct mapline *m);

#endif
