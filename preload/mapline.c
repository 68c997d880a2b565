/* mapline.c - one line of /proc/self/maps, parsed in place
 * (Documentation/filesystems/proc.rst: "start-end perms offset dev inode
 * path", the path padded with spaces and possibly containing spaces) */
#include "preload/mapline.h"

#include <string.h>

static uint64_t parse_hex(const char **p)
{
	uint64_t v = 0;
	for (;; (*p)++) {
		char c = **p;
		if (c >= '0' && c <= '9')
			v = v * 16 + (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uint64_t)(c - 'a' + 10);
		else
			return v;
	}
}

bool mapline_next(const char **p, struct mapline *m)
{
	const char *s = *p;
	if (!*s)
		return false;
	const char *eol = strchr(s, '\n');
	if (!eol)
		eol = s + strlen(s);
	*p = *eol ? eol + 1 : eol;
	m->start = parse_hex(&s);
	if (*s == '-')
		s++;
	m->end = parse_hex(&s);
	while (*s == ' ')
		s++;
	for (int i = 0; i < 4; i++)
		m->perms[i] = s < eol ? *s++ : '-';
	m->perms[4] = '\0';
	/* offset, dev, inode */
	for (int f = 0; f < 3; f++) {
		while (s < eol && *s == ' ')
			s++;
		const char *t = s;
		while (s < eol && *s != ' ')
			s++;
		if (f == 2) {
			m->inode = 0;
			for (; t < s; t++)
				m->inode = m->inode * 10 + (uint64_t)(*t - '0');
		}
	}
	while (s < eol && *s == ' ')
		s++;
	m->path = s;
	m->pathlen = (size_t)(eol - s);
	return true;
}

